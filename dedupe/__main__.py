"""``python -m dedupe`` runs the command line."""

from dedupe.cli import main_entry

if __name__ == "__main__":
    main_entry()
