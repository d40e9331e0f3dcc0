"""The Keras-style summary table and the generated code, shared by Design and Export."""

from __future__ import annotations

import importlib.util
from typing import Any

import streamlit as st

from designer.design.spec import Design
from designer.model.build import DesignInvalid
from designer.model.build import summary_rows as rows
from designer.text import one_line, shape_text


def codegen_available() -> bool:
    return importlib.util.find_spec("designer.codegen") is not None


def generate_code(design: Design) -> tuple[str | None, str | None]:
    """(code, None) or (None, why not): a design with problems does not generate."""
    if not codegen_available():
        return None, "Code generation (designer.codegen) is not available in this build yet."
    return _generate(design.to_json())


@st.cache_data(show_spinner=False, max_entries=32)
def _generate(design_json: str) -> tuple[str | None, str | None]:
    from designer import codegen

    try:
        return codegen.generate(Design.from_json(design_json)), None
    except DesignInvalid as exc:
        lines = exc.analysis.lines()
        return None, "The code appears once the design is valid. Still to fix:\n" + "\n".join(
            f"- {x}" for x in lines[:8]
        )
    except Exception as exc:  # noqa: BLE001 - an invalid design is a message, not a traceback
        return None, one_line(exc, 400) or type(exc).__name__


def code_block(design: Design, *, key: str) -> None:
    code, why = generate_code(design)
    if code is None:
        st.info(why)
        return
    st.code(code, language="python", line_numbers=False)


def summary_rows(design: Design, analysis: Any) -> list[dict[str, Any]]:
    out = []
    for r in rows(design, analysis):
        report = analysis.nodes.get(r["node"])
        out.append(
            {
                "Layer (id)": r["node"],
                "Type": r["type"],
                "Output shape": shape_text(report.output_shape)
                if report and report.output_shape
                else "?",
                "Params": r["params"],
                "Connected to": r["connected_to"],
                "Problem": r["problem"],
            }
        )
    return out


def summary_table(design: Design, analysis: Any) -> None:
    import pandas as pd

    df = pd.DataFrame(summary_rows(design, analysis))
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        key="summary_table",
        column_config={"Params": st.column_config.NumberColumn(format="localized")},
    )
    total, trainable = analysis.total_params, analysis.trainable_params
    st.caption(
        f"Total params: **{total:,}** · trainable: **{trainable:,}** · "
        f"non-trainable: **{total - trainable:,}**"
    )
