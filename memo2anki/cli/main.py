"""The ``memo2anki`` program: its commands in one group, a bare ``memo2anki PATH...`` running
``build``."""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import Any, NoReturn

import click

from memo2anki.cli.output import stops_told
from memo2anki.common.signals import process_ends_with_run, stopping_on_signals

# Each command's module, imported when the command runs (or help lists it): a build need not
# load what talks to Anki, nor the preview's page.
_COMMANDS = {
    "build": "memo2anki.cli.build",
    "check": "memo2anki.cli.check",
    "sync": "memo2anki.cli.sync",
    "exam": "memo2anki.cli.exam",
    "preview": "memo2anki.cli.preview",
}


class _DefaultGroup(click.Group):
    """``memo2anki PATH...`` runs ``build``; ``memo2anki check PATH...`` runs ``check``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        command = getattr(importlib.import_module(_COMMANDS[cmd_name]), cmd_name)
        assert isinstance(command, click.Command)
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in _COMMANDS:
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


def run() -> NoReturn:
    """The ``memo2anki`` program (and ``python -m memo2anki``): :func:`main`, with the cycle
    collector off for the whole process, which ends with the command (forked workers too).
    A run makes next to no reference cycles (a few small objects per note, measured); the
    collector would only walk every card made so far again and again, and once more at exit:
    a fifth of a 20,000-note re-export."""
    gc.disable()
    process_ends_with_run()
    try:
        # SIGTERM, SIGHUP: cleaned up as after Ctrl-C; told here when outside click's own try.
        with stops_told(), stopping_on_signals():
            main(prog_name="memo2anki")
    except SystemExit as done:
        _end(done.code)
    _end(0)


def _end(code: object) -> NoReturn:
    """End the process with ``code`` (as ``sys.exit`` takes it) once its output is flushed.
    Every file a command writes is closed (and renamed into place) before it returns; what is
    left, the interpreter's teardown freeing the run's objects one by one, costs a re-export
    about a twentieth of its time and changes nothing: it is skipped (``os._exit``)."""
    if code is None or isinstance(code, int):
        status = code or 0
    else:
        print(code, file=sys.stderr)
        status = 1
    _reap_workers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # (a closed pipe: what was not written is lost)
            status = status or 120  # as Python itself exits when it cannot flush
    os._exit(status)


def _reap_workers() -> None:
    """Wait for the worker processes still known (the teardown skipped did so): a worker a
    stop signal ended, not yet joined by its pool, would be left a zombie."""
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is None:
        return
    for child in multiprocessing.active_children():  # (the ended ones are reaped by this call)
        child.join(timeout=5)
