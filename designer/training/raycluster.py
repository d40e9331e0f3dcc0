"""Joining a Ray cluster (or starting a local Ray instance) and reading what it has.

Used by the ``ray`` executor (:mod:`designer.training.remote`), ``keras-designer cluster`` and
the app's Settings page. Ray is imported only here, and only when asked for: it is an optional
extra (``pip install 'keras-designer[ray]'``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import designer
from designer.text import one_line
from designer.training import rundir

RAY_MISSING = "the ray executor needs Ray: pip install 'keras-designer[ray]'"

_LOCK = threading.Lock()
_JOINED: str | None = None  # the address this process joined ("" for its own local instance)


def import_ray() -> Any:
    _use_token_if_any()  # read by Ray when it is imported
    try:
        import ray
    except ImportError:
        raise rundir.TrainingError(RAY_MISSING) from None
    return ray


def connect(address: str | None = None, num_cpus: int | None = None) -> Any:
    """Join the Ray cluster at ``address``, or start a local instance; once per process.

    A process can be connected to one cluster only: asking for another one is refused with
    a message rather than silently training on the first.
    """
    global _JOINED
    ray = import_ray()
    wanted = address or ""
    with _LOCK:
        if ray.is_initialized():
            if _JOINED is not None and _JOINED != wanted:
                where = f"the Ray cluster at {_JOINED}" if _JOINED else "a local Ray instance"
                raise rundir.TrainingError(
                    f"this process already uses {where}: restart it to use another"
                )
            return ray
        if address:
            _check_reachable(address)
        # Ray's start-up banner and usage-stats notice are not ours to print; its logs stay
        # in its session directory (/tmp/ray/...).
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        noise = tempfile.TemporaryFile()
        try:
            with _stderr_to(noise):
                _init_in_lasting_thread(
                    ray,
                    address=address or "local",
                    num_cpus=None if address else num_cpus,
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level=logging.ERROR,
                    runtime_env=_runtime_env(),
                    namespace="keras-designer",
                )
        except Exception as exc:  # noqa: BLE001 - no cluster there, a version mismatch...
            noise.seek(0)
            said = noise.read().decode(errors="replace")
            text = one_line(exc, 300)
            if "InvalidAuthToken" in said:
                text = (
                    "the cluster wants its token: copy its ~/.ray/auth_token here or set "
                    "RAY_AUTH_TOKEN (ray get-auth-token on the head prints it)"
                )
            what = (
                f"cannot join the Ray cluster at {address}"
                if address
                else "cannot start a local Ray instance"
            )
            raise rundir.TrainingError(f"{what}: {text}") from None
        finally:
            noise.close()
        _JOINED = wanted
        return ray


def disconnect() -> None:
    """Leave the cluster (a local instance stops): the process may then join another one.
    The app never does this while jobs run; the tests do it so that one test's local Ray
    instance does not decide what the next test in the same process sees."""
    global _JOINED
    with _LOCK:
        if "ray" in sys.modules and sys.modules["ray"].is_initialized():
            sys.modules["ray"].shutdown()
        _JOINED = None


def _use_token_if_any() -> None:
    """Ray clusters started with 2.59 or later ask for a token (ray start writes it to
    ~/.ray/auth_token); a client only sends one in token mode, which Ray reads when it is
    imported. Where a token is at hand and the user chose no mode, send it."""
    if "RAY_AUTH_MODE" in os.environ or "ray" in sys.modules:
        return  # chosen by the user, or too late: a mode Ray has not read would split the two sides
    if (
        os.environ.get("RAY_AUTH_TOKEN")
        or os.environ.get("RAY_AUTH_TOKEN_PATH")
        or (Path.home() / ".ray" / "auth_token").is_file()
    ):
        os.environ["RAY_AUTH_MODE"] = "token"


@contextlib.contextmanager
def _stderr_to(sink) -> Any:
    """Ray's C++ client writes its retries and warnings straight to file descriptor 2 while it
    connects: keep them out of our output (they explain a failure, so the caller reads them)."""
    saved = os.dup(2)
    try:
        os.dup2(sink.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Refuse an address nothing answers at, at once: Ray itself would retry for minutes,
    printing a warning every few seconds."""
    if address == "auto":
        return  # Ray finds the cluster this machine belongs to
    host_port = address.split("://", 1)[-1].rstrip("/")
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        raise rundir.TrainingError(
            f"{address!r} is not a Ray address: write HOST:PORT (6379) or ray://HOST:PORT (10001)"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise rundir.TrainingError(
            f"cannot reach the Ray cluster at {address} ({reason}): "
            "is it started (ray start --head)?"
        ) from None


def _init_in_lasting_thread(ray, **options) -> None:
    """``ray.init`` in a thread that lives as long as the process.

    A local instance's processes (GCS, raylet) are told to die with the *thread* that started
    them (Linux' parent-death signal follows the thread), and the threads that ask for Ray
    here (a job's thread, a Streamlit script run) end long before the process does: Ray would
    go down with the first of them, killing every job still running.
    """
    outcome: dict[str, BaseException] = {}
    ready = threading.Event()

    def keeper() -> None:
        try:
            ray.init(**options)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = exc
        ready.set()
        if "error" not in outcome:
            threading.Event().wait()

    threading.Thread(target=keeper, name="ray-keeper", daemon=True).start()
    ready.wait()
    if "error" in outcome:
        raise outcome["error"]


def _runtime_env() -> dict:
    # Our package travels with every job, so a cluster runs the launching side's version.
    return {
        "py_modules": [str(Path(designer.__file__).parent)],
        "excludes": ["__pycache__", "*.pyc"],
        "env_vars": {"TF_CPP_MIN_LOG_LEVEL": "2"},
    }


# ---- what the cluster has ------------------------------------------------------------------------
@dataclasses.dataclass
class Node:
    address: str
    alive: bool
    cpus: float
    free_cpus: float
    gpus: float
    free_gpus: float
    memory_gb: float


def nodes(address: str | None = None) -> list[Node]:
    """The cluster's nodes with their total and free CPUs and GPUs."""
    ray = connect(address)
    try:  # per-node free resources: only in Ray's private state API
        from ray._private.state import available_resources_per_node

        free = available_resources_per_node()
    except Exception:  # noqa: BLE001 - another Ray version: free = total
        free = {}
    out = []
    for n in ray.nodes():
        total = n.get("Resources") or {}
        avail = free.get(n.get("NodeID"), total) if n.get("Alive") else {}
        out.append(
            Node(
                address=n.get("NodeManagerAddress", "?"),
                alive=bool(n.get("Alive")),
                cpus=total.get("CPU", 0.0),
                free_cpus=avail.get("CPU", 0.0),
                gpus=total.get("GPU", 0.0),
                free_gpus=avail.get("GPU", 0.0),
                memory_gb=total.get("memory", 0.0) / 2**30,
            )
        )
    return out


def resources(devices: int, cluster: list[Node]) -> dict[str, float]:
    """Ray's resource request for a job asking for ``devices`` devices: that many GPUs where
    the cluster has GPUs, else that many CPUs (one logical CPU device each). Capped at what
    the biggest node has, since one job runs on one node (a request no node can meet would
    wait forever)."""
    alive = [n for n in cluster if n.alive]
    max_gpus = max((n.gpus for n in alive), default=0)
    if max_gpus >= 1:
        return {"num_cpus": 1, "num_gpus": float(min(devices, int(max_gpus)))}
    max_cpus = max((n.cpus for n in alive), default=1)
    return {"num_cpus": float(max(1, min(devices, int(max_cpus)))), "num_gpus": 0}
