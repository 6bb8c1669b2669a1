"""`--policy FILE`: a policy of its own file (from the default branch, say) that the manifests' policy can only
narrow, and `policy.allowed_api_hosts`, which guards where an org's API token goes (contract §2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.errors import ManifestError
from reconciler.manifest import load_manifests
from tests.manifest.util import ENV, write

ORG = """\
version: 1
{policy}
organizations:
  - name: acme
    provider: ingate
    token: ${{env:TOKEN}}
{base_url}
    webhooks:
      - name: hook
        url: {url}
"""
GUARD = "version: 1\npolicy:\n  allowed_hosts: ['*.acme.example']\n"


def problems_of(
    tmp_path: Path,
    *,
    policy_file: str | None = None,
    policy: str = "",
    url: str = "https://hooks.acme.example/x",
    base_url: str | None = None,
) -> list[str]:
    line = f"    base_url: {base_url}" if base_url is not None else ""
    write(tmp_path, "m.yaml", ORG.format(policy=policy, url=url, base_url=line))
    given = None
    if policy_file is not None:
        given = write(tmp_path, "guard.yaml", policy_file)
    try:
        load_manifests([str(tmp_path / "m.yaml")], ENV, policy_file=given)
    except ManifestError as error:
        return [str(p).removeprefix(str(tmp_path) + "/") for p in error.problems]
    return []


def test_the_manifests_cannot_loosen_the_policy_file(tmp_path: Path) -> None:
    loose = "policy:\n  allowed_hosts: ['*']\n  allow_http: true\n  allow_private_addresses: true"
    found = problems_of(tmp_path, policy_file=GUARD, policy=loose, url="http://evil.example/x")
    assert found == [
        "m.yaml:13:14: organizations[0].webhooks[0]: 'url' host 'evil.example' matches no entry of the --policy "
        "file's allowed_hosts",
        "m.yaml:13:14: organizations[0].webhooks[0]: 'url' must use https://: ingate only delivers to HTTPS",
        "m.yaml:13:14: organizations[0].webhooks[0]: 'url' uses http://, which the --policy file refuses "
        "(allow_http is false)",
    ]
    assert problems_of(tmp_path, policy_file=GUARD, policy=loose, url="https://10.0.0.1/x") == [
        "m.yaml:13:14: organizations[0].webhooks[0]: 'url' host '10.0.0.1' is a local or private address, which "
        "the --policy file refuses (allow_private_addresses is false)",
        "m.yaml:13:14: organizations[0].webhooks[0]: 'url' host '10.0.0.1' matches no entry of the --policy "
        "file's allowed_hosts",
    ]


def test_the_manifests_may_narrow_the_policy_file(tmp_path: Path) -> None:
    narrow = "policy:\n  allowed_hosts: [hooks.acme.example]"
    assert problems_of(tmp_path, policy_file=GUARD, policy=narrow) == []
    assert problems_of(tmp_path, policy_file=GUARD, policy=narrow, url="https://eu.acme.example/x") == [
        "m.yaml:11:14: organizations[0].webhooks[0]: 'url' host 'eu.acme.example' matches no entry of the "
        "policy's allowed_hosts"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\n", ["guard.yaml:1:1: a --policy file needs a 'policy' mapping"]),
        (
            "version: 1\npolicy: {allow_http: yes}\n",
            ["guard.yaml:2:22: policy.allow_http: 'yes' is a YAML 1.1 boolean: write true or false, or quote it "
             '("yes") for text'],
        ),
        (
            "version: 1\npolicy: {}\norganizations: []\n",
            ["guard.yaml:3:1: a --policy file holds only 'version' and 'policy', not 'organizations'"],
        ),
        ("policy: {}\n", ["guard.yaml:1:1: missing required field 'version'"]),
        ("version: 1\npolicy:\n  allowed_hostz: [a]\n", None),
    ],
)
def test_policy_file_problems_are_located(tmp_path: Path, text: str, expected: list[str] | None) -> None:
    found = problems_of(tmp_path, policy_file=text)
    if expected is None:
        assert len(found) == 1 and found[0].startswith("guard.yaml:3:3: "), found
    else:
        assert found == expected


def test_a_missing_policy_file_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "m.yaml", ORG.format(policy="", url="https://hooks.acme.example/x", base_url=""))
    with pytest.raises(ManifestError) as caught:
        load_manifests([str(tmp_path / "m.yaml")], ENV, policy_file=str(tmp_path / "nope.yaml"))
    assert [str(p) for p in caught.value.problems] == [f"{tmp_path}/nope.yaml:1:1: no such file or directory"]


# -- allowed_api_hosts: where the token goes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "base_url", "expected"),
    [
        # Without any policy, any base URL (the sandbox, a proxy) keeps working.
        ("", "http://127.0.0.1:8080/ingate", []),
        ("", "https://attacker.example", []),
        # With one, only the provider's documented host, over https...
        ("policy: {}", None, []),
        ("policy: {}", "https://api.ingateai.com", []),
        ("policy: {}", "https://API.INGATEAI.COM./", []),
        (
            "policy: {}",
            "http://api.ingateai.com",
            [
                "'base_url' uses http:// to ingate's API, so the token would cross the network unencrypted; use "
                "https:// (or list the host in the policy's allowed_api_hosts)"
            ],
        ),
        (
            "policy: {}",
            "https://attacker.example",
            [
                "'base_url' host 'attacker.example' is not ingate's documented API host (api.ingateai.com) and "
                "matches no entry of the policy's allowed_api_hosts: the org's token would be sent there"
            ],
        ),
        (
            "policy: {}",
            "https://api.ingateai.com.attacker.example",
            [
                "'base_url' host 'api.ingateai.com.attacker.example' is not ingate's documented API host "
                "(api.ingateai.com) and matches no entry of the policy's allowed_api_hosts: the org's token would "
                "be sent there"
            ],
        ),
        # ...or a host the policy names, then also over http:// and at a private address.
        ("policy:\n  allowed_api_hosts: ['127.0.0.1']", "http://127.0.0.1:8080/ingate", []),
        ("policy:\n  allowed_api_hosts: ['*.proxy.acme.example']", "https://eu.proxy.acme.example/ingate", []),
    ],
)
def test_allowed_api_hosts(tmp_path: Path, policy: str, base_url: str | None, expected: list[str]) -> None:
    found = problems_of(tmp_path, policy=policy, base_url=base_url)
    line = 7 + policy.count("\n")
    assert found == [f"m.yaml:{line}:15: organizations[0]: {m}" for m in expected]


def test_the_manifests_cannot_loosen_the_api_hosts_of_the_policy_file(tmp_path: Path) -> None:
    loose = "policy:\n  allowed_api_hosts: ['*']"
    found = problems_of(tmp_path, policy_file=GUARD, policy=loose, base_url="https://attacker.example")
    assert found == [
        "m.yaml:8:15: organizations[0]: 'base_url' host 'attacker.example' is not ingate's documented API "
        "host (api.ingateai.com) and matches no entry of the --policy file's allowed_api_hosts: the org's token "
        "would be sent there"
    ]


@pytest.mark.parametrize("policy", ["", "policy:\n  allowed_api_hosts: ['*']"])
@pytest.mark.parametrize("base_url", ["https://user:pw@api.ingateai.com", "https://token@api.ingateai.com"])
def test_a_base_url_with_credentials_is_always_an_error(tmp_path: Path, policy: str, base_url: str) -> None:
    found = problems_of(tmp_path, policy=policy, base_url=base_url)
    assert len(found) == 1 and "'base_url' must not carry 'user:password@'" in found[0], found
    assert "pw" not in found[0] and "token@" not in found[0]


def test_an_env_sourced_base_url_is_checked_unshown(tmp_path: Path) -> None:
    text = ORG.format(policy="policy: {}", url="https://hooks.acme.example/x", base_url="    base_url: ${env:BASE}")
    write(tmp_path, "m.yaml", text)
    with pytest.raises(ManifestError) as caught:
        load_manifests([str(tmp_path / "m.yaml")], {**ENV, "BASE": "https://attacker.example"})
    (problem,) = caught.value.problems
    assert "attacker" not in str(problem) and "'base_url' host is not ingate's documented API host" in str(problem)
