"""A small client for the AnkiConnect add-on (2055492159), protocol version 6.

It talks to one address only: 127.0.0.1:8765, or the one given (plain HTTP, with no proxy
from the environment and no redirect followed), so a request never leaves for another host.
Every exchange ends within its time, and every answer is checked as it is received: what is
not what the add-on answers is one clear error naming the action, never a wrong value later.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict
from urllib.parse import urlsplit

import msgspec

from memo2anki.model import BadUsage, Memo2AnkiError, one_line

DEFAULT_URL = "http://127.0.0.1:8765"
PROTOCOL = 6
ADDON_CODE = 2055492159

# A request with its answer, whole, within this many seconds (the add-on answers from Anki's
# main thread: a dialog open in Anki holds every answer back); a server that drips its answer
# a byte at a time is cut off at the same time as one that never answers.
TIMEOUT = 60.0
# The most a connection to one of a host name's several addresses is waited for before the
# next is tried (the last is waited for as long as is left): AnkiConnect answers a connection
# at once, even with a dialog open in Anki (the system's queue takes it).
CONNECT_FALLBACK = 2.0
# The most an answer may hold: a batch of notesInfo (500 notes) is a few megabytes.
MAX_ANSWER = 128 * 1024 * 1024
# The most ids (or actions) one request asks about: its answer stays a few megabytes, and is
# read into a shape of that many items (so a server's long list costs more round trips, not
# memory).
BATCH = 500


def checked_url(url: str) -> str:
    """``url`` if it is ``http://HOST:PORT`` (an ASCII path after it allowed); BadUsage otherwise:
    AnkiConnect serves plain HTTP, and memo2anki talks to that one address only."""
    hint = f"AnkiConnect address {url!r}: give it as http://HOST:PORT, as in {DEFAULT_URL}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number from 0 to 65535, a broken [IPv6]
        raise BadUsage(one_line(hint)) from None
    if (
        parts.scheme != "http"
        or not parts.hostname
        or not _encodable(parts.hostname)
        or not port
        or parts.username is not None
        or not parts.path.isascii()  # (a request's line holds ASCII only)
        or parts.query
        or parts.fragment
        or any(c.isspace() or not c.isprintable() for c in url)
    ):
        raise BadUsage(one_line(hint))
    return url


def _encodable(host: str) -> bool:
    """Whether a host name can be looked up at all (a label empty or longer than 63
    characters cannot: the lookup would fail with an encoding error, not a network one)."""
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True


# An id as Anki keeps it (a 64-bit integer).
Id = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class _Field(TypedDict):
    value: str
    order: int


class _NoteInfo(TypedDict, total=False):
    """A note as notesInfo gives it; none of its keys: an id Anki does not know (``{}``)."""

    noteId: Id
    modelName: str
    tags: list[str]
    fields: dict[str, _Field]
    cards: list[Id]
    mod: int  # (not given by the add-on's GitHub releases)


class _CardInfo(TypedDict, total=False):
    """A card as cardsInfo gives it (``{}``: an id Anki does not know)."""

    fields: dict[str, _Field]


class _Sides(TypedDict):
    Front: str
    Back: str


class _Styling(TypedDict):
    css: str


# What each action memo2anki reads the result of must answer (as the add-on's code does);
# anything else is a clear error naming the action, never a wrong value further on. Typed
# dicts and lists: the result is decoded into its shape as it is read, so an answer of the
# wrong shape is refused at its first wrong item, before it takes memory (a 100 MB answer of
# empty objects where ids belong took 3 GB decoded first and checked after).
RESULTS: dict[str, Any] = {
    "version": int,
    "getActiveProfile": str | None,
    "findNotes": list[Id],
    "findCards": list[Id],
    "deckNamesAndIds": dict[str, Id],
    "notesInfo": _NoteInfo,  # (one each: see ONE_EACH)
    "cardsInfo": _CardInfo,
    "guiBrowse": list[Id],
    "getDecks": dict[str, list[Id]],
    "areSuspended": bool | None,
    "modelNames": list[str],
    "modelNamesAndIds": dict[str, Id],
    "modelFieldNames": list[str],
    # (a note type has one card type at least)
    "modelTemplates": Annotated[dict[str, _Sides], msgspec.Meta(min_length=1)],
    "modelStyling": _Styling,
    "getMediaFilesNames": list[str],
    "storeMediaFile": str | None,
    "importPackage": bool,
    "getDeckConfig": dict[str, Any] | bool,  # (false: no deck of that name)
    "multi": msgspec.Raw,  # (each reply read as its action's)
    # Actions whose result is not read: kept as received, never built into objects.
    **dict.fromkeys(
        ("updateNote", "changeDeck", "addTags", "suspend", "unsuspend", "deleteNotes"), msgspec.Raw
    ),
}
# Actions that answer one item for each one asked about (the parameter that asks): their
# shape is that of one item, and the answer holds exactly as many as were asked about.
ONE_EACH = {"notesInfo": "notes", "areSuspended": "cards", "cardsInfo": "cards", "multi": "actions"}
# The keys a note or card known to Anki has (all of them, or none: ``{}``).
_WHOLE = {"notesInfo": ("noteId", "modelName", "tags", "fields", "cards"), "cardsInfo": ("fields",)}


class _Reply(msgspec.Struct, forbid_unknown_fields=True):
    """The add-on's reply under protocol version 6: both keys, always."""

    result: msgspec.Raw
    error: str | None


def _not_as_the_add_on(action: str, why: object) -> Memo2AnkiError:
    return Memo2AnkiError(
        one_line(f"AnkiConnect's answer to '{action}' is not what the add-on answers: {why}")
    )


def checked_result(action: str, params: dict[str, Any], raw: msgspec.Raw | bytes) -> Any:
    """The result (``raw``: its JSON) decoded, once it is the shape ``action`` answers (a
    list where one item was asked about each); Memo2AnkiError naming the action otherwise."""
    shape = RESULTS.get(action, Any)
    asked = params.get(ONE_EACH.get(action, ""))
    if isinstance(asked, list):
        shape = tuple.__class_getitem__((shape,) * len(asked)) if asked else tuple[()]
    try:
        result = msgspec.json.Decoder(shape, strict=True).decode(raw)
    except (msgspec.DecodeError, RecursionError) as err:  # (ValidationError is a DecodeError)
        raise _not_as_the_add_on(action, err) from None
    if isinstance(result, tuple):
        result = list(result)
    owners: dict[int, int] = {}  # each card's note, of the notes so far: a card is one note's
    for number, item in enumerate(result if action in _WHOLE else ()):
        lacking = [key for key in _WHOLE[action] if key not in item]
        if item and lacking:
            raise _not_as_the_add_on(
                action, f"Object missing required field `{lacking[0]}` - at `$[{number}]`"
            )
        if action != "notesInfo" or not item or not isinstance(asked, list):
            continue
        if item["noteId"] != asked[number]:  # (each note as asked, in turn)
            why = f"note {item['noteId']} where note {asked[number]} was asked about"
            raise _not_as_the_add_on(action, f"{why} - at `$[{number}]`")
        for card in item["cards"]:
            if owners.setdefault(card, item["noteId"]) != item["noteId"]:
                why = f"card {card} is one of two notes' cards"
                raise _not_as_the_add_on(action, f"{why} - at `$[{number}]`")
    return result


class AnkiConnect:
    """Requests to AnkiConnect; each add-on error becomes a :class:`Memo2AnkiError`, and so
    does each answer that is not what the add-on answers."""

    def __init__(
        self, url: str = DEFAULT_URL, key: str | None = None, timeout: float | None = None
    ):
        try:
            checked_url(url)
        except BadUsage as err:
            raise Memo2AnkiError(str(err)) from None
        parts = urlsplit(url)
        self.url = url
        self._host, self._port = parts.hostname or "", parts.port
        self._path = parts.path or "/"
        self.key = key
        self.timeout = TIMEOUT if timeout is None else timeout
        self._answered: Any = None  # (the address that took the last connection)

    def _post(self, payload: dict[str, Any], timeout: float) -> _Reply:
        """The reply to ``payload``, its result not yet decoded."""
        body = json.dumps(payload).encode("utf-8")
        raw = self._exchange(body, timeout)
        try:
            return msgspec.json.decode(raw, type=_Reply)
        except msgspec.ValidationError as err:
            raise _not_as_the_add_on(str(payload["action"]), err) from None
        except (msgspec.DecodeError, RecursionError) as err:
            raise Memo2AnkiError(f"{self.url} did not answer as AnkiConnect does") from err

    def _exchange(self, body: bytes, timeout: float) -> bytearray:
        """POST ``body``; the answer's body, all of it within ``timeout`` seconds (the socket
        is shut when the time is up, whatever read or write waits on it)."""
        connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        late = threading.Event()
        opened: list[socket.socket] = []  # (the response may take the socket over)

        def cut() -> None:
            late.set()
            for sock in opened:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(timeout, cut)
        timer.daemon = True
        started = time.monotonic()
        timer.start()
        try:
            # (set, the socket is used as it is: http.client makes no connection of its own)
            connection.sock = self._connect(timeout - (time.monotonic() - started), opened)
            if late.is_set():
                raise TimeoutError
            connection.request(
                "POST", self._path, body, headers={"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            if response.status != 200:
                raise Memo2AnkiError(f"AnkiConnect at {self.url} answered HTTP {response.status}")
            answer = bytearray()
            while piece := response.read(2**20):
                answer += piece
                if len(answer) > MAX_ANSWER:
                    raise Memo2AnkiError(
                        f"AnkiConnect at {self.url} answered with more than "
                        f"{MAX_ANSWER // 2**20} MB; that is not AnkiConnect"
                    )
            if late.is_set() or time.monotonic() - started > timeout:
                raise TimeoutError
            if response.length:  # (what is left of a Content-Length given: closed early)
                raise http.client.IncompleteRead(bytes(answer), response.length)
            return answer
        # ValueError: http.client on some malformed answers (a negative chunk size).
        except (http.client.HTTPException, OSError, ValueError) as err:
            if isinstance(err, _LookUpLate):  # (not Anki's to answer for)
                raise Memo2AnkiError(
                    f"cannot reach AnkiConnect at {self.url}: the look-up of its host name "
                    f"did not end within {timeout:g} s"
                ) from err
            if late.is_set() or isinstance(err, TimeoutError):
                raise Memo2AnkiError(
                    f"AnkiConnect at {self.url} did not answer within {timeout:g} s "
                    "(is Anki busy with a dialog open?)"
                ) from err
            raise Memo2AnkiError(one_line(_failure(self.url, err))) from err
        finally:
            timer.cancel()
            connection.close()

    def _connect(self, timeout: float, opened: list[socket.socket]) -> socket.socket:
        """A socket connected to the host within ``timeout`` seconds, the look-up of its name
        too (put in ``opened`` as it is made). The look-up takes no time-out and no signal
        stops it (a DNS server that never answers): it is done in a thread of its own, waited
        for only as long as is left, and left behind when the time is up."""
        found: list[Any] = []

        def look_up() -> None:
            try:
                found.append(
                    socket.getaddrinfo(self._host, self._port or 80, type=socket.SOCK_STREAM)
                )
            except OSError as err:
                found.append(err)

        started = time.monotonic()
        looking = threading.Thread(target=look_up, daemon=True, name="memo2anki-look-up")
        looking.start()
        looking.join(max(timeout, 0.0))
        if not found:
            raise _LookUpLate
        if isinstance(found[0], OSError):
            raise found[0]
        error: OSError = OSError(f"no address for {self._host}")
        # The address that answered last first: a name of several addresses whose first
        # never answers costs its wait once, not at every request.
        addresses = sorted(found[0], key=lambda info: info[4] != self._answered)
        for number, (family, kind, proto, _name, address) in enumerate(addresses):
            left = timeout - (time.monotonic() - started)
            if left <= 0:
                raise TimeoutError
            sock = socket.socket(family, kind, proto)
            opened.append(sock)
            try:
                # The last address all the time left; one before it a share, as a browser
                # gives it: one that never answers (a firewall dropping it) leaves the next
                # its turn.
                last = number == len(addresses) - 1
                sock.settimeout(left if last else min(left / 2, CONNECT_FALLBACK))
                sock.connect(address)
            except OSError as err:
                sock.close()
                error = err
                continue
            self._answered = address
            sock.settimeout(timeout)  # (each read; the whole exchange is bound by its timer)
            with contextlib.suppress(OSError):  # as http.client: the request in one packet
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        raise error

    def _message(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"action": action, "version": PROTOCOL, "params": params}
        if self.key is not None:
            message["key"] = self.key
        return message

    def call(self, action: str, **params: Any) -> Any:
        """One action; its result (checked), or a Memo2AnkiError carrying the add-on's
        message."""
        reply = self._post(self._message(action, params), self.timeout)
        return checked_result(action, params, _result(action, reply, self.key))

    def multi(self, actions: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Several actions, up to :data:`BATCH` a round trip (not a transaction: each one is
        applied as it comes); their results in order. The first failed action's message is
        raised, after the others of its round trip were applied."""
        out = []
        for start in range(0, len(actions), BATCH):
            part = actions[start : start + BATCH]
            messages = [self._message(action, params) for action, params in part]
            replies = self.call("multi", actions=messages)
            for (action, params), raw in zip(part, replies, strict=True):
                try:
                    reply = msgspec.json.decode(raw, type=_Reply)
                except (msgspec.DecodeError, RecursionError) as err:
                    raise _not_as_the_add_on(action, err) from None
                out.append(checked_result(action, params, _result(action, reply, self.key)))
        return out

    def version(self, timeout: float = 1.0) -> int:
        """The add-on's protocol version; raises when nothing (or not AnkiConnect) answers."""
        reply = self._post(self._message("version", {}), timeout)
        version: int = checked_result("version", {}, _result("version", reply, self.key))
        return version


# The look-up's answers that say the name has no address (the others: it could not tell).
_NO_SUCH_HOST = {
    code for name in ("EAI_NONAME", "EAI_NODATA") if (code := getattr(socket, name, None))
}


class _LookUpLate(TimeoutError):
    """The look-up of the host name did not end in time (a DNS server that never answers)."""


def _failure(url: str, err: BaseException) -> str:
    """What went wrong in an exchange, in a few words."""
    if isinstance(err, http.client.RemoteDisconnected | http.client.IncompleteRead):
        return f"AnkiConnect at {url} closed the connection before its answer was whole"
    if isinstance(err, http.client.HTTPException | ValueError):
        return f"{url} did not answer as AnkiConnect does (not HTTP: {type(err).__name__})"
    if isinstance(err, ConnectionRefusedError):
        return f"cannot reach AnkiConnect at {url}: nothing listens there"
    if isinstance(err, ConnectionError):
        return f"AnkiConnect at {url} closed the connection before its answer was whole"
    if isinstance(err, socket.gaierror) and err.errno in _NO_SUCH_HOST:
        return f"cannot reach AnkiConnect at {url}: no such host ({err.strerror})"
    if isinstance(err, socket.gaierror):  # (a DNS server down, a network not up yet, ...)
        return (
            f"cannot reach AnkiConnect at {url}: the look-up of its host name failed: "
            f"{err.strerror or err}"
        )
    reason = err.strerror if isinstance(err, OSError) and err.strerror else err
    return f"cannot reach AnkiConnect at {url}: {reason}"


class KeyRequired(Memo2AnkiError):
    """AnkiConnect answers, and asks for its API key."""


class Refused(Memo2AnkiError):
    """AnkiConnect answered an action with an error (``error``: the add-on's words)."""

    def __init__(self, action: str, error: str) -> None:
        super().__init__(f"AnkiConnect refused '{action}': {error}")
        self.error = error


# An error message longer than this is cut: a line, not a page.
_ERROR_SHOWN = 300


def _result(action: str, reply: _Reply, key: str | None) -> msgspec.Raw:
    """The reply's result, unless it carries the add-on's error (``key``: the API key sent)."""
    if reply.error is not None:
        error = reply.error or "(no reason given)"
        if len(error) > _ERROR_SHOWN:
            error = f"{error[:_ERROR_SHOWN]}…"
        if "valid api key" in error:
            raise KeyRequired(_KEY_NOT_TAKEN if key is not None else _KEY_ASKED)
        raise Refused(action, error)
    return reply.result


# (The add-on takes a request only with the very key set in its settings: none when none is.)
_KEY_ASKED = (
    "AnkiConnect asks for its API key: give it with --ankiconnect-key KEY "
    "(or MEMO2ANKI_ANKICONNECT_KEY)"
)
_KEY_NOT_TAKEN = (
    "AnkiConnect did not take the API key given (--ankiconnect-key or "
    "MEMO2ANKI_ANKICONNECT_KEY): give the apiKey of its settings in Anki (Tools > Add-ons > "
    "AnkiConnect > Config), or none when it has none"
)


def detect(url: str = DEFAULT_URL, key: str | None = None, timeout: float = 1.0) -> bool:
    """Whether AnkiConnect (protocol 6 or later) answers at ``url``."""
    return why_not(url, key, timeout) is None


def why_not(url: str = DEFAULT_URL, key: str | None = None, timeout: float = 1.0) -> str | None:
    """Why AnkiConnect (protocol 6 or later) does not answer at ``url``, in a few words (the
    address left out: the caller names it); None when it does."""
    try:
        version = AnkiConnect(url, key).version(timeout)
    except KeyRequired:
        return None  # Anki is there and asks for a key: the key is the person's to give
    except Memo2AnkiError as err:
        said = str(err)
        for prefix in (f"cannot reach AnkiConnect at {url}: ", f"AnkiConnect at {url} ", f"{url} "):
            said = said.removeprefix(prefix)
        return said
    return None if version >= PROTOCOL else f"it speaks protocol {version}, not {PROTOCOL}"


def active_profile(url: str = DEFAULT_URL, key: str | None = None) -> str | None:
    """The profile Anki has open; None when its AnkiConnect is too old to say (it does not
    know ``getActiveProfile``) or none is open. Any other failure to ask is a
    Memo2AnkiError: which profile is open decides which note ids are Anki's, so it is never
    guessed."""
    try:
        name = AnkiConnect(url, key, timeout=5.0).call("getActiveProfile")
    except Refused as err:
        if err.error == "unsupported action":
            return None
        raise Memo2AnkiError(f"cannot tell which profile Anki has open: {err}") from None
    except KeyRequired:
        raise
    except Memo2AnkiError as err:
        raise Memo2AnkiError(f"cannot tell which profile Anki has open: {err}") from None
    return name if isinstance(name, str) else None
