"""Signing secrets encrypted at rest with Fernet keys from ``MODELYARD_WEBHOOK_KEY``.

The setting holds one or more Fernet keys, comma-separated: the first encrypts, every one
decrypts (``cryptography``'s ``MultiFernet``), so a key is rotated by putting the new one first.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from registry.errors import InvalidParameter, RegistryError


class WebhookKeyMissing(InvalidParameter):
    """Webhooks need ``MODELYARD_WEBHOOK_KEY`` and the server has none."""


class WebhookKeyInvalid(RegistryError):
    """``MODELYARD_WEBHOOK_KEY`` is not a Fernet key, or does not open the stored secrets."""


def generate_key() -> str:
    """A new random Fernet key (what ``modelyard webhooks generate-key`` prints)."""
    return Fernet.generate_key().decode()


class SecretBox:
    """Encrypts and decrypts signing secrets with the configured keys."""

    def __init__(self, setting: str) -> None:
        """Read the comma-separated keys of ``setting``.

        Raises:
            WebhookKeyMissing: ``setting`` is empty.
            WebhookKeyInvalid: one of the keys is not a Fernet key (32 url-safe base64 bytes).
        """
        keys = [key.strip() for key in setting.split(",") if key.strip()]
        if not keys:
            raise WebhookKeyMissing(
                "Webhooks need an encryption key for their signing secrets: set "
                "MODELYARD_WEBHOOK_KEY (`modelyard webhooks generate-key` makes one)."
            )
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError:
            raise WebhookKeyInvalid(
                "MODELYARD_WEBHOOK_KEY is not a Fernet key (32 url-safe base64-encoded bytes; "
                "`modelyard webhooks generate-key` makes one)."
            ) from None

    def encrypt(self, secret: str) -> str:
        """The token stored for ``secret``."""
        return self._fernet.encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        """The secret behind a stored token.

        Raises:
            WebhookKeyInvalid: none of the keys opens it (the key changed without rotation).
        """
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise WebhookKeyInvalid(
                "MODELYARD_WEBHOOK_KEY does not decrypt the stored webhook secrets: it is not "
                "the key they were encrypted with (list the old key after the new one to rotate)."
            ) from None
