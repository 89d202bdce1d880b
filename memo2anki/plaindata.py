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
    try:
        return _decoder(kind)(data)
    except BadData:
        raise
    except ValueError as err:  # a value its type refuses (a date that is no date)
        raise BadData(str(err)) from err


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


@dataclasses.dataclass(frozen=True)
class _Spec:
    """How to read one type: the JSON types its data may have (checked exactly: a bool is
    not an int here), and what builds the value from such data (None: the data itself)."""

    raw: frozenset[type]
    build: Decoder | None = None


def _decoder(kind: Any) -> Decoder:
    """A function that checks plain data against ``kind`` and builds the value."""
    spec = _spec(kind)

    def decode(data: Any) -> Any:
        if type(data) not in spec.raw:
            raise _fail(str(kind), data)
        return data if spec.build is None else spec.build(data)

    return decode


# Checking is done a record at a time (every field's JSON type in one pass in C, then only
# the fields that need building): a re-export loads every card of the vault this way.
@cache
def _spec(kind: Any) -> _Spec:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if kind in (str, int, float, bool, type(None)):
        return _Spec(frozenset({kind}))
    if kind is Path:
        return _Spec(frozenset({str}), _shared_path)
    if kind is dt.date:
        return _Spec(frozenset({str}), dt.date.fromisoformat)  # a ValueError is bad data
    if origin in (types.UnionType, typing.Union):
        return _union([_spec(arg) for arg in args], kind)
    if origin in (tuple, list) and (origin is list or (len(args) == 2 and args[1] is Ellipsis)):
        return _Spec(frozenset({list}), _sequence(_spec(args[0]), origin))
    if origin is tuple:
        return _Spec(frozenset({list}), _record([_spec(arg) for arg in args], tuple))
    if kind is Media:
        return _Spec(frozenset({list}), _record([_spec(str)] * 3, _media))
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return _Spec(frozenset({list}), _record([_spec(h) for _, h in _hints(kind)], cls=kind))
    raise TypeError(f"cannot store {kind!r}")


def _union(options: list[_Spec], kind: Any) -> _Spec:
    raw = frozenset().union(*(option.raw for option in options))
    built = [option for option in options if option.build is not None]
    if not built:
        return _Spec(raw)
    if len(built) > 1 or sum(len(option.raw) for option in options) != len(raw):
        raise TypeError(f"cannot store {kind!r}: its options look alike in JSON")
    (option,) = built
    build, built_raw = option.build, option.raw
    assert build is not None
    return _Spec(raw, lambda data: build(data) if type(data) in built_raw else data)


def _sequence(item: _Spec, make: type) -> Decoder:
    allowed, build = item.raw, item.build
    if build is None:

        def plain_items(data: list[Any]) -> Any:
            if not allowed.issuperset(map(type, data)):
                raise BadData(f"expected items of {sorted(t.__name__ for t in allowed)}")
            return make(data)

        return plain_items

    def built_items(data: list[Any]) -> Any:
        if not allowed.issuperset(map(type, data)):
            raise BadData(f"expected items of {sorted(t.__name__ for t in allowed)}")
        return make(map(build, data))

    return built_items


def _record(
    fields: list[_Spec], make: Callable[[list[Any]], Any] | None = None, cls: type | None = None
) -> Decoder:
    """An array of fields of these specs, made into a value by ``make``, or into an instance
    of the dataclass ``cls`` the way pickle makes one: without calling ``__init__``, whose
    frozen setattr per field costs more than all the checking."""
    raws = tuple(field.raw for field in fields)
    builds = tuple((i, field.build) for i, field in enumerate(fields) if field.build is not None)
    count = len(fields)
    contains = frozenset.__contains__
    if cls is not None and (hasattr(cls, "__post_init__") or hasattr(cls, "__slots__")):
        slow = cls
        make, cls = (lambda values: slow(*values)), None
    names = tuple(name for name, _ in _hints(cls)) if cls is not None else ()
    new = object.__new__

    def fields_of(data: list[Any]) -> list[Any]:
        if len(data) != count or not all(map(contains, raws, map(type, data))):
            raise BadData(f"expected an array of {count} fields of the right types")
        for index, build in builds:  # the data is fresh from json.loads: changed in place
            data[index] = build(data[index])
        return data

    if cls is None:
        assert make is not None
        made = make
        return lambda data: made(fields_of(data))
    kind = cls

    def instance_of(data: list[Any]) -> Any:
        instance: Any = new(kind)
        # The lengths are equal: checked in fields_of.
        instance.__dict__.update(zip(names, fields_of(data), strict=False))
        return instance

    return instance_of


def _media(data: list[Any]) -> Media:
    return _shared_media(*data)


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
