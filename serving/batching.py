"""Adaptive micro-batching: concurrent array requests to one worker share one predict call.

A request thread hands its array to the batcher and waits. The batcher thread takes the first
waiting request, gathers more for at most ``max_latency`` seconds or until ``max_rows`` rows,
stacks requests of the same model and width into one array, predicts once and hands each
request its slice. If the stacked call fails, each request is retried alone, so one bad request
never fails its neighbours.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any

import numpy as np
import pandas as pd

from serving import metrics
from serving.loader import Predictor
from serving.scoring import guarded

logger = logging.getLogger(__name__)


@dataclasses.dataclass(slots=True)
class _Item:
    predictor: Predictor
    array: np.ndarray
    future: Future[Any]


class MicroBatcher:
    """Merges concurrent ``predict_array`` calls into batches (one daemon thread per worker)."""

    def __init__(self, max_latency_ms: float, max_rows: int) -> None:
        self.max_latency = max_latency_ms / 1000.0
        self.max_rows = max(1, max_rows)
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the batching thread (after fork: threads do not survive it)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="micro-batcher", daemon=True)
            self._thread.start()

    def predict_array(self, predictor: Predictor, array: np.ndarray) -> Any:
        """Predict on ``array`` as part of a batch; blocks until its slice is ready.

        Raises:
            RegistryError: as ``scoring.guarded`` does for this request alone.
        """
        if array.ndim != 2 or len(array) >= self.max_rows:
            return guarded(predictor.predict_array, array)
        item = _Item(predictor, array, Future())
        self._queue.put(item)
        return item.future.result()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            rows = len(batch[0].array)
            deadline = time.monotonic() + self.max_latency
            while rows < self.max_rows:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
                batch.append(item)
                rows += len(item.array)
            for group in _groups(batch):
                _predict_group(group)


def _groups(batch: list[_Item]) -> list[list[_Item]]:
    groups: dict[tuple[int, int, str], list[_Item]] = {}
    for item in batch:
        key = (id(item.predictor), item.array.shape[1], item.array.dtype.str)
        groups.setdefault(key, []).append(item)
    return list(groups.values())


def _predict_group(group: list[_Item]) -> None:
    metrics.BATCH_SIZE.observe(len(group))
    predictor = group[0].predictor
    if len(group) > 1:
        try:
            result = predictor.predict_array(np.concatenate([i.array for i in group]))
            if len(result) == sum(len(i.array) for i in group):
                start = 0
                for item in group:
                    end = start + len(item.array)
                    item.future.set_result(_rows(result, start, end))
                    start = end
                return
        except Exception as err:
            logger.debug("batched predict failed (%r); predicting each request alone", err)
    for item in group:
        try:
            item.future.set_result(guarded(predictor.predict_array, item.array))
        except Exception as err:
            item.future.set_exception(err)


def _rows(result: Any, start: int, end: int) -> Any:
    if isinstance(result, pd.DataFrame | pd.Series):
        return result.iloc[start:end]
    return result[start:end]
