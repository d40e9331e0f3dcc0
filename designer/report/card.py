"""The model card: one Markdown file that says what a model is and, with a run, how it did.

It holds the graph as a picture, the layer table (output shapes and parameter counts from
Keras itself, as ``keras-designer summary`` and the Design page show them), the data set, the
compile and training settings and, when a run is attached, its final metrics, its curves and
(classification) its confusion matrix. The pictures are PNG files beside the card, named after
it (``CARD-graph.png``...), so the card reads the same on GitHub, in an editor's preview or
turned into a PDF.

The card is built in memory (:func:`build_card`): the command line writes it beside
``CARD.md``, the Export page zips it. The run arrives as a
:class:`designer.training.snapshot.RunSnapshot` (the caller reads it; ``designer/report`` sits
below ``designer/training``).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from designer import settings
from designer.data import DataError, builtin_task, get_info
from designer.design.compiling import optimizer_kwargs, resolve
from designer.design.spec import Design
from designer.model.build import summary_rows
from designer.model.exporting import check
from designer.report import pictures
from designer.report.drawing import layer_caption
from designer.text import shape_text

if TYPE_CHECKING:
    from designer.training.snapshot import RunSnapshot

# How the scores of metrics.json (designer.report.evaluate.report) read in a card.
SCORE_LABELS = {
    "n": "samples",
    "macro_precision": "precision (macro average)",
    "macro_recall": "recall (macro average)",
    "macro_f1": "F1 (macro average)",
    "auc": "ROC AUC",
    "mae": "mean absolute error",
    "mse": "mean squared error",
    "rmse": "root mean squared error",
    "r2": "R²",
    "baseline_mse": "mean squared error of always predicting the mean",
}
NO_RUN = "No run is attached: this card describes the untrained design (no metrics yet)."


@dataclass
class Card:
    markdown: str
    images: dict[str, bytes] = field(default_factory=dict)  # file name beside the card -> PNG

    def write(self, path: str | Path) -> list[Path]:
        """Write the card at ``path`` and its pictures beside it; the paths written, card
        first. Each file is replaced in one step (a reader never sees half of it)."""
        path = Path(path)
        written = [path]
        settings.atomic_write_text(path, self.markdown)
        for name, data in self.images.items():
            settings.atomic_write_bytes(path.with_name(name), data)
            written.append(path.with_name(name))
        return written


def build_card(
    design: Design,
    *,
    stem: str = "CARD",
    run: RunSnapshot | None = None,
    source: str | None = None,
) -> Card:
    """The card of ``design`` (``stem``: the card's file name without ``.md``, which names
    the pictures; ``source``: the design file, for the first lines).

    Raises :class:`designer.model.build.DesignInvalid` for a design that does not build: its
    layer table would be guesses.
    """
    analysis = check(design)
    images = {f"{stem}-graph.png": pictures.graph_png(design)}
    out = [f"# {design.name}: model card", ""]
    if design.description.strip():
        out += [design.description.strip(), ""]
    made = _dt.date.today().isoformat()
    origin = f" from `{source}`" if source else ""
    out += [f"_Written by Keras Designer on {made}{origin}._", ""]
    out += [f"![The layer graph of {design.name}]({stem}-graph.png)", ""]
    out += _layers(design, analysis)
    out += _data(design)
    out += _compile(design)
    out += _training(design)
    out += ["## Results", ""]
    if run is None:
        out += [NO_RUN, ""]
    else:
        out += _run(design, run, stem, images)
    return Card("\n".join(out).rstrip() + "\n", images)


# ---- sections ------------------------------------------------------------------------------------
def _cell(text: Any) -> str:
    """A Markdown table cell: pipes would end it, newlines would end the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _layers(design: Design, analysis: Any) -> list[str]:
    out = [
        "## Layers",
        "",
        "| Layer | Type | Output shape | Parameters |",
        "|---|---|---|---:|",
    ]
    for row in summary_rows(design, analysis):
        out.append(
            f"| `{row['node']}` | {row['type']} | {_cell(row['output_shape'])} "
            f"| {row['params']:,} |"
        )
    total, trainable = analysis.total_params, analysis.trainable_params
    out += [
        "",
        f"**Total parameters: {total:,}** (trainable {trainable:,}, "
        f"non-trainable {total - trainable:,}).",
        "",
    ]
    return out


def _data(design: Design) -> list[str]:
    d = design.data
    out = ["## Data", ""]
    if d.dataset == "upload":
        out.append(f"- Data set: an uploaded file, `{Path(d.path or '?').name}`")
        if d.target:
            out.append(f"- Target column: `{d.target}`")
    elif d.dataset:
        try:
            info = get_info(d.dataset)
        except DataError:
            out.append(f"- Data set: `{d.dataset}` (not a data set this version knows)")
        else:
            out.append(f"- Data set: **{info.name}** (`{info.id}`): {info.description}")
            classes = f", {len(info.class_names)} classes" if info.class_names else ""
            size = f", {info.n_samples:,} samples" if info.n_samples else ""
            sample = shape_text((None, *info.input_shape))
            out.append(f"- Task: {info.task}{classes}; one sample is {sample}{size}")
    else:
        out.append("- Data set: none chosen yet")
    out.append(
        f"- Split: {d.validation_split:.0%} validation, {d.test_split:.0%} test "
        f"(seed {d.seed}); scaling: {d.scaling}"
    )
    if design.augmentation:
        out.append(
            "- Augmentation (training only): "
            + ", ".join(_cell(layer_caption(n)) for n in design.augmentation)
        )
    return out + [""]


def _compile(design: Design) -> list[str]:
    c = resolve(design, builtin_task(design.data.dataset))
    kwargs = optimizer_kwargs(c)
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) or "Keras' defaults"
    return [
        "## Compile settings",
        "",
        f"- Optimizer: {c.optimizer} ({args})",
        f"- Loss: `{c.loss}`",
        f"- Metrics: {', '.join(f'`{m}`' for m in c.metrics or []) or 'none'}",
        "",
    ]


def _training(design: Design) -> list[str]:
    t = design.training
    out = [
        "## Training settings",
        "",
        f"- Epochs: {t.epochs}; batch size: {t.batch_size}; seed: {t.seed}",
    ]
    if t.early_stopping:
        out.append(f"- Early stopping on `{t.monitor}` (patience {t.patience})")
    if t.reduce_lr:
        out.append(f"- Learning rate reduced on a plateau of `{t.monitor}`")
    if t.checkpoint:
        out.append(f"- The best epoch by `{t.monitor}` is kept (best.keras)")
    if t.devices > 1:
        out.append(f"- Data parallel on {t.devices} devices")
    return out + [""]


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    if isinstance(value, int) or abs(value) >= 1e4:  # 23,750 rather than 2.375e+04
        return f"{value:,.0f}"
    return f"{value:.4g}"


def same_graph(a: Design, b: Design) -> bool:
    """The same layers with the same settings, connected the same way (names, layout, data
    and training settings aside): a run of ``a`` is a run of ``b``."""
    da, db = a.to_dict(), b.to_dict()
    return all(da[k] == db[k] for k in ("nodes", "edges", "outputs", "augmentation"))


def _run(design: Design, run: RunSnapshot, stem: str, images: dict[str, bytes]) -> list[str]:
    epochs = f"{run.epoch} epoch{'s' if run.epoch != 1 else ''}"
    data = f" on `{run.dataset}`" if run.dataset else ""
    limit = f" (at most {run.limit:,} samples per split)" if run.limit else ""
    out = [f"Run `{run.run_id}`: {run.status}, {epochs}{data}{limit}.", ""]
    trained = run.trained_design()
    if trained is not None and not same_graph(trained, design):
        out += [
            "**Note:** the run trained another version of this design (its layers or "
            "connections differ from the table above): the results are that version's.",
            "",
        ]
    metrics = run.metrics or {}
    keras_loss = (metrics.get("keras") or {}).get("loss")
    scores = {"loss": keras_loss} if isinstance(keras_loss, (int, float)) else {}
    scores |= {
        k: v
        for k, v in metrics.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "seconds"
    }
    split = metrics.get("split") or "test"
    out += ["### Final metrics", ""]
    if scores:
        out += [f"| {split.capitalize()} set | Value |", "|---|---:|"]
        out += [f"| {_cell(SCORE_LABELS.get(k, k))} | {_number(v)} |" for k, v in scores.items()]
        out.append("")
    else:
        why = "it is still training" if run.active else "it ended before its evaluation"
        out += [f"The run has no test metrics yet ({why}).", ""]
    if run.history:
        last = run.history[-1]
        names = pictures.curve_metrics(run.history)
        out += [f"| Last epoch ({last.get('epoch', len(run.history))}) | Training | Validation |"]
        out += ["|---|---:|---:|"]
        for name in names:
            out.append(
                f"| {_cell(name)} | {_number(last.get(name, '–'))} "
                f"| {_number(last.get(f'val_{name}', '–'))} |"
            )
        out.append("")
        images[f"{stem}-curves.png"] = pictures.curves_png(run.history)
        out += ["### Curves", "", f"![Training curves]({stem}-curves.png)", ""]
    matrix = metrics.get("confusion_matrix")
    if metrics.get("task") == "classification" and matrix:
        images[f"{stem}-confusion.png"] = pictures.confusion_png(
            matrix, metrics.get("class_names") or [], f"Confusion matrix ({split} set)"
        )
        out += ["### Confusion matrix", "", f"![Confusion matrix]({stem}-confusion.png)", ""]
        out += _per_class(metrics.get("per_class") or [])
    return out


def _per_class(rows: list[dict[str, Any]]) -> list[str]:
    if not rows or len(rows) > 30:
        return []
    out = ["| Class | Precision | Recall | F1 | Support |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        out.append(
            f"| {_cell(r.get('class'))} | {_number(r.get('precision'))} "
            f"| {_number(r.get('recall'))} | {_number(r.get('f1'))} | {_number(r.get('support'))} |"
        )
    return out + [""]
