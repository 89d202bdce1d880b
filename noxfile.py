"""The checks CI runs, one session each: ``nox`` runs them all, ``nox -s tests-3.13`` one.

The suite runs on the oldest and the newest CPython memo2anki supports. With pyenv, make its
versions visible first: ``export PYENV_VERSION=3.11.7:3.13.0`` (or whichever are installed)."""

from __future__ import annotations

import nox

# The oldest and the newest CPython memo2anki supports (requires-python in pyproject.toml).
PYTHONS = ["3.11", "3.13"]

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy --strict, as configured in pyproject.toml."""
    session.install("-e", ".[test]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole suite (pytest's own exit status: no test collected fails too)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-q", *session.posargs)
