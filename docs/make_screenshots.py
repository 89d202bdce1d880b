"""Regenerate docs/screenshots/: three sample cards as Anki shows them, on a phone (front and
back, light and dark) and one back on a desktop; and a page of ``memo2anki preview``
(``preview.png``), one card opened.

    python docs/make_screenshots.py            # needs `chromium` and Anki's library (`anki`)

The deck is built from samples/ with memo2anki, imported into a new Anki collection, and each
card is taken as Anki renders it (see tests/preview.py). Install Debian's `chromium`, a
Korean font (`fonts-noto-cjk`) and, for math, `libjs-mathjax`.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Run from a checkout: this checkout's memo2anki, installed or not, and the screenshot driver
# kept with the tests (it needs the test extra, so it is not part of the installed package).
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from preview import (  # noqa: E402
    DESKTOP,
    PHONE,
    Browser,
    Shot,
    anki_cards,
    find_chromium,
    find_mathjax,
    shoot_cards,
)

OUT = REPO / "docs" / "screenshots"
# name -> front: an image, a table and math; code, an image and a callout; a highlight, a tag
# and a table.
CARDS = {
    "vpc": "VPC 서브넷 설계",
    "etcd": "etcd 백업과 복구",
    "cloudwatch": "CloudWatch 기본 지표",
}
DESKTOP_CARD = "etcd"
# The preview's shot: two days of the samples' CKA cards, the one with code, a picture and a
# callout opened (as a reader would, by a click; the page itself has no script).
PREVIEW_ARGS = ("--subject", "CKA", "--until", "2025-03-31")
PREVIEW_OPEN = "etcd 백업과 복구"


def build_deck(folder: Path) -> Path:
    """The samples deck, built by the memo2anki CLI of this checkout."""
    apkg = folder / "samples.apkg"
    subprocess.run(
        [sys.executable, "-m", "memo2anki", str(REPO / "samples"), "-o", str(apkg), "-q"],
        check=True,
        cwd=REPO,
    )
    return apkg


def preview_page(folder: Path) -> Path:
    """The samples' preview page, with :data:`PREVIEW_OPEN` opened."""
    page = folder / "preview.html"
    subprocess.run(
        [sys.executable, "-m", "memo2anki", "preview", str(REPO / "samples"), "-o", str(page),
         "-q", *PREVIEW_ARGS],
        check=True,
        cwd=REPO,
    )  # fmt: skip
    text = page.read_text(encoding="utf-8")
    opened = re.sub(
        r"<details>(?=\n<summary>(?:(?!</summary>).)*" + re.escape(PREVIEW_OPEN) + ")",
        "<details open>",
        text,
        count=1,
    )
    if opened == text:
        raise SystemExit(f"no card '{PREVIEW_OPEN}' on the preview page")
    page.write_text(opened, encoding="utf-8")
    return page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs")
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio")
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        print("chromium not found: apt-get install chromium fonts-noto-cjk", file=sys.stderr)
        return 1
    mathjax = find_mathjax()
    if mathjax is None:
        print("note: no local MathJax (apt-get install libjs-mathjax): math stays TeX")
    with tempfile.TemporaryDirectory(prefix="m2a-shots-") as tmp:
        work = Path(tmp)
        cards, media = anki_cards(build_deck(work), work / "anki", list(CARDS.values()))
        desktop = list(CARDS).index(DESKTOP_CARD)
        with Browser(chromium) as browser:
            shots = shoot_cards(
                browser, cards, list(CARDS), media, work / "pages",
                client=PHONE, scale=args.scale, mathjax=mathjax,
            )  # fmt: skip
            shots += shoot_cards(
                browser, [cards[desktop]], [f"{DESKTOP_CARD}-desktop"], media, work / "pages",
                client=DESKTOP, sides=["back"], scale=args.scale, mathjax=mathjax,
            )  # fmt: skip
            page = preview_page(work)
            shots.append(
                browser.screenshot(page, work / "preview.png", client=DESKTOP, scale=args.scale)
            )
        return _publish(shots, args.out)


def _publish(shots: list[Shot], out: Path) -> int:
    """Copy the PNGs to ``out``; fail if any image on a card did not load."""
    broken = [f"{shot.png.name}: {src}" for shot in shots for src in shot.broken_images]
    if broken:
        print("images that did not load:\n  " + "\n  ".join(broken), file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for shot in shots:
        target = out / shot.png.name
        shutil.copyfile(shot.png, target)
        total += target.stat().st_size
        print(target)
    print(f"{len(shots)} screenshots, {total / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
