"""The ledger and the change report: exact text of the report, and every way the ledger can
be missing, damaged, foreign, unwritable or raced for."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from helpers import REPO, Anki, memo, memo2anki_notes, png, run, write_vault
from sandbox import run_cli

from memo2anki.changes import ledger as ledger_file
from memo2anki.changes.ledger import Ledger

LEDGER = ".memo2anki/ledger.json"
FIRST_RUN = "this run is treated as a first run"
_ON_A_FIRST_RUN = "this card is treated as on a first run"
KEPT = "before it was written anew: what this run could not use of it is there, to mend or restore"
CONFLICT = (
    "held a merge conflict (git's <<<<<<< markers): both sides were read, a card on both as "
    "the first side has it"
)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "vault",
        {
            "daily/2025-04-01.md": memo(
                "**Pod**\n가장 작은 배포 단위", "**Service**\n파드 묶음에 고정 IP와 DNS 이름"
            ),
            "daily/2025-04-02.md": memo(
                "**CNI**\n컨테이너 네트워크 인터페이스 표준, 플러그인이 파드에 IP를 준다"
            ),
            "daily/2025-04-03.md": memo(
                "**Route 53 라우팅 정책**\n단순, 가중치, 지연 시간, 장애 조치", subject="AWS"
            ),
        },
    )


def _week_of_edits(vault: Path) -> None:
    daily = vault / "daily"
    (daily / "2025-04-01.md").write_text(
        memo("**Pod**\n쿠버네티스에서 가장 작은 배포 단위. 컨테이너 묶음"), encoding="utf-8"
    )
    (daily / "2025-04-05.md").write_text(
        memo("**Service**\n파드 묶음에 고정 IP와 DNS 이름"), encoding="utf-8"
    )
    (daily / "2025-04-02.md").write_text(
        memo(
            "**CNI (Container Network Interface)**\n"
            "컨테이너 네트워크 인터페이스 표준, 플러그인이 파드에 IP를 준다",
            "**etcd**\n클러스터 상태 저장소",
        ),
        encoding="utf-8",
    )
    (daily / "2025-04-03.md").unlink()


CHANGES = [
    "daily/2025-04-01.md:7: updated 'Pod'",
    "daily/2025-04-02.md:7: renamed 'CNI' -> 'CNI (Container Network Interface)'",
    "daily/2025-04-02.md:10: new 'etcd'",
    "daily/2025-04-05.md:7: moved 'Service' from daily/2025-04-01.md to daily/2025-04-05.md",
    "daily/2025-04-03.md: gone 'Route 53 라우팅 정책' (was daily/2025-04-03.md:7)",
]
COUNTS = "1 new, 1 updated, 1 renamed, 1 moved, 1 gone"


def test_the_report_line_and_changes(vault: Path, tmp_path: Path) -> None:
    out = tmp_path / "deck.apkg"
    first = run(vault, "-o", out)
    assert (first.exit_code, first.stdout) == (0, "")
    assert first.stderr.splitlines() == [
        f"memo2anki: 4 cards (CKA 3, AWS 1) from 3 notes, 0 images, 0 warnings; 4 new; wrote {out}"
    ]
    _week_of_edits(vault)
    result = run(vault, "-o", out, "--changes")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == CHANGES
    assert result.stderr.splitlines() == [
        f"memo2anki: 4 cards (CKA 4) from 3 notes, 0 images, 0 warnings; {COUNTS}; wrote {out}"
    ]
    again = run(vault, "-o", out, "--changes")
    assert again.stdout == ""
    assert again.stderr.splitlines() == [
        f"memo2anki: 4 cards (CKA 4) from 3 notes, 0 images, 0 warnings; 4 unchanged; wrote {out}"
    ]


@pytest.mark.parametrize("picture", ["replaced", "added"])
def test_a_heading_renamed_as_its_short_backs_picture_changes_keeps_its_card(
    tmp_path: Path, picture: str
) -> None:
    """A line and a screenshot, the screenshot taken again (or added) and the heading
    renamed in one edit: the same card, its history kept (it was gone and new)."""
    shown = "\n![[net.png]]" if picture == "replaced" else ""
    vault = write_vault(
        tmp_path / "v",
        {
            "daily/2025-04-04.md": memo(f"**Docker Network**\nbridge host none{shown}"),
            "image/net.png": png(seed=1),
        },
    )
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    (vault / "image/net.png").write_bytes(png(seed=2))
    (vault / "daily/2025-04-04.md").write_text(
        memo("**Docker Networking**\nbridge host none\n![[net.png]]"), encoding="utf-8"
    )
    result = run(vault, "-o", out, "--changes")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "daily/2025-04-04.md:7: renamed 'Docker Network' -> 'Docker Networking'"
    ]


def test_dry_run_reports_the_same_and_writes_nothing(vault: Path, tmp_path: Path) -> None:
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    ledger_before = (vault / LEDGER).read_bytes()
    deck_before = out.read_bytes()
    _week_of_edits(vault)
    result = run(vault, "-o", out, "--dry-run", "--changes")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "공부 메모장::CKA\tPod\tdaily/2025-04-01.md:7",
        "공부 메모장::CKA\tCNI (Container Network Interface)\tdaily/2025-04-02.md:7",
        "공부 메모장::CKA\tetcd\tdaily/2025-04-02.md:10",
        "공부 메모장::CKA\tService\tdaily/2025-04-05.md:7",
        *CHANGES,
    ]
    assert result.stderr.splitlines() == [
        "memo2anki: 4 cards (CKA 4) from 3 notes, 0 images, 0 warnings; "
        f"{COUNTS}; dry run, nothing written"
    ]
    assert (vault / LEDGER).read_bytes() == ledger_before
    assert out.read_bytes() == deck_before
    # The build after it reports the same changes: the dry run remembered nothing.
    assert run(vault, "-o", out, "--changes").stdout.splitlines() == CHANGES


def test_json_report(vault: Path, tmp_path: Path) -> None:
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    _week_of_edits(vault)
    dry = run(vault, "--dry-run", "--json")
    assert dry.stderr == ""
    report = json.loads(dry.stdout)
    assert [c["front"] for c in report["cards"]] == [
        "Pod",
        "CNI (Container Network Interface)",
        "etcd",
        "Service",
    ]
    built = run(vault, "-o", out, "--json", "--changes")  # the list is in the JSON only
    assert json.loads(built.stdout)["changes"] == report["changes"]
    changes = report["changes"]
    assert changes["counts"] == {
        "new": 1,
        "updated": 1,
        "renamed": 1,
        "moved": 1,
        "returned": 0,
        "gone": 1,
        "unchanged": 0,
    }
    assert (changes["first_run"], changes["filtered"]) == (False, 0)
    renamed = changes["list"][1]
    assert renamed["kind"] == "renamed" and renamed["in_deck"] is True
    assert renamed["now"] == {
        "note": "daily/2025-04-02.md",
        "line": 7,
        "subject": "CKA",
        "front": "CNI (Container Network Interface)",
        "deck": "공부 메모장::CKA",
    }
    assert renamed["before"]["front"] == "CNI"
    gone = changes["list"][-1]
    assert (gone["kind"], gone["now"], gone["before"]["note"]) == (
        "gone",
        None,
        "daily/2025-04-03.md",
    )


def test_a_new_deck_says_an_import_does_not_move_cards(vault: Path, tmp_path: Path) -> None:
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    result = run(vault, "-o", out, "--deck", "CKA 시험", "--subject", "CKA", "--changes")
    assert result.stdout.splitlines() == [
        "daily/2025-04-01.md:7: moved 'Pod' from deck 공부 메모장::CKA to CKA 시험::CKA",
        "daily/2025-04-01.md:10: moved 'Service' from deck 공부 메모장::CKA to CKA 시험::CKA",
        "daily/2025-04-02.md:7: moved 'CNI' from deck 공부 메모장::CKA to CKA 시험::CKA",
    ]
    assert result.stderr.splitlines() == [
        "memo2anki: 3 cards changed deck; importing a package does not move cards Anki already "
        "has (in Anki's browser: select them, Change Deck)",
        f"memo2anki: 3 cards (CKA 3) from 3 notes, 0 images, 0 warnings; 3 moved; wrote {out}",
    ]  # the AWS card is out of reach of --subject CKA: not gone


def test_leave_out_gone(vault: Path, tmp_path: Path) -> None:
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    (vault / "daily/2025-04-03.md").unlink()
    result = run(vault, "-o", out, "--changes", "--leave-out-gone")
    assert result.stdout.splitlines() == [
        "daily/2025-04-03.md: gone 'Route 53 라우팅 정책' (was daily/2025-04-03.md:7); "
        "left out of the deck"
    ]


def test_the_ledger_file(vault: Path, tmp_path: Path) -> None:
    assert run(vault, "-o", tmp_path / "deck.apkg").exit_code == 0
    lines = (vault / LEDGER).read_text(encoding="utf-8").splitlines()
    head = json.loads(f"{lines[0]}]}}")
    assert (head["format"], head["version"], head["vault"]) == ("memo2anki ledger", 1, "vault")
    assert len(lines) == 4 + 2  # one card per line, so a git diff shows one line per card
    pod = dict(zip(head["columns"], json.loads(lines[1].rstrip(",")), strict=True))
    assert pod["identity"] == ["2025-04-01.md", "CKA", "Pod", 0]
    assert (pod["note"], pod["line"], pod["front"], pod["state"]) == (
        "daily/2025-04-01.md",
        7,
        "Pod",
        "live",
    )
    # The cards' last fields beside it, also one per line: what a gone card is carried with.
    fields = (vault / ".memo2anki/fields.json").read_text(encoding="utf-8").splitlines()
    assert json.loads(fields[1].rstrip(",")) == [pod["guid"], "Pod", "<p>가장 작은 배포 단위</p>"]


def test_dry_run_check_and_a_failed_build_never_write_the_ledger(
    vault: Path, tmp_path: Path
) -> None:
    assert run(vault, "--dry-run").exit_code == 0
    assert run("check", vault).exit_code == 0
    failed = run(vault, "-o", tmp_path / "no" / "such" / "deck.apkg")
    assert failed.exit_code == 1
    assert not (vault / ".memo2anki").exists()


BAD_LEDGERS = {
    "corrupt": (b'{"format": "memo2anki ledger", "vers', "not valid JSON (line 1)"),
    "not UTF-8": (b"\xff\xfe{}", "not UTF-8"),
    "foreign": (b'{"format": "something else"}', "not a memo2anki ledger"),
    "nested too deep": (
        b'{"format": "memo2anki ledger", "version": 1, "vault": "vault", "cards": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}",
        "nested too deep",
    ),
    "a version that is not a number": (
        b'{"format": "memo2anki ledger", "version": [[1]], "vault": "vault", "cards": []}',
        "ledger version unknown; this memo2anki reads 1",
    ),
    "cards that are not a list": (
        b'{"format": "memo2anki ledger", "version": 1, "vault": "vault", "cards": 1}',
        "not a memo2anki ledger",
    ),
    "an array": (b"[1]", "not a memo2anki ledger"),
    "another vault's": (
        b'{"format": "memo2anki ledger", "version": 1, "vault": "other", "cards": []}',
        "it was written for vault 'other', not 'vault'",
    ),
}


@pytest.mark.parametrize("obsidian", [True, False], ids=["obsidian vault", "plain folder"])
@pytest.mark.parametrize("case", BAD_LEDGERS.values(), ids=BAD_LEDGERS.keys())
def test_a_bad_ledger_is_a_warning_and_a_first_run(
    case: tuple[bytes, str], obsidian: bool, vault: Path, tmp_path: Path
) -> None:
    content, reason = case
    out = tmp_path / "deck.apkg"
    if not obsidian:  # (the vault root is then the one the ledger was last written against)
        (vault / ".obsidian").rmdir()
    (vault / ".memo2anki").mkdir()
    (vault / LEDGER).write_bytes(content)
    result = run(vault, "-o", out)
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    if not obsidian:
        assert lines.pop(-2).startswith(f"memo2anki: vault root {vault} (no .obsidian/ folder")
    # Kept aside, as read, before a good one is written: the history it held may be mended
    # from it (it was written over). Another vault's too: it may be this one's, renamed.
    assert lines == [
        f"{LEDGER}: ledger not used: {reason}; {FIRST_RUN}",
        f"{LEDGER}: kept as .memo2anki/ledger.damaged.json {KEPT}",
        f"memo2anki: 4 cards (CKA 3, AWS 1) from 3 notes, 0 images, 2 warnings; 4 new; wrote {out}",
    ]
    assert (vault / ".memo2anki/ledger.damaged.json").read_bytes() == content
    # Replaced by a good one: the next run compares against it.
    assert "4 unchanged" in run(vault, "-o", out).stderr


NEWER = (
    "written by a newer memo2anki (version 2); not used and not written: update memo2anki; "
    + FIRST_RUN
)


def _newer(text: bytes) -> bytes:
    """A ledger file (or fields.json) as a newer memo2anki might write it: its header says
    version 2."""
    return text.replace(b'"version": 1,', b'"version": 2,', 1)


def _head_and_rows(text: bytes) -> list[bytes]:
    return text.split(b"\n", 1)


# A ledger or fields.json a newer memo2anki wrote (made from this vault's, whose text is
# given): every way it may come, it is not used, and neither file is written over.
NEWER_LEDGERS: dict[str, Callable[[bytes], bytes]] = {
    "its rows as this one's": _newer,
    "in one line": lambda text: _newer(json.dumps(json.loads(text)).encode()),
    "indented": lambda text: _newer(json.dumps(json.loads(text), indent=1).encode()),
    "rows this one cannot read": lambda text: _newer(text).replace(b'"],\n', b'", {"s": 1}],\n'),
    "a layout this one cannot read": lambda text: _newer(text).replace(b"[\n", b"<\n", 1),
    "saved with a BOM": lambda text: BOM + _newer(text),
    "one side of git's merge": lambda text: b"\n".join(
        [b"<<<<<<< HEAD", _head_and_rows(text)[0], b"=======",
         _newer(_head_and_rows(text)[0]), b">>>>>>> origin/main", _head_and_rows(text)[1]]
    ),
    "a union merge's second side, laid out otherwise": lambda text: b"\n".join(
        [_head_and_rows(text)[0],
         re.sub(rb'"\w+": \[$', b'"entries": [', _newer(_head_and_rows(text)[0])),
         _head_and_rows(text)[1]]
    ),
    "its version a big number": lambda text: text.replace(
        b'"version": 1,', b'"version": 123456789,', 1
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", ["ledger.json", "fields.json"])
@pytest.mark.parametrize("command", ["build", "sync"])
@pytest.mark.parametrize("made", NEWER_LEDGERS.values(), ids=NEWER_LEDGERS.keys())
def test_a_ledger_of_a_newer_memo2anki_is_never_written_over(
    made: Callable[[bytes], bytes], command: str, name: str, vault: Path, tmp_path: Path
) -> None:
    """Two machines on different versions share the vault: the older one goes on as a first
    run for its deck, and leaves the newer one's files byte for byte as they are (it wrote
    its first run's ledger over them, as version 1, and the damage was pushed). The two go
    together: a newer fields.json beside a ledger this one reads is the newer one's too (it
    was read as this one's, and written over as version 1)."""
    assert run(vault, "-o", tmp_path / "first.apkg").exit_code == 0
    path = vault / ".memo2anki" / name
    path.write_bytes(made(path.read_bytes()))
    before = _files(vault)
    if command == "sync":
        Anki(tmp_path / "profile").close()
        args: list[str | Path] = [
            "sync",
            vault,
            "--collection",
            tmp_path / "profile/collection.anki2",
        ]
    else:
        args = [vault, "-o", tmp_path / "deck.apkg"]
    # (A second sync reads the collection as the ledger it would have had.)
    for counts in ("; 4 new;", "; 4 unchanged;" if command == "sync" else "; 4 new;"):
        result = run(*args)
        assert result.exit_code == 0, result.output
        lines = result.stderr.splitlines()
        told = [x for x in lines if not x.startswith("memo2anki: ")]
        assert told == [f".memo2anki/{name}: {NEWER}".replace("version 2", _said(before[name]))]
        assert counts in lines[1]
        assert _files(vault) == before


def _said(text: bytes) -> str:
    # (The newest a header of it says: a merge's sides may say two.)
    said = re.findall(rb'"version": (\d+)', text)
    assert said
    return f"version {max(map(int, said))}"


def test_a_ledger_copied_from_another_vault_is_not_used(vault: Path, tmp_path: Path) -> None:
    assert run(vault, "-o", tmp_path / "a.apkg").exit_code == 0
    other = write_vault(tmp_path / "other", {"2025-04-09.md": memo("**Pod**\n다른 금고")})
    (other / ".memo2anki").mkdir()
    (other / LEDGER).write_bytes((vault / LEDGER).read_bytes())
    result = run(other, "-o", tmp_path / "b.apkg", "--changes")
    assert result.stdout.splitlines() == ["2025-04-09.md:7: new 'Pod'"]  # nothing gone
    assert result.stderr.splitlines()[0] == (
        f"{LEDGER}: ledger not used: it was written for vault 'vault', not 'other'; {FIRST_RUN}"
    )


def test_a_vault_renamed_and_its_notes_moved_keeps_the_old_ledger_aside(
    vault: Path, tmp_path: Path
) -> None:
    """Its notes not where its ledger says, it is taken for another vault's: its history is
    kept beside the new ledger, never written over (it was lost)."""
    assert run(vault, "-o", tmp_path / "a.apkg").exit_code == 0
    old = (vault / LEDGER).read_bytes(), (vault / ".memo2anki/fields.json").read_bytes()
    renamed = vault.rename(tmp_path / "notes")
    (renamed / "daily").rename(renamed / "journal")
    result = run(renamed, "-o", tmp_path / "b.apkg")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:2] == [
        f"{LEDGER}: ledger not used: it was written for vault 'vault', not 'notes'; {FIRST_RUN}",
        f"{LEDGER}: kept as .memo2anki/ledger.damaged.json (and fields.json as "
        f"fields.damaged.json) {KEPT}",
    ]
    kept = renamed / ".memo2anki"
    aside = (kept / "ledger.damaged.json").read_bytes(), (kept / "fields.damaged.json").read_bytes()
    assert aside == old
    assert "4 unchanged" in run(renamed, "-o", tmp_path / "c.apkg").stderr


def test_a_vault_whose_folder_was_renamed_keeps_its_history(vault: Path, tmp_path: Path) -> None:
    # Its notes are where its ledger says: the same vault, renamed, not a ledger copied.
    first = json.loads(run(vault, "-o", tmp_path / "a.apkg", "--json").stdout)
    day = vault / "daily/2025-04-01.md"
    day.write_text(day.read_text(encoding="utf-8").replace("**Pod**", "**파드(Pod)**"))
    renamed = vault.rename(tmp_path / "notes")
    result = run(renamed, "-o", tmp_path / "b.apkg", "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"{LEDGER}: written for vault 'vault', used for 'notes' (its notes are here: the folder "
        "was renamed?); every card's link is written again"
    )
    then = json.loads(result.stdout)["changes"]
    kinds = {c["guid"]: c["kind"] for c in then["list"]}
    assert set(kinds) == {c["guid"] for c in first["changes"]["list"]}  # the same GUIDs
    assert sorted(kinds.values()) == ["renamed", "updated", "updated", "updated"]
    assert "4 unchanged" in run(renamed, "-o", tmp_path / "c.apkg").stderr


def test_a_deleted_ledger_is_a_first_run_with_the_same_guids(vault: Path, tmp_path: Path) -> None:
    first = run(vault, "-o", tmp_path / "a.apkg", "--json")
    (vault / LEDGER).unlink()
    again = run(vault, "-o", tmp_path / "b.apkg", "--json")
    assert again.stderr.splitlines()[-1].endswith(f"; 4 new; wrote {tmp_path / 'b.apkg'}")
    guids = [[c["guid"] for c in json.loads(r.stdout)["changes"]["list"]] for r in (first, again)]
    assert guids[0] == guids[1]


def test_an_unwritable_ledger_is_a_warning_and_the_deck_is_written(
    vault: Path, tmp_path: Path
) -> None:
    (vault / ".memo2anki").write_text("a file where the ledger's folder goes")
    out = tmp_path / "deck.apkg"
    result = run(vault, "-o", out)
    assert result.exit_code == 0 and out.is_file()
    assert result.stderr.splitlines() == [
        f".memo2anki: ledger not used: not a folder; {FIRST_RUN}",
        ".memo2anki: ledger not written: not a folder; the deck was written, but the next "
        "run cannot tell what changed since this one",
        f"memo2anki: 4 cards (CKA 3, AWS 1) from 3 notes, 0 images, 2 warnings; 4 new; wrote {out}",
    ]


def test_a_run_that_lost_the_race_says_so_and_the_winner_is_kept(
    vault: Path, tmp_path: Path
) -> None:
    assert run(vault, "-o", tmp_path / "a.apkg").exit_code == 0
    mine, _ = ledger_file.load(vault, "vault")
    theirs = Ledger("vault", mine.cards[:1], mine.read_digest)
    assert ledger_file.save(vault, theirs, mine.read_digest) == []  # the other run wrote first
    (warning,) = ledger_file.save(vault, mine, mine.read_digest)
    assert str(warning) == (
        f"{LEDGER}: not updated: another run changed the ledger while this one ran; run again "
        "so the next export compares against both"
    )
    kept, problems = ledger_file.load(vault, "vault")
    assert problems == [] and kept.cards == theirs.cards


def test_concurrent_runs_never_corrupt_the_ledger(vault: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "memo2anki", str(vault), "-o", str(tmp_path / f"{i}.apkg")],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    raced = "not updated: another run changed the ledger"
    for status, stderr in outcomes:
        assert status == 0, stderr
        lines = stderr.splitlines()
        assert all(raced in line for line in lines[:-1])
        # Before any other run wrote it, or after: never a half-read ledger.
        assert "; 4 new; wrote" in lines[-1] or "; 4 unchanged; wrote" in lines[-1]
    loaded, problems = ledger_file.load(vault, "vault")
    assert problems == [] and len(loaded.cards) == 4


def test_a_gone_card_without_its_last_fields_is_left_out(vault: Path, tmp_path: Path) -> None:
    """fields.json lost: a gone card is not carried with empty fields (which would blank
    the note in Anki), only reported."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    (vault / ".memo2anki/fields.json").write_text("damaged", encoding="utf-8")
    (vault / "daily/2025-04-03.md").unlink()
    result = run(vault, "-o", out, "--changes")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "daily/2025-04-03.md: gone 'Route 53 라우팅 정책' (was daily/2025-04-03.md:7); "
        "left out of the deck"
    ]
    assert result.stderr.splitlines()[0] == (
        ".memo2anki/fields.json: 1 gone card whose last fields are not known (fields.json not "
        "used: not valid JSON (line 1)): left out of a package, they keep their last fields "
        "in Anki, not tagged memo2anki::gone (a sync tags them); --changes names them"
    )


def test_a_sync_retires_a_gone_card_without_its_last_fields(vault: Path, tmp_path: Path) -> None:
    """The same, synced: the note Anki holds is tagged memo2anki::gone and suspended, its
    fields kept (the warning said it was "not tagged memo2anki::gone")."""
    Anki(tmp_path / "profile").close()
    collection = tmp_path / "profile" / "collection.anki2"
    assert run("sync", vault, "--collection", collection, "--no-cache").exit_code == 0
    (vault / ".memo2anki/fields.json").write_text("damaged", encoding="utf-8")
    (vault / "daily/2025-04-03.md").unlink()
    result = run("sync", vault, "--collection", collection, "--no-cache")
    assert result.exit_code == 0, result.output
    assert "(a sync tags them)" in result.stderr.splitlines()[0]
    col = Collection(str(collection))
    try:
        gone = memo2anki_notes(col)["Route 53 라우팅 정책"]
    finally:
        col.close()
    assert "memo2anki::gone" in gone["tags"] and gone["suspended"]
    assert gone["back"] == "<p>단순, 가중치, 지연 시간, 장애 조치</p>"


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda p: p.unlink(), "fields.json is missing"),
        (lambda p: p.write_bytes(b"\xff\xfe"), "fields.json not used: not UTF-8"),
        (lambda p: p.write_text('{"format": "x"}'), "fields.json not used: not memo2anki's"),
        (lambda p: p.write_text("[" * 100_000), "fields.json not used: nested too deep"),
        (
            lambda p: p.write_bytes(p.read_bytes().replace(b'"version": 1', b'"version": 0')),
            "fields.json not used: version 0; this memo2anki reads 1",
        ),
    ],
    ids=["missing", "not UTF-8", "another format", "nested too deep", "another version"],
)
def test_a_damaged_fields_file_is_a_warning_when_it_costs_a_gone_card(
    vault: Path, tmp_path: Path, damage: Callable[[Path], object], why: str
) -> None:
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    path = vault / ".memo2anki/fields.json"
    damage(path)
    damaged = path.read_bytes() if path.exists() else None
    assert ", 0 warnings;" in run(vault, "-o", out).stderr  # nothing gone: not needed
    (vault / "daily/2025-04-03.md").unlink()
    result = run(vault, "-o", out)
    assert result.exit_code == 0
    warning, *kept = [x for x in result.stderr.splitlines() if x.startswith(".memo2anki/fields")]
    assert warning.startswith(
        f".memo2anki/fields.json: 1 gone card whose last fields are not known ({why}"
    )
    # A damaged one is kept as it was read before it is written over (it was lost: the last
    # fields of every card it held, to mend it from).
    assert kept == [f".memo2anki/fields.json: kept as .memo2anki/fields.damaged.json {KEPT}"] * (
        damaged is not None
    )
    if damaged is not None:
        assert (vault / ".memo2anki/fields.damaged.json").read_bytes() == damaged


@pytest.mark.parametrize(
    "damage",
    [b"[" * 100_000, b'{"format": "memo2anki ledger", "vers'],
    ids=["nested too deep", "cut in its header"],
)
def test_a_sync_keeps_a_damaged_ledger_aside_too(
    damage: bytes, vault: Path, tmp_path: Path
) -> None:
    # A sync with no ledger it can use reads the collection's notes as the one it would have
    # had, and wrote its ledger over the damaged one, keeping nothing.
    Anki(tmp_path / "profile").close()
    collection = tmp_path / "profile" / "collection.anki2"
    assert run("sync", vault, "--collection", collection, "--no-cache").exit_code == 0
    (vault / LEDGER).write_bytes(damage)
    result = run("sync", vault, "--collection", collection, "--no-cache")
    assert result.exit_code == 0, result.output
    assert f"{LEDGER}: kept as .memo2anki/ledger.damaged.json (and " in result.stderr
    assert (vault / ".memo2anki/ledger.damaged.json").read_bytes() == damage
    assert "; 4 unchanged;" in run("sync", vault, "--collection", collection).stderr


def test_a_damaged_ledger_kept_aside_never_goes_over_anything(vault: Path, tmp_path: Path) -> None:
    """Each damaged ledger a run writes over is kept under a name of its own: never over an
    earlier one, nor through a link or into a FIFO someone put at that name; a dry run
    keeps nothing (it writes nothing)."""
    out = tmp_path / "deck.apkg"
    (vault / ".memo2anki").mkdir()
    outside = tmp_path / "outside.json"
    outside.write_text("not the ledger's", encoding="utf-8")
    (vault / ".memo2anki/ledger.damaged.json").symlink_to(outside)
    os.mkfifo(vault / ".memo2anki/ledger.damaged-2.json")
    for n, damage in enumerate([b"{", b"[1]"], 3):
        (vault / LEDGER).write_bytes(damage)
        assert run(vault, "--dry-run").exit_code == 0
        assert not (vault / f".memo2anki/ledger.damaged-{n}.json").exists()
        result = run(vault, "-o", out)
        assert result.exit_code == 0, result.output
        assert f"{LEDGER}: kept as .memo2anki/ledger.damaged-{n}.json " in result.stderr
        assert (vault / f".memo2anki/ledger.damaged-{n}.json").read_bytes() == damage
    assert outside.read_text(encoding="utf-8") == "not the ledger's"
    assert "4 unchanged" in run(vault, "-o", out).stderr


# Where a bug in reading the ledger files may raise (a ValueError of its own, as a slip in
# the code would): (the part broken, whether a gone card makes the run read fields.json).
BUGS_IN_READING = {
    "the header's check": (ledger_file, "_header", False),
    "the rows' reading": (ledger_file, "_rows", False),
    "the GUIDs' check": (ledger_file, "_odd_guids", False),
    "fields.json's reading": (ledger_file.LastFields, "_read", True),
}


@pytest.mark.parametrize("bug", BUGS_IN_READING.values(), ids=BUGS_IN_READING.keys())
def test_a_bug_in_reading_the_ledger_is_an_unexpected_error_never_damage(
    bug: tuple[Any, str, bool], vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only what says the files are damaged is taken as damage: a bug was said to be
    "ledger not used: ..." (a first run, the ledger written over) or "fields.json not used",
    and hid where it was."""
    where, name, gone = bug
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    if gone:
        (vault / "daily/2025-04-03.md").unlink()
    before = _files(vault)

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(where, name, broken)
    result = run(vault, "-o", out)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "memo2anki: unexpected error: ValueError: a bug (run again with --debug to see where)"
    ]
    assert _files(vault) == before


BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    "names",
    [("ledger.json",), ("fields.json",), ("ledger.json", "fields.json")],
    ids=["ledger.json", "fields.json", "both"],
)
def test_a_bom_an_editor_put_before_the_files_is_read_past(
    names: tuple[str, ...], vault: Path, tmp_path: Path
) -> None:
    """An editor that saves the files with a BOM: read as UTF-8 all the same (it was "not
    valid JSON (line 1)", a first run); a gone card is carried with its last fields."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    for name in names:
        path = vault / ".memo2anki" / name
        path.write_bytes(BOM + path.read_bytes())
    (vault / "daily/2025-04-03.md").unlink()
    result = run(vault, "-o", out, "--changes")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "daily/2025-04-03.md: gone 'Route 53 라우팅 정책' (was daily/2025-04-03.md:7)"
    ]
    assert result.stderr.splitlines() == [
        f"memo2anki: 3 cards (CKA 3) from 2 notes, 0 images, 0 warnings; 1 gone, 3 unchanged; "
        f"wrote {out}"
    ]
    after = _files(vault)
    assert after == _as_written_whole(vault, tmp_path)  # (written back without it)


FIELDS_HEAD = '{"format": "memo2anki last fields", "version": 1, "fields": ['
FA, FB, FB2, FC = (
    json.dumps(row, ensure_ascii=False)
    for row in (["a", "A", "<p>가</p>"], ["b", "B", "<p>나</p>"], ["b", "B2", "<p>나!</p>"],
                ["c", "C", "<p>다</p>"])
)  # fmt: skip
NOT_KNOWN = "that card's last Front and Back are not known"

# fields.json's lines in, the last fields read (GUID: front) and the warnings out.
FIELDS_FILES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "as written": ([FIELDS_HEAD, f"{FA},", f"{FB},", FC, "]}"], ["a A", "b B", "c C"], []),
    "a row not JSON: only its card's": (
        [FIELDS_HEAD, f"{FA},", '["b", "B", "<p>나',  f"{FC},", "]}"],
        ["a A", "c C"],
        [f":3: last fields not used (not valid JSON); {NOT_KNOWN}"],
    ),
    "a row of two strings": (
        [FIELDS_HEAD, '["a", "A"],', f"{FC},", "]}"],
        ["c C"],
        [f":2: last fields not used (Expected `array` of length 3, got 2); {NOT_KNOWN}"],
    ),
    "a back of another type": (
        [FIELDS_HEAD, '["a", "A", 1],', FC, "]}"],
        ["c C"],
        [f":2: last fields not used (back: Expected `str`, got `int`); {NOT_KNOWN}"],
    ),
    "git's conflict markers": (
        [FIELDS_HEAD, f"{FA},", "<<<<<<< HEAD", f"{FB2},", "=======", f"{FB},", f"{FC},",
         ">>>>>>> origin/main", f"{FC}", "]}"],
        ["a A", "b B2", "c C"],
        [f": {CONFLICT}"],
    ),
    "diff3: the common ancestor's lines are not read": (
        [FIELDS_HEAD, "<<<<<<< HEAD", f"{FA},", "||||||| base", f"{FB},", "=======",
         f"{FC},", ">>>>>>> origin/main", "]}"],
        ["a A", "c C"],
        [f": {CONFLICT}"],
    ),
    "a union merge: rows without their comma": (
        [FIELDS_HEAD, FA, FB2, f"{FB},", FC, "]}"], ["a A", "b B2", "c C"], [],
    ),
    "laid out otherwise, a row named by number": (
        [FIELDS_HEAD, f"{FA},", '["b"],', "", FC, "]}"],
        ["a A", "c C"],
        [f": card 2's last fields not used (Expected `array` of length 3, got 1); {NOT_KNOWN}"],
    ),
    "with a BOM": (["\ufeff" + FIELDS_HEAD, FA, "]}"], ["a A"], []),
}  # fmt: skip


@pytest.mark.parametrize("case", FIELDS_FILES.values(), ids=FIELDS_FILES.keys())
def test_fields_json_is_read_row_by_row(
    case: tuple[list[str], list[str], list[str]], tmp_path: Path
) -> None:
    """One bad line costs its card's last fields only (it cost all of them: renamed cards
    could not be paired by their backs, gone cards were left out)."""
    lines, read, named = case
    path = tmp_path / "fields.json"
    path.write_text("\n".join([*lines, ""]), encoding="utf-8")
    fields = ledger_file.LastFields(path)
    assert [f"{guid} {front}" for guid, (front, _) in fields.items()] == read
    assert fields.problem is None
    warnings = [str(w).removeprefix(".memo2anki/fields.json") for w in fields.take_warnings()]
    assert warnings == named
    assert fields.take_warnings() == []  # (told once)


def _conflicted(lines: list[str], k: int) -> list[str]:
    return [
        *lines[:k],
        "<<<<<<< HEAD",
        lines[k],
        "=======",
        lines[k],
        ">>>>>>> other",
        *lines[k + 1 :],
    ]


def _cut_row(lines: list[str], k: int) -> list[str]:
    return [*lines[:k], lines[k][:20], *lines[k + 1 :]]


@pytest.mark.parametrize("damage", [_conflicted, _cut_row], ids=["conflict markers", "a cut row"])
@pytest.mark.parametrize("command", [(), ("sync",)], ids=["build", "sync"])
def test_a_dry_run_says_what_the_run_would_of_fields_json(
    vault: Path,
    tmp_path: Path,
    damage: Callable[[list[str], int], list[str]],
    command: tuple[str, ...],
) -> None:
    """fields.json is read only when a run needs it: a run that writes the ledger reads it to
    write each card's last fields again (its warnings said then), and its dry run, which
    writes nothing, never read it: it showed no warning of a file git merged."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    path = vault / ".memo2anki/fields.json"
    lines = path.read_text(encoding="utf-8").split("\n")
    (k,) = [k for k, line in enumerate(lines) if "Route 53" in line]
    path.write_text("\n".join(damage(lines, k)), encoding="utf-8")
    pod = vault / "daily/2025-04-01.md"
    pod.write_text(pod.read_text(encoding="utf-8").replace("배포 단위", "배포 단위!"))
    where = ("--collection", tmp_path / "c.anki2") if command else ("-o", out)
    dry = run(*command, vault, *where, "--dry-run")
    warnings = [x for x in dry.stderr.splitlines() if x.startswith(".memo2anki/fields.json")]
    if command:
        Anki(tmp_path / "c").close()
        where = ("--collection", tmp_path / "c" / "collection.anki2")
    done = run(*command, vault, *where)
    assert done.exit_code == 0, done.output
    said = [x for x in done.stderr.splitlines() if x.startswith(".memo2anki/fields.json")]
    # (A run writing a damaged file anew also says where it kept it; a merge is no damage.)
    kept = [x for x in said if "kept as .memo2anki/fields.damaged.json" in x]
    assert len(kept) == (damage is _cut_row)
    assert len(warnings) == 1 and warnings == [x for x in said if x not in kept]
    assert ", 1 warning;" in dry.stderr.splitlines()[-1]


def test_a_damaged_row_of_fields_json_costs_its_card_only_until_it_is_written_again(
    vault: Path, tmp_path: Path
) -> None:
    """The Route 53 card's row of fields.json is damaged: it alone has no last fields, and
    the run that writes the files again restores them (the card is unchanged: they are its
    own), so when its memo is gone it is carried with them."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    path = vault / ".memo2anki/fields.json"
    lines = path.read_text(encoding="utf-8").split("\n")
    (k,) = [k for k, line in enumerate(lines) if "Route 53" in line]
    lines[k] = lines[k][:20]
    path.write_text("\n".join(lines), encoding="utf-8")
    pod = vault / "daily/2025-04-01.md"
    pod.write_text(pod.read_text(encoding="utf-8").replace("배포 단위", "배포 단위!"))
    result = run(vault, "-o", out)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f".memo2anki/fields.json:{k + 1}: last fields not used (not valid JSON); {NOT_KNOWN}",
        f".memo2anki/fields.json: kept as .memo2anki/fields.damaged.json {KEPT}",
        f"memo2anki: 4 cards (CKA 3, AWS 1) from 3 notes, 0 images, 2 warnings; 1 updated, "
        f"3 unchanged; wrote {out}",
    ]
    assert (vault / ".memo2anki/fields.damaged.json").read_text(encoding="utf-8").split(
        "\n"
    ) == lines
    (vault / ".memo2anki/fields.damaged.json").unlink()
    assert _files(vault) == _as_written_whole(vault, tmp_path)
    assert "장애 조치" in path.read_text(encoding="utf-8").split("\n")[k]
    (vault / "daily/2025-04-03.md").unlink()
    result = run(vault, "-o", out)
    assert result.stderr.splitlines() == [
        f"memo2anki: 3 cards (CKA 3) from 2 notes, 0 images, 0 warnings; 1 gone, 3 unchanged; "
        f"wrote {out}"
    ]


def _as_written_whole(vault: Path, tmp_path: Path) -> dict[str, bytes]:
    """The vault's ledger files as a run writes them when it encodes every card again (as
    it does with a ledger edited by hand, or one from before the rows were kept as read)."""
    loaded, problems = ledger_file.load(vault, "vault")
    assert problems == []
    whole = Ledger(loaded.vault, loaded.cards, None, loaded.fields)  # no file it was read from
    other = tmp_path / "whole"
    other.mkdir(exist_ok=True)
    assert ledger_file.save(other, whole, None) == []
    return {p.name: p.read_bytes() for p in sorted((other / ".memo2anki").iterdir())}


def _files(vault: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((vault / ".memo2anki").iterdir())}


def test_unchanged_cards_keep_their_rows_and_the_files_are_as_if_written_whole(
    vault: Path, tmp_path: Path
) -> None:
    """A run after an edit writes the cards it did not change as their rows were read (not
    encoded again, but copied in runs): the files are byte for byte what encoding every card
    gives."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    before = [_files(vault)[name].splitlines() for name in ("ledger.json", "fields.json")]
    (vault / "daily/2025-04-02.md").write_text(
        memo("**CNI**\n컨테이너 네트워크 인터페이스 표준. 플러그인이 파드에 IP를 준다"),
        encoding="utf-8",
    )
    result = run(vault, "-o", out)
    assert result.exit_code == 0 and "; 1 updated, 3 unchanged; wrote" in result.stderr
    after = _files(vault)
    assert after == _as_written_whole(vault, tmp_path)
    # The CNI card's row changed, and the ledger's header (with the digests); nothing else.
    for name, old, changed in zip(
        ("ledger.json", "fields.json"), before, ([0, 3], [3]), strict=True
    ):
        new = after[name].splitlines()
        assert [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b] == changed
    fields = json.loads(after["fields.json"])["fields"]
    assert "플러그인이 파드에 IP를 준다" in fields[2][2]


def test_ledger_files_edited_by_hand_are_read_and_written_whole(
    vault: Path, tmp_path: Path
) -> None:
    """Both files laid out otherwise (pretty-printed by hand, or fields.json left newer by
    a run stopped before its ledger): read all the same, a gone card carried with its last
    fields, and written back one card per line."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    for name in ("ledger.json", "fields.json"):
        path = vault / ".memo2anki" / name
        path.write_text(json.dumps(json.loads(path.read_bytes()), indent=2), encoding="utf-8")
    (vault / "daily/2025-04-03.md").unlink()
    result = run(vault, "-o", out, "--changes")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "daily/2025-04-03.md: gone 'Route 53 라우팅 정책' (was daily/2025-04-03.md:7)"
    ]
    assert "; 1 gone, 3 unchanged; wrote" in result.stderr
    after = _files(vault)
    assert after == _as_written_whole(vault, tmp_path)
    assert len(after["ledger.json"].splitlines()) == 4 + 2


def test_a_ledger_from_before_row_keys_is_read_and_given_them(vault: Path, tmp_path: Path) -> None:
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    path = vault / LEDGER
    data = json.loads(path.read_bytes())
    assert data["columns"][-1] == "key"
    old = {
        "format": data["format"],
        "version": data["version"],
        "vault": data["vault"],
        "columns": data["columns"][:-1],
        "cards": [row[:-1] for row in data["cards"]],
    }
    path.write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    result = run(vault, "-o", out)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "memo2anki: 4 cards (CKA 3, AWS 1) from 3 notes, 0 images, 0 warnings; 4 unchanged; "
        f"wrote {out}"
    ]
    again = json.loads(path.read_bytes())
    assert [row[:-1] for row in again["cards"]] == old["cards"]  # (the stamps kept too)
    assert [row[-1] for row in again["cards"]] == [row[-1] for row in data["cards"]]


def test_a_cache_folder_that_cannot_be_written_only_costs_time(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "not a folder"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv("MEMO2ANKI_CACHE_DIR", str(blocked))
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    (vault / "daily/2025-04-03.md").unlink()
    result = run(vault, "-o", out)
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1].endswith(f"; 1 gone, 3 unchanged; wrote {out}")


def _rows_of(vault: Path) -> list[list[Any]]:
    return [row for row in json.loads((vault / LEDGER).read_bytes())["cards"]]


def _with_row(vault: Path, line: int, text: str) -> None:
    """The ledger with one line (a row) replaced by ``text``, and the digest of its rows in
    the header made to match them (as a person who knew how could)."""
    path = vault / LEDGER
    lines = path.read_bytes().split(b"\n")
    lines[line - 1] = text.encode("utf-8") + b","
    head, body = lines[0], b"\n".join(lines[1:-3])
    old = json.loads(head + b"]}")["rows"]
    new = hashlib.sha256(body.removesuffix(b",")).hexdigest()
    path.write_bytes(b"\n".join([head.replace(old.encode(), new.encode()), *lines[1:]]))


def _set(column: int, value: Any) -> Callable[[list[Any]], Any]:
    def change(row: list[Any]) -> Any:
        row[column] = value
        return row

    return change


# Row 2 of the ledger (line 3: the Service card), each damaged one way; and the column named.
DAMAGED_ROWS: dict[str, tuple[Callable[[list[Any]], Any] | str, str]] = {
    "a state not known": (_set(8, "alive"), "state: "),
    "a stamp of text": (_set(9, "1743465600"), "stamp: "),
    "a stamp too large for a time": (_set(9, 10**30), "stamp: "),
    "a stamp before 1970": (_set(9, -1), "stamp: "),
    "a stamp two days to come": (_set(9, int(time.time()) + 2 * 86_400), "later than now"),
    "a stamp of the last second a ledger holds": (_set(9, ledger_file.LAST_STAMP), "stamp: "),
    "a line that is a fraction": (_set(3, 1.5), "line: "),
    "a line that is true": (_set(3, True), "line: "),
    "an identity of three": (lambda r: _set(1, r[1][:3])(r), "identity: "),
    "an ordinal too large": (lambda r: _set(1, [*r[1][:3], 2**40])(r), "identity: "),
    "a tag that is a number": (_set(11, [1]), "tags: "),
    "an empty GUID": (_set(0, ""), "guid: "),
    "a GUID with a line break": (_set(0, "ab\ncd"), "guid: "),
    "a GUID with a space": (_set(0, "ab cd"), "guid: "),
    "a GUID too long": (_set(0, "g" * 65), "guid: "),
    "a deck nested deep": ('["g",' + "[" * 50_000 + "]" * 50_000 + "]", ""),
    "two columns short": (lambda r: r[:-2], "length 13"),
    "a column more": (lambda r: [*r, "x"], "length 13"),
    "a column short, in the middle": (lambda r: r[:7] + r[8:], "state: "),
    "an object": (lambda r: dict(zip(ledger_file.COLUMNS, r, strict=True)), "object"),
    "not JSON": ("[oops", "not valid JSON"),
    "the card twice": (lambda r: "row 1", "also line 2's"),
}


@pytest.mark.parametrize("damage", DAMAGED_ROWS.values(), ids=DAMAGED_ROWS.keys())
def test_a_damaged_row_is_a_warning_and_its_card_is_as_on_a_first_run(
    damage: tuple[Callable[[list[Any]], Any] | str, str], vault: Path, tmp_path: Path
) -> None:
    """Each row is checked as it is read, whatever the header's digest says: one that does
    not fit is named (file, line and column), left out, and its card made as on a first run
    (the same GUID: it comes from the card); every other card is compared as always."""
    how, named = damage
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    rows = _rows_of(vault)
    if isinstance(how, str):
        text = how
    else:
        changed = how(json.loads(json.dumps(rows[1])))
        text = json.dumps(rows[0] if changed == "row 1" else changed, ensure_ascii=False)
    _with_row(vault, 3, text)
    damaged = (vault / LEDGER).read_bytes()
    result = run(vault, "-o", out)
    assert result.exit_code == 0, result.output
    warning, kept, summary = result.stderr.splitlines()
    assert warning.startswith(f"{LEDGER}:3: card not used")
    assert named in warning and warning.endswith("; this card is treated as on a first run")
    # The file as read is kept aside (its row is not lost), then written without that row.
    assert kept == (
        f"{LEDGER}: kept as .memo2anki/ledger.damaged.json (and fields.json as "
        f"fields.damaged.json) {KEPT}"
    )
    assert (vault / ".memo2anki/ledger.damaged.json").read_bytes() == damaged
    assert "; 1 new, 3 unchanged; wrote" in summary
    after = _rows_of(vault)
    # The same GUIDs, and the others' stamps (its own is a first run's: this run's time).
    assert [r[:9] + r[10:] for r in after] == [r[:9] + r[10:] for r in rows]
    assert [r[9] for r in after[:1] + after[2:]] == [r[9] for r in rows[:1] + rows[2:]]
    assert result.stderr.count("\n") == 3 and "unexpected" not in result.stderr


def _without_keys(text: bytes, rows: slice = slice(None)) -> bytes:
    """A ledger's rows (those of ``rows``) in the layout before rows had their key."""
    head, *lines = text.split(b"\n")
    for k in range(len(lines))[1:-3][rows]:
        lines[k] = re.sub(rb',"[^"]*"\](,?)$', rb"]\1", lines[k])
    return b"\n".join([head, *lines])


# A ledger whose header names one layout of its rows (its columns) and whose rows (some or
# all) are in the other one memo2anki wrote: a header merged or edited by hand, rows copied
# from another. Each row is read by its length.
LAYOUTS: dict[str, Callable[[bytes], bytes]] = {
    "a header of 12 columns over rows of 13": lambda text: text.replace(b', "key"]', b"]", 1),
    "a header of 13 columns over rows of 12": _without_keys,
    "rows of both": lambda text: _without_keys(text, slice(1, 3)),
    "laid out otherwise, a header of 12 columns over rows of 13": lambda text: json.dumps(
        {**json.loads(text), "columns": ledger_file.COLUMNS[:-1]}, indent=1
    ).encode(),
}


@pytest.mark.parametrize("relaid", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_each_row_is_read_in_the_layout_its_length_says(
    relaid: Callable[[bytes], bytes], vault: Path, tmp_path: Path
) -> None:
    """Every row was dropped, one warning a line, and the run was a first run's (renamed
    cards' new GUIDs, gone cards no longer retired, every stamp new)."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    path = vault / LEDGER
    rows = _rows_of(vault)
    path.write_bytes(relaid(path.read_bytes()))
    (vault / "daily/2025-04-03.md").unlink()
    result = run(vault, "-o", out, "--changes")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "daily/2025-04-03.md: gone 'Route 53 라우팅 정책' (was daily/2025-04-03.md:7)"
    ]
    assert result.stderr.splitlines() == [
        f"memo2anki: 3 cards (CKA 3) from 2 notes, 0 images, 0 warnings; 1 gone, 3 unchanged; "
        f"wrote {out}"
    ]
    # Written again in the layout of this memo2anki, every card's history kept.
    assert json.loads(path.read_bytes())["columns"] == list(ledger_file.COLUMNS)
    after = _rows_of(vault)
    assert [r[:8] + r[10:] for r in after] == [r[:8] + r[10:] for r in rows]
    assert [r[8] for r in after] == ["live", "live", "live", "gone"]
    assert [r[9] for r in after[:3]] == [r[9] for r in rows[:3]]  # (the gone one's is new)
    assert _files(vault) == _as_written_whole(vault, tmp_path)


def _header_line(change: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    def relay(text: bytes) -> bytes:
        head, _, rows = text.partition(b"\n")
        return change(head) + b"\n" + rows

    return relay


# A ledger's header line (which ends with its rows' "[") laid out otherwise than memo2anki
# writes it: by hand, by an editor, or with values of its own after the rows' key.
HEADER_LINES: dict[str, Callable[[bytes], bytes]] = {
    "spaces after its [": _header_line(lambda line: line + b"   "),
    "a tab after its [": _header_line(lambda line: line + b"\t"),
    "a CR after its [": _header_line(lambda line: line + b"\r"),
    "a [ in a string after the rows' key": _header_line(lambda line: line + b'], "n": ["a [b"'),
    "arrays in an array after the rows' key": _header_line(lambda line: line + b'], "n": [[1], []'),
    "a number in an array after the rows' key": _header_line(lambda line: line + b'], "n": [1'),
}


@pytest.mark.parametrize("relaid", HEADER_LINES.values(), ids=HEADER_LINES.keys())
def test_rows_under_a_header_line_laid_out_otherwise_are_read(
    relaid: Callable[[bytes], bytes], vault: Path, tmp_path: Path
) -> None:
    """(Values after the rows' key had the ledger not used, with a warning, and the run
    treated as a first run: the rows were read from the last "[" of the header line.)"""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    path = vault / LEDGER
    path.write_bytes(relaid(path.read_bytes()))
    for gone in (False, True):
        if gone:
            (vault / "daily/2025-04-03.md").unlink()
        result = run(vault, "-o", out, "--dry-run")
        assert result.exit_code == 0, result.output
        [summary] = result.stderr.splitlines()
        changes = "1 gone, 3 unchanged" if gone else "4 unchanged"
        assert f" 0 warnings; {changes}; dry run" in summary


# A row's time edited by hand (or written by a machine whose clock was far ahead): (its
# time, whether it is a damaged value).
STAMPS_TO_COME = {
    "the last second a ledger holds": (ledger_file.LAST_STAMP, True),
    "a year to come": (int(time.time()) + 365 * 86_400, True),
    "an hour to come: a clock a little ahead": (int(time.time()) + 3_600, False),
}


@pytest.mark.parametrize(("stamp", "damaged"), STAMPS_TO_COME.values(), ids=STAMPS_TO_COME.keys())
def test_a_time_to_come_is_a_damaged_value_and_an_edit_still_reaches_anki(
    stamp: int, damaged: bool, vault: Path, tmp_path: Path
) -> None:
    """A package carried the row's time, and Anki, which takes only a newer note, held a
    note no later edit of its memo was newer than: the edit never reached it (at the last
    second a ledger holds), or only by a time as far ahead."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    rows = _rows_of(vault)
    _with_row(vault, 2, json.dumps(_set(9, stamp)(rows[0]), ensure_ascii=False))
    result = run(vault, "-o", out)
    assert result.exit_code == 0, result.output
    said = [line for line in result.stderr.splitlines() if line.startswith(f"{LEDGER}:2:")]
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(stamp))
    warning = f"{LEDGER}:2: card not used (stamp: {when} UTC, later than now); {_ON_A_FIRST_RUN}"
    assert said == [warning] * damaged
    anki = Anki(tmp_path / "anki")
    try:
        anki.import_package(out)
        pod = vault / "daily/2025-04-01.md"
        pod.write_text(pod.read_text(encoding="utf-8").replace("배포 단위", "배포 단위!"))
        assert "; 1 updated, 3 unchanged;" in run(vault, "-o", out).stderr
        anki.import_package(out)
        (back,) = [n.fields["Back"] for n in anki.notes() if n.fields["Front"] == "Pod"]
    finally:
        anki.close()
    assert back == "<p>가장 작은 배포 단위!</p>"
    # No time written is later than the row's, or this run's when the row was not used.
    assert _rows_of(vault)[0][9] <= (stamp if not damaged else int(time.time())) + 1


def _junk(name: str, count: int, whole: bool) -> Callable[[bytes], bytes]:
    """A ledger file with ``count`` rows of junk before its rows (one a line, or the file
    laid out otherwise)."""

    def put(text: bytes) -> bytes:
        junk = [[f"junk {k}"] for k in range(count)]
        if whole:
            data = json.loads(text)
            key = "cards" if name == "ledger.json" else "fields"
            return json.dumps({**data, key: [*junk, *data[key]]}, indent=1).encode()
        head, rows = text.split(b"\n", 1)
        return b"\n".join([head, *(json.dumps(j).encode() + b"," for j in junk), rows])

    return put


# Files with many rows not used: (the file, its junk rows, laid out otherwise, the first
# words of what is said of each of the first few).
JUNK_ROWS: dict[str, tuple[str, int, bool, str]] = {
    "ledger.json, a row a line": ("ledger.json", 20_000, False, ":{line}: card not used"),
    "ledger.json, laid out otherwise": ("ledger.json", 20_000, True, ": card {row} not used"),
    "fields.json, a row a line": ("fields.json", 20_000, False, ":{line}: last fields not used"),
    "no more than are named": ("ledger.json", ledger_file.SHOWN_ROWS, False, ":{line}: card"),
}


@pytest.mark.parametrize("case", JUNK_ROWS.values(), ids=JUNK_ROWS.keys())
def test_many_rows_not_used_are_a_few_lines_naming_the_file(
    case: tuple[str, int, bool, str], vault: Path, tmp_path: Path
) -> None:
    """Each row not used was a line: 20,000 junk rows printed 20,000 warnings. The first few
    are named, by line, then one line counts the rest; the summary counts the lines shown."""
    name, count, whole, first_words = case
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    path = vault / ".memo2anki" / name
    path.write_bytes(_junk(name, count, whole)(path.read_bytes()))
    (vault / "daily/2025-04-03.md").unlink()  # (gone: carried with its last fields)
    result = run(vault, "-o", out)
    assert result.exit_code == 0, result.output
    *said, summary = result.stderr.splitlines()
    shown = min(count, ledger_file.SHOWN_ROWS)
    for k, line in enumerate(said[:shown]):
        assert line.startswith(f".memo2anki/{name}" + first_words.format(line=k + 2, row=k + 1))
    rest = [line for line in said if "more row" in line]
    if count > shown:
        of = "cards are treated as on a first run"
        if name == "fields.json":
            of = "cards' last Front and Back are not known"
        assert rest == [
            f".memo2anki/{name}: ... and {count - shown} more rows not used; their {of}"
        ]
        assert said[shown] == rest[0]
    else:
        assert rest == []
    kept = [line for line in said if " kept as " in line]
    assert len(said) == shown + len(rest) + len(kept) and len(kept) == 1
    # (The gone card is carried with its last fields: else a line would say it is left out.)
    assert f" {len(said)} warnings; 1 gone, 3 unchanged; wrote" in summary


# A file cut short (a copy or a sync stopped, a disk full): (the file, how many of its bytes
# are kept, the line named, the summary's counts). The rows before the cut are used; it was
# "not valid JSON", and every card a first run's (or, of fields.json, every gone card left
# out).
CUT_FILES: dict[str, tuple[str, Callable[[bytes], int], int, str]] = {
    "the ledger, in the middle of a row": (
        "ledger.json", lambda b: b.index(b"\n", b.index(b"CNI")) - 40, 4,
        "2 new, 1 gone, 1 unchanged",
    ),
    "the ledger, at the end of a line": (
        "ledger.json", lambda b: b.index(b"\n", b.index(b"CNI")) + 1, 4,
        "1 new, 1 gone, 2 unchanged",
    ),
    "the ledger, before its last line": (
        "ledger.json", lambda b: len(b) - 3, 5, "1 gone, 3 unchanged",
    ),
    "fields.json, before its last line": (
        "fields.json", lambda b: len(b) - 3, 5, "1 gone, 3 unchanged",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CUT_FILES.values(), ids=CUT_FILES.keys())
def test_a_file_cut_short_is_read_to_where_it_ends(
    case: tuple[str, Callable[[bytes], int], int, str], vault: Path, tmp_path: Path
) -> None:
    name, keep, last, counts = case
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    path = vault / ".memo2anki" / name
    whole = path.read_bytes()
    path.write_bytes(whole[: keep(whole)])
    pod = vault / "daily/2025-04-01.md"  # (Service's memo gone: carried, or left out)
    pod.write_text(pod.read_text(encoding="utf-8").split("\n**Service**")[0] + "\n")
    result = run(vault, "-o", out)
    assert result.exit_code == 0, result.output
    cut = f".memo2anki/{name}: cut short after line {last} (its last line, ']}}', is missing)"
    lines = result.stderr.splitlines()
    assert [line for line in lines if line.startswith(cut)] != [], lines
    assert lines[-1].startswith("memo2anki: 3 cards (CKA 2, AWS 1) from 3 notes, 0 images, ")
    assert f"; {counts}; wrote" in lines[-1]
    anki = Anki(tmp_path / "anki")
    try:
        anki.import_package(out)
        gone = [n.fields["Front"] for n in anki.notes() if "memo2anki::gone" in n.tags]
    finally:
        anki.close()
    assert gone == ["Service"]  # (carried with its last fields)
    assert ", 0 warnings; 3 unchanged; wrote" in run(vault, "-o", out).stderr  # (mended)


def test_a_row_holding_a_lone_surrogates_escape_is_read(vault: Path, tmp_path: Path) -> None:
    """JSON allows ``\\udcb0`` (which Python reads as a lone surrogate, as it reads a file
    name's byte that is not UTF-8), msgspec does not: such a row is read all the same, the
    byte shown as memo2anki shows a file name's (UTF-8 cannot hold a lone surrogate)."""
    assert run(vault, "-o", tmp_path / "deck.apkg").exit_code == 0
    raw = (vault / LEDGER).read_bytes().replace(b'"Service","', b'"Service\\udcb0","', 1)
    _, file, warnings = ledger_file.parse(raw)
    assert warnings == [] and file.count == 4
    assert [c.front for c in file.cards()].count("Service\\xb0") == 1


FIXTURE = Path(__file__).parent / "fixtures" / "ledger-v1"


def test_a_ledger_written_before_rows_were_checked_is_read_as_it_was(tmp_path: Path) -> None:
    """The fixture's ledger was written by memo2anki before this version (three live cards,
    one gone): read as it was, it changes nothing; a card gone since is carried with its
    last fields, its GUID and its deck."""
    vault = tmp_path / FIXTURE.name
    shutil.copytree(FIXTURE, vault)
    (vault / ".obsidian").mkdir(exist_ok=True)
    before = (vault / LEDGER).read_bytes()
    out = tmp_path / "deck.apkg"
    result = run(vault, "-o", out)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "memo2anki: 3 cards (CKA 2, AWS 1) from 2 notes, 0 images, 0 warnings; 3 unchanged; "
        f"wrote {out}"
    ]
    assert (vault / LEDGER).read_bytes() == before
    note = vault / "daily/2025-04-01.md"
    note.write_text(note.read_text(encoding="utf-8").split("\n**Service**")[0] + "\n")
    result = run(vault, "-o", out)
    assert result.exit_code == 0 and "; 1 gone, 2 unchanged; wrote" in result.stderr
    anki = Anki(tmp_path / "anki")
    try:
        anki.import_package(out)
        notes = {n.guid: n for n in anki.notes()}
    finally:
        anki.close()
    gone = notes["of`DvW]T!j"]
    assert gone.fields["Back"] == "<p>파드 묶음에 고정 IP와 DNS 이름</p>"
    assert gone.deck == "공부 메모장::CKA" and gone.tags == ["CKA", "memo2anki::gone"]
    assert set(notes) == {"cT[]e5/C@f", "of`DvW]T!j", "M%Q?)PWaNw"}


# What a hand-edited ledger may hold, for a gone card (which is carried with its last fields,
# deck and tags): each becomes what a note holding it would give.
HOSTILE_VALUES = {
    "a back with a script": (
        "fields", 2, '<p>x</p><script>alert(1)</script><img src="x" onerror="alert(2)">',
    ),
    "a front with a style": ("fields", 1, '<b style="background:url(http://e/x)">F</b>'),
    "a back with Anki's own tags": ("fields", 2, "[sound:x.mp3][latex]x[/latex]"),
    "a back with a field separator": ("fields", 2, "a\x1fb\x00c"),
    "a back nested far too deep": ("fields", 2, "<div>" * 20_000 + "x" + "</div>" * 20_000),
    "a deck with reserved characters": ("ledger", 6, "공부 메모장::\x1fC\x00KA::  ::"),
    "a deck of nothing": ("ledger", 6, " :: \x01 "),
    "a deck with runs of colons": ("ledger", 6, ":::공부 메모장:::CKA:::"),
    "a deck with line ends and tabs": ("ledger", 6, "공부 메모장::C\nK\tA\r"),
    "tags with empty levels": ("ledger", 11, ["::x", "y::", "a::::b", "::", "c :: d"]),
    "tags with markup and spaces": ("ledger", 11, ['<b>x</b>', "a b", "c\x1fd", '"q"', "  "]),
    "a subject with markup": ("ledger", 4, '<img src=x onerror="alert(1)">'),
    "a note path with markup": ("ledger", 2, 'daily/<script>x</script>.md'),
}  # fmt: skip


@pytest.mark.parametrize("value", HOSTILE_VALUES.values(), ids=HOSTILE_VALUES.keys())
def test_the_ledgers_values_pass_the_checks_a_notes_do(
    value: tuple[str, int, Any], vault: Path, tmp_path: Path
) -> None:
    file, column, text = value
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    path = vault / ".memo2anki" / f"{file}.json"
    data = json.loads(path.read_bytes())
    key = "fields" if file == "fields" else "cards"
    route = next(r for r in data[key] if "Route 53" in json.dumps(r, ensure_ascii=False))
    route[column] = text
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (vault / "daily/2025-04-03.md").unlink()
    result = run(vault, "-o", out)
    assert result.exit_code == 0 and "; 1 gone, 3 unchanged; wrote" in result.stderr
    anki = Anki(tmp_path / "anki")
    try:
        anki.import_package(out)
        gone = next(n for n in anki.notes() if "memo2anki::gone" in n.tags)
    finally:
        anki.close()
    shown = " ".join([*gone.fields.values(), gone.deck, *gone.tags])
    for bad in ("<script", "url(", "[sound:", "[latex]", "\x1f", "\x00", "\x01"):
        assert bad not in shown
    assert re.search(r"<[^>]*\son[a-z]+=", shown) is None  # (an event handler in a tag)
    # No level of a deck or tag empty: Anki would name it "blank".
    for nested in (gone.deck, *gone.tags):
        assert all(level and level != "blank" for level in nested.split("::")), nested
    assert gone.deck.split("::")[0] == "공부 메모장"
    assert not any(c in gone.deck for c in "\t\n\r")  # (Anki drops them: another deck)
    if column == 6:  # what is left is the deck the ledger names
        assert gone.deck in {"공부 메모장::CKA", "공부 메모장"}
    assert all(" " not in tag and "<" not in tag and '"' not in tag for tag in gone.tags)
    if column == 4:  # escaped text, as a subject in a note gives
        assert gone.fields["Subject"] == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"


# A deck in the ledger's rows spelled with what Anki's folding of names takes away (as a
# hand edit may leave it): the ledger's spelling of a deck is what a run puts that deck's
# cards in (Anki's names are one deck whatever their case), only when it is one memo2anki
# makes.
FOLDED_DECKS = {
    "a field separator after it": "공부 메모장::CKA\x1f",
    "a file separator after it": "공부 메모장::CKA\x1c",
    "a no-break space after it": "공부 메모장::CKA\xa0",
    "an ideographic space before it": "\u3000공부 메모장::CKA",
    "a next-line control after it": "공부 메모장::CKA\x85",
}


@pytest.mark.parametrize("spelled", FOLDED_DECKS.values(), ids=FOLDED_DECKS.keys())
def test_a_ledger_decks_spelling_is_used_only_when_memo2anki_makes_such_a_name(
    spelled: str, vault: Path, tmp_path: Path
) -> None:
    # Every live card of that deck went into the deck so spelled, reserved character and
    # all, said unchanged (the ledger kept it so).
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    path = vault / LEDGER
    text = path.read_text(encoding="utf-8")
    assert '"공부 메모장::CKA"' in text
    path.write_text(text.replace('"공부 메모장::CKA"', json.dumps(spelled)), encoding="utf-8")
    result = run(vault, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["changes"]["list"]
    assert {c["now"]["deck"] for c in report} == {"공부 메모장::CKA", "공부 메모장::AWS"}
    assert {r[6] for r in _rows_of(vault)} == {"공부 메모장::CKA", "공부 메모장::AWS"}
    anki = Anki(tmp_path / "anki")
    try:
        anki.import_package(out)
        assert {n.deck for n in anki.notes()} == {"공부 메모장::CKA", "공부 메모장::AWS"}
    finally:
        anki.close()


# Text no UTF-8 can hold, in a column of a gone card's row (which is carried, reported and
# printed): a lone surrogate's JSON escape, or bytes that are not UTF-8 (a CESU-8 surrogate,
# a stray byte), each read as a lone surrogate, in a file laid out as memo2anki writes it or
# on one line. What is read is shown as a file name not UTF-8 is (`\ud800`, `\xff`).
LONE_SURROGATES = {
    "a back's escape": ("fields", 2, b'"<p>a\\ud800b</p>"', "a\\ud800b"),
    "a back's bytes": ("fields", 2, b'"<p>a\xed\xa0\x80b\xff</p>"', "a\\xed\\xa0\\x80b\\xff"),
    "a front's escape": ("fields", 1, b'"F\\udfff"', "F\\udfff"),
    "a note path's escape": ("ledger", 2, b'"daily/\\ud800.md"', "daily/\\ud800.md"),
    "a note path's bytes": ("ledger", 2, b'"daily/\xff.md"', "daily/\\xff.md"),
    "a subject's escape": ("ledger", 4, b'"AWS\\udc80"', "AWS\\x80"),
    "the ledger's front's escape": ("ledger", 5, b'"Route\\ud800"', "Route\\ud800"),
    "a date's escape": ("ledger", 7, b'"2025\\ud800"', "2025\\ud800"),
    "a deck's escape": ("ledger", 6, b'"\\ud800::AWS"', "\\ud800::AWS"),
    "a tag's bytes": ("ledger", 11, b'["AWS\xed\xb0\x80"]', "AWS\\xed\\xb0\\x80"),
    "a note path's escape, the ledger on one line": (
        "ledger", 2, b'"daily/\\ud800.md"', "daily/\\ud800.md",
    ),
    "a back's escape, fields.json on one line": ("fields", 2, b'"<p>b\\ud800</p>"', "b\\ud800"),
}  # fmt: skip


@pytest.mark.parametrize(("case", "value"), LONE_SURROGATES.items(), ids=LONE_SURROGATES.keys())
def test_text_not_utf8_in_a_ledger_row_is_shown_never_an_unexpected_error(
    case: str, value: tuple[str, int, bytes, str], vault: Path, tmp_path: Path
) -> None:
    # Each ended in "unexpected error: UnicodeEncodeError" with no deck: the sanitizer, the
    # Link's percent-encoding, --changes and --json could not take the text as read.
    file, column, raw, shown = value
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    path = vault / ".memo2anki" / f"{file}.json"
    lines = path.read_bytes().split(b"\n")
    k = next(k for k, line in enumerate(lines) if "Route 53" in line.decode("utf-8"))
    row = json.loads(lines[k].rstrip(b","))
    row[column] = "\0"
    line = json.dumps(row, ensure_ascii=False).encode("utf-8").replace(b'"\\u0000"', raw)
    lines[k] = line + b"," * lines[k].endswith(b",")
    path.write_bytes(b"\n".join(lines))
    if case.endswith("on one line"):
        path.write_text(json.dumps(json.loads(path.read_bytes())), encoding="utf-8")
    (vault / "daily/2025-04-03.md").unlink()
    result = run(vault, "-o", out, "--changes", "--json")
    assert result.exit_code == 0, result.output
    assert "; 1 gone, 3 unchanged; wrote" in result.stderr
    report = json.loads(result.stdout)["changes"]
    assert report["counts"]["gone"] == 1
    before = next(c["before"] for c in report["list"] if c["kind"] == "gone")
    anki = Anki(tmp_path / "anki")
    try:
        anki.import_package(out)
        gone = next(n for n in anki.notes() if "memo2anki::gone" in n.tags)
    finally:
        anki.close()
    # (The ledger's front is the report's; the Front field is fields.json's.)
    held = [*gone.fields.values(), gone.deck, *gone.tags, *before.values()]
    assert any(shown in str(text) for text in held), held


def _cli(vault: Path, out: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own, bounded: a run that waits on a FIFO fails here
    rather than hanging the suite."""
    env = {**os.environ, "MEMO2ANKI_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "memo2anki", str(vault), "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _cli(vault: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own, bounded: a run that waits on a FIFO, or reads a
    file of gigabytes whole, fails here rather than hanging the suite or taking the
    machine's memory."""
    return run_cli(vault, "-o", out, max_memory=3 << 30)


def _link_out(vault: Path, outside: Path) -> None:
    (vault / ".memo2anki").symlink_to(outside, target_is_directory=True)


def _fifo(name: str) -> Callable[[Path, Path], None]:
    def make(vault: Path, outside: Path) -> None:
        os.mkfifo(vault / ".memo2anki" / name)

    return make


def _folder(vault: Path, outside: Path) -> None:
    (vault / LEDGER).mkdir()


def _file_link_out(vault: Path, outside: Path) -> None:
    (outside / "ledger.json").write_text("kept", encoding="utf-8")
    (vault / LEDGER).symlink_to(outside / "ledger.json")


def _link_loop(vault: Path, outside: Path) -> None:
    (vault / ".memo2anki").symlink_to(".memo2anki")


def _sparse(name: str) -> Callable[[Path, Path], None]:
    def make(vault: Path, outside: Path) -> None:
        with (vault / ".memo2anki" / name).open("wb") as f:
            f.truncate(4 << 30)  # (sparse: no disk taken)

    return make


TOO_LARGE = "larger than 1 GiB, not a file memo2anki wrote"


NOT_WHERE_THEY_SEEM = {
    ".memo2anki a link out of the vault": (
        _link_out,
        [
            ".memo2anki: ledger not used: a link to {outside}, outside the vault; " + FIRST_RUN,
            ".memo2anki: ledger not written: a link to {outside}, outside the vault; ",
        ],
    ),
    "ledger.json a FIFO": (
        _fifo("ledger.json"),
        [
            f"{LEDGER}: cannot read the ledger (not a regular file); " + FIRST_RUN,
            f"{LEDGER}: ledger not written: not a regular file; ",
        ],
    ),
    "ledger.json a folder": (
        _folder,
        [
            f"{LEDGER}: cannot read the ledger (a folder); " + FIRST_RUN,
            f"{LEDGER}: ledger not written: not a regular file; ",
        ],
    ),
    "ledger.json a link out of the vault": (
        _file_link_out,
        [
            f"{LEDGER}: cannot read the ledger (a symbolic link, not a file); " + FIRST_RUN,
            f"{LEDGER}: ledger not written: not a regular file; ",
        ],
    ),
    "fields.json a FIFO": (
        _fifo("fields.json"),
        [".memo2anki/fields.json: ledger not written: not a regular file; "],
    ),
    ".memo2anki a link loop": (
        _link_loop,
        [
            ".memo2anki: ledger not used: a link that leads nowhere (a loop); " + FIRST_RUN,
            ".memo2anki: ledger not written: a link that leads nowhere (a loop); ",
        ],
    ),
    "ledger.json of 4 GiB": (
        _sparse("ledger.json"),
        [
            f"{LEDGER}: cannot read the ledger ({TOO_LARGE}); " + FIRST_RUN,
            f"{LEDGER}: ledger not written: {TOO_LARGE}; ",
        ],
    ),
    "fields.json of 4 GiB": (
        _sparse("fields.json"),
        [f".memo2anki/fields.json: ledger not written: {TOO_LARGE}; "],
    ),
}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("case", NOT_WHERE_THEY_SEEM.values(), ids=NOT_WHERE_THEY_SEEM.keys())
def test_a_ledger_folder_or_file_not_where_it_seems_is_a_warning_never_a_hang(
    case: tuple[Callable[[Path, Path], None], list[str]], vault: Path, tmp_path: Path
) -> None:
    """Nothing is read or written through a link out of the vault, and nothing but a regular
    file is opened: a warning each way, and the deck is written as on a first run."""
    make, expected = case
    outside = tmp_path / "outside"
    outside.mkdir()
    if make not in (_link_out, _link_loop):
        (vault / ".memo2anki").mkdir()
    make(vault, outside)
    before = {p.name: p.read_bytes() for p in outside.iterdir()}
    out = tmp_path / "deck.apkg"
    done = _cli(vault, out)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == len(expected) + 1 and out.is_file()
    for line, start in zip(lines, expected, strict=False):
        assert line.startswith(start.format(outside=outside.resolve()))
    assert "; 4 new; wrote" in lines[-1]
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == before


@pytest.mark.parametrize("layout", ["indented", "a row on two lines"])
def test_a_damaged_row_of_a_ledger_laid_out_otherwise_is_named_by_number(
    layout: str, vault: Path, tmp_path: Path
) -> None:
    """A ledger whose rows are not one per line (pretty-printed, or a row broken in two by
    hand) is read whole: a row that does not fit is named by its number, and only its card
    is treated as on a first run."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    path = vault / LEDGER
    data = json.loads(path.read_bytes())
    data["cards"][1][8] = "alive"
    if layout == "indented":
        text = json.dumps(data, ensure_ascii=False, indent=1)
    else:
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[2] = json.dumps(data["cards"][1], ensure_ascii=False) + ","
        lines[1] = lines[1].replace(",", ",\n", 1)  # (row 1 broken after its GUID)
        text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    result = run(vault, "-o", out)
    assert result.exit_code == 0
    warning, kept, summary = result.stderr.splitlines()
    assert warning.startswith(f"{LEDGER}: card 2 not used (state: ")
    assert kept.startswith(f"{LEDGER}: kept as .memo2anki/ledger.damaged.json (")
    assert "; 1 new, 3 unchanged; wrote" in summary


def _ledger_row(guid: str, front: str, state: str = "live") -> str:
    card = (guid, ["1.md", "CKA", front, 0], "d/1.md", 7, "CKA", front, "D::CKA", "", state)
    return json.dumps([*card, 1743465600, "digest", ["CKA"], ""], ensure_ascii=False)


def _head(rows: str) -> str:
    """A ledger's header line (its digest of the rows is one side's)."""
    head = {"format": "memo2anki ledger", "version": 1, "vault": "vault", "rows": rows}
    return json.dumps({**head, "columns": list(ledger_file.COLUMNS)})[:-1] + ', "cards": ['


A, B, B2, C, D, E = (
    _ledger_row("a", "A"),
    _ledger_row("b", "B"),
    _ledger_row("b", "B 고친"),  # (B renamed: the same GUID)
    _ledger_row("c", "C"),
    _ledger_row("d", "D"),
    _ledger_row("e", "E", "gone"),
)
OURS, THEIRS, BASE = _head("1" * 64), _head("2" * 64), _head("0" * 64)

# A ledger's lines as git merged them (a row's "," after it as the file had it) in, the cards
# read (GUID and front) and the warnings (line: message) out.
MERGED_LEDGERS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "markers around the header and rows": (
        ["<<<<<<< HEAD", OURS, f"{A},", f"{B2},", "=======", THEIRS, f"{A},", f"{B},",
         f"{E},", ">>>>>>> origin/main", C, "]}"],
        ["a A", "b B 고친", "e E", "c C"],
        [f": {CONFLICT}"],
    ),
    "diff3: the common ancestor's lines are not read": (
        ["<<<<<<< HEAD", OURS, f"{B2},", "||||||| base", BASE, f"{B},", f"{D},", "=======",
         THEIRS, f"{B},", ">>>>>>> origin/main", C, "]}"],
        ["b B 고친", "c C"],
        [f": {CONFLICT}"],
    ),
    "markers among the rows only": (
        [OURS, f"{A},", "<<<<<<< HEAD", f"{B2},", "=======", f"{B},", f"{D},", ">>>>>>> x",
         C, "]}"],
        ["a A", "b B 고친", "d D", "c C"],
        [f": {CONFLICT}"],
    ),
    "a union merge: both headers, a row without its comma": (
        [OURS, THEIRS, f"{A},", B2, f"{B},", f"{C},", D, "]}"],
        ["a A", "b B 고친", "c C", "d D"],
        [],
    ),
    "line ends of CR LF": (
        [f"{x}\r" for x in ["<<<<<<< HEAD", OURS, "=======", THEIRS, ">>>>>>> x", f"{A},", C]]
        + ["]}"],
        ["a A", "c C"],
        [f": {CONFLICT}"],
    ),
    "a damaged row in a side is named by its line": (
        ["<<<<<<< HEAD", OURS, '["oops"],', "=======", THEIRS, f"{A},", ">>>>>>> x", C, "]}"],
        ["a A", "c C"],
        [f": {CONFLICT}", ":3: card not used (Expected `array` of length 13, got 1)"],
    ),
    "a card twice outside the merge is still named": (
        [OURS, f"{A},", f"{A},", C, "]}"],
        ["a A", "c C"],
        [":3: card not used: its GUID or identity is also line 2's"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", MERGED_LEDGERS.values(), ids=MERGED_LEDGERS.keys())
def test_a_merged_ledger_is_read_as_both_sides(
    case: tuple[list[str], list[str], list[str]],
) -> None:
    lines, cards, named = case
    _, file, warnings = ledger_file.parse("\n".join([*lines, ""]).encode("utf-8"))
    assert [f"{c.guid} {c.front}" for c in file.cards()] == cards
    shown = [str(w).removeprefix(LEDGER) for w in warnings]
    assert len(shown) == len(named)
    assert all(w.startswith(n) for w, n in zip(shown, named, strict=True)), shown
    assert file.body is None and file.stale  # (written again, whole, by the next run)


@pytest.mark.parametrize(
    ("ours", "theirs", "cloze"),
    [(True, None, True), (None, True, True), (False, True, True), (False, None, False)],
)
def test_a_merged_ledger_made_cloze_notes_when_either_side_did(
    ours: bool | None, theirs: bool | None, cloze: bool
) -> None:
    """Either side's cloze notes are the next run's to retire when no longer made."""

    def head(rows: str, said: bool | None) -> str:
        line = _head(rows)
        return (
            line
            if said is None
            else line.replace('"vault": ', f'"cloze": {json.dumps(said)}, "vault": ')
        )

    lines = ["<<<<<<< HEAD", head("1" * 64, ours), "=======", head("2" * 64, theirs)]
    text = "\n".join([*lines, ">>>>>>> x", C, "]}", ""])
    merged, _, _ = ledger_file.parse(text.encode("utf-8"))
    assert (merged.get("cloze") is True) is cloze


def test_a_merge_conflict_is_written_back_whole_even_when_no_card_changed(
    vault: Path, tmp_path: Path
) -> None:
    """Both machines exported the same cards: only the header lines differ, and git's
    markers around them are all the run finds to change. It writes the files back whole
    (it wrote nothing, as for an unchanged vault, and said so again every run)."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    path = vault / LEDGER
    head, rest = path.read_bytes().split(b"\n", 1)
    other = head.replace(b'"rows": "', b'"rows": "0')
    lines = [b"<<<<<<< HEAD", head, b"=======", other, b">>>>>>> origin/main", rest]
    path.write_bytes(b"\n".join(lines))
    result = run(vault, "-o", out)
    assert result.stderr.splitlines() == [
        f"{LEDGER}: {CONFLICT}",
        f"memo2anki: 4 cards (CKA 3, AWS 1) from 3 notes, 0 images, 1 warning; 4 unchanged; "
        f"wrote {out}",
    ]
    assert _files(vault) == _as_written_whole(vault, tmp_path)
    assert ", 0 warnings; 4 unchanged;" in run(vault, "-o", out).stderr


# What git leaves in a file both machines changed: its conflict markers (as `git merge` and
# `git pull` do, and with merge.conflictStyle diff3), or both sides' lines (merge=union).
MERGES = {
    "conflict markers": [],
    "conflict markers with the common ancestor (diff3)": ["--diff3"],
    "a union merge": ["--union"],
}


def _git_merge(ours: Path, base: Path, theirs: Path, how: list[str]) -> bytes:
    """What git makes of a file changed on both sides (``git merge-file``: its merge of one
    file, with the labels a pull gives)."""
    labels = ["-L", "HEAD", "-L", "base", "-L", "origin/main"]
    done = subprocess.run(
        ["git", "merge-file", "-p", *how, *labels, str(ours), str(base), str(theirs)],
        capture_output=True,
        check=False,
    )
    assert done.returncode >= 0, done.stderr
    return done.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="no git here")
@pytest.mark.parametrize("how", MERGES.values(), ids=MERGES.keys())
def test_a_ledger_git_merged_from_two_machines_keeps_every_cards_history(
    how: list[str], vault: Path, tmp_path: Path
) -> None:
    """A vault exported on two machines, then pulled: the header lines of both files differ
    (they hold digests), so git leaves its conflict markers, which the person commits. Both
    sides are read: a card renamed on one keeps its note, an edit made in Anki to a card
    no memo changed survives, a card gone on the other stays retired, and the files are
    written back whole (the ledger was "not valid JSON (line 1)", a first run)."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    anki = Anki(tmp_path / "anki")
    try:
        anki.import_package(out)
        guids = {n.fields["Front"]: n.guid for n in anki.notes()}
        service = anki.col.get_note(anki.col.find_notes('"Front:Service"')[0])
        service["Back"] = "내가 Anki에서 고친 답"
        anki.col.update_note(service)
        base = tmp_path / "base"
        shutil.copytree(vault / ".memo2anki", base)
        # Machine A renames a heading; machine B edits a back and deletes a note.
        a, b = tmp_path / "a" / "vault", tmp_path / "b" / "vault"  # (the same vault's name)
        shutil.copytree(vault, a)
        shutil.copytree(vault, b)
        cni = "daily/2025-04-02.md"
        renamed = (a / cni).read_text(encoding="utf-8").replace("**CNI**", "**CNI 플러그인**")
        (a / cni).write_text(renamed, encoding="utf-8")
        pod = (b / "daily/2025-04-01.md").read_text(encoding="utf-8")
        (b / "daily/2025-04-01.md").write_text(
            pod.replace("배포 단위", "배포 단위 (컨테이너 묶음)")
        )
        (b / "daily/2025-04-03.md").unlink()
        for machine in (a, b):
            built = machine.parent / "deck.apkg"
            assert run(machine, "-o", built).exit_code == 0
            anki.import_package(built)
        # B pulls A's commit: the memos merge cleanly, the ledger's files as git makes them.
        (b / cni).write_text(renamed, encoding="utf-8")
        for name in ("ledger.json", "fields.json"):
            mine = b / ".memo2anki" / name
            mine.write_bytes(_git_merge(mine, base / name, a / ".memo2anki" / name, how))
        merged = (b / LEDGER).read_bytes()
        if how != ["--union"]:
            assert merged.startswith(b"<<<<<<< HEAD\n")
        result = run(b, "-o", out, "--changes")
        assert result.exit_code == 0, result.output
        warnings = [] if how == ["--union"] else [f"{LEDGER}: {CONFLICT}"]
        assert result.stderr.splitlines() == [
            *warnings,
            "memo2anki: 3 cards (CKA 3) from 2 notes, 0 images, "
            f"{len(warnings)} warning{'s' * (len(warnings) != 1)}; 1 renamed, 2 unchanged; "
            f"wrote {out}",
        ]
        assert result.stdout.splitlines() == [
            "daily/2025-04-02.md:7: renamed 'CNI' -> 'CNI 플러그인'"
        ]
        assert _files(b) == _as_written_whole(b, tmp_path)  # no marker left, each card once
        again = run(b, "-o", tmp_path / "again.apkg")
        assert again.stderr.splitlines()[-1].endswith(
            f"0 warnings; 3 unchanged; wrote {tmp_path / 'again.apkg'}"
        )
        log = anki.import_package(out)
        notes = {n.fields["Front"]: n for n in anki.notes()}
    finally:
        anki.close()
    assert len(log.new) == 0  # no card twice in Anki
    assert notes["CNI 플러그인"].guid == guids["CNI"]
    assert notes["Service"].fields["Back"] == "내가 Anki에서 고친 답"
    assert "memo2anki::gone" in notes["Route 53 라우팅 정책"].tags


@pytest.mark.skipif(shutil.which("git") is None, reason="no git here")
@pytest.mark.parametrize("how", MERGES.values(), ids=MERGES.keys())
def test_fields_json_git_merged_keeps_the_last_fields_of_both_sides(
    how: list[str], vault: Path, tmp_path: Path
) -> None:
    """Machine A renames a heading and deletes a card, B edits the back beside it: both
    files conflict among their rows. fields.json is read as both sides: the renamed card is
    paired by its back (it got a new GUID: a duplicate in Anki), the card gone since the
    pull is carried with its last fields (it was left out)."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    base = tmp_path / "base"
    shutil.copytree(vault / ".memo2anki", base)
    a, b = tmp_path / "a" / "vault", tmp_path / "b" / "vault"
    shutil.copytree(vault, a)
    shutil.copytree(vault, b)
    cni, pod, route = "daily/2025-04-02.md", "daily/2025-04-01.md", "daily/2025-04-03.md"
    edits = {
        a: {
            cni: ("**CNI**", "**CNI 플러그인**"),
            pod: ("**Pod**\n가장 작은 배포 단위\n\n", ""),
        },
        b: {route: ("장애 조치", "장애 조치, 지리 위치")},
    }
    for machine, changes in edits.items():
        for note, (old, new) in changes.items():
            text = (machine / note).read_text(encoding="utf-8")
            assert old in text
            (machine / note).write_text(text.replace(old, new), encoding="utf-8")
        assert run(machine, "-o", machine.parent / "deck.apkg").exit_code == 0
    for note in (cni, pod):  # B pulls A's commit
        shutil.copy(a / note, b / note)
    for name in ("ledger.json", "fields.json"):
        mine = b / ".memo2anki" / name
        mine.write_bytes(_git_merge(mine, base / name, a / ".memo2anki" / name, how))
    if how != ["--union"]:
        assert b"\n<<<<<<< HEAD\n" in (b / ".memo2anki/fields.json").read_bytes()
    result = run(b, "-o", out, "--changes")
    assert result.exit_code == 0, result.output
    conflicts = [] if how == ["--union"] else [f"{LEDGER}: {CONFLICT}"]
    assert result.stderr.splitlines()[: len(conflicts)] == conflicts
    assert result.stderr.splitlines()[-1] == (
        f"memo2anki: 3 cards (CKA 2, AWS 1) from 3 notes, 0 images, {len(conflicts) * 2} "
        f"warnings; 1 renamed, 1 gone, 2 unchanged; wrote {out}"
    )
    if conflicts:  # (fields.json's, told when it is read)
        assert f".memo2anki/fields.json: {CONFLICT}" in result.stderr.splitlines()
    assert result.stdout.splitlines() == [
        "daily/2025-04-02.md:7: renamed 'CNI' -> 'CNI 플러그인'",
        "daily/2025-04-01.md: gone 'Pod' (was daily/2025-04-01.md:7)",
    ]
    assert _files(b) == _as_written_whole(b, tmp_path)
    anki = Anki(tmp_path / "anki")
    try:
        anki.import_package(out)
        gone = next(n for n in anki.notes() if "memo2anki::gone" in n.tags)
    finally:
        anki.close()
    assert gone.fields["Back"] == "<p>가장 작은 배포 단위</p>"


@pytest.mark.skipif(shutil.which("git") is None, reason="no git here")
@pytest.mark.parametrize("how", MERGES.values(), ids=MERGES.keys())
@pytest.mark.parametrize("first", ["the vault root's", "the subfolder's"])
def test_a_ledger_merged_from_a_run_on_a_subfolder_gives_every_card_its_link(
    how: list[str], first: str, tmp_path: Path
) -> None:
    """Machine B runs with `--vault` on a subfolder (its cards then link to that folder as a
    vault, the others are out of its reach), A edits a memo at the vault root; B's ledger is
    merged into A's, or A's into B's. The second side's header was not read: its rows' note
    paths were taken as relative to the first side's root, its other_links were dropped, and
    a card whose Link B changed in Anki was left so, said unchanged."""
    vault = write_vault(
        tmp_path / "vault",
        {
            "daily/2025-04-01.md": memo("**Pod**\n가장 작은 배포 단위"),
            "other/2025-04-02.md": memo("**CNI**\n컨테이너 네트워크 인터페이스"),
        },
    )
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    anki = Anki(tmp_path / "anki")
    try:
        anki.import_package(out)
        base = tmp_path / "base"
        shutil.copytree(vault / ".memo2anki", base)
        a, b = tmp_path / "a" / "vault", tmp_path / "b" / "vault"
        shutil.copytree(vault, a)
        shutil.copytree(vault, b)
        built = tmp_path / "b" / "deck.apkg"
        assert run(b / "daily", "--vault", b / "daily", "-o", built).exit_code == 0
        anki.import_package(built)  # (Pod's Link: the vault "daily")
        cni = a / "other/2025-04-02.md"
        cni.write_text(cni.read_text(encoding="utf-8") + "표준\n", encoding="utf-8")
        etcd = a / "other/2025-04-03.md"  # (a card on A's side only)
        etcd.write_text(memo("**etcd**\n클러스터 상태 저장소"), encoding="utf-8")
        built = tmp_path / "a" / "deck.apkg"
        assert run(a, "-o", built).exit_code == 0
        anki.import_package(built)
        ours, theirs = (a, b) if first == "the vault root's" else (b, a)
        if ours == b:  # (the memos merge cleanly)
            shutil.copy(cni, b / "other/2025-04-02.md")
            shutil.copy(etcd, b / "other/2025-04-03.md")
        for name in ("ledger.json", "fields.json"):
            mine = ours / ".memo2anki" / name
            mine.write_bytes(_git_merge(mine, base / name, theirs / ".memo2anki" / name, how))
        result = run(ours, "-o", out, "--changes")
        assert result.exit_code == 0, result.output
        # (Pod's Link written again; CNI updated on B's side, which holds its row before)
        assert result.stdout.splitlines() == [
            "daily/2025-04-01.md:7: updated 'Pod'",
            *(["other/2025-04-02.md:7: updated 'CNI'"] if ours == b else []),
        ]
        anki.import_package(out)
        links = {n.fields["Front"]: n.fields["Link"] for n in anki.notes()}
        again = run(ours, "-o", out)
    finally:
        anki.close()
    assert links == {
        "Pod": "obsidian://open?vault=vault&file=daily%2F2025-04-01",
        "CNI": "obsidian://open?vault=vault&file=other%2F2025-04-02",
        "etcd": "obsidian://open?vault=vault&file=other%2F2025-04-03",
    }
    assert again.stderr.splitlines()[-1].endswith(f"0 warnings; 3 unchanged; wrote {out}")


@pytest.mark.skipif(not hasattr(os, "O_DIRECTORY"), reason="folders are not locked here")
def test_a_ledger_folder_locked_by_a_stopped_run_is_not_waited_on_for_ever(
    vault: Path, tmp_path: Path
) -> None:
    """A run holds .memo2anki locked only while it writes the ledger; one stopped then
    (Ctrl-Z), or another program, held it for ever, and the next run waited for ever
    once its deck was written. It waits a while, then writes the ledger, the
    compare-and-swap catching a race as where folders cannot be locked."""
    import fcntl

    (vault / ".memo2anki").mkdir()
    fd = os.open(vault / ".memo2anki", os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # (held by this process, as by a stopped run)
        done = run_cli(vault, "-o", tmp_path / "deck.apkg")
    finally:
        os.close(fd)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1].endswith(f"; 4 new; wrote {tmp_path / 'deck.apkg'}")
    assert len(json.loads((vault / LEDGER).read_bytes())["cards"]) == 4
