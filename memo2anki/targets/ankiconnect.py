"""A small client for the AnkiConnect add-on (2055492159), protocol version 6.

It talks to one address only: 127.0.0.1:8765, or the one given. Proxies from the environment
are ignored and redirects refused, so a request never leaves for another host.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from memo2anki.model import Memo2AnkiError

DEFAULT_URL = "http://127.0.0.1:8765"
PROTOCOL = 6
ADDON_CODE = 2055492159


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class AnkiConnect:
    """Requests to AnkiConnect; each add-on error becomes a :class:`Memo2AnkiError`."""

    def __init__(self, url: str = DEFAULT_URL, key: str | None = None, timeout: float = 30.0):
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise Memo2AnkiError(f"AnkiConnect address {url!r}: give it as http://HOST:PORT")
        self.url = url
        self.key = key
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)

    def _post(self, payload: dict[str, Any], timeout: float) -> Any:
        body = json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with self._opener.open(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            raise Memo2AnkiError(f"AnkiConnect at {self.url} answered HTTP {err.code}") from err
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            if isinstance(reason, socket.timeout | TimeoutError):
                raise Memo2AnkiError(
                    f"AnkiConnect at {self.url} did not answer within {timeout:g} s "
                    "(is Anki busy with a dialog open?)"
                ) from err
            raise Memo2AnkiError(f"cannot reach AnkiConnect at {self.url}: {reason}") from err
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise Memo2AnkiError(f"{self.url} did not answer as AnkiConnect does") from err

    def _message(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"action": action, "version": PROTOCOL, "params": params}
        if self.key is not None:
            message["key"] = self.key
        return message

    def call(self, action: str, **params: Any) -> Any:
        """One action; its result, or a Memo2AnkiError carrying the add-on's message."""
        return _result(action, self._post(self._message(action, params), self.timeout))

    def multi(self, actions: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Several actions in one round trip (not a transaction: each one is applied as it
        comes); their results in order. The first failed action's message is raised, after
        the others were applied."""
        if not actions:
            return []
        messages = [self._message(action, params) for action, params in actions]
        replies = self.call("multi", actions=messages)
        if not isinstance(replies, list) or len(replies) != len(actions):
            raise Memo2AnkiError(f"{self.url} did not answer 'multi' as AnkiConnect does")
        return [_result(action, reply) for (action, _), reply in zip(actions, replies, strict=True)]

    def version(self, timeout: float = 1.0) -> int:
        """The add-on's protocol version; raises when nothing (or not AnkiConnect) answers."""
        reply = self._post(self._message("version", {}), timeout)
        version = _result("version", reply)
        if not isinstance(version, int):
            raise Memo2AnkiError(f"{self.url} did not answer 'version' as AnkiConnect does")
        return version


class KeyRequired(Memo2AnkiError):
    """AnkiConnect answers, and asks for its API key."""


def _result(action: str, reply: Any) -> Any:
    if not isinstance(reply, dict) or set(reply) != {"result", "error"}:
        raise Memo2AnkiError(f"AnkiConnect's answer to '{action}' is not protocol version 6")
    if reply["error"] is not None:
        error = str(reply["error"])
        if "valid api key" in error:
            raise KeyRequired(
                "AnkiConnect asks for its API key: give it with --ankiconnect-key KEY "
                "(or MEMO2ANKI_ANKICONNECT_KEY)"
            )
        raise Memo2AnkiError(f"AnkiConnect refused '{action}': {error}")
    return reply["result"]


def detect(url: str = DEFAULT_URL, key: str | None = None, timeout: float = 1.0) -> bool:
    """Whether AnkiConnect (protocol 6 or later) answers at ``url``."""
    try:
        return AnkiConnect(url, key).version(timeout) >= PROTOCOL
    except KeyRequired:
        return True  # Anki is there and asks for a key: the key is the person's to give
    except Memo2AnkiError:
        return False


def active_profile(url: str = DEFAULT_URL, key: str | None = None) -> str | None:
    """The profile Anki has open, when its AnkiConnect is recent enough to say."""
    try:
        name = AnkiConnect(url, key, timeout=5.0).call("getActiveProfile")
    except Memo2AnkiError:
        return None
    return name if isinstance(name, str) else None
