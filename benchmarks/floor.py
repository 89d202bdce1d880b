"""The floor: what writing a vault's cards costs with plain genanki and no parsing at all.

Given a vault made by ``make_vault.py``, write as many genanki notes as the vault has cards
(a Basic-like note type, two fields of fixed short text, one deck), with the same distinct
images attached and shown on as many backs as the vault's cards show images, through
``genanki.Package.write_to_file``. Nothing is read but ``bench-stats.json``; no markdown is
parsed. memo2anki's time divided by this one is how much its reading, parsing and rendering
cost on top of writing the package.

    python benchmarks/floor.py VAULT OUT.apkg
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import genanki

MODEL = genanki.Model(
    1607392319,
    "Floor Basic",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Front}}",
            "afmt": '{{FrontSide}}<hr id="answer">{{Back}}',
        }
    ],
)
DECK_ID = 2059400110
STATS_FILE = "bench-stats.json"  # written by make_vault.py


def write_floor(cards: int, media: list[Path], out: Path, image_refs: int = 0) -> None:
    """``cards`` two-field notes and ``media`` attached, written by genanki as it is.

    ``image_refs`` of the backs, spread evenly, show one of the media in turn (a fixed
    ``<img>`` tag, nothing parsed), so Anki imports the images as it would memo2anki's.
    """
    deck = genanki.Deck(DECK_ID, "Floor")
    names = [p.name for p in media]
    shown = 0
    for i in range(cards):
        back = f"Answer {i}"
        if names and (i + 1) * image_refs // cards > shown:
            back += f'<br><img src="{html.escape(names[shown % len(names)])}">'
            shown += 1
        deck.add_note(genanki.Note(model=MODEL, fields=[f"Question {i}", back]))
    package = genanki.Package(deck, media_files=[str(p) for p in media])
    # genanki leaves its temporary database behind (mkstemp, never deleted); keep it in a
    # folder of ours so benchmark runs do not fill /tmp.
    with tempfile.TemporaryDirectory(prefix="m2a-floor-") as tmp:
        saved, tempfile.tempdir = tempfile.tempdir, tmp
        try:
            package.write_to_file(str(out))
        finally:
            tempfile.tempdir = saved


def floor(vault: Path, out: Path) -> dict[str, Any]:
    """Write the floor package for ``vault`` (made by make_vault) to ``out``; its stats."""
    # Read as plain JSON (not through make_vault) so the floor imports nothing but genanki.
    stats: dict[str, Any] = json.loads((vault / STATS_FILE).read_text(encoding="utf-8"))
    media = [vault / rel for rel in stats["media"]]
    write_floor(stats["cards"], media, out, stats["image_refs"])
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("vault", type=Path, help="a vault made by make_vault.py")
    parser.add_argument("out", type=Path, help="the .apkg to write")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    stats = floor(args.vault, args.out)
    if not args.quiet:
        print(
            f"{args.out}: {stats['cards']} notes, {len(stats['media'])} media "
            f"in {time.perf_counter() - started:.2f} s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
