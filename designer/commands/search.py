"""The ``search`` subcommand: Optuna searches settings and structure; trials train as jobs.

    keras-designer search design.json --space dense.units=int:16:256:log \\
        --space dropout.enabled=choice:true,false --trials 20 --epochs 10 --out runs/search

One stderr line per trial as it ends; on stdout the trials table, then ``best: X`` last.
Everything the search is given is checked before anything trains (exit 2, one line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from designer.commands.core import load_design
from designer.commands.experiments import job_registry
from designer.commands.train import add_scaling_args, apply_devices, data_for
from designer.errors import EXIT_OK, EXIT_PROBLEM, CommandError, DesignerError
from designer.experiments import search, study, sweep
from designer.experiments.space import parse_space, value_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "search",
        help="search settings and structure with Optuna; every trial is a run",
        description="PATH=SPEC: PATH as in sweep (dense.units, compile.learning_rate, "
        "training.batch_size; NODE.enabled keeps or leaves out a layer), SPEC one of "
        "int:LOW:HIGH[:log], float:LOW:HIGH[:log], choice:A,B,C.",
    )
    p.add_argument("design", nargs="?", metavar="DESIGN.json", help="design file (JSON)")
    p.add_argument(
        "--space",
        action="append",
        default=[],
        metavar="PATH=SPEC",
        help="a setting and the range to search; give --space once per setting",
    )
    p.add_argument("--trials", type=int, required=True, metavar="N", help="trials to run")
    p.add_argument("--out", required=True, metavar="DIR", help="the search directory")
    p.add_argument("--dataset", metavar="ID", help="data set id (default: the design's)")
    p.add_argument("--data", metavar="FILE", help="your own data: a CSV, image ZIP or NPZ")
    p.add_argument("--target", metavar="COL", help="the CSV column to predict")
    p.add_argument("--epochs", type=int, metavar="E", help="epochs per trial (default: design's)")
    p.add_argument("--limit", type=int, metavar="N", help="use at most N samples per split")
    p.add_argument(
        "--jobs",
        type=int,
        metavar="J",
        help="trials trained at once (default: 2 here; "
        "with --executor ray, as many as the cluster has CPUs)",
    )
    p.add_argument(
        "--metric",
        metavar="NAME",
        help="a history column to optimise (default: val_accuracy, or val_loss for regression)",
    )
    p.add_argument(
        "--prune",
        choices=study.PRUNERS,
        help="median (default): stop trials worse than the median of finished ones at the "
        "same epoch; none: train every trial to the end",
    )
    p.add_argument("--seed", type=int, metavar="S", help="the sampler's seed (default: design's)")
    p.add_argument(
        "--resume", action="store_true", help="continue the search in --out with --trials more"
    )
    add_scaling_args(p)
    p.set_defaults(handler=cmd_search)


def cmd_search(args) -> int:
    for flag in ("trials", "epochs", "limit", "jobs"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise CommandError(f"--{flag} must be at least 1")
    if args.trials > search.MAX_TRIALS:
        raise CommandError(f"--trials is at most {search.MAX_TRIALS}")
    try:
        plan = _resumed(args) if args.resume else _new(args)
    except DesignerError as exc:
        raise CommandError(str(exc)) from None
    if not args.resume:
        problems = sweep.problems(plan.design)  # every trial would fail the same way
        if problems:
            print("\n".join(problems))
            raise CommandError(
                "the design cannot be trained as it is: nothing searched", EXIT_PROBLEM
            )
    registry = job_registry(args)
    total = plan.trials + args.trials
    runner = search.Search(
        args.out,
        registry=registry,
        jobs=registry.max_concurrent,
        on_trial=lambda ended: _trial_line(ended, total, plan.metric),
    )
    print(
        f"searching {', '.join(plan.paths)}: {args.trials} trials of {plan.epochs} epochs, "
        f"{plan.direction} {plan.metric}, pruning: {plan.prune}, "
        f"{runner.jobs} at once on {registry.executor.describe()}",
        file=sys.stderr,
    )
    try:
        if not args.resume:
            study.create_study(args.out, plan)
        runner.run(args.trials)
    except DesignerError as exc:
        raise CommandError(str(exc), EXIT_PROBLEM) from None
    finally:
        registry.shutdown()
    return _report(args.out, plan)


def _new(args) -> study.Plan:
    if not args.design:
        raise CommandError("give a design file, or --resume to continue the search in --out")
    if study.is_search(args.out):
        raise CommandError(f"{args.out} already holds a search: add --resume to continue it")
    design = load_design(args.design)
    apply_devices(args, design)
    return study.make_plan(
        design,
        args.space,
        epochs=args.epochs,
        data=data_for(args, design),
        limit=args.limit,
        metric=args.metric,
        prune=args.prune or "median",
        seed=args.seed,
    )


def _resumed(args) -> study.Plan:
    """The plan in --out; what is given again must be what it holds (the study's space and
    scores would not mean the same otherwise)."""
    if not study.is_search(args.out):
        raise CommandError(f"{args.out}: no search to resume (no {study.SEARCH_FILE})")
    plan = study.read_plan(args.out)
    if args.space:
        given = {f"{d.path}={d.text()}" for d in parse_space(plan.design, args.space)}
        if given != {f"{d.path}={d.text()}" for d in plan.space}:
            raise CommandError(f"--resume: {args.out} searches another space: give no --space")
    if args.design:
        model = load_design(args.design)
        if (model.nodes, model.edges, model.compile) != (
            plan.design.nodes,
            plan.design.edges,
            plan.design.compile,
        ):
            raise CommandError(f"--resume: {args.out} searches another design")
    checks = {
        "--epochs": (args.epochs, plan.epochs),
        "--metric": (args.metric, plan.metric),
        "--prune": (args.prune, plan.prune),
        "--limit": (args.limit, plan.limit),
        "--seed": (args.seed, plan.seed),
        "--dataset": (args.dataset, plan.design.data.dataset),
        "--data": (args.data and str(Path(args.data).resolve()), plan.design.data.path),
    }
    for flag, (given, held) in checks.items():
        if given is not None and given != held:
            raise CommandError(f"--resume: {args.out} was searched with {flag} {held}")
    return plan


def _trial_line(ended: search.Ended, total: int, metric: str) -> None:
    values = ", ".join(f"{k}={value_text(v)}" for k, v in ended.values.items())
    if ended.state == "complete":
        tail = f": {metric} {ended.value:.4f} ({values})"
    else:
        tail = f" ({values}): {ended.reason}"
    print(f"[{ended.number + 1}/{total}] trial {ended.number} {ended.state}{tail}", file=sys.stderr)


def _report(out: str, plan: study.Plan) -> int:
    done = study.load_study(out)
    study.write_trials_csv(out, plan, done)
    print((Path(out) / study.TRIALS_FILE).read_text(encoding="utf-8").rstrip("\n"))
    best = study.best_trial(done)
    if best is None:
        print("no trial completed: there is no best design", file=sys.stderr)
        print("best: none")
        return EXIT_PROBLEM
    values = study.trial_values(plan, best)
    setting = ", ".join(f"{k}={value_text(v)}" for k, v in values.items())
    design = Path(out) / study.BEST_DIR / "design.json"
    print(f"best trial: {best.number} ({setting}) -> {design}")
    print(f"best: {best.value:.6g}")
    return EXIT_OK
