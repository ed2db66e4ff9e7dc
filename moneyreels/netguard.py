"""Keep server-side fetches away from private networks and cloud metadata.

A URL from a request (an asset, a webhook) could otherwise make the server reach
169.254.169.254 or a service on the LAN. `guarded_session()` checks every address it
connects to, at connect time, so neither DNS rebinding nor a redirect gets past it.
Private addresses are allowed when the operator says so (MONEYREELS_ALLOW_PRIVATE_URLS),
and by default for the command line and for a server bound to loopback.
"""

import contextvars
import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import connection as connection_util

SCHEMES = ("http", "https")


class BlockedAddress(OSError):
    """The URL's host resolves to an address the server may not reach."""


# IPv6 prefixes whose last 32 bits are an IPv4 address: IPv4-compatible (deprecated) and NAT64.
_EMBEDDING = tuple(ipaddress.ip_network(net) for net in ("::/96", "64:ff9b::/96", "64:ff9b:1::/48"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo), if any."""
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if any(ip in network for network in _EMBEDDING):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        inner = embedded_ipv4(ip)
        # A translator or tunnel would deliver to the IPv4 address inside, so that is what must be public.
        if inner is not None and not (inner.is_global and not inner.is_multicast):
            return False
        ip = ip.ipv4_mapped or ip
    return ip.is_global and not ip.is_multicast


def public_addresses(host: str, port: int) -> list[tuple]:
    """Resolve host; raise BlockedAddress if any address it has is not public."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    blocked = sorted({info[4][0] for info in infos if not is_public(info[4][0])})
    if blocked:
        raise BlockedAddress(f"{host} resolves to a private or reserved address ({', '.join(blocked)})")
    return infos


def check_url(url: str, allow_private: bool) -> None:
    """Raise ValueError for a scheme other than http(s), BlockedAddress for a private host."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError(f"only http and https URLs are allowed, not {parts.scheme or 'no scheme'}")
    if not allow_private:
        public_addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


# The sockets a fetch in this context opened, so a caller giving up on it can hang them up
# (transfer.call): a server dripping its headers never lets the fetching thread return.
opened_sockets: contextvars.ContextVar[list | None] = contextvars.ContextVar("opened_sockets", default=None)


class _Tracked:
    def _new_conn(self):
        sock = super()._new_conn()
        sockets = opened_sockets.get()
        if sockets is not None:
            sockets.append(sock)
        return sock


class _GuardedConnect:
    def _new_conn(self):
        infos = public_addresses(self._dns_host, self.port)
        family, _, _, _, address = infos[0]
        return connection_util.create_connection(
            address[:2], self.timeout, source_address=self.source_address, socket_options=self.socket_options
        )


class _HTTP(_Tracked, _GuardedConnect, HTTPConnection):
    pass


class _HTTPS(_Tracked, _GuardedConnect, HTTPSConnection):
    pass


class _TrackedHTTP(_Tracked, HTTPConnection):
    pass


class _TrackedHTTPS(_Tracked, HTTPSConnection):
    pass


def _pool(base, connection):
    return type(f"{connection.__name__}Pool", (base,), {"ConnectionCls": connection})


class _Adapter(HTTPAdapter):
    """An adapter whose connections are tracked and, when guarded, refuse non-public addresses."""

    def __init__(self, guarded: bool):
        connections = (_HTTP, _HTTPS) if guarded else (_TrackedHTTP, _TrackedHTTPS)
        self.pools = {"http": _pool(HTTPConnectionPool, connections[0]),
                      "https": _pool(HTTPSConnectionPool, connections[1])}
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self.pools


def guarded_session(allow_private: bool) -> requests.Session:
    """A requests session for URLs users gave us; guarded unless private addresses are allowed."""
    session = requests.Session()
    if not allow_private:
        # Environment proxies would connect somewhere the guard never sees.
        session.trust_env = False
    for scheme in SCHEMES:
        session.mount(f"{scheme}://", _Adapter(guarded=not allow_private))
    return session


def private_allowed(settings) -> bool:
    """MONEYREELS_ALLOW_PRIVATE_URLS when set; otherwise only for a server bound to loopback."""
    if settings.allow_private_urls is not None:
        return settings.allow_private_urls
    try:
        return ipaddress.ip_address(socket.gethostbyname(settings.host)).is_loopback
    except (OSError, ValueError):
        return False
