"""``modelyard webhooks``: a usable key, and deliveries listed and redelivered over the API."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from cryptography.fernet import Fernet

from registry.cli.webhooks import webhooks_group
from registry.config import Config
from registry.server.app import create_app
from registry.services.webhooks.crypto import generate_key
from registry.services.webhooks.dispatcher import Dispatcher
from registry.services.webhooks.settings import WebhookSettings
from tests.webhook_receiver import running_receiver


def test_generate_key_prints_a_fernet_key() -> None:
    result = CliRunner().invoke(webhooks_group, ["generate-key"])
    assert result.exit_code == 0
    Fernet(result.output.strip())  # raises unless it is a key


def test_list_deliveries_and_redeliver(sqlite_url: str, artifact_root: Path) -> None:
    runner = CliRunner()
    with running_receiver() as receiver:
        config = Config(
            database_url=sqlite_url,
            artifact_root=str(artifact_root),
            webhook_key=generate_key(),
            webhook_allow=f"127.0.0.1:{receiver.port}",
        )
        app = create_app(config)
        api = app.test_client()
        event = {"entity": "REGISTERED_MODEL", "action": "CREATED"}
        hook = api.post(
            "/api/2.0/mlflow/webhooks",
            json={"name": "cli-hook", "url": receiver.url, "events": [event]},
        ).json["webhook"]
        api.post("/api/2.0/mlflow/registered-models/create", json={"name": "fraud"})
        Dispatcher(
            WebhookSettings.from_config(config), app.extensions["registry"].database
        ).run_once()
        uri = ["--tracking-uri", sqlite_url]

        listed = runner.invoke(webhooks_group, ["list", *uri])
        shown = runner.invoke(webhooks_group, ["deliveries", *uri, hook["webhook_id"]])
        delivery_id = shown.output.splitlines()[1].split()[0]
        again = runner.invoke(webhooks_group, ["redeliver", *uri, delivery_id])
        pending = runner.invoke(
            webhooks_group, ["deliveries", *uri, "--status", "pending", hook["webhook_id"]]
        )
        missing = runner.invoke(webhooks_group, ["deliveries", *uri, "no-such-webhook"])
    assert "cli-hook" in listed.output and "registered_model.created" in listed.output
    assert "fraud" in shown.output and "delivered" in shown.output
    assert again.exit_code == 0 and delivery_id in again.output
    assert delivery_id in pending.output
    assert missing.exit_code == 1
    assert "RESOURCE_DOES_NOT_EXIST" in missing.output
