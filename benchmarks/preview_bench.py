"""Benchmark ``memo2anki preview``: the page's size and the time to write it, beside the
package build of the same vault.

For one generated vault (``make_vault.py``, 2,000 notes by default), each round times, as
subprocesses with this checkout first on ``PYTHONPATH`` (``--quiet``, wall time around the
child, interpreter start-up included):

- package: ``memo2anki VAULT -o OUT.apkg`` with the note cache filled (a re-export);
- preview: ``memo2anki preview VAULT -o OUT.html`` with the note cache filled;
- preview --changes: the same, marked against the ledger the package left;
- preview, cold: ``--no-cache``, every note read.

It prints a Markdown table of the medians (min-max) and each one's ratio to the package
re-export of its round, then the page's size, its cards and pictures, and the share of the
page that is pictures.

    python benchmarks/preview_bench.py                 # 2,000 notes, 5 rounds
    python benchmarks/preview_bench.py --notes 200 --runs 3
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from make_vault import make_vault  # noqa: E402

STEPS = ("package", "preview", "preview --changes", "preview, cold")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, help="keep the vault here (default: a temp dir)")
    args = parser.parse_args(argv)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="memo2anki-previewbench-"))
    work.mkdir(parents=True, exist_ok=True)
    vault = work / f"vault-{args.notes}"
    if not vault.exists():
        make_vault(vault, args.notes)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "MEMO2ANKI_CACHE_DIR": str(work / "cache"),
    }
    apkg, page = work / "deck.apkg", work / "cards.html"

    def memo2anki(*argv: str | Path) -> float:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "memo2anki", *map(str, argv), "--quiet"],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"memo2anki {' '.join(map(str, argv))} failed:\n{done.stderr[-2000:]}")
        return seconds

    commands: dict[str, tuple[str | Path, ...]] = {
        "package": (vault, "-o", apkg),
        "preview": ("preview", vault, "-o", page),
        "preview --changes": ("preview", vault, "-o", page, "--changes"),
        "preview, cold": ("preview", vault, "-o", page, "--no-cache"),
    }
    memo2anki(*commands["package"])  # fills the note cache and leaves a ledger
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    ratios: dict[str, list[float]] = {step: [] for step in STEPS}
    for round_ in range(args.runs):
        print(f"round {round_ + 1}/{args.runs}", file=sys.stderr)
        measured = {step: memo2anki(*commands[step]) for step in STEPS}
        for step, seconds in measured.items():
            times[step].append(seconds)
            ratios[step].append(seconds / measured["package"])
    memo2anki(*commands["preview"])  # the page described below: without --changes

    print(f"memo2anki preview, {args.notes:,} notes, {args.runs} rounds (median, min-max)\n")
    print("| run | seconds | / package |")
    print("|---|---|---|")
    for step in STEPS:
        values = times[step]
        print(
            f"| {step} | {statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f}) "
            f"| {statistics.median(ratios[step]):.2f} |"
        )
    text = page.read_text(encoding="utf-8")
    cards = text.count('<article class="m2a-card"')
    pictures = re.findall(r'src="(data:[^"]*)"', text)
    inline = sum(map(len, pictures))
    folder = page.with_name(f"{page.stem}_files")
    print(
        f"\npage: {page.stat().st_size / 2**20:.1f} MiB, {cards:,} cards, "
        f"{len(pictures):,} pictures inside it ({inline / 2**20:.1f} MiB of data: URIs, "
        f"{len(set(pictures))} distinct)"
        + (f"; {len(list(folder.iterdir()))} files in {folder.name}/" if folder.is_dir() else "")
    )
    print(f"package: {apkg.stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
