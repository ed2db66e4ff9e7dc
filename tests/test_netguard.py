"""Server-side fetches stay off private networks unless allowed, checked at connect time."""

import socket

import pytest
import requests

from moneyreels import netguard
from moneyreels.config import Settings
from tests.support.fakes import WebhookReceiver


@pytest.mark.parametrize("address, public", [
    ("8.8.8.8", True), ("2606:4700:4700::1111", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("::1", False), ("fe80::1", False),
    ("fd00::1", False), ("::ffff:127.0.0.1", False), ("224.0.0.1", False),
    # IPv6 forms that carry an IPv4 address are judged by the address inside.
    ("::127.0.0.1", False), ("::10.0.0.1", False), ("64:ff9b::127.0.0.1", False), ("64:ff9b::a9fe:a9fe", False),
    ("64:ff9b:1::c0a8:101", False), ("2002:7f00:1::", False), ("2002:a9fe:a9fe::1", False),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False), ("64:ff9b::8.8.8.8", True), ("2002:808:808::1", True),
])
def test_public_addresses_are_told_apart(address, public):
    assert netguard.is_public(address) is public


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/a", "gopher://x", "data:,hi", "//x/y"])
def test_only_http_and_https_are_allowed(url):
    with pytest.raises(ValueError):
        netguard.check_url(url, allow_private=True)


def test_private_hosts_are_refused_unless_allowed():
    with pytest.raises(netguard.BlockedAddress):
        netguard.check_url("http://127.0.0.1:8080/x", allow_private=False)
    with pytest.raises(netguard.BlockedAddress):
        netguard.check_url("http://localhost/x", allow_private=False)
    netguard.check_url("http://127.0.0.1:8080/x", allow_private=True)


def test_the_guarded_session_refuses_at_connect_time():
    with WebhookReceiver() as receiver:
        with pytest.raises(requests.ConnectionError, match="private or reserved"):
            netguard.guarded_session(allow_private=False).post(receiver.hook_url, data=b"x", timeout=5)
        assert receiver.requests == []
        assert netguard.guarded_session(allow_private=True).post(receiver.hook_url, data=b"x", timeout=5).ok


def test_a_name_that_rebinds_to_loopback_is_caught_when_connecting(monkeypatch):
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real("127.0.0.1", *a, **k)
                        if host == "rebind.example" else real(host, *a, **k))
    with pytest.raises(requests.ConnectionError, match="rebind.example resolves to a private"):
        netguard.guarded_session(allow_private=False).get("http://rebind.example:9/", timeout=5)


@pytest.mark.parametrize("host, setting, allowed", [
    ("127.0.0.1", None, True), ("0.0.0.0", None, False), ("127.0.0.1", False, False), ("0.0.0.0", True, True),
])
def test_private_urls_default_to_allowed_only_on_loopback(host, setting, allowed):
    assert netguard.private_allowed(Settings(host=host, allow_private_urls=setting)) is allowed
