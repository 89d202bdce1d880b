"""The command line: options parsed, the library run, what happened reported. Nothing else
happens here; the library never prints."""

from __future__ import annotations

TYPE_CHECKING = False  # (typing.TYPE_CHECKING, without loading typing: mypy knows the name)
if TYPE_CHECKING:
    from typing import NoReturn


def run() -> NoReturn:
    """The ``memo2anki`` program (and ``python -m memo2anki``): a stop while it loads its
    modules ends it at once with its own line (nothing is written yet), then
    :func:`memo2anki.cli.main.run`."""
    from memo2anki.common.signals import ending_at_once_on_stops

    ending_at_once_on_stops()
    from memo2anki.cli.main import run as run_main

    run_main()
