"""Run by the OFFICIAL mlflow client: MlflowClient's webhook methods against our server.

argv[1] is a receiver URL the server allows. Prints one JSON document.
"""

import json
import sys

import mlflow
from mlflow import MlflowClient

receiver = sys.argv[1]
client = MlflowClient()
out: dict = {"mlflow_version": mlflow.__version__}

hook = client.create_webhook(
    name="official-hook",
    url=receiver,
    events=["registered_model.created", "model_version.created"],
    description="from the official client",
    secret="official-secret",
)
out["created"] = {
    "name": hook.name,
    "url": hook.url,
    "events": sorted(str(e) for e in hook.events),
    "status": str(hook.status),
    "description": hook.description,
    "secret": hook.secret,
}
second = client.create_webhook(name="second", url=receiver, events=["model_version_tag.set"])
page = client.list_webhooks(max_results=1)
rest = client.list_webhooks(max_results=1, page_token=page.token)
out["pages"] = [[w.webhook_id for w in page], [w.webhook_id for w in rest], bool(page.token)]
out["ids"] = [second.webhook_id, hook.webhook_id]
out["got"] = client.get_webhook(hook.webhook_id).name
changed = client.update_webhook(
    hook.webhook_id, description="changed", status="DISABLED", events=["model_version.created"]
)
out["updated"] = {
    "description": changed.description,
    "status": str(changed.status),
    "events": [str(e) for e in changed.events],
}
result = client.test_webhook(hook.webhook_id)
out["tested"] = {"success": result.success, "status": result.response_status}
client.delete_webhook(hook.webhook_id)
try:
    client.get_webhook(hook.webhook_id)
    out["deleted"] = False
except Exception as err:
    out["deleted"] = "RESOURCE_DOES_NOT_EXIST" in str(err)
print(json.dumps(out))
