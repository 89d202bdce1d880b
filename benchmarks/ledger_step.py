"""Time what the ledger adds to a re-export, in one process, on a vault, and what it weighs.
Prints one JSON object.

    python benchmarks/ledger_step.py VAULT [--runs 5]

Each round takes the cards from the note cache (filled first if need be), as a re-export
does, and then, side by side (each first in turn):

- *no ledger*: the package of a plan against an empty ledger (as memo2anki's library makes
  a deck that keeps no ledger): the cards' notes planned, then written;
- *one card edited*: the ledger of the last export read (one of its cards since edited),
  the changes planned against it, the package written from the plan, the ledger written;
- *unchanged*: the same against the ledger of an export of these very cards (nothing to
  write: the ledger is left alone).

Both read the ledger as a re-export does: whole, every row checked as it is read (the
``unchanged_load_whole_s`` figure is that read alone, once more, for the tables that had it
beside a read that took rows remembered in the cache folder).

The ledger's cost is what a way with it adds to the one without in the same round: reading
it, the plan less making the notes (which a build without a ledger does too), and writing
it; both write the package with the same function from as many notes, so it is left out
(``*_whole_s``: the whole difference, the package too, which is the noisier for it). Its
share is that over the re-export without a ledger (the cards, their notes, the package).
Every figure is the median of ``--runs`` rounds (best a multiple of 3). Used by ``run.py``
for its ledger table.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from memo2anki.cards.cache import NoteCache, default_cache_dir
from memo2anki.cards.convert import convert
from memo2anki.changes import ledger as ledger_file
from memo2anki.changes.ledger import Ledger
from memo2anki.changes.plan import Layout, Scope, plan_changes
from memo2anki.model import DEFAULT_SECTIONS, Options, Result
from memo2anki.targets.package import write_plan


def _ledger_folder(root: Path, result: Result, layout: Layout, now: int, edited: bool) -> Path:
    """A folder holding the ledger an export of these cards wrote (as a run writes it), with
    one card since edited if ``edited``."""
    first = plan_changes(result.cards, ledger_file.Ledger(layout.vault_name), Scope(), now, layout)
    cards = list(first.ledger.cards)
    if edited:
        edit = hashlib.sha256(b"edited since").hexdigest()[:20]  # (as a row key looks)
        cards[0] = cards[0]._replace(digest=edit, key=edit)
    folder = root / ("edited" if edited else "unchanged")
    folder.mkdir()
    ledger = ledger_file.Ledger(layout.vault_name, tuple(cards))
    assert ledger_file.save(folder, ledger, None) == []
    return folder


def measure(vault: Path, runs: int) -> dict[str, float]:
    options = Options()
    key = repr((str(vault.resolve()), DEFAULT_SECTIONS, ()))

    def cards() -> Result:
        return convert([vault], options, cache=NoteCache(default_cache_dir(), key))

    result = cards()  # fills the cache
    layout = Layout("공부 메모장", result.vault.name)
    now = int(time.time())
    times: dict[str, list[float]] = {}
    clock = [0.0]

    def lap(name: str) -> None:
        """Record the time since the last lap under ``name``."""
        now_ = time.perf_counter()
        times.setdefault(name, []).append(now_ - clock[0])
        clock[0] = now_

    with tempfile.TemporaryDirectory(prefix="m2a-ledger-") as work:
        root = Path(work)
        folders = {e: _ledger_folder(root, result, layout, now, e) for e in (True, False)}
        saved = {
            e: {p: p.read_bytes() for p in (f / ledger_file.FOLDER).iterdir()}
            for e, f in folders.items()
        }
        edited_files = saved[True]
        ways = ["none", "edited", "unchanged"]
        for i in range(runs):
            clock[0] = time.perf_counter()
            result = cards()
            lap("cards_from_cache_s")
            spent: dict[str, float] = {}
            # Each way first in turn: the first to touch the cards just loaded pays for it.
            for way in ways[i % 3 :] + ways[: i % 3]:
                start = clock[0] = time.perf_counter()
                if way == "none":  # a deck that keeps no ledger, in its two steps
                    alone = plan_changes(result.cards, Ledger(), Scope(), now, layout)
                    lap("notes_alone_s")
                    write_plan(alone, result.media, root / "a.apkg")
                    lap("package_alone_s")
                    spent[way] = clock[0] - start
                    continue
                edited = way == "edited"
                folder = folders[edited]
                ledger, warnings = ledger_file.load(folder, layout.vault_name)
                lap(f"{way}_load_s")
                planned = plan_changes(result.cards, ledger, Scope(), now + 1 + i, layout)
                lap(f"{way}_plan_s")
                write_plan(planned, result.media, root / "b.apkg")
                lap(f"{way}_package_s")
                problems = ledger_file.save(
                    folder, planned.ledger, ledger.read_digest, planned.ledger_changed
                )
                lap(f"{way}_save_s")
                spent[way] = clock[0] - start
                assert not warnings and not problems and len(ledger.cards) == len(result.cards)
                assert ledger.source is not None
                assert planned.ledger_changed == edited
                for path, data in saved[edited].items():  # each round reads the same ledger
                    path.write_bytes(data)
            reexport = times["cards_from_cache_s"][-1] + spent["none"]
            for way in ("edited", "unchanged"):
                # What the ledger adds around the package, which both ways write with the
                # same function from as many notes: its read, the plan less making the
                # notes (which a build without it does too), its write.
                this = {step: times[f"{way}_{step}_s"][-1] for step in ("load", "plan", "save")}
                cost = this["load"] + this["plan"] - times["notes_alone_s"][-1] + this["save"]
                times.setdefault(f"{way}_ledger_s", []).append(cost)
                times.setdefault(f"{way}_share", []).append(cost / reexport)
                # And all it adds, the package too (noisier: the package is most of a run).
                times.setdefault(f"{way}_whole_s", []).append(spent[way] - spent["none"])
            clock[0] = time.perf_counter()
            ledger_file.load(folders[False], layout.vault_name)
            lap("unchanged_load_whole_s")
    # The ledger's cost and share: the medians of each round's (with it, less without).
    figures: dict[str, float] = {k: statistics.median(v) for k, v in times.items()}
    raw = next(data for path, data in edited_files.items() if path.name == ledger_file.FILE_NAME)
    fields = next(data for path, data in edited_files.items() if path.name != ledger_file.FILE_NAME)
    return {
        "notes": result.notes,
        "cards": len(result.cards),
        "ledger_bytes": len(raw),
        "ledger_gzip_bytes": len(gzip.compress(raw)),
        "fields_bytes": len(fields),
        "reexport_s": figures["cards_from_cache_s"]
        + figures["notes_alone_s"]
        + figures["package_alone_s"],
        **figures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vault", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    gc.disable()  # as the memo2anki command does (see cli.run)
    os.environ.setdefault("MEMO2ANKI_CACHE_DIR", tempfile.mkdtemp(prefix="m2a-cache-"))
    print(json.dumps(measure(args.vault, args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
