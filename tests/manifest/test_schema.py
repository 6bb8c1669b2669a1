"""The published schema, the example manifests, a full round trip into the model, and speed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from reconciler.core.model import DesiredWebhook, Location, Organization, Policy, StoreConfig
from reconciler.core.secret import Secret
from reconciler.manifest import MANIFEST_SCHEMA_PATH, load_manifests
from reconciler.manifest.schema import _compile, _inlined, _validator
from reconciler.manifest.yamlload import parse
from reconciler.providers.capabilities import PROVIDER_NAMES
from tests.manifest.test_bad_cases import CASES
from tests.manifest.util import ENV, write

SCHEMA: dict[str, Any] = json.loads(MANIFEST_SCHEMA_PATH.read_text(encoding="utf-8"))
EXAMPLES = sorted((Path(__file__).parents[2] / "examples" / "manifests").glob("*.yaml"))


def _object_schemas(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "properties" in node and node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found.extend(_object_schemas(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_object_schemas(value))
    return found


def test_schema_is_valid_2020_12() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] == "https://webhook-reconciler.dev/schemas/manifest.schema.json"
    assert SCHEMA["title"]


def test_every_object_is_closed_and_every_property_described() -> None:
    objects = _object_schemas(SCHEMA)
    assert len(objects) == 6  # top level, store, policy, defaults, organization, webhook
    for schema in objects:
        assert schema["additionalProperties"] is False
        for name, prop in schema["properties"].items():
            described = prop.get("description") or SCHEMA["$defs"][prop["$ref"].removeprefix("#/$defs/")]["description"]
            assert described, name


def test_schema_provider_list_is_the_capabilities_list() -> None:
    # Plugins add providers (contract §8): the schema offers the built-in ones to editors, the rules check.
    assert tuple(SCHEMA["$defs"]["organization"]["properties"]["provider"]["examples"]) == PROVIDER_NAMES


def test_no_format_keywords() -> None:
    assert '"format"' not in MANIFEST_SCHEMA_PATH.read_text(encoding="utf-8")


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_examples_validate(example: Path) -> None:
    Draft202012Validator(SCHEMA).validate(yaml.safe_load(example.read_text(encoding="utf-8")))
    environ = {name: "x" for name in ENV} | {"VAULT_ADDR": "https://vault.acme.example"}
    environ |= {name: "tok" for name in re.findall(r"\$\{env:(\w+_TOKEN)\}", example.read_text(encoding="utf-8"))}
    manifest = load_manifests([str(example)], environ)
    assert {org.provider for org in manifest.organizations} == set(PROVIDER_NAMES)
    assert {store.type for store in manifest.stores} == {"vault", "keyring"}


@pytest.mark.parametrize("text", [case[1] for case in CASES], ids=[case[0] for case in CASES])
def test_fast_validator_agrees_with_plain_jsonschema(text: str) -> None:
    """The validator used inlines $refs and short-cuts leaf checks; it must judge exactly as jsonschema."""
    doc, _ = parse("m.yaml", text)
    if doc is None:
        return
    checked = Draft202012Validator(_inlined())  # the schema the tool checks a document against
    plain = sorted(tuple(map(str, error.absolute_path)) for error in checked.iter_errors(doc.data))
    fast = sorted(tuple(map(str, error.absolute_path)) for error in _validator().iter_errors(doc.data))
    assert fast == plain


# Values that probe the fast path's jsonschema semantics: bools are not 1, keywords skip other types.
ODD_VALUES: list[Any] = [None, True, False, 0, 1, 1.0, 2, "", "x", "_x", "1", "90d", "${env:A}", [], ["x"], [1], {}]


def _values(node: Any) -> list[Any]:
    """`node` and every value inside it."""
    found = [node]
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        found.extend(_values(child))
    return found


def _subschemas(schema: Any) -> list[Any]:
    """`schema` and every schema inside it (the keywords the manifest schema uses)."""
    if not isinstance(schema, dict):
        return [schema]
    inner = [schema.get(key) for key in ("additionalProperties", "propertyNames", "items", "not", "if", "then", "else")]
    inner += [*schema.get("properties", {}).values(), *schema.get("allOf", ())]
    return [schema, *(found for part in inner if part is not None for found in _subschemas(part))]


def test_compiled_schema_judges_exactly_as_jsonschema() -> None:
    """The fast path decides alone for valid manifests: each compiled (sub)schema must accept exactly
    what jsonschema accepts, for every value of every bad case and example and a set of odd values."""
    values: list[Any] = list(ODD_VALUES)
    for text in [case[1] for case in CASES] + [path.read_text(encoding="utf-8") for path in EXAMPLES]:
        doc, _ = parse("m.yaml", text)
        if doc is not None:
            values.extend(_values(doc.data))
    compiled = 0
    for schema in _subschemas(_inlined()):
        check = _compile(schema)
        if check is None:
            continue
        compiled += 1
        plain = Draft202012Validator(schema)
        for value in values:
            assert check(value) == plain.is_valid(value), (schema, value)
    assert compiled > 30  # every part of the manifest schema compiles: the document itself included
    assert _compile(_inlined()) is not None


def test_round_trip_into_the_model(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        """
        version: 1
        secret_stores:
          vault:
            type: vault
            address: ${env:VAULT_ADDR}/
            token: ${env:VAULT_TOKEN}
            path: teams/acme
          desk:
            type: keyring
        policy:
          allowed_hosts: ["*.acme.example"]
        organizations:
          - name: acme
            provider: infraaudit
            token: ${env:TOKEN}
            secret_store: vault
            prune: true
            unmanaged: ignore
            webhooks:
              - name: drift
                url: https://hooks.acme.example/drift
                events: [drift.detected]
                active: false
                description: Drift
                protect: true
                previously: [old-drift]
                rotate_after: 2w
          - name: acme-immuta
            provider: immuta
            token: ${env:TOKEN}
            secret_store: desk
            webhooks: []
        """,
    )
    manifest = load_manifests([path], ENV)
    assert manifest.stores == (
        StoreConfig("vault", "vault", address="http://127.0.0.1:8200", token=Secret("vault-tok"), path="teams/acme"),
        StoreConfig("desk", "keyring"),
    )
    assert manifest.policy == Policy(allowed_hosts=("*.acme.example",))
    assert manifest.organizations == (
        Organization(
            name="acme",
            provider="infraaudit",
            base_url="https://api.infraaudit.dev",
            token=Secret("tok-123"),
            secret_store="vault",
            prune=True,
            unmanaged="ignore",
            webhooks=(
                DesiredWebhook(
                    name="drift",
                    url="https://hooks.acme.example/drift",
                    events=frozenset({"drift.detected"}),
                    active=False,
                    description="Drift",
                    protect=True,
                    previously=("old-drift",),
                    rotate_after_days=14,
                ),
            ),
        ),
        Organization(
            name="acme-immuta",
            provider="immuta",
            base_url="https://na.api.immutacloud.com/marketplace",
            token=Secret("tok-123"),
            secret_store="desk",
        ),
    )
    assert manifest.org("acme").location == Location(path, 13, 5)
    assert manifest.org("acme").webhooks[0].location == Location(path, 20, 9)
    assert "tok-123" not in repr(manifest)


def test_large_manifest_loads_fast(tmp_path: Path) -> None:
    lines = ["version: 1", "organizations:"]
    for org in range(200):
        lines += [f"  - name: org-{org}", "    provider: infraaudit", "    token: ${env:TOKEN}", "    webhooks:"]
        for hook in range(50):
            lines += [
                f"      - name: hook-{hook}",
                f"        url: https://hooks.example/{org}/{hook}",
                "        events: [drift.detected, drift.resolved]",
                "        active: true",
                "        description: Drift alerts",
                "        protect: false",
            ]
    path = write(tmp_path, "big.yaml", "\n".join(lines) + "\n")
    started = time.process_time()  # CPU time: other processes on the machine do not count
    manifest = load_manifests([path], ENV)
    elapsed = time.process_time() - started
    assert sum(len(org.webhooks) for org in manifest.organizations) == 10_000
    assert elapsed < 2.0, f"{len(lines)} lines took {elapsed:.2f} s"


def test_a_valid_manifest_is_judged_without_jsonschema(tmp_path: Path) -> None:
    """Start-up: jsonschema (its import and validator) is paid only when a manifest has a problem."""
    valid = write(tmp_path, "ok.yaml", "version: 1\norganizations: []\n")
    invalid = write(tmp_path, "bad.yaml", "version: 2\n")
    code = (
        "import sys\nfrom reconciler.core.errors import ManifestError\nfrom reconciler.manifest import load_manifests\n"
        "try:\n    load_manifests(sys.argv[1:])\nexcept ManifestError:\n    pass\nprint('jsonschema' in sys.modules)"
    )
    for path, imported in ((valid, "False"), (invalid, "True")):
        run = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, check=True)
        assert run.stdout.split() == [imported]
