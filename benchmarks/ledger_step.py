"""Time the ledger's part of a re-export, in one process, on a vault: reading the ledger,
planning the changes against it, and writing it again (what a build adds to a re-export
without a ledger), and what the ledger weighs. Prints one JSON object.

    python benchmarks/ledger_step.py VAULT [--runs 5]

The cards come from the note cache as a re-export's do (filled first if need be); every
figure is the median of ``--runs`` runs. Used by ``run.py`` for its ledger table.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from memo2anki import ledger as ledger_file
from memo2anki.cache import NoteCache, default_cache_dir
from memo2anki.convert import Options, convert
from memo2anki.model import DEFAULT_SECTIONS
from memo2anki.package import write_plan
from memo2anki.plan import Layout, Scope, plan_changes


def measure(vault: Path, runs: int) -> dict[str, float]:
    options = Options()
    key = repr((str(vault.resolve()), DEFAULT_SECTIONS, ()))
    result = convert([vault], options, cache=NoteCache(default_cache_dir(), key))  # fill it
    layout = Layout("공부 메모장", result.vault.name)
    now = int(time.time())
    with tempfile.TemporaryDirectory(prefix="m2a-ledger-") as work:
        root = Path(work)
        first = plan_changes(
            result.cards, ledger_file.Ledger(layout.vault_name), Scope(), now, layout
        )
        # The ledger of the last export: every card, one of them since edited (so the ledger
        # is written again, as after any change).
        cards = list(first.ledger.cards)
        cards[0] = cards[0]._replace(digest="edited since")
        last = replace(first.ledger, cards=tuple(cards))
        (root / ledger_file.FOLDER).mkdir()
        ledger_file.ledger_path(root).write_text(ledger_file.dumps(last), encoding="utf-8")
        raw = ledger_file.ledger_path(root).read_bytes()
        fields_bytes = len(ledger_file.dumps_fields(last).encode())
        load, plan, save, cards_s, package_s = [], [], [], [], []
        for i in range(runs):
            # The rest of a re-export, in the same round: the cards from the note cache,
            # and the package written.
            tc = time.perf_counter()
            result = convert([vault], options, cache=NoteCache(default_cache_dir(), key))
            t0 = time.perf_counter()
            ledger, warnings = ledger_file.load(root, layout.vault_name)
            t1 = time.perf_counter()
            planned = plan_changes(result.cards, ledger, Scope(), now + 1 + i, layout)
            t2 = time.perf_counter()
            problems = ledger_file.save(root, planned.ledger, ledger.read_digest)
            t3 = time.perf_counter()
            write_plan(planned, result.media, root / "deck.apkg")
            t4 = time.perf_counter()
            cards_s.append(t0 - tc)
            package_s.append(t4 - t3)
            assert not warnings and not problems and len(ledger.cards) == len(result.cards)
            # Put the measured file back, so each run reads the same ledger.
            ledger_file.ledger_path(root).write_bytes(raw)
            load.append(t1 - t0)
            plan.append(t2 - t1)
            save.append(t3 - t2)
    return {
        "notes": result.notes,
        "cards": len(result.cards),
        "ledger_bytes": len(raw),
        "ledger_gzip_bytes": len(gzip.compress(raw)),
        "fields_bytes": fields_bytes,
        "cards_from_cache_s": statistics.median(cards_s),
        "package_s": statistics.median(package_s),
        "load_s": statistics.median(load),
        "plan_s": statistics.median(plan),
        "save_s": statistics.median(save),
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
