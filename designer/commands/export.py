"""``export`` and ``import``: designs to Python scripts, ``.keras`` files, deploy formats
(SavedModel, LiteRT, ONNX through Keras' ``model.export``), the graph picture (SVG, PNG) and a
model card (Markdown with its pictures beside it); and ``.keras`` files and Keras code (``.py``,
read with ``ast``, never run) back to designs.

Exit codes (as for every subcommand): 0 success; 1 a problem with the content, one
``node_id: message`` line each on stdout — an invalid design on export (nothing is written),
a design a deploy format cannot hold (one ``DESIGN: ...`` line), or parts of a model a
design cannot hold on import (the design and weights *are* written, so
the user can fix those nodes in the editor); 2 unreadable input — not a design, not a
``.keras`` file, a file refused for safety (Lambda layers, custom code), or an unwritable output.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from designer.codeimport import SourceError, import_file
from designer.design import spec
from designer.errors import EXIT_OK, EXIT_PROBLEM, EXIT_UNREADABLE, CommandError
from designer.model import sidecar
from designer.model.build import DesignInvalid
from designer.model.exporting import (
    DEPLOY_FORMATS,
    DEPLOY_SUFFIX,
    DeployError,
    export_deployable,
    export_keras,
)
from designer.model.importer import ModelFileError, import_keras
from designer.model.sidecar import SidecarError
from designer.report.card import build_card
from designer.report.drawing import design_svg
from designer.report.pictures import graph_png
from designer.text import human_bytes, one_line
from designer.training import rundir
from designer.training.snapshot import RunSnapshot


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a design as a Python script or a .keras model")
    p.add_argument("design", help="design file (JSON)")
    p.add_argument(
        "--format",
        choices=("py", "keras", "savedmodel", "litert", "onnx", "svg", "png", "card"),
        default="py",
        help="py (default), keras, savedmodel (a directory), litert (.tflite), onnx (.onnx), "
        "svg or png (the graph picture alone), card (a Markdown model card, pictures beside it)",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="file to write (model.py / model.keras / DIR / model.tflite / model.onnx / g.svg / "
        "g.png / CARD.md)",
    )
    p.add_argument(
        "--no-weights",
        action="store_true",
        help="keras: ignore DESIGN.weights.h5 beside the design (fresh weights)",
    )
    p.add_argument(
        "--download-weights",
        action="store_true",
        help="keras: fetch ImageNet weights for pretrained bases (default: random, offline)",
    )
    p.add_argument(
        "--run",
        help="savedmodel/litert/onnx: a run directory whose trained model.keras gives the "
        "weights (default: DESIGN.weights.h5 when present, else fresh weights); card: the run "
        "whose metrics, curves and confusion matrix the card shows",
    )
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser(
        "import",
        help="turn a .keras model (+ DESIGN.weights.h5) or Keras code (.py, never run) into a "
        "design",
    )
    p.add_argument("model", help=".keras file, or a .py script with Keras model code")
    p.add_argument("-o", "--output", required=True, help="design file to write (JSON)")
    p.add_argument("--no-weights", action="store_true", help="do not write the weights file")
    p.set_defaults(handler=cmd_import)


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None


def cmd_export(args) -> int:
    design = spec.load(args.design)  # DesignFileError -> exit 2
    out = Path(args.output)
    try:
        if args.format == "py":
            from designer.codegen import generate

            _write_text(out, generate(design))
            print(f"wrote {out}")
            return EXIT_OK
        if args.format == "svg":
            _write_text(out, design_svg(design, max_width=600))
            print(f"wrote {out}")
            return EXIT_OK
        if args.format == "png":
            _write_bytes(out, graph_png(design, max_width=600))
            print(f"wrote {out}")
            return EXIT_OK
        if args.format == "card":
            return _export_card(design, args, out)
        if args.format in DEPLOY_FORMATS:
            return _export_deployable(design, args, out, sidecar.sidecar_path(args.design))
        return _export_keras(design, args, out, sidecar.sidecar_path(args.design))
    except DesignInvalid as exc:
        for line in exc.analysis.lines():
            print(line)
        print(
            f"{args.design}: not exported ({len(exc.analysis.problems)} problem(s))",
            file=sys.stderr,
        )
        return EXIT_PROBLEM


def _export_keras(design, args, out: Path, weights: Path) -> int:
    if out.suffix != ".keras":
        raise CommandError(f"{out}: a Keras model file must end in .keras")
    use = weights if weights.is_file() and not args.no_weights else None
    try:
        report = export_keras(design, out, weights_path=use, offline=not args.download_weights)
    except SidecarError as exc:
        raise CommandError(f"{exc} (pass --no-weights to export without it)") from None
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
    except Exception as exc:
        if "URL fetch failure" in str(exc) or "HTTP" in str(exc):
            raise CommandError(
                f"could not download ImageNet weights (no network?): {one_line(exc, 160)}",
                EXIT_PROBLEM,
            ) from None
        raise
    for line in report.notes + [f"{k}: {v}" for k, v in report.fresh.items()]:
        print(f"note: {line}", file=sys.stderr)
    if use is not None:
        print(f"weights: {len(report.restored)} layer(s) restored from {use.name}", file=sys.stderr)
    print(f"wrote {out} ({report.params:,} params)")
    return EXIT_OK


def _export_deployable(design, args, out: Path, weights: Path) -> int:
    suffix = DEPLOY_SUFFIX[args.format]
    if suffix and out.suffix != suffix:
        raise CommandError(f"{out}: a {args.format} file must end in {suffix}")
    use = weights if weights.is_file() and not args.no_weights else None
    with tempfile.TemporaryDirectory() as tmp:
        if args.run:
            use = _run_weights(design, Path(args.run), Path(tmp) / "run.weights.h5")
        return _deploy(design, args, out, use)


def _run_weights(design, run_dir: Path, sidecar_file: Path) -> Path:
    from designer.report.evaluate import RunModelError, save_run_weights  # numpy

    try:
        return save_run_weights(design, run_dir, sidecar_file)
    except RunModelError as exc:
        raise CommandError(str(exc)) from None


def _export_card(design, args, out: Path) -> int:
    """CARD.md and its pictures beside it, one ``wrote PATH`` line per file."""
    if out.suffix != ".md":
        raise CommandError(f"{out}: a model card is Markdown: the file name must end in .md")
    run = None
    if args.run:
        run = RunSnapshot.of_run_dir(args.run)
        if run is None or not rundir.is_run_dir(Path(args.run)):
            raise CommandError(f"{args.run}: not a run directory (no status.json or design.json)")
    card = build_card(design, stem=out.stem, run=run, source=Path(args.design).name)
    try:
        written = card.write(out)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
    if run is None:
        print("note: no run attached: the card has no metrics (pass --run RUN)", file=sys.stderr)
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def _deploy(design, args, out: Path, use: Path | None) -> int:
    try:
        report = export_deployable(
            design, out, args.format, weights_path=use, offline=not args.download_weights
        )
    except DeployError as exc:
        print(f"{args.design}: {exc}")
        return EXIT_PROBLEM
    except SidecarError as exc:
        raise CommandError(f"{exc} (pass --no-weights to export without it)") from None
    for line in report.notes + [f"{k}: {v}" for k, v in report.fresh.items()]:
        print(f"note: {line}", file=sys.stderr)
    if use is not None:
        source = args.run or use.name
        print(f"weights: {len(report.restored)} layer(s) restored from {source}", file=sys.stderr)
    print(f"wrote {out} ({human_bytes(_size(out))})")
    return EXIT_OK


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def cmd_import(args) -> int:
    if Path(args.model).suffix.lower() == ".py":
        return _import_code(args)
    try:
        result = import_keras(args.model)
    except ModelFileError as exc:
        raise CommandError(str(exc), EXIT_UNREADABLE) from None
    out = Path(args.output)
    try:
        weights = result.write(out, weights=not args.no_weights)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    for line in result.lines():
        print(line)
    kept = f" and {weights}" if weights else ""
    print(f"wrote {out}{kept} ({len(result.design.nodes)} nodes)", file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_PROBLEM


def _import_code(args) -> int:
    """A Python script read with ``ast`` (never run): 0 nothing dropped (assumptions as
    ``line N: ...`` notes on stderr), 1 something dropped or no model (``line N: ...`` lines
    on stdout), 2 not Python (``line N: syntax error ...``)."""
    try:
        result = import_file(args.model)
    except SourceError as exc:
        text = str(exc)
        if text.startswith("line "):
            print(text)
            raise CommandError(f"{args.model}: not read (a syntax error)") from None
        raise CommandError(f"{args.model}: {text}") from None
    for line in result.note_lines():
        print(line, file=sys.stderr)
    for line in result.problem_lines():
        print(line)
    if result.design is None:
        print(f"{args.model}: no design written", file=sys.stderr)
        return EXIT_PROBLEM
    out = Path(args.output)
    try:
        result.design.save(out)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
    sidecar.sidecar_path(out).unlink(missing_ok=True)  # an earlier import's weights: not these
    print(f"wrote {out} ({len(result.design.nodes)} nodes)", file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_PROBLEM
