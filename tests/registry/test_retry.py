"""The one retry policy: bounded attempts, jittered backoff, and a server's Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import tenacity

from registry.retry import RETRY_AFTER_CAP, policy, retry_after_seconds


class Busy(Exception):
    pass


def flaky(failures: int) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise Busy("busy")
        return "ok"

    return calls, call


def test_retries_up_to_the_attempts_then_raises_the_last_error() -> None:
    slept: list[float] = []
    calls, call = flaky(10)
    retrying = policy(
        retry=tenacity.retry_if_exception_type(Busy),
        attempts=3,
        first=0.5,
        cap=1.0,
        sleep=slept.append,
    )
    with pytest.raises(Busy):
        retrying(call)
    assert len(calls) == 3
    assert len(slept) == 2
    assert all(0 <= s <= 1.0 for s in slept)


def test_backoff_is_capped_and_an_unlimited_policy_ends_on_success() -> None:
    slept: list[float] = []
    calls, call = flaky(8)
    retrying = policy(
        retry=tenacity.retry_if_exception_type(Busy),
        attempts=None,
        first=0.1,
        cap=0.4,
        sleep=slept.append,
    )
    assert retrying(call) == "ok"
    assert len(calls) == 9
    assert max(slept) <= 0.4


@pytest.mark.parametrize(("asked", "waited"), [(3.0, 3.0), (10_000.0, RETRY_AFTER_CAP)])
def test_a_retry_after_is_the_shortest_wait_up_to_the_cap(asked: float, waited: float) -> None:
    slept: list[float] = []
    _, call = flaky(2)
    retrying = policy(
        retry=tenacity.retry_if_exception_type(Busy),
        attempts=5,
        first=0.01,
        cap=0.01,
        retry_after=lambda _state: asked,
        sleep=slept.append,
    )
    assert retrying(call) == "ok"
    assert slept == [waited, waited]


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def call() -> None:
        calls.append(1)
        raise KeyError("bug")

    retrying = policy(
        retry=tenacity.retry_if_exception_type(Busy), attempts=5, first=0.01, cap=0.01
    )
    with pytest.raises(KeyError):
        retrying(call)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("2", 2.0),
        ("0.5", 0.5),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 10.0),
        ("-3", 0.0),
        ("nan", 0.0),
        ("inf", 0.0),
        ("soon", 0.0),
        ("", 0.0),
        (None, 0.0),
    ],
)
def test_retry_after_reads_seconds_or_a_date(header: str | None, seconds: float) -> None:
    now = datetime(2015, 10, 21, 7, 27, 50, tzinfo=UTC)
    assert retry_after_seconds(header, now) == seconds
