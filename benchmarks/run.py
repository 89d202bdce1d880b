"""Benchmark the memo2anki CLI against a plain-genanki floor on synthetic vaults.

For each size, a vault is generated once (``make_vault.py``), then memo2anki and the floor
(``floor.py``: the same number of notes and the same images written by genanki, no parsing)
run alternately as subprocesses, A B A B ..., so both see the same machine state. Each run's
wall time is measured around the child, and its peak RSS comes from ``os.wait4`` (the
child's own resource usage). The result is a Markdown table on stdout; progress goes to
stderr.

    python benchmarks/run.py                       # 200, 2,000 and 20,000 notes
    python benchmarks/run.py --sizes 200,2000      # skip the long one
    python benchmarks/run.py --sizes 2000 --runs 9 --jobs 2

Each round also times ``parser_alone.py``: markdown-it-py by itself parsing and rendering
every memo section on all cores, which any first export with this parser must at least do.

With ``--ankdown CMD`` (ankdown installed on its own, say in another venv), ankdown runs in
each round too, on the same cards written in its input format (``ankdown_input.py``), with
``--highlight`` as memo2anki highlights code; its time gets a column of its own.

The ratio is the median of the per-pair ratios memo2anki / floor, each pair measured back
to back. With ``--jobs`` > 1, peak RSS is that of the largest single process (the parent or
one worker), not their sum: that is what ``wait4`` reports.
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import json
import os
import platform
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from make_vault import GENERATOR_VERSION, STATS_FILE, VaultStats, make_vault  # noqa: E402

DEFAULT_SIZES = (200, 2000, 20000)
BIG = 2000  # sizes above this get fewer runs and no warm-up by default


@dataclass
class Run:
    seconds: float
    max_rss_mib: float


@dataclass
class SizeResult:
    size: int
    stats: VaultStats
    memo: list[Run] = field(default_factory=list)  # cold: --no-cache, every note read
    warm: list[Run] = field(default_factory=list)  # re-export of an unchanged vault
    edited: list[Run] = field(default_factory=list)  # re-export after one note was edited
    floor: list[Run] = field(default_factory=list)
    parser: list[Run] = field(default_factory=list)  # markdown-it-py alone (parser_alone.py)
    ankdown: list[Run] = field(default_factory=list)  # only with --ankdown
    package_notes: int | None = None
    package_media: int | None = None
    ledger: dict[str, float] = field(default_factory=dict)  # ledger_step.py's figures

    def ratio(self, runs: list[Run]) -> float:
        """The median of the per-round ratios of ``runs`` to the floor run beside them."""
        return statistics.median(
            a.seconds / b.seconds for a, b in zip(runs, self.floor, strict=True)
        )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def rss_mib(ru_maxrss: int) -> float:
    # Linux reports KiB; macOS reports bytes.
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


def child_env(cache: Path | None = None) -> dict[str, str]:
    """The environment for the children: this checkout first on the import path, and
    memo2anki's note cache in the benchmark's own folder."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    if cache is not None:
        env["MEMO2ANKI_CACHE_DIR"] = str(cache)
    return env


def run_child(cmd: Sequence[str], label: str, log_path: Path, cache: Path | None = None) -> Run:
    """Run ``cmd``; its wall time and peak RSS. A non-zero exit stops the benchmark."""
    with open(log_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=child_env(cache)
        )
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # interrupted: leave no child running
            proc.kill()
            proc.wait()
            raise
        elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, not by Popen
    if proc.returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
        raise SystemExit(
            f"\n{label} failed with exit status {proc.returncode}:\n  $ {shlex.join(cmd)}\n"
            + "\n".join(f"  | {line}" for line in tail)
        )
    return Run(elapsed, rss_mib(usage.ru_maxrss))


def package_counts(apkg: Path) -> tuple[int, int]:
    """Notes and media in an .apkg (to check memo2anki made the cards the vault holds)."""
    with zipfile.ZipFile(apkg) as zf, tempfile.TemporaryDirectory(prefix="m2a-check-") as tmp:
        names = set(zf.namelist())
        db_name = next(n for n in ("collection.anki21", "collection.anki2") if n in names)
        db = Path(zf.extract(db_name, tmp))
        media = json.loads(zf.read("media") or b"{}") if "media" in names else {}
        conn = sqlite3.connect(db)
        try:
            (notes,) = conn.execute("SELECT count(*) FROM notes").fetchone()
        finally:
            conn.close()
    return notes, len(media)


def get_vault(workdir: Path, size: int, seed: int, images: int) -> tuple[Path, VaultStats]:
    """The vault for ``size`` notes, generated once (and reused from a kept --workdir)."""
    vault = workdir / f"vault-{size}-seed{seed}-img{images}"
    if (vault / STATS_FILE).is_file():
        stats = VaultStats.load(vault)
        wanted = (size, seed, images, GENERATOR_VERSION)
        if (stats.notes, stats.seed, stats.pool_images, stats.generator) == wanted:
            log(f"[{size}] reusing {vault}")
            return vault, stats
        raise SystemExit(f"{vault}: made with other settings or generator; remove it")
    if vault.exists():  # a generation that was interrupted: ours to redo
        shutil.rmtree(vault)
    log(f"[{size}] generating vault in {vault} ...")
    started = time.perf_counter()
    stats = make_vault(vault, size, seed, images)
    log(
        f"[{size}] {stats.notes} notes, {stats.cards} cards, {stats.image_refs} image refs "
        f"({stats.distinct_images} distinct) in {time.perf_counter() - started:.1f} s"
    )
    return vault, stats


def bench_size(
    size: int, args: argparse.Namespace, memo_cmd: list[str], workdir: Path
) -> SizeResult:
    vault, stats = get_vault(workdir, size, args.seed, args.images)
    result = SizeResult(size, stats)
    out_memo = workdir / f"memo2anki-{size}.apkg"
    out_floor = workdir / f"floor-{size}.apkg"
    warm = [*memo_cmd, str(vault), "-o", str(out_memo), "--quiet"]
    if args.jobs is not None:
        warm += ["--jobs", str(args.jobs)]
    memo = [*warm, "--no-cache"]
    cache = workdir / f"cache-{size}"
    shutil.rmtree(cache, ignore_errors=True)
    floor = [sys.executable, str(HERE / "floor.py"), str(vault), str(out_floor), "--quiet"]
    parser = [sys.executable, str(HERE / "parser_alone.py"), str(vault), "--quiet"]
    if args.jobs is not None:
        parser += ["--jobs", str(args.jobs)]
    ankdown: list[str] = []
    if args.ankdown:
        out_ankdown = workdir / f"ankdown-{size}.apkg"
        ankdown_vault = workdir / f"ankdown-{size}"
        log(f"[{size}] writing the cards in ankdown's format to {ankdown_vault}")
        # In a child, so that this process stays small: a child's peak RSS as wait4 reports
        # it starts from the size of the process it was forked from.
        writer = [sys.executable, str(HERE / "ankdown_input.py"), str(vault), str(ankdown_vault)]
        run_child(writer, "ankdown_input.py", workdir / "child.log")
        ankdown = [*args.ankdown, "-r", str(ankdown_vault), "-p", str(out_ankdown), "--highlight"]
    runs = args.runs or (5 if size <= BIG else 3)
    warmup = args.warmup if args.warmup is not None else (1 if size <= BIG else 0)
    log_path = workdir / "child.log"

    def once(cmd: list[str], out: Path, label: str) -> Run:
        out.unlink(missing_ok=True)
        return run_child(cmd, label, log_path, cache)

    # Today's note, edited before each "edited" re-export: one or two blank lines more at its
    # end in turn, so its text and size change and the cache must read it again, while its
    # cards stay the same. Put back as it was at the end.
    today = last_memo_note(vault)
    original, saved = today.read_bytes(), today.stat()
    edits = itertools.count(1)

    def edited() -> Run:
        edit = next(edits)
        today.write_bytes(original + b"\n" * (1 + edit % 2))
        stamp = saved.st_mtime_ns + edit * 1_000_000_000
        os.utime(today, ns=(stamp, stamp))
        return once(warm, out_memo, "memo2anki re-export, one note edited")

    try:
        log(f"[{size}] filling the note cache")
        once(warm, out_memo, "memo2anki (fill cache)")
        for i in range(warmup):
            log(f"[{size}] warm-up {i + 1}/{warmup}")
            once(memo, out_memo, "memo2anki")
            once(warm, out_memo, "memo2anki re-export")
            edited()
            once(floor, out_floor, "floor")
            run_child(parser, "parser_alone.py", log_path)
            if ankdown:
                once(ankdown, out_ankdown, "ankdown")
        for i in range(runs):
            a = once(memo, out_memo, "memo2anki")
            if result.package_notes is None:
                result.package_notes, result.package_media = package_counts(out_memo)
                if (result.package_notes, result.package_media) != (
                    stats.cards,
                    stats.distinct_images,
                ):
                    log(
                        f"[{size}] warning: memo2anki wrote {result.package_notes} notes and "
                        f"{result.package_media} media; the vault holds {stats.cards} cards "
                        f"and {stats.distinct_images} distinct images"
                    )
            result.memo.append(a)
            result.warm.append(once(warm, out_memo, "memo2anki re-export"))
            result.edited.append(edited())
            result.floor.append(once(floor, out_floor, "floor"))
            result.parser.append(run_child(parser, "parser_alone.py", log_path))
            other = ""
            if ankdown:
                result.ankdown.append(once(ankdown, out_ankdown, "ankdown"))
                other = f", ankdown {result.ankdown[-1].seconds:.2f} s"
                if i == 0 and package_counts(out_ankdown) != (stats.cards, stats.distinct_images):
                    log(f"[{size}] warning: ankdown's package does not hold every card and image")
            log(
                f"[{size}] run {i + 1}/{runs}: memo2anki {a.seconds:.2f} s, re-export "
                f"{result.warm[-1].seconds:.2f} s, one note edited "
                f"{result.edited[-1].seconds:.2f} s, floor {result.floor[-1].seconds:.2f} s, "
                f"markdown-it-py alone {result.parser[-1].seconds:.2f} s{other}, "
                f"ratio {a.seconds / result.floor[-1].seconds:.1f}"
            )
        # Rounds in threes (each way of ledger_step first in turn), at least six below BIG.
        rounds = max(runs, 6) if size <= BIG else runs
        result.ledger = ledger_step(vault, cache, -(-rounds // 3) * 3)
        log(f"[{size}] ledger: {result.ledger}")
    finally:
        today.write_bytes(original)
        os.utime(today, ns=(saved.st_atime_ns, saved.st_mtime_ns))
        # The ledger its runs wrote into the vault: the vault is left as it was generated.
        shutil.rmtree(vault / ".memo2anki", ignore_errors=True)
    return result


def ledger_step(vault: Path, cache: Path, runs: int) -> dict[str, float]:
    """The ledger's part of a re-export (ledger_step.py, in a child, its note cache warm)."""
    cmd = [sys.executable, str(HERE / "ledger_step.py"), str(vault), "--runs", str(runs)]
    proc = subprocess.run(cmd, env=child_env(cache), capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(proc.stdout)
    return figures


def ledger_table(results: Sequence[SizeResult]) -> str:
    """What the ledger weighs, and what it adds to a re-export (ledger_step.py's figures)."""
    lines = [
        "| notes | cards | ledger.json MiB (gzip) | fields.json MiB "
        "| re-export without a ledger s | one card edited: read / plan (notes alone) / write s "
        "| ledger's cost, one card edited s (share; of the whole process) "
        "| ledger's cost, unchanged s (share; of the whole process) "
        "| ledger read whole (not remembered) s | re-export (whole process) s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if not r.ledger:
            continue
        g = r.ledger
        warm = statistics.median(x.seconds for x in r.warm)
        lines.append(
            f"| {r.stats.notes:,} | {g['cards']:,.0f} | {g['ledger_bytes'] / 2**20:.1f} "
            f"({g['ledger_gzip_bytes'] / 2**20:.2f}) | {g['fields_bytes'] / 2**20:.1f} "
            f"| {g['reexport_s']:.2f} | {g['edited_load_s']:.3f} / {g['edited_plan_s']:.3f} "
            f"({g['notes_alone_s']:.3f}) / {g['edited_save_s']:.3f} "
            f"| {g['edited_ledger_s']:.3f} ({g['edited_share']:.0%}; "
            f"{g['edited_ledger_s'] / warm:.0%}) "
            f"| {g['unchanged_ledger_s']:.3f} ({g['unchanged_share']:.0%}; "
            f"{g['unchanged_ledger_s'] / warm:.0%}) "
            f"| {g['unchanged_load_whole_s']:.3f} | {warm:.2f} |"
        )
    return "\n".join(lines)


def last_memo_note(vault: Path) -> Path:
    """The vault's newest daily note with a memo section ("today's note")."""
    for note in sorted(vault.glob("daily/*/*.md"), reverse=True):
        if "\n# 공부 메모장\n" in note.read_text(encoding="utf-8"):
            return note
    raise SystemExit(f"{vault}: no note with a memo section")


def fmt_s(runs: list[Run]) -> str:
    times = [r.seconds for r in runs]
    return f"{statistics.median(times):.2f} ({min(times):.2f}–{max(times):.2f})"


def table_head(ankdown: bool) -> str:
    other = "| ankdown s " if ankdown else ""
    return (
        "| notes | cards | images (refs / distinct) | first export s, median (min–max) "
        f"| re-export s | re-export, one note edited s | floor s | markdown-it-py alone s {other}"
        "| first export ratio | re-export ratio | edited ratio | markdown-it-py alone ratio "
        "| cards/s (first export) | peak RSS MiB first export / re-export / floor |\n|"
        + "---:|"
        * (14 + ankdown)
    )


def table_row(r: SizeResult) -> str:
    s = r.stats
    cards = f"{s.cards:,}"
    if r.package_notes is not None and r.package_notes != s.cards:
        cards += f" (package: {r.package_notes:,})"
    median = statistics.median(x.seconds for x in r.memo)
    rss = " / ".join(
        f"{max(x.max_rss_mib for x in runs):.0f}" for runs in (r.memo, r.warm, r.floor)
    )
    return (
        f"| {s.notes:,} | {cards} | {s.image_refs:,} / {s.distinct_images} "
        f"| {fmt_s(r.memo)} | {fmt_s(r.warm)} | {fmt_s(r.edited)} | {fmt_s(r.floor)} "
        f"| {fmt_s(r.parser)} "
        + (f"| {fmt_s(r.ankdown)} " if r.ankdown else "")
        + "".join(f"| {r.ratio(runs):.2f}× " for runs in (r.memo, r.warm, r.edited, r.parser))
        + f"| {s.cards / median:,.0f} | {rss} |"
    )


def machine(memo_cmd: list[str], args: argparse.Namespace) -> str:
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    return (
        f"Machine: {platform.platform()}, {platform.machine()}, {cpus} CPUs "
        f"({usable} usable); Python {platform.python_version()} "
        f"({platform.python_implementation()}); genanki {version('genanki')}.  \n"
        f"memo2anki: `{shlex.join(memo_cmd)}` from {REPO}"
        f"{f', --jobs {args.jobs}' if args.jobs is not None else ''}; "
        f"vault seed {args.seed}, {args.images} pool images."
    )


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Progress goes to stderr; the table to stdout.",
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="notes per vault, comma-separated (default: 200,2000,20000)",
    )
    parser.add_argument(
        "--runs", type=int, help=f"measured pairs per size (default 5; 3 above {BIG:,} notes)"
    )
    parser.add_argument(
        "--warmup", type=int, help=f"unmeasured pairs first (default 1; 0 above {BIG:,} notes)"
    )
    parser.add_argument("--jobs", type=int, help="passed to memo2anki as --jobs N")
    parser.add_argument("--seed", type=int, default=0, help="vault seed (default 0)")
    parser.add_argument(
        "--images", type=int, default=50, help="PNG files in the vault's shared pool (default 50)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep vaults and packages here (reused by later runs); default: a temporary folder",
    )
    parser.add_argument(
        "--memo2anki",
        dest="memo_cmd",
        metavar="CMD",
        help="command to run instead of 'python -m memo2anki' (split like a shell; "
        "it gets VAULT -o OUT.apkg --quiet [--jobs N])",
    )
    parser.add_argument(
        "--ankdown",
        type=shlex.split,
        metavar="CMD",
        help="also time ankdown, run as CMD (split like a shell), e.g. ~/ankdown-venv/bin/ankdown",
    )
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    memo_cmd = shlex.split(args.memo_cmd) if args.memo_cmd else [sys.executable, "-m", "memo2anki"]
    if not args.memo_cmd:
        # As `pip install` does: otherwise, where PYTHONDONTWRITEBYTECODE is set, every run
        # would compile the checkout's modules again, which an installed memo2anki never does.
        compileall.compile_dir(REPO / "memo2anki", quiet=1)

    # Rows are printed as each size finishes, so stopping the long size keeps the others.
    print(machine(memo_cmd, args), end="\n\n")
    print(table_head(bool(args.ankdown)), flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="m2a-bench-") as tmp:
            workdir = args.workdir or Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            done = []
            for size in args.sizes:
                done.append(bench_size(size, args, memo_cmd, workdir))
                print(table_row(done[-1]), flush=True)
            print(f"\n{ledger_table(done)}", flush=True)
    except KeyboardInterrupt:
        log("interrupted: the rows above are complete")
        return 130
    print(
        "\nFirst export: memo2anki with --no-cache, every note read. Re-export: the same vault "
        "again with the note cache filled; one note edited: the same after the newest note was "
        "edited (a blank line added: read anew, the rest from the cache). Wall time includes "
        "interpreter start-up. Ratios: median over runs of memo2anki / floor, run back to "
        "back. Peak RSS: the child's ru_maxrss from os.wait4 (with workers, the largest single "
        "process). markdown-it-py alone: a bare MarkdownIt (CommonMark and tables) parsing and "
        "rendering every memo section on all cores, nothing else: the least a first export "
        "with this parser takes."
        + (
            " ankdown: the same cards in its input format, --highlight, one process."
            if args.ankdown
            else ""
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
