"""``bench``: the speed figures of BENCHMARKS.md, measured by ``tools/bench.py``.

The benchmark measures the app (``app.py`` and its pages), which is not part of the installed
package: it lives in the checkout beside the app, and this command runs it from there (the
current directory or ``--checkout DIR``).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from designer.errors import EXIT_OK, CommandError

TOOL = Path("tools") / "bench.py"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure training overhead, editor latency, start-up, memory")
    p.add_argument("--json", action="store_true", help="print one JSON object with every figure")
    p.add_argument(
        "--details",
        action="store_true",
        help="with --json: also the measurements behind the figures, under 'details' (each "
        "fit pair with the CPU time the host took meanwhile, each edit, the class)",
    )
    p.add_argument("--pairs", type=int, default=5, help="runner/plain fit pairs (default 5)")
    p.add_argument(
        "--epochs", type=int, default=3, help="epochs per fit, the first not timed (default 3)"
    )
    p.add_argument(
        "--class-students",
        type=int,
        default=30,
        help="simulated students for class_wait_s (default 30, about 7 minutes; 0 skips it)",
    )
    p.add_argument(
        "--checkout",
        default=".",
        help="the keras-designer checkout holding tools/bench.py and app.py (default: here)",
    )
    p.set_defaults(handler=cmd_bench)


def load_tool(checkout: str) -> ModuleType:
    path = Path(checkout).expanduser().resolve() / TOOL
    if not path.is_file():
        raise CommandError(
            f"no {TOOL} in {Path(checkout).resolve()}: the benchmark runs from a checkout of "
            "keras-designer (cd into it or pass --checkout DIR)"
        )
    spec = importlib.util.spec_from_file_location("keras_designer_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cmd_bench(args) -> int:
    bench = load_tool(args.checkout)
    results = bench.run(
        args.pairs, args.epochs, lambda m: print(m, file=sys.stderr), args.class_students
    )
    if args.json:
        shown = results if args.details else {k: v for k, v in results.items() if k != "details"}
        print(bench.to_json(shown))
        return EXIT_OK
    verdict = bench.verdicts(results)
    for key, value in results.items():
        if key in ("details", "notes"):
            continue
        goal = bench.GOALS.get(key)
        mark = {True: "met", False: "NOT met", None: ""}[verdict.get(key)]
        shown = "n/a" if value is None else f"{value:.3f}"
        print(f"{key:20s} {shown:>10s}  {f'goal {goal[0]} {goal[1]}' if goal else '':16s} {mark}")
    for note in results.get("notes", []):
        print(f"note: {note}")
    return EXIT_OK
