"""The refresh's executor: Dagster's in-process executor, plus what a killed run needs.

A run killed with `kill -9` stays STARTED in Dagster's storage and keeps its
`duckdb_writer` pool slot; Dagster's run monitoring frees such slots only for run
launchers that can check their workers' health, which the default launcher and
`dagster job execute` cannot. So each run records its process (host, pid and start
time) in its tags, and before its steps claim slots it frees those of every STARTED run
of this host whose process is gone, marking that run failed. While a step waits for a
slot, it says at INFO level which run holds it, keeps looking for a dead holder, and
stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter, executor
from dagster._core.definitions.executor_definition import (
    IN_PROC_CONFIG,
    _core_in_process_executor_creation,
)
from dagster._core.events import DagsterEvent, DagsterEventType
from dagster._core.execution.context.system import PlanOrchestrationContext
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.executor.in_process import InProcessExecutor
from dagster._utils.interrupts import check_captured_interrupt

PROCESS_TAG = "papers/process"
WATCH_INTERVAL_S = 1.0


def _start_ticks(pid: int) -> str:
    """When a process started (clock ticks since boot, from /proc), so that a pid the
    system reused for another process is not taken for the run's; '' where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def this_process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def _gone(process: str) -> bool:
    """Whether a process recorded by `this_process` on this host no longer runs."""
    host, pid, ticks = process.rsplit(":", 2)
    if host != socket.gethostname():
        return False  # another machine's run: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    return bool(ticks) and _start_ticks(int(pid)) != ticks


def free_dead_runs(instance: DagsterInstance, current_run_id: str) -> list[str]:
    """Marks failed every STARTED run of this host whose process is gone, and frees its
    pool slots; returns what was done, for the log."""
    freed: list[str] = []
    for run in instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED])):
        process = run.tags.get(PROCESS_TAG)
        if run.run_id == current_run_id or not process or not _gone(process):
            continue
        message = (
            f"the process of run {run.run_id} ({process}) is gone, killed or crashed: "
            "marked failed and its writer slot freed"
        )
        instance.report_run_failed(run, message)
        slots = instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        freed.append(f"{message} ({slots or 0} slot(s))")
    return freed


def _blocked_pool(event: DagsterEvent) -> str | None:
    """The pool a step waits for, when `event` says a step is blocked by one."""
    if event.event_type != DagsterEventType.ENGINE_EVENT or "blocked by limit for pool" not in (
        event.message or ""
    ):
        return None
    pool = event.engine_event_data.metadata.get("pool")
    return str(pool.value) if pool is not None else None


def _holders(instance: DagsterInstance, pool: str) -> str:
    """Which runs hold `pool`'s slots, as a person would want to read it."""
    claimed = instance.event_log_storage.get_concurrency_info(pool).claimed_slots
    if not claimed:
        return "no run now (it is being handed over)"
    return ", ".join(f"run {s.run_id} (step {s.step_key})" for s in claimed)


class _WaitWatch:
    """While a step waits for a slot, Dagster's loop neither looks at signals nor
    yields: this thread frees the slots of holders that died meanwhile, and ends the run
    (cancelled, its slots freed) when SIGTERM or SIGINT arrives, which Dagster only notes."""

    def __init__(self, plan_context: PlanOrchestrationContext) -> None:
        self.context = plan_context
        self.waiting = threading.Event()
        self.stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="slot-wait-watch", daemon=True)

    def __enter__(self) -> _WaitWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()

    def _watch(self) -> None:
        instance, run_id = self.context.instance, self.context.run_id
        while not self.stopped.wait(WATCH_INTERVAL_S):
            if not self.waiting.is_set():
                continue
            for message in free_dead_runs(instance, run_id):
                self.context.log.warning(message)
            if check_captured_interrupt():
                message = "stopped by SIGTERM or SIGINT while waiting for a writer slot"
                self.context.log.warning(message)
                instance.event_log_storage.free_concurrency_slots_for_run(run_id)
                run = instance.get_run_by_id(run_id)
                if run is not None:
                    instance.report_run_canceled(run, message)
                os._exit(128 + signal.SIGTERM)


class ReapingInProcessExecutor(InProcessExecutor):
    """In-process execution that first frees the slots of runs whose process died."""

    def execute(
        self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan
    ) -> Iterator[DagsterEvent]:
        instance, run_id = plan_context.instance, plan_context.run_id
        instance.add_run_tags(run_id, {PROCESS_TAG: this_process()})
        for message in free_dead_runs(instance, run_id):
            plan_context.log.warning(message)
        with _WaitWatch(plan_context) as watch:
            for event in super().execute(plan_context, execution_plan):
                yield event
                pool = _blocked_pool(event)
                if pool is None:
                    watch.waiting.clear()
                    continue
                watch.waiting.set()
                plan_context.log.info(
                    f"step {event.step_key} waits for a slot of pool {pool}, held by "
                    f"{_holders(instance, pool)}"
                )


@executor(name="in_process_reaping", config_schema=IN_PROC_CONFIG)
def reaping_in_process_executor(init_context) -> ReapingInProcessExecutor:
    """Dagster's in-process executor, freeing the writer slots that killed runs kept."""
    base = _core_in_process_executor_creation(init_context.executor_config)
    return ReapingInProcessExecutor(
        retries=base.retries, step_dependency_config=base.step_dependency_config
    )
