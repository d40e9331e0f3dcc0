"""``export`` and ``import``: designs to Python scripts and ``.keras`` files, and back.

Exit codes (as for every subcommand): 0 success; 1 a problem with the content, one
``node_id: message`` line each on stdout — an invalid design on export (nothing is written),
or parts of a model a design cannot hold on import (the design and weights *are* written, so
the user can fix those nodes in the editor); 2 unreadable input — not a design, not a
``.keras`` file, a file refused for safety (Lambda layers, custom code), or an unwritable output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from designer.errors import EXIT_OK, EXIT_PROBLEM, EXIT_UNREADABLE, CommandError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a design as a Python script or a .keras model")
    p.add_argument("design", help="design file (JSON)")
    p.add_argument("--format", choices=("py", "keras"), default="py", help="py (default) or keras")  # fmt: skip
    p.add_argument("-o", "--output", required=True, help="file to write (model.py / model.keras)")
    p.add_argument("--no-weights", action="store_true",
                   help="keras: ignore DESIGN.weights.h5 beside the design (fresh weights)")  # fmt: skip
    p.add_argument("--download-weights", action="store_true",
                   help="keras: fetch ImageNet weights for pretrained bases (default: random, offline)")  # fmt: skip
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("import", help="turn a .keras model into a design (+ DESIGN.weights.h5)")
    p.add_argument("model", help=".keras file")
    p.add_argument("-o", "--output", required=True, help="design file to write (JSON)")
    p.add_argument("--no-weights", action="store_true", help="do not write the weights file")
    p.set_defaults(handler=cmd_import)


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None


def cmd_export(args) -> int:
    from designer import sidecar, spec
    from designer.build import DesignInvalid

    design = spec.load(args.design)  # DesignFileError -> exit 2
    out = Path(args.output)
    try:
        if args.format == "py":
            from designer.codegen import generate

            _write_text(out, generate(design))
            print(f"wrote {out}")
            return EXIT_OK
        return _export_keras(design, args, out, sidecar.sidecar_path(args.design))
    except DesignInvalid as exc:
        for line in exc.analysis.lines():
            print(line)
        print(f"{args.design}: not exported ({len(exc.analysis.problems)} problem(s))", file=sys.stderr)  # fmt: skip
        return EXIT_PROBLEM


def _export_keras(design, args, out: Path, weights: Path) -> int:
    from designer.exporting import export_keras
    from designer.sidecar import SidecarError

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
            raise CommandError(f"could not download ImageNet weights (no network?): {' '.join(str(exc).split())[:160]}", EXIT_PROBLEM) from None  # fmt: skip
        raise
    for line in report.notes + [f"{k}: {v}" for k, v in report.fresh.items()]:
        print(f"note: {line}", file=sys.stderr)
    if use is not None:
        print(f"weights: {len(report.restored)} layer(s) restored from {use.name}", file=sys.stderr)  # fmt: skip
    print(f"wrote {out} ({report.params:,} params)")
    return EXIT_OK


def cmd_import(args) -> int:
    from designer.importer import ModelFileError, import_keras

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
