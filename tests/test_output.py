"""Writing the deck: whatever goes wrong with the output path, one clear line, exit 1, no
partial file left behind, and any previous deck at that path exactly as it was."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import memo, png, run, write_vault
from sandbox import run_cli, run_on_tiny_disk

PREVIOUS = b"last week's deck"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    # A 1 MiB picture that does not compress: the package cannot be small.
    return write_vault(
        tmp_path / "vault",
        {
            "daily/2025-04-01.md": memo("**Pod**\n가장 작은 배포 단위\n![[pod.png]]"),
            "image/pod.png": png() + os.urandom(1 << 20),
        },
    )


@pytest.fixture
def decks(tmp_path: Path) -> Path:
    """A folder holding last week's deck."""
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "deck.apkg").write_bytes(PREVIOUS)
    return folder


def assert_untouched(folder: Path) -> None:
    """Last week's deck as it was, and no temporary file beside it."""
    assert sorted(os.listdir(folder)) == ["deck.apkg"]
    assert (folder / "deck.apkg").read_bytes() == PREVIOUS


def test_a_good_run_replaces_the_previous_deck_and_leaves_nothing_else(
    vault: Path, decks: Path
) -> None:
    result = run(vault, "-o", decks / "deck.apkg")
    assert result.exit_code == 0, result.stderr
    assert sorted(os.listdir(decks)) == ["deck.apkg"]
    with zipfile.ZipFile(decks / "deck.apkg") as zf:
        assert "collection.anki2" in zf.namelist()


def test_folder_that_does_not_exist(vault: Path, tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "deck.apkg"
    result = run(vault, "-o", out)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"memo2anki: error: {out}: folder {out.parent} does not exist"
    )
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("command", ["build", "preview"])
@pytest.mark.parametrize("made", ["a file", "a FIFO", "a link to a file"])
def test_a_folder_of_the_output_that_is_something_else_is_named_so(
    vault: Path, tmp_path: Path, command: str, made: str
) -> None:
    """-o x/deck.apkg with x a file (or a FIFO, or a link to a file): "x is not a folder",
    where it said "folder x does not exist" of a file right there."""
    folder = tmp_path / "x"
    if made == "a file":
        folder.write_bytes(b"someone's file")
    elif made == "a FIFO":
        os.mkfifo(folder)
    else:
        (tmp_path / "target").write_bytes(b"someone's file")
        folder.symlink_to(tmp_path / "target")
    out = folder / ("deck.apkg" if command == "build" else "cards.html")
    result = run(command, vault, "-o", out)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == f"memo2anki: error: {out}: {folder} is not a folder"


# -o naming what is not a file: (what is made, the name given, what is said after it).
NOT_A_FILE = {
    "a FIFO": ("deck.apkg", "deck.apkg", "a pipe, not a file"),
    "a FIFO named without .apkg": ("deck", "deck", "a pipe, not a file"),
    "a FIFO that .apkg added names": ("deck.apkg", "deck", "{made} is a pipe, not a file"),
    "a link to /dev/null": ("null", "null", "a device or socket, not a file"),
}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize(("name", "given", "said"), NOT_A_FILE.values(), ids=NOT_A_FILE.keys())
def test_path_that_is_a_pipe_or_a_device_is_bad_usage(
    vault: Path, tmp_path: Path, name: str, given: str, said: str
) -> None:
    """A pipe there was replaced by the deck, and -o /dev/null wrote /dev/null.apkg."""
    made = tmp_path / name
    if name == "null":
        made.symlink_to(os.devnull)
    else:
        os.mkfifo(made)
    result = run(vault, "-o", tmp_path / given)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[-1].startswith(
        f"memo2anki: error: -o {tmp_path / given}: {said.format(made=made)}; give "
    ), result.stderr
    assert made.is_fifo() or made.is_char_device()
    assert not (tmp_path / "null.apkg").exists()


def test_path_that_is_a_folder(vault: Path, decks: Path) -> None:
    result = run(vault, "-o", decks)
    assert result.exit_code == 2  # bad usage, found before any note is read
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for '-o' / '--output': {decks} is a folder; give a file name, "
        f"such as {decks / 'deck.apkg'}"
    )
    assert_untouched(decks)


def test_read_only_folder(vault: Path, decks: Path) -> None:
    # Root ignores permission bits: the CLI runs in a child that gave up that power.
    decks.chmod(0o555)
    try:
        proc = run_cli(vault, "-o", decks / "deck.apkg", honour_permissions=True)
    finally:
        decks.chmod(0o755)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"memo2anki: error: {decks / 'deck.apkg'}: cannot write: Permission denied"
    ]
    assert_untouched(decks)


@pytest.mark.parametrize(
    ("limit", "reason"),
    [
        (16 * 1024, "disk I/O error"),  # full while building the collection (SQLite)
        (256 * 1024, "File too large"),  # full while writing the package itself
    ],
    ids=["collection", "package"],
)
def test_files_cannot_grow(vault: Path, decks: Path, limit: int, reason: str) -> None:
    """A disk filling up mid-write, as the kernel's file size limit (works anywhere)."""
    proc = run_cli(vault, "-o", decks / "deck.apkg", max_file_size=limit)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"memo2anki: error: {decks / 'deck.apkg'}: cannot write: {reason}"
    ]
    assert_untouched(decks)


def test_disk_full(vault: Path, tmp_path: Path) -> None:
    """A real full disk: the output folder is a 256 KiB filesystem of its own."""
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    outcome = run_on_tiny_disk(tiny, "256k", PREVIOUS, "deck.apkg", vault)
    assert outcome["status"] == 1
    assert outcome["stderr"].splitlines() == [
        f"memo2anki: error: {tiny / 'deck.apkg'}: cannot write: No space left on device"
    ]
    assert outcome["files"] == ["deck.apkg"]
    assert outcome["previous"] == PREVIOUS


def test_output_inside_the_vault_is_not_read_back(vault: Path) -> None:
    out = vault / "decks" / "deck.apkg"
    out.parent.mkdir()
    first = run(vault, "-o", out)
    again = run(vault, "-o", out)
    assert first.exit_code == again.exit_code == 0
    summary = "memo2anki: 1 card (CKA 1) from 1 note, 1 image, 0 warnings; {}; wrote " + str(out)
    assert first.stderr.splitlines() == [summary.format("1 new")]
    assert again.stderr.splitlines() == [summary.format("1 unchanged")]
    assert sorted(os.listdir(out.parent)) == ["deck.apkg"]


def test_output_named_like_a_note_is_refused(vault: Path) -> None:
    note = vault / "daily" / "2025-04-01.md"
    before = note.read_bytes()
    result = run(vault, "-o", note)
    assert result.exit_code == 2
    assert "that is a note's name (.md); give the deck a name such as deck.apkg" in result.stderr
    assert note.read_bytes() == before


@pytest.mark.parametrize("dry_run", [False, True], ids=["build", "dry-run"])
def test_strict_turns_warnings_into_an_error(vault: Path, decks: Path, dry_run: bool) -> None:
    (vault / "daily" / "2025-04-02.md").write_text(memo("**EC2**\n서버\n![](gone.png)"))
    args = ["--dry-run"] if dry_run else ["-o", decks / "deck.apkg"]
    result = run(vault, *args, "--strict")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "daily/2025-04-02.md:9: image not found: gone.png",
        "memo2anki: error: 1 warning with --strict; nothing written",
    ]
    assert_untouched(decks)
    # The same vault without --strict: the deck is written, warning and all.
    result = run(vault, "-o", decks / "deck.apkg")
    assert result.exit_code == 0
    assert "2 cards (CKA 2) from 2 notes, 1 image, 1 warning" in result.stderr


@pytest.mark.parametrize("report", [["--changes"], ["--json"], ["--dry-run"]])
def test_a_reader_that_stops_reading_costs_nothing(
    vault: Path, tmp_path: Path, report: list[str]
) -> None:
    """``memo2anki ... --changes | head -1``: the reader gone after a line is no failure; the
    deck and the ledger are written all the same (the run said "unexpected error:
    BrokenPipeError" and wrote neither)."""
    out = tmp_path / "deck.apkg"
    read_end, write_end = os.pipe()
    os.close(read_end)  # (before the run starts: its first line meets a closed pipe)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "memo2anki", str(vault), "-o", str(out), *report],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr
    if report == ["--dry-run"]:
        assert not out.exists()
    else:
        assert zipfile.is_zipfile(out)
        assert (vault / ".memo2anki" / "ledger.json").is_file()
