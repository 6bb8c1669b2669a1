"""URL hosts are judged as browsers and HTTP clients read them (contract §2), through one module: each case here
is an attack that got past a check reading hosts with Python's urlsplit."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from urllib3.util import parse_url

from reconciler.core.errors import ManifestError
from reconciler.core.model import DesiredWebhook, LiveWebhook
from reconciler.core.plan import FieldChange, Recorded
from reconciler.core.urls import ambiguity, effective_host, is_private_host, url_host
from reconciler.manifest import load_manifests
from reconciler.render.text import destination
from tests.manifest.util import ENV, write
from tests.test_planner import run

MANIFEST = """\
version: 1
{policy}
organizations:
  - name: acme
    provider: immuta
    token: ${{env:TOKEN}}
    webhooks:
      - name: hook
        url: {url}
"""


def _problems(tmp_path: Path, url: str, policy: str = "", environ: dict[str, str] = ENV) -> list[str]:
    write(tmp_path, "m.yaml", MANIFEST.format(policy=policy, url=url))
    try:
        load_manifests([str(tmp_path / "m.yaml")], environ)
    except ManifestError as error:
        return [str(problem).removeprefix(str(tmp_path) + "/") for problem in error.problems]
    return []


PRIVATE = "is a local or private address, which the policy refuses (allow_private_addresses is false)"
AMBIGUOUS = [
    # Python's urlsplit reads hooks.acme.example; browsers, Node, urllib3 and httpx read attacker.example.
    '"https://attacker.example\\\\@hooks.acme.example/x"',
    '"https://hooks.acme.example\\\\.attacker.example/x"',
    '"https://attacker.example\\t@hooks.acme.example/x"',
    '"https://attacker.example\\n@hooks.acme.example/x"',
    '"https://attacker.example @hooks.acme.example/x"',
    '"https://attacker.example\\u3000@hooks.acme.example/x"',
]


@pytest.mark.parametrize("url", AMBIGUOUS)
@pytest.mark.parametrize("policy", ["", "policy:\n  allowed_hosts: [hooks.acme.example]"])
def test_ambiguous_urls_are_always_refused(tmp_path: Path, url: str, policy: str) -> None:
    found = _problems(tmp_path, url, policy)
    line = 9 + policy.count("\n")
    assert len(found) == 1, found
    assert found[0].startswith(f"m.yaml:{line}:14: organizations[0].webhooks[0]: 'url' ")  # the schema's or the rule's
    assert ambiguity(yaml.safe_load(url)) is not None


@pytest.mark.parametrize(
    "url", ['"https:\\\\\\\\attacker.example/x"', '"https:///attacker.example/x"', '"https:attacker.example/x"']
)
def test_urls_without_two_slashes_are_refused(tmp_path: Path, url: str) -> None:
    """WHATWG finds a host in these, urlsplit none: the schema's pattern refuses them, the rules too."""
    assert len(_problems(tmp_path, url)) == 1
    assert ambiguity(url.strip('"').replace("\\\\", "\\")) is not None


def test_the_backslash_attack_reaches_the_attacker() -> None:
    """What the refusal prevents: urllib3 (as browsers and Node) goes to the first host, httpx and urlsplit to
    the second, so whichever a check reads, some client sends the events elsewhere."""
    url = "https://attacker.example\\@hooks.acme.example/x"
    assert parse_url(url).host == "attacker.example" == url_host(url)
    assert httpx.URL(url).host == "hooks.acme.example" == urlsplit(url).hostname
    assert ambiguity(url) is not None


def test_ambiguous_url_from_environment_is_refused_unshown(tmp_path: Path) -> None:
    environ = {**ENV, "HOOK": "https://attacker.example\\@hooks.acme.example/x"}
    found = _problems(tmp_path, "${env:HOOK}", "policy:\n  allowed_hosts: [hooks.acme.example]", environ)
    assert len(found) == 1
    assert "'url' (from ${env:HOOK}) is ambiguous" in found[0]
    assert "attacker" not in found[0]


@pytest.mark.parametrize(
    "url",
    [
        "https://\uff11\uff12\uff17.0.0.1/x",  # full-width digits
        "https://\uff11\uff16\uff19.\uff12\uff15\uff14.169.254/latest",
        "https://[64:ff9b::a9fe:a9fe]/latest",  # NAT64 form of 169.254.169.254
        "https://[64:ff9b::7f00:1]/x",  # NAT64 form of 127.0.0.1
        "https://[::ffff:a9fe:a9fe]/latest",  # IPv4-mapped
        "https://[::ffff:169.254.169.254]/latest",
        "https://[::127.0.0.1]/x",  # IPv4-compatible (deprecated)
        "https://[2002:a9fe:a9fe::1]/x",  # 6to4
        "https://0xa9.0xfe.0xa9.0xfe/latest",
        "https://169.254.169.254./latest",
        "https://127.0.0.%31/x",  # percent-encoded in the host
        "https://LOCALHOST\u3002/x",  # an ideographic full stop is a dot
        "https://ｌｏｃａｌｈｏｓｔ/x",  # full-width letters: IDNA maps them
        "https://api.localhost/x",
        "https://100.100.100.200/latest",  # a cloud metadata address in the shared range
    ],
)
def test_other_spellings_of_private_addresses_are_refused(tmp_path: Path, url: str) -> None:
    found = _problems(tmp_path, f'"{url}"', "policy:\n  allow_http: false")
    assert len(found) == 1, found
    assert found[0].endswith(PRIVATE)
    assert _problems(tmp_path, f'"{url}"', "policy:\n  allow_private_addresses: true") == []


def test_nat64_message_names_the_address_it_reaches(tmp_path: Path) -> None:
    found = _problems(tmp_path, '"https://[64:ff9b::a9fe:a9fe]/x"', "policy:\n  allow_http: false")
    assert "'url' host '64:ff9b::a9fe:a9fe' (= 169.254.169.254) is a local or private address" in found[0]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://HOOKS.acme.example/x", True),
        ("https://ｈｏｏｋｓ.acme.example/x", True),  # full-width: the same host for every client
        ("https://hooks.acme.example./x", True),
        ("https://bücher.example/x", True),  # IDNA: matched against the glob in Unicode
        ("https://xn--bcher-kva.example/x", True),
        ("https://hooks.acme.example.attacker.example/x", False),
        ("https://attacker.example#@hooks.acme.example/x", False),
        ("https://attacker.example?@hooks.acme.example/x", False),
        ("https://hooks.acme.example@attacker.example/x", False),
        ("https://hooks.acme.example%2F@attacker.example/x", False),
        ("https://hooks.acme.example:443@attacker.example/x", False),
        ("https://a@hooks.acme.example@attacker.example/x", False),
    ],
)
def test_allowed_hosts_judge_the_host_the_request_reaches(tmp_path: Path, url: str, allowed: bool) -> None:
    policy = "policy:\n  allowed_hosts: [hooks.acme.example, bücher.example]"
    found = _problems(tmp_path, f'"{url}"', policy)
    assert (found == []) is allowed, found


def test_a_url_without_a_valid_host_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    found = _problems(tmp_path, '"https://[bad/x"')
    message = "'url' must be an http:// or https:// URL with a valid host"
    assert found == [f"m.yaml:9:14: organizations[0].webhooks[0]: {message}"]


@pytest.mark.parametrize(
    "host", ["8.8.8.8", "2001:4860:4860::8888", "hooks.example", "localhost.example", "[64:ff9b::808:808]"]
)
def test_public_hosts_are_not_private(host: str) -> None:
    assert not is_private_host(host)


def test_embedded_ipv4_is_the_effective_host() -> None:
    assert effective_host("64:ff9b::a9fe:a9fe") == "169.254.169.254"
    assert effective_host("::ffff:7f00:1") == "127.0.0.1"
    assert effective_host("hooks.example") == "hooks.example"


def test_live_urls_of_any_text_never_crash_the_planner() -> None:
    """A provider may hold any URL text; a bad one is a new destination, never an internal error."""
    hook = DesiredWebhook("a", "https://hooks.acme.example/a")
    plan = run("ingate", [hook], [LiveWebhook("1", "https://[bad", None), LiveWebhook("2", "\x00", None)])
    assert [c.action for c in plan.changes] == ["create"]
    assert plan.changes[0].new_destination


def test_the_plan_shows_the_host_the_request_reaches() -> None:
    change = Recorded(recorded="create", org="acme", webhook="a", fields=(FieldChange("url", None, "https://ＨＯＯＫＳ.example\u3002evil.example/x"),))
    assert destination(change) == "hooks.example.evil.example"


@given(st.text(max_size=40))
def test_url_helpers_take_any_text(text: str) -> None:
    for url in (text, f"https://{text}", f"https://{text}/x"):
        host = url_host(url)
        ambiguity(url)
        if host is not None:
            is_private_host(host)
