"""contract §7.1 end to end against the sandbox: `--shard K/N` on plan, apply and drift, `reconciler shards`, and
`merge-reports` giving back exactly the unsharded drift report (json, text, markdown) and its exit code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keyring
import pytest

from reconciler.engine.documents import MAX_BYTES
from tests.e2e.world import World

# Eight rate-limit groups over five providers; acme-1 and acme-2 share one API key.
FLEET = [
    ("acme-0", "ingate", "KEY_A"),
    ("acme-1", "infraaudit", "KEY_B"),
    ("acme-2", "infraaudit", "KEY_B"),
    ("acme-3", "keeptrusts", "KEY_C"),
    ("acme-4", "encrata", "KEY_D"),
    ("acme-5", "ingate", "KEY_E"),
    ("acme-6", "immuta", "KEY_F"),
    ("acme-7", "encrata", "KEY_G"),
    ("acme-8", "keeptrusts", "KEY_H"),
]
EVENTS = {"infraaudit": ["drift.detected"], "keeptrusts": ["event.blocked"], "encrata": ["credits.low"]}


def hook(provider: str, name: str, path: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "url": f"https://hooks.acme.example/{provider}/{name}{path}"}
    if provider in EVENTS:
        spec["events"] = EVENTS[provider]
    return spec


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for _, _, key in FLEET:
        monkeypatch.setenv(key, "sandbox-token")


def fleet(world: World, hooks: dict[str, list[dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    return [
        world.org(name, provider, (hooks or {}).get(name, [hook(provider, "alerts")]), token="${env:" + key + "}")
        for name, provider, key in FLEET
    ]


def assignment(world: World, manifest: Path, count: int) -> dict[str, int]:
    result = world.run("shards", manifest, "--count", str(count))
    assert result.code == 0, result.text
    doc = json.loads(result.out)
    assert doc["count"] == count and set(doc) == {"count", "shards"}
    shards: dict[str, int] = doc["shards"]
    return shards


def test_shards_prints_the_assignment_and_same_key_orgs_share_a_shard(world: World, keys: None) -> None:
    manifest = world.write(fleet(world))
    shards = assignment(world, manifest, 3)
    assert set(shards) == {name for name, _, _ in FLEET} and set(shards.values()) <= {0, 1, 2}
    assert shards["acme-1"] == shards["acme-2"]
    assert len(set(shards.values())) > 1
    # Adding an org moves none of the others.
    grown = world.write([*fleet(world), world.org("zeta", "ingate", [hook("ingate", "z")], token="${env:KEY_Z}")],
                        name="grown.yaml")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEY_Z", "sandbox-token")
        after = assignment(world, grown, 3)
    assert {name: after[name] for name in shards} == shards
    with pytest.raises(SystemExit) as exited:  # a usage error: exit 1, never 2 ("drift")
        world.run("shards", manifest, "--count", "0")
    assert exited.value.code == 1


def test_shards_needs_no_token_values(world: World, keys: None) -> None:
    """A shard depends on token references, never their values: a laptop without the CI secrets gets the
    pipeline's assignment. An org whose name cannot be read without the environment is an error, never left out."""
    manifest = world.write(fleet(world))
    with_keys = assignment(world, manifest, 4)
    with pytest.MonkeyPatch.context() as patch:
        for key in {key for _, _, key in FLEET}:
            patch.delenv(key)
        assert assignment(world, manifest, 4) == with_keys
        named = world.write([*fleet(world), world.org("${env:ORG_NAME}", "ingate", [])], name="named.yaml")
        unnamed = world.run("shards", named, "--count", "4")
    assert unnamed.code == 1 and unnamed.out == "", unnamed.text
    assert "1 organization(s) have a name or provider that could not be read" in unnamed.err, unnamed.err


def test_sharded_plans_and_applies_touch_only_their_orgs(world: World, keys: None) -> None:
    manifest = world.write(fleet(world))
    shards = assignment(world, manifest, 3)
    planned: list[str] = []
    for k in range(3):
        out = world.tmp / f"plan-{k}.json"
        result = world.run("plan", manifest, "--shard", f"{k}/3", "-o", out)
        assert result.code == 0, result.text
        doc = json.loads(out.read_text())
        assert doc["shard"] == {"index": k, "count": 3}
        names = [o["name"] for o in doc["organizations"]]
        assert names == [n for n, _, _ in FLEET if shards[n] == k]
        planned += names
    assert sorted(planned) == sorted(shards)  # the shards partition the fleet
    target = shards["acme-1"]
    result = world.run("apply", "--plan", world.tmp / f"plan-{target}.json")
    assert result.code == 0, result.text
    for name, provider, _ in FLEET:
        assert bool(world.live(provider, name)) == (shards[name] == target), name
    refused = world.run("apply", "--plan", world.tmp / f"plan-{target}.json", "--shard", "0/3")
    assert refused.code == 1 and "--shard" in refused.err
    rest = next(k for k in range(3) if k != target)
    result = world.run("apply", manifest, "--shard", f"{rest}/3", "--auto-approve")
    assert result.code == 0, result.text
    for name, provider, _ in FLEET:
        assert bool(world.live(provider, name)) == (shards[name] in (target, rest)), name
    with pytest.raises(SystemExit) as exited:
        world.run("plan", manifest, "--shard", "3/3")
    assert exited.value.code == 1


def drifted_fleet(world: World) -> Path:
    """Applied, then drifted every way drift reports: a changed URL, a new webhook, a missing secret, an
    unmanaged webhook (dropped from the manifest)."""
    full = {name: [hook(p, "alerts"), hook(p, "audit")] for name, p, _ in FLEET}
    manifest = world.write(fleet(world, full))
    result = world.run("apply", manifest, "--auto-approve")
    assert result.code == 0, result.text
    keyring.delete_password(world.service, "acme-3/alerts")
    edited = dict(full)
    edited["acme-0"] = [hook("ingate", "alerts", "/v2"), hook("ingate", "audit")]
    edited["acme-2"] = [*full["acme-2"], hook("infraaudit", "extra")]
    edited["acme-7"] = [hook("encrata", "alerts")]
    return world.write(fleet(world, edited))


def test_sharded_drift_merged_equals_the_unsharded_report(world: World, keys: None) -> None:
    manifest = drifted_fleet(world)
    whole = world.run("drift", manifest, "--format", "json")
    assert whole.code == 2
    parts = []
    for k in range(3):
        part = world.tmp / f"drift-{k}.json"
        result = world.run("drift", manifest, "--shard", f"{k}/3", "-o", part, "--format", "json")
        assert result.code in (0, 2), result.text
        assert json.loads(result.out)["shard"]["index"] == k
        parts.append(part)
    merged = world.run("merge-reports", *reversed(parts), "--format", "json", "-o", world.tmp / "merged.json")
    assert merged.code == whole.code
    assert json.loads(merged.out) == json.loads(whole.out)
    assert merged.out == whole.out and (world.tmp / "merged.json").read_text() == whole.out
    for fmt in ("text", "markdown"):
        unsharded = world.run("drift", manifest, "--format", fmt)
        joined = world.run("merge-reports", *parts, "--format", fmt)
        assert (joined.code, joined.out) == (unsharded.code, unsharded.out), fmt
    quiet = world.run("merge-reports", *parts, "--quiet")
    assert quiet.code == 2 and quiet.out.startswith("Drift: 4 of 9 organization(s) differ")


def test_merge_reports_refuses_an_incomplete_or_foreign_set(world: World, keys: None) -> None:
    manifest = world.write(fleet(world))
    parts = []
    for k in range(3):
        parts.append(world.tmp / f"drift-{k}.json")
        world.run("drift", manifest, "--shard", f"{k}/3", "-o", parts[-1])
    missing = world.run("merge-reports", parts[0], parts[2])
    assert missing.code == 1 and "missing the report(s) of shard(s) 1 of 3" in missing.err
    twice = world.run("merge-reports", parts[0], parts[0], parts[1], parts[2])
    assert twice.code == 1 and "both shard 0/3" in twice.err
    whole = world.tmp / "whole.json"
    world.run("drift", manifest, "-o", whole)
    unsharded = world.run("merge-reports", whole)
    assert unsharded.code == 1 and "made without --shard" in unsharded.err
    (world.tmp / "junk.json").write_text('{"kind": "plan"}')
    junk = world.run("merge-reports", world.tmp / "junk.json")
    assert junk.code == 1 and "not a webhook-reconciler drift report" in junk.err
    other = world.tmp / "other.json"
    world.run("drift", manifest, "--shard", "1/4", "-o", other)
    mixed = world.run("merge-reports", parts[0], other, parts[2])
    assert mixed.code == 1 and "not shards of one run" in mixed.err


def test_merge_reports_refuses_a_file_it_cannot_read_or_one_too_large(world: World) -> None:
    missing = world.run("merge-reports", world.tmp / "nope.json")
    assert missing.code == 1 and "cannot read the drift report file" in missing.err
    huge = world.tmp / "huge.json"
    with huge.open("wb") as handle:  # sparse: larger than the bound without writing it
        handle.truncate(MAX_BYTES + 1)
    result = world.run("merge-reports", huge)
    assert result.code == 1 and f"larger than {MAX_BYTES >> 20} MiB" in result.err


def test_merge_reports_refuses_names_no_manifest_allows(world: World, keys: None) -> None:
    """A report is a file from anywhere: an org, provider, webhook or field name that no manifest could have
    written (a line break, markdown, HTML) is refused by the schema before it reaches a terminal or a comment."""
    manifest = world.write(fleet(world))
    part = world.tmp / "drift-0.json"
    world.run("drift", manifest, "--shard", "0/1", "-o", part)
    doc = json.loads(part.read_text())
    forged = "acme\n# Plan: 0 to create <img src=x>"
    for field in ("name", "provider"):
        hostile = json.loads(json.dumps(doc))
        hostile["organizations"][0][field] = forged
        path = world.tmp / f"forged-{field}.json"
        path.write_text(json.dumps(hostile))
        result = world.run("merge-reports", path, "--format", "markdown")
        assert result.code == 1 and "not a webhook-reconciler drift report" in result.err, result.text
        assert "<img" not in result.out + result.err
