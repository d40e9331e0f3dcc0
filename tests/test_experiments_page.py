"""The Experiments page through streamlit.testing's AppTest: compare, ensemble, bag, sweep."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_compare import fake_runs  # the tests directory is on sys.path (rootdir import)
from test_ensemble import InlineRegistry, shared_members

from designer.design import templates

ROOT = Path(__file__).resolve().parents[1]
# The page runs after app.py's state.ensure(), as it does under the router.
SCRIPT = f"""
import runpy, sys
sys.path.insert(0, {str(ROOT)!r})
from ui import state
state.ensure()
runpy.run_path({str(ROOT / "pages" / "experiments.py")!r}, run_name="__main__")
"""


class PageRegistry(InlineRegistry):
    """The page's registry: trains at once, remembers the jobs like the real one."""

    max_concurrent = 1

    class executor:  # noqa: N801 - stands for the real registry's executor object
        name = "local"

        @staticmethod
        def describe():
            return "this test's process"

    def __init__(self):
        self.jobs = {}

    def submit(self, request, history=None):
        job = super().submit(request, history)
        self.jobs[job.run_id] = job
        return job

    def get(self, run_id):
        return self.jobs.get(run_id)


def frame(page, *columns):
    """The first data frame shown with these columns (AppTest does not expose their keys)."""
    frames = [f.value for f in page.dataframe]
    return next(f for f in frames if set(columns) <= set(getattr(f, "columns", ())))


@pytest.fixture
def page(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KERAS_DESIGNER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_DESIGNER_RUNS", str(tmp_path / "runs"))
    (tmp_path / "runs").mkdir()
    monkeypatch.setattr("designer.training.registry._DEFAULT", PageRegistry())
    monkeypatch.syspath_prepend(str(ROOT))
    script = tmp_path / "page.py"
    script.write_text(SCRIPT)
    return AppTest.from_file(str(script), default_timeout=120)


def test_empty_workspace_shows_what_to_do(page):
    page.run()
    assert not page.exception
    assert "no runs so far" in page.info[0].value and "compare the runs here" in page.info[0].value
    assert page.button(key="xp_ens_go").disabled


def test_compare_section_shows_the_table_and_the_architecture_diff(page, tmp_path):
    fake_runs(tmp_path / "runs")
    page.run()
    page.multiselect(key="xp_compare_runs").set_value(["run-a", "run-b"]).run()
    assert not page.exception
    table = frame(page, "dense.units")
    assert list(table.index) == ["run-a", "run-b"] and table.loc["run-b", "dense.units"] == 64
    diff = page.code[0].value
    assert (
        "  - removed dropout (Dropout)" in diff
        and "  ~ changed dense (Dense): units 128 -> 64" in diff
    )
    assert page.selectbox(key="xp_compare_metric").options == ["loss", "accuracy"]


def test_ensemble_section_combines_runs_and_offers_the_model(page, tmp_path):
    for run in shared_members()[:2]:
        shutil.copytree(run, tmp_path / "runs" / run.name)
    page.run()
    page.multiselect(key="xp_ens_runs").set_value(["seed1", "seed2"])
    page.radio(key="xp_ens_method").set_value("stack").run()
    page.button(key="xp_ens_go").click().run()
    assert not page.exception and not page.error
    result = page.session_state["xp_ens_result"]
    assert result["method"] == "stack" and 0 <= result["value"] <= 1
    assert Path(result["exported"]).is_file()
    assert page.metric[0].label == "Ensemble accuracy"


def test_sweep_section_checks_values_runs_the_grid_and_opens_the_best(page):
    page.run()
    design = templates.get("digits-mlp")
    page.session_state["design"] = design
    page.run()
    assert page.selectbox(key="xp_sweep_p1").options[:3] == [
        "dense.units",
        "dropout.rate",
        "compile.learning_rate",
    ]
    page.selectbox(key="xp_sweep_p1").set_value("dense.units").run()
    assert page.text_input(key="xp_sweep_v1").value == "32, 64, 128"  # around the current 64
    page.text_input(key="xp_sweep_v1").set_value("4, 0").run()
    assert "dense.units=0" in page.error[0].value and page.button(key="xp_sweep_go").disabled
    page.text_input(key="xp_sweep_v1").set_value("4, 24")
    page.number_input(key="xp_sweep_epochs").set_value(2)
    page.number_input(key="xp_sweep_limit").set_value(300).run()
    assert page.tabs[2].caption[-1].value.startswith("2 runs")  # the Sweep tab's last line
    page.button(key="xp_sweep_go").click().run()
    assert not page.exception
    table = frame(page, "status", "dense.units")
    assert list(table["dense.units"]) == [4, 24] and list(table["status"]) == ["finished"] * 2
    page.button(key="xp_sweep_open").click().run()
    best = table.loc[table["test_accuracy"].idxmax(), "dense.units"]
    assert page.session_state["design"].node("dense").params["units"] == best


def test_bagging_section_trains_copies_of_the_design_and_averages_them(page):
    page.run()
    page.session_state["design"] = templates.get("digits-mlp")
    page.run()
    page.number_input(key="xp_bag_members").set_value(2)
    page.number_input(key="xp_bag_epochs").set_value(1)
    page.number_input(key="xp_bag_limit").set_value(300).run()
    page.button(key="xp_bag_go").click().run()
    assert not page.exception and not page.error
    status = frame(page, "run", "status", "epochs")
    assert list(status["status"]) == ["finished", "finished"]
    page.button(key="xp_bag_finish").click().run()
    result = page.session_state["xp_bag_result"]
    assert result["method"] == "average" and len(result["members"]) == 2
    assert 0 <= result["value"] <= 1 and Path(result["exported"]).is_file()


def test_search_tab_runs_a_search_shows_its_trials_and_opens_the_best_design(page):
    from designer.experiments import search, study

    page.run()
    page.session_state["design"] = templates.get("digits-mlp")
    page.run()
    assert not page.exception
    assert page.button(key="xs_go").disabled  # nothing ticked yet
    # Pre-filled around the current 64 units, inside the catalog's limits.
    assert (
        page.number_input(key="xs:dense.units:low").value,
        page.number_input(key="xs:dense.units:high").value,
    ) == (16, 256)
    page.checkbox(key="xs:dense.units:on").check().run()  # its range is editable once ticked
    page.number_input(key="xs:dense.units:low").set_value(0).run()
    assert "a log range needs LOW above 0" in page.error[0].value
    page.checkbox(key="xs:dense.units:log").uncheck().run()
    assert "0 is refused" in page.error[0].value and page.button(key="xs_go").disabled
    page.number_input(key="xs:dense.units:low").set_value(8)
    page.number_input(key="xs:dense.units:high").set_value(32)
    page.checkbox(key="xs:dropout.enabled:on").check().run()
    page.number_input(key="xs_trials").set_value(3)
    page.number_input(key="xs_epochs").set_value(2)
    page.number_input(key="xs_limit").set_value(300).run()
    assert not page.error
    page.button(key="xs_go").click().run()
    assert not page.exception
    out = page.session_state["search_dir"]
    search.live(out).wait(600)  # the search runs in a thread of the server
    page.run()
    assert not page.exception and not page.error
    trials = frame(page, "trial", "state", "dense.units", "dropout.enabled")
    assert list(trials["trial"]) == [0, 1, 2]
    assert set(trials["state"]) <= {"complete", "pruned", "failed"}
    assert len(page.get("plotly_chart")) >= 3  # history, curves, parallel coordinates
    best = study.best_design(out)
    page.button(key="xs_use_best").click().run()
    assert not page.exception
    now = page.session_state["design"]
    assert now.node_ids() == best.node_ids()
    assert now.node("dense").params["units"] == best.node("dense").params["units"]
