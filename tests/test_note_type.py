"""A new look never splits a deck: a package built with changed templates and CSS still
updates the notes of an older one in real Anki, on the same note types. A sync never changes
a note type Anki has: a package brings the new look there too."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import Anki, bump_mtime, memo, write_vault

from memo2anki.cli.main import main
from memo2anki.targets import package

MARK = "/* a later release's look */"


def _build(vault: Path, out: Path) -> Path:
    result = CliRunner().invoke(main, [str(vault), "-o", str(out), "--quiet", "--cloze"])
    assert result.exit_code == 0, result.output
    return out


def _note_types(anki: Anki) -> dict[str, dict[str, Any]]:
    # Anki's Python layer caches note types, and an import (done by its backend) does not
    # clear that cache: read them afresh.
    anki.col.models._clear_cache()
    return {model["name"]: model for model in anki.col.models.all()}


def test_changed_templates_and_css_update_the_same_note_types(
    tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = write_vault(
        tmp_path / "vault",
        {"daily/2025-04-01.md": memo("**Service**\n기본 타입은 ==ClusterIP==")},
    )
    # The old release's package, built two minutes ago: Anki takes a note type's changes only
    # from a package whose note type is newer (by the clock) than the one it holds.
    with monkeypatch.context() as patch:
        earlier = time.time() - 120
        patch.setattr(time, "time", lambda: earlier)
        old = _build(vault, tmp_path / "old.apkg")
    log = anki.import_package(old)
    assert len(log.new) == 2  # the card and its cloze note
    before = _note_types(anki)
    assert {"memo2anki", "memo2anki cloze"} <= set(before)

    real_template = package._template

    def restyled(name: str) -> str:
        text = real_template(name)
        return f"{text}\n{MARK}\n" if name.endswith(".css") else f"{text}\n<!-- {MARK} -->"

    bump_mtime(vault / "daily/2025-04-01.md")
    with monkeypatch.context() as patch:
        patch.setattr(package, "_template", restyled)
        new = _build(vault, tmp_path / "new.apkg")
    log = anki.import_package(new)

    assert list(log.conflicting) == []
    # The cards are unchanged, so they keep their time (and any edit made in Anki): only the
    # note types are newer.
    assert len(log.duplicate) == 2 and list(log.new) == [] and list(log.updated) == []
    after = _note_types(anki)
    assert set(after) == set(before)  # no "memo2anki+" copy
    for name in ("memo2anki", "memo2anki cloze"):
        model = after[name]
        assert model["id"] == before[name]["id"]
        assert MARK in model["css"]
        assert all(MARK in t["qfmt"] and MARK in t["afmt"] for t in model["tmpls"])
    assert after["memo2anki"]["id"] == package.MODEL_ID
    assert [f["name"] for f in after["memo2anki"]["flds"]] == list(package.FIELDS)
    assert len(anki.notes()) == 2


def test_a_sync_keeps_the_look_a_collection_has_and_a_package_brings_the_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sync never changes a note type Anki has (docs/sync.md): a newer release's templates and
    CSS reach the cards already synced through a package imported, as for everyone else."""
    vault = write_vault(tmp_path / "vault", {"daily/2025-04-01.md": memo("**Service**\n타입")})
    Anki(tmp_path / "profile").close()
    collection = tmp_path / "profile" / "collection.anki2"

    def sync() -> None:
        result = CliRunner().invoke(main, ["sync", str(vault), "--collection", str(collection)])
        assert result.exit_code == 0, result.output

    sync()  # memo2anki's look of this release
    real_template = package._template

    def restyled(name: str) -> str:
        text = real_template(name)
        return f"{text}\n{MARK}\n" if name.endswith(".css") else f"{text}\n<!-- {MARK} -->"

    monkeypatch.setattr(package, "_template", restyled)  # a later release, two minutes on
    later = time.time() + 120
    monkeypatch.setattr(time, "time", lambda: later)
    bump_mtime(vault / "daily/2025-04-01.md")
    (vault / "daily/2025-04-02.md").write_text(memo("**Ingress**\nL7"), encoding="utf-8")
    sync()  # adds a note: the look stays the collection's
    anki = Anki(tmp_path / "profile")
    try:
        assert len(anki.notes()) == 2
        assert MARK not in _note_types(anki)["memo2anki"]["css"]
        log = anki.import_package(_build(vault, tmp_path / "new.apkg"))
        assert list(log.conflicting) == [] and list(log.new) == []
        model = _note_types(anki)["memo2anki"]
        assert MARK in model["css"] and all(MARK in t["qfmt"] for t in model["tmpls"])
    finally:
        anki.close()


# A note of another note type at a card's GUID (the person changed its note type in Anki):
# which of the card's two notes (its card's, its cloze note's), and the type it was changed to
# (Anki's own by name; None: memo2anki's other one).
HELD_BY_ANOTHER_TYPE = {
    "Basic, the card's": (0, "Basic"),
    "Cloze, the card's": (0, "Cloze"),
    "Basic, the cloze card's": (1, "Basic"),
    "memo2anki cloze, the card's": (0, None),
    "memo2anki, the cloze card's": (1, None),
}


@pytest.mark.parametrize(
    ("which", "type_name"), HELD_BY_ANOTHER_TYPE.values(), ids=HELD_BY_ANOTHER_TYPE.keys()
)
def test_a_package_card_whose_id_a_note_of_another_type_holds_is_skipped_by_anki(
    tmp_path: Path, anki: Anki, which: int, type_name: str | None
) -> None:
    """What docs/history.md says Anki's import does: it skips that card (as conflicting) and
    leaves the person's note as it is, and imports the others."""
    daily = "daily/2025-04-01.md"
    vault = write_vault(
        tmp_path / "vault",
        {daily: memo("**Service**\n기본 타입은 ==ClusterIP==", "**Pod**\n가장 작은 단위")},
    )
    assert len(anki.import_package(_build(vault, tmp_path / "first.apkg")).new) == 3
    col = anki.col
    notes = [col.get_note(nid) for nid in col.find_notes('"Service"')]
    note = sorted(notes, key=lambda n: n.note_type()["type"])[which]  # type 1: cloze
    guid, own_type = note.guid, note.mid
    col.remove_notes([note.id])
    if type_name is None:
        model = next(
            m for m in col.models.all() if m["name"].startswith("memo2anki") and m["id"] != own_type
        )
    else:
        model = col.models.by_name(type_name)
    mine = col.new_note(model)
    mine.fields[0] = "{{c1::my}} words" if model["type"] == 1 else "my words"
    mine.guid = guid
    col.add_note(mine, col.decks.id("내 덱"))
    added = col.get_note(mine.id)
    before = (added.id, added.mid, list(added.fields), added.mod)
    (vault / daily).write_text(
        memo("**Service**\n기본 타입은 ==NodePort==", "**Pod**\n가장 작은 단위, 고침"),
        encoding="utf-8",
    )
    bump_mtime(vault / daily)
    log = anki.import_package(_build(vault, tmp_path / "second.apkg"))
    assert len(log.conflicting) == 1 and len(log.updated) == 2, log
    held = col.get_note(mine.id)
    assert (held.id, held.mid, list(held.fields), held.mod) == before
    assert held.card_ids() == mine.card_ids()
    assert all(col.decks.name(c.did) == "내 덱" for c in held.cards())
