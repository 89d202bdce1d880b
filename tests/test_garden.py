"""A Digital Garden repository works with no flags, and gives the cards of its vault.

The fixture (tests/garden_fixture.py) writes a small vault and the garden the Digital Garden
plugin publishes from it, byte for byte as the plugin's compiler writes it (checked at
plugin versions 2.59.2 and 2.84.0).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from unittest.mock import ANY
from urllib.parse import quote

import pytest
import yaml
from garden_fixture import (
    CURRENT_VERSION,
    DAY_ONE,
    DAY_TWO,
    LEGACY_VERSION,
    NETWORK_NOTE,
    PLUGIN_VERSIONS,
    PUBLISHED_IMAGES,
    SITE_BASE_URL,
    VAULT_CARDS,
    Fixture,
    page_url,
    write_fixture,
)
from helpers import Anki, AnkiNote, run
from sandbox import run_cli

from memo2anki.changes.notes import page_url as memo2anki_page_url
from memo2anki.notes.discover import find_vault_root, garden_root
from memo2anki.notes.garden import site_base_url, unpublish, vault_metadata


def build(tmp_path: Path, *args: str | Path, name: str = "deck") -> tuple[list[AnkiNote], Anki]:
    """Build a deck with ``args`` (a warning fails the test) and import it into a fresh
    collection."""
    out = tmp_path / f"{name}.apkg"
    result = run(*args, "-o", out, "--no-cache")
    assert result.exit_code == 0, result.output
    assert " 0 warnings;" in result.stderr, result.stderr
    anki = Anki(tmp_path / f"anki-{name}")
    anki.import_package(out)
    return anki.notes(), anki


def media_by_content(anki: Anki, notes: list[AnkiNote]) -> list[list[str]]:
    """Each note's pictures, as the SHA-256 of what Anki holds (present, or the test fails)."""
    folder = Path(anki.col.media.dir())
    return [
        [hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in anki.media_in(html)]
        for note in notes
        for html in [note.fields["Back"]]
    ]


def cards_of(notes: list[AnkiNote]) -> list[tuple[str, str, str]]:
    """(note path, subject, front) of each Anki note, in study order."""
    return [(n.fields["Source"], n.fields["Subject"], n.fields["Front"]) for n in notes]


@pytest.fixture
def fixture(tmp_path: Path) -> Fixture:
    return write_fixture(tmp_path / "fixture")


# --- recognised ----------------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["both", "plugin-info", "eleventy"])
@pytest.mark.parametrize("base_dir", ["", "web"])
def test_a_garden_is_found_upward_from_any_of_its_paths(
    tmp_path: Path, marker: str, base_dir: str
) -> None:
    fixture = write_fixture(tmp_path, marker=marker, base_dir=base_dir)
    garden = fixture.garden.resolve()
    for path in (
        fixture.garden,
        fixture.garden / "src" / "site" / "notes",
        fixture.garden_note(DAY_ONE).parent,
        fixture.garden_note(DAY_ONE),
        fixture.garden_image(PUBLISHED_IMAGES[0]),
    ):
        assert garden_root(path) == garden, path
        assert find_vault_root([path]) == garden, path
    assert garden_root(fixture.vault) is None
    assert garden_root(tmp_path) is None  # (a larger repository holding it is not one)


def test_a_folder_of_notes_without_a_garden_marker_is_no_garden(fixture: Fixture) -> None:
    (fixture.garden / "plugin-info.json").unlink()
    (fixture.garden / ".eleventy.js").unlink()
    assert garden_root(fixture.garden_note(DAY_ONE)) is None


@pytest.mark.parametrize("plugin_version", PLUGIN_VERSIONS)
@pytest.mark.parametrize("way", ["repository", "notes folder", "one note", "from elsewhere"])
def test_every_way_of_pointing_at_a_garden_finds_every_picture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plugin_version: str, way: str
) -> None:
    fixture = write_fixture(tmp_path / "f", plugin_version)
    monkeypatch.chdir(fixture.garden if way != "from elsewhere" else tmp_path)
    target = {
        "repository": Path("."),
        "notes folder": Path("src/site/notes"),
        "one note": Path("src/site/notes") / DAY_TWO,
        "from elsewhere": fixture.garden.relative_to(tmp_path) / "src/site/notes",
    }[way]
    notes, anki = build(tmp_path, target)
    expected = [c for c in VAULT_CARDS if way != "one note" or c[0] == DAY_TWO]
    assert [(n.fields["Source"], n.fields["Subject"], n.fields["Front"]) for n in notes] == [
        (note, subject, front) for note, subject, front in expected
    ]
    for note, pictures in zip(notes, media_by_content(anki, notes), strict=True):
        assert "missing image" not in note.fields["Back"]
        assert "{ #" not in note.fields["Back"]
        assert all(pictures), note.fields["Front"]
    assert anki.media_files() >= {name for n in notes for name in anki.media_in(n.fields["Back"])}
    assert (fixture.garden / ".memo2anki").is_dir()
    assert not (fixture.garden / "src" / "site" / ".memo2anki").exists()
    anki.close()


def test_the_summary_names_the_garden_it_read(fixture: Fixture, tmp_path: Path) -> None:
    result = run(fixture.garden, "-o", tmp_path / "deck.apkg", "--no-cache")
    assert result.exit_code == 0
    summary = result.stderr.splitlines()[-1]
    assert f"from 3 notes (2 with memos) of the Digital Garden {fixture.garden.resolve()}" in (
        summary
    )
    assert "0 warnings" in summary and "vault root" not in result.stderr


def test_a_picture_not_found_names_the_folder_that_finds_it(
    fixture: Fixture, tmp_path: Path
) -> None:
    notes = fixture.garden / "src" / "site" / "notes"
    result = run(notes, "--vault", notes, "--dry-run", "--no-cache")
    assert result.exit_code == 0
    assert (
        f"memo2anki: vault root {notes.resolve()} (5 images not found in it; "
        f"--vault {fixture.garden.resolve()} finds them)"
    ) in result.stderr.splitlines()
    # Nowhere above: said so, and no folder is named.
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "2025-05-13.md").write_text(
        "# 공부 메모장\n## CKA\n**a**\n![](/img/user/none1.png)\n![](/img/user/none2.png)\n"
        "![](/img/user/none3.png)\n",
        encoding="utf-8",
    )
    result = run(alone, "--vault", alone, "--dry-run", "--no-cache")
    assert "(3 images not found in it, nor in a folder above it; " in result.stderr


# --- the same cards either way -------------------------------------------------------------


LEFT_OUT = {"line", "key", "stamp"}


def _ledger_rows(root: Path) -> list[list[object]]:
    """The ledger's rows without the line (a garden's frontmatter is one line of JSON, so its
    lines are the garden file's), the key (a digest that covers the line) and the stamp (a
    card new to the ledger carries the time of the run, and the two runs may fall in two
    seconds)."""
    lines = (root / ".memo2anki" / "ledger.json").read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[0] + "]}")
    columns = head["columns"]
    rows = [json.loads(line.rstrip(",")) for line in lines[1:-1]]
    return [
        [
            value
            for column, value in zip(columns, row, strict=True)
            if column not in {"line", "key", "stamp"}
        ]
        for row in rows
    ]


@pytest.mark.parametrize("plugin_version", PLUGIN_VERSIONS)
def test_a_vault_and_its_garden_give_the_same_deck_in_anki(
    tmp_path: Path, plugin_version: str
) -> None:
    fixture = write_fixture(tmp_path / "f", plugin_version, site_base_url=None)
    from_vault, vault_anki = build(tmp_path, fixture.vault, name="vault")
    from_garden, garden_anki = build(tmp_path, fixture.garden, name="garden")
    assert cards_of(from_vault) == list(VAULT_CARDS)
    assert len(from_garden) == len(from_vault)
    for v, g in zip(from_vault, from_garden, strict=True):
        assert (g.guid, g.deck, g.tags, g.note_type) == (v.guid, v.deck, v.tags, v.note_type)
        assert {k: x for k, x in g.fields.items() if k != "Link"} == {
            k: x for k, x in v.fields.items() if k != "Link"
        }
    pictures = media_by_content(vault_anki, from_vault)
    assert pictures == media_by_content(garden_anki, from_garden)
    assert sum(map(len, pictures)) == 5  # every picture of a memo, each present in Anki
    assert _ledger_rows(fixture.garden) == _ledger_rows(fixture.vault)
    vault_anki.close()
    garden_anki.close()


# --- the link ------------------------------------------------------------------------------


def _links(notes: list[AnkiNote]) -> dict[str, str]:
    return {n.fields["Source"]: n.fields["Link"] for n in notes}


def test_a_garden_with_its_site_address_links_each_card_to_its_page(
    fixture: Fixture, tmp_path: Path
) -> None:
    notes, anki = build(tmp_path, fixture.garden)
    assert _links(notes) == {
        DAY_ONE: f"{SITE_BASE_URL}/01-daily/2025-05-12/",
        DAY_TWO: f"{SITE_BASE_URL}/01-daily/2025-05-13/",
    }
    anki.close()


def test_a_garden_without_its_site_address_links_nowhere_or_to_the_vault_named(
    tmp_path: Path,
) -> None:
    fixture = write_fixture(tmp_path / "f", site_base_url=None)
    notes, anki = build(tmp_path, fixture.garden, name="none")
    assert _links(notes) == {DAY_ONE: "", DAY_TWO: ""}
    assert all(n.fields["Source"] for n in notes)  # the note is still named
    anki.close()
    (fixture.garden / ".memo2anki.toml").write_text('vault_name = "공부 노트"\n', encoding="utf-8")
    notes, anki = build(tmp_path, fixture.garden, name="named")
    vault = quote("공부 노트", safe="")
    assert _links(notes)[DAY_ONE] == (
        f"obsidian://open?vault={vault}&file={quote('01 - Daily/2025-05-12', safe='')}"
    )
    anki.close()


def test_garden_url_in_the_settings_file_wins_over_the_env_file(
    fixture: Fixture, tmp_path: Path
) -> None:
    (fixture.garden / ".memo2anki.toml").write_text(
        'garden_url = "notes.example.com/"\n', encoding="utf-8"
    )
    notes, anki = build(tmp_path, fixture.garden)
    assert _links(notes)[DAY_TWO] == "https://notes.example.com/01-daily/2025-05-13/"
    anki.close()


def test_a_vault_links_to_obsidian_as_before(fixture: Fixture, tmp_path: Path) -> None:
    notes, anki = build(tmp_path, fixture.vault)
    assert _links(notes)[DAY_ONE] == (
        f"obsidian://open?vault=vault&file={quote('01 - Daily/2025-05-12', safe='')}"
    )
    anki.close()


def test_a_changed_link_updates_the_cards_in_anki(tmp_path: Path) -> None:
    fixture = write_fixture(tmp_path / "f", site_base_url=None)
    out = tmp_path / "deck.apkg"
    assert run(fixture.garden, "-o", out, "--no-cache").exit_code == 0
    anki = Anki(tmp_path / "anki")
    anki.import_package(out)
    assert set(_links(anki.notes()).values()) == {""}
    (fixture.garden / ".env").write_text(f"SITE_BASE_URL={SITE_BASE_URL}", encoding="utf-8")
    again = run(fixture.garden, "-o", out, "--no-cache")
    assert "6 updated" in again.stderr.splitlines()[-1]
    anki.import_package(out)
    assert _links(anki.notes())[DAY_ONE] == page_url(DAY_ONE)
    assert len(anki.notes()) == len(VAULT_CARDS)
    third = run(fixture.garden, "-o", out, "--no-cache")
    assert "6 unchanged" in third.stderr.splitlines()[-1]
    anki.close()


def test_one_note_of_a_garden_leaves_the_others_cards_alone(
    fixture: Fixture, tmp_path: Path
) -> None:
    out = tmp_path / "deck.apkg"
    assert run(fixture.garden, "-o", out, "--no-cache").exit_code == 0
    one = run(fixture.garden_note(DAY_TWO), "-o", out, "--no-cache")
    assert one.exit_code == 0
    assert "gone" not in one.stderr and "3 unchanged" in one.stderr


@pytest.mark.parametrize("how", ["another site address", "no site address"])
def test_cards_a_run_with_other_links_did_not_reach_keep_theirs(
    fixture: Fixture, tmp_path: Path, how: str
) -> None:
    """A run on one note with other links (another site's address, or none) updates that
    note's cards; the next run with the garden's own links puts those back, and leaves the
    other note's cards, whose links in Anki it never changed, unchanged."""
    out = tmp_path / "deck.apkg"
    assert run(fixture.garden, "-o", out, "--no-cache").exit_code == 0
    settings, env = fixture.garden / ".memo2anki.toml", fixture.garden / ".env"
    site = env.read_text(encoding="utf-8")
    if how == "another site address":
        settings.write_text('garden_url = "notes.example.com"\n', encoding="utf-8")
    else:
        env.unlink()
    one = run(fixture.garden_note(DAY_ONE), "-o", out, "--no-cache")
    assert one.exit_code == 0, one.output
    assert one.stderr.splitlines()[-1].endswith("3 updated; wrote " + str(out))
    settings.unlink(missing_ok=True)
    env.write_text(site, encoding="utf-8")
    whole = run(fixture.garden, "-o", out, "--no-cache", "--changes")
    assert whole.exit_code == 0, whole.output
    assert "3 updated, 3 unchanged" in whole.stderr.splitlines()[-1], whole.stderr
    updated = [line for line in whole.output.splitlines() if ": updated '" in line]
    assert len(updated) == 3 and all(line.startswith(DAY_ONE) for line in updated), updated
    again = run(fixture.garden, "--dry-run", "--no-cache")
    assert "6 unchanged" in again.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    ("site", "permalink", "url"),
    [
        (
            "https://a.example.org",
            "/01-daily/2025-05-12/",
            "https://a.example.org/01-daily/2025-05-12/",
        ),
        ("a.example.org/", "/01-daily/2025-05-12/", "https://a.example.org/01-daily/2025-05-12/"),
        ("http://a.example.org", "/x", "http://a.example.org/x/"),
        ("https://a.example.org", "/02-notes//", "https://a.example.org/02-notes/"),
        ("https://a.example.org", "/", "https://a.example.org/"),
        ("https://a.example.org", "/공부/", f"https://a.example.org/{quote('공부')}/"),
    ],
)
def test_page_urls(site: str, permalink: str, url: str) -> None:
    assert memo2anki_page_url(site, permalink) == url


@pytest.mark.parametrize(
    ("env", "url"),
    [
        (f"SITE_NAME_HEADER=정원\nSITE_BASE_URL={SITE_BASE_URL}\nX=1", SITE_BASE_URL),
        ("SITE_BASE_URL=", ""),
        ('SITE_BASE_URL="notes.example.com"', "notes.example.com"),
        ("SITE_BASE_URL=my-token", ""),  # the plugin leaves a non-address out
        ("# SITE_BASE_URL=https://old.example.org\nOTHER=1", ""),
        (None, ""),
    ],
)
def test_the_site_address_from_the_env_file(tmp_path: Path, env: str | None, url: str) -> None:
    if env is not None:
        (tmp_path / ".env").write_text(env, encoding="utf-8")
    assert site_base_url(tmp_path) == url


# --- what the plugin rewrote, read as the vault's ------------------------------------------

PAGES = {"/02-notes/": "02 - Notes/쿠버네티스 네트워크.md", "/a/b/": "a/b.md"}


def note_of(permalink: str, embedded: str = "") -> str | None:
    return PAGES.get("/" + "/".join(p for p in permalink.split("/") if p) + "/")


_LINK_ICON = '<a class="markdown-embed-link" href="{}" aria-label="Open link"><svg></svg></a>'


def _embed(href: str | None, content: str, title: str = "") -> str:
    link = _LINK_ICON.format(href) if href is not None else ""
    title_block = f'<div class="markdown-embed-title">\n\n# {title}\n\n</div>\n' if title else ""
    return (
        f'\n<div class="transclusion internal-embed is-loaded">{link}'
        f'<div class="markdown-embed">\n\n{title_block}\n\n{content}\n\n</div></div>\n'
    )


@pytest.mark.parametrize(
    ("garden", "vault"),
    [
        # block ids: a line of their own after the block, or glued to the line before
        ("a\n{ #b-1}\n\nc\n", "a ^b-1\nc\n"),
        ("a\n\n^x\n", "a\n\n^x\n"),
        ("a{ #x}\n\nb", "a\n^x\nb"),
        # pictures: the name the plugin put in the alt goes, a size stays
        ("![x.png](/img/user/image/x.png)", "![](/img/user/image/x.png)"),
        ("![x.png\\|300](/img/user/image/x.png)", "![|300](/img/user/image/x.png)"),
        ("![x.png|300x20](/img/user/x.png)", "![|300x20](/img/user/x.png)"),
        ("![x.png\\|설명](/img/user/x.png)", "![](/img/user/x.png)"),
        ("![x.png\\|설명\\|50](/img/user/x.png)", "![|50](/img/user/x.png)"),
        ("![image/x.png](/img/user/image/x.png)", "![](/img/user/image/x.png)"),
        (
            "![알 림.png](/img/user/%EC%95%8C%20%EB%A6%BC.png)",
            "![](/img/user/%EC%95%8C%20%EB%A6%BC.png)",
        ),
        # an alt the person wrote stays; a path not encoded (before 2.62) is encoded
        ("![a diagram](/img/user/img/x.png)", "![a diagram](/img/user/img/x.png)"),
        ("![](/img/user/image/vpc endpoint.png)", "![](/img/user/image/vpc%20endpoint.png)"),
        # a linked picture (2.69 and later)
        ("[x.png](/img/user/image/x.png)", "[[image/x.png]]"),
        ("[see](/img/user/image/x.png)", "[see](/img/user/image/x.png)"),
        # wikilinks: the automatic alias goes; the person's stays, with its \| (tables)
        ("[[03 - Tags/2025-05\\|2025-05]]", "[[03 - Tags/2025-05]]"),
        ("[[dir/Note#Part\\|Note#Part]]", "[[dir/Note#Part]]"),
        ("[[dir/Note#Part\\|Other#Part]]", "[[dir/Note#Part\\|Other#Part]]"),
        ("[[this/note#H\\|#H]]", "[[#H]]"),
        ("[[02 - Notes/n\\|정리 노트]]", "[[02 - Notes/n\\|정리 노트]]"),
        ("| [[a/b\\|c]] | d |", "| [[a/b\\|c]] | d |"),
        ("[[없는 노트\\|없는 노트]]", "[[없는 노트]]"),
        # fenced code is left alone
        ("```\n[[a/b\\|b]]\n{ #x}\n```\n", "```\n[[a/b\\|b]]\n{ #x}\n```\n"),
        # an embedded note back to its ![[...]]: by heading, whole, with a title
        (
            "**S**\n" + _embed("/02-notes//#service", "# Service 타입\nClusterIP") + "\n다음",
            "**S**\n![[02 - Notes/쿠버네티스 네트워크#Service 타입]]\n다음",
        ),
        ("x\n" + _embed("/a/b/", "본문\n**굵게**") + "\ny", "x\n![[a/b]]\ny"),
        ("x\n" + _embed("/a/b/", "본문", title="제목") + "\ny", "x\n![[a/b|제목]]\ny"),
        ("x\n" + _embed("/a/b/#^blk", "본문") + "\ny", "x\n![[a/b#^blk]]\ny"),
        # nested embeds go with the one holding them
        (
            "x\n" + _embed("/a/b/", "안" + _embed("/02-notes/", "속") + "\n끝") + "\ny",
            "x\n![[a/b]]\ny",
        ),
        # a page no note of the garden has: as a note not published
        ("x\n" + _embed("/gone/", "본문") + "\ny", "x\n\n> 본문\n\ny"),
        # ~~~ fences too
        ("~~~\n![a.png](/img/user/a.png)\n~~~\n", "~~~\n![a.png](/img/user/a.png)\n~~~\n"),
        # a note not published (no link): its content quoted, so its lines start no card
        (
            "x\n" + _embed(None, "# 제목\n**굵게**", title="T") + "\ny",
            "x\n\n> **T**\n> # 제목\n> **굵게**\n\ny",
        ),
    ],
)
def test_unpublish(garden: str, vault: str) -> None:
    assert unpublish(garden, note_of) == vault


# Each level nine times the one before (a "billion laughs"): 9**6 strings, written as text.
_ALIASES_THAT_GROW = "\n".join(
    ['l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 6)]
    + ["permalink: *l5"]
)


@pytest.mark.parametrize(
    ("published", "metadata", "permalink"),
    [
        (  # 2.74 and later: the note's own frontmatter is kept whole
            {
                "dg-publish": True,
                "permalink": "/a/",
                "tags": ["x", "gardenEntry"],
                "dg-note-properties": {"tags": ["x"], "date": "2025-05-01", "dg-home": True},
                "created": "2026-01-01T00:00:00.000+09:00",
            },
            {"tags": ["x"], "date": "2025-05-01", "dg-home": True},
            "/",
        ),
        (  # before: the tags without the home page's, no plugin key, no file time
            {
                "dg-publish": True,
                "permalink": "/a/",
                "tags": ["x", "gardenEntry"],
                "noteIcon": "",
                "dgShowBacklinks": True,
                "created": "2026-01-01",
                "updated": "2026-01-02",
            },
            {"tags": ["x"]},
            "/",
        ),
        ({"dg-publish": True, "permalink": "/b/"}, {}, "/b/"),
        ({"dg-publish": True, "tags": ["gardenEntry"]}, {}, "/"),
        ({"date": "2025-05-01", "aliases": ["a"]}, {"date": "2025-05-01", "aliases": ["a"]}, ""),
        # a permalink that is not text is none: not a number, a list, or aliases made to grow
        ({"dg-publish": True, "permalink": 123}, {}, ""),
        ({"dg-publish": True, "permalink": ["/a/", "/b/"]}, {}, ""),
        (
            {"dg-publish": True, **yaml.safe_load(_ALIASES_THAT_GROW)},
            {f"l{n}": ANY for n in range(6)},
            "",
        ),
    ],
    ids=["2.74", "before 2.74", "a page", "the home page", "no garden", "a number",
         "a list", "growing aliases"],
)  # fmt: skip
def test_vault_metadata(
    published: dict[str, object], metadata: dict[str, object], permalink: str
) -> None:
    assert vault_metadata(published) == (metadata, permalink)


def test_a_garden_home_page_note_keeps_its_tags_but_not_garden_entry(
    fixture: Fixture, tmp_path: Path
) -> None:
    note = fixture.garden_note(DAY_ONE)
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace('"tags":["daily"]', '"tags":["daily","gardenEntry"]', 1), "utf-8")
    notes, anki = build(tmp_path, fixture.garden)
    tags = {n.fields["Source"]: n.tags for n in notes}
    assert "daily" in tags[DAY_ONE] and not any("garden" in t.lower() for t in tags[DAY_ONE])
    assert _links(notes)[DAY_ONE] == f"{SITE_BASE_URL}/"
    anki.close()


def test_a_legacy_garden_reads_its_pictures_whose_paths_were_not_encoded(
    tmp_path: Path,
) -> None:
    fixture = write_fixture(tmp_path / "f", LEGACY_VERSION)
    text = fixture.garden_note(DAY_TWO).read_text(encoding="utf-8")
    assert "![](/img/user/image/vpc endpoint.png)" in text  # as the plugin wrote it
    notes, anki = build(tmp_path, fixture.garden)
    back = next(n.fields["Back"] for n in notes if n.fields["Front"] == "VPC 엔드포인트")
    assert len(anki.media_in(back)) == 1 and "missing" not in back
    anki.close()


def test_the_fixture_is_what_it_says(fixture: Fixture) -> None:
    """The fixture's garden holds only what a garden holds: no vault settings, the network
    note published beside the daily notes, and the current plugin's note properties."""
    assert not (fixture.garden / ".obsidian").exists()
    assert fixture.garden_note(NETWORK_NOTE).is_file()
    assert '"dg-note-properties"' in fixture.garden_note(DAY_ONE).read_text(encoding="utf-8")
    assert CURRENT_VERSION in PLUGIN_VERSIONS


def test_a_folder_that_becomes_a_garden_is_read_as_one_with_the_cache_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMO2ANKI_CACHE_DIR", str(tmp_path / "cache"))
    fixture = write_fixture(tmp_path / "f", marker="plugin-info")
    marker = fixture.garden / "plugin-info.json"
    kept = marker.read_bytes()
    marker.unlink()
    before = run(fixture.garden, "--dry-run", "--json")  # cached as a folder of files
    assert json.loads(before.stdout)["cards"][0]["note"].startswith("src/site/notes/")
    marker.write_bytes(kept)
    after = json.loads(run(fixture.garden, "--dry-run", "--json").stdout)
    fresh = json.loads(run(fixture.garden, "--dry-run", "--json", "--no-cache").stdout)
    assert after["cards"] == fresh["cards"]
    assert [c["note"] for c in after["cards"]] == [note for note, _, _ in VAULT_CARDS]


def test_a_warning_names_the_garden_file_from_where_it_runs(
    fixture: Fixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixture.garden_image("image/sized.png").unlink()
    monkeypatch.chdir(fixture.garden)
    result = run(".", "--dry-run", "--no-cache")
    assert result.exit_code == 0
    warning = result.stderr.splitlines()[0]
    assert warning == (
        "src/site/notes/01 - Daily/2025-05-12.md:31: image not found: /img/user/image/sized.png"
    )
    assert Path(warning.split(":")[0]).is_file()  # it opens from here
    monkeypatch.chdir(fixture.garden.parent)
    assert (
        run("garden", "--dry-run", "--no-cache")
        .stderr.splitlines()[0]
        .startswith("garden/src/site/notes/01 - Daily/2025-05-12.md:31: ")
    )


def test_a_garden_syncs_into_a_collection_with_its_pages_linked(
    tmp_path: Path,
) -> None:
    fixture = write_fixture(tmp_path / "f", site_base_url=None)
    anki = Anki(tmp_path / "profile")
    anki.close()
    collection = tmp_path / "profile" / "collection.anki2"

    def sync() -> str:
        result = run("sync", fixture.garden, "--collection", collection, "--no-cache")
        assert result.exit_code == 0, result.output
        return result.stderr

    sync()
    (fixture.garden / ".env").write_text(f"SITE_BASE_URL={SITE_BASE_URL}", encoding="utf-8")
    assert "6 updated" in sync()
    anki = Anki(tmp_path / "profile")
    notes = anki.notes()
    assert _links(notes)[DAY_TWO] == page_url(DAY_TWO)
    assert cards_of(notes) == list(VAULT_CARDS)
    assert all(all(p) for p in media_by_content(anki, notes))
    assert sum(map(len, media_by_content(anki, notes))) == 5
    anki.close()


def test_a_page_moved_alone_updates_its_cards_links_only(fixture: Fixture, tmp_path: Path) -> None:
    out = tmp_path / "deck.apkg"
    assert run(fixture.garden, "-o", out, "--no-cache").exit_code == 0
    anki = Anki(tmp_path / "anki")
    anki.import_package(out)
    note = fixture.garden_note(DAY_TWO)
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace('"/01-daily/2025-05-13/"', '"/cka/day-2/"', 1), "utf-8")
    again = run(fixture.garden, "-o", out, "--no-cache", "--changes")
    assert again.exit_code == 0
    assert "3 updated, 3 unchanged" in again.stderr.splitlines()[-1]
    anki.import_package(out)
    assert _links(anki.notes()) == {
        DAY_ONE: page_url(DAY_ONE),
        DAY_TWO: f"{SITE_BASE_URL}/cka/day-2/",
    }
    # One note read alone keeps what the ledger knows of the other's page.
    alone = run(fixture.garden_note(DAY_ONE), "-o", out, "--no-cache")
    assert "3 unchanged" in alone.stderr.splitlines()[-1]
    whole = run(fixture.garden, "-o", out, "--no-cache")
    assert "6 unchanged" in whole.stderr.splitlines()[-1]
    anki.close()


def test_an_embedded_note_is_told_from_another_of_the_same_page(
    fixture: Fixture, tmp_path: Path
) -> None:
    # Korean names slug to nothing: both notes are published at /02-notes//, and the one
    # first by path is not the one embedded.
    other = fixture.garden_note("02 - Notes/도커 네트워크.md")
    other.write_text(
        '---\n{"dg-publish":true,"permalink":"/02-notes//"}\n---\n\n# Service 타입\n다른 노트\n',
        encoding="utf-8",
    )
    from_vault, vault_anki = build(tmp_path, fixture.vault, name="vault")
    from_garden, garden_anki = build(tmp_path, fixture.garden, name="garden")
    backs = [n.fields["Back"] for n in from_garden if n.fields["Front"] == "Service 종류"]
    assert backs == [n.fields["Back"] for n in from_vault if n.fields["Front"] == "Service 종류"]
    assert "다른 노트" not in backs[0] and "NodePort" in backs[0]
    vault_anki.close()
    garden_anki.close()


def test_a_garden_read_in_worker_processes_gives_the_same_cards(fixture: Fixture) -> None:
    one = run(fixture.garden, "--dry-run", "--json", "--no-cache", "-j", "1")
    two = run(fixture.garden, "--dry-run", "--json", "--no-cache", "-j", "2")
    assert one.exit_code == two.exit_code == 0
    assert json.loads(one.stdout)["cards"] == json.loads(two.stdout)["cards"]
    assert len(json.loads(two.stdout)["cards"]) == len(VAULT_CARDS)


def test_vault_name_names_the_vault_an_obsidian_link_opens(
    fixture: Fixture, tmp_path: Path
) -> None:
    (fixture.vault / ".memo2anki.toml").write_text('vault_name = "공부"\n', encoding="utf-8")
    notes, anki = build(tmp_path, fixture.vault)
    file = quote("01 - Daily/2025-05-13", safe="")
    assert _links(notes)[DAY_TWO] == f"obsidian://open?vault={quote('공부', safe='')}&file={file}"
    anki.close()


def test_a_card_with_no_link_shows_its_source_as_text(tmp_path: Path) -> None:
    fixture = write_fixture(tmp_path / "f", site_base_url=None)
    notes, anki = build(tmp_path, fixture.garden)
    card = anki.col.get_card(notes[0].card_ids[0])
    answer = card.answer()
    assert "01 - Daily/2025-05-12.md" in answer and 'href=""' not in answer
    assert "<a " not in answer.split('class="m2a m2a-source"')[1]
    anki.close()
    linked, anki = build(tmp_path, write_fixture(tmp_path / "g").garden, name="linked")
    answer = anki.col.get_card(linked[0].card_ids[0]).answer()
    assert f'href="{page_url(DAY_ONE)}"' in answer
    anki.close()


def _env_a_fifo(fixture: Fixture) -> None:
    (fixture.garden / ".env").unlink()
    os.mkfifo(fixture.garden / ".env")


def _env_a_link_to_zero(fixture: Fixture) -> None:
    (fixture.garden / ".env").unlink()
    (fixture.garden / ".env").symlink_to("/dev/zero")


def _env_of_4_gib(fixture: Fixture) -> None:
    with (fixture.garden / ".env").open("r+b") as f:
        f.truncate(4 << 30)  # (sparse: its address on the first line, then nothing)


def _a_note_a_fifo(fixture: Fixture) -> None:
    os.mkfifo(fixture.garden_note("pipe.md"))


# Each: what it does to the garden, the site address the cards link to, the warning.
GARDEN_FILES_NOT_WHAT_THEY_SEEM = {
    ".env a FIFO": (_env_a_fifo, "", None),
    ".env a link to /dev/zero": (_env_a_link_to_zero, "", None),
    ".env of 4 GiB": (_env_of_4_gib, SITE_BASE_URL, None),
    "a note a FIFO": (_a_note_a_fifo, SITE_BASE_URL, "pipe.md: skipped, not a regular file"),
}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize(
    ("make", "site", "warning"),
    GARDEN_FILES_NOT_WHAT_THEY_SEEM.values(),
    ids=GARDEN_FILES_NOT_WHAT_THEY_SEEM.keys(),
)
def test_a_garden_file_that_is_not_what_it_seems_is_never_waited_on_nor_read_whole(
    tmp_path: Path,
    make: Callable[[Fixture], None],
    site: str,
    warning: str | None,
) -> None:
    """The garden's .env and the first line of each note (for its page) are read only from
    regular files, and only so much: a FIFO waited for ever (.env's deaf to SIGTERM), a
    link to /dev/zero or a sparse .env of gigabytes filled the memory. Every card is made."""
    fixture = write_fixture(tmp_path / "f")
    make(fixture)
    out = tmp_path / "deck.apkg"
    done = run_cli(fixture.garden, "-o", out, "--no-cache", max_memory=3 << 30)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if not line.startswith("memo2anki: ")]
    assert warnings == ([warning] if warning else []), done.stderr
    anki = Anki(tmp_path / "anki")
    anki.import_package(out)
    notes = anki.notes()
    assert cards_of(notes) == list(VAULT_CARDS)
    assert {link.split("/0")[0] for link in _links(notes).values()} == {site}
    anki.close()
