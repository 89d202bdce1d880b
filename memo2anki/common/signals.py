"""Stop on SIGTERM and SIGHUP as on Ctrl-C: by an exception, so that every ``finally`` and
``with`` on the way out runs and a stopped run leaves no half-written file or temp folder."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

TYPE_CHECKING = False  # (typing.TYPE_CHECKING, without loading typing: mypy knows the name)
if TYPE_CHECKING:
    from pathlib import Path

# SIGTERM: `kill`, a service manager, a closing session; SIGHUP: the terminal went away.
STOP_SIGNALS = ("SIGTERM", "SIGHUP")
# Whether the process ends with the run (the program, not a library call or a test's), and
# whether the run's work is done (see finished): no stop is taken from then on.
_process_ends_with_run = False
_done = False
# What finished() keeps alive until the process ends (see there).
_kept: list[object] = []


def process_ends_with_run() -> None:
    """Say that the process ends when the run does (the program's entry point): only then
    does :func:`finished` ignore stops, which would otherwise outlive the run."""
    global _process_ends_with_run
    _process_ends_with_run = True


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


def ending_at_once_on_stops() -> None:
    """Until the run takes stops as its own (:func:`stopping_on_signals`), a stop (Ctrl-C, a
    stop signal) ends the process at once, with memo2anki's one line and 128 + the signal's
    number: while the program loads its modules nothing is written yet, and Python would
    print a traceback of Ctrl-C, or end without a word on a stop signal. A signal already
    ignored (``nohup``, a background job) stays ignored."""
    for sig in (signal.SIGINT, *_signals()):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, _end_at_once)


def _end_at_once(signum: int, frame: FrameType | None) -> None:
    said = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    os.write(2, f"memo2anki: {said}; nothing written\n".encode())
    os._exit(128 + signum)


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """Within this block, SIGTERM and SIGHUP raise :class:`Stopped` (once: a second signal
    must not cut the clean-up short), and Ctrl-C raises KeyboardInterrupt (as it does unless
    :func:`ending_at_once_on_stops` took it). A signal already ignored (``nohup``) stays
    ignored."""
    if signal.getsignal(signal.SIGINT) is _end_at_once:
        signal.signal(signal.SIGINT, signal.default_int_handler)
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
            signal.signal(sig, signal.SIG_IGN if _done else handler)  # type: ignore[arg-type]


def finished(*kept: object) -> None:
    """The run's work is done and told: a stop from now on is not taken (Ctrl-C and the stop
    signals are ignored), as what is left is ending the process; a stop would only be told
    as if the run had been cut short. ``kept``: the run's cards and plan, left alive: the
    process ends without freeing its objects, and freeing these one by one as the command
    returns would cost a re-export as much as that teardown."""
    global _done
    if not _process_ends_with_run:
        return
    _done = True
    _kept.extend(kept)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, *_signals()):
            signal.signal(sig, signal.SIG_IGN)


@contextmanager
def stops_held() -> Iterator[None]:
    """Within this block a stop (Ctrl-C, a stop signal) waits, and is raised when the block
    ends well: what the block does is done whole (a commit, and the note that it was made).
    A block that raises raises its own error."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        came.append(signum)

    previous = {
        sig: signal.signal(sig, hold)
        for sig in (signal.SIGINT, *_signals())
        if signal.getsignal(sig) is not signal.SIG_IGN
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if came:
        raise KeyboardInterrupt if came[0] == signal.SIGINT else Stopped(came[0])


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


@contextmanager
def telling_once_committed(written: str) -> Iterator[Callable[[], None]]:
    """Within this block, a stop is told as ``written`` once the function it gives was called
    (a transaction committed: see :func:`stops_held`), before that as nothing written."""
    committed = False

    def commit_made() -> None:
        nonlocal committed
        committed = True

    try:
        yield commit_made
    except KeyboardInterrupt as err:
        if committed and not hasattr(err, "written"):
            setattr(err, "written", written)  # noqa: B010 (an attribute of our own)
        raise


@contextmanager
def telling_once_replaced(path: Path, written: str) -> Iterator[None]:
    """Within this block, a stop is told as ``written`` once ``path`` was replaced (a file
    renamed over it, as :func:`~memo2anki.common.files.replacing` does), whenever the stop
    comes: in the moments between the rename and a block that tells of it (the rest of the
    function that wrote it, its return) it was told as if nothing was written. (A rename
    makes a new file: a file of its own identity, told by its device and inode.)"""
    before = _identity(path)
    try:
        yield
    except KeyboardInterrupt as err:
        if not hasattr(err, "written") and _identity(path) != before:
            setattr(err, "written", written)  # noqa: B010 (an attribute of our own)
        raise


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


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


# How often a worker looks whether the process that started it is still there: a worker left
# behind ends within this, and a run pays nothing for it (a sleeping thread, one system call
# each time).
PARENT_LOOK_SECONDS = 0.25


def ending_with_parent(parent: int) -> None:
    """In a worker process: end it at once, as a kill would, soon after ``parent`` (the
    process that started it) is gone, whatever it is doing (waiting for a note, or blocked
    writing a result no one reads). A parent killed outright (SIGKILL) cannot stop its
    workers, which would run on for ever holding the note cache and the parent's stdout and
    stderr open (``memo2anki ... | tee log`` would never end). Gone is told by the worker's
    parent process changing (it is taken over by another: init, or a subreaper). On Windows a
    process's parent id never changes: there this never ends a worker."""
    import os
    import time

    def look() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_LOOK_SECONDS)
        os._exit(1)

    threading.Thread(target=look, name="memo2anki-parent", daemon=True).start()
