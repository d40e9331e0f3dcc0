"""What the training process is asked to do: plain, picklable data (it crosses a process)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

# Test hooks, also settable from outside (the CLI tests) as JSON in this variable:
#   {"batch_delay": 0.05}  sleep after every batch (makes a run slow enough to stop or kill)
#   {"raise_at_epoch": 2}  raise inside fit at the start of that epoch (1-based)
#   {"disk_full_at_epoch": 2}  saving model.keras at the end of that epoch runs out of disk
#                          space halfway (OSError ENOSPC), as a full disk would
HOOKS_ENV = "KERAS_DESIGNER_TEST_HOOKS"


@dataclass
class TrainRequest:
    run_dir: str
    design: dict[str, Any]  # Design.to_dict(); its data section is the data to train on
    epochs: int  # epochs to train in this job (on top of those already done when resuming)
    resume: bool = False  # continue from run_dir/model.keras, appending to history.csv
    fine_tune: bool = False  # after loading, unfreeze pretrained bases and lower the lr
    lr_factor: float = 0.1  # fine-tuning learning rate = the design's learning rate * this
    limit: int | None = None  # cap on samples per split (previews, tests)
    offline: bool = False  # build pretrained bases without downloading weights
    batch_interval: float = 0.05  # at most one batch event per this many seconds
    hooks: dict[str, Any] = field(default_factory=dict)
    executor: str = "local"  # what runs the job ("local" or "ray"), written to status.json
    # The worker's machine, when the executor names it better than its hostname does.
    host: str | None = None

    def all_hooks(self) -> dict[str, Any]:
        try:
            env = json.loads(os.environ.get(HOOKS_ENV, "") or "{}")
        except ValueError:
            env = {}
        return (env if isinstance(env, dict) else {}) | dict(self.hooks)
