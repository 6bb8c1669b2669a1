"""The manifest `reconciler import` writes for an account's live webhooks: adopting them replaces nothing,
and nothing a vendor console let someone write can act as an instruction (`${`) or pass for lines of its own."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import yaml

from reconciler.core.capabilities import Capabilities
from reconciler.core.model import NAME_PATTERN, LiveWebhook
from reconciler.core.neutral import terminal, text
from reconciler.core.redact import mask_userinfo
from reconciler.core.urls import url_host, url_path


def manifest_text(
    org: str,
    provider: str,
    base_url: str,
    token_env: str,
    store: str | None,
    caps: Capabilities,
    live: list[LiveWebhook],
) -> str:
    doc: dict[str, Any] = {"version": 1}
    if store:
        doc["secret_stores"] = {store: {"type": "keyring"}}
    entry: dict[str, Any] = {"name": org, "provider": provider, "base_url": base_url, "token": f"${{env:{token_env}}}"}
    if store:
        entry["secret_store"] = store
    # Identity rule 2 finds a webhook by its label: a name is a label only for the one webhook that has it. A
    # label two webhooks share names neither (it would find both), and no other name may be any live label.
    labels = Counter(w.label for w in live if w.label)
    kept = {label for label, count in labels.items() if count == 1 and NAME_PATTERN.match(label)}
    taken = set(labels)
    ordered = sorted(live, key=lambda w: (w.label or w.url, w.id))
    pairs = [(w, webhook_entry(org, w, caps, kept, taken)) for w in ordered]
    entry["webhooks"] = [declared for _, declared in pairs]
    doc["organizations"] = [entry]
    header = (
        f"# Imported by `reconciler import` from {provider}: {len(live)} webhook(s).\n"
        "# Their signing secrets were never shown again by the API: `reconciler drift` reports them as\n"
        "# missing until `reconciler rotate` stores new ones.\n"
    )
    credentials = [declared for _, declared in pairs if declared["url"].startswith("${env:")]
    if credentials:
        names = ", ".join(credential_variable(org, d["name"]) for d in credentials)
        header += (
            f"# {len(credentials)} URL(s) carry credentials (`user:password@`), which are never printed: set {names}\n"
            "# to each webhook's full URL before planning (read them from the provider's console).\n"
        )
    if caps.label_field:
        # The label field carries the name (identity rule 2), so a label that is no valid name, or that two
        # webhooks share, cannot be kept.
        relabelled = sum(1 for w, declared in pairs if w.label != declared["name"])
        if relabelled:
            header += (
                f"# {relabelled} webhook(s) get a new name here (their `{caps.label_field}` was missing, not a valid\n"
                f"# name, or shared): the first apply sets their `{caps.label_field}` to it, an update in place.\n"
            )
    silent = sum(1 for w in live if w.events is not None and not w.events and caps.events is not None)
    if silent:
        header += (
            f"# {silent} webhook(s) are subscribed to no event, which a manifest cannot declare: they are written\n"
            "# here with every event; the first apply subscribes them (add `events` to choose fewer).\n"
        )
    return header + dump(doc)


class _ImportDumper(yaml.SafeDumper):
    """YAML for a terminal too: a string with a character that is not printable (a line break, an escape
    sequence, a bidi override written by whoever edited the webhook) is double-quoted, where YAML writes it
    as an escape, never folded over lines, and read back as the same value."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=None if text(value) == value else '"')


_ImportDumper.add_representer(str, _represent_str)


def dump(doc: dict[str, Any]) -> str:
    options: dict[str, Any] = {"Dumper": _ImportDumper, "sort_keys": False, "default_flow_style": False}
    out: str = yaml.dump(doc, allow_unicode=True, width=_NO_FOLDING, **options)
    if terminal(out) != out:
        # Even double-quoted, PyYAML writes format characters (U+202E...) raw when allowed Unicode: then every
        # character outside ASCII is escaped instead.
        out = yaml.dump(doc, allow_unicode=False, width=_NO_FOLDING, **options)
    return out


_NO_FOLDING = 1 << 30  # one line per value: a long one folded over lines could pass for lines of its own


def webhook_entry(org: str, w: LiveWebhook, caps: Capabilities, kept: set[str], taken: set[str]) -> dict[str, Any]:
    name = unique_name(w, kept, taken)
    # A URL with credentials becomes an env reference: output never shows them, and a masked URL in the
    # manifest would not match the live one.
    url = f"${{env:{credential_variable(org, name)}}}" if mask_userinfo(w.url) != w.url else literal(w.url)
    entry: dict[str, Any] = {"name": name, "url": url}
    # A webhook subscribed to no event (where `[]` is not "every event") cannot be declared as it is: it is
    # imported with every event (no `events`), and the file's header says so.
    if caps.events is not None and w.events:
        entry["events"] = sorted(literal(event) for event in w.events)
    if caps.pausable and not w.active:
        entry["active"] = False
    if caps.has_description and w.description:
        entry["description"] = literal(w.description)
    if "verify_tls" in caps.options and w.verify_tls is False:
        entry["verify_tls"] = False
    return entry


def literal(value: str) -> str:
    """A live value as manifest text that reads back as itself: `${` written `$${`. Anyone who can edit a webhook
    in a vendor console could otherwise plant `${env:NAME}`, and the next plan in CI would fill in NAME and
    send it to the provider (and, in a URL, to the receiver with every event)."""
    return value.replace("${", "$${")


def credential_variable(org: str, webhook: str) -> str:
    """An environment variable name for a URL's credentials: `${env:NAME}` takes [A-Za-z_][A-Za-z0-9_]*, and an
    org's name may start with a digit."""
    name = re.sub(r"[^A-Z0-9]+", "_", f"{org}_{webhook}_URL".upper())
    return f"_{name}" if name[0].isdigit() else name


def unique_name(w: LiveWebhook, kept: set[str], taken: set[str]) -> str:
    """The webhook's label when it keeps it (`kept`: valid names no other webhook has; identity rule 2 then
    holds); else one from the URL, unlike any name in `taken` (every live label, and the names given)."""
    if w.label in kept:
        return w.label
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{url_host(w.url) or 'webhook'}{url_path(w.url)}").strip("-._")
    base = (slug or "webhook")[:56]
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name
