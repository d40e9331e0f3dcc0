"""Structural checks of a design's graph, before any Keras work.

Each problem is reported on the node it concerns, as ``(node_id, message)``; problems that
belong to no node (an empty design) use the pseudo id ``design``.
"""

from __future__ import annotations

import difflib
import re

from designer.design import catalog
from designer.design.params import check_params
from designer.design.spec import Design

Problem = tuple[str, str]


def layer_name(node_id: str) -> str:
    """A Keras-safe layer name from a node id (Keras rejects '/' and friends)."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", node_id) or "layer"


def topological_order(design: Design) -> tuple[list[str], list[str]]:
    """Kahn's algorithm, ties broken by the order of ``design.nodes`` so the result is stable.

    Returns ``(order, cyclic)``: the nodes that can be ordered, and those stuck in a cycle.
    """
    ids = [n.id for n in design.nodes]
    known = set(ids)
    indeg = {i: 0 for i in ids}
    for e in design.edges:
        if e.source in known and e.target in known:
            indeg[e.target] += 1
    ready = [i for i in ids if indeg[i] == 0]
    order: list[str] = []
    position = {i: k for k, i in enumerate(ids)}
    while ready:
        ready.sort(key=position.__getitem__)
        current = ready.pop(0)
        order.append(current)
        for e in design.edges:
            if e.source == current and e.target in known:
                indeg[e.target] -= 1
                if indeg[e.target] == 0:
                    ready.append(e.target)
    done = set(order)
    return order, [i for i in ids if i not in done]


def _cycle_path(design: Design, start: str, cyclic: set[str]) -> list[str]:
    """One concrete cycle through ``start`` (for a message a person can act on)."""
    path, seen = [start], {start}
    current = start
    while True:
        nxt = next((s for s in design.successors(current) if s in cyclic), None)
        if nxt is None:
            return path
        if nxt in seen:
            return path[path.index(nxt) :] + [nxt]
        path.append(nxt)
        seen.add(nxt)
        current = nxt


def structural_problems(design: Design) -> list[Problem]:
    problems: list[Problem] = []
    if not design.nodes:
        return [("design", "the design has no layers: add an Input layer to start")]
    seen: set[str] = set()
    keras_names: dict[str, str] = {}
    for n in design.nodes:
        if n.id in seen:
            problems.append((n.id, "two layers share this id: rename one of them"))
        else:
            # Keras names allow only letters, digits and _.-: 'a/b' and 'a_b' would clash.
            other = keras_names.setdefault(layer_name(n.id), n.id)
            if other != n.id:
                problems.append(
                    (
                        n.id,
                        f"gives the same Keras layer name as {other!r} "
                        f"({layer_name(n.id)!r}): rename one of them",
                    )
                )
        seen.add(n.id)
        spec = catalog.get(n.type)
        if spec is None:
            close = difflib.get_close_matches(n.type, catalog.LAYERS, n=1)
            hint = f": did you mean {close[0]}?" if close else " (see `keras-designer layers`)"
            problems.append((n.id, f"unknown layer type {n.type!r}{hint}"))
            continue
        problems += [(n.id, p) for p in check_params(spec.params, n.params)]
    known = {n.id for n in design.nodes}
    for e in design.edges:
        if e.source not in known and e.target in known:
            problems.append((e.target, f"is connected from {e.source!r}, which does not exist"))
        elif e.target not in known and e.source in known:
            problems.append((e.source, f"is connected to {e.target!r}, which does not exist"))
        elif e.source == e.target and e.source in known:
            problems.append((e.source, "is connected to itself: remove that connection"))
    if not design.input_ids():
        problems.append((design.nodes[0].id, "the design has no Input layer: add one at the top"))
    for out in design.outputs or []:
        if out not in known:
            problems.append(("design", f"output {out!r} is not a node of this design"))

    _, cyclic = topological_order(design)
    cyclic_set = set(cyclic)
    reported: set[str] = set()
    for node_id in cyclic:
        if node_id in reported:
            continue
        path = _cycle_path(design, node_id, cyclic_set)
        if len(path) > 1 and path[0] == path[-1]:
            reported.update(path)
            problems.append(
                (path[0], f"is part of a cycle {' → '.join(path)}: remove one of these connections")
            )

    for n in design.nodes:
        spec = catalog.get(n.type)
        if spec is None:
            continue
        n_in = len([s for s in design.predecessors(n.id) if s in known])
        if spec.max_inputs == 0 and n_in:
            problems.append((n.id, "an Input layer cannot receive connections: remove them"))
        elif n_in == 0 and spec.min_inputs > 0:
            problems.append(
                (n.id, "is not connected to anything: connect a layer into it, or delete it")
            )
        elif n_in < spec.min_inputs:
            problems.append(
                (
                    n.id,
                    f"{n.type} needs at least {spec.min_inputs} inputs (has {n_in}): "
                    "connect another branch into it",
                )
            )
        elif spec.max_inputs is not None and n_in > spec.max_inputs:
            more = "one input" if spec.max_inputs == 1 else f"{spec.max_inputs} inputs"
            fix = ": join the branches with a merge layer (Concatenate, Add) first"
            problems.append((n.id, f"{n.type} takes {more} but has {n_in}{fix}"))
    outputs = set(design.output_ids())
    for node_id in design.input_ids():
        if not _reaches(design, node_id, outputs) and node_id not in outputs:
            problems.append(
                (node_id, "this Input does not lead to any output: connect it or delete it")
            )
    return problems


def _reaches(design: Design, start: str, targets: set[str]) -> bool:
    stack, seen = [start], {start}
    while stack:
        current = stack.pop()
        for nxt in design.successors(current):
            if nxt in targets:
                return True
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False
