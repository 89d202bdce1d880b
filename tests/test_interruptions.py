"""Interruptions and odd file systems: the run goes on or stops cleanly, names the real cause,
leaves nothing behind, and prints one clean line per warning."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import InvalidStateError
from pathlib import Path
from typing import Any

import pytest
from helpers import PICTURE_GONE, REPO, Anki, memo, memo2anki_notes, png, run, write_vault

from memo2anki.cards.convert import _cancelled_futures_left_alone, convert
from memo2anki.targets import build


def _remove_tree(top: Path) -> None:
    """shutil.rmtree without recursion (pytest's own clean-up would fail on this tree)."""
    stack = [(str(top), False)]
    while stack:
        path, emptied = stack.pop()
        if emptied:
            os.rmdir(path)
            continue
        stack.append((path, True))
        with os.scandir(path) as listing:
            for entry in listing:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, False))
                else:
                    os.unlink(entry.path)


@pytest.fixture
def deep_vault(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "v"
    if (tmp_path / "v").exists():
        _remove_tree(tmp_path / "v")


def test_a_folder_nested_deeper_than_the_recursion_limit(deep_vault: Path) -> None:
    deep = Path(*["d"] * (sys.getrecursionlimit() + 100))
    folder = str(deep_vault)
    os.mkdir(folder)
    for part in deep.parts:  # one at a time: os.makedirs recurses too
        folder = os.path.join(folder, part)
        os.mkdir(folder)
    vault = write_vault(
        deep_vault,
        {
            f"{deep}/2025-04-04.md": memo("**깊은 곳**\n그림\n![[pic.png]]"),
            "image/pic.png": png(seed=3),  # found by name: the vault-wide index walks it all
        },
    )
    result = run(vault, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert '"front": "깊은 곳"' in result.stdout and '"image/pic.png"' in result.stdout
    (card,) = convert([vault]).cards
    assert card.note == f"{deep.as_posix()}/2025-04-04.md"


@pytest.mark.parametrize("how", [*PICTURE_GONE, "renamed"])
def test_an_image_removed_while_the_deck_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anki: Anki, how: str
) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "n.md": memo("**A**\n하나\n![[gone.png]]", "**B**\n둘\n![[kept.png]]"),
            "image/gone.png": png(seed=1),
            "kept.png": png(seed=2),
        },
    )
    real = build.write_plan

    def removed_meanwhile(*args: object, **kwargs: object) -> object:
        if how == "renamed":  # (Obsidian renames attachments)
            (vault / "image/gone.png").rename(vault / "image/renamed.png")
        else:
            PICTURE_GONE[how](vault / "image/gone.png", vault)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build, "write_plan", removed_meanwhile)
    out = tmp_path / "out.apkg"
    result = run(vault, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        "image/gone.png: image moved or deleted while the deck was written; left out of the deck"
    )
    anki.import_package(out)
    assert [n.fields["Front"].count("<img") for n in anki.notes()] == [0, 0]
    assert sorted(n.fields["Back"].count("<img") for n in anki.notes()) == [1, 1]
    assert anki.media_files() == {f"m2a-{hashlib.sha256(png(seed=2)).hexdigest()[:20]}.png"}
    assert "out.apkg" in os.listdir(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".m2a-")]


def test_an_output_that_is_a_link_to_a_note_is_refused(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "v", {"n.md": memo("**A**\n가")})
    link = tmp_path / "deck.apkg"
    link.symlink_to(vault / "n.md")
    result = run(vault, "-o", link)
    assert result.exit_code == 2
    assert "deck.apkg is a symbolic link to a note" in result.stderr
    assert link.is_symlink() and (vault / "n.md").read_text(encoding="utf-8") == memo("**A**\n가")
    # A link to anything else is an ordinary output: the deck takes the link's place.
    other = tmp_path / "other.apkg"
    other.symlink_to(tmp_path / "old.apkg")
    assert run(vault, "-o", other).exit_code == 0
    assert not other.is_symlink() and other.stat().st_size > 0


# A child that runs the real command line and stops in the middle of writing the deck: the
# .apkg's temporary file and the collection's temporary folder both exist, and the zip is
# being streamed.
_STOPS_MID_WRITE = """
import sys, time
from pathlib import Path
from memo2anki.cli import main as cli
from memo2anki.targets import package

real = package._write_zip
marker = Path(sys.argv[1])

def slow(path, db_path, media):
    missing = real(path, db_path, media)
    marker.touch()  # tell the test: the .tmp is written, not yet renamed
    time.sleep(120)
    return missing

package._write_zip = slow
sys.argv = ["memo2anki", *sys.argv[2:]]
cli.run()
"""


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_mid_write_leaves_nothing_behind(tmp_path: Path, stop: signal.Signals) -> None:
    vault = write_vault(tmp_path / "v", {"n.md": memo("**A**\n가\n![[p.png]]"), "p.png": png()})
    out_dir, temp_dir = tmp_path / "out", tmp_path / "tmp"
    out_dir.mkdir()
    temp_dir.mkdir()
    (out_dir / "deck.apkg").write_bytes(b"last week's deck")
    marker = tmp_path / "writing"
    env = {**os.environ, "TMPDIR": str(temp_dir), "PYTHONPATH": str(REPO)}
    args = [str(marker), str(vault), "-o", str(out_dir / "deck.apkg")]
    child = subprocess.Popen(
        [sys.executable, "-c", _STOPS_MID_WRITE, *args], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        for _ in range(600):  # a bound on a broken child, not a measured time
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), child.communicate()[1]
        assert [p.suffix for p in out_dir.iterdir()].count(".tmp") == 1  # caught mid-write
        assert [p.name[:10] for p in temp_dir.iterdir()] == ["memo2anki-"]
        child.send_signal(stop)
        _, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 128 + stop
    assert stderr.splitlines() == [f"memo2anki: stopped by {stop.name}; nothing written"]
    assert [p.name for p in out_dir.iterdir()] == ["deck.apkg"]
    assert (out_dir / "deck.apkg").read_bytes() == b"last week's deck"
    assert list(temp_dir.iterdir()) == []


_ESCAPE = "\x1b]0;owned\x07\x1b[2J"


@pytest.mark.parametrize(
    "name",
    [
        "2025-04-04\nn.md:1: forged warning.md",
        f"2025-04-04 {_ESCAPE}.md",
        "2025-04-04 \u202eevil\u2028line.md",
        "2025-04-04 \x85\x9b31m.md",
    ],
    ids=["newline", "escape sequences", "bidi and line separator", "C1 controls"],
)
def test_every_warning_is_one_clean_line(tmp_path: Path, name: str) -> None:
    vault = write_vault(
        tmp_path / "v",
        {name: memo(f"**A**\n가\n![[{_ESCAPE}missing.png]]", "**B**\n")},
    )
    result = run(vault, "-o", tmp_path / f"out{_ESCAPE}\n.apkg")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    # The missing image, the characters it names that a card may not hold, the empty card
    # and the summary; a file name holding such characters is one warning more.
    assert len(lines) == 4 + any(c in name for c in "\x1b\x07")
    for line in lines:
        assert line.isprintable(), repr(line)
        assert not any(c in line for c in "\x1b\x07\x85\x9b\u202e\u2028")
    (missing,) = (line for line in lines if "image not found" in line)
    assert missing.startswith(name.translate({10: "\\n", 0x1B: "\\x1b"})[:10])
    assert "\\x1b]0;owned\\x07" in missing and "missing.png" in missing
    assert lines[-1].endswith("\\n.apkg")
    check = run("check", vault)
    assert all(line.isprintable() for line in check.stderr.splitlines())
    assert len(check.stderr.splitlines()) == len(lines)


# A child that reads a vault in worker processes, each of which notes its pid and reads
# slowly, so that the stop comes while the workers are busy.
_STOPS_MID_READ = """
import os, sys, time
from pathlib import Path
from memo2anki.cli import main as cli
from memo2anki.cards import make as make_cards

real = make_cards.convert_in_worker
pids = Path(sys.argv[1])

def slow(path):
    with pids.open("a") as f:
        f.write(f"{os.getpid()}\\n")
    time.sleep(0.05)
    return real(path)

make_cards.convert_in_worker = slow  # forked workers start with this module as it is here
sys.argv = ["memo2anki", *sys.argv[2:]]
cli.run()
"""


def _reading_in_workers(tmp_path: Path, **popen: Any) -> tuple[subprocess.Popen[Any], Path]:
    """A build of 200 notes in two workers, in its own process group (as a service or a
    terminal has), once its workers are reading; and the file their process ids go to."""
    notes = {f"2025-01-{i % 28 + 1:02d}-{i}.md": memo(f"**카드 {i}**\n내용") for i in range(200)}
    vault = write_vault(tmp_path / "v", notes)
    pids = tmp_path / "pids"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [str(pids), str(vault), "-o", str(tmp_path / "deck.apkg"), "-j", "2"]
    child = subprocess.Popen(
        [sys.executable, "-c", _STOPS_MID_READ, *args],
        env=env,
        stderr=subprocess.PIPE,
        start_new_session=True,
        **popen,
    )
    for _ in range(600):  # a bound on a broken child, not a measured time
        if pids.exists() or child.poll() is not None:
            break
        time.sleep(0.1)
    if not pids.exists():
        child.kill()
        pytest.fail(str(child.communicate()[1]))
    return child, pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers")
@pytest.mark.parametrize("group", [False, True], ids=["the run", "the run and its workers"])
def test_a_signal_while_workers_read_stops_them_all(tmp_path: Path, group: bool) -> None:
    child, pids = _reading_in_workers(tmp_path, text=True)
    try:
        if group:
            os.killpg(child.pid, signal.SIGTERM)
        else:
            child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 128 + signal.SIGTERM
    assert stderr.splitlines() == ["memo2anki: stopped by SIGTERM; nothing written"]
    assert sorted(os.listdir(tmp_path)) == ["memo2anki-cache", "pids", "v"]  # no deck, no .tmp
    assert len(pids.read_text().split()) < 200  # it stopped reading
    for pid in set(pids.read_text().split()):
        with pytest.raises(ProcessLookupError):  # no worker left behind
            os.kill(int(pid), 0)


def _group_left(group: int) -> list[int]:
    """The processes of process group ``group`` still running (not those dead and not yet
    reaped: a container's first process may never reap the orphans it is given)."""
    left = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[2]) == group and stat[0] != "Z":  # (state, parent, group, ...)
            left.append(int(entry))
    return left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers, /proc")
def test_workers_end_soon_after_their_run_is_killed_outright(tmp_path: Path) -> None:
    """SIGKILL gives the run no chance to stop its workers: they see it gone, and end, and
    with them the last holders of its stdout and stderr (`memo2anki ... | tee log` ends)."""
    child, pids = _reading_in_workers(tmp_path, stdout=subprocess.PIPE)
    try:
        time.sleep(0.3)  # the workers well into their notes, their results piling up
        child.kill()
        # The pipes' end: no worker holds them any longer (they held them for ever: a bound
        # on a hang, not a measured time).
        child.communicate(timeout=30)
        for _ in range(50):
            if not _group_left(child.pid):
                break
            time.sleep(0.1)
        assert _group_left(child.pid) == []
    finally:
        child.kill()
        for pid in _group_left(child.pid):  # (only when the test failed)
            os.kill(pid, signal.SIGKILL)
    assert pids.read_text().split()  # (workers were reading)


def test_a_subject_with_escape_sequences_is_shown_not_obeyed(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "v", {"n.md": memo("**A**\n가", subject=f"CKA{_ESCAPE}")})
    # The subject loses the characters a card may not hold (a warning, so check finds a
    # problem); nothing printed on the way carries them to the terminal.
    for args, code in (
        (["check", vault], 1),
        ([vault, "--dry-run"], 0),
        ([vault, "-o", tmp_path / "o.apkg"], 0),
    ):
        result = run(*args)
        assert result.exit_code == code, result.output
        assert "the subject 'CKA]0;owned[2J' holds U+001B, U+0007" in result.stderr
        for line in result.output.splitlines():
            assert line.replace("\t", " ").isprintable() and "\x1b" not in line


@pytest.mark.parametrize(
    ("error", "shown"), [(InvalidStateError, False), (ValueError, True)], ids=["cancelled", "other"]
)
def test_stopping_the_pool_shows_no_traceback_of_a_cancelled_future(
    monkeypatch: pytest.MonkeyPatch, error: type[Exception], shown: bool
) -> None:
    """CPython 3.11's pool thread can fail a future the shutdown just cancelled (a signal to
    the whole process group, seen once in CI): that traceback is not shown; any other is."""
    reported: list[type[BaseException]] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: reported.append(args.exc_type))

    def fail() -> None:
        raise error("the pool thread")

    with _cancelled_futures_left_alone():
        thread = threading.Thread(target=fail)
        thread.start()
        thread.join()
    assert reported == ([error] if shown else [])


# A child that runs the real command line and sends itself SIGTERM at one moment: inside a
# function of memo2anki (MODULE:NAME, stopped as it returns), or just after the Nth
# temporary file of memo2anki's own is made (TEMP:N), before anything is written into it.
_STOPS_AT = """
import os, signal, sys
import importlib
from memo2anki.cli import main as cli

where = sys.argv[1]
kind, _, what = where.partition(":")

def stop():
    os.kill(os.getpid(), signal.SIGTERM)

if kind == "TEMP":
    real_open, made = os.open, []
    def opening(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        if os.path.basename(os.fspath(path)).startswith(".m2a-"):
            made.append(path)
            if len(made) == int(what):
                stop()
        return fd
    os.open = opening
else:  # FUNC:module.name, or FUNC:module.name:N for its Nth call
    what, _, nth = what.partition(":")
    module_name, _, name = what.rpartition(".")
    module = importlib.import_module(module_name)
    real, calls = getattr(module, name), []
    def stopping(*args, **kwargs):
        value = real(*args, **kwargs)
        calls.append(name)
        if len(calls) == int(nth or 1):
            stop()
        return value
    setattr(module, name, stopping)
sys.argv = ["memo2anki", *sys.argv[2:]]
cli.run()
"""


@pytest.mark.parametrize(
    ("moment", "said"),
    [
        ("FUNC:memo2anki.cli.options.parse_date", "nothing written"),
        ("FUNC:memo2anki.cli.build.deck_option", "nothing written"),
        ("FUNC:memo2anki.cards.cache._laid_out", "nothing written"),
        ("TEMP:1", "nothing written"),  # the deck's
        ("FUNC:memo2anki.targets.package._copy_into", "nothing written"),
        ("FUNC:memo2anki.targets.package._write_zip", "nothing written"),
        (
            "FUNC:os.replace:1",
            "wrote {out}, but not the ledger (the next run reports these changes again)",
        ),
        (
            "FUNC:memo2anki.targets.build.write_plan",
            "wrote {out}, but not the ledger (the next run reports these changes again)",
        ),
        ("TEMP:2", "wrote {out}, but not the ledger (the next run reports these changes again)"),
        (
            "FUNC:os.replace:2",
            "wrote {out}, but not the ledger (the next run reports these changes again)",
        ),
        ("TEMP:3", "wrote {out}, but not the ledger (the next run reports these changes again)"),
        ("FUNC:os.replace:3", "wrote {out}"),
        ("FUNC:memo2anki.changes.ledger.save", "wrote {out}"),
        ("FUNC:memo2anki.cli.build.write_build", "wrote {out}"),
        ("FUNC:memo2anki.cli.build.summary", "wrote {out}"),
    ],
    ids=[
        "reading --since",
        "reading --deck",
        "the note cache laid out",
        "the deck's temp file made",
        "the deck's collection copied into its zip",
        "the deck's zip written",
        "the deck renamed into place",
        "the deck's writer returned",
        "the ledger's first temp file made",
        "the ledger's fields renamed into place",
        "the ledger's second temp file made",
        "the ledger renamed into place",
        "the ledger's writer returned",
        "the build's writer returned",
        "the summary made",
    ],
)
def test_a_stop_at_any_moment_says_what_was_written_and_leaves_no_temp_file(
    tmp_path: Path, moment: str, said: str
) -> None:
    vault = write_vault(tmp_path / "v", {"2025-04-04.md": memo("**A**\n가")})
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "deck.apkg"
    out.write_bytes(b"last week's deck")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [moment, str(vault), "-o", str(out), "--since", "2025-01-01", "--deck", "CKA"]
    child = subprocess.run(
        [sys.executable, "-c", _STOPS_AT, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.stderr.splitlines() == [f"memo2anki: stopped by SIGTERM; {said.format(out=out)}"]
    assert child.returncode == 128 + signal.SIGTERM
    assert os.listdir(out_dir) == ["deck.apkg"]
    assert (out.read_bytes() == b"last week's deck") == (said == "nothing written")
    ledger = vault / ".memo2anki"
    assert not ledger.exists() or not [p for p in os.listdir(ledger) if p.endswith(".tmp")]
    assert (ledger / "ledger.json").is_file() == (said == "wrote {out}")


def _stopped_at(moment: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """The command line run in a child that sends itself SIGTERM at ``moment`` (_STOPS_AT)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", _STOPS_AT, moment, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# `python -m memo2anki ARGS...` that sends itself a signal as it starts to load a module.
_STOPS_WHILE_LOADING = """
import os, runpy, signal, sys

sig, module = getattr(signal, sys.argv[1]), sys.argv[2]

class Stopping:
    def find_spec(self, name, path=None, target=None):
        if name == module:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), sig)
        return None

sys.meta_path.insert(0, Stopping())
sys.argv = ["memo2anki", *sys.argv[3:]]
runpy.run_module("memo2anki", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize(
    "stop", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"]
)
@pytest.mark.parametrize(
    "module",
    ["memo2anki.cli.main", "click", "memo2anki.cli.build", "genanki"],
    ids=["the program's main", "the options' library", "the command", "the deck's library"],
)
def test_a_stop_while_the_program_loads_says_so_in_one_line(
    tmp_path: Path, stop: signal.Signals, module: str
) -> None:
    # Ctrl-C just after Enter printed Python's traceback, and a stop signal ended the run
    # without a word (and not with 128 + its number, to Python's subprocess).
    vault = write_vault(tmp_path / "v", {"2025-04-04.md": memo("**A**\n가")})
    out = tmp_path / "deck.apkg"
    child = subprocess.run(
        [sys.executable, "-c", _STOPS_WHILE_LOADING, stop.name, module, str(vault), "-o", str(out)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    said = "interrupted" if stop == signal.SIGINT else f"stopped by {stop.name}"
    assert child.stderr.splitlines() == [f"memo2anki: {said}; nothing written"]
    assert child.returncode == 128 + stop
    assert not out.exists()


def test_a_stop_once_the_run_is_done_and_told_is_not_taken(tmp_path: Path) -> None:
    # What is left is ending the process: a stop then would only be told as a cut-short run.
    vault = write_vault(tmp_path / "v", {"2025-04-04.md": memo("**A**\n가")})
    out = tmp_path / "deck.apkg"
    child = _stopped_at("FUNC:memo2anki.cli.build.finished", vault, "-o", out)
    assert child.returncode == 0, child.stderr
    assert child.stderr.splitlines()[-1].endswith(f"; 1 new; wrote {out}")
    assert "stopped" not in child.stderr and out.is_file()


@pytest.mark.parametrize(
    "moment",
    [
        "FUNC:memo2anki.targets.write_collection._move",
        "FUNC:memo2anki.targets.write_collection.apply_plan",
    ],
    ids=["in the transaction", "just after the commit"],
)
def test_a_stop_during_the_collections_transaction_waits_for_it_and_says_so(
    tmp_path: Path, moment: str
) -> None:
    # The transaction is done whole, then the stop is taken: told as after the commit (the
    # ledger not written), never as "nothing written" about a collection that was changed.

    vault = write_vault(tmp_path / "v", {"2025-04-04.md": memo("**A**\n가", "**B**\n나")})
    Anki(tmp_path / "profile").close()
    collection = tmp_path / "profile" / "collection.anki2"
    child = _stopped_at(
        moment,
        "sync", vault, "--collection", collection, "--no-backup", "--no-cache",
    )  # fmt: skip
    (line,) = child.stderr.splitlines()
    assert line.startswith("memo2anki: stopped by SIGTERM; synced into ")
    assert line.endswith("but not the ledger (the next run reports these changes again)")
    assert child.returncode == 128 + signal.SIGTERM
    anki = Anki(tmp_path / "profile")
    try:
        assert len(memo2anki_notes(anki.col)) == 2
    finally:
        anki.close()
    assert not (vault / ".memo2anki" / "ledger.json").exists()


@pytest.mark.parametrize(
    "moment",
    [
        "FUNC:os.replace:3",  # (the new notes' package, the ledger's fields, the ledger)
        "FUNC:memo2anki.changes.ledger.save",
        "FUNC:memo2anki.cli.sync.run_sync",
    ],
    ids=["the ledger renamed into place", "the ledger's writer returned", "the sync returned"],
)
def test_a_stop_once_the_sync_and_its_ledger_are_written_says_so(
    tmp_path: Path, moment: str
) -> None:
    # Never "nothing written", nor "not the ledger", of a collection and a ledger written.
    vault = write_vault(tmp_path / "v", {"2025-04-04.md": memo("**A**\n가", "**B**\n나")})
    Anki(tmp_path / "profile").close()
    collection = tmp_path / "profile" / "collection.anki2"
    child = _stopped_at(
        moment, "sync", vault, "--collection", collection, "--no-backup", "--no-cache"
    )
    assert child.stderr.splitlines() == [f"memo2anki: stopped by SIGTERM; synced into {collection}"]
    assert child.returncode == 128 + signal.SIGTERM
    assert (vault / ".memo2anki" / "ledger.json").is_file()
    again = run("sync", vault, "--collection", collection, "--no-backup", "--no-cache")
    assert again.exit_code == 0, again.output
    assert "2 unchanged" in again.output  # (the ledger and the collection agree)


@pytest.mark.parametrize(
    ("command", "moment", "edited"),
    [
        ("build", "FUNC:os.replace:1", False),
        ("build", "FUNC:memo2anki.targets.build.write_plan", False),
        ("build", "FUNC:memo2anki.changes.ledger.save", False),
        ("build", "FUNC:memo2anki.targets.build.write_plan", True),
        ("sync", "FUNC:memo2anki.changes.ledger.save", False),
        ("sync", "FUNC:memo2anki.targets.write_collection.apply_plan", True),
    ],
    ids=[
        "build: the deck renamed into place",
        "build: the deck's writer returned",
        "build: the ledger's writer returned, having nothing to write",
        "build: the deck's writer returned, a card edited",
        "sync: the ledger's writer returned, having nothing to write",
        "sync: the collection written, a card edited",
    ],
)
def test_a_stop_before_the_ledger_is_saved_says_it_was_not_only_when_it_needed_to_be(
    tmp_path: Path, command: str, moment: str, edited: bool
) -> None:
    # A run again with nothing new leaves the ledger as it was: a stop then loses nothing of
    # it, and "not the ledger (the next run reports these changes again)" would be untrue.
    vault = write_vault(tmp_path / "v", {"2025-04-04.md": memo("**A**\n가", "**B**\n나")})
    if command == "sync":
        Anki(tmp_path / "profile").close()
        into = tmp_path / "profile" / "collection.anki2"
        args: tuple[str | Path, ...] = ("sync", vault, "--collection", into, "--no-backup")
        told = f"synced into {into}"
    else:
        into = tmp_path / "deck.apkg"
        args, told = (vault, "-o", into), f"wrote {into}"
    assert run(*args).exit_code == 0
    if edited:
        write_vault(vault, {"2025-04-04.md": memo("**A**\n가", "**B**\n나나")})
        told += ", but not the ledger (the next run reports these changes again)"
    ledger = (vault / ".memo2anki" / "ledger.json").read_bytes()
    child = _stopped_at(moment, *args)
    assert child.stderr.splitlines() == [f"memo2anki: stopped by SIGTERM; {told}"]
    assert child.returncode == 128 + signal.SIGTERM
    assert (vault / ".memo2anki" / "ledger.json").read_bytes() == ledger
    again = run(*args, "--changes")
    assert again.exit_code == 0, again.output
    assert ("1 updated" in again.stderr) == edited, again.stderr


_MAY_BE_IN = (
    "some changes may be in profile 'User 1' through AnkiConnect at {url}: sync again to "
    "finish them"
)


@pytest.mark.parametrize(
    ("moment", "said"),
    [
        # (the sixth look-up: the first of the writer's requests, which reads)
        ("FUNC:socket.getaddrinfo:6", "nothing written"),
        ("FUNC:memo2anki.targets.write_ankiconnect.held_notes", "nothing written"),
        ("FUNC:memo2anki.targets.write_ankiconnect.pictures_lacking", "nothing written"),
        ("FUNC:memo2anki.targets.write_ankiconnect._added_ids", _MAY_BE_IN),
    ],
    ids=[
        "a request's host name looked up",
        "Anki's notes read",
        "Anki's pictures read",
        "the new notes imported",
    ],
)
def test_a_stop_while_ankiconnect_is_told_says_to_sync_again_once_anki_may_have_changed(
    tmp_path: Path, moment: str, said: str
) -> None:
    """AnkiConnect has no transaction: the notes imported before the stop are there, and a
    sync again finishes them; a stop while memo2anki only read Anki was told so too."""
    from ankiconnect_standin import AnkiConnectStandIn

    vault = write_vault(tmp_path / "v", {"2025-04-04.md": memo("**A**\n가", "**B**\n나")})
    Anki(tmp_path / "profile").close()
    with AnkiConnectStandIn(tmp_path / "profile" / "collection.anki2") as server:
        child = _stopped_at(moment, "sync", vault, "--ankiconnect-url", server.url, "--no-cache")
        assert child.stderr.splitlines() == [
            f"memo2anki: stopped by SIGTERM; {said.format(url=server.url)}"
        ]
        assert child.returncode == 128 + signal.SIGTERM
        assert not (vault / ".memo2anki" / "ledger.json").exists()
        assert len(memo2anki_notes(server.col)) == (2 if said == _MAY_BE_IN else 0)
        again = run("sync", vault, "--ankiconnect-url", server.url, "--no-cache")
        assert again.exit_code == 0, again.output
        assert len(memo2anki_notes(server.col)) == 2  # finished, without a duplicate


@pytest.mark.parametrize(
    "moment",
    [
        "FUNC:os.replace:1",
        "FUNC:memo2anki.cli.preview.write_preview",
        "FUNC:memo2anki.cli.preview.summary",
    ],
    ids=["the page renamed into place", "the page's writer returned", "the summary made"],
)
def test_a_stop_once_the_preview_is_written_says_so(tmp_path: Path, moment: str) -> None:
    vault = write_vault(tmp_path / "v", {"2025-04-04.md": memo("**A**\n가")})
    page = tmp_path / "cards.html"
    child = _stopped_at(moment, "preview", vault, "-o", page)
    assert child.stderr.splitlines() == [f"memo2anki: stopped by SIGTERM; wrote {page}"]
    assert child.returncode == 128 + signal.SIGTERM and page.is_file()
    done = _stopped_at("FUNC:memo2anki.cli.preview.finished", "preview", vault, "-o", page)
    assert done.returncode == 0 and "stopped" not in done.stderr


@pytest.mark.parametrize(
    ("moment", "said"),
    [
        ("FUNC:memo2anki.targets.exam.make_in_collection", "made the deck 'E' in "),
        ("FUNC:memo2anki.cli.exam._make", "made the deck 'E' in "),
        ("FUNC:memo2anki.cli.exam.finished", None),
    ],
    ids=["just after the deck is made", "once the collection is closed", "once told"],
)
def test_a_stop_after_the_exam_deck_is_made_says_so(
    tmp_path: Path, moment: str, said: str | None
) -> None:
    vault = write_vault(tmp_path / "v", {"2025-04-04.md": memo("**A**\n가")})
    Anki(tmp_path / "profile").close()
    collection = tmp_path / "profile" / "collection.anki2"
    synced = run("sync", vault, "--collection", collection, "--no-backup", "--no-cache")
    assert synced.exit_code == 0, synced.output
    child = _stopped_at(
        moment, "exam", vault, "--collection", collection, "--no-backup", "--name", "E",
        "--since", "2025-01-01",
    )  # fmt: skip
    if said is None:
        assert child.returncode == 0 and "stopped" not in child.stderr, child.stderr
    else:
        (line,) = child.stderr.splitlines()
        assert line.startswith(f"memo2anki: stopped by SIGTERM; {said}")
        assert child.returncode == 128 + signal.SIGTERM
    anki = Anki(tmp_path / "profile")
    try:
        assert anki.col.decks.by_name("E") is not None
    finally:
        anki.close()
