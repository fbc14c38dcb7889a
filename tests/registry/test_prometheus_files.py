"""A scrape while a worker is still creating its metrics file answers with every other sample."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families

from registry.prometheus_files import all_workers_exposition


def _samples(text: bytes) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }


def test_a_file_a_worker_has_not_sized_yet_is_skipped(tmp_path: Path) -> None:
    written = MmapedDict(str(tmp_path / "counter_101.db"))
    key = mmap_key("requests", "requests_total", [], [], "Requests answered.")
    written.write_value(key, 7.0, 0.0)
    written.close()
    (tmp_path / "counter_102.db").touch()  # created, not yet sized by its worker

    assert _samples(all_workers_exposition(str(tmp_path))) == {"requests_total": 7.0}
