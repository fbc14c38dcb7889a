"""``retry_deadlocks``: a deadlock victim is run again, anything else (or a committed write) not."""

from __future__ import annotations

import peewee
import pytest

from registry.store.connections import DEADLOCK_ATTEMPTS, mark_committed, retry_deadlocks


class _PgError(Exception):
    def __init__(self, pgcode: str) -> None:
        super().__init__(f"SQLSTATE {pgcode}")
        self.pgcode = pgcode


def _wrapped(pgcode: str) -> peewee.OperationalError:
    # As peewee raises it: the driver's error as its context.
    try:
        try:
            raise _PgError(pgcode)
        except _PgError as driver_error:
            raise peewee.OperationalError(driver_error) from driver_error
    except peewee.OperationalError as err:
        return err


def _deadlock() -> peewee.OperationalError:
    return _wrapped("40P01")


class _Call:
    """Fails with the given errors in turn, then answers ``"done"``; counts its runs."""

    def __init__(self, *errors: BaseException, commit: bool = False) -> None:
        self.errors = list(errors)
        self.commit = commit
        self.runs = 0

    def __call__(self) -> str:
        self.runs += 1
        if self.commit:
            mark_committed()
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def test_a_call_that_succeeds_runs_once() -> None:
    call = _Call()
    assert retry_deadlocks(call) == "done"
    assert call.runs == 1


def test_a_deadlock_victim_is_run_again_until_it_succeeds() -> None:
    call = _Call(_deadlock(), _deadlock())
    assert retry_deadlocks(call) == "done"
    assert call.runs == 3


def test_a_call_that_stays_a_victim_gives_up_with_the_deadlock() -> None:
    call = _Call(*[_deadlock() for _ in range(DEADLOCK_ATTEMPTS + 1)])
    with pytest.raises(peewee.OperationalError):
        retry_deadlocks(call)
    assert call.runs == DEADLOCK_ATTEMPTS


def test_other_database_errors_are_not_run_again() -> None:
    call = _Call(_wrapped("42P01"))
    with pytest.raises(peewee.OperationalError):
        retry_deadlocks(call)
    assert call.runs == 1


def test_a_call_that_committed_a_write_before_its_deadlock_is_not_run_again() -> None:
    call = _Call(_deadlock(), commit=True)
    with pytest.raises(peewee.OperationalError):
        retry_deadlocks(call)
    assert call.runs == 1


def test_a_committed_retry_does_not_stop_the_next_call_from_retrying() -> None:
    assert retry_deadlocks(_Call(commit=True)) == "done"
    call = _Call(_deadlock())
    assert retry_deadlocks(call) == "done"
    assert call.runs == 2
