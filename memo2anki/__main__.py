"""``python -m memo2anki``."""

from memo2anki.cli import run

run()
