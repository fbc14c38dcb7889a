"""Hostile query and form values on the UI: a huge page number, a ``next`` leaving the site."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.factories import make_experiment, make_run


def _token(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def test_a_huge_page_number_is_a_page_not_an_error(client: FlaskClient) -> None:
    experiment = make_experiment()
    make_run(experiment, run_name="only")
    path = f"/experiments/{experiment.experiment_id}"
    for page in ("100000000000000000000", "9223372036854775808", "-5", "x"):
        assert client.get(path, query_string={"page": page}).status_code == 200
    assert "only" in client.get(path, query_string={"page": "-5"}).get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.com",
        "/\n/evil.com",
        "/\r/evil.com",
        "//evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "https://evil.com/",
        "http:evil.com",
        "evil.com",
        "/ok\x00",
    ],
)
def test_next_never_leads_off_the_site(sqlite_client: FlaskClient, target: str) -> None:
    experiment = make_experiment(name="before")
    path = f"/experiments/{experiment.experiment_id}"
    form = {"csrf_token": _token(sqlite_client, path), "name": "after", "next": target}
    reply = sqlite_client.post(f"{path}/rename", data=form)
    assert reply.status_code == 303
    assert reply.headers["Location"] == path


def test_next_keeps_a_local_path_with_its_query(sqlite_client: FlaskClient) -> None:
    experiment = make_experiment(name="before")
    path = f"/experiments/{experiment.experiment_id}"
    target = f"{path}?filter=params.a%20%3D%20%271%27&page=2"
    form = {"csrf_token": _token(sqlite_client, path), "name": "after", "next": target}
    reply = sqlite_client.post(f"{path}/rename", data=form)
    assert reply.status_code == 303 and reply.headers["Location"] == target
