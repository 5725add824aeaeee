"""The relationship store: typed models (``models``), the ``Store`` seam (``store``) and migrations
(``migrate``, scripts in ``migrations/``). Import from the submodules; this package stays light."""
