"""The fast EWS page reader: EWS responses parsed with lxml straight into records (see ``common``).

One module per concern: ``common`` (the services handing back elements, the small readers, the
fallback marker), ``contacts``, ``messages``, ``calendar`` (meetings, recurring series and their
exceptions), ``recurrence`` (a ``t:Recurrence`` element -> :class:`mapping.recurrence.RecurrenceSpec`)
and ``change`` (one ``SyncFolderItems`` change element -> a change). This face imports nothing.
"""
