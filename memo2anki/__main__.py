"""``python -m memo2anki``."""

from .cli import main

main(prog_name="memo2anki")
