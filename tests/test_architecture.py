"""The layering of ARCHITECTURE.md §5: views translate HTTP, services hold the use cases.

``make lint`` checks the import contracts (``lint-imports``, configured in pyproject.toml); these
tests check what an import graph cannot see: that no view module runs SQL or commits.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VIEW_PACKAGES = [ROOT / "monitor" / "web", ROOT / "monitor" / "api"]
# The one module per package allowed to commit and roll back (the request's commit point).
COMMIT_POINTS = {ROOT / "monitor" / "web" / "writes.py", ROOT / "monitor" / "api" / "writes.py"}
SQL_CALLS = {"select", "insert", "update", "delete", "text", "execute", "scalars", "scalar"}
# authz's query builders (SQL conditions and statements): services use them, views do not.
AUTHZ_QUERY_BUILDERS = {
    "visible_cases",
    "visible_sources",
    "case_visible",
    "person_visible",
    "person_visible_at",
    "source_visible",
    "dossier_visible",
    "subscription_visible",
    "CaseQuery",
}


def _view_modules() -> list[Path]:
    return sorted(p for package in VIEW_PACKAGES for p in package.rglob("*.py"))


def _sql_uses(path: Path) -> list[str]:
    """Where a module imports SQLAlchemy, reaches the session, or calls a query builder."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found.append(f"line {node.lineno}: from {node.module} import …")
        elif isinstance(node, ast.Import) and any(
            a.name.startswith("sqlalchemy") for a in node.names
        ):
            found.append(f"line {node.lineno}: import sqlalchemy")
        elif isinstance(node, ast.Attribute) and node.attr == "session":
            found.append(f"line {node.lineno}: .session")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in SQL_CALLS
        ):
            found.append(f"line {node.lineno}: {node.func.id}(…)")
        elif isinstance(node, ast.Attribute) and node.attr in AUTHZ_QUERY_BUILDERS:
            found.append(f"line {node.lineno}: builds a query with {node.attr}")
    return found


def test_the_scan_sees_sql_in_a_view(tmp_path: Path) -> None:
    view = tmp_path / "view.py"
    view.write_text(
        "from sqlalchemy import select\n"
        "from monitor.extensions import db\n"
        "rows = db.session.scalars(select(1))\n"
        "hidden = authz.visible_cases(user)\n"
    )
    assert len(_sql_uses(view)) == 4


@pytest.mark.parametrize("module", _view_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_view_modules_run_no_sql(module: Path) -> None:
    if module in COMMIT_POINTS:
        return
    assert _sql_uses(module) == [], f"{module.relative_to(ROOT)} queries: move it to a service"


def _commits(path: Path, calls: frozenset[str] = frozenset({"commit", "rollback"})) -> list[str]:
    """Where a module calls ``calls`` (commit, rollback) other than through its ``writes``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in calls
        and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "writes")
    ]


def test_only_the_commit_points_commit() -> None:
    offenders = [hit for p in _view_modules() if p not in COMMIT_POINTS for hit in _commits(p)]
    assert offenders == []
    assert _commits(ROOT / "monitor" / "web" / "writes.py"), "the scan finds db.session.commit()"


def test_services_commit_only_at_named_checkpoints() -> None:
    # ARCHITECTURE.md §5: services flush; the few leases and claims other workers must see at
    # once commit through services.commit_now(Checkpoint.…), which names why. (A service may
    # roll back its own work.)
    services = ROOT / "monitor" / "services"
    offenders = [
        hit
        for p in sorted(services.rglob("*.py"))
        if p != services / "__init__.py"
        for hit in _commits(p, frozenset({"commit"}))
    ]
    assert offenders == []
    assert _commits(services / "__init__.py", frozenset({"commit"})), "the scan finds commit_now"


def test_import_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports is not None, "import-linter is a dev dependency (make install)"
    run = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout[-3000:]
