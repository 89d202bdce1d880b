"""The command line: options, messages on stderr, exit codes (click's CliRunner)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import memo, png, run, write_vault

from memo2anki import __version__


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "vault",
        {
            "daily/2025-04-01.md": memo(
                "**Pod**\n가장 작은 배포 단위\n![[pod.png]]", "**Service**\n고정 주소"
            ),
            "daily/2025-04-02.md": memo("**EC2**\n가상 서버\n![](missing.png)", subject="AWS"),
            "image/pod.png": png(),
        },
    )


def test_build_writes_deck_and_summarizes(vault: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.apkg"
    result = run(vault, "-o", out)
    assert result.exit_code == 0
    assert out.is_file() and zipfile.is_zipfile(out)
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "daily/2025-04-02.md:9: image not found: missing.png",
        f"memo2anki: 3 cards (CKA 2, AWS 1) from 2 notes, 1 image, 1 warning; 3 new; wrote {out}",
    ]


def test_quiet_prints_nothing(vault: Path, tmp_path: Path) -> None:
    result = run(vault, "-o", tmp_path / "out.apkg", "--quiet")
    assert result.exit_code == 0
    assert result.output == ""


def test_dry_run_lists_cards_and_writes_nothing(vault: Path, tmp_path: Path) -> None:
    result = run(vault, "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "공부 메모장::CKA\tPod\tdaily/2025-04-01.md:7  [1 image]",
        "공부 메모장::CKA\tService\tdaily/2025-04-01.md:11",
        "공부 메모장::AWS\tEC2\tdaily/2025-04-02.md:7",
    ]
    assert result.stderr.splitlines() == [
        "daily/2025-04-02.md:9: image not found: missing.png",
        "memo2anki: 3 cards (CKA 2, AWS 1) from 2 notes, 1 image, 1 warning; "
        "3 new; dry run, nothing written",
    ]
    assert not list(tmp_path.glob("**/*.apkg"))


def test_dry_run_json(vault: Path) -> None:
    result = run(vault, "--dry-run", "--json", "--deck", "시험")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert list(report) == ["vault", "cards", "media", "warnings", "changes"]
    cards = report["cards"]
    back = cards[0].pop("back")
    assert "가장 작은 배포 단위" in back and '<img src="m2a-' in back
    assert len(cards[0].pop("guid")) == 10
    assert cards[0] == {
        "deck": "시험::CKA",
        "subject": "CKA",
        "front": "Pod",
        "tags": ["CKA"],
        "note": "daily/2025-04-01.md",
        "line": 7,
        "date": "2025-04-01",
        "images": ["image/pod.png"],
        "cloze": None,
    }
    assert [c["front"] for c in cards] == ["Pod", "Service", "EC2"]
    assert report["warnings"] == [
        {"path": "daily/2025-04-02.md", "line": 9, "message": "image not found: missing.png"}
    ]


def test_subject_filter(vault: Path) -> None:
    result = run(vault, "--dry-run", "--subject", "aws")
    assert [line.split("\t")[1] for line in result.stdout.splitlines()] == ["EC2"]


def test_unknown_subject_is_an_error(vault: Path) -> None:
    result = run(vault, "--dry-run", "--subject", "Go")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "memo2anki: error: no cards of subject Go in 2 notes; subjects found: AWS, CKA"
    )


def test_extra_section_title(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "v", {"n.md": "# Study\n## Go\n**chan**\n채널\n"})
    result = run(vault, "--dry-run")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "memo2anki: error: no memo section in 1 note: looked for headings titled "
        "'공부 메모장' (name yours with --section)"
    )
    result = run(vault, "--dry-run", "--section", "Study")
    assert result.exit_code == 0
    assert result.stdout.startswith("공부 메모장::Go\tchan\tn.md:3")


def test_sections_but_no_cards(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "v", {"n.md": "# 공부 메모장\n## CKA\n그냥 문장\n"})
    result = run(vault, "-o", tmp_path / "x.apkg")
    assert result.exit_code == 1
    assert "1 memo section found but no cards" in result.stderr
    assert not (tmp_path / "x.apkg").exists()


def test_no_notes(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run(tmp_path / "empty", "-o", tmp_path / "x.apkg")
    assert result.exit_code == 1
    assert result.stderr.strip() == "memo2anki: error: no markdown notes found"


def test_missing_path_is_bad_usage(tmp_path: Path) -> None:
    result = run(tmp_path / "nope", "-o", tmp_path / "x.apkg")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for 'PATH...': Path '{tmp_path / 'nope'}' does not exist."
    )


def test_output_is_required(vault: Path) -> None:
    result = run(vault)
    assert result.exit_code == 2
    assert "give the output file with -o OUT.apkg" in result.stderr


def test_json_with_a_build_gives_the_changes(vault: Path, tmp_path: Path) -> None:
    result = run(vault, "-o", tmp_path / "x.apkg", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)["changes"]
    assert report["counts"]["new"] == 3 and report["first_run"] is True
    assert [c["now"]["front"] for c in report["list"]] == ["Pod", "Service", "EC2"]


def test_unwritable_output_folder(vault: Path, tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "deck.apkg"
    result = run(vault, "-o", out)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"memo2anki: error: {out}: folder {out.parent} does not exist"
    )


def test_output_that_is_a_folder(vault: Path, tmp_path: Path) -> None:
    result = run(vault, "-o", tmp_path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for '-o' / '--output': {tmp_path} is a folder; give a file name, "
        f"such as {tmp_path / 'deck.apkg'}"
    )


def test_version_and_help() -> None:
    assert run("--version").stdout.strip() == f"memo2anki, version {__version__}"
    help_text = run("--help").stdout
    for needle in ("--deck", "--vault", "--section", "--subject", "--dry-run", "Examples:"):
        assert needle in help_text


def test_check_reports_problems(vault: Path) -> None:
    result = run("check", vault)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "daily/2025-04-02.md:9: image not found: missing.png",
        "memo2anki: error: 1 problem in 2 notes",
    ]


def test_python_dash_m(vault: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "memo2anki", str(vault), "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert "Pod" in proc.stdout


def test_the_program_ends_with_all_its_output_written(tmp_path: Path) -> None:
    """The program skips the interpreter's teardown at its end: what it printed, far more
    than a pipe holds at once, all arrives, and a write's warnings too."""
    notes = {
        f"2025-01-{day:02}.md": memo(*(f"**{day}-{i}**\n{'가' * 400}" for i in range(40)))
        for day in range(1, 11)
    }
    notes["2025-02-01.md"] = memo("**그림**\n![[없는.png]]")
    vault = write_vault(tmp_path / "v", notes)
    proc = subprocess.run(
        [sys.executable, "-m", "memo2anki", str(vault), "--dry-run", "--json"],
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0
    assert len(proc.stdout) > 1 << 19  # (a pipe holds 64 KiB)
    assert len(json.loads(proc.stdout)["cards"]) == 401
    assert b"image not found" in proc.stderr


@pytest.mark.parametrize(
    ("args", "status", "said"),
    [
        (["--version"], 0, b"memo2anki, version"),
        (["--no-such-option"], 2, b"No such option"),
        (["{vault}"], 2, b"-o OUT.apkg"),
        (["{vault}", "-o", "{missing}/deck.apkg"], 1, b"does not exist"),
    ],
    ids=["version", "bad usage", "no output", "an error"],
)
def test_the_program_exits_with_its_status(
    vault: Path, tmp_path: Path, args: list[str], status: int, said: bytes
) -> None:
    named = [a.format(vault=vault, missing=tmp_path / "missing") for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "memo2anki", *named], capture_output=True, check=False
    )
    assert proc.returncode == status
    assert said in proc.stdout + proc.stderr


@pytest.mark.parametrize("enabled", [True, False], ids=["enabled", "disabled"])
def test_a_run_leaves_the_cycle_collector_as_it_was(tmp_path: Path, enabled: bool) -> None:
    # Called in-process, main() pauses it only around its bulk steps and restores it: the
    # caller keeps its own setting (the memo2anki program itself runs without it).
    import gc

    vault = write_vault(tmp_path / "v", {"a.md": memo("**A**\n가")})
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        for args in ([str(vault), "-o", str(tmp_path / "o.apkg")], ["check", str(vault)]):
            assert run(*args).exit_code == 0
            assert gc.isenabled() is enabled
        assert run(str(tmp_path / "missing"), "-o", str(tmp_path / "o.apkg")).exit_code == 2
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
