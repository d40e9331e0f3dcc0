"""An assignment's rules, and which of them a design breaks.

Each broken rule is one line for the person, ``rule NAME: what is wrong`` (the command line
prints them as they are; the pages show them beside the totals). Names: ``max-params``,
``max-epochs``, ``allow``, ``lock``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from designer.design import catalog
from designer.design.spec import Design

RULE_NAMES = ("max-params", "max-epochs", "allow", "lock")
# Every model needs an Input: it is allowed whatever the list says.
ALWAYS_ALLOWED = frozenset({"Input"})


@dataclass
class Rules:
    max_params: int | None = None
    max_epochs: int | None = None
    allow: list[str] | None = None  # layer types a design may use (None: any)
    lock: list[str] = field(default_factory=list)  # template nodes that cannot change

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_params": self.max_params,
            "max_epochs": self.max_epochs,
            "allow": self.allow,
            "lock": list(self.lock),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rules:
        return cls(
            max_params=data.get("max_params"),
            max_epochs=data.get("max_epochs"),
            allow=data.get("allow"),
            lock=list(data.get("lock") or []),
        )

    def allows(self, layer_type: str) -> bool:
        return self.allow is None or layer_type in ALWAYS_ALLOWED or layer_type in self.allow


@dataclass(frozen=True)
class Broken:
    rule: str  # one of RULE_NAMES
    message: str

    def line(self) -> str:
        return f"rule {self.rule}: {self.message}"


def broken_rules(
    design: Design,
    rules: Rules,
    template: Design,
    *,
    params: int | None,
    epochs: int,
) -> list[Broken]:
    """Every rule ``design`` breaks. ``params`` is the design's parameter count (from Keras'
    own shape inference; None when it cannot be counted), ``epochs`` the epochs it trains."""
    out: list[Broken] = []
    if rules.max_params is not None and params is not None and params > rules.max_params:
        out.append(
            Broken("max-params", f"{params:,} parameters, the limit is {rules.max_params:,}")
        )
    if rules.max_epochs is not None and epochs > rules.max_epochs:
        out.append(Broken("max-epochs", f"{epochs} epochs, the limit is {rules.max_epochs}"))
    for node in design.nodes:
        if not rules.allows(node.type):
            out.append(
                Broken(
                    "allow",
                    f"{node.id} is a {node.type}; this assignment allows "
                    + ", ".join(sorted(set(rules.allow or []) | ALWAYS_ALLOWED)),
                )
            )
    for aug in design.augmentation:
        if not rules.allows(aug.type):
            out.append(Broken("allow", f"augmentation {aug.type} is not allowed here"))
    for node_id in rules.lock:
        out.extend(_lock_problems(design, template, node_id))
    return out


def _lock_problems(design: Design, template: Design, node_id: str) -> list[Broken]:
    """A locked node must be in the design as the template has it: same type, same settings."""
    try:
        want = template.node(node_id)
    except KeyError:
        return []  # create() refuses such a lock; an old folder's stray name locks nothing
    try:
        got = design.node(node_id)
    except KeyError:
        return [Broken("lock", f"{node_id} is locked and was removed; put it back")]
    if got.type != want.type:
        return [Broken("lock", f"{node_id} is locked as a {want.type}, not a {got.type}")]
    # A setting left out means the catalog's default, whichever way the form wrote it.
    spec = catalog.get(want.type)
    defaults = spec.defaults() if spec is not None else {}
    have, need = {**defaults, **got.params}, {**defaults, **want.params}
    changed = sorted(k for k in set(have) | set(need) if have.get(k) != need.get(k))
    if changed:
        return [Broken("lock", f"{node_id} is locked; its {', '.join(changed)} changed")]
    return []
