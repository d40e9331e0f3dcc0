"""Export: the Python script, the .keras file, the design JSON, a run directory as a ZIP, the
deploy formats, the model card and the graph picture; one run choice for the trained model."""

import io
import re
import tempfile
import zipfile
from pathlib import Path

import streamlit as st

from designer.model.exporting import export_keras
from ui import codeview, deploy, exportview, forms, runs, sharing, state

state.show_flash()
d = state.design()
st.title("Export")
stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", d.name).strip("._") or "model"
code, why = codeview.generate_code(d)
pick_col, _ = st.columns([1, 1])
with pick_col:
    pick = exportview.run_choice(d)


def untrained_keras() -> bytes:
    """The design as a .keras file (weights from an opened .keras kept where unchanged)."""

    weights = state.weights_path() if state.weights_path().is_file() else None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{stem}.keras"
        export_keras(d, path, weights_path=weights)
        return path.read_bytes()


def run_zip(run_id: str) -> bytes:
    root = runs.run_path(run_id)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                zf.write(path, f"{run_id}/{path.relative_to(root)}")
    return buf.getvalue()


c1, c2, c3, c4 = st.columns(4)
with c1.container(border=True):
    st.markdown("**Python script**")
    st.caption("Builds, trains and evaluates the model with plain Keras.")
    st.download_button(
        f"⬇ {stem}.py",
        code or "",
        file_name=f"{stem}.py",
        mime="text/x-python",
        key="dl_script",
        disabled=code is None,
        width="stretch",
    )
with c2.container(border=True):
    st.markdown("**Design file**")
    st.caption("Reopen it here (Home → Open) or with `keras-designer`, or share it by link.")
    st.download_button(
        f"⬇ {stem}.json",
        d.to_json() + "\n",
        file_name=f"{stem}.json",
        mime="application/json",
        key="dl_design",
        width="stretch",
    )
    sharing.copy_link(d, key="export_link")
with c3.container(border=True):
    st.markdown("**Keras model**")
    if pick:
        st.caption(f"Trained weights from run `{pick}`.")
        st.download_button(
            f"⬇ {stem}.keras (trained)",
            (runs.run_path(pick) / "model.keras").read_bytes,
            file_name=f"{stem}.keras",
            key="dl_keras",
            width="stretch",
        )
    else:
        st.caption("No run chosen: the file holds freshly initialised (or opened) weights.")
        st.download_button(
            f"⬇ {stem}.keras (untrained)",
            untrained_keras,
            file_name=f"{stem}.keras",
            key="dl_keras",
            disabled=code is None,
            width="stretch",
        )
with c4.container(border=True):
    st.markdown("**Run directory**")
    ids = [r.id for r in runs.all_runs()]
    if ids:
        forms.follow("export_run", ids, state.run_id())
        chosen = st.selectbox("Run", ids, key="export_run", label_visibility="collapsed")
        st.download_button(
            f"⬇ {chosen}.zip",
            lambda: run_zip(chosen),
            file_name=f"{chosen}.zip",
            mime="application/zip",
            key="dl_run",
            width="stretch",
        )
    else:
        st.caption("No runs yet.")

d1, d2, d3 = st.columns([2, 1, 1])
with d1.container(border=True):
    deploy.draw(stem, disabled=code is None, run_id=pick)
with d2.container(border=True):
    exportview.draw_card(d, stem, pick, disabled=code is None)
with d3.container(border=True):
    exportview.draw_picture(d, stem)

st.subheader("The code")
if code is None:
    st.info(why)
else:
    st.code(code, language="python", line_numbers=True)
