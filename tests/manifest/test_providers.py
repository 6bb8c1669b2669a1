"""Provider rules, read from CAPABILITIES: events, pausing, https, options, base_url."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.model import DesiredWebhook
from reconciler.manifest import load_manifests
from reconciler.plugins import CAPABILITIES
from reconciler.providers.capabilities import PROVIDER_NAMES
from tests.manifest.util import ENV, problems, write

HEAD = """\
version: 1
organizations:
  - name: org
    provider: {provider}
    base_url: https://api.example/prefix/
    token: ${{env:TOKEN}}
    webhooks:
      - name: hook
        url: {url}
"""
AT = ": organizations[0].webhooks[0]"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _load(tmp_path: Path, provider: str, extra: str = "", url: str = "https://h.example/x") -> DesiredWebhook:
    write(tmp_path, "m.yaml", HEAD.format(provider=provider, url=url) + extra)
    return load_manifests(["m.yaml"], ENV).org("org").webhooks[0]


def _problems(tmp_path: Path, provider: str, extra: str = "", url: str = "https://h.example/x") -> list[str]:
    write(tmp_path, "m.yaml", HEAD.format(provider=provider, url=url) + extra)
    return problems(["m.yaml"])


CASES = [
    # (provider, extra lines, url, expected problems); the extra lines start at line 10
    (
        "ingate",
        "        events: [budget.warnin]\n",
        None,
        ["m.yaml:10:18" + AT + ".events[0]: unknown ingate event 'budget.warnin'; did you mean 'budget.warning'?"],
    ),
    (
        "ingate",
        "",
        "http://h.example/x",
        ["m.yaml:9:14" + AT + ": 'url' must use https://: ingate only delivers to HTTPS"],
    ),
    ("ingate", "        verify_tls: false\n", None, ["m.yaml:10:9" + AT + ": 'verify_tls' is not supported by ingate"]),
    (
        "infraaudit",
        "        events: []\n",
        None,
        ["m.yaml:10:17" + AT + ": infraaudit needs at least one event; omit 'events' to receive every event"],
    ),
    (
        "infraaudit",
        "        events: [zzz]\n",
        None,
        [
            "m.yaml:10:18" + AT + ".events[0]: unknown infraaudit event 'zzz'; infraaudit events are: alert.created, "
            "compliance.violation, cost.anomaly, drift.detected, drift.resolved, job.completed, ping, "
            "remediation.completed, vulnerability.found"
        ],
    ),
    (
        "keeptrusts",
        "        events: [escalation.create]\n",
        None,
        [
            "m.yaml:10:18" + AT + ".events[0]: unknown keeptrusts event 'escalation.create'; "
            "did you mean 'escalation.created'?"
        ],
    ),
    (
        "keeptrusts",
        "",
        "http://h.example/x",
        ["m.yaml:9:14" + AT + ": 'url' must use https://: keeptrusts only delivers to HTTPS"],
    ),
    (
        "immuta",
        "        events: [anything]\n",
        None,
        ["m.yaml:10:17" + AT + ": immuta webhooks receive every event; remove 'events'"],
    ),
    (
        "immuta",
        "        active: false\n",
        None,
        ["m.yaml:10:17" + AT + ": immuta webhooks cannot be paused; remove 'active: false' (or the webhook)"],
    ),
    (
        "encrata",
        "        events: []\n",
        None,
        ["m.yaml:10:17" + AT + ": encrata needs at least one event; omit 'events' to receive every event"],
    ),
    (
        "encrata",
        "        events: [credits.low, lookup.complete]\n",
        None,
        ["m.yaml:10:31" + AT + ".events[1]: unknown encrata event 'lookup.complete'; did you mean 'lookup.completed'?"],
    ),
    (
        "encrata",
        "        verify_tls: true\n",
        None,
        ["m.yaml:10:9" + AT + ": 'verify_tls' is not supported by encrata"],
    ),
]


@pytest.mark.parametrize(("provider", "extra", "url", "expected"), CASES)
def test_provider_rules(tmp_path: Path, provider: str, extra: str, url: str | None, expected: list[str]) -> None:
    assert _problems(tmp_path, provider, extra, url or "https://h.example/x") == expected


def test_every_provider_is_covered() -> None:
    assert {case[0] for case in CASES} == set(PROVIDER_NAMES)


@pytest.mark.parametrize("provider", ["ingate", "keeptrusts"])
def test_empty_events_means_all_where_the_api_says_so(tmp_path: Path, provider: str) -> None:
    assert CAPABILITIES[provider].empty_events_means_all
    assert _load(tmp_path, provider, "        events: []\n").events is None


def test_events_are_a_set(tmp_path: Path) -> None:
    hook = _load(tmp_path, "ingate", "        events: [key.revoke, key.create, key.revoke]\n")
    assert hook.events == frozenset({"key.create", "key.revoke"})


def test_omitted_events_mean_all(tmp_path: Path) -> None:
    assert _load(tmp_path, "infraaudit").events is None


def test_immuta_takes_http_and_verify_tls(tmp_path: Path) -> None:
    hook = _load(tmp_path, "immuta", "        verify_tls: false\n", url="http://h.example/x")
    assert (hook.url, hook.verify_tls, hook.events) == ("http://h.example/x", False, None)


def test_paused_webhook_where_pausable(tmp_path: Path) -> None:
    assert _load(tmp_path, "encrata", "        events: [credits.low]\n        active: false\n").active is False


def test_default_base_urls(tmp_path: Path) -> None:
    for provider in PROVIDER_NAMES:
        default = CAPABILITIES[provider].default_base_url
        if default is None:
            continue
        text = HEAD.format(provider=provider, url="https://h/")
        write(tmp_path, "m.yaml", text.replace("    base_url: https://api.example/prefix/\n", ""))
        assert load_manifests(["m.yaml"], ENV).org("org").base_url == default


def test_base_url_keeps_its_prefix_without_trailing_slash(tmp_path: Path) -> None:
    write(tmp_path, "m.yaml", HEAD.format(provider="keeptrusts", url="https://h/"))
    assert load_manifests(["m.yaml"], ENV).org("org").base_url == "https://api.example/prefix"


def test_self_hosted_http_base_url(tmp_path: Path) -> None:
    text = HEAD.format(provider="infraaudit", url="https://h/").replace(
        "https://api.example/prefix/", "http://audit:8080"
    )
    write(tmp_path, "m.yaml", text)
    assert load_manifests(["m.yaml"], ENV).org("org").base_url == "http://audit:8080"


@pytest.mark.parametrize(("provider", "refused"), [("encrata", True), ("ingate", False)])
def test_one_webhook_per_url_where_the_api_refuses_a_duplicate(tmp_path: Path, provider: str, refused: bool) -> None:
    hooks = "".join(
        f"      - name: {name}\n        url: https://h.example/same\n        events: [{event}]\n"
        for name in ("first", "second")
        for event in [{"encrata": "credits.low", "ingate": "key.create"}[provider]]
    )
    text = f"version: 1\norganizations:\n  - name: acme\n    provider: {provider}\n    token: ${{env:TOKEN}}\n"
    write(tmp_path, "m.yaml", text + "    webhooks:\n" + hooks)
    if not refused:
        assert len(load_manifests(["m.yaml"], ENV).org("acme").webhooks) == 2
        return
    assert problems(["m.yaml"]) == [
        "m.yaml:11:14: organizations[0].webhooks[1]: the same url as webhook 'first' at m.yaml:7:9: "
        "encrata allows one webhook per URL (it answers 409)"
    ]
