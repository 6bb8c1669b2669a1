"""URL hosts as browsers and HTTP clients read them: the WHATWG URL rules, through ada-url (the parser Node
uses). The one place that says which host a URL reaches, whether it is private, and whether it is ambiguous.
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
import re
from urllib.parse import urlsplit

import ada_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SCHEMES = ("http:", "https:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACE = re.compile(r"\s")
_PLAIN_AUTHORITY = re.compile(r"[A-Za-z0-9.-]+(:[0-9]*)?")
_LEAD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:([/\\]*)")  # the scheme and the slashes after it
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the well-known prefix, IPv4 in the last 32 bits
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: local-use NAT64, a private network
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d (:: and ::1 are themselves)


def _whatwg(url: str) -> ada_url.URL | None:
    try:
        return ada_url.URL(url)
    except ValueError:
        return None


def _bare(host: str) -> str:
    """A WHATWG host without IPv6 brackets or a trailing dot, as it is compared and shown."""
    return host.removeprefix("[").removesuffix("]").rstrip(".")


@functools.lru_cache(maxsize=256)  # validation asks several questions of each URL in turn
def url_host(url: str) -> str | None:
    """The host `url` reaches (WHATWG: lower-case, IDNA to ASCII, IPv4 forms canonical), without IPv6 brackets
    or a trailing dot; None when `url` is no http(s) URL with a host. Never raises, whatever the text."""
    parsed = _whatwg(url)
    if parsed is None or parsed.protocol not in _SCHEMES:
        return None
    return _bare(parsed.hostname) or None


def url_path(url: str) -> str:
    """The path `url` reaches (WHATWG: dot segments resolved, percent-encoded); "" when it is no URL."""
    parsed = _whatwg(url)
    return "" if parsed is None else parsed.pathname


def is_http_url(url: str) -> bool:
    """An http:// or https:// URL with a host, by the WHATWG rules."""
    return url_host(url) is not None


def has_credentials(url: str) -> bool:
    """`url` carries a `user:password@` part (either half)."""
    parsed = _whatwg(url)
    return parsed is not None and bool(parsed.username or parsed.password)


def ambiguity(url: str) -> str | None:
    """Why parsers could send `url` to different hosts (so no check or display of its host can be trusted),
    or None. Python's urlsplit, for one, reads `https://a.example\\@b.example/` as b.example, where browsers,
    Node, urllib3 and httpx read a.example."""
    if _CONTROL.search(url):
        return "it holds a control character (parsers drop or keep them differently)"
    lead = _LEAD.match(url)
    if lead is None or not url[: lead.start(1)].lower().startswith(_SCHEMES):
        return None  # not an http(s) URL at all, which other checks report
    if lead.group(1) != "//":
        return "its scheme is not followed by exactly '//' (parsers find the host in different places)"
    rest = url[lead.end() :]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]  # as urlsplit reads it: up to the first / ? or #
    if "\\" in authority:
        return "it has a '\\' in its authority (browsers read it as '/', Python's urlsplit does not)"
    if _SPACE.search(authority):
        return "it has a space in its authority"
    if _PLAIN_AUTHORITY.fullmatch(authority):
        return None  # letters, digits, dots and hyphens, maybe a port: read alike by every parser
    host = url_host(url)
    if _split_host(url, host) != host:
        return "parsers disagree on its host"
    return None


def _split_host(url: str, whatwg: str | None) -> str | None:
    """The host Python's urlsplit reads, normalised the WHATWG way (unless already equal to `whatwg`, the
    usual case), so only a real disagreement differs."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return whatwg if host.rstrip(".") == whatwg else _normal_host(host)


def _normal_host(host: str) -> str | None:
    """A bare host (a name or an IP literal, IPv6 with or without brackets) read the WHATWG way."""
    host = _bare(host)
    return url_host(f"http://[{host}]/" if ":" in host else f"http://{host}/")


def effective_host(host: str) -> str:
    """The IPv4 address an IPv6 literal embeds (IPv4-mapped, NAT64, 6to4, Teredo, IPv4-compatible), which
    is where its packets go; else `host` itself."""
    address = _ip_literal(host)
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return str(embedded)
    return host


def is_private_host(host: str) -> bool:
    """localhost, *.localhost, or an IP literal that is not globally reachable (loopback, private, link-local,
    shared, unspecified), also when written in another form (full-width digits, 0x7f.1, an IPv6 form that
    embeds it). `host` is read the WHATWG way first, so any spelling of an address counts."""
    normal = _normal_host(host) or host.lower()
    if normal == "localhost" or normal.endswith(".localhost"):
        return True
    address = _ip_literal(effective_host(normal))
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address in _NAT64_LOCAL:
        return True
    return not address.is_global or address.is_loopback or address.is_link_local


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone id (fe80::1%eth0)
    except ValueError:
        return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def host_matches(host: str, pattern: str) -> bool:
    """`host` (as url_host gives it) matches a glob of a policy, written in any case or in Unicode."""
    return fnmatch.fnmatchcase(host, normalise_glob(pattern))


def normalise_glob(pattern: str) -> str:
    """A host glob in the form url_host gives: lower-case, each Unicode label in IDNA ASCII, no trailing dot."""
    labels = pattern.lower().rstrip(".").split(".")
    return ".".join(
        label if label.isascii() or any(c in label for c in "*?[") else url_host(f"http://{label}/") or label
        for label in labels
    )
