"""``memo2anki sync`` through the real AnkiConnect add-on in the real Anki desktop (headless).

tests/test_sync_ankiconnect.py runs the same syncs against a stand-in for the add-on; here the
add-on itself answers (tests/anki_desktop.py starts Anki once for the module), the command runs
as a person runs it (``python -m memo2anki sync ...`` in a child process), and what a sync did
is read from the profile's collection file with Anki's library, Anki quit meanwhile (the state
before a change is asked of the add-on, Anki running: quicker).

Skipped unless MEMO2ANKI_ANKICONNECT_ADDON names the add-on's folder (see anki_desktop.py).
Each test has a vault, notes and a top deck of its own; the tests share one Anki profile, as a
person's vaults may, and each sync must leave the other tests' notes alone (a first sync with
no ledger once took them: see test_another_vaults_notes_are_left_alone). A test marked
``xfail(strict=True)`` would be a known bug, written as the right behaviour, with what real
Anki did in its reason; there is none today.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from anki.collection import Collection
from anki.decks import DeckId
from anki.notes import NoteId
from anki_desktop import AnkiDesktop, addon_or_skip
from ankiconnect_standin import ADD_ON_ANSWERS
from helpers import png, write_vault

ADDON = addon_or_skip()  # else: one line saying how to run these
PROFILE = "사용자 1"
GONE_TAG = "memo2anki::gone"
DEFAULT_DECK = DeckId(1)  # its options are the person's own

DOCKER = "**Docker Network**\nNone 설정하면 컨테이너 외부와 통신 불가능\nHost: 호스트 네트워크 사용"
CNI = "**CNI**\n컨테이너 네트워크 인터페이스 표준 플러그인 규격과 그 구현들"
ETCD = "**etcd**\n쿠버네티스의 모든 클러스터 상태를 저장하는 분산 키값 저장소\n![[etcd.png]]"
VPC = "**VPC 서브넷**\n퍼블릭 서브넷은 인터넷 게이트웨이로 가는 경로를 가진다"


def note(subject: str, *cards: str) -> str:
    return f"# 오전\n- [x] 공부\n\n# 공부 메모장\n## {subject}\n" + "\n\n".join(cards) + "\n"


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnkiDesktop]:
    """Anki desktop with AnkiConnect, on a fresh profile, for the whole module."""
    with AnkiDesktop(tmp_path_factory.mktemp("anki-desktop") / "Anki2", PROFILE, ADDON) as anki:
        yield anki


_numbers = itertools.count(1)


@dataclass
class Vault:
    """A test's own vault: its notes dated in a week no other test uses (a card's identity is
    its note's file name, subject and front), its cards under a top deck of its own."""

    root: Path
    deck: str
    first_day: date

    def path(self, day: int) -> Path:
        return self.root / "daily" / f"{self.first_day + timedelta(days=day)}.md"

    def write(self, day: int, text: str) -> None:
        self.path(day).write_text(text, encoding="utf-8")


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    n = next(_numbers)
    root = write_vault(tmp_path / "vault", {"etcd.png": png(seed=3)})
    (root / "daily").mkdir()
    return Vault(root, f"공부 메모장 {n:02d}", date(2025, 1, 6) + timedelta(weeks=n))


@dataclass
class Synced:
    code: int
    output: str  # stdout and stderr together, as a person sees them


def sync(desktop: AnkiDesktop, vault: Vault, *args: str, via: bool = True) -> Synced:
    """``memo2anki sync`` as a person types it, in a process of its own, into the Anki of
    ``desktop``. ``via``: with ``--via ankiconnect`` (never the collection file); without it,
    the way memo2anki chooses (``ANKI_BASE`` is the test's, so a wrong choice cannot reach
    anyone's own Anki)."""
    command = [sys.executable, "-m", "memo2anki", "sync", str(vault.root), "--deck", vault.deck]
    command += ["--no-cache", "--ankiconnect-url", desktop.url, *args]
    if via:
        command += ["--via", "ankiconnect"]
    env = {**os.environ, "ANKI_BASE": str(desktop.base), "PYTHONIOENCODING": "utf-8"}
    env.pop("MEMO2ANKI_ANKICONNECT_KEY", None)
    done = subprocess.run(
        command, capture_output=True, text=True, encoding="utf-8", env=env, timeout=120
    )
    return Synced(done.returncode, done.stdout + done.stderr)


def into(desktop: AnkiDesktop) -> str:
    """How a sync names where it went: the profile Anki has open, and the way in."""
    return f"into profile '{PROFILE}' through AnkiConnect at {desktop.url}"


@dataclass
class Stored:
    """One of memo2anki's notes as Anki holds it."""

    note_id: int
    fields: dict[str, str]
    tags: list[str]
    decks: list[str]  # of its cards
    suspended: bool  # all its cards
    mod: int
    guid: str = field(default="", compare=False)  # (AnkiConnect does not tell it)


@dataclass
class Collected:
    """What Anki holds of one test's deck."""

    notes: dict[str, Stored]  # by Front
    note_count: int  # every note in the collection, any deck
    media: dict[str, bytes] = field(default_factory=dict)  # the files its notes show


@contextmanager
def open_collection(desktop: AnkiDesktop) -> Iterator[Collection]:
    """The profile's collection file opened with Anki's library: Anki is quit first (as File >
    Exit, exit 0), and started again after the block."""
    with desktop.stopped() as path:
        col = Collection(str(path))
        try:
            yield col
        finally:
            col.close()


def schema_mark(col: Collection) -> int:
    """When the collection's schema last changed (a change past the last sync with AnkiWeb
    makes it ask for a one-way full sync)."""
    assert col.db is not None
    return int(col.db.scalar("select scm from col"))


def read(col: Collection, deck: str) -> Collected:
    """The notes under ``deck`` (and its subdecks) in a collection file, and their media."""
    notes: dict[str, Stored] = {}
    media: dict[str, bytes] = {}
    for nid in col.find_notes(f'"deck:{deck}"'):
        n = col.get_note(nid)
        cards = [col.get_card(c) for c in n.card_ids()]
        notes[n["Front"]] = Stored(
            nid,
            dict(n.items()),
            sorted(n.tags),
            sorted({col.decks.name(c.did) for c in cards}),
            all(c.queue == -1 for c in cards),
            n.mod,
            n.guid,
        )
        for text in n.fields:
            for name in col.media.files_in_str(n.mid, text):
                file = Path(col.media.dir(), name)
                if file.exists():
                    media[name] = file.read_bytes()
    return Collected(notes, len(col.find_notes("")), media)


def stored(desktop: AnkiDesktop, deck: str) -> Collected:
    """What Anki wrote into its file (read with Anki closed, then started again)."""
    with open_collection(desktop) as col:
        return read(col, deck)


def live(desktop: AnkiDesktop, deck: str) -> Collected:
    """What the add-on says Anki holds, Anki running (quicker than :func:`stored`; no GUIDs,
    no media): for the state before a change, the file being checked after it."""
    nids = desktop.call("findNotes", query=f'"deck:{deck}"')
    notes: dict[str, Stored] = {}
    for info in desktop.call("notesInfo", notes=nids):
        cards = info["cards"]
        decks = desktop.call("getDecks", cards=cards)
        suspended = desktop.call("areSuspended", cards=cards)
        fields = sorted(info["fields"].items(), key=lambda kv: kv[1]["order"])
        notes[info["fields"]["Front"]["value"]] = Stored(
            info["noteId"],
            {name: value["value"] for name, value in fields},
            sorted(info["tags"]),
            sorted(decks),
            all(suspended),
            info["mod"],
        )
    return Collected(notes, len(desktop.call("findNotes", query="")))


def edit_front_in_anki(desktop: AnkiDesktop, note_id: int, front: str) -> None:
    """A person's edit of a note's Front in Anki (the add-on's updateNoteFields, which saves
    it as Anki's editor does)."""
    desktop.call("updateNoteFields", note={"id": note_id, "fields": {"Front": front}})


# -- the add-on itself -------------------------------------------------------------------------


def test_the_add_on_answers_in_the_shapes_the_client_reads(desktop: AnkiDesktop) -> None:
    """Protocol 6 as the add-on speaks it: the replies ankiconnect_standin.py must give too
    (ADD_ON_ANSWERS, checked against the stand-in by test_sync_ankiconnect.py)."""
    for body, reply in ADD_ON_ANSWERS:
        assert desktop.post(body) == reply, body
    assert desktop.call("getActiveProfile") == PROFILE
    media = desktop.base / PROFILE / "collection.media"
    assert not (media / "_memo2anki-skipped.txt").exists()  # the skipHash matched


# -- first sync --------------------------------------------------------------------------------


def test_first_sync_adds_notes_with_fields_tags_decks_and_pictures(
    desktop: AnkiDesktop, vault: Vault
) -> None:
    vault.write(0, note("CKA", DOCKER, ETCD))
    vault.write(1, note("AWS", VPC))
    with open_collection(desktop) as col:
        options = col.decks.config_dict_for_deck_id(DEFAULT_DECK)
        options["new"]["perDay"] = 7  # the person's own deck options
        col.decks.update_config(options)
        scm = schema_mark(col)
        before = len(col.find_notes(""))

    done = sync(desktop, vault)
    assert done.code == 0, done.output
    assert "3 cards (CKA 2, AWS 1) from 2 notes, 1 image, 0 warnings; 3 new; synced" in done.output
    assert f"{into(desktop)}: 3 notes added, 1 image added" in done.output

    with open_collection(desktop) as col:
        anki = read(col, vault.deck)
        # The person's deck options kept; nothing that makes AnkiWeb ask for a full sync.
        assert col.decks.config_dict_for_deck_id(DEFAULT_DECK)["new"]["perDay"] == 7
        assert schema_mark(col) == scm
    assert anki.note_count == before + 3
    assert set(anki.notes) == {"Docker Network", "etcd", "VPC 서브넷"}
    docker, etcd, vpc = anki.notes["Docker Network"], anki.notes["etcd"], anki.notes["VPC 서브넷"]
    assert list(docker.fields) == ["Front", "Back", "Subject", "Source", "Date", "Link"]
    assert "None 설정하면 컨테이너 외부와 통신 불가능" in docker.fields["Back"]
    assert docker.fields["Subject"] == "CKA" and vpc.fields["Subject"] == "AWS"
    assert docker.fields["Source"] == f"daily/{vault.first_day}.md"
    assert docker.fields["Date"] == str(vault.first_day)
    assert docker.fields["Link"].startswith("obsidian://open?vault=vault&file=daily%2F")
    assert docker.tags == ["CKA"] and vpc.tags == ["AWS"]
    assert docker.decks == etcd.decks == [f"{vault.deck}::CKA"]
    assert vpc.decks == [f"{vault.deck}::AWS"]
    assert not any(n.suspended for n in anki.notes.values())
    # The picture: stored in the profile's media folder, byte for byte, and shown by the back.
    (image,) = re.findall(r'<img[^>]*\bsrc="([^"]+)"', etcd.fields["Back"])
    assert anki.media == {image: png(seed=3)}

    # What the add-on says agrees with the file, and a second sync changes nothing.
    assert live(desktop, vault.deck) == Collected(anki.notes, anki.note_count)
    again = sync(desktop, vault)
    assert again.code == 0 and "3 unchanged; synced" in again.output, again.output
    assert "already matches the memos; nothing changed" in again.output
    assert stored(desktop, vault.deck).notes == anki.notes


# -- each change in a memo ---------------------------------------------------------------------


def test_an_edited_back_updates_its_note(desktop: AnkiDesktop, vault: Vault) -> None:
    vault.write(0, note("CKA", DOCKER, ETCD))
    assert sync(desktop, vault).code == 0
    first = live(desktop, vault.deck)

    vault.write(0, note("CKA", DOCKER.replace("통신 불가능", "통신이 전혀 안 됨"), ETCD))
    done = sync(desktop, vault)
    assert done.code == 0, done.output
    assert "1 updated, 1 unchanged; synced" in done.output
    assert ": 1 note updated" in done.output and "added" not in done.output

    now = stored(desktop, vault.deck)
    assert now.note_count == first.note_count
    docker = now.notes["Docker Network"]
    assert docker.note_id == first.notes["Docker Network"].note_id
    assert "통신이 전혀 안 됨" in docker.fields["Back"]
    assert now.notes["etcd"] == first.notes["etcd"]  # not touched


def test_a_renamed_heading_keeps_its_note(desktop: AnkiDesktop, vault: Vault) -> None:
    vault.write(0, note("CKA", DOCKER, ETCD))
    assert sync(desktop, vault).code == 0
    first = live(desktop, vault.deck)

    vault.write(0, note("CKA", DOCKER.replace("**Docker Network**", "**Docker 네트워크**"), ETCD))
    done = sync(desktop, vault)
    assert done.code == 0, done.output
    assert "1 renamed, 1 unchanged; synced" in done.output and ": 1 note updated" in done.output

    now = stored(desktop, vault.deck)
    assert now.note_count == first.note_count
    assert set(now.notes) == {"Docker 네트워크", "etcd"}
    assert now.notes["Docker 네트워크"].note_id == first.notes["Docker Network"].note_id


def test_a_memo_moved_to_another_subject_moves_its_card(desktop: AnkiDesktop, vault: Vault) -> None:
    vault.write(0, note("CKA", DOCKER, ETCD))
    assert sync(desktop, vault).code == 0
    first = live(desktop, vault.deck)

    vault.write(0, note("CKA", DOCKER) + "## Kubernetes\n" + ETCD + "\n")
    done = sync(desktop, vault)
    assert done.code == 0, done.output
    assert "1 moved, 1 unchanged; synced" in done.output
    assert "1 card moved" in done.output

    now = stored(desktop, vault.deck)
    etcd = now.notes["etcd"]
    assert etcd.note_id == first.notes["etcd"].note_id
    assert etcd.decks == [f"{vault.deck}::Kubernetes"]
    assert etcd.fields["Subject"] == "Kubernetes" and etcd.tags == ["Kubernetes"]


def test_a_deleted_memo_is_tagged_gone_and_suspended_and_comes_back(
    desktop: AnkiDesktop, vault: Vault
) -> None:
    vault.write(0, note("CKA", DOCKER))
    vault.write(1, note("CKA", ETCD))
    assert sync(desktop, vault).code == 0
    first = live(desktop, vault.deck)

    vault.path(1).unlink()
    done = sync(desktop, vault)
    assert done.code == 0, done.output
    assert "1 gone, 1 unchanged; synced" in done.output
    assert "1 card suspended" in done.output

    gone = stored(desktop, vault.deck).notes["etcd"]
    assert gone.note_id == first.notes["etcd"].note_id
    assert GONE_TAG in gone.tags and gone.suspended

    vault.write(1, note("CKA", ETCD))
    done = sync(desktop, vault)
    assert done.code == 0 and "1 returned" in done.output, done.output
    back = stored(desktop, vault.deck).notes["etcd"]
    assert back.note_id == gone.note_id
    assert GONE_TAG not in back.tags and not back.suspended


def test_delete_gone_deletes_the_note_of_a_memo_deleted_since(
    desktop: AnkiDesktop, vault: Vault
) -> None:
    vault.write(0, note("CKA", DOCKER))
    vault.write(1, note("CKA", ETCD))
    assert sync(desktop, vault).code == 0
    first = live(desktop, vault.deck)

    vault.path(1).unlink()
    done = sync(desktop, vault, "--delete-gone")
    assert done.code == 0, done.output
    assert "1 gone, 1 unchanged; synced" in done.output, done.output
    assert f"{into(desktop)}: 1 note deleted\n" in done.output  # none "retired by earlier runs"
    now = stored(desktop, vault.deck)
    assert set(now.notes) == {"Docker Network"}
    assert now.note_count == first.note_count - 1


def test_delete_gone_deletes_notes_retired_by_an_earlier_sync(
    desktop: AnkiDesktop, vault: Vault
) -> None:
    vault.write(0, note("CKA", DOCKER))
    vault.write(1, note("CKA", ETCD))
    assert sync(desktop, vault).code == 0
    vault.path(1).unlink()
    assert sync(desktop, vault).code == 0  # tagged and suspended
    retired = live(desktop, vault.deck)
    assert retired.notes["etcd"].suspended

    done = sync(desktop, vault, "--delete-gone")
    assert done.code == 0, done.output
    assert f"{into(desktop)}: 1 note deleted (1 retired by earlier runs)" in done.output
    now = stored(desktop, vault.deck)
    assert set(now.notes) == {"Docker Network"}
    assert now.note_count == retired.note_count - 1


def test_another_vaults_notes_are_left_alone(desktop: AnkiDesktop, vault: Vault) -> None:
    """Two vaults synced into one profile (as every test here is). Seen here before the fix:
    the second vault's first sync (no ledger: the collection read as its ledger) said
    '2 moved' and took the first vault's notes of the same text into its own deck, and a
    later 'sync --delete-gone' deleted a note another vault had retired ('2 notes deleted
    (1 retired by earlier runs)' with one memo deleted)."""
    vault.write(0, note("CKA", DOCKER, CNI))
    assert sync(desktop, vault).code == 0
    vault.write(0, note("CKA", DOCKER))
    assert sync(desktop, vault).code == 0  # CNI retired
    mine = live(desktop, vault.deck)
    assert GONE_TAG in mine.notes["CNI"].tags and mine.notes["CNI"].suspended

    # Another folder of the same name (the Link names the same vault), another deck.
    other = Vault(vault.root.parent / "elsewhere" / "vault", f"{vault.deck} 다른", vault.first_day)
    write_vault(other.root, {})
    (other.root / "daily").mkdir()
    other.write(3, note("CKA", DOCKER, VPC))
    for _ in range(2):  # with no ledger of its own, then with it
        done = sync(desktop, other, "--delete-gone")
        assert done.code == 0, done.output
        assert "moved" not in done.output and "gone" not in done.output, done.output
        assert "deleted" not in done.output, done.output
    assert live(desktop, vault.deck).notes == mine.notes  # untouched
    theirs = stored(desktop, other.deck)
    assert set(theirs.notes) == {"Docker Network", "VPC 서브넷"}
    assert theirs.note_count == mine.note_count + 2

    # This vault's own --delete-gone still deletes the note it retired.
    done = sync(desktop, vault, "--delete-gone")
    assert f"{into(desktop)}: 1 note deleted (1 retired by earlier runs)" in done.output
    assert set(stored(desktop, vault.deck).notes) == {"Docker Network"}


def test_a_card_studied_in_a_filtered_deck_moves_with_its_memo(
    desktop: AnkiDesktop, vault: Vault
) -> None:
    """The add-on's getDecks names the filtered deck a card is studied in (and cardsInfo
    tells no original deck): memo2anki asks Anki's 'did:' search for its home deck, so
    the card still moves with its memo (out of the filtered deck, as changeDeck does), and
    is not taken for one moved by hand."""
    vault.write(0, note("CKA", DOCKER, ETCD))
    assert sync(desktop, vault).code == 0
    with open_collection(desktop) as col:  # (the add-on cannot make a filtered deck)
        studying = col.sched.get_or_create_filtered_deck(DeckId(0))
        studying.name = f"{vault.deck} 복습"
        studying.config.search_terms[0].search = f'"deck:{vault.deck}" "Front:etcd"'
        col.sched.add_or_update_filtered_deck(studying)
    assert live(desktop, vault.deck).notes["etcd"].decks == [f"{vault.deck} 복습"]

    vault.write(0, note("CKA", DOCKER) + "## Kubernetes\n" + ETCD + "\n")
    done = sync(desktop, vault)
    assert done.code == 0, done.output
    assert "1 moved, 1 unchanged; synced" in done.output and "1 card moved" in done.output
    assert "by hand" not in done.output, done.output
    with open_collection(desktop) as col:
        (nid,) = col.find_notes(f'"deck:{vault.deck}::Kubernetes"')
        (card,) = col.get_note(nid).cards()
        assert col.decks.name(card.did) == f"{vault.deck}::Kubernetes" and card.odid == 0


def test_a_heading_written_in_nfd_korean(desktop: AnkiDesktop, vault: Vault) -> None:
    """A note saved on macOS may hold its Korean in NFD (decomposed jamo); Anki keeps
    fields in NFC. The note is found again (by its id) whatever form its Front has: a sync
    of the unchanged memo changes nothing, and an edit of its back updates it."""
    front = unicodedata.normalize("NFD", "**쿠버네티스 API 서버**")
    text = f"{front}\n모든 요청은 API 서버를 거친다"
    vault.write(0, note("CKA", text))
    assert sync(desktop, vault).code == 0
    first = live(desktop, vault.deck)
    assert len(first.notes) == 1
    again = sync(desktop, vault)
    assert "already matches the memos; nothing changed" in again.output, again.output

    vault.write(0, note("CKA", text.replace("거친다", "반드시 거친다")))
    done = sync(desktop, vault)
    assert done.code == 0, done.output
    assert ": 1 note updated" in done.output and "added" not in done.output, done.output
    now = stored(desktop, vault.deck)
    assert now.note_count == first.note_count
    (held,) = now.notes.values()
    assert held.note_id == next(iter(first.notes.values())).note_id
    assert "반드시 거친다" in unicodedata.normalize("NFC", held.fields["Back"])


# -- which profile -----------------------------------------------------------------------------


def test_a_profile_named_goes_through_ankiconnect_when_anki_has_it_open(
    desktop: AnkiDesktop, vault: Vault
) -> None:
    vault.write(0, note("CKA", DOCKER))
    done = sync(desktop, vault, "--profile", PROFILE, via=False)
    assert done.code == 0, done.output
    assert f"1 new; synced {into(desktop)}" in done.output
    assert "Docker Network" in stored(desktop, vault.deck).notes

    other = sync(desktop, vault, "--profile", "사용자 2", via=False)
    assert other.code == 1
    assert f"no Anki profile named '사용자 2' in {desktop.base}; there are: '{PROFILE}'" in (
        other.output
    )


def test_the_summary_names_the_profile_anki_has_open(desktop: AnkiDesktop, vault: Vault) -> None:
    vault.write(0, note("CKA", DOCKER))
    done = sync(desktop, vault, "--json", via=False)  # the profile Anki has open, not named
    assert done.code == 0, done.output
    assert f"1 new; synced {into(desktop)}" in done.output
    report = json.loads(done.output[done.output.index("{") : done.output.rindex("}") + 1])
    assert report["target"] == {
        "way": "ankiconnect",
        "profile": PROFILE,
        "collection": None,
        "url": desktop.url,
        "text": into(desktop),
    }
    assert report["synced"]["added"] == 1


# -- a Front edited in Anki, then each change in its memo --------------------------------------


def front_edited_in_anki(desktop: AnkiDesktop, vault: Vault) -> Collected:
    """Two memos synced, then the Front of 'etcd' edited in Anki; what Anki holds then."""
    vault.write(0, note("CKA", DOCKER))
    vault.write(1, note("CKA", ETCD))
    assert sync(desktop, vault).code == 0
    etcd = live(desktop, vault.deck).notes["etcd"]
    edit_front_in_anki(desktop, etcd.note_id, "etcd (내 메모)")
    edited = live(desktop, vault.deck)
    assert edited.notes["etcd (내 메모)"].note_id == etcd.note_id
    return edited


def test_a_front_edited_in_anki_then_syncs_of_unchanged_memos(
    desktop: AnkiDesktop, vault: Vault
) -> None:
    edited = front_edited_in_anki(desktop, vault)
    for _ in range(2):
        done = sync(desktop, vault)
        assert done.code == 0, done.output
        assert "2 unchanged; synced" in done.output
        assert "already matches the memos; nothing changed" in done.output
    now = stored(desktop, vault.deck)
    assert now.note_count == edited.note_count
    assert now.notes == edited.notes  # the edit made in Anki kept


def test_a_front_edited_in_anki_then_its_back_edited(desktop: AnkiDesktop, vault: Vault) -> None:
    edited = front_edited_in_anki(desktop, vault)
    vault.write(1, note("CKA", ETCD.replace("분산 키값 저장소", "분산 키-값 저장소 (Raft)")))
    done = sync(desktop, vault)
    assert done.code == 0, done.output
    assert "1 updated, 1 unchanged; synced" in done.output
    assert ": 1 note updated" in done.output and "added" not in done.output
    now = stored(desktop, vault.deck)
    assert now.note_count == edited.note_count
    etcd = now.notes["etcd"]  # the memo changed: all its fields are the memo's again
    assert etcd.note_id == edited.notes["etcd (내 메모)"].note_id
    assert "분산 키-값 저장소 (Raft)" in etcd.fields["Back"]


def test_a_front_edited_in_anki_then_its_heading_renamed(
    desktop: AnkiDesktop, vault: Vault
) -> None:
    edited = front_edited_in_anki(desktop, vault)
    vault.write(1, note("CKA", ETCD.replace("**etcd**", "**etcd 클러스터**")))
    done = sync(desktop, vault)
    assert done.code == 0, done.output
    assert "1 renamed, 1 unchanged; synced" in done.output
    assert ": 1 note updated" in done.output and "added" not in done.output
    now = stored(desktop, vault.deck)
    assert now.note_count == edited.note_count
    assert now.notes["etcd 클러스터"].note_id == edited.notes["etcd (내 메모)"].note_id


def test_a_front_edited_in_anki_then_its_memo_moved_to_another_subject(
    desktop: AnkiDesktop, vault: Vault
) -> None:
    edited = front_edited_in_anki(desktop, vault)
    vault.write(1, note("Kubernetes", ETCD))
    done = sync(desktop, vault)
    assert done.code == 0, done.output
    assert "1 moved, 1 unchanged; synced" in done.output and "1 card moved" in done.output
    now = stored(desktop, vault.deck)
    assert now.note_count == edited.note_count
    etcd = now.notes["etcd"]
    assert etcd.note_id == edited.notes["etcd (내 메모)"].note_id
    assert etcd.decks == [f"{vault.deck}::Kubernetes"]
    assert etcd.fields["Subject"] == "Kubernetes" and etcd.tags == ["Kubernetes"]


def test_a_front_edited_in_anki_then_its_memo_deleted(desktop: AnkiDesktop, vault: Vault) -> None:
    edited = front_edited_in_anki(desktop, vault)
    vault.path(1).unlink()
    done = sync(desktop, vault)
    assert done.code == 0, done.output
    assert "1 gone, 1 unchanged; synced" in done.output and "1 card suspended" in done.output
    now = stored(desktop, vault.deck)
    assert now.note_count == edited.note_count
    etcd = now.notes["etcd (내 메모)"]  # the memo gone: the edit made in Anki stays
    assert etcd.note_id == edited.notes["etcd (내 메모)"].note_id
    assert GONE_TAG in etcd.tags and etcd.suspended


def test_a_front_edited_in_anki_then_its_memo_deleted_with_delete_gone(
    desktop: AnkiDesktop, vault: Vault
) -> None:
    edited = front_edited_in_anki(desktop, vault)
    vault.path(1).unlink()
    done = sync(desktop, vault, "--delete-gone")
    assert done.code == 0, done.output
    assert "1 gone" in done.output and "1 note deleted" in done.output
    now = stored(desktop, vault.deck)
    assert set(now.notes) == {"Docker Network"}
    assert now.note_count == edited.note_count - 1


@dataclass(frozen=True)
class AsItIs:
    """Everything of a note a person would see change."""

    guid: str
    note_type: int
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    mod: int
    usn: int
    cards: tuple[tuple[int, int, int, int], ...]  # (id, deck, template, queue)


def _as_it_is(col: Collection, note_id: int) -> AsItIs:
    n = col.get_note(NoteId(note_id))
    cards = sorted((c.id, c.did, c.ord, c.queue) for c in (col.get_card(i) for i in n.card_ids()))
    return AsItIs(n.guid, n.mid, tuple(n.fields), tuple(n.tags), n.mod, n.usn, tuple(cards))


def test_a_synced_card_whose_note_the_person_changed_to_basic_is_left_alone(
    desktop: AnkiDesktop, vault: Vault
) -> None:
    """The person changed a synced card's note to Basic in Anki, then edited its memo. Seen
    here before the fix: the add-on's importPackage (Anki's importer) changed that Basic note
    back to memo2anki's note type (same id and GUID), put the memo's new fields in it, gave it
    a second card, and sync said '1 note added' with no warning."""
    vault.write(0, note("CKA", DOCKER, CNI))
    assert sync(desktop, vault).code == 0
    with open_collection(desktop) as col:
        (nid,) = col.find_notes(f'"deck:{vault.deck}" "note:memo2anki" "Front:CNI"')
        memo, basic = col.models.by_name("memo2anki"), col.models.by_name("Basic")
        assert memo is not None and basic is not None
        col.models.change(memo, [nid], basic, {0: 0, 1: 1}, {0: 0})  # Change Note Type
        before = _as_it_is(col, nid)
    vault.write(0, note("CKA", DOCKER, CNI + " (CNCF)"))
    done = sync(desktop, vault)
    assert done.code == 0, done.output
    lines = [x for x in done.output.splitlines() if "not added" in x]
    assert lines == [
        f"{vault.path(0).relative_to(vault.root).as_posix()}:10: card 'CNI' not added: a "
        "'Basic' note in Anki has its id (changed from memo2anki's note type there?); that "
        "note is left as it is (delete it, or change it back to memo2anki's type, and sync "
        "again)"
    ]
    assert "1 updated, 1 unchanged; synced" in done.output
    assert f"{into(desktop)}: nothing changed" in done.output
    with open_collection(desktop) as col:
        assert _as_it_is(col, nid) == before
        assert set(read(col, vault.deck).notes) == {"Docker Network", "CNI"}  # (that Basic one)


def test_a_first_sync_whose_card_id_a_basic_note_holds_says_what_the_import_did(
    desktop: AnkiDesktop, vault: Vault
) -> None:
    """No note id remembered (a first sync): memo2anki cannot know beforehand. Real Anki's
    import (the add-on's importPackage) changes the person's Basic note to memo2anki's note
    type, same id and GUID, puts the card's fields and tags in it and gives it a second card,
    its own card left as it was. Seen here before: sync said '2 notes added' and nothing else;
    now it says what the import did and how to find that note."""
    vault.write(0, note("CKA", DOCKER, CNI))
    command = [sys.executable, "-m", "memo2anki", str(vault.root), "--deck", vault.deck]
    dry = subprocess.run([*command, "--dry-run", "--json", "--no-cache"], capture_output=True)
    guid = {c["front"]: c["guid"] for c in json.loads(dry.stdout)["cards"]}["CNI"]
    with open_collection(desktop) as col:
        basic = col.models.by_name("Basic")
        assert basic is not None
        mine = col.new_note(basic)
        mine["Front"], mine["Back"] = "my Basic card", "my words"
        mine.guid = guid
        col.add_note(mine, DEFAULT_DECK)
        (card_before,) = _as_it_is(col, mine.id).cards
    done = sync(desktop, vault)
    assert done.code == 0, done.output
    lines = [x for x in done.output.splitlines() if "not added" in x]
    assert lines == [
        f"{vault.path(0).relative_to(vault.root).as_posix()}:10: card 'CNI' not added: a note "
        "of another note type in Anki had its id, and Anki's import changed that note to "
        "memo2anki's note type instead, putting this card's fields in it unless it was edited "
        f"since the memo (in Anki's browser, 'nid:{mine.id}' finds it; Notes > Change Note "
        "Type changes it back)"
    ]
    assert f"{into(desktop)}: 1 note added" in done.output
    with open_collection(desktop) as col:
        now = _as_it_is(col, mine.id)
        assert (now.guid, now.note_type) == (guid, col.models.id_for_name("memo2anki"))
        assert now.fields[:2] == (
            "CNI",
            "<p>컨테이너 네트워크 인터페이스 표준 플러그인 규격과 그 구현들</p>",
        )
        assert card_before[0] in [c[0] for c in now.cards]  # its own card kept
        assert set(read(col, vault.deck).notes) == {"Docker Network"}


def test_a_sync_leaves_memo2ankis_note_type_as_the_person_made_it(
    desktop: AnkiDesktop, vault: Vault
) -> None:
    """The person renamed memo2anki's note type and its card type and restyled it in Anki.
    Through the add-on's own import: the new note goes to that note type, not to a copy
    ('memo2anki+', whose note later syncs could not update), and the note type keeps all the
    person made of it, with no full sync forced."""
    vault.write(0, note("CKA", DOCKER))
    assert sync(desktop, vault).code == 0
    with open_collection(desktop) as col:
        (mid,) = (m.id for m in col.models.all_names_and_ids() if m.name == "memo2anki")
        model = col.models.get(mid)
        assert model is not None
        as_memo2anki_made_it = copy.deepcopy(model)
        model["name"] = "내 메모 카드"
        model["css"] += "\n.card { font-size: 30px; }"
        model["tmpls"][0]["name"] = "My Card"
        model["tmpls"][0]["qfmt"] = "<div>내 앞면</div>" + model["tmpls"][0]["qfmt"]
        col.models.update_dict(model)
        mine = copy.deepcopy(col.models.get(mid))
        schema = schema_mark(col)
    try:
        vault.write(0, note("CKA", DOCKER, CNI))
        done = sync(desktop, vault)
        assert done.code == 0 and f"{into(desktop)}: 1 note added" in done.output, done.output
        vault.write(0, note("CKA", DOCKER, CNI + " (CNCF)"))
        done = sync(desktop, vault)
        assert done.code == 0 and f"{into(desktop)}: 1 note updated" in done.output, done.output
        assert "not added" not in done.output
        with open_collection(desktop) as col:
            now = col.models.get(mid)
            assert now is not None and mine is not None
            assert (now["name"], now["css"], now["tmpls"]) == (
                mine["name"],
                mine["css"],
                mine["tmpls"],
            )
            assert [m.name for m in col.models.all_names_and_ids() if "memo2anki" in m.name] == []
            notes = read(col, vault.deck).notes
            assert (
                set(notes) == {"Docker Network", "CNI"} and "(CNCF)" in notes["CNI"].fields["Back"]
            )
            assert col.get_note(NoteId(notes["CNI"].note_id)).mid == mid
            assert schema_mark(col) == schema
    finally:  # (the other tests' profile: memo2anki's note type as it made it)
        with open_collection(desktop) as col:
            col.models.update_dict(as_memo2anki_made_it)
