"""The manifest policy (allowed hosts, http, private addresses) and URL masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.errors import ManifestError
from reconciler.core.redact import mask_userinfo
from reconciler.core.urls import is_private_host
from reconciler.manifest import load_manifests
from tests.manifest.util import ENV, write

MANIFEST = """\
version: 1
policy:
{policy}
organizations:
  - name: acme
    provider: immuta
    token: ${{env:TOKEN}}
    webhooks:
      - name: hook
        url: {url}
"""
URL_AT = "m.yaml:10:14: organizations[0].webhooks[0]: "
HTTP = "'url' uses http://, which the policy refuses (allow_http is false)"


def _problems(tmp_path: Path, policy: str, url: str, environ: dict[str, str] = ENV) -> list[str]:
    """The problems with the webhook URL, without their common location prefix; [] when it loads."""
    write(tmp_path, "m.yaml", MANIFEST.format(policy=policy, url=url))
    try:
        load_manifests(["m.yaml"], environ)
    except ManifestError as error:
        return [str(problem).removeprefix(URL_AT) for problem in error.problems]
    return []


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://hooks.acme.example/x", []),
        ("https://HOOKS.Acme.Example/x", []),  # hosts compare case-insensitively
        ("https://eu.svc.acme.example:8443/x", []),
        ("https://acme.example/x", ["'url' host 'acme.example' matches no entry of the policy's allowed_hosts"]),
        ("https://evil.example/x", ["'url' host 'evil.example' matches no entry of the policy's allowed_hosts"]),
        (
            "https://acme.example.evil.example/",
            ["'url' host 'acme.example.evil.example' matches no entry of the policy's allowed_hosts"],
        ),
        ("http://hooks.acme.example/x", [HTTP]),
    ],
)
def test_allowed_hosts_globs(tmp_path: Path, url: str, expected: list[str]) -> None:
    policy = '  allowed_hosts: [hooks.acme.example, "*.acme.example"]'
    assert _problems(tmp_path, policy, url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/x",
        "https://api.localhost/x",
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://172.16.0.9/x",
        "https://192.168.1.1:8443/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[fe80::1]/x",
        "https://[fd00::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://2130706433/x",  # 127.0.0.1 written as one number
        "https://127.1/x",
    ],
)
def test_private_addresses_are_refused(tmp_path: Path, url: str) -> None:
    found = _problems(tmp_path, "  allow_http: false", url)
    assert len(found) == 1
    assert found[0].endswith(
        "is a local or private address, which the policy refuses (allow_private_addresses is false)"
    )
    assert _problems(tmp_path, "  allow_private_addresses: true", url) == []


@pytest.mark.parametrize("host", ["8.8.8.8", "2001:4860:4860::8888", "hooks.example", "localhost.example", "deadbeef"])
def test_public_hosts_are_not_private(host: str) -> None:
    assert not is_private_host(host)


def test_http_allowed_by_policy(tmp_path: Path) -> None:
    assert _problems(tmp_path, "  allow_http: true", "http://hooks.example/x") == []
    assert _problems(tmp_path, "  allow_http: false", "http://hooks.example/x") == [HTTP]


def test_all_rules_reported_together(tmp_path: Path) -> None:
    assert _problems(tmp_path, "  allowed_hosts: [hooks.acme.example]", "http://10.0.0.1/x") == [
        "'url' host '10.0.0.1' is a local or private address, which the policy refuses "
        "(allow_private_addresses is false)",
        "'url' host '10.0.0.1' matches no entry of the policy's allowed_hosts",
        HTTP,
    ]


def test_url_from_environment_is_not_shown(tmp_path: Path) -> None:
    environ = {**ENV, "HOOK": "https://user:pw@evil.example/x"}
    found = _problems(tmp_path, "  allowed_hosts: [hooks.acme.example]", "${env:HOOK}", environ)
    assert found == ["'url' host matches no entry of the policy's allowed_hosts"]


def test_no_policy_allows_any_destination(tmp_path: Path) -> None:
    write(tmp_path, "m.yaml", MANIFEST.format(policy="", url="http://127.0.0.1:9000/x").replace("policy:\n", ""))
    assert load_manifests(["m.yaml"], ENV).policy is None


def test_policy_model(tmp_path: Path) -> None:
    write(tmp_path, "m.yaml", MANIFEST.format(policy="  allowed_hosts: ['*.example']", url="https://a.example/"))
    policy = load_manifests(["m.yaml"], ENV).policy
    assert policy is not None
    assert (policy.allowed_hosts, policy.allow_http, policy.allow_private_addresses) == (("*.example",), False, False)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://user:pw@hooks.example/x", "https://***@hooks.example/x"),
        ("https://token@hooks.example/x?q=a@b", "https://***@hooks.example/x?q=a@b"),
        ("https://u:p@ss@hooks.example/", "https://***@hooks.example/"),
        ("https://hooks.example/x?email=a@b.example", "https://hooks.example/x?email=a@b.example"),
        ("https://hooks.example/", "https://hooks.example/"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_userinfo(url) == masked
