"""Data: choose a built-in set or upload one, preview it, set the split and the augmentations."""

import streamlit as st

from designer.data import DataError, csv_columns, get_info, is_available, list_datasets
from designer.design import catalog, sections
from designer.report import viz
from designer.text import one_line
from ui import dataview, editor, fields, forms, state

state.show_flash()
d = state.design()
ss = st.session_state
infos = {i.id: i for i in list_datasets()}


def on_upload() -> None:
    upload = ss.get("data_upload")
    if upload is None:
        return
    try:
        path = dataview.save_upload(upload.name, upload.getvalue())
    except (DataError, OSError) as exc:
        state.flash("error", f"{upload.name}: {exc}")
        return
    if editor.apply(sections.use_upload, str(path)):
        state.flash("success", f"Uploaded {upload.name}.")


def fit_design(info) -> None:
    editor.apply(sections.fit_to_data, tuple(info.input_shape), info.task, info.num_classes)
    state.flash("success", "The Input shape and the output layer now match the data set.")


def choose_dataset(dataset_id: str) -> None:
    editor.apply(sections.set_section, "data", "dataset", dataset_id)


def upload_tab() -> None:
    st.file_uploader(
        "A CSV (one row per sample, a target column), a ZIP of images (one folder per "
        "class) or an NPZ (arrays x and y)",
        type=["csv", "zip", "npz"],
        key="data_upload",
        on_change=on_upload,
    )


st.title("Data")
dataview.dataset_cards(list(infos.values()), d.data.dataset, choose_dataset, upload_tab)
st.divider()
left, right = st.columns([1, 2], gap="large")

with left:
    dataset = d.data.dataset
    info = None
    if dataset == "upload":
        if d.data.path:
            st.markdown(f"**Your upload:** {d.data.path.rsplit('/', 1)[-1]}")
            if d.data.path.lower().endswith(".csv"):
                try:
                    columns = csv_columns(d.data.path)
                except (DataError, OSError) as exc:
                    columns = []
                    st.error(str(exc), icon="⚠️")
                if columns:
                    fields.draw(
                        st.selectbox,
                        "Target column (what to predict)",
                        fields.section_setting("data", "target", "d"),
                        choices=columns,
                        placeholder="choose a column",
                    )
        else:
            st.caption("Upload a file in the **Upload my own** tab above.")
    elif dataset in infos:
        info = get_info(dataset)
        with st.container(border=True):
            st.markdown(f"**{info.name}**  \n{info.description}")
            classes = f"{info.num_classes} classes" if info.num_classes else "regression"
            st.caption(
                f"{info.n_samples or '?'} samples · input {tuple(info.input_shape)} · "
                f"{classes} · {info.task}"
            )
            if not is_available(dataset):
                st.warning(
                    "This set is downloaded by Keras on first use: it needs the internet once.",
                    icon="⚠️",
                )
    st.markdown("**Split**")
    c1, c2 = st.columns(2)
    with c1:
        fields.draw(
            st.slider,
            "Validation",
            fields.section_setting("data", "validation_split", "d"),
            shown=float,
            min_value=0.0,
            max_value=0.5,
            step=0.05,
        )
    with c2:
        fields.draw(
            st.slider,
            "Test",
            fields.section_setting("data", "test_split", "d"),
            shown=float,
            min_value=0.0,
            max_value=0.5,
            step=0.05,
        )
    c3, c4 = st.columns(2)
    with c3:
        fields.draw(
            st.number_input,
            "Seed",
            fields.section_setting("data", "seed", "d"),
            min_value=0,
            max_value=2**31 - 1,
            step=1,
        )
    with c4:
        fields.draw(
            st.selectbox,
            "Scaling",
            fields.section_setting("data", "scaling", "d"),
            choices=["auto", "none", "standard", "minmax"],
            help="auto: pixels divided by their maximum, tables standardised, 2-D points kept",
        )

with right:
    needs_download = dataset in infos and not is_available(dataset)
    ds, why = (
        (None, "This set needs a download first.") if needs_download else dataview.load_preview(d)
    )
    if ds is None:
        st.info(why or "Choose a data set.")
    else:
        for w in ds.warnings:
            st.warning(w, icon="⚠️")
        sizes = dataview.full_sizes(d, ds)
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Train", f"{sizes['train']:,}")
        m2.metric("Validation", f"{sizes['validation']:,}")
        m3.metric("Test", f"{sizes['test']:,}")
        m4.metric("Input shape", str(tuple(ds.x_train.shape[1:])))
        inp = d.input_ids()
        shape_ok = inp and list(d.node(inp[0]).params.get("shape", [])) == list(
            ds.x_train.shape[1:]
        )
        if not shape_ok:
            st.button(
                "⚒ Fit my design to this data (Input shape, output units)",
                key="fit_design",
                on_click=fit_design,
                args=(ds.info,),
                type="primary",
            )
        kind = ds.info.kind
        tabs = st.tabs(
            ["Samples", "Classes", "Table"]
            if ds.info.task != "regression"
            else ["Samples", "Table"]
        )
        with tabs[0]:
            if kind == "image":
                images, labels = dataview.sample_images(ds)
                st.plotly_chart(viz.image_grid_figure(images, labels, cols=8), key="data_samples")
            elif kind == "points2d":
                st.plotly_chart(
                    viz.scatter2d_figure(ds.x_train, ds.y_train, ds.info.class_names),
                    key="data_scatter",
                )
            elif kind == "sequence" and ds.vocabulary:
                st.dataframe(
                    dataview.decoded_texts(ds), hide_index=True, key="data_texts", width="stretch"
                )
                st.caption(
                    f"What the model sees: each word as its id ({len(ds.vocabulary)} words), "
                    f"padded at the front with 0 to {ds.x_train.shape[1]} ids."
                )
            else:
                table, _ = dataview.feature_table(ds)
                st.dataframe(table, hide_index=True, key="data_head")
        if ds.info.task != "regression":
            with tabs[1]:
                st.plotly_chart(
                    viz.class_balance_figure(ds.y_train, ds.info.class_names), key="data_balance"
                )
        with tabs[-1]:
            table, types = dataview.feature_table(ds)
            if kind == "image":
                st.caption("Images: one column per pixel; the first pixels are shown.")
                table = table.iloc[:, list(range(min(12, table.shape[1] - 1))) + [-1]]
                types = types.head(12)
            st.dataframe(table, hide_index=True, key="data_table")
            st.dataframe(types, hide_index=True, key="data_types")

st.divider()
st.subheader("Augmentation")
st.caption("Random changes applied to training images only, so the model sees more variety.")
aug_types = [s.type for s in catalog.by_category()["augmentation"]]
a1, a2 = st.columns([3, 1], vertical_alignment="bottom")
a1.selectbox(
    "Add an augmentation",
    aug_types,
    key="aug_new",
    format_func=lambda t: f"{t} · {catalog.LAYERS[t].help}",
)
a2.button(
    "Add",
    key="aug_add",
    width="stretch",
    on_click=lambda: editor.apply(sections.add_augmentation, ss.get("aug_new")),
)
if not d.augmentation:
    st.caption("No augmentation: the model sees the training images as they are.")
for node in d.augmentation:
    with st.container(border=True):
        h1, h2 = st.columns([5, 1], vertical_alignment="center")
        h1.markdown(f"**{node.type}** · `{node.id}`")
        h2.button(
            "✖ Remove",
            key=f"aug_remove_{node.id}",
            width="stretch",
            on_click=lambda nid=node.id: editor.apply(sections.remove_augmentation, nid),
        )
        forms.params_form(
            catalog.LAYERS[node.type].params,
            lambda p, nid=node.id: fields.augmentation_param(nid, p),
            columns=3,
        )
if d.augmentation:
    if ds is not None and ds.info.kind == "image":
        if st.button("▶ Preview augmented samples", key="aug_preview"):
            with st.spinner("Applying the augmentations (loads Keras the first time)…"):
                try:
                    images, labels = dataview.sample_images(ds, 4)
                    out = dataview.augment_preview(d.augmentation, images, seed=d.data.seed)
                    st.plotly_chart(
                        viz.image_grid_figure(
                            out, cols=6, title="each row: one image, six random versions"
                        ),
                        key="aug_grid",
                    )
                except Exception as exc:  # noqa: BLE001 - a bad setting is a message
                    st.error(
                        "The augmentation could not be applied: " + one_line(exc, 300),
                        icon="⚠️",
                    )
    else:
        st.info("Augmentation previews are for image data sets.")
