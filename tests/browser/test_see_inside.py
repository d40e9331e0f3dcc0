"""Issue 17 in a real browser: a teacher steps a moons MLP one epoch at a time and shows every
hidden unit's map (hovering one shows its incoming weights), then shows where a CNN trained on
the offline ``shapes`` set looks (Grad-CAM on Evaluate). Photographed into assets/screenshots/
(neurons.png, gradcam.png).
"""

from __future__ import annotations

import re
import time

from conftest import after_rerun, assert_no_exception, open_page, screenshot, wait_idle
from playwright.sync_api import expect
from test_user_flow import open_home, press_on_home, progress_text, set_number

# The unit maps on a chart: (heatmaps, column titles) once Plotly has drawn it.
UNITS_JS = """(sel) => {
  const gd = Array.from(document.querySelectorAll(sel + ' .js-plotly-plot'))
    .find(g => g.offsetHeight > 0 && g._fullData);
  if (!gd) return null;
  return [gd._fullData.filter(t => t.type === 'heatmap').length,
          (gd._fullLayout.annotations || []).map(a => a.text)];
}"""


def wait_progress(pg, pattern: str, timeout: float = 120) -> str:
    deadline = time.time() + timeout
    seen = ""
    while time.time() < deadline:
        seen = progress_text(pg)
        if re.match(pattern, seen):
            return seen
        assert not re.match(r"(failed|nan|interrupted)", seen), seen
        time.sleep(0.2)
    raise AssertionError(f"the progress line never matched {pattern!r}; last: {seen!r}")


def press(pg, key: str) -> None:
    """Press a Train button. Not waiting for the page to settle: once a run is going or
    paused its panel polls every second, and on a busy machine the page is never idle for
    long; the caller waits for the progress line instead."""
    after_rerun(pg, pg.locator(f".st-key-{key} button").click, settle=False)
    assert_no_exception(pg)


def test_step_through_moons_with_every_neuron_then_gradcam_on_shapes(page, app_url):
    pg = page
    open_home(pg, app_url)
    press_on_home(pg, "use_moons-mlp")
    open_page(pg, "Train")
    set_number(pg, "t:epochs", 25)  # the template says 30
    press(pg, "train_step")  # a new run that pauses after its first epoch
    wait_progress(pg, r"paused after epoch 1/25")
    expect(pg.locator(".st-key-train_pause button")).to_have_text(re.compile("Continue"))
    press(pg, "train_step")
    wait_progress(pg, r"paused after epoch 2/25")
    units = pg.wait_for_function(UNITS_JS, arg=".st-key-live_units", timeout=60_000).json_value()
    assert units[0] == 16 and any("hidden1" in t for t in units[1]), units  # 2 layers × 8 units
    # Hovering a unit's map shows its incoming weights (the chart may be redrawn meanwhile).
    for _ in range(20):
        pg.locator(".st-key-live_units .nsewdrag").first.hover()
        if pg.locator(".st-key-live_units .hovertext", has_text="incoming weights").count():
            break
        time.sleep(0.5)
    else:
        raise AssertionError("no hover label with the unit's incoming weights")
    screenshot(pg, "neurons")  # no wait_idle: the paused run's panel still polls every second
    press(pg, "train_pause")  # Continue: the same run trains its other 23 epochs
    wait_progress(pg, r"finished · 25/25 epochs")
    assert_no_exception(pg)

    # The CIFAR-10 CNN template trains on the offline shapes by default.
    open_home(pg, app_url)
    press_on_home(pg, "use_cifar10-cnn")
    open_page(pg, "Train")
    set_number(pg, "t:epochs", 2)
    press(pg, "train_start")
    wait_progress(pg, r"finished", timeout=300)
    # The live panel says "finished" first; a moment later the whole page is redrawn.
    expect(pg.locator(".st-key-train_start button")).to_be_enabled(timeout=60_000)
    wait_idle(pg)
    open_page(pg, "Evaluate", 180)
    pg.wait_for_url(re.compile(r"/evaluate\?"), timeout=60_000)
    look = pg.locator(".st-key-look_figure .js-plotly-plot")
    expect(look).to_be_visible(timeout=120_000)
    expect(pg.locator(".st-key-look_figure")).to_contain_text("Grad-CAM", timeout=30_000)
    wait_idle(pg)
    assert_no_exception(pg)
    pg.locator(".st-key-look_figure").scroll_into_view_if_needed()
    screenshot(pg, "gradcam")
