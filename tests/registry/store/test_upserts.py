"""Upserts under concurrent writers on every engine: no error, no lost row, one writer's values."""

from __future__ import annotations

import threading
from collections.abc import Callable

from registry.store import db
from registry.store.auth import create_user
from registry.store.models import RunTag
from registry.store.permissions import experiment_permission, set_experiment_permission
from registry.store.run_data import log_batch
from tests.factories import make_experiment, make_run

WRITERS = 6
READ, MANAGE = "READ", "MANAGE"


def _in_threads(work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(WRITERS)

    def target(index: int) -> None:
        with db.connection_context():
            barrier.wait()
            try:
                work(index)
            except BaseException as err:
                errors.append(err)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_batches_of_the_same_tags_leave_one_batch_whole(bound: None) -> None:
    run_id = make_run().run_uuid
    keys = [f"tag-{i:02d}" for i in range(20)]

    def work(index: int) -> None:
        # Each writer lists the keys in its own order; the store must not deadlock on that.
        order = keys[index:] + keys[:index]
        for _ in range(3):
            log_batch(run_id, tags=[(key, f"writer-{index}") for key in order])

    assert _in_threads(work) == []
    rows = list(RunTag.select().where(RunTag.run == run_id, RunTag.key.in_(keys)))
    assert sorted(row.key for row in rows) == keys
    # Every batch is one transaction: the last one to commit set all twenty keys.
    assert len({row.value for row in rows}) == 1


def test_concurrent_grants_of_one_permission_leave_one_row(bound: None) -> None:
    experiment_id = make_experiment().experiment_id
    user = create_user("grantee", None)
    levels = (READ, MANAGE)

    def work(index: int) -> None:
        for _ in range(5):
            set_experiment_permission(experiment_id, user.id, levels[index % 2])

    assert _in_threads(work) == []
    assert experiment_permission(user.id, experiment_id) in levels
    set_experiment_permission(experiment_id, user.id, MANAGE)
    assert experiment_permission(user.id, experiment_id) == MANAGE
    set_experiment_permission(experiment_id, user.id, READ)
    assert experiment_permission(user.id, experiment_id) == READ
