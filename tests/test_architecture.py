"""The architecture of docs/architecture.md holds: the import contract in pyproject.toml (import-linter's
layers and forbidden imports), and planning and applying stay in small functions."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from reconciler.core.exits import Exit
from reconciler.core.model import NAME_PATTERN

ROOT = Path(__file__).resolve().parents[1]
# The planning and applying code: no function longer than this (ruff checks complexity 15 everywhere).
SMALL_FOLDERS = ("reconciler/core", "reconciler/engine")
MAX_LINES = 60


def lint_imports(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run([sys.executable, "-c", script, *args], cwd=cwd, capture_output=True, text=True)


def test_the_import_contract_is_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_planning_module_that_imports_the_network_breaks_the_contract(tmp_path: Path) -> None:
    """The contract is not vacuous: a copy of the package whose planner imports httpx and whose renderer
    imports the engine fails it, naming both."""
    subprocess.run(["cp", "-r", str(ROOT / "reconciler"), str(tmp_path / "reconciler")], check=True)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    planner = tmp_path / "reconciler/core/planner.py"
    planner.write_text(planner.read_text() + "\nimport httpx  # noqa\n")
    text = tmp_path / "reconciler/render/text.py"
    text.write_text(text.read_text() + "\nfrom reconciler.engine import session  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "reconciler.core.planner -> httpx" in result.stdout
    assert "reconciler.render is not allowed to import reconciler.engine" in result.stdout


def long_functions(source: str, filename: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > MAX_LINES:
                found.append(f"{filename}:{node.lineno}: {node.name} has {lines} lines")
    return found


def test_planning_and_applying_have_no_function_over_60_lines() -> None:
    files = sorted(p for folder in SMALL_FOLDERS for p in (ROOT / folder).rglob("*.py"))
    assert len(files) > 10
    problems = [p for f in files for p in long_functions(f.read_text(), str(f.relative_to(ROOT)))]
    assert problems == []


def test_the_length_check_counts_a_whole_function() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    assert long_functions(textwrap.dedent(f"def f():\n{body}\n"), "x.py") == ["x.py:1: f has 61 lines"]


def test_the_name_pattern_is_the_published_schemas() -> None:
    """One rule for names: the code's pattern is the schema's `$defs/name` (editors and CI check with that)."""
    schema = json.loads((ROOT / "reconciler/schemas/manifest.schema.json").read_text())
    (plain,) = [branch for branch in schema["$defs"]["name"]["anyOf"] if "pattern" in branch]
    assert plain["pattern"] == NAME_PATTERN.pattern


def test_exit_codes_are_the_contracts() -> None:
    assert {e.name: e.value for e in Exit} == {
        "OK": 0, "ERROR": 1, "CHANGES": 2, "REFUSED": 3, "PARTIAL": 4, "INTERRUPTED": 130
    }


def test_the_code_cites_documents_that_are_in_the_repository() -> None:
    """The contract is docs/contract.md and docs/providers.md; the documents it was written from are not in
    the repository, so a reference to them would lead a reader nowhere."""
    outside = ("SPEC" + " §", "SPEC" + ".md", "PROVIDERS" + ".md", "../" + "shared/")
    files = [p for folder in ("reconciler", "tests", "bench", "examples", "docs") for p in (ROOT / folder).rglob("*")]
    files += [ROOT / "README.md", ROOT / "pyproject.toml", ROOT / "Makefile"]
    found = [
        f"{path.relative_to(ROOT)}: {needle}"
        for path in files
        if path.is_file() and path.suffix in (".py", ".md", ".toml", ".yml", ".yaml", ".json", "")
        for needle in outside
        if needle in path.read_text(errors="replace")
    ]
    assert found == []
