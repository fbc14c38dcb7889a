"""``Client``: MlflowClient's methods over one transport (HTTP or the in-process app)."""

from __future__ import annotations

from registry.client.approvals import ApprovalsMixin
from registry.client.artifacts import ArtifactsMixin
from registry.client.events import EventsMixin
from registry.client.experiments import ExperimentsMixin
from registry.client.logged_models import LoggedModelsMixin
from registry.client.model_history import ModelHistoryMixin
from registry.client.model_registry import ModelRegistryMixin
from registry.client.tracking import TrackingMixin
from registry.client.webhooks import WebhooksMixin


class Client(
    ExperimentsMixin,
    TrackingMixin,
    ArtifactsMixin,
    LoggedModelsMixin,
    ModelRegistryMixin,
    ModelHistoryMixin,
    WebhooksMixin,
    ApprovalsMixin,
    EventsMixin,
):
    """MlflowClient's API for experiments, runs, artifacts, logged and registered models.

    ``Client("http://host:5000")`` talks HTTP with keep-alive and retries;
    ``Client("sqlite:///mlflow.db")`` runs the server app in-process. With no URI it uses
    ``registry.get_tracking_uri()``. Errors are the ``registry.errors`` classes the server sent.
    Beyond MLflow it reads a model's stage and alias history, the holders of a stage at a time,
    rolls a stage back, reads a version's lineage, and requests and approves transitions into
    protected stages and aliases (``/api/2.0/modelyard``).

    Args:
        tracking_uri: the server or database; the fluent URI (or its default) when None.
        registry_uri: accepted for MlflowClient compatibility; same store as tracking.
        async_logging: queue ``log_metric`` points for a background thread that sends them
            in batches (default on; ``MODELYARD_ASYNC_LOGGING=false`` or False here turns it
            off, and ``log_metric(..., synchronous=True)`` sends one point right away).
    """
