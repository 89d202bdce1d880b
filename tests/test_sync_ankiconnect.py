"""The AnkiConnect way, against a stand-in for the AnkiConnect add-on (tests/ankiconnect_standin.py:
protocol version 6 as the add-on speaks it, over a real collection opened with Anki's library),
so every outcome is checked in the collection itself."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import tracemalloc
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ankiconnect_standin import ADD_ON_ANSWERS, AnkiConnectStandIn
from helpers import PICTURE_GONE, Anki, memo2anki_notes, png, run, write_vault
from sandbox import run_cli

from memo2anki.changes.notes import MODEL_ID
from memo2anki.changes.plan import GONE_TAG, kept_suspended_tag
from memo2anki.cli import sync as cli_sync
from memo2anki.model import Memo2AnkiError, one_line
from memo2anki.targets.ankiconnect import AnkiConnect, checked_result, detect
from memo2anki.targets.sync import ANKICONNECT, COLLECTION, choose_target

DOCKER = "**Docker Network**\nNone 설정하면 컨테이너 외부와 통신 불가능\nHost: 호스트 네트워크 사용"
CNI = "**CNI**\n컨테이너 네트워크 인터페이스 표준 플러그인 규격과 그 구현들"
ETCD = "**etcd**\n쿠버네티스의 모든 클러스터 상태를 저장하는 분산 키값 저장소\n![[etcd.png]]"


def note(*cards: str, subject: str = "CKA") -> str:
    return f"# 공부 메모장\n## {subject}\n" + "\n\n".join(cards) + "\n"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "vault",
        {
            "daily/2025-04-01.md": note(DOCKER, CNI),
            "daily/2025-04-02.md": note(ETCD),
            "etcd.png": png(seed=3),
        },
    )


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[AnkiConnectStandIn]:
    """Anki running with the AnkiConnect add-on (a stand-in for it), on an empty profile."""
    Anki(tmp_path / "profile").close()
    with AnkiConnectStandIn(tmp_path / "profile" / "collection.anki2") as server:
        yield server


def sync(vault: Path, server: AnkiConnectStandIn, *args: str) -> tuple[int, str]:
    result = run("sync", vault, "--ankiconnect-url", server.url, "--no-cache", *args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def memo_notes(server: AnkiConnectStandIn) -> dict[str, dict[str, object]]:
    assert server.col is not None
    return memo2anki_notes(server.col)


# -- the client ------------------------------------------------------------------------------


def test_the_client_speaks_version_6_with_the_key_and_multi(tmp_path: Path) -> None:
    Anki(tmp_path / "p").close()
    with AnkiConnectStandIn(tmp_path / "p" / "collection.anki2", key="s3cret") as server:
        assert detect(server.url, "s3cret")
        client = AnkiConnect(server.url, "s3cret")
        assert client.call("version") == 6
        assert client.multi([("deckNames", {}), ("createDeck", {"deck": "새 덱"})])[0] == [
            "Default"
        ]
        assert "새 덱" in client.call("deckNames")
        sub_actions = server.requests[-3:-1]
        assert [r["action"] for r in sub_actions] == ["deckNames", "createDeck"]
        assert all(r["version"] == 6 and r["key"] == "s3cret" for r in sub_actions)
        with pytest.raises(Memo2AnkiError, match="AnkiConnect asks for its API key"):
            AnkiConnect(server.url).call("deckNames")
        assert detect(server.url)  # it answers; the key is asked for when syncing


def test_the_add_ons_errors_become_one_clear_message(standin: AnkiConnectStandIn) -> None:
    client = AnkiConnect(standin.url)
    with pytest.raises(Memo2AnkiError, match="AnkiConnect refused 'noSuchThing': unsupported"):
        client.call("noSuchThing")
    with pytest.raises(Memo2AnkiError, match=r"refused 'notesInfo': .*unexpected keyword"):
        client.call("notesInfo", nope=[1])
    with pytest.raises(Memo2AnkiError, match="refused 'updateNoteFields': Note was not found"):
        client.multi([("deckNames", {}), ("updateNoteFields", {"note": {"id": 5, "fields": {}}})])


def test_an_error_of_any_length_is_one_short_line(standin: AnkiConnectStandIn) -> None:
    standin.errors["deckNames"] = "no deck\n" * 100_000
    with pytest.raises(Memo2AnkiError) as raised:
        AnkiConnect(standin.url).call("deckNames")
    said = str(raised.value)
    assert said.startswith("AnkiConnect refused 'deckNames': no deck") and said.endswith("…")
    assert len(one_line(said)) < 600


def test_nothing_answering_is_no_ankiconnect(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert not detect(f"http://127.0.0.1:{port}")
    with pytest.raises(Memo2AnkiError, match="cannot reach AnkiConnect at"):
        AnkiConnect(f"http://127.0.0.1:{port}").call("version")


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)  # accepts the connection, never answers
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with pytest.raises(Memo2AnkiError, match=r"did not answer within 0\.3 s"):
            AnkiConnect(url, timeout=0.3).call("version")


def test_proxies_in_the_environment_are_never_used(
    standin: AnkiConnectStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    hits: list[bytes] = []
    proxy = socket.socket()
    proxy.bind(("127.0.0.1", 0))
    proxy.listen(1)

    def accept() -> None:
        try:
            conn, _ = proxy.accept()
            hits.append(conn.recv(100))
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{proxy.getsockname()[1]}"
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.setenv(name, address)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert AnkiConnect(standin.url).call("version") == 6
    proxy.close()
    thread.join(1)
    assert hits == []


def test_only_http_addresses_are_accepted() -> None:
    with pytest.raises(Memo2AnkiError, match="give it as http://HOST:PORT"):
        AnkiConnect("file:///etc/passwd")


def post(url: str, body: bytes) -> object:
    request = urllib.request.Request(url, data=body, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        return json.loads(response.read())


def _without_suggestion(reply: Any) -> Any:
    """A reply as the add-on gave it on Python 3.11: Python 3.13 adds a suggestion to a wrong
    keyword's message ("... argument 'nope'. Did you mean 'notes'?"), in both."""
    if isinstance(reply, dict) and isinstance(reply.get("error"), str):
        return {**reply, "error": re.sub(r"\. Did you mean '[^']*'\?$", "", reply["error"])}
    return reply


def test_the_stand_in_answers_in_the_add_ons_shapes(standin: AnkiConnectStandIn) -> None:
    """The replies the real add-on gave (ADD_ON_ANSWERS, checked against it in real Anki by
    test_real_anki.py), and a few that depend on the collection."""
    url = standin.url
    for body, reply in ADD_ON_ANSWERS:
        assert _without_suggestion(post(url, body)) == reply, body
    assert standin.col is not None
    assert not (Path(standin.col.media.dir()) / "_memo2anki-skipped.txt").exists()
    # Without a version the add-on answers as version 4: the bare result; errors keep the pair.
    assert post(url, json.dumps({"action": "deckNames"}).encode()) == ["Default"]
    assert post(url, json.dumps({"action": "deckNamesAndIds"}).encode()) == {"Default": 1}
    not_a_request = post(url, json.dumps([1]).encode())  # (the add-on: jsonschema's message)
    assert isinstance(not_a_request, dict) and not_a_request["result"] is None
    assert not_a_request["error"]


# -- choosing the way in -------------------------------------------------------------------


def test_ankiconnect_is_chosen_when_it_answers_else_the_collection(tmp_path: Path) -> None:
    given = tmp_path / "c.anki2"
    anki_says = {"answers": lambda u, k: True, "active": lambda u, k: "User 1"}
    assert choose_target(None, None, None, **anki_says).way == ANKICONNECT
    assert choose_target(None, None, given, answers=lambda u, k: True).way == COLLECTION
    with pytest.raises(Memo2AnkiError, match="AnkiConnect does not answer at"):
        choose_target(ANKICONNECT, None, None, answers=lambda u, k: False)


def test_a_profile_asked_for_goes_through_ankiconnect_only_if_anki_has_it_open(
    standin: AnkiConnectStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_anki_profiles import make_anki2

    base = make_anki2(tmp_path / "Anki2", ["User 1", "사용자 1"], last="User 1")
    monkeypatch.setenv("ANKI_BASE", str(base))
    open_one = choose_target(None, "user 1", None, standin.url)
    assert (open_one.way, str(open_one)) == (
        ANKICONNECT,
        f"profile 'User 1' through AnkiConnect at {standin.url}",
    )
    other = choose_target(None, "사용자 1", None, standin.url)
    assert (other.way, other.collection) == (COLLECTION, base / "사용자 1" / "collection.anki2")


# -- syncing through it --------------------------------------------------------------------


def test_first_sync_through_ankiconnect_adds_notes_with_memo2ankis_note_type(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    col = standin.col
    assert col is not None
    options = col.decks.config_dict_for_deck_id(1)
    options["new"]["perDay"] = 7  # the person's own deck options
    col.decks.update_config(options)
    scm = col.db.scalar("select scm from col")
    code, output = sync(vault, standin)
    assert code == 0, output
    assert "3 new; synced" in output and "through AnkiConnect" in output
    assert "next: sync Anki" in output
    notes = memo_notes(standin)  # found by the note type's frozen id
    assert set(notes) == {"Docker Network", "CNI", "etcd"}
    assert "m2a-" in str(notes["etcd"]["back"])
    assert any(name.startswith("m2a-") for name in standin.getMediaFilesNames())
    assert all(r.get("version") == 6 for r in standin.requests)
    assert col.decks.config_dict_for_deck_id(1)["new"]["perDay"] == 7
    assert col.db.scalar("select scm from col") == scm


def test_each_change_reaches_anki_through_ankiconnect(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    sync(vault, standin)
    first = memo_notes(standin)
    daily = vault / "daily/2025-04-01.md"
    daily.write_text(
        daily.read_text()
        .replace("통신 불가능", "통신이 전혀 안 됨")
        .replace("**CNI**", "**CNI (Container Network Interface)**")
    )
    (vault / "daily/2025-04-02.md").write_text(note(ETCD, subject="Kubernetes"))
    code, output = sync(vault, standin)
    assert code == 0 and "1 updated, 1 renamed, 1 moved" in output, output
    now = memo_notes(standin)
    assert now["Docker Network"]["id"] == first["Docker Network"]["id"]
    assert "통신이 전혀 안 됨" in str(now["Docker Network"]["back"])
    assert now["CNI (Container Network Interface)"]["id"] == first["CNI"]["id"]
    assert now["etcd"]["deck"] == "공부 메모장::Kubernetes"

    kept = (vault / "daily/2025-04-02.md").read_text()
    (vault / "daily/2025-04-02.md").unlink()
    code, output = sync(vault, standin)
    assert code == 0 and "1 gone" in output
    gone = memo_notes(standin)["etcd"]
    assert GONE_TAG in gone["tags"] and gone["suspended"]
    (vault / "daily/2025-04-02.md").write_text(kept)
    sync(vault, standin)
    back = memo_notes(standin)["etcd"]
    assert GONE_TAG not in back["tags"] and not back["suspended"] and back["id"] == gone["id"]


@pytest.mark.parametrize("change", ["new", "moved"])
def test_a_subject_deck_that_is_a_filtered_deck_is_named_and_nothing_synced_through_ankiconnect(
    vault: Path, standin: AnkiConnectStandIn, change: str
) -> None:
    sync(vault, standin)
    assert standin.col is not None
    standin.col.decks.new_filtered("공부 메모장::other")  # (Anki's deck names know no case)
    if change == "new":
        (vault / "daily/2025-04-03.md").write_text(note("**Flannel**\n오버레이", subject="Other"))
    else:
        (vault / "daily/2025-04-02.md").write_text(note(ETCD, subject="Other"))
    before = memo_notes(standin)
    decks = sorted(standin.col.decks.all_names())
    code, output = sync(vault, standin)
    assert code == 1
    assert output.splitlines()[-1] == (
        "memo2anki: error: '공부 메모장::other' is a filtered deck of yours: memo2anki cannot put "
        "cards in it; nothing changed (rename or delete that filtered deck in Anki, or change "
        "the subject or --deck)"
    )
    assert memo_notes(standin) == before
    assert sorted(standin.col.decks.all_names()) == decks


def test_a_card_the_person_suspended_stays_suspended_when_its_memo_returns_through_ankiconnect(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    sync(vault, standin)
    col = standin.col
    assert col is not None
    (etcd_card,) = col.find_cards('"Front:etcd"')
    col.sched.suspend_cards([etcd_card])  # the person's own
    days = {
        name: (vault / name).read_text() for name in ("daily/2025-04-01.md", "daily/2025-04-02.md")
    }
    (vault / "daily/2025-04-01.md").write_text(note(DOCKER))  # CNI gone
    (vault / "daily/2025-04-02.md").unlink()
    code, output = sync(vault, standin)
    assert code == 0 and "2 gone" in output and "1 card suspended" in output, output
    gone = memo_notes(standin)
    assert gone["etcd"]["tags"] == sorted(["CKA", GONE_TAG, kept_suspended_tag(etcd_card)])
    assert gone["CNI"]["tags"] == ["CKA", GONE_TAG] and gone["CNI"]["suspended"]
    for name, text in days.items():
        (vault / name).write_text(text)
    code, output = sync(vault, standin)
    assert code == 0 and "2 returned" in output and "1 card unsuspended" in output, output
    back = memo_notes(standin)
    assert back["etcd"]["suspended"] and not back["CNI"]["suspended"]
    assert back["etcd"]["tags"] == back["CNI"]["tags"] == ["CKA"]
    code, output = sync(vault, standin)
    assert code == 0 and "nothing changed" in output, output


def test_an_edit_made_in_anki_is_kept_and_unchanged_syncs_send_no_writes(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    sync(vault, standin)
    col = standin.col
    assert col is not None
    n = col.get_note(col.find_notes('"Front:CNI"')[0])
    n["Back"] = "fixed on my phone"
    col.update_note(n)
    standin.requests.clear()
    code, output = sync(vault, standin)
    assert code == 0 and "nothing changed" in output
    assert memo_notes(standin)["CNI"]["back"] == "fixed on my phone"
    reads = {"version", "getActiveProfile", "modelNamesAndIds", "modelFieldNames", "findNotes"}
    reads |= {"modelTemplates", "modelStyling"}
    reads |= {"notesInfo", "multi"}
    reads |= {"getDecks", "areSuspended", "findCards", "getMediaFilesNames"}
    assert {r["action"] for r in standin.requests} <= reads


def test_an_edit_made_in_anki_survives_a_new_top_deck_through_ankiconnect(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    """notesInfo's "mod" (the AnkiWeb release's) tells the edit: a new --deck moves every
    card, and the Back and tag the person gave one stay."""
    sync(vault, standin)
    col = standin.col
    assert col is not None
    n = col.get_note(col.find_notes('"Front:CNI"')[0])
    n["Back"] = "fixed on my phone"
    n.tags.append("mine")
    col.update_note(n)
    code, output = sync(vault, standin, "--deck", "CKA Deck")
    assert code == 0 and "3 cards moved" in output and "updated" not in output, output
    notes = memo_notes(standin)
    assert notes["CNI"]["back"] == "fixed on my phone"
    assert "mine" in notes["CNI"]["tags"]  # type: ignore[operator]
    assert {n["deck"] for n in notes.values()} == {"CKA Deck::CKA"}


def test_delete_gone_through_ankiconnect(vault: Path, standin: AnkiConnectStandIn) -> None:
    sync(vault, standin)
    (vault / "daily/2025-04-02.md").unlink()
    code, output = sync(vault, standin, "--delete-gone")
    assert code == 0 and "1 note deleted" in output
    assert set(memo_notes(standin)) == {"Docker Network", "CNI"}


def test_a_package_and_ankiconnect_never_duplicate_each_other(
    vault: Path, standin: AnkiConnectStandIn, tmp_path: Path
) -> None:
    deck = tmp_path / "deck.apkg"
    assert run(vault, "-o", deck, "--no-cache").exit_code == 0
    sync(vault, standin)
    col = standin.col
    assert col is not None
    log = standin.importPackage(str(deck))
    assert log is True
    assert len(col.find_notes(f"mid:{MODEL_ID}")) == 3
    assert [n for n in col.models.all_names() if n.startswith("memo2anki")] == ["memo2anki"]


def test_a_deck_imported_first_is_found_and_not_added_again(
    vault: Path, standin: AnkiConnectStandIn, tmp_path: Path
) -> None:
    deck = tmp_path / "deck.apkg"
    assert run(vault, "-o", deck, "--no-cache").exit_code == 0
    standin.importPackage(str(deck))
    code, output = sync(vault, standin)
    assert code == 0 and "nothing changed" in output, output
    assert len(memo_notes(standin)) == 3


def test_dry_run_through_ankiconnect_sends_nothing(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    code, output = sync(vault, standin, "--dry-run")
    assert code == 0 and "3 new; nothing changed (--dry-run)" in output
    assert standin.requests == []


def test_the_api_key_is_given_on_the_command_line_or_in_the_environment(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Anki(tmp_path / "keyed").close()
    with AnkiConnectStandIn(tmp_path / "keyed" / "collection.anki2", key="s3cret") as server:
        code, output = sync(vault, server)
        assert code == 1
        assert output.strip().splitlines()[-1] == (
            "memo2anki: error: AnkiConnect asks for its API key: give it with "
            "--ankiconnect-key KEY (or MEMO2ANKI_ANKICONNECT_KEY)"
        )
        code, output = sync(vault, server, "--ankiconnect-key", "s3cret")
        assert code == 0 and "3 new; synced" in output
        monkeypatch.setenv("MEMO2ANKI_ANKICONNECT_KEY", "s3cret")
        code, output = sync(vault, server)
        assert code == 0 and "nothing changed" in output


_KEY_NOT_TAKEN = (
    "memo2anki: error: AnkiConnect did not take the API key given (--ankiconnect-key or "
    "MEMO2ANKI_ANKICONNECT_KEY): give the apiKey of its settings in Anki (Tools > Add-ons > "
    "AnkiConnect > Config), or none when it has none"
)


@pytest.mark.parametrize(
    ("set_in_anki", "given", "env"),
    [
        ("s3cret", "wrong", False),  # a key, not Anki's
        ("s3cret", "wrong", True),  # (from the environment)
        (None, "s3cret", False),  # a key, where Anki has none: the add-on refuses it too
        (None, "s3cret", True),  # (one left in the environment for another Anki)
    ],
)
def test_an_api_key_anki_does_not_take_is_said_so(
    vault: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    set_in_anki: str | None,
    given: str,
    env: bool,
) -> None:
    # It was told to give the key with --ankiconnect-key, the very option it was given with.
    Anki(tmp_path / "keyed").close()
    with AnkiConnectStandIn(tmp_path / "keyed" / "collection.anki2", key=set_in_anki) as server:
        if env:
            monkeypatch.setenv("MEMO2ANKI_ANKICONNECT_KEY", given)
        for way in ((), ("--via", "ankiconnect")):
            code, output = sync(vault, server, *way, *(() if env else ("--ankiconnect-key", given)))
            assert code == 1, output
            assert output.strip().splitlines()[-1] == _KEY_NOT_TAKEN
        assert memo_notes(server) == {}


def test_a_note_type_whose_fields_were_changed_stops_the_sync_through_ankiconnect(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    sync(vault, standin)
    col = standin.col
    assert col is not None
    model = col.models.get(MODEL_ID)
    col.models.add_field(model, col.models.new_field("My notes"))
    col.models.update_dict(model)
    standin.requests.clear()
    (vault / "daily/2025-04-02.md").unlink()
    code, output = sync(vault, standin)
    assert code == 1 and "My notes, not memo2anki's Front, Back" in output
    asked = {r["action"] for r in standin.requests}
    reads = {"version", "getActiveProfile", "modelNamesAndIds", "multi", "modelFieldNames"}
    assert asked <= reads | {"modelTemplates", "modelStyling"}


def test_a_card_edited_to_show_a_new_picture_brings_it_through_ankiconnect(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    sync(vault, standin)
    (vault / "flannel.png").write_bytes(png(seed=8))
    (vault / "daily/2025-04-01.md").write_text(note(DOCKER, f"{CNI}\n![[flannel.png]]"))
    code, output = sync(vault, standin)
    assert code == 0 and "1 note updated" in output and "1 image added" in output, output
    (image,) = re.findall(r'<img[^>]*\bsrc="([^"]+)"', str(memo_notes(standin)["CNI"]["back"]))
    assert standin.col is not None and standin.col.media.have(image)


def test_a_picture_missing_from_ankis_media_is_put_back_through_ankiconnect(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    """A picture gone from Anki's media folder comes back at the next sync, its memo
    unchanged, or in the package of a new note showing it; Anki's media names asked for once
    a sync."""
    sync(vault, standin)
    col = standin.col
    assert col is not None
    (image,) = re.findall(r'<img[^>]*\bsrc="([^"]+)"', str(memo_notes(standin)["etcd"]["back"]))
    col.media.trash_files([image])
    standin.requests.clear()
    code, output = sync(vault, standin)
    assert code == 0 and "3 unchanged" in output, output
    assert output.splitlines()[-2].endswith(": 1 image added"), output
    assert col.media.have(image) and not col.media.check().missing
    asked = [r["action"] for r in standin.requests]
    assert asked.count("getMediaFilesNames") == 1 and asked.count("storeMediaFile") == 1
    # Lost again, and a new card shows it too: it comes in that card's package.
    col.media.trash_files([image])
    (vault / "daily/2025-04-03.md").write_text(note("**etcd 백업**\n스냅샷\n![[etcd.png]]"))
    code, output = sync(vault, standin)
    assert code == 0 and "1 note added" in output and "1 image added" in output, output
    assert col.media.have(image) and not col.media.check().missing
    code, output = sync(vault, standin)
    assert "already matches the memos; nothing changed" in output, output


# -- a server at AnkiConnect's address that is not what it seems -----------------------------

HOSTILE_TIMEOUT = 1.0  # (the client's limit on one exchange, made short for these tests)


@pytest.mark.parametrize(
    ("action", "fault", "said"),
    [
        ("findNotes", "silent", "did not answer within 1 s"),
        ("findNotes", "drip", "did not answer within 1 s"),
        ("findNotes", "drip-headers", "did not answer within 1 s"),
        ("notesInfo", "drip", "did not answer within 1 s"),
        ("findNotes", "garbage", "did not answer as AnkiConnect does (not HTTP"),
        ("findNotes", "close", "closed the connection before its answer was whole"),
        ("findNotes", "cut", "closed the connection before its answer was whole"),
        ("findNotes", "huge", "answered with more than 128 MB"),
        ("findNotes", "deep", "did not answer as AnkiConnect does"),
        ("findNotes", "not json", "did not answer as AnkiConnect does"),
        ("modelNamesAndIds", "http 500", "answered HTTP 500"),
        ("findNotes", "bad chunk", "did not answer as AnkiConnect does (not HTTP"),
        ("version", "bad chunk", "(did not answer as AnkiConnect does (not HTTP: ValueError))"),
        ("version", "http 500", "does not answer at {url} (answered HTTP 500): start Anki"),
        ("version", "silent", "does not answer at {url} (did not answer within 1 s"),
        ("multi", "silent", "did not answer within 1 s"),
    ],
)
def test_a_server_that_misbehaves_ends_the_sync_with_one_line(
    vault: Path,
    standin: AnkiConnectStandIn,
    monkeypatch: pytest.MonkeyPatch,
    action: str,
    fault: str,
    said: str,
) -> None:
    assert sync(vault, standin)[0] == 0
    before = memo_notes(standin)
    (vault / "daily/2025-04-03.md").write_text(note("**New**\n새 카드"), encoding="utf-8")
    monkeypatch.setattr("memo2anki.targets.ankiconnect.TIMEOUT", HOSTILE_TIMEOUT)
    standin.faults[action] = fault
    code, output = sync(vault, standin, "--via", "ankiconnect")
    assert code == 1
    (line,) = [x for x in output.splitlines() if x.startswith("memo2anki: error:")]
    assert said.format(url=standin.url) in line and standin.url in line
    assert "unexpected" not in output and "Traceback" not in output
    assert memo_notes(standin) == before  # it stopped before any change (the first multi's)
    assert "some of the changes may be in Anki" not in line


@pytest.mark.parametrize(
    ("errors", "faults", "said"),
    [
        ({"suspend": "boom"}, {}, "AnkiConnect refused 'suspend': boom"),
        ({"updateNote": "boom"}, {}, "AnkiConnect refused 'updateNote': boom"),
        ({"storeMediaFile": "disk full"}, {}, "AnkiConnect refused 'storeMediaFile': disk full"),
        ({}, {"importPackage": "silent"}, "did not answer within 1 s"),
        ({}, {"importPackage": "close"}, "closed the connection before its answer was whole"),
    ],
)
def test_a_failure_once_anki_may_hold_some_changes_says_so_and_the_next_sync_finishes(
    vault: Path,
    standin: AnkiConnectStandIn,
    monkeypatch: pytest.MonkeyPatch,
    errors: dict[str, str],
    faults: dict[str, str],
    said: str,
) -> None:
    # The add-on has no transaction: the new cards imported, the edits written, then one
    # action refused or the server gone. It said only the failure, as if nothing had changed.
    assert sync(vault, standin)[0] == 0
    col = standin.col
    assert col is not None
    # (a picture Anki lost, put back with the edits)
    col.media.trash_files(
        col.media.files_in_str(MODEL_ID, str(memo_notes(standin)["etcd"]["back"]))
    )
    (vault / "daily/2025-04-01.md").write_text(note(DOCKER + " (1)"), encoding="utf-8")
    (vault / "daily/2025-04-03.md").write_text(note("**New**\n새 카드"), encoding="utf-8")
    monkeypatch.setattr("memo2anki.targets.ankiconnect.TIMEOUT", HOSTILE_TIMEOUT)
    standin.errors.update(errors)
    standin.faults.update(faults)
    code, output = sync(vault, standin)
    assert code == 1, output
    (line,) = [x for x in output.splitlines() if x.startswith("memo2anki: error:")]
    assert said in line and line.endswith(
        "; some of the changes may be in Anki already: sync again to finish them"
    ), line
    standin.errors.clear()
    standin.faults.clear()
    code, output = sync(vault, standin)
    assert code == 0, output
    held = memo_notes(standin)
    assert set(held) == {"Docker Network", "CNI", "etcd", "New"}
    assert str(held["Docker Network"]["back"]).endswith(" (1)</p>")
    assert held["CNI"]["suspended"] and GONE_TAG in held["CNI"]["tags"]


@pytest.mark.parametrize("action", ["findNotes", "notesInfo", "multi"])
def test_an_answer_of_the_wrong_shape_is_refused_before_it_takes_memory(
    vault: Path, standin: AnkiConnectStandIn, action: str
) -> None:
    # 24 MB of {} where ids, notes (one for each asked about) or replies belong. Decoded whole
    # and checked after, it took over 500 MB (one of 120 MB took 3 GB); read into its shape
    # as it is decoded, it is refused at its first wrong item, or at the first one more than
    # were asked about.
    assert sync(vault, standin)[0] == 0
    standin.faults[action] = "empty objects"
    tracemalloc.start()
    try:
        code, output = sync(vault, standin, "--via", "ankiconnect")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 1, output
    (line,) = [x for x in output.splitlines() if x.startswith("memo2anki: error:")]
    assert f"AnkiConnect's answer to '{action}' is not what the add-on answers: Expected" in line
    assert peak < 128 * 2**20, peak  # (the answer, read whole, is 24 MB)


@pytest.mark.parametrize("action", ["updateNote", "changeDeck", "suspend", "deleteNotes"])
def test_a_result_memo2anki_does_not_read_is_never_built(action: str) -> None:
    # (in the last round trip of a sync: 24 MB of {} took 500 MB, to be dropped unread)
    raw = b"[" + b"{}," * (8 * 2**20) + b"{}]"
    tracemalloc.start()
    try:
        checked_result(action, {}, raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20, peak


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        ({"result": None, "error": False}, "Expected `str | null`, got `bool` - at `$.error`"),
        ({"result": None, "error": {"a": 1}}, "Expected `str | null`, got `object` - at `$.error`"),
        ({"result": None, "error": 404}, "Expected `str | null`, got `int` - at `$.error`"),
        ({"result": [], "error": None, "also": 1}, "Object contains unknown field `also`"),
        ({"result": []}, "Object missing required field `error`"),
        ({"error": None}, "Object missing required field `result`"),
        ([[], None], "Expected `object`, got `array`"),
        ("[]", "Expected `object`, got `str`"),
    ],
)
def test_a_reply_that_is_not_the_add_ons_is_one_line_naming_the_action(
    vault: Path, standin: AnkiConnectStandIn, reply: object, said: str
) -> None:
    # The add-on's reply is {"result": R, "error": null} or {"result": null, "error": "words"}:
    # an error that is not words was said as Anki's refusal ("refused 'findNotes': False").
    assert sync(vault, standin)[0] == 0
    before = memo_notes(standin)
    standin.replies["findNotes"] = reply
    code, output = sync(vault, standin, "--via", "ankiconnect")
    assert code == 1, output
    (line,) = [x for x in output.splitlines() if x.startswith("memo2anki: error:")]
    assert "AnkiConnect's answer to 'findNotes' is not what the add-on answers: " + said in line
    assert "refused" not in output and "Traceback" not in output
    assert memo_notes(standin) == before


def test_an_error_without_words_is_said_so(vault: Path, standin: AnkiConnectStandIn) -> None:
    assert sync(vault, standin)[0] == 0
    standin.errors["findNotes"] = ""  # (the add-on's str() of an exception with no message)
    code, output = sync(vault, standin, "--via", "ankiconnect")
    assert code == 1
    assert output.splitlines()[-1] == (
        "memo2anki: error: AnkiConnect refused 'findNotes': (no reason given)"
    )


@pytest.mark.parametrize(
    ("fault", "error"), [("http 500", None), ("garbage", None), (None, "collection is not open")]
)
def test_a_profile_anki_cannot_name_stops_the_sync_before_any_change(
    vault: Path, standin: AnkiConnectStandIn, fault: str | None, error: str | None
) -> None:
    # Which profile is open decides which remembered note ids are Anki's: never guessed.
    assert sync(vault, standin)[0] == 0
    before = memo_notes(standin)
    (vault / "daily/2025-04-03.md").write_text(note("**New**\n새 카드"), encoding="utf-8")
    if fault is not None:
        standin.faults["getActiveProfile"] = fault
    if error is not None:
        standin.errors["getActiveProfile"] = error
    for way in ((), ("--via", "ankiconnect")):
        code, output = sync(vault, standin, *way)
        assert code == 1, output
        (line,) = [x for x in output.splitlines() if x.startswith("memo2anki: error:")]
        assert "cannot tell which profile Anki has open" in line
        assert "unexpected" not in output and "Traceback" not in output
        assert memo_notes(standin) == before


_NOTE = {"noteId": 1, "modelName": "memo2anki", "tags": [], "cards": [1]}


@pytest.mark.parametrize(
    ("action", "result", "said"),
    [
        ("findNotes", 3, "'findNotes' is not what the add-on answers: Expected `array`, got `int`"),
        ("findNotes", None, "'findNotes' is not what the add-on answers: Expected `array`, got"),
        (
            "findNotes",
            ["1"],
            "'findNotes' is not what the add-on answers: Expected `int`, got `str`",
        ),
        ("findNotes", {"a": 1}, "'findNotes' is not what the add-on answers: Expected `array`"),
        (
            "notesInfo",
            [{"noteId": 1}] * 3,
            "'notesInfo' is not what the add-on answers: Object missing required field "
            "`modelName` - at `$[0]`",
        ),
        (
            "notesInfo",
            [{**_NOTE, "fields": {"Front": "x"}}] * 3,
            "'notesInfo' is not what the add-on answers: Expected `object`, got `str` - at "
            "`$[0].fields[...]`",
        ),
        (
            "notesInfo",
            [{**_NOTE, "fields": {}}] * 50,
            "'notesInfo' is not what the add-on answers: Expected `array` of length 3",
        ),
        ("notesInfo", [None] * 3, "'notesInfo' is not what the add-on answers: Expected `object`"),
        ("notesInfo", [{}, {}, {**_NOTE, "noteId": "1"}], "Expected `int`, got `str` - at `$[2]"),
        ("findNotes", [2**70], "'findNotes' is not what the add-on answers: Expected `int` <="),
        ("notesInfo", 7, "'notesInfo' is not what the add-on answers: Expected `array`"),
        ("getDecks", [1, 2], "'getDecks' is not what the add-on answers: Expected `object`"),
        ("getDecks", {"CKA": "1"}, "'getDecks' is not what the add-on answers: Expected `array`"),
        ("areSuspended", [], "'areSuspended' is not what the add-on answers: Expected `array` of"),
        ("areSuspended", "no", "'areSuspended' is not what the add-on answers: Expected `array`"),
        (
            "modelNamesAndIds",
            None,
            "'modelNamesAndIds' is not what the add-on answers: Expected `object`",
        ),
        ("modelTemplates", {"Memo": {"Front": "x"}}, "'modelTemplates' is not what the add-on"),
        (
            "modelTemplates",
            {},
            "'modelTemplates' is not what the add-on answers: Expected `object`",
        ),
        ("modelStyling", "x", "'modelStyling' is not what the add-on answers: Expected `object`"),
        ("modelFieldNames", [1], "'modelFieldNames' is not what the add-on answers"),
        ("getMediaFilesNames", 0, "'getMediaFilesNames' is not what the add-on answers"),
        ("findCards", 5, "'findCards' is not what the add-on answers: Expected `array`"),
        ("findCards", None, "'findCards' is not what the add-on answers: Expected `array`"),
        ("findCards", [[1]], "'findCards' is not what the add-on answers: Expected `int`"),
        ("importPackage", None, "'importPackage' is not what the add-on answers: Expected `bool`"),
        ("getDeckConfig", "yes", "'getDeckConfig' is not what the add-on answers: Expected"),
        ("importPackage", False, "did not import the new cards ('importPackage' answered false)"),
        ("multi", {"result": 1}, "'multi' is not what the add-on answers: Expected `array`"),
        ("multi", [], "'multi' is not what the add-on answers: Expected `array` of length"),
        ("multi", [6, 6, 6], "'modelFieldNames' is not what the add-on answers: Expected `object`"),
    ],
)
def test_a_result_of_the_wrong_shape_is_one_line_naming_the_action(
    vault: Path, standin: AnkiConnectStandIn, action: str, result: object, said: str
) -> None:
    assert sync(vault, standin)[0] == 0
    (vault / "daily/2025-04-03.md").write_text(note("**New**\n새 카드"), encoding="utf-8")
    before = memo_notes(standin)
    standin.wrong_results[action] = result
    code, output = sync(vault, standin, "--via", "ankiconnect")
    assert code == 1, output
    (line,) = [x for x in output.splitlines() if x.startswith("memo2anki: error:")]
    assert said in line
    assert "unexpected" not in output and "Traceback" not in output
    assert memo_notes(standin) == before


def _one_notes_cards_to_all(notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cards = next(n["cards"] for n in notes if n)
    return [{**n, "cards": cards} if n else n for n in notes]


def _the_first_note_for_all(notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [notes[0]] * len(notes) if len(notes) > 1 else notes


@pytest.mark.parametrize(
    ("alter", "said"),
    [
        (_one_notes_cards_to_all, "card {card} is one of two notes' cards - at `$[1]`"),
        (_the_first_note_for_all, "note {note} where note {asked} was asked about - at `$[1]`"),
    ],
)
def test_notes_info_naming_a_card_twice_or_another_note_is_one_line_and_changes_nothing(
    vault: Path,
    standin: AnkiConnectStandIn,
    alter: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    said: str,
) -> None:
    """(A card listed under two notes had a live card suspended, and syncs after with an
    honest Anki found nothing to mend; a note other than the one asked about gave warnings
    about notes that were not there.)"""
    assert sync(vault, standin)[0] == 0
    (vault / "daily/2025-04-03.md").write_text(note("**New**\n새 카드"), encoding="utf-8")
    before = memo_notes(standin)
    standin.altered["notesInfo"] = alter
    code, output = sync(vault, standin, "--via", "ankiconnect")
    assert code == 1, output
    (line,) = [x for x in output.splitlines() if x.startswith("memo2anki: error:")]
    assert "AnkiConnect's answer to 'notesInfo' is not what the add-on answers: " in line
    asked = [r["params"]["notes"] for r in standin.requests if r.get("action") == "notesInfo"][-1]
    info = standin.notesInfo(asked)
    expected = said.format(card=info[0]["cards"][0], note=info[0]["noteId"], asked=asked[1])
    assert line.endswith(expected), line
    assert "unexpected" not in output and "Traceback" not in output
    assert memo_notes(standin) == before


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:8765",
        "127.0.0.1:8765",
        "http://127.0.0.1",
        "http://:8765",
        "http://127.0.0.1:0",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:87a5",
        "http://user:pw@127.0.0.1:8765",
        "http://127.0.0.1:8765/?action=deleteNotes",
        "http://127.0.0.1:8765/#x",
        "http://127.0.0.1:8765/카드",
        "http://127.0.0.1:8765/caf\u00e9",
        "http://127.0.0.1 :8765",
        "http://[::1:8765",
        "http://a..b:8765",
        f"http://{'a' * 64}.example:8765",
        "file:///etc/passwd",
    ],
)
def test_an_ankiconnect_url_that_is_not_http_to_a_host_and_port_is_bad_usage(
    vault: Path, url: str
) -> None:
    for command in ("sync", "exam"):
        result = run(command, vault, "--ankiconnect-url", url, "--no-cache")
        assert result.exit_code == 2, result.output
        assert "--ankiconnect-url" in result.stderr
        assert "give it as http://HOST:PORT" in result.stderr
        assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("edited", "fields_after"),
    [
        (-3600, ("CNI", "<p>컨테이너 네트워크 인터페이스 표준 플러그인 규격과 그 구현들</p>")),
        (3600, ("my Basic card", "my words")),  # edited after the memo: Anki keeps its fields
    ],
)
def test_a_first_sync_whose_card_id_a_basic_note_holds_says_what_the_import_did(
    vault: Path, standin: AnkiConnectStandIn, edited: int, fields_after: tuple[str, str]
) -> None:
    dry = run(vault, "--dry-run", "--json", "--no-cache")
    guid = {c["front"]: c["guid"] for c in json.loads(dry.stdout)["cards"]}["CNI"]
    col = standin.col
    assert col is not None
    mine = col.new_note(col.models.by_name("Basic"))
    mine["Front"], mine["Back"] = "my Basic card", "my words"
    mine.guid = guid  # as Change Note Type in Anki leaves it
    col.add_note(mine, col.decks.id("Default"))
    col.db.execute("update notes set mod = mod + ? where id = ?", edited, mine.id)
    code, output = sync(vault, standin)
    assert code == 0, output
    # No note id remembered (no ledger): AnkiConnect cannot see GUIDs before the import, and
    # Anki's import (as the add-on runs it, merging note types) changes the person's note to
    # memo2anki's type rather than add the card (as real Anki does: test_real_anki.py). Said
    # as it is, with how to find that note and change it back.
    assert output.splitlines()[0] == (
        "daily/2025-04-01.md:7: card 'CNI' not added: a note of another note type in Anki had "
        "its id, and Anki's import changed that note to memo2anki's note type instead, "
        "putting this card's fields in it unless it was edited since the memo (in Anki's "
        f"browser, 'nid:{mine.id}' finds it; Notes > Change Note Type changes it back)"
    )
    assert "2 notes added" in output
    kept = col.get_note(mine.id)
    assert kept.guid == guid and kept.mid == MODEL_ID
    assert tuple(kept.fields[:2]) == fields_after
    assert col.find_notes(f"nid:{mine.id}") == [mine.id]
    # That note is memo2anki's now, and found by its id from then on: the next syncs say
    # nothing of it, and change nothing while the memo does not change.
    for _ in range(2):
        code, output = sync(vault, standin)
        assert code == 0 and "not added" not in output, output
        assert "nothing changed" in output or "3 unchanged" in output
    assert tuple(col.get_note(mine.id).fields[:2]) == fields_after
    # Its memo edited: the card's fields go to that note, said as an update.
    day = vault / "daily/2025-04-01.md"
    day.write_text(day.read_text(encoding="utf-8").replace("구현들", "구현체들"), encoding="utf-8")
    code, output = sync(vault, standin)
    assert code == 0 and "not added" not in output, output
    assert "1 updated" in output
    assert "구현체들" in col.get_note(mine.id).fields[1]
    assert len(memo_notes(standin)) == 3


def test_a_note_the_import_updated_in_place_is_an_update_not_a_card_left_out(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    # The note ids lost, and the note's front edited in Anki: it is found by neither, so its
    # card goes in the package again, and Anki's import updates that note (older than the
    # memo's edit) in place. That is an update, and that note's id is remembered again.
    assert sync(vault, standin)[0] == 0
    col = standin.col
    assert col is not None
    (nid,) = col.find_notes('"Front:CNI"')
    note = col.get_note(nid)
    note["Front"] = "CNI, edited in Anki"
    col.update_note(note)
    col.db.execute("update notes set mod = mod - 7200 where id = ?", nid)
    (vault / ".memo2anki" / "anki-note-ids.json").unlink()
    day = vault / "daily/2025-04-01.md"
    day.write_text(day.read_text(encoding="utf-8").replace("구현들", "구현체들"), encoding="utf-8")
    code, output = sync(vault, standin)
    assert code == 0 and "not added" not in output, output
    assert "1 updated" in output
    assert col.get_note(nid)["Front"] == "CNI" and "구현체들" in col.get_note(nid)["Back"]
    assert len(memo_notes(standin)) == 3
    code, output = sync(vault, standin)
    assert code == 0 and "nothing changed" in output, output


def test_a_card_the_import_did_not_add_is_never_said_to_be_of_another_note_type_unseen(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    # AnkiConnect cannot say which note holds an id, nor its type: the warning does not guess.
    assert sync(vault, standin)[0] == 0
    (vault / "daily/2025-04-03.md").write_text(note("**New**\n새 카드"), encoding="utf-8")
    standin.wrong_results["importPackage"] = True  # (says it imported; imported nothing)
    code, output = sync(vault, standin)
    assert code == 0, output
    assert output.splitlines()[0] == (
        "daily/2025-04-03.md:3: card 'New' not added: a note in Anki has its id that memo2anki "
        "cannot tell its own (of another note type, or edited in Anki since); that note is "
        "left as it is (delete it, or change it back to memo2anki's type, and sync again)"
    )


def test_a_synced_card_whose_note_the_person_changed_to_basic_is_named_and_that_note_left_alone(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    assert sync(vault, standin)[0] == 0
    col = standin.col
    assert col is not None
    (nid,) = col.find_notes('"note:memo2anki" "Front:CNI"')
    memo, basic = col.models.by_name("memo2anki"), col.models.by_name("Basic")
    assert memo is not None and basic is not None
    col.models.change(memo, [nid], basic, {0: 0, 1: 1}, {0: 0})  # Change Note Type, in Anki
    mine = col.get_note(nid)
    as_it_was = (mine.guid, mine.mid, mine.fields, mine.tags, mine.mod, mine.usn)
    page = vault / "daily/2025-04-01.md"
    for edit in (CNI + " (CNCF)", CNI + " (CNCF, 2016)"):
        page.write_text(note(DOCKER, edit), encoding="utf-8")
        code, output = sync(vault, standin)
        assert code == 0, output
        # memo2anki remembered that card's note id, and asks about it before the import:
        # the card is left out of the package rather than the person's note changed back.
        assert output.splitlines()[0] == (
            "daily/2025-04-01.md:7: card 'CNI' not added: a 'Basic' note in Anki has its id "
            "(changed from memo2anki's note type there?); that note is left as it is (delete "
            "it, or change it back to memo2anki's type, and sync again)"
        )
        assert "CNI" not in memo_notes(standin)
        kept = col.get_note(nid)
        assert (kept.guid, kept.mid, kept.fields, kept.tags, kept.mod, kept.usn) == as_it_was
    # Deleted in Anki instead: the card is added again.
    col.remove_notes([nid])
    code, output = sync(vault, standin)
    assert code == 0, output
    assert "not added" not in output
    assert "(CNCF, 2016)" in str(memo_notes(standin)["CNI"])


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda text: "<<<<<<< HEAD\n" + text + "=======\n{}\n>>>>>>> other\n", "not valid JSON"),
        (lambda text: text[: len(text) // 2], "not valid JSON"),
        (lambda text: "[]", "not memo2anki's note ids"),
        (
            lambda text: text.replace(
                '"profiles"', '"x": ' + "[" * 10**5 + "]" * 10**5 + ', "profiles"'
            ),
            "nested too deep",
        ),
        (
            lambda text: text.replace('"version": 1', '"version": 2'),
            "written by a newer memo2anki (version 2): update memo2anki",
        ),
    ],
)
def test_damaged_note_ids_are_named_and_never_written_over(
    vault: Path, standin: AnkiConnectStandIn, damage: Any, reason: str
) -> None:
    # A merge's conflict markers, a file cut short, another JSON: the sync says the ids are
    # not used and why (it said nothing, and the next sync's "not added" advice would have
    # cost a note its history), and leaves the file as it is, whatever profiles it holds, for
    # the person to mend (it was written over with this profile's ids alone).
    assert sync(vault, standin)[0] == 0
    ids = vault / ".memo2anki" / "anki-note-ids.json"
    damaged = damage(ids.read_text(encoding="utf-8"))
    ids.write_text(damaged, encoding="utf-8")
    code, output = sync(vault, standin)
    assert code == 0, output
    said = [line for line in output.splitlines() if "anki-note-ids.json" in line]
    assert len(said) == 1 and f"Anki's note ids not used ({reason}" in said[0], output
    assert "it is not written over" in said[0]
    assert ", 1 warning;" in output  # (printed, and counted: the summary said 0)
    assert ids.read_text(encoding="utf-8") == damaged
    assert len(memo_notes(standin)) == 3


def _ids_fifo(vault: Path, outside: Path) -> None:
    path = vault / ".memo2anki" / "anki-note-ids.json"
    path.unlink()
    os.mkfifo(path)


def _ids_link_out(vault: Path, outside: Path) -> None:
    path = vault / ".memo2anki" / "anki-note-ids.json"
    path.replace(outside / "anki-note-ids.json")
    path.symlink_to(outside / "anki-note-ids.json")


def _folder_link_out(vault: Path, outside: Path) -> None:
    (vault / ".memo2anki").replace(outside / ".memo2anki")
    (vault / ".memo2anki").symlink_to(outside / ".memo2anki", target_is_directory=True)


# anki-note-ids.json where it is not what it seems: (how, what is said of it).
IDS_NOT_WHERE_THEY_SEEM: dict[str, tuple[Callable[[Path, Path], None], str | None]] = {
    "a FIFO": (_ids_fifo, "not a regular file"),
    "a link out of the vault": (_ids_link_out, "a symbolic link, not a file"),
    ".memo2anki a link out of the vault": (_folder_link_out, None),  # (the ledger's lines)
}


def _ids_a_link_to_dev_zero(ids: Path, outside: Path) -> None:
    ids.unlink()
    ids.symlink_to("/dev/zero")


def _ids_sparse(ids: Path, outside: Path) -> None:
    with ids.open("r+b") as f:
        f.truncate(4 << 30)  # (sparse: no disk taken)


# (A FIFO, a link out of the vault and a .memo2anki linked out: IDS_NOT_WHERE_THEY_SEEM.)
NOTE_IDS_NOT_WHERE_THEY_SEEM = {
    "a link to /dev/zero": (_ids_a_link_to_dev_zero, "a symbolic link, not a file"),
    "4 GiB": (_ids_sparse, "larger than 1 GiB, not a file memo2anki wrote"),
}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("case", IDS_NOT_WHERE_THEY_SEEM.values(), ids=IDS_NOT_WHERE_THEY_SEEM)
def test_note_ids_not_where_they_seem_are_never_waited_on_read_or_written(
    vault: Path, standin: AnkiConnectStandIn, tmp_path: Path, case: Any
) -> None:
    # A FIFO there: the sync waited on it for ever. A link out of the vault (the file, or
    # the .memo2anki folder): the ids were read and written there.
    make, reason = case
    assert sync(vault, standin)[0] == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    make(vault, outside)
    for path in outside.rglob("anki-note-ids.json"):
        path.write_text('{"format": "memo2anki anki note ids", "profiles": {}}')
    before = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    day = vault / "daily/2025-04-02.md"
    day.write_text(day.read_text(encoding="utf-8") + "\n**Pod**\n가장 작은 배포 단위\n")
    done = subprocess.run(
        [sys.executable, "-m", "memo2anki", "sync", str(vault), "--ankiconnect-url", standin.url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "anki-note-ids.json" in line]
    if reason is None:
        assert said == [] and ".memo2anki: ledger not written: a link to" in done.stderr
    else:
        assert len(said) == 1 and f"Anki's note ids not used ({reason})" in said[0]
    assert "1 note added" in done.stderr
    assert {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()} == before
    assert sorted(memo_notes(standin)) == ["CNI", "Docker Network", "Pod", "etcd"]


# Remembered ids that no note of Anki's can have, or text UTF-8 cannot hold (each read from the
# file as JSON allows it): the other ids are used, the sync goes on, and the file is written.
def _with_id(value: int) -> Callable[[str, str], str]:
    return lambda text, guid: re.sub(rf'("{re.escape(guid)}": )\d+', rf"\g<1>{value}", text)


IDS_NO_NOTE_HAS: dict[str, Callable[[str, str], str]] = {
    "an id past Anki's 64 bits": _with_id(10**30),
    "an id of 2 ** 63": _with_id(2**63),
    "a GUID's escape of a lone surrogate": lambda text, _: text.replace(
        '"profiles": {', '"profiles": {"User 2": {"\\ud800": 5}, ', 1
    ),
    "a profile's escape of a lone surrogate": lambda text, _: text.replace(
        '"profiles": {', '"profiles": {"\\udc80": {"a": 5}, ', 1
    ),
}


@pytest.mark.parametrize("damage", IDS_NO_NOTE_HAS.values(), ids=IDS_NO_NOTE_HAS.keys())
def test_note_ids_no_note_can_have_are_not_used(
    vault: Path, standin: AnkiConnectStandIn, damage: Callable[[str, str], str]
) -> None:
    # An id past 64 bits was sent to AnkiConnect, whose refusal stopped the sync; a lone
    # surrogate ended it in "unexpected error" once it had synced, and the file unwritten.
    assert sync(vault, standin)[0] == 0
    cni = memo_notes(standin)["CNI"]
    assert standin.col is not None
    standin.col.remove_notes([cni["id"]])  # (its id is asked for: it is added again)
    path = vault / ".memo2anki" / "anki-note-ids.json"
    text = path.read_text(encoding="utf-8")
    path.write_text(damage(text, str(cni["guid"])), encoding="utf-8")
    day = vault / "daily/2025-04-02.md"
    day.write_text(day.read_text(encoding="utf-8") + "\n**Pod**\n가장 작은 배포 단위\n")
    code, output = sync(vault, standin)
    assert code == 0, output
    assert "2 notes added" in output and "unexpected" not in output
    assert sorted(memo_notes(standin)) == ["CNI", "Docker Network", "Pod", "etcd"]
    ids = json.loads(path.read_text(encoding="utf-8"))["profiles"]["User 1"]
    assert sorted(ids.values()) == sorted(n["id"] for n in memo_notes(standin).values())


def _edit(vault: Path, note: str, old: str, new: str) -> None:
    path = vault / "daily" / note
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


FIXED = ("2025-04-01.md", "통신 불가능", "통신 불가능 (고침)")  # (Docker Network's back)

# A remembered id naming another card's note (anki-note-ids.json edited, or merged from a
# machine whose ids differ): (the card whose id is changed, the card whose id it gets, and
# whether the other's is this one's then, the memos edited, the sync's options, the notes
# left).
MISPLACED_IDS: dict[
    str, tuple[str, str, bool, list[tuple[str, str, str]], list[str], set[str]]
] = {
    "two cards' ids swapped": (
        "Docker Network", "CNI", True, [FIXED], [], {"Docker Network", "CNI", "etcd"},
    ),
    "an id copied from a card renamed in the memo": (
        "Docker Network", "CNI", False,
        [FIXED, ("2025-04-01.md", "**CNI**", "**CNI 플러그인**")], [],
        {"Docker Network", "CNI 플러그인", "etcd"},
    ),
    "a retired card's id naming the note of a card out of reach, with --delete-gone": (
        "etcd", "Docker Network", False, [], ["--subject", "CKA", "--delete-gone"],
        {"Docker Network", "CNI"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", MISPLACED_IDS.values(), ids=MISPLACED_IDS.keys())
def test_a_remembered_id_naming_another_cards_note_never_puts_a_card_there(
    tmp_path: Path,
    standin: AnkiConnectStandIn,
    case: tuple[str, str, bool, list[tuple[str, str, str]], list[str], set[str]],
) -> None:
    # The card's content went into the other card's note (its history with it), and that
    # card's was lost from Anki; with --delete-gone, the other card's note was deleted.
    changed, other, swapped, edits, options, left = case
    vault = write_vault(
        tmp_path / "vault",
        {
            "daily/2025-04-01.md": note(DOCKER, subject="K8S") + "## CKA\n" + CNI + "\n",
            "daily/2025-04-02.md": note(ETCD),
            "etcd.png": png(seed=3),
        },
    )
    assert sync(vault, standin)[0] == 0
    if changed == "etcd":  # (retired by a sync, as gone)
        (vault / "daily/2025-04-02.md").unlink()
        assert sync(vault, standin)[0] == 0
    before = memo_notes(standin)
    path = vault / ".memo2anki" / "anki-note-ids.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    ids = data["profiles"]["User 1"]
    mine, theirs = str(before[changed]["guid"]), str(before[other]["guid"])
    ids[mine] = ids[theirs]
    if swapped:
        ids[theirs] = before[changed]["id"]
    path.write_text(json.dumps(data), encoding="utf-8")
    for edit in edits:
        _edit(vault, *edit)
    code, output = sync(vault, standin, *options)
    assert code == 0, output
    assert "is another card's note in Anki" in output.splitlines()[0], output
    after = memo_notes(standin)
    assert set(after) == left
    for front, held in after.items():  # each card in its own note, with its own content
        assert held["id"] == before[front.removesuffix(" 플러그인")]["id"], front
        assert ("(고침)" in str(held["back"])) == (front == "Docker Network" and bool(edits))


def _guids(vault: Path) -> dict[str, str]:
    dry = run(vault, "--dry-run", "--json", "--no-cache")
    return {c["front"]: c["guid"] for c in json.loads(dry.stdout)["cards"]}


@pytest.mark.parametrize(
    ("case", "deck", "suspended"),
    [
        ("returned", "공부 메모장::CKA", False),
        ("returned, suspended by you", "공부 메모장::CKA", True),
        ("moved to another subject", "공부 메모장::Network", False),
        ("edited, marked in Anki", "공부 메모장::CKA", False),
    ],
)
def test_a_note_the_import_updated_in_place_gets_the_steps_it_would_have_had(
    vault: Path, standin: AnkiConnectStandIn, case: str, deck: str, suspended: bool
) -> None:
    # Its note id forgotten and its front edited in Anki (before the memo changed), the note
    # is found only once Anki's import updated it in place: it was told as an update, but a
    # returned card stayed suspended for good (the import dropped the gone tag), a card of a
    # new subject stayed in the old deck, and a note lost the tags Anki gave it (marked).
    assert sync(vault, standin)[0] == 0
    col = standin.col
    assert col is not None
    (nid,) = col.find_notes('"Front:CNI"')
    page = vault / "daily/2025-04-01.md"
    if case.startswith("returned"):
        if case.endswith("by you"):
            col.sched.suspend_cards(col.get_note(nid).card_ids())
        page.write_text(note(DOCKER), encoding="utf-8")
        assert sync(vault, standin)[0] == 0
        assert GONE_TAG in memo_notes(standin)["CNI"]["tags"]
        page.write_text(note(DOCKER, CNI), encoding="utf-8")
    elif case.startswith("moved"):
        page.write_text(note(DOCKER) + "## Network\n" + CNI + "\n", encoding="utf-8")
    else:
        page.write_text(note(DOCKER, CNI + " (CNCF)"), encoding="utf-8")
    edited = col.get_note(nid)
    edited["Front"] = "CNI, edited in Anki"
    edited.tags.append("marked")
    col.update_note(edited)
    col.db.execute("update notes set mod = mod - 7200 where id = ?", nid)
    (vault / ".memo2anki" / "anki-note-ids.json").unlink()
    code, output = sync(vault, standin)
    assert code == 0 and "not added" not in output, output
    assert "1 note updated" in output
    held = memo_notes(standin)["CNI"]
    assert held["id"] == nid and GONE_TAG not in held["tags"]
    assert "marked" in held["tags"]  # (a tag Anki gives, which the import took away)
    assert (held["deck"], held["suspended"]) == (deck, suspended)
    code, output = sync(vault, standin)
    assert code == 0 and "nothing changed" in output, output


@pytest.mark.parametrize("how", ["its highlights removed", "cloze notes turned off"])
def test_a_cloze_note_its_memo_no_longer_makes_is_tagged_gone_and_suspended_once(
    vault: Path, standin: AnkiConnectStandIn, how: str
) -> None:
    daily = vault / "daily/2025-04-01.md"
    daily.write_text(note(DOCKER, "**CNI**\n==플러그인== 규격과 ==구현==의 모음"))
    assert sync(vault, standin, "--cloze")[0] == 0
    col = standin.col
    assert col is not None
    (nid,) = col.find_notes('"note:memo2anki cloze"')
    text = col.get_note(nid)["Text"]
    args: tuple[str, ...] = ()
    if how == "its highlights removed":
        daily.write_text(note(DOCKER, "**CNI**\n플러그인 규격과 구현의 모음"))
        args = ("--cloze",)
    code, output = sync(vault, standin, *args)
    assert code == 0 and "1 cloze note retired" in output and "2 cards suspended" in output
    held = col.get_note(nid)
    assert GONE_TAG in held.tags and held["Text"] == text
    assert all(col.get_card(c).queue == -1 for c in held.card_ids())
    cni = memo_notes(standin)["CNI"]
    assert GONE_TAG not in cni["tags"] and not cni["suspended"]
    code, output = sync(vault, standin, *args)  # never retired again
    assert code == 0 and "retired" not in output and "suspended" not in output, output


def _held_by_cloze(standin: AnkiConnectStandIn, guid: str) -> int:
    """A note of Anki's own Cloze type holding ``guid`` (as Change Note Type leaves it)."""
    col = standin.col
    assert col is not None
    cloze = col.new_note(col.models.by_name("Cloze"))
    cloze["Text"] = "my {{c1::cloze}}"
    cloze.guid = guid
    col.add_note(cloze, col.decks.id("Default"))
    return int(cloze.id)


@pytest.mark.parametrize(
    ("held", "first"),
    [
        (["CNI"], True),  # a first sync: the import of the three cards was refused, every time
        (["CNI", "etcd"], True),
        (["Docker Network", "CNI", "etcd"], True),  # (every card: still each card's refusal)
        (["CNI"], False),  # the only card to add, its note lost and its id held by a cloze note
    ],
)
def test_a_card_whose_id_a_note_of_the_other_kind_holds_is_named_and_the_rest_added(
    vault: Path, standin: AnkiConnectStandIn, held: list[str], first: bool
) -> None:
    # Anki's import (as the add-on runs it) merges note types, and refuses a whole package
    # for one note whose GUID a cloze note holds ("Cloze note types cannot be merged with
    # regular note types"), changing nothing: no card was ever synced, whatever was tried.
    guids = _guids(vault)
    col = standin.col
    assert col is not None
    if not first:
        assert sync(vault, standin)[0] == 0
        col.remove_notes(col.find_notes('"Front:CNI"'))
        (vault / ".memo2anki" / "anki-note-ids.json").unlink()
    theirs = {front: _held_by_cloze(standin, guids[front]) for front in held}
    as_it_was = {nid: (col.get_note(nid).mid, col.get_note(nid).fields) for nid in theirs.values()}
    for _ in range(2):
        code, output = sync(vault, standin)
        assert code == 0, output
        said = [line for line in output.splitlines() if "not added" in line]
        assert [line.split(": card ")[1].split("'")[1] for line in said] == held
        assert all(
            "not added: Anki's import refused it (Cloze note types cannot be merged" in line
            and "a note in Anki of the other kind of note type (a cloze type where memo2anki's "
            "is not, or the other way) has its id; that note is left as it is"
            in line
            for line in said
        )
        assert f"{len(held)} warning" in output
        assert set(memo_notes(standin)) == {"Docker Network", "CNI", "etcd"} - set(held)
        assert {n: (col.get_note(n).mid, col.get_note(n).fields) for n in theirs.values()} == (
            as_it_was
        )


def test_an_import_refused_for_all_it_holds_is_one_line(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    # (Not the notes': an empty package is refused too. Nothing is split, nothing said of cards.)
    standin.errors["importPackage"] = "collection is not available"
    code, output = sync(vault, standin)
    assert code == 1, output
    assert output.splitlines()[-1] == (
        "memo2anki: error: AnkiConnect refused 'importPackage': collection is not available"
    )
    assert "not added" not in output
    imports = [r for r in standin.requests if r.get("action") == "importPackage"]
    assert len(imports) == 2


@pytest.mark.parametrize("name", ["공부 카드", "memo2anki cloze"])
def test_a_note_of_memo2ankis_type_renamed_is_never_said_to_be_of_another_type(
    vault: Path, standin: AnkiConnectStandIn, name: str
) -> None:
    # CNI's remembered id names Docker's note (a damaged file), and its own note is not found
    # by its fields (its front edited in Anki): that id's note is memo2anki's, under the name
    # the person gave its note type, and was said to be "a '공부 카드' note" holding CNI's id,
    # CNI's edit left out. Anki's import updates CNI's note in place instead.
    assert sync(vault, standin)[0] == 0
    col = standin.col
    assert col is not None
    model = col.models.by_name("memo2anki")
    assert model is not None
    model["name"] = name
    col.models.update_dict(model)
    guids = _guids(vault)
    path = vault / ".memo2anki" / "anki-note-ids.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    ids = data["profiles"]["User 1"]
    ids[guids["CNI"]] = ids[guids["Docker Network"]]
    path.write_text(json.dumps(data), encoding="utf-8")
    (nid,) = col.find_notes('"Front:CNI"')
    edited = col.get_note(nid)
    edited["Front"] = "CNI, edited in Anki"
    col.update_note(edited)
    col.db.execute("update notes set mod = mod - 7200 where id = ?", nid)
    (vault / "daily/2025-04-01.md").write_text(note(DOCKER, CNI + " (CNCF)"), encoding="utf-8")
    code, output = sync(vault, standin)
    assert code == 0 and "not added" not in output, output
    assert "1 note updated" in output
    assert col.get_note(nid)["Front"] == "CNI" and "(CNCF)" in col.get_note(nid)["Back"]
    assert len(col.find_notes(f"mid:{MODEL_ID}")) == 3


def _own_type(standin: AnkiConnectStandIn, name: str, fields: list[str], cards: int) -> Any:
    col = standin.col
    assert col is not None
    models = col.models
    model = models.new(name)
    for field in fields:
        models.add_field(model, models.new_field(field))
    for number in range(1, cards + 1):
        template = models.new_template(f"Card {number}")
        front, back = fields[number % 2], fields[(number + 1) % 2]
        template["qfmt"], template["afmt"] = f"{{{{{front}}}}}", f"{{{{{back}}}}}"
        models.add_template(model, template)
    models.add(model)
    return models.by_name(name)


@pytest.mark.parametrize(
    ("fields", "cards", "another", "said", "next_sync"),
    [
        (
            ["Q", "A", "Extra"],
            1,
            False,
            "memo2anki's note type 'memo2anki' now has that note's fields Q, A, Extra and card "
            "types 'Card 1' too; your note type 'Mine' is gone (no note was left in it); the "
            "next sync stops until those fields are removed (Tools > Manage Note Types > "
            "Fields; they hold that note's words)",
            1,
        ),
        (
            ["Front", "Back"],
            2,
            True,
            "memo2anki's note type 'memo2anki' now has that note's card types 'Card 1', "
            "'Card 2' too; its notes get those cards as they are next written (Tools > "
            "Manage Note Types > Cards removes them)",
            0,
        ),
    ],
    ids=["other fields", "other card types, another note kept"],
)
def test_what_the_import_did_to_the_note_types_in_changing_a_note_is_said(
    vault: Path,
    standin: AnkiConnectStandIn,
    fields: list[str],
    cards: int,
    another: bool,
    said: str,
    next_sync: int,
) -> None:
    # No note id remembered (a first sync), a note of the person's own type holds a card's
    # id: Anki's import (merging note types) changes it to memo2anki's, and to do so gives
    # memo2anki's note type that type's fields and card types, and deletes that type once no
    # note is left in it. Only the note was said to change; the next sync then stopped on
    # "fields changed", with no word of why.
    col = standin.col
    assert col is not None
    model = _own_type(standin, "Mine", fields, cards)
    mine = col.new_note(model)
    mine[fields[0]], mine[fields[1]] = "my question", "my answer"
    mine.guid = _guids(vault)["CNI"]
    col.add_note(mine, col.decks.id("Default"))
    col.db.execute("update notes set mod = mod - 3600 where id = ?", mine.id)
    if another:
        other = col.new_note(model)
        other[fields[0]] = "another"
        col.add_note(other, col.decks.id("Default"))
    code, output = sync(vault, standin)
    assert code == 0, output
    lines = output.splitlines()
    assert "card 'CNI' not added: a note of another note type in Anki had its id" in lines[0]
    assert lines[1] == (
        "daily/2025-04-01.md:7: Anki's import, changing that note, also changed note types: " + said
    )
    assert ", 2 warnings;" in output
    code, output = sync(vault, standin)
    assert code == next_sync, output


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (("sync",), "daily/2025-04-01.md: gone 'CNI' (was daily/2025-04-01.md:7)"),
        (("sync", "--dry-run"), "daily/2025-04-01.md: gone 'CNI' (was daily/2025-04-01.md:7)"),
        ((), "daily/2025-04-01.md: gone 'CNI' (was daily/2025-04-01.md:7); left out of the deck"),
    ],
    ids=["sync", "sync --dry-run", "build"],
)
def test_a_gone_card_without_its_last_fields_is_left_out_of_a_package_only(
    vault: Path, standin: AnkiConnectStandIn, command: tuple[str, ...], said: str
) -> None:
    # A sync retires it (tagged memo2anki::gone, suspended) all the same; --changes said it
    # was "left out of the deck" there too.
    assert sync(vault, standin)[0] == 0
    (vault / ".memo2anki/fields.json").write_text("damaged", encoding="utf-8")
    (vault / "daily/2025-04-01.md").write_text(note(DOCKER), encoding="utf-8")
    at = ("--ankiconnect-url", standin.url) if command else ("-o", vault.parent / "d.apkg")
    result = run(*command, vault, *at, "--no-cache", "--changes")
    assert result.exit_code == 0, result.output
    assert said in result.stdout.splitlines()
    if command == ("sync",):
        assert GONE_TAG in memo_notes(standin)["CNI"]["tags"]


def test_a_long_list_of_ids_costs_round_trips_not_memory(
    vault: Path, standin: AnkiConnectStandIn
) -> None:
    # exam asked about every card the search found in one request, whose answer is read into
    # a shape of that many items: a million ids from findCards took over 100 MB to ask about.
    assert sync(vault, standin)[0] == 0
    standin.wrong_results["findCards"] = list(range(1, 1_000_001))
    standin.wrong_results["cardsInfo"] = []
    tracemalloc.start()
    try:
        result = run(
            "exam", vault, "--since", "2025-04-01", "--via", "ankiconnect",
            "--ankiconnect-url", standin.url, "--no-cache",
        )  # fmt: skip
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1] == (
        "memo2anki: error: AnkiConnect's answer to 'cardsInfo' is not what the add-on answers: "
        "Expected `array` of length 500"
    )
    assert peak < 100 * 2**20, peak


@pytest.mark.parametrize(
    ("make", "reason"),
    NOTE_IDS_NOT_WHERE_THEY_SEEM.values(),
    ids=NOTE_IDS_NOT_WHERE_THEY_SEEM.keys(),
)
def test_note_ids_not_where_they_seem_are_never_opened_nor_written_through(
    vault: Path,
    standin: AnkiConnectStandIn,
    tmp_path: Path,
    make: Callable[[Path, Path], None],
    reason: str,
) -> None:
    """anki-note-ids.json is read as the ledger beside it is: only a regular file, not a
    link, of a size memo2anki writes, in a .memo2anki that is no link out of the vault (a
    FIFO there kept the sync waiting for ever, a link to /dev/zero filled the memory, the
    ids were read and written through links out of the vault). A warning names it, and the
    sync goes on finding notes by their fields."""
    assert sync(vault, standin)[0] == 0
    day = vault / "daily/2025-04-02.md"
    day.write_text(note(ETCD, "**Raft**\n합의 알고리즘"), encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    make(vault / ".memo2anki" / "anki-note-ids.json", outside)
    before = {p.relative_to(outside): p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    done = run_cli(
        "sync", vault, "--ankiconnect-url", standin.url, "--no-cache", max_memory=3 << 30
    )
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "anki-note-ids.json" in line]
    assert len(said) == 1 and f"Anki's note ids not used ({reason}" in said[0], done.stderr
    after = {p.relative_to(outside): p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    assert after == before  # nothing written out of the vault
    assert sorted(memo_notes(standin)) == sorted(["Docker Network", "CNI", "etcd", "Raft"])


# -- a picture gone while the sync runs --------------------------------------------------------


@pytest.mark.parametrize("how", PICTURE_GONE)
@pytest.mark.parametrize("when", ["in a new card", "lost from Anki", "in an edited card"])
def test_a_picture_gone_while_syncing_through_ankiconnect_is_named_and_the_rest_goes_in(
    vault: Path, standin: AnkiConnectStandIn, monkeypatch: pytest.MonkeyPatch, how: str, when: str
) -> None:
    col = standin.col
    assert col is not None
    (vault / "image").mkdir()  # (found by its name all the same, as Obsidian finds it)
    (vault / "etcd.png").rename(vault / "image/etcd.png")
    if when != "in a new card":
        assert sync(vault, standin)[0] == 0
        (image,) = re.findall(r'src="([^"]+)"', str(memo_notes(standin)["etcd"]["back"]))
        col.media.trash_files([image])
    if when == "in an edited card":
        (vault / "daily/2025-04-02.md").write_text(note(ETCD + "\n고침"), encoding="utf-8")
    real = cli_sync.run_sync

    def removed_meanwhile(*args: Any, **kwargs: Any) -> Any:
        PICTURE_GONE[how](vault / "image/etcd.png", vault)
        return real(*args, **kwargs)

    monkeypatch.setattr(cli_sync, "run_sync", removed_meanwhile)
    code, output = sync(vault, standin)
    assert code == 0, output
    assert (
        "image/etcd.png: image moved or deleted while the deck was written; left out of the deck"
        in output.splitlines()
    ), output
    assert "image added" not in output and "images added" not in output, output
    notes = memo_notes(standin)
    assert sorted(notes) == ["CNI", "Docker Network", "etcd"]
    assert ("고침" in str(notes["etcd"]["back"])) == (when == "in an edited card")
    assert not col.media.have(*re.findall(r'src="([^"]+)"', str(notes["etcd"]["back"])))


# -- a host name whose lookup never ends -------------------------------------------------------


@pytest.mark.parametrize(
    ("blocked", "said"),
    [
        (
            1,
            "AnkiConnect does not answer at {url} (the look-up of its host name did not end "
            "within 1 s)",
        ),
        (
            2,
            "cannot tell which profile Anki has open: cannot reach AnkiConnect at {url}: the "
            "look-up of its host name did not end within 5 s",
        ),
        (
            5,
            "cannot reach AnkiConnect at {url}: the look-up of its host name did not end "
            "within 1 s",
        ),
    ],
    ids=["the first look-up (version)", "the second (getActiveProfile)", "a later one"],
)
def test_a_host_name_whose_look_up_never_ends_is_within_the_time_bound(
    vault: Path,
    standin: AnkiConnectStandIn,
    monkeypatch: pytest.MonkeyPatch,
    blocked: int,
    said: str,
) -> None:
    """A DNS server that never answers: the look-up of the host name (``getaddrinfo``, which
    takes no time-out) is within the exchange's bound. A stand-in resolver answers for the
    name with the stand-in add-on's address, and waits for ever from look-up ``blocked`` on."""
    port = standin.url.rsplit(":", 1)[1]
    url = f"http://anki.example:{port}"
    real = socket.getaddrinfo
    looked_up = 0
    never = threading.Event()

    def resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal looked_up
        if host != "anki.example":
            return real(host, *args, **kwargs)
        looked_up += 1
        if looked_up >= blocked:
            never.wait()
        return real("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setattr("memo2anki.targets.ankiconnect.TIMEOUT", HOSTILE_TIMEOUT)
    outcome: list[Any] = []
    runner = threading.Thread(
        target=lambda: outcome.append(
            run("sync", vault, "--via", "ankiconnect", "--ankiconnect-url", url, "--no-cache")
        ),
        daemon=True,
    )
    try:
        runner.start()
        runner.join(30)  # (a bound on the test, not a measure of speed)
        assert not runner.is_alive(), "the sync waited on the look-up for ever"
    finally:
        never.set()  # (lets a look-up left waiting end)
    (result,) = outcome
    assert result.exit_code == 1, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("memo2anki: error:")]
    assert said.format(url=url) in line, line
    assert "unexpected" not in result.output


# -- a host name of several addresses ----------------------------------------------------------


@pytest.fixture
def unanswered() -> Iterator[tuple[str, int]]:
    """An address whose connections are never answered (a firewall dropping them): a
    listening socket whose queue is full, so the system answers no new one."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    queued = [socket.socket() for _ in range(3)]
    for sock in queued:
        sock.setblocking(False)
        sock.connect_ex(listener.getsockname())
    try:
        yield listener.getsockname()
    finally:
        for sock in [*queued, listener]:
            sock.close()


@pytest.fixture
def refusing() -> tuple[str, int]:
    """An address where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("addresses", "said"),
    [
        (["unanswered", "add-on"], None),
        (["refusing", "add-on"], None),
        (["unanswered", "refusing", "add-on"], None),
        (["unanswered"], "AnkiConnect does not answer at {url} (did not answer within 1 s"),
        (["add-on", "unanswered"], None),
        (["unanswered", "refusing"], "AnkiConnect does not answer at {url} (nothing listens there"),
    ],
    ids=lambda case: " then ".join(case) if isinstance(case, list) else "",
)
def test_a_host_name_of_several_addresses_is_reached_at_the_one_that_answers(
    vault: Path,
    standin: AnkiConnectStandIn,
    monkeypatch: pytest.MonkeyPatch,
    unanswered: tuple[str, int],
    refusing: tuple[str, int],
    addresses: list[str],
    said: str | None,
) -> None:
    """A name looked up to several addresses, the first never answering a connection: the
    next had its turn only once the whole exchange's time was up, the sync ending there."""
    host, port = standin.url.removeprefix("http://").rsplit(":", 1)
    at = {"unanswered": unanswered, "refusing": refusing, "add-on": (host, int(port))}
    real = socket.getaddrinfo

    def resolver(name: Any, *args: Any, **kwargs: Any) -> Any:
        if name != "anki.example":
            return real(name, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", at[a]) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setattr("memo2anki.targets.ankiconnect.TIMEOUT", HOSTILE_TIMEOUT)
    url = f"http://anki.example:{port}"
    result = run("sync", vault, "--via", "ankiconnect", "--ankiconnect-url", url, "--no-cache")
    if said is None:
        assert result.exit_code == 0, result.output
        assert sorted(memo_notes(standin)) == ["CNI", "Docker Network", "etcd"]
    else:
        assert result.exit_code == 1, result.output
        (line,) = [x for x in result.output.splitlines() if x.startswith("memo2anki: error:")]
        assert said.format(url=url) in line, line
        assert not memo_notes(standin)
    assert "unexpected" not in result.output


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("EAI_NONAME", "no such host (Name or service not known)"),
        (
            "EAI_AGAIN",
            "the look-up of its host name failed: Temporary failure in name resolution",
        ),
        ("EAI_FAIL", "the look-up of its host name failed: Non-recoverable failure in name res"),
    ],
)
def test_a_look_up_that_fails_says_whether_the_host_has_no_address_or_was_not_found_out(
    vault: Path, monkeypatch: pytest.MonkeyPatch, code: str, said: str
) -> None:
    """A DNS server down (a temporary failure) was told as 'no such host'."""
    real = socket.getaddrinfo
    error = getattr(socket, code)

    def resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "anki.example":
            return real(host, *args, **kwargs)
        raise socket.gaierror(error, _GAI_WORDS[code])

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    url = "http://anki.example:8765"
    result = run("sync", vault, "--via", "ankiconnect", "--ankiconnect-url", url, "--no-cache")
    assert result.exit_code == 1, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("memo2anki: error:")]
    assert f"AnkiConnect does not answer at {url} ({said}" in line, line
    assert "unexpected" not in result.output


# (as glibc words them)
_GAI_WORDS = {
    "EAI_NONAME": "Name or service not known",
    "EAI_AGAIN": "Temporary failure in name resolution",
    "EAI_FAIL": "Non-recoverable failure in name resolution",
}
