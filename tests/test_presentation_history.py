"""Every audit action the code writes has a plain label for the History (no internal codes on
screen): the action codes are read from the source, as the services pass them to the log."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from monitor.presentation.history import ACTION_LABELS, action_label, actor_text, entry_text
from monitor.services.audit import REKEY_ACTION

MONITOR = Path(__file__).resolve().parents[1] / "monitor"
# The second-factor services log through their own record(user, "totp.use"), which prefixes this.
SECOND_FACTOR = MONITOR / "services" / "second_factor"


def _strings(node: ast.expr, assigned: dict[str, list[ast.expr]]) -> list[str]:
    """The action codes an argument can be: a literal, either branch of ``a if c else b``, a
    local variable assigned such, or the re-key constant."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body, assigned) + _strings(node.orelse, assigned)
    if isinstance(node, ast.Name):
        if node.id == "REKEY_ACTION":
            return [REKEY_ACTION]
        return [code for value in assigned.get(node.id, []) for code in _strings(value, assigned)]
    return []


def _call_actions(call: ast.Call, assigned: dict[str, list[ast.expr]], path: Path) -> list[str]:
    """The action codes one call writes to the audit log (none if it is no audit call)."""
    name = getattr(call.func, "attr", None) or getattr(call.func, "id", None)
    # An entry planned for audit.record_many names its action first.
    if name == "Planned" and "audit" in ast.unparse(call.func) and call.args:
        return _strings(call.args[0], assigned)
    if len(call.args) < 2:
        return []
    is_audit = isinstance(call.func, ast.Attribute) and ast.unparse(call.func) == "audit.record"
    local = isinstance(call.func, ast.Name) and name in {"_audit", "record"}
    if not (is_audit or local):
        return []
    codes = _strings(call.args[1], assigned)
    if local and name == "record" and path.is_relative_to(SECOND_FACTOR):
        codes = [f"second_factor.{code}" for code in codes]
    return codes


def _written_actions() -> set[str]:
    found: set[str] = set()
    for path in MONITOR.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            assigned: dict[str, list[ast.expr]] = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assigned.setdefault(target.id, []).append(node.value)
            for call in ast.walk(function):
                if isinstance(call, ast.Call):
                    found.update(c for c in _call_actions(call, assigned, path) if "." in c)
    return found


def test_every_action_the_services_write_has_a_plain_label() -> None:
    written = _written_actions()
    # The walk finds the actions of every kind of call (a sanity check on the walk itself).
    assert {
        "status_event.create",
        "dossier.download",
        "subscription.follow",
        "auth.logout",
        "session.revoke",
        "second_factor.totp.refused",
        "audit.rekey",
    } <= written
    assert sorted(written - ACTION_LABELS.keys()) == []


@pytest.mark.parametrize(
    ("action", "before", "after", "text"),
    [
        ("status_event.create", None, {"status": "house_arrest"}, "Status recorded: house arrest"),
        (
            "status_event.create",
            None,
            {"status": "jailed", "backfilled": True},
            "Status recorded: jailed (an earlier event, back-filled)",
        ),
        ("charge.create", None, {"offence": "Treason"}, "Charge added: Treason"),
        (
            "case.update",
            {"title": "a", "tags": []},
            {"title": "b", "tags": ["x"]},
            "Case edited: title, tags",
        ),
        ("case.update", {"title": "a"}, {"title": "a"}, "Case edited"),
        ("dossier.download", None, {"sha256": "ab"}, "Dossier downloaded"),
        ("case.create", None, None, "Case opened"),
    ],
)
def test_history_lines_read_as_words(
    action: str, before: dict[str, object] | None, after: dict[str, object] | None, text: str
) -> None:
    assert entry_text(action, before, after) == text


def test_actors_are_people_or_named_tools() -> None:
    assert actor_text("ann@example.org", "Ann Editor") == "Ann Editor"
    assert actor_text("cli") == "command line"
    assert actor_text("worker") == "background worker"
    assert actor_text("import") == "import"
    assert action_label("something.new_thing") == "Something: new thing"
