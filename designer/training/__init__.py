"""Training: a process-wide job registry, child processes doing the Keras work, run directories.

    >>> from designer.training import start_training
    >>> job = start_training(templates.get("digits-mlp"), epochs=5)
    >>> job.snapshot().status          # "queued", "running", ... "finished"
    >>> job.wait(); job.snapshot().metrics["accuracy"]

Importing this package does not import TensorFlow: only the training process does.
"""

from designer.training.job import Job
from designer.training.registry import Registry, default_registry, resume_training, start_training
from designer.training.request import TrainRequest
from designer.training.rundir import (
    ACTIVE,
    FINAL,
    STATUSES,
    RunInfo,
    TrainingError,
    best_metric,
    list_runs,
    read_distributions,
    read_history,
    read_status,
    request_stop,
    run_info,
    runs_root,
)

__all__ = [
    "ACTIVE",
    "FINAL",
    "STATUSES",
    "Job",
    "Registry",
    "RunInfo",
    "TrainRequest",
    "TrainingError",
    "best_metric",
    "default_registry",
    "list_runs",
    "read_distributions",
    "read_history",
    "read_status",
    "request_stop",
    "resume_training",
    "run_info",
    "runs_root",
    "start_training",
]
