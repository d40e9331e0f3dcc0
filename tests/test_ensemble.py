"""Ensembles of real runs on digits: average, vote, stack (validation only), export, bagging."""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from designer.data import load_dataset
from designer.design import templates
from designer.experiments import ensemble


class InlineRegistry:
    """A registry for ``start_training`` that runs each job at once in this process with the
    real training worker (the same run directory, without the cost of a child process)."""

    def submit(self, request, history=None):
        from designer.training.callbacks import Control
        from designer.training.job import Job
        from designer.training.worker import train

        job = Job(Path(request.run_dir).name, request, history)
        train(request, job.record, Control(run_dir=request.run_dir))
        return job

    def shutdown(self):
        pass


def train_runs(root: Path, seeds, epochs: int = 4, limit: int | None = None, **changes):
    """Finished digits-mlp runs, one per seed, through designer.training.start_training."""
    from designer.training import start_training

    design = templates.get("digits-mlp")
    design.training.checkpoint = False  # no best.keras: one model save per run, not per epoch
    for key, value in changes.items():
        setattr(design.training, key, value)
    paths = []
    for seed in seeds:
        d = design.copy()
        d.training.seed = seed
        job = start_training(
            d, run_dir=root / f"seed{seed}", epochs=epochs, limit=limit, registry=InlineRegistry()
        )
        assert job.wait(60) == "finished", job.snapshot().last_error
        paths.append(root / f"seed{seed}")
    return paths


@functools.cache
def shared_members() -> tuple[Path, ...]:
    """Three digits runs (seeds 1, 2, 3) trained once per test session; the CLI and page tests
    use them too. Only read, never changed."""
    root = Path(tempfile.mkdtemp(prefix="kd-members-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return tuple(train_runs(root, seeds=(1, 2, 3)))


@pytest.fixture(scope="module")
def members():
    return list(shared_members())


@pytest.fixture(scope="module")
def digits():
    return load_dataset(templates.get("digits-mlp").data)


def test_average_is_at_least_the_members_mean_and_exports_one_model(members, digits, tmp_path):
    import keras

    result = ensemble.run_ensemble(members, "average", out=tmp_path)
    values = [m["value"] for m in result.members]
    assert len(values) == 3 and all(0.5 < v <= 1 for v in values)  # real, trained members
    for m, path in zip(result.members, members):  # the members' own metrics.json agree
        assert m["value"] == pytest.approx(
            json.loads((path / "metrics.json").read_text())["accuracy"]
        )
    assert result.value >= np.mean(values)
    assert result.lines()[-1] == f"ensemble accuracy: {result.value:.4f}"

    model = keras.models.load_model(tmp_path / "ensemble.keras")  # safe mode is the default
    assert {layer.name for layer in model.layers} >= {"member_1", "member_2", "member_3", "average"}
    assert np.allclose(model.predict(digits.x_test, verbose=0), result.outputs, atol=1e-6)
    report = json.loads((tmp_path / "ensemble.json").read_text())
    assert report["value"] == pytest.approx(result.value) and report["exported"] == "ensemble.keras"


def test_vote_takes_the_majority_class_and_is_not_exported(members, digits, tmp_path):
    result = ensemble.run_ensemble(members, "vote", out=tmp_path)
    models = ensemble.load_models(members)
    classes = ensemble.predict_outputs(models, digits.x_test).argmax(axis=2)  # (members, n)
    majority = [np.bincount(c, minlength=10).max() for c in classes.T]
    pred = result.outputs.argmax(axis=1)
    assert all((classes[:, i] == pred[i]).sum() == majority[i] for i in range(len(pred)))
    assert 0 <= result.value <= 1 and result.exported is None and "argmax" in result.note
    assert not (tmp_path / "ensemble.keras").exists()


def test_stack_fits_on_validation_predictions_only(members, digits, monkeypatch):
    from sklearn.linear_model import LogisticRegression

    log, fitted = [], {}
    real_predict, real_fit = ensemble.predict_outputs, LogisticRegression.fit

    def predict(models, x):
        log.append("test" if x is digits.x_test else "val" if x is digits.x_val else "other")
        return real_predict(models, x)

    def fit(self, x, y, *a, **kw):
        log.append("fit")
        fitted["x"], fitted["y"] = np.array(x), np.array(y)
        return real_fit(self, x, y, *a, **kw)

    monkeypatch.setattr(ensemble, "predict_outputs", predict)
    monkeypatch.setattr(LogisticRegression, "fit", fit)
    result = ensemble.run_ensemble(members, "stack", data=digits)
    assert log == ["val", "fit", "test"]  # the test split is predicted only after fitting
    val = real_predict(ensemble.load_models(members), digits.x_val)
    assert np.allclose(fitted["x"], ensemble.features(val)) and np.array_equal(
        fitted["y"], digits.y_val
    )

    # Poisoned test data changes the score, never the meta-model.
    poisoned = load_dataset(templates.get("digits-mlp").data)
    poisoned.y_test = (poisoned.y_test + 1) % 10
    poisoned.x_test = np.random.default_rng(0).random(poisoned.x_test.shape).astype("float32")
    other = ensemble.run_ensemble(members, "stack", data=poisoned)
    assert np.array_equal(other.stacker.kernel, result.stacker.kernel)
    assert np.array_equal(other.stacker.bias, result.stacker.bias)
    assert other.value < 0.5 < result.value


@pytest.mark.parametrize("stacker", ["logistic", "dense"])
def test_stacked_export_predicts_like_the_in_memory_ensemble(members, digits, tmp_path, stacker):
    import keras

    result = ensemble.run_ensemble(members, "stack", out=tmp_path, stacker=stacker)
    assert result.value > 0.5 and result.stacker.kind == stacker
    model = keras.models.load_model(result.exported)
    assert np.allclose(model.predict(digits.x_test, verbose=0), result.outputs, atol=1e-5)


def test_runs_on_other_data_or_unfinished_runs_are_refused(members, tmp_path):
    with pytest.raises(ensemble.EnsembleError, match="at least two"):
        ensemble.run_ensemble(members[:1])
    other = tmp_path / "other"
    shutil.copytree(members[0], other)
    design = json.loads((other / "design.json").read_text())
    design["data"]["seed"] = 7  # another split: another test set
    (other / "design.json").write_text(json.dumps(design))
    with pytest.raises(ensemble.EnsembleError, match="same data set"):
        ensemble.run_ensemble([members[1], other])
    status = json.loads((other / "status.json").read_text()) | {"status": "failed"}
    (other / "status.json").write_text(json.dumps(status))
    with pytest.raises(ensemble.EnsembleError, match="failed"):
        ensemble.run_ensemble([members[1], other])
    with pytest.raises(ensemble.EnsembleError, match="unknown method"):
        ensemble.run_ensemble(members, "median")


def test_bagging_trains_members_on_bootstrap_samples_and_averages_them(tmp_path):
    design = templates.get("digits-mlp")
    jobs = ensemble.start_bagging(
        design, out=tmp_path, members=2, epochs=2, limit=400, seed=5, registry=InlineRegistry()
    )
    assert [j.wait(60) for j in jobs] == ["finished", "finished"]
    data = load_dataset(design.data, limit=400)
    samples = [np.load(tmp_path / "data" / f"bootstrap-{i}.npz") for i in (1, 2)]
    for s in samples:
        assert len(s["y_train"]) == len(data.y_train)
        assert len(np.unique(s["x_train"].reshape(len(s["x_train"]), -1), axis=0)) < len(
            data.y_train
        )
        assert np.array_equal(s["y_test"], data.y_test)
    assert not np.array_equal(samples[0]["x_train"], samples[1]["x_train"])
    seeds = [
        json.loads((tmp_path / f"{tmp_path.name}-member-{i}" / "design.json").read_text())[
            "training"
        ]["seed"]
        for i in (1, 2)
    ]
    assert seeds == [5, 6]

    result = ensemble.finish_bagging(tmp_path)
    assert len(result.members) == 2 and 0 < result.value <= 1
    assert (tmp_path / "ensemble.keras").is_file()
    assert json.loads((tmp_path / "ensemble.json").read_text())["bagging"]["members"] == 2
    assert os.path.isdir(tmp_path / f"{tmp_path.name}-member-1")
