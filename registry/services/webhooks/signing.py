"""MLflow's webhook signature: ``v1,<base64 HMAC-SHA256 of "{delivery_id}.{timestamp}.{body}">``.

The headers are MLflow's (``mlflow/webhooks/constants.py``), so a receiver written for MLflow
verifies our deliveries unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"


def sign(secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    """The ``X-MLflow-Signature`` value of one request."""
    content = f"{delivery_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def verify(secret: str, delivery_id: str, timestamp: str, body: str, signature: str) -> bool:
    """True when ``signature`` is the one ``secret`` gives this request (constant-time)."""
    return hmac.compare_digest(sign(secret, delivery_id, timestamp, body), signature)


def headers(secret: str | None, delivery_id: str, timestamp: str, body: str) -> dict[str, str]:
    """The request headers of one attempt; the signature only when the webhook has a secret."""
    found = {
        "Content-Type": "application/json",
        DELIVERY_ID_HEADER: delivery_id,
        TIMESTAMP_HEADER: timestamp,
    }
    if secret:
        found[SIGNATURE_HEADER] = sign(secret, delivery_id, timestamp, body)
    return found
