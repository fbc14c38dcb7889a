"""Webhook signing, secret encryption and the SSRF guard, against a real receiver on 127.0.0.1."""

from __future__ import annotations

import ipaddress

import pytest

from registry.services.webhooks import schedule, sender, signing
from registry.services.webhooks.crypto import (
    SecretBox,
    WebhookKeyInvalid,
    WebhookKeyMissing,
    generate_key,
)
from registry.services.webhooks.ssrf import (
    AllowList,
    WebhookUrlRefused,
    check_url,
    is_refused_address,
)
from tests.webhook_receiver import running_receiver, signature_ok, trickling_receiver


def test_a_receiver_verifies_the_signature_and_rejects_a_changed_body() -> None:
    body = '{"entity": "model_version", "action": "created", "data": {"name": "m"}}'
    headers = signing.headers("s3cret", "delivery-1", "1700000000", body)
    assert headers["X-MLflow-Signature"].startswith("v1,")
    assert signature_ok("s3cret", headers, body)
    assert not signature_ok("s3cret", headers, body.replace('"m"', '"n"'))
    assert not signature_ok("other-secret", headers, body)
    assert "X-MLflow-Signature" not in signing.headers(None, "delivery-1", "1700000000", body)


def test_secrets_are_encrypted_and_a_rotated_key_still_opens_old_ones() -> None:
    old, new = generate_key(), generate_key()
    token = SecretBox(old).encrypt("s3cret")
    assert "s3cret" not in token
    assert SecretBox(f"{new},{old}").decrypt(token) == "s3cret"
    with pytest.raises(WebhookKeyInvalid, match="does not decrypt"):
        SecretBox(new).decrypt(token)
    with pytest.raises(WebhookKeyInvalid, match="not a Fernet key"):
        SecretBox("not-a-key")
    with pytest.raises(WebhookKeyMissing, match="MODELYARD_WEBHOOK_KEY"):
        SecretBox(" ")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "::ffff:127.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
        "ff02::1",
    ],
)
def test_private_loopback_link_local_and_reserved_addresses_are_refused(address: str) -> None:
    assert is_refused_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_refused_address(ipaddress.ip_address(address))


def test_loopback_is_refused_unless_allow_listed_and_only_on_its_port() -> None:
    with pytest.raises(WebhookUrlRefused, match="allow-list"):
        check_url("https://127.0.0.1:8443/hook", AllowList())
    with pytest.raises(WebhookUrlRefused, match="allow-list"):
        check_url("https://localhost:8443/hook", AllowList())
    target = check_url("https://127.0.0.1:8443/hook?x=1", AllowList.parse("127.0.0.1:8443"))
    assert target is not None
    assert (target.address, target.port, target.path) == ("127.0.0.1", 8443, "/hook?x=1")
    with pytest.raises(WebhookUrlRefused):
        check_url("https://127.0.0.1:9443/hook", AllowList.parse("127.0.0.1:8443"))


def test_http_is_refused_unless_the_host_is_allow_listed() -> None:
    with pytest.raises(WebhookUrlRefused, match="scheme"):
        check_url("http://example.com/hook", AllowList())
    with pytest.raises(WebhookUrlRefused, match="scheme"):
        check_url("ftp://example.com/hook", AllowList.parse("example.com"))
    assert check_url("http://hooks.svc:8080/x", AllowList.parse("hooks.svc"), resolve=False) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://127.1/hook",
        "https://0x7f.0.0.1/hook",
        "https://2130706433/hook",
        "https://user:pw@example.com/hook",
        "https:///hook",
        "   ",
    ],
)
def test_odd_hosts_and_credentials_are_refused(url: str) -> None:
    with pytest.raises(WebhookUrlRefused):
        check_url(url, AllowList())


def test_the_send_time_check_refuses_a_host_no_longer_allowed() -> None:
    with running_receiver() as receiver:
        attempt = sender.post(receiver.url, "{}", {}, AllowList(), timeout=5)
        assert attempt.status_code is None
        assert "refused" in attempt.error
        assert receiver.received == []


def test_redirects_are_not_followed() -> None:
    with running_receiver() as target, running_receiver() as redirecting:
        redirecting.answer = lambda _r: 307
        redirecting.headers_out = {"Location": target.url}
        allow = AllowList.parse(f"127.0.0.1:{redirecting.port},127.0.0.1:{target.port}")
        attempt = sender.post(redirecting.url, "{}", {}, allow, timeout=5)
        assert attempt.status_code == 307
        assert "not followed" in attempt.error
        assert len(redirecting.received) == 1
        assert target.received == []


def test_a_send_ends_at_its_deadline_when_the_answer_trickles_in() -> None:
    # Every byte comes well within the read timeout, so only a total deadline ends the send.
    with trickling_receiver(interval=0.2) as slow:
        allow = AllowList.parse(f"127.0.0.1:{slow.port}")
        attempt = sender.post(slow.url, "{}", {}, allow, timeout=0.5)
    assert attempt.status_code is None
    assert "deadline" in attempt.error
    assert (slow.requests, slow.cut_off, slow.answered) == (1, 1, 0)


def test_only_the_kept_excerpt_of_an_answer_is_read() -> None:
    with running_receiver() as receiver:
        receiver.body_out = "é".encode() * 3000
        allow = AllowList.parse(f"127.0.0.1:{receiver.port}")
        attempt = sender.post(receiver.url, "{}", {}, allow, timeout=5)
    assert attempt.status_code == 200
    # 1000 bytes are read: 500 two-byte characters, none cut in half.
    assert attempt.response == "é" * 500


def test_the_retry_schedule_spans_hours_then_gives_up() -> None:
    waits, now, attempts = [], 0, 1
    while (at := schedule.retry_at(attempts, now, base_seconds=60)) is not None:
        waits.append(at - now)
        attempts += 1
    assert waits == sorted(waits)
    assert sum(waits) >= 12 * 3600 * 1000
    assert attempts == schedule.MAX_ATTEMPTS
