"""Everything that can be wrong with a design, in one place: the graph and its layers
(:func:`designer.model.build.analyze`), the compile settings and the augmentation block.

The ``validate`` command, export and the editor all call :func:`validate`, so they agree.
"""

from __future__ import annotations

from designer.design.compiling import problems as compile_problems
from designer.design.spec import Design
from designer.model.augmentation import augmentation_problems
from designer.model.build import Analysis, analyze


def validate(design: Design) -> Analysis:
    analysis = analyze(design)
    graph_ok = analysis.ok  # augmentation is checked against a graph that builds
    analysis.problems += compile_problems(design.compile)
    if design.augmentation and graph_ok:
        analysis.problems += augmentation_problems(design)
    return analysis
