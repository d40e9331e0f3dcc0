"""``keras-designer bench`` (or ``python tools/bench.py``): measure the speed where people wait.

It lives in the checkout, not in the installed package, because it measures the app beside it
(``app.py``, through Streamlit's AppTest and a real server in Chromium).

Every figure that has a peer is a ratio measured within one run (the runner against plain
``model.fit`` on the same model and data, pairs interleaved), because absolute speeds on a
shared 2-core machine drift by ±10 % from minute to minute. See BENCHMARKS.md for results.
"""

from __future__ import annotations

import json
import os
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
from designer.model.build import analyze, build_model, compile_model
from designer.training import default_registry, start_training

ROOT = Path(__file__).resolve().parents[1]  # the checkout: app.py is beside tools/
# Plain fit and runner fit see the same model and data: LeNet-5 on Fashion-MNIST (offline).
BENCH_TEMPLATE, BENCH_DATA, BENCH_LIMIT = "lenet5", "fashion_mnist_local", 30000
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
]


def _design(epochs: int):

    d = templates.get(BENCH_TEMPLATE)
    d.data.dataset = BENCH_DATA
    d.training.epochs = epochs
    d.training.checkpoint = True  # the runner's overheads are part of what is measured
    return d


# ---- training throughput -------------------------------------------------------------------
def plain_fit_seconds(epochs: int) -> float:
    """``model.fit`` in this process, the way a person would write it, without our runner."""
    import keras

    from designer.data import load_dataset

    design = _design(epochs)
    data = load_dataset(design.data, limit=BENCH_LIMIT)
    keras.utils.set_random_seed(design.training.seed)
    model = build_model(design)
    compile_model(model, compiling.resolve(design, data.info.task))
    t0 = time.perf_counter()
    model.fit(
        data.x_train,
        data.y_train,
        validation_data=(data.x_val, data.y_val),
        batch_size=design.training.batch_size,
        epochs=epochs,
        verbose=0,
    )
    return time.perf_counter() - t0


def runner_fit_seconds(epochs: int, root: Path) -> float:
    """The same fit through the job registry; timed from the child's 'training' phase to its
    'saving' phase, so process start-up and data loading are not counted (plain fit's aren't)."""

    job = start_training(_design(epochs), root=root, limit=BENCH_LIMIT)
    t_start = t_end = None
    while not job.done:
        phase = job.snapshot()["phase"]
        now = time.perf_counter()
        if phase == "training" and t_start is None:
            t_start = now
        if phase in ("saving", "evaluating") and t_start is not None and t_end is None:
            t_end = now
        time.sleep(0.02)
    snap = job.snapshot()
    if snap["status"] != "finished" or t_start is None:
        raise RuntimeError(f"benchmark run ended {snap['status']}: {snap['last_error']}")
    return (t_end or time.perf_counter()) - t_start


def fit_ratio(pairs: int, epochs: int, root: Path, during: Callable | None = None) -> dict:
    """Median over interleaved pairs of plain_time / runner_time (1.0 = no overhead)."""
    ratios, plain, runner = [], [], []
    for _ in range(pairs):
        p = plain_fit_seconds(epochs)
        stop = threading.Event()
        side = threading.Thread(target=during, args=(stop,), daemon=True) if during else None
        if side:
            side.start()
        try:
            r = runner_fit_seconds(epochs, root)
        finally:
            stop.set()
            if side:
                side.join()
        plain.append(p)
        runner.append(r)
        ratios.append(p / r)
    return {"ratio": statistics.median(ratios), "plain_s": plain, "runner_s": runner}


def rerun_page_every(interval: float) -> Callable:
    """A side load: the Train page re-run by AppTest every ``interval`` seconds. AppTest runs
    the page in this process, so Streamlit's clear_session() hits this process, as in the app."""

    def load(stop: threading.Event) -> None:
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
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


def app_figures(home: Path) -> dict[str, Any]:
    """first paint, idle CPU with the Train page open, memory idle and while training."""
    if not Path(CHROMIUM).exists():
        return {
            "first_paint_s": None,
            "idle_cpu_pct": None,
            "rss_idle_mb": None,
            "rss_train_mb": None,
            "note": "chromium not installed",
        }
    from playwright.sync_api import sync_playwright

    server = Server(home)
    out: dict[str, Any] = {}
    try:
        server.wait_healthy()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1500})
            page.goto(server.url)
            page.locator("h1").first.wait_for(timeout=60_000)
            out["first_paint_s"] = time.perf_counter() - server.started
            page.goto(f"{server.url}/train")
            page.locator("h1").first.wait_for(timeout=60_000)
            time.sleep(5)  # let the page settle (first imports) before measuring idle
            out["idle_cpu_pct"] = server.cpu_pct(10)
            out["rss_idle_mb"] = server.rss_mb()
            browser.close()
        # Training through the app's own process would need clicks; the server's footprint while a
        # job trains is the server plus one training process, measured here as that sum.
        job = start_training(_design(2), root=home / "runs", limit=BENCH_LIMIT)
        peak = 0.0
        import psutil

        while not job.done:
            pid = job.snapshot()["pid"]
            if pid and psutil.pid_exists(pid):
                peak = max(peak, psutil.Process(pid).memory_info().rss / 2**20)
            time.sleep(0.2)
        out["rss_train_mb"] = server.rss_mb() + peak
    finally:
        server.close()
    return out


GOALS = {
    "fit_ratio": (">=", 0.97),
    "fit_ratio_rerun": (">=", 0.95),
    "validate_ms_200": ("<", 300),
    "import_resnet50_s": ("<", 3),
    "first_paint_s": ("<", 2),
    "help_s": ("<", 0.5),
    "idle_cpu_pct": ("<", 2),
}


def run(pairs: int = 3, epochs: int = 2, log: Callable[[str], None] = print) -> dict[str, Any]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kd-bench-") as tmp_name:
        tmp = Path(tmp_name)
        log("help and editor latency...")
        results["help_s"] = help_s()
        for n in (10, 50, 200):
            results[f"validate_ms_{n}"] = validate_ms(n)
        log("importing ResNet50...")
        results["import_resnet50_s"] = import_resnet50_s(tmp)
        log(f"runner vs plain fit, {pairs} interleaved pairs...")
        plain = fit_ratio(pairs, epochs, tmp / "runs")
        results["fit_ratio"] = plain["ratio"]
        log("the same while a page reruns every 0.5 s...")
        rerun = fit_ratio(pairs, epochs, tmp / "runs", during=rerun_page_every(0.5))
        results["fit_ratio_rerun"] = rerun["ratio"]
        log("the app: first paint, idle CPU, memory...")
        app = app_figures(tmp / "app")
        results.update({k: v for k, v in app.items() if k != "note"})
        results["details"] = {"fit": plain, "fit_rerun": rerun, "app_note": app.get("note")}

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
    import argparse

    parser = argparse.ArgumentParser(description="the figures of BENCHMARKS.md")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    a = parser.parse_args()
    found = run(a.pairs, a.epochs, log=lambda m: print(m, file=sys.stderr))
    print(to_json({k: v for k, v in found.items() if k != "details"}))
