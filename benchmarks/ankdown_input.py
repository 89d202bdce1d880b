"""Write a generated vault's cards in ankdown's input format, for ``run.py --ankdown``.

ankdown (https://github.com/lukesmurray/ankdown, ``pip install ankdown``) turns markdown
files of ``front % back % tags`` cards separated by ``---`` lines into an .apkg with genanki
and a C markdown library (misaka). To time it on the same cards, each note's cards are
written to a file of that format: the front, the back's markdown as the note has it, and the
subject as a tag. Obsidian's image syntaxes, which ankdown does not read, become plain
``![](path)`` links to copies of the images without spaces in their names. The cards come
from memo2anki's own parse of the vault, done once here and not timed.

    python benchmarks/ankdown_input.py VAULT OUT_DIR
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from memo2anki.cards.convert import convert
from memo2anki.model import Card, Media

# Every image syntax the generated vaults use: ![[...]], ![[...|300]], ![..](...), ![..](<...>).
_IMAGE = re.compile(r"!\[\[[^\]]*\]\]|!\[[^\]]*\]\((?:<[^>]*>|[^)]*)\)")


def write_ankdown_input(vault: Path, out: Path) -> int:
    """Write ``out`` (replacing it) from ``vault``; the number of cards written."""
    shutil.rmtree(out, ignore_errors=True)
    images = out / "image"
    images.mkdir(parents=True)
    by_note: dict[str, list[Card]] = {}
    for card in convert([vault], jobs=0).cards:
        by_note.setdefault(card.note, []).append(card)
    for note, cards in by_note.items():
        dest = out / note
        dest.parent.mkdir(parents=True, exist_ok=True)
        blocks = []
        for card in cards:
            # The card's media come in the order its back shows them.
            plain = partial(_plain_image, iter(card.media), images, dest.parent)
            back = _IMAGE.sub(plain, card.back_markdown)
            tag = card.subject.replace(" ", "_")
            blocks.append(f"{card.front}\n\n%\n\n{back}\n\n%\n\n{tag}\n")
        dest.write_text("\n---\n\n".join(blocks), encoding="utf-8")
    return sum(len(cards) for cards in by_note.values())


def _plain_image(
    shown: Iterator[Media], images: Path, folder: Path, _reference: re.Match[str]
) -> str:
    media = next(shown, None)
    if media is None:  # a reference memo2anki did not embed
        return ""
    copy = images / media.path.name.replace(" ", "_")
    if not copy.exists():
        shutil.copyfile(media.path, copy)
    return f"![]({os.path.relpath(copy, folder)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("vault", type=Path, help="a vault made by make_vault.py")
    parser.add_argument("out", type=Path, help="the folder to write (replaced)")
    args = parser.parse_args(argv)
    print(f"{write_ankdown_input(args.vault, args.out)} cards", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
