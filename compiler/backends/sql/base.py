"""What every SQL translation is built from: a value and its error (`Val`), the stages of
columns they are computed in (`Stages`), and the SQL they are written with.

The types and limits are described in translate.py.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

import attrs
from sqlglot import exp

from clausec import ir
from clausec.ir import types as T
from clausec.source import Span

if TYPE_CHECKING:
    from clausec.backends.interpret import Interpreter

DECIMAL_PLACES = 10
# The largest magnitude a decimal or a whole number may reach in SQL: beyond it the
# result is an error of the row (DECIMAL(38, 10) holds 28 digits before the point).
DECIMAL_LIMIT = Decimal(10) ** 26
INTEGER_LIMIT = 10 ** 18
# A product of decimals is exact with 20 places: below this magnitude it fits DECIMAL(38).
PRODUCT_LIMIT = 1e17
# A product or quotient smaller than this and not exact at 10 places would keep fewer than
# 4 significant digits: an error of the row rather than a value the module would not give.
SMALLEST = "0.000001"
# The bits of an exponent: `x ^ n` is computed by squaring for |n| < 2 ** POWER_BITS.
POWER_BITS = 7

DECIMAL_SQL = f"DECIMAL(38, {DECIMAL_PLACES})"
SQL_TYPES = {"bool": "BOOLEAN", "integer": "BIGINT", "days": "BIGINT", "business_days": "BIGINT",
             "months": "BIGINT", "decimal": DECIMAL_SQL, "money": DECIMAL_SQL,
             "percent": DECIMAL_SQL, "date": "DATE", "datetime": "TIMESTAMP", "text": "TEXT",
             "party": "TEXT", "choice": "TEXT"}

# The errors that leave a three-valued `and`/`or` undecided rather than raising.
UNKNOWN_ERRORS = ("MissingFactError", "NoValueError")


# How deep translating and writing one answer may go: a term inlined into another, within
# the fold of a term defined through itself, within a list (and sqlglot writes the tree
# recursively) goes deeper than Python's default of 1,000 frames for the IntriCon
# licence's longest chains.
DEPTH = 6_000
_P = ParamSpec("_P")
_R = TypeVar("_R")


def deep_enough(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """`function`, run with room for DEPTH frames."""
    @functools.wraps(function)
    def deep(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        before = sys.getrecursionlimit()
        sys.setrecursionlimit(max(before, DEPTH))
        try:
            return function(*args, **kwargs)
        finally:
            sys.setrecursionlimit(before)
    return deep


class UntranslatableError(Exception):
    """A construct that has no SQL translation yet."""

    def __init__(self, what: str, span: Span) -> None:
        super().__init__(what)
        self.what = what
        self.span = span


@attrs.frozen
class Val:
    """An expression read as SQL: its value, its error (None where it can have none), and
    the stage whose columns it reads (0: the facts)."""

    v: exp.Expr
    e: exp.Expr | None
    level: int


def text(value: str) -> exp.Expr:
    return exp.Literal.string(value)


def col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def cast(e: exp.Expr, sql_type: str) -> exp.Expr:
    return exp.Cast(this=e, to=exp.DataType.build(sql_type))


def try_cast(e: exp.Expr, sql_type: str) -> exp.Expr:
    """`e` as `sql_type`, NULL where it does not convert (`safe`: Spark's generator
    writes TRY_CAST for it, not a CAST that fails the query under ANSI mode)."""
    return exp.TryCast(this=e, to=exp.DataType.build(sql_type), safe=True)


def coalesce(*errors: exp.Expr | None) -> exp.Expr | None:
    present = [e for e in errors if e is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else exp.Coalesce(this=present[0],
                                                              expressions=present[1:])


def case(*whens: tuple[exp.Expr, exp.Expr],
         default: exp.Expr | None = None) -> exp.Expr:
    node = exp.Case()
    for condition, value in whens:
        node = node.when(condition, value)
    return node.else_(default) if default is not None else node


def is_null(e: exp.Expr) -> exp.Expr:
    return exp.Is(this=e, expression=exp.Null())


def not_null(e: exp.Expr) -> exp.Expr:
    return exp.Not(this=is_null(e))


def unknown(e: exp.Expr) -> exp.Expr:
    """Whether an error is one that leaves three-valued logic undecided."""
    return exp.or_(*(exp.Like(this=e, expression=text(f"{name}%")) for name in UNKNOWN_ERRORS))


def sql_literal(value: object, kind: str) -> exp.Expr:
    """A constant of the clause file as SQL."""
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if kind in T.DECIMALS:
        return cast(text(format(Decimal(value), "f")), DECIMAL_SQL)  # type: ignore[arg-type]
    if isinstance(value, int):
        return cast(exp.Literal.number(value), "BIGINT")
    if isinstance(value, datetime):
        utc = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return cast(text(utc.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, date):
        return cast(text(value.isoformat()), "DATE")
    return text(str(value))


class Stages:
    """The columns of the query, stage by stage: stage k computes its columns from those
    of the stages before it."""

    def __init__(self) -> None:
        self.levels: list[list[exp.Expr]] = [[]]
        self.count = 0
        # The translators of every version of the agreement computed in this query, of
        # the query's own columns and of its lists' items, by the ids of their stages and
        # version: a term as in force on another date is computed by its version's
        # (versions.py).
        self.translators: dict[tuple[int, int], Translating] = {}

    def put(self, v: exp.Expr, e: exp.Expr | None, level: int,
            note: str = "") -> Val:
        """`v` and `e`, computed from columns of stages up to `level`, as columns of the
        stage after it (a column or a constant is used as it is)."""
        if isinstance(v, (exp.Column, exp.Literal, exp.Null, exp.Boolean)) and e is None:
            return Val(v, None, level)
        self.count += 1
        name = f"_{self.count}"
        while len(self.levels) <= level + 1:
            self.levels.append([])
        value = exp.alias_(v, name, quoted=True)
        if note:
            value.add_comments([note.replace("*/", "* /")])
        self.levels[level + 1].append(value)
        error = None
        if e is not None:
            self.levels[level + 1].append(exp.alias_(e, name + "_e", quoted=True))
            error = col(name + "_e")
        return Val(col(name), error, level + 1)


@attrs.frozen
class Frame:
    """Where an expression is read: the section label its errors cite, and the values of
    the parameters of the term being inlined."""

    section: str | None
    params: Mapping[str, Val] = attrs.field(factory=dict)


class Translating(Protocol):
    """What the translations of lists, periods and duties (lists.py, periods.py,
    duties.py) ask of the expression translator (translate.py's Translator), which calls
    them: typed here so that they need not import it."""

    @property
    def i(self) -> Interpreter: ...
    @property
    def dialect(self) -> str: ...
    @property
    def depth(self) -> int: ...
    @property
    def outer(self) -> Translating | None: ...
    @property
    def memo(self) -> dict[tuple[object, ...], Val]: ...
    @property
    def calendar_table(self) -> Callable[[str | None], str]: ...
    @property
    def steps_back(self) -> dict[int, Val]: ...
    @property
    def facts(self) -> Mapping[str, Val]: ...
    @property
    def stages(self) -> object: ...

    def inner(self, stages: Any) -> Translating:
        """The translator of what is computed for each item of a list (stages: a list's
        lists.ElementStages)."""
        ...

    def from_outer(self, val: Val) -> Val: ...
    def put(self, v: exp.Expr, e: exp.Expr | None, *inputs: Val, note: str = "") -> Val: ...
    def error(self, kind: str, message: str, span: Span, frame: Frame) -> exp.Expr: ...
    def note(self, e: ir.Expr) -> str: ...
    def expr(self, e: ir.Expr, frame: Frame, strict: bool = True,
             lift: bool = False) -> Val: ...
    def coerce(self, val: Val, source: T.Type | None, target: T.Type | None) -> Val: ...
    def deadline(self, deadline: ir.Deadline, frame: Frame) -> Val: ...
    def term(self, d: ir.Definition, frame: Frame) -> Val: ...
    def definition(self, d: ir.Definition, args: tuple[Val, ...], at: ir.Expr) -> Val: ...
    def operands(self, e: ir.Expr, frame: Frame, lift: bool) -> list[Val]: ...
    def lookup(self, table: str, column: str, key: str, value: exp.Expr,
               business: bool = False, smallest: bool = False) -> exp.Expr: ...
