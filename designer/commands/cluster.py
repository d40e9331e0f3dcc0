"""``keras-designer cluster``: the Ray cluster jobs would run on, node by node."""

from __future__ import annotations

import argparse

from designer.errors import EXIT_OK, CommandError
from designer.training import TrainingError
from designer.training.remote import RayExecutor


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "cluster",
        help="the Ray cluster's nodes and free CPUs/GPUs",
        description="Show the nodes of the Ray cluster at ADDR with their free CPUs "
        "and GPUs; without --address, of a local Ray instance started "
        "for this command (as --executor ray does).",
    )
    p.add_argument(
        "--address", metavar="ADDR", help="the cluster to join (ray://host:10001 or host:6379)"
    )
    p.set_defaults(handler=cmd_cluster)


def cmd_cluster(args) -> int:
    try:
        executor = RayExecutor(args.address)
        nodes = executor.nodes()
    except TrainingError as exc:
        raise CommandError(str(exc)) from None
    print(executor.describe())
    rows = [("node", "status", "CPUs free", "GPUs free", "memory")]
    for n in nodes:
        rows.append(
            (
                n.address,
                "alive" if n.alive else "dead",
                f"{n.free_cpus:g}/{n.cpus:g}",
                f"{n.free_gpus:g}/{n.gpus:g}",
                f"{n.memory_gb:.1f} GiB",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    alive = [n for n in nodes if n.alive]
    print(
        f"total: {len(alive)} node{'s' if len(alive) != 1 else ''} alive, "
        f"{sum(n.free_cpus for n in alive):g} of {sum(n.cpus for n in alive):g} CPUs free, "
        f"{sum(n.free_gpus for n in alive):g} of {sum(n.gpus for n in alive):g} GPUs free"
    )
    return EXIT_OK
