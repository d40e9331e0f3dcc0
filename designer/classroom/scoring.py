"""Checking a design against an assignment, and scoring a run on the hidden test set.

The same checks run before training (``train --assignment``, the Train page) and again at
submission, on the design the run directory recorded: a rule broken after training, a run
trained on other data (the built-in set holds the hidden rows), or a model that is not the
run's design is refused before anything is scored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from designer.design.spec import Design, DesignFileError
from designer.design.spec import load as load_design_file
from designer.errors import DesignerError
from designer.model.build import analyze
from designer.model.modelfile import load as load_model_file
from designer.training import rundir

from .assignment import Assignment, AssignmentError
from .rules import Broken, broken_rules
from .submissions import Submission, TooSoon, append, read_submissions, wait_left


class RulesBroken(DesignerError):
    """The design breaks rules: ``broken`` holds one entry per rule, for one line each."""

    def __init__(self, broken: list[Broken]):
        super().__init__("; ".join(b.line() for b in broken))
        self.broken = broken


def param_count(design: Design) -> int | None:
    """The design's parameters as Keras counts them (None: the design does not build)."""
    analysis = analyze(design)
    return analysis.total_params if analysis.ok else None


def check_design(assignment: Assignment, design: Design, epochs: int) -> list[Broken]:
    return broken_rules(
        design,
        assignment.rules,
        assignment.template(),
        params=param_count(design),
        epochs=epochs,
    )


@dataclass(frozen=True)
class Scored:
    score: float
    params: int
    epochs: int


def score_run(assignment: Assignment, run_dir: str | Path) -> Scored:
    """The run's model scored on the hidden rows; AssignmentError or RulesBroken when refused."""
    import numpy as np

    run = Path(run_dir)
    try:
        design = load_design_file(run / rundir.DESIGN_FILE)
    except (OSError, DesignFileError):
        raise AssignmentError(f"{run} is not a run directory (no readable design.json)") from None
    status = rundir.read_status(run)
    if status.get("status") in rundir.ACTIVE:
        raise AssignmentError(f"{run.name} is still {status['status']}: submit it once it ends")
    epochs = int(status.get("epochs_done") or 0)
    broken = check_design(assignment, design, epochs)
    if broken:
        raise RulesBroken(broken)
    if not assignment.uses_own_data(design.data):
        raise AssignmentError(
            f"{run.name} was not trained on this assignment's data: "
            f"train it with --assignment {assignment.folder}"
        )
    model_file = run / rundir.MODEL_FILE
    if not model_file.is_file():
        raise AssignmentError(f"{run.name} has no model.keras yet: train it first")
    model = load_model_file(model_file)
    with np.load(assignment.hidden_file, allow_pickle=False) as hidden:
        x, y = hidden["x"], hidden["y"]
    params = param_count(design)
    shape = tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else None
    if params != model.count_params() or shape is None or tuple(shape) != x.shape[1:]:
        raise AssignmentError(f"{run.name}: model.keras is not the model its design.json describes")
    predicted = np.asarray(model.predict(x, batch_size=256, verbose=0))
    if assignment.task == "regression":
        from sklearn.metrics import r2_score

        score = float(r2_score(y, predicted.reshape(len(y), -1)[:, 0]))
    else:
        flat = predicted.reshape(len(y), -1)
        classes = (flat[:, 0] > 0.5).astype(int) if flat.shape[1] == 1 else flat.argmax(axis=1)
        score = float((classes == y).mean())
    return Scored(score=score, params=int(params), epochs=epochs)


def submit(
    assignment: Assignment, run_dir: str | Path, name: str, *, now: float | None = None
) -> Submission:
    """Check, score and record a submission under ``name`` (already a valid name)."""
    if not assignment.open:
        raise AssignmentError("submissions are closed for this assignment")
    started = time.time() if now is None else now
    # Refused before the (slow) scoring, and again under the log's lock when recording.
    wait = wait_left(read_submissions(assignment.folder), name, assignment.rate_limit_s, started)
    if wait > 0:
        raise AssignmentError(str(TooSoon(name, wait)))
    scored = score_run(assignment, run_dir)
    sub = Submission(
        name=name,
        score=scored.score,
        params=scored.params,
        epochs=scored.epochs,
        run=str(Path(run_dir).resolve()),
        submitted_at=time.time() if now is None else now,  # when it is recorded
        metric=assignment.metric,
    )
    try:
        append(assignment.folder, sub, limit_s=assignment.rate_limit_s)
    except TooSoon as exc:
        raise AssignmentError(str(exc)) from None
    return sub
