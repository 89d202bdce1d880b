"""Finding Anki's profiles on fake Anki2 folders laid out as each platform's Anki lays them out,
with a real prefs21.db (sqlite3 + pickled dicts, as Anki writes it)."""

from __future__ import annotations

import os
import pickle
import sqlite3
from pathlib import Path

import pytest
from helpers import memo, write_vault
from sandbox import run_cli

from memo2anki.model import Memo2AnkiError
from memo2anki.targets.profiles import base_folders, find_profile, read_profiles


class Geometry:
    """A class no reader knows: what a pickled Qt object looks like to the unpickler."""

    def __reduce__(self) -> tuple[object, ...]:
        return (print, ("this must never run",))


def make_anki2(base: Path, profiles: list[str], last: str | None, junk: bool = False) -> Path:
    """An Anki2 folder with prefs21.db as Anki writes it, and one folder per profile."""
    base.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(base / "prefs21.db")
    conn.execute("CREATE TABLE profiles (name TEXT PRIMARY KEY, data BLOB NOT NULL)")
    meta: dict[str, object] = {"created": 1700000000, "defaultLang": "ko_KR"}
    if last is not None:
        meta["last_loaded_profile_name"] = last
    if junk:
        meta["mainWindowGeom"] = Geometry()
    conn.execute("INSERT INTO profiles VALUES ('_global', ?)", (pickle.dumps(meta),))
    for name in profiles:
        data = pickle.dumps({"mainWindowGeom": None, "syncKey": None, "numBackups": 50})
        conn.execute("INSERT INTO profiles VALUES (?, ?)", (name, data))
        (base / name).mkdir()
        (base / name / "collection.anki2").write_bytes(b"")
    conn.commit()
    conn.close()
    return base


# platform, environment (HOME-relative values are filled in), where Anki2 lives under HOME
LAYOUTS = [
    ("linux", {}, ".local/share/Anki2"),
    ("linux", {"XDG_DATA_HOME": "xdg"}, "xdg/Anki2"),
    ("linux", {}, ".var/app/net.ankiweb.Anki/data/Anki2"),  # the Flatpak build
    ("darwin", {}, "Library/Application Support/Anki2"),
    ("win32", {"APPDATA": "AppData/Roaming"}, "AppData/Roaming/Anki2"),
    ("win32", {}, "AppData/Roaming/Anki2"),
    ("linux", {"ANKI_BASE": "elsewhere"}, "elsewhere"),
    ("darwin", {"ANKI_BASE": "elsewhere"}, "elsewhere"),
]


@pytest.mark.parametrize(("platform", "env", "where"), LAYOUTS)
def test_the_last_loaded_profile_is_found_where_anki_keeps_it(
    tmp_path: Path, platform: str, env: dict[str, str], where: str
) -> None:
    env = {key: str(tmp_path / value) for key, value in env.items()}
    make_anki2(tmp_path / where, ["사용자 1", "work"], last="사용자 1")
    profile = find_profile(None, env, platform, tmp_path)
    assert profile.name == "사용자 1"
    assert profile.collection == tmp_path / where / "사용자 1" / "collection.anki2"
    assert profile.backups == tmp_path / where / "사용자 1" / "backups"
    assert find_profile("work", env, platform, tmp_path).folder == tmp_path / where / "work"


def test_anki_base_wins_over_the_platform_folder(tmp_path: Path) -> None:
    make_anki2(tmp_path / ".local/share/Anki2", ["User 1"], last="User 1")
    make_anki2(tmp_path / "portable", ["사용자 1"], last="사용자 1")
    env = {"ANKI_BASE": str(tmp_path / "portable")}
    assert find_profile(None, env, "linux", tmp_path).name == "사용자 1"
    assert base_folders(env, "linux", tmp_path) == [tmp_path / "portable"]


def test_the_native_folder_comes_before_the_flatpak_one(tmp_path: Path) -> None:
    make_anki2(tmp_path / ".local/share/Anki2", ["native"], last="native")
    make_anki2(tmp_path / ".var/app/net.ankiweb.Anki/data/Anki2", ["flat"], last="flat")
    assert find_profile(None, {}, "linux", tmp_path).name == "native"


def test_a_profile_name_typed_in_another_unicode_form_or_case_is_found(tmp_path: Path) -> None:
    import unicodedata

    make_anki2(tmp_path / "b", ["사용자 1", "Work"], last=None)
    profiles = read_profiles(tmp_path / "b")
    assert profiles.pick(unicodedata.normalize("NFD", "사용자 1")).name == "사용자 1"
    assert profiles.pick("work").name == "Work"


def test_an_unknown_name_lists_the_profiles_there_are(tmp_path: Path) -> None:
    make_anki2(tmp_path / "b", ["사용자 1", "work"], last="work")
    with pytest.raises(Memo2AnkiError) as err:
        read_profiles(tmp_path / "b").pick("User 1")
    assert "no Anki profile named 'User 1'" in str(err.value)
    assert "'work'" in str(err.value) and "'사용자 1'" in str(err.value)


def test_without_a_last_loaded_profile_the_only_one_is_taken(tmp_path: Path) -> None:
    make_anki2(tmp_path / "b", ["사용자 1"], last=None)
    assert read_profiles(tmp_path / "b").pick(None).name == "사용자 1"


def test_several_profiles_and_none_loaded_last_asks_for_one(tmp_path: Path) -> None:
    make_anki2(tmp_path / "b", ["a", "b"], last="deleted since")
    with pytest.raises(Memo2AnkiError, match="pick one with --profile NAME: 'a', 'b'"):
        read_profiles(tmp_path / "b").pick(None)


def test_objects_in_the_pickles_are_never_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_anki2(tmp_path / "b", ["사용자 1", "x"], last="사용자 1", junk=True)
    assert read_profiles(tmp_path / "b").last == "사용자 1"
    assert "must never run" not in capsys.readouterr().out


def test_a_damaged_global_row_is_no_last_profile(tmp_path: Path) -> None:
    make_anki2(tmp_path / "b", ["a", "b"], last="a")
    conn = sqlite3.connect(tmp_path / "b" / "prefs21.db")
    conn.execute("UPDATE profiles SET data = ? WHERE name = '_global'", (b"\x80\x05garbage",))
    conn.commit()
    conn.close()
    profiles = read_profiles(tmp_path / "b")
    assert (profiles.names, profiles.last) == (("a", "b"), None)


def test_no_anki_folder_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(Memo2AnkiError) as err:
        find_profile(None, {}, "linux", tmp_path)
    message = str(err.value)
    assert message.startswith("no Anki profiles found (looked in ")
    assert str(tmp_path / ".local/share/Anki2") in message and "--collection FILE" in message


def test_a_prefs_file_that_is_not_a_database_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "prefs21.db").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(Memo2AnkiError, match="cannot read Anki's profile list"):
        read_profiles(tmp_path / "b")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_beside_the_profile_list_is_named_never_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite opens a journal beside prefs21.db with it: a FIFO there kept the sync waiting
    for ever, deaf to SIGTERM."""
    base = make_anki2(tmp_path / "Anki2", ["User 1"], last="User 1")
    os.mkfifo(base / "prefs21.db-journal")
    monkeypatch.setenv("ANKI_BASE", str(base))
    vault = write_vault(tmp_path / "v", {"n.md": memo("**A**\n가")})
    done = run_cli("sync", vault, "--via", "collection", "--no-cache")
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"memo2anki: error: {base / 'prefs21.db-journal'}: not a regular file (SQLite opens "
        "it with Anki's profile list); move it away"
    ]
