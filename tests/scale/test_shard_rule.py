"""contract §7.1: the shard rule, as properties (hypothesis): the shards of one N partition the orgs, an org's shard
never depends on the other orgs, and orgs sharing a rate-limit group (provider and token reference) share one."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.core import shards
from reconciler.core.model import Organization
from reconciler.core.secret import Secret

PROVIDERS = ("ingate", "infraaudit", "keeptrusts", "immuta", "encrata")


def org(name: str, provider: str, ref: str) -> Organization:
    return Organization(name, provider, "https://api.example", Secret("tok-value"), "desktop", token_ref=ref)


org_specs = st.tuples(st.sampled_from(PROVIDERS), st.from_regex(r"\$\{env:[A-Z][A-Z0-9_]{0,12}\}", fullmatch=True))
fleets = st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True), org_specs, max_size=40)
counts = st.integers(min_value=1, max_value=12)
# A shared machine: timing is not what these tests are about.
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def build(fleet: dict[str, tuple[str, str]]) -> list[Organization]:
    return [org(name, provider, ref) for name, (provider, ref) in fleet.items()]


@relaxed
@given(fleets, counts)
def test_the_shards_of_one_count_partition_the_orgs(fleet: dict[str, tuple[str, str]], count: int) -> None:
    orgs = build(fleet)
    picked = [o.name for k in range(count) for o in shards.select(orgs, shards.Shard(k, count))]
    assert sorted(picked) == sorted(fleet)  # every org, each exactly once


@relaxed
@given(fleets, fleets, counts)
def test_adding_or_removing_orgs_moves_no_other(
    fleet: dict[str, tuple[str, str]], other: dict[str, tuple[str, str]], count: int
) -> None:
    before = {o.name: shards.shard_of(o, count) for o in build(fleet)}
    grown = build({**other, **fleet})  # orgs added, in front and around
    after = {o.name: shards.shard_of(o, count) for o in grown}
    assert {name: after[name] for name in before} == before
    shrunk = build({name: spec for name, spec in fleet.items() if name not in other})  # orgs removed
    assert all(shards.shard_of(o, count) == before[o.name] for o in shrunk)


@relaxed
@given(fleets, counts)
def test_orgs_sharing_a_key_share_a_shard(fleet: dict[str, tuple[str, str]], count: int) -> None:
    by_group: dict[tuple[str, str], set[int]] = {}
    for o in build(fleet):
        by_group.setdefault((o.provider, o.token_ref), set()).add(shards.shard_of(o, count))
    assert all(len(found) == 1 for found in by_group.values())


def test_the_shard_is_the_same_in_every_process() -> None:
    """sha256, not Python's salted hash(): two processes (two pods of one Indexed Job) agree."""
    code = (
        "from reconciler.core import shards; from reconciler.core.model import Organization; "
        "from reconciler.core.secret import Secret; "
        "print([shards.shard_of(Organization(f'o{i}', 'ingate', 'u', Secret('tok-value'), 's', "
        "token_ref='${env:T%d}' % i), 7) for i in range(50)])"
    )
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(runs) == 1
    assert len(set(eval(runs.pop()))) > 1  # and orgs with their own keys do spread


@pytest.mark.parametrize("text", ["3/3", "-1/3", "1", "a/b", "1/0", "0/-2", " 1/2", "1/2/3"])
def test_a_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="K/N"):
        shards.parse(text)


def test_good_shards_parse() -> None:
    assert shards.parse("0/1") == shards.Shard(0, 1)
    assert str(shards.parse("3/4")) == "3/4"
