"""A class of simulated students on one server: ``python tools/class_load.py [--students 30]``.

Starts the app as a class server (``KERAS_DESIGNER_CLASS``, the default local executor) for a
new moons assignment, opens one Chromium browser context per student (a browser session each:
its own name, design and runs) and lets them all, at the same moment, do what a student does:
type a name and join, start from the assignment's design, train it on the Train page, go back
to the Class page and submit. It records when each student saw their score, samples the
server's memory, and checks the outcome: every submission recorded, each score on a student's
screen the one in the log, the leaderboard one line per student, no exception on any page.

Prints one JSON object (the figures BENCHMARKS.md quotes); exit 1 when a check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from bench import CHROMIUM, CHROMIUM_ARGS, Server

from designer.classroom.submissions import leaderboard, read_submissions

TITLE = "Two moons for the whole class"
SECRET = "load-test-passphrase-00"
FRESH = ":not([data-stale='true'])"  # not an element a running rerun is about to replace
SCORE_RE = re.compile(r"score (\d\.\d{4}) on the hidden test set")
TIMEOUT_MS = 900_000  # per step (--timeout)


def create_assignment(folder: Path, epochs: int) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "designer.cli", "class", "create", str(folder),
         "--dataset", "moons", "--max-params", "400", "--max-epochs", str(epochs),
         "--lock", "input", "--title", TITLE, "--passphrase-env", "KD_LOAD_PASS"],
        env=dict(os.environ, KD_LOAD_PASS=SECRET),
        capture_output=True,
        text=True,
    )  # fmt: skip
    if made.returncode:
        raise SystemExit(f"class create failed: {made.stderr}")


class MemorySampler(threading.Thread):
    """The server process's resident memory (and its training children's) once a second."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.server_mb = 0.0
        self.children_mb = 0.0
        self.stop = threading.Event()

    def cpu_s(self) -> tuple[float, float]:
        """CPU seconds so far: (the server's own, its ended training processes')."""
        t = self.proc.cpu_times()
        return t.user + t.system, t.children_user + t.children_system

    def run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                self.server_mb = max(self.server_mb, self.proc.memory_info().rss / 2**20)
                kids = sum(c.memory_info().rss for c in self.proc.children(recursive=True))
                self.children_mb = max(self.children_mb, kids / 2**20)
            except Exception:  # noqa: BLE001 - a child that ended between the two calls
                continue


class BrowsersBackground(threading.Thread):
    """Puts this tool's browsers (Chromium, Playwright's driver) behind the server and the
    training for CPU: they stand in for the students' own machines, which on a real class
    server use none of its CPU.

    Where the cgroup-v1 cpu controller is writable, the browsers share one group of weight
    ``SHARES`` (a nice-0 process weighs 1,024): however many renderers run, together they
    weigh about as much as the one training job at niceness 10. Elsewhere every browser
    thread gets niceness 19, which holds each thread back but not 30 browsers together.
    Checked every 2 s for the processes and threads started since.
    """

    SHARES = 256
    GROUP = Path("/sys/fs/cgroup/cpu/keras-designer-class-load")

    def __init__(self, server_pid: int):
        super().__init__(daemon=True)
        self.server_pid = server_pid  # it and its training processes keep their place
        self.stop = threading.Event()
        try:
            self.GROUP.mkdir(exist_ok=True)
            (self.GROUP / "cpu.shares").write_text(str(self.SHARES))
            self.grouped = True
        except OSError:
            self.grouped = False

    @property
    def how(self) -> str:
        return f"a cgroup of cpu.shares {self.SHARES}" if self.grouped else "niceness 19"

    def close(self) -> None:
        """Stop, and remove the group once its processes have gone."""
        self.stop.set()
        if self.grouped:
            with contextlib.suppress(OSError):
                self.GROUP.rmdir()

    def browsers(self) -> list:
        return [
            proc
            for proc in psutil.Process().children(recursive=True)
            if proc.pid != self.server_pid and self.server_pid not in _ancestors(proc)
        ]

    def lower(self) -> None:
        for proc in self.browsers():
            if self.grouped:
                try:
                    (self.GROUP / "cgroup.procs").write_text(str(proc.pid))
                    continue
                except OSError:
                    pass
            try:
                tids = [t.id for t in proc.threads()]
            except psutil.Error:
                continue
            for tid in tids:
                try:
                    if os.getpriority(os.PRIO_PROCESS, tid) != 19:
                        os.setpriority(os.PRIO_PROCESS, tid, 19)
                except OSError:
                    pass

    def run(self) -> None:
        while not self.stop.wait(2.0):
            self.lower()


def _ancestors(proc) -> list[int]:
    try:
        return [p.pid for p in proc.parents()]
    except psutil.Error:
        return []


async def click_fresh(pg, key: str) -> None:
    await pg.locator(f".st-key-{key}{FRESH} button").first.click()


async def open_page(pg, title: str) -> None:
    link = pg.locator("[data-testid='stTopNavLink']").filter(
        has_text=re.compile(f"^{re.escape(title)}$")
    )
    await link.click()


def say(name: str, what: str, t0: list) -> None:
    at = time.perf_counter() - t0[0] if t0[0] else 0.0
    print(f"{at:7.1f} s  {name}: {what}", file=sys.stderr, flush=True)


async def student(browser, url: str, name: str, go: asyncio.Event, t0: list, out: dict):
    """One student's session from opening the address to seeing the score."""
    from playwright.async_api import expect

    ctx = await browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = await ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    step = "opening the page"
    try:
        await pg.goto(url)
        heading = pg.get_by_role("heading", name=TITLE)
        try:
            await expect(heading).to_be_visible(timeout=120_000)
        except AssertionError:  # a person reloads a page that does not come
            shot = Path(tempfile.gettempdir()) / f"class-load-{name.replace(' ', '-')}.png"
            await pg.screenshot(path=str(shot))
            say(name, f"the page did not come in 2 min ({shot}): reloading", t0)
            await pg.reload()
            await expect(heading).to_be_visible()
        out["ready"] = True
        say(name, "ready", t0)
        await go.wait()  # the whole class starts at once
        step = "joining"
        await pg.locator(".st-key-class_name_field input").fill(name)
        await click_fresh(pg, "class_join")
        await expect(pg.get_by_text(f"You are {name} in this class.")).to_be_visible()
        out["joined_s"] = time.perf_counter() - t0[0]
        step = "loading the design"
        await click_fresh(pg, "class_template")
        await expect(pg.get_by_text("Your design keeps every rule.")).to_be_visible()
        step = "opening Train"
        await open_page(pg, "Train")
        await expect(pg.locator(f".st-key-train_start{FRESH} button")).to_be_enabled()
        await click_fresh(pg, "train_start")
        bar = pg.locator("[data-testid='stProgress']").first
        start = pg.locator(f".st-key-train_start{FRESH} button")
        try:  # Streamlit drops a click now and then: a person clicks again when nothing shows
            await expect(bar).to_be_visible(timeout=60_000)
        except AssertionError:
            if await start.is_enabled():  # (a disabled Start says the click did land)
                say(name, "no run a minute after Start: clicking it again", t0)
                await start.click()
        out["started_s"] = time.perf_counter() - t0[0]
        say(name, "started training", t0)
        step = "training"
        await expect(bar).to_contain_text("finished")
        out["trained_s"] = time.perf_counter() - t0[0]
        say(name, "trained", t0)
        step = "submitting"
        await open_page(pg, "Class")
        submit = pg.locator(f".st-key-class_submit{FRESH} button")
        await expect(submit).to_be_enabled()
        await submit.click()
        note = pg.get_by_text(SCORE_RE).first  # the message, and the line that stays
        await expect(note).to_be_visible()
        out["scored_s"] = time.perf_counter() - t0[0]
        out["score"] = float(SCORE_RE.search(await note.inner_text()).group(1))
        say(name, f"score {out['score']:.4f}", t0)
        out["exceptions"] = await pg.locator("[data-testid='stException']").count()
    except Exception as exc:  # noqa: BLE001 - reported with the student's name
        out["error"] = f"{step}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        shot = Path(tempfile.gettempdir()) / f"class-load-{name.replace(' ', '-')}.png"
        await pg.screenshot(path=str(shot))
        say(name, out["error"], t0)
        out["exceptions"] = await pg.locator("[data-testid='stException']").count()
    finally:
        await ctx.close()


async def run_class(url: str, n: int) -> tuple[dict[str, dict], float]:
    from playwright.async_api import async_playwright

    names = [f"Student {i + 1:02d}" for i in range(n)]
    outs: dict[str, dict] = {name: {} for name in names}
    go, t0 = asyncio.Event(), [0.0]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tasks = [
            asyncio.create_task(student(browser, url, name, go, t0, outs[name])) for name in names
        ]
        while sum(1 for o in outs.values() if o.get("ready") or o.get("error")) < n:
            await asyncio.sleep(0.5)
        t0[0] = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        await browser.close()
    return outs, t0[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=5, help="the assignment's epoch cap")
    parser.add_argument("--keep", help="keep the class folder and workspace here")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per step")
    a = parser.parse_args()
    global TIMEOUT_MS
    TIMEOUT_MS = a.timeout * 1000
    tmp = Path(a.keep or tempfile.mkdtemp(prefix="kd-class-load-"))
    folder, home = tmp / "class", tmp / "workspace"
    home.mkdir(parents=True, exist_ok=True)
    create_assignment(folder, a.epochs)
    os.environ["KERAS_DESIGNER_CLASS"] = str(folder)
    server = Server(home)
    try:
        server.wait_healthy()
        memory = MemorySampler(server.proc.pid)
        memory.start()
        background = BrowsersBackground(server.proc.pid)
        background.start()
        began, machine = memory.cpu_s(), psutil.cpu_times()
        wall = time.perf_counter()
        outs, _ = asyncio.run(run_class(server.url, a.students))
        wall = time.perf_counter() - wall
        ended, machine_end = memory.cpu_s(), psutil.cpu_times()
        memory.stop.set()
        background.close()
        busy = sum(machine_end) - sum(machine) - (machine_end.idle - machine.idle)
        cpu = {
            "server_cpu_s": round(ended[0] - began[0]),
            "training_cpu_s": round(ended[1] - began[1]),
            "machine_cpu_s": round(busy),
            "wall_s": round(wall),
        }
    finally:
        server.close()

    subs = read_submissions(folder)
    board = leaderboard(subs)
    recorded = {s.name: s.score for s in subs}
    scored = {name: o for name, o in outs.items() if "scored_s" in o}
    problems = [f"{name}: {o['error']}" for name, o in outs.items() if "error" in o]
    problems += [f"{name}: {o['exceptions']} exception(s)" for name, o in outs.items()
                 if o.get("exceptions")]  # fmt: skip
    problems += [
        f"{name}: screen {o['score']:.4f}, log {recorded.get(name)}"
        for name, o in scored.items()
        if recorded.get(name) is None or abs(recorded[name] - o["score"]) > 1e-4
    ]
    if len(subs) != a.students or sorted(s.name for s in board) != sorted(outs):
        problems.append(f"{len(subs)} submissions and {len(board)} leaderboard lines recorded")
    waits = sorted(o["scored_s"] for o in scored.values())
    result = {
        "students": a.students,
        "submissions_recorded": len(subs),
        "leaderboard_lines": len(board),
        "first_score_s": round(waits[0], 1) if waits else None,
        "last_score_s": round(waits[-1], 1) if waits else None,
        "median_score_s": round(waits[len(waits) // 2], 1) if waits else None,
        "last_join_s": round(max(o.get("joined_s", 0) for o in outs.values()), 1),
        "server_rss_peak_mb": round(memory.server_mb),
        "training_rss_peak_mb": round(memory.children_mb),
        "best_score": board[0].best.score if board else None,
        "browsers_held_back_by": background.how,
        **cpu,
        "problems": problems,
    }
    print(json.dumps(result, indent=2))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
