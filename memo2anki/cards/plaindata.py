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

from memo2anki.model import Journal, Lookup, Media

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


_PLAIN = (str, int, float, bool, type(None))


@cache
def _decoder(kind: Any) -> Decoder:
    """A function that checks plain data against ``kind`` and builds the value.

    Written out as Python source from the type hints, as :mod:`dataclasses` writes its
    ``__init__``: every check inline, which is over twice as quick as a function per field (a
    re-export loads every card of the vault this way). Only the types and names of memo2anki's
    own dataclasses go into the source, never stored data. Checks are exact: a bool is not an
    int here. Instances are made as pickle makes them, without ``__init__`` (whose frozen
    setattr per field costs more than the checks)."""
    writer = _Writer()
    lines = ["def decode(data):", *writer.check(kind, "data", "value", 1), "    return value"]
    code = "\n".join(lines)
    exec(compile(code, f"<plaindata decoder of {kind!r}>", "exec"), writer.names)
    decode: Decoder = writer.names["decode"]
    return decode


class _Writer:
    """Writes the statements that check one value and build it."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {
            "BadData": BadData,
            "new": object.__new__,
            "shared_path": _shared_path,
            "shared_media": _shared_media,
            "date_of": dt.date.fromisoformat,  # a ValueError is bad data too
        }
        self._count = 0
        self._depth = 0

    def _fresh(self, stem: str) -> str:
        self._count += 1
        return f"{stem}{self._count}"

    def _name(self, value: Any) -> str:
        name = self._fresh("ref")
        self.names[name] = value
        return name

    def check(self, kind: Any, src: str, dst: str, indent: int) -> list[str]:
        """Statements that raise BadData unless ``src`` is data of ``kind``, and otherwise
        set ``dst`` to the value."""
        self._depth += 1
        if self._depth > 20:
            raise TypeError(f"cannot store {kind!r}: nested too deep")
        try:
            return [("    " * indent) + line for line in self._check(kind, src, dst)]
        finally:
            self._depth -= 1

    def _fail(self, kind: Any) -> str:
        name = kind.__name__ if isinstance(kind, type) else repr(kind)
        return f"raise BadData({f'expected {name}'!r})"

    @staticmethod
    def _same(src: str, dst: str) -> list[str]:
        return [] if src == dst else [f"{dst} = {src}"]

    def _check(self, kind: Any, src: str, dst: str) -> list[str]:
        origin, args = typing.get_origin(kind), typing.get_args(kind)
        if kind is type(None):
            return [f"if {src} is not None: {self._fail(kind)}", *self._same(src, dst)]
        if kind in _PLAIN:  # the builtin by its name: no stored name can shadow it
            check = f"if type({src}) is not {kind.__name__}: {self._fail(kind)}"
            return [check, *self._same(src, dst)]
        if kind in (Path, dt.date):
            build = "shared_path" if kind is Path else "date_of"
            return [f"if type({src}) is not str: {self._fail(kind)}", f"{dst} = {build}({src})"]
        if origin in (types.UnionType, typing.Union):
            others = [arg for arg in args if arg is not type(None)]
            if len(others) == 1 and len(args) == 2:  # X | None
                inner = self.check(others[0], src, dst, 1)
                return [f"if {src} is None:", f"    {dst} = None", "else:", *inner]
            if all(arg in _PLAIN for arg in args):
                allowed = self._name(frozenset(args))
                check = f"if type({src}) not in {allowed}: {self._fail(kind)}"
                return [check, *self._same(src, dst)]
            raise TypeError(f"cannot store {kind!r}: its options look alike in JSON")
        if origin in (tuple, list) and (origin is list or (len(args) == 2 and args[1] is ...)):
            item, items, made = self._fresh("item"), self._fresh("items"), self._fresh("made")
            make = "list" if origin is list else "tuple"
            if args[0] in _PLAIN:  # checked in place: the data is fresh from json.loads
                return [
                    f"if type({src}) is not list: {self._fail(kind)}",
                    f"for {item} in {src}:",
                    *self.check(args[0], item, item, 1),
                    f"{dst} = {make}({src})",
                ]
            return [
                f"if type({src}) is not list: {self._fail(kind)}",
                f"{items} = []",
                f"for {item} in {src}:",
                *self.check(args[0], item, made, 1),
                f"    {items}.append({made})",
                f"{dst} = {make}({items})",
            ]
        if origin is tuple:
            return self._record(kind, list(args), src, lambda p: [f"{dst} = ({', '.join(p)},)"])
        if kind is Media:
            media = lambda p: [f"{dst} = shared_media({', '.join(p)})"]  # noqa: E731
            return self._record(kind, [str, str, str], src, media)
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            return self._instance(kind, src, dst)
        raise TypeError(f"cannot store {kind!r}")

    def _record(
        self, kind: Any, fields: list[Any], src: str, make: Callable[[list[str]], list[str]]
    ) -> list[str]:
        """An array of ``fields``, then the lines ``make`` writes from the checked fields'
        variables."""
        if not fields:
            raise TypeError(f"cannot store {kind!r}: it has no fields")
        parts = [self._fresh("field") for _ in fields]
        lines = [
            f"if type({src}) is not list or len({src}) != {len(fields)}: {self._fail(kind)}",
            f"{', '.join(parts)}, = {src}",
        ]
        for part, field in zip(parts, fields, strict=True):
            lines += self._check(field, part, part)
        return lines + make(parts)

    def _instance(self, cls: type, src: str, dst: str) -> list[str]:
        hints = _hints(cls)
        name = self._name(cls)

        def make(parts: list[str]) -> list[str]:
            if hasattr(cls, "__post_init__") or hasattr(cls, "__slots__"):
                return [f"{dst} = {name}({', '.join(parts)})"]
            pairs = zip((field for field, _ in hints), parts, strict=True)
            values = ", ".join(f"{field!r}: {part}" for field, part in pairs)
            return [f"{dst} = new({name})", f"{dst}.__dict__.update({{{values}}})"]

        return self._record(cls, [hint for _, hint in hints], src, make)


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
