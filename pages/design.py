"""Design: palette | graph canvas | inspector, then totals, compile settings, summary and code."""

import streamlit as st

from designer import text as sizes
from designer.design import catalog, compile_catalog, compiling, editing
from designer.errors import DesignerError
from designer.text import shape_text
from ui import canvas, classroom, codeview, editor, fields, files, forms, state

state.show_flash()
d = state.design()
with st.spinner("Loading Keras to check shapes (first time only, a few seconds)…"):
    analysis = editor.analyze(d)
state.set_summary(analysis.total_params, analysis.ok)
fit_problems = editor.data_problems(d, analysis)
sel = state.selected()
mode, picks = canvas.mode(), canvas.picks()
branching = mode == canvas.BRANCH and sel is not None
ss = st.session_state
rules = classroom.rules_here()  # a class server's rules (None: no class)
locked = set(rules.lock) if rules is not None else set()

palette, middle, inspector = st.columns([1, 3, 1.3], gap="medium")

# ---- palette -------------------------------------------------------------------------------------
with palette:
    st.markdown("**Layers**")
    query = st.text_input(
        "Search layers",
        key="palette_search",
        placeholder="conv, dropout…",
        label_visibility="collapsed",
    )
    if branching:
        st.caption(f"Click a layer to start a new branch from **{sel}**")
    else:
        st.caption(f"Click a layer to add it after **{sel}**" if sel else "Click a layer to add it")
    # A class that allows only some layer types shows only those.
    found = [s for s in catalog.search(query or "") if rules is None or rules.allows(s.type)]
    for category in catalog.CATEGORIES:
        specs = [s for s in found if s.category == category]
        if not specs:
            continue
        # Only an open category's chips are drawn: the 50 chips of shut ones cost every edit
        # 60-90 ms of its ~300 in the browser (BENCHMARKS.md, edit latency).
        box = st.expander(
            f"{category.capitalize()} ({len(specs)})",
            expanded=bool(query) or category == "core",
            key=f"pal_open_{category}",
            on_change="rerun",
        )
        if not box.open:
            continue
        with box:
            pal_key = state.revision_key(f"pal_{category}:{sel}" + (":branch" if branching else ""))
            st.pills(
                category,
                [s.type for s in specs],
                key=pal_key,
                label_visibility="collapsed",
                on_change=editor.add_from_palette,
                args=(pal_key, sel, branching, state.revision()),
            )
    if not found:
        st.caption("No layer matches.")

# ---- canvas -------------------------------------------------------------------------------------
with middle:
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Parameters", f"{analysis.total_params:,}")
    m2.metric("Trainable", f"{analysis.trainable_params:,}")
    m3.metric(
        "Est. memory",
        sizes.human_bytes(analysis.memory_bytes(d.training.batch_size)),
        help="weights, gradients, optimizer state and one batch of activations",
    )
    m4.metric("Layers", len(d.nodes))
    if rules is not None and rules.max_params:
        st.progress(
            min(1.0, analysis.total_params / rules.max_params),
            text=f"Parameter budget of this class: {analysis.total_params:,} of "
            f"{rules.max_params:,}"
            + (" · **over the limit**" if analysis.total_params > rules.max_params else ""),
        )
    if analysis.problems:
        st.error(
            "**Fix these before training:**\n"
            + "\n".join(f"- **{n}**: {m}" for n, m in analysis.problems)
        )
    elif fit_problems:
        st.warning(
            "**Does not fit the data set yet:**\n"
            + "\n".join(f"- **{n}**: {m}" for n, m in fit_problems)
        )
    else:
        st.success(
            f"✔ The model is valid and fits the data set `{d.data.dataset}`."
            if d.data.dataset
            else "✔ The model is valid."
        )
    canvas.toolbar(d, sel)
    clicked = canvas.draw(d, analysis, sel, mode, picks)
    if clicked and canvas.handle_click(clicked):
        st.rerun()

# ---- inspector -----------------------------------------------------------------------------------
with inspector:
    u, r = st.columns(2)
    u.button(
        "↶ Undo",
        key="undo",
        on_click=editor.undo,
        disabled=not state.history().can_undo,
        width="stretch",
    )
    r.button(
        "↷ Redo",
        key="redo",
        on_click=editor.redo,
        disabled=not state.history().can_redo,
        width="stretch",
    )
    ids = d.node_ids()
    if not ids:
        st.info("The design is empty: add an **Input** from the palette to start.")
    else:
        pick_key = state.selection_key("selected_layer")
        st.selectbox(
            "Selected layer",
            ids,
            index=ids.index(sel),
            key=pick_key,
            on_change=editor.on_select_widget,
            args=(pick_key, sel),
            format_func=lambda i: f"{i} · {d.node(i).type}",
        )
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
            st.button(
                f"⚒ Insert {fix['insert']} before {fix['before']}",
                key=f"apply_fix:{sel}",
                type="primary",
                on_click=editor.apply_fix,
                args=(fix,),
                width="stretch",
            )
        if sel in locked:
            # Locked by the class: its settings are shown, not offered (and checked again when
            # the design trains and when it is submitted).
            st.info(
                "🔒 Locked by the assignment: "
                + (", ".join(f"{k} = {v}" for k, v in node.params.items()) or "no settings"),
            )
        else:
            fields.draw(
                st.text_input,
                "Name",
                fields.node_name(sel),
                convert=lambda raw: str(raw).strip(),
                help="The layer's id: also its name in Keras and in the code",
            )
        if spec is not None and sel not in locked:
            forms.params_form(spec.params, lambda p, nid=sel: fields.node_param(nid, p))
            forms.kept_args(sel, d.node(sel).params)
        b1, b2 = st.columns(2)
        b1.button(
            "✚ Duplicate",
            key=f"duplicate:{sel}",
            on_click=editor.duplicate,
            args=(sel,),
            width="stretch",
        )
        b2.button(
            "✖ Delete",
            key=f"delete:{sel}",
            on_click=editor.delete,
            args=(sel,),
            disabled=sel in locked,
            width="stretch",
        )
        b3, b4 = st.columns(2)
        b3.button(
            "⬆ Up",
            key=f"move_up:{sel}",
            on_click=editor.move,
            args=(sel, "up"),
            disabled=not editing.can_move_up(d, sel),
            width="stretch",
        )
        b4.button(
            "⬇ Down",
            key=f"move_down:{sel}",
            on_click=editor.move,
            args=(sel, "down"),
            disabled=not editing.can_move_down(d, sel),
            width="stretch",
        )
        with st.expander("Connections (branches, merges)", expanded=False):
            targets = editing.connect_candidates(d, sel)
            st.selectbox(
                "Connect to…",
                targets,
                key=f"connect_target:{sel}",
                index=None,
                placeholder="choose a layer" if targets else "nothing to connect to",
            )
            st.button(
                "Connect",
                key=f"connect:{sel}",
                on_click=editor.connect,
                args=(sel, f"connect_target:{sel}"),
                disabled=not targets,
                width="stretch",
            )
            links = [(p, sel) for p in d.predecessors(sel)] + [(sel, s) for s in d.successors(sel)]
            st.selectbox(
                "Disconnect…",
                links,
                key=f"disconnect_edge:{sel}",
                index=None,
                format_func=lambda e: f"{e[0]} → {e[1]}",
                placeholder="choose a connection",
            )
            st.button(
                "Disconnect",
                key=f"disconnect:{sel}",
                on_click=editor.disconnect,
                args=(sel, f"disconnect_edge:{sel}"),
                disabled=not links,
                width="stretch",
            )

st.divider()

# ---- compile settings | summary and code --------------------------------------------------------
settings, tables = st.columns([1, 2], gap="large")
with settings:
    st.subheader("Compile")
    fields.draw(st.text_input, "Design name", fields.design_name())
    task = None
    if d.data.dataset and d.data.dataset != "upload":
        try:
            from designer.data import get_info

            task = get_info(d.data.dataset).task
        except DesignerError:
            task = None
    resolved = compiling.resolve(d, task)
    losses = compile_catalog.LOSSES
    fields.draw(
        st.selectbox,
        "Loss",
        fields.compile_setting("loss"),
        choices=["auto", *losses],
        shown=lambda v: v or "auto",
        convert=lambda raw: None if raw in (None, "auto") else raw,
        format_func=lambda x: f"auto: {resolved.loss}" if x == "auto" else x,
        help=losses[resolved.loss].help if resolved.loss in losses else None,
    )
    optimizers = compile_catalog.OPTIMIZERS
    fields.draw(
        st.selectbox,
        "Optimizer",
        fields.compile_setting("optimizer"),
        choices=list(optimizers),
        help=optimizers[d.compile.optimizer].help if d.compile.optimizer in optimizers else None,
    )
    opt = optimizers.get(d.compile.optimizer)
    if opt is not None:
        forms.params_form(
            opt.params, lambda p, name=opt.name: fields.optimizer_param(name, p), columns=2
        )
    fields.draw(
        st.multiselect,
        "Metrics",
        fields.compile_setting("metrics"),
        options=list(compile_catalog.METRICS),
        default_arg="default",
        shown=lambda v: list(v) if v is not None else list(resolved.metrics or []),
        convert=list,
        help="Reported every epoch, besides the loss",
    )
    for _, msg in compiling.problems(d.compile):
        st.error(msg, icon="⚠️")

with tables:
    # Only the open tab is drawn: a hidden Code tab cost every edit its script generated
    # (10 ms) and highlighted again by the browser (BENCHMARKS.md, edit latency).
    summary_tab, code_tab = st.tabs(["Summary", "Code"], key="design_tabs", on_change="rerun")
    if summary_tab.open:
        with summary_tab:
            codeview.summary_table(d, analysis)
    if code_tab.open:
        with code_tab:
            codeview.code_block(d, key="design_code")
    with st.expander("Paste code", expanded=files.paste_news() is not None):
        st.caption(
            "Keras code from a tutorial or a notebook (Keras 2 or 3, Sequential or functional): "
            "it is read, never run, and replaces this design (Undo brings it back)."
        )
        st.text_area(
            "Keras code",
            key=files.PASTE_KEY,
            height=200,
            placeholder="model = keras.Sequential([...])\nmodel.compile(...)",
        )
        st.button("Read the code", key="paste_code_read", on_click=files.paste_code)
        news = files.paste_news()
        if news is not None:
            kind, message, lines = news
            {"success": st.success, "warning": st.warning, "error": st.error}[kind](message)
            if lines:
                st.markdown("\n".join(f"- `{line}`" for line in lines))
