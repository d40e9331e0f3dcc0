"""Design: palette | graph canvas | inspector, then totals, compile settings, summary and code."""

import streamlit as st

from designer import catalog, compile_catalog, compiling, editing, sizes
from designer.drawing import shape_text
from ui import canvas, codeview, editor, forms, state

state.show_flash()
d = state.design()
with st.spinner("Loading Keras to check shapes (first time only, a few seconds)…"):
    analysis = editor.analyze(d)
state.set_summary(analysis.total_params, analysis.ok)
fit_problems = editor.data_problems(d, analysis)
sel = state.selected()
ss = st.session_state

palette, middle, inspector = st.columns([1, 3, 1.3], gap="medium")

# ---- palette -------------------------------------------------------------------------------------
with palette:
    st.markdown("**Layers**")
    query = st.text_input("Search layers", key="palette_search", placeholder="conv, dropout…",
                          label_visibility="collapsed")  # fmt: skip
    st.caption(f"Click a layer to add it after **{sel}**" if sel else "Click a layer to add it")
    found = catalog.search(query or "")
    for category in catalog.CATEGORIES:
        specs = [s for s in found if s.category == category]
        if not specs:
            continue
        with st.expander(f"{category.capitalize()} ({len(specs)})", expanded=bool(query) or category == "core"):  # fmt: skip
            st.pills(category, [s.type for s in specs], key=f"pal_{category}", label_visibility="collapsed",
                     on_change=editor.add_from_palette, args=(f"pal_{category}",))  # fmt: skip
    if not found:
        st.caption("No layer matches.")

# ---- canvas -------------------------------------------------------------------------------------
with middle:
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Parameters", f"{analysis.total_params:,}")
    m2.metric("Trainable", f"{analysis.trainable_params:,}")
    m3.metric("Est. memory", sizes.human_bytes(analysis.memory_bytes(d.training.batch_size)),
              help="weights, gradients, optimizer state and one batch of activations")  # fmt: skip
    m4.metric("Layers", len(d.nodes))
    if analysis.problems:
        st.error("**Fix these before training:**\n" + "\n".join(f"- **{n}**: {m}" for n, m in analysis.problems))  # fmt: skip
    elif fit_problems:
        st.warning("**Does not fit the data set yet:**\n" + "\n".join(f"- **{n}**: {m}" for n, m in fit_problems))  # fmt: skip
    else:
        st.success(f"✔ The model is valid and fits the data set `{d.data.dataset}`." if d.data.dataset else "✔ The model is valid.")  # fmt: skip
    clicked = canvas.draw(d, analysis, sel)
    if clicked and clicked != sel:
        state.select(clicked)
        st.rerun()

# ---- inspector -----------------------------------------------------------------------------------
with inspector:
    u, r = st.columns(2)
    u.button("↶ Undo", key="undo", on_click=editor.undo, disabled=not state.history().can_undo, width="stretch")  # fmt: skip
    r.button("↷ Redo", key="redo", on_click=editor.redo, disabled=not state.history().can_redo, width="stretch")  # fmt: skip
    ids = d.node_ids()
    if not ids:
        st.info("The design is empty: add an **Input** from the palette to start.")
    else:
        ss["selected_layer"] = sel
        st.selectbox("Selected layer", ids, key="selected_layer", on_change=editor.on_select_widget,
                     format_func=lambda i: f"{i} · {d.node(i).type}")  # fmt: skip
        node = d.node(sel)
        spec = catalog.get(node.type)
        report = analysis.nodes.get(sel)
        st.caption(spec.help if spec else "unknown layer type")
        if report is not None and report.error:
            st.error(report.error, icon="⚠️")
        elif report is not None and report.output_shape is not None:
            st.markdown(
                f"Output **{shape_text(report.output_shape)}** · **{report.params:,}** params"
            )
        if report is not None and report.warning:
            st.warning(report.warning, icon="⚡")
        for nid, msg in fit_problems:
            if nid == sel:
                st.warning(msg, icon="⚠️")
        if report is not None and report.fix:
            fix = report.fix
            st.button(f"⚒ Insert {fix['insert']} before {fix['before']}", key="apply_fix", type="primary",
                      on_click=editor.apply_fix, args=(fix,), width="stretch")  # fmt: skip
        name_key = f"n:{sel}"
        ss.setdefault(name_key, sel)
        st.text_input("Name", key=name_key, on_change=editor.rename, args=(sel, name_key),
                      help="The layer's id: also its name in Keras and in the code")  # fmt: skip
        if state.field_error(name_key):
            st.error(state.field_error(name_key), icon="⚠️")
        if spec is not None:
            forms.params_form(spec.params, node.params, f"p:{sel}:",
                              lambda name, v, nid=sel: editor.set_param(nid, name, v))  # fmt: skip
        b1, b2 = st.columns(2)
        b1.button(
            "✚ Duplicate", key="duplicate", on_click=editor.duplicate_selected, width="stretch"
        )
        b2.button("✖ Delete", key="delete", on_click=editor.delete_selected, width="stretch")
        b3, b4 = st.columns(2)
        b3.button("⬆ Up", key="move_up", on_click=editor.move_selected, args=("up",),
                  disabled=not editing.can_move_up(d, sel), width="stretch")  # fmt: skip
        b4.button("⬇ Down", key="move_down", on_click=editor.move_selected, args=("down",),
                  disabled=not editing.can_move_down(d, sel), width="stretch")  # fmt: skip
        with st.expander("Connections (branches, merges)", expanded=False):
            targets = editing.connect_candidates(d, sel)
            st.selectbox("Connect to…", targets, key="connect_target", index=None,
                         placeholder="choose a layer" if targets else "nothing to connect to")  # fmt: skip
            st.button("Connect", key="connect", on_click=editor.connect_from_selected,
                      disabled=not targets, width="stretch")  # fmt: skip
            links = [(p, sel) for p in d.predecessors(sel)] + [(sel, s) for s in d.successors(sel)]
            st.selectbox("Disconnect…", links, key="disconnect_edge", index=None,
                         format_func=lambda e: f"{e[0]} → {e[1]}", placeholder="choose a connection")  # fmt: skip
            st.button("Disconnect", key="disconnect", on_click=editor.disconnect_selected,
                      disabled=not links, width="stretch")  # fmt: skip

st.divider()

# ---- compile settings | summary and code --------------------------------------------------------
settings, tables = st.columns([1, 2], gap="large")
with settings:
    st.subheader("Compile")
    ss.setdefault("c:name", d.name)
    st.text_input("Design name", key="c:name", on_change=editor.set_name, args=("c:name",))
    if state.field_error("c:name"):
        st.error(state.field_error("c:name"), icon="⚠️")
    task = None
    if d.data.dataset and d.data.dataset != "upload":
        try:
            from designer.data import get_info

            task = get_info(d.data.dataset).task
        except (ImportError, ValueError):
            task = None
    resolved = compiling.resolve(d, task)
    ss.setdefault("c:loss", d.compile.loss or "auto")
    st.selectbox("Loss", ["auto", *compile_catalog.LOSSES], key="c:loss",
                 format_func=lambda x: f"auto: {resolved.loss}" if x == "auto" else x,
                 help=compile_catalog.LOSSES[resolved.loss].help if resolved.loss in compile_catalog.LOSSES else None,
                 on_change=editor.set_loss, args=("c:loss",))  # fmt: skip
    ss.setdefault("c:optimizer", d.compile.optimizer)
    st.selectbox("Optimizer", list(compile_catalog.OPTIMIZERS), key="c:optimizer",
                 help=compile_catalog.OPTIMIZERS[d.compile.optimizer].help if d.compile.optimizer in compile_catalog.OPTIMIZERS else None,
                 on_change=lambda: forms.guarded("c:optimizer", editor.set_compile, "optimizer"))  # fmt: skip
    opt = compile_catalog.OPTIMIZERS.get(d.compile.optimizer)
    if opt is not None:
        forms.params_form(opt.params, d.compile.optimizer_params, f"c:opt:{opt.name}:",
                          editor.set_optimizer_param, columns=2)  # fmt: skip
    ss.setdefault("c:metrics", list(resolved.metrics or []))
    st.multiselect("Metrics", list(compile_catalog.METRICS), key="c:metrics",
                   help="Reported every epoch, besides the loss",
                   on_change=lambda: forms.guarded("c:metrics", editor.set_compile, "metrics"))  # fmt: skip
    for key in ("c:loss", "c:optimizer", "c:metrics"):
        forms.show_error(key)
    for _, msg in compiling.problems(d.compile):
        st.error(msg, icon="⚠️")

with tables:
    summary_tab, code_tab = st.tabs(["Summary", "Code"])
    with summary_tab:
        codeview.summary_table(d, analysis)
    with code_tab:
        codeview.code_block(d, key="design_code")
