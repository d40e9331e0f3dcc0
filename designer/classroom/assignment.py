"""Creating and reading an assignment folder (see the package docstring for its files).

The data set is split once, when the assignment is created: a seeded, stratified share goes to
``hidden/test.npz``; the rest to ``data/train.npz``. Both are scaled with the data set's own
preprocessing fitted on the training part, so the hidden ``x`` is exactly what a model trained
on the training part takes. A student's design trains on ``data/train.npz`` as an uploaded
NPZ (scaling ``none``: it is scaled already) and splits its own validation and test rows from
it, so nothing a student runs ever touches a hidden row.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer import settings
from designer.data import DataError, get_info
from designer.data.builtin import load_raw
from designer.data.preprocess import fit_scaling, split_indices
from designer.data.types import apply_scaling
from designer.design import catalog, templates
from designer.design.spec import DataSpec, Design, DesignFileError
from designer.design.spec import load as load_design_file
from designer.errors import DesignerError

from .rules import Rules

ASSIGNMENT_FILE = "assignment.json"
TEMPLATE_FILE = "template.json"
TRAIN_FILE = "data/train.npz"
HIDDEN_FILE = "hidden/test.npz"
TEACHER_FILE = "teacher.json"


class AssignmentError(DesignerError):
    """An assignment that cannot be made or read, or a request it refuses; one line."""


@dataclass
class Assignment:
    folder: Path
    title: str
    dataset: str
    task: str  # classification | regression
    template_id: str | None
    rules: Rules
    test_fraction: float
    seed: int
    n_train: int
    n_hidden: int
    instructions: str = ""
    open: bool = True
    rate_limit_s: float = 10.0
    created: float = field(default_factory=time.time)

    # ---- files ------------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        return self.folder / name

    @property
    def train_file(self) -> Path:
        return self.path(TRAIN_FILE)

    @property
    def hidden_file(self) -> Path:
        return self.path(HIDDEN_FILE)

    @property
    def teacher_file(self) -> Path:
        return self.path(TEACHER_FILE)

    @property
    def metric(self) -> str:
        return "r2" if self.task == "regression" else "accuracy"

    def data_spec(self, base: DataSpec | None = None) -> DataSpec:
        """What a student's design trains on: the training part, with the design's own
        validation/test fractions and seed (``base``) but never another data source."""
        base = base or DataSpec()
        return DataSpec(
            dataset="upload",
            path=str(self.train_file.resolve()),
            validation_split=base.validation_split,
            test_split=base.test_split,
            seed=base.seed,
            scaling="none",
        )

    def template(self) -> Design:
        """The starting design, reading this folder's training part wherever the folder is."""
        try:
            design = load_design_file(self.path(TEMPLATE_FILE))
        except (OSError, DesignFileError) as exc:
            raise AssignmentError(f"{self.path(TEMPLATE_FILE)}: {exc}") from None
        design.data = self.data_spec(design.data)
        return design

    def uses_own_data(self, data: DataSpec) -> bool:
        """Did a design with this data section train on this assignment's training part?"""
        if data.dataset != "upload" or not data.path:
            return False
        try:
            return Path(data.path).resolve().samefile(self.train_file)
        except OSError:
            return False

    # ---- the file students may see -----------------------------------------------------
    def public(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "dataset": self.dataset,
            "task": self.task,
            "template": self.template_id,
            "instructions": self.instructions,
            "rules": self.rules.to_dict(),
            "test_fraction": self.test_fraction,
            "seed": self.seed,
            "n_train": self.n_train,
            "n_hidden": self.n_hidden,
            "open": self.open,
            "rate_limit_s": self.rate_limit_s,
            "created": self.created,
        }

    def save(self) -> None:
        settings.atomic_write_text(
            self.path(ASSIGNMENT_FILE), json.dumps(self.public(), indent=1) + "\n"
        )

    def set_open(self, is_open: bool) -> None:
        self.open = is_open
        self.save()


def load(folder: str | Path) -> Assignment:
    folder = Path(folder)
    path = folder / ASSIGNMENT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Assignment(
            folder=folder,
            title=str(data["title"]),
            dataset=str(data["dataset"]),
            task=str(data["task"]),
            template_id=data.get("template"),
            rules=Rules.from_dict(data.get("rules") or {}),
            test_fraction=float(data["test_fraction"]),
            seed=int(data["seed"]),
            n_train=int(data["n_train"]),
            n_hidden=int(data["n_hidden"]),
            instructions=str(data.get("instructions") or ""),
            open=bool(data.get("open", True)),
            rate_limit_s=float(data.get("rate_limit_s", 10.0)),
            created=float(data.get("created") or 0.0),
        )
    except FileNotFoundError:
        raise AssignmentError(f"{folder} holds no assignment (no {ASSIGNMENT_FILE})") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssignmentError(f"{path} is damaged: {exc}") from None


# ---- creating one ---------------------------------------------------------------------------
def starting_design(dataset: str, template_id: str | None) -> tuple[Design, str | None]:
    """The template asked for; else the first template made for ``dataset``; else the
    smallest design that fits it (Input, Flatten, one Dense output)."""
    if template_id is not None:
        if template_id not in templates.TEMPLATES:
            known = ", ".join(templates.TEMPLATES)
            raise AssignmentError(f"unknown template {template_id!r} (known: {known})")
        return templates.get(template_id), template_id
    for tid, t in templates.TEMPLATES.items():
        if t.dataset == dataset:
            return templates.get(tid), tid
    info = get_info(dataset)
    design = templates.blank()
    design.name = f"{dataset}-start"
    design.node("input").params = {"shape": list(info.input_shape)}
    regression = info.task == "regression"
    design.node("output").params = {
        "units": 1 if regression else info.num_classes,
        "activation": None if regression else "softmax",
    }
    return design, None


def check_request(
    template: Design, rules: Rules, test_fraction: float, info_task: str, kind: str
) -> None:
    """What ``class create`` refuses before it loads any data (one line each time)."""
    if not 0 < test_fraction < 1:
        raise AssignmentError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
    if kind == "sequence":
        raise AssignmentError("text data sets cannot be assignments yet: choose another set")
    if info_task not in ("classification", "regression"):
        raise AssignmentError(f"a {info_task} data set cannot be scored")
    for value, flag in ((rules.max_params, "--max-params"), (rules.max_epochs, "--max-epochs")):
        if value is not None and value < 1:
            raise AssignmentError(f"{flag} must be at least 1")
    for layer_type in rules.allow or []:
        if catalog.get(layer_type) is None:
            raise AssignmentError(f"--allow: {layer_type!r} is not a layer type (see `layers`)")
    missing = [n for n in rules.lock if n not in template.node_ids()]
    if missing:
        raise AssignmentError(
            f"--lock: the template has no node {missing[0]!r} "
            f"(its nodes: {', '.join(template.node_ids())})"
        )
    refused = sorted({n.type for n in template.nodes if not rules.allows(n.type)})
    if refused:
        raise AssignmentError(
            f"the template uses {', '.join(refused)}, which --allow leaves out: allow them too"
        )


def create(
    folder: str | Path,
    dataset: str,
    *,
    template_id: str | None = None,
    title: str | None = None,
    rules: Rules | None = None,
    test_fraction: float = 0.2,
    seed: int = 42,
    instructions: str = "",
) -> Assignment:
    """Write a new assignment into ``folder`` (new or empty): split, scale and save the data,
    the starting design and ``assignment.json``. The passphrase is the caller's to write."""
    import numpy as np

    folder = Path(folder)
    if (folder / ASSIGNMENT_FILE).exists():
        raise AssignmentError(f"{folder} already holds an assignment; choose a new folder")
    if folder.exists() and not folder.is_dir():
        raise AssignmentError(f"{folder} is a file, not a folder")
    rules = rules or Rules()
    try:
        info = get_info(dataset)
    except DataError as exc:
        raise AssignmentError(str(exc)) from None
    template, template_id = starting_design(dataset, template_id)
    check_request(template, rules, test_fraction, info.task, info.kind)

    try:
        raw = load_raw(dataset, seed=seed)
    except DataError as exc:
        raise AssignmentError(str(exc)) from None
    # Sets that ship their own test split pool it with the rest: the assignment draws its own.
    x, y = raw.x, raw.y
    if raw.x_test is not None:
        x, y = np.concatenate([x, raw.x_test]), np.concatenate([y, raw.y_test])
    rest, hidden = split_indices(y, (test_fraction,), seed, info.task != "regression")
    if len(hidden) == 0 or len(rest) < 10:
        raise AssignmentError(
            f"'{dataset}' has {len(y)} samples: too few for a {test_fraction} hidden share"
        )
    scaling = fit_scaling(x[rest], info.kind, "auto", raw.pixel_max)
    y_dtype = np.float32 if info.task == "regression" else np.int64

    def save_part(rel: str, idx) -> None:
        with settings.atomic_path(folder / rel) as tmp, open(tmp, "wb") as f:
            np.savez(
                f, x=apply_scaling(x[idx], scaling, info.input_dtype), y=y[idx].astype(y_dtype)
            )

    folder.mkdir(parents=True, exist_ok=True)
    save_part(TRAIN_FILE, rest)
    save_part(HIDDEN_FILE, hidden)

    design = template
    design.data = DataSpec(dataset="upload", path=TRAIN_FILE, scaling="none", seed=seed)
    if rules.max_epochs is not None:
        design.training.epochs = min(design.training.epochs, rules.max_epochs)
    design.save(folder / TEMPLATE_FILE)

    assignment = Assignment(
        folder=folder,
        title=title or f"{info.name}: best {'R²' if info.task == 'regression' else 'accuracy'}",
        dataset=dataset,
        task=info.task,
        template_id=template_id,
        rules=rules,
        test_fraction=test_fraction,
        seed=seed,
        n_train=len(rest),
        n_hidden=len(hidden),
        instructions=instructions,
    )
    assignment.save()
    return assignment
