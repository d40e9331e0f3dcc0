"""A search directory on disk: its plan, its Optuna study, its trials table and best design.

A search directory holds::

    search.json        the plan: the design searched (data and epochs applied), the space, the
                       metric and its direction, pruning, epochs, sample limit, seed, and how
                       many trials were asked for so far (over every start and --resume)
    study.journal      the Optuna study (Optuna's journal storage: one appended line per change,
                       so a search killed at any moment loses at most the trials in progress)
    trials.csv         one row per ended trial: number,state,value, then one column per path
    trials/<run>/      one ordinary run directory per trial
    best/design.json   the best trial's design, as trained: valid and ready to train

The study is the truth: the table, the figures and the best design are read from it.
Optuna is imported inside the functions (it takes a second to import).
"""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from designer import settings
from designer.data import builtin_task, load_raw
from designer.design.paths import value_at
from designer.design.spec import DataSpec, Design, load
from designer.errors import DesignerError
from designer.experiments.space import Dimension, parse_space, value_text
from designer.training import rundir

SEARCH_FILE = "search.json"
JOURNAL_FILE = "study.journal"
TRIALS_FILE = "trials.csv"
TRIALS_DIR = "trials"
BEST_DIR = "best"
STUDY_NAME = "search"
PRUNERS = ("median", "none")
STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running"}
# Metric names that are better when lower; everything else (accuracy, auc...) is maximised.
LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "mape", "msle", "crossentropy", "hinge")


class SearchError(DesignerError):
    """A search that cannot be started, continued or read as asked; one line for the user."""


def default_metric(design: Design) -> str:
    """Validation accuracy for classification, validation loss for regression (the training
    figures when the design holds no validation split)."""
    data = design.data
    task = builtin_task(data.dataset)
    if task is None:  # an uploaded file: its target column decides
        task = load_raw(data).info.task
    name = "loss" if task == "regression" else "accuracy"
    return f"val_{name}" if data.validation_split > 0 else name


def direction(metric: str) -> str:
    return "minimize" if any(w in metric for w in LOWER_IS_BETTER) else "maximize"


@dataclass
class Plan:
    design: Design  # what every trial starts from (data and epochs applied)
    space: list[Dimension]
    metric: str
    prune: str  # "median" | "none"
    epochs: int
    limit: int | None
    seed: int
    trials: int = 0  # asked for so far

    @property
    def direction(self) -> str:
        return direction(self.metric)

    @property
    def paths(self) -> list[str]:
        return [d.path for d in self.space]

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": self.design.to_dict(),
            "space": [f"{d.path}={d.text()}" for d in self.space],
            "metric": self.metric,
            "direction": self.direction,
            "prune": self.prune,
            "epochs": self.epochs,
            "limit": self.limit,
            "seed": self.seed,
            "trials": self.trials,
        }

    def save(self, out: str | Path) -> None:
        rundir.write_json(Path(out) / SEARCH_FILE, self.to_dict())


def is_search(path: str | Path) -> bool:
    return (Path(path) / SEARCH_FILE).is_file()


def read_plan(out: str | Path) -> Plan:
    path = Path(out) / SEARCH_FILE
    raw = rundir.read_json(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("space"), list):
        raise SearchError(f"{out}: not a search directory (no readable {SEARCH_FILE})")
    try:
        design = Design.from_dict(raw["design"])
        return Plan(
            design,
            parse_space(design, raw["space"]),
            str(raw["metric"]),
            str(raw.get("prune", "median")),
            int(raw["epochs"]),
            raw.get("limit"),
            int(raw.get("seed", 0)),
            int(raw.get("trials", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SearchError(f"{path}: not a search plan ({exc})") from None


def make_plan(
    design: Design,
    space: list[str] | list[Dimension],
    *,
    epochs: int | None = None,
    data: DataSpec | str | None = None,
    limit: int | None = None,
    metric: str | None = None,
    prune: str = "median",
    seed: int | None = None,
) -> Plan:
    """The plan of a new search, every part checked (SpaceError, PathError, SearchError)."""
    base = design.copy()
    if isinstance(data, str):
        base.data.dataset, base.data.path, base.data.target = data, None, None
    elif data is not None:
        base.data = data
    if epochs is not None:
        base.training.epochs = int(epochs)
    if base.training.epochs < 1:
        raise SearchError("epochs must be at least 1")
    if prune not in PRUNERS:
        raise SearchError(f"unknown pruning {prune!r}: choose {' or '.join(PRUNERS)}")
    if space and isinstance(space[0], str):
        dims = parse_space(base, list(space))
    else:
        dims = parse_space(base, [f"{d.path}={d.text()}" for d in space])
    return Plan(
        base,
        dims,
        (metric or "").strip() or default_metric(base),
        prune,
        base.training.epochs,
        limit,
        base.training.seed if seed is None else int(seed),
    )


# ---- the Optuna study ---------------------------------------------------------------------------
def storage(out: str | Path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(Path(out) / JOURNAL_FILE)))


def quiet_optuna():
    """Optuna, with its per-trial log lines off (our lines say what happened)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def create_study(out: str | Path, plan: Plan) -> None:
    """Write the plan and a new study; the design as it is becomes the first trial when the
    space holds its values, so a search never ends worse than where it started."""
    out = Path(out)
    if is_search(out):
        raise SearchError(f"{out} already holds a search: continue it with --resume")
    optuna = quiet_optuna()
    out.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(
        study_name=STUDY_NAME, storage=storage(out), direction=plan.direction
    )
    start = {d.path: value_at(plan.design, d.path) for d in plan.space}
    if all(d.contains(start[d.path]) for d in plan.space):
        study.enqueue_trial(
            {d.path: d.label_of(start[d.path]) for d in plan.space}, user_attrs={"baseline": True}
        )
    plan.save(out)


def load_study(out: str | Path, sampler=None, pruner=None):
    """The study of the search in ``out`` (SearchError when there is none)."""
    optuna = quiet_optuna()
    if not (Path(out) / JOURNAL_FILE).is_file():
        raise SearchError(f"{out}: no study here ({JOURNAL_FILE} is missing)")
    try:
        return optuna.load_study(
            study_name=STUDY_NAME, storage=storage(out), sampler=sampler, pruner=pruner
        )
    except KeyError:
        raise SearchError(f"{out}/{JOURNAL_FILE} holds no study named {STUDY_NAME!r}") from None


def state_name(trial) -> str:
    return STATES.get(trial.state.name, trial.state.name.lower())


def trial_values(plan: Plan, trial) -> dict[str, Any]:
    """The design values a trial tried, by path."""
    return {d.path: d.decode(trial.params[d.path]) for d in plan.space if d.path in trial.params}


# ---- what a search leaves behind ----------------------------------------------------------------
def write_trials_csv(out: str | Path, plan: Plan, study) -> None:
    """trials.csv: ``number,state,value`` then one column per path, one row per ended trial."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["number", "state", "value", *plan.paths])
    for t in study.get_trials(deepcopy=False):
        state = state_name(t)
        if state == "running" or t.state.name == "WAITING":
            continue
        values = trial_values(plan, t)
        writer.writerow(
            [
                t.number,
                state,
                "" if t.value is None else repr(float(t.value)),
                *(value_text(values[p]) if p in values else "" for p in plan.paths),
            ]
        )
    settings.atomic_write_text(Path(out) / TRIALS_FILE, buf.getvalue())


def best_trial(study):
    """The best complete trial, or None."""
    done = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    return study.best_trial if done else None


def write_best(out: str | Path, study) -> Path | None:
    """best/design.json: the design the best trial trained (None while no trial completed)."""
    best = best_trial(study)
    if best is None:
        return None
    source = Path(out) / best.user_attrs.get("run", "") / rundir.DESIGN_FILE
    target = Path(out) / BEST_DIR / rundir.DESIGN_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def best_design(out: str | Path) -> Design:
    """The best trial's design (SearchError while no trial has completed)."""
    path = Path(out) / BEST_DIR / rundir.DESIGN_FILE
    if not path.is_file():
        raise SearchError("no trial has completed yet: there is no best design")
    return load(path)


def trials_table(out: str | Path, plan: Plan, study) -> list[dict[str, Any]]:
    """One row per trial for the app: number, state, value, epochs, the values, why it ended
    early, and its run directory (relative to ``out``)."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state.name == "WAITING":
            continue
        run = t.user_attrs.get("run")
        epochs = len(rundir.read_history(Path(out) / run)) if run else 0
        value = t.value
        if value is None and t.intermediate_values:  # running: its latest epoch
            value = t.intermediate_values[max(t.intermediate_values)]
        row = {"trial": t.number, "state": state_name(t), plan.metric: value, "epochs": epochs}
        row |= {p: value_text(v) for p, v in trial_values(plan, t).items()}
        row["note"] = t.user_attrs.get("reason") or (
            "the design as it was" if t.user_attrs.get("baseline") else ""
        )
        row["run"] = run or ""
        rows.append(row)
    return rows


# ---- pictures (optuna.visualization draws Plotly figures) ----------------------------------------
def _styled(fig, title: str, height: int = 340):
    fig.update_layout(
        title={"text": title, "x": 0.0},
        height=height,
        template="plotly_white",
        margin={"l": 50, "r": 20, "t": 45, "b": 45},
    )
    return fig


def history_figure(study, metric: str):
    from optuna.visualization import plot_optimization_history

    return _styled(plot_optimization_history(study, target_name=metric), f"{metric} trial by trial")


def curves_figure(study, metric: str):
    from optuna.visualization import plot_intermediate_values

    fig = plot_intermediate_values(study)
    fig.update_layout(showlegend=False, xaxis_title="epoch", yaxis_title=metric)
    return _styled(fig, f"{metric} epoch by epoch (pruned trials stop early)")


def parallel_figure(study, metric: str):
    from optuna.visualization import plot_parallel_coordinate

    return _styled(
        plot_parallel_coordinate(study, target_name=metric),
        "Every trial's settings and value",
        height=380,
    )


def importance_figure(study, metric: str):
    """How much each setting mattered (fANOVA); None when there is too little to tell."""
    from optuna.visualization import plot_param_importances

    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if len(complete) < 2:
        return None
    try:
        fig = plot_param_importances(study, target_name=metric)
    except (RuntimeError, ValueError):  # every complete trial tried the same values
        return None
    return _styled(fig, "What mattered most", height=300)
