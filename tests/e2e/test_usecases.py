"""The use cases (reconciler/engine/usecases.py) driven from Python, without argparse or a terminal: what a
command does is one call, and the terminal's part of apply is an ApplyUI the caller gives."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from reconciler.core.model import Manifest
from reconciler.core.plan import Create, Plan
from reconciler.engine import usecases
from reconciler.manifest import load_manifests
from tests.e2e.test_lifecycle import hook
from tests.e2e.world import World


@dataclass
class RecordingUI:
    answer: bool = True
    calls: list[str] = field(default_factory=list)

    def notice(self, line: str) -> None:
        self.calls.append(f"notice: {line}")

    def planned(self, plan: Plan) -> None:
        self.calls.append(f"planned {len(plan.changes)}")

    def show(self, plan: Plan) -> None:
        self.calls.append("show")

    def confirm(self, plan: Plan) -> bool:
        self.calls.append("confirm")
        return self.answer

    @contextlib.contextmanager
    def applying(self, plan: Plan, orgs: int) -> Iterator[None]:
        self.calls.append(f"applying {orgs}")
        yield


def manifest(world: World) -> Manifest:
    orgs = [world.org(f"acme-{p}", p, [hook(p)]) for p in ("ingate", "keeptrusts")]
    return load_manifests([str(world.write(orgs))])


def test_plan_apply_and_drift_as_function_calls(world: World) -> None:
    loaded = manifest(world)
    everything = usecases.Selection()
    plan = usecases.plan(loaded, everything, saved=False)
    assert [type(c) for c in plan.changes] == [Create, Create]

    declined = RecordingUI(answer=False)
    result = usecases.apply(loaded, declined, usecases.ApplyOptions(), orgs=everything.of(loaded))
    assert result.cancelled and result.report is None
    assert declined.calls == ["planned 2", "show", "confirm"]
    assert world.live("ingate", "acme-ingate") == []  # nothing was sent

    ui = RecordingUI()
    result = usecases.apply(loaded, ui, usecases.ApplyOptions(), orgs=everything.of(loaded))
    assert result.report is not None and len(result.report.applied) == 2
    assert result.verification is not None and not result.verification.changes  # converged
    assert ui.calls == ["planned 2", "show", "confirm", "applying 2"]
    assert world.stored("acme-ingate", "alerts") is not None

    report = usecases.drift(loaded, usecases.Selection(orgs=["acme-*"]))
    assert report.exit_code() == 0
    assert not usecases.plan(loaded, everything, saved=False).has_changes
