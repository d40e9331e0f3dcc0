"""``bench``: the speed figures of BENCHMARKS.md (see designer/bench.py)."""

from __future__ import annotations

import argparse
import sys

from designer.errors import EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure training overhead, editor latency, start-up, memory")
    p.add_argument("--json", action="store_true", help="print one JSON object with every figure")
    p.add_argument("--pairs", type=int, default=3, help="runner/plain fit pairs (default 3)")
    p.add_argument("--epochs", type=int, default=2, help="epochs per fit (default 2)")
    p.set_defaults(handler=cmd_bench)


def cmd_bench(args) -> int:
    from designer import bench

    results = bench.run(args.pairs, args.epochs, log=lambda m: print(m, file=sys.stderr))
    if args.json:
        print(bench.to_json({k: v for k, v in results.items() if k != "details"}))
        return EXIT_OK
    verdict = bench.verdicts(results)
    for key, value in results.items():
        if key == "details":
            continue
        goal = bench.GOALS.get(key)
        mark = {True: "met", False: "NOT met", None: ""}[verdict.get(key)]
        shown = "n/a" if value is None else f"{value:.3f}"
        print(f"{key:20s} {shown:>10s}  {f'goal {goal[0]} {goal[1]}' if goal else '':16s} {mark}")
    return EXIT_OK
