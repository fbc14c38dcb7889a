"""Run by the OFFICIAL full mlflow package: its basic-auth client manages users and grants.

The admin's credentials come in MLFLOW_TRACKING_USERNAME/PASSWORD. Prints one JSON document.
"""

import json
import os

import mlflow
from mlflow.server import get_app_client
from mlflow.tracking import MlflowClient

uri = os.environ["MLFLOW_TRACKING_URI"]
out: dict = {"mlflow_version": mlflow.__version__}
auth = get_app_client("basic-auth", tracking_uri=uri)

ana = auth.create_user("ana", "ana-password-1")
out["created"] = {"username": ana.username, "is_admin": ana.is_admin}
auth.update_user_password("ana", "ana-password-2")
auth.update_user_admin("ana", False)
out["got"] = auth.get_user("ana").username
experiment_id = MlflowClient().create_experiment("granted")
auth.grant_user_permission("ana", "experiment", experiment_id, "EDIT")
checked = auth.get_user_permission("ana", "experiment", experiment_id)
out["granted"] = {"allowed": checked.allowed, "permission": checked.permission}
auth.revoke_user_permission("ana", "experiment", experiment_id)
out["after_revoke"] = auth.get_user_permission("ana", "experiment", experiment_id).permission
auth.create_user("temp", "temp-password-1")
auth.delete_user("temp")
try:
    auth.get_user("temp")
    out["deleted"] = False
except Exception as err:
    out["deleted"] = "RESOURCE_DOES_NOT_EXIST" in str(err)
print(json.dumps(out))
