"""The real Anki desktop, headless, with the real AnkiConnect add-on: for tests that must see
what the add-on itself does, not what ``ankiconnect_standin.py`` says it does.

``AnkiDesktop`` makes a throwaway Anki base folder, creates a profile in it beforehand (so no
first-run dialog appears), installs the add-on there, starts Xvfb and ``anki -b BASE -p NAME``
under it, and waits until the add-on answers and the profile is open. On exit it asks Anki to
quit as File > Exit does (SIGTERM), waits for it to exit 0, and stops Xvfb; the profile's
``collection.anki2`` can then be opened with Anki's library to see what is really there.

The add-on (GPL) is never part of this repository: it is copied at test time from the folder
that ``MEMO2ANKI_ANKICONNECT_ADDON`` names (CI: ``../shared/vendor/ankiconnect/2055492159``).
The test process never imports Qt or ``aqt``: the profile is made by a child process of the
same Python, and Anki is the ``anki`` program beside it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ADDON_ENV = "MEMO2ANKI_ANKICONNECT_ADDON"
ADDON_CODE = "2055492159"  # the folder name AnkiWeb installs AnkiConnect under
MARKER_ADDON = "memo2anki_test_profile_open"
HOW_TO_RUN = (
    f"real Anki desktop tests: set {ADDON_ENV} to the AnkiConnect add-on folder "
    f"({ADDON_CODE}/), with aqt[qt] (the version of anki) and Xvfb installed"
)
START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0

# Made in a child process of the test's Python: aqt imports Qt, which the tests never do.
# Every first-run question answered beforehand, and Anki asked to look for no updates.
MAKE_PROFILE = """\
import sys
from aqt.profiles import ProfileManager

base, name = sys.argv[1], sys.argv[2]
pm = ProfileManager(ProfileManager.get_created_base_folder(base))
pm.setupMeta()
pm.create(name)
pm.meta["firstRun"] = False
pm.meta["defaultLang"] = "en_US"
pm.set_update_check(False)
pm.set_check_for_addon_updates(False)
pm.load(name)
pm.profile["autoSync"] = False
pm.set_last_loaded_profile_name(name)
pm.save()
pm.db.close()
"""

# An add-on of the tests' own: writes the open profile's name into the file that
# MEMO2ANKI_TEST_PROFILE_OPEN names once Anki has opened it (and removes it as it closes).
MARKER_CODE = """\
import os
import select

from aqt import gui_hooks, mw


def _opened():
    path = os.environ.get("MEMO2ANKI_TEST_PROFILE_OPEN")
    if path:
        with open(path + ".part", "w", encoding="utf-8") as f:
            f.write(mw.pm.name)
        os.replace(path + ".part", path)


def _closing():
    path = os.environ.get("MEMO2ANKI_TEST_PROFILE_OPEN")
    if path and os.path.exists(path):
        os.remove(path)


gui_hooks.profile_did_open.append(_opened)
gui_hooks.profile_will_close.append(_closing)
"""


class DesktopUnavailable(Exception):
    """What this machine lacks to run Anki desktop (a reason to skip, or to fail in CI)."""


class NoAqt(DesktopUnavailable):
    """This Python has no aqt (Anki desktop): always a skip (CI installs it in one venv)."""


def anki_program() -> Path:
    """The ``anki`` program of this Python's environment."""
    here = Path(sys.executable).parent / ("anki.exe" if os.name == "nt" else "anki")
    if here.exists():
        return here
    found = shutil.which("anki")
    if found is None:
        raise DesktopUnavailable(f"no 'anki' program beside {sys.executable} or on PATH")
    return Path(found)


def check_prerequisites() -> Path:
    """The add-on folder to use, or :class:`DesktopUnavailable` saying what is missing."""
    folder = os.environ.get(ADDON_ENV)
    if not folder:
        raise DesktopUnavailable(HOW_TO_RUN)
    if importlib.util.find_spec("aqt") is None:  # finds the package without importing it
        anki = importlib.metadata.version("anki")
        raise NoAqt(
            f"real Anki desktop tests: aqt is not installed in this Python ({sys.executable}); "
            f'pip install "aqt[qt]=={anki}"'
        )
    versions = {name: importlib.metadata.version(name) for name in ("aqt", "anki")}
    if versions["aqt"] != versions["anki"]:
        raise DesktopUnavailable(
            f"real Anki desktop tests: aqt {versions['aqt']} and anki {versions['anki']} "
            "differ; install the same version of both"
        )
    addon = Path(folder)
    if not (addon / "__init__.py").is_file() or not (addon / "config.json").is_file():
        raise DesktopUnavailable(
            f"{ADDON_ENV}={folder} is not the AnkiConnect add-on folder "
            "(one holding __init__.py and config.json)"
        )
    if shutil.which("Xvfb") is None:
        raise DesktopUnavailable("real Anki desktop tests: Xvfb is not installed (apt: xvfb)")
    anki_program()
    return addon


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AnkiDesktop:
    """Anki desktop with AnkiConnect on its own port, on a fresh profile in ``base``.

    ``with AnkiDesktop(base, "사용자 1") as anki:`` starts it; ``anki.call(action, **params)``
    talks to the add-on; ``with anki.stopped() as path:`` quits Anki (SIGTERM, exit 0),
    gives the collection file to open meanwhile, and starts Anki again on the same profile.
    """

    def __init__(self, base: Path, profile: str = "사용자 1", addon: Path | None = None) -> None:
        self.base = base
        self.profile = profile
        self.addon = addon if addon is not None else check_prerequisites()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.marker = base.parent / f"{base.name}.profile-open"
        self.log = base.parent / f"{base.name}.log"
        self._anki: subprocess.Popen[bytes] | None = None
        self._xvfb: subprocess.Popen[bytes] | None = None
        self._display: str | None = None
        self._key = f"memo2anki-test-{uuid.uuid4().hex}"  # never the person's own Anki
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.starts: list[float] = []  # seconds each start took

    # -- the base folder -----------------------------------------------------------------------

    @property
    def collection(self) -> Path:
        return self.base / self.profile / "collection.anki2"

    def prepare(self) -> None:
        """The base folder: the profile, AnkiConnect on ``self.port``, the marker add-on."""
        self.base.mkdir(parents=True, exist_ok=True)
        made = subprocess.run(
            [sys.executable, "-c", MAKE_PROFILE, str(self.base), self.profile],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )
        if made.returncode != 0:
            raise RuntimeError(f"could not make the profile:\n{made.stdout}{made.stderr}")
        addons = self.base / "addons21"
        target = addons / ADDON_CODE
        shutil.copytree(
            self.addon, target, ignore=shutil.ignore_patterns("__pycache__", "meta.json")
        )
        for path in [target, *target.rglob("*")]:  # the vendored copy is read-only
            path.chmod(path.stat().st_mode | 0o200)
        # Anki reads an add-on's config as config.json overlaid by meta.json's "config":
        # config.json stays as shipped; only the port moves, and only to 127.0.0.1.
        meta = {"config": {"webBindAddress": "127.0.0.1", "webBindPort": self.port}}
        (target / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        marker = addons / MARKER_ADDON
        marker.mkdir()
        (marker / "__init__.py").write_text(MARKER_CODE, encoding="utf-8")

    # -- running -------------------------------------------------------------------------------

    def _start_xvfb(self) -> None:
        """Xvfb on a display it picks (written to a pipe by -displayfd), no TCP."""
        read, write = os.pipe()
        try:
            command = ["Xvfb", "-displayfd", str(write), "-nolisten", "tcp"]
            self._xvfb = subprocess.Popen(
                [*command, "-screen", "0", "1280x900x24"],
                pass_fds=(write,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            os.close(write)
            write = -1
            number = b""
            deadline = time.monotonic() + 20
            while not number.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([read], [], [], left)[0]:
                    raise RuntimeError("Xvfb gave no display number within 20 s")
                chunk = os.read(read, 16)
                if not chunk:
                    raise RuntimeError("Xvfb exited before giving its display number")
                number += chunk
            self._display = f":{int(number)}"
        except BaseException:
            self.stop_xvfb()
            raise
        finally:
            os.close(read)
            if write != -1:
                os.close(write)

    def _environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ANKICONNECT_", "QT_QPA", "WAYLAND", "ANKI_"))
        }
        assert self._display is not None
        env.update(
            DISPLAY=self._display,
            QT_QPA_PLATFORM="xcb",
            # As root, QtWebEngine refuses to start with its sandbox.
            QTWEBENGINE_DISABLE_SANDBOX="1",
            QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox",
            ANKI_SINGLE_INSTANCE_KEY=self._key,
            MEMO2ANKI_TEST_PROFILE_OPEN=str(self.marker),
            XDG_CACHE_HOME=str(self.base.parent / "xdg-cache"),
            XDG_CONFIG_HOME=str(self.base.parent / "xdg-config"),
            XDG_RUNTIME_DIR=str(self._runtime_dir()),
        )
        return env

    def _runtime_dir(self) -> Path:
        path = self.base.parent / "xdg-runtime"
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start Xvfb (if not running) and Anki; return once AnkiConnect answers version 6
        and the profile is open. Raises with the end of Anki's log otherwise."""
        began = time.monotonic()
        if self._xvfb is None:
            self._start_xvfb()
        self.marker.unlink(missing_ok=True)
        with self.log.open("ab") as log:
            log.write(f"\n=== anki -b {self.base} -p {self.profile}\n".encode())
            log.flush()
            self._anki = subprocess.Popen(
                [str(anki_program()), "-b", str(self.base), "-p", self.profile],
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = began + timeout
        while True:
            if self._anki.poll() is not None:
                raise RuntimeError(
                    f"Anki exited with {self._anki.returncode} while starting:\n{self.log_tail()}"
                )
            if self.marker.exists() and self._answers_version():
                break
            if time.monotonic() > deadline:
                self._kill()
                raise RuntimeError(
                    f"Anki did not open profile {self.profile!r} with AnkiConnect answering "
                    f"on {self.url} within {timeout:g} s:\n{self.log_tail()}"
                )
            time.sleep(0.2)
        opened = self.marker.read_text(encoding="utf-8")
        if opened != self.profile:
            raise RuntimeError(f"Anki opened profile {opened!r}, not {self.profile!r}")
        self.starts.append(time.monotonic() - began)

    def _answers_version(self) -> bool:
        try:
            body = b'{"action": "version", "version": 6}'
            return bool(self.post(body, timeout=2) == {"result": 6, "error": None})
        except (OSError, ValueError):
            return False

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """Quit Anki as File > Exit does (SIGTERM): it closes the collection and exits.
        Returns its exit status (0 when it closed cleanly)."""
        if self._anki is None:
            return 0
        process, self._anki = self._anki, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise RuntimeError(
                    f"Anki did not quit within {timeout:g} s of SIGTERM:\n{self.log_tail()}"
                ) from None
        return process.returncode

    def _kill(self) -> None:
        if self._anki is not None and self._anki.poll() is None:
            os.killpg(self._anki.pid, signal.SIGKILL)
            self._anki.wait()
        self._anki = None

    def stop_xvfb(self) -> None:
        if self._xvfb is not None:
            self._xvfb.terminate()
            try:
                self._xvfb.wait(10)
            except subprocess.TimeoutExpired:
                self._xvfb.kill()
                self._xvfb.wait()
            self._xvfb = None

    def __enter__(self) -> AnkiDesktop:
        try:
            self.prepare()
            self.start()
        except BaseException:
            self._kill()
            self.stop_xvfb()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            code = self.stop()
        finally:
            self._kill()
            self.stop_xvfb()
        if code != 0 and exc[0] is None:
            raise RuntimeError(f"Anki exited with {code} on SIGTERM:\n{self.log_tail()}")

    @contextmanager
    def stopped(self) -> Iterator[Path]:
        """Anki quit (exit 0 asserted), its collection file free to open; Anki started again
        on the same profile after the block."""
        code = self.stop()
        if code != 0:
            raise RuntimeError(f"Anki exited with {code} on SIGTERM:\n{self.log_tail()}")
        try:
            yield self.collection
        finally:  # also after a failed check: the module's next test needs Anki
            self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- talking to the add-on -----------------------------------------------------------------

    def post(self, body: bytes, timeout: float = 30) -> Any:
        """A request as it comes (any body), the add-on's answer decoded."""
        request = urllib.request.Request(self.url, data=body, method="POST")
        with self.opener.open(request, timeout=timeout) as response:
            return json.loads(response.read())

    def call(self, action: str, **params: Any) -> Any:
        """One AnkiConnect action (protocol 6); its result, or AssertionError with its error."""
        message = {"action": action, "version": 6, "params": params}
        reply = self.post(json.dumps(message).encode("utf-8"))
        assert reply["error"] is None, f"AnkiConnect refused {action}: {reply['error']}"
        return reply["result"]


def addon_or_skip() -> Path:
    """The add-on folder, or this test module skipped with one line saying how to run it (call
    it at module level). Under ``CI=true`` with the add-on's variable set, what is missing
    fails instead, except aqt itself: CI runs the suite again on other Pythons without it."""
    import pytest

    try:
        return check_prerequisites()
    except DesktopUnavailable as err:
        missing = err
    wanted = os.environ.get("CI") == "true" and os.environ.get(ADDON_ENV)
    if wanted and not isinstance(missing, NoAqt):
        pytest.fail(str(missing), pytrace=False)
    pytest.skip(str(missing), allow_module_level=True)
