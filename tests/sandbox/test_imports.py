"""The sandbox imports nothing of the product (contract §8): its emulators are a check only while they are written
apart from the code they check. Only its own modules, the standard library and third-party packages."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import reconciler.sandbox

SANDBOX = Path(reconciler.sandbox.__file__).parent
PACKAGE = "reconciler.sandbox"


def imported_modules(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the module, in functions and TYPE_CHECKING blocks too."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # Relative imports stay inside the package this file is in; the sandbox has no subpackages.
            base = PACKAGE if node.level else node.module or ""
            module = f"{base}.{node.module}" if node.level and node.module else base
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def product_imports(source: str, filename: str) -> list[str]:
    """`file:line: module` for each import of a reconciler module outside the sandbox."""
    tree = ast.parse(source, filename)
    return [
        f"{filename}:{line}: {name}"
        for line, name in imported_modules(tree)
        if (name == "reconciler" or name.startswith("reconciler."))
        and not (name == PACKAGE or name.startswith(PACKAGE + "."))
    ]


def test_no_sandbox_module_imports_the_product() -> None:
    files = sorted(SANDBOX.glob("*.py"))
    assert len(files) > 10  # the walk found the package
    problems = [p for f in files for p in product_imports(f.read_text(), f.name)]
    assert problems == []


def test_the_check_sees_every_form_of_import() -> None:
    source = (
        "import reconciler.providers\n"
        "import reconciler.sandbox\n"
        "from reconciler.providers.capabilities import CAPABILITIES\n"
        "from reconciler import planner\n"
        "def f():\n"
        "    from reconciler.sandbox.wire import ApiError\n"
        "    import reconciler.manifest as m\n"
        "from . import state\n"
    )
    assert product_imports(source, "x.py") == [
        "x.py:1: reconciler.providers",
        "x.py:3: reconciler.providers.capabilities.CAPABILITIES",
        "x.py:4: reconciler.planner",
        "x.py:7: reconciler.manifest",
    ]


def test_importing_every_sandbox_module_loads_no_product_module() -> None:
    """Catches what the source walk cannot: an import done by a third party or through importlib."""
    names = [f"{PACKAGE}.{f.stem}" for f in sorted(SANDBOX.glob("*.py")) if f.stem != "__init__"]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.startswith('reconciler') and not m.startswith('{PACKAGE}')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['reconciler']"  # the parent package itself: a version string
