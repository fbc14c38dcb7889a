"""``python -m registry.cli``: the same as the ``modelyard`` command."""

from registry.cli import main

main()
