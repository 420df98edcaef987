"""`ferry.remote.open_remote` against real servers on 127.0.0.1 (no other network).

`RawServer` is a tiny HTTP/1.1 server whose routes write raw bytes, so it can misbehave on purpose
(drip, lie about Content-Length, close early). An autouse guard fails any connection to an address
other than 127.0.0.1 and any name lookup done by the transport itself (only the scripted resolver
may answer names: that is the pinning).
"""

from __future__ import annotations

import contextlib
import http.server
import ipaddress
import os
import socket
import ssl
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ferry.errors import InvalidRequest, PayloadTooLarge, UpstreamFailed, UpstreamTimeout
from ferry.remote import FetchPolicy, MiB, open_remote

LOOPBACK_ONLY = (ipaddress.ip_network("127.0.0.1/32"),)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    sni: str | None


Route = Callable[["Conn", Seen], None]


@dataclass
class Conn:
    sock: socket.socket
    server: RawServer
    path: str

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)
        self.server.sent[self.path] += len(data)

    def drip(self, data: bytes, every: float) -> None:
        for i in range(len(data)):
            if self.server.stop.wait(every):
                return
            self.send(data[i : i + 1])


class RawServer:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.tls = tls
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.sent: dict[str, int] = defaultdict(int)
        self.client_closed: dict[str, threading.Event] = defaultdict(threading.Event)
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def route(self, path: str) -> Callable[[Route], Route]:
        def register(fn: Route) -> Route:
            self.routes[path] = fn
            return fn

        return register

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            head = b""
            while b"\r\n\r\n" not in head:
                more = sock.recv(4096)
                if not more:
                    return
                head += more
            lines = head.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
            seen = Seen(path, headers, getattr(sock, "sni", None))
            self.seen.append(seen)
            self.routes.get(path, not_found)(Conn(sock, self, path), seen)
        except (OSError, ssl.SSLError):
            pass
        finally:
            sock.close()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def response(status: int, headers: dict[str, str] | None = None, body: bytes = b"", *, length: bool = True) -> bytes:
    head = [f"HTTP/1.1 {status} Status", "Connection: close"]
    if length:
        head.append(f"Content-Length: {len(body)}")
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def chunked(body: bytes, size: int = 64 * 1024) -> bytes:
    pieces = [b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)]
    return b"".join(pieces) + b"0\r\n\r\n"


def not_found(conn: Conn, seen: Seen) -> None:
    conn.send(response(404, body=b"no such path"))


def wait_for_close(conn: Conn, seconds: float = 3.0) -> None:
    """Block until the client closes its end (what a well-behaved fetch does on exit)."""
    conn.sock.settimeout(seconds)
    try:
        while conn.sock.recv(4096):
            pass
        conn.server.client_closed[conn.path].set()
    except OSError:
        conn.server.client_closed[conn.path].set()


class Resolver:
    """Scripted DNS: every *.test name -> 127.0.0.1 unless scripted otherwise; records questions."""

    def __init__(self) -> None:
        self.script: dict[str, list[list[str]]] = {}
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host in self.script:
            answers = self.script[host]
            return answers.pop(0) if len(answers) > 1 else answers[0]
        if host.endswith(".test"):
            return ["127.0.0.1"]
        raise socket.gaierror(socket.EAI_NONAME, "unknown")


@dataclass
class Net:
    """What the transport itself tried: addresses connected to, names it tried to resolve."""

    connected: list[str] = field(default_factory=list)
    allowed: set[str] = field(default_factory=lambda: {"127.0.0.1"})


@pytest.fixture(autouse=True)
def net(monkeypatch: pytest.MonkeyPatch) -> Net:
    record = Net()
    real = socket.getaddrinfo

    def guarded(host: str | bytes | None, port: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in record.allowed:
            raise OSError(f"test network guard: refusing {name!r}")
        record.connected.append(name)
        return real(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return record


@pytest.fixture
def resolver() -> Resolver:
    return Resolver()


@pytest.fixture
def policy(resolver: Resolver) -> FetchPolicy:
    return FetchPolicy(allowed_networks=LOOPBACK_ONLY, resolve=resolver)


@pytest.fixture
def server() -> Iterator[RawServer]:
    srv = RawServer()
    yield srv
    srv.close()


def fetch(url: str, policy: FetchPolicy, max_bytes: int = 10 * MiB, **kwargs: float) -> bytes:
    with open_remote(url, max_bytes=max_bytes, policy=policy, **kwargs) as body:
        return b"".join(body.iter_chunks())


# --- bodies -----------------------------------------------------------------------------------


def test_body_streams_byte_exact_in_fixed_chunks(server: RawServer, policy: FetchPolicy) -> None:
    payload = os.urandom(2 * MiB + 12345)
    server.route("/photo.png")(lambda c, s: c.send(response(200, {"Content-Type": "image/png"}, payload)))
    url = f"http://media.test:{server.port}/photo.png"
    with open_remote(url, max_bytes=3 * MiB, policy=policy) as body:
        assert (body.final_url, body.content_type, body.content_length) == (url, "image/png", len(payload))
        chunks = list(body.iter_chunks(chunk_size=MiB))
    assert [len(c) for c in chunks] == [MiB, MiB, 12345]
    assert b"".join(chunks) == payload
    seen = server.seen[0]
    assert seen.headers["host"] == f"media.test:{server.port}"
    assert seen.headers["accept-encoding"] == "identity"
    assert seen.headers["user-agent"] == "Ferry/0.1 (+url-upload)"
    assert "authorization" not in seen.headers and "cookie" not in seen.headers


def test_chunked_and_close_delimited_bodies(server: RawServer, policy: FetchPolicy) -> None:
    payload = os.urandom(300_000)
    chunked_head = response(200, {"Transfer-Encoding": "chunked"}, length=False)
    server.route("/chunked")(lambda c, s: c.send(chunked_head + chunked(payload)))
    server.route("/eof")(lambda c, s: c.send(response(200, length=False) + payload))
    for path in ("/chunked", "/eof"):
        with open_remote(f"http://media.test:{server.port}{path}", max_bytes=MiB, policy=policy) as body:
            assert body.content_length is None
            assert b"".join(body.iter_chunks(chunk_size=100_000)) == payload
            assert body.bytes_read == len(payload)


def test_against_the_standard_library_server(policy: FetchPolicy) -> None:
    payload = os.urandom(500_000)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        assert fetch(f"http://files.test:{srv.server_address[1]}/a", policy) == payload
    finally:
        srv.shutdown()
        srv.server_close()


def test_body_exactly_at_the_cap(server: RawServer, policy: FetchPolicy) -> None:
    server.route("/cap")(lambda c, s: c.send(response(200, body=b"x" * 1000)))
    assert fetch(f"http://media.test:{server.port}/cap", policy, max_bytes=1000) == b"x" * 1000


# --- size cap -----------------------------------------------------------------------------------


def test_declared_length_over_the_cap_is_413_before_reading(server: RawServer, policy: FetchPolicy) -> None:
    closed_before_body = threading.Event()

    @server.route("/big")
    def big(conn: Conn, seen: Seen) -> None:
        conn.send(response(200, {"Content-Length": str(8 * MiB)}, length=False))
        # Send no body until the client gives up on its own: a client that tried to read it would
        # hang here until its deadline instead of refusing at once.
        conn.sock.settimeout(10)
        with contextlib.suppress(OSError):
            if conn.sock.recv(1) == b"":
                closed_before_body.set()

    with (
        pytest.raises(PayloadTooLarge) as caught,
        open_remote(f"http://media.test:{server.port}/big", max_bytes=MiB, policy=policy),
    ):
        pytest.fail("must refuse before handing out the body")
    assert caught.value.status == 413
    assert str(8 * MiB) in caught.value.message and str(MiB) in caught.value.message
    assert closed_before_body.wait(10), "the client must close the connection without reading the body"


@pytest.mark.parametrize("framing", ["close-delimited", "chunked", "chunked with a lying Content-Length"])
def test_cap_enforced_on_bytes_read(server: RawServer, policy: FetchPolicy, framing: str) -> None:
    payload = os.urandom(3 * MiB)

    @server.route("/stream")
    def stream(conn: Conn, seen: Seen) -> None:
        if framing == "close-delimited":
            conn.send(response(200, length=False) + payload)
        else:
            lie = {"Content-Length": "1000"} if "lying" in framing else {}
            conn.send(response(200, {"Transfer-Encoding": "chunked", **lie}, length=False) + chunked(payload))

    received = 0
    with (
        pytest.raises(PayloadTooLarge, match="1048576-byte cap"),
        open_remote(f"http://media.test:{server.port}/stream", max_bytes=MiB, policy=policy) as body,
    ):
        assert body.content_length is None
        for chunk in body.iter_chunks(chunk_size=256 * 1024):
            received += len(chunk)
    assert received <= MiB
    assert body.bytes_read == MiB + 1  # one byte past the cap is all that is read


def test_content_length_frames_the_body(server: RawServer, policy: FetchPolicy) -> None:
    # A server that claims 10 bytes and sends more: the body is the 10 framed bytes, nothing past them.
    server.route("/short-claim")(
        lambda c, s: c.send(response(200, {"Content-Length": "10"}, length=False) + b"y" * 5000)
    )
    assert fetch(f"http://media.test:{server.port}/short-claim", policy, max_bytes=100) == b"y" * 10


# --- broken upstreams ---------------------------------------------------------------------------


def test_truncated_body_is_502(server: RawServer, policy: FetchPolicy) -> None:
    server.route("/cut")(lambda c, s: c.send(response(200, {"Content-Length": "1000"}, length=False) + b"z" * 400))
    server.route("/cut-chunked")(
        lambda c, s: c.send(response(200, {"Transfer-Encoding": "chunked"}, length=False) + chunked(b"z" * 900)[:500])
    )
    for path in ("/cut", "/cut-chunked"):
        with pytest.raises(UpstreamFailed, match="truncated") as caught:
            fetch(f"http://media.test:{server.port}{path}", policy)
        assert caught.value.status == 502


@pytest.mark.parametrize(
    "headers", [{"Content-Encoding": "gzip"}, {"Content-Encoding": "br"}, {"Transfer-Encoding": "gzip, chunked"}]
)
def test_encoded_bodies_are_refused(server: RawServer, policy: FetchPolicy, headers: dict[str, str]) -> None:
    server.route("/enc")(lambda c, s: c.send(response(200, headers, b"\x1f\x8b\x08\x00" * 10)))
    with pytest.raises(UpstreamFailed, match="encoded bodies are refused"):
        fetch(f"http://media.test:{server.port}/enc", policy)
    assert server.seen[0].headers["accept-encoding"] == "identity"


@pytest.mark.parametrize("status", [404, 500, 204 + 100])
def test_non_2xx_is_502_naming_the_status(server: RawServer, policy: FetchPolicy, status: int) -> None:
    server.route("/x")(lambda c, s: c.send(response(status, body=b"nope")))
    with pytest.raises(UpstreamFailed, match=f"HTTP {status}") as caught:
        fetch(f"http://media.test:{server.port}/x", policy)
    assert caught.value.status == 502


def test_invalid_content_length_is_502(server: RawServer, policy: FetchPolicy) -> None:
    server.route("/x")(lambda c, s: c.send(response(200, {"Content-Length": "12, 13"}, length=False) + b"a" * 13))
    with pytest.raises(UpstreamFailed):
        fetch(f"http://media.test:{server.port}/x", policy)


def test_connection_refused_is_502(policy: FetchPolicy) -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    with pytest.raises(UpstreamFailed, match="connection failed"):
        fetch(f"http://media.test:{port}/x", policy)


def test_the_connection_is_closed_on_exit(server: RawServer, policy: FetchPolicy) -> None:
    @server.route("/long")
    def long(conn: Conn, seen: Seen) -> None:
        conn.send(response(200, {"Content-Length": str(MiB)}, length=False) + b"a" * 1000)
        wait_for_close(conn)

    with open_remote(f"http://media.test:{server.port}/long", max_bytes=2 * MiB, policy=policy) as body:
        assert next(body.iter_chunks(chunk_size=100)) == b"a" * 100
    assert server.client_closed["/long"].wait(1.0)


def test_environment_is_ignored(
    server: RawServer, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://proxy.invalid:3128")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine media.test login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    server.route("/ok")(lambda c, s: c.send(response(200, body=b"direct")))
    assert fetch(f"http://media.test:{server.port}/ok", policy) == b"direct"
    assert "authorization" not in server.seen[0].headers


# --- redirects ----------------------------------------------------------------------------------


def redirect(status: int, location: str) -> Route:
    return lambda conn, seen: conn.send(response(status, {"Location": location}))


def chain(server: RawServer, length: int) -> None:
    """/hop/N redirects to /hop/N-1 (alternating relative and absolute on another name) ... /hop/0 is 200."""
    for n in range(1, length + 1):
        target = f"/hop/{n - 1}" if n % 2 else f"http://cdn.test:{server.port}/hop/{n - 1}"
        status = (301, 302, 303, 307, 308)[n % 5]
        server.route(f"/hop/{n}")(redirect(status, target))
    server.route("/hop/0")(lambda c, s: c.send(response(200, body=b"landed")))


def test_five_redirects_are_followed(server: RawServer, policy: FetchPolicy, resolver: Resolver) -> None:
    chain(server, 5)
    with open_remote(f"http://media.test:{server.port}/hop/5", max_bytes=100, policy=policy) as body:
        assert b"".join(body.iter_chunks()) == b"landed"
        assert body.final_url.endswith("/hop/0")
    assert [s.path for s in server.seen] == [f"/hop/{n}" for n in range(5, -1, -1)]
    assert len(resolver.calls) == 6  # one lookup per hop, no more
    assert {s.headers["host"] for s in server.seen} == {f"media.test:{server.port}", f"cdn.test:{server.port}"}


def test_a_sixth_redirect_is_502(server: RawServer, policy: FetchPolicy) -> None:
    chain(server, 6)
    with pytest.raises(UpstreamFailed, match="more than 5 times") as caught:
        fetch(f"http://media.test:{server.port}/hop/6", policy)
    assert caught.value.status == 502
    assert "/hop/0" not in [s.path for s in server.seen]


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/",
        "http://[::ffff:169.254.169.254]/",
        "http://internal.test:{port}/",
        "http://2130706433:{port}/",
        "file:///etc/passwd",
        "http://user:pw@media.test:{port}/",
    ],
)
def test_redirect_to_a_forbidden_url_is_400_without_connecting(
    server: RawServer, policy: FetchPolicy, resolver: Resolver, net: Net, location: str
) -> None:
    resolver.script["internal.test"] = [["10.0.0.7"]]
    server.route("/go")(lambda c, s: c.send(response(302, {"Location": location.format(port=server.port)})))
    with pytest.raises(InvalidRequest) as caught:
        fetch(f"http://media.test:{server.port}/go", policy)
    assert caught.value.status == 400
    assert caught.value.message.startswith("The redirect target URL")
    assert "10.0.0.7" not in caught.value.message
    assert net.connected == ["127.0.0.1"]  # only the first hop was connected
    assert [s.path for s in server.seen] == ["/go"]


def test_redirect_without_location_is_502(server: RawServer, policy: FetchPolicy) -> None:
    server.route("/nowhere")(lambda c, s: c.send(response(302)))
    with pytest.raises(UpstreamFailed, match="without a Location"):
        fetch(f"http://media.test:{server.port}/nowhere", policy)


def test_a_redirect_body_is_never_read(server: RawServer, policy: FetchPolicy) -> None:
    @server.route("/heavy-redirect")
    def heavy(conn: Conn, seen: Seen) -> None:
        conn.send(response(302, {"Location": "/done", "Content-Length": str(50 * MiB)}, length=False))
        for _ in range(800):  # 50 MiB, slowly: reading it would take 4 s
            conn.send(b"r" * 64 * 1024)
            time.sleep(0.005)

    server.route("/done")(lambda c, s: c.send(response(200, body=b"ok")))
    started = time.monotonic()
    assert fetch(f"http://media.test:{server.port}/heavy-redirect", policy) == b"ok"
    assert time.monotonic() - started < 1.0
    assert server.sent["/heavy-redirect"] < 5 * MiB


def test_dns_rebinding_is_impossible(server: RawServer, policy: FetchPolicy, resolver: Resolver, net: Net) -> None:
    # First answer public-enough (allowed), every later answer the metadata service.
    resolver.script["rebind.test"] = [["127.0.0.1"], ["169.254.169.254"]]
    server.route("/once")(lambda c, s: c.send(response(200, body=b"pinned")))
    assert fetch(f"http://rebind.test:{server.port}/once", policy) == b"pinned"
    assert resolver.calls == ["rebind.test"]  # resolved once ...
    assert net.connected == ["127.0.0.1"]  # ... and the transport connected to that address, resolving nothing
    assert server.seen[0].headers["host"] == f"rebind.test:{server.port}"

    # Each hop is re-vetted: a redirect back to the same name meets the rebound answer and is refused.
    server.route("/again")(lambda c, s: c.send(response(302, {"Location": "/once"})))
    with pytest.raises(InvalidRequest, match="private or internal"):
        fetch(f"http://rebind.test:{server.port}/again", policy)


def test_next_vetted_address_when_the_first_refuses(server: RawServer, resolver: Resolver, net: Net) -> None:
    # ::1 (loopback, allowed for this test only) refuses: nothing listens there; 127.0.0.1 answers.
    net.allowed.add("::1")
    resolver.script["dual.test"] = [["::1", "127.0.0.1"]]
    both = FetchPolicy(allowed_networks=(*LOOPBACK_ONLY, ipaddress.ip_network("::1/128")), resolve=resolver)
    server.route("/dual")(lambda c, s: c.send(response(200, body=b"v4")))
    assert fetch(f"http://dual.test:{server.port}/dual", both) == b"v4"
    assert resolver.calls == ["dual.test"]


# --- deadline -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "every"),
    [(True, 0.2), (False, 0.2), (True, 0.45), (False, 0.45)],
    ids=["content-length-0.2s", "close-delimited-0.2s", "content-length-0.45s", "close-delimited-0.45s"],
)
def test_slow_drip_body_is_504_at_the_deadline(
    server: RawServer, resolver: Resolver, declared: bool, every: float
) -> None:
    # At 0.45 s per byte the byte after the deadline comes at 1.35 s: only the watchdog ends it at 1 s.
    @server.route("/drip")
    def drip(conn: Conn, seen: Seen) -> None:
        conn.send(response(200, {"Content-Length": "100"} if declared else {}, length=False))
        conn.drip(b"d" * 100, every=every)

    policy = FetchPolicy(allowed_networks=LOOPBACK_ONLY, resolve=resolver, deadline_seconds=1.0)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        fetch(f"http://media.test:{server.port}/drip", policy)
    elapsed = time.monotonic() - started
    assert caught.value.status == 504
    assert 0.95 <= elapsed < 1.2


def test_slow_drip_headers_are_504_at_the_deadline(server: RawServer, policy: FetchPolicy) -> None:
    server.route("/slow-head")(lambda c, s: c.drip(response(200, body=b"late"), every=0.1))
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        fetch(f"http://media.test:{server.port}/slow-head", policy, deadline_seconds=0.6)
    assert 0.55 <= time.monotonic() - started < 1.0


def test_silent_server_is_504_and_the_callers_shorter_deadline_wins(server: RawServer, policy: FetchPolicy) -> None:
    @server.route("/silent")
    def silent(conn: Conn, seen: Seen) -> None:
        server.stop.wait(5)

    started = time.monotonic()
    with pytest.raises(UpstreamTimeout, match="deadline"):
        fetch(f"http://media.test:{server.port}/silent", policy, deadline_seconds=0.4)  # policy says 30 s
    assert 0.35 <= time.monotonic() - started < 0.8


def test_deadline_covers_dns(server: RawServer, resolver: Resolver) -> None:
    def slow(host: str, port: int) -> list[str]:
        time.sleep(1.0)
        return ["127.0.0.1"]

    policy = FetchPolicy(allowed_networks=LOOPBACK_ONLY, resolve=slow, deadline_seconds=0.3)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout, match="Resolving"):
        fetch(f"http://media.test:{server.port}/x", policy)
    assert time.monotonic() - started < 0.6


def test_no_time_left_is_504(policy: FetchPolicy) -> None:
    with pytest.raises(UpstreamTimeout):
        fetch("http://media.test/x", policy, deadline_seconds=0)


# --- https --------------------------------------------------------------------------------------


@dataclass
class Pki:
    ca: Path
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ferry test CA")])
    usage = {k: False for k in ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement")}
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
                **usage,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "media.test")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("media.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("pki")
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "cert.pem").write_bytes(leaf.public_bytes(pem))
    (folder / "key.pem").write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Pki(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")


@pytest.fixture
def tls_server(pki: Pki) -> Iterator[RawServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.cert, pki.key)
    context.sni_callback = lambda sock, name, ctx: setattr(sock, "sni", name)
    srv = RawServer(tls=context)
    srv.route("/secure")(lambda c, s: c.send(response(200, body=b"over tls")))
    yield srv
    srv.close()


@pytest.fixture
def tls_policy(pki: Pki, resolver: Resolver) -> FetchPolicy:
    return FetchPolicy(allowed_networks=LOOPBACK_ONLY, resolve=resolver, ca_bundle=str(pki.ca))


def test_https_is_pinned_with_the_original_name_for_sni_and_verification(
    tls_server: RawServer, tls_policy: FetchPolicy, net: Net
) -> None:
    assert fetch(f"https://media.test:{tls_server.port}/secure", tls_policy) == b"over tls"
    assert net.connected == ["127.0.0.1"]
    assert tls_server.seen[0].sni == "media.test"
    assert tls_server.seen[0].headers["host"] == f"media.test:{tls_server.port}"


@pytest.mark.parametrize("host", ["other.test", "127.0.0.1"])
def test_https_certificate_must_match_the_original_name(
    tls_server: RawServer, tls_policy: FetchPolicy, host: str
) -> None:
    # Same pinned address, same certificate: only the name in the URL differs, and it is what is checked.
    with pytest.raises(UpstreamFailed, match="TLS connection"):
        fetch(f"https://{host}:{tls_server.port}/secure", tls_policy)
    assert tls_server.seen == []


def test_https_slow_body_is_504_at_the_deadline(tls_server: RawServer, tls_policy: FetchPolicy) -> None:
    @tls_server.route("/drip")
    def drip(conn: Conn, seen: Seen) -> None:
        conn.send(response(200, length=False))
        conn.drip(b"d" * 100, every=0.3)

    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        fetch(f"https://media.test:{tls_server.port}/drip", tls_policy, deadline_seconds=0.5)
    assert 0.45 <= time.monotonic() - started < 0.7


def test_https_untrusted_ca_is_502(tls_server: RawServer, policy: FetchPolicy) -> None:
    with pytest.raises(UpstreamFailed, match="not trusted"):
        fetch(f"https://media.test:{tls_server.port}/secure", policy)


def test_https_to_http_downgrade_is_refused_unless_allowed(
    tls_server: RawServer, server: RawServer, tls_policy: FetchPolicy, pki: Pki, resolver: Resolver
) -> None:
    server.route("/plain")(lambda c, s: c.send(response(200, body=b"plain")))
    tls_server.route("/down")(
        lambda c, s: c.send(response(302, {"Location": f"http://media.test:{server.port}/plain"}))
    )
    url = f"https://media.test:{tls_server.port}/down"
    with pytest.raises(UpstreamFailed, match="downgrade"):
        fetch(url, tls_policy)
    assert server.seen == []
    lenient = FetchPolicy(
        allowed_networks=LOOPBACK_ONLY, resolve=resolver, ca_bundle=str(pki.ca), allow_https_downgrade=True
    )
    assert fetch(url, lenient) == b"plain"
