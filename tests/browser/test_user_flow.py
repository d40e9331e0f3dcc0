"""The app in a real browser, the way a person uses it: template → design → train → evaluate →
export.

Runs against ``streamlit run app.py`` (see conftest.py) in Debian's Chromium. Every step ends
with ``assert_no_exception``; every page is photographed into assets/screenshots/.
Widgets are found by their Streamlit keys (``.st-key-<key>``, ``:`` becomes ``-``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from urllib.parse import urljoin

from conftest import (
    AGRAPH,
    NODE_LABELS_JS,
    VIEWPORT,
    after_rerun,
    assert_no_exception,
    click_node,
    click_until,
    css_key,
    field,
    graph,
    open_page,
    screenshot,
    selected_layer_box,
    shown,
    wait_idle,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

TEMPLATE_LAYERS = ["input", "flatten", "dense", "dropout", "output"]
TEMPLATE_PARAMS = "4,810"

# Plotly keeps the figure on its graph div: the longest trace of a chart (0 when not drawn yet).
# (_fullData: plotly.py 6 sends numpy arrays base64-encoded; plotly.js decodes them there.)
# A live chart is redrawn as a new element; the old one stays a moment, stale and 0 px high.
POINTS_JS = """(sel) => Math.max(0,
  ...Array.from(document.querySelectorAll(sel + ' .js-plotly-plot'))
  .filter(gd => gd.offsetHeight > 0 && gd._fullData)
  .map(gd => Math.max(0, ...gd._fullData.map(t => (t.x || []).length))))"""
HEATMAP_JS = """(sel) => {
  const gd = document.querySelector(sel + ' .js-plotly-plot');
  const t = gd && gd._fullData && gd._fullData[0];
  return t && t.type === 'heatmap' ? [t.z.length, t.z[0].length] : null;
}"""


# ---- helpers -------------------------------------------------------------------------------------
_t0 = [time.time()]


def step(name: str) -> None:
    """Log where the time goes (shown with -s, and with a failure)."""
    print(f"[{time.time() - _t0[0]:6.1f} s] {name}", flush=True)


def metric(pg, label: str) -> str:
    return (
        pg.locator("[data-testid='stMetric']", has_text=label)
        .locator("[data-testid='stMetricValue']")
        .inner_text()
    )


def expect_metric(pg, label: str, value: str, timeout: float = 60) -> None:
    loc = pg.locator("[data-testid='stMetric']", has_text=label).locator(
        "[data-testid='stMetricValue']"
    )
    expect(loc).to_have_text(value, timeout=timeout * 1000)


def select_node(pg, node_id: str, label: str) -> None:
    """Click the node on the canvas (fails when the canvas cannot be clicked)."""
    click_node(pg, node_id, len(TEMPLATE_LAYERS))
    expect(selected_layer_box(pg)).to_have_value(label, timeout=60_000)
    wait_idle(pg)


def progress_text(pg) -> str:
    bars = pg.locator("[data-testid='stProgress']")
    try:
        return bars.first.inner_text(timeout=500) if bars.count() else ""
    except Exception:  # noqa: BLE001 - redrawn between count() and inner_text()
        return ""


def watch_training(pg, epochs: int, timeout: float = 150) -> list[tuple[str, int]]:
    """Poll (progress text, points on the loss chart) until the run says finished."""
    seen: list[tuple[str, int]] = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        now = (progress_text(pg), pg.evaluate(POINTS_JS, ".st-key-live_loss"))
        if not seen or now != seen[-1]:
            seen.append(now)
        if now[0].startswith("finished") and now[1] == epochs:
            return seen
        assert not re.match(r"(failed|nan|stopped|interrupted)", now[0]), seen
        time.sleep(0.15)
    raise AssertionError(f"training did not finish in {timeout} s; saw {seen}")


def wait_points(pg, key: str, at_least: int = 1, timeout: float = 60) -> int:
    """The points on a visible Plotly chart, once there are ``at_least``.

    The count is the one the wait saw: a second look can fall in the moment a polling rerun
    replaces the chart (none is visible then)."""
    seen = pg.wait_for_function(
        f"(sel) => {{ const n = ({POINTS_JS})(sel); return n >= {at_least} ? n : false; }}",
        arg=f".st-key-{key}",
        timeout=timeout * 1000,
    )
    return seen.json_value()


def field_revision(pg, key: str) -> str:
    """The revision the field ``key`` is drawn at (its class ``st-key-<key>-r<revision>``)."""
    classes = field(pg, key).first.get_attribute("class") or ""
    found = re.search(rf"st-key-{re.escape(css_key(key))}-r(\d+)", classes)
    return found.group(1) if found else ""


def set_number(pg, key: str, value: int) -> None:
    """Type a number and press Enter; wait for that rerun before anything else happens.

    On a busy machine a late redraw can reset what was typed (then Enter changes nothing and
    no rerun comes): type it again.
    """
    box = field(pg, key).locator("input")
    for _ in range(3):
        drawn = field_revision(pg, key)
        box.fill(str(value))
        try:
            after_rerun(pg, lambda: box.press("Enter"), start_timeout=15)
        except PlaywrightTimeoutError:
            # An Enter during a run that was already going restarts it without the page ever
            # leaving "running": no new run to see. The field is redrawn under the next
            # revision when the value landed.
            wait_idle(pg)
            if field_revision(pg, key) != drawn and box.input_value() == str(value):
                return
            step(f"{key}: no rerun after Enter (the field shows {box.input_value()}): again")
            continue
        if box.input_value() == str(value):
            return
    raise AssertionError(f"{key}: could not set {value}; the field shows {box.input_value()}")


def start_training(pg, epochs: int, batch_size: int | None = None) -> None:
    set_number(pg, "t:epochs", epochs)
    if batch_size:
        set_number(pg, "t:batch_size", batch_size)
    pg.locator(".st-key-train_start button").click()


def epoch_shown(pg, total: int) -> int:
    m = re.match(rf"epoch (\d+)/{total}\b", progress_text(pg))
    return int(m.group(1)) if m else 0


# ---- the whole story -----------------------------------------------------------------------------
def open_home(pg, app_url: str) -> None:
    """A new visit to Home (the step timer restarts)."""
    _t0[0] = time.time()
    pg.goto(app_url)
    wait_idle(pg)


def press_on_home(pg, button_key: str) -> None:
    """A Home button that opens the Design page (the first visit imports TensorFlow: slow)."""
    pg.locator(f".st-key-{button_key} button").click()
    pg.wait_for_url(re.compile(r"/design\?session="), timeout=60_000)
    wait_idle(pg, 180)


def test_user_flow(page, app_url, tmp_path):
    pg = page
    open_home(pg, app_url)
    assert_no_exception(pg)
    expect(pg.locator(".st-key-use_digits-mlp button")).to_be_visible()
    # The tab's icon is the app's own picture, served by the app (no emoji, nothing remote).
    icon = pg.locator("link[rel~='icon']").first.get_attribute("href")
    served = pg.request.get(urljoin(pg.url, icon))
    assert served.ok and served.headers["content-type"] == "image/png", icon
    screenshot(pg, "home")

    # Home → the digits template → Design.
    press_on_home(pg, "use_digits-mlp")
    assert_no_exception(pg)
    expect_metric(pg, "Layers", str(len(TEMPLATE_LAYERS)))
    expect_metric(pg, "Parameters", TEMPLATE_PARAMS)
    step("design page")

    # The canvas: an iframe whose vis-network draws all five layers inside the visible area.
    frame, info = graph(pg, len(TEMPLATE_LAYERS))
    assert sorted(info["nodes"]) == sorted(TEMPLATE_LAYERS)
    for nid, p in info["nodes"].items():
        assert 0 < p["x"] < info["width"] and 0 < p["y"] < info["height"], (nid, p, info)
    ys = [info["nodes"][n]["y"] for n in TEMPLATE_LAYERS]
    assert ys == sorted(ys) and len(set(ys)) == len(ys), f"layers not top-down: {ys}"

    # Click the middle (hidden) Dense layer on the canvas: the inspector shows it.
    select_node(pg, "dense", "dense · Dense")
    expect(field(pg, "n:dense").locator("input")).to_have_value("dense")
    assert_no_exception(pg)

    # Add a Dense after it from the palette: one more layer, more parameters; then delete it.
    field(pg, "pal_core:dense").get_by_role("radio", name="Dense", exact=True).click()
    expect_metric(pg, "Layers", str(len(TEMPLATE_LAYERS) + 1))
    wait_idle(pg)
    assert metric(pg, "Parameters") != TEMPLATE_PARAMS
    graph(pg, len(TEMPLATE_LAYERS) + 1)  # the canvas follows
    new_id = selected_layer_box(pg).input_value().split(" · ")[0]
    assert new_id not in TEMPLATE_LAYERS, new_id
    assert_no_exception(pg)
    pg.locator(f".st-key-delete-{new_id} button").click()
    expect_metric(pg, "Layers", str(len(TEMPLATE_LAYERS)))
    expect_metric(pg, "Parameters", TEMPLATE_PARAMS)
    wait_idle(pg)
    graph(pg, len(TEMPLATE_LAYERS))
    assert_no_exception(pg)
    select_node(pg, "dense", "dense · Dense")
    screenshot(pg, "design")
    step("canvas click, add and delete")

    # A parameter edit redraws the canvas's labels in the same iframe (no reload, no blank).
    frame = pg.locator(AGRAPH).element_handle()
    set_number(pg, "p:dense:units", 77)
    expect_metric(pg, "Layers", str(len(TEMPLATE_LAYERS)))
    deadline, labels = time.time() + 30, {}
    while "Dense 77" not in labels.get("dense", ""):
        assert time.time() < deadline, f"the canvas still draws {labels}"
        time.sleep(0.2)
        labels = frame.content_frame().evaluate(NODE_LABELS_JS) or {}
    assert "(77,)" in labels["dense"] and "(77,)" in labels["dropout"], labels
    assert frame.evaluate("(f) => f.isConnected")
    set_number(pg, "p:dense:units", 64)
    expect_metric(pg, "Parameters", TEMPLATE_PARAMS)

    # The Code tab is drawn when it is opened (the page reruns for it), with this design.
    code = pg.locator("[data-testid='stCode']").filter(has_text="layers.Dense(")
    click_until(pg.get_by_role("tab", name="Code"), shown(code))
    wait_idle(pg)
    assert_no_exception(pg)

    open_page(pg, "Data")
    expect(pg.locator(".st-key-data_samples .js-plotly-plot")).to_be_visible(timeout=60_000)
    screenshot(pg, "data")

    # Train three epochs and watch the curves grow. Batch size 2 makes each epoch last long
    # enough (about a second) for the once-a-second live panel to show an epoch in between.
    open_page(pg, "Train")
    start_training(pg, 3, batch_size=2)
    seen = watch_training(pg, 3)
    step(f"trained: {seen}")
    points = [p for _, p in seen if p]  # 0: the chart is being redrawn
    assert points == sorted(points), f"the curves shrank: {seen}"
    epochs_seen = {int(m.group(1)) for t, _ in seen if (m := re.match(r"epoch (\d)/3", t))}
    assert len(set(points)) >= 2 or len(epochs_seen) >= 2, f"no growth seen: {seen}"
    # The live panel shows "finished" first; a moment later the whole page is redrawn.
    expect(pg.locator(".st-key-train_start button")).to_be_enabled(timeout=60_000)
    expect(pg.locator(".kd-status")).to_contain_text("finished")
    wait_idle(pg)
    assert_no_exception(pg)
    assert wait_points(pg, "live_metric") == 3
    screenshot(pg, "train")

    open_page(pg, "Evaluate", 180)
    expect(pg.locator(".st-key-confusion .js-plotly-plot")).to_be_visible(timeout=90_000)
    assert pg.evaluate(HEATMAP_JS, ".st-key-confusion") == [10, 10]  # digits: 10 classes
    wait_idle(pg)
    assert_no_exception(pg)
    screenshot(pg, "evaluate")
    step("evaluate")

    # Try it: draw a stroke (drag a box over the pixel canvas) and get the model's answer.
    after_rerun(pg, pg.locator("[data-testid='stButtonGroup'] button", has_text="Draw").click)
    canvas = pg.locator("[class*='st-key-try_canvas'] .js-plotly-plot").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()

    def stroke() -> None:
        pg.mouse.move(box["x"] + box["width"] * 0.42, box["y"] + box["height"] * 0.1)
        pg.mouse.down()
        for i in range(1, 11):
            pg.mouse.move(
                box["x"] + box["width"] * 0.6, box["y"] + box["height"] * (0.1 + 0.08 * i)
            )
        pg.mouse.up()

    after_rerun(pg, stroke)
    expect(pg.get_by_text("Prediction", exact=True).first).to_be_visible(timeout=30_000)
    assert_no_exception(pg)
    step("drew a digit")

    open_page(pg, "Inspect", 180)
    expect(pg.locator(".st-key-hist_0 .js-plotly-plot")).to_be_visible(timeout=60_000)
    screenshot(pg, "inspect")
    step("inspect")

    # Export: download the script and run it on its own (digits is offline: scikit-learn).
    open_page(pg, "Export")
    expect(pg.locator("[data-testid='stCode']").first).to_be_visible()
    with pg.expect_download() as dl:
        pg.locator(".st-key-dl_script button").click()
    assert dl.value.suggested_filename == "digits-mlp.py"
    script = tmp_path / dl.value.suggested_filename
    dl.value.save_as(script)
    assert "def build_model" in script.read_text(encoding="utf-8")
    screenshot(pg, "export")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    run = subprocess.Popen(
        [sys.executable, str(script), "--epochs", "1", "--output", str(tmp_path / "out.keras")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    open_page(pg, "Experiments")
    screenshot(pg, "experiments")

    open_page(pg, "Settings")
    expect(pg.get_by_text("New runs train on")).to_contain_text("this machine")
    expect(pg.locator("[data-testid='stDataFrame']").first).to_be_visible()
    screenshot(pg, "settings")

    step("export, experiments and settings")
    out, _ = run.communicate(timeout=240)
    step("the exported script ran")
    assert run.returncode == 0, out[-3000:]
    assert "Total params: 4,810" in out, out[-3000:]
    assert (tmp_path / "out.keras").is_file()


# ---- two browsers, two sessions ------------------------------------------------------------------
def test_second_browser_has_its_own_session(page, browser, app_url):
    secret = f"private-design-{int(time.time())}"
    pg = page
    open_home(pg, app_url)
    press_on_home(pg, "home_blank")
    name = field(pg, "c:name").locator("input")
    name.fill(secret)
    name.press("Enter")
    wait_idle(pg)
    expect(pg.locator(".kd-status")).to_contain_text(secret)
    step("named the design")
    pg.reload()  # saved with the session: a refresh keeps it
    expect(pg.locator(".kd-status")).to_contain_text(secret, timeout=60_000)
    first = re.search(r"session=(\w+)", pg.url).group(1)

    other = browser.new_context(viewport=VIEWPORT)
    try:
        pg2 = other.new_page()
        pg2.goto(app_url)
        wait_idle(pg2)
        step("second browser")
        assert_no_exception(pg2)
        expect(pg2.locator(".kd-status")).to_be_visible()
        assert re.search(r"session=(\w+)", pg2.url).group(1) != first
        open_page(pg2, "Design", 180)
        step("second browser: design")
        expect(field(pg2, "c:name").locator("input")).to_be_visible(timeout=60_000)
        expect(field(pg2, "c:name").locator("input")).not_to_have_value(secret)
        assert secret not in pg2.locator(".kd-status").inner_text()
        assert secret not in pg2.content()
    finally:
        other.close()


# ---- a refresh re-attaches to the run ------------------------------------------------------------
def test_refresh_reattaches_to_running_job(page, app_url):
    pg = page
    open_home(pg, app_url)
    press_on_home(pg, "use_digits-mlp")
    open_page(pg, "Train")
    session = re.search(r"session=(\w+)", pg.url).group(1)
    start_training(pg, 500)
    expect(pg.locator("[data-testid='stProgress']")).to_contain_text(
        re.compile(r"epoch ([2-9]|\d\d+)/500"), timeout=120_000
    )
    before = epoch_shown(pg, 500)
    run_id = re.search(r"Run (\S+) · ▶ running", pg.locator(".kd-status").inner_text()).group(1)
    step(f"training {run_id}, epoch {before}")

    pg.reload()
    assert f"session={session}" in pg.url
    bar = pg.locator("[data-testid='stProgress']")
    expect(bar).to_contain_text("/500", timeout=60_000)
    expect(pg.locator(".kd-status")).to_contain_text(f"{run_id} · ▶ running")  # re-attached
    assert_no_exception(pg)
    seen = [before]
    deadline = time.time() + 90
    while time.time() < deadline and not (len(seen) >= 3 and seen[-1] > before):
        if (now := epoch_shown(pg, 500)) and now != seen[-1]:
            seen.append(now)  # the live panel keeps polling after the reload
        time.sleep(0.3)
    assert len(seen) >= 3 and seen == sorted(seen), f"no progress after the reload: {seen}"
    assert wait_points(pg, "live_loss", at_least=before) >= before  # the curve kept its past
    step(f"after the reload: {seen}")

    pg.locator(".st-key-train_stop button").click()
    expect(bar).to_contain_text("stopped", timeout=60_000)
    wait_idle(pg)
    assert_no_exception(pg)
