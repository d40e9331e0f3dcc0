"""Sharing a design by link: **Copy link** makes one, and a visit with ``?design=`` offers it.

Opening a link never replaces the visitor's design by itself: the app shows what the link holds
and asks (**Open it** / **Ignore**). Open is :func:`ui.state.replace`, so **Undo** brings the
previous design back. The ``design=`` parameter leaves the address once answered, so a refresh
does not ask again. What a link holds is read like an uploaded design file (see
:mod:`designer.design.linking` and :func:`ui.files.forget_foreign_upload`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

from designer.design import linking
from designer.design.spec import Design
from ui import files, state


def app_base() -> str:
    """The address this app is visited at (its root page), for links made here."""
    try:
        url = st.context.url
    except Exception:  # noqa: BLE001 - no browser (AppTest): the documented default
        url = None
    if not url:
        return linking.DEFAULT_BASE
    parts = urlsplit(url)
    prefix = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{parts.scheme}://{parts.netloc}/" + (f"{prefix}/" if prefix else "")


def copy_link(design: Design, key: str) -> None:
    """A **Copy link** popover: the link in a code box (its copy button copies it)."""
    popover = st.popover("Copy link", icon=":material/link:", width="stretch", key=key)
    with popover, st.container(key=f"{key}_body"):
        try:
            link = linking.make_link(design, app_base())
        except linking.LinkError as exc:
            st.warning(str(exc), icon="⚠️")
            return
        st.code(link, language=None, wrap_lines=True)
        st.caption(
            f"Opens a copy of **{design.name}** in this app ({len(link):,} characters). "
            "It holds the layers and settings, not your data, runs or weights. "
            "`keras-designer new --link URL -o design.json` saves it as a file."
        )


# ---- a visit with ?design= ---------------------------------------------------------------------
def offer() -> None:
    """Call once per run, before the page: ask whether to open the design a link brought."""
    ss = st.session_state
    payload = st.query_params.get(linking.QUERY_KEY)
    if payload and (ss.get(state.SHARED_OFFER) or {}).get("payload") != payload:
        try:
            design = linking.read_payload(payload)
        except linking.LinkError as exc:
            state.flash("error", f"The shared link could not be opened: {exc}. Nothing changed.")
            _forget_query()
            return
        notes = files.forget_foreign_upload(design)
        ss[state.SHARED_OFFER] = {"payload": payload, "design": design, "notes": notes}
    found = ss.get(state.SHARED_OFFER)
    if not found:
        return
    design = found["design"]
    with st.container(border=True, key="shared_offer"):
        st.markdown(
            f"**A shared design: “{design.name}”** · {len(design.nodes)} layers"
            + (f" · data `{design.data.dataset}`" if design.data.dataset else "")
            + "  \nOpen it in place of your current design? Your design stays in **Undo**."
        )
        a, b, _ = st.columns([1, 1, 4])
        a.button("Open it", key="shared_open", type="primary", on_click=open_offer, width="stretch")
        b.button("Ignore", key="shared_ignore", on_click=ignore_offer, width="stretch")


def open_offer() -> None:
    found = st.session_state.pop(state.SHARED_OFFER, None)
    _forget_query()
    if not found:
        return
    design = found["design"]
    state.replace(design)
    state.flash("success", f"Opened the shared design “{design.name}”: Undo returns to yours.")
    if found["notes"]:
        state.flash(
            "info", "About the shared design:\n" + "\n".join(f"- {n}" for n in found["notes"])
        )


def ignore_offer() -> None:
    st.session_state.pop(state.SHARED_OFFER, None)
    _forget_query()


def _forget_query() -> None:
    if linking.QUERY_KEY in st.query_params:
        del st.query_params[linking.QUERY_KEY]
