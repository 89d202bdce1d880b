"""Run the command line in a child process, under limits a test cannot put on itself.

- ``honour_permissions``: root reads and writes whatever the permission bits say (CI runs
  as root), so the child gives up root's override (the ``CAP_DAC_OVERRIDE`` and
  ``CAP_DAC_READ_SEARCH`` capabilities) before it starts; it keeps the user id, so the
  files under test stay its own and only their permission bits decide. Not root: nothing
  to give up. Where capabilities cannot be dropped the test is skipped, never passed.
- ``max_file_size``: the kernel refuses to grow any file past that size (``RLIMIT_FSIZE``),
  as a full disk would.
- ``max_memory``: the child's address space is bounded (``RLIMIT_AS``): a run that reads a
  file of gigabytes whole fails (MemoryError) instead of taking the machine's memory.
- :func:`run_on_tiny_disk`: the output folder is a real, tiny tmpfs (in a user and mount
  namespace of its own, no privileges needed) so writes fail with "No space left on device".
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
CANNOT_DROP = 77  # the child's exit status when it could not give up root's override

_CHILD = r"""
import ctypes, os, resource, signal, sys

def drop_permission_override():
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
    class Data(ctypes.Structure):
        _fields_ = [(name, ctypes.c_uint32) for name in ("effective", "permitted", "inheritable")]
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
    override = (1 << 1) | (1 << 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    data[0].effective &= ~override
    data[0].permitted &= ~override
    data[0].inheritable &= ~override
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")

if os.environ.pop("M2A_HONOUR_PERMISSIONS", "") and os.geteuid() == 0:
    try:
        drop_permission_override()
    except (OSError, AttributeError) as err:
        print(f"cannot drop root's permission override: {err}", file=sys.stderr)
        sys.exit(77)
limit = os.environ.pop("M2A_MAX_FILE_SIZE", "")
if limit:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))

memory = os.environ.pop("M2A_MAX_MEMORY", "")
if memory:
    resource.setrlimit(resource.RLIMIT_AS, (int(memory), int(memory)))

from memo2anki.cli.main import main
main(prog_name="memo2anki")
"""


def run_cli(
    *args: str | Path,
    honour_permissions: bool = False,
    max_file_size: int | None = None,
    max_memory: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """``memo2anki ARGS`` in a child process; its exit status, stdout and stderr. Bounded in
    time: a run that waits for ever (on a FIFO) fails the test, never hangs the suite."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if honour_permissions:
        env["M2A_HONOUR_PERMISSIONS"] = "1"
    if max_file_size is not None:
        env["M2A_MAX_FILE_SIZE"] = str(max_file_size)
    if max_memory is not None:
        env["M2A_MAX_MEMORY"] = str(max_memory)
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode == CANNOT_DROP:
        pytest.skip(proc.stderr.strip())
    return proc


_ON_TINY_DISK = r"""
import json, os, subprocess, sys
folder, size, previous, out_name, *args = sys.argv[1:]
mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", folder]
if subprocess.run(mount).returncode != 0:
    sys.exit(77)
out = os.path.join(folder, out_name)
with open(out, "wb") as f:
    f.write(bytes.fromhex(previous))
proc = subprocess.run(
    [sys.executable, "-m", "memo2anki", *args, "-o", out], capture_output=True, text=True
)
with open(out, "rb") as f:
    after = f.read().hex()
print(json.dumps({"status": proc.returncode, "stderr": proc.stderr,
                  "files": sorted(os.listdir(folder)), "previous": after}))
"""


def run_on_tiny_disk(
    folder: Path, size: str, previous: bytes, out_name: str, *args: str | Path
) -> dict[str, Any]:
    """Mount a ``size`` tmpfs on ``folder`` holding ``previous`` as ``out_name``, run
    ``memo2anki ARGS -o folder/out_name`` there; its exit status and stderr, the folder's
    files afterwards and the bytes then at ``out_name``."""
    unshare = shutil.which("unshare")
    if unshare is None or shutil.which("mount") is None:
        pytest.skip("needs unshare(1) and mount(8) to make a tiny filesystem")
    namespace = [unshare, "--user", "--map-root-user", "--mount"]
    child = [sys.executable, "-c", _ON_TINY_DISK, str(folder), size, previous.hex(), out_name]
    proc = subprocess.run(
        [*namespace, *child, *map(str, args)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode == CANNOT_DROP or proc.stderr.startswith("unshare:"):
        pytest.skip(f"cannot mount a tiny filesystem here: {proc.stderr.strip()[-300:]}")
    assert proc.returncode == 0, proc.stderr
    outcome: dict[str, Any] = json.loads(proc.stdout)
    outcome["previous"] = bytes.fromhex(outcome["previous"])
    return outcome
