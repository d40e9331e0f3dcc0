"""The Export page's run choice, model card and graph picture.

The run choice says which trained model the files carry: a run of this design (its
``model.keras``), or none (fresh weights, or those of an opened ``.keras``). The Keras file,
the deploy formats and the model card all follow it. The card (Markdown and its PNGs, as
``keras-designer export --format card`` writes them) is built on a click and offered as a ZIP;
it is kept per run and design revision in the session, never in the design.
"""

from __future__ import annotations

import io
import zipfile

import streamlit as st

from designer.design.spec import Design
from designer.errors import DesignerError
from designer.report.card import build_card
from designer.report.drawing import design_svg
from designer.report.pictures import graph_png
from ui import deploy, forms, runs, state

RUN_KEY = "export_weights"
FRESH = ""  # the run choice "no run"


def trained_runs(design: Design) -> list:
    """This session's runs of ``design`` (by name) that saved a model, newest first."""
    return [r for r in runs.all_runs() if r.name == design.name and runs.can_resume(r.id)]


def run_choice(design: Design) -> str | None:
    """The run picker; the chosen run id, or None for no run. It follows the run this session
    last trained when that is one of the choices (a new run is picked when it starts)."""
    trained = trained_runs(design)
    labels = {r.id: f"{r.id} · {r.epochs} epochs · {r.best_text}" for r in trained}
    options = [FRESH] + list(labels)
    current = state.run_id()
    forms.follow(RUN_KEY, options, current if current in labels else options[min(1, len(trained))])
    opened = state.weights_path().is_file()
    labels[FRESH] = "No run: the opened model's weights" if opened else "No run: fresh weights"
    chosen = st.selectbox(
        "Trained model",
        options,
        format_func=labels.get,
        key=RUN_KEY,
        help="The run whose trained model the Keras file and the deploy formats carry, and "
        "whose metrics, curves and confusion matrix the model card shows.",
    )
    return chosen or None


# ---- the model card ----------------------------------------------------------------------------
def card_zip(design: Design, stem: str, run_id: str | None) -> tuple[bytes, str]:
    """A ZIP of ``STEM-card/STEM.md`` and its pictures, and the ZIP's file name."""
    snap = runs.snapshot(run_id) if run_id else None
    card = build_card(design, stem=stem, run=snap, source=f"{stem}.json")
    folder = f"{stem}-card"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{folder}/{stem}.md", card.markdown)
        for name, data in card.images.items():
            zf.writestr(f"{folder}/{name}", data)
    return buf.getvalue(), f"{folder}.zip"


def card_key(run_id: str | None) -> str:
    return f"card_built:{run_id or FRESH}:{state.revision()}"


def _card_clicked(stem: str, run_id: str | None, key: str) -> None:
    try:
        st.session_state[key] = card_zip(state.design(), stem, run_id)
    except DesignerError as exc:  # a design that does not build: its table would be guesses
        st.session_state[key] = str(exc)


def draw_card(design: Design, stem: str, run_id: str | None, disabled: bool) -> None:
    st.markdown("**Model card**")
    what = (
        "the chosen run's metrics, curves and confusion matrix"
        if run_id
        else "no run chosen, so no metrics"
    )
    st.caption(f"Markdown and PNGs: the graph, the layer table, data and settings; {what}.")
    key = card_key(run_id)
    st.button(
        "Build model card",
        key="card_build",
        on_click=_card_clicked,
        args=(stem, run_id, key),
        disabled=disabled,
        width="stretch",
    )
    deploy.offer_built(key, "dl_card", mime="application/zip")


# ---- the graph picture -------------------------------------------------------------------------
def draw_picture(design: Design, stem: str) -> None:
    """The gallery drawing of the design, for slides and reports: SVG or PNG."""
    st.markdown("**Graph picture**")
    st.caption("The layer graph as on Home's gallery, for slides and reports.")
    left, right = st.columns(2)
    left.download_button(
        "⬇ SVG",
        design_svg(design, max_width=600),
        file_name=f"{stem}.svg",
        mime="image/svg+xml",
        key="dl_svg",
        width="stretch",
    )
    right.download_button(
        "⬇ PNG",
        lambda: graph_png(design, max_width=600),  # drawn on the click, not on every rerun
        file_name=f"{stem}.png",
        mime="image/png",
        key="dl_png",
        width="stretch",
    )
