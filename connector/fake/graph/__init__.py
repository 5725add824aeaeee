"""A fake Microsoft Graph v1.0 server over the mailboxes of a FakeExchange (see ``server.py``)."""

from connector.fake.graph.server import FakeGraph

__all__ = ["FakeGraph"]
