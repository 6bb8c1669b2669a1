"""What each provider's API can do. Validation, planner and applier read this; never provider names.

Kept as plain data, apart from the adapters, so `validate` needs no HTTP stack.
"""

from __future__ import annotations

from reconciler.core.capabilities import Capabilities

INGATE = Capabilities(
    name="ingate",
    default_base_url="https://api.ingateai.com",
    events=frozenset(
        "key.create key.revoke key.rotate user.invite user.role_change user.remove "
        "budget.warning budget.exceeded app.create app.delete".split()
    ),
    empty_events_means_all=True,
    label_field=None,
    has_description=False,
    pausable=True,
    client_secret="never",
    rotate_in_place=False,
    test="none",
    deliveries=False,
    https_only=True,
    options=frozenset(),
    requests_per_minute=None,
)

INFRAAUDIT = Capabilities(
    name="infraaudit",
    default_base_url="https://api.infraaudit.dev",
    events=frozenset(
        "drift.detected drift.resolved alert.created vulnerability.found compliance.violation "
        "cost.anomaly job.completed remediation.completed ping".split()
    ),
    empty_events_means_all=False,
    label_field="name",
    has_description=False,
    pausable=True,
    client_secret="never",
    rotate_in_place=False,
    test="webhook",
    deliveries=True,
    https_only=True,
    options=frozenset(),
    requests_per_minute=None,
)

KEEPTRUSTS = Capabilities(
    name="keeptrusts",
    default_base_url=None,  # per-tenant URL: base_url is required
    events=frozenset(
        "event.created event.blocked event.allowed event.redacted escalation.created "
        "escalation.resolved export.completed gateway.health_changed budget.threshold_reached "
        "config.deployed configuration.updated configuration.deployed".split()
    ),
    empty_events_means_all=True,
    label_field="name",
    has_description=False,
    pausable=True,
    client_secret="optional",
    rotate_in_place=True,
    test="webhook",
    deliveries=True,
    https_only=True,
    options=frozenset(),
    requests_per_minute=None,
)

IMMUTA = Capabilities(
    name="immuta",
    default_base_url="https://na.api.immutacloud.com/marketplace",
    events=None,
    empty_events_means_all=True,
    label_field=None,
    has_description=False,
    pausable=False,
    client_secret="required",
    rotate_in_place=True,
    test="all",
    deliveries=False,
    https_only=False,
    options=frozenset({"verify_tls"}),
    requests_per_minute=None,
    api_hosts=frozenset({"eu.api.immutacloud.com", "ap.api.immutacloud.com"}),  # the EU and AP regions
)

ENCRATA = Capabilities(
    name="encrata",
    default_base_url="https://encrata.com",
    events=frozenset("lookup.completed apikey.created apikey.revoked credits.low credits.exhausted".split()),
    empty_events_means_all=False,
    label_field=None,
    has_description=True,
    pausable=True,
    client_secret="never",
    rotate_in_place=False,
    test="webhook",
    deliveries=True,
    https_only=True,
    options=frozenset(),
    requests_per_minute=30,
    one_webhook_per_url=True,
    api_hosts=frozenset({"api.encrata.com"}),  # the vendor SDK's default (CODE); the docs use encrata.com
)

BUILTIN: tuple[Capabilities, ...] = (INGATE, INFRAAUDIT, KEEPTRUSTS, IMMUTA, ENCRATA)
PROVIDER_NAMES: tuple[str, ...] = tuple(c.name for c in BUILTIN)  # the built-in five; plugins may add more
