"""Stop on SIGTERM and SIGHUP as on Ctrl-C: by an exception, so that every ``finally`` and
``with`` on the way out runs and a stopped run leaves no half-written file or temp folder."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# SIGTERM: `kill`, a service manager, a closing session; SIGHUP: the terminal went away.
STOP_SIGNALS = ("SIGTERM", "SIGHUP")


class Stopped(KeyboardInterrupt):
    """The run was stopped by a signal (a KeyboardInterrupt, so it unwinds the same way)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


def _signals() -> list[signal.Signals]:
    return [
        getattr(signal, name) for name in STOP_SIGNALS if hasattr(signal, name)
    ]  # no HUP on Windows


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """Within this block, SIGTERM and SIGHUP raise :class:`Stopped` (once: a second signal
    must not cut the clean-up short). A signal already ignored (``nohup``) stays ignored."""
    previous: dict[signal.Signals, object] = {}

    def stop(signum: int, frame: FrameType | None) -> None:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        raise Stopped(signum)

    for sig in _signals():
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


@contextmanager
def telling_if_stopped(written: str) -> Iterator[None]:
    """Within this block, a stop (Ctrl-C, a stop signal) carries ``written``: what the run
    had written when it came, told instead of "nothing written" (an inner block's, which is
    nearer the stop, wins)."""
    try:
        yield
    except KeyboardInterrupt as err:
        if not hasattr(err, "written"):
            setattr(err, "written", written)  # noqa: B010 (an attribute of our own)
        raise


def written_when_stopped(err: KeyboardInterrupt) -> str:
    """What a stopped run had written (see :func:`telling_if_stopped`)."""
    return str(getattr(err, "written", "nothing written"))


def default_signals_in_worker() -> None:
    """In a worker process: the stop signals kill it as usual, and Ctrl-C is left to the
    parent, which stops the workers itself (a forked worker would inherit the parent's
    handlers and print a traceback of its own)."""
    for sig in _signals():
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
