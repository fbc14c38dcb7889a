"""Load the model in the background and follow a stage or alias as it moves.

One daemon thread per worker, started after fork. It loads the model if the worker has none,
then, for ``models:/name/Stage`` and ``models:/name@alias``, polls the registry every
``poll_interval`` seconds. When the target points at another version, the new version loads
beside the old one and replaces it with one reference assignment (``ModelSlot.swap``). A
version that fails to load is not swapped in and not retried until the target moves again.
"""

from __future__ import annotations

import logging
import threading
import time

from registry.errors import RegistryError
from serving.config import ServingConfig
from serving.loader import ModelSource, is_followable
from serving.slot import ModelSlot

logger = logging.getLogger(__name__)


class Watcher:
    """Loads and follows the served model for one worker."""

    def __init__(self, config: ServingConfig, slot: ModelSlot) -> None:
        self.config = config
        self.slot = slot
        self.follows = is_followable(config.model_uri)
        self.source = ModelSource(
            config.model_uri, config.tracking_uri, allow_pickle=config.allow_pickle
        )
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the daemon thread (a no-op when the model is loaded and cannot move)."""
        if self._thread is not None or (self.slot.current is not None and not self.follows):
            return
        self._thread = threading.Thread(target=self._run, name="model-watcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self.slot.current is None:
            self.check()
            if self.slot.current is None:
                time.sleep(self.config.poll_interval)
        while self.follows:
            time.sleep(self.config.poll_interval)
            self.check()

    def check(self) -> None:
        """Resolve the URI once; load and swap in the version it names if it is new."""
        try:
            target = self.source.resolve()
        except RegistryError as err:
            logger.warning("cannot resolve %s: %s", self.source.uri, err.message)
            if self.slot.current is None:
                self.slot.load_error = err.message
            return
        current = self.slot.current
        version = target.version if target else ""
        if current is not None and (target is None or version == current.version):
            return
        if current is not None and version == self.slot.failed_version:
            return
        try:
            model = self.source.load(target)
        except Exception as err:
            self.slot.record_failure(version, f"{type(err).__name__}: {err}")
            return
        self.slot.swap(model)
