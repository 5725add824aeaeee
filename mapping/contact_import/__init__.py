"""Contact import from legacy CRMs and spreadsheets, the pure part.

- :mod:`~mapping.contact_import.reading`: CSV (delimiter and encoding detected) or ``.xlsx`` into rows.
- :mod:`~mapping.contact_import.profiles`: each product's export columns, as data.
- :mod:`~mapping.contact_import.clean`: hygiene on the way in (e-mail, E.164, names, legal forms, addresses).
- :mod:`~mapping.contact_import.plan`: identity resolution against the store's records and within the file.
- :mod:`~mapping.contact_import.report`: column mapping and the report.

The store side is :mod:`mapping.store.contact_import` (apply a plan as a batch) and
:mod:`mapping.store.import_undo`.
"""
