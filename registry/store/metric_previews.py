"""Downsampled histories kept between chart views (the ``metric_previews`` table).

Drawing a sweep's chart reads every point of every run: 500 runs x 1,000 steps is half a million
rows, most of a second, although a finished run's line never changes. So each run's downsampled
line is stored with the number of points its run had stored when it was drawn. Points are only
ever added (a run's points go only with the run, whose previews cascade), so a preview is current
exactly while its run still has that many points of the key stored. A view counts the stored
points per run from the indexes (``store.metric_batches.stored_point_counts``: tens of
milliseconds for 500 x 1,000), serves the current previews as the JSON they were stored as, and
draws only the runs whose count moved, storing those for the next view.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
import peewee

from registry.store import db, write_transaction
from registry.store.metric_batches import stored_point_counts
from registry.store.metric_downsample import TARGET_POINTS, downsampled_history
from registry.store.models import MetricPreview
from registry.store.upserts import upsert_rows

logger = logging.getLogger(__name__)

MAX_BODY = 60_000
"""The longest preview kept, in bytes (MySQL's TEXT holds 65,535); longer ones are redrawn."""


def preview_histories(
    run_ids: list[str], key: str, points: int = TARGET_POINTS, with_time: bool = True
) -> dict[str, orjson.Fragment]:
    """``downsampled_history``'s series, each as a pre-encoded JSON fragment, by run id.

    Runs are in id order; a run without the key is absent. Previews that are out of date or
    missing are drawn and stored; if storing fails (a locked or read-only database), the view
    is still answered.
    """
    ids = sorted(set(run_ids))
    if not ids:
        return {}
    # Counted before drawing: a point added in between makes the count move again, so the
    # preview is redrawn on the next view rather than kept with a point it lacks.
    sizes = stored_point_counts(ids, key)
    stored = _stored(list(sizes), key, points, with_time)
    bodies = {run: body for run, (size, body) in stored.items() if sizes[run] == size}
    stale = [run for run in sizes if run not in bodies]
    if stale:
        drawn = downsampled_history(stale, key, points, with_time)
        fresh = {run: orjson.dumps(history).decode() for run, history in drawn.items()}
        _store(fresh, sizes, key, points, with_time)
        bodies.update(fresh)
    return {run: orjson.Fragment(bodies[run]) for run in ids if run in bodies}


def _stored(
    run_ids: list[str], key: str, points: int, with_time: bool
) -> dict[str, tuple[int, str]]:
    if not run_ids:
        return {}
    p = MetricPreview
    query = p.select(p.run, p.size, p.body).where(
        p.run.in_(run_ids), p.key == key, p.points == points, p.timed == with_time
    )
    return {run: (int(size), body) for run, size, body in db.execute(query)}


def _store(
    bodies: dict[str, str], sizes: dict[str, int], key: str, points: int, with_time: bool
) -> None:
    rows: list[dict[str, Any]] = [
        {
            "run": run,
            "key": key,
            "points": points,
            "timed": with_time,
            "size": sizes[run],
            "body": body,
        }
        for run, body in bodies.items()
        if len(body) <= MAX_BODY
    ]
    if not rows:
        return
    p = MetricPreview
    try:
        with write_transaction():
            upsert_rows(p, rows, key=(p.run, p.key, p.points, p.timed), update=(p.size, p.body))
    except peewee.OperationalError as err:
        logger.info("chart previews not stored (%s): they are redrawn on the next view", err)
