"""Fleets (contract §2.1): `defaults`, `webhook_sets`, an organization's `use` and `vars`, and `${var:NAME}`.

Expanded on the parsed documents before `${env:}` interpolation, so everything after it (interpolation and
masking, the schema, the provider rules, the planner) treats a set's member exactly like a webhook the
organization wrote itself. Each copy remembers where it was written (`Document.foreign`), so a problem in it
points at the set member (or the default) and names the organization it was copied into.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.errors import Problem
from reconciler.manifest.interpolate import container, has_step
from reconciler.manifest.yamlload import Document, Mark, Origin, Path, YMap, YSeq

# `$${` is matched first so that `$${var:x}` stays literal text (the `${env:}` pass turns `$${` into `${`).
_VAR = re.compile(r"\$\$\{|\$\{var:([A-Za-z_][A-Za-z0-9_]*)\}")
# The organization keys `defaults` may give, with the values the schema allows (anything else is left for
# the schema to report once, at `defaults`, rather than once per organization).
_DEFAULT_FIELDS: dict[str, Callable[[Any], bool]] = {
    "secret_store": lambda value: isinstance(value, str),
    "prune": lambda value: isinstance(value, bool),
    "unmanaged": lambda value: value in ("report", "ignore"),
}
_FLEET_KEYS = ("defaults", "webhook_sets")


@dataclass(frozen=True)
class _Set:
    doc: Document
    name: str
    members: YSeq | None  # None: not a list (the schema reports it)
    # Per member, where inside it the strings holding `${` are: the only values a copy must not share.
    templated: dict[int, list[Path]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Defaults:
    doc: Document
    values: YMap


@dataclass
class _State:
    """What one expansion learns and reports across every document."""

    defaults: _Defaults | None
    sets: dict[str, _Set]
    problems: list[Problem] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    reported: set[Path] = field(default_factory=set)  # `defaults.use` items already reported


def expand(docs: list[Document]) -> tuple[list[Problem], list[Problem]]:
    """Expand every organization of `docs` in place; the problems and the warnings (unused sets)."""
    problems: list[Problem] = []
    state = _State(_find_defaults(docs, problems), _find_sets(docs, problems), problems)
    for doc in docs:
        orgs = doc.data.get("organizations")
        if isinstance(orgs, YSeq):
            org_vars: dict[int, tuple[str, dict[str, str | None]]] = {}
            for index, org in enumerate(orgs):
                if type(org) is YMap:
                    org_vars[index] = _expand_org(doc, index, orgs.marks[index], org, state)
            _substitute_vars(doc, org_vars, problems)
        if any(key in doc.data for key in _FLEET_KEYS) or doc.foreign or _has_vars(doc):
            # Variables' values and the sets as written are read through their copies only: interpolating
            # them in place would report an unset variable twice (there, and in the copy).
            doc.templated[:] = [path for path in doc.templated if not _is_source(path)]
    warnings = [
        found.doc.problem(
            ("webhook_sets", name), f"webhook set '{name}' is not used by any organization", key=True, where=()
        )
        for name, found in state.sets.items()
        if name not in state.used
    ]
    return problems, warnings


def _has_vars(doc: Document) -> bool:
    orgs = doc.data.get("organizations")
    return isinstance(orgs, YSeq) and any(type(org) is YMap and "vars" in org for org in orgs)


def _is_source(path: Path) -> bool:
    return path[0] in _FLEET_KEYS or (len(path) > 2 and path[0] == "organizations" and path[2] == "vars")


def _find_defaults(docs: list[Document], problems: list[Problem]) -> _Defaults | None:
    found: _Defaults | None = None
    for doc in docs:
        if "defaults" not in doc.data:
            continue
        if found is not None:
            message = f"defaults is already defined at {found.doc.location(('defaults',), key=True)}"
            problems.append(doc.problem(("defaults",), message, key=True, where=()))
            continue
        values = doc.data["defaults"]
        found = _Defaults(doc, values if type(values) is YMap else YMap())
    return found


def _find_sets(docs: list[Document], problems: list[Problem]) -> dict[str, _Set]:
    sets: dict[str, _Set] = {}
    for doc in docs:
        declared = doc.data.get("webhook_sets")
        if type(declared) is not YMap:
            continue
        for name, members in declared.items():
            path: Path = ("webhook_sets", name)
            if name in sets:
                first = sets[name].doc.location(path, key=True)
                message = f"webhook set '{name}' is already defined at {first}"
                problems.append(doc.problem(path, message, key=True, where=()))
                continue
            sets[name] = _Set(doc, name, members if type(members) is YSeq else None)
    for doc in docs:  # read before any document's own templated list is trimmed (see `expand`)
        for path in doc.templated:
            if path[0] == "webhook_sets" and len(path) > 3 and type(path[2]) is int:
                found = sets.get(str(path[1]))
                if found is not None and found.doc is doc:
                    found.templated.setdefault(path[2], []).append(path[3:])
    return sets


def _expand_org(doc: Document, index: int, mark: Mark, org: YMap, state: _State) -> tuple[str, dict[str, str | None]]:
    """Give the org its defaults and the copies of its sets' members; its name and variables."""
    path: Path = ("organizations", index)
    name = org["name"] if type(org.get("name")) is str else f"#{index + 1}"
    defaults = state.defaults
    variables: dict[str, str | None] = {}
    if defaults is not None:
        _apply_defaults(doc, path, org, name, defaults)
        variables.update(_variables(defaults.values.get("vars")))
    variables.update(_variables(org.get("vars")))
    if "use" in org:
        _use_sets(doc, path, mark, org, name, (doc, (*path, "use"), org["use"]), state)
    elif defaults is not None and "use" in defaults.values:
        _use_sets(doc, path, mark, org, name, (defaults.doc, ("defaults", "use"), defaults.values["use"]), state)
    return name, variables


def _variables(raw: Any) -> dict[str, str | None]:
    """A `vars` mapping's values; None for a value that is not text (the schema reports it)."""
    if type(raw) is not YMap:
        return {}
    return {key: value if isinstance(value, str) else None for key, value in raw.items()}


def _apply_defaults(doc: Document, path: Path, org: YMap, name: str, defaults: _Defaults) -> None:
    for key, acceptable in _DEFAULT_FIELDS.items():
        if key in org or key not in defaults.values or not acceptable(value := defaults.values[key]):
            continue
        org[key] = value
        org.key_marks[key] = defaults.values.key_marks[key]
        org.value_marks[key] = defaults.values.value_marks[key]
        doc.foreign[(*path, key)] = Origin(defaults.doc.file, ("defaults", key), name)
        if isinstance(value, str) and "${" in value:
            doc.templated.append((*path, key))


def _use_sets(
    doc: Document,
    path: Path,
    mark: Mark,
    org: YMap,
    name: str,
    reference: tuple[Document, Path, Any],
    state: _State,
) -> None:
    """Append a copy of each member of each set the org uses to its webhooks, in the order written."""
    ref_doc, ref_path, names = reference
    if type(names) is not YSeq:
        return  # the schema reports it
    hooks = org.get("webhooks")
    if hooks is None and "webhooks" not in org:
        hooks = org["webhooks"] = YSeq()
        org.key_marks["webhooks"] = org.value_marks["webhooks"] = mark
    if type(hooks) is not YSeq:
        return
    for position, set_name in enumerate(names):
        if not isinstance(set_name, str):
            continue
        found = state.sets.get(set_name)
        if found is None:
            _unknown_set(ref_doc, (*ref_path, position), set_name, name, state)
            continue
        state.used.add(set_name)
        if found.members is None:
            continue
        for member_index, member in enumerate(found.members):
            if type(member) is not YMap:
                continue
            copy_path = (*path, "webhooks", len(hooks))
            doc.foreign[copy_path] = Origin(found.doc.file, ("webhook_sets", set_name, member_index), name)
            inner = found.templated.get(member_index, ())
            hooks.append(_copy(member, inner))
            hooks.marks.append(found.members.marks[member_index])
            doc.templated.extend((*copy_path, *step) for step in inner)
            if found.doc.broken:  # a value the loader refused (yes/no) stays refused, and is not reported again
                source = ("webhook_sets", set_name, member_index)
                doc.broken.update((*copy_path, *bad[3:]) for bad in found.doc.broken if bad[:3] == source)


def _unknown_set(doc: Document, place: Path, set_name: str, org: str, state: _State) -> None:
    if place[0] == "defaults":
        if place in state.reported:
            return
        state.reported.add(place)
    known = ", ".join(sorted(state.sets)) or "none is defined"
    whose = "" if place[0] == "defaults" else f" (organization '{org}')"
    message = f"unknown webhook set '{set_name}'{whose}; defined sets: {known}"
    state.problems.append(doc.problem(place, message, where=place[:-1]))


def _copy(member: YMap, templated: Sequence[Path]) -> YMap:
    """A copy of a set's member that an org may change: the containers holding its strings with `${` (which
    interpolation replaces per org) are copied, everything else is shared, marks included. Nothing after
    expansion changes a value in place except interpolation, so sharing the rest is safe, and it keeps a
    fleet of 10,000 webhooks as cheap to load as the same webhooks written out."""
    top: YMap = _shallow(member)
    copied = {id(top)}
    for inner in templated:
        node: Any = top
        for step in inner[:-1]:
            child = node[step]
            if id(child) not in copied:
                node[step] = child = _shallow(child)
                copied.add(id(child))
            node = child
    return top


def _shallow(value: Any) -> Any:
    if type(value) is YMap:
        mapping = YMap()
        dict.update(mapping, value)
        mapping.key_marks = value.key_marks
        mapping.value_marks = value.value_marks
        return mapping
    sequence = YSeq()
    sequence.extend(value)
    sequence.marks = value.marks
    return sequence


def _substitute_vars(
    doc: Document, org_vars: dict[int, tuple[str, dict[str, str | None]]], problems: list[Problem]
) -> None:
    """Replace `${var:NAME}` in every webhook string of every org (own webhooks and copies alike)."""
    for path in doc.templated:
        if len(path) < 5 or path[0] != "organizations" or path[2] != "webhooks" or type(path[1]) is not int:
            continue
        parent = container(doc.data, path[:-1])
        step = path[-1]
        if parent is None or not has_step(parent, step) or type(text := parent[step]) is not str:
            continue
        if "${var:" not in text:
            continue
        name, variables = org_vars.get(path[1], ("", {}))
        parent[step], missing = _replace(text, variables)
        for var in missing:
            doc.broken.add(path)
            if var not in variables:  # else a value that is not text, which the schema reports at `vars`
                message = f"variable '{var}' is not defined: neither organization '{name}' nor defaults.vars sets it"
                problems.append(doc.problem(path, message, where=path))


def _replace(text: str, variables: dict[str, str | None]) -> tuple[str, list[str]]:
    """`text` with its variables replaced, and the names of those without a text value."""
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        var = match.group(1)
        if var is None:
            return match.group(0)  # `$${`: left for the ${env:} pass, which makes it a literal `${`
        value = variables.get(var)
        if value is None:
            missing.append(var)
            return ""
        return value

    return _VAR.sub(replace, text), list(dict.fromkeys(missing))


_ORG_ORDER = ("name", "provider", "base_url", "token", "secret_store", "prune", "unmanaged")
_CONSUMED = frozenset({"use", "vars", "webhooks"})  # the org keys that expansion turned into webhooks


def rendered(docs: list[Document]) -> dict[str, Any]:
    """The expanded manifest as one plain document (`reconciler render`): every org with its full webhook
    list and its defaults, nothing of `defaults`, `webhook_sets` or `${var:}` left. Run on documents that
    `expand` has seen but `${env:}` interpolation has not, so references stay as written, never values."""
    stores: dict[str, Any] = {}
    policy: Any = None
    orgs: list[Any] = []
    for doc in docs:
        if type(doc.data.get("secret_stores")) is YMap:
            stores.update(doc.data["secret_stores"])
        policy = doc.data.get("policy", policy)
        if type(doc.data.get("organizations")) is YSeq:
            orgs.extend(_rendered_org(org) for org in doc.data["organizations"])
    result: dict[str, Any] = {"version": 1}
    if stores:
        result["secret_stores"] = _plain(stores)
    if policy is not None:
        result["policy"] = _plain(policy)
    result["organizations"] = orgs
    return result


def _rendered_org(org: Any) -> Any:
    if type(org) is not YMap:
        return _plain(org)
    keys = [key for key in _ORG_ORDER if key in org] + [key for key in org if key not in _ORG_ORDER]
    result = {key: _plain(org[key]) for key in keys if key not in _CONSUMED}
    result["webhooks"] = _plain(org.get("webhooks") or [])
    return result


def _plain(value: Any) -> Any:
    """Plain dicts and lists, which yaml.safe_dump writes (it refuses subclasses)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
