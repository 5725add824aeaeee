"""A fake Exchange 2016 EWS endpoint: the SOAP that exchangelib sends, over the mailboxes of a company.

``server.FakeExchange`` is the server (``with FakeExchange(company, validate=schema) as ex:``);
``router`` maps an operation name to its handler; ``context`` holds what every handler gets; the
operations live by area: ``folders`` (GetFolder, FindFolder, SyncFolderHierarchy), ``sync``
(SyncFolderItems), ``items`` (GetItem), ``find`` (FindItem with ``restrictions``), ``writes``
(Create/Update/DeleteItem, stamped as ``stamping`` documents), ``resolve`` (ResolveNames),
``configurations`` (user configurations), ``convertid`` (ConvertId) and ``unsupported`` (what the fake
refuses). ``parse`` reads request items, ``render`` and ``xmlout`` write response items, ``soap`` the
envelope and faults. This face imports nothing, so no module of the package runs into a cycle through
it: import ``FakeExchange`` from ``connector.fake.ews.server``.

State shared with the fake Graph lives one level up: ``mailbox`` (items, ids, sync states), ``model``,
``recurrence``, ``task_rules``, ``userconfig``, ``faults``, ``stats``, ``overlaps``, ``httpserver``.
"""
