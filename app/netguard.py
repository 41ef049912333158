"""Which addresses the server may connect to when a client chose the URL.

A callback URL (and any other URL an API client hands the server to fetch) makes
the server open a connection on the client's behalf. Unchecked, a client could
make it POST to its own neighbours: 127.0.0.1, the cloud metadata service at
169.254.169.254, a database on 10.x. So only public addresses are reached; the
operator names exceptions (host names, addresses, networks) in
VOICEPROFILE_ALLOW_HOSTS (`Settings.allow_hosts`).

One `Guard`, two moments:
- `await guard.check_url(url)` when a URL is accepted: http(s) only, a valid host
  and port, no `user@`, and the addresses its host resolves to now. A name that
  does not resolve yet passes: every connection checks again.
- `guard.client()` when fetching: an httpx client whose every TCP connection
  resolves the host itself, checks every address and connects to a checked one,
  so a DNS answer that changed since (or between check and connect) cannot reach
  a refused address; followed redirects are checked the same way. It ignores
  proxy variables (a proxy would connect for us, unchecked).

`Refused` (a ValueError) carries a message fit for the client.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

__all__ = ["Guard", "Policy", "Refused", "is_public", "system_resolve"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
_NAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
SCHEMES = {"http": 80, "https": 443}


class Refused(ValueError):
    """A URL or address the server will not connect to."""


def is_public(ip: Address) -> bool:
    """Globally routable unicast: not loopback, private, link-local, unspecified,
    shared (CGNAT), reserved, documentation or multicast. IPv6 forms that carry an
    IPv4 address (mapped, 6to4, NAT64) are judged by that address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
    return ip.is_global and not ip.is_multicast


def _name(host: str) -> str:
    return host.lower().rstrip(".")


def _literal(host: str) -> Address | None:
    """The address a host written as a number means, in every form the system's
    resolver accepts (`2130706433`, `0x7f.1`, `127.1` are all 127.0.0.1)."""
    try:
        if ":" in host:
            return ipaddress.IPv6Address(host)
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class Policy:
    """The exceptions to "public addresses only": exact host names (any address
    they resolve to is allowed) and networks."""

    names: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Policy:
        """From `Settings.allow_hosts`; ValueError names a bad entry."""
        names: set[str] = set()
        networks: list[Network] = []
        for entry in entries:
            text = entry.strip().lower()
            try:
                networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if not _NAME.match(_name(text)):
                raise ValueError(f"{entry!r} is not a host name, an IP address or a network")
            names.add(_name(text))
        return cls(frozenset(names), tuple(networks))

    def allows_name(self, host: str) -> bool:
        return _name(host) in self.names

    def allows(self, ip: Address) -> bool:
        return is_public(ip) or any(ip in net for net in self.networks)


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`, in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _refusal(host: str, ip: Address) -> Refused:
    where = host if host == str(ip) else f"{host} ({ip})"
    return Refused(f"{where} is not a public address, and this server does not allow it")


class Guard:
    """The policy, applied to URLs and to every connection of its `client()`.
    `resolver` is replaceable (tests simulate a DNS answer that changes)."""

    def __init__(self, policy: Policy | None = None, resolver: Resolver | None = None) -> None:
        self.policy = policy or Policy()
        self.resolver = resolver or system_resolve

    def parse(self, url: str) -> httpx.URL:
        """The URL, if its form is acceptable (no DNS); raises Refused."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise Refused(f"not a valid URL: {exc}") from None
        if parsed.scheme not in SCHEMES:
            raise Refused("only http and https URLs are allowed")
        if parsed.userinfo:
            raise Refused("a URL with a user name or password (user@host) is not allowed")
        host = parsed.raw_host.decode("ascii")
        if parsed.port is not None and not 0 < parsed.port < 65536:
            raise Refused(f"port {parsed.port} is out of range")
        literal = _literal(host)
        if literal is None and not _NAME.match(_name(host)):
            raise Refused(f"{host!r} is not a valid host name")
        if self.policy.allows_name(host):
            return parsed
        if literal is not None and not self.policy.allows(literal):
            raise _refusal(host, literal)
        if _name(host) == "localhost" or _name(host).endswith(".localhost"):
            raise Refused(f"{host} is this machine, and this server does not allow it")
        return parsed

    async def addresses(self, host: str, port: int) -> list[str]:
        """The addresses `host` resolves to, every one checked: one refused answer
        among good ones refuses the host (the next lookup might pick it). Raises
        Refused, or OSError when the name does not resolve."""
        found = await self.resolver(host, port)
        if not found:
            raise OSError(f"{host} has no address")
        if not self.policy.allows_name(host):
            for text in found:
                ip = ipaddress.ip_address(text)
                if not self.policy.allows(ip):
                    raise _refusal(host, ip)
        return found

    async def check_url(self, url: str, timeout: float = 5.0) -> httpx.URL:
        """`parse`, then the addresses the host resolves to now (within `timeout`)."""
        parsed = self.parse(url)
        port = parsed.port or SCHEMES[parsed.scheme]
        try:
            async with asyncio.timeout(timeout):
                await self.addresses(parsed.raw_host.decode("ascii"), port)
        except (OSError, TimeoutError):
            pass  # does not resolve now: each connection is checked anyway
        return parsed

    def client(self, limits: httpx.Limits | None = None, **kwargs: Any) -> httpx.AsyncClient:
        """An httpx client that connects only where this guard allows."""
        transport = _Transport(self, limits or httpx.Limits())
        return httpx.AsyncClient(transport=transport, trust_env=False, **kwargs)


class _Backend(httpcore.AsyncNetworkBackend):
    """Resolves, checks, then connects to a checked address (no second lookup)."""

    def __init__(self, guard: Guard) -> None:
        self._guard = guard
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._guard.addresses(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"{host}: {exc}") from None
        failure: Exception = httpcore.ConnectError(f"{host}: no address")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise Refused("unix sockets are not reachable through the guard")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Transport(httpx.AsyncHTTPTransport):
    def __init__(self, guard: Guard, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx has no public way to give its pool a network backend: replace the
        # pool with one built the same way (httpx is pinned exactly) plus ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(guard),
        )
