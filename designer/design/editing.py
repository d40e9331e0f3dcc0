"""Pure editing operations on a :class:`~designer.design.spec.Design`: what the graph editor does.

Every function takes a design and returns a *new* design (the argument is never changed), so
the editor can keep the old one for undo and the operations can be tested without a browser.
A request that makes no sense (renaming to a taken id, connecting a layer to itself) raises
:class:`EditError` with one sentence meant for the person clicking.
"""

from __future__ import annotations

import re
from typing import Any

from designer.design import catalog
from designer.design.compiling import problems as compile_problems
from designer.design.graph import topological_order
from designer.design.params import KEPT, kept, kept_problem
from designer.design.spec import Design, Edge, Node, field_problem
from designer.errors import DesignerError

MAX_ID_LENGTH = 64
_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class EditError(DesignerError):
    """An edit that cannot be made; the message says why in plain words."""


# ---- helpers -------------------------------------------------------------------------------
def _index(design: Design, node_id: str) -> int:
    for i, n in enumerate(design.nodes):
        if n.id == node_id:
            return i
    raise EditError(f"there is no layer called {node_id!r}")


def _reaches(design: Design, start: str, goal: str) -> bool:
    stack, seen = [start], {start}
    while stack:
        current = stack.pop()
        if current == goal:
            return True
        for nxt in design.successors(current):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def default_params(layer_type: str) -> dict[str, Any]:
    """The parameters a freshly added layer starts with: the catalog's defaults that matter.

    Only parameters without a Keras default are written, so the design file stays short and
    reads like the code a person would write (``Dense(32)``, not every keyword).
    """
    spec = catalog.get(layer_type)
    if spec is None:
        raise EditError(f"unknown layer type {layer_type!r}")
    return {p.name: p.default for p in spec.params if not p.keras_default}


def tail(design: Design) -> str | None:
    """Where "add" goes when nothing is selected: the first output, or the last node."""
    outputs = [o for o in design.output_ids() if o in design.node_ids()]
    if outputs:
        return outputs[0]
    return design.nodes[-1].id if design.nodes else None


# ---- adding --------------------------------------------------------------------------------
def insert_after(
    design: Design, after: str | None, layer_type: str, params: dict[str, Any] | None = None
) -> tuple[Design, str]:
    """Add a layer after ``after`` and rewire ``after → new → after's former successors``.

    ``after=None`` adds the layer on its own (an Input, or the first layer of an empty design).
    Returns the new design and the new node's id.
    """
    d = design.copy()
    new_id = d.new_id(layer_type)
    node = Node(new_id, layer_type, dict(default_params(layer_type) if params is None else params))
    if after is None:
        d.nodes.append(node)
        return d, new_id
    if catalog.get(layer_type) and catalog.LAYERS[layer_type].max_inputs == 0:
        raise EditError(f"an {layer_type} layer starts a model: add it without a selection")
    pos = _index(d, after)
    d.nodes.insert(pos + 1, node)
    for e in d.edges:
        if e.source == after:
            e.source = new_id
    d.edges.append(Edge(after, new_id))
    if d.outputs:
        d.outputs = [new_id if o == after else o for o in d.outputs]
    return d, new_id


def add_branch(design: Design, source: str, layer_type: str) -> tuple[Design, str]:
    """Add a layer fed by ``source`` beside its chain: ``source``'s other outputs stay."""
    spec = catalog.get(layer_type)
    if spec is None:
        raise EditError(f"unknown layer type {layer_type!r}")
    if spec.max_inputs == 0:
        raise EditError(f"an {layer_type} layer starts a model: it cannot branch from {source}")
    d = design.copy()
    pos = _index(d, source)
    new_id = d.new_id(layer_type)
    d.nodes.insert(pos + 1, Node(new_id, layer_type, default_params(layer_type)))
    d.edges.append(Edge(source, new_id))
    return d, new_id


def add_merge(design: Design, sources: list[str], layer_type: str) -> tuple[Design, str]:
    """A merge layer fed by ``sources`` in that order (the order of its inputs).

    It takes the place of the source that comes last in the graph: that source's outputs now
    come from the merge, so a skip connection drawn from a chain closes the chain
    (``conv → conv_2 → flatten`` merged with ``conv`` gives ``conv_2, conv → add → flatten``).
    """
    spec = catalog.get(layer_type)
    if spec is None or spec.category != "merge":
        raise EditError(f"{layer_type} is not a merge layer")
    picked = list(dict.fromkeys(sources))
    for node_id in picked:
        _index(design, node_id)
    if len(picked) < max(2, spec.min_inputs):
        raise EditError(f"pick at least two layers to join with {layer_type}")
    if spec.max_inputs is not None and len(picked) > spec.max_inputs:
        raise EditError(f"{layer_type} takes {spec.max_inputs} inputs: pick {spec.max_inputs}")
    order, _ = topological_order(design)
    rank = {node_id: i for i, node_id in enumerate(order)}
    last = max(picked, key=lambda n: rank.get(n, -1))
    d, new_id = insert_after(design, last, layer_type)
    for node_id in picked:
        if node_id != last:
            d = connect(d, node_id, new_id)
    d.edges = [e for e in d.edges if e.target != new_id] + [Edge(p, new_id) for p in picked]
    return d, new_id


def insert_before(design: Design, before: str, layer_type: str) -> tuple[Design, str]:
    """Add a layer between ``before`` and everything that feeds it (used by builder fixes)."""
    d = design.copy()
    pos = _index(d, before)
    new_id = d.new_id(layer_type)
    d.nodes.insert(pos, Node(new_id, layer_type, default_params(layer_type)))
    for e in d.edges:
        if e.target == before:
            e.target = new_id
    d.edges.append(Edge(new_id, before))
    return d, new_id


def apply_fix(design: Design, fix: dict[str, str]) -> tuple[Design, str]:
    """Apply a builder suggestion such as ``{"insert": "Flatten", "before": "dense"}``."""
    if "insert" in fix and "before" in fix:
        return insert_before(design, fix["before"], fix["insert"])
    if "insert" in fix and "after" in fix:
        return insert_after(design, fix["after"], fix["insert"])
    raise EditError(f"cannot apply this fix: {fix}")


# ---- removing and copying ------------------------------------------------------------------
def delete_node(design: Design, node_id: str) -> Design:
    """Remove a layer and join its inputs straight to its outputs, so a chain stays a chain.

    An edge into a merge keeps its place in the edge list (a merge's input order matters).
    """
    d = design.copy()
    d.nodes.pop(_index(d, node_id))
    preds = [s for s in design.predecessors(node_id) if s != node_id]
    edges: list[Edge] = []
    for e in d.edges:
        if e.target == node_id:
            continue
        if e.source == node_id:
            for p in preds:
                if not any(x.source == p and x.target == e.target for x in edges + d.edges):
                    edges.append(Edge(p, e.target))
            continue
        edges.append(e)
    d.edges = edges
    if d.outputs:
        d.outputs = [o for o in d.outputs if o != node_id] or None
    d.layout.pop(node_id, None)
    return d


def bypass_problem(design: Design, node_id: str) -> str | None:
    """Why the layer ``node_id`` cannot be bypassed (None if it can): only a layer with one
    input that feeds other layers can be left out with its input taking its place."""
    node = design.node(node_id)
    spec = catalog.get(node.type)
    if spec is not None and spec.max_inputs == 0:
        return f"{node_id} is an Input: it cannot be left out"
    inputs = design.predecessors(node_id)
    if len(inputs) != 1:
        return f"{node_id} has {len(inputs)} inputs: only a layer with one input can be left out"
    if node_id in design.output_ids() or not design.successors(node_id):
        return f"{node_id} is an output of the model: it cannot be left out"
    return None


def bypass(design: Design, node_id: str) -> Design:
    """The design without the layer ``node_id``: its input feeds its successors (a structure
    search's ``NODE.enabled=false``). EditError when the layer is not one input, one output."""
    _index(design, node_id)
    problem = bypass_problem(design, node_id)
    if problem:
        raise EditError(problem)
    return delete_node(design, node_id)


def duplicate_node(design: Design, node_id: str) -> tuple[Design, str]:
    """A copy of the layer with the same parameters, inserted right after it.

    An Input's copy stands alone (a second input), as an Input cannot follow anything.
    """
    node = design.node(node_id)
    spec = catalog.get(node.type)
    after = None if spec is not None and spec.max_inputs == 0 else node_id
    return insert_after(design, after, node.type, dict(node.params))


def validate_id(design: Design, new_id: str, old_id: str | None = None) -> str | None:
    """``None`` if ``new_id`` is a usable new layer id, else the reason."""
    if not new_id:
        return "a layer needs a name"
    if len(new_id) > MAX_ID_LENGTH:
        return f"a name has at most {MAX_ID_LENGTH} characters"
    if not _ID_RE.match(new_id):
        return "use letters, digits, '_', '-' or '.', starting with a letter or '_'"
    if new_id != old_id and new_id in design.node_ids():
        return f"another layer is already called {new_id!r}"
    return None


def rename_node(design: Design, old_id: str, new_id: str) -> Design:
    """Give a layer a new id; edges, outputs and layout follow."""
    new_id = new_id.strip()
    reason = validate_id(design, new_id, old_id)
    if reason:
        raise EditError(reason)
    d = design.copy()
    d.nodes[_index(d, old_id)].id = new_id
    for e in d.edges:
        if e.source == old_id:
            e.source = new_id
        if e.target == old_id:
            e.target = new_id
    if d.outputs:
        d.outputs = [new_id if o == old_id else o for o in d.outputs]
    if old_id in d.layout:
        d.layout[new_id] = d.layout.pop(old_id)
    return d


# ---- connections ---------------------------------------------------------------------------
def connect(design: Design, source: str, target: str) -> Design:
    """Add the edge ``source → target`` (for branches and merges)."""
    _index(design, source)
    _index(design, target)
    if source == target:
        raise EditError("a layer cannot be connected to itself")
    if any(e.source == source and e.target == target for e in design.edges):
        raise EditError(f"{source} is already connected to {target}")
    spec = catalog.get(design.node(target).type)
    if spec is not None and spec.max_inputs == 0:
        raise EditError(f"{target} is an Input: nothing can be connected into it")
    if _reaches(design, target, source):
        raise EditError(f"connecting {source} → {target} would make a loop")
    have = design.predecessors(target)
    if spec is not None and spec.max_inputs is not None and len(have) >= spec.max_inputs:
        # A second input would only turn the layer red: say what to do instead.
        if spec.max_inputs == 1:
            raise EditError(
                f"{target} ({spec.type}) takes one input and already has {have[0]}: "
                f"remove {have[0]} → {target} first, or join both with a merge layer"
            )
        raise EditError(
            f"{target} ({spec.type}) takes {spec.max_inputs} inputs and already has them "
            f"({', '.join(have)})"
        )
    d = design.copy()
    d.edges.append(Edge(source, target))
    return d


def disconnect(design: Design, source: str, target: str) -> Design:
    if not any(e.source == source and e.target == target for e in design.edges):
        raise EditError(f"{source} is not connected to {target}")
    d = design.copy()
    d.edges = [e for e in d.edges if not (e.source == source and e.target == target)]
    return d


def toggle_connection(design: Design, node_id: str, other: str) -> tuple[Design, str]:
    """A click on ``other`` while connecting from ``node_id`` (the canvas's connect mode).

    If the two are connected (either way), that connection goes; otherwise ``node_id → other``
    is added (with :func:`connect`'s refusals). Returns the new design and a sentence that
    says what changed; a merge's inputs keep the order in which they were connected.
    """
    if other == node_id:
        raise EditError(f"{node_id} is the layer you connect from: click another layer")
    for source, target in ((node_id, other), (other, node_id)):
        if any(e.source == source and e.target == target for e in design.edges):
            return disconnect(design, source, target), f"removed {source} → {target}"
    new = connect(design, node_id, other)
    inputs = new.predecessors(other)
    note = f"connected {node_id} → {other}"
    if len(inputs) > 1:
        note += f" (input {len(inputs)} of {other})"
    return new, note


def connect_candidates(design: Design, source: str) -> list[str]:
    """Layers ``source`` could be connected to without a loop or a duplicate edge."""
    out = []
    for n in design.nodes:
        try:
            connect(design, source, n.id)
        except EditError:
            continue
        out.append(n.id)
    return out


# ---- reordering ----------------------------------------------------------------------------
def can_move_up(design: Design, node_id: str) -> bool:
    preds = design.predecessors(node_id)
    if len(preds) != 1:
        return False
    above = design.node(preds[0])
    spec = catalog.get(above.type)
    if spec is not None and spec.max_inputs == 0:
        return False  # nothing goes above an Input
    return design.successors(above.id) == [node_id]


def move_up(design: Design, node_id: str) -> Design:
    """Swap a layer with the one above it in a chain: ``a → b`` becomes ``b → a``."""
    if not can_move_up(design, node_id):
        raise EditError("only a layer in a straight chain, below another layer, can move up")
    above = design.predecessors(node_id)[0]
    d = design.copy()
    for e in d.edges:
        if e.source == above and e.target == node_id:
            e.source, e.target = node_id, above
        elif e.target == above:
            e.target = node_id
        elif e.source == node_id:
            e.source = above
    i, j = _index(d, above), _index(d, node_id)
    d.nodes[i], d.nodes[j] = d.nodes[j], d.nodes[i]
    if d.outputs:
        d.outputs = [above if o == node_id else o for o in d.outputs]
    return d


def can_move_down(design: Design, node_id: str) -> bool:
    succs = design.successors(node_id)
    return len(succs) == 1 and can_move_up(design, succs[0])


def move_down(design: Design, node_id: str) -> Design:
    if not can_move_down(design, node_id):
        raise EditError("only a layer in a straight chain, above another layer, can move down")
    return move_up(design, design.successors(node_id)[0])


# ---- parameters and sections ---------------------------------------------------------------
def set_param(design: Design, node_id: str, name: str, value: Any) -> Design:
    """Set one parameter; the value must pass the catalog's check (EditError otherwise).

    A value kept from an imported model under the same name gives way: what is set now is
    what the layer gets.
    """
    d = design.copy()
    node = d.nodes[_index(d, node_id)]
    spec = catalog.get(node.type)
    if spec is not None:
        try:
            reason = spec.param(name).check(value)
        except KeyError:
            raise EditError(f"{node.type} has no parameter {name!r}") from None
        if reason:
            raise EditError(reason)
    node.params[name] = value
    if name in kept(node.params):
        rest = {k: v for k, v in kept(node.params).items() if k != name}
        if rest:
            node.params[KEPT] = rest
        else:
            del node.params[KEPT]
    return d


def drop_kept(design: Design, node_id: str) -> Design:
    """Forget the arguments kept from an imported model: the layer gets the form's values."""
    d = design.copy()
    node = d.nodes[_index(d, node_id)]
    if KEPT not in node.params:
        raise EditError(f"{node_id} has no arguments kept from an imported model")
    del node.params[KEPT]
    return d


# ---- the check every edit passes -----------------------------------------------------------
def edit_problems(old: Design, new: Design) -> list[str]:
    """What the catalog refuses among the values an edit turns ``old`` into ``new``.

    Only new or changed values are judged: a design opened from a file may hold values the
    catalog refuses (the Design page shows them on their nodes), and an edit of one field must
    not be refused because of another. A value is judged against the catalog entry of its
    node's type (layers and augmentations) or the section's field types (compile, data,
    training); a layer type the catalog does not know is left to the builder's report.
    """
    found: list[str] = []
    for section in ("nodes", "augmentation"):
        before = {n.id: n for n in getattr(old, section)}
        for node in getattr(new, section):
            spec = catalog.get(node.type)
            if spec is None:
                continue
            was = before.get(node.id)
            same_type = was is not None and was.type == node.type
            for name, value in node.params.items():
                if same_type and name in was.params and was.params[name] == value:
                    continue
                if name == KEPT:  # Keras judges the values when it builds the layer
                    reason = kept_problem(value)
                    if reason:
                        found.append(f"{node.id}: {reason}")
                    continue
                if name in kept(node.params):
                    continue  # overridden by a kept value: not what the layer gets
                try:
                    reason = spec.param(name).check(value)
                except KeyError:
                    reason = f"{node.type} has no parameter {name!r}"
                if reason:
                    found.append(f"{node.id}: {reason}")
    for section in ("compile", "data", "training"):
        before, after = getattr(old, section), getattr(new, section)
        for name in type(after).__dataclass_fields__:
            value = getattr(after, name)
            if value != getattr(before, name):
                problem = field_problem(type(after), section, name, value)
                if problem:
                    found.append(problem)
    if old.compile != new.compile:
        found += [message for _, message in compile_problems(new.compile)]
    return found
