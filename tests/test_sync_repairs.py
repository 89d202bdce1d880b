"""Whatever went out wrong, the next sync puts right; AnkiConnect as sure as the collection
way (notes found by id, not by fields a person may edit); --delete-gone deletes every retired
card of the run's reach; every sync names its target; memo2anki's note types stay as the
person made them, and get the new notes. Through real collections, the collection way with
Anki's library and AnkiConnect through the stand-in add-on."""

from __future__ import annotations

import json
import shutil
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from ankiconnect_standin import AnkiConnectStandIn
from helpers import Anki, memo2anki_notes, png, run, write_vault

from memo2anki.changes.notes import CLOZE_MODEL_ID, MODEL_ID
from memo2anki.changes.plan import GONE_TAG

DOCKER = "**Docker Network**\nNone 설정하면 컨테이너 외부와 통신 불가능\nHost: 호스트 네트워크 사용"
CNI = "**CNI**\n컨테이너 네트워크 인터페이스 표준 플러그인 규격과 그 구현들"
ETCD = "**etcd**\n쿠버네티스의 모든 클러스터 상태를 저장하는 분산 키값 저장소\n![[etcd.png]]"
DAY1, DAY2 = "daily/2025-04-01.md", "daily/2025-04-02.md"


def note(*cards: str, subject: str = "CKA") -> str:
    return f"# 공부 메모장\n## {subject}\n" + "\n\n".join(cards) + "\n"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "vault",
        {DAY1: note(DOCKER, CNI), DAY2: note(ETCD), "etcd.png": png(seed=3)},
    )


notes_of = memo2anki_notes


class Way:
    """One way into Anki: ``sync`` runs memo2anki into it, ``col`` is the collection to
    look at or edit as the person would (in Anki), between syncs."""

    def __init__(self, name: str, path: Path, standin: AnkiConnectStandIn | None) -> None:
        self.name, self.path, self.standin = name, path, standin
        self._col: Collection | None = None

    def sync(self, vault: Path, *args: str | Path) -> tuple[int, str]:
        self.close()
        where: list[str | Path] = (
            ["--ankiconnect-url", self.standin.url]
            if self.standin is not None
            else ["--collection", self.path]
        )
        result = run("sync", vault, *where, "--no-cache", *args)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result.exit_code, result.output

    @property
    def col(self) -> Collection:
        if self.standin is not None:
            assert self.standin.col is not None
            return self.standin.col
        if self._col is None:
            self._col = Collection(str(self.path))
        return self._col

    def close(self) -> None:
        if self._col is not None:
            self._col.close()
            self._col = None

    def notes(self) -> dict[str, dict[str, object]]:
        return notes_of(self.col)

    def edit_front(self, front: str, new: str) -> None:
        """The person edits a note's Front in Anki."""
        n = self.col.get_note(int(str(self.notes()[front]["id"])))
        n["Front"] = new
        self.col.update_note(n)


@pytest.fixture(params=["collection", "ankiconnect"])
def way(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Way]:
    Anki(tmp_path / "profile").close()
    path = tmp_path / "profile" / "collection.anki2"
    if request.param == "collection":
        way = Way("collection", path, None)
        yield way
        way.close()
        return
    with AnkiConnectStandIn(path) as server:
        yield Way("ankiconnect", path, server)


# -- AnkiConnect finds notes by id: the four cases after a Front edited in Anki ---------------


def test_a_front_edited_in_anki_then_sync_again_changes_nothing(vault: Path, way: Way) -> None:
    assert way.sync(vault)[0] == 0
    way.edit_front("CNI", "CNI (내가 고침)")
    code, output = way.sync(vault)
    assert code == 0 and "already matches the memos; nothing changed" in output, output
    assert set(way.notes()) == {"Docker Network", "CNI (내가 고침)", "etcd"}


def test_a_front_edited_in_anki_then_its_memo_edited_updates_that_note(
    vault: Path, way: Way
) -> None:
    assert way.sync(vault)[0] == 0
    nid = way.notes()["CNI"]["id"]
    way.edit_front("CNI", "CNI (내가 고침)")
    (vault / DAY1).write_text(note(DOCKER, CNI + "\nCalico, Flannel, Cilium"), encoding="utf-8")
    code, output = way.sync(vault)
    assert code == 0 and "1 note updated" in output and "added" not in output, output
    notes = way.notes()
    assert notes["CNI"]["id"] == nid and "Cilium" in str(notes["CNI"]["back"])
    assert len(notes) == 3


def test_a_front_edited_in_anki_then_its_memo_deleted_retires_that_note(
    vault: Path, way: Way
) -> None:
    assert way.sync(vault)[0] == 0
    way.edit_front("CNI", "CNI (내가 고침)")
    (vault / DAY1).write_text(note(DOCKER), encoding="utf-8")
    code, output = way.sync(vault)
    assert code == 0 and "1 card suspended" in output, output
    edited = way.notes()["CNI (내가 고침)"]
    assert GONE_TAG in edited["tags"] and edited["suspended"]  # type: ignore[operator]


def test_a_front_edited_in_anki_then_its_memo_moved_to_another_subject_moves_it(
    vault: Path, way: Way
) -> None:
    assert way.sync(vault)[0] == 0
    way.edit_front("CNI", "CNI (내가 고침)")
    (vault / DAY1).write_text(note(DOCKER) + "## 네트워크\n" + CNI + "\n", encoding="utf-8")
    code, output = way.sync(vault)
    assert code == 0 and "1 card moved" in output and "added" not in output, output
    notes = way.notes()
    assert notes["CNI"]["deck"] == "공부 메모장::네트워크" and len(notes) == 3


# -- what went out wrong is put right ---------------------------------------------------------


def test_a_note_older_than_memo2ankis_last_write_is_written_though_the_ledger_says_unchanged(
    vault: Path, way: Way, tmp_path: Path
) -> None:
    """A first sync without the picture (the wrong root); then a package build with the
    right root that was never imported (the ledger now says unchanged): the next sync
    still writes the picture into the note Anki has."""
    (vault / "etcd.png").rename(tmp_path / "etcd.png")
    assert way.sync(vault)[0] == 0
    assert "missing" in str(way.notes()["etcd"]["back"])
    (tmp_path / "etcd.png").rename(vault / "etcd.png")
    way.close()
    # (The package's stamps are the run's time: a second later than the sync's.)
    time.sleep(1.1)
    assert run(vault, "-o", tmp_path / "never-imported.apkg", "--no-cache").exit_code == 0
    code, output = way.sync(vault)
    assert code == 0 and "1 note updated" in output and "1 image added" in output, output
    assert "<img" in str(way.notes()["etcd"]["back"])
    # And an edit made in Anki since, its memo unchanged, is kept.
    n = way.col.get_note(int(str(way.notes()["etcd"]["id"])))
    n["Back"] = n["Back"] + "<br>내 메모"
    way.col.update_note(n)
    code, output = way.sync(vault)
    assert "nothing changed" in output and "내 메모" in str(way.notes()["etcd"]["back"])


def test_with_no_ledger_the_collection_is_the_ledger(vault: Path, way: Way) -> None:
    """The ledger deleted: a renamed card and a note moved to another folder pair with
    their notes in the collection instead of arriving as new ones; a memo gone is retired."""
    assert way.sync(vault)[0] == 0
    before = way.notes()
    shutil.rmtree(vault / ".memo2anki")
    (vault / DAY1).write_text(
        note(DOCKER.replace("**Docker Network**", "**Docker 네트워크 모드**")), encoding="utf-8"
    )
    (vault / "2025").mkdir()
    (vault / DAY2).rename(vault / "2025" / "2025-04-02.md")
    code, output = way.sync(vault, "--changes")
    assert code == 0, output
    assert "renamed 'Docker Network' -> 'Docker 네트워크 모드'" in output
    assert "gone 'CNI'" in output and "new" not in output.split("synced")[0], output
    assert "added" not in output, output
    after = way.notes()
    assert after["Docker 네트워크 모드"]["id"] == before["Docker Network"]["id"]
    assert after["etcd"]["id"] == before["etcd"]["id"]
    assert GONE_TAG in after["CNI"]["tags"]  # type: ignore[operator]
    assert (vault / ".memo2anki" / "ledger.json").is_file()


# -- --delete-gone ------------------------------------------------------------------------------


def test_delete_gone_deletes_the_cards_earlier_runs_retired(vault: Path, way: Way) -> None:
    assert way.sync(vault)[0] == 0
    (vault / DAY1).write_text(note(DOCKER), encoding="utf-8")
    code, output = way.sync(vault)
    assert code == 0 and GONE_TAG in way.notes()["CNI"]["tags"]  # type: ignore[operator]
    # A retired card out of the run's reach (a run on another note) stays.
    code, output = way.sync(vault / DAY2, "--delete-gone")
    assert code == 0 and "CNI" in way.notes() and "deleted" not in output, output
    code, output = way.sync(vault, "--delete-gone")
    assert code == 0 and "1 note deleted (1 retired by earlier runs)" in output, output
    assert set(way.notes()) == {"Docker Network", "etcd"}


def test_delete_gone_deletes_cards_a_package_retired(vault: Path, tmp_path: Path, way: Way) -> None:
    assert way.sync(vault)[0] == 0
    way.close()
    (vault / DAY1).write_text(note(DOCKER), encoding="utf-8")
    assert run(vault, "-o", tmp_path / "gone.apkg", "--no-cache").exit_code == 0
    if way.standin is None:
        anki = Anki.__new__(Anki)
        anki.col = way.col
        anki.import_package(tmp_path / "gone.apkg")
        way.close()
    else:
        assert way.standin.col is not None
        way.standin.importPackage(str(tmp_path / "gone.apkg"))
    assert GONE_TAG in way.notes()["CNI"]["tags"]  # type: ignore[operator]
    code, output = way.sync(vault, "--delete-gone")
    assert code == 0 and "1 note deleted" in output, output
    assert set(way.notes()) == {"Docker Network", "etcd"}


# -- the target named ---------------------------------------------------------------------------


def test_every_sync_names_its_target_in_the_summary_and_json(vault: Path, way: Way) -> None:
    code, output = way.sync(vault, "--json")
    assert code == 0, output
    report = json.loads(output[output.index("{") : output.rindex("}") + 1])
    if way.standin is not None:
        text = f"into profile 'User 1' through AnkiConnect at {way.standin.url}"
        assert report["target"]["profile"] == "User 1"
    else:
        text = f"into {way.path}"
    assert report["target"]["text"] == text and report["target"]["way"] == way.name
    assert report["synced"]["added"] == 3 and report["changes"]["counts"]["new"] == 3
    assert f"3 new; synced {text}" in output


# -- an AnkiConnect older than getActiveProfile ------------------------------------------------


def test_an_ankiconnect_without_get_active_profile_syncs_the_open_profile(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_anki_profiles import make_anki2

    base = make_anki2(tmp_path / "Anki2", ["사용자 1", "work"], last="work")
    for name in ("사용자 1", "work"):
        Anki(base / name).close()
    monkeypatch.setenv("ANKI_BASE", str(base))
    path = base / "사용자 1" / "collection.anki2"
    with AnkiConnectStandIn(path, profile="사용자 1", active_profile=False) as server:
        # The profile asked for is the one open (its collection is held): through AnkiConnect.
        result = run("sync", vault, "--ankiconnect-url", server.url, "--profile", "사용자 1")
        assert result.exit_code == 0, result.output
        assert "install" not in result.output
        assert f"synced into profile '사용자 1' through AnkiConnect at {server.url}" in (
            result.output
        )
        assert server.col is not None and len(notes_of(server.col)) == 3
        # Another profile, not open: into its collection file.
        other = run("sync", vault, "--ankiconnect-url", server.url, "--profile", "work")
        assert other.exit_code == 0, other.output
        assert f"into profile 'work' ({base / 'work' / 'collection.anki2'})" in other.output
        # No profile named: one line says it could not be checked, and the sync goes on.
        plain = run("sync", vault, "--ankiconnect-url", server.url)
        assert plain.exit_code == 0, plain.output
        assert "could not check which profile Anki has open" in plain.output
        assert "into the profile Anki has open through AnkiConnect" in plain.output


def test_with_no_ledger_an_unchanged_vault_is_unchanged(vault: Path, way: Way) -> None:
    """Read from the collection, cards as the memos have them are unchanged (tags in any
    order Anki keeps them), and nothing is written."""
    (vault / DAY2).write_text(note(ETCD + "\n#zeta #alpha #Beta"), encoding="utf-8")
    assert way.sync(vault)[0] == 0
    shutil.rmtree(vault / ".memo2anki")
    code, output = way.sync(vault, "--json")
    assert code == 0, output
    report = json.loads(output[output.index("{") : output.rindex("}") + 1])
    assert report["changes"]["counts"]["unchanged"] == 3 and report["changes"]["first_run"] is False
    assert "already matches the memos; nothing changed" in output


# -- another vault's notes in the same profile --------------------------------------------------


def by_place(col: Collection) -> dict[tuple[str, str], tuple[int, bool, bool]]:
    """Every memo2anki note by (deck, Front): its id, whether tagged gone, and suspended."""
    out = {}
    for nid in col.find_notes(f"mid:{MODEL_ID}"):
        n = col.get_note(nid)
        cards = [col.get_card(c) for c in n.card_ids()]
        suspended = all(c.queue == -1 for c in cards)
        out[(col.decks.name(cards[0].did), n["Front"])] = (nid, GONE_TAG in n.tags, suspended)
    return out


@pytest.mark.parametrize(
    ("other_name", "other_deck"),
    [("aws", "공부 메모장"), ("vault", "AWS 메모장")],
    ids=["another vault name, the same deck", "the same vault name, another deck"],
)
def test_another_vaults_notes_are_never_paired_retired_or_deleted(
    vault: Path, tmp_path: Path, way: Way, other_name: str, other_deck: str
) -> None:
    """Two vaults synced into one profile: this vault retired CNI; the other vault's first
    sync (no ledger: the collection read as its ledger) and its later syncs with
    --delete-gone neither take this vault's notes (though one of its cards has the same
    text), nor retire them, nor delete the one this vault retired. Seen in real Anki: the
    other vault's first sync said '2 moved' (it took this vault's notes into its deck) and
    a later --delete-gone deleted a note of another vault."""
    assert way.sync(vault)[0] == 0
    (vault / DAY1).write_text(note(DOCKER), encoding="utf-8")
    assert way.sync(vault)[0] == 0  # CNI retired: tagged gone and suspended
    ours = by_place(way.col)
    assert ours[("공부 메모장::CKA", "CNI")][1:] == (True, True)

    other = write_vault(tmp_path / "other" / other_name, {})
    day, vpc = "daily/2025-05-01.md", "**VPC 서브넷**\n퍼블릭 서브넷은 인터넷 게이트웨이로 간다"
    (other / "daily").mkdir()
    (other / day).write_text(note(DOCKER, vpc, subject="AWS"), encoding="utf-8")
    for _ in range(2):  # with no ledger (the collection read as its ledger), then its own
        code, output = way.sync(other, "--deck", other_deck, "--delete-gone")
        assert code == 0, output
        assert "moved" not in output and "gone" not in output and "deleted" not in output, output
        now = by_place(way.col)
        assert {k: v for k, v in now.items() if k in ours} == ours  # this vault's: untouched
        assert set(now) - set(ours) == {
            (f"{other_deck}::AWS", "Docker Network"),
            (f"{other_deck}::AWS", "VPC 서브넷"),
        }
    # And this vault's own --delete-gone still deletes the note it retired.
    code, output = way.sync(vault, "--delete-gone")
    assert code == 0 and "1 note deleted (1 retired by earlier runs)" in output, output
    assert ("공부 메모장::CKA", "CNI") not in by_place(way.col)


def test_a_card_studied_in_a_filtered_deck_moves_with_its_memo(vault: Path, way: Way) -> None:
    """A card being studied in a filtered deck is still in its home deck (AnkiConnect's
    getDecks names the filtered deck): its memo moved to another subject moves it, out of
    the filtered deck, as Anki's Change Deck does, and it never counts as moved by hand."""
    assert way.sync(vault)[0] == 0
    studying = way.col.sched.get_or_create_filtered_deck(0)
    studying.name = "오늘 복습"
    studying.config.search_terms[0].search = '"Front:CNI"'
    way.col.sched.add_or_update_filtered_deck(studying)
    (cid,) = way.col.find_cards('"Front:CNI"')
    assert way.col.decks.name(way.col.get_card(cid).did) == "오늘 복습"
    (vault / DAY1).write_text(note(DOCKER) + "## 네트워크\n" + CNI + "\n", encoding="utf-8")
    code, output = way.sync(vault)
    assert code == 0 and "1 card moved" in output and "by hand" not in output, output
    card = way.col.get_card(cid)
    assert way.col.decks.name(card.did) == "공부 메모장::네트워크" and card.odid == 0


def test_a_heading_in_nfd_korean_is_one_note_found_again(vault: Path, way: Way) -> None:
    """A note saved on macOS may hold its Korean in NFD; Anki keeps fields in NFC. Through
    AnkiConnect the note just added was never found by its Front, so each sync added it
    again ('1 note added', seen in real Anki too)."""
    text = (
        unicodedata.normalize("NFD", "**쿠버네티스 API 서버**") + "\n모든 요청은 API 서버를 거친다"
    )
    (vault / DAY1).write_text(note(text), encoding="utf-8")
    assert way.sync(vault)[0] == 0
    for _ in range(2):
        code, output = way.sync(vault)
        assert code == 0 and "already matches the memos; nothing changed" in output, output
    (vault / DAY1).write_text(note(text.replace("거친다", "반드시 거친다")), encoding="utf-8")
    code, output = way.sync(vault)
    assert code == 0 and "1 note updated" in output and "added" not in output, output
    assert len(way.notes()) == 2  # it and etcd


# -- memo2anki's note type as the person made it ----------------------------------------------

POD = "**Pod**\n쿠버네티스에서 배포할 수 있는 가장 작은 단위"


def note_type(col: Collection, model_id: int = MODEL_ID) -> dict[str, Any]:
    # Anki's Python layer caches note types, and an import (done by its backend) does not
    # clear that cache: read them afresh.
    col.models._clear_cache()
    return dict(col.models.get(model_id) or {})


def copies(col: Collection) -> list[str]:
    """The note types Anki's import made as copies of memo2anki's (``memo2anki+``)."""
    col.models._clear_cache()
    return [m.name for m in col.models.all_names_and_ids() if m.name.endswith("+")]


@pytest.mark.parametrize("change", ["card type added", "card type renamed"])
def test_new_notes_go_to_memo2ankis_note_type_whatever_card_types_the_person_gave_it(
    vault: Path, way: Way, change: str
) -> None:
    """Anki's import adds a package's notes to a copy of a note type whose card types differ
    in number or names ('memo2anki+'): the sync said '1 note added', and from then on the
    card was 'not added' (a 'memo2anki+' note had its id), its edits never arrived and its
    memo gone never retired it. The note types are as the person left them, with no full
    sync forced."""
    assert way.sync(vault)[0] == 0
    col = way.col
    model = col.models.get(MODEL_ID)
    assert model is not None
    if change == "card type added":
        reverse = col.models.new_template("Reverse")
        reverse["qfmt"], reverse["afmt"] = "{{Back}}", "{{Front}}"
        col.models.add_template(model, reverse)
    else:
        model["tmpls"][0]["name"] = "My Card"
    col.models.update_dict(model)
    templates = [t["name"] for t in note_type(col)["tmpls"]]
    schema = col.db.scalar("select scm from col")
    (vault / DAY2).write_text(note(ETCD, POD), encoding="utf-8")
    code, output = way.sync(vault)
    assert code == 0 and "1 note added" in output, output
    col = way.col
    assert copies(col) == []
    assert set(way.notes()) == {"Docker Network", "CNI", "etcd", "Pod"}  # (of memo2anki's id)
    assert [t["name"] for t in note_type(col)["tmpls"]] == templates
    assert col.db.scalar("select scm from col") == schema
    pod = int(str(way.notes()["Pod"]["id"]))
    assert len(col.get_note(pod).card_ids()) == 1  # memo2anki's card; Anki makes the others
    (vault / DAY2).write_text(note(ETCD, POD + "\n컨테이너를 하나 이상 담는다"), encoding="utf-8")
    code, output = way.sync(vault)
    assert code == 0 and "1 note updated" in output and "not added" not in output, output
    assert "하나 이상" in str(way.notes()["Pod"]["back"])
    assert len(way.col.get_note(pod).card_ids()) == len(templates)  # (an edit makes them)
    (vault / DAY2).write_text(note(ETCD), encoding="utf-8")
    code, output = way.sync(vault)
    assert code == 0 and "not added" not in output, output
    assert GONE_TAG in way.notes()["Pod"]["tags"]  # type: ignore[operator]
    assert copies(way.col) == [] and way.sync(vault)[1].count("nothing changed") == 1


def test_a_sync_never_changes_the_name_style_or_templates_the_person_gave_a_note_type(
    vault: Path, way: Way, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The package a sync imports its new notes with carried memo2anki's note types stamped
    at the sync, and Anki's import takes a note type that is newer: any sync that added a
    note, a while after the person renamed or restyled one in Anki, put memo2anki's back (one
    that added none kept them: a reset that looked random). Through AnkiConnect, a renamed
    note type lost memo2anki its notes (found by the name)."""
    (vault / DAY1).write_text(note(DOCKER, CNI + "\n==Calico== 가 대표적"), encoding="utf-8")
    assert way.sync(vault, "--cloze")[0] == 0
    col = way.col
    model, cloze = col.models.get(MODEL_ID), col.models.get(CLOZE_MODEL_ID)
    assert model is not None and cloze is not None
    model["name"] = "내 메모 카드"
    model["css"] += "\n.card { font-size: 30px; }"
    model["tmpls"][0]["qfmt"] = "<div>내 앞면</div>" + model["tmpls"][0]["qfmt"]
    col.models.update_dict(model)
    cloze["css"] += "\n.cloze { color: red; }"
    col.models.update_dict(cloze)
    mine = {mid: note_type(col, mid) for mid in (MODEL_ID, CLOZE_MODEL_ID)}
    (vault / DAY2).write_text(note(ETCD, POD + "\n==컨테이너== 를 담는다"), encoding="utf-8")
    with monkeypatch.context() as patch:  # (a sync two minutes after the person's change)
        later = time.time() + 120
        patch.setattr(time, "time", lambda: later)
        code, output = way.sync(vault, "--cloze")
    assert code == 0 and "2 notes added" in output, output
    for mid, held in mine.items():
        now = note_type(way.col, mid)
        assert (now["name"], now["css"], now["tmpls"]) == (held["name"], held["css"], held["tmpls"])
    assert copies(way.col) == [] and "Pod" in way.notes()
    # The renamed note type's notes are memo2anki's still: edited, retired, left alone.
    (vault / DAY2).write_text(note(ETCD, POD + "\n==컨테이너== 를 하나 이상"), encoding="utf-8")
    code, output = way.sync(vault, "--cloze")
    assert code == 0 and "2 notes updated" in output and "added" not in output, output
    (vault / DAY2).write_text(note(ETCD), encoding="utf-8")
    code, output = way.sync(vault, "--cloze")
    assert code == 0 and "added" not in output, output
    assert GONE_TAG in way.notes()["Pod"]["tags"]  # type: ignore[operator]
    code, output = way.sync(vault, "--cloze")
    assert code == 0 and "nothing changed" in output, output
    assert note_type(way.col)["name"] == "내 메모 카드" and len(way.notes()) == 4
