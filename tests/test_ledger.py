"""The ledger and the change report: exact text of the report, and every way the ledger can
be missing, damaged, foreign, unwritable or raced for."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from array import array
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, memo, run, write_vault

from memo2anki.changes import ledger as ledger_file
from memo2anki.changes import ledger_index
from memo2anki.changes.ledger import Ledger

LEDGER = ".memo2anki/ledger.json"
FIRST_RUN = "this run is treated as a first run"


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
    "a newer version": (
        b'{"format": "memo2anki ledger", "version": 9, "vault": "vault", "cards": []}',
        "ledger version 9; this memo2anki reads 1",
    ),
    "a damaged card": (
        b'{"format": "memo2anki ledger", "version": 1, "vault": "vault", "cards": [["g", 1]]}',
        "card 1 is damaged",
    ),
    "another vault's": (
        b'{"format": "memo2anki ledger", "version": 1, "vault": "other", "cards": []}',
        "it was written for vault 'other', not 'vault'",
    ),
}


@pytest.mark.parametrize("case", BAD_LEDGERS.values(), ids=BAD_LEDGERS.keys())
def test_a_bad_ledger_is_a_warning_and_a_first_run(
    case: tuple[bytes, str], vault: Path, tmp_path: Path
) -> None:
    content, reason = case
    out = tmp_path / "deck.apkg"
    (vault / ".memo2anki").mkdir()
    (vault / LEDGER).write_bytes(content)
    result = run(vault, "-o", out)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"{LEDGER}: ledger not used: {reason}; {FIRST_RUN}",
        f"memo2anki: 4 cards (CKA 3, AWS 1) from 3 notes, 0 images, 1 warning; 4 new; wrote {out}",
    ]
    # Replaced by a good one: the next run compares against it.
    assert "4 unchanged" in run(vault, "-o", out).stderr


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
        f"{LEDGER}: cannot read the ledger (Not a directory); {FIRST_RUN}",
        f"{LEDGER}: cannot write the ledger (File exists); the deck was written, but the next "
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


@pytest.mark.parametrize(
    "remembered", ["rows remembered", "nothing remembered", "rows remembered wrong"]
)
def test_unchanged_cards_keep_their_rows_and_the_files_are_as_if_written_whole(
    vault: Path, tmp_path: Path, remembered: str
) -> None:
    """A run after an edit writes the cards it did not change as their rows were read (not
    encoded again): the files are byte for byte what encoding every card gives, whether
    where their rows end was remembered (and copied in runs), or not, or remembered wrong
    (moved by a few bytes: found out, and the files split into rows)."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    index = _remembered(tmp_path, vault)
    if remembered == "nothing remembered":
        index.unlink()
    elif remembered == "rows remembered wrong":
        data = json.loads(index.read_bytes())
        for column in ("lengths", "field_lengths"):
            lengths = _numbers(data[column])
            lengths[0], lengths[1] = lengths[0] - 3, lengths[1] + 3  # (the same in all)
            data[column] = _text(lengths)
        index.write_text(json.dumps(data), encoding="utf-8")
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


def test_a_damaged_row_is_found_in_a_ledger_whose_rows_are_vouched_for(
    vault: Path, tmp_path: Path
) -> None:
    """The rows' digest in the header vouches only for rows as memo2anki wrote them: a row
    changed by hand fails it, so the rows are checked, and the damaged one named."""
    assert run(vault, "-o", tmp_path / "deck.apkg").exit_code == 0
    path = vault / LEDGER
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(',"live",', ',"alive",', 1), encoding="utf-8")
    result = run(vault, "-o", tmp_path / "deck.apkg")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == (
        f"{LEDGER}: ledger not used: card 1 is damaged; {FIRST_RUN}"
    )


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


def _remembered(tmp_path: Path, vault: Path) -> Path:
    """The file in which the last run remembered the vault's ledger (see ledger_index)."""
    digest = hashlib.sha256((vault / LEDGER).read_bytes()).hexdigest()
    return tmp_path / "memo2anki-cache" / ledger_index.FOLDER / f"{digest}.json"


def test_a_ledger_the_last_run_remembered_is_read_without_parsing_its_rows(
    vault: Path, tmp_path: Path
) -> None:
    assert run(vault, "-o", tmp_path / "deck.apkg").exit_code == 0
    assert _remembered(tmp_path, vault).is_file()
    remembered, problems = ledger_file.load(vault, "vault", tmp_path / "memo2anki-cache")
    whole, _ = ledger_file.load(vault, "vault")
    assert problems == [] and remembered.source is not None and whole.source is not None
    assert (remembered.source.parsed, whole.source.parsed) == (0, 4)
    assert remembered.source.light == whole.source.light
    assert remembered.cards == whole.cards  # (each row parsed when asked for)


def _numbers(text: str) -> array[int]:
    numbers = array("q")
    numbers.frombytes(base64.b64decode(text))
    return numbers


def _text(numbers: array[int]) -> str:
    return base64.b64encode(numbers.tobytes()).decode()


def _damaged(data: dict[str, Any], how: str) -> bytes:
    data = {**data}
    guids = data["guids"].split("\n")
    if how == "not JSON":
        return b'{"format": "memo2anki ledger index", '
    if how == "another ledger's":
        data["ledger"] = "0" * 64
    elif how == "a column short":
        data["guids"] = "\n".join(guids[:-1])
    elif how == "a row more than the file holds":
        data["keys"] += "\n" + data["keys"].split("\n")[0]
        data["guids"] += "\n" + guids[0]
        for column in ("stamps", "deck", "lengths", "field_lengths"):
            numbers = _numbers(data[column])
            data[column] = _text(numbers + numbers[:1])
    elif how == "stamps not in base64":
        data["stamps"] = "not base64!"
    elif how == "a deck that is not there":
        deck = _numbers(data["deck"])
        deck[0] = len(data["decks"])
        data["deck"] = _text(deck)
    elif how == "a GUID twice":
        data["guids"] = "\n".join([guids[1], *guids[1:]])
    elif how == "another version":
        data["version"] = 99
    elif how == "rows ending past the file":
        lengths = _numbers(data["lengths"])
        lengths[-1] += 1
        data["lengths"] = _text(lengths)
    elif how == "from a machine of the other byte order":
        data["byteorder"] = "big" if sys.byteorder == "little" else "little"
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    "how",
    [
        "not JSON",
        "another ledger's",
        "a column short",
        "a row more than the file holds",
        "stamps not in base64",
        "a deck that is not there",
        "a GUID twice",
        "another version",
        "rows ending past the file",
        "from a machine of the other byte order",
    ],
)
def test_what_was_remembered_of_a_ledger_is_not_used_when_damaged(
    vault: Path, tmp_path: Path, how: str
) -> None:
    """The ledger is then parsed whole, as on a machine that never saw it: the same cards,
    no warning, and the run remembers it anew."""
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    index = _remembered(tmp_path, vault)
    index.write_bytes(_damaged(json.loads(index.read_bytes()), how))
    loaded, problems = ledger_file.load(vault, "vault", tmp_path / "memo2anki-cache")
    whole, _ = ledger_file.load(vault, "vault")
    assert problems == [] and loaded.source is not None and loaded.source.parsed == 4
    assert loaded.cards == whole.cards
    again = ledger_index.recall(tmp_path / "memo2anki-cache", whole.read_digest or "")
    assert again is not None and whole.source is not None and whole.source.body is not None
    assert again.light() == whole.source.light and again.lengths == whole.source.body.lengths
    result = run(vault, "-o", out)
    assert result.exit_code == 0 and result.stderr.endswith(f"; 4 unchanged; wrote {out}\n")


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


def test_the_ledgers_least_recently_used_are_forgotten(tmp_path: Path) -> None:
    light = ledger_index.Columns(
        "k",
        "g",
        array("q", [1]),
        array("q", [0]),
        ("d",),
        frozenset(),
        array("q", [5]),
        None,
    )
    digests = [f"{n:064x}" for n in range(ledger_index.KEEP + 2)]
    for n, digest in enumerate(digests):
        ledger_index.remember(tmp_path, digest, light)
        os.utime(tmp_path / ledger_index.FOLDER / f"{digest}.json", (n, n))
    assert ledger_index.recall(tmp_path, digests[0]) is None  # forgotten
    assert ledger_index.recall(tmp_path, digests[2]) == light  # (used now: kept longest)
    ledger_index.remember(tmp_path, "f" * 64, light)
    kept = {p.stem for p in (tmp_path / ledger_index.FOLDER).iterdir()}
    assert len(kept) == ledger_index.KEEP and {digests[2], "f" * 64} <= kept
    assert digests[3] not in kept


def test_no_cache_remembers_nothing_of_the_ledger(vault: Path, tmp_path: Path) -> None:
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out, "--no-cache").exit_code == 0
    (vault / "daily/2025-04-03.md").unlink()
    result = run(vault, "-o", out, "--no-cache")
    assert result.exit_code == 0 and "; 1 gone, 3 unchanged; wrote" in result.stderr
    assert not (tmp_path / "memo2anki-cache" / ledger_index.FOLDER).exists()
