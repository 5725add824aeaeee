"""The Microsoft Graph backend (Exchange Online), mirroring :mod:`connector.ews` room by room.

- :mod:`connector.graph.settings`: :class:`GraphSettings`.
- :mod:`connector.graph.client`: :class:`GraphClient`, HTTP with tokens, throttling, retries, errors.
- :mod:`connector.graph.reader`: :class:`GraphReader`, pages of Graph v1.0 delta queries for the one sync
  engine (:mod:`connector.engine`), and :class:`GraphMailboxSync`, that engine over Graph.
- :mod:`connector.graph.translate`: Graph JSON -> records, pure, mirroring :mod:`connector.ews.translate`.
- :mod:`connector.graph.writer`: :class:`GraphWriter`, a :class:`connector.writer.MailboxWriter`.
- :mod:`connector.graph.ews_ids`: a mailbox's links moved from EWS ids to Graph ids on its first Graph sync.

Nothing here imports :mod:`connector.ews` (see graph_api.md for the Graph calls used).
"""
