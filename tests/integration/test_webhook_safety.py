"""The webhook client against real sockets: refused destinations never see a connection.

Receivers are real HTTP servers on loopback addresses. Loopback is itself a blocked range, which
is what makes them useful here: a request that slips past the policy arrives and is recorded.
"""

from __future__ import annotations

import http.server
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Sequence

import httpcore
import httpx
import pytest

from app.webhooks.safety import (
    BlockedDestination,
    DestinationPolicy,
    PolicyNetworkBackend,
    PolicyTransport,
    make_client,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


class Receiver:
    """A real HTTP server in a thread that records every connection and request it gets."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        status: int = 200,
        location: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        receiver = self
        self.connections = 0
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self._record()

            def do_POST(self) -> None:  # noqa: N802
                self._record()

            def _record(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        family = socket.AF_INET6 if ":" in host else socket.AF_INET

        class Server(http.server.ThreadingHTTPServer):
            address_family = family
            daemon_threads = True
            block_on_close = False

            def process_request(self, request, client_address):
                with receiver._lock:
                    receiver.connections += 1
                super().process_request(request, client_address)

            def handle_error(self, request, client_address):
                pass  # a client that hangs up before sending anything is expected here

        self.server = Server((host, 0), Handler)
        if ssl_context is not None:
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
        self.host = host
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    def url(self, host: str | None = None, scheme: str = "http") -> str:
        host = host or self.host
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{self.port}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def static_resolver(table: dict[str, Sequence[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(table[host])

    return resolve


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Records every TCP connect. `redirect_to` dials somewhere else than asked (a stand-in for
    a network that routes a public address to an internal host); `fail` refuses every dial."""

    def __init__(self, *, redirect_to: tuple[str, int] | None = None, fail: bool = False) -> None:
        self.calls: list[tuple[str, int]] = []
        self._inner = httpcore.AnyIOBackend()
        self._redirect_to = redirect_to
        self._fail = fail

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.calls.append((host, port))
        if self._fail:
            raise httpcore.ConnectError(f"recorded a dial to {host}:{port}")
        if self._redirect_to is not None:
            host, port = self._redirect_to
        return await self._inner.connect_tcp(host, port, timeout=timeout, local_address=local_address)

    async def sleep(self, seconds):
        await self._inner.sleep(seconds)


def allow(*cidrs: str, http: bool = True) -> DestinationPolicy:
    return DestinationPolicy.from_env(",".join(cidrs), allow_http=http)


# --- loopback receivers are refused, and never contacted --------------------------------------


async def test_default_policy_refuses_plain_http_to_loopback(receiver):
    async with make_client(DestinationPolicy(), timeout=5) as client:
        with pytest.raises(BlockedDestination) as caught:
            await client.get(receiver.url())
    assert caught.value.kind == "scheme"
    assert receiver.connections == 0 and receiver.requests == []


async def test_allow_http_still_refuses_loopback(receiver):
    async with make_client(DestinationPolicy(allow_http=True), timeout=5) as client:
        with pytest.raises(BlockedDestination) as caught:
            await client.post(receiver.url(), content=b"{}")
    assert caught.value.kind == "loopback"
    assert "127.0.0.1" in str(caught.value)
    assert receiver.connections == 0 and receiver.requests == []


async def test_https_to_loopback_is_refused_before_any_handshake(receiver):
    async with make_client(DestinationPolicy(), timeout=5) as client:
        with pytest.raises(BlockedDestination, match="loopback"):
            await client.get(receiver.url(scheme="https"))
    assert receiver.connections == 0


async def test_a_name_resolving_to_loopback_is_refused(receiver):
    # `localhost` goes through the system resolver: only the connect-time check can see it.
    async with make_client(DestinationPolicy(allow_http=True), timeout=5) as client:
        with pytest.raises(BlockedDestination) as caught:
            await client.get(receiver.url("localhost"))
    assert caught.value.kind == "loopback"
    assert receiver.connections == 0 and receiver.requests == []


async def test_a_mapped_name_resolving_to_loopback_is_refused(receiver):
    resolver = static_resolver({"hooks.customer.example": ["127.0.0.1"]})
    async with make_client(DestinationPolicy(allow_http=True), timeout=5, resolver=resolver) as client:
        with pytest.raises(BlockedDestination, match="resolves to 127.0.0.1, a loopback address"):
            await client.get(receiver.url("hooks.customer.example"))
    assert receiver.connections == 0


async def test_legacy_numeric_spellings_of_loopback_are_refused(receiver):
    async with make_client(DestinationPolicy(allow_http=True), timeout=5) as client:
        for host in ("2130706433", "0x7f.1", "127.1"):
            with pytest.raises(BlockedDestination, match="loopback"):
                await client.get(f"http://{host}:{receiver.port}/hook")
    assert receiver.connections == 0


# --- every blocked range, through the client and through the backend ---------------------------

BLOCKED = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "224.0.0.1",
    "0.0.0.0",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "fe80::1",
    "fc00::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::",
    "ff02::1",
]


def literal_url(address: str, port: int) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}/hook"


@pytest.mark.parametrize("address", BLOCKED)
async def test_each_blocked_range_is_refused_as_an_ip_literal(address, receiver):
    dialled = RecordingBackend()
    transport = PolicyTransport(DestinationPolicy(allow_http=True), network_backend=dialled)
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        with pytest.raises(BlockedDestination):
            await client.get(literal_url(address, receiver.port))
    assert dialled.calls == []
    assert receiver.connections == 0


@pytest.mark.parametrize("address", BLOCKED)
async def test_each_blocked_range_is_refused_behind_a_host_name(address, receiver):
    dialled = RecordingBackend()
    resolver = static_resolver({"hooks.customer.example": [address]})
    transport = PolicyTransport(DestinationPolicy(allow_http=True), resolver=resolver, network_backend=dialled)
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        with pytest.raises(BlockedDestination):
            await client.get(receiver.url("hooks.customer.example"))
    assert dialled.calls == []
    assert receiver.connections == 0


@pytest.mark.parametrize("address", BLOCKED)
async def test_each_blocked_range_is_dialled_once_allow_listed(address):
    bare = ipaddress.ip_address(address)
    dialled = RecordingBackend(fail=True)
    backend = PolicyNetworkBackend(
        allow(f"{bare}/{bare.max_prefixlen}"),
        resolver=static_resolver({"hooks.customer.example": [address]}),
        backend=dialled,
    )
    with pytest.raises(httpcore.ConnectError, match="recorded a dial"):
        await backend.connect_tcp("hooks.customer.example", 8080, timeout=5)
    assert dialled.calls == [(address, 8080)]


# --- allow-listed receivers are reached -----------------------------------------------------


async def test_an_allow_listed_loopback_receiver_gets_the_request(receiver):
    async with make_client(allow("127.0.0.0/8"), timeout=5) as client:
        response = await client.post(receiver.url(), content=b'{"ok":true}')
    assert response.status_code == 200
    assert [(method, path) for method, path, _ in receiver.requests] == [("POST", "/hook")]


async def test_a_host_name_is_dialled_by_ip_but_kept_in_the_host_header(receiver):
    resolver = static_resolver({"hooks.customer.example": ["127.0.0.1"]})
    async with make_client(allow("127.0.0.1"), timeout=5, resolver=resolver) as client:
        response = await client.get(receiver.url("hooks.customer.example"))
    assert response.status_code == 200
    ((_, _, headers),) = receiver.requests
    assert headers["host"] == f"hooks.customer.example:{receiver.port}"
    assert headers["user-agent"].startswith("incident-timeline-webhooks/")


async def test_only_the_allowed_records_of_a_mixed_answer_are_dialled(receiver):
    dialled = RecordingBackend()
    resolver = static_resolver({"hooks.customer.example": ["10.0.0.1", "169.254.169.254", "127.0.0.1"]})
    transport = PolicyTransport(allow("127.0.0.1"), resolver=resolver, network_backend=dialled)
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        response = await client.get(receiver.url("hooks.customer.example"))
    assert response.status_code == 200
    assert dialled.calls == [("127.0.0.1", receiver.port)]


async def test_an_allowed_name_falls_through_to_the_next_address_when_one_refuses(receiver):
    # Nothing listens on 127.0.0.2 at the receiver's port, so the first candidate is refused.
    resolver = static_resolver({"hooks.customer.example": ["127.0.0.2", "127.0.0.1"]})
    backend = PolicyNetworkBackend(allow("127.0.0.0/8"), resolver=resolver)
    stream = await backend.connect_tcp("hooks.customer.example", receiver.port, timeout=5)
    try:
        assert stream.get_extra_info("server_addr")[0] == "127.0.0.1"
    finally:
        await stream.aclose()


@pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback here")
async def test_an_allow_listed_ipv6_loopback_receiver_gets_the_request():
    with Receiver("::1") as v6:
        async with make_client(DestinationPolicy(allow_http=True), timeout=5) as client:
            with pytest.raises(BlockedDestination, match="loopback"):
                await client.get(v6.url())
        assert v6.connections == 0
        async with make_client(allow("::1/128"), timeout=5) as client:
            response = await client.get(v6.url())
        assert response.status_code == 200 and len(v6.requests) == 1


async def test_the_mapped_spelling_of_an_allow_listed_ipv4_receiver_is_reached(receiver):
    async with make_client(allow("127.0.0.0/8"), timeout=5) as client:
        try:
            response = await client.get(literal_url("::ffff:127.0.0.1", receiver.port))
        except httpx.ConnectError:
            pytest.skip("this host does not route IPv4-mapped IPv6 addresses")
    assert response.status_code == 200 and len(receiver.requests) == 1


# --- the peer address is checked after connecting ----------------------------------------------


async def test_the_connected_peer_is_rechecked(receiver):
    # The name resolves to a public address, but the connection lands on loopback (as a hostile
    # network or a rebinding proxy could arrange): the socket's real peer decides.
    misrouted = RecordingBackend(redirect_to=("127.0.0.1", receiver.port))
    resolver = static_resolver({"hooks.customer.example": ["93.184.216.34"]})
    transport = PolicyTransport(DestinationPolicy(allow_http=True), resolver=resolver, network_backend=misrouted)
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        with pytest.raises(BlockedDestination, match="127.0.0.1, a loopback address"):
            await client.get(receiver.url("hooks.customer.example"))
    assert misrouted.calls == [("93.184.216.34", receiver.port)]
    assert receiver.requests == []


# --- redirects ---------------------------------------------------------------------------------


@pytest.fixture
def second_loopback():
    try:
        with Receiver("127.0.0.2") as running:
            yield running
    except OSError:
        pytest.skip("127.0.0.2 is not a loopback address here")


async def test_a_redirect_to_a_private_address_is_not_followed(second_loopback):
    target = second_loopback
    with Receiver(status=302, location=target.url()) as redirector:
        policy = allow("127.0.0.1/32")  # the redirector only; 127.0.0.2 stays blocked
        async with make_client(policy, timeout=5) as client:
            response = await client.post(redirector.url(), content=b"{}")
            assert response.status_code == 302
            assert response.headers["location"] == target.url()
            assert not response.is_success
            # Even a caller that asks to follow gets no further than the policy allows.
            with pytest.raises(BlockedDestination, match="127.0.0.2"):
                await client.post(redirector.url(), content=b"{}", follow_redirects=True)
        assert len(redirector.requests) == 2
    assert target.connections == 0 and target.requests == []


async def test_a_redirect_is_not_followed_even_where_the_policy_would_allow_it(second_loopback):
    target = second_loopback
    with Receiver(status=307, location=target.url()) as redirector:
        async with make_client(allow("127.0.0.0/8"), timeout=5) as client:
            response = await client.post(redirector.url(), content=b"{}")
        assert response.status_code == 307
    assert target.requests == []


# --- TLS: dialled by IP, verified and SNI'd by name ------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=hooks.customer.example",
            "-addext",
            "subjectAltName=DNS:hooks.customer.example",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_https_keeps_the_host_name_for_sni_and_verification(certificate):
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    server_names: list[str | None] = []
    server_context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    client_context = ssl.create_default_context(cafile=str(cert))
    resolver = static_resolver({"hooks.customer.example": ["127.0.0.1"]})

    with Receiver(ssl_context=server_context) as tls:
        url = tls.url("hooks.customer.example", scheme="https")
        async with make_client(DestinationPolicy(), timeout=5, resolver=resolver, verify=client_context) as client:
            with pytest.raises(BlockedDestination, match="loopback"):
                await client.get(url)
        assert tls.connections == 0
        async with make_client(
            allow("127.0.0.1", http=False), timeout=5, resolver=resolver, verify=client_context
        ) as client:
            response = await client.get(url)
        assert response.status_code == 200
        assert server_names == ["hooks.customer.example"]
        assert tls.requests[0][2]["host"] == f"hooks.customer.example:{tls.port}"


# --- failures that are not policy decisions stay httpx errors ---------------------------------


async def test_an_unresolvable_name_is_a_connect_error():
    async with make_client(DestinationPolicy(), timeout=5, resolver=static_resolver({})) as client:
        with pytest.raises(httpx.ConnectError, match="could not resolve"):
            await client.get("https://nowhere.example/hook")


async def test_a_resolver_that_hangs_is_a_connect_timeout():
    import anyio

    async def hanging(host: str, port: int) -> list[str]:
        await anyio.Event().wait()
        return []

    async with make_client(DestinationPolicy(), timeout=0.05, resolver=hanging) as client:
        with pytest.raises(httpx.ConnectTimeout):
            await client.get("https://slow-dns.example/hook")


def test_make_client_settings():
    client = make_client(DestinationPolicy(), timeout=7.5)
    assert client.follow_redirects is False
    assert client.trust_env is False
    assert client.timeout == httpx.Timeout(7.5)
    assert isinstance(client._transport, PolicyTransport)
    assert client._mounts == {}
