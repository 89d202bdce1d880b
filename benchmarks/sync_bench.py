"""Benchmark ``memo2anki sync`` the collection way beside the package it would otherwise build.

For one generated vault (``make_vault.py``, 2,000 notes by default), each round times, as
subprocesses with this checkout first on ``PYTHONPATH`` and the note cache filled beforehand:

- package: ``memo2anki VAULT -o OUT.apkg`` (re-export of the unchanged vault);
- first sync: ``memo2anki sync VAULT --collection C --no-backup`` into a fresh collection
  (made with Anki's library, copied in before the round), with no ledger;
- unchanged: the same sync again (nothing to change);
- one memo edited: the newest note's last line gets a word more (its card's back changes),
  then the sync (one note updated); the note is put back and synced back, untimed.

It prints a Markdown table of the medians (min-max) and each one's ratio to the package
re-export of its round. Needs Anki's library (``pip install "memo2anki[anki]"``).

    python benchmarks/sync_bench.py                 # 2,000 notes, 5 rounds
    python benchmarks/sync_bench.py --notes 200 --runs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
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


def newest_memo_note(vault: Path) -> Path:
    notes = sorted(p for p in vault.rglob("*.md") if "공부 메모장" in p.read_text("utf-8"))
    return notes[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, help="keep the vault here (default: a temp dir)")
    args = parser.parse_args(argv)

    from anki.collection import Collection

    work = args.workdir or Path(tempfile.mkdtemp(prefix="memo2anki-syncbench-"))
    work.mkdir(parents=True, exist_ok=True)
    vault = work / f"vault-{args.notes}"
    if not vault.exists():
        make_vault(vault, args.notes)
    empty = work / "empty"
    if not empty.exists():
        empty.mkdir()
        Collection(str(empty / "collection.anki2")).close()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "MEMO2ANKI_CACHE_DIR": str(work / "cache"),
    }
    col = work / "profile" / "collection.anki2"
    out = work / "deck.apkg"
    ledger = vault / ".memo2anki"

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

    def sync() -> float:
        return memo2anki("sync", vault, "--collection", col, "--no-backup")

    memo2anki(vault, "-o", out)  # fills the note cache
    note = newest_memo_note(vault)
    original = note.read_bytes()
    times: dict[str, list[float]] = {"package": [], "first": [], "unchanged": [], "edited": []}
    for round_ in range(args.runs):
        print(f"round {round_ + 1}/{args.runs}", file=sys.stderr)
        shutil.rmtree(ledger, ignore_errors=True)
        times["package"].append(memo2anki(vault, "-o", out))
        shutil.rmtree(ledger, ignore_errors=True)
        shutil.rmtree(col.parent, ignore_errors=True)
        shutil.copytree(empty, col.parent)
        times["first"].append(sync())
        times["unchanged"].append(sync())
        text = original.decode("utf-8").rstrip("\n") + " 수정\n"
        note.write_text(text, encoding="utf-8")
        times["edited"].append(sync())
        note.write_bytes(original)
        sync()  # back as it was, untimed

    def cell(name: str) -> str:
        runs = times[name]
        return f"{statistics.median(runs):.2f} ({min(runs):.2f}-{max(runs):.2f})"

    def ratio(name: str) -> str:
        pairs = zip(times[name], times["package"], strict=True)
        return f"{statistics.median(a / b for a, b in pairs):.2f}"

    print(f"\n{args.notes} notes, {args.runs} rounds, seconds: median (min-max)\n")
    print("| run | seconds | / package re-export |")
    print("|---|---|---|")
    labels = {
        "package": "package re-export (-o OUT.apkg)",
        "first": "sync, first (empty collection, no ledger)",
        "unchanged": "sync, unchanged vault",
        "edited": "sync, one memo edited",
    }
    for name, label in labels.items():
        print(f"| {label} | {cell(name)} | {ratio(name)} |")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
