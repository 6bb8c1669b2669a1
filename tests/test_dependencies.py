"""What the code imports is declared in pyproject.toml: the product's imports as dependencies, the tests' and
the benchmark's there or under the `test` extra. An import that works only because some other package happens
to pull it in (jeepney, secretstorage: keyring's own dependencies) breaks when that package changes."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCAL = {"reconciler", "tests", "bench", "bench_plan"}  # bench scripts import bench_plan from their folder
IMPORT_ERRORS = ("ImportError", "ModuleNotFoundError")


def _optional(tree: ast.Module) -> set[ast.AST]:
    """Imports guarded by `try: ... except ImportError`: the code runs without them."""
    guarded: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in IMPORT_ERRORS for h in node.handlers
        ):
            guarded.update(n for stmt in node.body for n in ast.walk(stmt))
    return guarded


def third_party_imports(source: str, filename: str) -> dict[str, str]:
    """Top-level name -> `file:line` of its first import, for what is neither standard library nor ours."""
    tree = ast.parse(source, filename)
    optional = _optional(tree)
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if node in optional:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for top in (name.partition(".")[0] for name in names):
            if top not in sys.stdlib_module_names and top not in LOCAL:
                found.setdefault(top, f"{filename}:{node.lineno}")
    return found


def _declared(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
CORE = _declared(PROJECT["dependencies"])
TEST = CORE | _declared(PROJECT["optional-dependencies"]["test"])


def undeclared(folder: str, declared: set[str]) -> list[str]:
    distributions = packages_distributions()
    problems: list[str] = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for top, where in third_party_imports(path.read_text(), str(path.relative_to(ROOT))).items():
            if (path.parent / f"{top}.py").exists():
                continue  # a script's sibling module (bench/bench_plan.py): on its path when it runs
            names = {canonicalize_name(d) for d in distributions.get(top, [])}
            if not names & declared:
                problems.append(f"{where}: {top} ({', '.join(sorted(names)) or 'not installed'}) is not declared")
    return problems


@pytest.mark.parametrize(("folder", "declared"), [("reconciler", CORE), ("tests", TEST), ("bench", TEST)])
def test_every_import_is_declared(folder: str, declared: set[str]) -> None:
    assert undeclared(folder, declared) == []


def test_the_check_skips_the_standard_library_our_modules_and_optional_imports() -> None:
    source = (
        "import json, yaml\n"
        "from jeepney.io import blocking\n"
        "from reconciler import cli\n"
        "from . import sibling\n"
        "try:\n"
        "    import keyrings.alt\n"
        "except ImportError:\n"
        "    pass\n"
    )
    assert third_party_imports(source, "x.py") == {"yaml": "x.py:1", "jeepney": "x.py:2"}
