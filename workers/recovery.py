"""Recovery after a crash: a worker starting (and beat, every minute) frees a dead worker's claims.

- ``worker_init``: the worker enrolls its node and a run token drawn anew for this start
  (``services.claimants.enroll``); every claim its processes take names them.
- An inspect command, :data:`CENSUS_COMMAND`, answers with that run token and the pool's
  processes: :func:`take_census` broadcasts it and collects who is alive right now.
- ``worker_ready``: the new worker asks for :func:`recover` at once, so a killed worker's
  deliveries, renders and imports go out within seconds of a replacement starting, not when
  their leases run out. It travels on a queue of its own (:data:`RECOVERY_QUEUE`), so a backlog
  of sends does not hold it up.
- :func:`recover` reads the claimants holding claims, takes a census (twice, for a claimant
  that seems gone: a live worker slow to answer once keeps its claims), and hands the claims of
  the dead back (``services.recovery.release``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any

from celery import Celery, Task, shared_task, signals
from celery.concurrency import get_implementation
from celery.concurrency.prefork import TaskPool as PreforkPool
from celery.concurrency.thread import TaskPool as ThreadPool
from celery.worker.control import inspect_command
from flask import current_app

from monitor.config import Settings
from monitor.extensions import db
from monitor.jobs import TaskName
from monitor.services import claimants, recovery

log = logging.getLogger(__name__)

CENSUS_COMMAND = "monitor_claimant_run"
RECOVERY_QUEUE = "monitor.recovery"
# A recovery asked for by a starting worker that no worker took within this long is dropped:
# beat asks again every minute.
RECOVER_EXPIRES = 300


@signals.worker_init.connect
def _enroll(sender: Any = None, **_: Any) -> None:
    """Give this worker start its run token, inherited by the pool processes it forks."""
    pool = get_implementation(sender.pool_cls)
    # The main process of these pools answers control messages while tasks run elsewhere; a
    # solo pool (or gevent's, while a task holds the CPU) answers nothing until its task ends,
    # and a worker with remote control turned off answers nothing at all.
    answers = (
        isinstance(pool, type)
        and issubclass(pool, PreforkPool | ThreadPool)
        and bool(sender.app.conf.worker_enable_remote_control)
    )
    claimants.enroll(sender.hostname, answers_census=answers)


@signals.worker_ready.connect
def _recover_now(sender: Any = None, **_: Any) -> None:
    """A worker has started: maybe it replaces one that died holding claims."""
    node, run = claimants.run()
    log.info("claims taken by %s carry run %s", node, run)
    try:
        sender.app.send_task(TaskName.CLAIMS_RECOVER, expires=RECOVER_EXPIRES)
    except Exception:  # the broker went away again: beat asks every minute anyway
        log.warning("could not ask for a recovery at start", exc_info=True)


@inspect_command(name=CENSUS_COMMAND)
def _claimant_run(state: Any, **_: Any) -> dict[str, Any]:
    """This worker start's run token and processes (answers a census)."""
    pids = {os.getpid()}
    try:
        pids.update(int(pid) for pid in state.consumer.pool.info.get("processes") or ())
    except Exception:  # a pool without processes to list: its tasks run in this process
        log.debug("no pool processes to list", exc_info=True)
    return {"run": claimants.run()[1], "pids": sorted(pids)}


def take_census(
    celery_app: Celery[Any], timeout: float, me: tuple[str, str] | None
) -> claimants.Census | None:
    """The worker runs that answer now; None if no census can be trusted.

    ``me`` (node, run) is the asking worker: if it does not hear its own answer, silence proves
    nothing about the others (a broker in trouble), and None is returned. The embedded broker
    cannot broadcast: None.
    """
    try:
        with celery_app.connection_for_write() as connection:
            if "fanout" not in connection.transport.implements.exchange_type:
                return None
            replies = celery_app.control.broadcast(
                CENSUS_COMMAND, reply=True, timeout=timeout, connection=connection
            )
    except Exception:
        log.warning("no census of the workers could be taken", exc_info=True)
        return None
    census: dict[str, list[claimants.Run]] = {}
    for reply in replies or []:
        for node, answer in reply.items():
            found = answer if isinstance(answer, dict) else {}
            run = found.get("run")
            pids = frozenset(int(pid) for pid in found.get("pids") or ())
            census.setdefault(node, []).append(
                claimants.Run(run if isinstance(run, str) else None, pids)
            )
    if me is not None and not any(answer.run == me[1] for answer in census.get(me[0], ())):
        log.warning("%s did not hear itself in the census: not trusting it", me[0])
        return None
    return census


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


@shared_task(bind=True, name=TaskName.CLAIMS_RECOVER, soft_time_limit=60, time_limit=90)
def recover(self: Task[Any, Any]) -> dict[str, int]:
    """Release the claims of dead claimants and queue their work again (after the commit)."""
    settings = _settings()
    try:
        held = recovery.holders()
        db.session.rollback()  # no transaction held open through the census
        if not held:
            return {"holders": 0, "gone": 0}
        node, run = claimants.run()
        me = (node, run) if node is not None else None
        celery_app = self.app

        def census() -> claimants.Census | None:
            return take_census(celery_app, settings.worker_census_seconds, me)

        gone = claimants.gone(held, census())
        if gone:
            # Gone twice, a couple of seconds apart: a live worker slow to answer once is not.
            gone &= claimants.gone(gone, census())
        released = recovery.release(gone, settings)
        db.session.commit()  # the released work is queued after this commit
        if gone:
            log.warning("released the claims of dead workers %s: %s", sorted(gone), released)
        return {"holders": len(held), "gone": len(gone), **dataclasses.asdict(released)}
    finally:
        db.session.remove()
