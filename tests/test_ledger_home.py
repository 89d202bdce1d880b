"""Where the ledger lives: found like .git (the nearest .memo2anki/ at or above the notes, and
above --vault), made only when there is none, at the vault root, never in a folder of
pictures nor under a garden's src/site/; and whatever went out wrong, the next run puts
right in Anki."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import Anki, png, run

from memo2anki.changes import ledger as ledger_file

ETCD = "**etcd**\n쿠버네티스의 클러스터 상태를 저장하는 분산 키값 저장소\n![[etcd.png]]"
CNI = "**CNI**\n컨테이너 네트워크 인터페이스 표준 플러그인 규격과 그 구현들"


def note(*cards: str, subject: str = "CKA") -> str:
    return f"# 공부 메모장\n## {subject}\n" + "\n\n".join(cards) + "\n"


def lay_out(root: Path, files: dict[str, str | bytes]) -> Path:
    """Files under ``root``, with no ``.obsidian/`` (the vault root is then guessed)."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def ledgers(root: Path) -> list[str]:
    """Every ledger folder under ``root``, relative to it."""
    found = [Path(d).relative_to(root).as_posix() for d, _, _ in os.walk(root)]
    return sorted(d for d in found if d == ".memo2anki" or d.endswith("/.memo2anki"))


def counts(output: str) -> dict[str, int]:
    data = json.loads(output[output.index("{") : output.rindex("}") + 1])
    return {k: v for k, v in data["changes"]["counts"].items() if v}


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    """A folder of notes with no .obsidian/: daily notes, and their pictures in img/."""
    return lay_out(
        tmp_path / "notes",
        {
            "daily/2025-04-01.md": note(ETCD, CNI),
            "img/etcd.png": png(seed=1),
        },
    )


def test_a_first_run_makes_one_at_the_guessed_root_and_says_where(
    notes: Path, tmp_path: Path
) -> None:
    result = run(notes, "-o", tmp_path / "a.apkg", "--no-cache")
    assert result.exit_code == 0, result.output
    assert ledgers(notes) == [".memo2anki"]
    assert f"new ledger in {notes / '.memo2anki'}" in result.output
    # The next run finds it, and says nothing more about it.
    again = run(notes, "-o", tmp_path / "a.apkg", "--no-cache")
    assert "new ledger" not in again.output and "2 unchanged" in again.output


@pytest.mark.parametrize(
    "how",
    ["a subfolder", "another --vault", "a picture folder as --vault", "another working folder"],
)
def test_every_later_run_uses_the_one_ledger(
    notes: Path, tmp_path: Path, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(notes, "-o", tmp_path / "a.apkg", "--no-cache").exit_code == 0
    before = (notes / ".memo2anki" / "ledger.json").read_bytes()
    args: list[str | Path] = {
        "a subfolder": [notes / "daily"],
        "another --vault": [notes / "daily", "--vault", notes / "daily"],
        "a picture folder as --vault": [notes / "daily", "--vault", notes / "img"],
        "another working folder": [notes],
    }[how]
    if how == "another working folder":
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
    result = run(*args, "--dry-run", "--json", "--no-cache")
    assert result.exit_code == 0, result.output
    assert ledgers(tmp_path) == ["notes/.memo2anki"]
    changes = counts(result.output)
    # Never "new": the cards are the ledger's (with another vault root, their links and
    # paths change, so they are updated; the picture may not be found from there).
    assert "new" not in changes and changes.get("gone", 0) == 0, changes
    # A real run with that root writes the same one ledger, and the next run from the
    # first root finds its cards as they were.
    assert run(*[a for a in args], "-o", tmp_path / "b.apkg", "--no-cache").exit_code == 0
    assert ledgers(tmp_path) == ["notes/.memo2anki"]
    back = run(notes, "--dry-run", "--json", "--no-cache")
    assert "new" not in counts(back.output) and "gone" not in counts(back.output)
    if how == "another working folder":
        assert (notes / ".memo2anki" / "ledger.json").read_bytes() == before


def _conflict(text: bytes) -> bytes:
    """The ledger as a pull leaves it when both machines exported: git's markers around the
    header lines of both sides (a header's digests differ)."""
    head, rest = text.split(b"\n", 1)
    other = head.replace(b'"rows": "', b'"rows": "0')
    return b"\n".join([b"<<<<<<< HEAD", head, b"=======", other, b">>>>>>> origin/main", rest])


@pytest.mark.parametrize(
    "saved",
    [lambda text: b"\xef\xbb\xbf" + text, _conflict],
    ids=["with a BOM", "with git's conflict markers"],
)
def test_a_ledger_saved_otherwise_still_names_the_vault_root(
    notes: Path, tmp_path: Path, saved: Callable[[bytes], bytes]
) -> None:
    """A run on a subfolder of a folder with no .obsidian/ takes the vault root the ledger
    was written against, also when an editor saved the ledger with a BOM or git left its
    conflict markers before its header."""
    assert run(notes, "-o", tmp_path / "a.apkg", "--no-cache").exit_code == 0
    path = notes / ".memo2anki" / "ledger.json"
    path.write_bytes(saved(path.read_bytes()))
    result = run(notes / "daily", "--dry-run", "--json", "--no-cache")
    assert result.exit_code == 0, result.output
    assert counts(result.output) == {"unchanged": 2}


def test_never_in_a_picture_folder_given_as_the_vault(notes: Path, tmp_path: Path) -> None:
    result = run(notes / "daily", "--vault", notes / "img", "-o", tmp_path / "a.apkg")
    assert result.exit_code == 0, result.output
    assert ledgers(notes) == [".memo2anki"]  # the folder holding the notes and the pictures


def test_never_under_a_gardens_site_folder(tmp_path: Path) -> None:
    garden = lay_out(
        tmp_path / "garden",
        {
            "src/site/notes/daily/2025-04-01.md": note(ETCD, CNI),
            "src/site/img/user/etcd.png": png(seed=2),
            "src/site/notes/.gitkeep": "",
            "plugin-info.json": '{"filesToDelete": [], "filesToAdd": [], "filesToModify": []}',
        },
    )
    for vault in (garden / "src/site/img/user", garden / "src/site/img", garden / "src/site"):
        shutil.rmtree(garden / ".memo2anki", ignore_errors=True)
        result = run(garden / "src/site/notes", "--vault", vault, "-o", tmp_path / "g.apkg")
        assert result.exit_code == 0, result.output
        assert ledgers(garden) == [".memo2anki"], vault
    # And run on the notes alone (the root guessed as src/site/notes): the garden's root.
    shutil.rmtree(garden / ".memo2anki")
    assert run(garden / "src/site/notes", "-o", tmp_path / "g.apkg").exit_code == 0
    assert ledgers(garden) == [".memo2anki"]


def test_a_ledger_above_a_vault_is_not_its_ledger(tmp_path: Path) -> None:
    stray = lay_out(tmp_path / "home", {"x/2025-04-02.md": note(CNI)})
    assert run(stray / "x", "--vault", stray, "-o", tmp_path / "x.apkg").exit_code == 0
    assert ledgers(stray) == [".memo2anki"]
    vault = lay_out(stray / "vault", {"daily/2025-04-01.md": note(ETCD), "etcd.png": png()})
    (vault / ".obsidian").mkdir()
    assert run(vault / "daily", "-o", tmp_path / "v.apkg").exit_code == 0
    assert ledgers(stray) == [".memo2anki", "vault/.memo2anki"]


def test_another_vaults_ledger_found_above_is_not_used(notes: Path, tmp_path: Path) -> None:
    other = lay_out(tmp_path / "other", {"daily/2025-04-01.md": note(ETCD, CNI)})
    assert run(other, "-o", tmp_path / "o.apkg").exit_code == 0
    shutil.copytree(other / ".memo2anki", notes / ".memo2anki")
    result = run(notes / "daily", "--dry-run", "--json", "--no-cache")
    assert "written for vault 'other', not 'notes'" in result.output
    assert counts(result.output) == {"new": 2}


def test_a_missing_ledger_is_a_first_run(notes: Path, tmp_path: Path) -> None:
    assert ledger_file.find_home([notes / "daily", notes]) is None
    result = run(notes, "--dry-run", "--json")
    assert counts(result.output) == {"new": 2} and ledgers(notes) == []  # a dry run writes none


def test_found_above_the_notes(notes: Path) -> None:
    (notes / ".memo2anki").mkdir()
    assert ledger_file.find_home([notes / "daily" / "2025-04-01.md"]) == notes.resolve()
    assert ledger_file.find_home([notes / "img"]) == notes.resolve()


# -- what went out wrong is put right ---------------------------------------------------------


def test_a_lost_ledger_rebuilt_package_updates_the_notes_anki_has(
    notes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A card with no ledger row is stamped newer than any note Anki holds for it, so the
    import updates it ("if newer"), whatever the files' times say."""
    clock = [1_750_000_000]
    monkeypatch.setattr("memo2anki.targets.build.time.time", lambda: clock[0])
    anki = Anki(tmp_path / "profile")
    # A first package without the picture (the wrong root), imported.
    first = run(notes / "daily", "--vault", notes / "daily", "-o", tmp_path / "a.apkg")
    assert first.exit_code == 0
    anki.import_package(tmp_path / "a.apkg")
    (etcd,) = [n for n in anki.notes() if n.fields["Front"] == "etcd"]
    assert "missing" in etcd.fields["Back"]
    # The ledger is lost; the files are older than the notes Anki has.
    (lost,) = ledgers(notes)
    shutil.rmtree(notes / lost)
    os.utime(notes / "daily" / "2025-04-01.md", (1_600_000_000, 1_600_000_000))
    clock[0] += 86_400
    assert run(notes, "-o", tmp_path / "b.apkg").exit_code == 0
    log = anki.import_package(tmp_path / "b.apkg")
    assert len(log.updated) == 2 and not log.new
    (etcd,) = [n for n in anki.notes() if n.fields["Front"] == "etcd"]
    assert "missing" not in etcd.fields["Back"] and "<img" in etcd.fields["Back"]
    anki.close()


def test_the_newcomers_month(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong root, then the right root: the import and the sync both put the pictures into
    the cards already in Anki (no duplicates), and the vault holds one ledger."""
    from anki.collection import Collection

    from memo2anki.changes.notes import MODEL_ID

    clock = [1_750_000_000]
    monkeypatch.setattr("memo2anki.targets.build.time.time", lambda: clock[0])
    monkeypatch.setattr("memo2anki.targets.sync.time.time", lambda: clock[0])
    vault = lay_out(
        tmp_path / "vault",
        {
            "daily/2025-04-01.md": note(ETCD, CNI),
            "attachments/etcd.png": png(seed=4),
        },
    )
    imported = Anki(tmp_path / "imported")  # fed by File > Import
    Anki(tmp_path / "synced").close()  # fed by memo2anki sync
    synced = tmp_path / "synced" / "collection.anki2"

    def backs(col: Collection) -> dict[str, str]:
        return {
            col.get_note(nid)["Front"]: col.get_note(nid)["Back"]
            for nid in col.find_notes(f"mid:{MODEL_ID}")
        }

    # Week 1: run on the daily folder; the root is guessed as that folder, the picture is
    # not found; the summary says where the new ledger is.
    week1 = run(vault / "daily", "-o", tmp_path / "w1.apkg")
    assert week1.exit_code == 0 and "image not found" in week1.output
    assert f"new ledger in {vault / 'daily' / '.memo2anki'}" in week1.output
    imported.import_package(tmp_path / "w1.apkg")
    assert run("sync", vault / "daily", "--collection", synced).exit_code == 0
    assert "missing" in backs(imported.col)["etcd"]

    # Week 2: the right root; the ledger of week 1 is found, not a new one made.
    clock[0] += 7 * 86_400
    week2 = run(vault / "daily", "--vault", vault, "-o", tmp_path / "w2.apkg", "--json")
    assert week2.exit_code == 0, week2.output
    assert "new ledger" not in week2.output and "new" not in counts(week2.output)
    log = imported.import_package(tmp_path / "w2.apkg")
    assert not log.new and len(log.updated) == 2
    sync2 = run("sync", vault / "daily", "--vault", vault, "--collection", synced)
    assert sync2.exit_code == 0, sync2.output
    # (The ledger says "unchanged": the package of this week was written from it; the
    # collection's notes are older than that, so they are written all the same.)
    assert "2 notes updated" in sync2.output and "note added" not in sync2.output
    with_anki = Collection(str(synced))
    try:
        for col in (imported.col, with_anki):
            shown = backs(col)
            assert set(shown) == {"etcd", "CNI"}
            assert "<img" in shown["etcd"] and "missing" not in shown["etcd"]
            (picture,) = Anki.media_in(imported, shown["etcd"])
            assert (Path(col.media.dir()) / picture).is_file()
    finally:
        with_anki.close()
        imported.close()
    assert ledgers(vault) == ["daily/.memo2anki"]
    # Week 3: on the daily folder again, no --vault: the root the ledger was last written
    # against is used (the picture found, nothing changed), not the folder guessed.
    clock[0] += 7 * 86_400
    week3 = run(vault / "daily", "--dry-run", "--json")
    assert week3.exit_code == 0 and counts(week3.output) == {"unchanged": 2}, week3.output
    assert "image not found" not in week3.output


# -- a run with a subfolder as the vault root -------------------------------------------------

POD = "**Pod**\n가장 작은 배포 단위인 컨테이너 묶음"
SERVICE = "**Service**\n파드 묶음에 고정된 주소와 이름을 주는 오브젝트"


def two_folders(root: Path) -> Path:
    """A vault (with .obsidian/) of notes in two folders, a/ and b/."""
    vault = lay_out(
        root,
        {
            "a/2025-04-01.md": note(ETCD, CNI),
            "b/2025-04-02.md": note(POD, SERVICE),
            "etcd.png": png(seed=5),
        },
    )
    (vault / ".obsidian").mkdir()
    return vault


def kinds_by_front(output: str) -> dict[str, str]:
    data = json.loads(output[output.index("{") : output.rindex("}") + 1])
    return {c["now"]["front"]: c["kind"] for c in data["changes"]["list"] if c["now"]}


def rows_by_front(vault: Path) -> dict[str, ledger_file.LedgerCard]:
    ledger, _ = ledger_file.load(vault, vault.name)
    return {card.front: card for card in ledger.cards}


def test_cards_a_subfolder_run_could_not_reach_keep_their_time_and_anki_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run with a subfolder as the vault root (its links name that folder) reaches only
    that folder's cards: the next run on the whole vault puts back the links of those, and
    leaves the others as Anki has them (their links already name the vault): not updated,
    their time kept, so an edit made to one in Anki survives the import."""
    import time

    real = int(time.time())  # (Anki's edits are stamped by its own clock)
    clock = [real - 2000]
    monkeypatch.setattr("memo2anki.targets.build.time.time", lambda: clock[0])
    vault = two_folders(tmp_path / "V")
    anki = Anki(tmp_path / "profile")
    try:
        assert run(vault, "-o", tmp_path / "d1.apkg", "--no-cache").exit_code == 0
        anki.import_package(tmp_path / "d1.apkg")
        clock[0] += 1000
        sub = run(vault / "a", "--vault", vault / "a", "-o", tmp_path / "d2.apkg", "--json")
        assert sub.exit_code == 0, sub.output
        assert kinds_by_front(sub.output) == {"etcd": "updated", "CNI": "updated"}
        anki.import_package(tmp_path / "d2.apkg")
        links = {n.fields["Front"]: n.fields["Link"] for n in anki.notes()}
        assert "vault=a&" in links["etcd"] and "vault=V&" in links["Pod"]
        before = rows_by_front(vault)
        # The person edits a card of b/ in Anki (now: later than any time memo2anki wrote).
        nid = anki.col.find_notes('"Front:Pod"')[0]
        edited = anki.col.get_note(nid)
        edited["Back"] = "내가 Anki에서 고친 답"
        anki.col.update_note(edited)
        # The whole vault again, later still.
        clock[0] = real + 3600
        again = run(vault, "-o", tmp_path / "d3.apkg", "--json")
        assert again.exit_code == 0, again.output
        assert kinds_by_front(again.output) == {
            "etcd": "updated",
            "CNI": "updated",
            "Pod": "unchanged",
            "Service": "unchanged",
        }
        after = rows_by_front(vault)
        assert [after[f].stamp for f in ("Pod", "Service")] == [
            before[f].stamp for f in ("Pod", "Service")
        ]
        assert after["etcd"].stamp > before["etcd"].stamp
        anki.import_package(tmp_path / "d3.apkg")
        held = {n.fields["Front"]: n.fields for n in anki.notes()}
        assert held["Pod"]["Back"] == "내가 Anki에서 고친 답"
        assert all("vault=V&" in fields["Link"] for fields in held.values()), held
        assert "file=a%2F2025-04-01" in held["etcd"]["Link"]
        # And once more: nothing changed.
        last = run(vault, "--dry-run", "--json")
        assert counts(last.output) == {"unchanged": 4}, last.output
    finally:
        anki.close()


def subfolder_run(tmp_path: Path) -> Path:
    """The vault of two folders, built whole, then with a/ as the vault root."""
    vault = two_folders(tmp_path / "V")
    assert run(vault, "-o", tmp_path / "d1.apkg").exit_code == 0
    assert run(vault / "a", "--vault", vault / "a", "-o", tmp_path / "d2.apkg").exit_code == 0
    return vault


def header(vault: Path) -> dict[str, object]:
    first = (vault / ".memo2anki" / "ledger.json").read_text(encoding="utf-8").split("\n")[0]
    head: dict[str, object] = json.loads(first + "]}")
    return head


def test_each_card_is_compared_with_the_links_it_was_last_written_with(tmp_path: Path) -> None:
    vault = subfolder_run(tmp_path)
    guids = {front: card.guid for front, card in rows_by_front(vault).items()}
    # The header names 'a' and its root; the cards of b/ are said to name 'V' still.
    assert (header(vault)["vault"], header(vault)["root"]) == ("a", "a")
    b_links = {"vault": "V", "root": "", "links": "", "guids": [guids["Pod"], guids["Service"]]}
    assert header(vault)["other_links"] == [b_links]
    # b/ with the whole vault as its root: its cards' links are as they were; a/'s, out of
    # its reach, still name 'a'.
    b = run(vault / "b", "--vault", vault, "-o", tmp_path / "d3.apkg", "--json")
    assert kinds_by_front(b.output) == {"Pod": "unchanged", "Service": "unchanged"}
    a_links = {"vault": "a", "root": "a", "links": "", "guids": [guids["etcd"], guids["CNI"]]}
    assert header(vault)["other_links"] == [a_links]
    # The whole vault (b/'s rows matched by their keys, a/'s column by column).
    whole = run(vault, "-o", tmp_path / "d4.apkg", "--json")
    assert kinds_by_front(whole.output) == {
        "etcd": "updated",
        "CNI": "updated",
        "Pod": "unchanged",
        "Service": "unchanged",
    }
    assert "other_links" not in header(vault)
    assert counts(run(vault, "--dry-run", "--json").output) == {"unchanged": 4}


def test_the_cards_a_subfolder_run_could_not_reach_name_a_vault_renamed_since(
    tmp_path: Path,
) -> None:
    vault = subfolder_run(tmp_path).rename(tmp_path / "W")
    result = run(vault, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert counts(result.output) == {"updated": 4}  # b/'s links name 'V', a/'s 'a': now 'W'


def test_other_links_edited_by_hand_write_every_link_again(tmp_path: Path) -> None:
    vault = subfolder_run(tmp_path)
    path = vault / ".memo2anki" / "ledger.json"
    first, rest = path.read_text(encoding="utf-8").split("\n", 1)
    head = json.loads(first + "]}")
    head["other_links"] = [{"vault": "V", "guids": "not a list"}]
    path.write_text(json.dumps(head)[: -len("]}")] + "\n" + rest, encoding="utf-8")
    result = run(vault, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert counts(result.output) == {"updated": 4}
