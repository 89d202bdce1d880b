"""The deck follows the notes, through real Anki: starting each time from a deck imported and
reviewed, a renamed heading, a moved note, another vault root, a deleted memo, a memo saved
again, an older file restored and a new rendering each do what a person expects."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import Anki, bump_mtime, memo, png, run, write_vault

from memo2anki.cards.convert import convert
from memo2anki.cards.render import CardRenderer, Rendered
from memo2anki.changes import ledger as ledger_file
from memo2anki.changes.ledger import Ledger
from memo2anki.changes.plan import GONE_TAG, Kind, Layout, Scope, _key_hits, plan_changes
from memo2anki.model import Card

DECK = "공부 메모장::CKA"


def package_notes(apkg: Path) -> dict[str, tuple[str, str]]:
    """The package's notes: GUID -> (fields, tags) as written."""
    with tempfile.TemporaryDirectory() as work:
        with zipfile.ZipFile(apkg) as zf:
            zf.extract("collection.anki2", work)
        conn = sqlite3.connect(Path(work, "collection.anki2"))
        try:
            return {g: (f, t) for g, f, t in conn.execute("SELECT guid, flds, tags FROM notes")}
        finally:
            conn.close()


class Step:
    """Export the vault, import it into Anki, and check that Anki holds the package's notes."""

    def __init__(self, anki: Anki, vault: Path, out: Path) -> None:
        self.anki, self.vault, self.out = anki, vault, out
        self.retired: set[str] = set()  # gone notes a later package rightly leaves out

    def __call__(
        self, *args: str | Path, paths: tuple[Path, ...] = (), part: bool = False
    ) -> object:
        result = run(*(paths or (self.vault,)), "-o", self.out, "--quiet", *args)
        assert result.exit_code == 0, result.output
        log = self.anki.import_package(self.out)
        in_package = set(package_notes(self.out))
        in_anki = {n.guid for n in self.anki.notes()}
        if part:  # a run over part of the vault: its cards are among Anki's
            assert in_package <= in_anki
        else:
            assert in_anki == in_package | self.retired  # exactly the package's cards
        return log


def _vault(root: Path) -> Path:
    return write_vault(
        root,
        {
            "daily/2025-04-01.md": memo(
                "**Pod**\n쿠버네티스에서 가장 작은 배포 단위",
                "**Service**\n파드 묶음에 고정 IP와 DNS 이름\n![[svc.png]]",
            ),
            "daily/2025-04-02.md": memo(
                "**CNI**\n컨테이너 네트워크 인터페이스 표준. 플러그인이 파드에 IP를 준다",
                "**etcd**\n클러스터 상태를 담는 key-value 저장소",
            ),
            "image/svc.png": png(seed=1),
        },
    )


@pytest.fixture
def reviewed(tmp_path: Path, anki: Anki) -> Iterator[tuple[Step, Path]]:
    """A vault whose deck was imported and every card of it reviewed once."""
    vault = _vault(tmp_path / "vault")
    step = Step(anki, vault, tmp_path / "deck.apkg")
    log = step()
    assert len(log.new) == 4  # type: ignore[attr-defined]
    assert anki.answer_all(DECK) == 4
    yield step, vault


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    bump_mtime(path)


def test_a_renamed_heading_keeps_the_note_and_its_history(
    reviewed: tuple[Step, Path], anki: Anki
) -> None:
    step, vault = reviewed
    before = {n.fields["Front"]: n.guid for n in anki.notes()}
    history = anki.scheduling()
    _edit(vault / "daily/2025-04-02.md", "**CNI**", "**CNI (Container Network Interface)**")
    log = step()
    assert len(log.new) == 0  # type: ignore[attr-defined]
    after = {n.fields["Front"]: n.guid for n in anki.notes()}
    assert after["CNI (Container Network Interface)"] == before["CNI"]
    assert set(after.values()) == set(before.values())
    assert anki.scheduling() == history  # the review history is the renamed card's


def test_a_moved_note_and_another_vault_root_add_no_note(
    reviewed: tuple[Step, Path], anki: Anki, tmp_path: Path
) -> None:
    step, vault = reviewed
    notes = {n.guid: n.fields["Front"] for n in anki.notes()}
    history = anki.scheduling()
    (vault / "2025/04").mkdir(parents=True)
    os.rename(vault / "daily/2025-04-02.md", vault / "2025/04/2025-04-02.md")
    log = step()
    assert len(log.new) == 0  # type: ignore[attr-defined]
    sources = {n.fields["Front"]: n.fields["Source"] for n in anki.notes()}
    assert sources["CNI"] == "2025/04/2025-04-02.md"  # moved: the note says where it is now

    # One folder of it taken as the vault root (its notes' paths all change, not their names).
    sub = vault / "2025"
    log = step("--vault", sub, paths=(sub,), part=True)
    assert len(log.new) == 0  # type: ignore[attr-defined]
    assert {n.guid: n.fields["Front"] for n in anki.notes()} == notes
    assert anki.scheduling() == history


def test_a_deleted_memo_is_tagged_gone_and_nothing_else_changes(
    reviewed: tuple[Step, Path], anki: Anki
) -> None:
    step, vault = reviewed
    before = {n.guid: n for n in anki.notes()}
    history = anki.scheduling()
    _edit(vault / "daily/2025-04-01.md", "**Pod**\n쿠버네티스에서 가장 작은 배포 단위", "")
    step()
    after = {n.guid: n for n in anki.notes()}
    assert after.keys() == before.keys()
    (gone,) = [g for g in after if GONE_TAG in after[g].tags]
    assert after[gone].fields == before[gone].fields  # its last fields, only tagged
    assert after[gone].tags == sorted([*before[gone].tags, GONE_TAG])
    assert anki.col.find_notes(f"tag:{GONE_TAG}") == [
        anki.col.get_card(after[gone].card_ids[0]).nid
    ]
    others = {g: (n.fields, n.tags, n.mod) for g, n in after.items() if g != gone}
    assert others == {g: (n.fields, n.tags, n.mod) for g, n in before.items() if g != gone}
    assert anki.scheduling() == history

    # Later packages leave it out, so a card deleted in Anki is never brought back.
    step.retired.add(gone)
    step()
    assert gone not in package_notes(step.out)


def _gone_in_anki(anki: Anki) -> set[str]:
    return {n.fields["Front"] for n in anki.notes() if GONE_TAG in n.tags}


def test_a_card_moved_to_a_subject_left_out_is_not_gone(
    reviewed: tuple[Step, Path], anki: Anki
) -> None:
    """A run with --subject while cards move to another subject leaves them as they are
    (their memo is there): only a memo deleted is gone. The next full run moves them."""
    step, vault = reviewed
    before = {n.fields["Front"]: n.guid for n in anki.notes()}
    history = anki.scheduling()
    _edit(vault / "daily/2025-04-01.md", "## CKA", "## Kubernetes")  # Pod and Service
    _edit(vault / "daily/2025-04-02.md", "**etcd**\n클러스터 상태를 담는 key-value 저장소", "")
    step("--subject", "CKA", part=True)
    assert _gone_in_anki(anki) == {"etcd"}
    assert {n.fields["Front"]: n.fields["Subject"] for n in anki.notes()}["Pod"] == "CKA"

    dry = run(vault, "-o", step.out, "--dry-run", "--changes")
    assert "moved 'Pod' from subject 'CKA' to 'Kubernetes'" in dry.output, dry.output
    assert "moved 'Service' from subject 'CKA' to 'Kubernetes'" in dry.output, dry.output
    step.retired.add(before["etcd"])
    log = step()
    assert len(log.new) == 0  # type: ignore[attr-defined]
    after = {n.fields["Front"]: (n.guid, n.fields["Subject"]) for n in anki.notes()}
    assert after["Pod"] == (before["Pod"], "Kubernetes")
    assert after["Service"] == (before["Service"], "Kubernetes")
    assert _gone_in_anki(anki) == {"etcd"}
    assert anki.scheduling() == history


@pytest.mark.parametrize(
    "where",
    ["another note and subject", "a note outside the folder given"],
)
def test_a_card_moved_to_another_note_out_of_reach_is_not_gone(
    reviewed: tuple[Step, Path], anki: Anki, where: str
) -> None:
    """A card moved into another note that the run leaves out (under a subject it leaves
    out, or outside the folder it was given) is out of its reach, not gone: its memo is
    there. The next full run moves it, with its history."""
    step, vault = reviewed
    before = {n.fields["Front"]: n.guid for n in anki.notes()}
    history = anki.scheduling()
    etcd = "**etcd**\n클러스터 상태를 담는 key-value 저장소"
    _edit(vault / "daily/2025-04-02.md", etcd, "")
    if where == "another note and subject":
        note = vault / "daily/2025-04-01.md"
        note.write_text(note.read_text("utf-8") + f"\n## Kubernetes\n{etcd}\n", "utf-8")
        bump_mtime(note)
        step("--subject", "CKA", part=True)
        moved = "moved 'etcd' from daily/2025-04-02.md to daily/2025-04-01.md"
    else:
        (vault / "archive").mkdir()
        (vault / "archive/kv.md").write_text(memo(etcd), "utf-8")
        step(paths=(vault / "daily",), part=True)
        moved = "moved 'etcd' from daily/2025-04-02.md to archive/kv.md"
    assert _gone_in_anki(anki) == set()

    dry = run(vault, "-o", step.out, "--dry-run", "--changes")
    assert moved in dry.output, dry.output
    log = step()
    assert len(log.new) == 0  # type: ignore[attr-defined]
    assert {n.fields["Front"]: n.guid for n in anki.notes()}["etcd"] == before["etcd"]
    assert _gone_in_anki(anki) == set()
    assert anki.scheduling() == history


def test_a_note_moved_out_of_the_folder_given_is_not_gone(
    reviewed: tuple[Step, Path], anki: Anki
) -> None:
    """A run on a folder after a note moved out of it (into another folder of the vault)
    leaves its cards as they are; a note deleted is gone. The next full run moves them."""
    step, vault = reviewed
    before = {n.fields["Front"]: n.guid for n in anki.notes()}
    history = anki.scheduling()
    (vault / "archive").mkdir()
    os.rename(vault / "daily/2025-04-01.md", vault / "archive/2025-04-01.md")
    (vault / "daily/2025-04-02.md").unlink()
    (vault / "daily/2025-04-03.md").write_text(memo("**Node**\n파드가 도는 머신"), "utf-8")
    step(paths=(vault / "daily",), part=True)
    assert _gone_in_anki(anki) == {"CNI", "etcd"}

    dry = run(vault, "-o", step.out, "--dry-run", "--changes")
    assert "moved 'Pod' from daily/2025-04-01.md to archive/2025-04-01.md" in dry.output, dry.output
    step.retired.update((before["CNI"], before["etcd"]))
    log = step()
    assert len(log.new) == 0  # type: ignore[attr-defined]
    after = {n.fields["Front"]: (n.guid, n.fields["Source"]) for n in anki.notes()}
    assert after["Pod"] == (before["Pod"], "archive/2025-04-01.md")
    assert after["Service"] == (before["Service"], "archive/2025-04-01.md")
    assert _gone_in_anki(anki) == {"CNI", "etcd"}
    assert {g: s for g, s in anki.scheduling().items() if g in history} == history


def test_a_note_deleted_is_gone_though_a_note_of_its_name_is_elsewhere(
    reviewed: tuple[Step, Path], anki: Anki
) -> None:
    """A note of the same file name that the ledger knows in another folder was there
    already: it is not where the deleted one went, whose cards are gone (they stayed live
    and due for as long as only the folder was run on)."""
    step, vault = reviewed
    (vault / "archive").mkdir()
    (vault / "archive/2025-04-02.md").write_text(memo("**Kubelet**\n노드의 에이전트"), "utf-8")
    step()  # the whole vault: the archive's note is exported, and known to the ledger
    (vault / "daily/2025-04-02.md").unlink()
    step(paths=(vault / "daily",), part=True)
    assert _gone_in_anki(anki) == {"CNI", "etcd"}


def test_a_memo_saved_again_unchanged_keeps_an_edit_made_in_anki(
    reviewed: tuple[Step, Path], anki: Anki
) -> None:
    step, vault = reviewed
    nid = anki.col.find_notes('"Front:etcd"')[0]
    note = anki.col.get_note(nid)
    note["Back"] = "Anki에서 내가 고친 답"
    anki.col.update_note(note)
    bump_mtime(vault / "daily/2025-04-02.md", 3600)  # saved again, an hour later, unchanged
    step()
    assert anki.col.get_note(nid)["Back"] == "Anki에서 내가 고친 답"


def test_an_older_file_restored_reaches_anki(reviewed: tuple[Step, Path], anki: Anki) -> None:
    step, vault = reviewed
    note = vault / "daily/2025-04-02.md"
    _edit(note, "key-value 저장소", "key-value 저장소 (백업에서 되살린 판)")
    os.utime(note, (1_600_000_000, 1_600_000_000))  # the backup's time: long before the import
    log = step()
    assert len(log.updated) >= 1  # type: ignore[attr-defined]
    backs = {n.fields["Front"]: n.fields["Back"] for n in anki.notes()}
    assert "백업에서 되살린 판" in backs["etcd"]


def test_a_changed_rendering_reaches_anki(
    reviewed: tuple[Step, Path], anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    step, _vault = reviewed
    history = anki.scheduling()
    render = CardRenderer.render_tokens

    def new_release(self: CardRenderer, *args: object, **kwargs: object) -> Rendered:
        rendered = render(self, *args, **kwargs)  # type: ignore[arg-type]
        return replace(rendered, html=f'<div class="v2">{rendered.html}</div>')

    monkeypatch.setattr(CardRenderer, "render_tokens", new_release)
    step("--no-cache", "--jobs", "1")  # a new release: its code fingerprint misses the cache
    backs = [n.fields["Back"] for n in anki.notes()]
    assert len(backs) == 4 and all(b.startswith('<div class="v2">') for b in backs)
    assert anki.scheduling() == history


def _cards(vault: Path) -> list[Card]:
    return list(convert([vault]).cards)


def test_matching_cards_by_key_plans_as_comparing_every_column(tmp_path: Path) -> None:
    """A card whose key is its row's is taken as unchanged without its columns compared:
    over a week of edits (renames, moves, edited and deleted memos, shifted lines, two notes
    of one name, one front twice) the plan is the one comparing every column gives."""
    vault = write_vault(
        tmp_path / "vault",
        {
            "daily/2025-04-01.md": memo(
                "**Pod**\n가장 작은 배포 단위", "**Service**\n고정 IP와 DNS"
            ),
            "daily/2025-04-02.md": memo("**CNI**\n네트워크 플러그인", "**CNI**\nCalico, Flannel"),
            "daily/2025-04-03.md": memo("**Route 53**\n라우팅 정책", subject="AWS"),
            "archive/2025-04-01.md": memo("**Deployment**\n파드를 원하는 수만큼 유지"),
        },
    )
    layout = Layout("공부 메모장", "vault")
    ledger_dir = tmp_path / "ledger"
    ledger_dir.mkdir()
    first = plan_changes(_cards(vault), Ledger("vault"), Scope(), 1_000, layout)
    assert ledger_file.save(ledger_dir, first.ledger, None) == []
    daily = vault / "daily"

    def week(step: int) -> None:
        if step == 1:
            (daily / "2025-04-01.md").write_text(
                memo(
                    "**Pod**\n가장 작은 배포 단위, 컨테이너 묶음",
                    "**Service (ClusterIP)**\n고정 IP와 DNS",
                ),
                encoding="utf-8",
            )
            (daily / "2025-04-03.md").unlink()
        elif step == 2:
            (daily / "2025").mkdir()
            text = (daily / "2025-04-02.md").read_text(encoding="utf-8")
            (daily / "2025" / "2025-04-02.md").write_text(
                text.replace("**CNI**", "\n**CNI**", 1), encoding="utf-8"
            )
            (daily / "2025-04-02.md").unlink()
        elif step == 3:  # a new memo: the gone card's row moves down one
            (daily / "2025-04-04.md").write_text(
                memo("**etcd**\n클러스터 상태 저장소"), encoding="utf-8"
            )
        elif step == 4:  # the memo deleted on the first day, back as it was
            (daily / "2025-04-03.md").write_text(route53, encoding="utf-8")

    route53 = (daily / "2025-04-03.md").read_text(encoding="utf-8")
    for step in (1, 2, 3, 4, 5):  # (the last changes nothing)
        week(step)
        ledger, problems = ledger_file.load(ledger_dir, "vault")
        assert problems == [] and ledger.source is not None
        cards = _cards(vault)
        by_key = plan_changes(cards, ledger, Scope(), 1_000 + step, layout)
        hits = _key_hits(cards, ledger)
        by_key_rows = len(hits) - hits.count(-1)
        by_column = plan_changes(
            cards,
            # The same cards, not as rows of a file: compared column by column.
            Ledger(ledger.vault, tuple(ledger.cards), ledger.read_digest, ledger.fields),
            Scope(),
            1_000 + step,
            layout,
        )
        assert by_key == by_column
        assert by_key.counts == by_column.counts
        assert (Kind.RETURNED in by_key.counts) == (step == 4)
        assert by_key_rows >= 3  # (the cards as exported, by key)
        assert (
            ledger_file.save(ledger_dir, by_key.ledger, ledger.read_digest, by_key.ledger_changed)
            == []
        )
    assert by_key.counts == {Kind.UNCHANGED: 7}
