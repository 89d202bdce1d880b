"""`memo2anki sync` the collection way, against real collections made with Anki's library:
each kind of change as a person's Anki sees it afterwards, and the collection never harmed."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from helpers import PICTURE_GONE, REPO, Anki, memo2anki_notes, png, run, write_vault
from sandbox import run_cli

from memo2anki.changes.notes import CLOZE_MODEL_ID, MODEL_ID
from memo2anki.changes.plan import GONE_TAG, KEPT_SUSPENDED, kept_suspended_tag
from memo2anki.cli import sync as cli_sync

DOCKER = "**Docker Network**\nNone 설정하면 컨테이너 외부와 통신 불가능\nHost: 호스트 네트워크 사용"
CNI = "**CNI**\n컨테이너 네트워크 인터페이스 표준 플러그인 규격과 그 구현들"
ETCD = "**etcd**\n쿠버네티스의 모든 클러스터 상태를 저장하는 분산 키값 저장소\n![[etcd.png]]"


def note(*cards: str, subject: str = "CKA") -> str:
    body = "\n\n".join(cards)
    return f"# 공부 메모장\n## {subject}\n{body}\n"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "vault",
        {
            "daily/2025-04-01.md": note(DOCKER, CNI),
            "daily/2025-04-02.md": note(ETCD),
            "etcd.png": png(seed=3),
        },
    )


@pytest.fixture
def col_path(tmp_path: Path) -> Path:
    """A person's collection, with one note of their own (a Basic note memo2anki never
    touches)."""
    anki = Anki(tmp_path / "profile")
    basic = anki.col.models.by_name("Basic")
    own = anki.col.new_note(basic)
    own["Front"], own["Back"] = "my own card", "kept as it is"
    anki.col.add_note(own, anki.col.decks.id("Default"))
    options = anki.col.decks.config_dict_for_deck_id(1)
    options["new"]["perDay"] = 7  # the person's own deck options
    anki.col.decks.update_config(options)
    anki.close()
    return tmp_path / "profile" / "collection.anki2"


def sync(vault: Path, col_path: Path, *args: str) -> tuple[int, str]:
    result = run("sync", vault, "--collection", col_path, "--no-cache", *args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


class Opened:
    """The collection opened for a look, closed again so the next sync can open it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Anki:
        self.anki = Anki.__new__(Anki)
        self.anki.col = Collection(str(self.path))
        return self.anki

    def __exit__(self, *exc: object) -> None:
        self.anki.close()


def memo_notes(path: Path) -> dict[str, dict[str, object]]:
    """memo2anki's notes by front: id, guid, deck, tags, suspended, back, reviews."""
    with Opened(path) as anki:
        return memo2anki_notes(anki.col)


def test_first_sync_adds_every_card_with_its_media_note_type_and_a_backup(
    vault: Path, col_path: Path
) -> None:
    code, output = sync(vault, col_path)
    assert code == 0, output
    assert "3 new; synced" in output
    assert "3 notes added" in output and "1 image added" in output
    # The last line, on a line of its own: what to do next.
    assert output.splitlines()[-1] == (
        "memo2anki: next: open Anki and sync it to send the changes to AnkiWeb and your phone"
    )
    notes = memo_notes(col_path)
    assert set(notes) == {"Docker Network", "CNI", "etcd"}
    assert {n["deck"] for n in notes.values()} == {"공부 메모장::CKA"}
    with Opened(col_path) as anki:
        assert anki.col.models.get(MODEL_ID)["name"] == "memo2anki"
        (image,) = anki.media_in(str(notes["etcd"]["back"]))
        assert image in anki.media_files()
        assert anki.col.note_count() == 4  # the person's own note, and the three
        assert anki.col.decks.config_dict_for_deck_id(1)["new"]["perDay"] == 7
        assert set(anki.col.decks.all_names()) == {"Default", "공부 메모장", "공부 메모장::CKA"}
    backups = list((col_path.parent / "backups").glob("*.colpkg"))
    assert len(backups) == 1 and f"backup: {backups[0]}" in output
    assert (vault / ".memo2anki" / "ledger.json").is_file()


def test_an_unchanged_vault_changes_nothing_not_even_the_file(vault: Path, col_path: Path) -> None:
    sync(vault, col_path)
    before = hashlib.sha256(col_path.read_bytes()).hexdigest()
    code, output = sync(vault, col_path)
    assert code == 0 and "3 unchanged; synced" in output
    assert "already matches the memos; nothing changed" in output
    assert hashlib.sha256(col_path.read_bytes()).hexdigest() == before


def test_an_edited_back_updates_the_same_note_and_keeps_its_history(
    vault: Path, col_path: Path
) -> None:
    sync(vault, col_path)
    with Opened(col_path) as anki:
        assert anki.answer_all("공부 메모장::CKA") == 3
    before = memo_notes(col_path)
    daily = vault / "daily/2025-04-01.md"
    daily.write_text(daily.read_text().replace("통신 불가능", "통신이 전혀 안 됨"))
    code, output = sync(vault, col_path)
    assert code == 0 and "1 updated, 2 unchanged" in output and "1 note updated" in output
    after = memo_notes(col_path)
    assert after["Docker Network"]["id"] == before["Docker Network"]["id"]
    assert "통신이 전혀 안 됨" in str(after["Docker Network"]["back"])
    assert after["Docker Network"]["reps"] == 1  # its review history


def test_an_edit_made_in_anki_survives_until_the_memo_changes(vault: Path, col_path: Path) -> None:
    sync(vault, col_path)
    with Opened(col_path) as anki:
        nid = anki.col.find_notes('"Front:CNI"')[0]
        n = anki.col.get_note(nid)
        n["Back"] = "fixed on my phone"
        anki.col.update_note(n)
    daily = vault / "daily/2025-04-01.md"
    daily.write_text(daily.read_text())  # saved again, unchanged
    sync(vault, col_path)
    assert memo_notes(col_path)["CNI"]["back"] == "fixed on my phone"
    daily.write_text(daily.read_text().replace("표준", "표준인"))
    sync(vault, col_path)
    assert "표준인" in str(memo_notes(col_path)["CNI"]["back"])


def test_anki_s_own_tags_survive_a_memo_edited(vault: Path, col_path: Path) -> None:
    """Mark Note (the tag ``marked``) and Anki's ``leech`` stay on a note written again for
    its edited memo (they were dropped with the memo's tags), and a sync after that changes
    nothing; a tag of the person's own goes, as documented (the memo's tags are written)."""
    sync(vault, col_path)
    with Opened(col_path) as anki:
        n = anki.col.get_note(anki.col.find_notes('"Front:CNI"')[0])
        n.tags += ["marked", "leech", "mine"]
        anki.col.update_note(n)
    daily = vault / "daily/2025-04-01.md"
    daily.write_text(daily.read_text().replace("표준", "표준인"))
    code, output = sync(vault, col_path)
    assert code == 0 and "1 updated" in output, output
    with Opened(col_path) as anki:
        n = anki.col.get_note(anki.col.find_notes('"Front:CNI"')[0])
        assert "표준인" in n["Back"]
        assert {"marked", "leech"} <= set(n.tags) and "mine" not in n.tags
    code, output = sync(vault, col_path)
    assert code == 0 and "nothing changed" in output, output


def test_an_edit_made_in_anki_survives_a_new_top_deck_until_the_memo_changes(
    vault: Path, col_path: Path
) -> None:
    """A new --deck moves every card and changes no field: the Back and the tag the person
    gave a card in Anki stay. A change of its memo writes it (a subject changed: its Subject
    field too); so does a vault folder renamed (its Link changes: the note is written whole)."""
    sync(vault, col_path)
    with Opened(col_path) as anki:
        n = anki.col.get_note(anki.col.find_notes('"Front:CNI"')[0])
        n["Back"] = "fixed on my phone"
        n.tags.append("mine")
        anki.col.update_note(n)
    code, output = sync(vault, col_path, "--deck", "CKA Deck")
    assert code == 0 and "3 moved" in output and "3 cards moved" in output, output
    assert "updated" not in output, output
    notes = memo_notes(col_path)
    assert notes["CNI"]["back"] == "fixed on my phone"
    assert "mine" in notes["CNI"]["tags"]  # type: ignore[operator]
    assert {n["deck"] for n in notes.values()} == {"CKA Deck::CKA"}
    # Its memo moved to another subject: written (Subject, Back and tags as the memo has them).
    day = vault / "daily/2025-04-01.md"
    day.write_text(note(DOCKER) + "## 네트워크\n" + CNI + "\n", encoding="utf-8")
    code, output = sync(vault, col_path, "--deck", "CKA Deck")
    assert code == 0 and "1 card moved" in output and "1 note updated" in output, output
    with Opened(col_path) as anki:
        n = anki.col.get_note(anki.col.find_notes('"Front:CNI"')[0])
        assert n["Subject"] == "네트워크" and "표준 플러그인" in n["Back"] and "mine" not in n.tags
        n["Back"] = "fixed on my phone again"
        anki.col.update_note(n)
    # The vault's folder renamed: every Link is written again, that note's whole.
    renamed = vault.rename(vault.with_name("notes"))
    code, output = sync(renamed, col_path, "--deck", "CKA Deck")
    assert code == 0 and "3 notes updated" in output, output
    with Opened(col_path) as anki:
        links = {n.fields["Link"] for n in anki.notes() if n.note_type == "memo2anki"}
    assert len(links) == 2 and all("vault=notes" in link for link in links)


def test_a_renamed_heading_keeps_its_note(vault: Path, col_path: Path) -> None:
    sync(vault, col_path)
    before = memo_notes(col_path)["CNI"]
    daily = vault / "daily/2025-04-01.md"
    daily.write_text(daily.read_text().replace("**CNI**", "**CNI (Container Network Interface)**"))
    code, output = sync(vault, col_path)
    assert code == 0 and "1 renamed" in output
    after = memo_notes(col_path)
    assert "CNI" not in after
    assert after["CNI (Container Network Interface)"]["id"] == before["id"]


def test_a_moved_note_adds_no_note(vault: Path, col_path: Path) -> None:
    sync(vault, col_path)
    before = memo_notes(col_path)
    (vault / "2025/04").mkdir(parents=True)
    (vault / "daily/2025-04-02.md").rename(vault / "2025/04/2025-04-02.md")
    code, output = sync(vault, col_path)
    assert code == 0, output
    after = memo_notes(col_path)
    assert {k: v["id"] for k, v in after.items()} == {k: v["id"] for k, v in before.items()}


def test_a_card_whose_subject_changed_moves_to_its_new_deck(vault: Path, col_path: Path) -> None:
    sync(vault, col_path)
    (vault / "daily/2025-04-02.md").write_text(note(ETCD, subject="Kubernetes"))
    code, output = sync(vault, col_path)
    assert code == 0 and "1 moved" in output and "1 card moved" in output
    assert memo_notes(col_path)["etcd"]["deck"] == "공부 메모장::Kubernetes"


NEW_IN_OTHER = note("**Flannel**\n오버레이 네트워크", subject="Other")


@pytest.mark.parametrize(
    ("filtered", "change"),
    [
        ("공부 메모장::Other", "new"),
        ("공부 메모장::Other", "moved"),
        ("공부 메모장::other", "new"),  # (Anki's deck names know no case)
    ],
)
def test_a_subject_deck_that_is_a_filtered_deck_of_yours_is_named_and_nothing_synced(
    vault: Path, col_path: Path, filtered: str, change: str
) -> None:
    sync(vault, col_path)
    with Opened(col_path) as anki:
        anki.col.decks.new_filtered(filtered)
    if change == "new":
        (vault / "daily/2025-04-03.md").write_text(NEW_IN_OTHER)
    else:
        (vault / "daily/2025-04-02.md").write_text(note(ETCD, subject="Other"))
    ledger = (vault / ".memo2anki" / "ledger.json").read_bytes()
    before = col_path.read_bytes()
    backups = sorted(os.listdir(col_path.parent / "backups"))
    for _again in range(2):
        code, output = sync(vault, col_path)
        assert code == 1
        assert output.splitlines()[-1] == (
            f"memo2anki: error: '{filtered}' is a filtered deck of yours: memo2anki cannot put "
            "cards in it; nothing changed (rename or delete that filtered deck in Anki, or "
            "change the subject or --deck)"
        )
        assert col_path.read_bytes() == before
        assert sorted(os.listdir(col_path.parent / "backups")) == backups
        assert (vault / ".memo2anki" / "ledger.json").read_bytes() == ledger
    with Opened(col_path) as anki:  # as the line says: renamed, the deck is free again
        deck = anki.col.decks.by_name(filtered)
        deck["name"] = "Exam"
        anki.col.decks.save(deck)
    code, output = sync(vault, col_path)
    assert code == 0, output
    front = "Flannel" if change == "new" else "etcd"
    assert memo_notes(col_path)[front]["deck"] == "공부 메모장::Other"


def test_a_card_moved_by_hand_is_left_where_the_person_put_it(vault: Path, col_path: Path) -> None:
    sync(vault, col_path)
    with Opened(col_path) as anki:
        nid = anki.col.find_notes('"Front:etcd"')[0]
        anki.col.set_deck(anki.col.get_note(nid).card_ids(), anki.col.decks.id("My own deck"))
    (vault / "daily/2025-04-02.md").write_text(note(ETCD, subject="Kubernetes"))
    code, output = sync(vault, col_path)
    assert code == 0
    assert "daily/2025-04-02.md:3: 'etcd' stays in deck 'My own deck', where it was moved by " in (
        output
    )
    assert memo_notes(col_path)["etcd"]["deck"] == "My own deck"


def test_gone_cards_are_tagged_and_suspended_and_come_back(vault: Path, col_path: Path) -> None:
    sync(vault, col_path)
    daily = vault / "daily/2025-04-02.md"
    kept = daily.read_text()
    daily.unlink()
    code, output = sync(vault, col_path)
    assert code == 0 and "1 gone" in output and "1 card suspended" in output
    gone = memo_notes(col_path)["etcd"]
    assert GONE_TAG in gone["tags"] and gone["suspended"]
    daily.write_text(kept)
    code, output = sync(vault, col_path)
    assert code == 0 and "1 returned" in output and "1 card unsuspended" in output
    back = memo_notes(col_path)["etcd"]
    assert GONE_TAG not in back["tags"] and not back["suspended"]
    assert back["id"] == gone["id"]


KUBELET = "**kubelet**\n각 노드에서 파드를 실행하는 에이전트"


def _card_ids(path: Path, front: str) -> list[int]:
    with Opened(path) as anki:
        return [int(c) for c in anki.col.find_cards(f'"Front:{front}"')]


def _suspend(path: Path, front: str, suspend: bool = True) -> None:
    """What the person does in Anki's browser: (un)suspend the card of ``front``."""
    with Opened(path) as anki:
        cards = anki.col.find_cards(f'"Front:{front}"')
        if suspend:
            anki.col.sched.suspend_cards(cards)
        else:
            anki.col.sched.unsuspend_cards(cards)


def test_a_card_the_person_suspended_stays_suspended_when_its_memo_returns(
    vault: Path, col_path: Path
) -> None:
    """Only what sync suspended when it retired a card is unsuspended when its memo returns:
    the person's own suspension is theirs, and so is an unsuspension made while it was gone."""
    (vault / "daily/2025-04-03.md").write_text(note(KUBELET))
    days = {d: (vault / f"daily/2025-04-0{d}.md").read_text() for d in (1, 2, 3)}
    assert sync(vault, col_path, "--no-backup")[0] == 0
    _suspend(col_path, "etcd")  # the person's own
    (vault / "daily/2025-04-01.md").write_text(note(DOCKER))  # CNI gone
    (vault / "daily/2025-04-02.md").unlink()
    (vault / "daily/2025-04-03.md").unlink()
    code, output = sync(vault, col_path, "--no-backup")
    assert code == 0 and "3 gone" in output and "2 cards suspended" in output, output
    gone = memo_notes(col_path)
    (etcd_card,) = _card_ids(col_path, "etcd")
    assert gone["etcd"]["tags"] == sorted(["CKA", GONE_TAG, kept_suspended_tag(etcd_card)])
    for front in ("etcd", "CNI", "kubelet"):
        assert GONE_TAG in gone[front]["tags"] and gone[front]["suspended"], front
    assert not any(KEPT_SUSPENDED in t for f in ("CNI", "kubelet") for t in gone[f]["tags"])
    _suspend(col_path, "kubelet", suspend=False)  # the person wants it back now

    for day, text in days.items():
        (vault / f"daily/2025-04-0{day}.md").write_text(text)
    code, output = sync(vault, col_path, "--no-backup")
    assert code == 0 and "3 returned" in output and "1 card unsuspended" in output, output
    back = memo_notes(col_path)
    assert back["etcd"]["suspended"]  # the person's: still suspended
    assert not back["CNI"]["suspended"]  # sync's: unsuspended
    assert not back["kubelet"]["suspended"]  # unsuspended by the person: left so
    for front in ("etcd", "CNI", "kubelet"):
        assert back[front]["id"] == gone[front]["id"]
        assert not any(t.startswith(GONE_TAG) for t in back[front]["tags"]), back[front]
    # Nothing left to write: the next sync changes nothing (the person's card stays put).
    code, output = sync(vault, col_path, "--no-backup")
    assert code == 0 and "nothing changed" in output, output
    assert memo_notes(col_path)["etcd"]["suspended"]


def test_a_note_retired_by_an_older_version_is_unsuspended_on_return_without_a_ledger(
    vault: Path, col_path: Path
) -> None:
    """A note an older memo2anki retired (tagged gone, suspended, no tag saying whose) comes
    back unsuspended, as it always did; one whose tag says the person suspended it stays
    suspended. With no ledger: which is which is read from the collection alone."""
    assert sync(vault, col_path, "--no-backup")[0] == 0
    (cni_card,) = _card_ids(col_path, "CNI")
    with Opened(col_path) as anki:  # both retired while their memos were away
        both = '"Front:etcd" OR "Front:CNI"'
        anki.col.sched.suspend_cards(anki.col.find_cards(both))
        anki.col.tags.bulk_add(list(anki.col.find_notes(both)), GONE_TAG)
        cni = list(anki.col.find_notes('"Front:CNI"'))
        anki.col.tags.bulk_add(cni, kept_suspended_tag(cni_card))
    (vault / ".memo2anki" / "ledger.json").unlink()
    code, output = sync(vault, col_path, "--no-backup")
    assert code == 0 and "2 returned" in output and "1 card unsuspended" in output, output
    back = memo_notes(col_path)
    assert not back["etcd"]["suspended"] and back["CNI"]["suspended"]
    assert back["etcd"]["tags"] == back["CNI"]["tags"] == ["CKA"]


def test_delete_gone_deletes_them_after_a_backup_and_nothing_else(
    vault: Path, col_path: Path
) -> None:
    sync(vault, col_path, "--no-backup")
    (vault / "daily/2025-04-02.md").unlink()
    code, output = sync(vault, col_path, "--delete-gone")
    assert code == 0 and "1 note deleted" in output
    assert set(memo_notes(col_path)) == {"Docker Network", "CNI"}
    assert len(list((col_path.parent / "backups").glob("*.colpkg"))) == 1
    with Opened(col_path) as anki:
        (own,) = anki.col.find_notes('"note:Basic"')
        assert anki.col.get_note(own)["Back"] == "kept as it is"


def test_a_package_imported_then_synced_and_the_reverse_never_duplicate(
    vault: Path, tmp_path: Path
) -> None:
    deck = tmp_path / "deck.apkg"
    assert run(vault, "-o", deck, "--no-cache").exit_code == 0
    imported = Anki(tmp_path / "imported")
    imported.import_package(deck)
    imported.close()
    path = tmp_path / "imported" / "collection.anki2"
    code, output = sync(vault, path)
    assert code == 0 and "nothing changed" in output, output
    assert len(memo_notes(path)) == 3

    synced = Anki(tmp_path / "synced")
    synced.close()
    path = tmp_path / "synced" / "collection.anki2"
    sync(vault, path)
    with Opened(path) as anki:
        log = anki.import_package(deck)
        assert not log.new and not log.conflicting
        assert anki.col.note_count() == 3
        names = anki.col.models.all_names()
        assert [n for n in names if n.startswith("memo2anki")] == ["memo2anki"]


def test_dry_run_leaves_the_collection_bytes_and_the_ledger_alone(
    vault: Path, col_path: Path
) -> None:
    before = hashlib.sha256(col_path.read_bytes()).hexdigest()
    code, output = sync(vault, col_path, "--dry-run")
    assert code == 0 and "3 new; nothing changed (--dry-run)" in output
    assert hashlib.sha256(col_path.read_bytes()).hexdigest() == before
    assert not (vault / ".memo2anki" / "ledger.json").exists()
    assert not (col_path.parent / "backups").exists()


def test_the_schema_time_is_unchanged_so_ankiweb_needs_no_full_sync(
    vault: Path, col_path: Path
) -> None:
    def scm() -> int:
        with Opened(col_path) as anki:
            return int(anki.col.db.scalar("select scm from col"))

    start = scm()
    sync(vault, col_path)  # creates the note type
    (vault / "daily/2025-04-02.md").write_text(note(ETCD, subject="Kubernetes"))
    sync(vault, col_path)  # moves a card to a new deck
    (vault / "daily/2025-04-02.md").unlink()
    sync(vault, col_path, "--delete-gone")
    assert scm() == start


def test_a_collection_anki_holds_open_is_one_line_saying_what_to_do(
    vault: Path, col_path: Path
) -> None:
    held = Collection(str(col_path))  # Anki running with the profile loaded
    try:
        code, output = sync(vault, col_path)
    finally:
        held.close()
    assert code == 1
    (line,) = output.strip().splitlines()[-1:]
    assert (
        "Anki (or another program, another sync say) has this collection open; close Anki" in line
    )
    assert "AnkiConnect add-on (code 2055492159)" in line
    assert not (vault / ".memo2anki" / "ledger.json").exists()


def test_without_ankis_library_one_line_says_how_to_install_it(
    vault: Path, col_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "anki.collection", None)
    code, output = sync(vault, col_path)
    assert code == 1
    assert output.strip().splitlines()[-1] == (
        'memo2anki: error: the collection way needs Anki\'s library: pip install "memo2anki[anki]"'
    )


def test_a_missing_collection_file_is_an_error(vault: Path, tmp_path: Path) -> None:
    code, output = sync(vault, tmp_path / "nowhere.anki2")
    assert code == 1 and "nowhere.anki2: no such collection" in output


@pytest.mark.parametrize("target", ["loop.anki2", "gone.anki2"], ids=["a loop", "to nothing"])
def test_a_collection_link_that_leads_nowhere_is_named_so(
    vault: Path, tmp_path: Path, target: str
) -> None:
    # It was "no such collection" of a link right there.
    link = tmp_path / "loop.anki2"
    link.symlink_to(tmp_path / target)
    code, output = sync(vault, link)
    assert code == 1
    assert output.strip().splitlines()[-1] == (
        f"memo2anki: error: {link}: a symbolic link that leads nowhere (missing, or a loop), "
        "not a collection; left as it was"
    )
    assert link.is_symlink() and not (vault / ".memo2anki" / "ledger.json").exists()


def test_usage_errors_exit_2(vault: Path, col_path: Path) -> None:
    both = run("sync", vault, "--collection", col_path, "--profile", "x")
    assert both.exit_code == 2 and "give --profile or --collection, not both" in both.output
    via = run("sync", vault, "--via", "ankiconnect", "--profile", "x")
    assert via.exit_code == 2


def test_the_profile_is_found_by_name_and_an_unknown_one_lists_them(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_anki_profiles import make_anki2

    base = make_anki2(tmp_path / "Anki2", ["사용자 1", "work"], last="work")
    for name in ("사용자 1", "work"):
        Anki(base / name).close()
    monkeypatch.setenv("ANKI_BASE", str(base))
    code, output = sync_profile(vault, "--via", "collection", "--profile", "사용자 1")
    assert (
        code == 0
        and f"into profile '사용자 1' ({base / '사용자 1' / 'collection.anki2'})" in output
    )
    assert list((base / "사용자 1" / "backups").glob("*.colpkg"))
    code, output = sync_profile(vault, "--via", "collection", "--profile", "User 1")
    assert code == 1 and "there are: 'work', '사용자 1'" in output


def sync_profile(vault: Path, *args: str) -> tuple[int, str]:
    result = run("sync", vault, "--no-cache", *args)
    return result.exit_code, result.output


KILL_SCRIPT = """
import sys
from memo2anki.cli.main import main
main(["sync", sys.argv[1], "--collection", sys.argv[2], "--no-cache", "--no-backup", "-q"])
"""


def test_a_killed_sync_leaves_the_collection_before_or_after_and_sound(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        f"daily/2025-03-{day:02d}.md": note(
            *(f"**카드 {day}-{i}**\n내용 {day} {i} " + "설명 " * 30 for i in range(12))
        )
        for day in range(1, 29)
    }
    vault = write_vault(tmp_path / "vault", files)
    total = 28 * 12
    rng = random.Random(12)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}

    def start(folder: Path) -> tuple[subprocess.Popen[bytes], Path]:
        Anki(folder).close()
        (vault / ".memo2anki" / "ledger.json").unlink(missing_ok=True)
        path = folder / "collection.anki2"
        args = [sys.executable, "-c", KILL_SCRIPT, str(vault), str(path)]
        out = subprocess.DEVNULL
        return subprocess.Popen(args, env=env, stdout=out, stderr=out), path

    # How long a whole sync takes here: the kills fall in its second half, where it writes.
    began = time.monotonic()
    child, _ = start(tmp_path / "whole")
    assert child.wait() == 0
    duration = time.monotonic() - began
    for attempt in range(5):
        child, path = start(tmp_path / f"c{attempt}")
        time.sleep(rng.uniform(0.45, 1.0) * duration)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait()
        col = Collection(str(path))
        try:
            count = col.note_count()
            problems, ok = col.fix_integrity()
        finally:
            col.close()
        assert ok, problems
        assert count in (0, total)
        # And a sync run again afterwards completes it, without a duplicate.
        code, output = sync(vault, path, "--no-backup")
        assert code == 0, output
        with Opened(path) as anki:
            assert anki.col.note_count() == total


def test_one_memo_edited_in_a_big_vault_touches_only_that_memos_note(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        f"daily/2025-05-{day:02d}.md": note(
            *(f"**주제 {day}-{i}**\n설명 {day} {i}" for i in range(4))
        )
        for day in range(1, 31)
    }
    vault = write_vault(tmp_path / "vault", files)
    Anki(tmp_path / "p").close()
    path = tmp_path / "p" / "collection.anki2"
    sync(vault, path, "--no-backup")
    with Opened(path) as anki:
        anki.col.db.execute("update notes set mod = 1000")  # a mark any write would move
    edited = vault / "daily/2025-05-17.md"
    edited.write_text(edited.read_text().replace("설명 17 2", "설명 17 2 고침"))
    code, output = sync(vault, path, "--no-backup")
    assert code == 0 and "1 updated, 119 unchanged" in output and "1 note updated" in output
    with Opened(path) as anki:
        touched = anki.col.db.list("select flds from notes where mod != 1000")
    assert len(touched) == 1 and "설명 17 2 고침" in touched[0]


def test_cloze_notes_are_synced_beside_their_cards(vault: Path, col_path: Path) -> None:
    daily = vault / "daily/2025-04-01.md"
    daily.write_text(note(DOCKER, "**CNI**\n==플러그인== 규격과 ==구현==의 모음"))
    code, output = sync(vault, col_path, "--cloze")
    assert code == 0 and "4 notes added" in output, output
    with Opened(col_path) as anki:
        (nid,) = anki.col.find_notes('"note:memo2anki cloze"')
        assert "{{c1::플러그인}}" in anki.col.get_note(nid)["Text"]
        assert len(anki.col.get_note(nid).card_ids()) == 2
    daily.write_text(note(DOCKER, "**CNI**\n==플러그인== 규격과 ==구현체==의 모음"))
    code, output = sync(vault, col_path, "--cloze")
    assert code == 0 and "2 notes updated" in output, output  # the card and its cloze note
    with Opened(col_path) as anki:
        assert anki.col.find_notes('"note:memo2anki cloze"') == [nid]
        assert "{{c2::구현체}}" in anki.col.get_note(nid)["Text"]


def _cloze_note(path: Path) -> dict[str, object]:
    """The one cloze note: id, Text, tags, whether its cards are all suspended."""
    with Opened(path) as anki:
        (nid,) = anki.col.find_notes('"note:memo2anki cloze"')
        held = anki.col.get_note(nid)
        cards = [anki.col.get_card(c) for c in held.card_ids()]
        suspended = all(c.queue == -1 for c in cards)
        return {"id": nid, "text": held["Text"], "tags": sorted(held.tags), "suspended": suspended}


@pytest.mark.parametrize("how", ["its highlights removed", "cloze notes turned off"])
def test_a_cloze_note_its_memo_no_longer_makes_is_tagged_gone_and_suspended_once(
    vault: Path, col_path: Path, how: str
) -> None:
    daily = vault / "daily/2025-04-01.md"
    daily.write_text(note(DOCKER, "**CNI**\n==플러그인== 규격과 ==구현==의 모음"))
    assert sync(vault, col_path, "--cloze")[0] == 0
    was = _cloze_note(col_path)
    args: tuple[str, ...] = ()
    if how == "its highlights removed":
        daily.write_text(note(DOCKER, "**CNI**\n플러그인 규격과 구현의 모음"))
        args = ("--cloze",)
    code, output = sync(vault, col_path, *args, "--changes")
    assert code == 0 and "1 cloze note retired" in output and "2 cards suspended" in output
    assert "'CNI'; its cloze note retired (gone)" in output, output
    retired = _cloze_note(col_path)
    assert retired["id"] == was["id"] and retired["text"] == was["text"]
    assert GONE_TAG in retired["tags"] and retired["suspended"]
    cni = memo_notes(col_path)["CNI"]
    assert GONE_TAG not in cni["tags"] and not cni["suspended"]
    code, output = sync(vault, col_path, *args, "--changes")  # never retired again
    assert code == 0 and "retired" not in output and "suspended" not in output, output
    assert _cloze_note(col_path) == retired


NETWORK_NFD = unicodedata.normalize("NFD", "네트워크")


@pytest.mark.parametrize(
    "spelling",
    ["a deck made in Anki before", "the deck renamed in Anki", "a subject heading in NFD"],
)
def test_a_deck_name_differing_only_in_case_or_unicode_form_is_not_a_move_by_hand(
    vault: Path, col_path: Path, spelling: str
) -> None:
    """Anki's deck names are one deck whatever their case, and Anki keeps them in NFC: a card
    in the deck memo2anki last put it in, as Anki spells that deck, moves with its memo."""
    day = vault / "daily/2025-04-02.md"
    if spelling == "a deck made in Anki before":  # the import puts the cards in that deck
        with Opened(col_path) as anki:
            anki.col.decks.id("공부 메모장::cka", create=True)
    if spelling == "a subject heading in NFD":  # (as macOS may save it)
        day.write_text(note(ETCD, subject=NETWORK_NFD), encoding="utf-8")
    assert sync(vault, col_path)[0] == 0
    if spelling == "the deck renamed in Anki":
        with Opened(col_path) as anki:
            deck = anki.col.decks.by_name("공부 메모장::CKA")
            assert deck is not None
            anki.col.decks.rename(deck, "공부 메모장::cka")
    held = memo_notes(col_path)["etcd"]["deck"]
    assert held in ("공부 메모장::cka", unicodedata.normalize("NFC", f"공부 메모장::{NETWORK_NFD}"))
    day.write_text(note(ETCD, subject="Kubernetes"), encoding="utf-8")
    code, output = sync(vault, col_path)
    assert code == 0 and "1 card moved" in output and "by hand" not in output, output
    assert memo_notes(col_path)["etcd"]["deck"] == "공부 메모장::Kubernetes"


def test_an_image_anki_has_is_not_added_again(vault: Path, col_path: Path) -> None:
    sync(vault, col_path)
    (vault / "daily/2025-04-03.md").write_text(note("**etcd 백업**\n스냅샷\n![[etcd.png]]"))
    code, output = sync(vault, col_path)
    assert code == 0 and "1 note added" in output and "image added" not in output


def test_changes_and_json_report_each_change(vault: Path, col_path: Path) -> None:
    import json

    sync(vault, col_path)
    daily = vault / "daily/2025-04-01.md"
    daily.write_text(daily.read_text().replace("**CNI**", "**CNI (Container Network Interface)**"))
    result = run("sync", vault, "--collection", col_path, "--changes", "--dry-run", "--no-cache")
    assert result.exit_code == 0
    assert (
        "daily/2025-04-01.md:7: renamed 'CNI' -> 'CNI (Container Network Interface)'"
        in result.output
    )
    result = run("sync", vault, "--collection", col_path, "--json", "--dry-run", "--no-cache")
    start = result.output.index("{")
    report = json.loads(result.output[start : result.output.rindex("}") + 1])
    assert report["changes"]["counts"]["renamed"] == 1
    both = run("sync", vault, "--collection", col_path, "--json", "--changes", "--dry-run")
    assert json.loads(both.stdout)["changes"]["counts"]["renamed"] == 1  # one JSON document


def test_no_anki_profile_anywhere_is_an_error_naming_where_it_looked(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANKI_BASE", str(tmp_path / "no-anki-here"))
    code, output = sync_profile(vault, "--via", "collection")
    assert code == 1
    assert "no Anki profiles found (looked in " in output and "--collection FILE" in output


@pytest.mark.parametrize("variable", ["ANKI_BASE", "XDG_DATA_HOME"])
def test_an_anki_folder_named_longer_than_a_file_system_takes_is_one_line(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    # It was "unexpected error: OSError: [Errno 36] File name too long".
    monkeypatch.delenv("ANKI_BASE", raising=False)
    monkeypatch.setenv(variable, str(tmp_path / ("가" * 90)))
    code, output = sync_profile(vault, "--via", "collection")
    assert code == 1
    assert output.splitlines()[-1].startswith(f"memo2anki: error: {tmp_path / ('가' * 90)}")
    assert "cannot look for Anki's profile list (File name too long)" in output
    assert "unexpected" not in output


def test_via_ankiconnect_when_nothing_answers_says_what_to_do(vault: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run(
        "sync", vault, "--via", "ankiconnect", "--ankiconnect-url", f"http://127.0.0.1:{port}"
    )
    assert result.exit_code == 1
    assert "AnkiConnect does not answer at" in result.output
    assert "(--via collection)" in result.output


def test_a_backup_that_cannot_be_made_stops_the_sync_before_any_change(
    vault: Path, col_path: Path
) -> None:
    (col_path.parent / "backups").write_text("a file where the folder should be")
    before = hashlib.sha256(col_path.read_bytes()).hexdigest()
    code, output = sync(vault, col_path)
    assert code == 1
    assert output.strip().splitlines()[-1] == (
        f"memo2anki: error: {col_path.parent / 'backups'}: a file, not a folder; cannot back up "
        "the collection there; nothing changed: move it away and sync again"
    )
    assert not list(col_path.parent.glob("collection.anki2-*"))
    assert hashlib.sha256(col_path.read_bytes()).hexdigest() == before
    assert not (vault / ".memo2anki" / "ledger.json").exists()


def test_a_change_that_would_force_a_full_sync_is_rolled_back_whole(
    vault: Path, col_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import memo2anki.targets.write_collection as writer

    real_move = writer._move

    def move_and_touch_the_schema(col: object, steps: object) -> None:
        real_move(col, steps)  # type: ignore[arg-type]
        col.set_schema_modified()  # type: ignore[attr-defined]  # as a field added would

    monkeypatch.setattr(writer, "_move", move_and_touch_the_schema)
    code, output = sync(vault, col_path, "--no-backup")
    assert code == 1
    assert "would force a one-way full sync with AnkiWeb; nothing was changed" in output
    with Opened(col_path) as anki:
        assert anki.col.note_count() == 1  # the person's own note only
        assert anki.col.models.get(MODEL_ID) is None


def test_a_note_type_whose_fields_were_changed_in_anki_stops_the_sync(
    vault: Path, col_path: Path
) -> None:
    sync(vault, col_path)
    with Opened(col_path) as anki:
        model = anki.col.models.get(MODEL_ID)
        anki.col.models.add_field(model, anki.col.models.new_field("My notes"))
        anki.col.models.update_dict(model)
    before = hashlib.sha256(col_path.read_bytes()).hexdigest()
    (vault / "daily/2025-04-02.md").unlink()
    code, output = sync(vault, col_path)
    assert code == 1
    assert "the note type 'memo2anki' in this collection has the fields Front, Back, " in output
    assert "My notes, not memo2anki's Front, Back, Subject, Source, Date, Link" in output
    assert hashlib.sha256(col_path.read_bytes()).hexdigest() == before


def test_a_card_edited_to_show_a_new_picture_brings_it(vault: Path, col_path: Path) -> None:
    sync(vault, col_path)
    (vault / "flannel.png").write_bytes(png(seed=8))
    (vault / "daily/2025-04-01.md").write_text(note(DOCKER, f"{CNI}\n![[flannel.png]]"))
    code, output = sync(vault, col_path)
    assert code == 0 and "1 note updated" in output and "1 image added" in output, output
    back = str(memo_notes(col_path)["CNI"]["back"])
    with Opened(col_path) as anki:
        (image,) = anki.media_in(back)
        assert image in anki.media_files()


def test_a_picture_missing_from_ankis_media_is_put_back(vault: Path, col_path: Path) -> None:
    """A picture a note shows, gone from Anki's media folder (Check Media lists it missing),
    comes back at the next sync though no memo changed: only the file, the collection file
    itself untouched (no backup needed)."""
    sync(vault, col_path)
    (image,) = re.findall(r'src="([^"]+)"', str(memo_notes(col_path)["etcd"]["back"]))
    with Opened(col_path) as anki:
        anki.col.media.trash_files([image])
        assert image in anki.col.media.check().missing
    before = hashlib.sha256(col_path.read_bytes()).hexdigest()
    backups = set((col_path.parent / "backups").iterdir())
    code, output = sync(vault, col_path)
    assert code == 0 and "3 unchanged" in output, output
    assert output.splitlines()[-2].endswith(": 1 image added"), output
    assert hashlib.sha256(col_path.read_bytes()).hexdigest() == before
    assert set((col_path.parent / "backups").iterdir()) == backups
    with Opened(col_path) as anki:
        assert image in anki.media_files() and not anki.col.media.check().missing
    code, output = sync(vault, col_path)  # and then it matches
    assert "already matches the memos; nothing changed" in output, output


# -- a collection file that cannot be synced into, for a reason of its own ---------------------


def _damaged(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for at in range(4096, len(data), 7):  # past the header page: every table's pages
        data[at] = 0x5A
    path.write_bytes(bytes(data))


def _damaged_page_of(name: str) -> Callable[[Path], None]:
    """Damage the one page that holds a table or index ``name`` (empty in a new collection):
    the library opens the collection, and only a write or a full read meets it."""

    def make(path: Path) -> None:
        import sqlite3

        with contextlib.closing(sqlite3.connect(path)) as db:
            (size,) = db.execute("pragma page_size").fetchone()
            (page,) = db.execute("select rootpage from sqlite_master where name = ?", (name,))
        data = bytearray(path.read_bytes())
        for at in range((page[0] - 1) * size, page[0] * size, 7):
            data[at] = 0x5A
        path.write_bytes(bytes(data))

    return make


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _zip(path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("collection.anki21", b"...")


def _other_database(path: Path) -> None:
    import sqlite3

    path.unlink()
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("create table expenses (day text, amount integer)")
        db.execute("insert into expenses values ('2025-04-01', 12000)")
        db.commit()


def _schema(version: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        import sqlite3

        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute("update col set ver = ?", (version,))
            db.commit()

    return make


_newer = _schema(99)  # as a future Anki's schema would say


def _downgraded(path: Path) -> None:
    """The collection as an Anki older than 2.1.50 leaves it (format 11), the way Anki's
    "Downgrade & Quit" saves it for one."""
    Collection(str(path)).close(downgrade=True)


def _set_v1_scheduler(path: Path) -> None:
    """The collection on Anki's v1 scheduler (as a person who never switched has it), in
    the place its format keeps that."""
    import json
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as db:
        (version,) = db.execute("select ver from col").fetchone()
        if version == 11:
            conf = json.loads(db.execute("select conf from col").fetchone()[0])
            conf["schedVer"] = 1
            db.execute("update col set conf = ?", (json.dumps(conf),))
        else:
            db.execute("update config set val = ? where key = 'schedVer'", (b"1",))
        db.commit()


def _downgraded_v1(path: Path) -> None:
    _downgraded(path)
    _set_v1_scheduler(path)


OLDER = (
    "saved by an Anki older than 2.1.50 (collection format 11); Anki's library would upgrade "
    "it to the current format, which such an Anki cannot open; left as it was: open it once in "
    "a current Anki, which upgrades it"
)


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (
            _damaged,
            "the collection is damaged (database disk image is malformed); left as it "
            "was: let Anki repair it (Tools > Check Database) or restore a backup",
        ),
        (_truncated, "the collection is damaged"),
        (_damaged_page_of("ix_cards_nid"), "the collection is damaged (database disk image is"),
        (_damaged_page_of("revlog"), "the collection is damaged (database disk image is"),
        (lambda p: p.write_text("my notes\n"), "not an Anki collection (not an SQLite database)"),
        (lambda p: p.write_bytes(b""), "an empty file, not an Anki collection; left as it was"),
        (_zip, "a zip archive (an exported .colpkg or .apkg?), not a collection; left as it was"),
        (_other_database, "an SQLite database, but not an Anki collection; left as it was"),
        (_newer, "made by a newer Anki than this Anki library"),
        (_schema(0), "made by an Anki older than this Anki library reads, or damaged; left as"),
        (_schema(11), OLDER),
        (_downgraded, f"{OLDER}, and sync again (or, keeping your Anki, import a package: "),
        (_downgraded_v1, f"{OLDER} and its v1 scheduler (it asks), and sync again"),
        (
            _set_v1_scheduler,
            "the collection still uses Anki's v1 scheduler, under which Anki's library changes "
            "no cards; left as it was: open it in a current Anki, which upgrades it to the v3 "
            "scheduler (it asks), and sync again",
        ),
    ],
    ids=[
        "damaged",
        "truncated",
        "an index a sync writes damaged",
        "a table a sync never reads damaged",
        "text",
        "empty",
        "zip",
        "another database",
        "newer Anki",
        "a schema too old",
        "an old schema's tables missing",
        "an older Anki's",
        "an older Anki's on the v1 scheduler",
        "the v1 scheduler",
    ],
)
def test_a_file_that_is_no_collection_anki_can_write_is_named_and_left_alone(
    vault: Path, col_path: Path, make: Any, said: str
) -> None:
    make(col_path)
    before = col_path.read_bytes()
    folder = sorted(os.listdir(col_path.parent))
    code, output = sync(vault, col_path)
    assert code == 1
    assert output.splitlines()[-1] == f"memo2anki: error: {col_path}: {said}" or (
        output.splitlines()[-1].startswith(f"memo2anki: error: {col_path}: {said}")
    )
    assert "Anki has this collection open" not in output and "unexpected" not in output
    assert col_path.read_bytes() == before
    assert sorted(os.listdir(col_path.parent)) == folder  # no backup, no media folder made
    assert not (vault / ".memo2anki" / "ledger.json").exists()


@pytest.mark.parametrize("table", ["revlog", "ix_cards_nid"])
def test_damage_the_library_does_not_meet_on_opening_is_named_without_a_backup_too(
    vault: Path, col_path: Path, table: str
) -> None:
    """With --no-backup, a collection damaged where opening it does not look is named as
    damaged and left as it was, as with a backup: never synced into."""
    _damaged_page_of(table)(col_path)
    before = col_path.read_bytes()
    code, output = sync(vault, col_path, "--no-backup")
    assert code == 1
    assert output.splitlines()[-1].startswith(
        f"memo2anki: error: {col_path}: the collection is damaged (database disk image is"
    ), output
    assert col_path.read_bytes() == before
    assert not (vault / ".memo2anki" / "ledger.json").exists()


def test_a_damaged_media_database_is_named_before_the_backup_and_the_collection_left_alone(
    vault: Path, col_path: Path
) -> None:
    media = col_path.with_name("collection.media.db2")
    media.write_text("garbage\n")
    before = col_path.read_bytes()
    folder = sorted(os.listdir(col_path.parent))
    code, output = sync(vault, col_path)
    assert code == 1
    assert output.splitlines()[-1] == (
        f"memo2anki: error: {media}: the collection's media database is damaged (not an SQLite "
        "database); the collection is left as it was: delete collection.media.db2 and sync "
        "again (Anki makes it again from the collection.media folder; your pictures stay)"
    )
    assert "not an Anki collection" not in output
    assert col_path.read_bytes() == before
    assert sorted(os.listdir(col_path.parent)) == folder  # no backup
    media.unlink()  # as the line says
    code, output = sync(vault, col_path)
    assert code == 0 and "3 notes added" in output and "1 image added" in output, output


def _pipe(path: Path) -> None:
    os.mkfifo(path)


@pytest.mark.parametrize(
    ("name", "make", "said"),
    [
        (
            "collection.media.db2",
            _pipe,
            "the collection's media database is damaged (a pipe, not a file); the collection is "
            "left as it was: delete collection.media.db2 and sync again (Anki makes it again "
            "from the collection.media folder; your pictures stay)",
        ),
        (
            "collection.media.db2",
            Path.mkdir,
            "the collection's media database is damaged (a folder, not a file); the collection "
            "is left as it was: delete collection.media.db2 and sync again",
        ),
        (
            "collection.media",
            Path.touch,
            "a file, not a folder, where Anki keeps the collection's pictures; the collection is "
            "left as it was: move it away and sync again",
        ),
        (
            "collection.media",
            lambda p: p.symlink_to(p.with_name("gone")),
            "a symbolic link to nothing, not a folder, where Anki keeps the collection's",
        ),
    ],
    ids=[
        "media database a pipe",
        "media database a folder",
        "media folder a file",
        "media folder a link to nothing",
    ],
)
def test_a_file_beside_the_collection_that_is_not_what_anki_keeps_there_is_named(
    vault: Path, col_path: Path, name: str, make: Callable[[Path], object], said: str
) -> None:
    # Named before the backup and any change, and never opened: the pipe made sync wait for
    # ever; the others were the library's words about the collection, after a backup.
    beside = col_path.with_name(name)
    if beside.is_dir() and not beside.is_symlink():
        shutil.rmtree(beside)
    beside.unlink(missing_ok=True)
    make(beside)
    before = col_path.read_bytes()
    child = subprocess.run(
        [sys.executable, "-m", "memo2anki", "sync", vault, "--collection", col_path, "--no-cache"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 1
    assert child.stderr.splitlines()[-1].startswith(f"memo2anki: error: {beside}: {said}")
    assert col_path.read_bytes() == before
    assert not list(col_path.parent.glob("backups/*"))


def test_a_media_database_damaged_inside_is_named_when_the_library_meets_it(
    vault: Path, col_path: Path
) -> None:
    assert sync(vault, col_path)[0] == 0
    media = col_path.with_name("collection.media.db2")
    _damaged(media)  # its pages, past the header: SQLite reads it as a database still
    before = col_path.read_bytes()
    (vault / "flannel.png").write_bytes(png(seed=8))
    (vault / "daily/2025-04-01.md").write_text(note(DOCKER, f"{CNI}\n![[flannel.png]]"))
    code, output = sync(vault, col_path)
    assert code == 1
    assert output.splitlines()[-1].startswith(
        f"memo2anki: error: {media}: the collection's media database is damaged (database disk "
        "image is malformed); the collection is left as it was: delete collection.media.db2"
    )
    assert col_path.read_bytes() == before  # (the transaction rolled back)


@pytest.mark.parametrize("make", [_downgraded, _downgraded_v1], ids=["v3", "v1 scheduler"])
def test_an_older_ankis_collection_is_never_upgraded_even_by_a_sync_that_changes_nothing(
    vault: Path, col_path: Path, make: Callable[[Path], None]
) -> None:
    assert sync(vault, col_path)[0] == 0
    make(col_path)  # the person opened it in their Anki before 2.1.50 since
    before = col_path.read_bytes()
    folder = sorted(os.listdir(col_path.parent))
    backups = sorted(os.listdir(col_path.parent / "backups"))
    code, output = sync(vault, col_path)
    assert code == 1
    assert output.splitlines()[-1].startswith(f"memo2anki: error: {col_path}: {OLDER}")
    assert "Learn More" not in output
    assert col_path.read_bytes() == before  # still format 11: that Anki opens it
    assert sorted(os.listdir(col_path.parent)) == folder
    assert sorted(os.listdir(col_path.parent / "backups")) == backups
    # Nor when AnkiConnect answers and sync asks whether Anki holds that profile's file.
    from memo2anki.targets.sync import held_open

    assert not held_open(col_path)
    assert col_path.read_bytes() == before


def test_the_format_anki_s_library_writes_is_the_one_memo2anki_knows(tmp_path: Path) -> None:
    """(A library of a later format would upgrade today's collections as it opens them:
    memo2anki must learn it first.)"""
    import sqlite3

    from memo2anki.targets.write_collection import LIBRARY_SCHEMA, schema_version

    Collection(str(tmp_path / "new.anki2")).close()
    assert schema_version(tmp_path / "new.anki2") == LIBRARY_SCHEMA
    with contextlib.closing(sqlite3.connect(tmp_path / "new.anki2")) as db:
        assert db.execute("select ver from col").fetchone() == (LIBRARY_SCHEMA,)


# A collection Anki wrote to and was killed before it checkpointed: its tables are in its
# write-ahead log, not yet in the file.
_KILLED_WITH_ITS_LOG = """
import os, sys
from anki.collection import Collection
col = Collection(sys.argv[1])
note = col.new_note(col.models.by_name("Basic"))
note["Front"], note["Back"] = "written before the kill", "in the log"
col.add_note(note, col.decks.id("Default"))
os._exit(0)
"""


def test_a_collection_whose_tables_are_in_its_log_still_is_synced(
    vault: Path, tmp_path: Path
) -> None:
    col_path = tmp_path / "killed" / "collection.anki2"
    col_path.parent.mkdir()
    subprocess.run([sys.executable, "-c", _KILLED_WITH_ITS_LOG, str(col_path)], check=True)
    wal = col_path.with_name("collection.anki2-wal")
    assert wal.is_file() and wal.stat().st_size > 0  # (else this tests nothing)
    code, output = sync(vault, col_path)
    assert code == 0, output
    assert _person_s_notes(col_path) == [
        ("Basic", "written before the kill"),
        *[("memo2anki", front) for front in sorted(["CNI", "Docker Network", "etcd"])],
    ]


def test_a_pipe_given_as_the_collection_is_named_and_never_opened(
    vault: Path, tmp_path: Path
) -> None:
    pipe = tmp_path / "collection.anki2"
    os.mkfifo(pipe)
    code, output = sync(vault, pipe)
    assert code == 1
    assert output.splitlines()[-1] == (
        f"memo2anki: error: {pipe}: not a regular file, not a collection; left as it was"
    )


def test_a_vault_folder_renamed_syncs_into_the_same_notes(vault: Path, col_path: Path) -> None:
    assert sync(vault, col_path)[0] == 0
    with Opened(col_path) as anki:
        before = {n.fields["Front"]: n.card_ids for n in anki.notes() if n.note_type == "memo2anki"}
    day = vault / "daily/2025-04-02.md"
    day.write_text(day.read_text(encoding="utf-8").replace("**etcd**", "**etcd 백업**"))
    renamed = vault.rename(vault.with_name("notes"))
    code, output = sync(renamed, col_path)
    assert code == 0, output
    assert "the folder was renamed?" in output and "added" not in output
    with Opened(col_path) as anki:
        after = {n.fields["Front"]: n.card_ids for n in anki.notes() if n.note_type == "memo2anki"}
        links = {n.fields["Link"] for n in anki.notes() if n.note_type == "memo2anki"}
    assert after == {("etcd 백업" if f == "etcd" else f): i for f, i in before.items()}
    assert all("vault=notes" in link for link in links)


def test_a_sync_with_a_subfolder_as_the_vault_leaves_the_other_cards_to_the_next(
    tmp_path: Path, col_path: Path
) -> None:
    """A sync with a subfolder as the vault root reaches only its cards (their links name
    that folder); the next sync of the whole vault writes their links back, and leaves the
    other cards as the collection holds them (an edit made there kept): their links name the
    vault already."""
    vault = write_vault(
        tmp_path / "V",
        {
            "a/2025-04-01.md": note(DOCKER, CNI),
            "b/2025-04-02.md": note(ETCD),
            "etcd.png": png(seed=3),
        },
    )
    assert sync(vault, col_path)[0] == 0
    code, output = sync(vault / "a", col_path, "--vault", str(vault / "a"))
    assert code == 0 and "2 updated; synced" in output, output
    with Opened(col_path) as anki:
        nid = anki.col.find_notes('"Front:etcd"')[0]
        edited = anki.col.get_note(nid)
        edited["Back"] = "내가 Anki에서 고친 답"
        anki.col.update_note(edited)
    code, output = sync(vault, col_path)
    assert code == 0, output
    assert "2 updated, 1 unchanged" in output and "2 notes updated" in output, output
    notes = memo_notes(col_path)
    assert notes["etcd"]["back"] == "내가 Anki에서 고친 답"
    with Opened(col_path) as anki:
        links = {
            n.fields["Front"]: n.fields["Link"] for n in anki.notes() if n.note_type == "memo2anki"
        }
    assert links["CNI"].startswith("obsidian://open?vault=V&file=a%2F"), links
    assert links["etcd"].startswith("obsidian://open?vault=V&file=b%2F"), links


def test_a_sync_that_only_tags_a_card_gone_says_so(vault: Path, col_path: Path) -> None:
    # The card was suspended by the person already: tagging it is all there is to do.
    assert sync(vault, col_path)[0] == 0
    with Opened(col_path) as anki:
        anki.col.sched.suspend_cards(anki.col.find_cards('"Front:etcd"'))
    (vault / "daily/2025-04-02.md").unlink()
    code, output = sync(vault, col_path, "--changes", "--no-backup")
    assert code == 0, output
    assert output.splitlines()[-2].endswith(": 1 note tagged memo2anki::gone")
    # With no ledger, a gone card's line is not known: it is not shown as line 0.
    (vault / ".memo2anki" / "ledger.json").unlink()
    (vault / "daily/2025-04-01.md").write_text(note(DOCKER), encoding="utf-8")  # CNI gone
    code, output = sync(vault, col_path, "--changes", "--no-backup")
    assert code == 0, output
    gone = [line for line in output.splitlines() if ": gone '" in line]
    assert gone and all(line.endswith("(was daily/2025-04-01.md)") for line in gone), output


def _person_s_notes(path: Path) -> list[tuple[str, str]]:
    with Opened(path) as anki:
        return sorted((n.note_type, n.fields["Front"]) for n in anki.notes())


@pytest.mark.parametrize("where", ["folder", "file"])
def test_a_read_only_collection_or_folder_is_named(vault: Path, col_path: Path, where: str) -> None:
    from fs_faults import read_only

    before = col_path.read_bytes()
    # The folder alone: the file in it stays writable, but Anki cannot make its journal.
    with read_only(col_path.parent if where == "folder" else col_path, below=False):
        code, output = sync(vault, col_path)
    assert code == 1
    said = {
        "folder": "its folder is read-only (Anki writes its journal beside the collection); "
        "left as it was",
        "file": "the collection file is read-only; left as it was",
    }[where]
    assert output.splitlines()[-1] == f"memo2anki: error: {col_path}: {said}"
    assert col_path.read_bytes() == before
    assert not (vault / ".memo2anki" / "ledger.json").exists()


def test_a_collection_on_a_read_only_disk_is_named(vault: Path, col_path: Path) -> None:
    from fs_faults import read_only_disk

    with read_only_disk(
        col_path.parent.parent / "ro", {"collection.anki2": col_path.read_bytes()}
    ) as disk:
        code, output = sync(vault, disk / "collection.anki2")
    assert code == 1
    assert output.splitlines()[-1] == (
        f"memo2anki: error: {disk / 'collection.anki2'}: it is on a read-only disk; left as it was"
    )


@pytest.mark.parametrize("backup", [True, False], ids=["with a backup", "no backup"])
def test_a_full_disk_is_named_and_the_collection_left_as_it_was(
    vault: Path, col_path: Path, tmp_path: Path, backup: bool
) -> None:
    from fs_faults import fill, small_disk

    with small_disk(tmp_path / "small", "8m") as disk:
        col = disk / "collection.anki2"
        col.write_bytes(col_path.read_bytes())
        fill(disk)
        code, output = sync(vault, col, *(() if backup else ("--no-backup",)))
        (disk / "filler").unlink()
        assert code == 1
        last = output.splitlines()[-1]
        if backup:
            assert last == (
                f"memo2anki: error: {disk / 'backups'}: cannot back up the collection (the disk "
                "is full: 0 KB free); nothing changed"
            )
        else:
            assert last.startswith(f"memo2anki: error: {col}: the disk is full (")
            assert last.endswith("); left as it was")
        assert "ZipWriter" not in output
        assert _person_s_notes(col) == [("Basic", "my own card")]
    assert not (vault / ".memo2anki" / "ledger.json").exists()


@pytest.mark.parametrize("free_kb", [0, 8, 24, 48, 96, 160])
@pytest.mark.parametrize("backup", [True, False], ids=["with a backup", "no backup"])
def test_a_disk_nearly_full_is_named_whatever_the_room_left(
    vault: Path, col_path: Path, tmp_path: Path, free_kb: int, backup: bool
) -> None:
    # SQLite says "disk I/O error" when its log finds no room at some fill levels; a backup
    # cut short by the disk is no backup.
    import zipfile

    from fs_faults import fill, small_disk

    with small_disk(tmp_path / "small", "2m") as disk:
        col = disk / "collection.anki2"
        col.write_bytes(col_path.read_bytes())
        before = col.read_bytes()
        fill(disk)
        filler = disk / "filler"
        with open(filler, "r+b") as f:
            f.truncate(max(0, filler.stat().st_size - free_kb * 1024))
        code, output = sync(vault, col, *(() if backup else ("--no-backup",)))
        filler.unlink()
        backups = sorted((disk / "backups").glob("*")) if (disk / "backups").is_dir() else []
        for made in backups:
            assert zipfile.is_zipfile(made), made  # whole, or not there
        if code == 0:
            return  # there was room enough
        last = output.splitlines()[-1]
        assert "disk is full" in last, last
        assert col.read_bytes() == before
        assert "unexpected" not in output and "disk I/O error" not in output


# -- a note of another note type holding a card's id -------------------------------------------


def _guids(vault: Path) -> dict[str, str]:
    import json

    result = run(vault, "--dry-run", "--json", "--no-cache")
    return {card["front"]: card["guid"] for card in json.loads(result.stdout)["cards"]}


def add_basic_note_with_guid(path: Path, guid: str) -> None:
    """A Basic note of the person's with ``guid``: what changing memo2anki's note to Basic
    in Anki (Change Note Type keeps the id) leaves."""
    anki = Anki(path.parent)
    note = anki.col.new_note(anki.col.models.by_name("Basic"))
    note["Front"], note["Back"] = "my Basic card", "my words"
    note.guid = guid
    anki.col.add_note(note, anki.col.decks.id("Default"))
    anki.close()


@pytest.mark.parametrize("first", [True, False], ids=["first sync", "a later sync"])
def test_a_card_whose_id_a_basic_note_holds_is_named_and_that_note_left_alone(
    vault: Path, col_path: Path, first: bool
) -> None:
    guid = _guids(vault)["CNI"]
    if not first:
        assert sync(vault, col_path)[0] == 0
        with Opened(col_path) as anki:  # the person changes the card's note type to Basic
            (nid,) = anki.col.find_notes(f'"Front:CNI" mid:{MODEL_ID}')
            anki.col.remove_notes([nid])
    add_basic_note_with_guid(col_path, guid)
    code, output = sync(vault, col_path)
    assert code == 0, output
    assert output.splitlines()[0] == (
        "daily/2025-04-01.md:7: card 'CNI' not added: a 'Basic' note in Anki has its id "
        "(changed from memo2anki's note type there?); that note is left as it is (delete it, "
        "or change it back to memo2anki's type, and sync again)"
    )
    assert ("2 notes added" in output) == first
    with Opened(col_path) as anki:
        notes = {n.fields["Front"]: n for n in anki.notes()}
    assert sorted(notes) == ["Docker Network", "etcd", "my Basic card", "my own card"]
    mine = notes["my Basic card"]
    assert (mine.guid, mine.note_type, mine.fields["Back"]) == (guid, "Basic", "my words")


def _my_type(fields: int) -> Callable[[Any], Any]:
    def make(col: Any) -> Any:
        models = col.models
        model = models.new(f"Mine {fields}")
        for i in range(fields):
            models.add_field(model, models.new_field(f"F{i}"))
        template = models.new_template("Card 1")
        template["qfmt"], template["afmt"] = "{{F0}}", "{{FrontSide}}"
        models.add_template(model, template)
        models.add(model)
        return models.by_name(f"Mine {fields}")

    return make


def _renamed_cloze(col: Any) -> Any:
    model = col.models.get(CLOZE_MODEL_ID)
    model["name"] = "내 클로즈"
    col.models.update_dict(model)
    return col.models.get(CLOZE_MODEL_ID)


CLOZE_CNI = "**CNI**\n==플러그인== 규격과 ==구현==의 모음"
# A note of another note type than its card's holding that card's id (the person changed the
# note's type in Anki: Change Note Type keeps the id): which card's note, the note type (made
# in the collection), as the warning names it.
HOLDERS: dict[str, tuple[int, Callable[[Any], Any], str]] = {
    "Basic, the card's": (MODEL_ID, lambda col: col.models.by_name("Basic"), "Basic"),
    "Basic, the cloze card's": (CLOZE_MODEL_ID, lambda col: col.models.by_name("Basic"), "Basic"),
    "Anki's Cloze, the card's": (MODEL_ID, lambda col: col.models.by_name("Cloze"), "Cloze"),
    "one's own of 2 fields": (MODEL_ID, _my_type(2), "Mine 2"),
    "one's own of 7 fields, the cloze card's": (CLOZE_MODEL_ID, _my_type(7), "Mine 7"),
    "memo2anki cloze, the card's": (
        MODEL_ID,
        lambda col: col.models.get(CLOZE_MODEL_ID),
        "memo2anki cloze",
    ),
    "memo2anki cloze renamed, the card's": (MODEL_ID, _renamed_cloze, "내 클로즈"),
    "memo2anki, the cloze card's": (
        CLOZE_MODEL_ID,
        lambda col: col.models.get(MODEL_ID),
        "memo2anki",
    ),
}


def hold_with_another_type(path: Path, mid: int, make: Callable[[Any], Any]) -> str:
    """memo2anki's note of CNI (of note type ``mid``) changed to another note type, as Change
    Note Type leaves it (the id kept), in a deck of the person's, its cards suspended and one
    buried; returns its id."""
    with Opened(path) as anki:
        col = anki.col
        (nid,) = col.find_notes(f'mid:{mid} "CNI"')
        guid = col.get_note(nid).guid
        col.remove_notes([nid])
        model = make(col)
        mine = col.new_note(model)
        for i, _field in enumerate(model["flds"]):
            mine.fields[i] = f"my words {i}"
        mine.fields[0] = "{{c1::my}} words" if model["type"] == 1 else "my words"
        mine.guid = guid
        col.add_note(mine, col.decks.id("내 덱"))
        col.sched.suspend_cards(mine.card_ids())
        col.sched.bury_cards(mine.card_ids()[:1])
    return guid


def held_by_guid(path: Path, guid: str) -> tuple[Any, ...]:
    with Opened(path) as anki:
        nid = anki.col.db.scalar("select id from notes where guid = ?", guid)
        held = anki.col.get_note(nid)
        cards = [(c.did, c.queue, c.due, c.ivl) for c in held.cards()]
        return (nid, held.mid, tuple(held.fields), tuple(held.tags), held.mod, tuple(cards))


@pytest.mark.parametrize("memo", ["edited", "gone, --delete-gone"])
@pytest.mark.parametrize(("mid", "make", "name"), HOLDERS.values(), ids=HOLDERS.keys())
def test_a_note_of_another_type_holding_a_cards_id_is_left_alone(
    vault: Path,
    col_path: Path,
    mid: int,
    make: Callable[[Any], Any],
    name: str,
    memo: str,
) -> None:
    """The card (edited, or gone with --delete-gone) is named as not added, or nothing is said
    of it; the person's note keeps its fields, type, deck and scheduling, and is never deleted;
    every other card is synced, and the next sync says the same and changes nothing. memo2anki's
    other note type holding it (the card's on a cloze note, or the other way) was taken for
    the card's note: its fields were written with the card's, in the other type's order, and
    --delete-gone deleted it."""
    daily = vault / "daily/2025-04-01.md"
    daily.write_text(note(DOCKER, CLOZE_CNI))
    assert sync(vault, col_path, "--cloze")[0] == 0
    guid = hold_with_another_type(col_path, mid, make)
    mine = held_by_guid(col_path, guid)
    gone = memo != "edited"
    daily.write_text(note(DOCKER) if gone else note(DOCKER, CLOZE_CNI.replace("모음", "묶음")))
    options = ("--cloze", "--delete-gone") if gone else ("--cloze",)
    kind = "cloze card" if mid == CLOZE_MODEL_ID else "card"
    said = (
        f"daily/2025-04-01.md:7: {kind} 'CNI' not added: a '{name}' note in Anki has its id "
        "(changed from memo2anki's note type there?); that note is left as it is (delete it, "
        "or change it back to memo2anki's type, and sync again)"
    )
    outputs = []
    for _ in range(2):
        code, output = sync(vault, col_path, *options)
        assert code == 0, output
        outputs.append(output)
        assert held_by_guid(col_path, guid) == mine
        warnings = [line for line in output.splitlines() if "not added" in line]
        assert warnings == ([] if gone else [said]), output
        assert f"{len(warnings)} warning" in output, output
    assert "nothing changed" in outputs[1], outputs[1]
    with Opened(col_path) as anki:
        notes = [anki.col.get_note(nid) for nid in anki.col.find_notes("")]
        left = {(n.mid, n["Front"]) for n in notes if n.guid != guid}
        basic = anki.col.models.id_for_name("Basic")
    others = {(MODEL_ID, "Docker Network"), (MODEL_ID, "etcd"), (basic, "my own card")}
    if not gone:  # the card's other note (its cloze note, or its card's) updated
        others.add((MODEL_ID if mid == CLOZE_MODEL_ID else CLOZE_MODEL_ID, "CNI"))
    assert left == others  # (gone: deleted with it)
    if not gone:  # the edit in it
        with Opened(col_path) as anki:
            edited = anki.col.db.list("select mid from notes where flds like '%묶음%'")
        assert edited == [CLOZE_MODEL_ID if mid == MODEL_ID else MODEL_ID]


def test_a_card_a_package_retired_is_retired_by_the_next_sync(
    vault: Path, col_path: Path, tmp_path: Path
) -> None:
    """A memo gone, then a package built (for a friend, not imported here): the ledger has
    the card gone from then on, and the next sync saw nothing gone, so the card stayed
    untagged and due here. It is retired as if gone now (this collection never got it so)."""
    sync(vault, col_path)
    with Opened(col_path) as anki:  # synced an hour ago
        anki.col.db.execute("update notes set mod = mod - 3600")
    (vault / "daily/2025-04-01.md").write_text(note(DOCKER), encoding="utf-8")
    built = run(vault, "-o", tmp_path / "friend.apkg", "--no-cache")
    assert built.exit_code == 0 and "1 gone" in built.output, built.output
    code, output = sync(vault, col_path)
    assert code == 0 and "1 card suspended" in output, output
    cni = memo_notes(col_path)["CNI"]
    assert GONE_TAG in cni["tags"] and cni["suspended"]
    code, output = sync(vault, col_path)
    assert code == 0 and "nothing changed" in output, output


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _link_to_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _folder(path: Path) -> None:
    path.mkdir()


def _file(path: Path) -> None:
    path.write_text("someone's file", encoding="utf-8")


OPENED = "not a regular file (Anki's library opens it with the collection); left as it was"
MEDIA_DB = "the collection's media database is damaged ({}, not a file); the collection is left"
# The files and folders a sync opens with a collection (SQLite's beside it and beside its
# media database, that database, the pictures' and the backups' folders), each as something
# it is not; and how what is said of it begins.
OPENED_WITH_IT = {
    "its journal a FIFO": ("collection.anki2-journal", _fifo, OPENED),
    "its write-ahead log a link to /dev/zero": ("collection.anki2-wal", _link_to_zero, OPENED),
    "its media database a FIFO": ("collection.media.db2", _fifo, MEDIA_DB.format("a pipe")),
    "its media database a folder": ("collection.media.db2", _folder, MEDIA_DB.format("a folder")),
    "the media database's write-ahead log a FIFO": ("collection.media.db2-wal", _fifo, OPENED),
    "its pictures' folder a file": (
        "collection.media",
        _file,
        "a file, not a folder, where Anki keeps the collection's pictures; the collection is left",
    ),
    "the backups' folder a FIFO": (
        "backups",
        _fifo,
        "a pipe, not a folder; cannot back up the collection there; nothing changed",
    ),
}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize(
    ("name", "make", "said"), OPENED_WITH_IT.values(), ids=OPENED_WITH_IT.keys()
)
def test_a_file_opened_with_the_collection_that_is_not_what_it_seems_is_named_never_opened(
    vault: Path, col_path: Path, name: str, make: Callable[[Path], None], said: str
) -> None:
    """A FIFO there kept the sync waiting for ever, deaf to Ctrl-C and SIGTERM (SQLite waits
    in C); a device, a file or a folder failed in Anki's words ("File exists", "unable to
    open database file", naming the collection), or went by unseen. It is named, and the
    collection left as it was."""
    odd = col_path.with_name(name)
    if odd.is_dir():
        shutil.rmtree(odd)
    elif odd.exists():
        odd.unlink()
    make(odd)
    before = col_path.read_bytes()
    done = run_cli("sync", vault, "--collection", col_path, "--no-cache")
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[-1].startswith(f"memo2anki: error: {odd}: {said}")
    assert col_path.read_bytes() == before
    assert odd.is_symlink() or not odd.is_file() or odd.read_text() == "someone's file"


# -- a picture gone while the sync runs --------------------------------------------------------


@pytest.mark.parametrize("how", PICTURE_GONE)
@pytest.mark.parametrize("when", ["in a new card", "lost from Anki", "in an edited card"])
def test_a_picture_gone_while_syncing_a_collection_is_named_and_the_rest_goes_in(
    vault: Path, col_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, when: str
) -> None:
    (vault / "image").mkdir()  # (found by its name all the same, as Obsidian finds it)
    (vault / "etcd.png").rename(vault / "image/etcd.png")
    if when != "in a new card":
        assert sync(vault, col_path)[0] == 0
        (image,) = re.findall(r'src="([^"]+)"', str(memo_notes(col_path)["etcd"]["back"]))
        (col_path.with_suffix(".media") / image).unlink()
    if when == "in an edited card":
        (vault / "daily/2025-04-02.md").write_text(note(ETCD + "\n고침"), encoding="utf-8")
    real = cli_sync.run_sync

    def removed_meanwhile(*args: Any, **kwargs: Any) -> Any:
        PICTURE_GONE[how](vault / "image/etcd.png", vault)
        return real(*args, **kwargs)

    monkeypatch.setattr(cli_sync, "run_sync", removed_meanwhile)
    code, output = sync(vault, col_path, "--no-backup")
    assert code == 0, output
    assert (
        "image/etcd.png: image moved or deleted while the deck was written; left out of the deck"
        in output.splitlines()
    ), output
    assert "image added" not in output and "images added" not in output, output
    notes = memo_notes(col_path)
    assert sorted(notes) == ["CNI", "Docker Network", "etcd"]
    assert ("고침" in str(notes["etcd"]["back"])) == (when == "in an edited card")
    (image,) = re.findall(r'src="([^"]+)"', str(notes["etcd"]["back"]))
    assert not (col_path.with_suffix(".media") / image).exists()
