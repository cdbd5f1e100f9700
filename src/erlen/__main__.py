"""``python -m erlen`` runs the ``erlen`` command."""

from .cli import main

main()
