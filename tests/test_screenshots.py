"""The note type's look in a real browser: sample cards built, imported into real Anki, shown
the way AnkiDroid and Anki desktop show them, and captured by headless Chromium.

Needs the `chromium` binary (Debian's package). Skipped without it, except in CI (`CI=true`),
where `.ci/run` installs it: there a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import SAMPLES
from preview import (
    DESKTOP,
    PHONE,
    Browser,
    CardSides,
    Shot,
    anki_cards,
    find_chromium,
    shoot_cards,
)

from memo2anki.cli.main import main

# The README's cards: an image, a table and math; code, an image and a callout; a highlight,
# a tag and a table.
CARDS = {
    "vpc": "VPC 서브넷 설계",
    "etcd": "etcd 백업과 복구",
    "cloudwatch": "CloudWatch 기본 지표",
}
IMAGES_ON_BACK = {"vpc": 1, "etcd": 1, "cloudwatch": 0}


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


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[CardSides], Path]:
    tmp = tmp_path_factory.mktemp("look")
    apkg = tmp / "samples.apkg"
    # A copy: a build writes its ledger into the vault (see test_samples_deck).
    vault = shutil.copytree(SAMPLES, tmp / "samples", ignore=shutil.ignore_patterns(".memo2anki"))
    result = CliRunner().invoke(main, [str(vault), "-o", str(apkg), "-q"])
    assert result.exit_code == 0, result.output
    return anki_cards(apkg, tmp / "anki", list(CARDS.values()))


@pytest.fixture(scope="module")
def phone(
    browser: Browser,
    cards: tuple[list[CardSides], Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Shot]:
    sides, media = cards
    shots = shoot_cards(browser, sides, list(CARDS), media, tmp_path_factory.mktemp("phone"))
    return {shot.png.stem: shot for shot in shots}


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _rgb(css_color: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", css_color)[:3])


def test_every_side_is_captured_at_phone_width(phone: dict[str, Shot]) -> None:
    expected = {
        f"{name}-{side}-{mode}"
        for name in CARDS
        for side in ("front", "back")
        for mode in ("light", "dark")
    }
    assert set(phone) == expected
    for name, shot in phone.items():
        width, height = _png_size(shot.png)
        assert width == PHONE.width, name
        assert height == shot.height > 50, name
        # A blank page compresses to a few hundred bytes; text and pictures do not.
        assert shot.png.stat().st_size > 3000, name


def test_every_image_on_the_cards_loaded(phone: dict[str, Shot]) -> None:
    for name, images in IMAGES_ON_BACK.items():
        for mode in ("light", "dark"):
            shot = phone[f"{name}-back-{mode}"]
            assert len(shot.images) == images, shot.png.name
            assert shot.broken_images == [], shot.png.name
            assert all(width > 0 for _, width in shot.images)


def test_nothing_is_wider_than_a_phone(phone: dict[str, Shot]) -> None:
    # Long code lines and wide tables scroll inside their own box; the card never does.
    for name, shot in phone.items():
        assert shot.width <= PHONE.width, name


def test_night_mode_turns_the_card_dark(phone: dict[str, Shot]) -> None:
    # The phone client marks night mode with AnkiDroid's `night_mode` class only.
    for name in CARDS:
        for side in ("front", "back"):
            light = _rgb(phone[f"{name}-{side}-light"].background)
            dark = _rgb(phone[f"{name}-{side}-dark"].background)
            assert min(light) > 230 and max(dark) < 60, (name, side, light, dark)
            light_png = phone[f"{name}-{side}-light"].png.read_bytes()
            assert light_png != phone[f"{name}-{side}-dark"].png.read_bytes()


def test_anki_desktop_night_mode(
    browser: Browser, cards: tuple[list[CardSides], Path], tmp_path: Path
) -> None:
    sides, media = cards
    etcd = list(CARDS).index("etcd")
    shots = shoot_cards(
        browser, [sides[etcd]], ["etcd"], media, tmp_path, client=DESKTOP, sides=["back"]
    )
    light, dark = shots
    assert _png_size(light.png)[0] == DESKTOP.width
    assert max(_rgb(dark.background)) < 60 < min(_rgb(light.background))
    assert all(shot.images and not shot.broken_images for shot in shots)


def test_the_page_around_the_card_is_anki_s(cards: tuple[list[CardSides], Path]) -> None:
    # The card's HTML comes from Anki: the note type's CSS and the filled-in template.
    sides, _ = cards
    etcd = sides[list(CARDS).index("etcd")]
    assert etcd.question.startswith("<style>") and ".nightMode" in etcd.question
    assert 'class="m2a-subject">CKA<' in etcd.question
    assert etcd.answer.count('class="m2a-front"') == 1  # {{FrontSide}}, once
    assert 'href="obsidian://open?vault=samples&file=daily%2F2025-03-31"' in etcd.answer


def test_a_missing_image_is_noticed(
    browser: Browser, cards: tuple[list[CardSides], Path], tmp_path: Path
) -> None:
    # The check above can fail: the same card, with its media folder empty.
    sides, _ = cards
    empty = tmp_path / "no-media"
    empty.mkdir()
    etcd = list(CARDS).index("etcd")
    light, _ = shoot_cards(browser, [sides[etcd]], ["etcd"], empty, tmp_path, sides=["back"])
    assert len(light.broken_images) == 1
    assert re.fullmatch(r"m2a-[0-9a-f]{20}\.png", light.broken_images[0])
