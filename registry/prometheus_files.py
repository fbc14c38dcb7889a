"""Every worker's metrics, read from the multiprocess folder (the server's and serving's).

prometheus_client's ``MultiProcessCollector`` reads every ``*.db`` file in the folder. A worker
creates its file empty and sizes it a moment later, so a scrape that lands in between (a worker
answering its first request while another answers ``/metrics``) failed with a ``struct.error``
and a 500. Seen in a serving test whose workers booted under load. Such a file holds no
sample yet: it is skipped.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

_HEADER_BYTES = 8
"""A metrics file's header (how many bytes it uses): present once the file is sized."""


class WorkerFilesCollector(MultiProcessCollector):
    """``MultiProcessCollector`` without the files still being created."""

    def collect(self) -> Iterable[Metric]:
        """Merge the samples of every sized file in the folder."""
        files = []
        for path in glob.glob(os.path.join(self._path, "*.db")):
            try:
                if os.path.getsize(path) >= _HEADER_BYTES:
                    files.append(path)
            except OSError:  # removed meanwhile (a dead worker's live gauges)
                continue
        return self.merge(files, accumulate=True)  # type: ignore[no-any-return,no-untyped-call]


def all_workers_exposition(folder: str) -> bytes:
    """The text exposition of every worker's metrics in the multiprocess ``folder``."""
    registry = CollectorRegistry()
    WorkerFilesCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
