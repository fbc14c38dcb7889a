"""How many connections each gunicorn worker of this server holds, in memory they all share.

gunicorn's workers accept from one listening socket, and whichever wakes first takes the
connection. A client that keeps its connection alive (the official client, a load balancer's
pool, wrk) stays with that worker, so a few such clients often all land on one worker while
the other idles: measured with 8 kept-alive connections to 2 workers, splits of 7 to 1 and 6 to
2 were as common as 4 to 4, and requests/s swung by a factor of 2.5 between runs. With this
table a worker that holds more connections than the least loaded live worker leaves a new
connection to the others for a moment (``registry.gunicorn_workers``).

The table is an anonymous shared mapping made when this module is imported in the master,
so every worker forked from it, including one that replaces a dead worker, sees the same
memory. The master hands each new worker a slot (``claim_slot``, called while gunicorn builds
the worker object in the master, which is single-threaded) and takes it back only once that
worker object is gone, which is when gunicorn has reaped the process. A slot holds the
worker's connection count and when it last wrote it; a slot not written for
``STALE_SECONDS`` (a worker still booting, stopping, stuck or dead) counts for nothing.
"""

from __future__ import annotations

import math
import mmap
import weakref

SLOTS = 256
"""Workers of one server that share the table; a worker beyond it takes every connection."""
STALE_SECONDS = 3.0
"""A slot not written for this long is ignored (a running worker's loop writes it at least once
a second)."""
NEVER = -math.inf
"""When a slot that no running worker has written was "written"."""

_table = mmap.mmap(-1, SLOTS * 16 + 8)
_counts = memoryview(_table)[: SLOTS * 8].cast("q")
_written = memoryview(_table)[SLOTS * 8 : SLOTS * 16].cast("d")
_used = memoryview(_table)[SLOTS * 16 :].cast("q")
"""``_used[0]``: one past the highest slot ever handed out (the readers scan no further)."""
for _slot in range(SLOTS):
    _written[_slot] = NEVER
_owners: dict[int, weakref.ref[object]] = {}
"""In the master: the worker object each slot was handed to."""


def claim_slot(worker: object) -> int | None:
    """A slot for ``worker``, about to be forked (call in the master), or None if all are taken.

    The slot is ``worker``'s until gunicorn drops the worker object (after reaping it).
    """
    for slot in range(SLOTS):
        owner = _owners.get(slot)
        if owner is None or owner() is None:
            _owners[slot] = weakref.ref(worker)
            _counts[slot] = 0
            _written[slot] = NEVER  # counts once the worker runs its loop, not while it boots
            _used[0] = max(_used[0], slot + 1)
            return slot
    return None


def leave(slot: int) -> None:
    """Stop counting the worker in ``slot`` (it stopped accepting)."""
    _written[slot] = NEVER


def publish(slot: int, connections: int, now: float) -> None:
    """Record that the worker in ``slot`` holds ``connections`` connections at ``now``."""
    _counts[slot] = connections
    _written[slot] = now


def fewest_elsewhere(slot: int, now: float) -> int | None:
    """The fewest connections any other live worker holds, or None if there is none."""
    fewest: int | None = None
    for other in range(_used[0]):
        if other == slot or now - _written[other] >= STALE_SECONDS:
            continue
        count = _counts[other]
        if fewest is None or count < fewest:
            fewest = count
    return fewest
