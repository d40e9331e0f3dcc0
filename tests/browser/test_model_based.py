"""Issue 14, model-based: the editor never changes a design by itself.

Random walks through the app in Chromium, each checked against a model of what every action
should do to the design. A walk is one browser session (a new browser context, so a new
Streamlit session) of random actions with a log-uniform pause of 0.05 s to 1.5 s after each
(people often click fast). All walks share one Streamlit server, a few at a time.

The actions, chosen at random among those possible on the page the model believes is shown,
and what the model (:class:`Model`) expects of them:

* **page switch** (the top navigation): nothing changes.
* **template pick** (Home, "Use …"): the design becomes ``templates.get(id)``, and the app
  opens Design by itself.
* **pick a layer** in the "Selected layer" box or **on the canvas** (Design): nothing changes.
* **number edit** of the selected layer (Dense units, Dropout rate, LeakyReLU slope: type a
  value, Enter): ``editing.set_param``.
* **add** a Core layer from the palette: ``editing.insert_after`` the selected layer, which
  the new layer replaces as the selection.
* **delete** the selected layer: ``editing.delete_node``.
* **undo / redo**: ``designer.history.History``.

:meth:`Model.write` is ``ui.state.write`` without the widgets: it records the old design before
every change (template loads too, undo/redo not, a change that leaves the design equal not at
all) and moves the selection as the app does. After every action the session file
(``<workspace>/sessions/<id>.json``) must reach the model's design within 15 s and may hold
nothing else meanwhile than the design before the action; until the next action it must stay
put. Any Streamlit exception on the page fails the walk too.

Page switches, picks and template picks happen without waiting for the page to settle (that
is where the old bugs hid). A pick only *asks* for a selection (the app ignores a pick in a box
drawn for an older selection), so after one the model is unsure which layer is selected; an
action on the selection (edit, add, delete) first reads it from the settled page, then waits
until the inspector shows the layer the model expects, so the action's target is known.

Environment: ``KD_MODEL_SEED`` (the base seed; walk ``i`` uses base + ``i``; without it every
run draws a new one), ``KD_MODEL_SESSIONS`` and ``KD_MODEL_ACTIONS`` (walks and actions per
walk), ``KD_MODEL_WORKERS`` (walks at a time), ``KD_MODEL_VERBOSE``
(print every walk's actions with their timings). A failure prints its walk's seed and the command
that replays it alone: the same actions with the same pauses (the timing of the page may still
differ, so a race may need a few replays, or the whole run's seed). ``-m slow`` runs the soak.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import os
import random
import re
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import (
    AGRAPH,
    APP,
    CHROMIUM,
    CHROMIUM_ARGS,
    NODE_POSITIONS_JS,
    VIEWPORT,
    assert_no_exception,
    css_key,
    network_js,
    selected_layer_box,
    server_log_tail,
    wait_idle,
)
from conftest import field as design_field
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from designer.design import catalog, editing, templates
from designer.design.history import History
from designer.design.spec import Design

TEST_FILE = "tests/browser/test_model_based.py"
PAGES = (
    "Home",
    "Data",
    "Design",
    "Train",
    "Evaluate",
    "Inspect",
    "Export",
    "Experiments",
    "Settings",
)
TEMPLATES = ("digits-mlp", "moons-mlp", "diabetes-mlp")  # small: their pages draw fast
PALETTE = ("Dense", "Activation", "Flatten", "LeakyReLU")  # Core layers that take one input
NUMBERS = {"Dense": "units", "Dropout": "rate", "LeakyReLU": "negative_slope"}
MIN_NODES, MAX_NODES = 2, 9  # a design that never empties and fits the canvas on screen
WORKERS = 3  # walks at a time (see walk_all)
PAUSE = (0.05, 1.5)  # seconds between actions, log-uniform
# A click the app never gets leaves the design as it was (nothing changed by itself: the person
# sees nothing happen and clicks again). Streamlit 1.67 drops a button click that comes within
# ~0.2 s of a number field's Enter, while that field's rerun is drawing (see the closing note
# of issue 14); such a lost action is reported and the model forgets it. A selection the model
# did not expect (after quick canvas clicks) is reported the same way. Up to this share of the
# actions; a design that the model never had fails at once.
LOST_SHARE = 0.05
FILE_TIMEOUT = 15.0  # s for the session file to reach the model's design
# ms for the page to show what an action needs: the machine is shared, and the first Design
# page of a session can take half a minute when others' tests are running too.
TARGET_TIMEOUT = 60_000
LANDED_WAIT = 15  # s: how long a click that timed out may take to reach the session file
NAV = "[data-testid='stTopNavLink']"
FRESH = ":not([data-stale='true'])"  # not an element a running rerun is about to replace
# The "Selected layer" box's input, as conftest's selected_layer_box finds it.
BOXES = f".st-key-selected_layer{FRESH} input, [class*='st-key-selected_layer-r']{FRESH} input"
# The nodes the canvas's vis-network has selected itself: a click the server has not redrawn yet
# (found as conftest's network_js finds the network).
SELECTED_NODES_JS = network_js("  return net ? net.getSelectedNodes() : null;")


# ---- the model -----------------------------------------------------------------------------------
def default_selection(design: Design) -> str | None:
    """As ``ui.state._default_selection``: the first output, else the first layer."""
    outs = [o for o in design.output_ids() if o in design.node_ids()]
    return outs[0] if outs else (design.nodes[0].id if design.nodes else None)


@dataclass
class Model:
    """What the app should hold: the design, its undo history, the selection, the page."""

    design: Design = field(default_factory=templates.blank)
    history: History = field(default_factory=History)
    selected: str | None = None
    sure: bool = True  # False after a pick: the app may have ignored it (a stale box)
    page: str = "Home"

    def __post_init__(self) -> None:
        self.selected = self.selected or default_selection(self.design)

    def write(self, change: Callable, *, kind: str = "edit") -> None:
        """``ui.state.write``: apply, record the old design for undo, move the selection."""
        old = self.design
        result = change(old)
        new, chosen = result if isinstance(result, tuple) else (result, None)
        if new == old:
            return
        if kind != "history":
            self.history.record(old)
        self.design = new
        target = default_selection(new) if kind == "replace" else chosen
        if target is not None:
            self.selected, self.sure = target, True
        if self.selected not in new.node_ids():
            # The app falls back to the default when its selection is gone; when the model is
            # unsure the app's selection may still exist, so it stays unsure.
            self.selected = default_selection(new)

    def label(self, node_id: str) -> str:
        """How the "Selected layer" box shows a layer."""
        return f"{node_id} · {self.design.node(node_id).type}"


def as_json(design: Design) -> dict:
    """The design as the session file holds it (tuples become lists)."""
    return json.loads(json.dumps(design.to_dict()))


def diff(expected: dict, held: dict | None) -> str:
    a = json.dumps(expected, indent=1, sort_keys=True).splitlines()
    b = json.dumps(held, indent=1, sort_keys=True).splitlines()
    return "\n".join(difflib.unified_diff(a, b, "model", "session file", lineterm="", n=2))


# ---- one walk: one browser session ---------------------------------------------------------------
class WalkFailed(AssertionError):
    pass


@dataclass(frozen=True)
class Plan:
    """A test's walks: ``sessions`` walks of ``actions`` actions, seeded from ``base`` on."""

    base: int
    sessions: int
    actions: int

    def replay(self, seed: int, sessions: int) -> str:
        return (
            f"KD_MODEL_SEED={seed} KD_MODEL_SESSIONS={sessions} KD_MODEL_ACTIONS={self.actions}"
            f" .venv/bin/python -m pytest {TEST_FILE}::test_random_walks"
        )


class Walk:
    """A browser session driven by random actions, checked against a :class:`Model`."""

    def __init__(self, pg, app_url: str, workspace: Path, seed: int, plan: Plan) -> None:
        self.pg = pg
        self.app_url = app_url
        self.workspace = workspace
        self.seed = seed
        self.plan = plan
        self.rng = random.Random(seed)
        self.model = Model()
        self.log: list[str] = []  # the actions done, and what the page told the model
        self.done = 0  # actions done
        self.designs: list[dict] = []  # the model's design at the start and after each action
        self.lost: list[str] = []  # actions the app never got (the design stayed as it was)
        self.session_file: Path | None = None
        self.t0 = time.monotonic()
        self.doing = "open the app"  # for the report of an action that could not be done

    # -- the run --
    def run(self) -> None:
        try:
            self.start()
            while self.done < self.plan.actions:
                self.step()
            self.doing = "let the page settle after the last action"
            self.finish()
        except WalkFailed:
            raise
        except (PlaywrightError, AssertionError) as exc:  # a wait that timed out, mostly
            self.fail(f"could not {self.doing}: {exc}")

    def step(self) -> None:
        action = self.choose()
        pause = math.exp(self.rng.uniform(math.log(PAUSE[0]), math.log(PAUSE[1])))
        before = as_json(self.model.design)
        snapshot = copy.deepcopy(self.model)
        began = time.monotonic()
        self.doing = action.__name__.replace("_", " ")
        done = action()
        if done is None:
            return  # not possible after all (the app kept another layer selected)
        acted = time.monotonic()
        self.done += 1
        self.log.append(
            f"{self.done:3d}. {began - self.t0:5.1f} s  {done}"
            f"  (took {acted - began:.1f} s, then {pause:.2f} s)"
        )
        after = as_json(self.model.design)
        if not self.expect_file(before, after, lost_ok=True):
            self.model, after = snapshot, before
            self.log[-1] += "  LOST: the app never got it, the design stayed as it was"
            self.lost.append(f"seed {self.seed}: {self.log[-1].strip()}")
        self.designs.append(after)
        self.check_page()
        self.hold(after, acted + pause)

    def start(self) -> None:
        self.pg.goto(self.app_url)
        self.pg.wait_for_url(re.compile(r"[?&]session=\w+"), timeout=60_000)
        sid = re.search(r"session=(\w+)", self.pg.url).group(1)
        self.session_file = self.workspace / "sessions" / f"{sid}.json"
        blank = as_json(self.model.design)
        self.expect_file(blank, blank)
        self.designs = [blank]

    def finish(self) -> None:
        """Once the page has settled, the file still holds the model's design."""
        wait_idle(self.pg)
        final = as_json(self.model.design)
        self.expect_file(final, final)
        self.check_page()

    def choose(self) -> Callable[[], str | None]:
        m = self.model
        options: list[tuple[float, Callable]] = [(2, self.switch_page)]
        if m.page == "Home":
            options.append((3, self.use_template))
        if m.page == "Design":
            n = len(m.design.nodes)
            options += [(3, self.pick_in_box), (2, self.pick_on_canvas)]
            if not m.sure or m.design.node(m.selected).type in NUMBERS:
                options.append((3, self.edit_number))
            if n < MAX_NODES:
                options.append((2, self.add_layer))
            if n > MIN_NODES:
                options.append((1.5, self.delete_layer))
            if m.history.can_undo:
                options.append((1.5, self.undo))
            if m.history.can_redo:
                options.append((1, self.redo))
        weights, actions = zip(*options)
        return self.rng.choices(actions, weights)[0]

    # -- the actions (each returns what it did, for the log) --
    def switch_page(self) -> str:
        others = [p for p in PAGES if p != self.model.page]
        weights = [4 if p == "Design" else 3 if p == "Home" else 1 for p in others]
        title = self.rng.choices(others, weights)[0]
        link = self.pg.locator(NAV).filter(has_text=re.compile(f"^{re.escape(title)}$"))
        link.click()
        self.model.page = title
        # The address changes once the server starts the new page. When it has not after a
        # while, Streamlit never got the click (see LOST_SHARE): a person clicks again.
        path = urlsplit(link.get_attribute("href") or "").path
        for wait, again in ((20_000, True), (TARGET_TIMEOUT, False)):
            try:
                self.pg.wait_for_url(lambda url: urlsplit(url).path == path, timeout=wait)
                break
            except PlaywrightError:
                if not again:
                    raise
                self.log.append(f"       (page {title} did not open: clicked it again)")
                link.click()
        return f"page {title}"

    def use_template(self) -> str:
        tid = self.rng.choice(TEMPLATES)
        self.pg.locator(f".st-key-use_{tid} button").click()
        self.model.write(lambda _d: templates.get(tid), kind="replace")
        self.model.page = "Design"  # the app opens Design by itself
        # Until the server has switched, the address is still Home's: a page link clicked now
        # would be checked against the old address (and then lost to the switch). A person sees
        # the page change, not its contents settle: wait for the address only. A click the app
        # never got is found by the file check (the model then goes back to Home).
        try:
            self.pg.wait_for_url(re.compile(r"/design\?"), timeout=20_000)
        except PlaywrightError:
            pass
        return f"template {tid}"

    def pick_in_box(self) -> str:
        m = self.model
        target = self.rng.choice([i for i in m.design.node_ids() if i != m.selected])
        label = m.label(target)
        deadline = time.monotonic() + TARGET_TIMEOUT / 1000
        while True:
            try:
                self.box().click(timeout=TARGET_TIMEOUT)
                self.pg.get_by_role("option", name=label, exact=True).click(timeout=3000)
                break
            except PlaywrightError:
                # The list belonged to a box a rerun has just replaced, or to an older design:
                # a person closes it and opens the box again.
                self.pg.keyboard.press("Escape")
                if time.monotonic() > deadline:
                    raise
        m.selected, m.sure = target, False
        return f"pick {target} in the box"

    def pick_on_canvas(self) -> str:
        m = self.model
        target = self.rng.choice(m.design.node_ids())
        self.click_on_canvas(target, set(m.design.node_ids()))
        m.selected, m.sure = target, False
        return f"click {target} on the canvas"

    def edit_number(self) -> str | None:
        m = self.model
        sel = self.target()
        node = m.design.node(sel)
        if node.type not in NUMBERS:
            return None
        name = NUMBERS[node.type]
        spec = catalog.get(node.type).param(name)
        current = node.params.get(name, spec.default)
        value = self.new_number(spec, current)
        box = self.param_field(sel, name).locator("input")
        expect(box).to_be_visible(timeout=TARGET_TIMEOUT)
        shown = box.input_value()
        if not math.isclose(float(shown), current):
            self.fail(f"the field {sel}.{name} shows {shown}, the design holds {current}")
        box.fill(f"{value:g}" if isinstance(value, float) else str(value))
        box.press("Enter")
        m.write(lambda d: editing.set_param(d, sel, name, value))
        return f"set {sel}.{name} = {value}"

    def add_layer(self) -> str | None:
        m = self.model
        sel = self.target()
        if len(m.design.nodes) >= MAX_NODES:
            return None
        layer = self.rng.choice(PALETTE)
        palette = self.palette(sel)
        palette.get_by_role("radio", name=layer, exact=True).click(timeout=TARGET_TIMEOUT)
        m.write(lambda d: editing.insert_after(d, sel, layer))
        return f"add {layer} after {sel} (as {m.selected})"

    def delete_layer(self) -> str | None:
        m = self.model
        sel = self.target()
        if len(m.design.nodes) <= MIN_NODES:
            return None
        button = self.pg.locator(
            f".st-key-delete-{css_key(sel)}{FRESH} button, .st-key-delete{FRESH} button"
        )
        self.press(button)
        m.write(lambda d: editing.delete_node(d, sel))
        return f"delete {sel}"

    def undo(self) -> str:
        self.press(self.pg.locator(f".st-key-undo{FRESH} button"))
        self.model.write(lambda d: self.model.history.undo(d) or d, kind="history")
        return "undo"

    def redo(self) -> str:
        self.press(self.pg.locator(f".st-key-redo{FRESH} button"))
        self.model.write(lambda d: self.model.history.redo(d) or d, kind="history")
        return "redo"

    def press(self, button) -> None:
        """Click an inspector button once it is enabled (the page may not show the change
        that enables it yet). When something covers it (the sticky top bar after a scroll,
        a toast the pointer keeps open by resting on it), a person moves the pointer away and
        scrolls the button into the middle, then clicks: so does this.

        A click can also land and still time out: on a busy machine the browser handles the
        mouse events after Playwright has stopped waiting for them. Every button pressed here
        changes the design, so a session file that changes meanwhile means the click landed,
        and it is not clicked again (a second undo would be the test's, not the app's)."""
        expect(button).to_be_enabled(timeout=TARGET_TIMEOUT)
        before = self.held().get("design")
        try:
            button.click(timeout=10_000)
        except PlaywrightError:
            deadline = time.monotonic() + LANDED_WAIT
            while time.monotonic() < deadline:
                if self.held().get("design") not in (None, before):
                    self.log.append("         (the next action's click timed out but landed)")
                    return
                time.sleep(0.1)
            self.pg.mouse.move(2, VIEWPORT["height"] // 2)
            button.evaluate("el => el.scrollIntoView({block: 'center'})")
            button.click(timeout=TARGET_TIMEOUT)

    # -- helpers of the actions --
    def target(self) -> str:
        """The selected layer, once the inspector shows it (read from the page when unsure)."""
        m = self.model
        if not m.sure:
            shown = self.settled_selection()
            if shown not in m.design.node_ids():
                self.fail(f"the inspector shows {shown!r}, which is not in the design")
            if shown != m.selected:
                self.log.append(f"         (the app kept {shown} selected, not {m.selected})")
            m.selected, m.sure = shown, True
        label = m.label(m.selected)
        deadline = time.monotonic() + TARGET_TIMEOUT / 1000
        while self.box_value() != label:
            if time.monotonic() > deadline:
                # Not a change of the design (that is what this test is about), but a selection
                # the person did not make: reported like a lost action, then taken as it is.
                shown = self.settled_selection()
                if shown not in m.design.node_ids():
                    self.fail(f"the inspector shows {shown!r}, which is not in the design")
                self.lost.append(
                    f"seed {self.seed}: after action {self.done} the inspector showed {shown}, "
                    f"the model expected {m.selected}"
                )
                self.log.append(f"         (SELECTION: the app shows {shown}, not {m.selected})")
                m.selected = shown
                return shown
            time.sleep(0.1)
        return m.selected

    def box(self):
        """The "Selected layer" box, as a person sees it to click.

        A widget that has the focus when a rerun replaces it with a new key (the box after a
        pick, a field after Enter) stays on the page, below its successor, until it loses the
        focus: then it is not the box to read or click.
        """
        boxes = selected_layer_box(self.pg)
        if boxes.count() > 1:
            return boxes.and_(self.pg.locator(":not(:focus)"))
        return boxes

    def box_value(self) -> str | None:
        """What the box shows (None while it is not there)."""
        values = self.pg.eval_on_selector_all(
            BOXES, "els => els.map(e => [e.value, e === document.activeElement])"
        )
        if len(values) > 1:
            values = [v for v in values if not v[1]]
        return values[0][0] if len(values) == 1 else None

    def settled_selection(self, quiet: float = 0.6) -> str:
        """The app's selection, read once the page has settled on one.

        No script run for ``quiet`` seconds is not enough on a busy machine: the server may
        take longer than that to start the run a click asked for. So every part of the page
        that shows the selection must agree too (:meth:`shown_selection`).
        """
        app = self.pg.locator(APP)
        deadline = time.monotonic() + TARGET_TIMEOUT / 1000
        calm_since, seen = None, None
        while time.monotonic() < deadline:
            idle = app.get_attribute("data-test-script-state") == "notRunning"
            seen = self.shown_selection() if idle else None
            if seen and len(set(seen.values())) == 1:
                calm_since = calm_since or time.monotonic()
                if time.monotonic() - calm_since >= quiet:
                    return seen["box"]
            else:
                calm_since = None
            time.sleep(0.1)
        self.fail(f"the page did not settle on one selection: {seen}")

    def shown_selection(self) -> dict[str, str | None] | None:
        """The selection as each part of the page shows it; None while a part is redrawn.

        * the "Selected layer" box shows a pick at once, before the server has seen it;
        * the palette's caption ("… add it after X") is drawn by the server only;
        * the Name field's key names the layer it was drawn for, and a revision (when the app
          has revisions): a field drawn for a design newer than the file's does not count;
        * the canvas marks a clicked node itself until the server redraws it (a canvas that
          is being drawn, or failed to load, marks nothing).
        """
        try:
            if self.pg.locator("[data-stale='true']").count():
                return None
            box = self.box_value()
            if box is None:
                return None
            caption = self.pg.get_by_text(re.compile(r"^Click a layer to add it after "))
            shown = {
                "box": box.split(" · ")[0],
                "caption": caption.inner_text(timeout=1000).split()[-1],
                "name field": self.name_field_node(),
            }
            clicked = self.canvas_marked()
            if clicked and clicked != [shown["box"]]:
                shown["canvas"] = ",".join(clicked)
            return shown
        except PlaywrightError:  # redrawn between two looks
            return None

    def name_field_node(self) -> str | None:
        """The layer the Name field was drawn for, if drawn for the design the file holds (its
        key's revision is where what it shows last changed: at most the file's)."""
        revision = self.held().get("revision")
        classes = self.pg.eval_on_selector_all(
            f"[class*='st-key-n-']{FRESH}", "els => els.map(e => e.className)"
        )
        for cls in classes:
            for token in cls.split():
                found = re.fullmatch(r"st-key-n-(.+?)(?:-r(\d+))?", token)
                drawn = found and found.group(2)
                if found and (revision is None or (drawn and int(drawn) <= revision)):
                    return found.group(1)
        return None

    def canvas_marked(self) -> list[str]:
        """The nodes vis-network marks as clicked itself, until the server redraws the canvas.

        Nothing while the canvas is being drawn: a new canvas comes from a run that has seen
        the click (or dropped it, when the design changed meanwhile).
        """
        marked: list[str] = []
        for handle in self.pg.locator(AGRAPH).element_handles():
            frame = handle.content_frame()
            marked += (frame.evaluate(SELECTED_NODES_JS) if frame else None) or []
        return marked

    def new_number(self, spec, current: float) -> float:
        while True:
            if spec.kind == "int":
                value = self.rng.randint(1, 128)
            else:
                value = round(self.rng.uniform(0.05, 0.95), 2)
            if value != current:
                return value

    def param_field(self, node_id: str, name: str):
        """The field of the design as the file holds it.

        A field's key carries the revision at which what it shows last changed: the file's
        revision when the last change wrote this field or replaced the whole design (then a
        field drawn before may be replaced while we type, and Enter would go to the new field,
        which still holds the old value), an older one when the change left it as it was
        (then no new field is coming). A field of the file's revision is the one to type in;
        without one, the page settles first. The old app has no revisions in its keys or
        files: there, wait for the page to settle too.
        """
        revision = self.held().get("revision")
        if revision is not None:
            exact = self.pg.locator(f".st-key-{css_key(f'p:{node_id}:{name}:r{revision}')}{FRESH}")
            if exact.count():
                return exact
        wait_idle(self.pg)
        return design_field(self.pg, f"p:{node_id}:{name}")

    def palette(self, sel: str):
        """The Core palette drawn to add after ``sel``: its key names the selection (and the
        revision, if the app keys it so; the old app: a plain key)."""
        revision = self.held().get("revision")
        keys = (f"pal_core:{sel}:r{revision}", f"pal_core:{sel}", "pal_core")
        return self.pg.locator(", ".join(f".st-key-{css_key(k)}{FRESH}" for k in keys))

    def click_on_canvas(self, node_id: str, ids: set[str]) -> None:
        """Click a layer on the canvas once it draws the model's layers.

        streamlit-agraph redraws its iframe on every change; one replaced between finding the
        node and clicking it raises, and we look again.
        """
        deadline = time.monotonic() + TARGET_TIMEOUT / 1000
        seen, error = None, None
        while time.monotonic() < deadline:
            for handle in self.pg.locator(AGRAPH).element_handles():
                try:
                    frame = handle.content_frame()
                    seen = frame.evaluate(NODE_POSITIONS_JS) if frame else None
                    if seen and set(seen["nodes"]) == ids:
                        pos = seen["nodes"][node_id]
                        frame.locator("canvas").click(
                            position={"x": pos["x"], "y": pos["y"]}, timeout=5000
                        )
                        return
                except PlaywrightError as exc:
                    error = str(exc).splitlines()[0:8]
                    continue
            time.sleep(0.2)
        raise AssertionError(f"the canvas did not draw {sorted(ids)}: {seen}; last error: {error}")

    # -- the checks --
    def held(self) -> dict:
        """The session file (empty while it is missing or being replaced)."""
        try:
            return json.loads(self.session_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def expect_file(self, before: dict, after: dict, lost_ok: bool = False) -> bool:
        """The file reaches ``after``; meanwhile it holds nothing but ``before`` or ``after``.
        With ``lost_ok``, a file still at ``before`` when the time is up returns False."""
        deadline = time.monotonic() + FILE_TIMEOUT
        while True:
            design = self.held().get("design")
            if design == after:
                return True
            if design is not None and design != before:
                self.fail(
                    "the session file holds neither the design before the action nor after it"
                    + self.seen_before(design),
                    after,
                    design,
                )
            if time.monotonic() > deadline:
                if lost_ok and design == before:
                    return False
                self.fail(f"the session file did not reach the model in {FILE_TIMEOUT} s", after)
            time.sleep(0.1)

    def hold(self, design: dict, until: float) -> None:
        """The pause between actions: the file must not change by itself meanwhile."""
        while time.monotonic() < until:
            held = self.held().get("design")
            if held is not None and held != design:
                self.fail(
                    "the session file changed by itself after the action" + self.seen_before(held),
                    design,
                    held,
                )
            time.sleep(min(0.1, max(0.0, until - time.monotonic())))

    def seen_before(self, design: dict) -> str:
        """Which earlier state of the model ``design`` is, if any (a double undo, say)."""
        for step in range(len(self.designs) - 1, -1, -1):
            if self.designs[step] == design:
                return f" (it is the design after action {step})" if step else " (the blank)"
        return " (the model never had it)"

    def check_page(self) -> None:
        try:
            assert_no_exception(self.pg)
        except AssertionError as exc:
            self.fail(str(exc))

    def fail(self, why: str, expected: dict | None = None, held: dict | None = None) -> None:
        lines = [
            f"{why} (walk {self.seed - self.plan.base + 1} of {self.plan.sessions},"
            f" seed {self.seed})",
            f"replay this walk: {self.plan.replay(self.seed, 1)}",
            f"replay the run:   {self.plan.replay(self.plan.base, self.plan.sessions)}",
            f"page: {self.pg.url}",
            "actions:",
            *(f"  {line}" for line in self.log),
        ]
        if expected is not None:
            lines += ["model → session file:", diff(expected, held or self.held().get("design"))]
        lines += ["--- server log ---", server_log_tail(20)]
        raise WalkFailed("\n".join(lines))


# ---- the tests -----------------------------------------------------------------------------------
def walk_all(app_url: str, workspace: Path, sessions: int, actions: int) -> None:
    """``sessions`` walks of ``actions`` actions, a few at a time against the one server.

    Walks run side by side (``KD_MODEL_WORKERS``, one Chromium per worker thread: the sync
    Playwright API is per thread): the server has two cores, and a walk mostly waits for it or
    pauses. Several sessions at once also test that one session never touches another's design.
    """
    sessions = int(os.environ.get("KD_MODEL_SESSIONS") or sessions)
    actions = int(os.environ.get("KD_MODEL_ACTIONS") or actions)
    base = int(os.environ.get("KD_MODEL_SEED") or random.SystemRandom().randrange(10**6))
    workers = min(sessions, int(os.environ.get("KD_MODEL_WORKERS") or WORKERS))
    plan = Plan(base, sessions, actions)
    warm_up(app_url)
    print(f"\n{sessions} walks of {actions} actions, seeds {base}..{base + sessions - 1}")
    todo = iter(range(sessions))
    lock = threading.Lock()
    failures: list[str] = []
    lost: list[str] = []
    started = time.monotonic()

    def worker() -> None:
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                while not failures:
                    with lock:
                        i = next(todo, None)
                    if i is None:
                        break
                    error = one_walk(browser, app_url, workspace, base + i, plan, lost)
                    if error:
                        failures.append(error)
                browser.close()
        except Exception:  # noqa: BLE001 - reported by the test, not lost with the thread
            failures.append(traceback.format_exc())

    threads = [threading.Thread(target=worker, name=f"walker-{n}") for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        pytest.fail(failures[0], pytrace=False)
    print(f"{sessions} walks, {sessions * actions} actions in {time.monotonic() - started:.0f} s")
    print(f"{len(lost)} lost actions" + "".join(f"\n  {line}" for line in lost))
    if len(lost) > LOST_SHARE * sessions * actions:
        pytest.fail(f"{len(lost)} of {sessions * actions} actions were lost:\n" + "\n".join(lost))


def warm_up(app_url: str) -> None:
    """Open a template's Design page once before the walks (in a session of its own).

    A server's first Design page imports TensorFlow and builds a first model: on a busy
    machine the first walks, all at once, waited 40 s there, which told nothing about the
    design and ate into their timeouts. In a thread of its own, as the walks: the sync
    Playwright API refuses a thread where another test's browser still runs its event loop.
    """
    failed: list[BaseException] = []

    def open_design() -> None:
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                pg = browser.new_page(viewport=VIEWPORT)
                pg.goto(app_url)
                use = pg.locator(f".st-key-use_{TEMPLATES[0]} button")
                use.click(timeout=TARGET_TIMEOUT * 3)
                pg.wait_for_url(re.compile(r"/design\?"), timeout=TARGET_TIMEOUT * 3)
                wait_idle(pg, 180)
                browser.close()
        except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
            failed.append(exc)

    thread = threading.Thread(target=open_design, name="warm-up")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]


def one_walk(
    browser, app_url: str, workspace: Path, seed: int, plan: Plan, lost: list[str]
) -> str | None:
    """Run one walk in a new browser context; the failure's report, if it fails. The actions
    the app never got are added to ``lost``."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        pg = context.new_page()
        pg.set_default_timeout(TARGET_TIMEOUT)
        walk = Walk(pg, app_url, workspace, seed, plan)
        t0 = time.monotonic()
        try:
            walk.run()
        except WalkFailed as exc:
            shot = workspace / f"failed-walk-{seed}.png"
            try:
                pg.screenshot(path=str(shot))
            except PlaywrightError as why:  # the report matters more than the picture
                shot = f"none ({why})"
            return f"{exc}\nscreenshot: {shot}"
        lost.extend(walk.lost)
        print(f"walk with seed {seed}: {time.monotonic() - t0:5.1f} s", flush=True)
        if os.environ.get("KD_MODEL_VERBOSE"):  # every action with its timing, to see the waits
            print("\n".join(f"  {line}" for line in walk.log), flush=True)
        return None
    finally:
        context.close()


def test_random_walks(app_url, app_workspace):
    walk_all(app_url, app_workspace, sessions=30, actions=10)


@pytest.mark.slow
def test_random_walks_soak(app_url, app_workspace):
    """Longer walks (deeper undo histories, bigger designs) and more of them: ~20 minutes."""
    walk_all(app_url, app_workspace, sessions=60, actions=30)
