"""Architecture rules: triage_core never imports streamlit; only triage_core.store uses duckdb."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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


def test_core_never_imports_streamlit_at_runtime() -> None:
    code = (
        "import importlib, pkgutil, sys, triage_core\n"
        "for m in pkgutil.walk_packages(triage_core.__path__, 'triage_core.'):\n"
        "    if not m.name.endswith('.__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "print('streamlit' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_only_store_imports_duckdb() -> None:
    users = sorted(p.relative_to(CORE).parts[0] for p in CORE.rglob("*.py")
                   if "duckdb" in imported_modules(p))
    assert set(users) == {"store"}
