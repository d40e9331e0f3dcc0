"""Home: what the tool is, the template gallery, start from scratch, open a file, recent runs."""

import streamlit as st

from designer.design import templates
from designer.errors import DesignerError
from designer.report import drawing
from ui import files, runs, state
from ui.status import runs_table


@st.cache_data(show_spinner=False)
def template_picture(template_id: str) -> str:
    return drawing.design_svg(templates.get(template_id))


def use_template(template_id: str) -> None:
    state.replace(templates.get(template_id))
    state.flash("success", f"Loaded the template “{templates.TEMPLATES[template_id].title}”.")


OPEN_NOTES = "home_open_notes"  # what the last import said, shown beside the uploader


def open_file() -> None:
    upload = st.session_state.get("home_open")
    st.session_state.pop(OPEN_NOTES, None)
    if upload is None:
        return
    try:
        design, notes = files.open_design(upload.name, upload.getvalue(), state.weights_path())
    except DesignerError as exc:
        state.flash("error", str(exc))
        return
    state.replace(design, keep_weights=upload.name.lower().endswith(".keras"))
    state.flash(
        "success", f"Opened {upload.name}: {len(design.nodes)} layers. See it on the Design page."
    )
    st.session_state[OPEN_NOTES] = (upload.name, notes)


state.show_flash()
st.title("Keras Designer")
intro, start = st.columns([3, 2], gap="large")
with intro:
    st.markdown(
        "Build a neural network **by clicking**: pick a data set, place and connect layers, "
        "press **Train** and watch it learn, then see what it got wrong and what it learned. "
        "Take it home as a Python script, a `.keras` file or a design file.\n\n"
        "**1 · Data** → **2 · Design** → **3 · Train** → **4 · Evaluate** → Inspect → Export"
    )
    st.caption("New here? Press **Use Digits MLP** below, then **Train → Start**.")
with start:
    if st.button("✚ Start from scratch", key="home_blank", width="stretch"):
        state.replace(templates.blank())
        st.switch_page("pages/design.py")
    st.file_uploader(
        "Open a design (.json), a Keras model (.keras) or Keras code (.py)",
        type=["json", "keras", "py"],
        key="home_open",
        on_change=open_file,
        help="Design files up to 5 MB; .keras files up to 300 MB; Python code is read, never "
        "run (the notes say what was assumed or left out, by line)",
    )
    opened = st.session_state.get(OPEN_NOTES)
    if opened and opened[1]:
        st.info(f"Notes from opening {opened[0]}:\n" + "\n".join(f"- `{n}`" for n in opened[1]))

st.subheader("Start from a template")
COLUMNS = 4
ids = list(templates.TEMPLATES)
for row in range(0, len(ids), COLUMNS):
    cols = st.columns(COLUMNS)
    row_ids = ids[row : row + COLUMNS]
    # Every card of a row gets the room of its tallest graph: whole pictures, aligned buttons.
    picture_h = max(drawing.svg_height(templates.get(i)) for i in row_ids)
    for col, template_id in zip(cols, row_ids):
        t = templates.TEMPLATES[template_id]
        with col.container(border=True):
            st.markdown(f"**{t.title}**")
            st.markdown(
                f"<div style='min-height:5.9em;font-size:0.875rem;opacity:0.75'>{t.description}"
                "<br>data: "
                + (f"<code>{t.dataset}</code>" if t.dataset else "your own")
                + "</div>",
                unsafe_allow_html=True,
            )
            st.markdown(
                f"<div style='height:{picture_h}px;display:flex;justify-content:center;"
                "align-items:flex-start'>"
                f"{template_picture(template_id)}</div>",
                unsafe_allow_html=True,
            )
            primary = template_id == "digits-mlp"
            if st.button(
                f"Use {t.title}",
                key=f"use_{template_id}",
                width="stretch",
                type="primary" if primary else "secondary",
            ):
                use_template(template_id)
                st.switch_page("pages/design.py")

st.subheader("Recent runs")
recent = runs.recent()
if recent:
    runs_table(recent, key="home_runs")
else:
    st.caption("No runs yet: they appear here once you train a model.")
