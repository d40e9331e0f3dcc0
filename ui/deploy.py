"""The Export page's deploy formats: ONNX, LiteRT and SavedModel through
:func:`designer.model.exporting.export_deployable`, built on a click (a conversion takes
seconds) and offered for download with their size: with the trained weights of the run chosen
on the page (as ``export --run RUN``), else fresh ones (or an opened model's). The built file
is kept per format, run and design revision in the session, never in the design."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import streamlit as st

from designer.design.spec import Design
from designer.model.exporting import DEPLOY_SUFFIX, DeployError, export_deployable
from designer.text import human_bytes
from ui import runs, state

LABELS = {"onnx": "ONNX", "litert": "LiteRT (TFLite)", "savedmodel": "SavedModel (ZIP)"}


def build(design: Design, fmt: str, stem: str, run_id: str | None = None) -> tuple[bytes, str]:
    """The artefact's bytes and file name (a SavedModel directory comes as a ZIP)."""
    weights = state.weights_path() if state.weights_path().is_file() else None
    with tempfile.TemporaryDirectory() as tmp:
        if run_id:
            from designer.report.evaluate import save_run_weights  # numpy

            weights = save_run_weights(design, runs.run_path(run_id), Path(tmp) / "run.weights.h5")
        path = Path(tmp) / f"{stem}{DEPLOY_SUFFIX[fmt] or '_savedmodel'}"
        export_deployable(design, path, fmt, weights_path=weights)
        if path.is_file():
            return path.read_bytes(), path.name
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(path.rglob("*")):
                if f.is_file():
                    zf.write(f, f"{path.name}/{f.relative_to(path)}")
        return buf.getvalue(), f"{path.name}.zip"


def _build_clicked(fmt: str, key: str, stem: str, run_id: str | None) -> None:
    try:
        st.session_state[key] = build(state.design(), fmt, stem, run_id)
    except (DeployError, ValueError) as exc:  # RunModelError is a DesignerError: a ValueError
        st.session_state[key] = str(exc)


def built_key(fmt: str, run_id: str | None) -> str:
    return f"deploy_built:{fmt}:{run_id or ''}:{state.revision()}"


def draw(stem: str, disabled: bool, run_id: str | None = None) -> None:
    """Format picker, build button, then the download (or the one-line reason)."""
    st.markdown("**Deploy**")
    opened = state.weights_path().is_file()
    weights = (
        "the chosen run's trained weights"
        if run_id
        else ("the opened model's weights" if opened else "fresh weights (no run chosen)")
    )
    st.caption(f"Runs outside Keras: ONNX Runtime, LiteRT, TF Serving; {weights}.")
    fmt = st.selectbox(
        "Format", list(LABELS), format_func=LABELS.get, key="deploy_format", disabled=disabled
    )
    key = built_key(fmt, run_id)
    st.button(
        f"Build {LABELS[fmt]}",
        key=f"deploy_build:{fmt}",
        on_click=_build_clicked,
        args=(fmt, key, stem, run_id),
        disabled=disabled,
        width="stretch",
    )
    offer_built(key, f"dl_deploy:{fmt}")


def offer_built(key: str, download_key: str, mime: str | None = None) -> None:
    """What a build button left under ``key``: its one-line error, or its file to download
    with the file's size (the deploy formats and the model card are built the same way)."""
    got = st.session_state.get(key)
    if isinstance(got, str):
        st.error(got)
    elif got:
        data, name = got
        st.download_button(
            f"⬇ {name} ({human_bytes(len(data))})",
            data,
            file_name=name,
            mime=mime,
            key=download_key,
            width="stretch",
        )
