"""The model a worker serves right now, swapped atomically when the registry moves."""

from __future__ import annotations

import logging
import threading

from prometheus_client import Gauge

from serving import metrics
from serving.loader import LoadedModel

logger = logging.getLogger(__name__)


class ModelSlot:
    """Holds the current LoadedModel; readers take ``slot.current`` once per request.

    A swap is a single reference assignment, so a request that already took the old model
    finishes on it while new requests get the new one.
    """

    def __init__(self, model: LoadedModel | None = None, served_as: str = "") -> None:
        self.current: LoadedModel | None = model
        self.served_as = served_as
        """The name the model is served under (its ``model`` label in metrics)."""
        self.load_error: str = ""
        self.failed_version: str = ""
        self.retired = False
        """True once retired: nothing is swapped in any more (a load that ends late is dropped)."""
        self._lock = threading.Lock()

    def publish(self) -> None:
        """Report the current model in this process's metrics (call once per worker)."""
        if self.current is not None:
            self._version_gauge(self.current).set(1)

    def retire(self) -> None:
        """Stop reporting the current model (it is unloaded); readers holding it finish."""
        with self._lock:
            self.retired = True
            if self.current is not None:
                self._version_gauge(self.current).set(0)
            self.current = None

    def swap(self, model: LoadedModel) -> bool:
        """Serve ``model`` from now on and record the load in metrics; False once retired."""
        with self._lock:
            if self.retired:
                return False
            self._swap(model)
            return True

    def _swap(self, model: LoadedModel) -> None:
        old = self.current
        self.current = model
        self.load_error = ""
        self.failed_version = ""
        metrics.LOAD_SECONDS.observe(model.load_seconds)
        metrics.LAST_LOAD_FAILED.labels(self.served_as).set(0)
        self._version_gauge(model).set(1)
        if old is not None and _labels(old) != _labels(model):
            self._version_gauge(old).set(0)
        logger.info(
            "serving %s version %s (loaded in %.2fs)", model.uri, model.version, model.load_seconds
        )

    def record_failure(self, version: str, error: str) -> None:
        """Remember that ``version`` failed to load; the current model keeps serving."""
        self.load_error = error
        self.failed_version = version
        metrics.LOAD_FAILURES.labels(self.served_as).inc()
        metrics.LAST_LOAD_FAILED.labels(self.served_as).set(1)
        logger.error("could not load version %s: %s", version or "?", error)

    def _version_gauge(self, model: LoadedModel) -> Gauge:
        return metrics.MODEL_VERSION.labels(*_labels(model), self.served_as)


def _labels(model: LoadedModel) -> tuple[str, str, str]:
    return (model.name, model.version, model.run_id)
