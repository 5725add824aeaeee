"""The generated fake company: a deterministic, lazy world of staff mailboxes and the people they deal with.

``generator.build_company(seed, mailboxes, scale)`` gives a ``FakeCompany`` (the module docstring of
``generator`` explains determinism, the cross-mailbox copies and the folder layout). The company is
assembled by domain: ``records`` (the public records and the scales), ``people`` (staff, organisations,
people, planted duplicates, each mailbox's book), ``mail``, ``contacts`` (with ``addressbook``),
``meetings``, ``tasks``; ``parts`` holds what they share, ``layout`` the folder slot ranges, ``series``
the recurring series, ``rand`` the seeded randomness, ``names`` the name and text pools. ``sales`` writes
a company's year of sales history. This face imports nothing (no cycle runs through it): import from
the modules.
"""
