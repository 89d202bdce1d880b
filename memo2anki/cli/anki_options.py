"""The options that say which Anki a command works in, shared by ``sync`` and ``exam``: a
profile or a collection file, the way in, the backup, and AnkiConnect's address and key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from memo2anki.cli.options import FilePath
from memo2anki.model import BadUsage
from memo2anki.targets.ankiconnect import DEFAULT_URL, checked_url
from memo2anki.targets.sync import ANKICONNECT, COLLECTION


def anki_options(doing: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--profile``, ``--collection``, ``--via``, ``--no-backup``, ``--ankiconnect-url`` and
    ``--ankiconnect-key``; ``doing``: what the command does in a collection file given
    ("sync into", ...), for its help."""
    options = [
        click.option(
            "--profile",
            metavar="NAME",
            callback=_profile,
            help="The Anki profile (default: the last loaded).",
        ),
        click.option(
            "--collection",
            type=FilePath(path_type=Path, dir_okay=False),
            help=f"A collection file (.anki2) to {doing}, instead of a profile's.",
        ),
        click.option(
            "--via",
            type=click.Choice([ANKICONNECT, COLLECTION]),
            help="Force one way in (default: AnkiConnect when it answers, else the collection "
            "file).",
        ),
        click.option("--no-backup", is_flag=True, help="No backup before the first change."),
        click.option(
            "--ankiconnect-url",
            default=DEFAULT_URL,
            show_default=True,
            callback=lambda ctx, param, value: _url(value),
            help="Where AnkiConnect listens (http://HOST:PORT).",
        ),
        click.option(
            "--ankiconnect-key",
            envvar="MEMO2ANKI_ANKICONNECT_KEY",
            metavar="KEY",
            help="AnkiConnect's API key, if you set one (or MEMO2ANKI_ANKICONNECT_KEY).",
        ),
    ]

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def _profile(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--profile``: a name, never empty (Anki names no profile so)."""
    if value is not None and not value.strip():
        raise click.BadParameter(
            "empty; give a profile's name, or leave --profile out for the last loaded"
        )
    return value


def _url(value: str) -> str:
    """``--ankiconnect-url``: http://HOST:PORT, else bad usage."""
    try:
        return checked_url(value)
    except BadUsage as err:
        raise click.BadParameter(str(err), param_hint="--ankiconnect-url") from None
