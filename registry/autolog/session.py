"""The run an autologged ``fit`` logs into: the active one, or a new one ended after training."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from registry import fluent


@contextmanager
def training_run() -> Iterator[str]:
    """Yield the active run's id, starting (and afterwards ending) a run when none is active."""
    current = fluent.active_run()
    if current is not None:
        yield current.info.run_id
        return
    with fluent.start_run() as run:
        yield run.info.run_id
