"""Reads Keras code with :mod:`ast`, statement by statement, without running any of it.

A small evaluator of the parts of Python that model code is written in: imports, assignments
of constants, calls of Keras names (layers, models, optimizers, callbacks...), calls of the
file's own functions (read with their arguments bound), ``for`` loops over constant sequences,
``if`` on constants, ``with`` blocks. Everything else is an :class:`Unknown` value: harmless
while it stays in data code (``x_train / 255``), reported with its line where the model needs
it. Only pure builtins (``range``, ``len``, ``int``...) are ever applied, to constants, within
size limits; nothing of the file, and nothing it imports, is called.
"""

from __future__ import annotations

import ast
import operator
from typing import Any

from designer.codeimport import calls, names
from designer.codeimport.graph import Graph
from designer.codeimport.values import (
    MAX_ITEMS,
    MODEL_VALUES,
    AppLayers,
    Application,
    ArgParser,
    Bound,
    Function,
    Functional,
    Layer,
    Options,
    Ref,
    Sequential,
    Tensor,
    Unknown,
    UserClass,
    constant,
)
from designer.design.params import KEPT

MAX_STEPS = 50_000  # statements and calls read: a loop in the file cannot keep the reader busy
MAX_DEPTH = 30  # nested calls of the file's functions (recursion is cut there)
_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_MERGE_OPS = {ast.Add: "Add", ast.Sub: "Subtract", ast.Mult: "Multiply"}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_BUILTINS = {"range", "len", "int", "float", "str", "bool", "list", "tuple", "dict", "min", "max"}
_BUILTINS |= {"round", "abs", "sum", "print", "isinstance", "enumerate", "zip", "sorted"}
_CONSTANTS = {"True": True, "False": False, "None": None}


class _Return(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, value: Any):
        self.value = value


class _Stop(Exception):  # noqa: N818
    pass


class Reader:
    """Reads one module; the results are in :attr:`graph` (nodes, models, settings, lines)."""

    def __init__(self, tree: ast.Module):
        self.tree = tree
        self.graph = Graph()
        self.globals: dict[str, Any] = {"__name__": "__main__"}
        self.steps = 0
        self.depth = 0

    # ---- reporting ----------------------------------------------------------------------------
    def note(self, line: int, text: str) -> None:
        self.graph.note(line, text)

    def problem(self, line: int, text: str) -> None:
        self.graph.problem(line, text)

    # ---- statements ---------------------------------------------------------------------------
    def run(self) -> None:
        try:
            self.block(self.tree.body, self.globals)
        except _Return:
            pass
        except _Stop:
            self.problem(0, "the file is too long to read to its end: the rest was not read")
        except RecursionError:
            self.problem(0, "the code nests too deeply to be read: the rest was not read")

    def block(self, body: list[ast.stmt], scope: dict) -> None:
        for stmt in body:
            self.statement(stmt, scope)

    def statement(self, stmt: ast.stmt, scope: dict) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Stop
        method = getattr(self, f"s_{type(stmt).__name__}", None)
        if method is not None:
            method(stmt, scope)

    def s_Import(self, stmt: ast.Import, scope: dict) -> None:  # noqa: N802
        for alias in stmt.names:
            if alias.asname:
                scope[alias.asname] = Ref(names.canonical(alias.name))
            else:
                top = alias.name.split(".")[0]
                scope[top] = Ref(names.canonical(top))

    def s_ImportFrom(self, stmt: ast.ImportFrom, scope: dict) -> None:  # noqa: N802
        module = stmt.module or ""
        for alias in stmt.names:
            if alias.name == "*":
                self._star_import(module, stmt.lineno, scope)
                continue
            scope[alias.asname or alias.name] = Ref(names.canonical(f"{module}.{alias.name}"))

    def _star_import(self, module: str, line: int, scope: dict) -> None:
        # `from keras.layers import *`: Keras' names are resolved where they are used.
        if names.canonical(module + ".x").startswith("keras."):
            self.graph.star_keras = True

    def s_Expr(self, stmt: ast.Expr, scope: dict) -> None:  # noqa: N802
        value = self.expr(stmt.value, scope)
        if isinstance(value, Unknown) and value.lost:  # add_blocks(model): outside code
            self.problem(stmt.lineno, value.said())

    def s_Assign(self, stmt: ast.Assign, scope: dict) -> None:  # noqa: N802
        value = self.expr(stmt.value, scope)
        for target in stmt.targets:
            self.assign(target, value, scope, stmt.lineno)

    def s_AnnAssign(self, stmt: ast.AnnAssign, scope: dict) -> None:  # noqa: N802
        if stmt.value is not None:
            self.assign(stmt.target, self.expr(stmt.value, scope), scope, stmt.lineno)

    def s_AugAssign(self, stmt: ast.AugAssign, scope: dict) -> None:  # noqa: N802
        target = ast.Name(stmt.target.id, ast.Load()) if isinstance(stmt.target, ast.Name) else None
        if target is None:
            return
        ast.copy_location(target, stmt)
        value = self.binop(stmt.op, self.expr(target, scope), self.expr(stmt.value, scope), stmt)
        self.assign(stmt.target, value, scope, stmt.lineno)

    def assign(self, target: ast.expr, value: Any, scope: dict, line: int) -> None:
        if isinstance(target, ast.Name):
            scope[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value if isinstance(value, (tuple, list)) else None
            if items is not None and len(items) == len(target.elts):
                for t, v in zip(target.elts, items):
                    self.assign(t, v, scope, line)
            else:
                text = value.text if isinstance(value, Unknown) else "the value"
                for t in target.elts:
                    self.assign(t, Unknown(line, text), scope, line)
        elif isinstance(target, ast.Attribute):
            owner = self.expr(target.value, scope)
            self.set_attribute(owner, target.attr, value, line)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, Unknown(line, ast.unparse(target)), scope, line)

    def set_attribute(self, owner: Any, attr: str, value: Any, line: int) -> None:
        if attr != "trainable":
            return
        if isinstance(owner, Application) and isinstance(value, bool):
            owner.trainable, owner.trainable_line = value, line
        elif isinstance(owner, AppLayers) and isinstance(value, bool):
            owner.app.trainable, owner.app.trainable_line = value, line
            self.note(line, f"every layer of the {owner.app.type} base: trainable = {value}")
        elif isinstance(owner, Layer) and isinstance(value, bool):
            owner.kwargs["trainable"] = value
            for node in self.graph.nodes:  # already called: its nodes keep the flag too
                if node.id in owner.nodes:
                    kept = node.params.setdefault(KEPT, {})
                    kept.pop("trainable", None)
                    if not value:
                        kept["trainable"] = False
                    if not kept:
                        del node.params[KEPT]
        elif isinstance(owner, (Sequential, Functional)) and isinstance(value, bool):
            if not value:
                self.problem(line, "a whole model frozen (trainable = False) is not read")
        elif isinstance(owner, MODEL_VALUES):
            self.problem(line, "trainable is set to a value that cannot be known: not read")

    def s_FunctionDef(self, stmt: ast.FunctionDef, scope: dict) -> None:  # noqa: N802
        scope[stmt.name] = Function(stmt, scope)

    s_AsyncFunctionDef = s_FunctionDef

    def s_ClassDef(self, stmt: ast.ClassDef, scope: dict) -> None:  # noqa: N802
        bases = [self.expr(b, scope) for b in stmt.bases]
        kind = "other"
        for base in bases:
            if isinstance(base, Ref) and base.path in ("keras.models.Model", "keras.Model"):
                kind = "model"
            elif isinstance(base, Ref) and base.path == "keras.models.Sequential":
                kind = "model"
            elif isinstance(base, Ref) and base.path.startswith("keras.layers."):
                kind = "layer"
            elif isinstance(base, UserClass) and base.kind != "other":
                kind = base.kind
        scope[stmt.name] = UserClass(stmt.name, stmt.lineno, kind)
        if kind == "model":
            self.graph.subclassed.append((stmt.lineno, stmt.name))

    def s_Return(self, stmt: ast.Return, scope: dict) -> None:  # noqa: N802
        raise _Return(self.expr(stmt.value, scope) if stmt.value is not None else None)

    def s_If(self, stmt: ast.If, scope: dict) -> None:  # noqa: N802
        test = self.expr(stmt.test, scope)
        if not isinstance(test, Unknown) and not isinstance(test, MODEL_VALUES):
            self.block(stmt.body if test else stmt.orelse, scope)
            return
        before = self.graph.changes
        self.block(stmt.body, scope)
        # Values the branches set that the model may use (input_shape = (1, 28, 28) in one
        # branch, (28, 28, 1) in the other): which one holds cannot be known either.
        assigned = {
            t.id
            for branch in (stmt.body, stmt.orelse)
            for st in branch
            for t in ast.walk(st)
            if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)
        }
        decides = bool(stmt.orelse) and any(
            constant(scope.get(n))
            and scope.get(n) is not None
            or isinstance(scope.get(n), MODEL_VALUES)
            for n in assigned
        )
        if self.graph.changes != before or decides or _touches_model(stmt.orelse, scope):
            self.problem(
                stmt.lineno,
                f"`if {ast.unparse(stmt.test)}` cannot be decided without running the code: "
                "its first branch was read",
            )

    def s_For(self, stmt: ast.For, scope: dict) -> None:  # noqa: N802
        iterable = self.expr(stmt.iter, scope)
        if isinstance(iterable, AppLayers):
            self.assign(stmt.target, iterable, scope, stmt.lineno)
            self.block(stmt.body, scope)
            return
        if isinstance(iterable, (list, tuple, range, str, dict)) and len(iterable) <= MAX_ITEMS:
            for item in iterable:
                self.assign(stmt.target, item, scope, stmt.lineno)
                self.block(stmt.body, scope)
            self.block(stmt.orelse, scope)
            return
        if _touches_model(stmt.body + [ast.Expr(stmt.iter)], scope):
            self.problem(
                stmt.lineno,
                f"the loop over `{ast.unparse(stmt.iter)}` cannot be followed without running "
                "the code: its body was not read",
            )

    def s_While(self, stmt: ast.While, scope: dict) -> None:  # noqa: N802
        if _touches_model(stmt.body, scope):
            self.problem(stmt.lineno, "a while loop cannot be followed without running the code")

    def s_With(self, stmt: ast.With, scope: dict) -> None:  # noqa: N802
        for item in stmt.items:
            self.expr(item.context_expr, scope)  # strategy.scope(): the body builds as usual
            if item.optional_vars is not None:
                self.assign(item.optional_vars, Unknown(stmt.lineno, "with"), scope, stmt.lineno)
        self.block(stmt.body, scope)

    def s_Try(self, stmt: ast.Try, scope: dict) -> None:  # noqa: N802
        self.block(stmt.body, scope)
        self.block(stmt.orelse, scope)
        self.block(stmt.finalbody, scope)

    # ---- expressions --------------------------------------------------------------------------
    def expr(self, node: ast.expr | None, scope: dict) -> Any:
        if node is None:
            return None
        method = getattr(self, f"e_{type(node).__name__}", None)
        if method is None:
            return Unknown(node.lineno, ast.unparse(node))
        return method(node, scope)

    def e_Constant(self, node: ast.Constant, scope: dict) -> Any:  # noqa: N802
        return node.value

    def e_Name(self, node: ast.Name, scope: dict) -> Any:  # noqa: N802
        if node.id in scope:
            return scope[node.id]
        if node.id in self.globals:
            return self.globals[node.id]
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        if node.id in _BUILTINS:
            return Ref(f"builtins.{node.id}")
        return self.unimported(node)

    def unimported(self, node: ast.Name) -> Any:
        """A name the file never defines: a Keras layer or model name is read as Keras'."""
        name = node.id
        if names.is_layer_name(name) or name in ("Input", "InputLayer"):
            path = f"keras.layers.{name}"
        elif name in ("Sequential", "Model"):
            path = f"keras.models.{name}"
        elif names.application(name):
            path = f"keras.applications.{name}"
        elif name in ("keras", "tf", "tensorflow"):
            path = "keras" if name == "keras" else "tensorflow"
        else:
            return Unknown(node.lineno, name, f"{name} is not defined in this file")
        if name not in self.graph.unimported and not self.graph.star_keras:  # said once
            self.graph.unimported.add(name)
            self.note(node.lineno, f"{name} is not imported: read as {path}")
        return Ref(names.canonical(path))

    def e_Attribute(self, node: ast.Attribute, scope: dict) -> Any:  # noqa: N802
        owner = self.expr(node.value, scope)
        return self.attribute(owner, node.attr, node)

    def attribute(self, owner: Any, attr: str, node: ast.expr) -> Any:
        line = node.lineno
        if isinstance(owner, Ref):
            if owner.path == "tensorflow" and attr == "keras":
                return Ref("keras")
            return Ref(names.canonical(f"{owner.path}.{attr}"))
        if isinstance(owner, Options):
            if attr in owner.defaults:
                value = owner.defaults[attr]
                if isinstance(value, (int, float)) and attr not in self.graph.options_said:
                    self.graph.options_said.add(attr)
                    self.graph.option_notes.append((line, ast.unparse(node), value))
                return value
            return Unknown(line, ast.unparse(node))
        if isinstance(owner, Application):
            if attr == "output":
                return self.graph.application_output(owner, None, line)
            if attr == "input":
                self.graph.application_output(owner, None, line)
                return owner.input
            if attr == "layers":
                return AppLayers(owner)
        if isinstance(owner, Functional):
            if attr in ("output", "outputs"):
                return owner.outputs[0] if attr == "output" else list(owner.outputs)
            if attr in ("input", "inputs"):
                return owner.inputs[0] if attr == "input" else list(owner.inputs)
        if isinstance(owner, Sequential) and attr in ("output", "input"):
            self.graph.lay_out(owner)
            return owner.output if attr == "output" else owner.input
        if isinstance(owner, (Layer, Tensor, Sequential, Functional, Application)):
            return Bound(owner, attr, line)
        if isinstance(owner, (ArgParser,)):
            return Bound(owner, attr, line)
        if isinstance(owner, Unknown):
            return Unknown(line, ast.unparse(node), owner.reason, owner.tensor)
        return Unknown(line, ast.unparse(node))

    def e_Tuple(self, node: ast.Tuple, scope: dict) -> Any:  # noqa: N802
        return tuple(self._items(node.elts, scope))

    def e_List(self, node: ast.List, scope: dict) -> Any:  # noqa: N802
        return self._items(node.elts, scope)

    def _items(self, elts: list[ast.expr], scope: dict) -> list:
        out: list = []
        for e in elts:
            if isinstance(e, ast.Starred):
                value = self.expr(e.value, scope)
                if isinstance(value, (list, tuple)):
                    out.extend(value)
                else:
                    out.append(Unknown(e.lineno, ast.unparse(e)))
            else:
                out.append(self.expr(e, scope))
        return out

    def e_Dict(self, node: ast.Dict, scope: dict) -> Any:  # noqa: N802
        out = {}
        for k, v in zip(node.keys, node.values):
            key = self.expr(k, scope) if k is not None else None
            if isinstance(key, (str, int, float, bool)) or key is None:
                out[key] = self.expr(v, scope)
        return out

    def e_UnaryOp(self, node: ast.UnaryOp, scope: dict) -> Any:  # noqa: N802
        value = self.expr(node.operand, scope)
        if _number(value):
            if isinstance(node.op, ast.USub):
                return -value
            if isinstance(node.op, ast.UAdd):
                return +value
        if isinstance(node.op, ast.Not) and constant(value):
            return not value
        return Unknown(node.lineno, ast.unparse(node), tensor=_tensor_in(value))

    def e_BinOp(self, node: ast.BinOp, scope: dict) -> Any:  # noqa: N802
        left, right = self.expr(node.left, scope), self.expr(node.right, scope)
        return self.binop(node.op, left, right, node)

    def binop(self, op: ast.operator, left: Any, right: Any, node: ast.AST) -> Any:
        line = node.lineno
        if isinstance(left, Tensor) and isinstance(right, Tensor) and type(op) in _MERGE_OPS:
            merge = _MERGE_OPS[type(op)]
            self.note(line, f"`{ast.unparse(node)}` read as a {merge} layer")
            return self.graph.call_layer(Layer(merge, {}, line), [left, right], line, merged=True)
        fn = _BINOPS.get(type(op))
        if fn is not None and constant(left) and constant(right) and _small(op, left, right):
            try:
                return fn(left, right)
            except (ArithmeticError, TypeError, ValueError):
                pass
        return Unknown(line, ast.unparse(node), tensor=_tensor_in(left) or _tensor_in(right))

    def e_BoolOp(self, node: ast.BoolOp, scope: dict) -> Any:  # noqa: N802
        values = [self.expr(v, scope) for v in node.values]
        if all(constant(v) for v in values):
            result = values[0]
            for v in values[1:]:
                result = (result and v) if isinstance(node.op, ast.And) else (result or v)
            return result
        return Unknown(node.lineno, ast.unparse(node))

    def e_Compare(self, node: ast.Compare, scope: dict) -> Any:  # noqa: N802
        left = self.expr(node.left, scope)
        if len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            right = self.expr(node.comparators[0], scope)
            if constant(left) and constant(right):
                try:
                    return _COMPARE[type(node.ops[0])](left, right)
                except TypeError:
                    pass
        return Unknown(node.lineno, ast.unparse(node))

    def e_IfExp(self, node: ast.IfExp, scope: dict) -> Any:  # noqa: N802
        test = self.expr(node.test, scope)
        if constant(test):
            return self.expr(node.body if test else node.orelse, scope)
        return Unknown(node.lineno, ast.unparse(node))

    def e_Subscript(self, node: ast.Subscript, scope: dict) -> Any:  # noqa: N802
        owner = self.expr(node.value, scope)
        index = self.expr(node.slice, scope)
        if isinstance(owner, (list, tuple, str, dict)) and (
            constant(index) or isinstance(index, slice)
        ):
            try:
                return owner[index]
            except (IndexError, KeyError, TypeError):
                pass
        return Unknown(node.lineno, ast.unparse(node), tensor=_tensor_in(owner))

    def e_Slice(self, node: ast.Slice, scope: dict) -> Any:  # noqa: N802
        parts = [self.expr(p, scope) for p in (node.lower, node.upper, node.step)]
        if all(p is None or isinstance(p, int) for p in parts):
            return slice(*parts)
        return Unknown(node.lineno, ast.unparse(node))

    def e_JoinedStr(self, node: ast.JoinedStr, scope: dict) -> Any:  # noqa: N802
        parts = []
        for v in node.values:
            value = self.expr(v.value if isinstance(v, ast.FormattedValue) else v, scope)
            if not constant(value):
                return Unknown(node.lineno, ast.unparse(node))
            parts.append(str(value))
        return "".join(parts)

    def e_Lambda(self, node: ast.Lambda, scope: dict) -> Any:  # noqa: N802
        return Function(node, scope)

    def e_ListComp(self, node: ast.ListComp, scope: dict) -> Any:  # noqa: N802
        if len(node.generators) != 1 or node.generators[0].ifs:
            return Unknown(node.lineno, ast.unparse(node))
        gen = node.generators[0]
        iterable = self.expr(gen.iter, scope)
        if not isinstance(iterable, (list, tuple, range)) or len(iterable) > MAX_ITEMS:
            return Unknown(node.lineno, ast.unparse(node))
        inner = dict(scope)
        out = []
        for item in iterable:
            self.assign(gen.target, item, inner, node.lineno)
            out.append(self.expr(node.elt, inner))
        return out

    # ---- calls --------------------------------------------------------------------------------
    def e_Call(self, node: ast.Call, scope: dict) -> Any:  # noqa: N802
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Stop
        func = self.expr(node.func, scope)
        args = self._items(node.args, scope)
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            value = self.expr(kw.value, scope)
            if kw.arg is None:
                if isinstance(value, dict):
                    kwargs.update({k: v for k, v in value.items() if isinstance(k, str)})
                else:
                    return Unknown(node.lineno, ast.unparse(node))
            else:
                kwargs[kw.arg] = value
        return self.call(func, args, kwargs, node)

    def call(self, func: Any, args: list, kwargs: dict, node: ast.Call) -> Any:
        return calls.call(self, func, args, kwargs, node)

    def call_function(self, fn: Function, args: list, kwargs: dict, node: ast.Call) -> Any:
        """A function of the file, read with its arguments bound (not run)."""
        if self.depth >= MAX_DEPTH:
            self.problem(node.lineno, f"`{ast.unparse(node.func)}` calls itself too deeply")
            return Unknown(node.lineno, ast.unparse(node))
        definition = fn.node
        local: dict[str, Any] = {}
        a = definition.args
        positional = a.posonlyargs + a.args
        defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
        for i, param in enumerate(positional):
            if i < len(args):
                local[param.arg] = args[i]
            elif param.arg in kwargs:
                local[param.arg] = kwargs[param.arg]
            elif defaults[i] is not None:
                local[param.arg] = self.expr(defaults[i], fn.scope)
            else:
                local[param.arg] = Unknown(node.lineno, param.arg)
        for param, default in zip(a.kwonlyargs, a.kw_defaults):
            if param.arg in kwargs:
                local[param.arg] = kwargs[param.arg]
            else:
                local[param.arg] = self.expr(default, fn.scope) if default else None
        if a.vararg:
            local[a.vararg.arg] = tuple(args[len(positional) :])
        if a.kwarg:
            local[a.kwarg.arg] = {k: v for k, v in kwargs.items() if k not in local}
        scope = _Scope(fn.scope, local)
        self.depth += 1
        try:
            if isinstance(definition, ast.Lambda):
                return self.expr(definition.body, scope)
            self.block(definition.body, scope)
            return None
        except _Return as ret:
            return ret.value
        finally:
            self.depth -= 1


class _Scope(dict):
    """A function's names, falling back to those where it was defined (read-only)."""

    def __init__(self, outer: dict, local: dict):
        super().__init__(local)
        self.outer = outer

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self.outer

    def __getitem__(self, key: str) -> Any:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return self.outer[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _small(op: ast.operator, left: Any, right: Any) -> bool:
    """Constant arithmetic that stays small (no ``"a" * 10**9``, no ``9 ** 9 ** 9``)."""
    if isinstance(op, ast.Pow):
        return _number(left) and _number(right) and abs(right) <= 64 and abs(left) <= 2**32
    if isinstance(op, ast.Mult) and (
        isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple))
    ):
        seq, n = (left, right) if isinstance(left, (str, list, tuple)) else (right, left)
        return isinstance(n, int) and len(seq) * max(n, 0) <= MAX_ITEMS
    if isinstance(op, ast.Add) and isinstance(left, (str, list, tuple)):
        return len(left) + len(right) <= MAX_ITEMS if hasattr(right, "__len__") else True
    return True


def _tensor_in(value: Any) -> Tensor | None:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, Unknown):
        return value.tensor
    if isinstance(value, (list, tuple)):
        for v in value:
            found = _tensor_in(v)
            if found is not None:
                return found
    return None


def _touches_model(body: list[ast.stmt], scope: dict) -> bool:
    """Whether code that is not read uses a name that holds part of the model."""
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(scope.get(node.id), MODEL_VALUES):
                return True
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                if names.is_layer_name(name) or name in ("add", "compile", "fit"):
                    return True
    return False


__all__ = ["Reader"]
