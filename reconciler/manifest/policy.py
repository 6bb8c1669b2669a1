"""The manifest `policy`: which webhook destinations are allowed (SPEC §2)."""

from __future__ import annotations

from reconciler.manifest.urls import effective_host, host_matches, is_private_host, url_host
from reconciler.model import Policy


def policy_violations(url: str, policy: Policy, *, masked: bool) -> list[str]:
    """One message per policy rule `url` breaks. `masked`: the URL came from ${env:}, so it is not shown.

    The host is the one the request reaches (WHATWG rules), and an IPv6 form that embeds an IPv4 address is
    judged as that address, so no spelling of a host gets past a rule that its plain form breaks."""
    host = url_host(url) or ""
    target = effective_host(host)
    shown = "" if masked else f" '{host}'" + (f" (= {target})" if target != host else "")
    problems: list[str] = []
    if url.lower().startswith("http://") and not policy.allow_http:
        problems.append("'url' uses http://, which the policy refuses (allow_http is false)")
    if is_private_host(host) and not policy.allow_private_addresses:
        problems.append(
            f"'url' host{shown} is a local or private address, which the policy refuses "
            "(allow_private_addresses is false)"
        )
    if policy.allowed_hosts is not None and not any(host_matches(target, p) for p in policy.allowed_hosts):
        problems.append(f"'url' host{shown} matches no entry of the policy's allowed_hosts")
    return problems
