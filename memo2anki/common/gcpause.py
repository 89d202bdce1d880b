"""Pause Python's cycle collector around steps that make many objects and no cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Run the body without the cycle collector (restored after, as it was).

    Loading a big vault's cards from the cache, sorting them and writing the collection each
    allocate hundreds of thousands of objects that refer to no cycle; each collection would
    walk every card made so far again (a sixth of a 20,000-note re-export). Reference counting
    still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
