"""``python -m dedupe`` runs the command line."""

from dedupe.cli import main_entry

main_entry()
