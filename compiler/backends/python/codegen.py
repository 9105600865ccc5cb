"""The Python backend: checked IR to a standalone Python module.

The module starts with the runtime prelude (runtime.py, runtime_eval.py,
runtime_periods.py, runtime_time.py and runtime_lists.py, pasted verbatim, so that it imports nothing but
the standard library), then has:

- one `Calendar` per business-day calendar the agreement counts in (any version):
  `_CALENDAR`, the agreement's own (its header's calendar and holidays), and
  `_CALENDAR_<name>` for each other calendar a provision or fact names; the holidays of
  a built-in calendar other than the rule-based us_federal and weekends_only are
  embedded as a table (passes/calendars.py computes it), decoded once at import;
- `Facts`, a frozen class that validates every input;
- one function per definition and condition, one per obligation and power, each with
  the clause's section, line and contract text in its docstring;
- one `_explain_<name>` function per declaration, mirroring the clause construct by
  construct, and `explain(name, facts, *args)` / `evaluate(name, facts, *args)`.

Nothing from a clause file reaches the output except through `repr()` (strings),
`_doc()` (docstrings) or as a checked identifier, so a clause cannot inject code. Names
from the file system (the clause file's name, which may hold a line break or any other
character) reach comments and docstrings only through `comment_text()`.
Output is deterministic: constants are numbered in order of first use.
"""

from __future__ import annotations

import ast
import builtins
import keyword
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import attrs

from clausec import ir
from clausec.backends.python.runtime import printable
from clausec.backends.python.runtime_eval import EXACT
from clausec.ir import types as T
from clausec.ir.visit import (
    DECLARATIONS,
    EXPRESSIONS,
    LIFTABLE,
    Visitor,
    expressions,
    operands,
    subexpressions,
)
from clausec.passes import calendars
from clausec.passes.check import CheckedProgram, union_of_facts
from clausec.passes.consolidate import Version, long_date
from clausec.source import SourceFile, Span, snippet

_HERE = Path(__file__).resolve().parent
_PRELUDE_FILES = ("runtime.py", "runtime_eval.py", "runtime_periods.py", "runtime_time.py",
                  "runtime_lists.py")

# Names the prelude and the module define: a clause name equal to one gets a trailing _.
# The names the module defines itself, beside the prelude's (see _reserved).
_MODULE_NAMES = frozenset({
    "Facts", "explain", "evaluate", "SECTIONS", "PARTIES", "AGREEMENT", "FACT_TYPES",
    "at", "VERSIONS", "AMENDMENTS", "facts", "annotations", "self", "cls", "agenda",
    "current",
})

_PY_TYPES = {
    "bool": "bool", "integer": "int", "decimal": "Decimal", "money": "Decimal",
    "percent": "Decimal", "date": "date", "datetime": "datetime", "days": "int",
    "business_days": "int", "months": "int", "party": "str", "text": "str",
    "obligation": "Obligation", "power": "Power", "period": "Period", "error": "object",
    "choice": "str", "record": "dict[str, Any]", "list": "tuple[Any, ...]",
    "share": "dict[str, Any]", "nothing": "None",
}

_CONVERTERS = {
    "bool": "_as_bool", "integer": "_as_integer", "decimal": "_as_decimal",
    "money": "_as_money", "percent": "_as_percent", "date": "_as_date",
    "datetime": "_as_datetime", "days": "_as_days", "business_days": "_as_days",
    "months": "_as_months", "party": "_as_party", "text": "_as_text",
}


def converter_name(kind: str) -> str:
    """The runtime function that validates a value of this kind."""
    return _CONVERTERS[kind]


@cache
def _reserved() -> frozenset[str]:
    """Names a clause name must not take in the module: Python's builtins, everything the
    prelude defines or imports, and the module's own API."""
    names = set(dir(builtins)) | _MODULE_NAMES
    for node in ast.parse(prelude()).body:  # module level only: locals do not clash
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            names.update(n.id for n in ast.walk(node)
                         if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return frozenset(names)


def py_name(name: str) -> str:
    """The Python identifier of a clause name (clause names are identifiers already, but
    may be Python keywords or names the module needs: those get a trailing underscore)."""
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _reserved():
        return name + "_"
    return name


def comment_text(text: str) -> str:
    """`text` as it may stand in a comment of the module: on one line, every line break
    and other unprintable character escaped (a newline in a file name would otherwise end
    the comment, and the rest of the name would run as code). The runtime shows names in
    messages with the same function."""
    return printable(text)


def _comment(text: str) -> str:
    """A comment line (without indentation) saying `text`."""
    return "# " + comment_text(text)


def _doc(text: str) -> str:
    """A docstring literal for arbitrary text: nothing in it can close the string."""
    out = []
    for char in text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"'):
        if char in "\n" or char.isprintable():
            out.append(char)
        else:
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
    body = "".join(out)
    if body.endswith('"'):
        body += " "
    return f'"""{body}\n"""' if "\n" in body else f'"""{body}"""'


@cache
def prelude(for_functions: bool = True) -> str:
    """runtime.py, runtime_eval.py and runtime_periods.py as one block: imports merged,
    docstrings dropped. The names the runtime imports only for generated functions to
    use (marked `# noqa: F401` there: the decimal context's getcontext and setcontext)
    are left out unless `for_functions`: a module none of whose functions uses them
    would import them for nothing."""
    imports: dict[str, set[str]] = {}
    plain: set[str] = set()
    bodies: list[str] = []
    for filename in _PRELUDE_FILES:
        source = (_HERE / filename).read_text(encoding="utf-8")
        lines = source.split("\n")
        drop: set[int] = set()
        tree = ast.parse(source)
        for node in tree.body:
            span = range(node.lineno - 1, (node.end_lineno or node.lineno))
            if "# prelude: skip" in lines[node.lineno - 1]:
                # Not the module's: runtime_eval's import of runtime (one module once
                # pasted), the public names the compiler imports the helpers by.
                drop.update(span)
            elif isinstance(node, ast.ImportFrom):
                drop.update(span)
                if node.module == "__future__":
                    continue
                names = imports.setdefault(node.module or "", set())
                names.update(a.name if a.asname is None else f"{a.name} as {a.asname}"
                             for a in node.names if for_functions
                             or "# noqa: F401" not in lines[a.lineno - 1])
            elif isinstance(node, ast.Import):
                drop.update(span)
                plain.update(a.name for a in node.names)
            elif (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                  and isinstance(node.value.value, str) and node is tree.body[0]):
                drop.update(span)
        body = "\n".join(line for i, line in enumerate(lines) if i not in drop).strip("\n")
        bodies.append(f"# ---- runtime: {filename} " + "-" * (60 - len(filename)) + "\n\n"
                      + body)
    header = [f"import {name}" for name in sorted(plain)]
    for module in sorted(imports):
        plain_names = {n for n in imports[module] if " as " not in n}
        if plain_names:  # a module may give only aliased names (bisect_left as _bisect_left)
            header.append(_from_import(module, plain_names))
        # isort puts each aliased name on its own line after the plain ones.
        header.extend(f"from {module} import {n}" for n in sorted(imports[module] - plain_names))
    return "\n".join(header) + "\n\n" + "\n\n\n".join(bodies) + "\n"


def _from_import(module: str, names: set[str]) -> str:
    """One `from` import, laid out as isort lays it out (constants, classes, functions)."""
    def order(name: str) -> tuple[int, str]:
        rank = 0 if name.isupper() else 1 if name[:1].isupper() else 2
        return (rank, name)
    ordered = sorted(names, key=order)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= 88:
        return line
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in ordered) + ")"


def generate(checked: CheckedProgram, source: SourceFile) -> str:
    """The Python source of the module compiled from one checked clause file."""
    return generate_versions([(None, checked)], {source.name: source})


def generate_versions(versions: list[tuple[Version | None, CheckedProgram]],
                      sources: dict[str, SourceFile]) -> str:
    """The module of an agreement in all its versions (original, then as amended): one
    set of functions per version, `at(date)` to choose one, the latest at the top level."""
    return _Generator(versions, sources).module()


@attrs.define
class _Ctx:
    """Where an expression is: its declaration's section, and (in explain functions) the
    lambda parameters that stand for already-explained children."""

    section: str | None
    subst: dict[int, str] = attrs.field(factory=dict)
    params: frozenset[str] = frozenset()
    lifted: bool = False  # substituted values are known to be present
    # The variables of the lists being iterated here: a lambda written inside the loop
    # takes them as arguments, and the helper that calls it passes them (`given=`): a
    # lambda that used the loop's variable itself is what linters forbid.
    loop: frozenset[str] = frozenset()

    def bind(self) -> str:
        """The loop variables a lambda made here takes: `l, s`."""
        return ", ".join(py_name(v) for v in sorted(self.loop))

    def thunk(self, code: str) -> str:
        """A function computing `code`, made here (of the loop variables, if any)."""
        bound = self.bind()
        return f"lambda {bound}: {code}" if bound else f"lambda: {code}"

    def given(self) -> str:
        """The keyword argument that passes the loop variables to the lambdas made here."""
        bound = self.bind()
        return f", given=({bound},)" if bound else ""


@attrs.frozen
class _Instance:
    """How the function of an obligation or power takes the period of its instance: `var`
    (its Python name) for one that recurs, tested `in_range` of its periods."""

    ctx: _Ctx
    var: str | None = None
    in_range: str | None = None

    @property
    def param(self) -> str:
        return f", {self.var}: Period" if self.var else ""

    @property
    def args(self) -> str:
        return f", {self.var}" if self.var else ""

    def applies(self, condition: str) -> str:
        """Code for: in range (if it recurs), and `condition` holds."""
        if self.in_range is None:
            return condition
        return self.in_range if condition == "True" else f"{self.in_range} and {condition}"


class _Generator(Visitor):
    visits = EXPRESSIONS + DECLARATIONS

    def __init__(self, versions: list[tuple[Version | None, CheckedProgram]],
                 sources: dict[str, SourceFile]):
        self.versions = versions
        self.constants: dict[str, str] = {}
        self.positions: dict[tuple[str, int, int, str | None], str] = {}
        self.lines = {name: source.text.split("\n") for name, source in sources.items()}
        main = versions[0][1]
        self.file = Path(main.program.file).name
        self.parties = {p.name: p for p in main.header.parties}
        self.facts = union_of_facts([c for _, c in versions])
        self.decimal_ops = False  # whether the function being written does Decimal arithmetic
        self.guards_context = False  # whether some function switches the decimal context
        # The calendars other than the agreement's that some version counts business days
        # in (each becomes a Calendar of the module: _CALENDAR_<name>).
        self.calendars: set[str] = set()
        self.recursing: str | None = None  # the definition being written, if recursive
        # The agreement's own calendars (of any version: the last declaration of each).
        self.user_calendars = {d.name: d for _, c in versions for d in c.program.declarations
                               if isinstance(d, ir.UserCalendar)}
        # The choices, records and tables of any version (the last declaration of each):
        # the one Facts class reads the facts of every version.
        self.data_types = {d.name: d for _, c in versions for d in c.program.declarations
                           if isinstance(d, (ir.Choice, ir.Record, ir.Table))}
        self._use(0)

    def _use(self, index: int) -> None:
        """Generate for version `index` from now on."""
        version, checked = self.versions[index]
        self.c = checked
        self.decls = checked.declarations
        self.suffix = version.suffix if version is not None and len(self.versions) > 1 else ""
        self.section_of = {name: s for s in checked.program.sections for name in s.declarations}

    def fn(self, name: str) -> str:
        """The Python name of a declaration's function in the current version."""
        return py_name(name) + self.suffix

    def label_of(self, decl: ir.Declaration) -> str | None:
        """How explanations and errors name the section of a declaration."""
        section = self.section_of.get(decl.name)
        return section.label if section is not None else decl.section

    # ------------------------------------------------------------ utilities

    def const(self, code: str) -> str:
        if code not in self.constants:
            self.constants[code] = f"_K{len(self.constants)}"
        return self.constants[code]

    def at(self, span: Span, section: str | None) -> str:
        key = (Path(span.file).name, span.line, span.column, section)
        if key not in self.positions:
            self.positions[key] = f"_AT{len(self.positions)}"
        return self.positions[key]

    def snippet(self, span: Span, limit: int = 100) -> str:
        """The clause source of a construct, on one line (labels of explanations)."""
        return snippet(self.lines.get(span.file, []), span, limit)

    def role(self, party: str) -> str:
        p = self.parties.get(party)
        return p.display if p else party

    def pytype(self, type_: T.Type | None) -> str:
        type_ = type_ or T.ERROR
        base = _PY_TYPES[type_.kind]
        return f"{base} | None" if type_.optional else base

    def currency(self, type_: T.Type | None) -> str:
        return (type_.currency if type_ and type_.currency else None) or self.c.header.currency

    # ---------------------------------------------------- fast expressions

    def expr(self, e: ir.Expr, ctx: _Ctx, strict: bool = True, lift: bool = False) -> str:
        """Code for `e`. Where `strict`, a missing value raises an error naming what is
        missing; where `lift` (the items of "earlier of", the operand of "is given"), an
        operation on a missing value has no value instead."""
        if id(e) in ctx.subst:
            code = ctx.subst[id(e)]
        elif lift and e.type is not None and e.type.optional and isinstance(e, LIFTABLE):
            code = self._lifted(e, ctx)
        else:
            code = self._expr(e, ctx)
        optional = e.type is not None and e.type.optional
        if isinstance(e, ir.Name) and e.name in self.facts and e.name not in ctx.params and \
                isinstance(self.decls.get(e.name), ir.Fact):
            optional = self.facts[e.name].type.optional  # as the shared Facts class has it
        if strict and optional and not (ctx.lifted and id(e) in ctx.subst):
            at = self.at(e.span, ctx.section)
            if isinstance(e, ir.Name) and isinstance(self.decls.get(e.name), ir.Fact):
                return f"_need_fact({code}, {e.name!r}, {at})"
            return f"_need_value({code}, {self.snippet(e.span, 60)!r}, {at})"
        return code

    def _lifted(self, e: ir.Expr, ctx: _Ctx) -> str:
        """An operation on values that may be missing, where a missing result is allowed:
        no value if one of them has none ("10 days after X" before X happened)."""
        inner = _Ctx(ctx.section, dict(ctx.subst), ctx.params)
        names, args = [], []
        for i, child in enumerate(c for c in operands(e) if c.type and c.type.optional):
            inner.subst[id(child)] = f"t{i}"
            names.append(f"t{i}")
            args.append(self.expr(child, ctx, strict=False, lift=True))
        # The children stand in already checked: no _need_* wrapper around t0, t1...
        body = self._expr(e, attrs.evolve(inner, lifted=True))
        if not names:  # missing only if it says so itself (an optional series' value)
            return body
        return f"_maybe(lambda {', '.join(names)}: {body}, {', '.join(args)})"

    def coerce(self, code: str, value: T.Type | None, target: T.Type | None) -> str:
        """An integer where a decimal is expected becomes a Decimal (exact, and typed)."""
        if value and target and value.kind == "integer" and target.kind in T.DECIMALS:
            return f"_maybe(Decimal, {code})" if value.optional else f"Decimal({code})"
        return code

    def _expr(self, e: ir.Expr, ctx: _Ctx) -> str:
        code: str = self.handler(e)(e, ctx)
        return code

    def _literal(self, e: ir.Literal, ctx: _Ctx) -> str:
        v = e.value
        if isinstance(v, bool):
            return "True" if v else "False"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, Decimal):
            text = str(v)
            # Decimal(1800000) for whole amounts; a string keeps fractions exact.
            return self.const(f"Decimal({text})" if text.isdigit() else f"Decimal({text!r})")
        if isinstance(v, datetime):
            zone = getattr(v.tzinfo, "key", "UTC")
            return self.const(
                f"datetime({v.year}, {v.month}, {v.day}, {v.hour}, {v.minute}, {v.second}, "
                f"tzinfo=_zone({zone!r}))")
        if isinstance(v, date):
            return self.const(f"date({v.year}, {v.month}, {v.day})")
        return repr(v)

    def _name(self, e: ir.Name, ctx: _Ctx) -> str:
        if e.name in ctx.params:
            return py_name(e.name)
        target = self.decls.get(e.name)
        if isinstance(target, ir.Fact):
            return f"facts.{py_name(e.name)}"
        if isinstance(target, ir.Definition):
            if self._inlinable(target):
                # A small term is computed in place: a function call costs more than it.
                inner = _Ctx(self.label_of(target))
                code = self.coerce(self.expr(target.expr, inner, strict=not (
                    target.declared_type or T.ERROR).optional), target.expr.type,
                    target.declared_type)
                return _group(code)
            return f"{self.fn(e.name)}(facts)"
        if isinstance(target, (ir.Obligation, ir.Power, ir.Table)):
            return f"{self.fn(e.name)}(facts)"
        return repr(e.name)  # a party, or a member of a choice

    def _inlinable(self, d: ir.Definition) -> bool:
        # Only terms built from facts and literals: inlining a term that uses other terms
        # would inline whole chains of them (price_2 = price_1 + ..., price_1 = ...).
        return (not d.params and not self.c.exceptions.get(d.name)
                and (d.declared_type or T.ERROR).kind != "list"  # computed once, not per use
                and _size(d.expr) <= _INLINE_SIZE
                and not any(isinstance(self.decls.get(n), ir.Definition)
                            for n in ir.names_used(d.expr)))

    def _call(self, e: ir.Call, ctx: _Ctx) -> str:
        target = self.decls.get(e.name)
        if isinstance(target, ir.Fact):  # a series: its value for one period
            period = self.expr(e.args[0], ctx)
            family = self.family(target.per or "")
            series = f"facts.{py_name(e.name)}"
            if (e.type or T.ERROR).optional:
                return f"_series_get({series}, {family}, {period})"
            if self.facts[e.name].type.optional:  # required here, but not in every version
                return (f"_series_value({series}, {e.name!r}, {family}, {period}, "
                        f"{self.at(e.span, ctx.section)})")
            return f"{series}.value({family}, {period}, {self.at(e.span, ctx.section)})"
        if isinstance(target, (ir.Obligation, ir.Power)):  # one instance of a recurring one
            return f"{self.fn(e.name)}(facts, {self.expr(e.args[0], ctx)})"
        if isinstance(target, ir.Definition):
            params = self.decls[e.name].params  # type: ignore[union-attr]
            args = [self.coerce(self.expr(a, ctx), a.type, p.type)
                    for a, p in zip(e.args, params)]
            return f"{self.fn(e.name)}(facts{''.join(', ' + a for a in args)})"
        args = [self.expr(a, ctx) for a in e.args]
        if e.name in ("year", "month", "day"):
            return f"_moment_part({args[0]}, {e.name!r})"
        if e.name == "days_between":
            return f"_days_between({args[0]}, {args[1]})"
        return f"_round({args[0]}, {args[1]})"

    def _not(self, e: ir.Not, ctx: _Ctx) -> str:
        # Written the way a linter wants it: not not x is x; not a == b is a != b.
        operand = e.operand
        if isinstance(operand, ir.Not) and id(operand) not in ctx.subst:
            return self.expr(operand.operand, ctx)
        if isinstance(operand, ir.Compare) and operand.op in ("==", "!=") and \
                id(operand) not in ctx.subst:
            flipped = attrs.evolve(operand, op="!=" if operand.op == "==" else "==")
            return self._compare(flipped, ctx)
        return f"(not {self.expr(operand, ctx)})"

    def _negate(self, e: ir.Negate, ctx: _Ctx) -> str:
        operand = e.operand
        if isinstance(operand, ir.Literal) and isinstance(operand.value, Decimal) and \
                id(operand) not in ctx.subst:
            # A negative amount is a constant: computed here, it cannot be rounded by the
            # context of whoever runs the code (a fact's default is computed in Facts(),
            # outside any guarded function). minus() in _EXACT is what `-x` gives there.
            return self.const(f"Decimal({str(EXACT.minus(operand.value))!r})")
        if (e.type or T.ERROR).kind in T.DECIMALS:
            self.decimal_ops = True
        return f"(-{self.expr(operand, ctx)})"

    def _binary(self, e: ir.Binary, ctx: _Ctx) -> str:
        left, right = self.expr(e.left, ctx), self.expr(e.right, ctx)
        lk = (e.left.type or T.ERROR).kind
        rk = (e.right.type or T.ERROR).kind
        if e.op in ("and", "or", "unless") and (self.unknowable(e.left) or
                                                 self.unknowable(e.right)):
            # Three-valued: a side that decides the answer decides it even when the
            # other side's facts are missing.
            helper = "_any_of" if e.op == "or" else "_all_of"
            right = f"not {right}" if e.op == "unless" else right
            return f"{helper}({ctx.thunk(left)}, {ctx.thunk(right)}{ctx.given()})"
        if e.op == "and":
            return f"({left} and {right})"
        if e.op == "or":
            return f"({left} or {right})"
        if e.op == "unless":
            return f"({left} and not {right})"
        if e.op in ("+", "-") and lk in T.MOMENTS and rk in T.DURATIONS:
            return self._shift_code(left, right, e.right.type, e.op == "-")
        if e.op == "+" and lk in T.DURATIONS and rk in T.MOMENTS:
            return self._shift_code(right, left, e.left.type, False)
        if e.op == "-" and lk == rk == "date":
            return f"_days_between({right}, {left})"
        if e.op == "/":
            return f"_div({left}, {right}, {self.at(e.span, ctx.section)})"
        if e.op == "^":
            return f"_pow({left}, {right}, {self.at(e.span, ctx.section)})"
        if (e.type or T.ERROR).kind in T.DECIMALS:
            self.decimal_ops = True  # the function guards its decimal context (_guarded)
        return f"({left} {e.op} {right})"

    def _shift_code(self, base: str, amount: str, unit: T.Type | None, backwards: bool) -> str:
        """`base` shifted by `amount` of the duration type `unit`: calendar days, months
        (the end-of-month rule: runtime_periods' add_months), or business days of the
        duration's calendar."""
        amount = f"-{amount}" if backwards else amount
        kind = (unit or T.ERROR).kind
        if kind == "months":
            return f"add_months({base}, {amount})"
        if kind == "business_days":
            calendar = self.calendar((unit or T.ERROR).calendar)
            return f"{calendar}.add_business_days({base}, {amount})"
        return f"_CALENDAR.add_days({base}, {amount})"

    def calendar(self, name: str | None) -> str:
        """The module's Calendar of the calendar `name` (None: the agreement's own)."""
        if name is None or name == self.c.header.calendar:
            return "_CALENDAR"  # with the holidays the header adds
        # Checked to be a built-in calendar or the agreement's own, so an identifier.
        assert (calendars.calendar_info(name) is not None or name in self.user_calendars) \
            and name.isidentifier(), name
        self.calendars.add(name)
        return f"_CALENDAR_{name}"

    def _compare(self, e: ir.Compare, ctx: _Ctx) -> str:
        for side, other in ((e.right, e.left), (e.left, e.right)):
            # "x is true" is x itself (comparing with True is what linters forbid).
            if isinstance(side, ir.Literal) and isinstance(side.value, bool) and \
                    id(side) not in ctx.subst and e.op in ("==", "!="):
                positive = side.value == (e.op == "==")
                code = self.expr(other, ctx)
                return code if positive else f"(not {code})"
        return f"({self.expr(e.left, ctx)} {e.op} {self.expr(e.right, ctx)})"

    def _isgiven(self, e: ir.IsGiven, ctx: _Ctx) -> str:
        operand = e.operand
        if operand.type is not None and not operand.type.optional and id(operand) not in \
                ctx.subst:
            # Always given once evaluated (the checker warns): evaluated for its errors,
            # not compared with None (`24 is not None` is a SyntaxWarning in Python).
            return f"({self.expr(operand, ctx, strict=False, lift=True)}, {not e.negated})[1]"
        test = "is None" if e.negated else "is not None"
        return f"({self.expr(e.operand, ctx, strict=False, lift=True)} {test})"

    def _duration(self, e: ir.Duration, ctx: _Ctx) -> str:
        # A number of days, business days or months is an int; a year is twelve months.
        amount = e.amount
        if e.per_unit == 1:
            return self.expr(amount, ctx)
        if isinstance(amount, ir.Literal) and type(amount.value) is int and \
                id(amount) not in ctx.subst:
            return str(e.per_unit * amount.value)
        return f"({e.per_unit} * {self.expr(amount, ctx)})"

    def _shift(self, e: ir.Shift, ctx: _Ctx) -> str:
        return self._shift_code(self.expr(e.base, ctx), self.expr(e.amount, ctx),
                                e.amount.type, e.direction == "before")

    def _closeofbusiness(self, e: ir.CloseOfBusiness, ctx: _Ctx) -> str:
        return (f"close_of_business({self.expr(e.day, ctx)}, "
                f"{self.c.header.close_of_business!r}, {self.c.header.time_zone!r})")

    def _ifthenelse(self, e: ir.IfThenElse, ctx: _Ctx) -> str:
        branches = (e.then, e.otherwise)
        if all(isinstance(b, ir.Literal) and isinstance(b.value, bool) and
               id(b) not in ctx.subst for b in branches):
            # "if c then true else false" is c.
            condition = self.expr(e.condition, ctx)
            then, other = (b.value for b in branches)  # type: ignore[attr-defined]
            if then == other:
                # The condition is still evaluated: a missing fact in it is an error.
                constant = "True" if then else "False"
                return f"({constant} if {condition} else {constant})"
            return condition if then else f"(not {condition})"
        then = self.coerce(self.expr(e.then, ctx, strict=False), e.then.type, e.type)
        other = self.coerce(self.expr(e.otherwise, ctx, strict=False), e.otherwise.type,
                            e.type)
        return f"({then} if {self.expr(e.condition, ctx)} else {other})"

    def _listop(self, e: ir.ListOp, ctx: _Ctx) -> str:
        if e.kind in ("all", "any", "none"):
            parts = []
            for item in e.items:
                code = self.expr(item.expr, ctx)
                if item.when is not None:
                    when = self.expr(item.when, ctx)
                    code = f"(not {when} or {code})" if e.kind == "all" else \
                        f"({when} and {code})"
                parts.append(code)
            if any(self.unknowable(x) for x in subexpressions(e)):
                helper = "_all_of" if e.kind == "all" else "_any_of"
                code = f"{helper}({', '.join(ctx.thunk(p) for p in parts)}{ctx.given()})"
                return f"(not {code})" if e.kind == "none" else code
            if e.kind == "all":
                return "(" + " and ".join(parts) + ")" if parts else "True"
            joined = "(" + " or ".join(parts) + ")" if parts else "False"
            return f"(not {joined})" if e.kind == "none" else joined
        parts = []
        for item in e.items:
            code = self.coerce(self.expr(item.expr, ctx, strict=False, lift=True),
                               item.expr.type, e.type)
            if item.when is not None:
                code = f"{code} if {self.expr(item.when, ctx)} else None"
            parts.append(code)
        if e.kind == "total":
            zero = self.const("Decimal(0)") if (e.type or T.ERROR).kind in T.DECIMALS \
                else "0"
            return f"_total({zero}{''.join(', ' + p for p in parts)})"
        if e.type is not None and not e.type.optional and len(parts) > 1:
            # Every item has a value: plain min/max.
            return f"{'min' if e.kind in ('earliest', 'least') else 'max'}({', '.join(parts)})"
        helper = "_earliest" if e.kind in ("earliest", "least") else "_latest"
        return f"{helper}({', '.join(parts)})"

    # -------------------------------------------------------------- periods

    def family(self, name: str) -> str:
        """Code for the Frequency of a period family: a constant for a calendar family,
        else a call of the family's function (its start may be a fact)."""
        if name in ir.CALENDAR_FAMILIES:
            return self.const(f"Frequency.calendar({ir.CALENDAR_FAMILIES[name]!r})")
        return f"{self.fn(name)}(facts)"

    def _periodof(self, e: ir.PeriodOf, ctx: _Ctx) -> str:
        return f"{self.family(e.family)}.containing({self.expr(e.day, ctx)})"

    def _firstperiod(self, e: ir.FirstPeriod, ctx: _Ctx) -> str:
        return f"{self.family(e.family)}.first()"

    def _periodop(self, e: ir.PeriodOp, ctx: _Ctx) -> str:
        operand = self.expr(e.operand, ctx)
        return f"{operand}.{_PERIOD_CODE[e.op]}"

    def _businessdayof(self, e: ir.BusinessDayOf, ctx: _Ctx) -> str:
        return (f"{e.which}_business_day({self.expr(e.period, ctx)}, "
                f"{self.calendar(e.calendar)}.is_business_day)")

    def range_code(self, r: ir.Range, ctx: _Ctx, strict: bool = True) -> str:
        """The arguments that describe a range to the runtime: family, kind, start, end,
        count. Where not `strict`, a bound with no value is None (an open end)."""
        bound = [self.expr(b, ctx, strict=strict, lift=not strict) if b is not None
                 else "None" for b in (r.start, r.end)]
        return f"{self.family(r.family)}, {r.kind!r}, {bound[0]}, {bound[1]}, {r.count!r}"

    def _each(self, e: ir.Each, ctx: _Ctx) -> str:
        inner = attrs.evolve(ctx, params=ctx.params | {e.range.variable})
        var = py_name(e.range.variable)
        # "the earliest of ...": a period's item with no value is skipped, as in a list.
        skips = e.kind in ("earliest", "latest", "least", "greatest")
        body = self.coerce(self.expr(e.body, inner, strict=not skips, lift=skips),
                           e.body.type, e.type)
        when = f" if {self.expr(e.when, inner)}" if e.when is not None else ""
        items = f"({body} for {var} in _range({self.range_code(e.range, ctx)}){when})"
        if e.kind in ("all", "any", "none"):
            return self._logic_in(e.kind, f"_range({self.range_code(e.range, ctx)})", var,
                                  body, e.when, inner)
        if e.kind == "total":
            zero = self.const("Decimal(0)") if (e.type or T.ERROR).kind in T.DECIMALS \
                else "0"
            return f"_total({zero}, *{items})"
        helper = "_earliest" if e.kind in ("earliest", "least") else "_latest"
        return f"{helper}(*{items})"

    def _logic_in(self, kind: str, values: str, var: str, body: str, when: ir.Expr | None,
                  inner: _Ctx) -> str:
        """all of / any of / none of the items of a list or range, three-valued."""
        # `var` is the lambdas' own argument; the other loops' variables are bound.
        around = attrs.evolve(inner, loop=frozenset(v for v in inner.loop if py_name(v) != var))
        bound = "".join(", " + b for b in [around.bind()] if b)
        keep = f"lambda {var}{bound}: {self.expr(when, inner)}" if when is not None else "None"
        helper = "_all_in" if kind == "all" else "_any_in"
        code = f"{helper}({values}, {keep}, lambda {var}{bound}: {body}{around.given()})"
        return f"(not {code})" if kind == "none" else code

    def unknowable(self, e: ir.Expr) -> bool:
        """Whether evaluating `e` may find a fact or value missing (then the logic around
        it is three-valued): it, or something it is computed from, may have no value, or
        it uses a term, a series or a duty (whose own facts may be missing)."""
        for node in expressions(e):
            if node.type is not None and node.type.optional:
                return True
            if isinstance(node, (ir.Call, ir.Field, ir.Late, ir.InForce, ir.Nothing)):
                return True
            if isinstance(node, ir.Name) and not isinstance(
                    self.decls.get(node.name), (ir.Fact, ir.Table, type(None))):
                return True
        return False

    # ------------------------------------------------ lists, choices, records

    def _nothing(self, e: ir.Nothing, ctx: _Ctx) -> str:
        return "None"

    def _when(self, e: ir.When, ctx: _Ctx) -> str:
        value = self.coerce(self.expr(e.value, ctx, strict=False, lift=True), e.value.type,
                            e.type)
        return f"({value} if {self.expr(e.condition, ctx)} else None)"

    def _case(self, e: ir.Case, ctx: _Ctx) -> str:
        arms = []
        for arm in e.arms:
            value = self.coerce(self.expr(arm.value, ctx, strict=False), arm.value.type,
                                e.type)
            for member in arm.members or (None,):
                arms.append(f"{member!r}: {ctx.thunk(value)}")
        return f"_case({self.expr(e.subject, ctx)}, {{{', '.join(arms)}}}{ctx.given()})"

    def _listof(self, e: ir.ListOf, ctx: _Ctx) -> str:
        element = (e.type or T.ERROR).element
        items = [self.coerce(self.expr(i, ctx, strict=False), i.type, element)
                 for i in e.items]
        return "(" + "".join(i + ", " for i in items).rstrip(" ") + ")"

    def _iteration(self, e: ir.ForEach, ctx: _Ctx) -> tuple[str, _Ctx, str]:
        """The Python variable, context and `for ... in ... if ...` of a ForEach."""
        inner = attrs.evolve(ctx, params=ctx.params | {e.variable},
                             loop=ctx.loop | {e.variable})
        var = py_name(e.variable)
        when = f" if {self.expr(e.when, inner)}" if e.when is not None else ""
        return var, inner, f"for {var} in {self.expr(e.source, ctx)}{when}"

    def _foreach(self, e: ir.ForEach, ctx: _Ctx) -> str:
        _, inner, loop = self._iteration(e, ctx)
        body = self.coerce(self.expr(e.body, inner, strict=False), e.body.type,
                           (e.type or T.ERROR).element)
        return f"tuple({body} {loop})"

    def _aggregate(self, e: ir.Aggregate, ctx: _Ctx) -> str:
        source = e.source
        if isinstance(source, ir.ForEach):
            var, inner, loop = self._iteration(source, ctx)
            strict = e.kind not in ("first", "count", "earliest", "latest", "least",
                                    "greatest")
            body = self.coerce(self.expr(source.body, inner, strict=strict), source.body.type,
                               e.type)
            if e.kind in ("all", "any", "none"):
                return self._logic_in(e.kind, self.expr(source.source, ctx), var, body,
                                      source.when, inner)
            items = f"({body} {loop})"
            single = {"count": "_number_of", "first": "_first_item"}.get(e.kind)
            if single:  # the generator is the only argument: no parentheses of its own
                return f"{single}({body} {loop})"
        else:
            items = self.expr(source, ctx)
            if e.kind in ("all", "any", "none"):
                code = f"{'all' if e.kind == 'all' else 'any'}({items})"
                return f"(not {code})" if e.kind == "none" else code
        if e.kind == "count":
            return f"_number_of({items})"
        if e.kind == "first":
            return f"_first_item({items})"
        if e.kind == "total":
            zero = self.const("Decimal(0)") if (e.type or T.ERROR).kind in T.DECIMALS \
                else "0"
            return f"_total({zero}, *{items})"
        helper = "_earliest" if e.kind in ("earliest", "least") else "_latest"
        return f"{helper}(*{items})"

    def _pairs(self, source: ir.Expr, ctx: _Ctx) -> str:
        """(item, value) for each item of a list: a ForEach's items are what it iterates."""
        if isinstance(source, ir.ForEach):
            var, inner, loop = self._iteration(source, ctx)
            return f"[({var}, {self.expr(source.body, inner)}) {loop}]"
        return f"[(_v, _v) for _v in {self.expr(source, ctx)}]"

    def _allocate(self, e: ir.Allocate, ctx: _Ctx) -> str:
        helper = "_pro_rata" if e.method == "pro_rata" else "_in_order"
        return (f"{helper}({self.expr(e.amount, ctx)}, {self._pairs(e.source, ctx)}, "
                f"{self.at(e.span, ctx.section)})")

    def _presentvalue(self, e: ir.PresentValue, ctx: _Ctx) -> str:
        loop_source = ir.ForEach(ir.Nothing(span=e.span), e.variable, e.source, e.when,
                                 span=e.span)
        _, inner, loop = self._iteration(loop_source, ctx)
        amount = self.expr(e.amount, inner)
        day = self.expr(e.day, inner)
        rate = self.coerce(self.expr(e.rate, ctx), e.rate.type, T.DECIMAL)
        return (f"_present_value([({amount}, {day}) {loop}], {rate}, {self.expr(e.on, ctx)}, "
                f"{e.day_count!r}, {e.compounding!r}, {self.at(e.span, ctx.section)})")

    def _field(self, e: ir.Field, ctx: _Ctx) -> str:
        if (e.operand.type or T.ERROR).kind in ("record", "share"):
            # A record is a dict of values of several types: the field's is stated.
            return f"cast({self.pytype(e.type)!r}, {self.expr(e.operand, ctx)}[{e.field!r}])"
        name = "object" if e.field == "amount" else e.field
        return f"{self.expr(e.operand, ctx)}.{name}"

    def _inforce(self, e: ir.InForce, ctx: _Ctx) -> str:
        # The term is looked up by name in the version in force on the date: it may be
        # defined differently there, or not at all (NotInForceError).
        operand = e.operand
        assert isinstance(operand, (ir.Name, ir.Call))
        args = "".join(", " + self.expr(a, ctx) for a in getattr(operand, "args", ()))
        value = (f"_version_at(VERSIONS, {self.expr(e.on, ctx)}, facts).evaluate("
                 f"{operand.name!r}, facts{args})")
        return f"cast({self.pytype(e.type)!r}, {value})"

    def _late(self, e: ir.Late, ctx: _Ctx) -> str:
        helper = "_in_default" if e.default else "_late"
        return f"{helper}({self.expr(e.operand, ctx)}, {self.expr(e.on, ctx)})"

    # ---------------------------------------------------- explain expressions

    def xexpr(self, e: ir.Expr, ctx: _Ctx) -> str:
        """Code that builds the Explanation of `e` (whose .value is e's value)."""
        kind = (e.type or T.ERROR).kind
        label = self.snippet(e.span)
        at = self.at(e.span, ctx.section)
        cur = self.currency(e.type)
        money = f", currency={cur!r}" if kind == "money" else ""
        if isinstance(e, ir.Literal) or (isinstance(e, ir.Duration)
                                         and isinstance(e.amount, ir.Literal)):
            return f"_x_leaf({label!r}, {self.expr(e, ctx)}, {kind!r}, None, 'literal')"
        if isinstance(e, ir.Name) and e.name not in ctx.params:
            target = self.decls.get(e.name)
            if isinstance(target, ir.Definition):
                return f"_explain_{e.name}{self.suffix}(facts)"
            if isinstance(target, ir.Fact):
                fat = self.at(target.span, self.label_of(target))
                return (f"_x_leaf({e.name!r}, facts.{py_name(e.name)}, {kind!r}, {fat}, "
                        f"'fact'{money})")
            note = "party" if kind == "party" else "parameter"
            return f"_x_leaf({label!r}, {self.expr(e, ctx, strict=False)}, {kind!r}, None, " \
                   f"{note!r})"
        if isinstance(e, ir.Name):  # a parameter
            return f"_x_leaf({label!r}, {py_name(e.name)}, {kind!r}, None, 'parameter')"
        if isinstance(e, ir.Call) and e.name == self.recursing:
            # Its value for the period before: explained on its own, not here (a chain
            # of periods would nest as deep as it is long).
            return (f"_x_leaf({label!r}, {self.expr(e, ctx, strict=False)}, {kind!r}, {at}, "
                    f"'carried from the period before: explain it on its own'{money})")
        if isinstance(e, ir.Call) and isinstance(self.decls.get(e.name), ir.Definition):
            params = self.decls[e.name].params  # type: ignore[union-attr]
            args = [self.coerce(self.expr(a, ctx), a.type, p.type)
                    for a, p in zip(e.args, params)]
            return f"_explain_{e.name}{self.suffix}(facts{''.join(', ' + a for a in args)})"
        if isinstance(e, ir.Binary) and e.op in ("and", "or", "unless"):
            pair = f"[('', None, lambda: {self.xexpr(e.left, ctx)}), " \
                   f"('', None, lambda: {self.xexpr(e.right, ctx)})]"
            return f"_x_items({label!r}, {e.op!r}, {at}, {pair})"
        if isinstance(e, ir.ListOp):
            items = []
            for item in e.items:
                when = f"lambda: {self.xexpr(item.when, ctx)}" if item.when is not None \
                    else "None"
                items.append(f"({item.label or ''!r}, {when}, "
                             f"lambda: {self.xexpr(item.expr, ctx)})")
            listed = "[" + ", ".join(items) + "]"
            if e.kind in ("all", "any", "none"):
                return f"_x_items({label!r}, {e.kind!r}, {at}, {listed})"
            if e.kind == "total":
                zero = self.const("Decimal(0)") if kind in T.DECIMALS else "0"
                pick = f"lambda *v: _total({zero}, *v)"
            else:
                pick = "_earliest" if e.kind in ("earliest", "least") else "_latest"
            return f"_x_choose({label!r}, {kind!r}, {at}, {pick}, {listed}{money})"
        if isinstance(e, _COMPUTED_WHOLE):
            # Computed by the fast code; its parts refer to a list's items one by one.
            return (f"_x_leaf({label!r}, {self.expr(e, ctx, strict=False)}, {kind!r}, {at}, "
                    f"'computed'{money})")
        if isinstance(e, ir.IfThenElse):
            return (f"_x_if({label!r}, {kind!r}, {at}, lambda: {self.xexpr(e.condition, ctx)},"
                    f" lambda: {self.xexpr(e.then, ctx)}, "
                    f"lambda: {self.xexpr(e.otherwise, ctx)}{money})")
        # Everything else: computed from all of its children, by the fast code itself.
        parts = operands(e)
        inner = _Ctx(ctx.section, dict(ctx.subst), ctx.params)
        names = []
        for i, child in enumerate(parts):
            inner.subst[id(child)] = f"v{i}"
            names.append(f"v{i}")
        compute = self._expr(e, inner)
        explained = "".join(", " + self.xexpr(child, ctx) for child in parts)
        lift = ", lift=True" if e.type is not None and e.type.optional else ""
        return (f"_x_apply({label!r}, {kind!r}, {at}, lambda {', '.join(names)}: {compute}"
                f"{explained}{money}{lift})")

    # ------------------------------------------------------------- the module

    def module(self) -> str:
        body = list(self._declarations())
        header = self.versions[0][1].header
        kind = "its amendments" if len(self.versions) > 1 else "its clauses"
        out = [
            _doc(f"{header.title}: compiled from {comment_text(self.file)} by clausec.\n\n"
                 f"The agreement and {kind}, as Python. Generated code: do not edit; "
                 "change the clause files and recompile.\nEvery function's docstring names "
                 "the section and clause line it comes from."),
            "",
            "from __future__ import annotations",
            "",
            prelude(self.guards_context),
            "",
            _comment(f"---- {self.file} " + "-" * max(4, 70 - len(comment_text(self.file)))),
            "",
            f"_FILE: Final = {self.file!r}",
            *self._calendar_code("_CALENDAR", header.calendar, header.holidays),
        ]
        for name in sorted(self.calendars):
            out += self._calendar_code(f"_CALENDAR_{name}", name, ())
        out += [
            f"_PARTY_NAMES: Final = {tuple(self.parties)!r}",
        ]
        out += self._metadata()
        body_text = "\n".join(body)
        out += [f"{name}: Final = {code}" for code, name in self.constants.items()]
        out += [f"{name}: Final[_At] = ({file!r}, {line}, {col}, {section!r})"
                for (file, line, col, section), name in self.positions.items()]
        out += ["", "", body_text]
        return "\n".join(out).rstrip("\n") + "\n"

    def _calendar_code(self, variable: str, name: str, extra: tuple[date, ...]) -> list[str]:
        """The definition of the module's Calendar `variable`: calendar `name` with the
        holidays `extra`. A calendar the runtime knows by rule is its holiday set's name;
        any other brings its holidays, as a table decoded once at import."""
        arguments = f"holidays={calendars.RULE_BASED.get(name, name)!r}"
        if variable == "_CALENDAR":  # the agreement's own: the header may add holidays
            arguments += \
                f", extra_holidays=({''.join(self._date_code(d) + ', ' for d in extra)})"
        if name in calendars.RULE_BASED:
            return [f"{variable}: Final = Calendar({arguments})"]
        own = self.user_calendars.get(name)
        if own is not None:
            table = calendars.combined_table(own.bases, own.extra)
            bases = " and ".join(own.bases) or "no calendar"
            lines = [_comment(f"The weekdays the calendar {name} closes: those of {bases}, "
                              f"and {len(own.extra)} more date(s),"),
                     _comment(f"{calendars.FIRST_YEAR} to {calendars.LAST_YEAR} (it knows no "
                              "other years: counting into them is an error)."),
                     f"{variable}: Final = Calendar({arguments}, table=decode_holiday_table("]
        else:
            info = calendars.calendar_info(name)
            assert info is not None, name
            table = calendars.embedded_table(name)
            lines = [_comment(f"The weekdays the {name} calendar closes, {info.first_year} to "
                              f"{info.last_year}"),
                     _comment("(it knows no other years: counting into them is an error)."),
                     f"{variable}: Final = Calendar({arguments}, table=decode_holiday_table("]
        # Whole years per line (the table is "YYYY:MMDD,...;YYYY:..."), at most ~90 wide.
        piece = ""
        for year in table.split(";"):
            entry = year if not piece else ";" + year
            if piece and len(piece) + len(entry) > 84:
                lines.append(f"    {piece + ';'!r}")
                piece = year
            else:
                piece += entry
        lines.append(f"    {piece!r}))")
        return lines

    def _date_code(self, d: date) -> str:
        return f"date({d.year}, {d.month}, {d.day})"

    def _metadata(self) -> list[str]:
        h = self.versions[0][1].header
        parties = {p.name: (p.display, p.description or "") for p in h.parties}
        agreement = {
            "name": h.name, "title": h.title, "kind": h.kind,
            "dated": h.dated.isoformat() if h.dated else None,
            "effective": h.effective.isoformat() if h.effective else None,
            "governing_law": h.governing_law, "currency": h.currency,
            "time_zone": h.time_zone, "calendar": h.calendar,
        }
        fact_types = {f.name: _fact_type(f) for f in self.facts.values()}
        amendments = []
        for version, _ in self.versions[1:]:
            assert version is not None and version.amendment is not None
            a = version.amendment
            amendments.append({
                "name": a.name, "title": a.title,
                "dated": a.dated.isoformat() if a.dated else None,
                "effective": version.effective.isoformat() if version.effective else None,
                "changes": tuple(
                    {"operation": c.operation, "section": c.section,
                     "description": c.description, "before": c.before, "after": c.after}
                    for c in version.changes),
            })
        return [
            f"AGREEMENT: Final[dict[str, str | None]] = {agreement!r}",
            f"PARTIES: Final[dict[str, tuple[str, str]]] = {parties!r}",
            f"FACT_TYPES: Final[dict[str, str]] = {fact_types!r}",
            "# Each amendment and what it changed (the redline), in effective-date order.",
            f"AMENDMENTS: Final[tuple[dict[str, Any], ...]] = {tuple(amendments)!r}",
        ]

    def _declarations(self) -> Iterator[str]:
        yield from self._facts_class(list(self.facts.values()))
        for index, (version, checked) in enumerate(self.versions):
            self._use(index)
            if len(self.versions) > 1 and version is not None:
                yield "# " + "=" * 76
                since = f"in force from {long_date(version.effective)}" \
                    if version.effective else "in force until the first amendment"
                yield _comment(f"The agreement {version.label} ({since}).")
                yield "# " + "=" * 76
                yield ""
                yield ""
            evaluators, explainers = [], []
            for d in checked.program.declarations:
                if isinstance(d, (ir.Fact, ir.Exception_, ir.UserCalendar, ir.Choice,
                                  ir.Record)):
                    # Facts are the Facts class; exceptions are in their terms; choices and
                    # records are types (strs and dicts at run time).
                    continue
                yield from self.handler(d)(d)
                evaluators.append(f"    {d.name!r}: {self.fn(d.name)},")
                explainers.append(f"    {d.name!r}: _explain_{d.name}{self.suffix},")
            sections = {s.number: (s.heading, s.text) for s in checked.program.sections}
            yield from self._instances(checked)
            yield f"_EVALUATORS{self.suffix}: Final[dict[str, Callable[..., Any]]] = {{"
            yield from evaluators
            yield "}"
            yield f"_EXPLAINERS{self.suffix}: Final[dict[str, Callable[..., Explanation]]] = {{"
            yield from explainers
            yield "}"
            yield "# Section number -> (heading, the contract's words)."
            yield (f"SECTIONS{self.suffix}: Final[dict[str, tuple[str | None, str]]] = "
                   f"{sections!r}")
            yield ""
            yield ""
        yield from self._entry_points()

    # ---------------------------------------------------------------- facts

    def _facts_class(self, facts: list[ir.Fact]) -> Iterator[str]:
        doc = ["The facts of a case: the inputs the clauses are evaluated on.", ""]
        for f in facts:
            text = f"{f.name} ({f.type})"
            if f.term:
                text += f' "{f.term}"'
            if f.description:
                text += f": {f.description}"
            doc.append(text)
        yield "@dataclass(frozen=True, init=False)"
        yield "class Facts:"
        yield "    " + _doc("\n".join(doc)).replace("\n", "\n    ")
        yield ""
        for f in facts:
            item = _PY_TYPES[f.type.kind]
            pytype = self.pytype(f.type) if f.per is None else \
                f"Series[{item}] | None" if f.type.optional and f.default is None else \
                f"Series[{item}]"
            yield f"    {py_name(f.name)}: {pytype}"
        params = "".join(f"{py_name(f.name)}: object = None, " for f in facts)
        yield ""
        star = "*, " if facts else ""
        # `_self` and `_unknown`: a clause name cannot start with "_", so no fact's
        # parameter can clash with them (a fact may be called `self` or `unknown`).
        yield f"    def __init__(_self, {star}{params}**_unknown: object) -> None:"
        for f in facts:
            if py_name(f.name) != f.name:
                # A fact named like a Python keyword is also accepted under its own name.
                yield f"        if {f.name!r} in _unknown:"
                yield f"            {py_name(f.name)} = _unknown.pop({f.name!r})"
        yield "        for _name in _unknown:"
        yield "            raise _unknown_fact(_name, tuple(FACT_TYPES))"
        for f in facts:
            arg = py_name(f.name)
            kind = f.type.kind
            conv = _CONVERTERS.get(kind) or self.converter(f.type)
            extra = ""
            if kind == "money":
                extra = f", {self.currency(f.type)!r}"
            elif kind == "party":
                extra = ", _PARTY_NAMES"
            if f.constraint is not None:
                conv = self.constrained(f.name, f.constraint, f.section, conv, extra)
                extra = ""
            name = repr(f.name)
            if f.per is not None:
                # One value per period: each converted as a fact of its own type.
                item = f"lambda v: {_apply(conv, name, 'v', extra)}"
                default = self.expr(f.default, _Ctx(f.section)) if f.default else "None"
                value = (f"_as_series({f.name!r}, {{}} if {arg} is None else {arg}, {item}, "
                         f"{default})")
                if f.default is None:
                    value = (f"None if {arg} is None else {value}" if f.type.optional else
                             f"_as_series({f.name!r}, {{}} if {arg} is None else {arg}, "
                             f"{item})")
            elif f.default is not None:
                default = self.expr(f.default, _Ctx(f.section))
                value = _apply(conv, name, f"{default} if {arg} is None else {arg}", extra)
            elif f.type.optional:
                value = f"None if {arg} is None else {_apply(conv, name, arg, extra)}"
            else:
                value = _apply(conv, name, arg, extra)
            yield f"        object.__setattr__(_self, {py_name(f.name)!r}, {value})"
        yield ""
        yield "    @classmethod"
        yield "    def from_dict(cls, data: dict[str, object]) -> Facts:"
        yield '        """Facts from a mapping such as parsed JSON (names as in the clause file)."""'
        renames = {py_name(f.name): f.name for f in facts if py_name(f.name) != f.name}
        if renames:
            yield f"        renamed = { {v: k for k, v in renames.items()}!r}"
            yield "        return cls(**{renamed.get(str(k), str(k)): v for k, v in data.items()})"
        else:
            yield "        return cls(**{str(k): v for k, v in data.items()})"
        yield ""
        yield ""

    # ----------------------------------------------------------- functions

    def _docstring(self, decl: ir.Declaration, summary: str) -> str:
        clause = f"Clause: {comment_text(Path(decl.span.file).name)}:{decl.span.line}"
        lines = [summary, "", clause]
        lines.append(self.snippet(decl.span, 400))
        section = self.section_of.get(decl.name)
        if section is not None and section.text:
            lines += ["", f"Contract text, {ir.cite(section.label)}"
                      + (f" ({section.heading})" if section.heading else "") + ":", ""]
            lines += ["    " + line if line else "" for line in section.text.split("\n")]
        return "    " + _doc("\n".join(lines)).replace("\n", "\n    ").replace("\n    \n",
                                                                                 "\n\n")

    def _where(self, decl: ir.Declaration) -> str:
        where = f"{Path(decl.span.file).name}:{decl.span.line}"
        return where + (f" ({ir.cite(decl.section)})" if decl.section else "")

    def _guarded(self, body: list[str], at: str, call: str) -> Iterator[str]:
        """A function body whose Python errors are reported at the clause's position and
        whose Decimal arithmetic does not depend on the caller's decimal context: if that
        context could round differently from the module's own, the call is made again in
        the module's context (cheaper than a context method for every operation)."""
        if self.decimal_ops:
            self.guards_context = True
            # Inline, not a helper call: this runs on every evaluation. The module's own
            # context is made the thread's for the call, and back after it; a call made
            # from inside another (the context is already _EXACT) skips the switch.
            # setcontext, not localcontext: no copy of the context on every call.
            yield "    if (_c := getcontext()) is not _EXACT:  # the caller's context would round"
            yield "        setcontext(_EXACT)"
            yield "        try:"
            yield f"            return {call}"
            yield "        finally:"
            yield "            setcontext(_c)"
        self.decimal_ops = False
        yield "    try:"
        yield from ("        " + line for line in body)
        yield "    except ClauseError:"
        yield "        raise"
        yield "    except (ArithmeticError, TypeError, ValueError) as error:"
        yield f"        raise _error(error, {at}) from error"

    def _definition(self, d: ir.Definition, kind: str = "") -> Iterator[str]:
        ctx = _Ctx(self.label_of(d), params=frozenset(p.name for p in d.params))
        name = self.fn(d.name)
        ret = self.pytype(d.declared_type)
        params = "".join(f", {py_name(p.name)}: {self.pytype(p.type)}" for p in d.params)
        args = "".join(f", {py_name(p.name)}" for p in d.params)
        at = self.at(d.span, self.label_of(d))
        term = f"{d.term} ({d.name})" if d.term else d.name
        kind = kind or ("Condition" if d.is_condition else "Definition")
        where = f", {ir.cite(d.section)}" if d.section else ""
        recursive = any(isinstance(n, ir.Call) and n.name == d.name for n in ir.walk(d.expr))
        self.recursing = d.name if recursive else None
        yield _comment(self._where(d))
        if recursive:
            # The value for a period is computed from the one before: the function below
            # remembers values, and computes earlier ones first (runtime_time._recursive).
            position = next(i for i, p in enumerate(d.params) if p.type.kind == "period")
            yield f"def {name}(facts: Facts{params}) -> {ret}:"
            yield self._docstring(d, f"{kind}: {term}{where}.")
            yield from self._period_arguments(d.params, d)
            yield (f"    return _recursive(facts, {name!r}, _{name}_step, ({args[2:]},), "
                   f"{position})")
            yield ""
            yield ""
            yield f"def _{name}_step(facts: Facts{params}) -> {ret}:"
            yield f'    """One period of {name}, from the periods before it."""'
        else:
            yield f"def {name}(facts: Facts{params}) -> {ret}:"
            yield self._docstring(d, f"{kind}: {term}{where}.")
            yield from self._period_arguments(d.params, d)
        body: list[str] = []
        exceptions = self.c.exceptions.get(d.name, ())
        if len(exceptions) == 1:
            e = exceptions[0]
            ectx = _Ctx(self.label_of(e), params=ctx.params)
            body.append(f"if {self.expr(e.condition, ectx)}:  "
                        + _comment(f"exception {e.name}, {Path(e.span.file).name}:"
                                   f"{e.span.line}"))
            body.append(f"    return {self.coerce(self.expr(e.value, ectx), e.value.type, d.declared_type)}")
        elif exceptions:
            body.append("decided: list[tuple[_At, " + ret + "]] = []")
            for e in exceptions:
                ectx = _Ctx(self.label_of(e), params=ctx.params)
                eat = self.at(e.span, self.label_of(e))
                body.append(f"if {self.expr(e.condition, ectx)}:  "
                            + _comment(f"exception {e.name}"))
                value = self.coerce(self.expr(e.value, ectx), e.value.type, d.declared_type)
                body.append(f"    decided.append(({eat}, {value}))")
            body.append("if any(v != decided[0][1] for _, v in decided[1:]):")
            body.append(f"    raise _conflict({d.name!r}, decided[0][0], decided[1][0])")
            body.append("if decided:")
            body.append("    return decided[0][1]")
        value = self.expr(d.expr, ctx, strict=not (d.declared_type or T.ERROR).optional)
        body.append(f"return {self.coerce(value, d.expr.type, d.declared_type)}")
        step = f"_{name}_step" if recursive else name
        yield from self._guarded(body, at, f"{step}(facts{args})")
        yield ""
        yield ""
        # The explanation.
        kind_name = (d.declared_type or T.ERROR).kind
        cur = self.currency(d.declared_type)
        money = f", currency={cur!r}" if kind_name == "money" else ""
        label = repr(d.name + (f" ({d.term})" if d.term else ""))
        if d.params:
            # "revenue_limitation(2008)": the arguments belong in the label.
            label = (f"{d.name!r} + '(' + ', '.join(str(a) for a in ({args[2:]},)) + ')'"
                     + (f" + {' (' + d.term + ')'!r}" if d.term else ""))
        yield f"def _explain_{d.name}{self.suffix}(facts: Facts{params}) -> Explanation:"
        yield from self._period_arguments(d.params, d)
        yield f"    _result = {name}(facts{args})"
        general = f"lambda: {self.xexpr(d.expr, ctx)}"
        excs = []
        for e in exceptions:
            ectx = _Ctx(self.label_of(e), params=ctx.params)
            excs.append(f"({e.name!r}, {self.at(e.span, self.label_of(e))}, "
                        f"lambda: {self.xexpr(e.condition, ectx)}, "
                        f"lambda: {self.xexpr(e.value, ectx)})")
        yield (f"    return _x_definition({label}, {kind_name!r}, {at}, _result, {general}, "
               f"[{', '.join(excs)}]{money})")
        yield ""
        yield ""

    def _period_arguments(self, params: tuple[ir.Parameter, ...],
                          decl: ir.Declaration) -> Iterator[str]:
        """Lines that turn period arguments given as dates or labels into periods (a value
        that names none is an error at the declaration)."""
        at = self.at(decl.span, self.label_of(decl))
        for p in params:
            if p.type.kind == "period":
                name = py_name(p.name)
                yield (f"    {name} = _period_arg({self.family(p.type.family or '')}, {name}, "
                       f"{p.name!r}, {at})")

    def _usercalendar(self, c: ir.UserCalendar) -> Iterator[str]:
        return iter(())  # a Calendar of the module (_calendar_code), shared by every version

    def _periodfamily(self, f: ir.PeriodFamily) -> Iterator[str]:
        """A family's Frequency, a function of the facts (its start may be one)."""
        ctx = _Ctx(self.label_of(f))
        at = self.at(f.span, self.label_of(f))
        name = self.fn(f.name)
        start = self.expr(f.start, ctx) if f.start is not None else "None"
        if f.basis == "contract":
            build = f"Frequency.contract({f.unit!r}, commencement={start})"
        elif f.basis == "fiscal":
            build = (f"Frequency.fiscal({f.unit!r}, first_month={f.first_month}, "
                     f"commencement={start})")
        else:
            build = f"Frequency.calendar({f.unit!r}, commencement={start})"
        yield _comment(self._where(f))
        yield f"def {name}(facts: Facts) -> Frequency:"
        yield self._docstring(f, f"Periods: {f.display} ({f.name}).")
        # Built once per facts: every period operation on the family asks for it.
        yield from self._guarded([f"return _remembered(facts, {name!r}, lambda: {build})"],
                                 at, f"{name}(facts)")
        yield ""
        yield ""
        yield f"def _explain_{f.name}{self.suffix}(facts: Facts) -> Explanation:"
        yield (f"    return _x_leaf({f.name!r}, {name}(facts), 'text', {at}, "
               "'periods')")
        yield ""
        yield ""

    def _duty_code(self, duty: ir.Duty, ctx: _Ctx, name: str, active: str,
                   period: str = "None") -> str:
        obj, kind = "None", ""
        cur = self.c.header.currency
        if duty.object is not None:
            obj = f"_soft(lambda: {self.expr(duty.object, ctx)})"
            kind = (duty.object.type or T.ERROR).kind
            kind = "" if kind == "error" else kind
            cur = self.currency(duty.object.type)
        due, due_text, deadline_word = "None", "", "by"
        if duty.deadline is not None:
            deadline_word = "on" if duty.deadline.kind == "on" else "by"
            due = f"_soft(lambda: {self._deadline_code(duty.deadline, ctx)})"
            due_text = self.snippet(duty.deadline.span, 200)
        holder = self._holders(duty.holder)
        obligor = " and ".join(holder) if duty.holder.kind == "joint" else holder[0]
        beneficiary = repr(self.role(duty.beneficiary)) if duty.beneficiary else "None"
        extra = ""
        if duty.performed is not None:
            extra += f", performed_on=_soft(lambda: {self.expr(duty.performed, ctx)})"
        if duty.cure is not None:
            extra += (f", cure_by=_soft(lambda: {self._deadline_code(duty.cure, ctx)}), "
                      "curable=True")
        if period != "None":
            extra += f", period={period}"
        if duty.standard is not None:
            extra += f", standard={duty.standard!r}"
        return (f"Obligation(name={name!r}, section={ctx.section!r}, obligor={obligor!r}, "
                f"action={duty.action!r}, object={obj}, object_kind={kind!r}, "
                f"beneficiary={beneficiary}, due={due}, due_text={due_text!r}, "
                f"active={active}, currency={cur!r}, deadline={deadline_word!r}{extra})")

    def _recurring(self, decl: ir.Obligation | ir.Power) -> _Instance:
        """How an obligation's or power's function takes its instance's period, if it
        recurs."""
        r = decl.recurrence
        if r is None:
            return _Instance(_Ctx(self.label_of(decl)))
        var = py_name(r.variable)
        in_range = f"_in_range({self.range_code(r, _Ctx(self.label_of(decl)), False)}, {var})"
        return _Instance(_Ctx(self.label_of(decl), params=frozenset({r.variable})), var,
                         in_range)

    def _deadline_code(self, dl: ir.Deadline, ctx: _Ctx) -> str:
        if dl.kind == "within" and dl.after is not None:
            return self._shift_code(self.expr(dl.after, ctx), self.expr(dl.expr, ctx),
                                    dl.expr.type, False)
        return self.expr(dl.expr, ctx)

    def _holders(self, holder: ir.Holder) -> tuple[str, ...]:
        if holder.kind == "either":
            return tuple(p.display for p in self.c.header.parties) or ("Either party",)
        return tuple(self.role(p) for p in holder.parties)

    def _obligation(self, o: ir.Obligation) -> Iterator[str]:
        instance = self._recurring(o)
        ctx, param, args = instance.ctx, instance.param, instance.args
        at = self.at(o.span, self.label_of(o))
        term = f"{o.term} ({o.name})" if o.term else o.name
        yield _comment(self._where(o))
        yield f"def {self.fn(o.name)}(facts: Facts{param}) -> Obligation:"
        yield self._docstring(o, f"Obligation: {term}"
                              + (f", {ir.cite(o.section)}." if o.section else "."))
        yield from self._instance_argument(o)
        condition = o.duty.condition
        active = instance.applies(self.expr(condition, ctx) if condition else "True")
        period = f"{instance.var}.label" if instance.var else "None"
        body = [f"active = {active}",
                f"return {self._duty_code(o.duty, ctx, o.name, 'active', period)}"]
        yield from self._guarded(body, at, f"{self.fn(o.name)}(facts{args})")
        yield ""
        yield ""
        yield f"def _explain_{o.name}{self.suffix}(facts: Facts{param}) -> Explanation:"
        yield from self._instance_argument(o)
        yield f"    _result = {self.fn(o.name)}(facts{args})"
        yield "    children: list[Explanation] = []"
        yield from self._duty_explain(o.duty, ctx)
        yield (f"    return Explanation(label={o.name!r}, value=_result, kind='obligation', "
               f"section={ctx.section!r}, file={Path(o.span.file).name!r}, "
               f"line={o.span.line}, "
               "children=tuple(children))")
        yield ""
        yield ""

    def _instance_argument(self, decl: ir.Obligation | ir.Power) -> Iterator[str]:
        if decl.recurrence is not None:
            r = decl.recurrence
            yield from self._period_arguments(
                (ir.Parameter(r.variable, T.period(r.family), r.span),), decl)

    def _duty_explain(self, duty: ir.Duty, ctx: _Ctx) -> Iterator[str]:
        if duty.condition is not None:
            yield f"    children.append({self.xexpr(duty.condition, ctx)})"
        parts = [duty.object] if duty.object is not None else []
        if duty.deadline is not None:
            parts += [duty.deadline.expr] + ([duty.deadline.after] if duty.deadline.after
                                             else [])
        for part in parts:
            yield "    try:"
            yield f"        children.append({self.xexpr(part, ctx)})"
            yield "    except (MissingFactError, NoValueError) as missing:"
            yield (f"        children.append(_x_leaf({self.snippet(part.span)!r}, None, "
                   f"{(part.type or T.ERROR).kind!r}, {self.at(part.span, ctx.section)}, "
                   "str(missing.message)))")

    def _choice(self, c: ir.Choice) -> Iterator[str]:
        return iter(())  # a member is its name, a str

    def _record(self, r: ir.Record) -> Iterator[str]:
        return iter(())  # a record is a dict of its fields

    def _table(self, t: ir.Table) -> Iterator[str]:
        ctx = _Ctx(self.label_of(t))
        rows = []
        for row in t.rows:
            cells = ", ".join(f"{c.name!r}: {self.coerce(self.expr(v, ctx), v.type, c.type)}"
                              for c, v in zip(t.columns, row.cells))
            rows.append(f"    {{{cells}}},")
        name = self.fn(t.name)
        term = f"{t.term} ({t.name})" if t.term else t.name
        where = f", {ir.cite(t.section)}" if t.section else ""
        constant = f"_TABLE_{t.name}{self.suffix}"
        yield _comment(self._where(t))
        yield f"{constant}: Final[tuple[dict[str, Any], ...]] = ("
        yield from rows
        yield ")"
        yield ""
        yield ""
        yield f"def {name}(facts: Facts) -> tuple[dict[str, Any], ...]:"
        yield self._docstring(t, f"Table: {term}{where}.")
        yield f"    return {constant}"
        yield ""
        yield ""
        yield f"def _explain_{t.name}{self.suffix}(facts: Facts) -> Explanation:"
        yield (f"    return _x_leaf({term!r}, {constant}, 'list', "
               f"{self.at(t.span, self.label_of(t))}, 'a table of the agreement')")
        yield ""
        yield ""

    def constrained(self, name: str, constraint: ir.Expr, section: str | None, conv: str,
                    extra: str = "") -> str:
        """A converter that converts the value, then checks that the `where` of a fact or
        record field (`name`) holds for it."""
        ctx = _Ctx(section, params=frozenset({name}))
        rule = self.snippet(constraint.span, 80)
        return (f"lambda f, v: _constrain(f, {_apply(conv, 'f', 'v', extra)}, "
                f"lambda {py_name(name)}: {self.expr(constraint, ctx)}, {rule!r})")

    def converter(self, type_: T.Type) -> str:
        """Code for a function (fact name, value) -> the value, validated and converted."""
        kind = type_.kind
        if kind == "list":
            return f"lambda f, v: _as_list(f, v, {self.converter(type_.element or T.ERROR)})"
        if kind == "choice":
            choice = self.data_types.get(type_.name or "")
            members = tuple(m.name for m in choice.members) \
                if isinstance(choice, ir.Choice) else ()
            return f"lambda f, v: _as_choice(f, v, {members!r})"
        if kind == "record":
            record = self.data_types.get(type_.name or "")
            fields = record.fields if isinstance(record, (ir.Record, ir.Table)) else ()
            section = record.section if isinstance(record, (ir.Record, ir.Table)) else None
            convs = [self.converter(f.type) if f.constraint is None else
                     self.constrained(f.name, f.constraint, section, self.converter(f.type))
                     for f in fields]
            listed = "".join(f"({f.name!r}, {c}), " for f, c in zip(fields, convs))
            return f"lambda f, v: _as_record(f, v, ({listed.rstrip(' ')}))"
        if kind == "money":
            return f"lambda f, v: _as_money(f, v, {self.currency(type_)!r})"
        if kind == "party":
            return "lambda f, v: _as_party(f, v, _PARTY_NAMES)"
        return _CONVERTERS[kind]

    def _invariant(self, i: ir.Invariant) -> Iterator[str]:
        return self._definition(i.as_condition(), "Invariant")

    def _fact(self, f: ir.Fact) -> Iterator[str]:
        return iter(())  # a field of the Facts class, written once for every version

    def _exception(self, e: ir.Exception_) -> Iterator[str]:
        return iter(())  # compiled into the definition it is an exception to

    def _power(self, p: ir.Power) -> Iterator[str]:
        instance = self._recurring(p)
        ctx, param, args = instance.ctx, instance.param, instance.args
        at = self.at(p.span, self.label_of(p))
        term = f"{p.term} ({p.name})" if p.term else p.name
        yield _comment(self._where(p))
        yield f"def {self.fn(p.name)}(facts: Facts{param}) -> Power:"
        yield self._docstring(p, f"Power: {term}"
                              + (f", {ir.cite(p.section)}." if p.section else "."))
        yield from self._instance_argument(p)
        available = instance.applies(self.expr(p.condition, ctx) if p.condition else "True")
        body = [f"available = {available}"]
        consequences = []
        for i, duty in enumerate(p.consequences):
            active = "available"
            if duty.condition is not None:
                active = f"(available and {self.expr(duty.condition, ctx)})"
            consequences.append(self._duty_code(duty, ctx, f"{p.name}.then[{i}]", active))
        action = p.action
        if p.object is not None:
            action += " " + self.snippet(p.object.span)
        extra = ""
        if p.window is not None:
            extra += f", closes=_soft(lambda: {self._deadline_code(p.window, ctx)})"
        if instance.var:
            extra += f", period={instance.var}.label"
        body.append(f"return Power(name={p.name!r}, section={p.section!r}, "
                    f"holders={self._holders(p.holder)!r}, action={action!r}, "
                    f"available=available, consequences=("
                    + "".join(c + ", " for c in consequences) + ")"
                    + (", joint=True" if p.holder.kind == "joint" else "") + extra + ")")
        yield from self._guarded(body, at, f"{self.fn(p.name)}(facts{args})")
        yield ""
        yield ""
        yield f"def _explain_{p.name}{self.suffix}(facts: Facts{param}) -> Explanation:"
        yield from self._instance_argument(p)
        yield f"    _result = {self.fn(p.name)}(facts{args})"
        yield "    children: list[Explanation] = []"
        if p.condition is not None:
            yield f"    children.append({self.xexpr(p.condition, ctx)})"
        yield (f"    return Explanation(label={p.name!r}, value=_result, kind='power', "
               f"section={ctx.section!r}, file={Path(p.span.file).name!r}, "
               f"line={p.span.line}, "
               "children=tuple(children))")
        yield ""
        yield ""

    def _instances(self, checked: CheckedProgram) -> Iterator[str]:
        """The function the agenda asks for this version's obligation instances and power
        windows that may fall in a window of dates."""
        yield (f"def _instances{self.suffix}(facts: Facts, start: date, end: date"
               ") -> Iterator[Callable[[], Obligation | Power]]:")
        yield '    """Every obligation instance and power of this version that may fall due'
        yield '    from `start` to `end` (the agenda keeps those that do)."""'
        duties = [d for d in checked.program.declarations
                  if isinstance(d, (ir.Obligation, ir.Power))]
        if not duties:
            yield "    return iter(())"
        for d in duties:
            if d.recurrence is None:
                yield f"    yield functools.partial({self.fn(d.name)}, facts)"
                continue
            r = d.recurrence
            ctx = _Ctx(self.label_of(d))
            var = py_name(r.variable)
            yield (f"    for {var} in _agenda_periods({self.range_code(r, ctx, False)}, "
                   "(start, end)):")
            yield f"        yield functools.partial({self.fn(d.name)}, facts, {var})"
        yield ""
        yield ""

    # --------------------------------------------------------- entry points

    def _entry_points(self) -> Iterator[str]:
        facts = {f.name: (py_name(f.name), f.type.kind) for f in self.facts.values()}
        yield f"_FACTS: Final[dict[str, tuple[str, str]]] = {facts!r}"
        yield "# The versions of the agreement, in effective-date order."
        yield "VERSIONS: Final[tuple[Version, ...]] = ("
        for version, _ in self.versions:
            suffix = version.suffix if version is not None and len(self.versions) > 1 else ""
            label = version.label if version is not None else "original"
            effective = self._date_code(version.effective) \
                if version is not None and version.effective else "None"
            absent = dict(sorted(version.absent.items())) if version is not None else {}
            upon = ""
            if version is not None and version.upon is not None:
                # Checked to be a date fact: an identifier.
                upon = f", lambda facts: facts.{py_name(version.upon)}"
            yield (f"    Version({label!r}, {effective}, _EVALUATORS{suffix}, "
                   f"_EXPLAINERS{suffix}, SECTIONS{suffix}, {absent!r}, _FACTS, "
                   f"_instances{suffix}{upon}),")
        yield ")"
        yield ""
        yield ""
        yield "def at(day: date, facts: Facts | None = None) -> Version:"
        yield '    """The agreement as in force on `day` (amendments apply from their effective'
        yield '    date on; before the first one, the original). An amendment effective upon an'
        yield '    event applies only when `facts` say when the event happened."""'
        yield "    return _version_at(VERSIONS, day, facts)"
        yield ""
        yield ""
        yield "def current(facts: Facts) -> Version:"
        yield '    """The agreement as in force now: its latest version, an amendment effective'
        yield '    upon an event only once the facts say it happened."""'
        yield "    return _version_now(VERSIONS, facts)"
        yield ""
        yield ""
        yield "def evaluate(name: str, facts: Facts, *args: object) -> object:"
        yield '    """The value of a term, condition, obligation, power or fact, by name, in the'
        yield '    agreement as in force now (its latest version, an amendment effective upon an'
        yield '    event once it happened)."""'
        yield "    return _version_now(VERSIONS, facts).evaluate(name, facts, *args)"
        yield ""
        yield ""
        yield ("def agenda(facts: Facts, start: date, end: date, as_of: date | None = None"
               ") -> Agenda:")
        yield '    """Every obligation instance due, and every power window closing, from `start`'
        yield '    to `end` (both included), in date order, each evaluated in the version of the'
        yield '    agreement in force on its own date; with `as_of`, a duty not performed is'
        yield '    "pending", "late" or "in default" on that day. `.undetermined` says what'
        yield '    needs facts not given."""'
        yield "    return _agenda(VERSIONS, facts, start, end, as_of)"
        yield ""
        yield ""
        yield "def explain(name: str, facts: Facts, *args: object) -> Explanation:"
        yield '    """Why `name` has its value for these facts: a tree down to the facts, each'
        yield '    node with its value, section and clause line. str() of it prints the tree."""'
        yield "    return _version_now(VERSIONS, facts).explain(name, facts, *args)"
        if len(self.versions) == 1:
            return
        latest, checked = self.versions[-1]
        assert latest is not None
        yield ""
        yield ""
        yield "# The agreement as in force now: its latest version, under plain names."
        yield f"SECTIONS: Final = SECTIONS{latest.suffix}"
        for d in checked.program.declarations:
            if isinstance(d, (ir.Definition, ir.Obligation, ir.Power)):
                yield f"{py_name(d.name)} = {py_name(d.name)}{latest.suffix}"
        yield ""
        yield ""
        yield "def __getattr__(name: str) -> object:"
        yield '    """A provision not in force now says who removed it, and when."""'
        yield "    return getattr(VERSIONS[-1], name)"


def _apply(converter: str, name: str, value: str, extra: str) -> str:
    """Code converting `value` (the fact `name`'s) with `converter`: a runtime function's
    name, or a lambda, applied through _convert (a lambda called where it is written is
    what linters forbid)."""
    if converter.isidentifier():
        return f"{converter}({name}, {value}{extra})"
    return f"_convert({converter}, {name}, {value}{extra})"


def _fact_type(f: ir.Fact) -> str:
    """How FACT_TYPES spells a fact's type: "money", "date (optional)", and for a series
    "money per royalty quarter"."""
    if f.per is None:
        return str(f.type)
    return f"{f.type.required()} per {ir.family_display(f.per)}" + \
        (" (optional)" if f.type.optional else "")


_PERIOD_CODE = {"start": "start", "end": "end", "next": "next()", "previous": "previous()",
                "number": "number"}


def _group(code: str) -> str:
    """`code` as one operand: parenthesised unless it is one already (a name, a call, a
    constant, or already in parentheses), as linters want it."""
    node = ast.parse(code, mode="eval").body
    if isinstance(node, (ast.Name, ast.Attribute, ast.Call, ast.Constant, ast.Subscript)):
        return code
    if code.startswith("(") and code.endswith(")"):
        try:
            ast.parse(code[1:-1], mode="eval")
        except SyntaxError:
            pass  # "(a) + (b)": the parentheses are not one pair
        else:
            return code
    return f"({code})"


# Explained as one step: what they are computed from depends on a list's items.
_COMPUTED_WHOLE = (ir.Nothing, ir.When, ir.Case, ir.ListOf, ir.ForEach, ir.Aggregate,
                   ir.Allocate, ir.PresentValue)

_INLINE_SIZE = 8  # nodes: enough for "purchase_price - deposit_received" and the like


def _size(e: ir.Expr) -> int:
    """How many constructs an expression has (inlined definitions count as one)."""
    if isinstance(e, ir.ListOp):
        return 1 + sum(_size(i.expr) + (_size(i.when) if i.when else 0) for i in e.items)
    if isinstance(e, ir.IfThenElse):
        return 1 + _size(e.condition) + _size(e.then) + _size(e.otherwise)
    return 1 + sum(_size(c) for c in operands(e))

