"""A fake Microsoft Graph v1.0 server over the mailboxes of a FakeExchange.

``server.FakeGraph`` is the server (start it with ``with FakeGraph(exchange) as graph:``); ``router``
maps a request to its operation; ``context`` holds what every operation gets; the operations live by
area (``collections``, ``items``, ``delta``, ``calendar``, ``categories``, ``todo``, ``batch``,
``translate_ids``). This face imports nothing, so importing a module of the package never runs into
a cycle through it: import ``FakeGraph`` from ``connector.fake.graph.server``.
"""
