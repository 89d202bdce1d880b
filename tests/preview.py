"""Preview cards the way Anki shows them: standalone pages and headless-Chromium screenshots.

The card itself is never rebuilt here. :func:`anki_cards` imports a package with Anki's own
library (the ``anki`` package, from the test extra) and takes each card's question and answer
exactly as Anki renders them: templates filled in by Anki's template engine, the note type's
CSS in a ``<style>``, media in Anki's media folder. Only the page around the card is ours, a
copy of what an Anki client puts there (:data:`PHONE`, :data:`DESKTOP`): the body classes
``card card1`` plus, in night mode, the client's night classes, and the client's few base
rules. The one thing a client adds that a page cannot carry offline is MathJax: pass a local
copy (Debian's ``libjs-mathjax``, see :func:`find_mathjax`) to typeset math as Anki would.

:class:`Browser` drives the ``chromium`` binary over its DevTools pipe (standard library only):
an exact phone-sized viewport, which ``--window-size`` cannot give (headless windows are at
least 500 pixels wide), and a look at each page after it loaded (its height, and each image's
natural width), without adding anything to the page. Every network feature is off and every
host name unresolvable, so a card that needed the network would show it.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from memo2anki.model import Memo2AnkiError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MATHJAX_PATHS = (Path("/usr/share/javascript/mathjax/MathJax.js"),)

# Every switch that could reach the network is off; `--host-resolver-rules` makes any
# request that is still tried fail at once instead of waiting.
_CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-pipe",
)
_TIMEOUT = 60.0


class PreviewError(Memo2AnkiError):
    """A preview could not be made (no browser, or the browser failed)."""


@dataclass(frozen=True)
class Client:
    """The page an Anki client puts around a card, and the screen it is shown on."""

    name: str
    night_classes: str
    wrapper_id: str
    css: str
    width: int
    height: int
    mobile: bool


# AnkiDroid: no body margin, a small one on #content; its night class is `night_mode`.
PHONE = Client(
    name="AnkiDroid",
    night_classes="night_mode",
    wrapper_id="content",
    css="body { margin: 0; padding: 0; overflow-wrap: break-word; }\n"
    "body.night_mode { color: white; background-color: black; }\n"
    "#content { margin: 0.5em; }\n",
    width=412,
    height=915,
    mobile=True,
)
# Anki desktop's reviewer: a 20px margin; night mode adds `nightMode night_mode`.
DESKTOP = Client(
    name="Anki desktop",
    night_classes="nightMode night_mode",
    wrapper_id="qa",
    css="body { margin: 20px; overflow-wrap: break-word; }\n"
    "body.nightMode { background-color: #2c2c2c; color: #fcfcfc; }\n"
    "img { max-width: 95%; max-height: 95vh; }\n",
    width=900,
    height=900,
    mobile=False,
)

# Anki's own MathJax settings, for MathJax 2 (Debian's): \( \) inline, \[ \] display.
_MATHJAX_CONFIG = """<script type="text/x-mathjax-config">
MathJax.Hub.Config({jax: ["input/TeX", "output/SVG"], extensions: ["tex2jax.js"],
  tex2jax: {inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]],
            processEscapes: false},
  TeX: {extensions: ["AMSmath.js", "AMSsymbols.js", "noErrors.js", "noUndefined.js"]},
  messageStyle: "none", showMathMenu: false});
</script>"""

# Run in the page after it loaded (never part of it): waits for MathJax and fonts, then
# reports the page's size, its background colour and each image's natural width (0: it did
# not load).
_PROBE = """new Promise(function (resolve) {
  function report() {
    document.fonts.ready.then(function () {
      var body = document.body, last = body.lastElementChild;
      var margin = function (el) { return el ? parseFloat(getComputedStyle(el).marginBottom) : 0; };
      resolve({
        // The content's height, not the screen's: a short card makes a short picture.
        height: Math.ceil(
          body.getBoundingClientRect().bottom + Math.max(margin(body), margin(last))),
        width: document.documentElement.scrollWidth,
        background: getComputedStyle(body).backgroundColor,
        images: Array.prototype.map.call(document.images, function (img) {
          return [img.getAttribute("src"), img.naturalWidth];
        })
      });
    });
  }
  if (window.MathJax && MathJax.Hub) { MathJax.Hub.Queue(report); } else { report(); }
})"""


@dataclass(frozen=True)
class CardSides:
    """One card as Anki renders it: question and answer HTML, each with its ``<style>``."""

    front: str
    question: str
    answer: str


@dataclass(frozen=True)
class Shot:
    """One screenshot: the page, the PNG, and what the browser found on the page."""

    page: Path
    png: Path
    width: int  # the page's scroll width: wider than the screen means it scrolls sideways
    height: int
    background: str
    images: tuple[tuple[str, int], ...]

    @property
    def broken_images(self) -> list[str]:
        """Images that did not load (natural width 0)."""
        return [src for src, width in self.images if width <= 0]


def find_chromium() -> str | None:
    """The Chromium (or Chrome) binary on PATH, if any."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def find_mathjax() -> Path | None:
    """A local MathJax 2 (Debian's ``libjs-mathjax``), if installed."""
    return next((path for path in MATHJAX_PATHS if path.is_file()), None)


def anki_cards(apkg: Path, folder: Path, fronts: Sequence[str]) -> tuple[list[CardSides], Path]:
    """Import ``apkg`` into a new collection in ``folder`` and render the memo2anki cards whose
    front is in ``fronts`` (in that order) with Anki itself; also returns Anki's media folder.

    Needs Anki's library (``pip install anki``).
    """
    from anki.collection import (
        Collection,
        ImportAnkiPackageOptions,
        ImportAnkiPackageRequest,
    )

    folder.mkdir(parents=True, exist_ok=True)
    col = Collection(str(folder / "collection.anki2"))
    try:
        request = ImportAnkiPackageRequest(
            package_path=str(apkg.resolve()), options=ImportAnkiPackageOptions()
        )
        col.import_anki_package(request)
        # The reviewer escapes media names before it shows a card; so does the preview.
        escape = col.media.escape_media_filenames
        found: dict[str, CardSides] = {}
        for cid in col.find_cards('"note:memo2anki"'):
            card = col.get_card(cid)
            front = _plain(card.note()["Front"])
            if front in fronts and front not in found:
                found[front] = CardSides(front, escape(card.question()), escape(card.answer()))
        media = Path(col.media.dir())
    finally:
        col.close()
    missing = [front for front in fronts if front not in found]
    if missing:
        raise PreviewError(f"no such card in {apkg.name}: {', '.join(missing)}")
    return [found[front] for front in fronts], media


def card_page(
    side_html: str,
    media_dir: Path,
    *,
    night: bool = False,
    client: Client = PHONE,
    mathjax: Path | None = None,
) -> str:
    """A standalone page showing one card side as ``client`` does, media from ``media_dir``."""
    classes = "card card1" + (f" {client.night_classes}" if night else "")
    math = ""
    if mathjax is not None:
        math = f'{_MATHJAX_CONFIG}\n<script src="{mathjax.resolve().as_uri()}"></script>\n'
    return (
        '<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<base href="{media_dir.resolve().as_uri()}/">\n'
        f"<style>\n{client.css}</style>\n{math}</head>\n"
        f'<body class="{classes}">\n<div id="{client.wrapper_id}">{side_html}</div>\n'
        "</body>\n</html>\n"
    )


class Browser:
    """Headless Chromium, driven over the DevTools pipe (fd 3 in, fd 4 out, NUL-separated
    JSON). Use as a context manager; one browser serves any number of screenshots."""

    def __init__(self, chromium: str, timeout: float = _TIMEOUT) -> None:
        self.chromium = chromium
        self.timeout = timeout
        self._ids = 0
        self._failed: str | None = None  # set once the pipe broke: nothing more is tried
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self._profile = tempfile.TemporaryDirectory(prefix="m2a-chromium-")
        profile = Path(self._profile.name)
        # Chromium's own messages go to a file, read only to explain a failure.
        self._log = profile / "chromium.log"
        log = os.open(self._log, os.O_WRONLY | os.O_CREAT, 0o600)
        to_child, self._out = os.pipe()
        self._in, from_child = os.pipe()

        def wire_pipe() -> None:
            # In the child, before exec: the pipe ends onto fds 3 and 4, by way of two high
            # numbers, in case either end already is 3 or 4.
            os.dup2(to_child, 100)
            os.dup2(from_child, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)

        command = [chromium, *_CHROMIUM_FLAGS, f"--user-data-dir={profile / 'profile'}"]
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(3, 4),
                preexec_fn=wire_pipe,
            )
        except OSError as err:
            self._cleanup()
            raise PreviewError(f"{chromium}: {err.strerror or err}") from err
        finally:
            for fd in (to_child, from_child, log):
                os.close(fd)

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Ask the browser to quit; end it if it does not."""
        if self._process.poll() is None:
            try:
                self._write({"id": self._next_id(), "method": "Browser.close"})
                self._process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        self._cleanup()

    def screenshot(
        self, page: Path, png: Path, *, client: Client = PHONE, scale: float = 1.0
    ) -> Shot:
        """Load ``page`` on ``client``'s screen and capture its full height to ``png``."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        try:
            metrics = {
                "width": client.width,
                "height": client.height,
                "deviceScaleFactor": scale,
                "mobile": client.mobile,
            }
            self.call("Emulation.setDeviceMetricsOverride", metrics, session)
            self.call("Page.enable", {}, session)
            self.call("Page.navigate", {"url": page.resolve().as_uri()}, session)
            self.wait_for("Page.loadEventFired", session)
            probe = self.call(
                "Runtime.evaluate",
                {"expression": _PROBE, "awaitPromise": True, "returnByValue": True},
                session,
            )["result"]["value"]
            height = max(int(probe["height"]), 1)
            clip = {"x": 0, "y": 0, "width": client.width, "height": height, "scale": 1}
            shot = self.call(
                "Page.captureScreenshot",
                {"format": "png", "clip": clip, "captureBeyondViewport": True},
                session,
            )
        finally:
            with contextlib.suppress(PreviewError):
                self.call("Target.closeTarget", {"targetId": target})
        png.write_bytes(base64.b64decode(shot["data"]))
        images = tuple((str(src), int(width)) for src, width in probe["images"])
        return Shot(
            page=page,
            png=png,
            width=int(probe["width"]),
            height=height,
            background=str(probe["background"]),
            images=images,
        )

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        """Send one DevTools command and return its result."""
        message: dict[str, Any] = {"id": self._next_id(), "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._write(message)
        while True:
            reply = self._read()
            if reply.get("id") != message["id"]:
                self._events.append(reply)
                continue
            if "error" in reply:
                raise PreviewError(f"{method}: {reply['error'].get('message', reply['error'])}")
            result: dict[str, Any] = reply.get("result", {})
            return result

    def wait_for(self, event: str, session: str) -> dict[str, Any]:
        """Wait for ``event`` in ``session`` (or take it if it already came)."""
        while True:
            for i, message in enumerate(self._events):
                if message.get("method") == event and message.get("sessionId") == session:
                    del self._events[i]
                    return message
            self._events.append(self._read())

    def take_events(self, session: str) -> list[dict[str, Any]]:
        """The events of ``session`` received so far (removed from those kept)."""
        taken = [m for m in self._events if m.get("sessionId") == session]
        self._events = [m for m in self._events if m.get("sessionId") != session]
        return taken

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _write(self, message: dict[str, Any]) -> None:
        if self._failed:
            raise PreviewError(self._failed)
        try:
            os.write(self._out, json.dumps(message).encode() + b"\0")
        except OSError as err:
            raise self._failure(f"is gone ({err.strerror or err})") from err

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._in], [], [], self.timeout)
            chunk = os.read(self._in, 1 << 20) if ready else b""
            if not chunk:
                silent = f"gave no answer in {self.timeout:g} s"
                raise self._failure(silent if not ready else "exited")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def _failure(self, what: str) -> PreviewError:
        """The error for a browser that stopped answering, with the end of its own log."""
        lines = self._log.read_text(errors="replace").strip().splitlines()
        tail = "\n".join(line for line in lines[-5:] if "dbus" not in line)
        self._failed = f"{self.chromium} {what}" + (f": {tail}" if tail else "")
        return PreviewError(self._failed)

    def _cleanup(self) -> None:
        for fd in (self._in, self._out):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._profile.cleanup()


def shoot_cards(
    browser: Browser,
    cards: Sequence[CardSides],
    names: Sequence[str],
    media_dir: Path,
    out_dir: Path,
    *,
    client: Client = PHONE,
    sides: Sequence[str] = ("front", "back"),
    scale: float = 1.0,
    mathjax: Path | None = None,
) -> list[Shot]:
    """Screenshots of each card's ``sides``, light and dark, named ``NAME-back-dark.png`` and
    so on; each page is kept beside its PNG (``.html``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shots = []
    for card, name in zip(cards, names, strict=True):
        for side in sides:
            side_html = card.question if side == "front" else card.answer
            for night in (False, True):
                stem = f"{name}-{side}-{'dark' if night else 'light'}"
                page = out_dir / f"{stem}.html"
                page.write_text(
                    card_page(side_html, media_dir, night=night, client=client, mathjax=mathjax),
                    encoding="utf-8",
                )
                shots.append(
                    browser.screenshot(page, out_dir / f"{stem}.png", client=client, scale=scale)
                )
    return shots


def _plain(field_html: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", field_html)).strip()
