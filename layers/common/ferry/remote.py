"""Server-side fetch of a caller's URL under the SSRF policy of DESIGN §3 ("URL transfer").

`open_remote(url, max_bytes=..., policy=...)` is the whole API for POST /v1/files/uploads/url::

    with open_remote(url, max_bytes=cap, policy=policy, deadline_seconds=budget) as body:
        for chunk in body.iter_chunks():   # raises 413/502/504 mid-stream: abort the multipart upload
            ...

Every hop (the first request and each redirect) is vetted the same way: the URL is checked
(`vet_url`), its host resolved ONCE through `policy.resolve`, every answer must be publicly routable
(`address_permitted`, after unwrapping IPv4 embedded in IPv6), and the connection then goes to the
vetted address (`PinnedAddressAdapter`): no second lookup, the original Host header, and for https
the original name for SNI and certificate verification. One monotonic deadline covers DNS, connect,
headers and body of all hops; a watchdog shuts the socket down when it passes, so a server that
drips bytes cannot hold the function.

requests is used for request preparation and its transport adapter, but never `Session.send`: even
with `allow_redirects=False` it reads (and decodes) a 3xx body in full to look ahead.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.client import HTTPException
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.response import BaseHTTPResponse

from ferry.errors import FerryError, InvalidRequest, PayloadTooLarge, UpstreamFailed, UpstreamTimeout

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

USER_AGENT = "Ferry/0.1 (+url-upload)"
MiB = 1024 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}


def system_resolve(host: str, port: int) -> list[str]:
    """A and AAAA answers for `host`, de-duplicated, in the resolver's preference order."""
    answers: dict[str, None] = {}
    for family, _, _, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if family in (socket.AF_INET, socket.AF_INET6):
            answers[str(sockaddr[0])] = None
    return list(answers)


@dataclass(frozen=True)
class FetchPolicy:
    max_redirects: int = 5
    deadline_seconds: float = 30.0
    max_url_length: int = 2048
    # Networks allowed although not public (a deployment's private origin, 127.0.0.1/32 in tests).
    # Never set by default: DESIGN §3.
    allowed_networks: tuple[IPNetwork, ...] = ()
    # https -> http redirects are refused by default: a caller who gave https gets TLS end to end.
    allow_https_downgrade: bool = False
    # PEM bundle of trusted CAs (a private CA); None = requests' default bundle (certifi).
    ca_bundle: str | None = None
    resolve: Resolver = field(default=system_resolve, repr=False, compare=False)


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """`"10.1.0.0/16, fd12::/48"` -> networks for `FetchPolicy.allowed_networks` (config helper)."""
    return tuple(ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip())


# ---------------------------------------------------------------------------------------------
# Address policy

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

# Denied explicitly, whatever this Python's `is_global` tables say (they changed in 3.11.10/3.12.4/3.13).
_DENIED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # this network, unspecified
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, incl. the 169.254.169.254 metadata service
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, incl. 255.255.255.255
    )
)
_DENIED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback, deprecated IPv4-compatible
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, incl. Teredo 2001::/32
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "5f00::/16",  # SRv6 SIDs
        "fc00::/7",  # unique local, incl. fd00:ec2::254 (EC2 metadata over IPv6)
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)


def _is_public(addr: IPAddress) -> bool:
    if isinstance(addr, ipaddress.IPv4Address):
        return addr.is_global and not any(addr in net for net in _DENIED_V4)
    if addr in _NAT64:
        return True  # the translator's target decides: the embedded IPv4 is checked by the caller
    if any(addr in net for net in _DENIED_V6):
        return False
    return addr.is_global and not (addr.is_multicast or addr.is_reserved or addr.is_site_local)


def embedded_ipv4(addr: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address a v6 address carries: mapped, compatible, NAT64, 6to4 or Teredo (client)."""
    if isinstance(addr, ipaddress.IPv4Address):
        return None
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.teredo is not None:
        return addr.teredo[1]  # the client address, already un-inverted by ipaddress
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr in _NAT64 or addr in _NAT64_LOCAL or addr in _IPV4_COMPATIBLE:
        # RFC 6052 /96 layout (last 32 bits). The local-use /48 is denied as a whole anyway.
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def address_permitted(addr: IPAddress, allowed_networks: tuple[IPNetwork, ...] = ()) -> bool:
    """True when Ferry may connect to `addr`: it is inside an allowed network, or it is publicly
    routable and so is any IPv4 address embedded in it (the allow-list exempts only the address
    connected to; an IPv4-mapped address is that IPv4 address)."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped  # the socket reaches the IPv4 address itself
    if any(addr in net for net in allowed_networks):
        return True
    inner = embedded_ipv4(addr)
    return _is_public(addr) and (inner is None or _is_public(inner))


# ---------------------------------------------------------------------------------------------
# URL checks


@dataclass(frozen=True)
class Vetted:
    """A URL that passed the checks, with the addresses its host resolved to (all permitted)."""

    url: str
    scheme: str
    host: str  # lower-case; IPv6 without brackets
    port: int
    addresses: tuple[IPAddress, ...]


_NAME = re.compile(r"[a-z0-9_-]{1,63}")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


def _bad_url(message: str) -> InvalidRequest:
    return InvalidRequest(message, code="invalid_url")


def filename_in(url: str) -> str | None:
    """The last path segment of a URL, unquoted: the name a fetched file is stored under by default."""
    return unquote(posixpath.basename(urlsplit(url).path)) or None


def check_url(url: str, policy: FetchPolicy, what: str) -> tuple[str, str, int, IPAddress | None]:
    """Syntax checks: (scheme, host, port, literal address or None), or 400 saying what to fix."""
    if len(url) > policy.max_url_length:
        raise _bad_url(f"{what} is {len(url)} characters long; the limit is {policy.max_url_length}.")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise _bad_url(f"{what} contains control characters (tabs, line breaks, ...); remove them.")
    if url != url.strip():
        raise _bad_url(f"{what} starts or ends with spaces; remove them.")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise _bad_url(f"{what} could not be parsed; check the host and any [IPv6] brackets.") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise _bad_url(f"{what} must start with http:// or https://; other schemes are not fetched.")
    netloc = parts.netloc
    if not netloc.isascii():
        raise _bad_url(f"{what} has non-ASCII characters in its host; use the IDNA form (xn--...).")
    if " " in netloc or "\\" in netloc:
        raise _bad_url(f"{what} has spaces or backslashes in its host; write it as scheme://host/path.")
    if "@" in netloc:
        raise _bad_url(f"{what} must not carry a user name or password (user:pass@host); remove them.")
    host = parts.hostname or ""
    if not host:
        raise _bad_url(f"{what} has no host; write it as scheme://host/path.")
    try:
        port = parts.port
    except ValueError:
        port = 0
    bracketed = netloc.startswith("[")
    expected = f"[{host}]" if bracketed else host
    if port is not None:
        expected += f":{port}"
    if port == 0 or netloc.lower() not in (expected, expected + ":"):
        raise _bad_url(f"{what} has a malformed host or port; the port must be a number from 1 to 65535.")
    literal: IPAddress | None = None
    if bracketed:
        try:
            literal = ipaddress.IPv6Address(host)
        except ValueError:
            literal = None
        if literal is None or literal.scope_id is not None:
            raise _bad_url(f"{what} has an invalid IPv6 address (zone identifiers are not accepted).")
    else:
        labels = host.split(".")
        if labels[-1] == "" and len(labels) > 1:
            labels.pop()  # one trailing dot: a fully qualified name
        if _NUMERIC_LABEL.fullmatch(labels[-1]):
            try:
                literal = ipaddress.IPv4Address(host)
            except ValueError:
                literal = None
            if literal is None or str(literal) != host:
                raise _bad_url(
                    f"{what} has an ambiguous numeric host; write IPv4 addresses as four decimal numbers "
                    "(like 93.184.216.34), not as one number, octal, hex or shortened forms."
                )
        elif len(host) > 254 or not all(_NAME.fullmatch(label) for label in labels):
            raise _bad_url(f"{what} has an invalid host name; use letters, digits, '-' and '.' only.")
    return parts.scheme, host, port or DEFAULT_PORTS[parts.scheme], literal


def _resolve(host: str, port: int, policy: FetchPolicy, timeout: float | None) -> list[str]:
    if timeout is None:
        return policy.resolve(host, port)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ferry-resolve")
    try:
        return executor.submit(policy.resolve, host, port).result(timeout=timeout)
    except FutureTimeout:
        raise UpstreamTimeout(f"Resolving {host!r} took longer than the fetch deadline allows.") from None
    finally:
        executor.shutdown(wait=False)


def vet_url(url: str, policy: FetchPolicy, *, timeout: float | None = None, redirected: bool = False) -> Vetted:
    """Check `url`, resolve its host once and check every address; 400 with what to fix, 502 when
    the name does not resolve, 504 when resolving outlasts `timeout`."""
    what = "The redirect target URL" if redirected else "The URL"
    scheme, host, port, literal = check_url(url, policy, what)
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        try:
            answers = _resolve(host, port, policy, timeout)
        except (OSError, UnicodeError):
            answers = []
        if not answers:
            raise UpstreamFailed(f"{what} names a host ({host!r}) that could not be resolved; check the URL.")
        try:
            addresses = tuple(ipaddress.ip_address(a) for a in answers)
        except ValueError:
            addresses = ()  # an unparseable answer fails closed below
    if not addresses or not all(address_permitted(a, policy.allowed_networks) for a in addresses):
        raise InvalidRequest(
            f"{what} points at a private or internal network address (host {host!r}); "
            "only publicly routable hosts can be fetched.",
            code="url_not_allowed",
        )
    return Vetted(url=url, scheme=scheme, host=host, port=port, addresses=addresses)


# ---------------------------------------------------------------------------------------------
# Deadline and the pinned-address transport


class Deadline:
    """One monotonic deadline. When it passes, a watchdog shuts down every socket registered with
    `watch`, which ends any blocked connect-time handshake or read (headers or body) with an EOF.

    It watches a duplicate descriptor that it owns (shutdown(2) acts on the shared socket), so a
    connection closed meanwhile never makes it touch a reused descriptor number; the duplicates are
    closed by `cancel`.
    """

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._duplicates: list[socket.socket] = []
        self.fired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def passed(self) -> bool:
        return self.fired or time.monotonic() >= self._end

    def remaining(self) -> float:
        """Seconds left; raises TimeoutError (an OSError, which urllib3 treats as a timeout) if none."""
        left = self._end - time.monotonic()
        if left <= 0 or self.fired:
            raise TimeoutError("fetch deadline passed")
        return left

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            duplicate = socket.fromfd(sock.fileno(), sock.family, sock.type)
            self._duplicates.append(duplicate)
            if self.fired:
                _shutdown(duplicate)

    def cancel(self) -> None:
        self._timer.cancel()
        with self._lock:
            for duplicate in self._duplicates:
                duplicate.close()
            self._duplicates.clear()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for duplicate in self._duplicates:
                _shutdown(duplicate)


def _shutdown(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _GuardedHTTPConnection(HTTPConnection):
    """Connects within the remaining time, then puts the socket under the deadline's watchdog before
    the TLS handshake (if any), the request and the response."""

    def __init__(self, *args: Any, deadline: Deadline | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def _new_conn(self) -> socket.socket:
        if self._deadline is None:
            return super()._new_conn()
        self.timeout = self._deadline.remaining()  # never longer than what the caller passed
        sock = super()._new_conn()
        try:
            sock.settimeout(self._deadline.remaining())
            self._deadline.watch(sock)
        except BaseException:
            sock.close()
            raise
        return sock


class _GuardedHTTPSConnection(_GuardedHTTPConnection, HTTPSConnection):
    pass


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class NotPinned(RuntimeError):
    """A request reached the adapter for an origin nobody vetted: refused, never resolved."""


class PinnedAddressAdapter(HTTPAdapter):
    """The pinned-address SSRF adapter: a requests transport that connects only to the address
    pinned for a request's (scheme, host, port), sends the original Host header, and for https
    uses the original host name for SNI and certificate verification. Proxies are ignored."""

    def __init__(self, deadline: Deadline | None = None) -> None:
        super().__init__(max_retries=0)
        self._deadline = deadline
        self._pins: dict[tuple[str, str, int], IPAddress] = {}
        self._pools: dict[tuple[str, str, int, IPAddress], HTTPConnectionPool] = {}

    def pin(self, scheme: str, host: str, port: int, address: IPAddress) -> None:
        self._pins[(scheme, host, port)] = address

    def get_connection_with_tls_context(
        self, request: requests.PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> HTTPConnectionPool:
        scheme, host, port = _origin(request.url or "")
        address = self._pins.get((scheme, host, port))
        if address is None:
            raise NotPinned(f"no vetted address for {scheme}://{host}:{port}")
        key = (scheme, host, port, address)
        pool = self._pools.get(key)
        if pool is None:
            if scheme == "https":  # server_hostname: SNI and (OpenSSL's) hostname check use the name
                pool = _PinnedHTTPSPool(str(address), port, maxsize=1, server_hostname=host, deadline=self._deadline)
            else:
                pool = _PinnedHTTPPool(str(address), port, maxsize=1, deadline=self._deadline)
            self._pools[key] = pool
        return pool

    def request_url(self, request: requests.PreparedRequest, proxies: Any) -> str:
        return request.path_url

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        parts = urlsplit(request.url or "")
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme):
            host = f"{host}:{parts.port}"
        request.headers["Host"] = host

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        super().close()


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port or DEFAULT_PORTS.get(parts.scheme, 0)


# ---------------------------------------------------------------------------------------------
# The fetch


def _transport_error(exc: BaseException, deadline: Deadline, host: str) -> FerryError:
    if deadline.passed() or isinstance(exc, requests.Timeout | TimeoutError):
        return UpstreamTimeout(f"Fetching from {host!r} did not finish within the deadline; try a faster host.")
    if isinstance(exc, requests.exceptions.SSLError):
        return UpstreamFailed(
            f"The TLS connection to {host!r} failed (certificate not valid for that name or not trusted)."
        )
    return UpstreamFailed(f"Could not fetch from {host!r}: the connection failed or was closed.")


class RemoteBody:
    """The final response of a fetch. Iterate once with `iter_chunks`; the context manager closes it."""

    def __init__(self, response: requests.Response, vetted: Vetted, deadline: Deadline, max_bytes: int) -> None:
        self.final_url = vetted.url
        self.content_type: str | None = response.headers.get("Content-Type")  # declared: a hint only
        self.content_length = _content_length(response)
        self.bytes_read = 0
        self._raw: BaseHTTPResponse = response.raw
        self._host = vetted.host
        self._deadline = deadline
        self._max_bytes = max_bytes
        self._started = False

    def iter_chunks(self, chunk_size: int = MiB) -> Iterator[bytes]:
        """Chunks of `chunk_size` bytes (the last may be shorter), raw (never decoded). Raises
        PayloadTooLarge as soon as the cap is crossed, UpstreamTimeout past the deadline and
        UpstreamFailed when the body is shorter than its Content-Length."""
        if self._started:
            raise RuntimeError("iter_chunks() can be called once")
        self._started = True
        while True:
            # A blocking read of a whole chunk: the deadline watchdog ends it if the server stalls.
            data = self._read(min(chunk_size, self._max_bytes + 1 - self.bytes_read))
            if not data:
                break
            self.bytes_read += len(data)
            if self.bytes_read > self._max_bytes:
                raise PayloadTooLarge(
                    f"The file at the URL is larger than the {self._max_bytes}-byte cap for this upload."
                )
            yield data
        if self.content_length is not None and self.bytes_read != self.content_length:
            raise self._truncated()

    def _read(self, amount: int) -> bytes:
        try:
            self._deadline.remaining()  # raises once the deadline has passed
            data = self._raw.read(amount, decode_content=False)
        except (OSError, Urllib3Error, HTTPException) as exc:
            if self._deadline.passed() or isinstance(exc, TimeoutError):
                raise _transport_error(exc, self._deadline, self._host) from exc
            raise self._truncated() from exc
        if self._deadline.passed():  # also turns the watchdog's EOF into a timeout, not a short body
            raise _transport_error(TimeoutError(), self._deadline, self._host)
        return data

    def _truncated(self) -> UpstreamFailed:
        return UpstreamFailed(
            f"The download from {self._host!r} was truncated: the connection closed before the whole body "
            f"arrived ({self.bytes_read} of {self.content_length} bytes). Try again."
        )


def _content_length(response: requests.Response) -> int | None:
    if "chunked" in response.headers.get("Transfer-Encoding", "").lower():
        return None  # Transfer-Encoding frames the body; a Content-Length beside it means nothing
    value = response.headers.get("Content-Length")
    if value is None:
        return None
    values = {v.strip() for v in value.split(",")}
    if len(values) != 1 or not next(iter(values)).isdigit():
        raise UpstreamFailed("The server sent an invalid Content-Length header.")
    return int(values.pop())


def _check_final(response: requests.Response, host: str, max_bytes: int) -> None:
    if not 200 <= response.status_code < 300:
        raise UpstreamFailed(
            f"The URL answered HTTP {response.status_code}; Ferry needs a 2xx response carrying the file."
        )
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    transfer = {t.strip() for t in response.headers.get("Transfer-Encoding", "").lower().split(",")}
    if encoding not in ("", "identity") or not transfer <= {"", "chunked", "identity"}:
        raise UpstreamFailed(
            f"{host!r} sent an encoded ({encoding or 'transfer-encoded'}) body; encoded bodies are refused, "
            "serve the file as is (Ferry sends Accept-Encoding: identity)."
        )
    length = _content_length(response)
    if length is not None and length > max_bytes:
        raise PayloadTooLarge(f"The file at the URL is {length} bytes; the cap for this upload is {max_bytes} bytes.")


def _location(response: requests.Response) -> str | None:
    location = response.headers.get("Location")
    if not location:
        return None
    try:  # http.client decodes header bytes as latin-1; servers mean UTF-8
        return location.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return location


def _send(
    session: requests.Session, adapter: PinnedAddressAdapter, vetted: Vetted, deadline: Deadline
) -> requests.Response:
    """GET the vetted URL at its first reachable vetted address (the next one only when a connection
    fails fast, e.g. no IPv6 route)."""
    try:
        request = session.prepare_request(requests.Request("GET", vetted.url))
    except (requests.RequestException, ValueError):
        raise _bad_url("The URL could not be parsed; check the host and path.") from None
    failure: BaseException | None = None
    for address in vetted.addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        adapter.pin(vetted.scheme, vetted.host, vetted.port, address)
        try:
            left = deadline.remaining()
            return adapter.send(request, stream=True, timeout=(left, left), verify=session.verify, proxies={})
        except (requests.RequestException, OSError, Urllib3Error) as exc:
            if deadline.passed() or isinstance(exc, requests.Timeout | TimeoutError):
                raise _transport_error(exc, deadline, vetted.host) from exc
            failure = exc
    assert failure is not None
    raise _transport_error(failure, deadline, vetted.host) from failure


def _session(policy: FetchPolicy, adapter: PinnedAddressAdapter) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies, no .netrc from the environment
    session.verify = policy.ca_bundle or True
    session.headers.clear()
    session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "identity", "Accept": "*/*"})
    for prefix in ("http://", "https://"):
        session.mount(prefix, adapter)
    return session


@contextmanager
def open_remote(
    url: str, *, max_bytes: int, policy: FetchPolicy, deadline_seconds: float | None = None
) -> Iterator[RemoteBody]:
    """Fetch `url` under `policy`, following up to `policy.max_redirects` redirects by hand.

    Raises before yielding: InvalidRequest (400) for a malformed or forbidden URL on any hop,
    PayloadTooLarge (413) for a declared Content-Length over `max_bytes`, UpstreamFailed (502) for a
    non-2xx answer, an encoded body, too many redirects or a refused https->http downgrade, and
    UpstreamTimeout (504). The deadline is the shorter of `deadline_seconds` and the policy's; it keeps
    running while the caller iterates the body. The connection is closed on exit.
    """
    seconds = policy.deadline_seconds if deadline_seconds is None else min(deadline_seconds, policy.deadline_seconds)
    if seconds <= 0:
        raise UpstreamTimeout("No time is left to fetch the URL.")
    deadline = Deadline(seconds)
    adapter = PinnedAddressAdapter(deadline)
    session = _session(policy, adapter)
    response: requests.Response | None = None
    try:
        current = url
        for hop in range(policy.max_redirects + 1):
            try:
                timeout = deadline.remaining()
            except TimeoutError as exc:
                raise _transport_error(exc, deadline, urlsplit(current).hostname or "") from exc
            vetted = vet_url(current, policy, timeout=timeout, redirected=hop > 0)
            response = _send(session, adapter, vetted, deadline)
            if response.status_code not in REDIRECT_STATUSES:
                _check_final(response, vetted.host, max_bytes)
                yield RemoteBody(response, vetted, deadline, max_bytes)
                return
            location = _location(response)
            response.close()  # the 3xx body is never read
            if location is None:
                raise UpstreamFailed(f"The URL answered HTTP {response.status_code} without a Location header.")
            current = urljoin(vetted.url, location)
            if vetted.scheme == "https" and urlsplit(current).scheme == "http" and not policy.allow_https_downgrade:
                raise UpstreamFailed("The URL redirected from https to plain http; Ferry refuses that downgrade.")
        raise UpstreamFailed(
            f"The URL redirected more than {policy.max_redirects} times; give the final URL of the file instead."
        )
    finally:
        if response is not None:
            response.close()
        session.close()
        deadline.cancel()
