"""Installing like a real machine: a clean build of the project prints no deprecation warning
(setuptools warned three times about `project.license` as a table) and says its licence."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from helpers import REPO


def test_a_clean_build_prints_no_deprecation_warning(tmp_path: Path) -> None:
    # What `pip install .` does first: build a wheel, in an isolated environment with the
    # build requirements of pyproject.toml. A copy, so the build leaves the checkout alone;
    # -v, since pip shows the backend's warnings only then.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "memo2anki",
        source / "memo2anki",
        ignore=shutil.ignore_patterns("*.pyc", "__pycache__"),
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-v",
            "--no-deps",
            "-w",
            str(tmp_path / "out"),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "Successfully installed setuptools" in output  # the backend's output is shown
    warned = [line for line in output.splitlines() if "deprecat" in line.lower()]
    assert warned == []
    (wheel,) = (tmp_path / "out").glob("memo2anki-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        metadata = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        fields = zf.read(metadata).decode().splitlines()
        licences = [n for n in zf.namelist() if "/licenses/" in n]
    assert "License-Expression: MIT" in fields
    assert [Path(n).name for n in licences] == ["LICENSE"]
