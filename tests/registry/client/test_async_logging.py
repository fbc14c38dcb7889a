"""Background metric batches tell the user, at WARNING, while the server keeps them waiting."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from registry.client.async_logging import MetricQueue
from registry.errors import TemporarilyUnavailable


def test_a_batch_waiting_for_the_server_is_a_warning_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stored: list[tuple[str, list[dict[str, Any]]]] = []
    failures = [TemporarilyUnavailable("server answered 503") for _ in range(2)]

    def send(run_id: str, metrics: list[dict[str, Any]]) -> None:
        # The transport as the server's outage leaves it: two 503s, then the batch is stored.
        if failures:
            raise failures.pop()
        stored.append((run_id, metrics))

    queue = MetricQueue(send, max_backoff=0.05)
    with caplog.at_level(logging.WARNING, logger="registry.retry"):
        queue.put("r1", {"key": "loss", "value": 1.0, "timestamp": 0, "step": 0})
        queue.put("r1", {"key": "loss", "value": 0.5, "timestamp": 0, "step": 1})
        queue.flush(timeout=60)
    assert [len(metrics) for _, metrics in stored] in ([2], [1, 1])
    warnings = [r for r in caplog.records if r.name == "registry.retry"]
    assert len(warnings) == 2
    for record in warnings:
        assert record.levelno == logging.WARNING
        assert record.exc_info is None
        message = record.getMessage()
        assert "metric points of run r1 in the background" in message
        assert "server answered 503" in message
