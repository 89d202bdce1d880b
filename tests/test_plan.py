"""The change plan: which card of the last export each card of this one is, table-driven."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from memo2anki.cards.identity import card_guid, row_key
from memo2anki.changes import ledger as ledger_file
from memo2anki.changes.ledger import GONE, LAST_STAMP, Ledger
from memo2anki.changes.plan import (
    BACK_SIMILAR,
    GONE_TAG,
    Kind,
    Layout,
    Plan,
    Scope,
    digest,
    plain_text,
    plan_changes,
    similarity,
)
from memo2anki.model import Card

LAYOUT = Layout("공부 메모장", "vault")
T0, T1 = 1_700_000_000, 1_700_100_000


def card(
    front: str,
    back: str,
    note: str = "daily/2025-04-01.md",
    subject: str = "CKA",
    ordinal: int = 0,
    line: int = 7,
) -> Card:
    made = Card(
        note=note,
        subject=subject,
        front=front,
        front_html=front,
        back_markdown=back,
        line=line,
        back_line=line + 1,
        date=dt.date(2025, 4, 1),
        tags=(subject,),
        ordinal=ordinal,
        back_html=f"<p>{back}</p>",
        mtime=T0 - 100,
    )
    return made


def replan(before: list[Card], after: list[Card]) -> tuple[Plan, Plan]:
    first = plan_changes(before, Ledger("vault"), Scope(), T0, LAYOUT)
    return first, plan_changes(after, first.ledger, Scope(), T1, LAYOUT)


def outcome(before: list[Card], after: list[Card]) -> list[tuple[str, str, str]]:
    """Per change: (kind, front now or before, the front of the old card whose GUID it has)."""
    first, second = replan(before, after)
    old = {c.guid: c.now.front for c in first.changes if c.now}
    return sorted(
        (
            str(c.kind),
            (c.now or c.before).front,  # type: ignore[union-attr]
            old.get(c.guid, "-"),
        )
        for c in second.changes
    )


CNI = "컨테이너 네트워크 인터페이스 표준. 플러그인이 파드에 IP를 주고 노드 사이 경로를 만든다"
ROUTE53 = "단순, 가중치, 지연 시간, 장애 조치, 지리 위치 라우팅 정책이 있다"
POD = "쿠버네티스에서 만들고 관리할 수 있는 가장 작은 배포 단위"
SERVICE = "파드 집합에 고정된 가상 IP와 DNS 이름을 준다. 타입은 ClusterIP, NodePort, LoadBalancer"

CASES = {
    "heading edited, back the same": (
        [card("CNI", CNI)],
        [card("CNI (Container Network Interface)", CNI)],
        [("renamed", "CNI (Container Network Interface)", "CNI")],
    ),
    "heading edited, back reworded a little (Korean endings)": (
        [card("CNI", CNI)],
        [
            card(
                "CNI 플러그인",
                "컨테이너 네트워크 인터페이스 표준이다. 플러그인이 파드에 IP를 부여하고 노드 사이 "
                "경로를 만들어 준다",
            )
        ],
        [("renamed", "CNI 플러그인", "CNI")],
    ),
    "heading edited, a line added to the back": (
        [card("Route 53", ROUTE53)],
        [card("Route 53 라우팅 정책", ROUTE53 + "<br>다중값 응답 정책도 있다")],
        [("renamed", "Route 53 라우팅 정책", "Route 53")],
    ),
    "body rewritten, heading the same: the same card, updated": (
        [card("Pod", POD)],
        [card("Pod", "컨테이너 하나 이상을 묶은 것. 네트워크와 저장소를 함께 쓴다")],
        [("updated", "Pod", "Pod")],
    ),
    "heading and body both rewritten: a new card and a gone one": (
        [card("Pod", POD)],
        [card("Deployment", "레플리카셋을 관리하며 롤링 업데이트를 한다")],
        [("gone", "Pod", "Pod"), ("new", "Deployment", "-")],
    ),
    "moved to another note": (
        [card("Service", SERVICE)],
        [card("Service", SERVICE, note="daily/2025-04-09.md")],
        [("moved", "Service", "Service")],
    ),
    "moved to another note, heading touched up": (
        [card("Route 53 라우팅 정책", ROUTE53)],
        [card("Route 53 라우팅 정책들", ROUTE53, note="2025-04-09.md")],
        [("moved", "Route 53 라우팅 정책들", "Route 53 라우팅 정책")],
    ),
    "moved to another subject": (
        [card("Service", SERVICE)],
        [card("Service", SERVICE, subject="Kubernetes")],
        [("moved", "Service", "Service")],
    ),
    "moved to another note with a new heading: not the same card": (
        [card("Service", SERVICE)],
        [card("ClusterIP", SERVICE, note="2025-04-09.md")],
        [("gone", "Service", "Service"), ("new", "ClusterIP", "-")],
    ),
    "the same front in another note, another back: never paired": (
        [card("정리", "오늘 배운 것: 파드와 서비스")],
        [card("정리", "오늘 배운 것: IAM 정책과 역할의 차이", note="2025-04-09.md")],
        [("gone", "정리", "정리"), ("new", "정리", "-")],
    ),
    "two cards with one front, the first deleted: the second keeps its GUID": (
        [card("Pod", POD), card("Pod", "파드는 IP를 하나 받고 컨테이너들이 공유한다", ordinal=1)],
        [card("Pod", "파드는 IP를 하나 받고 컨테이너들이 공유한다")],
        [("gone", "Pod", "Pod"), ("unchanged", "Pod", "Pod")],
    ),
    "two cards with one front, both rewritten: kept by their order": (
        [card("Pod", POD), card("Pod", SERVICE, ordinal=1)],
        [card("Pod", "전혀 다른 설명 하나"), card("Pod", "완전히 새로 쓴 둘째 설명", ordinal=1)],
        [("updated", "Pod", "Pod"), ("updated", "Pod", "Pod")],
    ),
    "one gone card, two look-alikes: only the closer one is paired": (
        [card("CNI", CNI)],
        [card("CNI 개요", CNI), card("CNI 정리", CNI + " 그리고 정책도 적용한다")],
        [("new", "CNI 정리", "-"), ("renamed", "CNI 개요", "CNI")],
    ),
    "a card still there is never paired again": (
        [card("CNI", CNI)],
        [card("CNI", CNI), card("CNI 복습", CNI)],
        [("new", "CNI 복습", "-"), ("unchanged", "CNI", "CNI")],
    ),
    "another card of the same topic is not a rename": (
        [card("ClusterIP", "클러스터 안에서만 닿는 가상 IP를 서비스에 준다")],
        [card("NodePort", "모든 노드의 같은 포트를 열어 서비스로 보낸다")],
        [("gone", "ClusterIP", "ClusterIP"), ("new", "NodePort", "-")],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_pairing(case: tuple[list[Card], list[Card], list[tuple[str, str, str]]]) -> None:
    before, after, expected = case
    assert outcome(before, after) == sorted(expected)


PIC_A = '<img src="m2a-3fd6a1b2c3d4e5f60718.png" alt="">'
PIC_B = '<img src="m2a-9c0d1e2f3a4b5c6d7e8f.png" alt="">'
SIMILAR = {
    # (old back, new back, much the same?)
    "the same text": (CNI, CNI, True),
    "an ending reworded": ("파드에 IP를 준다", "파드에 IP를 부여한다", True),
    "a sentence added": (ROUTE53, ROUTE53 + " 다중값 응답도 있다.", True),
    "lines reordered": ("A 레코드\nCNAME 레코드\nAlias", "Alias\nA 레코드\nCNAME 레코드", True),
    "typos fixed": ("쿠버네티스 컨트롤 플래인", "쿠버네티스 컨트롤 플레인", True),
    "half rewritten": (POD, "쿠버네티스에서 배포 단위. 컨테이너 묶음", False),
    "same topic, another fact": ("ClusterIP는 내부 전용", "NodePort는 노드 포트를 연다", False),
    "a short line, its picture replaced": (
        f"bridge host none{PIC_A}",
        f"bridge host none{PIC_B}",
        True,
    ),
    "a short line, a picture added": ("bridge host none", f"bridge host none{PIC_A}", True),
    "a picture alone, the same": (PIC_A, PIC_A, True),
    "a picture alone, another": (PIC_A, PIC_B, False),
    "English, reworded": (
        "Stores cluster state as key-value pairs",
        "Stores the cluster state as key-value pairs, replicated with Raft",
        True,
    ),
}


@pytest.mark.parametrize("case", SIMILAR.values(), ids=SIMILAR.keys())
def test_much_the_same(case: tuple[str, str, bool]) -> None:
    old, new, same = case
    assert (similarity(plain_text(old), plain_text(new)) >= BACK_SIMILAR) is same


def test_plain_text_sees_images_and_not_markup() -> None:
    text = plain_text(f"<p><b>A</b>&amp;B<br>{PIC_A}</p>")
    assert text[:5] == "a &b " and len(text) == 6 and unicodedata.category(text[5]) == "Co"
    assert plain_text(PIC_A) == plain_text(PIC_A) != plain_text(PIC_B)


def test_a_paired_card_keeps_the_old_guid_in_every_later_export() -> None:
    first, second = replan([card("CNI", CNI)], [card("CNI (Container Network Interface)", CNI)])
    third = plan_changes(
        [card("CNI (Container Network Interface)", CNI)], second.ledger, Scope(), T1 + 50, LAYOUT
    )
    (change,) = third.changes
    assert change.kind is Kind.UNCHANGED and change.guid == first.changes[0].guid
    # The old front's GUID is taken: a new card of that front gets another.
    fourth = plan_changes(
        [card("CNI (Container Network Interface)", CNI), card("CNI", "새 카드")],
        third.ledger,
        Scope(),
        T1 + 60,
        LAYOUT,
    )
    assert [c.kind for c in fourth.changes] == [Kind.UNCHANGED, Kind.NEW]
    assert len({c.guid for c in fourth.changes}) == 2


def test_stamps_follow_the_content() -> None:
    pod, cni = card("Pod", POD), card("CNI", CNI)
    first, second = replan([pod, cni], [replace(pod, mtime=T1 + 5), replace(cni, back_html="x")])
    stamps = {c.now.front: c.notes[0].mtime for c in second.changes if c.now}
    # No ledger row: the run's time, not the file's (older than a note Anki may hold).
    assert [n.mtime for c in first.changes for n in c.notes] == [T0, T0]
    assert stamps == {"Pod": T0, "CNI": T1}  # saved again unchanged: the old stamp
    # An older file restored over a newer one still gets a newer stamp than last time.
    third = plan_changes([replace(cni, mtime=1)], second.ledger, Scope(), T0, LAYOUT)
    kinds = {c.kind: c for c in third.changes}
    assert kinds.keys() == {Kind.UPDATED, Kind.GONE}  # the CNI card back as it was; Pod gone
    assert kinds[Kind.UPDATED].notes[0].mtime == T1 + 1


def test_a_move_of_deck_only_keeps_the_stamp_and_a_new_subject_gets_a_new_one() -> None:
    """A sync writes a card whose stamp is new over an edit made in Anki: a new top deck
    changes none of its fields (the old stamp), a new subject its Subject field (a new one),
    though its tag stays ('Kubernetes Basics' and 'Kubernetes_Basics' are one tag)."""
    pod = card("Pod", POD)
    cni = replace(
        card("CNI", CNI, subject="Kubernetes Basics", line=9), tags=("Kubernetes_Basics",)
    )
    first = plan_changes([pod, cni], Ledger("vault"), Scope(), T0, LAYOUT)
    renamed = replace(cni, subject="Kubernetes_Basics")
    second = plan_changes([pod, renamed], first.ledger, Scope(), T1, Layout("CKA Deck", "vault"))
    moved = {c.now.front: (c.kind, c.notes[0].mtime) for c in second.changes if c.now}
    assert moved == {"Pod": (Kind.MOVED, T0), "CNI": (Kind.MOVED, T1)}


def test_subjects_that_differ_only_in_case_share_one_deck_spelled_as_anki_has_it() -> None:
    # Anki's deck names are one deck whatever their case (a second spelling is imported as a
    # deck of its own, named with a "_"): the ledger's spelling, else this run's first.
    pod, svc = card("Pod", POD, subject="cka"), card("Svc", "서비스", subject="CKA", line=9)
    first = plan_changes([pod, svc], Ledger("vault"), Scope(), T0, LAYOUT)
    assert {n.deck for c in first.changes for n in c.notes} == {"공부 메모장::cka"}
    again = plan_changes(
        [replace(pod, subject="CKA"), svc, card("New", "새", subject="Cka", line=11)],
        first.ledger,
        Scope(),
        T1,
        LAYOUT,
    )
    assert {n.deck for c in again.changes for n in c.notes} == {"공부 메모장::cka"}
    assert Kind.MOVED not in {c.kind for c in again.changes}


def test_a_time_at_the_ledgers_last_second_stays_there(tmp_path: Path) -> None:
    # A ledger may hold the last time a ledger can: an edit after it cannot go past it, or
    # the file could not hold the row written. (One read from a file never does: a time
    # later than now is a damaged row there.)
    pod = card("Pod", POD)
    first = plan_changes([pod], Ledger(), Scope(), T0, LAYOUT)
    ledger = replace(first.ledger, cards=[c._replace(stamp=LAST_STAMP) for c in first.ledger.cards])
    edited = plan_changes([replace(pod, back_html="x")], ledger, Scope(), T1, LAYOUT)
    (change,) = edited.changes
    assert change.kind is Kind.UPDATED and change.notes[0].mtime == LAST_STAMP
    assert ledger_file.save(tmp_path, replace(edited.ledger, vault="v"), None) == []
    again, warnings = ledger_file.load(tmp_path, "v")
    assert again.cards == () and [str(w).split(";")[0] for w in warnings] == [
        ".memo2anki/ledger.json:2: card not used (stamp: 9999-12-31 23:59:59 UTC, later than now)"
    ]


def test_a_gone_card_is_carried_once_tagged_then_left_out() -> None:
    pod, cni = card("Pod", POD), card("CNI", CNI)
    _, second = replan([pod, cni], [pod])
    gone = [c for c in second.changes if c.kind is Kind.GONE]
    assert len(gone) == 1 and gone[0].before and gone[0].before.front == "CNI"
    (note,) = gone[0].notes
    assert note.tags == ("CKA", GONE_TAG) and note.fields[:2] == ("CNI", f"<p>{CNI}</p>")
    assert note.mtime == T1
    third = plan_changes([pod], second.ledger, Scope(), T1 + 10, LAYOUT)
    assert [c.kind for c in third.changes] == [Kind.UNCHANGED]
    assert [e.state for e in third.ledger.cards if e.front == "CNI"] == [GONE]
    back = plan_changes([pod, cni], third.ledger, Scope(), T1 + 20, LAYOUT)
    returned = [c for c in back.changes if c.kind is Kind.RETURNED]
    assert len(returned) == 1 and returned[0].notes[0].tags == ("CKA",)
    assert returned[0].notes[0].mtime == T1 + 20


def test_leave_out_gone() -> None:
    pod, cni = card("Pod", POD), card("CNI", CNI)
    first = plan_changes([pod, cni], Ledger("vault"), Scope(), T0, LAYOUT)
    quiet = replace(LAYOUT, leave_out_gone=True)
    second = plan_changes([pod], first.ledger, Scope(), T1, quiet)
    assert [(c.kind, len(c.notes)) for c in second.changes] == [(Kind.UNCHANGED, 1), (Kind.GONE, 0)]


SCOPES = {
    "another subject": (Scope(subjects=("aws",)), "daily/2025-04-01.md", "CKA", False),
    "the subject given": (Scope(subjects=("cka",)), "daily/2025-04-01.md", "CKA", True),
    "a folder given": (Scope(paths=("daily/",)), "daily/2025-04-01.md", "CKA", True),
    "another folder": (Scope(paths=("2024/",)), "daily/2025-04-01.md", "CKA", False),
    "the note given": (Scope(paths=("daily/2025-04-01.md",)), "daily/2025-04-01.md", "CKA", True),
    "a date range": (Scope(since=dt.date(2025, 4, 2)), "daily/2025-04-01.md", "CKA", False),
}


@pytest.mark.parametrize("case", SCOPES.values(), ids=SCOPES.keys())
def test_cards_out_of_scope_are_carried_not_gone(case: tuple[Scope, str, str, bool]) -> None:
    scope, note, subject, covered = case
    first = plan_changes(
        [card("Pod", POD, note=note, subject=subject)], Ledger("v"), Scope(), T0, LAYOUT
    )
    second = plan_changes([], first.ledger, scope, T1, LAYOUT)
    assert [c.kind for c in second.changes] == ([Kind.GONE] if covered else [])
    assert second.filtered == (0 if covered else 1)
    assert [e.state for e in second.ledger.cards] == ([GONE] if covered else ["live"])


# A card that left the run's reach during it: (the run's scope, the card where it is now,
# whether the run retires it). The scope's beyond and moved_out are what plan_build found
# (targets.build.out_of_reach): the cards the run leaves out of the notes it read, and the
# notes not where the ledger says but in the vault outside the PATHs.
CKA_ONLY = Scope(subjects=("cka",))
DAILY = Scope(paths=("daily/",))
LEFT = {
    "moved to a subject left out": (
        replace(CKA_ONLY, beyond=(card("Pod", POD, subject="AWS SysOps", line=30),)),
        card("Pod", POD, subject="AWS SysOps", line=30),
        False,
    ),
    "moved to a subject left out, edited a little": (
        replace(CKA_ONLY, beyond=(card("Pods", POD + " 하나 이상", subject="Kubernetes"),)),
        card("Pods", POD + " 하나 이상", subject="Kubernetes"),
        False,
    ),
    "deleted, beside another card of a subject left out": (
        replace(CKA_ONLY, beyond=(card("Service", SERVICE, subject="AWS SysOps"),)),
        None,
        True,
    ),
    "its note moved out of the folders given": (
        replace(DAILY, moved_out=frozenset({"daily/2025-04-01.md"})),
        card("Pod", POD, note="archive/2025-04-01.md"),
        False,
    ),
    "another note moved out": (replace(DAILY, moved_out=frozenset({"daily/x.md"})), None, True),
}


@pytest.mark.parametrize("case", LEFT.values(), ids=LEFT.keys())
def test_a_card_leaving_the_runs_reach_is_not_gone(case: tuple[Scope, Card | None, bool]) -> None:
    """Out of reach, its row is kept as it was; the next run that reaches it says moved."""
    scope, now, gone = case
    first = plan_changes([card("Pod", POD)], Ledger("v"), Scope(), T0, LAYOUT)
    second = plan_changes([], first.ledger, scope, T1, LAYOUT)
    assert [c.kind for c in second.changes] == ([Kind.GONE] if gone else [])
    assert second.filtered == (0 if gone else 1)
    assert second.ledger_changed == gone
    assert [e.state for e in second.ledger.cards] == ([GONE] if gone else ["live"])
    if now is not None:
        third = plan_changes([now], second.ledger, Scope(), T1 + 10, LAYOUT)
        assert [(c.kind, c.guid) for c in third.changes] == [(Kind.MOVED, first.changes[0].guid)]


def test_two_notes_of_one_name_keep_their_cards_apart() -> None:
    a = card("Pod", POD, note="2025/notes.md")
    b = card("Pod", POD, note="work/notes.md")
    plan = plan_changes([a, b], Ledger("v"), Scope(), T0, LAYOUT)
    assert len({c.guid for c in plan.changes}) == 2
    assert [d.path for d in plan.diagnostics] == ["work/notes.md"]
    assert plan.changes[0].guid == card_guid(a)  # the first by path keeps the plain identity
    # The ledger remembers which note had it first, whichever sorts first later.
    c = card("Pod", POD, note="0/notes.md")
    again = plan_changes([c, a], plan.ledger, Scope(), T1, LAYOUT)
    by_note = {ch.now.note: ch.guid for ch in again.changes if ch.now}
    assert by_note["2025/notes.md"] == card_guid(a)


def test_pairing_work_grows_linearly_with_the_vault(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every card of a big vault renamed at once: comparisons grow with the cards, not with
    their square (past CROSS_PAIRS_MAX, a card is compared with its own note's and front's)."""
    import memo2anki.changes.plan as plan_module

    calls = 0
    dice = plan_module._dice

    def counted(a: Counter[str], b: Counter[str]) -> float:
        nonlocal calls
        calls += 1
        return dice(a, b)

    monkeypatch.setattr(plan_module, "_dice", counted)

    def comparisons(n: int) -> int:
        nonlocal calls
        notes = [f"daily/2025-{i:05d}.md" for i in range(n)]
        before = [card(f"카드 {i}", f"{POD} {i}", note=notes[i]) for i in range(n)]
        after = [card(f"카드 {i} 정리", f"{POD} {i}", note=notes[i]) for i in range(n)]
        calls = 0
        _, second = replan(before, after)
        assert all(c.kind is Kind.RENAMED for c in second.changes)
        return calls

    small, double = comparisons(600), comparisons(1200)
    assert plan_module.CROSS_PAIRS_MAX < 600 * 600  # both sizes are past the bound
    assert double <= 2.5 * small


KEYED = card("CNI", "컨테이너 네트워크 인터페이스")


@pytest.mark.parametrize(
    "changed",
    [
        replace(KEYED, line=8),
        replace(KEYED, note="daily/2025/2025-04-01.md"),  # moved: same identity, other note
        replace(KEYED, note="daily/2025-04-02.md"),
        replace(KEYED, subject="AWS"),
        replace(KEYED, front="CNI (Container Network Interface)"),
        replace(KEYED, ordinal=1),
        replace(KEYED, date=dt.date(2025, 4, 2)),
        replace(KEYED, date=None),
        replace(KEYED, tags=("CKA", "network")),
        replace(KEYED, digest="another back"),
    ],
)
def test_a_card_key_covers_all_the_plan_compares(changed: Card) -> None:
    keyed = replace(KEYED, digest=digest(KEYED))
    changed = replace(changed, digest=changed.digest or keyed.digest)
    assert row_key(keyed) == row_key(replace(keyed, back_markdown="not compared", mtime=1))
    assert row_key(changed) != row_key(keyed)
