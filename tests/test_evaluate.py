"""designer.report.evaluate on hand-made arrays: the numbers a user reads on the Evaluate page."""

import json
import subprocess
import sys

import numpy as np
import pytest

from designer.report import evaluate


def test_importing_evaluate_does_not_import_tensorflow_or_sklearn():
    code = (
        "import sys, designer.report.evaluate\n"
        "assert not {'tensorflow', 'keras', 'sklearn'} & set(sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_confusion_matrix_rows_are_true_classes():
    cm = evaluate.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_per_class_scores_match_a_hand_count():
    rows = evaluate.per_class([0, 0, 1, 1], [0, 1, 1, 1], ["cat", "dog"])
    cat, dog = rows
    assert cat == {
        "class": "cat",
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "support": 2,
    }
    assert dog["precision"] == pytest.approx(2 / 3) and dog["recall"] == 1.0


def test_a_class_never_predicted_scores_zero_not_an_error():
    rows = evaluate.per_class([0, 1, 2], [0, 0, 0], ["a", "b", "c"])
    assert rows[1]["precision"] == 0.0 and rows[2]["f1"] == 0.0


def test_one_sigmoid_unit_reads_as_two_class_probabilities():
    probs = evaluate.as_probabilities(np.array([[0.2], [0.9]]))
    assert probs.ravel().tolist() == pytest.approx([0.8, 0.2, 0.1, 0.9])
    pred, conf = evaluate.predicted_classes(np.array([[0.2], [0.9]]))
    assert pred.tolist() == [0, 1] and conf.tolist() == pytest.approx([0.8, 0.9])


def test_most_confident_mistakes_come_first_and_exclude_right_answers():
    y = [0, 1, 2, 0]
    out = np.array([[0.9, 0.05, 0.05], [0.7, 0.2, 0.1], [0.05, 0.9, 0.05], [0.4, 0.6, 0.0]])
    mistakes = evaluate.most_confident_mistakes(y, out, k=5)
    assert [m["index"] for m in mistakes] == [2, 1, 3]
    assert mistakes[0] == {"index": 2, "true": 2, "predicted": 1, "confidence": pytest.approx(0.9)}
    assert len(evaluate.most_confident_mistakes(y, out, k=1)) == 1


def test_roc_for_a_binary_task_and_none_for_more_classes():
    y = [0, 0, 1, 1]
    curve = evaluate.roc(y, np.array([[0.1], [0.4], [0.35], [0.8]]))
    assert curve["auc"] == pytest.approx(0.75)
    assert curve["fpr"][0] == 0.0 and curve["tpr"][-1] == 1.0
    json.dumps(curve)  # no infinities: the UI stores and sends it as JSON
    assert evaluate.roc([0, 1, 2], np.eye(3)) is None


def test_classification_report_is_json_and_complete():
    y = np.array([0, 1, 1, 0])
    out = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1]])
    report = evaluate.report("classification", y, out, ["no", "yes"])
    json.dumps(report)
    assert report["accuracy"] == 0.75
    assert report["confusion_matrix"] == [[2, 0], [1, 1]]
    assert [r["class"] for r in report["per_class"]] == ["no", "yes"]
    assert report["auc"] == 1.0


def test_regression_metrics_and_the_predict_the_mean_baseline():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    perfect = evaluate.regression_metrics(y, y[:, None])
    assert perfect["mse"] == 0 and perfect["r2"] == 1.0
    mean = evaluate.regression_metrics(y, np.full(4, 2.5))
    assert mean["mse"] == pytest.approx(mean["baseline_mse"]) and mean["r2"] == pytest.approx(0.0)
    off = evaluate.regression_metrics(y, y + 1)
    assert off["mae"] == 1.0 and off["rmse"] == 1.0


def test_residuals_are_truth_minus_prediction():
    r = evaluate.residuals([3.0, 5.0], np.array([[2.5], [6.0]]))
    assert r == {"predicted": [2.5, 6.0], "actual": [3.0, 5.0], "residual": [0.5, -1.0]}


class _FakeModel:
    """Stands in for a keras.Model: predict returns fixed outputs, remembering its input."""

    def __init__(self, outputs):
        self.outputs, self.seen = outputs, None

    def predict(self, x, batch_size=None, verbose=0):
        self.seen = x
        return self.outputs


def test_predict_scales_raw_samples_like_the_training_data():
    from designer.data import load_dataset

    data = load_dataset("digits", limit=20)
    model = _FakeModel(np.array([[0.1] * 9 + [0.1]]) / 1.0)
    raw = np.full((8, 8, 1), 16.0)  # one sample in file units (grey levels 0-16)
    out = evaluate.predict(model, raw, dataset=data)
    assert model.seen.shape == (1, 8, 8, 1) and model.seen.max() == pytest.approx(1.0)
    assert out["classes"].tolist() == [0]
    reg = evaluate.predict(_FakeModel(np.array([[3.5]])), np.zeros((1, 2)), task="regression")
    assert reg["values"].tolist() == [3.5]
