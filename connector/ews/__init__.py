"""The EWS backend (Exchange Server, on premises), mirroring :mod:`connector.graph` room by room.

- :mod:`connector.ews.settings`: :class:`EwsSettings`, the pinned server builds.
- :mod:`connector.ews.client`: :class:`EwsConnection`, one pinned exchangelib configuration shared by
  every mailbox (:mod:`connector.ews.account_cache`: its caching variant for the daemon;
  :mod:`connector.ews.auth`: exchangelib's OAuth credentials; :mod:`connector.ews.client_tag`: the
  User-Agent naming the worker).
- :mod:`connector.ews.reader`: :class:`EwsReader`, pages of ``SyncFolderItems`` changes for the one sync
  engine (:mod:`connector.engine`), and :class:`EwsMailboxSync`, that engine over EWS. Items become
  records in :mod:`connector.ews.translate`.
- :mod:`connector.ews.writer`: :class:`EwsWriter`, a :class:`connector.writer.MailboxWriter`, over
  :mod:`connector.ews.categories`, :mod:`connector.ews.master_categories` and :mod:`connector.ews.tasks`.
- :mod:`connector.ews.errors`: exchangelib's exceptions onto the error tree (:mod:`connector.errors`).
"""
