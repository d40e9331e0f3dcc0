"""Browser-test fixtures: the app served by a real Streamlit server, driven in Debian's Chromium.

Never ``playwright install``: that downloads a browser, which this network refuses. We drive the
system's /usr/bin/chromium (``./run.sh test`` installs Debian's package); without it, or without
playwright, the browser tests fail: a test that cannot run is a failure, not a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "assets" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 1500}
EXPECT_TIMEOUT = 20_000  # ms for every expect(): the machine is shared and slow at times
APP = "[data-testid='stApp']"
_server_log: list[Path] = []  # the running server's log, quoted when a page shows an exception
_workspace: list[Path] = []  # the running server's workspace (sessions, runs)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", autouse=True)
def one_browser_module_at_a_time():
    """Browser test files run one at a time across the pytest workers.

    Each drives Chromium against a Streamlit server; two at once on a 2-core machine (while the
    other worker may also train a model) made reruns slow enough for clicks to fall between
    them, and the tests failed for the machine, not the app. The other worker waits here, or
    runs its other files first when it has some.
    """
    import fcntl
    import tempfile

    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "solo")
    path = Path(tempfile.gettempdir()) / f"keras-designer-browser-{run}.lock"
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def start_server(home: Path, **env_extra: str) -> tuple[str, subprocess.Popen, object]:
    """``streamlit run app.py`` on a free port with the workspace ``home`` (and ``env_extra``
    in its environment): (address, process, log file). Fails the test when it does not start."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is not installed: apt-get install chromium (./run.sh test does)")
    port = _free_port()
    env = dict(os.environ, KERAS_DESIGNER_HOME=str(home), TF_CPP_MIN_LOG_LEVEL="2", **env_extra)
    env.pop("KERAS_DESIGNER_RUNS", None)  # runs go to the throw-away workspace
    env.pop("KERAS_DESIGNER_PREWARM", None)  # warm Keras and a training process, as in real use
    log = open(home / "server.log", "w")  # noqa: SIM115 - closed by stop_server
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the training processes go with it
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        _stop_group(server, signal.SIGKILL)
        pytest.fail("the Streamlit server did not start:\n" + (home / "server.log").read_text())
    return url, server, log


def stop_server(server: subprocess.Popen, log) -> None:
    _stop_group(server, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        _stop_group(server, signal.SIGKILL)
        server.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """Start ``streamlit run app.py`` on a free port with a throw-away workspace."""
    home = tmp_path_factory.mktemp("workspace")
    url, server, log = start_server(home)
    _server_log.append(home / "server.log")
    _workspace.append(home)
    yield url
    _workspace.clear()
    _server_log.clear()
    stop_server(server, log)


@pytest.fixture(scope="session")
def app_workspace(app_url) -> Path:
    """The running server's workspace: ``sessions/<id>.json`` holds each session's design."""
    return _workspace[0]


def _stop_group(server: subprocess.Popen, sig: int) -> None:
    """Signal the server's process group (it and the training processes it spawned)."""
    try:
        os.killpg(server.pid, sig)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT)

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(request, browser, app_url, tmp_path_factory):
    """A fresh browser context (a new Streamlit session); a screenshot of it when the test fails."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        shot = tmp_path_factory.getbasetemp() / f"failed-{request.node.name}.png"
        try:
            pg.screenshot(path=str(shot))
            print(f"\nscreenshot of the failure: {shot}\n--- server log ---\n{server_log_tail()}")
        except Exception as exc:  # noqa: BLE001 - the report matters more than the picture
            print(f"no failure screenshot: {exc}")
    context.close()


def server_log_tail(lines: int = 40) -> str:
    if not _server_log or not _server_log[0].is_file():
        return "(no server log)"
    return "\n".join(_server_log[0].read_text(errors="replace").splitlines()[-lines:])


def assert_no_exception(pg) -> None:
    """Fail on any Streamlit exception element (a traceback on the page).

    The app sets ``client.showErrorDetails = "none"``, so the page only says that an error
    happened: the traceback is in the server log, quoted here.
    """
    found = pg.locator("[data-testid='stException']")
    if found.count():
        text = found.first.inner_text()
        raise AssertionError(
            f"Streamlit exception on {pg.url}:\n{text}\n--- server log ---\n{server_log_tail()}"
        )


def wait_idle(pg, timeout: float = 90, quiet: float = 0.6) -> None:
    """Wait until the script has stopped running and stayed stopped for ``quiet`` seconds.

    Streamlit marks the app root with ``data-test-script-state`` (``running``/``notRunning``);
    a rerun that a click starts may begin a moment later, hence the quiet period. Pages with a
    polling fragment (Train while a run is active) rerun every second: use expect() there.
    """
    deadline = time.time() + timeout
    calm_since = None
    app = pg.locator(APP)
    app.wait_for(timeout=timeout * 1000)
    while time.time() < deadline:
        state = app.get_attribute("data-test-script-state")
        if state == "notRunning":
            calm_since = calm_since or time.time()
            if time.time() - calm_since >= quiet:
                return
        else:
            calm_since = None
        time.sleep(0.1)
    raise AssertionError(f"{pg.url}: the script was still running after {timeout:.0f} s")


# Counts the script runs the page has seen start (a MutationObserver on the app root's state).
_RUNS_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (app && window.__kdRuns === undefined) {
    window.__kdRuns = 0;
    new MutationObserver(() => {
      if (app.getAttribute('data-test-script-state') === 'running') window.__kdRuns++;
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  }
  return window.__kdRuns || 0;
}"""

# What a person sees of the page: its text and the values in its fields.
_LOOK_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app) return "";
  const values = Array.from(app.querySelectorAll("input, textarea"), (e) => e.value);
  return app.innerText + "\\u0000" + values.join("\\u0000");
}"""


def after_rerun(
    pg,
    action,
    timeout: float = 90,
    start_timeout: float | None = None,
    settle: bool = True,
    tries: int = 2,
    taken=None,
) -> None:
    """Do ``action`` (a click, an Enter) and wait for the rerun it causes to start and finish.

    wait_idle alone can return before a slow server has even begun the rerun; a person who
    then changes the next field gets both changes handled in one run. With ``settle=False``
    only the start is awaited: a page that polls (Train with a run going or paused) never
    settles, so the caller waits for what it expects to see instead.

    When no run starts within 20 s the action is done again, up to ``tries`` times in all,
    unless it shows that it took: ``taken()`` (a check of the action itself), else the page
    looking different from before it.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for attempt in range(tries):
        idle = pg.locator(APP).get_attribute("data-test-script-state") == "notRunning"
        before = pg.evaluate(_RUNS_JS)
        looked = None if taken else pg.evaluate(_LOOK_JS)
        action()
        # From an idle page a run that starts is nearly always seen. None at all usually means
        # Streamlit never got the click (it drops one now and then, see
        # test_model_based.LOST_SHARE): a person does it again. A page that was running may
        # fold the action into its run: then only ``taken`` can tell, the page changes anyway.
        retry = attempt < tries - 1 and (idle or taken is not None)
        started = (20 if retry and start_timeout is None else start_timeout or timeout) * 1000
        try:
            pg.wait_for_function(f"() => ({_RUNS_JS})() > {before}", timeout=started)
            break
        except PlaywrightTimeoutError:
            if not retry:
                raise
            # A run quick enough for React to draw "running" and "notRunning" in one go leaves
            # no trace on the app root, yet the page shows what it did (a person sees that and
            # does not do it again; the button may be gone, too).
            if taken() if taken else pg.evaluate(_LOOK_JS) != looked:
                print("after_rerun: no run seen, but the action took", flush=True)
                break
            print("after_rerun: no run after the action; doing it again", flush=True)
    if settle:
        wait_idle(pg, timeout)


def click_until(target, done, patience: float = 15, timeout: float = 90, tries: int = 3) -> None:
    """Click ``target`` (a locator, or a function that clicks) until ``done()`` holds, as a
    person who sees nothing happen clicks again.

    A click that lands while a fragment polls (the Class page's leaderboard, the Train panel)
    or while the last click's rerun still draws is now and then dropped by Streamlit. ``done``
    is checked for ``patience`` seconds after each click (``timeout`` after the last); the
    target is clicked again only while it is still there and enabled, so a click that did
    take is never repeated into a second action.
    """
    for attempt in range(tries):
        last = attempt == tries - 1
        if callable(target):
            target()
        elif attempt == 0 or (target.count() and target.first.is_enabled()):
            target.first.click()
        deadline = time.time() + (timeout if last else patience)
        while time.time() < deadline:
            if done():
                return
            time.sleep(0.25)
        if last:
            raise AssertionError(f"nothing came of {tries} clicks on {target}")
        print(f"click_until: nothing came of a click on {target}; clicking again", flush=True)


def shown(locator):
    """``done`` for click_until: ``locator`` is on the page."""
    return lambda: locator.count() > 0 and locator.first.is_visible()


def choose(pg, box, option: str, timeout: float = 60) -> None:
    """Open a select box and pick ``option``, then wait for the rerun the pick causes.

    A rerun that replaces the box while its list is open takes the list away (or leaves one
    that belongs to the old box): a person presses Escape and opens the box again, and so does
    this, until ``timeout`` seconds have passed.
    """
    from playwright.sync_api import Error as PlaywrightError

    def pick() -> None:
        deadline = time.time() + timeout
        while True:
            try:
                box.click(timeout=10_000)
                pg.get_by_role("option", name=option, exact=True).click(timeout=5_000)
                return
            except PlaywrightError:
                pg.keyboard.press("Escape")
                if time.time() > deadline:
                    raise

    # A pick Streamlit never got (it drops one now and then, while the page is busy: CI saw
    # a 90 s wait for a rerun that never came) leaves the box as it was: a person picks again.
    # A pick that shows in the box was taken, even if a run already going absorbed it.
    after_rerun(pg, pick, tries=3, taken=lambda: box.count() == 1 and box.input_value() == option)


def open_page(pg, title: str, timeout: float = 90) -> None:
    """Go to a page with the top navigation, as a person would, and wait for it.

    The address shows the page once its script runs. A click that lands while another run
    is going (a fragment's poll, the last click's rerun) is sometimes dropped, or folded into
    that run without a new start to see: so the address, not a count of runs, says whether
    the click took, and a person who sees nothing happen clicks again.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    link = pg.locator("[data-testid='stTopNavLink']").filter(
        has_text=re.compile(f"^{re.escape(title)}$")
    )
    want = urlparse(link.get_attribute("href") or "").path.rstrip("/")

    def arrived(url: str) -> bool:
        return urlparse(url).path.rstrip("/") == want

    for attempt in range(3):
        link.click()
        try:
            pg.wait_for_url(arrived, timeout=(timeout if attempt == 2 else 20) * 1000)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
            print(f"open_page: still not on {title} after a click; clicking again", flush=True)
    wait_idle(pg, timeout)
    assert_no_exception(pg)


def screenshot(pg, name: str) -> Path:
    """The viewport (1280×1500) as assets/screenshots/<name>.png, once nothing is faded.

    During a rerun Streamlit fades the elements it has not redrawn yet (``data-stale``).
    Then fails if the page shows an exception (after saving: the picture shows it).
    """
    try:
        pg.wait_for_function(
            "() => !document.querySelector('[data-stale=\"true\"]')", timeout=10_000
        )
    except Exception:  # noqa: BLE001 - a picture with a faded element beats no picture
        pass
    pg.mouse.move(2, VIEWPORT["height"] - 2)  # no hover highlight on the last button clicked
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=False)
    assert_no_exception(pg)
    return path


def css_key(key: str) -> str:
    """A widget key as Streamlit writes it into the element's class (``st-key-<this>``)."""
    return re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def field(pg, name: str):
    """The widget that edits the design field ``name`` (``p:dense:units``, ``t:epochs``...).

    Its key carries a revision (``p:dense:units:r7``, see ui/state.py), so it is found by the
    start of its class; a change of what it shows draws a new widget, and the locator follows.
    While a rerun draws the new one, the old one stays a moment, marked stale. (A key
    without a revision, as the app had before, is found too: the tests can be run against an
    older app to show that they catch its bugs.)
    """
    key = css_key(name)
    fresh = ":not([data-stale='true'])"
    return pg.locator(f".st-key-{key}{fresh}, [class*='st-key-{key}-r']{fresh}")


def selected_layer_box(pg):
    """The "Selected layer" box (keyed by the selection's revision, like a field)."""
    return field(pg, "selected_layer").locator("input")


# ---- the graph canvas (streamlit-agraph's vis-network, in an iframe) -----------------------------
AGRAPH = "iframe[title='streamlit_agraph.agraph']"

# streamlit-agraph keeps its vis-network in React state and never exposes it: walk the React
# fiber from the DOM up to the hook that holds it, then ask vis-network where each node is drawn.
_FIND_NETWORK_JS = """
  const network = () => {
    for (const el of document.querySelectorAll('#root div')) {
      const key = Object.keys(el).find(
        k => k.startsWith('__reactInternalInstance$') || k.startsWith('__reactFiber$'));
      for (let f = key ? el[key] : null, up = 0; f && up < 6; f = f.return, up++) {
        for (let h = f.memoizedState; h && typeof h === 'object' && 'next' in h; h = h.next) {
          const net = h.memoizedState;
          if (net && typeof net.getPositions === 'function'
              && typeof net.canvasToDOM === 'function') return net;
        }
      }
    }
    return null;
  };"""


def network_js(body: str) -> str:
    """A function for the canvas frame: ``body`` runs with ``net``, the vis-network (null while
    none is drawn)."""
    return "() => {" + _FIND_NETWORK_JS + "\n  const net = network();\n" + body + "\n}"


NODE_POSITIONS_JS = network_js("""  if (!net) return null;
  const canvas = document.querySelector('canvas');
  const nodes = {};
  for (const [id, p] of Object.entries(net.getPositions())) nodes[id] = net.canvasToDOM(p);
  return {nodes, width: canvas.clientWidth, height: canvas.clientHeight};""")

NODE_LABELS_JS = network_js("""  if (!net) return null;
  const labels = {};
  for (const [id, n] of Object.entries(net.body.nodes)) labels[id] = n.options.label;
  return labels;""")


def graph(pg, count: int, timeout: float = 60) -> tuple[object, dict]:
    """(the canvas frame, {"nodes": {id: {x, y}}, width, height}) once it draws ``count`` nodes.

    Fails when vis-network cannot be reached: then the canvas cannot be clicked either.
    """
    pg.locator(AGRAPH).wait_for(timeout=timeout * 1000)
    deadline = time.time() + timeout
    info = None
    while time.time() < deadline:
        frame = pg.locator(AGRAPH).element_handle().content_frame()
        if frame is not None and frame.locator("canvas").count():
            info = frame.evaluate(NODE_POSITIONS_JS)
            if info is not None and len(info["nodes"]) == count:
                return frame, info
        time.sleep(0.3)
    raise AssertionError(f"the canvas did not draw {count} nodes in {timeout} s: {info}")


def click_node(pg, node_id: str, count: int, timeout: float = 60) -> None:
    """Click the node ``node_id`` on the canvas, once it draws ``count`` nodes."""
    frame, info = graph(pg, count, timeout)
    pos = info["nodes"][node_id]
    frame.locator("canvas").click(position={"x": pos["x"], "y": pos["y"]})
