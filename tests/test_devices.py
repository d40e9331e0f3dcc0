"""training.devices: one model trained on several devices (MirroredStrategy), here two logical
CPU devices, learns as well as on one."""

from __future__ import annotations

import pytest

from designer.design import templates
from designer.training import Registry, TrainingError, start_training


@pytest.fixture(scope="module")
def registry():
    reg = Registry(max_concurrent=1)
    yield reg
    reg.shutdown()


def test_two_devices_reach_the_accuracy_of_one_on_digits(registry, tmp_path):
    results = {}
    for devices in (1, 2):
        d = templates.get("digits-mlp")
        d.training.devices = devices
        job = start_training(d, epochs=5, root=tmp_path, registry=registry)
        assert job.wait(300) == "finished", job.snapshot().last_error
        snap = job.snapshot()
        assert snap.replicas == devices
        results[devices] = snap.metrics["accuracy"]
    assert results[1] > 0.8 and results[2] > 0.8, results
    assert abs(results[2] - results[1]) < 0.06, results


def test_a_batch_smaller_than_the_devices_is_refused_before_anything_starts(registry, tmp_path):
    d = templates.get("digits-mlp")
    d.training.devices, d.training.batch_size = 4, 2
    with pytest.raises(TrainingError, match="a batch of 2 cannot be split over 4 devices"):
        start_training(d, root=tmp_path, registry=registry)
    assert list(tmp_path.iterdir()) == []
