"""What the job registry asks of whatever trains its jobs: the :class:`Executor` protocol.

Two executors implement it: :class:`designer.training.local.LocalExecutor` (a child process of
this machine per job) and :class:`designer.training.remote.RayExecutor` (a Ray actor per job on
a cluster). An executor drives a :class:`~designer.training.job.Job` through the job's
executor-facing methods only: :meth:`Job.attach` when a worker takes it, :meth:`Job.record` for
every event the worker sends, :meth:`Job.finish` when it ends without a ``done`` event.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from designer.training.job import Job


@runtime_checkable
class Executor(Protocol):
    name: str  # "local" or "ray": written to status.json and shown as "Ran on"

    def describe(self) -> str:
        """Where new jobs train, in words ("this machine", "ray cluster at HOST:PORT")."""

    def prewarm(self) -> None:
        """Get a worker ready before a job comes (TensorFlow takes seconds to import)."""

    def run(self, job: Job, stop_grace: float) -> None:
        """Train ``job`` to its end, in the calling thread (the registry gives each job one);
        a stop not obeyed within ``stop_grace`` seconds ends the worker."""

    def shutdown(self) -> None:
        """Release spare workers and connections; jobs still running are the caller's."""
