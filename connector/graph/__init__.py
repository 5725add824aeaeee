"""The Microsoft Graph backend: reads mailboxes through Graph v1.0 delta queries (see graph_api.md).

- :mod:`connector.graph.settings`: :class:`GraphSettings`.
- :mod:`connector.graph.client`: :class:`GraphClient`, HTTP with tokens, throttling, retries, errors.
- :mod:`connector.graph.translate`: Graph JSON -> records, pure, mirroring :mod:`connector.normalize`.
- :mod:`connector.graph.reader`: :class:`GraphMailboxSync`, a :class:`connector.engine.MailboxSource`.
"""
