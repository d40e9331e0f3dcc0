"""The shape of designer/: the README's code map is the rule, and every import obeys it.

Read from the source with ``ast`` (nothing is imported): each module's imports of the project,
at the top of the file or inside functions. Fails on an import the code map does not allow, on
an import cycle among the project's modules, on a light project module imported inside a
function (only heavy libraries, and the modules that need them at their top, are imported
lazily), on Keras or TensorFlow in ``designer/design/``, and on Streamlit in ``designer/``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "designer"
# Modules of the root package that sit on top (they wire or measure everything).
TOP = {"designer.cli", "designer.__main__"}
# Libraries that take a noticeable part of a second to import (numpy alone ~0.2 s, TensorFlow
# 4-6 s): only these, and the project's modules that import them at their top, may be imported
# inside a function.
HEAVY = {
    "keras",
    "tensorflow",
    "numpy",
    "pandas",
    "plotly",
    "sklearn",
    "scipy",
    "ray",
    "optuna",
    "h5py",
    "PIL",
    "matplotlib",
    "tf2onnx",
    "onnx",
    "onnxruntime",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> str:
    """The code map's row of a module: ``designer`` or ``designer/<package>``."""
    if module in TOP:
        return "designer/commands"
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()):
        return f"designer/{parts[1]}"
    return "designer"


def code_map() -> dict[str, set[str] | None]:
    """package -> the packages it may import (None: everything), from the README's table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Code map", 1)[1].split("\n## ", 1)[0]
    rules: dict[str, set[str] | None] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`designer"):
            continue
        allowed = cells[2]
        rules[cells[0].strip("`")] = (
            None if allowed == "everything above" else set(re.findall(r"`([^`]+)`", allowed))
        )
    return rules


def imports(module: str) -> list[tuple[str, bool, int]]:
    """(imported module, inside a function?, line) for every import in ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    nested: set[int] = set()
    typing_only: set[int] = set()  # `if TYPE_CHECKING:` imports never run
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested.update(id(n) for n in ast.walk(node) if n is not node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for n in ast.walk(node) if n is not node)
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, `level` steps up
                package = module.split(".")
                if MODULES[module].name != "__init__.py":
                    package = package[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            # `from designer.design import catalog` imports the module designer.design.catalog
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        for name in names:
            found.append((name, id(node) in nested, node.lineno))
    return found


def project_imports(module: str) -> list[tuple[str, bool, int]]:
    out = []
    for name, lazy, line in imports(module):
        while name not in MODULES and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in MODULES and name != module and name != "designer":
            out.append((name, lazy, line))
    return out


def heavy_modules() -> set[str]:
    """Project modules that import a heavy library when they are imported (directly, or
    through another such module at their top)."""
    heavy: set[str] = set()
    changed = True
    while changed:
        changed = False
        for module in MODULES:
            if module in heavy:
                continue
            for name, inside, _ in imports(module):
                if inside:
                    continue
                target = name
                while target not in MODULES and "." in target:
                    target = target.rsplit(".", 1)[0]
                if name.split(".")[0] in HEAVY or (target in heavy and target != module):
                    heavy.add(module)
                    changed = True
                    break
    return heavy


def test_the_code_map_names_every_package():
    rules = code_map()
    packages = {layer_of(m) for m in MODULES}
    assert packages <= set(rules), f"not in the README's code map: {packages - set(rules)}"


def test_every_import_is_one_the_code_map_allows():
    rules = code_map()
    wrong = []
    for module in MODULES:
        mine = layer_of(module)
        allowed = rules[mine]
        for target, _, line in project_imports(module):
            theirs = layer_of(target)
            if theirs != mine and allowed is not None and theirs not in allowed:
                wrong.append(f"{module}:{line} imports {target} ({mine} may not import {theirs})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    graph = {m: {t for t, _, _ in project_imports(m)} for m in MODULES}
    cycles = []
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append(" -> ".join(path[path.index(t) :] + [t]))
            elif t not in state:
                visit(t)
        path.pop()
        state[m] = 2

    for m in sorted(MODULES):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_light_project_modules_are_imported_at_the_top_of_the_file():
    heavy = heavy_modules()
    lazy = [
        f"{module}:{line} imports {target} inside a function"
        for module in MODULES
        for target, inside, line in project_imports(module)
        if inside and target not in heavy
    ]
    assert not lazy, "\n".join(lazy)


def test_the_design_layer_has_no_keras():
    found = [
        f"{module}:{line} imports {name}"
        for module in MODULES
        if module.startswith("designer.design")
        for name, _, line in imports(module)
        if name.split(".")[0] in ("keras", "tensorflow")
    ]
    assert not found, "\n".join(found)


def test_no_streamlit_in_designer():
    found = [
        f"{module}:{line} imports {name}"
        for module in MODULES
        for name, _, line in imports(module)
        if name.split(".")[0] == "streamlit"
    ]
    assert not found, "\n".join(found)


def test_heavy_libraries_stay_out_of_the_top_of_light_modules():
    """The CLI's --help and the app's first page import these modules: no heavy library at
    their top, or they stop being instant."""
    light = [m for m in MODULES if layer_of(m) in ("designer", "designer/design")]
    light += ["designer.cli", "designer.training", "designer.training.registry"]
    # The Home page's Open and the Design page's Paste code import the code reader.
    light += [m for m in MODULES if m.startswith("designer.codeimport")]
    found = [
        f"{module}:{line} imports {name} at the top"
        for module in light
        for name, inside, line in imports(module)
        if not inside and name.split(".")[0] in HEAVY
    ]
    assert not found, "\n".join(found)
