"""``explain``: where a run's image model looks for one test sample (Grad-CAM, saliency,
integrated gradients), as a PNG of the input and the overlay, and optionally the raw heatmap.

Exit codes (as for every subcommand): 0 success; 1 the method does not apply to the model
(one line: no convolution layer for Grad-CAM, an input that is not an image); 2 unreadable
input (not a run with a trained model, a test sample that does not exist, an unwritable file).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from designer.errors import EXIT_OK, EXIT_PROBLEM, EXIT_UNREADABLE, CommandError
from designer.report.explain import METHODS, ExplainError
from designer.text import one_line


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain",
        help="show where a run's image model looks for one test sample (Grad-CAM, saliency, "
        "integrated gradients)",
    )
    p.add_argument("run", help="run directory (with model.keras)")
    p.add_argument(
        "--index",
        type=int,
        required=True,
        metavar="N",
        help="test sample N of the run's data (its test split, in the data set's own order)",
    )
    p.add_argument("--method", choices=METHODS, required=True)
    p.add_argument("--layer", metavar="NODE", help="gradcam: the layer (default: the last conv)")
    p.add_argument(
        "--class",
        dest="class_",
        metavar="C",
        help="the class to explain, an index or a name (default: the predicted one)",
    )
    p.add_argument("-o", "--output", required=True, help="PNG to write (input and overlay)")
    p.add_argument("--npy", help="also save the heatmap (height × width floats) as .npy")
    p.set_defaults(handler=cmd_explain)


def cmd_explain(args) -> int:
    import numpy as np

    from designer.data import load_dataset
    from designer.report.evaluate import load_run_model
    from designer.report.explain import class_from_text, explain, overlay_png

    run = Path(args.run)
    try:
        design = json.loads((run / "design.json").read_text(encoding="utf-8"))
        limit = json.loads((run / "run.json").read_text(encoding="utf-8")).get("limit")
        model = load_run_model(run)
    except (OSError, ValueError) as exc:
        raise CommandError(f"{run}: not a run with a trained model ({one_line(exc)})") from None
    data = load_dataset(design.get("data") or {}, limit=limit)
    n = len(data.x_test)
    if not 0 <= args.index < n:
        raise CommandError(
            f"--index {args.index}: the run's test split has {n} samples (0-{n - 1})"
        )
    sample = data.x_test[args.index]
    names = list(data.info.class_names or [])
    try:
        found = explain(
            model,
            sample,
            args.method,
            class_index=class_from_text(args.class_, names),
            layer=args.layer,
        )
    except ExplainError as exc:
        print(f"error: {exc}")
        return EXIT_PROBLEM
    label = names[found.class_index] if found.class_index < len(names) else str(found.class_index)
    truth = np.asarray(data.y_test[args.index]).reshape(-1)
    true_text = ""
    if names and truth.size == 1:
        true_text = f" · true class {names[int(truth[0])]}"
    caption = f"test sample {args.index}{true_text} · explained: {label}"
    if found.probability is not None:
        caption += f" ({found.probability:.0%})"
    try:
        Path(args.output).write_bytes(overlay_png(sample, found, caption))
        if args.npy:
            np.save(args.npy, found.heatmap)
    except OSError as exc:
        raise CommandError(f"cannot write: {exc.strerror or exc}", EXIT_UNREADABLE) from None
    where = f" at layer {found.layer}" if found.layer else ""
    print(f"wrote {args.output}: {args.method}{where} for class {label}")
    return EXIT_OK
