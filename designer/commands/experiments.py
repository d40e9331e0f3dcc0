"""Experiment subcommands: ensemble, bag, compare, sweep.

``bag`` and ``sweep`` queue their runs in the same job registry as ``train`` (child
processes, ``--jobs`` at a time) and wait for them; ``compare`` only reads run directories.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from designer.commands.core import load_design
from designer.commands.train import add_scaling_args, apply_devices, check_dataset, scaling
from designer.design import paths
from designer.errors import EXIT_OK, EXIT_PROBLEM, EXIT_UNREADABLE, CommandError, DesignerError
from designer.experiments import compare, sweep
from designer.training import Registry, TrainingError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ensemble",
        help="combine finished runs: average, vote or stack",
        description="Combine runs trained on the same data set and score them on its test split.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="two or more run directories")
    p.add_argument("--method", default="average", choices=("average", "vote", "stack"))
    p.add_argument(
        "--stacker",
        default="logistic",
        choices=("logistic", "dense"),
        help="stack: the meta-model fitted on validation predictions",
    )
    p.add_argument(
        "--which",
        default="model",
        choices=("model", "best"),
        help="each run's last model (model.keras) or best.keras",
    )
    p.add_argument("--out", metavar="DIR", help="write ensemble.json, metrics.json, ensemble.keras")
    p.set_defaults(handler=cmd_ensemble)

    p = sub.add_parser("bag", help="train N copies of a design on bootstrap samples, then average")
    _training_args(p)
    p.add_argument(
        "--members", type=int, default=3, metavar="N", help="how many copies (default 3)"
    )
    p.add_argument(
        "--seed", type=int, metavar="S", help="first member's seed (default: the design's)"
    )
    p.set_defaults(handler=cmd_bag)

    p = sub.add_parser("compare", help="metrics, settings and architecture diff of runs")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="two or more run directories")
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser(
        "sweep",
        help="train a grid of parameter values and rank the runs",
        description="PATH is NODE.PARAM (dense.units), compile.learning_rate, "
        "compile.optimizer, training.batch_size...",
    )
    _training_args(p)
    p.add_argument(
        "--set",
        dest="settings",
        action="append",
        required=True,
        metavar="PATH=V1,V2",
        help="a parameter and its values; give --set once or twice",
    )
    p.set_defaults(handler=cmd_sweep)


def _training_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("design", metavar="DESIGN.json", help="design file (JSON)")
    p.add_argument("--dataset", metavar="ID", help="data set id (default: the design's)")
    p.add_argument("--epochs", type=int, metavar="E", help="epochs per run (default: the design's)")
    p.add_argument("--limit", type=int, metavar="N", help="use at most N samples per split")
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the runs")
    p.add_argument(
        "--jobs",
        type=int,
        metavar="J",
        help="runs trained at once (default: 2 here; "
        "with --executor ray, as many as the cluster has CPUs)",
    )

    add_scaling_args(p)


# ---- ensemble ----------------------------------------------------------------------------------
def cmd_ensemble(args) -> int:
    from designer.experiments import ensemble

    for run in args.runs:
        if not Path(run, "design.json").is_file():
            raise CommandError(f"{run}: not a run directory (no design.json)", EXIT_UNREADABLE)
    try:
        result = ensemble.run_ensemble(
            args.runs, args.method, out=args.out, which=args.which, stacker=args.stacker
        )
    except ensemble.EnsembleError as exc:
        raise CommandError(str(exc), EXIT_PROBLEM) from None
    print("\n".join(result.lines()))
    return EXIT_OK


# ---- bag and sweep: queued runs ----------------------------------------------------------------
def _checked(args):
    """The design with --dataset checked and --devices applied; raises CommandError (exit 2)
    for bad input."""

    for flag in ("epochs", "limit", "jobs"):
        value = getattr(args, flag, None)
        if value is not None and value < 1:
            raise CommandError(f"--{flag} must be at least 1")
    design = load_design(args.design)
    apply_devices(args, design)
    for name in ("sweep.json", "bag.json"):
        if Path(args.out, name).exists():
            raise CommandError(f"{args.out} already holds a {name[:-5]}: choose another --out")
    check_dataset(args.dataset or design.data.dataset)
    return design


def job_registry(args):
    """The registry --executor, --address and --jobs ask for (bag, sweep, search)."""
    executor = scaling(args)
    jobs = args.jobs
    if jobs is None and executor.name == "ray":
        try:  # Ray queues what does not fit; this only bounds the jobs waiting there
            jobs = max(1, executor.total_cpus())
        except TrainingError as exc:
            raise CommandError(str(exc)) from None
    registry = Registry(max_concurrent=jobs or 2, executor=executor)
    registry.prewarm()
    return registry


def _run_jobs(args, own_error: type[Exception], start) -> tuple[list, bool]:
    """``start(registry)`` the jobs, follow them to the end: (jobs, all finished).

    ``own_error`` (the command's refusal of its settings) exits 1; data and training refusals
    exit 2, as everywhere in the CLI.
    """
    from designer.data import DataError

    registry = job_registry(args)
    try:
        jobs = start(registry)
        return jobs, follow(jobs)
    except own_error as exc:
        raise CommandError(str(exc), EXIT_PROBLEM) from None
    except (DataError, TrainingError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        registry.shutdown()


def follow(jobs: list) -> bool:
    """Wait for every job, one stderr line as each ends; Ctrl-C stops them. True if all finished."""
    reported: set[str] = set()
    try:
        while len(reported) < len(jobs):
            for job in jobs:
                if job.done and job.run_id not in reported:
                    reported.add(job.run_id)
                    snap = job.snapshot()
                    tail = f": {snap.last_error}" if snap.last_error else _score(snap.metrics)
                    print(
                        f"[{len(reported)}/{len(jobs)}] {job.run_id} {snap.status}{tail}",
                        file=sys.stderr,
                    )
            time.sleep(0.2)
    except KeyboardInterrupt:
        print("stopping the runs...", file=sys.stderr)
        for job in jobs:
            job.stop()
        for job in jobs:
            job.wait(60)
        raise
    return all(job.status == "finished" for job in jobs)


def _score(metrics: dict | None) -> str:
    if not metrics or not metrics.get("split"):
        return ""
    if metrics.get("task") == "regression":
        return f", test mse {metrics.get('mse', math.nan):.4g}"
    return f", test accuracy {metrics.get('accuracy', math.nan):.4f}"


def cmd_bag(args) -> int:
    from designer.experiments import ensemble

    design = _checked(args)
    jobs, ok = _run_jobs(
        args,
        ensemble.EnsembleError,
        lambda registry: ensemble.start_bagging(
            design,
            out=args.out,
            members=args.members,
            epochs=args.epochs,
            dataset=args.dataset,
            limit=args.limit,
            seed=args.seed,
            registry=registry,
        ),
    )
    if not ok:
        failed = [j.run_id for j in jobs if j.status != "finished"]
        raise CommandError(
            f"not every member finished ({', '.join(failed)}): no ensemble", EXIT_PROBLEM
        )
    try:
        result = ensemble.finish_bagging(args.out)
    except ensemble.EnsembleError as exc:
        raise CommandError(str(exc), EXIT_PROBLEM) from None
    print("\n".join(result.lines()))
    return EXIT_OK


def cmd_sweep(args) -> int:
    design = _checked(args)
    for text in args.settings:
        if "=" not in text:
            raise CommandError(
                f"--set {text!r}: write PATH=V1,V2,... (for example dense.units=32,64)"
            )
    try:
        settings = dict(paths.parse_set(design, text) for text in args.settings)
        if len(settings) < len(args.settings):
            raise sweep.SweepError("the same parameter is given twice")
        sweep.grid(design, settings)  # every point checked before any process starts
    except DesignerError as exc:
        raise CommandError(str(exc), EXIT_PROBLEM) from None
    _, ok = _run_jobs(
        args,
        DesignerError,
        lambda registry: sweep.start_sweep(
            design,
            settings,
            out=args.out,
            epochs=args.epochs,
            dataset=args.dataset,
            limit=args.limit,
            registry=registry,
        ),
    )
    table = sweep.results(args.out)
    print(table.drop(columns=["run"]).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    best = sweep.best_row(table)
    if best is not None:
        ranked = sweep.score_column(table)[0]
        values = {k: best[k] for k in settings}
        setting = ", ".join(f"{k}={v}" for k, v in values.items())
        print(f"best: {best['run']} ({setting}) {ranked} {best[ranked]:.4f}")
    return EXIT_OK if ok else EXIT_PROBLEM


# ---- compare -----------------------------------------------------------------------------------
def _fmt(value) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.4g}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def cmd_compare(args) -> int:
    if len(args.runs) < 2:
        raise CommandError("compare needs at least two run directories")
    try:
        runs = compare.load_runs(args.runs)
    except compare.RunError as exc:
        raise CommandError(str(exc)) from None
    table = compare.run_table(runs)
    diff = compare.differences(table)
    names = list(table.index)
    rows = [(col, [_fmt(v) for v in table[col]], bool(diff[col].any())) for col in table.columns]
    width = max(len(c) for c, _, _ in rows)
    widths = [max(len(n), *(len(r[1][i]) for r in rows)) for i, n in enumerate(names)]
    print("  ".join([" " * width, *(n.ljust(w) for n, w in zip(names, widths))]).rstrip())
    for col, cells, differs in rows:
        line = "  ".join([col.ljust(width), *(c.ljust(w) for c, w in zip(cells, widths))])
        print((line + ("  *" if differs else "")).rstrip())
    for other, name in zip(runs[1:], names[1:]):
        print()
        print(f"{names[0]} -> {name}")
        for line in compare.diff_lines(compare.diff_designs(runs[0].design, other.design)):
            print(line)
    return EXIT_OK
