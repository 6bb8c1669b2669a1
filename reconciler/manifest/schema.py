"""Validate a parsed document against schemas/manifest.schema.json; errors become located problems."""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Any

from reconciler.core.errors import Problem
from reconciler.manifest.yamlload import Document, Path

if TYPE_CHECKING:
    from jsonschema import ValidationError  # type: ignore[import-untyped]

# reconciler/schemas links to the top-level schemas/ (contract §1) and is shipped as package data.
MANIFEST_SCHEMA_PATH = FilePath(__file__).parents[1] / "schemas" / "manifest.schema.json"

_TYPE_NAMES = {
    "string": "text",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
    "array": "a list",
    "object": "a mapping",
}
_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "default", "examples", "errorMessage"})
_Check = Callable[[Any], bool]


@functools.cache
def _published() -> dict[str, Any]:
    with MANIFEST_SCHEMA_PATH.open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


_INTERPOLATED = {"$ref": "#/$defs/interpolated"}


@functools.cache
def _inlined() -> dict[str, Any]:
    """The schema the tool checks a document against, once `${env:}` references are replaced (contract §2: in
    any string value). The published schema, for files as written, lets a field hold a reference instead
    of its value (`anyOf: [rule, interpolated]`); here the value itself must follow the rule. A token is
    any text here: that it came from a reference is checked by the rules (manifest/rules.py)."""
    published = _published()
    defs = {**published["$defs"], "reference": {"type": "string"}}
    inlined: dict[str, Any] = _inline(published, defs)
    # A set's members are judged in each copy an organization gets (manifest/fleet.py), once its ${var:}
    # are replaced; as written they need only be a list of mappings.
    inlined["properties"]["webhook_sets"]["additionalProperties"] = {"type": "array", "items": {"type": "object"}}
    return inlined


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with each `$ref` replaced by its target: jsonschema resolves a `$ref` per value,
    which doubled validation time. The schema's `$ref`s carry only annotations beside them."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("anyOf", [None, None])[1:] == [_INTERPOLATED]:
        rule = _inline(node["anyOf"][0], defs)
        return {**rule, **{key: value for key, value in node.items() if key != "anyOf"}}
    if "$ref" in node:
        target = _inline(defs[node["$ref"].removeprefix("#/$defs/")], defs)
        return {**target, **{key: value for key, value in node.items() if key != "$ref"}}
    return {key: _inline(value, defs) for key, value in node.items() if key != "$defs"}


# --- the fast path -----------------------------------------------------------------------------------
# A schema compiled into one predicate: True exactly when jsonschema would find no error. It knows the
# keywords the manifest schema uses, with jsonschema's semantics (a keyword ignores values of other
# types; `const`/`enum` never take True for 1); `_compile` gives None for anything else, and a None
# anywhere below makes the whole schema uncompiled, so jsonschema decides there. A valid manifest is
# then judged without importing jsonschema (5x faster on 10,000 webhooks); an invalid part is handed
# to jsonschema, so every message is still jsonschema's finding. tests/manifest/test_schema.py checks
# that both judge every value of every bad case alike.

_TYPES: dict[str, type] = {"string": str, "boolean": bool, "array": list, "object": dict}


def _always(value: Any) -> bool:
    return True


def _all_of(checks: list[_Check]) -> _Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:  # the common case (a type and a rule), without a loop: it runs for every value
        first, second = checks
        return lambda value: first(value) and second(value)
    return lambda value: all(one(value) for one in checks)


def _equals(expected: Any) -> _Check | None:
    """jsonschema's `equal` for a scalar: bools match only themselves, and no bool matches 1 or 0."""
    if isinstance(expected, bool):
        return lambda value: value is expected
    if expected is None or isinstance(expected, str | int | float):
        return lambda value: value is not True and value is not False and value == expected
    return None


def _string_check(schema: dict[str, Any]) -> _Check:
    """`type: string` with `pattern`/`minLength` in one test: the manifest's most frequent schema."""
    shortest: int = schema.get("minLength", 0)
    if "pattern" not in schema:
        return lambda value: isinstance(value, str) and len(value) >= shortest
    search = re.compile(schema["pattern"]).search
    return lambda value: isinstance(value, str) and len(value) >= shortest and search(value) is not None


def _object_check(schema: dict[str, Any]) -> _Check | None:
    """`properties`, `additionalProperties` and `required` together: one pass over the keys."""
    properties: dict[str, _Check] = {}
    for name, subschema in schema.get("properties", {}).items():
        check = _compile(subschema)
        if check is None:
            return None
        properties[name] = check
    extra = schema.get("additionalProperties", True)
    other = None if extra is False else _compile(extra)
    if other is None and extra is not False:
        return None
    required = frozenset(schema.get("required", ()))

    def check_object(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for name, item in value.items():
            check = properties.get(name, other)
            if check is None or not check(item):
                return False
        return required <= value.keys()

    return check_object


def _keyword_check(keyword: str, argument: Any, schema: dict[str, Any]) -> _Check | None:
    """One keyword (of those not handled together by `_object_check`) as a predicate, or None."""
    if keyword == "type" and isinstance(argument, str) and argument in _TYPES:
        kind = _TYPES[argument]
        return lambda value: isinstance(value, kind)
    if keyword == "enum" and all(isinstance(choice, str) for choice in argument):
        choices = frozenset(argument)
        return lambda value: isinstance(value, str) and value in choices
    if keyword == "const":
        return _equals(argument)
    if keyword == "items" and "prefixItems" not in schema:
        item = _compile(argument)
        return None if item is None else lambda value: not isinstance(value, list) or all(map(item, value))
    if keyword == "propertyNames":
        name = _compile(argument)
        return None if name is None else lambda value: not isinstance(value, dict) or all(map(name, value))
    if keyword == "allOf":
        parts = [_compile(part) for part in argument]
        return None if None in parts else _all_of([part for part in parts if part is not None])
    if keyword == "not":
        inner = _compile(argument)
        return None if inner is None else lambda value: not inner(value)
    if keyword == "if":
        condition, then, otherwise = (_compile(schema.get(key, True)) for key in ("if", "then", "else"))
        if condition is None or then is None or otherwise is None:
            return None
        return lambda value: then(value) if condition(value) else otherwise(value)
    return None


_OBJECT_KEYWORDS = frozenset({"properties", "additionalProperties", "required"})
_STRING_KEYWORDS = frozenset({"type", "pattern", "minLength"})


def _compile(schema: Any) -> _Check | None:
    """A predicate equivalent to validating against `schema`, or None when it uses other keywords."""
    if schema is True:
        return _always
    if not isinstance(schema, dict):
        return None
    rules = {key: value for key, value in schema.items() if key not in _ANNOTATIONS}
    if rules.get("type") == "string" and rules.keys() <= _STRING_KEYWORDS:
        return _string_check(rules)
    checks: list[_Check] = []
    if rules.keys() & _OBJECT_KEYWORDS:
        if "patternProperties" in rules:
            return None
        check = _object_check(rules)
        if check is None:
            return None
        checks.append(check)
    for keyword, argument in rules.items():
        if keyword in _OBJECT_KEYWORDS or keyword in ("then", "else"):
            continue
        check = _keyword_check(keyword, argument, rules)
        if check is None:
            return None
        checks.insert(len(checks) if keyword != "type" else 0, check)  # the cheap type test first
    return _all_of(checks)


@functools.cache
def _document_check() -> _Check | None:
    return _compile(_inlined())


_COMPILED: dict[int, _Check | None] = {}


def _checked(schema: Any, value: Any) -> bool:
    """True when `value` is surely valid against `schema`, so jsonschema need not descend."""
    key = id(schema)  # the validator's schema lives as long as the process: ids stay valid
    if key not in _COMPILED:
        _COMPILED[key] = _compile(schema)
    check = _COMPILED[key]
    return check is not None and check(value)


def _properties(validator: Any, properties: dict[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
    """jsonschema's `properties`, minus a descent (which builds a validator) for values the fast path
    accepts. Any failure still descends for jsonschema's error."""
    if not isinstance(instance, dict):
        return
    for name, subschema in properties.items():
        if name in instance and not _checked(subschema, instance[name]):
            yield from validator.descend(instance[name], subschema, path=name, schema_path=name)


def _items(validator: Any, items: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """jsonschema's `items` (2020-12, without prefixItems), with the same shortcut."""
    if not isinstance(instance, list):
        return
    for index, item in enumerate(instance):
        if not _checked(items, item):
            yield from validator.descend(item, items, path=index)


@functools.cache
def _validator() -> Any:
    """One validator for every file of a run with a problem (building it is the expensive part).
    jsonschema is imported only here: a valid manifest never needs it."""
    from jsonschema import Draft202012Validator, validators

    fast = validators.extend(Draft202012Validator, {"properties": _properties, "items": _items})
    return fast(_inlined())


@functools.cache
def name_pattern() -> str:
    pattern: str = _published()["$defs"]["name"]["anyOf"][0]["pattern"]
    return pattern


def check_schema(doc: Document) -> tuple[list[Problem], set[Path]]:
    """Every schema error of `doc` as a problem, and the paths of the values they are about."""
    problems: list[Problem] = []
    paths: set[Path] = set()
    fast = _document_check()
    if fast is not None and fast(doc.data):
        return problems, paths
    for error in _validator().iter_errors(doc.data):
        path: Path = tuple(error.absolute_path)
        if path in doc.broken:  # already reported (a yes/no, an unsupported tag)
            continue
        paths.add(path)
        problems.extend(_problems(doc, path, error))
    return problems, paths


def _subject(path: Path, doc: Document) -> str:
    """How a message names the value: by field name, or not at all for a list item (its path says); and
    which variable it came from, since its value is never shown."""
    subject = f"'{path[-1]}' " if path and isinstance(path[-1], str) else ""
    if path in doc.refs:
        subject += f"(from {', '.join('${env:' + name + '}' for name in doc.refs[path])}) "
    return subject


def _problems(doc: Document, path: Path, error: ValidationError) -> list[Problem]:
    kind = error.validator
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    if "propertyNames" in error.absolute_schema_path:  # the instance is the offending key
        return [doc.problem((*path, instance), f"name '{instance}' {_name_rule(instance, schema)}", key=True)]
    if kind == "additionalProperties" and error.validator_value is False:
        allowed = sorted(schema.get("properties", {}))
        return [
            doc.problem((*path, key), f"unknown field '{key}'{_suggest(key, allowed)}", key=True, where=path)
            for key in instance
            if key not in schema.get("properties", {})
        ]
    if kind == "required":
        return [
            doc.problem(path, f"missing required field '{key}'", where=path)
            for key in error.validator_value
            if key not in instance
        ]
    return [doc.problem(path, f"{_subject(path, doc)}{_rule(kind, error, schema, instance, doc, path)}")]


def _rule(kind: Any, error: ValidationError, schema: dict[str, Any], instance: Any, doc: Document, path: Path) -> str:
    if kind == "type":
        expected = _TYPE_NAMES.get(str(error.validator_value), str(error.validator_value))
        return f"must be {expected}" + (" (it is empty)" if instance is None else "")
    if kind == "enum":
        choices = [str(choice) for choice in error.validator_value]
        # No "did you mean" for a value from the environment: it would show what the value nearly is.
        hint = "" if path in doc.refs else _suggest(str(instance), choices)
        return f"must be one of: {', '.join(choices)}" + hint
    if kind == "const":
        return f"must be {json.dumps(error.validator_value)}"
    if kind == "pattern":
        return _name_rule(instance, schema)
    if kind in ("minLength", "minItems"):
        return "must not be empty"
    if kind == "not":
        parent = doc.value_at(path[:-1])
        store_type = parent.get("type") if isinstance(parent, dict) else None
        return f"does not apply to a {store_type} store" if store_type else "is not allowed here"
    # A rule this mapping does not know: name it, but never echo the value (it may be a secret).
    return f"does not satisfy the schema rule '{kind}'"


def _name_rule(instance: Any, schema: dict[str, Any]) -> str:
    if schema.get("pattern") == name_pattern() and isinstance(instance, str) and instance.startswith("_"):
        return "is reserved: names starting with '_' are kept for the tool's own records"
    message: str = schema.get("errorMessage", f"must match {schema.get('pattern')}")
    return message


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
