"""Real file-system faults for tests, made with the system's own tools: a folder even root
cannot write to (the immutable attribute), and a small file system that fills up (a tmpfs).
Each skips the test, with the reason, where this machine cannot make it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False)


@contextmanager
def read_only(*paths: Path, below: bool = True) -> Iterator[None]:
    """``paths`` (and all below them, unless not ``below``) unwritable, even by root:
    ``chattr +i``, undone after.
    Plain permissions would not do: the tests run as root, which they do not stop."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed: cannot make a folder read-only for root")
    done: list[Path] = []
    try:
        for path in paths:
            made = _run("chattr", *(["-R"] if below else []), "+i", str(path))
            if made.returncode != 0:
                pytest.skip(f"this file system keeps no immutable attribute: {made.stderr}")
            done.append(path)
        yield
    finally:
        for path in done:
            _run("chattr", "-R", "-i", str(path))


@contextmanager
def small_disk(folder: Path, size: str = "256k") -> Iterator[Path]:
    """``folder`` as a file system of its own of ``size`` bytes (a tmpfs), unmounted after."""
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    made = _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.strip()}")
    try:
        yield folder
    finally:
        _run("umount", "-l", str(folder))


def fill(folder: Path) -> None:
    """Fill the file system ``folder`` is on, up to its last byte (in ``folder/filler``)."""
    with open(folder / "filler", "wb", buffering=0) as f:
        for size in (65536, 1):
            try:
                while f.write(b"\0" * size):
                    pass
            except OSError:
                pass


@contextmanager
def read_only_disk(folder: Path, files: dict[str, bytes]) -> Iterator[Path]:
    """``folder`` as a small file system holding ``files``, mounted read-only."""
    with small_disk(folder, "4m"):
        for name, data in files.items():
            (folder / name).write_bytes(data)
        made = _run("mount", "-o", "remount,ro", str(folder))
        if made.returncode != 0:
            pytest.skip(f"cannot remount a tmpfs read-only here: {made.stderr.strip()}")
        yield folder
