"""``python -m memo2anki``."""

from .cli import run

run()
