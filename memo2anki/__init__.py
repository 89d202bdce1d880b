"""memo2anki: turn the study memos in Obsidian daily notes into Anki cards.

The library in three steps, as the ``memo2anki`` command takes them::

    result = convert([Path("notes")])                     # notes in, cards out
    plan = plan_changes(result.cards, Ledger(), Scope(), int(time.time()),
                        Layout(deck="공부 메모장", vault_name="notes"))  # against no ledger
    write_plan(plan, result.media, Path("cards.apkg"))    # the plan, as a package
"""

from memo2anki.cards.convert import convert
from memo2anki.changes.ledger import Ledger
from memo2anki.changes.plan import Layout, Plan, Scope, plan_changes
from memo2anki.model import Card, Diagnostic, Media, Memo2AnkiError, Note, Options, Result
from memo2anki.targets.package import write_plan

__version__ = "0.1.0"

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
