"""The `policy`: where webhook events may be sent and where an org's API token may go (contract §2)."""

from __future__ import annotations

from typing import Any

from reconciler.core.capabilities import Capabilities
from reconciler.core.model import Policy
from reconciler.core.urls import effective_host, host_matches, is_private_host, url_host


def policy_of(spec: Any, name: str) -> Policy:
    """The Policy a schema-valid `policy` mapping declares; `name` is how messages call it."""
    hosts = spec.get("allowed_hosts")
    return Policy(
        allowed_hosts=None if hosts is None else tuple(hosts),
        allow_http=spec.get("allow_http", False),
        allow_private_addresses=spec.get("allow_private_addresses", False),
        allowed_api_hosts=tuple(spec.get("allowed_api_hosts", ())),
        name=name,
    )


def _shown(host: str, target: str, masked: bool) -> str:
    return "" if masked else f" '{host}'" + (f" (= {target})" if target != host else "")


def policy_violations(url: str, policy: Policy, *, masked: bool) -> list[str]:
    """One message per policy rule `url` breaks. `masked`: the URL came from ${env:}, so it is not shown.

    The host is the one the request reaches (WHATWG rules), and an IPv6 form that embeds an IPv4 address is
    judged as that address, so no spelling of a host gets past a rule that its plain form breaks."""
    host = url_host(url) or ""
    target = effective_host(host)
    shown = _shown(host, target, masked)
    problems: list[str] = []
    if url.lower().startswith("http://") and not policy.allow_http:
        problems.append(f"'url' uses http://, which {policy.name} refuses (allow_http is false)")
    if is_private_host(host) and not policy.allow_private_addresses:
        problems.append(
            f"'url' host{shown} is a local or private address, which {policy.name} refuses "
            "(allow_private_addresses is false)"
        )
    if policy.allowed_hosts is not None and not any(host_matches(target, p) for p in policy.allowed_hosts):
        problems.append(f"'url' host{shown} matches no entry of {policy.name}'s allowed_hosts")
    return problems


def api_host_violations(url: str, caps: Capabilities, policy: Policy, *, masked: bool) -> list[str]:
    """Why `policy` refuses to send the org's token to `url` (a base_url), or []. A host the policy lists may be
    reached over http:// and at a private address (someone named it); the provider's own hosts over https."""
    host = url_host(url) or ""
    target = effective_host(host)
    if any(host_matches(target, pattern) for pattern in policy.allowed_api_hosts):
        return []
    documented = _documented_hosts(caps)
    if host in documented:
        if url.lower().startswith("https://"):
            return []
        return [
            f"'base_url' uses http:// to {caps.name}'s API, so the token would cross the network unencrypted; "
            f"use https:// (or list the host in {policy.name}'s allowed_api_hosts)"
        ]
    defaults = ", ".join(sorted(documented)) or "none: each tenant has its own"
    return [
        f"'base_url' host{_shown(host, target, masked)} is not {caps.name}'s documented API host ({defaults}) and "
        f"matches no entry of {policy.name}'s allowed_api_hosts: the org's token would be sent there"
    ]


def _documented_hosts(caps: Capabilities) -> frozenset[str]:
    """The provider's documented API hosts: its default base URL's and the other ones it declares."""
    default = url_host(caps.default_base_url) if caps.default_base_url else None
    return caps.api_hosts | ({default} if default else set())
