"""Parse one YAML file into plain values that remember where each value was written.

PyYAML keeps the last of two duplicate keys and reads `no`/`on` as booleans without a word; both are
reported here instead, so a manifest never silently means something else than it says.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.core.errors import Problem

try:
    _BASE_LOADER: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml absent: several times slower, same result
    _BASE_LOADER = yaml.SafeLoader

Mark: TypeAlias = tuple[int, int]  # 1-based line and column
Step: TypeAlias = str | int
Path: TypeAlias = tuple[Step, ...]

_TAG = "tag:yaml.org,2002:"
_STR, _TIMESTAMP, _BOOL, _INT, _FLOAT, _NULL, _MERGE, _SEQ, _MAP = (
    _TAG + name for name in ("str", "timestamp", "bool", "int", "float", "null", "merge", "seq", "map")
)
# YAML 1.1 reads these as booleans (PyYAML all but y/n, other tools all of them): refuse them unquoted.
_YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
# Far beyond a real manifest (200 orgs x 50 webhooks is 150,000 values), far below an alias bomb.
_MAX_VALUES = 1_000_000
# Aliases and merge keys share one budget: every value made again by reusing an anchor counts each time,
# and so does every mapping a merge key reads (an empty one too), so it bounds the work, not only the
# values kept. Reusing a 10-value anchor in each of 10,000 webhooks is 100,000; a 430-byte merge-key bomb
# reaches the limit in about a quarter of a second instead of growing ninefold per line.
_MAX_EXPANDED = 200_000
_MAX_DEPTH = 100  # levels of nesting, merges included (a mapping that merges itself would never end)


# The SafeLoader's implicit resolvers (how a plain scalar gets its tag), by first character.
_RESOLVERS: dict[str, tuple[tuple[str, Any], ...]] = {
    first: tuple(resolvers) for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items() if first
} | {"": tuple(yaml.SafeLoader.yaml_implicit_resolvers.get("", ()))}


class _Loader(_BASE_LOADER):  # type: ignore[misc]
    """The safe loader with a lean resolver: the composer asks it for every node's tag, and PyYAML's
    general one (path resolvers, wildcards, neither of which the safe loader has) took half the
    composing time. Same tags: tests/manifest/test_loading.py compares them with PyYAML's."""

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                for tag, regexp in _RESOLVERS.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """Only path resolvers need the composer's position; there are none."""

    def ascend_resolver(self) -> None:
        """See `descend_resolver`."""


class YMap(dict[str, Any]):
    """A mapping that remembers where each of its keys and values starts."""

    __slots__ = ("key_marks", "value_marks")

    def __init__(self) -> None:
        super().__init__()
        self.key_marks: dict[str, Mark] = {}
        self.value_marks: dict[str, Mark] = {}


class YSeq(list[Any]):
    """A list that remembers where each of its items starts."""

    __slots__ = ("marks",)

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[Mark] = []


@dataclass(frozen=True)
class Origin:
    """Where a value copied into an organization by a fleet feature (a webhook set's member, a default) was
    written: messages about the copy point there and name the organization it was copied into."""

    file: str
    path: Path  # its place in its own file, e.g. ("webhook_sets", "core", 0)
    org: str


@dataclass(frozen=True)
class Document:
    """One parsed file. Later passes add to `refs` (interpolated strings) and `broken` (already reported)."""

    file: str
    data: YMap
    mark: Mark
    templated: list[Path] = field(default_factory=list)  # strings holding `${`, in document order, for interpolation
    refs: dict[Path, tuple[str, ...]] = field(default_factory=dict)  # path -> env names it used
    whole_refs: set[Path] = field(default_factory=set)  # values written as exactly one ${env:NAME}
    broken: set[Path] = field(default_factory=set)  # values with a problem already reported
    invalid: set[Path] = field(default_factory=set)  # broken or schema-invalid values and their ancestors
    # Copies made by fleet expansion (manifest/fleet.py): an org's webhook (4 steps) or field (3 steps).
    foreign: dict[Path, Origin] = field(default_factory=dict)

    def taint(self, path: Path) -> None:
        """Mark `path` (and so every ancestor) as not to be checked further: it has a problem already."""
        for end in range(len(path) + 1):
            self.invalid.add(path[:end])

    def ok(self, path: Path) -> bool:
        """Whether the value at `path` passed the schema and interpolation, so its type can be trusted."""
        return not self.invalid or path not in self.invalid  # a valid document: no hashing of paths

    def value_at(self, path: Path) -> Any:
        """The value at `path`, which must exist."""
        value: Any = self.data
        for step in path:
            value = value[step]
        return value

    def mark_of(self, path: Path, *, key: bool = False) -> Mark:
        """Where the value at `path` starts (or its key, with `key=True`); else its nearest ancestor."""
        node: Any = self.data
        mark = self.mark
        for i, step in enumerate(path):
            if isinstance(node, YMap) and isinstance(step, str) and step in node:
                last = i == len(path) - 1
                mark = node.key_marks[step] if key and last else node.value_marks[step]
                node = node[step]
            elif isinstance(node, YSeq) and isinstance(step, int) and 0 <= step < len(node):
                mark = node.marks[step]
                node = node[step]
            else:
                break
        return mark

    def origin(self, path: Path) -> tuple[Path, Origin] | None:
        """The copy `path` lies in, and where that copy came from; None for a value written in this file."""
        if self.foreign:  # empty without fleet features: no slicing of paths
            for size in (4, 3):
                origin = self.foreign.get(path[:size])
                if origin is not None:
                    return path[:size], origin
        return None

    def file_of(self, path: Path) -> str:
        found = self.origin(path)
        return self.file if found is None else found[1].file

    def problem(self, path: Path, message: str, *, key: bool = False, where: Path | None = None) -> Problem:
        """A problem at `path`. The message is prefixed with `where`, by default the parent when `path`
        ends in a key (the message then names the field), else `path` itself; `()` for no prefix.
        A problem in a copy is placed where the copy's original was written, naming the organization."""
        line, col = self.mark_of(path, key=key)
        if where is None:
            where = path[:-1] if path and isinstance(path[-1], str) else path
        found = self.origin(path)
        if found is None:
            prefix = describe(where)
            return Problem(self.file, line, col, f"{prefix}: {message}" if prefix else message)
        copy, origin = found
        inside = where[len(copy) :] if where[: len(copy)] == copy else ()
        prefix = f"{describe((*origin.path, *inside))} (organization '{origin.org}')"
        return Problem(origin.file, line, col, f"{prefix}: {message}")

    def location(self, path: Path, *, key: bool = False) -> str:
        line, col = self.mark_of(path, key=key)
        return f"{self.file_of(path)}:{line}:{col}"


def describe(path: Path) -> str:
    """`organizations[0].webhooks[1]`: how messages name a place in a document."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def _mark(node: Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cycle collector while building a large tree: its collections, triggered by every few
    hundred allocations, rescan the growing tree and took a third of the parse time of a big manifest.
    Nothing built here is garbage until the tree is complete."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse(file: str, text: str) -> tuple[Document | None, list[Problem]]:
    """Compose `text` (with the C loader when present) and convert it; problems instead of exceptions."""
    with _gc_paused():
        return _parse(file, text)


def _parse(file: str, text: str) -> tuple[Document | None, list[Problem]]:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        detail = ", ".join(part for part in (exc.context, exc.problem) if part)
        return None, [Problem(file, line, col, f"YAML syntax error: {detail}")]
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - text.rfind("\n", 0, exc.position)
        return None, [Problem(file, line, col, f"YAML syntax error: {exc.reason} (#x{exc.character:04x})")]
    if root is None:
        return None, [Problem(file, 1, 1, "no YAML document: a manifest is a mapping starting with version: 1")]
    if not isinstance(root, MappingNode):
        what = "a list" if isinstance(root, SequenceNode) else "a single value"
        line, col = _mark(root)
        return None, [Problem(file, line, col, f"the top level must be a mapping (version: 1, ...), not {what}")]
    converter = _Converter(file)
    try:
        data = converter.mapping(root, ())
    except _TooLarge as exc:
        return None, [Problem(file, exc.mark[0], exc.mark[1], str(exc))]
    doc = Document(file, data, _mark(root), templated=converter.templated, broken=converter.broken)
    return doc, converter.problems


class _TooLarge(Exception):
    """Aliases or merge keys expand beyond reason: a recursive alias, or a bomb from an untrusted change."""

    def __init__(self, message: str, mark: Mark) -> None:
        super().__init__(message)
        self.mark = mark


class _Converter:
    """Turns composed nodes into YMap/YSeq/scalars, reporting what plain PyYAML would hide.

    Runs once per value of a large manifest, so it is lean: a scalar's path is built only when it has
    a problem, and marks are made without a call."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.broken: set[Path] = set()
        # Found here, where every scalar passes anyway, so that interpolation need not walk the whole tree.
        self.templated: list[Path] = []
        self.budget = _MAX_VALUES
        self.expansion = _MAX_EXPANDED
        self.merging = 0  # merges under way: they nest without making the path longer
        self.seen: set[int] = set()  # the collection nodes converted once: meeting one again is an alias
        self.expanding: Node | None = None  # the outermost alias being expanded: where a bomb is reported

    def _problem(self, node: Node, path: Path, message: str) -> None:
        line, col = _mark(node)
        where = describe(path)
        self.problems.append(Problem(self.file, line, col, f"{where}: {message}" if where else message))

    def charge(self, node: Node, depth: int) -> None:
        """Count one value (or one mapping read by a merge key), made at `depth` levels of nesting."""
        self.budget -= 1
        if self.expanding is not None:
            self.expansion -= 1
        if self.budget >= 0 and self.expansion >= 0 and depth < _MAX_DEPTH:
            return
        if depth >= _MAX_DEPTH:
            message = f"nests deeper than {_MAX_DEPTH} levels (an alias or merge key that includes itself?)"
        elif self.expansion < 0:
            message = (
                f"aliases and merge keys expand to more than {_MAX_EXPANDED} values (each use counts; "
                "the expansion that ran out starts at this anchor)"
            )
        else:
            message = f"the document has more than {_MAX_VALUES} values"
        raise _TooLarge(message, _mark(self.expanding or node))

    def value(self, node: Node, parent: Path, step: Step) -> Any:
        """The value of `node`, found at `step` inside the value at `parent`."""
        # Each use of an alias is converted anew (values are mutated later, per place), so count them.
        self.charge(node, len(parent) + self.merging)
        kind = type(node)
        if kind is ScalarNode:
            return self.scalar(node, parent, step)  # type: ignore[arg-type]
        path = (*parent, step)
        if self.expanding is None and id(node) in self.seen:
            self.expanding = node
            try:
                return self.collection(node, path)
            finally:
                self.expanding = None
        self.seen.add(id(node))
        return self.collection(node, path)

    def collection(self, node: Node, path: Path) -> YMap | YSeq:
        if type(node) is MappingNode:
            return self.mapping(node, path)
        assert type(node) is SequenceNode  # the composer makes only these three kinds
        seq = YSeq()
        marks = seq.marks
        for index, item in enumerate(node.value):
            seq.append(self.value(item, path, index))
            mark = item.start_mark
            marks.append((mark.line + 1, mark.column + 1))
        return seq

    def mapping(self, node: MappingNode, path: Path) -> YMap:
        result = YMap()
        key_marks = result.key_marks
        value_marks = result.value_marks
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            if type(key_node) is not ScalarNode:
                self._problem(key_node, path, "a key must be plain text, not a list or mapping")
                continue
            # Keys are taken as written: `on:` stays the text "on" rather than becoming True.
            key = key_node.value
            if key in result:
                first = key_marks[key]
                message = f"duplicate key '{key}': already defined at {self.file}:{first[0]}:{first[1]}"
                self._problem(key_node, path, message)
                continue
            result[key] = self.value(value_node, path, key)
            mark = key_node.start_mark
            key_marks[key] = (mark.line + 1, mark.column + 1)
            mark = value_node.start_mark
            value_marks[key] = (mark.line + 1, mark.column + 1)
        for merge in merges:  # `<<: *defaults`: keys written explicitly win, then earlier merges
            sources = merge.value if isinstance(merge, SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, MappingNode):
                    self._problem(source, path, "'<<' can only merge mappings")
                    continue
                merged = self.merge_source(source, path)
                for key, value in merged.items():
                    if key not in result:
                        result[key] = value
                        key_marks[key] = merged.key_marks[key]
                        value_marks[key] = merged.value_marks[key]
        return result

    def merge_source(self, source: MappingNode, path: Path) -> YMap:
        """A mapping a merge key reads: charged like a value, even when empty, and one level deeper."""
        self.charge(source, len(path) + self.merging + 1)
        outermost = self.expanding is None and id(source) in self.seen
        if outermost:
            self.expanding = source
        self.seen.add(id(source))
        self.merging += 1
        try:
            return self.mapping(source, path)
        finally:
            self.merging -= 1
            if outermost:
                self.expanding = None

    def scalar(self, node: ScalarNode, parent: Path, step: Step) -> Any:
        text: str = node.value
        tag: str = node.tag
        # Plain style is None or "" (libyaml); the YAML 1.1 booleans are at most 3 letters long.
        if not node.style and len(text) <= 3 and text.lower() in _YAML11_BOOLEANS:
            message = f"'{text}' is a YAML 1.1 boolean: write true or false, or quote it (\"{text}\") for text"
            self._broken(node, parent, step, message)
            return text
        if tag == _STR:
            if "${" in text:
                self.templated.append((*parent, step))
            return text
        if tag == _TIMESTAMP:  # a date stays the text that was written
            return text
        if tag == _BOOL:
            return text.lower() == "true"
        if tag == _INT:
            return _CONSTRUCTOR.construct_yaml_int(node)
        if tag == _FLOAT:
            return _CONSTRUCTOR.construct_yaml_float(node)
        if tag == _NULL:
            return None
        self._broken(node, parent, step, f"unsupported YAML tag '{tag}'")
        return text

    def _broken(self, node: Node, parent: Path, step: Step, message: str) -> None:
        path = (*parent, step)
        self._problem(node, path, message)
        self.broken.add(path)
