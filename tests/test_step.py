"""Step by step (issue 17, point 2): a run that pauses at each epoch's end on request."""

import time

from designer.design import templates
from designer.training import Registry, read_history, start_training

from helpers.waiting import WAIT, wait_for


def test_a_step_trains_exactly_one_more_epoch_and_the_run_stays_one_run(tmp_path):
    """Step before the start trains epoch 1 and pauses; a step on the paused job trains
    exactly one more; Continue trains the rest into the same run directory and history."""
    registry = Registry(max_concurrent=1)
    slow = {"batch_delay": 0.01}  # a few hundred ms per epoch: a pause that came late shows
    try:
        job = start_training(
            templates.get("moons-mlp"), root=tmp_path, epochs=4, registry=registry, hooks=slow
        )
        job.step()
        for epoch in (1, 2):
            wait_for(lambda e=epoch: job.status == "paused" and job.snapshot().epoch == e)
            time.sleep(1.5)  # paused between epochs: nothing more trains meanwhile
            snap = job.snapshot()
            assert (snap.status, snap.epoch, len(read_history(job.run_dir))) == (
                "paused",
                epoch,
                epoch,
            )
            assert snap.batch in (0, snap.batches)  # at an epoch's end, not inside one
            if epoch == 1:
                job.step()
        job.resume()
        assert job.wait(WAIT) == "finished"
        history = read_history(job.run_dir)
        assert [int(row["epoch"]) for row in history] == [1, 2, 3, 4]
        assert [p.name for p in tmp_path.iterdir()] == [job.run_dir.name]
    finally:
        registry.shutdown()
