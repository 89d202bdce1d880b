"""`memo2anki exam`: a filtered deck of a range of memos, checked in real collections made with
Anki's library after a real sync (the collection way), and through the AnkiConnect stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from anki.scheduler.v3 import CardAnswer
from ankiconnect_standin import AnkiConnectStandIn
from helpers import Anki, run, write_vault

from memo2anki.changes.notes import MODEL_ID
from memo2anki.targets.exam import field_is_any

DOCKER = "**Docker Network**\nNone 설정하면 컨테이너 외부와 통신 불가능"
CNI = "**CNI**\n컨테이너 네트워크 인터페이스 표준"
VPC = "**VPC 서브넷**\n퍼블릭과 프라이빗 서브넷"
ETCD = "**etcd**\n클러스터 상태를 저장하는 분산 키값 저장소"
S3 = "**S3 스토리지 클래스**\nStandard, IA, Glacier"
POD = "**Pod**\n가장 작은 배포 단위"

RANGE = ("--since", "2025-04-02", "--until", "2025-04-05")
IN_RANGE = {"VPC 서브넷", "etcd", "S3 스토리지 클래스"}
NAME = "공부 메모장 · 시험 대비"


def note(**subjects: list[str]) -> str:
    body = "".join(
        f"## {s.replace('_', ' ')}\n" + "\n\n".join(c) + "\n\n" for s, c in subjects.items()
    )
    return f"# 오전\n- [x] 공부\n\n# 공부 메모장\n{body}"


def vault_files() -> dict[str, str | bytes]:
    return {
        "daily/2025-04-01.md": note(CKA=[DOCKER, CNI]),
        "daily/2025-04-02.md": note(AWS_SAA=[VPC]),
        "daily/2025-04-05.md": note(CKA=[ETCD], AWS_SAA=[S3]),
        "daily/2025-04-09.md": note(CKA=[POD]),
    }


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(tmp_path / "vault", vault_files())


@pytest.fixture
def col_path(tmp_path: Path, vault: Path) -> Path:
    """A person's collection with a note of their own, after a first sync of the vault."""
    anki = Anki(tmp_path / "profile")
    own = anki.col.new_note(anki.col.models.by_name("Basic"))
    own["Front"], own["Back"] = "my own card", "kept as it is"
    anki.col.add_note(own, anki.col.decks.id("Default"))
    anki.close()
    path = tmp_path / "profile" / "collection.anki2"
    result = run("sync", vault, "--collection", path, "--no-cache")
    assert result.exit_code == 0, result.output
    return path


def exam(vault: Path, *args: str | Path) -> tuple[int, str]:
    result = run("exam", vault, "--no-cache", *args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def look(path: Path) -> Collection:
    return Collection(str(path))


def deck_fronts(col: Collection, name: str) -> list[str]:
    """The fronts of a deck's cards, in the deck's order (its cards' due positions)."""
    did = col.decks.id_for_name(name)
    assert did is not None
    cards = [col.get_card(c) for c in col.find_cards(f"did:{did}")]
    return [c.note()["Front"] for c in sorted(cards, key=lambda c: c.due)]


def everything(col: Collection) -> dict[str, Any]:
    """What must not change outside the exam deck: decks by name and id, the schema mark,
    and every card outside it (home deck, due, interval, queue, type) and note."""
    did = col.decks.id_for_name(NAME)
    cards = {
        cid: (c.odid or c.did, c.odue or c.due, c.ivl, c.type, c.reps)
        for cid in col.find_cards("")
        if (c := col.get_card(cid))
    }
    notes = {
        nid: (n.guid, n.mod, tuple(n.fields))
        for nid in col.find_notes("")
        if (n := col.get_note(nid))
    }
    decks = {d.name: d.id for d in col.decks.all_names_and_ids() if d.id != did}
    return {
        "decks": decks,
        "scm": col.db.scalar("select scm from col"),
        "cards": cards,
        "notes": notes,
    }


def test_the_deck_holds_exactly_the_range_oldest_note_first_and_nothing_else_changes(
    vault: Path, col_path: Path
) -> None:
    col = look(col_path)
    # The person moved one card of the range to a deck of their own.
    etcd = col.find_cards('"Front:etcd"')
    col.set_deck(etcd, col.decks.id("내 복습"))
    before = everything(col)
    col.close()

    code, output = exam(vault, "--collection", col_path, *RANGE)
    assert code == 0, output
    assert f"filtered deck '{NAME}' made in {col_path}: 3 cards (AWS SAA 2, CKA 1)" in output
    assert f"click '{NAME}'" in output and "count as reviews" in output
    backup = Path(output.split("; backup: ")[1].splitlines()[0])
    assert backup.parent == col_path.parent / "backups" and backup.suffix == ".colpkg"
    assert backup.is_file()

    col = look(col_path)
    try:
        assert deck_fronts(col, NAME) == ["VPC 서브넷", "etcd", "S3 스토리지 클래스"]
        deck = col.decks.by_name(NAME)
        assert deck["dyn"] and deck["resched"]
        # Anki's own Rebuild finds the same cards: the search is kept with the deck.
        col.sched.rebuild_filtered_deck(deck["id"])
        assert deck_fronts(col, NAME) == ["VPC 서브넷", "etcd", "S3 스토리지 클래스"]
        # Every card outside the deck, every note, every other deck and the schema mark as
        # they were; the cards in it still know their home deck (etcd: the person's own).
        assert everything(col) == before
        (card,) = [col.get_card(c) for c in etcd]
        assert card.odid == col.decks.id_for_name("내 복습")
    finally:
        col.close()


def test_cloze_cards_of_those_memos_come_too(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "vault",
        {
            "daily/2025-04-01.md": note(CKA=["**Pod**\n가장 ==작은== 단위"]),
            "daily/2025-04-03.md": note(CKA=["**etcd**\n==분산== ==키값== 저장소", CNI]),
        },
    )
    Anki(tmp_path / "profile").close()
    col_path = tmp_path / "profile" / "collection.anki2"
    assert run("sync", vault, "--collection", col_path, "--no-cache", "--cloze").exit_code == 0
    code, output = exam(vault, "--collection", col_path, "--since", "2025-04-02")
    assert code == 0, output
    assert "4 cards (CKA 4)" in output  # etcd, its two cloze cards, CNI
    col = look(col_path)
    try:
        types = sorted(
            col.get_card(c).note_type()["name"]
            for c in col.find_cards(f"did:{col.decks.id_for_name(NAME)}")
        )
        assert types == ["memo2anki", "memo2anki", "memo2anki cloze", "memo2anki cloze"]
    finally:
        col.close()


def test_subject_keeps_only_its_cards(vault: Path, col_path: Path) -> None:
    code, output = exam(vault, "--collection", col_path, *RANGE, "--subject", "aws saa")
    assert code == 0, output
    assert "2 cards (AWS SAA 2)" in output
    col = look(col_path)
    try:
        assert deck_fronts(col, NAME) == ["VPC 서브넷", "S3 스토리지 클래스"]
        col.sched.rebuild_filtered_deck(col.decks.id_for_name(NAME))
        assert deck_fronts(col, NAME) == ["VPC 서브넷", "S3 스토리지 클래스"]
    finally:
        col.close()


def test_running_again_replaces_the_deck_and_sends_the_old_cards_home(
    vault: Path, col_path: Path
) -> None:
    exam(vault, "--collection", col_path, *RANGE)
    col = look(col_path)
    first_id = col.decks.id_for_name(NAME)
    col.close()
    code, output = exam(vault, "--collection", col_path, "--since", "2025-04-05", "--no-backup")
    assert code == 0, output
    assert f"filtered deck '{NAME}' made again" in output and "backup" not in output
    col = look(col_path)
    try:
        assert col.decks.id_for_name(NAME) == first_id
        assert deck_fronts(col, NAME) == ["etcd", "S3 스토리지 클래스", "Pod"]
        (vpc,) = col.find_cards('"Front:VPC 서브넷"')
        card = col.get_card(vpc)
        assert col.decks.name(card.did) == "공부 메모장::AWS SAA" and card.odid == 0
        assert col.decks.by_name(NAME)["resched"]  # reviews count by default
    finally:
        col.close()


def answer(col: Collection, name: str, count: int) -> None:
    col.decks.select(col.decks.id_for_name(name))
    for _ in range(count):
        card = col.sched.getCard()
        assert card is not None
        states = col._backend.get_scheduling_states(card.id)
        col.sched.answer_card(
            col.sched.build_answer(card=card, states=states, rating=CardAnswer.AGAIN)
        )


@pytest.mark.parametrize("reschedule", [False, True])
def test_no_reschedule_leaves_every_schedule_as_it_was(
    vault: Path, col_path: Path, reschedule: bool
) -> None:
    col = look(col_path)
    anki = Anki.__new__(Anki)
    anki.col = col
    anki.answer_all("공부 메모장")  # every card a review card with an interval
    schedule = {
        c: (x.due, x.ivl, x.type, x.queue, x.lapses)
        for c in col.find_cards("")
        if (x := col.get_card(c))
    }
    col.close()

    args = () if reschedule else ("--no-reschedule",)
    code, output = exam(vault, "--collection", col_path, *RANGE, *args)
    assert code == 0, output
    assert ("a cram" in output) != reschedule
    col = look(col_path)
    try:
        # Anki shows them oldest note first (all are review cards here).
        col.decks.select(col.decks.id_for_name(NAME))
        queued = col.sched.get_queued_cards(fetch_limit=10).cards
        assert [col.get_card(q.card.id).note()["Front"] for q in queued] == [
            "VPC 서브넷",
            "etcd",
            "S3 스토리지 클래스",
        ]
        answer(col, NAME, 3)
        col.sched.empty_filtered_deck(col.decks.id_for_name(NAME))
        after = {
            c: (x.due, x.ivl, x.type, x.queue, x.lapses)
            for c in col.find_cards("")
            if (x := col.get_card(c))
        }
        changed = {c for c in schedule if schedule[c] != after[c]}
        # A cram leaves all as it was; with reviews (the default) the three forgotten lapse.
        assert len(changed) == (3 if reschedule else 0)
    finally:
        col.close()


def test_cards_not_synced_gone_or_in_another_filtered_deck_are_named(
    vault: Path, col_path: Path
) -> None:
    col = look(col_path)
    (vpc,) = col.find_cards('"Front:VPC 서브넷"')
    other = col.sched.get_or_create_filtered_deck(0)
    other.name = "내 필터"
    other.config.search_terms[0].search = f"cid:{vpc}"
    del other.config.search_terms[1:]
    col.sched.add_or_update_filtered_deck(other)
    col.close()
    # A new memo not synced yet, and one memo gone (synced: suspended and tagged gone).
    (vault / "daily/2025-04-05.md").write_text(note(CKA=["**Service**\n새 메모"], AWS_SAA=[S3]))
    assert run("sync", vault, "--collection", col_path, "--no-cache").exit_code == 0
    (vault / "daily/2025-04-02.md").write_text(note(AWS_SAA=[VPC, "**IAM**\n아직 동기화 안 함"]))

    code, output = exam(vault, "--collection", col_path, *RANGE)
    assert code == 0, output
    assert "1 card of these memos is not in Anki yet" in output
    assert "'IAM' (daily/2025-04-02.md:" in output and "run memo2anki sync first" in output
    assert "1 card left in another filtered deck ('내 필터'): 'VPC 서브넷'" in output
    col = look(col_path)
    try:
        # etcd is gone (suspended): out of the deck, and not named as missing.
        # (Service was added to Anki after S3: "Order added" puts it after.)
        assert deck_fronts(col, NAME) == ["S3 스토리지 클래스", "Service"]
        assert "etcd" not in output
    finally:
        col.close()


def test_a_deck_of_their_own_by_that_name_is_left_alone(vault: Path, col_path: Path) -> None:
    col = look(col_path)
    col.decks.id(NAME)
    before = everything(col)
    col.close()
    code, output = exam(vault, "--collection", col_path, *RANGE)
    assert code == 1
    assert f"'{NAME}' is a deck of your own, not a filtered deck; nothing changed" in output
    col = look(col_path)
    try:
        assert everything(col) == before
    finally:
        col.close()


def test_a_name_under_a_filtered_deck_is_refused_and_nothing_changes(
    vault: Path, col_path: Path
) -> None:
    # Anki nests no deck in a filtered one: said as that, not as cards missing.
    col = look(col_path)
    mine = col.sched.get_or_create_filtered_deck(0)
    mine.name = "Mine"
    mine.config.search_terms[0].search = "deck:Default"
    col.sched.add_or_update_filtered_deck(mine)
    before = everything(col)
    col.close()
    code, output = exam(vault, "--collection", col_path, *RANGE, "--name", "Mine::child")
    assert code == 1
    assert output.splitlines()[-1] == (
        "memo2anki: error: 'Mine' is a filtered deck, and Anki puts no deck in one; nothing "
        "changed (give the exam deck another name with --name)"
    )
    col = look(col_path)
    try:
        assert everything(col) == before
    finally:
        col.close()


def test_a_filtered_deck_of_their_own_by_that_name_is_left_alone(
    vault: Path, col_path: Path
) -> None:
    # Only a filtered deck whose search memo2anki made is made again: not the person's own,
    # whatever the case of its name.
    col = look(col_path)
    mine = col.sched.get_or_create_filtered_deck(0)
    mine.name = "Mine"
    mine.config.search_terms[0].search = "deck:Default"
    col.sched.add_or_update_filtered_deck(mine)
    before = everything(col)
    col.close()
    code, output = exam(vault, "--collection", col_path, *RANGE, "--name", "mine")
    assert code == 1
    assert output.splitlines()[-1] == (
        "memo2anki: error: 'Mine' is a filtered deck of your own (its search is not one "
        "memo2anki made); nothing changed (give the exam deck another name with --name)"
    )
    col = look(col_path)
    try:
        assert everything(col) == before
    finally:
        col.close()


@pytest.mark.parametrize("result", [None, 5, [None], [{"fields": 1}]])
def test_a_wrong_answer_to_cards_info_is_one_line(
    vault: Path, col_path: Path, result: object
) -> None:
    with AnkiConnectStandIn(col_path) as server:
        server.wrong_results["cardsInfo"] = result
        code, output = exam(vault, "--ankiconnect-url", server.url, *RANGE)
    assert code == 1
    assert "AnkiConnect's answer to 'cardsInfo' is not what the add-on answers" in output
    assert "unexpected" not in output and "Traceback" not in output


def test_the_name_comes_from_name_the_settings_or_the_top_deck(vault: Path, col_path: Path) -> None:
    def name_of(*args: str) -> str:
        result = run("exam", vault, "--no-cache", *RANGE, "--print-search", *args)
        assert result.exit_code == 0, result.output
        return result.stderr.split(", name '")[1].split("', Limit")[0]

    assert name_of() == NAME
    assert name_of("--deck", "CKA 준비") == "CKA 준비 · 시험 대비"
    (vault / ".memo2anki.toml").write_text('deck = "자격증"\n')
    assert name_of() == "자격증 · 시험 대비"
    (vault / ".memo2anki.toml").write_text('deck = "자격증"\nexam_name = "시험 D-7"\n')
    assert name_of() == "시험 D-7"
    assert name_of("--name", "마지막 :: 점검") == "마지막::점검"
    code, output = exam(vault, "--collection", col_path, *RANGE)
    assert code == 0 and "filtered deck '시험 D-7' made" in output
    # Under another name, its cards are still in that deck: said, and nothing changed.
    code, output = exam(vault, "--collection", col_path, *RANGE, "--name", "마지막 점검")
    assert code == 1
    assert "no card of these memos can go in the deck '마지막 점검'" in output
    assert "3 in another filtered deck ('시험 D-7': empty it first); nothing changed" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "which memos? give a range"),
        ((*RANGE, "--name", "a::"), "empty part"),
        ((*RANGE, "--profile", "x", "--collection", "c.anki2"), "not both"),
    ],
)
def test_bad_usage(vault: Path, args: tuple[str, ...], message: str) -> None:
    code, output = exam(vault, *args)
    assert code == 2 and message in output


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("exam_name = 7", "'exam_name' must be a non-empty string"),
        ('exam_name = "a::"', ".memo2anki.toml:1: exam_name: 'a::' has an empty part"),
    ],
)
def test_a_bad_exam_name_setting_is_bad_usage(vault: Path, setting: str, message: str) -> None:
    (vault / ".memo2anki.toml").write_text(setting + "\n")
    code, output = exam(vault, *RANGE, "--print-search")
    assert code == 2 and message in output


def test_print_search_prints_the_search_and_touches_nothing(vault: Path, col_path: Path) -> None:
    before = col_path.read_bytes()
    result = run("exam", vault, "--no-cache", *RANGE, "--print-search", "--collection", col_path)
    assert result.exit_code == 0, result.output
    search = result.stdout.strip()
    assert "\n" not in search and result.stdout.count(search) == 1
    assert "Tools > Create Filtered Deck... (F), paste the search" in result.stderr
    assert "order 'Order added'" in result.stderr
    assert col_path.read_bytes() == before
    col = look(col_path)
    try:
        fronts = {col.get_note(col.get_card(c).nid)["Front"] for c in col.find_cards(search)}
        assert fronts == IN_RANGE
    finally:
        col.close()


def test_the_ankiconnect_way_opens_the_browser_on_the_same_search(
    vault: Path, col_path: Path
) -> None:
    printed = run("exam", vault, "--no-cache", *RANGE, "--print-search").stdout.strip()
    (vault / "daily/2025-04-02.md").write_text(note(AWS_SAA=[VPC, "**IAM**\n아직 동기화 안 함"]))
    with AnkiConnectStandIn(col_path) as server:
        code, output = exam(vault, "--ankiconnect-url", server.url, *RANGE)
        assert code == 0, output
        assert server.browsed == [printed]
        fronts = {
            server.col.get_note(server.col.get_card(c).nid)["Front"]
            for c in server.col.find_cards(printed)
        }
        assert fronts == IN_RANGE
        # Nothing is made: AnkiConnect cannot make filtered decks.
        assert server.col.decks.by_name(NAME) is None
    assert "Anki's browser shows the deck's search: 3 cards (AWS SAA 2, CKA 1)" in output
    assert "in the browser: Edit > Create Filtered Deck... (Ctrl+G" in output
    assert "'IAM' (daily/2025-04-02.md:" in output and "not in Anki yet" in output


# File names whose Source field a search must match exactly, each beside a name that a
# wrong escape would also match (Anki's wildcards, its escapes and operators, regex syntax).
NAMES = [
    ("a_b.md", "axb.md"),
    ("a*.md", "abc.md"),
    ("c.d.md", "cxd.md"),
    ("back\\slash.md", "back\\\\slash.md"),
    ('say "hi".md', "say hi.md"),
    ('end\\"quote.md', 'end"quote.md'),
    ("re:x.md", "rex.md"),
    ("my note (1).md", "my note 1.md"),
    ("[x]{2}+?.md", "xx.md"),
    ("a|b.md", "b.md"),
    ("^$#&-~.md", "x.md"),
    ("한글 노트:2025.md", "한글 노트 2025.md"),
    ("Q&A.md", "Q&amp;A.md"),
    ("-x or y.md", "x or y.md"),
    ("100%.md", "1000.md"),
    # White space Anki's search parser reads as a plain space (a Korean IME's U+3000).
    ("CKA\u3000정리.md", "CKA 정리.md"),
    ("no\u00a0break.md", "no break.md"),
    ("a\ttab.md", "a tab.md"),
]


@pytest.fixture(scope="module")
def names_col(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Collection, dict[str, Any]]]:
    """A collection synced from a vault of all those names: memo2anki's notes by file name."""
    tmp = tmp_path_factory.mktemp("names")
    names = [n for pair in NAMES for n in pair]
    assert len(set(names)) == len(names)
    files: dict[str, str | bytes] = {
        f"notes/{n}": note(CKA=[f"**card{i}**\n뒷면"]) for i, n in enumerate(names)
    }
    vault = write_vault(tmp / "vault", files)
    Anki(tmp / "profile").close()
    col_path = tmp / "profile" / "collection.anki2"
    result = run("sync", vault, "--collection", col_path, "--no-cache")
    assert result.exit_code == 0, result.output
    col = look(col_path)
    by_front = {
        col.get_note(n)["Front"]: col.get_note(n) for n in col.find_notes(f"mid:{MODEL_ID}")
    }
    yield col, {name: by_front[f"card{i}"] for i, name in enumerate(names)}
    col.close()


@pytest.mark.parametrize(("name", "decoy"), NAMES)
def test_a_source_term_matches_exactly_its_notes(
    names_col: tuple[Collection, dict[str, Any]], name: str, decoy: str
) -> None:
    col, notes = names_col
    assert col.find_notes(field_is_any("Source", [notes[name]["Source"]])) == [notes[name].id]
    both = field_is_any("Source", [notes[name]["Source"], notes[decoy]["Source"]])
    assert sorted(col.find_notes(both)) == sorted([notes[name].id, notes[decoy].id])


def test_a_source_term_of_thousands_of_notes_is_one_search(
    names_col: tuple[Collection, dict[str, Any]],
) -> None:
    """Anki makes SQL of a search, and SQLite refuses an OR of a thousand terms."""
    col, notes = names_col
    many = [f"daily/{i}.md" for i in range(5000)] + [notes["a_b.md"]["Source"]]
    assert col.find_notes(field_is_any("Source", many)) == [notes["a_b.md"].id]
