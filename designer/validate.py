"""Everything that can be wrong with a design, in one place: the graph and its layers
(:func:`designer.build.analyze`), the compile settings and the augmentation block.

The ``validate`` command, export and the editor all call :func:`validate`, so they agree.
"""

from __future__ import annotations

from designer.build import Analysis, analyze
from designer.spec import Design


def validate(design: Design) -> Analysis:
    from designer.compiling import problems as compile_problems

    analysis = analyze(design)
    graph_ok = analysis.ok  # augmentation is checked against a graph that builds
    analysis.problems += compile_problems(design.compile)
    if design.augmentation and graph_ok:
        from designer.training.model import augmentation_problems

        analysis.problems += augmentation_problems(design)
    return analysis
