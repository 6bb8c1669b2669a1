"""URL helpers: telling http(s) URLs and private destinations apart."""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

_LEGACY_IPV4 = re.compile(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}")


def url_host(url: str) -> str | None:
    """The URL's host, lower-case, without IPv6 brackets or a trailing dot; None when there is none."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    host = (host or "").rstrip(".")
    return host or None


def is_http_url(url: str) -> bool:
    """An http:// or https:// URL with a host."""
    return url.lower().startswith(("http://", "https://")) and url_host(url) is not None


def is_private_host(host: str) -> bool:
    """localhost, *.localhost, or an IP literal (v4 or v6) that is loopback, private or link-local."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = _ip_literal(host)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_private or address.is_link_local


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone id (fe80::1%eth0)
    except ValueError:
        pass
    # Resolvers also accept legacy IPv4 forms (127.1, 0x7f.1, 2130706433); inet_aton parses them
    # locally, with no network lookup.
    if not _LEGACY_IPV4.fullmatch(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None
