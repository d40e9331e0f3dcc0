"""Hyperparameter and structure search with Optuna: each trial is an ordinary training job.

Optuna's ask-and-tell interface drives our own job registry, so the trials train wherever the
registry's executor sends them (child processes here, or actors on a Ray cluster) and each
leaves a normal run directory under ``DIR/trials/``::

    plan = study.make_plan(design, ["dense.units=int:16:256:log",
                                    "dropout.enabled=choice:true,false"], epochs=10)
    study.create_study(out, plan)
    Search(out, registry=registry, jobs=2).run(trials=20)

:meth:`Search.run` keeps at most ``jobs`` trials training. While one trains, the driver reads
its history (the job's snapshot, epoch by epoch), reports the metric to Optuna and asks the
pruner; a trial that falls behind the median of the finished trials is stopped, and its run
directory ends ``stopped`` with that reason (status.json and log.txt). A trial's value is its
best epoch's metric, as the run tables rank runs.

A search started from the app runs in a thread (:meth:`Search.start`) and is kept in a
process-wide table by directory (:func:`live`), so a page refresh finds it again; the study on
disk (see :mod:`designer.experiments.study`) stays the truth for everything shown.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer.design.paths import apply
from designer.errors import DesignerError
from designer.experiments.study import (
    TRIALS_DIR,
    Plan,
    SearchError,
    load_study,
    quiet_optuna,
    read_plan,
    trial_values,
    write_best,
    write_trials_csv,
)
from designer.text import one_line
from designer.training import Job, Registry, default_registry, start_training

POLL_S = 0.2
MAX_TRIALS = 1000


@dataclass
class _Running:
    """A trial being trained: Optuna's trial, its job, and what was reported of it."""

    trial: Any
    job: Job
    values: list[float] = field(default_factory=list)  # the metric, epoch by epoch
    reported: int = 0  # history rows read
    pruned: str | None = None  # why it was stopped, once the pruner said so


@dataclass(frozen=True)
class Ended:
    """What the driver tells the command line or the page about a trial that ended."""

    number: int
    state: str  # complete | pruned | failed
    value: float | None
    run: str
    reason: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


class Search:
    """Drives the search stored in ``out``. ``jobs``: trials training at once (default: the
    registry's own limit); ``owner``: the app session the trials' runs belong to; ``hooks``
    go to every trial's training (fault injection, tests only)."""

    def __init__(
        self,
        out: str | Path,
        *,
        registry: Registry | None = None,
        jobs: int | None = None,
        owner: str | None = None,
        hooks: dict | None = None,
        on_trial: Callable[[Ended], None] | None = None,
    ):
        self.out = Path(out)
        self.registry = registry or default_registry()
        self.jobs = max(1, int(jobs or self.registry.max_concurrent))
        self.owner, self.hooks, self.on_trial = owner, hooks, on_trial
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None
        self.ended: list[Ended] = []
        self.planned = 0  # trials this run of the driver asks for

    # ---- control ---------------------------------------------------------------------------
    def start(self, trials: int) -> Search:
        """Run in a thread of this process, listed by :func:`live` (the app's way)."""
        key = _key(self.out)
        with _LIVE_LOCK:
            current = _LIVE.get(key)
            if current is not None and current.running:
                raise SearchError(f"a search is already running in {self.out}")
            self.planned = int(trials)
            self._thread = threading.Thread(
                target=self._run_quietly,
                args=(trials,),
                name=f"search-{self.out.name}",
                daemon=True,
            )
            _LIVE[key] = self
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop asking for trials and stop those training (they end ``failed``: stopped)."""
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run_quietly(self, trials: int) -> None:
        try:
            self.run(trials)
        except DesignerError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - the page shows it in one line
            self.error = f"the search stopped: {type(exc).__name__}: {one_line(exc, 300)}"

    # ---- the loop ----------------------------------------------------------------------------
    def run(self, trials: int) -> None:
        """Ask for ``trials`` more trials, train them ``jobs`` at a time, tell Optuna how each
        went; returns when every one has ended (or the search was stopped)."""
        if not 1 <= int(trials) <= MAX_TRIALS:
            raise SearchError(f"trials must be between 1 and {MAX_TRIALS}")
        self.planned = int(trials)
        plan = read_plan(self.out)
        optuna = quiet_optuna()
        first = load_study(self.out)
        _fail_abandoned(first)
        done_before = len(first.get_trials(deepcopy=False))
        plan.trials += int(trials)
        plan.save(self.out)
        sampler = optuna.samplers.TPESampler(
            # Seeded by the trials already there, so a resumed search does not redraw the
            # points it drew at its start.
            seed=plan.seed + done_before,
            constant_liar=True,  # trials training side by side are not drawn the same
        )
        pruner = optuna.pruners.NopPruner()
        if plan.prune == "median":
            # A quarter of the trials (2 to 5) finish before any is judged: a median of one
            # trial would prune everything a little behind the first.
            startup = min(5, max(2, plan.trials // 4))
            pruner = optuna.pruners.MedianPruner(n_startup_trials=startup)
        study = load_study(self.out, sampler=sampler, pruner=pruner)
        dists = {d.path: d.distribution() for d in plan.space}
        running: dict[int, _Running] = {}
        asked = 0
        try:
            while True:
                while not self._stop.is_set() and asked < trials and len(running) < self.jobs:
                    asked += 1
                    launched = self._launch(study, plan, dists)
                    if launched is not None:
                        running[launched.trial.number] = launched
                if self._stop.is_set():
                    for r in running.values():
                        r.job.stop()
                for number, r in list(running.items()):
                    self._follow(study, plan, r)
                    if r.job.done:
                        self._follow(study, plan, r)  # the rows of its last moments
                        self._finish(study, plan, r)
                        del running[number]
                if not running and (asked >= trials or self._stop.is_set()):
                    return
                time.sleep(POLL_S)
        except BaseException:
            for r in running.values():
                r.job.stop()
            for r in running.values():
                r.job.wait(60)
                self._tell(study, plan, r, "failed", reason="the search stopped")
            raise

    def _launch(self, study, plan: Plan, dists: dict) -> _Running | None:
        trial = study.ask(dists)
        name = f"{self.out.name}-t{trial.number:03d}"
        trial.set_user_attr("run", f"{TRIALS_DIR}/{name}")
        values = trial_values(plan, trial)
        try:
            design = apply(plan.design, values)
            design.name = f"{plan.design.name}-t{trial.number:03d}"
            job = start_training(
                design,
                run_dir=self.out / TRIALS_DIR / name,
                epochs=plan.epochs,
                limit=plan.limit,
                registry=self.registry,
                owner=self.owner,
                hooks=self.hooks,
            )
        except DesignerError as exc:  # a structure that cannot be made, a refused setting
            self._tell(study, plan, _Running(trial, None), "failed", reason=str(exc))
            return None
        return _Running(trial, job)

    def _follow(self, study, plan: Plan, r: _Running) -> None:
        """Report the epochs the trial finished since the last look; prune it if it lags."""
        history = r.job.snapshot().history
        for row in history[r.reported :]:
            r.reported += 1
            if plan.metric not in row:
                names = ", ".join(k for k in row if k != "epoch")
                raise SearchError(
                    f"the runs report no {plan.metric} (they report: {names}): "
                    "choose one of these as the metric"
                )
            value = row[plan.metric]
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                continue  # a NaN loss: the run ends "nan" and the trial fails
            r.values.append(float(value))
            r.trial.report(float(value), r.reported)
            if plan.prune == "median" and r.pruned is None and r.trial.should_prune():
                r.pruned = _prune_reason(study, plan, r)
                r.job.stop(r.pruned)

    def _finish(self, study, plan: Plan, r: _Running) -> None:
        snap = r.job.snapshot()
        if snap.status == "finished" and r.values:
            best = (max if plan.direction == "maximize" else min)(r.values)
            self._tell(study, plan, r, "complete", value=best)
        elif snap.status == "stopped" and r.pruned:
            self._tell(study, plan, r, "pruned", reason=r.pruned)
        elif snap.status == "finished":
            self._tell(study, plan, r, "failed", reason=f"no finite {plan.metric} in any epoch")
        else:
            reason = snap.last_error or f"the run ended {snap.status}"
            if snap.status == "stopped" and self._stop.is_set():
                reason = "the search was stopped"
            self._tell(study, plan, r, "failed", reason=f"{snap.status}: {reason}")

    def _tell(self, study, plan: Plan, r: _Running, state: str, *, value=None, reason=None):
        from optuna.trial import TrialState

        if reason:
            r.trial.set_user_attr("reason", reason)
        states = {
            "complete": TrialState.COMPLETE,
            "pruned": TrialState.PRUNED,
            "failed": TrialState.FAIL,
        }
        frozen = study.tell(r.trial, value, state=states[state])
        write_trials_csv(self.out, plan, study)
        write_best(self.out, study)
        ended = Ended(
            r.trial.number,
            state,
            frozen.value,
            r.trial.user_attrs.get("run", ""),
            reason,
            trial_values(plan, r.trial),
        )
        self.ended.append(ended)
        if self.on_trial is not None:
            self.on_trial(ended)


def _prune_reason(study, plan: Plan, r: _Running) -> str:
    """Why the median pruner stops the trial, in words and numbers."""
    step = r.reported
    others = [
        t.intermediate_values[step]
        for t in study.get_trials(deepcopy=False)
        if t.state.name == "COMPLETE" and step in t.intermediate_values
    ]
    best = (max if plan.direction == "maximize" else min)(r.values)
    median = f"{statistics.median(others):.4g}" if others else "unknown"
    return (
        f"pruned by the median rule at epoch {step} of {plan.epochs}: its best {plan.metric} "
        f"so far, {best:.4g}, is worse than the median of the finished trials there, {median}"
    )


def _fail_abandoned(study) -> None:
    """Trials a driver left running when it died (a killed command, a restarted server) end
    ``failed``; their run directories say ``interrupted``."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)


# ---- searches running in this process -----------------------------------------------------------
_LIVE: dict[str, Search] = {}
_LIVE_LOCK = threading.Lock()


def _key(out: str | Path) -> str:
    return str(Path(out).resolve())


def live(out: str | Path) -> Search | None:
    """The search this process drives (or drove) in ``out``, if any."""
    with _LIVE_LOCK:
        return _LIVE.get(_key(out))
