"""Sharing by link in the app (AppTest): Copy link on Design and Export, and a visit with
``?design=`` that asks before it opens anything and never loses the visitor's design."""

from __future__ import annotations

import json

from designer.design import linking, templates
from designer.design.spec import Design

from helpers.links import envelope, flip


def design(at) -> Design:
    return at.session_state["design"]


def offered(at) -> bool:
    return any((b.key or "") == "shared_open" for b in at.button)


def visit(open_app, link: str, session: str | None = None):
    """A browser that opens ``link`` (in the tab of ``session`` when given)."""
    return open_app(session, query={linking.QUERY_KEY: linking.payload_of(link)})


def with_mnist(open_app):
    """A visitor who is working on the MNIST MLP."""
    at = open_app()
    at.button(key="use_mnist-mlp").click().run()
    assert design(at) == templates.get("mnist-mlp")
    return at


def test_copy_link_on_design_and_export_opens_the_same_design(open_app):
    at = with_mnist(open_app)
    links = [c.value for c in at.code if c.value.startswith("http")]
    assert len(links) == 1 and linking.read_link(links[0]) == design(at)
    assert links[0].startswith(linking.DEFAULT_BASE + "?design=")  # no browser: the default
    at.switch_page("pages/export.py").run()
    assert not at.exception
    links = [c.value for c in at.code if c.value.startswith("http")]
    assert len(links) == 1 and linking.read_link(links[0]) == templates.get("mnist-mlp")


def test_a_link_asks_first_then_opens_with_undo(open_app, app_env):
    at = with_mnist(open_app)
    sid = at.session_state["session_id"]
    shared = templates.get("mini-resnet")
    at = visit(open_app, linking.make_link(shared), session=sid)  # the same tab, refreshed
    assert not at.exception
    assert offered(at) and "mini-resnet" in " ".join(m.value for m in at.markdown)
    assert design(at) == templates.get("mnist-mlp")  # nothing replaced yet
    at.button(key="shared_open").click().run()
    assert design(at) == shared
    assert linking.QUERY_KEY not in at.query_params and not offered(at)
    at.run()  # a refresh after answering does not ask again
    assert not offered(at) and design(at) == shared
    at.switch_page("pages/design.py").run()
    at.button(key="undo").click().run()
    assert design(at) == templates.get("mnist-mlp")


def test_ignore_keeps_the_design_and_forgets_the_link(open_app):
    at = with_mnist(open_app)
    sid = at.session_state["session_id"]
    at = visit(open_app, linking.make_link(templates.get("lenet5")), session=sid)
    assert offered(at)
    at.button(key="shared_ignore").click().run()
    assert design(at) == templates.get("mnist-mlp") and not offered(at)
    assert linking.QUERY_KEY not in at.query_params


def test_a_new_visitor_is_asked_too(open_app):
    at = visit(open_app, linking.make_link(templates.get("text-lstm")))
    assert offered(at) and design(at) == templates.blank()
    at.button(key="shared_open").click().run()
    assert design(at) == templates.get("text-lstm")


def test_a_damaged_or_oversized_link_is_one_message_and_nothing_changes(open_app):
    at = with_mnist(open_app)
    sid = at.session_state["session_id"]
    good = linking.make_link(templates.get("lenet5"))
    for link, why in [
        (flip(good), "damaged or incomplete"),
        (good[: len(good) - 40], "damaged or incomplete"),
        (good + "A" * linking.MAX_PAYLOAD_CHARS, "too long"),
        ("http://x/?design=" + envelope(b'{"nodes": 3}'), "does not hold a design"),
    ]:
        at = visit(open_app, link, session=sid)
        assert not at.exception
        errors = [e.value for e in at.error]
        assert len(errors) == 1 and why in errors[0] and "Nothing changed" in errors[0], errors
        assert "\n" not in errors[0]
        assert not offered(at) and design(at) == templates.get("mnist-mlp")
        assert linking.QUERY_KEY not in at.query_params


def test_a_link_cannot_point_the_app_at_a_file_of_the_server(open_app):
    raw = templates.get("diabetes-mlp").to_dict()
    raw["data"] = dict(raw["data"], dataset="upload", path="/etc/passwd")
    at = visit(open_app, "http://x/?design=" + envelope(json.dumps(raw).encode()))
    at.button(key="shared_open").click().run()
    assert design(at).data.path is None and design(at).data.dataset is None
    assert any("not one of your uploads" in i.value for i in at.info)
