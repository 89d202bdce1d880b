"""The ledger: what memo2anki exported last, kept in the vault, so the next run tells what changed.

It lives at ``.memo2anki/ledger.json`` in the vault root (a dot-folder, which Obsidian does not
list), so it travels with the vault into backups, git and other machines. The file is JSON with
one card per line, so a git diff shows one line per changed card. It is written atomically
(a temporary file, then ``os.replace``) under a lock, and only if nobody else wrote it since
this run read it (compare-and-swap on its bytes): two runs at once never corrupt it, and the
one that lost the race says so. Deleting it is always safe: the next run is a first run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import Diagnostic

FORMAT = "memo2anki ledger"
VERSION = 1
FOLDER = ".memo2anki"
FILE_NAME = "ledger.json"

LIVE = "live"
GONE = "gone"  # no longer in any memo; its retiring copy (tagged memo2anki::gone) was handled


@dataclass(frozen=True)
class LedgerCard:
    """One Anki note memo2anki manages, as it was last exported."""

    guid: str
    identity: tuple[str, str, str, int]  # (note file name or path, subject, front, ordinal)
    note: str  # vault-relative path of the note it came from
    line: int
    subject: str
    front: str  # plain text
    deck: str
    date: str  # ISO date, or "" when the note has none
    digest: str  # of every field, the tags and the note type: any change shows here
    stamp: int  # when its content last changed (the Anki note's modification time)
    state: str = LIVE  # LIVE or GONE
    # Its last Front and Back HTML and tags: what a gone card is carried with once more, and
    # what backs are compared by (the back's plain text is worked out from it when needed).
    front_html: str = ""
    back_html: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ledger:
    """Every card of a vault that memo2anki exported, by GUID (in the order written)."""

    vault: str = ""  # the vault folder's name: a ledger copied from another vault is not used
    cards: tuple[LedgerCard, ...] = ()
    # The file's bytes as read (None: there was none): the write checks nobody wrote since.
    read_digest: str | None = field(default=None, compare=False)

    @property
    def empty(self) -> bool:
        return not self.cards


def ledger_path(vault: Path) -> Path:
    """Where a vault's ledger lives."""
    return vault / FOLDER / FILE_NAME


def _card_json(card: LedgerCard) -> str:
    data = {
        "guid": card.guid,
        "identity": list(card.identity),
        "note": card.note,
        "line": card.line,
        "subject": card.subject,
        "front": card.front,
        "deck": card.deck,
        "date": card.date,
        "state": card.state,
        "stamp": card.stamp,
        "digest": card.digest,
        "tags": list(card.tags),
        "front_html": card.front_html,
        "back_html": card.back_html,
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def dumps(ledger: Ledger) -> str:
    """The ledger as JSON text: a header, then one card per line."""
    head = json.dumps(
        {"format": FORMAT, "version": VERSION, "vault": ledger.vault}, ensure_ascii=False
    )
    lines = ",\n".join(_card_json(c) for c in ledger.cards)
    return f'{head[:-1]}, "cards": [\n{lines}\n]}}\n' if lines else f'{head[:-1]}, "cards": []}}\n'


def _card(data: Any) -> LedgerCard:
    identity = data["identity"]
    if not (
        isinstance(identity, list)
        and len(identity) == 4
        and all(isinstance(x, str) for x in identity[:3])
        and isinstance(identity[3], int)
    ):
        raise ValueError("bad identity")
    card = LedgerCard(
        guid=data["guid"],
        identity=(identity[0], identity[1], identity[2], identity[3]),
        note=data["note"],
        line=data["line"],
        subject=data["subject"],
        front=data["front"],
        deck=data["deck"],
        date=data["date"],
        digest=data["digest"],
        stamp=data["stamp"],
        state=data["state"],
        front_html=data["front_html"],
        back_html=data["back_html"],
        tags=tuple(data["tags"]),
    )
    for name in ("guid", "note", "subject", "front", "deck", "date", "digest", "state"):
        if not isinstance(getattr(card, name), str):
            raise ValueError(f"bad {name}")
    if not isinstance(card.line, int) or not isinstance(card.stamp, int):
        raise ValueError("bad line or stamp")
    if card.state not in (LIVE, GONE) or not all(isinstance(t, str) for t in card.tags):
        raise ValueError("bad state or tags")
    return card


def parse(text: str) -> tuple[str, tuple[LedgerCard, ...]]:
    """(vault name, cards) of a ledger's text; ValueError when it is not one memo2anki reads."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON (line {err.lineno})") from err
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("not a memo2anki ledger")
    if data.get("version") != VERSION:
        raise ValueError(f"ledger version {data.get('version')!r}; this memo2anki reads {VERSION}")
    if not isinstance(data.get("vault"), str) or not isinstance(data.get("cards"), list):
        raise ValueError("not a memo2anki ledger")
    try:
        cards = tuple(_card(c) for c in data["cards"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"a card entry is damaged ({err})") from err
    if len({c.guid for c in cards}) != len(cards):
        raise ValueError("a card is in it twice")
    return data["vault"], cards


def load(vault: Path, vault_name: str) -> tuple[Ledger, list[Diagnostic]]:
    """The vault's ledger; an empty one (a first run) when there is none, or with a warning
    when it cannot be read, is damaged, or belongs to another vault."""
    path = ledger_path(vault)
    where = f"{FOLDER}/{FILE_NAME}"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Ledger(vault=vault_name), []
    except OSError as err:
        reason = err.strerror or str(err)
        return Ledger(vault=vault_name), [_warn(where, f"cannot read the ledger ({reason})")]
    digest = hashlib.sha256(raw).hexdigest()
    try:
        name, cards = parse(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        reason = "not UTF-8" if isinstance(err, UnicodeDecodeError) else str(err)
        return Ledger(vault_name, (), digest), [_warn(where, f"ledger not used: {reason}")]
    if name != vault_name:
        message = f"ledger not used: it was written for vault '{name}', not '{vault_name}'"
        return Ledger(vault_name, (), digest), [_warn(where, message)]
    return Ledger(vault_name, cards, digest), []


def _warn(where: str, message: str) -> Diagnostic:
    return Diagnostic(where, None, f"{message}; this run is treated as a first run")


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the ``.memo2anki`` folder (waiting for another run to
    finish writing); where folders cannot be locked (Windows), the compare-and-swap in
    :func:`save` still catches a race."""
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def save(vault: Path, ledger: Ledger, read_digest: str | None) -> list[Diagnostic]:
    """Write the ledger atomically, only if the file is still what this run read
    (``read_digest``; None: there was none). Returns warnings; never raises on I/O."""
    path = ledger_path(vault)
    where = f"{FOLDER}/{FILE_NAME}"
    text = dumps(ledger).encode("utf-8")
    try:
        path.parent.mkdir(exist_ok=True)
        with _locked(path.parent):
            try:
                now = hashlib.sha256(path.read_bytes()).hexdigest()
            except FileNotFoundError:
                now = None
            if now != read_digest:
                message = (
                    "not updated: another run changed the ledger while this one ran; "
                    "run again so the next export compares against both"
                )
                return [Diagnostic(where, None, message)]
            if now is not None and now == hashlib.sha256(text).hexdigest():
                return []  # nothing changed: leave the file (and its time) alone
            fd, tmp = tempfile.mkstemp(prefix=".ledger.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(text)
                os.chmod(tmp, 0o644)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
    except OSError as err:
        reason = err.strerror or str(err)
        message = f"cannot write the ledger ({reason}); the deck was written, but the next run "
        return [Diagnostic(where, None, message + "cannot tell what changed since this one")]
    return []


def by_identity(cards: Sequence[LedgerCard]) -> dict[tuple[str, str, str, int], LedgerCard]:
    """The cards by identity (the last one wins, which a ledger never has twice)."""
    return {c.identity: c for c in cards}
