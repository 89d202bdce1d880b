"""A stand-in for the AnkiConnect add-on (2055492159), for tests: protocol version 6 as the
add-on speaks it, backed by a real collection opened with Anki's library, so what a sync did
can be checked in the collection itself. Its whole protocol lives in this module.

What it copies from the add-on (plugin/__init__.py and web.py, read, not copied): a request
is ``{"action", "version", "params", "key"}``; ``version`` defaults to 4, under which a success
is the bare result; from 5 on the reply is ``{"result", "error"}``, and an error is always
``{"result": null, "error": message}``. A wrong key is ``valid api key must be provided``, an
unknown action ``unsupported action``, wrong parameters Python's own TypeError message.
``multi`` runs each sub-action through the same handler (each with its own version), one
after another, with no rollback. An empty body answers ``{"apiVersion": "AnkiConnect v.6"}``;
a body that is not a JSON object with an action is an error reply like any other (the JSON
parser's message). It serves on 127.0.0.1 on an ephemeral port only. Where it and the real
add-on were seen to differ (tests/test_real_anki.py asks the add-on itself), the add-on is
right and this copies it.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hashlib
import inspect
import json
import os
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from anki.collection import Collection
from anki.consts import MODEL_CLOZE
from anki.errors import NotFoundError

API_VERSION = 6
# How a hostile server at AnkiConnect's address can answer instead (see _misbehave).
FAULTS = (
    "silent",
    "drip",
    "drip-headers",
    "garbage",
    "close",
    "cut",
    "huge",
    "deep",
    "not json",
    "http 500",
    "bad chunk",
    "empty objects",
)


def _request(action: str, version: int | None = 6, **params: Any) -> bytes:
    message: dict[str, Any] = {"action": action, "params": params}
    if version is not None:
        message["version"] = version
    return json.dumps(message).encode("utf-8")


_DATA = b"memo2anki"
# What the add-on answers to requests whose answers do not depend on what the profile holds:
# (request body, reply). tests/test_real_anki.py checks these against the add-on itself in
# real Anki, test_sync_ankiconnect.py against this stand-in, so the two cannot drift apart.
ADD_ON_ANSWERS: list[tuple[bytes, Any]] = [
    (b"", {"apiVersion": "AnkiConnect v.6"}),
    (b"not json", {"result": None, "error": "Expecting value: line 1 column 1 (char 0)"}),
    (_request("version"), {"result": 6, "error": None}),
    (_request("version", version=None), 6),  # no version: answered as version 4, bare
    (_request("nope"), {"result": None, "error": "unsupported action"}),
    (
        _request("multi", actions=[{"action": "version", "version": 6}, {"action": "version"}]),
        {"result": [{"result": 6, "error": None}, 6], "error": None},  # each by its version
    ),
    (_request("notesInfo", notes=[5]), {"result": [{}], "error": None}),
    (_request("getDeckConfig", deck="no such deck"), {"result": False, "error": None}),
    (_request("areSuspended", cards=[5]), {"result": [None], "error": None}),
    (_request("suspend", cards=[]), {"result": False, "error": None}),
    (_request("unsuspend", cards=[]), {"result": None, "error": None}),  # not a boolean
    (
        _request("updateNoteFields", note={"id": 5, "fields": {}}),
        {"result": None, "error": "Note was not found: 5"},
    ),
    (
        _request("notesInfo", nope=[1]),
        {
            "result": None,
            "error": "AnkiConnect.notesInfo() got an unexpected keyword argument 'nope'",
        },
    ),
    (  # data whose MD5 is the skipHash given: nothing stored, null
        _request(
            "storeMediaFile",
            filename="_memo2anki-skipped.txt",
            data=base64.b64encode(_DATA).decode("ascii"),
            skipHash=hashlib.md5(_DATA).hexdigest(),
        ),
        {"result": None, "error": None},
    ),
]


class AnkiConnectStandIn:
    """A stand-in for the AnkiConnect add-on over a real collection (``with`` starts and stops
    it). ``requests`` keeps every request as received, sub-actions of ``multi`` included."""

    def __init__(
        self,
        collection: Path,
        key: str | None = None,
        profile: str = "User 1",
        active_profile: bool = True,
    ) -> None:
        self.path = collection
        self.key = key
        self.profile = profile
        # False: an AnkiConnect older than getActiveProfile (the last release on GitHub), which
        # answers it "unsupported action" and gives notes no "mod".
        self.active_profile = active_profile
        self.requests: list[dict[str, Any]] = []
        self.browsed: list[str] = []  # guiBrowse's queries
        self.col: Collection | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # A hostile server, action by action: the result to give instead of the real one
        # (in a multi too), the error to give instead, the whole reply to give instead, or
        # how to misbehave over HTTP instead of answering (FAULTS).
        self.wrong_results: dict[str, Any] = {}
        # An action's true result, changed by a function before it is sent (a server that lies).
        self.altered: dict[str, Callable[[Any], Any]] = {}
        self.errors: dict[str, Any] = {}
        self.replies: dict[str, Any] = {}
        self.faults: dict[str, str] = {}
        self._stopping = threading.Event()

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> AnkiConnectStandIn:
        self.col = Collection(str(self.path))
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                fault = standin._fault_for(body)
                if fault is not None:
                    with contextlib.suppress(OSError):
                        standin._misbehave(fault, self)
                    self.close_connection = True
                    return
                reply = standin._http_body(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        if self.col is not None:
            self.col.close()
            self.col = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- the add-on's protocol -----------------------------------------------------------

    def _http_body(self, body: bytes) -> bytes:
        if not body:
            return json.dumps({"apiVersion": f"AnkiConnect v.{API_VERSION}"}).encode()
        try:
            request = json.loads(body.decode("utf-8"))
            if not isinstance(request, dict) or not isinstance(request.get("action"), str):
                raise ValueError(f"{request!r} is not valid under the request schema")
        except ValueError as err:  # (a UnicodeDecodeError too, as in the add-on's web.py)
            return json.dumps({"result": None, "error": str(err)}).encode()
        with self._lock:
            return json.dumps(self.handler(request)).encode("utf-8")

    # -- a hostile server -----------------------------------------------------------------

    def _fault_for(self, body: bytes) -> str | None:
        try:
            action = json.loads(body.decode("utf-8")).get("action")
        except (ValueError, AttributeError):
            return None
        return self.faults.get(action) if isinstance(action, str) else None

    def _misbehave(self, fault: str, handler: BaseHTTPRequestHandler) -> None:
        """Answer as no AnkiConnect does: ``fault`` is one of FAULTS."""
        out = handler.wfile
        if fault == "silent":  # reads the request, never answers
            self._stopping.wait(600)
        elif fault == "drip":  # a byte at a time, for ever: each read gets something
            out.write(b"HTTP/1.0 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
            out.write(b'{"result": [')
            while not self._stopping.wait(0.05):
                out.write(b"1,")
                out.flush()
        elif fault == "drip-headers":  # never even ends its headers
            out.write(b"HTTP/1.0 200 OK\r\n")
            while not self._stopping.wait(0.05):
                out.write(b"X")
                out.flush()
        elif fault == "garbage":
            out.write(b"\x00\xffSSH-2.0-OpenSSH\r\n\r\n")
        elif fault == "close":  # closes without a word
            pass
        elif fault == "cut":  # a promised body cut short
            out.write(b'HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n{"result": [1, 2')
        elif fault == "huge":  # an answer with no end in sight
            out.write(b"HTTP/1.0 200 OK\r\n\r\n")
            chunk = b" " * 2**20
            while not self._stopping.is_set():
                out.write(chunk)
        elif fault == "deep":
            depth = 200_000
            body = b'{"result": ' + b"[" * depth + b"]" * depth + b', "error": null}'
            out.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        elif fault == "not json":
            body = b"<html>Anki</html>"
            out.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        elif fault == "http 500":
            out.write(b"HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
        elif fault == "bad chunk":  # a chunk of a negative size
            out.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n")
        elif fault == "empty objects":  # 24 MB of {} where ids, notes or replies belong
            head, piece, tail = b'{"result": [', b"{}," * 2**20, b'{}], "error": null}'
            size = len(head) + 8 * len(piece) + len(tail)
            out.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (size, head))
            for _ in range(8):
                out.write(piece)
            out.write(tail)
        else:
            raise ValueError(fault)
        out.flush()

    def handler(self, request: dict[str, Any]) -> Any:
        self.requests.append(request)
        name = request.get("action", "")
        if name in self.replies:
            return self.replies[name]
        if name in self.wrong_results:
            return {"result": self.wrong_results[name], "error": None}
        if name in self.errors:
            return {"result": None, "error": self.errors[name]}
        version = request.get("version", 4)
        params = request.get("params", {})
        key = request.get("key")
        try:
            if key != self.key and name != "requestPermission":
                raise Exception("valid api key must be provided")
            method = self._actions().get(name)
            if method is None:
                raise Exception("unsupported action")
            result = method(**params)
            if name in self.altered:
                result = self.altered[name](result)
            return result if version <= 4 else {"result": result, "error": None}
        except Exception as err:
            # Wrong parameters: Python's message, naming the add-on's class as it does.
            message = str(err).replace(f"{type(self).__name__}.", "AnkiConnect.")
            return {"result": None, "error": message}

    def _actions(self) -> dict[str, Callable[..., Any]]:
        left_out = {"handler"} | ({"getActiveProfile"} if not self.active_profile else set())
        return {
            name: getattr(self, name)
            for name, _ in inspect.getmembers(type(self), inspect.isfunction)
            if name[0].islower() and name not in left_out
        }

    # -- helpers as the add-on has them --------------------------------------------------

    def _collection(self) -> Collection:
        if self.col is None:
            raise Exception("collection is not available")
        return self.col

    def _note(self, note_id: int) -> Any:
        try:
            return self._collection().get_note(note_id)
        except NotFoundError:
            raise NotFoundError(f"Note was not found: {note_id}", None, None, None) from None

    def _card(self, card_id: int) -> Any:
        try:
            return self._collection().get_card(card_id)
        except NotFoundError:
            raise NotFoundError(f"Card was not found: {card_id}", None, None, None) from None

    def _create_note(self, note: dict[str, Any]) -> tuple[Any, int]:
        col = self._collection()
        model = col.models.by_name(note["modelName"])
        if model is None:
            raise Exception("model was not found: {}".format(note["modelName"]))
        deck = col.decks.by_name(note["deckName"])
        if deck is None:
            raise Exception("deck was not found: {}".format(note["deckName"]))
        anki_note = col.new_note(model)
        if "tags" in note:
            anki_note.tags = note["tags"]
        for name, value in note["fields"].items():
            for anki_name in anki_note.keys():  # noqa: SIM118 (a Note is not a dict)
                if name.lower() == anki_name.lower():
                    anki_note[anki_name] = value
                    break
        allow = note.get("options", {}).get("allowDuplicate", False)
        if type(allow) is not bool:
            raise Exception('option parameter "allowDuplicate" must be boolean')
        state = anki_note.fields_check()
        if state == 1:  # EMPTY
            raise Exception("cannot create note because it is empty")
        if state == 2 and not allow:  # DUPLICATE
            raise Exception("cannot create note because it is a duplicate")
        return anki_note, deck["id"]

    # -- actions (the ones memo2anki's sync uses, and a few neighbours) ------------------

    def version(self) -> int:
        return API_VERSION

    def getActiveProfile(self) -> str:
        return self.profile

    def multi(self, actions: list[dict[str, Any]]) -> list[Any]:
        return [self.handler(action) for action in actions]

    def deckNames(self) -> list[str]:
        return [d.name for d in self._collection().decks.all_names_and_ids()]

    def deckNamesAndIds(self) -> dict[str, int]:
        return {d.name: int(d.id) for d in self._collection().decks.all_names_and_ids()}

    def createDeck(self, deck: str) -> int:
        return int(self._collection().decks.id(deck, create=True) or 0)

    def getDecks(self, cards: list[int]) -> dict[str, list[int]]:
        col = self._collection()
        decks: dict[str, list[int]] = {}
        for card in cards:
            did = col.db.scalar("select did from cards where id=?", card)
            decks.setdefault(col.decks.get(did)["name"], []).append(card)
        return decks

    def getDeckConfig(self, deck: str) -> Any:
        # As the add-on: a deck known by its exact name only; a filtered deck's answer is the
        # deck itself ("dyn" true), a normal deck's its options ("dyn" false).
        if deck not in self.deckNames():
            return False
        col = self._collection()
        did = col.decks.id(deck)
        assert did is not None
        return col.decks.config_dict_for_deck_id(did)

    def changeDeck(self, cards: list[int], deck: str) -> None:
        col = self._collection()
        did = col.decks.id(deck, create=True)
        assert did is not None
        col.sched.remFromDyn(cards)  # out of any filtered deck first, as the add-on does
        col.set_deck(cards, did)

    def modelNames(self) -> list[str]:
        return [m.name for m in self._collection().models.all_names_and_ids()]

    def modelNamesAndIds(self) -> dict[str, int]:
        col = self._collection()
        return {n.name: n.id for n in col.models.all_names_and_ids()}

    def modelFieldNames(self, modelName: str) -> list[str]:
        model = self._collection().models.by_name(modelName)
        if model is None:
            raise Exception(f"model was not found: {modelName}")
        return [f["name"] for f in model["flds"]]

    def modelTemplates(self, modelName: str) -> dict[str, dict[str, str]]:
        # (By name, in the note type's order: the add-on's dict, whose order JSON keeps.)
        model = self._collection().models.by_name(modelName)
        if model is None:
            raise Exception(f"model was not found: {modelName}")
        return {t["name"]: {"Front": t["qfmt"], "Back": t["afmt"]} for t in model["tmpls"]}

    def modelStyling(self, modelName: str) -> dict[str, str]:
        model = self._collection().models.by_name(modelName)
        if model is None:
            raise Exception(f"model was not found: {modelName}")
        return {"css": model["css"]}

    def createModel(
        self,
        modelName: str,
        inOrderFields: list[str],
        cardTemplates: list[dict[str, str]],
        css: str | None = None,
        isCloze: bool = False,
    ) -> dict[str, Any]:
        if len(inOrderFields) == 0:
            raise Exception("Must provide at least one field for inOrderFields")
        if len(cardTemplates) == 0:
            raise Exception("Must provide at least one card for cardTemplates")
        mm = self._collection().models
        if modelName in mm.all_names():
            raise Exception("Model name already exists")
        m = mm.new(modelName)
        if isCloze:
            m["type"] = MODEL_CLOZE
        for field in inOrderFields:
            mm.add_field(m, mm.new_field(field))
        if css is not None:
            m["css"] = css
        for count, card in enumerate(cardTemplates, start=1):
            t = mm.new_template(card.get("Name", f"Card {count}"))
            t["qfmt"], t["afmt"] = card["Front"], card["Back"]
            mm.add_template(m, t)
        mm.add(m)
        return dict(m)

    def findNotes(self, query: str | None = None) -> list[int]:
        if query is None:
            return []
        return [int(n) for n in self._collection().find_notes(query)]

    def findCards(self, query: str | None = None) -> list[int]:
        if query is None:
            return []
        return [int(c) for c in self._collection().find_cards(query)]

    def guiBrowse(self, query: str | None = None, reorderCards: Any = None) -> list[int]:
        """The add-on opens Anki's browser on ``query`` and answers the cards it finds; here
        ``browsed`` keeps each query, as the browser's search line would show it."""
        if query is not None:
            self.browsed.append(query)
        return self.findCards(query)

    def notesInfo(self, notes: list[int]) -> list[dict[str, Any]]:
        col = self._collection()
        result: list[dict[str, Any]] = []
        for nid in notes:
            try:
                note = self._note(nid)
            except NotFoundError:
                result.append({})
                continue
            model = note.note_type()
            fields = {
                f["name"]: {"value": note.fields[f["ord"]], "order": f["ord"]}
                for f in model["flds"]
            }
            cards = col.db.list("select id from cards where nid = ? order by ord", note.id)
            result.append(
                {
                    "noteId": note.id,
                    "profile": self.profile,
                    "tags": note.tags,
                    "fields": fields,
                    "modelName": model["name"],
                    "mod": note.mod,
                    "cards": cards,
                }
            )
            if not self.active_profile:
                del result[-1]["mod"], result[-1]["profile"]
        return result

    def cardsInfo(self, cards: list[int]) -> list[dict[str, Any]]:
        col = self._collection()
        result: list[dict[str, Any]] = []
        for cid in cards:
            try:
                card = self._card(cid)
            except NotFoundError:
                result.append({})
                continue
            note = card.note()
            model = note.note_type()
            fields = {
                f["name"]: {"value": note.fields[f["ord"]], "order": f["ord"]}
                for f in model["flds"]
            }
            result.append(
                {
                    "cardId": card.id,
                    "fields": fields,
                    "fieldOrder": card.ord,
                    "modelName": model["name"],
                    "ord": card.ord,
                    "deckName": col.decks.name(card.did),
                    "note": card.nid,
                    "type": card.type,
                    "queue": card.queue,
                    "due": card.due,
                    "reps": card.reps,
                    "lapses": card.lapses,
                    "mod": card.mod,
                }
            )
        return result

    def addNote(self, note: dict[str, Any]) -> int:
        anki_note, deck_id = self._create_note(note)
        self._collection().add_note(anki_note, deck_id)
        return int(anki_note.id)

    def addNotes(self, notes: list[dict[str, Any]]) -> list[int]:
        # The add-on's newer releases: every note checked, and none added if one fails.
        results: list[int] = []
        errors: list[str] = []
        for note in notes:
            try:
                results.append(self.addNote(note))
            except Exception as err:
                errors.append(str(err))
        if errors:
            if results:
                self._collection().remove_notes(results)
            raise Exception(str(errors))
        return results

    def canAddNotesWithErrorDetail(self, notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for note in notes:
            try:
                self._create_note(note)
                results.append({"canAdd": True})
            except Exception as err:
                results.append({"canAdd": False, "error": str(err)})
        return results

    def updateNoteFields(self, note: dict[str, Any]) -> None:
        anki_note = self._note(note["id"])
        for name, value in note["fields"].items():
            if name in anki_note:
                anki_note[name] = value
        self._collection().update_note(anki_note)

    def updateNoteTags(self, note: int, tags: list[str] | str) -> None:
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise Exception("Must provide tags as a list of strings")
        anki_note = self._note(note)
        anki_note.tags = tags
        self._collection().update_note(anki_note)

    def updateNote(self, note: dict[str, Any]) -> None:
        updated = False
        if "fields" in note:
            self.updateNoteFields(note)
            updated = True
        if "tags" in note:
            self.updateNoteTags(note["id"], note["tags"])
            updated = True
        if not updated:
            raise Exception('Must provide a "fields" or "tags" property.')

    def addTags(self, notes: list[int], tags: str, add: bool = True) -> None:
        col = self._collection()
        if add:
            col.tags.bulk_add(notes, tags)
        else:
            col.tags.bulk_remove(notes, tags)

    def removeTags(self, notes: list[int], tags: str) -> None:
        self.addTags(notes, tags, False)

    def getTags(self) -> list[str]:
        return self._collection().tags.all()

    def suspended(self, card: int) -> bool:
        return bool(self._card(card).queue == -1)

    def areSuspended(self, cards: list[int]) -> list[bool | None]:
        out: list[bool | None] = []
        for card in cards:
            try:
                out.append(self.suspended(card))
            except NotFoundError:
                out.append(None)
        return out

    def suspend(self, cards: list[int], suspend: bool = True) -> bool:
        cards = [c for c in cards if self.suspended(c) != suspend]
        if not cards:
            return False
        sched = self._collection().sched
        if suspend:
            sched.suspend_cards(cards)
        else:
            sched.unsuspend_cards(cards)
        return True

    def unsuspend(self, cards: list[int]) -> None:
        self.suspend(cards, False)  # (the add-on answers null, whatever it did)

    def deleteNotes(self, notes: list[int]) -> None:
        self._collection().remove_notes(notes)

    def storeMediaFile(
        self,
        filename: str,
        data: str | None = None,
        path: str | None = None,
        url: str | None = None,
        skipHash: str | None = None,
        deleteExisting: bool = True,
    ) -> str | None:
        if not (data or path or url):
            raise Exception('You must provide a "data", "path", or "url" field.')
        if url:
            raise Exception("the stand-in downloads nothing")
        if data:
            content = base64.b64decode(data)
        else:
            assert path is not None
            content = Path(path).read_bytes()
        if skipHash is not None and skipHash == hashlib.md5(content).hexdigest():
            return None  # the data is what the caller said to skip: nothing stored
        media = self._collection().media
        if deleteExisting and media.have(filename):
            media.trash_files([filename])
        return str(media.write_data(filename, content))

    def getMediaFilesNames(self, pattern: str = "*") -> list[str]:
        folder = self._collection().media.dir()
        return [n for n in os.listdir(folder) if fnmatch.fnmatch(n, pattern)]

    def importPackage(self, path: str) -> bool:
        # As the add-on: Anki's AnkiPackageImporter (which in Anki 2.1.50+ is the new importer
        # with note types merged and scheduling and deck options taken along).
        from anki.importing import AnkiPackageImporter

        AnkiPackageImporter(self._collection(), path).run()
        return True
