"""Random manifests and the convergence checks every reliability test ends with."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import strategies as st

from reconciler.plugins import CAPABILITIES
from reconciler.providers import close_all, http
from tests.e2e.world import World

PROVIDERS = ("ingate", "infraaudit", "keeptrusts", "immuta", "encrata")
NAMES = ("alpha", "beta", "gamma", "delta")


@dataclass(frozen=True)
class OrgSpec:
    name: str
    provider: str
    prune: bool
    hooks: tuple[dict[str, Any], ...]


def hook_strategy(provider: str, name: str) -> st.SearchStrategy[dict[str, Any]]:
    """One declared webhook. Its URL carries its name, so no webhook is ever adopted under another name."""
    caps = CAPABILITIES[provider]
    events = st.none()
    if caps.events is not None:
        events = st.one_of(st.none(), st.sets(st.sampled_from(sorted(caps.events)), min_size=1, max_size=3))
    active = st.booleans() if caps.pausable else st.just(True)
    return st.builds(
        lambda variant, chosen, on: {
            "name": name,
            "url": f"https://hooks.acme.example/{provider}/{name}/{variant}",
            **({"events": sorted(chosen)} if chosen is not None else {}),
            **({} if on else {"active": False}),
        },
        st.sampled_from(("v1", "v2")),
        events,
        active,
    )


@st.composite
def org_pair(draw: st.DrawFn, index: int) -> tuple[OrgSpec, OrgSpec]:
    """One org as an earlier manifest declared it (the live state) and as the manifest declares it now."""
    provider = draw(st.sampled_from(PROVIDERS))
    name = f"org{index}-{provider}"

    def spec() -> OrgSpec:
        names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=3))
        return OrgSpec(name, provider, draw(st.booleans()), tuple(draw(hook_strategy(provider, n)) for n in names))

    return spec(), spec()


def scenarios(orgs: int = 2) -> st.SearchStrategy[tuple[list[OrgSpec], list[OrgSpec]]]:
    """(before, after): the manifests that made the live state, and the ones to apply now."""
    pairs = st.tuples(*(org_pair(i) for i in range(orgs)))
    return pairs.map(lambda both: ([b for b, _ in both], [a for _, a in both]))


@dataclass
class Harness:
    """A world whose orgs each get their own API token (Encrata's limit is per key), created on demand."""

    world: World
    tokens: dict[str, str]

    def write(self, specs: list[OrgSpec], name: str = "webhooks.yaml") -> str:
        orgs = [
            self.world.org(s.name, s.provider, [dict(h) for h in s.hooks], prune=s.prune, token=self.token_ref(s.name))
            for s in specs
        ]
        return str(self.world.write(orgs, name=name))

    def token_ref(self, org: str) -> str:
        if org not in self.tokens:
            token = f"tok-{uuid.uuid4().hex}"
            self.world.sandbox.add_token(token, "admin")
            variable = f"RELIABILITY_TOKEN_{len(self.tokens)}"
            os.environ[variable] = token
            self.tokens[org] = variable
        return "${env:" + self.tokens[org] + "}"


def assert_converged(
    world: World, specs: list[OrgSpec], path: str, stored: Callable[[str, str], str | None] | None = None
) -> None:
    """The plan is empty, each declared webhook exists once, and the store holds the secret its API uses
    (`stored(org, webhook)` reads it; the world's keyring by default)."""
    read = stored or world.stored
    plan = world.run("plan", path, "--detailed-exitcode")
    assert plan.code == 0, plan.text
    for spec in specs:
        live = world.live(spec.provider, spec.name)
        if spec.prune:
            assert len(live) == len(spec.hooks), (spec, live)
        for hook in spec.hooks:
            prefix = f"https://hooks.acme.example/{spec.provider}/{hook['name']}/"
            found = [w for w in live if w["url"].startswith(prefix)]
            assert len(found) == 1, f"{spec.name}/{hook['name']}: {len(found)} live webhooks"
            secret = read(spec.name, hook["name"])
            assert secret is not None, f"{spec.name}/{hook['name']}: no secret stored"
            assert secret == world.current_secret(spec.provider, spec.name, found[0]["id"]), (
                f"{spec.name}/{hook['name']}: the stored secret is not the one the API uses"
            )


def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Millisecond backoff, so that retried faults keep the suite fast (the waits themselves are tested in
    tests/providers/test_http.py), and fresh connection pools and rate limiters."""
    monkeypatch.setattr(http, "RetryPolicy", functools.partial(http.RetryPolicy, base_delay=0.005, max_delay=0.02))
    close_all()
