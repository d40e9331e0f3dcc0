"""Undo and redo for the editor: stacks of design snapshots."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from designer.design.spec import Design


@dataclass
class History:
    """Undo/redo stacks of design snapshots (as JSON text: small, immutable, comparable)."""

    past: list[str] = field(default_factory=list)
    future: list[str] = field(default_factory=list)
    limit: int = 50

    def record(self, before: Design) -> None:
        """Call with the design as it was *before* an edit."""
        snap = _snap(before)
        if self.past and self.past[-1] == snap:
            return
        self.past.append(snap)
        del self.past[: -self.limit]
        self.future.clear()

    def undo(self, current: Design) -> Design | None:
        if not self.past:
            return None
        self.future.append(_snap(current))
        return Design.from_dict(json.loads(self.past.pop()))

    def redo(self, current: Design) -> Design | None:
        if not self.future:
            return None
        self.past.append(_snap(current))
        return Design.from_dict(json.loads(self.future.pop()))

    @property
    def can_undo(self) -> bool:
        return bool(self.past)

    @property
    def can_redo(self) -> bool:
        return bool(self.future)


def _snap(design: Design) -> str:
    return json.dumps(design.to_dict(), sort_keys=True)
