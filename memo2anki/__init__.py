"""memo2anki: turn the study memos in Obsidian daily notes into Anki cards.

The library in three steps, as the ``memo2anki`` command takes them::

    result = convert([Path("notes")])                     # notes in, cards out
    plan = plan_changes(result.cards, Ledger(), Scope(), int(time.time()),
                        Layout(deck="공부 메모장", vault_name="notes"))  # against no ledger
    write_plan(plan, result.media, Path("cards.apkg"))    # the plan, as a package
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # (typing.TYPE_CHECKING, without loading typing: mypy knows the name)
if TYPE_CHECKING:
    from typing import Any

    from memo2anki.cards.convert import convert
    from memo2anki.changes.ledger import Ledger
    from memo2anki.changes.plan import Layout, Plan, Scope, plan_changes
    from memo2anki.model import Card, Diagnostic, Media, Memo2AnkiError, Note, Options, Result
    from memo2anki.targets.package import write_plan

__version__ = "0.1.0"

# Where each name of the surface lives, loaded when first used: the program (memo2anki.cli),
# whose package this is too, starts without them, taking stops from its first moment.
_WHERE = {
    "convert": "memo2anki.cards.convert",
    "Ledger": "memo2anki.changes.ledger",
    **dict.fromkeys(("Layout", "Plan", "Scope", "plan_changes"), "memo2anki.changes.plan"),
    **dict.fromkeys(
        ("Card", "Diagnostic", "Media", "Memo2AnkiError", "Note", "Options", "Result"),
        "memo2anki.model",
    ),
    "write_plan": "memo2anki.targets.package",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'memo2anki' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)


__all__ = [
    "Card",
    "Diagnostic",
    "Layout",
    "Ledger",
    "Media",
    "Memo2AnkiError",
    "Note",
    "Options",
    "Plan",
    "Result",
    "Scope",
    "__version__",
    "convert",
    "plan_changes",
    "write_plan",
]
