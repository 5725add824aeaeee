"""Pure privacy decisions: keyed hashing of addresses (suppression, audit), the retention decision and
the erasure plan. No I/O here: the store services in ``mapping/store/privacy*.py`` load and apply."""
