"""Training subcommands: datasets, train (new or --resume), runs.

``train`` goes through the same job registry as the app (one code path): the Keras work runs
in a child process, and this process only follows its events to draw progress.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from designer import settings, training
from designer.classroom.scoring import check_design
from designer.commands.classroom import open_assignment, print_broken
from designer.commands.core import load_design
from designer.design.spec import DataSpec
from designer.errors import EXIT_OK, EXIT_PROBLEM, EXIT_UNREADABLE, CommandError
from designer.training import TrainingError, list_runs, runs_root
from designer.training.registry import make_executor


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("datasets", help="list the data sets, one per line (id first)")
    p.set_defaults(handler=cmd_datasets)

    p = sub.add_parser(
        "train",
        help="train a design and write a run directory",
        description="Train DESIGN on a data set, or continue a run with --resume.",
    )
    p.add_argument("design", nargs="?", help="design file (JSON)")
    p.add_argument(
        "--dataset", metavar="ID", help="data set id (see `datasets`); default: the design's"
    )
    p.add_argument(
        "--data", metavar="FILE", help="your own data: a CSV, a ZIP of image folders or an NPZ"
    )
    p.add_argument("--target", metavar="COLUMN", help="the CSV column to predict")
    p.add_argument(
        "--assignment",
        metavar="DIR",
        help="train on a classroom assignment's data (its hidden rows never), after its rules",
    )
    p.add_argument(
        "--epochs", type=int, metavar="N", help="epochs to train (more epochs with --resume)"
    )
    p.add_argument("--batch-size", type=int, metavar="N", help="override the design's batch size")
    p.add_argument(
        "--limit", type=int, metavar="N", help="use at most N samples per split (quick tries)"
    )
    p.add_argument(
        "--out",
        metavar="RUN_DIR",
        help="run directory to write (default: <name>-<time> in the runs folder the app "
        "lists: $KERAS_DESIGNER_RUNS, else ./workspace/runs)",
    )
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run for --epochs more epochs")
    p.add_argument(
        "--fine-tune", action="store_true", help="with --resume: unfreeze pretrained bases, lr / 10"
    )
    p.add_argument(
        "--offline", action="store_true", help="build pretrained bases without downloading weights"
    )
    add_scaling_args(p)
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser("runs", help="list runs: id, status, epochs, best validation metric")
    p.add_argument(
        "root",
        nargs="?",
        help="directory holding run directories (default: the runs folder the app lists)",
    )
    p.set_defaults(handler=cmd_runs)


def add_scaling_args(p: argparse.ArgumentParser) -> None:
    """--executor, --address and --devices: where jobs run, and on how many devices each."""
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local: processes of this machine (default); ray: tasks on a Ray cluster",
    )
    p.add_argument(
        "--address",
        metavar="ADDR",
        help="with --executor ray: join this cluster "
        "(default: start a local Ray instance for this command)",
    )
    p.add_argument(
        "--devices",
        type=int,
        metavar="N",
        help="train each model on N devices "
        "(GPUs; logical CPU devices where there are none); the batch size is split across them",
    )


def apply_devices(args, design) -> None:
    """--devices into ``design``'s training settings; CommandError (exit 2) out of range."""
    if args.devices is None:
        return
    if not 1 <= args.devices <= 64:
        raise CommandError("--devices must be between 1 and 64")
    design.training.devices = args.devices


def scaling(args):
    """The executor --executor and --address ask for: CommandError (exit 2) with one line
    when it cannot be had."""

    try:
        return make_executor(args.executor, args.address)
    except TrainingError as exc:
        raise CommandError(str(exc)) from None


def cmd_datasets(args) -> int:
    from designer.data import list_datasets

    for info in list_datasets():
        shape = "x".join(str(d) for d in info.input_shape)
        print(f"{info.id}\t{info.task}\t{shape}\t{info.name}: {info.description}")
    return EXIT_OK


def cmd_runs(args) -> int:
    root = runs_root(args.root)
    if args.root and not root.is_dir():
        raise CommandError(f"{root} is not a directory")
    for run in list_runs(root):
        print(f"{run.id}\t{run.status}\t{run.epochs}\t{run.best_text}")
    return EXIT_OK


def cmd_train(args) -> int:
    for flag in ("epochs", "batch_size", "limit"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise CommandError(f"--{flag.replace('_', '-')} must be at least 1", EXIT_UNREADABLE)
    if args.resume:
        given = (
            args.design,
            args.dataset,
            args.data,
            args.target,
            args.out,
            args.limit,
            args.batch_size,
            args.offline,
            args.devices,
            args.assignment,
        )
        if any(given):
            raise CommandError(
                "--resume continues a run as it was: give only --epochs (and --fine-tune)"
            )
    registry = training.Registry(max_concurrent=1, executor=scaling(args))
    try:
        if args.resume:
            if not args.epochs:
                raise CommandError("--resume needs --epochs N (how many more epochs)")
            job = training.resume_training(
                args.resume, epochs=args.epochs, fine_tune=args.fine_tune, registry=registry
            )
        else:
            if not args.design:
                raise CommandError("give a design file, or --resume RUN_DIR")
            if args.fine_tune:
                raise CommandError("--fine-tune goes with --resume RUN_DIR")
            design, data = _design_and_data(args)
            if args.assignment:
                broken = _assignment_rules(args, design)
                if broken:
                    registry.shutdown()
                    return broken
                data = _assignment(args).data_spec(design.data)
            job = training.start_training(
                design,
                data=data,
                run_dir=args.out,
                epochs=args.epochs,
                limit=args.limit,
                offline=args.offline,
                registry=registry,
            )
    except training.TrainingError as exc:
        registry.shutdown()
        raise CommandError(str(exc), EXIT_UNREADABLE) from None
    try:
        interrupted = _follow(job)
    finally:
        registry.shutdown()
    return _report(job, interrupted)


def _design_and_data(args):
    design = load_design(args.design)
    if args.batch_size:
        design.training.batch_size = args.batch_size
    apply_devices(args, design)
    return design, data_for(args, design)


def _assignment(args):
    if args.dataset or args.data or args.target:
        raise CommandError("--assignment trains on the assignment's data: no --dataset or --data")
    return open_assignment(args.assignment)


def _assignment_rules(args, design) -> int:
    """Print one ``rule …`` line per rule the design breaks; EXIT_PROBLEM if any, else 0."""
    broken = check_design(_assignment(args), design, args.epochs or design.training.epochs)
    return print_broken(broken) if broken else EXIT_OK


def data_for(args, design) -> DataSpec | str | None:
    """What --dataset, or --data and --target, ask to train on instead of the design's data
    (None: the design's own); CommandError (exit 2) for a missing file or an unknown set."""
    if args.data and args.dataset:
        raise CommandError("give either --dataset or --data, not both")
    if getattr(args, "assignment", None):  # only train has --assignment (sweep, search... not)
        return None  # the assignment's data, set once its rules have been checked
    base = design.data
    if args.data:
        path = Path(args.data)
        if not path.is_file():
            raise CommandError(f"cannot read {path}: no such file")
        return DataSpec(
            dataset="upload",
            path=str(path.resolve()),
            target=args.target,
            validation_split=base.validation_split,
            test_split=base.test_split,
            seed=base.seed,
            scaling=base.scaling,
        )
    if args.target:
        raise CommandError("--target goes with --data FILE.csv")
    check_dataset(args.dataset or base.dataset)
    return args.dataset or None


def check_dataset(dataset: str | None) -> str:
    """The data set a command trains on, or one clear line (exit 2) when there is none."""
    from designer.data import DataError, get_info

    if not dataset:
        raise CommandError("the design names no data set: give --dataset ID (see `datasets`)")
    if dataset != "upload":
        try:
            get_info(dataset)
        except DataError as exc:
            raise CommandError(str(exc)) from None
    return dataset


def _follow(job) -> bool:
    """Show progress until the job ends; Ctrl-C asks for a clean stop. True if interrupted."""
    bar = _Progress(job)
    cursor, interrupted = 0, False
    while True:
        try:
            events, cursor = job.events_since(cursor)
            for event in events:
                bar.update(event)
            if job.done and not events:
                break
            time.sleep(0.1)
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            print("stopping after this batch (Ctrl-C again to abandon)", file=sys.stderr)
            job.stop()
    bar.close()
    return interrupted


class _Progress:
    """A tqdm bar on a terminal; otherwise one line per epoch on stderr (logs stay readable)."""

    def __init__(self, job):
        self.job, self.bar, self.batches, self.initial = job, None, 1, 0
        self.tty = sys.stderr.isatty() and not settings.flag(settings.NO_BAR)

    def update(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "start":
            self.batches, self.initial = event["batches"], event["initial_epoch"]
            epochs = event["epochs"] - self.initial
            if self.tty:
                from tqdm import tqdm

                self.bar = tqdm(
                    total=epochs * self.batches,
                    unit="batch",
                    file=sys.stderr,
                    desc=f"epoch {self.initial + 1}/{event['epochs']}",
                    dynamic_ncols=True,
                )
            else:
                print(f"training {epochs} epochs, {self.batches} batches each", file=sys.stderr)
        elif kind == "batch" and self.bar is not None:
            done = (event["epoch"] - 1 - self.initial) * self.batches + event["batch"]
            self.bar.update(max(0, done - self.bar.n))
            self.bar.set_description(
                f"epoch {event['epoch']}/{self.job.snapshot().epochs}", refresh=False
            )
            self.bar.set_postfix(_short(event["logs"]), refresh=False)
        elif kind == "epoch":
            line = f"epoch {event['epoch']}/{event['epochs']}: " + "  ".join(
                f"{k}={v:.4g}" for k, v in _short(event["logs"], 8).items()
            )
            if self.bar is not None:
                self.bar.write(line, file=sys.stderr)
            else:
                print(line, file=sys.stderr)
        elif kind == "warning":
            print(f"warning: {event['message']}", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _short(logs: dict, n: int = 4) -> dict[str, float]:
    keys = [k for k in logs if k not in ("epoch", "learning_rate")][:n]
    return {k: logs[k] for k in keys if isinstance(logs[k], (int, float))}


def _report(job, interrupted: bool) -> int:
    snap = job.snapshot()
    status, run_dir = snap.status, snap.run_dir
    if snap.error_kind == "design":
        for node_id, message in snap.problems:
            print(f"{node_id}: {message}")
        print(
            f"error: the design does not fit the data; nothing was trained ({run_dir})",
            file=sys.stderr,
        )
        return EXIT_PROBLEM
    if snap.error_kind == "data":
        print(f"error: {snap.last_error}", file=sys.stderr)
        return EXIT_UNREADABLE
    if status in ("failed", "nan", "interrupted"):
        print(f"error: {status}: {snap.last_error} ({run_dir})", file=sys.stderr)
        return EXIT_PROBLEM
    print(f"{run_dir}: {status} after {snap.epoch} epochs{_test_summary(snap.metrics)}")
    return 130 if interrupted else EXIT_OK


def _test_summary(metrics: dict | None) -> str:
    if not metrics or not metrics.get("split"):
        return ""
    if metrics.get("task") == "regression":
        return f"; {metrics['split']} mae {metrics['mae']:.4g}, r2 {metrics['r2']:.3f}"
    value = metrics.get("accuracy", math.nan)
    return f"; {metrics['split']} accuracy {value:.4f}"
