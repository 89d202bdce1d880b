"""A vault's .memo2anki.toml: its settings apply, options win, mistakes are named."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from helpers import memo, run, write_vault


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "v",
        {
            "a.md": memo("**Pod**\n파드"),
            "b.md": "# Study\n## Go\n**chan**\n채널 ==동기화==\n",
            "c.md": memo("**EC2**\n서버", subject="AWS"),
        },
    )


def test_config_names_sections_subjects_and_deck(vault: Path, tmp_path: Path) -> None:
    (vault / ".memo2anki.toml").write_text(
        'deck = "시험"\nsections = ["Study"]\nsubjects = ["Go", "CKA"]\n', encoding="utf-8"
    )
    result = run(vault, "--dry-run")
    assert result.exit_code == 0, result.output
    assert [line.split("\t")[1] for line in result.stdout.splitlines()] == ["Pod", "chan"]
    out = tmp_path / "o.apkg"
    assert run(vault, "-o", out).exit_code == 0
    from helpers import Anki

    anki = Anki(tmp_path / "anki")
    try:
        anki.import_package(out)
        assert sorted(n.deck for n in anki.notes()) == ["시험::CKA", "시험::Go"]
    finally:
        anki.close()


def test_options_win_over_the_config(vault: Path) -> None:
    (vault / ".memo2anki.toml").write_text('subjects = ["Go"]\n', encoding="utf-8")
    result = run(vault, "--dry-run", "--subject", "AWS")
    assert [line.split("\t")[1] for line in result.stdout.splitlines()] == ["EC2"]


def test_explicit_config_file_and_cloze(vault: Path, tmp_path: Path) -> None:
    config = tmp_path / "my.toml"
    config.write_text('sections = ["Study"]\ncloze = true\n', encoding="utf-8")
    result = run(vault, "-o", tmp_path / "o.apkg", "--config", config)
    assert result.exit_code == 0, result.output
    assert "(with 1 cloze note)" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('deck = "a"\nsections = [\n', ".memo2anki.toml:2: broken config: Invalid value"),
        ("sections = []\ndeck = \n", ".memo2anki.toml:2:8: broken config: Invalid value"),
        (
            "deck = CKA\n",
            ".memo2anki.toml:1:8: broken config: Invalid value: strings need quotes, as in "
            'deck = "CKA"',
        ),
        (
            "cloze = yes\n",
            ".memo2anki.toml:1:9: broken config: Invalid value: cloze = true or cloze = false",
        ),
        (
            'dekc = "오타"\n',
            ".memo2anki.toml:1: unknown setting 'dekc' "
            "(known: deck, sections, subjects, cloze, since, until, last, garden_url, vault_name, "
            "exam_name)",
        ),
        (
            "sections = 3\n",
            ".memo2anki.toml:1: 'sections' must be a list of strings, as in sections = [\"CKA\"]",
        ),
        (
            'cloze = false\nsubjects = "CKA"\n',
            ".memo2anki.toml:2: 'subjects' must be a list of strings, as in subjects = [\"CKA\"]",
        ),
        ('cloze = "yes"\n', ".memo2anki.toml:1: 'cloze' must be true or false"),
        ("deck = 3\n", ".memo2anki.toml:1: 'deck' must be a non-empty string, as in deck ="),
        ('deck = "CKA::"\n', ".memo2anki.toml:1: deck: 'CKA::' has an empty part (CKA::?)"),
        ('cloze = true\ndeck = "a\\u0000b"\n', ".memo2anki.toml:2: deck: the deck name holds a"),
        ('since = "4월"\n', ".memo2anki.toml:1: 'since' must be a date, as in since = 2025-04-01"),
        ("last = 0\n", ".memo2anki.toml:1: 'last' must be a number of days, 1 or more"),
        # TOML's other ways to write a number, and dates in other digits: the digits 0-9 only
        ("deck = 'a'\nlast = 1_000\n", ".memo2anki.toml:2: 'last' must be written in the digits"),
        ("last = +14 # days\n", ".memo2anki.toml:1: 'last' must be written in the digits 0-9"),
        ("last = 0x0E\n", ".memo2anki.toml:1: 'last' must be written in the digits 0-9"),
        ("last = 0o16\n", ".memo2anki.toml:1: 'last' must be written in the digits 0-9"),
        ('since = "2025-W15-1"\n', ".memo2anki.toml:1: 'since' must be a date, as in since ="),
        ('until = "\uff12\uff10\uff12\uff15-04-14"\n', ".memo2anki.toml:1: 'until' must be a date"),
        ('until = "\u0662\u0660\u0662\u0665-04-14"\n', ".memo2anki.toml:1: 'until' must be a date"),
        (
            "since = 2025-04-10\nuntil = 2025-04-01\n",
            ".memo2anki.toml:1: --since 2025-04-10 is after --until 2025-04-01",
        ),
    ],
)
def test_a_broken_config_is_one_clear_error(vault: Path, text: str, message: str) -> None:
    # A wrong setting is bad usage, as a wrong option is: exit 2, one line.
    (vault / ".memo2anki.toml").write_text(text, encoding="utf-8")
    result = run(vault, "--dry-run")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"memo2anki: error: {vault / message[:15]}") and message[15:] in line


KNOWN = "(known: deck, sections, subjects, cloze, since, until, last, garden_url, vault_name"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('deck = "x"\na.b.c = 1\n', f":2: unknown setting 'a' {KNOWN}"),
        ("cloze = true\n[a.b]\nc = 1\n", f":2: unknown setting 'a' {KNOWN}"),
        ("cloze = true\n[x]\nlast = 0\n", f":2: unknown setting 'x' {KNOWN}"),
        ('cloze = true\n"a.b" = 1\n', f":2: unknown setting 'a.b' {KNOWN}"),
        ('cloze = true\n  [ "dec.k" . y ]\n', f":2: unknown setting 'dec.k' {KNOWN}"),
        (
            'deck = """a\n[x]\nb"""\nsections = ["""\n[y]\n""", "#"] # c\nz.w = 1\n',
            f":7: unknown setting 'z' {KNOWN}",
        ),
        ("cloze = true\nlast.x = 3\n", ":2: 'last' must be a number of days, 1 or more"),
        ("# c\n[deck]\nx = 1\n", ":2: 'deck' must be a non-empty string"),
        ("cloze = true\n[[sections]]\na = 1\n", ":2: 'sections' must be a list of strings"),
        # (a key written with escapes is not found: the file is named alone)
        ('cloze = true\n"l\\u0061st" = 0\n', ": 'last' must be a number of days, 1 or more"),
        ("cloze = true\n\n'since' = 3\n", ":3: 'since' must be a date"),
    ],
    ids=[
        "dotted key",
        "table",
        "known key in a table",
        "quoted dot",
        "spaced header",
        "after multi-line strings",
        "dotted known key",
        "known key as a table",
        "array of tables",
        "escaped key",
        "literal key",
    ],
)
def test_a_setting_set_any_way_toml_allows_is_named_by_its_line(
    vault: Path, text: str, message: str
) -> None:
    # tomllib tells no key's line: a dotted key, a table's header, a quoted or escaped key
    # each set a setting, and a message about it names that line.
    (vault / ".memo2anki.toml").write_text(text, encoding="utf-8")
    result = run(vault, "--dry-run")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"memo2anki: error: {vault / '.memo2anki.toml'}{message}")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'deck = "\xff\xfe"\n', ".memo2anki.toml:1: broken config: not UTF-8 (byte 0xff)"),
        (b'sections = ["A"]\n# \xea\xb0\n', ".memo2anki.toml:2: broken config: not UTF-8"),
        (b"last = " + b"[" * 5000 + b"]" * 5000, ".memo2anki.toml:1: broken config: nested to"),
        (
            b'cloze = true\n\ndeck = "[[["\nsections = [\n' + b"{a=" * 5000 + b"1" + b"}" * 5000,
            ".memo2anki.toml:5: broken config: nested too deeply",
        ),
        (
            b".".join([b"a"] * 100_000) + b" = 1",  # (tomllib: minutes, growing as its square)
            ".memo2anki.toml: not a settings file: larger than 64 KiB",
        ),
        (b"# note\n" * 20_000, ".memo2anki.toml: not a settings file: larger than 64 KiB"),
    ],
    ids=[
        "bad byte",
        "cut character in a comment",
        "deep arrays",
        "deep tables",
        "a dotted key 200 KB long",
        "comments past 64 KiB",
    ],
)
def test_a_config_that_cannot_be_read_as_toml_is_bad_usage(
    vault: Path, raw: bytes, message: str
) -> None:
    (vault / ".memo2anki.toml").write_bytes(raw)
    result = run(vault, "--dry-run")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"memo2anki: error: {vault / message[:15]}") and message[15:] in line


@pytest.mark.parametrize(
    ("given", "config", "kept"),
    [
        (("--last", str(10**12)), "", ["Pod", "chan", "EC2"]),
        (("--last", str(10**30)), "", ["Pod", "chan", "EC2"]),
        (("--until", "2025-04-04", "--last", str(10**9)), "", ["Pod"]),
        ((), f"last = {10**20}\n", ["Pod", "chan", "EC2"]),
        ((), "until = 2025-04-04\nlast = 9999999999\n", ["Pod"]),
        (("--until", "0001-01-03", "--last", "10"), "", []),
        (("--since", "0001-01-01", "--until", "0001-01-01"), "", []),
        (("--since", "9999-12-31"), "", []),
    ],
    ids=[
        "huge --last",
        "huger --last",
        "huge --last to --until",
        "huge last",
        "huge last to until",
        "back past the year 1",
        "the year 1",
        "the year 9999",
    ],
)
def test_date_ranges_at_the_ends_of_the_calendar(
    tmp_path: Path, given: tuple[str, ...], config: str, kept: list[str]
) -> None:
    # All days back to the year 1 is what a huge --last means; nothing dated then is no card.
    vault = write_vault(
        tmp_path / "v",
        {
            "2025-04-04.md": memo("**Pod**\n파드"),
            "2025-06-01.md": "# Study\n## Go\n**chan**\n채널\n",
            f"{dt.date.today()}.md": memo("**EC2**\n서버", subject="AWS"),
        },
    )
    (vault / ".memo2anki.toml").write_text(f'sections = ["Study"]\n{config}', encoding="utf-8")
    result = run(vault, "--dry-run", *given)
    if kept:
        assert result.exit_code == 0, result.output
        assert [line.split("\t")[1] for line in result.stdout.splitlines()] == kept
    else:
        assert result.exit_code == 1
        (line,) = result.stderr.splitlines()
        assert line.startswith("memo2anki: error: no cards of notes dated ")


@pytest.mark.parametrize("made", ["a folder", "a pipe", "a link to nothing"])
def test_a_settings_file_that_is_not_a_file_is_named_never_ignored_nor_opened(
    vault: Path, tmp_path: Path, made: str
) -> None:
    path = vault / ".memo2anki.toml"
    if made == "a folder":
        path.mkdir()
    elif made == "a pipe":
        os.mkfifo(path)  # (opened, it would wait for a writer for ever)
    else:
        path.symlink_to(tmp_path / "nowhere.toml")
    said = {
        "a folder": "not a settings file: not a regular file",
        "a pipe": "not a settings file: not a regular file",
        "a link to nothing": "cannot read config: No such file or directory",
    }[made]
    result = run(vault, "--dry-run")
    assert result.exit_code == (1 if made == "a link to nothing" else 2), result.output
    assert result.stderr.splitlines() == [f"memo2anki: error: {path}: {said}"]
    given = run(vault, "--dry-run", "--config", path)  # (click names a folder or a link first)
    assert given.exit_code in {1, 2} and ".memo2anki.toml" in given.stderr, given.output
    assert "Traceback" not in given.output
