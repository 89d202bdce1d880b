"""The cache's format: memo2anki's results as JSON of plain data, read back only if checked."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from memo2anki.cards import plaindata
from memo2anki.model import Card, Diagnostic, Journal, Lookup, Media, NoteResult

ENTRY = tuple[NoteResult, Journal]
MEDIA = Media(Path("/v/image/p.png"), "m2a-0123456789abcdef0123.png", "ab" * 32)
CARD = Card(
    note="daily/2025-04-04.md",
    subject="CKA",
    front="Docker Network",
    front_html="<b>Docker Network</b>",
    back_markdown="None 설정\n![[p.png]]",
    line=4,
    back_line=5,
    date=dt.date(2025, 4, 4),
    tags=("CKA", "2025-04"),
    ordinal=1,
    back_html='<p>None 설정</p><img src="m2a-0123456789abcdef0123.png">',
    media=(MEDIA,),
    mtime=1743760801,
    guid="Ab1!",
)
RESULT = NoteResult(
    cards=(CARD, dataclasses.replace(CARD, date=None, tags=(), media=(), guid="")),
    diagnostics=(Diagnostic("daily/2025-04-04.md", 7, "image not found: x.png"),),
    has_section=True,
    lint=(Diagnostic("daily/2025-04-04.md", None, "dataview"),),
)
JOURNAL = Journal(
    lookups=[
        ("p.png", "/v/daily", Lookup(path=Path("/v/image/p.png"))),
        ("x.png", "/v/daily", Lookup(problem="image not found: x.png")),
        ("https://e/x.png", "/v/daily", Lookup(remote=True)),
    ],
    files=[("/v/image/p.png", 120, 1743760801000000000)],
)


def test_a_result_comes_back_equal_and_of_its_own_types() -> None:
    result, journal = plaindata.loads(plaindata.dumps((RESULT, JOURNAL), ENTRY), ENTRY)
    assert (result, journal) == (RESULT, JOURNAL)
    card = result.cards[0]
    assert type(card) is Card and type(card.media[0]) is Media and type(card.date) is dt.date
    assert type(card.tags) is tuple and type(journal.lookups[0]) is tuple
    assert isinstance(journal.lookups[0][2].path, Path)


def test_a_field_of_a_type_it_cannot_store_is_refused_not_dropped() -> None:
    @dataclasses.dataclass(frozen=True)
    class Later:
        name: str
        extra: dict[str, Any]

    with pytest.raises(TypeError, match="cannot store"):
        plaindata.dumps(Later("a", {}), Later)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{}",
        b'[[], {"journal": 1}]',
        json.dumps([[[], [], True, []], [[], []], "one more"]).encode(),
        json.dumps([[[], [], 1, []], [[], []]]).encode(),
        json.dumps([[[], [["n.md", 1.5, "m"]], True, []], [[], []]]).encode(),
        json.dumps([[[], [], True, []], [[["r", "f", [None, None, "yes"]]], []]]).encode(),
        json.dumps([[[], [], True, []], [[], [["/p", 1, 2, 3]]]]).encode(),
        plaindata.dumps((RESULT, JOURNAL), ENTRY).replace(b"2025-04-04", b"2025-02-30"),
    ],
    ids=[
        "empty",
        "an object",
        "an object inside",
        "one field too many",
        "an int for a bool",
        "a float for a line",
        "a string for a bool",
        "a file of four",
        "no such date",
    ],
)
def test_anything_else_is_bad_data(data: bytes) -> None:
    assert plaindata.loads(plaindata.dumps((NoteResult(), Journal()), ENTRY), ENTRY)
    with pytest.raises(plaindata.BadData):
        plaindata.loads(data, ENTRY)
