"""The change report: a plan as lines for people and as plain data for machines."""

from __future__ import annotations

from typing import Any

from memo2anki.changes.plan import KINDS, Change, Kind, Plan
from memo2anki.model import one_line, plural


def counts_line(plan: Plan) -> str:
    """``3 new, 1 updated, 1 renamed, 2 gone, 5 unchanged``: the non-zero counts (and the
    cloze notes retired whose cards live on: ``, 1 cloze note retired``)."""
    parts = [f"{plan.counts[k]} {k}" for k in KINDS if plan.counts.get(k)]
    if retired := sum(c.retired_cloze is not None for c in plan.changes):
        parts.append(f"{plural(retired, 'cloze note')} retired")
    return ", ".join(parts)


def _moved(change: Change) -> str:
    assert change.now is not None and change.before is not None
    now, before = change.now, change.before
    if now.note != before.note:
        return f"from {before.note} to {now.note}"
    if now.subject != before.subject:
        return f"from subject '{before.subject}' to '{now.subject}'"
    return f"from deck {before.deck} to {now.deck}"


def change_line(change: Change, package: bool = True) -> str:
    """One change as ``path:line: renamed 'CNI' -> 'CNI (Container Network Interface)'``
    (``package``: for a package, which leaves out a gone card whose last fields are not
    known; a sync retires it all the same)."""
    now, before = change.now, change.before
    if change.kind is Kind.GONE:
        assert before is not None
        text = f"{before.note}: gone '{before.front}' (was {before.where})"
        return one_line(text if change.notes or not package else f"{text}; left out of the deck")
    assert now is not None
    front = f"'{now.front}'"
    if before is not None and before.front != now.front:
        front = f"'{before.front}' -> '{now.front}'"
    what = f"{change.kind} {front}"
    if change.kind is Kind.MOVED:
        what = f"{what} {_moved(change)}"
    elif change.kind is Kind.RETURNED and before is not None and before.note != now.note:
        what = f"{what} (was {before.where})"
    if change.retired_cloze is not None:
        what = f"{what}; its cloze note retired (gone)"
    return one_line(f"{now.where}: {what}")


def change_lines(plan: Plan, package: bool = True) -> list[str]:
    """Every change but the unchanged cards (save those whose cloze note is retired), in
    study order, gone cards last."""
    return [
        change_line(c, package)
        for c in plan.changes
        if c.kind is not Kind.UNCHANGED or c.retired_cloze is not None
    ]


def deck_notice(plan: Plan) -> str | None:
    """What to tell when cards Anki already has are planned into another deck."""
    moved = sum(c.deck_changed for c in plan.changes)
    if not moved:
        return None
    return (
        f"memo2anki: {plural(moved, 'card')} changed deck; importing a package does not move "
        "cards Anki already has (in Anki's browser: select them, Change Deck)"
    )


def _place(place: Any) -> dict[str, Any] | None:
    if place is None:
        return None
    return {
        "note": place.note,
        "line": place.line,
        "subject": place.subject,
        "front": place.front,
        "deck": place.deck,
    }


def changes_json(plan: Plan) -> dict[str, Any]:
    """The report for machines: the counts, and every change (unchanged ones too)."""
    return {
        "counts": {str(k): plan.counts.get(k, 0) for k in KINDS},
        "first_run": plan.first_run,
        "filtered": plan.filtered,
        "list": [
            {
                "kind": str(c.kind),
                "guid": c.guid,
                "now": _place(c.now),
                "before": _place(c.before),
                "in_deck": bool(c.notes),
                "cloze_retired": c.retired_cloze is not None,
            }
            for c in plan.changes
        ],
    }
