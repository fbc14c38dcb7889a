"""The answers a REST read and the GraphQL field that mirrors it both give.

``runs/search`` (``mlflowSearchRuns``) and ``experiments/search-datasets``
(``mlflowSearchDatasets``): each built once here, from arguments its wire schema loaded, so
the two routes cannot drift apart. The argument checks are the store functions'.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from registry.store import datasets, run_search
from registry.store.api_reads import runs_json
from registry.wire import responses as rs
from registry.wire import ui
from registry.wire.base import JSON
from registry.wire.responses import shaped


def runs_page(args: dict[str, Any]) -> JSON:
    """The ``runs/search`` answer for loaded ``RunSearchArgsSchema`` arguments.

    Raises:
        InvalidParameter: a bad filter, order_by, view type, experiment id, max_results or token.
    """
    rows, token = run_search.search_run_rows(
        args["experiment_ids"],
        args["filter"],
        args["run_view_type"],
        args["max_results"],
        args["order_by"],
        args["page_token"],
    )
    return shaped(rs.RUNS, runs=runs_json(rows), next_page_token=token)


def datasets_page(experiment_ids: Sequence[str]) -> JSON:
    """The ``search-datasets`` answer for these experiment ids.

    Raises:
        InvalidParameter: no experiment id, more than 20, or one that is not an experiment id.
    """
    found = datasets.search_datasets(experiment_ids)
    summaries = [ui.DatasetSummary.Schema().dump(s) for s in found]
    return shaped(ui.SearchDatasetsResponse, dataset_summaries=summaries)
