"""The bundled samples, built into a deck and imported into real Anki."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from anki.lang import set_lang
from anki.utils import strip_html
from click.testing import CliRunner
from helpers import SAMPLES, Anki, AnkiNote
from sample_cards import EXPECTED_CARDS, EXPECTED_IMAGES

from memo2anki.cli.main import main


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[AnkiNote], Anki]:
    tmp = tmp_path_factory.mktemp("samples")
    out = tmp / "samples.apkg"
    # A copy: a build writes its ledger into the vault, and a ledger left by an earlier run
    # (the README's own command writes one) would change what this first export says.
    vault = shutil.copytree(SAMPLES, tmp / "samples", ignore=shutil.ignore_patterns(".memo2anki"))
    result = CliRunner().invoke(main, [str(vault), "-o", str(out)])
    assert result.exit_code == 0, result.output
    anki = Anki(tmp / "anki")
    log = anki.import_package(out)
    assert len(log.new) == len(EXPECTED_CARDS)
    set_lang("en")
    yield anki.notes(), anki
    anki.close()


def test_every_card_in_study_order(imported: tuple[list[AnkiNote], Anki]) -> None:
    notes, _ = imported
    got = [(n.fields["Source"], n.fields["Subject"], strip_html(n.fields["Front"])) for n in notes]
    assert got == [(note, subject, front) for note, subject, front, _ in EXPECTED_CARDS]


def test_backs_hold_their_text(imported: tuple[list[AnkiNote], Anki]) -> None:
    notes, _ = imported
    for note, (_path, _subject, front, snippet) in zip(notes, EXPECTED_CARDS, strict=True):
        back = " ".join(strip_html(note.fields["Back"]).split())
        assert " ".join(snippet.split()) in back, front


def test_decks_and_tags(imported: tuple[list[AnkiNote], Anki]) -> None:
    notes, _ = imported
    for note in notes:
        subject = note.fields["Subject"]
        assert note.deck == f"공부 메모장::{subject}"
        assert subject.replace(" ", "_") in note.tags
        assert note.note_type == "memo2anki"
    by_front = {strip_html(n.fields["Front"]): n for n in notes}
    assert "2025-03" in by_front["Docker Network"].tags  # from the note's # Tags list
    assert {"복습", "시험"} <= set(by_front["etcd 백업과 복구"].tags)  # frontmatter tags
    assert "암기" in by_front["CloudWatch 기본 지표"].tags  # an inline #tag
    assert "k8s::network" in by_front["Service 타입"].tags  # an inline #k8s/network, nested


def test_every_image_is_in_the_collection(imported: tuple[list[AnkiNote], Anki]) -> None:
    notes, anki = imported
    present = anki.media_files()
    referenced = {
        name for n in notes for field in n.fields.values() for name in anki.media_in(field)
    }
    assert referenced <= present
    assert len(referenced) == EXPECTED_IMAGES
    assert all(re.fullmatch(r"m2a-[0-9a-f]{20}\.png", name) for name in referenced)
    for name in referenced:
        assert (Path(anki.col.media.dir()) / name).read_bytes().startswith(b"\x89PNG")


def test_dates_and_links(imported: tuple[list[AnkiNote], Anki]) -> None:
    notes, _ = imported
    first = notes[0]
    assert first.fields["Date"] == "2025-03-28"
    assert first.fields["Link"] == "obsidian://open?vault=samples&file=daily%2F2025-03-28"


def test_no_raw_obsidian_markup_survives(imported: tuple[list[AnkiNote], Anki]) -> None:
    notes, _ = imported
    for note in notes:
        for name, html in note.fields.items():
            if name == "Link":
                continue
            # Code shows what was typed, `$HOME` and `a == b` included; judge the prose.
            prose = re.sub(r"<(pre|code)\b.*?</\1>", "", html, flags=re.DOTALL)
            text = strip_html(prose)
            for raw in ("[[", "]]", "==", "%%", "[!"):
                assert raw not in text, (note.fields["Front"], name, raw)
            assert not re.search(r"\$[^\s$][^$]*\$", text), (note.fields["Front"], name)


def test_obsidian_syntax_is_rendered(imported: tuple[list[AnkiNote], Anki]) -> None:
    notes, _ = imported
    backs = "\n".join(n.fields["Back"] for n in notes)
    assert "<mark>" in backs  # ==highlight==
    assert 'class="callout"' in backs  # > [!tip]
    assert r"\(" in backs  # $math$ for MathJax
    assert 'class="wikilink"' in backs
    assert '<pre><code class="language-bash">' in backs
    assert 'type="checkbox"' in backs  # task list


def test_bold_before_a_korean_particle_shows_bold(imported: tuple[list[AnkiNote], Anki]) -> None:
    notes, _ = imported
    (kubeconfig,) = [n for n in notes if strip_html(n.fields["Front"]) == "kubeconfig"]
    assert "<strong>컨텍스트(context)</strong>가 지금" in kubeconfig.fields["Back"]
    assert "**" not in strip_html(kubeconfig.fields["Back"])
