"""The EWS backend (Exchange Server, on premises), mirroring :mod:`connector.graph` room by room.

- :mod:`connector.ews.settings`: :class:`EwsSettings`, the pinned server builds.
- :mod:`connector.ews.client`: :class:`EwsConnection`, one pinned exchangelib configuration shared by
  every mailbox.
- :mod:`connector.ews.reader`: :class:`EwsReader`, pages of ``SyncFolderItems`` changes for the one sync
  engine (:mod:`connector.engine`), and :class:`EwsMailboxSync`, that engine over EWS.
"""
