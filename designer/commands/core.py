"""Core subcommands: templates, layers, new, link, validate, summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from designer.cli import EXIT_OK, EXIT_PROBLEM, CommandError
from designer.design import catalog, linking, spec, templates
from designer.model.build import analyze, summary_rows
from designer.model.validate import validate


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("templates", help="list the ready-made designs, one per line")
    p.set_defaults(handler=cmd_templates)

    p = sub.add_parser("layers", help="list the supported layer types, one per line")
    p.set_defaults(handler=cmd_layers)

    p = sub.add_parser("new", help="write a new design from a template or a shared link")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--template", help="template id (see `templates`; default digits-mlp)")
    source.add_argument("--link", metavar="URL", help="a link made by `link` or Copy link")
    p.add_argument("-o", "--output", required=True, help="design file to write")
    p.set_defaults(handler=cmd_new)

    p = sub.add_parser("link", help="print a link that opens the design in the app")
    p.add_argument("design", help="design file (JSON)")
    p.add_argument(
        "--base",
        default=linking.DEFAULT_BASE,
        metavar="URL",
        help=f"the app's address (default {linking.DEFAULT_BASE})",
    )
    p.set_defaults(handler=cmd_link)

    p = sub.add_parser("validate", help="check a design; one 'node: problem' line per problem")
    p.add_argument("design", help="design file (JSON)")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("summary", help="layer table with output shapes and parameter counts")
    p.add_argument("design", help="design file (JSON)")
    p.set_defaults(handler=cmd_summary)


def cmd_templates(args) -> int:
    for t in templates.TEMPLATES.values():
        print(f"{t.id}\t{t.title}: {t.description}")
    return EXIT_OK


def cmd_layers(args) -> int:
    for spec_ in catalog.LAYERS.values():
        print(f"{spec_.type}\t{spec_.category}\t{spec_.help}")
    return EXIT_OK


def cmd_new(args) -> int:
    if args.link is not None:
        try:
            design = linking.read_link(args.link)
        except linking.LinkError as exc:
            raise CommandError(str(exc)) from None
    else:
        template = args.template or "digits-mlp"
        if template not in templates.TEMPLATES:
            known = ", ".join(templates.TEMPLATES)
            raise CommandError(f"unknown template {template!r} (known: {known})")
        design = templates.get(template)
    out = Path(args.output)
    try:
        design.save(out)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote {out}")
    return EXIT_OK


def cmd_link(args) -> int:
    try:
        print(linking.make_link(load_design(args.design), args.base))
    except linking.LinkError as exc:
        raise CommandError(f"{args.design}: {exc}", EXIT_PROBLEM) from None
    return EXIT_OK


def load_design(path: str) -> spec.Design:
    """Read a design for a subcommand; not-a-design raises DesignFileError (exit 2)."""
    return spec.load(path)


def cmd_validate(args) -> int:
    analysis = validate(load_design(args.design))
    for line in analysis.lines():
        print(line)
    for r in analysis.nodes.values():
        if r.warning:
            print(f"warning: {r.id}: {r.warning}", file=sys.stderr)
    if analysis.ok:
        print(f"{args.design}: valid ({analysis.total_params:,} params)", file=sys.stderr)
        return EXIT_OK
    return EXIT_PROBLEM


def cmd_summary(args) -> int:
    design = load_design(args.design)
    analysis = analyze(design)
    rows = summary_rows(design, analysis)
    headers = ("Node", "Type", "Output shape", "Params")
    table = [(r["node"], r["type"], r["output_shape"], f"{r['params']:,}") for r in rows]
    widths = [max([len(h)] + [len(row[i]) for row in table]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("-" * len(line))
    for row in table:
        print(
            "  ".join(
                c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))
            )
        )
    print("-" * len(line))
    for problem in analysis.lines():
        print(f"problem: {problem}", file=sys.stderr)
    trainable = analysis.trainable_params
    print(f"Trainable params: {trainable:,}")
    print(f"Non-trainable params: {analysis.total_params - trainable:,}")
    print(f"Total params: {analysis.total_params:,}")
    return EXIT_OK if analysis.ok else EXIT_PROBLEM
