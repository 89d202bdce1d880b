"""Hostile notes: seconds per note size for the patterns that once took quadratic time, and
peak memory per MiB of note.

    python benchmarks/hostile.py                       # both tables
    python benchmarks/hostile.py --sizes 50000,100000,200000 --runs 3
    python benchmarks/hostile.py --memory 1,2,4,7      # MiB of note for the memory table

Time: each pattern is one note of about N characters, made into cards in this process by
memo2anki's own converter (read, find cards, render, sanitize, lint); the median process time
of ``--runs`` runs per size, and the ratio of each size to the one before it (2 is linear, 4
quadratic). Memory: a note of realistic memos (the benchmark vault's notes, put end to end)
converted by ``python -m memo2anki NOTE -o OUT --no-cache`` in a child process; its peak RSS
from ``os.wait4``, and how much it grows per MiB of note (below ~1 MiB the start-up's own peak
hides the note).
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(HERE)]
from make_vault import make_vault  # noqa: E402

from memo2anki.cards.make import NoteConverter  # noqa: E402
from memo2anki.model import Options  # noqa: E402

SECTION = "# 공부 메모장\n## CKA\n"


def _back(body: str) -> str:
    return f"{SECTION}**Card**\n{body}\n"


PATTERNS: dict[str, Callable[[int], str]] = {
    "heading padded with spaces": lambda n: f"{SECTION}### a{' ' * n}b\n가\n",
    "# Tags item of spaces": lambda n: f"# Tags\n-{' ' * n}\n{_back('b')}",
    "# Tags item of [[": lambda n: f"# Tags\n- {'[[' * (n // 2)}\n{_back('b')}",
    "unclosed <img in HTML": lambda n: _back("<div>\n" + "<img " * (n // 5)),
    "< then spaces in HTML": lambda n: _back("<div>\n<" + " " * n + "1"),
    "$$ lines never closed": lambda n: _back("\n".join("$$x" for _ in range(n // 4))),
    "cards with footnotes": lambda n: (
        SECTION
        + "".join(f"**C{i}**\nsee[^{i}]\n\n" for i in range(n // 30))
        + "".join(f"[^{i}]: note {i}\n" for i in range(n // 30))
    ),
    "![[#part]] embeds": lambda n: (
        SECTION
        + "".join(f"**C{i}**\n![[#참고]]\n\n" for i in range(n // 20))
        + "# 참고\n짧은 설명\n"
    ),
    "runs of [ (markdown-it)": lambda n: _back("[" * n),
}


def time_table(sizes: list[int], runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="m2a-hostile-"))
    try:
        (work / ".obsidian").mkdir()
        converter = NoteConverter(work, Options())
        note = work / "note.md"
        print("| pattern | " + " | ".join(f"{n:,} chars" for n in sizes) + " | ratio per ×2 |")
        print("|---|" + "---|" * (len(sizes) + 1))
        for name, make in PATTERNS.items():
            seconds = []
            for size in sizes:
                note.write_text(make(size), encoding="utf-8")
                taken = []
                for _ in range(runs):
                    start = time.process_time()
                    converter.convert(note)
                    taken.append(time.process_time() - start)
                seconds.append(statistics.median(taken))
            ratios = [b / max(a, 1e-6) for a, b in itertools.pairwise(seconds)]
            cells = " | ".join(f"{s:.3f} s" for s in seconds)
            print(f"| {name} | {cells} | {', '.join(f'{r:.2f}' for r in ratios)} |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _memo_note(vault: Path, source: Path, mib: float) -> int:
    """Write one note of about ``mib`` MiB of the source vault's memos; its size in bytes."""
    parts, size = ["# 공부 메모장\n"], 0
    notes = [p.read_text(encoding="utf-8") for p in sorted(source.glob("daily/**/*.md"))]
    memos = [t.split("# 공부 메모장\n", 1)[1] for t in notes if "# 공부 메모장\n" in t]
    i = 0
    while size < mib * 1024 * 1024:
        parts.append(memos[i % len(memos)])
        size += len(parts[-1].encode())
        i += 1
    text = "".join(parts)
    (vault / "big.md").write_text(text, encoding="utf-8")
    return len(text.encode())


# Run by a small process of its own: Linux keeps a process's peak RSS through exec, so a child
# forked straight from this one (which has made big notes) would report this one's peak.
_MEASURE = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss if status == 0 else -1)
"""


def _peak_rss_mib(vault: Path) -> float:
    command = [sys.executable, "-m", "memo2anki", vault, "-o", vault / "out.apkg", "--no-cache"]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *map(str, command), "-q"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    kib = int(done.stdout)
    if kib < 0:
        raise SystemExit(f"memo2anki failed on {vault}: {done.stderr.strip()}")
    return kib / 1024  # KiB on Linux


def memory_table(sizes: list[float]) -> None:
    work = Path(tempfile.mkdtemp(prefix="m2a-memory-"))
    try:
        source = work / "source"
        make_vault(source, 400, seed=3)
        rows = []
        for mib in [0.01, *sizes]:
            vault = work / f"v{mib}"
            (vault / ".obsidian").mkdir(parents=True)
            shutil.copytree(source / "image", vault / "image")
            size = _memo_note(vault, source, mib)
            rows.append((size / 2**20, _peak_rss_mib(vault)))
            shutil.rmtree(vault)
        print("| note | peak RSS | per MiB of note, from the row before |")
        print("|---|---|---|")
        print(f"| tiny | {rows[0][1]:.0f} MiB | |")
        for (last_mib, last_rss), (note_mib, rss) in itertools.pairwise(rows):
            slope = (rss - last_rss) / (note_mib - last_mib)
            print(f"| {note_mib:.1f} MiB | {rss:.0f} MiB | {slope:.0f} MiB |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50000,100000,200000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory", default="1,2,4,7", help="MiB of note; empty: skip")
    args = parser.parse_args()
    time_table([int(s) for s in args.sizes.split(",")], args.runs)
    if args.memory:
        print()
        memory_table([float(s) for s in args.memory.split(",")])


if __name__ == "__main__":
    main()
