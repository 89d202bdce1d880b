"""``memo2anki preview``: every card of the deck on one HTML page, read in a real browser.

The page is checked as a reader meets it: loaded in Debian's headless Chromium (as
test_screenshots does; skipped without it, except in CI), its cards compared with the deck
imported into real Anki, its pictures loaded, its requests watched, and its print (a PDF)
read page by page. Then what the command promises besides: the ledger only read, the change
marks, the filters, the page's own text escaped, the pictures' folder, and its messages.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from helpers import PICTURE_GONE, SAMPLES, Anki, bump_mtime, memo, png, run, write_vault
from preview import Browser, find_chromium

from memo2anki.cards.convert import convert
from memo2anki.changes.plan import Layout, Plan
from memo2anki.cli import preview as preview_cli
from memo2anki.model import Memo2AnkiError, Options, Result
from memo2anki.targets.build import plan_build
from memo2anki.targets.preview import csp, inline_size, write_preview

# --- the page as data ----------------------------------------------------------------------


@dataclass
class PageCard:
    guid: str
    front: str
    kind: str | None
    images: list[str]


class _Page(HTMLParser):
    """The cards of a page (front, kind, pictures), its gone list, and every tag met."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[PageCard] = []
        self.gone: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._in: list[str] = []  # the open spans we collect text of
        self._in_gone = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        self.tags.append((tag, attr))
        classes = (attr.get("class") or "").split()
        if tag == "article" and "m2a-card" in classes:
            self.cards.append(PageCard(attr.get("data-guid") or "", "", None, []))
        elif tag == "section" and "m2a-gone" in classes:
            self._in_gone = True
        elif tag == "span" and "m2a-front" in classes:
            self._in.append("front")
            if self._in_gone:
                self.gone.append("")
        elif tag == "span" and "m2a-kind" in classes:
            self._in.append("kind")
        elif tag == "span":
            self._in.append("")
        elif tag == "img" and self.cards and not self._in_gone:
            self.cards[-1].images.append(attr.get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._in:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if "front" in self._in:
            if self._in_gone:
                self.gone[-1] += data
            else:
                self.cards[-1].front += data
        elif self._in and self._in[-1] == "kind":
            self.cards[-1].kind = (self.cards[-1].kind or "") + data


def page_of(path: Path) -> _Page:
    parser = _Page()
    parser.feed(path.read_text(encoding="utf-8"))
    for card in parser.cards:
        card.front = card.front.strip()
    parser.gone = [g.strip() for g in parser.gone]
    return parser


def _preview(*args: str | Path) -> Any:
    result = run("preview", *args)
    assert result.exit_code == 0, result.output
    return result


def _samples(tmp_path: Path) -> Path:
    # A copy: a build writes its ledger into the vault.
    return shutil.copytree(
        SAMPLES, tmp_path / "samples", ignore=shutil.ignore_patterns(".memo2anki")
    )


def _plain(field: str) -> str:
    return re.sub(r"<[^>]+>", "", field).replace("&amp;", "&").replace("&lt;", "<").strip()


# --- in the browser ------------------------------------------------------------------------


def _chromium() -> str:
    found = find_chromium()
    if found is not None:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is missing in CI: .ci/run should have installed Debian's chromium")
    pytest.skip("chromium is not on PATH (apt-get install chromium fonts-noto-cjk)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser(_chromium()) as opened:
        yield opened


# Run in the page once it loaded (never part of it: the page allows no script).
_PROBE = """document.fonts.ready.then(function () {
  return {
    cards: Array.prototype.map.call(document.querySelectorAll("article.m2a-card"), function (a) {
      return [a.getAttribute("data-guid"), a.querySelector(".m2a-front").textContent.trim()];
    }),
    images: Array.prototype.map.call(document.images, function (img) {
      return [img.currentSrc || img.src, img.naturalWidth];
    }),
    background: getComputedStyle(document.body).backgroundColor
  };
})"""


@dataclass
class Loaded:
    cards: list[tuple[str, str]]
    images: list[tuple[str, int]]
    background: str
    requests: list[tuple[str, str | None]]  # every URL asked for, and why it was blocked

    def left_the_page(self) -> list[str]:
        """Requests for anything but the page and its files that were not blocked by the
        page's policy: what would have gone out to the network."""
        return [
            url
            for url, blocked in self.requests
            if not url.startswith(("file:", "data:")) and blocked != "csp"
        ]


@contextmanager
def _tab(browser: Browser, dark: bool = False) -> Iterator[str]:
    """A new tab (its DevTools session) on a desktop-sized screen, light or dark."""
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    try:
        metrics = {"width": 900, "height": 900, "deviceScaleFactor": 1, "mobile": False}
        browser.call("Emulation.setDeviceMetricsOverride", metrics, session)
        scheme = {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}
        browser.call("Emulation.setEmulatedMedia", {"features": [scheme]}, session)
        browser.call("Network.enable", {}, session)
        browser.call("Page.enable", {}, session)
        yield session
    finally:
        browser.call("Target.closeTarget", {"targetId": target})
        browser.take_events(session)


def _open(browser: Browser, session: str, page: Path) -> None:
    browser.call("Page.navigate", {"url": page.resolve().as_uri()}, session)
    browser.wait_for("Page.loadEventFired", session)


def load(browser: Browser, page: Path, dark: bool = False) -> Loaded:
    """Load ``page`` and look at it: its cards, its pictures, its colour, its requests."""
    with _tab(browser, dark) as session:
        _open(browser, session, page)
        probe = browser.call(
            "Runtime.evaluate",
            {"expression": _PROBE, "awaitPromise": True, "returnByValue": True},
            session,
        )["result"]["value"]
        events = browser.take_events(session)
    urls = {
        e["params"]["requestId"]: e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
    }
    blocked = {
        e["params"]["requestId"]: e["params"].get("blockedReason")
        for e in events
        if e.get("method") == "Network.loadingFailed"
    }
    return Loaded(
        cards=[(guid, front) for guid, front in probe["cards"]],
        images=[(src, int(width)) for src, width in probe["images"]],
        background=probe["background"],
        requests=[(url, blocked.get(rid)) for rid, url in urls.items()],
    )


def print_pdf(browser: Browser, page: Path) -> bytes:
    """The page printed to PDF (A4), as a browser's Print does."""
    with _tab(browser) as session:
        _open(browser, session, page)
        options = {"paperWidth": 8.27, "paperHeight": 11.69, "printBackground": True}
        data = browser.call("Page.printToPDF", options, session)["data"]
    return base64.b64decode(data)


def pdf_pages(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(BytesIO(pdf)).pages]


def _rgb(css_color: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", css_color)[:3])


@pytest.fixture(scope="module")
def samples_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """The samples' page, and the notes of the samples' deck as Anki holds them."""
    tmp = tmp_path_factory.mktemp("samples")
    vault = _samples(tmp)
    page = tmp / "cards.html"
    _preview(vault, "-o", page, "-q")
    apkg = tmp / "samples.apkg"
    assert run(vault, "-o", apkg, "-q").exit_code == 0
    anki = Anki(tmp / "anki")
    try:
        anki.import_package(apkg)
        notes = anki.notes()
    finally:
        anki.close()
    return page, notes


def test_every_card_of_the_deck_is_on_the_page_with_its_front(
    browser: Browser, samples_page: tuple[Path, list[Any]]
) -> None:
    page, notes = samples_page
    loaded = load(browser, page)
    in_deck = sorted((n.guid, _plain(n.fields["Front"])) for n in notes)
    assert len(in_deck) == 17
    assert sorted(loaded.cards) == in_deck


def test_every_picture_loaded_and_nothing_left_the_page(
    browser: Browser, samples_page: tuple[Path, list[Any]]
) -> None:
    page, notes = samples_page
    loaded = load(browser, page)
    pictures = sum(n.fields["Back"].count("<img") for n in notes)
    assert pictures >= 8
    assert len(loaded.images) == pictures
    assert all(src.startswith("data:image/") and width > 0 for src, width in loaded.images)
    asked = [url for url, _ in loaded.requests if not url.startswith("data:")]
    assert asked == [page.resolve().as_uri()]
    assert loaded.left_the_page() == []


def test_pictures_beside_the_page_load_too(browser: Browser, tmp_path: Path) -> None:
    vault = _samples(tmp_path)
    result, plan = _plan(vault)
    page = tmp_path / "my cards.html"
    info = write_preview(plan, result.media, page, title="t", inline_limit=0)
    assert info.folder == tmp_path / "my cards_files"
    loaded = load(browser, page)
    assert len(loaded.images) == sum(len(card.images) for card in page_of(page).cards)
    assert len(result.media) == info.pictures == 8
    folder = info.folder.resolve().as_uri() + "/"
    assert all(src.startswith(folder) and width > 0 for src, width in loaded.images)
    assert loaded.left_the_page() == []


def test_the_page_s_policy_stops_a_request_and_the_check_would_see_one(
    browser: Browser, samples_page: tuple[Path, list[Any]], tmp_path: Path
) -> None:
    # What the two tests above rely on: a picture from the network, put in the page, is
    # asked for and blocked by its policy; without the policy it would go out, and
    # left_the_page() names it.
    page, _ = samples_page
    text = page.read_text(encoding="utf-8")
    remote = '<img src="http://example.invalid/tracker.png">'
    with_policy = tmp_path / "with.html"
    with_policy.write_text(text.replace("<main", f"{remote}<main", 1), encoding="utf-8")
    without = tmp_path / "without.html"
    without.write_text(
        re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", with_policy.read_text()),
        encoding="utf-8",
    )
    blocked = load(browser, with_policy)
    assert ("http://example.invalid/tracker.png", "csp") in blocked.requests
    assert blocked.left_the_page() == []
    assert load(browser, without).left_the_page() == ["http://example.invalid/tracker.png"]


def test_light_and_dark(browser: Browser, samples_page: tuple[Path, list[Any]]) -> None:
    page, _ = samples_page
    light = _rgb(load(browser, page).background)
    dark = _rgb(load(browser, page, dark=True).background)
    assert min(light) > 230 and max(dark) < 60, (light, dark)


def _long_cards(count: int) -> list[str]:
    """Cards of many sizes, a marker at each one's start (front) and end (its last line)."""
    cards = []
    for i in range(count):
        lines = "\n".join(
            f"- line {j} of card {i}, some words to fill it" for j in range(3 + i % 17)
        )
        cards.append(f"**Q{i:03d} topic**\n{lines}\n\nEND{i:03d}")
    return cards


def test_printed_backs_are_open_and_no_card_is_split(browser: Browser, tmp_path: Path) -> None:
    count = 40
    vault = write_vault(tmp_path / "vault", {"daily/2025-04-01.md": memo(*_long_cards(count))})
    page = tmp_path / "cards.html"
    _preview(vault, "-o", page, "-q")

    def split_cards(pages: list[str]) -> list[int]:
        where = {}
        for i in range(count):
            starts = [n for n, text in enumerate(pages) if f"Q{i:03d}" in text]
            ends = [n for n, text in enumerate(pages) if f"END{i:03d}" in text]
            assert len(starts) == 1 and len(ends) == 1, (i, starts, ends)  # backs printed
            where[i] = (starts[0], ends[0])
        return [i for i, (start, end) in where.items() if start != end]

    pages = pdf_pages(print_pdf(browser, page))
    assert len(pages) > 5
    assert split_cards(pages) == []
    # The check can fail: the same page without its rule against breaks inside a card.
    loose = tmp_path / "loose.html"
    text = page.read_text(encoding="utf-8")
    loose_text = text.replace("break-inside: avoid; page-break-inside: avoid;", "")
    assert loose_text != text
    loose.write_text(loose_text, encoding="utf-8")
    assert split_cards(pdf_pages(print_pdf(browser, loose))) != []


# --- what the command promises besides -------------------------------------------------------


def _plan(vault: Path, options: Options = Options()) -> tuple[Result, Plan]:
    result = convert([vault], options)
    plan, _ = plan_build(result, [vault], options, Layout("공부 메모장", vault.name))
    return result, plan


def _tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_ledger_is_only_read(tmp_path: Path) -> None:
    vault = _samples(tmp_path)
    _preview(vault, "-o", tmp_path / "first.html", "--changes")
    assert not (vault / ".memo2anki").exists()  # no ledger made where there was none
    first = tmp_path / "first.html"
    assert "every card is new" in first.read_text(encoding="utf-8")
    assert {card.kind for card in page_of(first).cards} == {"new"}
    assert run(vault, "-o", tmp_path / "deck.apkg", "-q").exit_code == 0
    before = _tree(vault / ".memo2anki")
    note = vault / "daily/2025-04-05.md"
    note.write_text(note.read_text(encoding="utf-8").replace("Session Manager", "SSM"), "utf-8")
    bump_mtime(note)
    _preview(vault, "-o", tmp_path / "second.html", "--changes")
    assert _tree(vault / ".memo2anki") == before


def _changes_vault(root: Path) -> Path:
    return write_vault(
        root,
        {
            "daily/2025-04-01.md": memo(
                "**Pod**\n가장 작은 배포 단위이고 컨테이너 하나 이상을 묶는다",
                "**Service**\n파드 묶음에 고정 주소를 준다\n![[svc.png]]",
                "**etcd**\n클러스터 상태 저장소",
            ),
            "daily/2025-04-02.md": memo(
                "**CNI**\n네트워크 플러그인 표준, 파드 네트워크를 만든다",
                "**Ingress**\nHTTP 라우팅 규칙",
            ),
            "image/svc.png": png(seed=1),
        },
    )


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    bump_mtime(path)


def test_changes_marks_each_card_and_lists_the_gone(tmp_path: Path) -> None:
    vault = _changes_vault(tmp_path / "vault")
    assert run(vault, "-o", tmp_path / "deck.apkg", "-q").exit_code == 0
    first, second = vault / "daily/2025-04-01.md", vault / "daily/2025-04-02.md"
    _edit(first, "클러스터 상태 저장소", "클러스터 상태를 담는 key-value 저장소")  # updated
    _edit(first, "**Pod**", "**Pod (파드)**")  # renamed
    _edit(first, "**Service**\n파드 묶음에 고정 주소를 준다\n![[svc.png]]", "")  # moved ...
    _edit(
        second,
        "**Ingress**\nHTTP 라우팅 규칙",
        "**Service**\n파드 묶음에 고정 주소를 준다\n![[svc.png]]",
    )
    _edit(second, "**CNI**", "**Taint**\n노드가 파드를 밀어낸다\n\n**CNI**")  # new; Ingress gone
    page = tmp_path / "cards.html"
    result = _preview(vault, "-o", page, "--changes")
    cards = {card.front: card.kind for card in page_of(page).cards}
    assert cards == {
        "Pod (파드)": "renamed",
        "etcd": "updated",
        "Taint": "new",
        "CNI": None,
        "Service": "moved",
    }
    assert page_of(page).gone == ["Ingress"]
    text = page.read_text(encoding="utf-8")
    assert "was &#x27;Pod&#x27;" in text and "from daily/2025-04-01.md:" in text
    assert "1 new, 1 updated, 1 renamed, 1 moved, 1 gone, 1 unchanged" in result.output
    # Without --changes: the same cards, no marks, no gone list.
    plain = tmp_path / "plain.html"
    _preview(vault, "-o", plain, "-q")
    assert {c.front: c.kind for c in page_of(plain).cards} == dict.fromkeys(cards)
    assert page_of(plain).gone == []


@pytest.mark.parametrize(
    ("args", "fronts"),
    [
        ((), ["A1", "A2", "B1", "C1"]),
        (("--subject", "cka"), ["A1", "A2", "C1"]),
        (("--since", "2025-04-02"), ["B1", "C1"]),
        (("--until", "2025-04-03", "--last", "2"), ["B1", "C1"]),
        (("--subject", "AWS", "--since", "2025-04-02"), ["B1"]),
    ],
)
def test_the_filters_of_a_build(tmp_path: Path, args: tuple[str, ...], fronts: list[str]) -> None:
    vault = write_vault(
        tmp_path / "vault",
        {
            "daily/2025-04-01.md": memo("**A1**\none", "**A2**\ntwo"),
            "daily/2025-04-02.md": memo("**B1**\nthree", subject="AWS"),
            "daily/2025-04-03.md": memo("**C1**\nfour"),
        },
    )
    page = tmp_path / "cards.html"
    _preview(vault, "-o", page, "-q", *args)
    assert sorted(card.front for card in page_of(page).cards) == fronts


def test_cards_are_grouped_by_subject_then_date_with_a_table_of_contents(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "vault",
        {
            "daily/2025-04-03.md": memo("**late CKA**\nx") + "## AWS\n**late AWS**\ny\n",
            "daily/2025-04-01.md": memo("**early CKA**\nx"),
            "daily/2025-04-02.md": memo("**mid AWS**\nx", subject="AWS"),
        },
    )
    page = tmp_path / "cards.html"
    _preview(vault, "-o", page, "-q")
    assert [c.front for c in page_of(page).cards] == [
        "early CKA", "late CKA", "mid AWS", "late AWS",
    ]  # fmt: skip
    text = page.read_text(encoding="utf-8")
    toc = text[text.index('<nav class="m2a-toc">') : text.index("</nav>")]
    assert re.findall(r'href="#(s\d(?:-d\d)?)">([^<]+)<', toc) == [
        ("s1", "CKA"), ("s1-d1", "2025-04-01"), ("s1-d2", "2025-04-03"),
        ("s2", "AWS"), ("s2-d1", "2025-04-02"), ("s2-d2", "2025-04-03"),
    ]  # fmt: skip
    for anchor in ("s1", "s1-d2", "s2-d1"):
        assert f'id="{anchor}"' in text
    # Each back folded under its front, opened by the reader: no script anywhere.
    assert text.count("<details>\n<summary>") == 4 and "<details open" not in text


def test_math_shows_as_its_tex_source_and_the_page_says_so(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "vault",
        {"daily/2025-04-01.md": memo("**Euler**\n$e^{i\\pi} + 1 = 0$", "**plain**\nno math")},
    )
    page = tmp_path / "cards.html"
    _preview(vault, "-o", page, "-q")
    text = page.read_text(encoding="utf-8")
    assert "\\(e^{i\\pi} + 1 = 0\\)" in text
    assert "Math is shown as its TeX source" in text
    _edit(vault / "daily/2025-04-01.md", "$e^{i\\pi} + 1 = 0$", "no math either")
    _preview(vault, "-o", page, "-q")
    assert "Math is shown" not in page.read_text(encoding="utf-8")


HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.mark.parametrize(
    "where",
    ["deck", "subject", "front", "gone front"],
)
def test_the_page_s_own_text_is_escaped(tmp_path: Path, where: str) -> None:
    subject = f"CKA{HOSTILE}" if where == "subject" else "CKA"
    front = f"Pod{HOSTILE}" if where in ("front", "gone front") else "Pod"
    vault = write_vault(
        tmp_path / "vault",
        {"daily/2025-04-01.md": memo(f"**{front}**\nback", "**etcd**\nstore", subject=subject)},
    )
    args: list[str | Path] = [vault, "-o", tmp_path / "cards.html", "--changes"]
    if where == "deck":
        args += ["--deck", f"Deck{HOSTILE}"]
    if where == "gone front":
        assert run(vault, "-o", tmp_path / "deck.apkg", "-q").exit_code == 0
        _edit(vault / "daily/2025-04-01.md", f"**{front}**\nback", "")
    _preview(*args)
    page = page_of(tmp_path / "cards.html")
    assert not [tag for tag, _ in page.tags if tag == "script"]
    assert not [(tag, a) for tag, attrs in page.tags for a in attrs if a.startswith("on")]
    assert all(attrs.get("src", "data:").startswith("data:") for tag, attrs in page.tags)
    text = (tmp_path / "cards.html").read_text(encoding="utf-8")
    # A heading keeps only its text (the card maker drops its markup); the deck's name is
    # kept whole. Either way the page shows it as text.
    shown = {"deck": "&lt;script&gt;alert(1)&lt;/script&gt;", "front": 'Pod"&gt;'}
    assert shown.get(where, "&quot;&gt;alert(1)") in text
    if where == "gone front":
        assert page.gone == ['Pod">alert(1)']


def test_the_policy_allows_no_network(tmp_path: Path) -> None:
    vault = _changes_vault(tmp_path / "vault")
    page = tmp_path / "cards.html"
    _preview(vault, "-o", page, "-q")
    policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    assert csp(beside=False) == policy
    assert f'<meta http-equiv="Content-Security-Policy" content="{policy}">' in page.read_text()
    assert csp(beside=True) == "default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'"


def test_pictures_inside_the_page_or_beside_it(tmp_path: Path) -> None:
    vault = _changes_vault(tmp_path / "vault")
    (vault / "image/b.png").write_bytes(png(seed=2))
    # b.png shown by two cards: inside the page, its data: URI is there twice.
    _edit(vault / "daily/2025-04-02.md", "HTTP 라우팅 규칙", "HTTP 라우팅 규칙\n![[b.png]]")
    _edit(vault / "daily/2025-04-02.md", "만든다", "만든다\n![[b.png]]")
    result, plan = _plan(vault)
    files = {m.name: m.path.read_bytes() for m in result.media}
    assert len(files) == 2
    page = tmp_path / "cards.html"
    svc, b = (inline_size(len(files[m.name])) for m in result.media)
    on_page = svc + 2 * b

    inside = write_preview(plan, result.media, page, title="t", inline_limit=on_page)
    assert inside.folder is None and inside.pictures == 2
    sources = [src for card in page_of(page).cards for src in card.images]
    assert len(sources) == 3 and sum(map(len, sources)) > on_page
    decoded = {base64.b64decode(src.partition(",")[2]) for src in sources}
    assert decoded == set(files.values())
    assert sources[0].startswith("data:image/png;base64,")

    beside = write_preview(plan, result.media, page, title="t", inline_limit=on_page - 1)
    assert beside.folder == tmp_path / "cards_files"
    assert {p.name: p.read_bytes() for p in beside.folder.iterdir()} == files
    sources = [src for card in page_of(page).cards for src in card.images]
    assert sorted(set(sources)) == sorted(f"cards_files/{name}" for name in files)
    assert beside.size < inside.size
    assert "img-src data: 'self'" in page.read_text(encoding="utf-8")

    # A picture no longer shown leaves the folder; the other stays.
    _edit(vault / "daily/2025-04-02.md", "\n![[b.png]]", "")
    result, plan = _plan(vault)
    write_preview(plan, result.media, page, title="t", inline_limit=0)
    assert [p.name for p in beside.folder.iterdir()] == [result.media[0].name]

    # The page again with its pictures inside: those beside it go, and the folder once empty
    # (a file of the person's there keeps it).
    (beside.folder / "mine.txt").write_text("k")
    write_preview(plan, result.media, page, title="t", inline_limit=on_page)
    assert [p.name for p in beside.folder.iterdir()] == ["mine.txt"]
    (beside.folder / "mine.txt").unlink()
    write_preview(plan, result.media, page, title="t", inline_limit=0)
    write_preview(plan, result.media, page, title="t", inline_limit=on_page)
    assert not beside.folder.exists()


@pytest.mark.parametrize("made", ["a link", "a file"])
def test_the_pictures_folder_is_never_written_through_a_link_or_over_a_file(
    tmp_path: Path, made: str
) -> None:
    vault = _changes_vault(tmp_path / "vault")
    result, plan = _plan(vault)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    kept = {"m2a-0123456789abcdef0123.png": b"x", "mine.txt": b"k"}
    for name, data in kept.items():
        (elsewhere / name).write_bytes(data)
    folder = tmp_path / "cards_files"
    if made == "a link":
        folder.symlink_to(elsewhere, target_is_directory=True)
        said = "is a symbolic link; the pictures go in a folder of their own there"
    else:
        folder.write_bytes(b"someone's file")
        said = "is not a folder; the pictures go there: move it away"
    with pytest.raises(Memo2AnkiError, match=said):
        write_preview(plan, result.media, tmp_path / "cards.html", title="t", inline_limit=0)
    assert {p.name: p.read_bytes() for p in elsewhere.iterdir()} == kept
    assert not (tmp_path / "cards.html").exists()


@pytest.mark.parametrize("made", ["a link to another file of its size", "damaged, of its size"])
def test_a_picture_beside_the_page_is_kept_only_as_its_own_bytes(tmp_path: Path, made: str) -> None:
    """A picture of the folder beside the page is named by its content, but what is there
    under its name may not be it: a link to another file, a copy damaged (zeros after a
    crash). It was kept when it had the picture's size, and the page showed something else."""
    vault = _changes_vault(tmp_path / "vault")
    result, plan = _plan(vault)
    (picture,) = result.media
    data = picture.path.read_bytes()
    folder = tmp_path / "cards_files"
    folder.mkdir()
    other = tmp_path / "other.png"
    other.write_bytes(bytes(len(data)))
    if made.startswith("a link"):
        (folder / picture.name).symlink_to(other)
    else:
        (folder / picture.name).write_bytes(bytes(len(data)))
    write_preview(plan, result.media, tmp_path / "cards.html", title="t", inline_limit=0)
    assert not (folder / picture.name).is_symlink()
    assert (folder / picture.name).read_bytes() == data
    assert other.read_bytes() == bytes(len(data))


@pytest.mark.parametrize("how", PICTURE_GONE)
@pytest.mark.parametrize("where", ["inside the page", "beside it"])
def test_a_picture_gone_while_the_page_is_written_is_shown_missing_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, where: str
) -> None:
    """Between finding a picture and writing the page, it goes, or becomes what no writer
    reads: the page is written, every card on it, that picture shown as missing with a
    warning, as a package leaves it out (a folder beside the page ended the command)."""
    vault = _changes_vault(tmp_path / "vault")
    real = preview_cli.write_preview

    def changed_meanwhile(*args: Any, **kwargs: Any) -> Any:
        PICTURE_GONE[how](vault / "image/svc.png", vault)
        return real(*args, **kwargs, inline_limit=0 if where == "beside it" else 2**40)

    monkeypatch.setattr(preview_cli, "write_preview", changed_meanwhile)
    page = tmp_path / "cards.html"
    result = run("preview", vault, "-o", page)
    assert result.exit_code == 0, result.output
    assert (
        "image/svc.png: image moved or deleted while the page was written; shown as missing"
        in result.output.splitlines()
    ), result.output
    assert len(page_of(page).cards) == 5  # every card all the same
    assert not list(tmp_path.glob("cards_files/*"))


@pytest.mark.parametrize(
    ("output", "code", "message"),
    [
        ("note.md", 2, "that is a note's name (.md)"),
        ("existing/", 2, "is a folder; give a file name, such as existing/cards.html"),
        ("existing", 2, "is a folder; give a file name, such as existing/cards.html"),
        ("nowhere/cards.html", 1, "folder nowhere does not exist"),
    ],
)
def test_bad_output_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str, code: int, message: str
) -> None:
    vault = _changes_vault(tmp_path / "vault")
    (tmp_path / "existing").mkdir()
    monkeypatch.chdir(tmp_path)
    result = run("preview", vault, "-o", output)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not list(tmp_path.glob("*.html"))


def test_no_output_given_is_bad_usage(tmp_path: Path) -> None:
    result = run("preview", _changes_vault(tmp_path / "vault"))
    assert result.exit_code == 2 and "-o" in result.output


def test_html_is_added_to_a_name_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = _changes_vault(tmp_path / "vault")
    monkeypatch.chdir(tmp_path)
    result = _preview(vault, "-o", "cards")
    assert (tmp_path / "cards.html").is_file() and not (tmp_path / "cards").exists()
    assert "wrote cards.html (.html added)" in result.output
    assert "5 cards (CKA 5)" in result.output and "1 picture inside it" in result.output


def test_no_cards_is_a_failure(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", {"daily/2025-04-01.md": "# 오전\n- [x] 공부\n"})
    result = run("preview", vault, "-o", tmp_path / "cards.html")
    assert result.exit_code == 1
    assert "no memo section" in result.output and not (tmp_path / "cards.html").exists()


# --- the dry run's JSON ----------------------------------------------------------------------


def test_dry_run_json_maps_each_picture_to_its_file_in_the_vault(tmp_path: Path) -> None:
    import json

    vault = _samples(tmp_path)
    result = run(vault, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    media = report["media"]
    shown = {
        src
        for card in report["cards"]
        for src in re.findall(r'<img[^>]*src="([^"]+)"', card["back"])
    }
    assert len(shown) == 8
    assert set(media) == shown  # every picture a back shows, and only those
    for name, path in media.items():
        assert (Path(report["vault"]) / path).is_file(), (name, path)
    for card in report["cards"]:
        names = re.findall(r'<img[^>]*src="([^"]+)"', card["back"])
        assert sorted(media[n] for n in names) == sorted(card["images"])


def test_the_page_is_the_same_with_or_without_the_cache(tmp_path: Path) -> None:
    vault = _samples(tmp_path)
    pages = [tmp_path / f"{name}.html" for name in ("cold", "cached", "again")]
    _preview(vault, "-o", pages[0], "-q", "--no-cache")
    _preview(vault, "-o", pages[1], "-q")
    _preview(vault, "-o", pages[2], "-q")
    assert pages[0].read_bytes() == pages[1].read_bytes() == pages[2].read_bytes()


def test_a_note_whose_name_is_not_utf8(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", {"daily/2025-04-02.md": memo("**etcd**\nstore")})
    bad = os.fsencode(vault / "daily") + b"/2025-04-01 \xb0.md"
    Path(os.fsdecode(bad)).write_text(memo("**Pod**\n가장 작은 배포 단위이고 컨테이너를 묶는다"))
    assert run(vault, "-o", tmp_path / "deck.apkg", "-q").exit_code == 0
    # The card moves to another note: the page says where it was, the bytes shown as \xb0.
    Path(os.fsdecode(bad)).write_text(memo("**CNI**\nplugins"))
    _edit(
        vault / "daily/2025-04-02.md",
        "**etcd**",
        "**Pod**\n가장 작은 배포 단위이고 컨테이너를 묶는다\n\n**etcd**",
    )
    page = tmp_path / "cards.html"
    _preview(vault, "-o", page, "--changes")
    assert "from daily/2025-04-01 \\xb0.md:" in page.read_text(encoding="utf-8")
    assert {c.front: c.kind for c in page_of(page).cards}["Pod"] == "moved"
