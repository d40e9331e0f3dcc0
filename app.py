"""Keras Designer: the router. Pages live in pages/, shared glue in ui/, the engine in designer/.

Run with ``streamlit run app.py``. Nothing here imports TensorFlow: the first paint is instant.
"""

from pathlib import Path

import streamlit as st

# The icon is a file, not an emoji: an emoji makes Streamlit load its table of every emoji,
# half a second of the first page (BENCHMARKS.md, first_paint_s).
ICON = Path(__file__).with_name("assets") / "favicon.png"
st.set_page_config(page_title="Keras Designer", page_icon=str(ICON), layout="wide")

from designer import tf_startup  # noqa: E402 - set_page_config must come first
from ui import sharing, state, status, warmup  # noqa: E402

tf_startup.install()  # TensorFlow's start-up lines stay off the server's console
warmup.light_cleanup()  # Streamlit's per-run Keras clean-up without a full GC each time
state.ensure()
# Streamlit leaves ~6rem above the page for a header; the navigation bar needs less than that.
st.html("<style>[data-testid='stMainBlockContainer']{padding-top:4.25rem}</style>")

from designer.classroom.live import class_folder  # noqa: E402

# A class server (KERAS_DESIGNER_CLASS, or an assignment a teacher opened on the Class page)
# opens on its Class page: students land in the assignment. Without a class the page comes
# last, where a teacher finds it to open one.
CLASS = class_folder() is not None
PAGES = [
    st.Page("pages/home.py", title="Home", default=not CLASS),
    st.Page("pages/data.py", title="Data", url_path="data"),
    st.Page("pages/design.py", title="Design", url_path="design"),
    st.Page("pages/train.py", title="Train", url_path="train"),
    st.Page("pages/evaluate.py", title="Evaluate", url_path="evaluate"),
    st.Page("pages/inspect_model.py", title="Inspect", url_path="inspect"),
    st.Page("pages/export.py", title="Export", url_path="export"),
]
if Path(__file__).with_name("pages").joinpath("experiments.py").is_file():
    PAGES.append(st.Page("pages/experiments.py", title="Experiments", url_path="experiments"))

PAGES.append(st.Page("pages/settings.py", title="Settings", url_path="settings"))
CLASS_PAGE = st.Page("pages/classroom.py", title="Class", url_path="class", default=CLASS)
if CLASS:
    PAGES.insert(0, CLASS_PAGE)
else:
    PAGES.append(CLASS_PAGE)

page = st.navigation(PAGES, position="top")
status_slot = st.container()  # filled after the page ran, so it shows what the page changed
sharing.offer()  # a visit with ?design=<link>: ask before opening it
page.run()
with status_slot:
    status.status_line()
warmup.start()
