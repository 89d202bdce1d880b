"""What markdown-it-py alone costs on a vault: the least a first (cold) export could take.

Reads every note of a vault made by ``make_vault.py``, and parses and renders its memo
section (from the ``# 공부 메모장`` heading to the end) with a bare markdown-it-py (CommonMark
and tables; no plugins, no highlighting, no cards, no package), in one worker process per CPU
as memo2anki does. Any cold export with this parser does at least this much work, so its time
next to the floor's shows how close to the floor a cold export can come.

    python benchmarks/parser_alone.py VAULT
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from multiprocessing import Pool
from pathlib import Path

from markdown_it import MarkdownIt

MEMO_HEADING = "# 공부 메모장"  # the section make_vault.py writes

_md = MarkdownIt("commonmark").enable("table")


def render_memo(path: str) -> int:
    """Parse and render one note's memo section; the length of the HTML (0: no section)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start = text.find(f"\n{MEMO_HEADING}\n")
    return len(_md.render(text[start + 1 :])) if start >= 0 else 0


def notes_of(vault: Path) -> list[str]:
    return sorted(str(p) for p in vault.rglob("*.md"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("vault", type=Path, help="a vault made by make_vault.py")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    notes = notes_of(args.vault)
    if args.jobs > 1:
        with Pool(args.jobs) as pool:
            sizes = pool.map(render_memo, notes, chunksize=max(1, len(notes) // (args.jobs * 8)))
    else:
        sizes = [render_memo(p) for p in notes]
    if not args.quiet:
        print(
            f"{len(notes)} notes, {sum(s > 0 for s in sizes)} memo sections, "
            f"{sum(sizes):,} characters of HTML in {time.perf_counter() - started:.2f} s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
