"""SSRF policy of `ferry.remote` (DESIGN §3): URL checks and address checks, no sockets.

Every case goes through `vet_url` with a scripted resolver, so nothing here touches the network.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from ferry.errors import InvalidRequest, UpstreamFailed
from ferry.remote import FetchPolicy, address_permitted, embedded_ipv4, parse_networks, vet_url

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"
LOOPBACK_ONLY = (ipaddress.ip_network("127.0.0.1/32"),)


class Resolver:
    """Scripted DNS: name -> answers; records every question."""

    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = {"good.example": [PUBLIC_V4, PUBLIC_V6], "good.example.": [PUBLIC_V4], **(answers or {})}
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.answers[host]


def policy(answers: dict[str, list[str]] | None = None, **kwargs: object) -> FetchPolicy:
    return FetchPolicy(resolve=Resolver(answers), **kwargs)  # type: ignore[arg-type]


# (url, why) -> 400 InvalidRequest
REJECTED = [
    # numeric IPv4 forms other than the canonical dotted quad
    ("http://2130706433/", "decimal"),
    ("http://0177.0.0.1/", "octal"),
    ("http://0x7f.1/", "hex, short"),
    ("http://0x7f000001/", "hex"),
    ("http://127.1/", "short"),
    ("http://127.0.0.01/", "leading zero"),
    ("http://1.2.3.4.5/", "five parts"),
    ("http://93.184.216.34./", "trailing dot on an address"),
    ("http://example.123/", "numeric last label"),
    # private, internal and special addresses
    ("http://127.0.0.1/", "loopback"),
    ("http://127.255.0.9:8080/", "loopback /8"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://10.1.2.3/", "10/8"),
    ("http://172.16.0.1/", "172.16/12"),
    ("http://172.31.255.255/", "172.16/12 top"),
    ("http://192.168.1.1/", "192.168/16"),
    ("http://100.64.0.1/", "CGNAT"),
    ("http://100.127.255.254/", "CGNAT top"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://192.0.0.8/", "IETF protocol assignments"),
    ("http://192.0.2.1/", "TEST-NET-1"),
    ("http://198.51.100.7/", "TEST-NET-2"),
    ("http://203.0.113.9/", "TEST-NET-3"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://224.0.0.1/", "multicast"),
    ("http://239.255.255.250/", "multicast SSDP"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://[::1]/", "v6 loopback"),
    ("http://[::]/", "v6 unspecified"),
    ("http://[::ffff:127.0.0.1]/", "v4-mapped loopback"),
    ("http://[::ffff:7f00:1]/", "v4-mapped loopback, hex"),
    ("http://[::ffff:169.254.169.254]/", "v4-mapped metadata"),
    ("http://[::127.0.0.1]/", "v4-compatible loopback"),
    ("http://[::8.8.8.8]/", "v4-compatible (deprecated) even if public"),
    ("http://[64:ff9b::7f00:1]/", "NAT64 loopback"),
    ("http://[64:ff9b::a9fe:a9fe]/", "NAT64 metadata"),
    ("http://[64:ff9b::10.0.0.1]/", "NAT64 private"),
    ("http://[64:ff9b:1::8.8.8.8]/", "local-use NAT64"),
    ("http://[2002:7f00:1::]/", "6to4 loopback"),
    ("http://[2002:a9fe:a9fe::1]/", "6to4 metadata"),
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "Teredo client 127.0.0.1"),
    ("http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/", "Teredo (client 8.8.8.8): 2001::/32 denied whole"),
    ("http://[fd00:ec2::254]/", "EC2 metadata v6"),
    ("http://[fc00::1]/", "ULA"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fec0::1]/", "site-local"),
    ("http://[ff02::1]/", "multicast v6"),
    ("http://[ff0e::1]/", "global-scope multicast v6"),
    ("http://[2001:db8::1]/", "documentation v6"),
    ("http://[3fff::1]/", "documentation v6 (2024)"),
    ("http://[100::1]/", "discard-only"),
    # userinfo and parser-confusion tricks
    ("http://good.example@127.0.0.1/", "userinfo before a private host"),
    ("http://user:pass@good.example/", "credentials"),
    ("http://@good.example/", "empty userinfo"),
    ("http://127.0.0.1#@good.example/", "fragment hiding the real host"),
    ("http://127.0.0.1?@good.example/", "query hiding the real host"),
    ("http://good.example\\@evil.example/", "backslash: WHATWG reads the host as good.example"),
    ("http://good.example\\/path", "backslash in authority"),
    ("http:\\\\good.example\\path", "backslashes for slashes"),
    ("http://good example/", "space in host"),
    ("http://good.example /", "space after host"),
    (" http://good.example/", "leading space"),
    ("http://good.example/ ", "trailing space"),
    ("http://good\texample/", "tab"),
    ("http://good.example/\r\nX-Injected: 1", "CRLF"),
    ("http://good.example\x00.evil/", "NUL"),
    ("http://good.example/\x7f", "DEL"),
    ("http://bücher.example/", "non-ASCII host"),
    ("http://ｇｏｏｄ.example/", "fullwidth letters"),
    ("http://good.example\uff0f@127.0.0.1/", "fullwidth solidus"),
    ("http://good.example%2f@127.0.0.1/", "percent in authority"),
    ("http://good%2eexample/", "percent-encoded host"),
    ("http://[127.0.0.1]/", "IPv4 in brackets"),
    ("http://[fe80::1%25eth0]/", "zone id"),
    ("http://[2606:4700:4700::1111%25eth0]/", "zone id on a public address"),
    ("http://[::1/", "unclosed bracket"),
    ("http://a[::1]/", "bracket inside a name"),
    ("http://good..example/", "empty label"),
    ("http://.good.example/", "leading dot"),
    ("http://good_example..", "empty labels"),
    (f"http://{'a' * 64}.example/", "label over 63"),
    ("http://*.example/", "wildcard"),
    # schemes
    ("ftp://good.example/file", "ftp"),
    ("file:///etc/passwd", "file"),
    ("gopher://good.example:70/_", "gopher"),
    ("javascript:alert(1)", "javascript"),
    ("data:image/png;base64,AAAA", "data URI"),
    ("good.example/photo.png", "no scheme"),
    ("//good.example/photo.png", "scheme-relative"),
    # hosts and ports
    ("http:///photo.png", "empty host"),
    ("http://:80/photo.png", "port only"),
    ("http://good.example:0/", "port 0"),
    ("http://good.example:65536/", "port over 65535"),
    ("http://good.example:+80/", "signed port"),
    ("http://good.example:080/", "port with leading zero"),
    ("http://good.example:80a/", "port with letters"),
    ("http://good.example:80:80/", "two ports"),
    # length
    ("http://good.example/" + "a" * 2029, "2049 characters"),
]


@pytest.mark.parametrize(("url", "why"), REJECTED, ids=[why for _, why in REJECTED])
def test_rejected_with_400(url: str, why: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        vet_url(url, policy())
    assert caught.value.status == 400
    assert caught.value.code in ("invalid_url", "url_not_allowed")
    assert caught.value.message.endswith(".")


ACCEPTED = [
    ("http://93.184.216.34/photo.png", "public IPv4"),
    ("https://[2606:4700:4700::1111]/x", "public IPv6"),
    ("http://[::ffff:93.184.216.34]/", "v4-mapped public"),
    ("http://[64:ff9b::93.184.216.34]/", "NAT64 of a public address"),
    ("http://[2002:5db8:d822::1]/", "6to4 of a public address"),
    ("https://good.example/photo.png", "all answers public"),
    ("HTTPS://GOOD.EXAMPLE/Photo.PNG", "upper case scheme and host"),
    ("https://good.example./photo.png", "fully qualified name"),
    ("https://good.example:8443/a b/ü.png?q=ü#frag", "spaces and UTF-8 in path and query"),
    ("http://good.example:/x", "empty port means default"),
    ("http://good.example/" + "a" * 2028, "2048 characters"),
]


@pytest.mark.parametrize(("url", "why"), ACCEPTED, ids=[why for _, why in ACCEPTED])
def test_accepted(url: str, why: str) -> None:
    vetted = vet_url(url, policy())
    assert vetted.url == url
    assert vetted.addresses


def test_accepted_target_fields() -> None:
    vetted = vet_url("https://Good.Example:8443/p", policy())
    assert (vetted.scheme, vetted.host, vetted.port) == ("https", "good.example", 8443)
    assert [str(a) for a in vetted.addresses] == [PUBLIC_V4, PUBLIC_V6]
    assert vet_url("http://good.example/", policy()).port == 80
    assert vet_url("https://[2606:4700:4700::1111]/", policy()).host == "2606:4700:4700::1111"


@pytest.mark.parametrize(
    "answers",
    [
        [PUBLIC_V4, "10.0.0.1"],
        ["10.0.0.1", PUBLIC_V4],
        [PUBLIC_V6, "::1"],
        [PUBLIC_V4, "169.254.169.254"],
        [PUBLIC_V4, "::ffff:127.0.0.1"],
        [PUBLIC_V4, "fd00:ec2::254"],
        [PUBLIC_V4, "64:ff9b::a9fe:a9fe"],
        ["not-an-address"],
    ],
)
def test_any_private_answer_rejects_the_host(answers: list[str]) -> None:
    resolver = Resolver({"mixed.example": answers})
    with pytest.raises(InvalidRequest) as caught:
        vet_url("https://mixed.example/photo.png", FetchPolicy(resolve=resolver))
    assert caught.value.code == "url_not_allowed"
    assert "'mixed.example'" in caught.value.message
    for answer in answers:  # the resolved internals are never echoed
        assert answer not in caught.value.message
    assert resolver.calls == [("mixed.example", 443)]


def test_resolves_once_per_vet() -> None:
    resolver = Resolver()
    vet_url("https://good.example/a", FetchPolicy(resolve=resolver))
    assert resolver.calls == [("good.example", 443)]


def test_ip_literals_are_not_resolved() -> None:
    resolver = Resolver()
    vet_url("http://93.184.216.34/", FetchPolicy(resolve=resolver))
    vet_url("http://[2606:4700:4700::1111]/", FetchPolicy(resolve=resolver))
    assert resolver.calls == []


def test_allowed_network_passes() -> None:
    allowed = FetchPolicy(allowed_networks=LOOPBACK_ONLY, resolve=Resolver({"media.test": ["127.0.0.1"]}))
    assert [str(a) for a in vet_url("http://media.test:8080/x", allowed).addresses] == ["127.0.0.1"]
    assert vet_url("http://127.0.0.1:8080/x", allowed).host == "127.0.0.1"
    assert vet_url("http://[::ffff:127.0.0.1]/x", allowed).addresses  # mapped: the socket reaches 127.0.0.1
    for url in ("http://127.0.0.2/", "http://[::1]/", "http://10.0.0.1/", "http://[64:ff9b::7f00:1]/"):
        with pytest.raises(InvalidRequest):
            vet_url(url, allowed)
    with pytest.raises(InvalidRequest):  # only the allowed address, not its neighbours
        vet_url(
            "http://media.test/",
            FetchPolicy(allowed_networks=LOOPBACK_ONLY, resolve=Resolver({"media.test": ["127.0.0.1", "127.0.0.2"]})),
        )


def test_numeric_forms_are_refused_even_when_the_address_is_allowed() -> None:
    allowed = FetchPolicy(allowed_networks=LOOPBACK_ONLY, resolve=Resolver())
    with pytest.raises(InvalidRequest, match="ambiguous numeric host"):
        vet_url("http://2130706433/", allowed)


def test_long_url_message_names_the_limit() -> None:
    with pytest.raises(InvalidRequest, match="2049 characters long; the limit is 2048"):
        vet_url("http://good.example/" + "a" * 2029, policy())
    with pytest.raises(InvalidRequest, match="limit is 100"):
        vet_url("http://good.example/" + "a" * 100, policy(max_url_length=100))


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://good.example/", "http:// or https://"),
        ("http://user:pass@good.example/", "user name or password"),
        ("http://0x7f.1/", "four decimal numbers"),
        ("http://bücher.example/", "xn--"),
        ("http://good\texample/", "control characters"),
        ("http://good.example\\x/", "backslashes"),
        ("http://good.example:99999/", "1 to 65535"),
        ("http://10.0.0.1/", "private or internal"),
    ],
)
def test_messages_say_what_to_fix(url: str, fragment: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        vet_url(url, policy())
    assert fragment in caught.value.message


def test_redirect_targets_are_named_in_messages() -> None:
    with pytest.raises(InvalidRequest, match=r"^The redirect target URL points at a private"):
        vet_url("http://169.254.169.254/latest/meta-data/", policy(), redirected=True)


@pytest.mark.parametrize("answers", [None, []])
def test_unresolvable_host_is_502(answers: list[str] | None) -> None:
    resolver = Resolver({} if answers is None else {"gone.example": answers})
    with pytest.raises(UpstreamFailed, match="could not be resolved") as caught:
        vet_url("https://gone.example/", FetchPolicy(resolve=resolver))
    assert caught.value.status == 502


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("::127.0.0.1", "127.0.0.1"),
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
        ("64:ff9b:1::a00:1", "10.0.0.1"),
        ("2002:7f00:1::", "127.0.0.1"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1"),
        ("2606:4700:4700::1111", None),
        ("127.0.0.1", None),
    ],
)
def test_embedded_ipv4(address: str, inner: str | None) -> None:
    found = embedded_ipv4(ipaddress.ip_address(address))
    assert (str(found) if found else None) == inner


def test_address_permitted_base_cases() -> None:
    assert address_permitted(ipaddress.ip_address("8.8.8.8"))
    assert address_permitted(ipaddress.ip_address("2001:4860:4860::8888"))
    assert not address_permitted(ipaddress.ip_address("100.64.0.1"))
    assert not address_permitted(ipaddress.ip_address("127.0.0.1"))
    assert address_permitted(ipaddress.ip_address("127.0.0.1"), LOOPBACK_ONLY)
    assert address_permitted(ipaddress.ip_address("::ffff:127.0.0.1"), LOOPBACK_ONLY)
    # an embedded allowed address does not make a non-public wrapper pass
    assert not address_permitted(ipaddress.ip_address("2001:0:4136:e378:8000:63bf:80ff:fffe"), LOOPBACK_ONLY)


def test_parse_networks() -> None:
    assert parse_networks(" 10.1.0.0/16, fd12::/48 ,") == (
        ipaddress.ip_network("10.1.0.0/16"),
        ipaddress.ip_network("fd12::/48"),
    )
    assert parse_networks("") == ()
    with pytest.raises(ValueError):
        parse_networks("10.1.2.3/8")


def test_policy_defaults() -> None:
    default = FetchPolicy()
    assert (default.max_redirects, default.deadline_seconds, default.max_url_length) == (5, 30.0, 2048)
    assert default.allowed_networks == ()
    assert default.allow_https_downgrade is False
    assert default.ca_bundle is None
