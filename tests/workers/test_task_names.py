"""The job contract: a task name sent or scheduled is one the real worker registers.

Every name lives in :class:`monitor.jobs.TaskName`. The worker's registry is read from a fresh
``workers`` app in a child process, as ``celery -A workers worker`` builds it, so a task module
missing from ``include`` is not hidden by what this test process happens to have imported.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from flask import Flask

from monitor.jobs import TaskName
from tests.support.processes import app_env

ROOT = Path(__file__).resolve().parents[2]
# The calls that send a task by name; their first argument (or ``name=``) is the name.
SENDERS = {"after_commit", "send_task"}
# jobs.send_now publishes whatever name after_commit was given: the plumbing, not a sender.
PLUMBING = {ROOT / "monitor" / "jobs.py"}

_READ_WORKER = """
import json
import workers

app = workers.app
app.loader.import_default_modules()  # the worker's `include`, as the worker imports it
print(json.dumps({
    "tasks": sorted(app.tasks),
    "beat": {key: entry["task"] for key, entry in app.conf.beat_schedule.items()},
}))
"""


@dataclass(frozen=True)
class Worker:
    """What ``celery -A workers`` registers and schedules."""

    tasks: set[str]
    beat: dict[str, str]


@pytest.fixture
def worker(app: Flask) -> Worker:
    """The real worker app's task registry and beat schedule, read in a child process."""
    done = subprocess.run(
        [sys.executable, "-c", _READ_WORKER],
        env=app_env(app),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    return Worker(set(found["tasks"]), found["beat"])


def test_the_worker_registers_every_task_name_and_no_other(worker: Worker) -> None:
    ours = {name for name in worker.tasks if not name.startswith("celery.")}
    assert set(TaskName) - ours == set(), "named in TaskName, registered by no worker task"
    # A task with no explicit name would be registered as workers.<module>.<function>.
    assert ours - set(TaskName) == set(), "registered by the worker, missing from TaskName"


def test_beat_schedules_only_tasks_the_worker_registers(worker: Worker) -> None:
    assert worker.beat, "beat schedules nothing"
    unknown = {key: task for key, task in worker.beat.items() if task not in worker.tasks}
    assert unknown == {}
    assert set(worker.beat.values()) <= set(TaskName)


def _module_of(path: Path) -> ModuleType:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return importlib.import_module(".".join(parts))


def _resolve(node: ast.expr, module: ModuleType) -> object:
    """The value of a literal, a module-level name, or a dotted path from one (``jobs.X.Y``)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return getattr(module, node.id)
    if isinstance(node, ast.Attribute):
        return getattr(_resolve(node.value, module), node.attr)
    raise TypeError(f"cannot tell which task {ast.unparse(node)} names")


def _sent_names() -> list[tuple[str, object]]:
    """Every (place, task name) that code in monitor/ and workers/ sends."""
    sent: list[tuple[str, object]] = []
    for path in sorted([*ROOT.glob("monitor/**/*.py"), *ROOT.glob("workers/**/*.py")]):
        if path in PLUMBING or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(), str(path))
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) in SENDERS
        ]
        if not calls:
            continue
        module = _module_of(path)
        for call in calls:
            named = (
                call.args[0]
                if call.args
                else next(k.value for k in call.keywords if k.arg == "name")
            )
            place = f"{path.relative_to(ROOT)}:{call.lineno}"
            sent.append((place, _resolve(named, module)))
    return sent


def test_every_task_name_sent_is_in_the_contract() -> None:
    sent = _sent_names()
    assert len(sent) >= 10, sent  # the scan finds the senders (services send about a dozen)
    # Each is then registered by the worker (test above), so none fails only at run time.
    unknown = [(place, name) for place, name in sent if name not in set(TaskName)]
    assert unknown == []
