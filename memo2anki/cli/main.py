"""The ``memo2anki`` program: its commands in one group, a bare ``memo2anki PATH...`` running
``build``."""

from __future__ import annotations

import gc
from typing import Any

import click

from memo2anki.cli.build import build
from memo2anki.cli.check import check
from memo2anki.cli.exam import exam
from memo2anki.cli.output import stops_told
from memo2anki.cli.preview import preview
from memo2anki.cli.sync import sync
from memo2anki.common.signals import stopping_on_signals


class _DefaultGroup(click.Group):
    """``memo2anki PATH...`` runs ``build``; ``memo2anki check PATH...`` runs ``check``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = ["build", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "PATH... -o OUT.apkg [OPTIONS]")

    # A stop while the options are read (the group's, then the command's, in invoke) is
    # told here: click would print "Aborted!" and exit 1.
    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with stops_told():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with stops_told():
            return super().invoke(ctx)


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Turn the study memos in Obsidian daily notes into Anki cards."""


for _command in (build, check, sync, exam, preview):
    main.add_command(_command)


def run() -> None:
    """The ``memo2anki`` program (and ``python -m memo2anki``): :func:`main`, with the cycle
    collector off for the whole process, which ends with the command (forked workers too).
    A run makes next to no reference cycles (a few small objects per note, measured); the
    collector would only walk every card made so far again and again, and once more at exit:
    a fifth of a 20,000-note re-export."""
    gc.disable()
    # SIGTERM, SIGHUP: cleaned up as after Ctrl-C; told here when outside click's own try.
    with stops_told(), stopping_on_signals():
        main(prog_name="memo2anki")
