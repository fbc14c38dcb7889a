"""The Python client: ``Client`` (MlflowClient's methods), tracking URIs and model URIs."""

from registry.client.client import Client
from registry.client.tracking_uri import get_tracking_uri, set_tracking_uri

MlflowClient = Client

__all__ = ["Client", "MlflowClient", "get_tracking_uri", "set_tracking_uri"]
