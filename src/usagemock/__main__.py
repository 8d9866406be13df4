"""``python -m usagemock`` runs the CLI."""

from usagemock.cli import main

main()
