"""``python -m memo2anki``."""

from memo2anki.cli.main import run

run()
