"""A new user's first week: the traps a person meets on a vault of their own, each with the
exact message and exit status it now gives."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import Anki, memo, png, run, write_vault

from memo2anki.model import Options

# --- A bold line right under text is a heading (SPEC change) ------------------------------


def test_a_bold_line_under_a_line_of_text_is_a_card_in_anki(tmp_path: Path, anki: Anki) -> None:
    # The note's own shape: no blank line before the next bold heading.
    note = (
        "# 공부 메모장\n## AWS\n**Route 53 라우팅**\n"
        "단순, 가중치, 지연 시간, 장애 조치, 지리적 위치.\n"
        "**EKS vs ECS**\nEKS는 쿠버네티스, ECS는 AWS 자체\n"
    )
    vault = write_vault(tmp_path / "v", {"daily/2025-04-04.md": note})
    out = tmp_path / "o.apkg"
    assert run(vault, "-o", out).exit_code == 0
    anki.import_package(out)
    notes = {n.fields["Front"]: n.fields["Back"] for n in anki.notes()}
    assert sorted(notes) == ["EKS vs ECS", "Route 53 라우팅"]
    assert "지리적 위치" in notes["Route 53 라우팅"]
    assert "EKS" not in notes["Route 53 라우팅"]
    assert "쿠버네티스" in notes["EKS vs ECS"] and "가중치" not in notes["EKS vs ECS"]


def test_warnings_in_split_paragraphs_name_their_own_lines(tmp_path: Path) -> None:
    # Lines above and below a bold line in one paragraph keep their line numbers.
    note = "# 공부 메모장\n## CKA\n**A**\n가 ![[one.png]]\n**B**\n나\n![[two.png]]\n"
    vault = write_vault(tmp_path / "v", {"n.md": note})
    result = run(vault, "--dry-run")
    assert result.stdout.splitlines() == [
        "공부 메모장::CKA\tA\tn.md:3",
        "공부 메모장::CKA\tB\tn.md:5",
    ]
    assert result.stderr.splitlines()[:2] == [
        "n.md:4: image not found: one.png",
        "n.md:7: image not found: two.png",
    ]


# --- Before an exam: only recent notes ----------------------------------------------------


@pytest.fixture
def dated(tmp_path: Path) -> Path:
    """Notes dated by file name, by frontmatter, and not at all."""
    return write_vault(
        tmp_path / "v",
        {
            "daily/2025-04-01.md": memo("**Pod**\n파드"),
            "daily/2025-04-10.md": memo("**Service**\n서비스"),
            "daily/2025-04-14.md": memo("**Ingress**\n인그레스"),
            "topics/vpc.md": "---\ndate: 2025-04-12\n---\n" + memo("**VPC**\n망", subject="AWS"),
            "topics/ideas.md": memo("**Idea**\n생각"),
            "topics/more.md": memo("**More**\n더"),
        },
    )


UNDATED = (
    "topics/ideas.md: no date, so its cards (and those of 1 more undated note) are left out: "
    "a date range ({}) keeps dated notes only; a note's date comes from its file name "
    "(YYYY-MM-DD) or its frontmatter date"
)

# (id, options, fronts kept, the range the warning names; None: no warning)
RANGES: list[tuple[str, list[str], list[str], str | None]] = [
    ("no range keeps every note", [], ["Pod", "Service", "VPC", "Ingress", "Idea", "More"], None),
    ("since", ["--since", "2025-04-10"], ["Service", "VPC", "Ingress"], "2025-04-10 on"),
    ("until", ["--until", "2025-04-10"], ["Pod", "Service"], "up to 2025-04-10"),
    (
        "since and until, both ends kept",
        ["--since", "2025-04-10", "--until", "2025-04-12"],
        ["Service", "VPC"],
        "2025-04-10 to 2025-04-12",
    ),
    (
        "last N days up to --until, that day included",
        ["--last", "3", "--until", "2025-04-14"],
        ["VPC", "Ingress"],
        "2025-04-12 to 2025-04-14",
    ),
    (
        "last 1 is the one day",
        ["--last", "1", "--until", "2025-04-12"],
        ["VPC"],
        "2025-04-12 to 2025-04-12",
    ),
]


@pytest.mark.parametrize(
    ("args", "fronts", "named"), [r[1:] for r in RANGES], ids=[r[0] for r in RANGES]
)
def test_date_range_keeps_notes_dated_in_it(
    dated: Path, args: list[str], fronts: list[str], named: str | None
) -> None:
    result = run(dated, "--dry-run", "--json", *args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [c["front"] for c in report["cards"]] == fronts
    warnings = [] if named is None else [UNDATED.format(named)]
    assert result.stderr.splitlines() == warnings
    assert [w["path"] for w in report["warnings"]] == (["topics/ideas.md"] if named else [])


def test_last_counts_back_from_today(tmp_path: Path) -> None:
    today = dt.date.today()
    vault = write_vault(
        tmp_path / "v",
        {
            f"{today - dt.timedelta(days=13)}.md": memo("**Two weeks ago**\n가"),
            f"{today - dt.timedelta(days=14)}.md": memo("**Too old**\n나"),
            f"{today}.md": memo("**Today**\n다"),
        },
    )
    result = run(vault, "--dry-run", "--last", "14")
    assert result.exit_code == 0
    assert [line.split("\t")[1] for line in result.stdout.splitlines()] == [
        "Two weeks ago",
        "Today",
    ]
    assert result.stderr.splitlines() == [
        "memo2anki: 2 cards (CKA 2) from 3 notes (1 card of other dates left out), 0 images, "
        "0 warnings; 2 new; dry run, nothing written"
    ]


def test_the_range_goes_in_the_config_and_options_replace_it(dated: Path) -> None:
    (dated / ".memo2anki.toml").write_text("since = 2025-04-12\n", encoding="utf-8")
    fronts = lambda *args: [  # noqa: E731
        c["front"] for c in json.loads(run(dated, "--dry-run", "--json", *args).stdout)["cards"]
    ]
    assert fronts() == ["VPC", "Ingress"]
    assert fronts("--until", "2025-04-01") == ["Pod"]  # the command line's range, not both
    (dated / ".memo2anki.toml").write_text('last = 2\nuntil = "2025-04-11"\n', encoding="utf-8")
    assert fronts() == ["Service"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--since", "2025-4-1"],
            "Error: Invalid value for '--since': '2025-4-1' is not a date: write it as YYYY-MM-DD",
        ),
        (["--last", "0"], "Error: Invalid value for '--last': 0 is not in the range x>=1."),
        (
            ["--last", "3", "--since", "2025-04-01"],
            "memo2anki: error: --last counts back from --until or today; give it or --since",
        ),
        (
            ["--since", "2025-04-10", "--until", "2025-04-01"],
            "memo2anki: error: --since 2025-04-10 is after --until 2025-04-01: "
            "nothing is in between",
        ),
    ],
)
def test_a_range_that_cannot_be_meant_is_bad_usage(
    dated: Path, args: list[str], message: str
) -> None:
    result = run(dated, "--dry-run", *args)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == message


@pytest.mark.parametrize("command", ["build", "check", "preview", "exam", "sync"])
@pytest.mark.parametrize(
    ("option", "value", "value_dates"),
    [
        ("--last", "\u0663", False),  # Arabic-Indic 3
        ("--last", "\uff13", False),  # full-width 3
        ("--last", "1_000", False),
        ("--last", "+3", False),
        ("--last", " 3", False),
        ("--jobs", "\u0662", False),
        ("--jobs", "\uff12", False),
        ("--jobs", "1_0", False),
        ("--until", "\u0662\u0660\u0662\u0665-04-14", True),
        ("--until", "\uff12\uff10\uff12\uff15-04-14", True),
        ("--since", "2025-W15-1", True),  # an ISO week date: fromisoformat takes it
        ("--until", "2025-04-1\uff14", True),
    ],
)
def test_a_number_not_in_the_digits_0_9_is_bad_usage(
    dated: Path, command: str, option: str, value: str, value_dates: bool
) -> None:
    # int() and fromisoformat() take any script's decimal digits and underscores: a count
    # or a date typed so is not read as one (nor is the run started with what it was taken as).
    after = {"build": ["--dry-run"], "sync": ["--dry-run"], "exam": ["--print-search"]}
    before = [] if command == "build" else [command]
    result = run(*before, dated, option, value, *after.get(command, []))
    assert result.exit_code == 2, result.output
    label = "'-j' / '--jobs'" if option == "--jobs" else f"'{option}'"
    shown = (
        "a date: write it as YYYY-MM-DD" if value_dates else "a number: write it in the digits 0-9"
    )
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for {label}: {value!r} is not {shown}"
    )


def test_a_range_with_no_notes_says_so(dated: Path) -> None:
    result = run(dated, "--dry-run", "--since", "2026-01-01")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "memo2anki: error: no cards of notes dated 2026-01-01 on: "
        "6 cards of other dates (or of none) left out"
    )


def test_the_filter_is_a_predicate_over_a_date() -> None:
    # What the ledger reuses: a card left out by a range is filtered, not gone.
    options = Options(since=dt.date(2025, 4, 10), until=dt.date(2025, 4, 12))
    days = [dt.date(2025, 4, d) for d in (9, 10, 12, 13)]
    assert [options.keeps_date(d) for d in [*days, None]] == [False, True, True, False, False]
    assert [Options().keeps_date(d) for d in [*days, None]] == [True] * 5
    assert Options(until=dt.date(2025, 4, 10)).keeps_date(dt.date(1999, 1, 1))


def test_check_takes_the_range_too(dated: Path) -> None:
    (dated / "daily/2025-04-01.md").write_text(memo("**Pod**\n![[gone.png]]"), encoding="utf-8")
    assert run("check", dated).exit_code == 1  # last month's missing image
    result = run("check", dated, "--since", "2025-04-10")
    assert result.stderr.splitlines() == [
        UNDATED.format("2025-04-10 on"),  # and no word of the image in a note left out
        "memo2anki: error: 1 problem in 6 notes",
    ]


# --- The output and deck names ------------------------------------------------------------


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "v",
        {
            "daily/2025-04-01.md": memo("**Pod**\n파드 ![[gone.png]]"),
            "daily/2025-04-02.md": memo("**EC2**\n서버", subject="AWS"),
        },
    )


def test_output_with_a_trailing_slash_asks_for_a_file_name(vault: Path, tmp_path: Path) -> None:
    result = run(vault, "-o", f"{tmp_path}/decks/")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for '-o' / '--output': {tmp_path}/decks/ is a folder; "
        f"give a file name, such as {tmp_path}/decks/deck.apkg"
    )
    assert not (tmp_path / "decks").exists()


def test_output_without_apkg_gets_it_and_says_so(vault: Path, tmp_path: Path, anki: Anki) -> None:
    result = run(vault, "-o", tmp_path / "cka")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1] == (
        "memo2anki: 2 cards (CKA 1, AWS 1) from 2 notes, 0 images, 1 warning; "
        f"2 new; wrote {tmp_path / 'cka.apkg'} (.apkg added: Anki's import lists only .apkg files)"
    )
    assert not (tmp_path / "cka").exists()
    anki.import_package(tmp_path / "cka.apkg")
    assert len(anki.notes()) == 2


def test_the_output_is_checked_before_any_note_is_read(vault: Path, tmp_path: Path) -> None:
    # Reading the notes would warn of the missing image first: nothing is read.
    out = tmp_path / "no" / "cka.apkg"
    result = run(vault, "-o", out)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"memo2anki: error: {out}: folder {out.parent} does not exist"
    ]


@pytest.mark.parametrize("deck", ["a::", "::CKA::", "a:: ::b"])
@pytest.mark.parametrize("command", [[], ["sync"]], ids=["build", "sync"])
def test_an_empty_part_of_a_deck_name_is_bad_usage(
    vault: Path, deck: str, command: list[str]
) -> None:
    result = run(*command, vault, "--dry-run", "--deck", deck)
    assert result.exit_code == 2
    shown = "::".join(p.strip() or "?" for p in deck.split("::"))
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for --deck: {deck!r} has an empty part ({shown}); "
        "name every part between '::', as in 'CKA::Network'"
    )


def test_spaces_around_deck_parts_are_trimmed(vault: Path, tmp_path: Path, anki: Anki) -> None:
    out = tmp_path / "o.apkg"
    assert run(vault, "-o", out, "--deck", " 시험 :: 4월 ").exit_code == 0
    anki.import_package(out)
    assert sorted(n.deck for n in anki.notes()) == ["시험::4월::AWS", "시험::4월::CKA"]


# --- Messages and exit codes --------------------------------------------------------------


def test_no_arguments_point_at_the_help_the_readme_names() -> None:
    # The program itself, as a person types it (in-process, click names it after the function).
    proc = subprocess.run(
        [sys.executable, "-m", "memo2anki"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "Usage: memo2anki PATH... -o OUT.apkg [OPTIONS]",
        "Try 'memo2anki --help' for help.",
        "",
        "Error: Missing argument 'PATH...'.",
    ]


def test_help_lists_the_commands() -> None:
    lines = run("--help").stdout.splitlines()
    start = lines.index("Commands (memo2anki COMMAND --help for each):")
    listed = [line.split()[0] for line in lines[start + 1 :] if line.startswith("  ")][:2]
    assert listed == ["build", "check"]
    assert any(line.split()[:3] == ["build", "(the", "default)"] for line in lines[start:])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["{vault}/nope.md"],
            "Error: Invalid value for 'PATH...': Path '{vault}/nope.md' does not exist.",
        ),
        (
            ["{vault}", "--vault", "{vault}/daily/2025-04-01.md"],
            "Error: Invalid value for '--vault': "
            "Directory '{vault}/daily/2025-04-01.md' is a file.",
        ),
        (
            ["{vault}", "--vault", "{vault}/nope"],
            "Error: Invalid value for '--vault': Directory '{vault}/nope' does not exist.",
        ),
        (
            ["{vault}", "--config", "{vault}/nope.toml"],
            "Error: Invalid value for '--config': File '{vault}/nope.toml' does not exist.",
        ),
        (
            ["{vault}", "--jobs", "-1"],
            "Error: Invalid value for '-j' / '--jobs': -1 is not in the range x>=0.",
        ),
    ],
)
def test_every_kind_of_bad_usage_exits_2(vault: Path, args: list[str], message: str) -> None:
    result = run(*(a.format(vault=vault) for a in args), "--dry-run")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == message.format(vault=vault)


def test_a_subject_that_matches_nothing_lists_those_found(vault: Path) -> None:
    result = run(vault, "--dry-run", "--subject", "Go")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "memo2anki: error: no cards of subject Go in 2 notes; subjects found: AWS, CKA"
    )


def test_warning_paths_open_from_the_current_folder(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the vault's parent, where a person runs it
    assert run(vault, "--dry-run").stderr.splitlines()[0] == (
        "v/daily/2025-04-01.md:8: image not found: gone.png"
    )
    assert Path("v/daily/2025-04-01.md").is_file()
    monkeypatch.chdir(vault / "daily")  # inside the vault
    assert run(vault, "--dry-run").stderr.splitlines()[0] == (
        "2025-04-01.md:8: image not found: gone.png"
    )


def test_a_guessed_vault_root_is_named(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    (notes / "daily").mkdir(parents=True)
    (notes / "daily/2025-04-01.md").write_text(memo("**Pod**\n파드"), encoding="utf-8")
    result = run(notes, "--dry-run")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"memo2anki: vault root {notes} (no .obsidian/ folder above the notes, so their folder; "
        "give another with --vault DIR)",
        "memo2anki: 1 card (CKA 1) from 1 note, 0 images, 0 warnings; 1 new; "
        "dry run, nothing written",
    ]


def test_many_missing_images_name_the_vault_root(tmp_path: Path) -> None:
    images = "\n".join(f"![[shot{i}.png]]" for i in range(3))
    vault = write_vault(tmp_path / "v", {"a.md": memo(f"**Pod**\n{images}"), "b.png": png()})
    result = run(vault, "-o", tmp_path / "o.apkg")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-2] == (
        f"memo2anki: vault root {vault} (3 images not found in it, nor in a folder above it; "
        "give the folder that holds them with --vault DIR)"
    )
    fewer = write_vault(tmp_path / "w", {"a.md": memo("**Pod**\n![[shot.png]]")})
    assert "vault root" not in run(fewer, "-o", tmp_path / "o.apkg").stderr


def test_the_summary_says_how_many_notes_had_memos(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {"a.md": memo("**Pod**\n파드"), "b.md": "# 오전\n할 일\n", "c.md": "그냥 메모\n"},
    )
    result = run(vault, "-o", tmp_path / "o.apkg")
    assert result.stderr.splitlines() == [
        "memo2anki: 1 card (CKA 1) from 3 notes (1 with memos), 0 images, 0 warnings; "
        f"1 new; wrote {tmp_path / 'o.apkg'}"
    ]


# --- Dry run and JSON ---------------------------------------------------------------------


def test_dry_run_shows_decks_cloze_cards_and_ends_with_the_summary(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {"2025-04-01.md": memo("**Pod**\n==가장 작은== ==배포== 단위", "**Node**\n서버")},
    )
    result = run(vault, "--dry-run", "--cloze", "--deck", "시험")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "시험::CKA\tPod\t2025-04-01.md:7",
        "시험::CKA\tPod\t2025-04-01.md:7  [cloze note, 2 cards]",
        "시험::CKA\tNode\t2025-04-01.md:10",
    ]
    assert result.stderr.splitlines() == [
        "memo2anki: 2 cards (CKA 2) from 1 note, 0 images, 0 warnings; "
        "2 new; dry run, nothing written (with 1 cloze note)"
    ]
    report = json.loads(run(vault, "--dry-run", "--json", "--cloze").stdout)
    assert [c["cloze"] for c in report["cards"]] == [
        "<p>{{c1::가장 작은}} {{c2::배포}} 단위</p>",
        None,
    ]


def test_json_guid_is_the_one_anki_gets(vault: Path, tmp_path: Path, anki: Anki) -> None:
    report = json.loads(run(vault, "--dry-run", "--json").stdout)
    out = tmp_path / "o.apkg"
    assert run(vault, "-o", out).exit_code == 0
    anki.import_package(out)
    in_anki = {n.fields["Front"]: (n.guid, n.deck, n.fields["Back"]) for n in anki.notes()}
    assert {c["front"]: (c["guid"], c["deck"], c["back"]) for c in report["cards"]} == in_anki


def test_json_is_utf8_whatever_the_console_encoding(tmp_path: Path) -> None:
    # 🐳 is in no Korean code page: written as CP949, it could not be written at all.
    vault = write_vault(tmp_path / "v", {"2025-04-01.md": memo("**🐳 컨테이너**\n도커 ![[x.png]]")})
    env = {**os.environ, "PYTHONIOENCODING": "cp949", "MEMO2ANKI_CACHE_DIR": str(tmp_path / "c")}
    proc = subprocess.run(
        [sys.executable, "-m", "memo2anki", str(vault), "--dry-run", "--json"],
        capture_output=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.decode("utf-8"))
    assert [c["front"] for c in report["cards"]] == ["🐳 컨테이너"]
    assert "컨테이너".encode() in proc.stdout  # UTF-8 bytes, not CP949's
    assert report["warnings"] == [
        {"path": "2025-04-01.md", "line": 8, "message": "image not found: x.png"}
    ]
