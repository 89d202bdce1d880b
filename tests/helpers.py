"""Shared test helpers: small vaults on disk, and real Anki to import decks into."""

from __future__ import annotations

import os
import re
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.scheduler.v3 import CardAnswer
from click.testing import CliRunner, Result

from memo2anki.cards.pictures.media import MAX_PICTURE_BYTES
from memo2anki.changes.notes import MODEL_ID
from memo2anki.cli.main import main

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"

# The benchmark's vault generator makes big realistic vaults for tests too.
sys.path.insert(0, str(REPO / "benchmarks"))
from ankdown_input import write_ankdown_input as write_ankdown_input  # noqa: E402
from make_vault import make_vault as make_vault  # noqa: E402
from make_vault import tree_digest as tree_digest  # noqa: E402
from parser_alone import notes_of as notes_of  # noqa: E402
from parser_alone import render_memo as render_memo  # noqa: E402


def png(width: int = 8, height: int = 8, seed: int = 0) -> bytes:
    """A real PNG file; different seeds give different bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + bytes((x * 31 + y * 17 + seed) % 256 for x in range(width * 3))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def run(*args: str | Path) -> Result:
    """Run the memo2anki command line in-process, as a user would type it."""
    return CliRunner().invoke(main, [str(a) for a in args])


def write_vault(root: Path, files: dict[str, str | bytes]) -> Path:
    """Lay out a vault (with ``.obsidian/``) from ``{relative path: text or bytes}``."""
    (root / ".obsidian").mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def memo(*cards: str, subject: str = "CKA") -> str:
    """A daily note whose memo section holds ``cards`` (each already markdown)."""
    body = "\n\n".join(cards)
    return f"# 오전\n- [x] 공부\n\n---\n# 공부 메모장\n## {subject}\n{body}\n"


@dataclass
class AnkiNote:
    """What Anki holds for one imported note."""

    guid: str
    fields: dict[str, str]
    tags: list[str]
    deck: str
    note_type: str
    mod: int
    card_ids: list[int]


class Anki:
    """A fresh Anki collection, to import packages into the way a person would."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.col = Collection(str(folder / "collection.anki2"))

    def close(self) -> None:
        self.col.close()

    def import_package(self, path: Path) -> Any:
        """Import with a new profile's defaults; returns Anki's import log."""
        request = ImportAnkiPackageRequest(
            package_path=str(path.resolve()), options=ImportAnkiPackageOptions()
        )
        return self.col.import_anki_package(request).log

    def notes(self) -> list[AnkiNote]:
        """Every note, in the order new cards come up for study."""
        cards = sorted(
            (self.col.get_card(cid) for cid in self.col.find_cards("")), key=lambda c: c.due
        )
        seen: dict[int, AnkiNote] = {}
        for card in cards:
            if card.nid in seen:
                seen[card.nid].card_ids.append(card.id)
                continue
            note = self.col.get_note(card.nid)
            notetype = note.note_type()
            assert notetype is not None
            seen[card.nid] = AnkiNote(
                guid=note.guid,
                fields=dict(note.items()),
                tags=sorted(note.tags),
                deck=self.col.decks.name(card.did),
                note_type=notetype["name"],
                mod=note.mod,
                card_ids=[card.id],
            )
        return list(seen.values())

    def media_files(self) -> set[str]:
        return set(os.listdir(self.col.media.dir()))

    def media_in(self, html: str) -> list[str]:
        return re.findall(r'<img[^>]*\bsrc="([^"]+)"', html)

    def answer_all(self, deck: str) -> int:
        """Study every new card in ``deck``, answering Easy (so it graduates); returns how many."""
        self.col.decks.select(self.col.decks.id_for_name(deck))
        answered = 0
        while (card := self.col.sched.getCard()) is not None:
            states = self.col._backend.get_scheduling_states(card.id)
            answer = self.col.sched.build_answer(card=card, states=states, rating=CardAnswer.EASY)
            self.col.sched.answer_card(answer)
            answered += 1
        return answered

    def scheduling(self) -> dict[str, tuple[int, int, int, int]]:
        """Per note GUID: (card type, queue, interval, reps) of its card."""
        result = {}
        for cid in self.col.find_cards(""):
            card = self.col.get_card(cid)
            result[self.col.get_note(card.nid).guid] = (card.type, card.queue, card.ivl, card.reps)
        return result


def bump_mtime(path: Path, seconds: int = 10) -> None:
    """Move a file's modification time forward, as an edit a little later would."""
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + seconds))


def memo2anki_notes(col: Collection) -> dict[str, dict[str, object]]:
    """memo2anki's notes in a collection by front: id, guid, deck, tags, whether suspended,
    back, and the first card's reviews."""
    out: dict[str, dict[str, object]] = {}
    for nid in col.find_notes(f"mid:{MODEL_ID}"):
        n = col.get_note(nid)
        cards = [col.get_card(c) for c in n.card_ids()]
        out[n["Front"]] = {
            "id": nid,
            "guid": n.guid,
            "deck": col.decks.name(cards[0].did),
            "tags": sorted(n.tags),
            "suspended": all(c.queue == -1 for c in cards),
            "back": n["Back"],
            "reps": cards[0].reps,
        }
    return out


# -- a picture gone between its finding and its writing (for each writer's tests) -----------


def _deleted(path: Path, vault: Path) -> None:
    path.unlink()


def _a_folder_now(path: Path, vault: Path) -> None:
    path.unlink()
    path.mkdir()


def _a_fifo_now(path: Path, vault: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _a_link_to_a_device_now(path: Path, vault: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


def _a_link_out_of_the_vault_now(path: Path, vault: Path) -> None:
    outside = vault.parent / f"outside-{path.name}"
    outside.write_bytes(png(seed=9))
    path.unlink()
    path.symlink_to(outside)


def _its_folder_a_link_out_of_the_vault_now(path: Path, vault: Path) -> None:
    assert path.parent != vault, "a picture in a folder of the vault"
    outside = vault.parent / f"outside-{path.parent.name}"
    outside.mkdir()
    (outside / path.name).write_bytes(png(seed=9))
    path.parent.rename(vault.parent / f"was-{path.parent.name}")
    path.parent.symlink_to(outside, target_is_directory=True)


def _grown_past_ankis_limit(path: Path, vault: Path) -> None:
    with path.open("r+b") as f:
        f.truncate(MAX_PICTURE_BYTES + 1)  # sparse: no disk taken


# Each way a picture of ``vault`` at ``path`` (in a folder of the vault) can stop being the
# picture that was found.
PICTURE_GONE: dict[str, Callable[[Path, Path], None]] = {
    "deleted": _deleted,
    "a folder now": _a_folder_now,
    "a FIFO now": _a_fifo_now,
    "a link to /dev/zero now": _a_link_to_a_device_now,
    "grown past Anki's limit": _grown_past_ankis_limit,
    "a link out of the vault now": _a_link_out_of_the_vault_now,
    "its folder a link out of the vault now": _its_folder_a_link_out_of_the_vault_now,
}
