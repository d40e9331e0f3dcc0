"""A design never changes by itself: the reproduction from issue 14 as a regression test.

Home → **Use Digits MLP** → within a second **Design** in the navigation → pick another layer in
the "Selected layer" box. The old widget mirroring wrote ``{"units": 1, "activation": null,
"use_bias": false}`` into the output layer in 11 of 12 tries; the session file must keep the
template's design, whatever the timing.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from conftest import VIEWPORT, selected_layer_box, wait_idle
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from designer.design import templates


def session_design(workspace, url: str) -> dict:
    sid = re.search(r"session=(\w+)", url).group(1)
    return json.loads((workspace / "sessions" / f"{sid}.json").read_text())["design"]


def pick_in_box(pg, option: str, within: float = 120) -> None:
    """Open the box and pick ``option``, as a person does: the first try comes 0.7 s after the
    click, whatever the page is doing. On a busy server the box can be redrawn for a new
    selection revision while it is open (its list closes with it): open it again."""
    deadline = time.monotonic() + within
    while True:
        if not pg.get_by_role("listbox").first.is_visible():
            selected_layer_box(pg).click(timeout=90_000)
            time.sleep(0.7)
        try:
            pg.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            return
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                shown = pg.get_by_role("option").all_inner_texts()
                raise AssertionError(f"no {option!r} in {within} s; the list: {shown}") from None


@pytest.mark.parametrize("pause", [0.3, 1.0, 3.0])
def test_template_then_design_then_pick_a_layer_changes_nothing(
    browser, app_url, app_workspace, pause
):
    expected = templates.get("digits-mlp").to_dict()
    context = browser.new_context(viewport=VIEWPORT)
    try:
        pg = context.new_page()
        pg.goto(app_url)
        pg.locator(".st-key-use_digits-mlp button").click()
        time.sleep(0.8)
        pg.locator("[data-testid='stTopNavLink']").filter(has_text=re.compile("^Design$")).click()
        time.sleep(pause)
        pick_in_box(pg, "dense · Dense")
        expect(selected_layer_box(pg)).to_have_value("dense · Dense", timeout=60_000)
        wait_idle(pg)
        assert session_design(app_workspace, pg.url) == expected
    finally:
        context.close()
