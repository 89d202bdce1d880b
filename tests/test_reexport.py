"""Exporting again after edits updates the same cards in real Anki and keeps their history."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import Anki, AnkiNote, bump_mtime, memo, png, write_vault

from memo2anki.cards.identity import card_guid
from memo2anki.changes.plan import GONE_TAG
from memo2anki.cli.main import main


def _export(vault: Path, out: Path) -> None:
    result = CliRunner().invoke(main, [str(vault), "-o", str(out), "--quiet"])
    assert result.exit_code == 0, result.output


def _vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "vault",
        {
            "daily/2025-04-01.md": memo(
                "**Pod**\n가장 작은 배포 단위",
                "**Service**\n파드 묶음에 고정 주소\n![[svc.png]]",
            ),
            "daily/2025-04-02.md": memo(
                "**etcd**\n클러스터 상태 저장소", "**CNI**\n네트워크 플러그인 표준"
            ),
            "image/svc.png": png(seed=1),
        },
    )


def test_reexport_updates_only_the_edited_card_and_keeps_history(
    tmp_path: Path, anki: Anki
) -> None:
    vault = _vault(tmp_path)
    first, second, third = (tmp_path / f"deck{i}.apkg" for i in (1, 2, 3))

    _export(vault, first)
    log = anki.import_package(first)
    assert len(log.new) == 4
    before = {n.guid: n for n in anki.notes()}
    assert anki.answer_all("공부 메모장::CKA") == 4
    reviewed = anki.scheduling()
    assert all(reps == 1 and ctype != 0 for ctype, _q, _ivl, reps in reviewed.values())

    # Edit one memo's body; its file is now newer than the cards Anki holds.
    note = vault / "daily/2025-04-02.md"
    note.write_text(
        note.read_text(encoding="utf-8").replace(
            "클러스터 상태 저장소", "클러스터 상태를 담는 key-value 저장소"
        ),
        encoding="utf-8",
    )
    bump_mtime(note)
    _export(vault, second)
    log = anki.import_package(second)
    after = {n.guid: n for n in anki.notes()}

    assert after.keys() == before.keys()  # no new notes, no duplicates
    assert len(log.new) == 0
    changed = [g for g in after if after[g].fields != before[g].fields]
    assert [after[g].fields["Front"] for g in changed] == ["etcd"]
    assert "key-value 저장소" in after[changed[0]].fields["Back"]
    assert anki.scheduling() == reviewed  # review history and scheduling survive

    # Unchanged vault: exporting and importing again changes nothing.
    _export(vault, third)
    log = anki.import_package(third)
    assert len(log.updated) == 0 and len(log.new) == 0
    assert {g: n.fields for g, n in ((n.guid, n) for n in anki.notes())} == {
        g: n.fields for g, n in after.items()
    }


def test_untouched_memo_keeps_edits_made_in_anki(tmp_path: Path, anki: Anki) -> None:
    vault = _vault(tmp_path)
    _export(vault, tmp_path / "a.apkg")
    anki.import_package(tmp_path / "a.apkg")
    nid = anki.col.find_notes('"Front:Pod"')[0]
    note = anki.col.get_note(nid)
    note["Back"] = "내가 Anki에서 고친 답"
    anki.col.update_note(note)

    _export(vault, tmp_path / "b.apkg")
    anki.import_package(tmp_path / "b.apkg")
    assert anki.col.get_note(nid)["Back"] == "내가 Anki에서 고친 답"


def test_identity_ignores_the_back_and_moving_cards_within_a_note(tmp_path: Path) -> None:
    from memo2anki.cards.convert import convert

    vault = _vault(tmp_path)
    cards = convert([vault]).cards
    guids = {c.front: card_guid(c) for c in cards}
    note = vault / "daily/2025-04-01.md"
    note.write_text(
        memo("**Service**\n완전히 새로 쓴 설명", "**새 카드**\n추가", "**Pod**\n다시 쓴 설명"),
        encoding="utf-8",
    )
    again = {c.front: card_guid(c) for c in convert([vault]).cards}
    assert again["Pod"] == guids["Pod"]
    assert again["Service"] == guids["Service"]
    assert again["새 카드"] not in guids.values()
    assert len(set(again.values())) == len(again)


def test_cloze_notes_beside_the_cards(tmp_path: Path, anki: Anki) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "2025-04-01.md": memo(
                "**Service 타입**\n기본은 ==ClusterIP==, 노드 포트는 ==30000-32767==",
                "**Pod**\n하이라이트 없음",
            )
        },
    )
    out = tmp_path / "c.apkg"
    result = CliRunner().invoke(main, [str(vault), "-o", str(out), "--cloze"])
    assert result.exit_code == 0, result.output
    assert "(with 1 cloze note)" in result.stderr
    anki.import_package(out)
    notes = anki.notes()
    assert sorted(n.note_type for n in notes) == ["memo2anki", "memo2anki", "memo2anki cloze"]
    (cloze,) = [n for n in notes if n.note_type == "memo2anki cloze"]
    assert "{{c1::ClusterIP}}" in cloze.fields["Text"]
    assert "{{c2::30000-32767}}" in cloze.fields["Text"]
    assert cloze.fields["Front"] == "Service 타입"
    assert len(cloze.card_ids) == 2  # one card per highlight
    assert cloze.deck == "공부 메모장::CKA"

    # Exporting again (without or with --cloze) never duplicates anything.
    for args in ([], ["--cloze"]):
        CliRunner().invoke(main, [str(vault), "-o", str(out), *args])
        log = anki.import_package(out)
        assert len(log.new) == 0
    assert len(anki.notes()) == 3


SERVICE = "**Service 타입**\n기본은 ==ClusterIP==, 노드 포트는 ==30000-32767=="
SERVICE_PLAIN = "**Service 타입**\n기본은 ClusterIP, 노드 포트는 30000-32767"


def _build(vault: Path, out: Path, *args: str) -> str:
    result = CliRunner().invoke(main, [str(vault), "-o", str(out), "--changes", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _cloze_notes(anki: Anki) -> list[AnkiNote]:
    return [n for n in anki.notes() if n.note_type == "memo2anki cloze"]


def _in_fresh_anki(tmp_path: Path, out: Path) -> list[AnkiNote]:
    fresh = Anki(tmp_path / f"fresh-{out.stem}")
    try:
        fresh.import_package(out)
        return fresh.notes()
    finally:
        fresh.close()


@pytest.mark.parametrize("how", ["its highlights removed", "cloze notes turned off"])
def test_a_cloze_note_its_memo_no_longer_makes_is_retired_once(
    tmp_path: Path, anki: Anki, how: str
) -> None:
    """As a gone card's: carried once more with its last fields and the gone tag (said in
    the report), never again after; the card itself lives on."""
    daily = tmp_path / "v" / "2025-04-01.md"
    vault = write_vault(tmp_path / "v", {daily.name: memo(SERVICE, "**Pod**\n하이라이트 없음")})
    first, second, third = (tmp_path / f"d{i}.apkg" for i in (1, 2, 3))
    _build(vault, first, "--cloze")
    anki.import_package(first)
    (was,) = _cloze_notes(anki)
    if how == "its highlights removed":
        daily.write_text(memo(SERVICE_PLAIN, "**Pod**\n하이라이트 없음"), encoding="utf-8")
        bump_mtime(daily)
        args: tuple[str, ...] = ("--cloze",)
        kind = "updated"
    else:
        args, kind = (), "unchanged"
    report = _build(vault, second, *args)
    assert f"{kind} 'Service 타입'; its cloze note retired (gone)" in report
    assert "1 cloze note retired" in report and "1 gone" not in report
    anki.import_package(second)
    (cloze,) = _cloze_notes(anki)
    assert cloze.guid == was.guid and GONE_TAG in cloze.tags
    assert cloze.fields["Text"] == was.fields["Text"]  # its last fields
    assert cloze.card_ids == was.card_ids
    cards = {n.fields["Front"]: n for n in anki.notes() if n.note_type == "memo2anki"}
    assert GONE_TAG not in cards["Service 타입"].tags  # the card lives on

    report = _build(vault, third, *args)  # never carried again
    assert "retired" not in report and "1 cloze note" not in report
    assert [n.note_type for n in _in_fresh_anki(tmp_path, third)] == ["memo2anki"] * 2
    anki.import_package(third)
    assert GONE_TAG in _cloze_notes(anki)[0].tags


def test_cloze_notes_turned_on_again_come_back_untagged(
    tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = write_vault(tmp_path / "v", {"2025-04-01.md": memo(SERVICE)})
    out = tmp_path / "d.apkg"
    for minute, args in enumerate((["--cloze"], [], ["--cloze"])):  # (a run a minute)
        monkeypatch.setattr("memo2anki.targets.build.time.time", lambda m=minute: 1.75e9 + 60 * m)
        _build(vault, out, *args)
        anki.import_package(out)
    (cloze,) = _cloze_notes(anki)
    assert GONE_TAG not in cloze.tags and "{{c1::ClusterIP}}" in cloze.fields["Text"]


def test_a_run_after_one_without_cloze_notes_carries_no_gone_cloze_note(
    tmp_path: Path, anki: Anki
) -> None:
    """Never a gone cloze note Anki never had: its highlights removed, or its card gone."""
    daily = tmp_path / "v" / "2025-04-01.md"
    vault = write_vault(
        tmp_path / "v",
        {daily.name: memo(SERVICE, "**Pod**\n==가장 작은== 배포 단위")},
    )
    first, second = tmp_path / "d1.apkg", tmp_path / "d2.apkg"
    _build(vault, first)
    anki.import_package(first)
    daily.write_text(memo(SERVICE_PLAIN), encoding="utf-8")  # Pod gone, Service plain
    bump_mtime(daily)
    report = _build(vault, second, "--cloze")
    assert "retired" not in report and "1 updated, 1 gone" in report
    notes = _in_fresh_anki(tmp_path, second)
    assert sorted(n.note_type for n in notes) == ["memo2anki", "memo2anki"]
    anki.import_package(second)
    assert _cloze_notes(anki) == []


def test_identity_is_the_note_file_name_not_its_folder(tmp_path: Path) -> None:
    """Moving a note, or taking another folder as the vault root, keeps every GUID even
    without a ledger; a note at the vault root keeps the GUIDs of the path-based scheme."""
    import genanki

    from memo2anki.cards.convert import convert
    from memo2anki.model import Options

    vault = _vault(tmp_path)
    before = {c.front: card_guid(c) for c in convert([vault]).cards}
    (vault / "2025" / "04").mkdir(parents=True)
    (vault / "daily/2025-04-02.md").rename(vault / "2025/04/2025-04-02.md")
    moved = convert([vault]).cards
    assert {c.front: card_guid(c) for c in moved} == before
    assert {c.note for c in moved} == {"daily/2025-04-01.md", "2025/04/2025-04-02.md"}
    sub = convert([vault / "2025"], Options(vault=vault / "2025")).cards
    assert {c.front: card_guid(c) for c in sub} == {f: before[f] for f in ("etcd", "CNI")}
    assert before["etcd"] == str(genanki.guid_for("memo2anki", "2025-04-02.md", "CKA", "etcd", 0))
