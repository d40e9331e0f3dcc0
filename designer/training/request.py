"""What the training process is asked to do: plain, picklable data (it crosses a process)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    # Fault injection for tests only, given explicitly (start_training(hooks=...)); nothing
    # else sets it, so no setting or environment variable can switch a real run into it:
    #   {"batch_delay": 0.05}  sleep after every batch (makes a run slow enough to stop or kill)
    #   {"raise_at_epoch": 2}  raise inside fit at the start of that epoch (1-based)
    #   {"disk_full_at_epoch": 2}  saving model.keras at the end of that epoch runs out of disk
    #                          space halfway (OSError ENOSPC), as a full disk would
    hooks: dict[str, Any] = field(default_factory=dict)
    executor: str = "local"  # what runs the job ("local" or "ray"), written to status.json
    # The worker's machine, when the executor names it better than its hostname does.
    host: str | None = None
