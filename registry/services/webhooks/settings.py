"""The webhook settings of one process, read once from its ``Config``."""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.config import Config
from registry.services.webhooks.crypto import SecretBox
from registry.services.webhooks.ssrf import AllowList


@dataclass(frozen=True)
class WebhookSettings:
    """Key, allow-list, timeouts and the retry base; ``box`` is None without a key."""

    key: str = field(repr=False)
    allow: AllowList
    timeout_seconds: float
    retry_base_seconds: float
    poll_seconds: float

    @classmethod
    def from_config(cls, config: Config) -> WebhookSettings:
        """The settings of ``config``.

        Raises:
            ValueError: an allow-list entry has a bad port.
        """
        return cls(
            key=config.webhook_key,
            allow=AllowList.parse(config.webhook_allow),
            timeout_seconds=config.webhook_timeout_seconds,
            retry_base_seconds=config.webhook_retry_base_seconds,
            poll_seconds=config.webhook_poll_seconds,
        )

    def box(self) -> SecretBox:
        """The secret box of the configured key.

        Raises:
            WebhookKeyMissing: no key is configured.
            WebhookKeyInvalid: the key is not a Fernet key.
        """
        return SecretBox(self.key)
