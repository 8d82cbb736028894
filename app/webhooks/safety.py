"""Outbound destination policy for webhook deliveries (SSRF protection).

Two layers, both driven by one `DestinationPolicy`:

* `DestinationPolicy.check_url` / `check_address`: pure checks, usable when a subscription is
  created (reject `https://10.0.0.5/` with a clear message before anything is stored).
* `make_client`: an `httpx.AsyncClient` whose transport resolves host names itself, refuses every
  address the policy blocks, connects to an allowed address by IP, and re-checks the peer address
  of the socket it actually got. A URL that passed `check_url` yesterday can resolve to
  127.0.0.1 today (DNS rebinding), so the check that matters is the one made at connect time.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import string
import typing
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

import anyio
import httpcore
import httpx

__all__ = [
    "ALLOW_HTTP_ENV",
    "ALLOW_NETWORKS_ENV",
    "BlockedDestination",
    "DestinationPolicy",
    "PolicyNetworkBackend",
    "PolicyTransport",
    "Resolver",
    "WEBHOOK_LIMITS",
    "make_client",
    "system_resolver",
    "webhook_client",
]

ALLOW_NETWORKS_ENV = "TIMELINE_WEBHOOK_ALLOW_NETWORKS"
ALLOW_HTTP_ENV = "TIMELINE_WEBHOOK_ALLOW_HTTP"
USER_AGENT = "incident-timeline-webhooks/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Resolves (host, port) to candidate IP address strings, in preference order.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class BlockedDestination(Exception):
    """The policy refuses this webhook destination; `str(exc)` is safe to show to the user."""

    def __init__(self, message: str, *, kind: str, address: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind  # loopback, private, link-local, ..., scheme, userinfo, invalid-url
        self.address = address


# What a blocked address is, and what the refusal sentence calls the whole class of them.
_PLURALS = {
    "unspecified": "unspecified addresses",
    "loopback": "loopback addresses",
    "private": "private networks",
    "link-local": "link-local addresses",
    "shared": "carrier-grade NAT (shared) address space",
    "multicast": "multicast addresses",
    "broadcast": "broadcast addresses",
    "reserved": "reserved and special-purpose ranges",
    "unverifiable": "connections whose peer address cannot be verified",
}


def _table(rows: Iterable[tuple[str, str, str]]) -> tuple[tuple[IPNetwork, str, str], ...]:
    return tuple((ipaddress.ip_network(cidr), kind, noun) for cidr, kind, noun in rows)


# First match wins, so a narrower range comes before the wider one that holds it.
_V4_BLOCKED = _table(
    [
        ("0.0.0.0/32", "unspecified", "the unspecified address"),
        ("0.0.0.0/8", "reserved", "a reserved ('this network') address"),
        ("10.0.0.0/8", "private", "a private address"),
        ("100.64.0.0/10", "shared", "a carrier-grade NAT (shared) address"),
        ("127.0.0.0/8", "loopback", "a loopback address"),
        ("169.254.0.0/16", "link-local", "a link-local address"),
        ("172.16.0.0/12", "private", "a private address"),
        ("192.0.0.0/24", "reserved", "a reserved (IETF protocol) address"),
        ("192.0.2.0/24", "reserved", "a documentation-only address"),
        ("192.88.99.0/24", "reserved", "a reserved (6to4 relay) address"),
        ("192.168.0.0/16", "private", "a private address"),
        ("198.18.0.0/15", "reserved", "a reserved (benchmarking) address"),
        ("198.51.100.0/24", "reserved", "a documentation-only address"),
        ("203.0.113.0/24", "reserved", "a documentation-only address"),
        ("224.0.0.0/4", "multicast", "a multicast address"),
        ("255.255.255.255/32", "broadcast", "the broadcast address"),
        ("240.0.0.0/4", "reserved", "a reserved address"),
    ]
)
_V6_BLOCKED = _table(
    [
        ("::/128", "unspecified", "the unspecified address"),
        ("::1/128", "loopback", "a loopback address"),
        ("64:ff9b:1::/48", "reserved", "a local-use NAT64 address"),
        ("100::/64", "reserved", "a discard-only address"),
        ("2001::/32", "reserved", "a Teredo tunnel address"),
        ("2001:10::/28", "reserved", "a reserved (ORCHID) address"),
        ("2001:20::/28", "reserved", "a reserved (ORCHIDv2) address"),
        ("2001:db8::/32", "reserved", "a documentation-only address"),
        ("3fff::/20", "reserved", "a documentation-only address"),
        ("5f00::/16", "reserved", "a reserved (SRv6) address"),
        ("fc00::/7", "private", "a private (unique local) address"),
        ("fe80::/10", "link-local", "a link-local address"),
        ("fec0::/10", "private", "a private (site-local) address"),
        ("ff00::/8", "multicast", "a multicast address"),
    ]
)
_V4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_V4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_V4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4), if any."""
    if ip in _V4_MAPPED or ip in _V4_TRANSLATED or ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _V4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are themselves, not 0.0.0.0/0.0.0.1
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return ip.sixtofour
    return None


def _parse_address(value: str | IPAddress) -> IPAddress:
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return value
    return ipaddress.ip_address(value)


_LEGACY_V4_CHARS = frozenset(string.hexdigits + "xX.")


def _literal_address(host: str) -> IPAddress | None:
    """The address an IP-literal host names, including the legacy forms (`127.1`, `0x7f.1`,
    `2130706433`) that getaddrinfo also accepts; None for a host name."""
    host = unquote(host)  # httpx keeps an IPv6 zone as %25eth0
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and set(host) <= _LEGACY_V4_CHARS:
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _parse_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    networks: list[IPNetwork] = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry))
        except ValueError as exc:
            hint = ""
            try:
                hint = f"; did you mean {ipaddress.ip_network(entry, strict=False)}?"
            except ValueError:
                pass
            raise ValueError(
                f"{ALLOW_NETWORKS_ENV} entry {entry!r} is not a network in CIDR notation "
                f"(e.g. 10.0.0.0/8, 127.0.0.1, fd00::/8): {exc}{hint}"
            ) from None
    return tuple(networks)


@dataclass(frozen=True)
class DestinationPolicy:
    """Where webhook deliveries may go. The default refuses plain http and every non-public address."""

    allow_networks: tuple[IPNetwork, ...] = ()
    allow_http: bool = False

    def __post_init__(self) -> None:
        # Tolerate CIDR strings (and lists) passed straight to the constructor.
        if not all(isinstance(n, (ipaddress.IPv4Network, ipaddress.IPv6Network)) for n in self.allow_networks):
            networks = tuple(
                n if isinstance(n, (ipaddress.IPv4Network, ipaddress.IPv6Network)) else _parse_networks([str(n)])[0]
                for n in self.allow_networks
            )
            object.__setattr__(self, "allow_networks", networks)
        elif not isinstance(self.allow_networks, tuple):
            object.__setattr__(self, "allow_networks", tuple(self.allow_networks))

    @classmethod
    def from_env(cls, allow_networks: str | Iterable[str], allow_http: bool) -> DestinationPolicy:
        """Build from `TIMELINE_WEBHOOK_ALLOW_NETWORKS` (comma-separated CIDRs, or the already split
        tuple in `Settings`) and `TIMELINE_WEBHOOK_ALLOW_HTTP`; a bad entry is a ValueError."""
        entries = allow_networks.split(",") if isinstance(allow_networks, str) else allow_networks
        return cls(allow_networks=_parse_networks(entries), allow_http=bool(allow_http))

    def is_allowed(self, ip: str | IPAddress) -> bool:
        try:
            self.check_address(ip)
        except BlockedDestination:
            return False
        return True

    def _allow_listed(self, *candidates: IPAddress | None) -> bool:
        return any(
            candidate is not None and candidate in network
            for candidate in candidates
            for network in self.allow_networks
        )

    def check_address(self, ip: str | IPAddress) -> None:
        """Raise BlockedDestination unless a delivery may connect to `ip`."""
        try:
            address = _parse_address(ip)
        except ValueError:
            raise BlockedDestination(
                f"webhook URL resolves to {ip!r}, which is not an IP address", kind="invalid-address"
            ) from None
        embedded = _embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
        # An allow-list entry may name either form: 127.0.0.0/8 also admits ::ffff:127.0.0.1.
        if self._allow_listed(address, embedded):
            return
        shown = str(address) if embedded is None else f"{address} (IPv4 {embedded})"
        if embedded is None:
            blocked = self._classify(address)
        else:
            # Mapped, NAT64 and 6to4 addresses reach the IPv4 address they embed, so that is the
            # one judged; IPv4-compatible ones are deprecated and routed nowhere useful.
            blocked = self._classify(embedded)
            if blocked is None and address in _V4_COMPATIBLE:
                blocked = ("reserved", "a deprecated IPv4-compatible IPv6 address")
        if blocked is not None:
            kind, noun = blocked
            raise BlockedDestination(
                f"webhook URL resolves to {shown}, {noun}; deliveries to {_PLURALS[kind]} are refused "
                f"unless {ALLOW_NETWORKS_ENV} covers it",
                kind=kind,
                address=str(address),
            )

    @staticmethod
    def _classify(address: IPAddress) -> tuple[str, str] | None:
        table = _V4_BLOCKED if address.version == 4 else _V6_BLOCKED
        for network, kind, noun in table:
            if address in network:
                return kind, noun
        # Safety net for special-purpose ranges the tables above do not name (the stdlib's
        # registry grows with Python releases): anything not globally routable is refused.
        if address.is_multicast:
            return "multicast", "a multicast address"
        if not address.is_global:
            return "reserved", "an address that is not globally routable"
        return None

    def check_url(self, url: str | httpx.URL) -> None:
        """Raise BlockedDestination unless `url` is an acceptable webhook URL.

        Host names are only resolved at connect time (see `make_client`); an IP-literal host is
        checked here at once.
        """
        if not isinstance(url, httpx.URL):
            try:
                url = httpx.URL(url)
            except (httpx.InvalidURL, TypeError) as exc:
                raise BlockedDestination(f"webhook URL is not a valid URL: {exc}", kind="invalid-url") from None
        scheme = url.scheme.lower()
        if scheme == "http":
            if not self.allow_http:
                raise BlockedDestination(
                    f"webhook URL must use https; plain http is refused unless {ALLOW_HTTP_ENV} is set",
                    kind="scheme",
                )
        elif scheme != "https":
            raise BlockedDestination(f"webhook URL must use https, not {scheme or 'no scheme'!r}", kind="scheme")
        if url.userinfo:
            raise BlockedDestination(
                "webhook URL must not contain a user name or password; the payload is signed instead",
                kind="userinfo",
            )
        if not url.host:
            raise BlockedDestination("webhook URL must name a host", kind="invalid-url")
        literal = _literal_address(url.host)
        if literal is not None:
            self.check_address(literal)


async def system_resolver(host: str, port: int) -> list[str]:
    """The system's answer for `host`, as distinct address strings in getaddrinfo order."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class PolicyNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses the policy allows.

    httpcore hands `connect_tcp` the URL's host name; this backend resolves it, drops every
    candidate the policy blocks, and asks the wrapped backend to connect to an allowed candidate
    *by IP*. Only the TCP target changes: httpcore still passes the host name to `start_tls`
    (SNI and certificate verification) and httpx still writes it in the Host header.
    """

    def __init__(
        self,
        policy: DestinationPolicy,
        *,
        resolver: Resolver | None = None,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self._resolve = resolver or system_resolver
        self._backend = backend or httpcore.AnyIOBackend()

    async def allowed_addresses(self, host: str, port: int, timeout: float | None = None) -> list[str]:
        """Resolve `host` and return the allowed candidates; BlockedDestination if there are none."""
        try:
            with anyio.fail_after(timeout):
                candidates = list(await self._resolve(host, port))
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host!r} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"could not resolve {host!r}: {exc}") from exc
        if not candidates:
            raise httpcore.ConnectError(f"{host!r} resolved to no address")
        allowed: list[str] = []
        first_refusal: BlockedDestination | None = None
        for candidate in candidates:
            try:
                self.policy.check_address(candidate)
            except BlockedDestination as exc:
                first_refusal = first_refusal or exc
            else:
                allowed.append(candidate)
        # A name with both public and private records is served by its public ones only: the
        # private ones are never dialled, so there is nothing to gain by refusing the name.
        if not allowed:
            assert first_refusal is not None
            raise first_refusal
        return allowed

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        deadline = None if timeout is None else anyio.current_time() + timeout
        allowed = await self.allowed_addresses(host, port, timeout)
        last_error: Exception | None = None
        # Candidates are tried one after another within the single connect timeout, in the
        # resolver's preference order (as getaddrinfo sorts them per RFC 6724).
        for address in allowed:
            remaining = None if deadline is None else deadline - anyio.current_time()
            if remaining is not None and remaining <= 0:
                raise httpcore.ConnectTimeout(f"connecting to {host!r} timed out")
            try:
                stream = await self._backend.connect_tcp(
                    address,
                    port,
                    timeout=remaining,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            await self._check_peer(stream)
            return stream
        assert last_error is not None
        raise last_error

    async def _check_peer(self, stream: httpcore.AsyncNetworkStream) -> None:
        # Whatever was asked for, what counts is where the socket went.
        peer = stream.get_extra_info("server_addr")
        try:
            if not peer:
                raise BlockedDestination(
                    "webhook delivery refused: the connected peer address could not be verified",
                    kind="unverifiable",
                )
            self.policy.check_address(str(peer[0]))
        except BlockedDestination:
            await stream.aclose()
            raise

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedDestination("webhook deliveries never use unix sockets", kind="unix-socket")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


# Many receivers, few requests each: a wide pool, few idle connections kept per host.
WEBHOOK_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=200, keepalive_expiry=30.0)


class PolicyTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, with `check_url` on every request and a `PolicyNetworkBackend` pool."""

    def __init__(
        self,
        policy: DestinationPolicy,
        *,
        resolver: Resolver | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits = WEBHOOK_LIMITS,
    ) -> None:
        if isinstance(verify, ssl.SSLContext):
            ssl_context = verify
        else:
            ssl_context = httpx.create_ssl_context(verify=verify, trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        self.policy = policy
        self.network_backend = PolicyNetworkBackend(policy, resolver=resolver, backend=network_backend)
        # httpx 0.28 takes no network backend, so the pool it built is replaced by the same pool
        # over the policy backend (httpx is pinned <0.29; tests/integration/test_webhook_safety.py
        # fails loudly if this stops taking effect).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=self.network_backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.policy.check_url(request.url)
        return await super().handle_async_request(request)


def make_client(
    policy: DestinationPolicy,
    *,
    timeout: float,
    resolver: Resolver | None = None,
    verify: ssl.SSLContext | bool = True,
    limits: httpx.Limits = WEBHOOK_LIMITS,
) -> httpx.AsyncClient:
    """An AsyncClient for webhook deliveries: policy-enforcing, no redirects, no env proxies.

    A refused destination raises BlockedDestination (not an httpx.HTTPError) from `send`.
    `timeout` bounds each phase (connect incl. DNS, write, each read, pool wait), not the whole
    request: wrap an attempt in `anyio.fail_after` for an overall limit.
    """
    return webhook_client(PolicyTransport(policy, resolver=resolver, verify=verify, limits=limits), timeout=timeout)


def webhook_client(transport: httpx.AsyncBaseTransport, *, timeout: float) -> httpx.AsyncClient:
    """An AsyncClient for webhook deliveries over `transport`: no redirects followed, no env proxies.

    Production passes a `PolicyTransport` (see `make_client`); tests may pass an
    `httpx.MockTransport`, which then stands in for the destination policy too.
    """
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
    )
