"""memo2anki's own dataclasses as JSON of plain data, and back, checked against their types.

The cache stores results this way rather than pickled: loading a row can only ever give the
types named here, each field checked against its type hint, or fail with :class:`BadData`.
Nothing in a row can run code or make an object of another kind. Each dataclass is a JSON
array of its fields in order (no names: the cache's key covers memo2anki's code, so a row
is never read by a version with other fields).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import types
import typing
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from .media import Journal, Lookup
from .model import Media

Decoder = Callable[[Any], Any]
Encoder = Callable[[Any], Any]


class BadData(ValueError):
    """Stored data that does not have the expected shape."""


def dumps(value: object, kind: Any) -> bytes:
    """``value`` (of type ``kind``) as compact JSON."""
    return json.dumps(_encoder(kind)(value), ensure_ascii=False, separators=(",", ":")).encode()


def loads(blob: bytes | str, kind: Any) -> Any:
    """The value of type ``kind`` that :func:`dumps` stored; :class:`BadData` if ``blob`` is
    anything else (invalid JSON, another shape, a wrong type in any field)."""
    try:
        data = json.loads(blob)
    except (ValueError, TypeError, RecursionError) as err:
        raise BadData(f"not JSON: {err}") from err
    return _decoder(kind)(data)


@cache
def _hints(cls: type) -> tuple[tuple[str, Any], ...]:
    # Journal is named in model.py only for type checkers; resolved here for real.
    hints = typing.get_type_hints(cls, localns={"Journal": Journal, "Lookup": Lookup})
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


@lru_cache(maxsize=4096)
def _shared_path(text: str) -> Path:
    # One object per distinct file: a vault's thousands of image references name a few
    # hundred files (paths are immutable).
    return Path(text)


@lru_cache(maxsize=4096)
def _shared_media(path: str, name: str, sha256: str) -> Media:
    return Media(_shared_path(path), name, sha256)


def _fail(expected: str, data: Any) -> BadData:
    return BadData(f"expected {expected}, found {type(data).__name__}")


def _plain(kind: type) -> Decoder:
    def decode(data: Any) -> Any:
        if type(data) is not kind:  # exact: a bool is not an int here
            raise _fail(kind.__name__, data)
        return data

    return decode


def _path(data: Any) -> Path:
    if type(data) is not str:
        raise _fail("a path", data)
    return _shared_path(data)


def _date(data: Any) -> dt.date:
    if type(data) is not str:
        raise _fail("a date", data)
    return dt.date.fromisoformat(data)  # a ValueError is bad data too


def _none(data: Any) -> None:
    if data is not None:
        raise _fail("null", data)


def _array(data: Any, length: int | None = None) -> list[Any]:
    if type(data) is not list or (length is not None and len(data) != length):
        raise _fail(f"an array of {length}" if length is not None else "an array", data)
    return data


@cache
def _decoder(kind: Any) -> Decoder:
    """A function that checks plain data against ``kind`` and builds the value."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if kind in (str, int, float, bool):
        return _plain(kind)
    if kind is type(None):
        return _none
    if kind is Path:
        return _path
    if kind is dt.date:
        return _date
    if origin in (types.UnionType, typing.Union):
        options = [_decoder(arg) for arg in args]

        def union(data: Any) -> Any:
            for option in options:
                try:
                    return option(data)
                except BadData:
                    continue
            raise _fail(str(kind), data)

        return union
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _decoder(args[0])
        return lambda data: tuple(item(x) for x in _array(data))
    if origin is tuple:
        items = [_decoder(arg) for arg in args]
        size = len(items)
        return lambda data: tuple(f(x) for f, x in zip(items, _array(data, size), strict=True))
    if origin is list:
        item = _decoder(args[0])
        return lambda data: [item(x) for x in _array(data)]
    if kind is Media:
        return _media
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return _dataclass_decoder(kind)
    raise TypeError(f"cannot store {kind!r}")


def _media(data: Any) -> Media:
    path, name, sha256 = _array(data, 3)
    if type(path) is not str or type(name) is not str or type(sha256) is not str:
        raise _fail("media", data)
    return _shared_media(path, name, sha256)


def _dataclass_decoder(cls: type) -> Decoder:
    fields = [_decoder(hint) for _, hint in _hints(cls)]
    count = len(fields)

    def decode(data: Any) -> Any:
        values = _array(data, count)
        return cls(*[field(value) for field, value in zip(fields, values, strict=True)])

    return decode


@cache
def _encoder(kind: Any) -> Encoder:
    """A function that turns a value of ``kind`` into plain data for JSON."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if kind in (str, int, float, bool, type(None)):
        return _same
    if kind is Path:
        return str
    if kind is dt.date:
        return dt.date.isoformat
    if origin in (types.UnionType, typing.Union):
        options = {arg: _encoder(arg) for arg in args}
        return lambda value: options[_kind_of(value, args)](value)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _encoder(args[0])
        return lambda value: [item(x) for x in value]
    if origin is tuple:
        items = [_encoder(arg) for arg in args]
        return lambda value: [f(x) for f, x in zip(items, value, strict=True)]
    if origin is list:
        item = _encoder(args[0])
        return lambda value: [item(x) for x in value]
    if kind is Media:
        return lambda media: [str(media.path), media.name, media.sha256]
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        names = [name for name, _ in _hints(kind)]
        encoders = [_encoder(hint) for _, hint in _hints(kind)]
        return lambda value: [f(getattr(value, n)) for f, n in zip(encoders, names, strict=True)]
    raise TypeError(f"cannot store {kind!r}")


def _same(value: Any) -> Any:
    return value


def _kind_of(value: Any, options: tuple[Any, ...]) -> Any:
    for option in options:
        if isinstance(value, typing.get_origin(option) or option):
            return option
    raise TypeError(f"{type(value).__name__} is none of {options}")
