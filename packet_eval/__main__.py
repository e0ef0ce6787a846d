"""``python -m packet_eval`` runs the CLI."""

from packet_eval.cli import app

app()
