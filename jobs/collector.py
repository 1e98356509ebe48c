"""Keeping the app's own objects out of the cyclic garbage collector's way.

A job that reads rows by the hundred thousand sets off many full collections, and each one
walked every object the app holds — models, translations, the entities — again (half the
expiry judgement's Python time). Those live as long as the process, so they are frozen out of
the collector (`gc.freeze`) while the work runs; what the work allocates is still collected.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def app_objects_frozen() -> Iterator[None]:
    gc.collect()  # leave no garbage among what is frozen
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
