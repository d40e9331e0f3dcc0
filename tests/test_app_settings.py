"""Settings (where training runs) and the Devices field of the Train page, in AppTest."""

import pytest
from app_widgets import widget

from designer.training import Registry, raycluster
from designer.training import registry as registry_module


@pytest.fixture
def app(open_app, monkeypatch):
    # A registry of this test's own: the page changes the process-wide one.
    fresh = Registry()
    monkeypatch.setattr(registry_module, "_DEFAULT", fresh)
    at = open_app()
    yield at
    fresh.shutdown()


def texts(at) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.caption, *at.error, *at.info])


def test_settings_show_where_runs_train_and_what_it_has(app):
    app.switch_page("pages/settings.py").run()
    assert not app.exception
    assert "New runs train on **this machine**" in texts(app)
    table = app.dataframe[0].value
    assert list(table["node"]) == ["this machine"]
    assert app.radio(key="set:executor").value == "local"
    assert app.text_input(key="set:address").disabled


def test_a_cluster_that_cannot_be_reached_is_reported_and_nothing_changes(app):
    raycluster.disconnect()  # a local instance left by an earlier test would answer instead
    app.switch_page("pages/settings.py").run()
    app.radio(key="set:executor").set_value("ray").run()
    app.text_input(key="set:address").input("127.0.0.1:1").run()
    app.button(key="set:apply").click().run()
    assert not app.exception
    errors = [e.value for e in app.error]
    assert any("cannot reach the Ray cluster at 127.0.0.1:1" in e for e in errors), errors
    assert registry_module.default_registry().executor.name == "local"
    assert "New runs train on **this machine**" in texts(app)


def test_devices_go_into_the_design_and_the_page_says_how_the_batch_is_split(app):
    app.switch_page("pages/train.py").run()
    widget(app, "number_input", "t:batch_size").set_value(64)
    widget(app, "number_input", "t:devices").set_value(2)
    app.run()
    assert not app.exception
    assert app.session_state["design"].training.devices == 2
    assert "Batch 64 split over 2 devices: 32 samples per device per step." in texts(app)
    assert "on this machine" in texts(app)


def test_a_locked_server_keeps_its_executor(app, monkeypatch):
    monkeypatch.setenv("KERAS_DESIGNER_SETTINGS_LOCKED", "1")
    app.switch_page("pages/settings.py").run()
    assert app.button(key="set:apply").disabled
    assert "Locked by whoever runs this server" in texts(app)
