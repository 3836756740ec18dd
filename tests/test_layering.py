"""Architecture rules: triage_core never imports streamlit; only triage_core.store uses duckdb."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "triage_core"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_streamlit_statically() -> None:
    offenders = [p.name for p in CORE.rglob("*.py") if "streamlit" in imported_modules(p)]
    assert offenders == []


# One new interpreter for the import checks below (each fresh interpreter imports everything).
_IMPORTS = """
import importlib, json, pkgutil, sys
import triage_core
eager = sorted({'pandas', 'sklearn'} & set(sys.modules))
missing = [n for n in triage_core.__all__ if getattr(triage_core, n, None) is None]
for m in pkgutil.walk_packages(triage_core.__path__, 'triage_core.'):
    if not m.name.endswith('.__main__'):
        importlib.import_module(m.name)
print(json.dumps({'eager': eager, 'missing': missing, 'streamlit': 'streamlit' in sys.modules}))
"""


@pytest.fixture(scope="module")
def fresh_imports() -> dict:
    """In a new interpreter: heavy modules that ``import triage_core`` alone loads, names of
    ``triage_core.__all__`` that do not resolve, and whether importing every module of
    triage_core loaded streamlit."""
    out = subprocess.run([sys.executable, "-c", _IMPORTS], capture_output=True, text=True,
                         check=True, timeout=120)
    return json.loads(out.stdout)


def test_core_never_imports_streamlit_at_runtime(fresh_imports: dict) -> None:
    assert fresh_imports["streamlit"] is False


def test_only_store_imports_duckdb() -> None:
    users = sorted(p.relative_to(CORE).parts[0] for p in CORE.rglob("*.py")
                   if "duckdb" in imported_modules(p))
    assert set(users) == {"store"}


DASHBOARD = CORE.parent / "dashboard"
HEAVY = {"duckdb", "sklearn", "skops", "scipy", "numpy", "pyarrow", "tokenizers"}


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (never imported at run time)."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        if (isinstance(node, ast.If) and isinstance(node.test, ast.Name)
                and node.test.id == "TYPE_CHECKING"):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return out


def _dotted_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_calls_go_page_to_data_to_core_to_store() -> None:
    """Pages, components and charts reach triage_core only through dashboard/data.py, the one
    cache layer; nothing in the dashboard opens DuckDB or fits models itself."""
    for path in sorted(DASHBOARD.rglob("*.py")):
        imports = _dotted_imports(path)
        roots = {name.split(".")[0] for name in imports}
        assert not roots & HEAVY, (path.name, roots & HEAVY)
        if path.name != "data.py":
            assert "triage_core" not in roots, f"{path.relative_to(DASHBOARD)} imports triage_core"


def test_core_has_no_import_cycles() -> None:
    """Module-level and lazy (in-function) imports between triage_core modules form no cycle."""
    graph: dict[str, set[str]] = {}
    for path in CORE.rglob("*.py"):
        rel = path.relative_to(CORE.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        graph[module] = set()
        for name in _dotted_imports(path):
            if name.startswith("triage_core"):
                graph[module].add(name)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _runtime_nodes(tree):  # "from triage_core.x import y": y may be a module
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                    "triage_core"):
                graph[module] |= {f"{node.module}.{a.name}" for a in node.names}
    known = set(graph)

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    edges = {m: {r for n in deps if (r := resolve(n)) and r != m and not m.startswith(r + ".")
                 and not r.startswith(m + ".")}
             for m, deps in graph.items()}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                cycle = [*path[path.index(n):], n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        path.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


def test_public_api_resolves_lazily(fresh_imports: dict) -> None:
    assert fresh_imports["eager"] == []
    assert fresh_imports["missing"] == []
