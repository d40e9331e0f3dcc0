"""Finding the app's widgets in AppTest by the name of what they edit.

Widgets that edit the design carry a revision in their key (``p:dense:units:r7``, see
ui/state.py), and buttons that act on a node carry its id (``delete:dropout``): a test
names the field or action and gets the one widget that is drawn for it now.
"""

from __future__ import annotations

from typing import Any


def widget(at: Any, kind: str, name: str) -> Any:
    """The one ``kind`` widget (``number_input``, ``selectbox``, ``pills``...) whose key is
    ``name`` or starts with ``name:``."""
    found = [w for w in getattr(at, kind) if w.key == name or (w.key or "").startswith(f"{name}:")]
    keys = [w.key for w in getattr(at, kind)]
    assert len(found) == 1, f"{len(found)} {kind} widgets named {name!r} among {keys}"
    return found[0]


def open_palette(at: Any, *categories: str) -> Any:
    """Open these categories of the palette (only an open category's chips are drawn)."""
    for category in categories:
        at.session_state[f"pal_open_{category}"] = True
    return at.run()


def pick_from_palette(at: Any, category: str, layer_type: str) -> Any:
    """Click ``layer_type`` in the palette's ``category``, opening it first."""
    open_palette(at, category)
    widget(at, "pills", f"pal_{category}").set_value(layer_type).run()
    assert not at.exception, at.exception
    return at
