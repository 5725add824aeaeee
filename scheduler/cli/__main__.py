"""``python -m scheduler.cli``: the same as the ``relsync`` console script."""

from scheduler.cli.main import main

main()
