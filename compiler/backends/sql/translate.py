"""Expressions of the IR as SQL: each one a value and an error, in stages of columns.

The Python module raises; a query cannot, without losing the other rows. So every
expression is read as a pair of SQL expressions (`Val`): its value, and its error, a text
such as "MissingFactError: a.clause:12:5 (Section 3): fact 'x' is not given, ..." or NULL
where there is none. A value of NULL with no error is "no value" (None in Python). The
error of an operation is the first error of its operands in the order the Python module
evaluates them, then its own (a division by zero): `COALESCE(left.e, right.e, own)`;
where the module stops early (`a and b` with `a` false), the later operand's error counts
only where it is reached.

Each value and error would name its operands' values several times, so that writing
them inline would grow exponentially with the depth of the expression. Instead each
operation becomes two columns of a stage (`Stages`): a stage is one SELECT over the one
before, and an operation's columns are computed in the stage after its operands'. The
query stays linear in the size of the logic, and readable: each column carries the
clause text it computes in a comment.

Decimals (numbers, money, percentages) are DECIMAL(38, 10): sums and differences are
exact, products and quotients are rounded half up to 10 places, and a result beyond
10^26 is an error of the row ("out of the range of the SQL backend"), never a wrong value.
Whole numbers are BIGINT, with the same guard at 10^18. Dates are DATE; dates and times
are TIMESTAMP in UTC. Business days come from a calendar table generated from the same
calendar data as the Python module's (plan.CalendarTable).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlglot import exp

from clausec import ir
from clausec.backends.interpret import Interpreter
from clausec.backends.sql import duties, lists, periods, recursion, versions
from clausec.backends.sql.base import (
    DECIMAL_LIMIT,
    DECIMAL_PLACES,
    DECIMAL_SQL,
    INTEGER_LIMIT,
    POWER_BITS,
    PRODUCT_LIMIT,
    SMALLEST,
    SQL_TYPES,
    Frame,
    Stages,
    UntranslatableError,
    Val,
    case,
    cast,
    coalesce,
    is_null,
    not_null,
    sql_literal,
    text,
    try_cast,
    unknown,
)
from clausec.ir import types as T
from clausec.ir.visit import LIFTABLE, Visitor, operands
from clausec.source import Span

# Spark's dialects: a product of two DECIMAL(38, 10) keeps only 6 places there.
SPARK_DIALECTS = ("spark", "spark2", "databricks")
# For a product below PRODUCT_LIMIT (10^17): bounds of the first factor's magnitude, with
# the precisions of both factors that hold them, whose sum (at most 47) makes Spark keep
# 10 places of the product (its type is DECIMAL(38, 10) when p1 + p2 + 1 - 20 <= 28
# integer digits). Below 1, the second factor may be as large as any decimal (10^26);
# from 1, below 10^17; from 10^10, below 10^7; from 10^18, below 10^-1.
_SPARK_FACTORS = ((1, 11, 36), (10 ** 10, 20, 27), (10 ** 18, 28, 18))
_SPARK_LARGEST = (37, 10)


def _spark_product(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    """a * b to 10 places on Spark, a product of at most 10^17: each factor cast to the
    precision its magnitude needs, so that the product's type keeps 10 places."""
    def times(p: int, q: int) -> exp.Expr:
        return exp.Mul(this=try_cast(a.copy(), f"DECIMAL({p}, {DECIMAL_PLACES})"),
                       expression=try_cast(b.copy(), f"DECIMAL({q}, {DECIMAL_PLACES})"))
    return case(*((exp.LT(this=exp.Abs(this=a.copy()), expression=exp.Literal.number(bound)),
                   times(p, q)) for bound, p, q in _SPARK_FACTORS),
                default=times(*_SPARK_LARGEST))


class Translator(Visitor):
    """One version of the agreement as SQL over the columns of its facts (`facts`: each
    fact's Val in stage 0)."""

    def __init__(self, interpreter: Interpreter, facts: Mapping[str, Val],
                 calendars: Callable[[str | None], str], dialect: str,
                 stages: Stages | lists.ElementStages | None = None,
                 outer: Translator | None = None) -> None:
        self.i = interpreter
        self.facts = facts
        self.calendar_table = calendars  # calendar name (None: the agreement's) -> table
        self.dialect = dialect
        # Shared by the translators of several versions of one query; a list's own,
        # inside a list (lists.ElementStages).
        self.stages = stages if stages is not None else Stages()
        # The translator of the query (or list) a list's items are computed in.
        self.outer = outer
        self.depth: int = 0 if outer is None else outer.depth + 1
        self.memo: dict[tuple[object, ...], Val] = {}
        self.active: set[tuple[object, ...]] = set()
        # The uses of a term's own value for the period before (by the id of the IR
        # call), where this translator computes the term for each period of a fold.
        self.steps_back: dict[int, Val] = {}

    # ------------------------------------------------------------ helpers

    @property
    def columns(self) -> Stages:
        """The stages of the query (not of a list's items)."""
        assert isinstance(self.stages, Stages), "a list's items are not the query"
        return self.stages

    def inner(self, stages: lists.ElementStages) -> Translator:
        """The translator of what is computed for each item of a list."""
        return Translator(self.i, self.facts, self.calendar_table, self.dialect, stages,
                          outer=self)

    def from_outer(self, val: Val) -> Val:
        """A value of the enclosing query (or list), read by each item of a list: the
        list is computed after it."""
        stages = self.stages
        if not isinstance(stages, lists.ElementStages):
            return val
        stages.needs = max(stages.needs, val.level)
        return Val(val.v, val.e, 0)

    def put(self, v: exp.Expr, e: exp.Expr | None, *inputs: Val,
            note: str = "") -> Val:
        level = max((x.level for x in inputs), default=0)
        return self.stages.put(v, e, level, note)

    def error(self, kind: str, message: str, span: Span, frame: Frame) -> exp.Expr:
        """The text of an error of class `kind` at `span`, as the module words it."""
        file, line, column, section = self.i.at(span, frame.section)
        where = f"{file}:{line}:{column}"
        if section:
            where += f" ({ir.cite(section)})"
        return text(f"{kind}: {where}: {message}")

    def cannot(self, e: ir.Expr, what: str) -> Val:
        raise UntranslatableError(what, e.span)

    def note(self, e: ir.Expr) -> str:
        return self.i.snippet(e.span, 80)

    # --------------------------------------------------------- expressions

    def expr(self, e: ir.Expr, frame: Frame, strict: bool = True, lift: bool = False) -> Val:
        """`e` as SQL. Where `strict`, no value is an error (MissingFactError for a fact,
        NoValueError otherwise), as the module raises it; where `lift`, an operation on an
        operand with no value has no value (SQL's NULL does that by itself)."""
        val: Val = self.handler(e)(e, frame, lift)
        if strict and self._may_be_missing(e, frame):
            if isinstance(e, ir.Name) and e.name in self.facts and e.name not in frame.params:
                missing = self.error("MissingFactError",
                                     f"fact {e.name!r} is not given, but "
                                     f"{ir.cite(frame.section) if frame.section else 'this rule'}"
                                     " needs it", e.span, frame)
            else:
                missing = self.error("NoValueError",
                                     f"'{self.i.snippet(e.span, 60)}' has no value here (none "
                                     "of the events it depends on has happened, or a fact it "
                                     "needs is not given)", e.span, frame)
            val = self.put(val.v, coalesce(val.e, case((is_null(val.v), missing))), val)
        return val

    def _may_be_missing(self, e: ir.Expr, frame: Frame) -> bool:
        if isinstance(e, ir.Name) and e.name not in frame.params and e.name in self.facts:
            fact = self.i.fact_decls.get(e.name)
            return fact is not None and fact.type.optional
        return e.type is not None and e.type.optional

    def coerce(self, val: Val, source: T.Type | None, target: T.Type | None) -> Val:
        """A whole number where a decimal is expected is a decimal."""
        if source and target and source.kind == "integer" and target.kind in T.DECIMALS:
            return self.put(cast(val.v, DECIMAL_SQL), val.e, val)
        return val

    def operands(self, e: ir.Expr, frame: Frame, lift: bool) -> list[Val]:
        """The operands of an operation, in order; where the operation is lifted, those
        that may have no value read as no value rather than as an error."""
        lifted = lift and e.type is not None and e.type.optional and isinstance(e, LIFTABLE)
        children = operands(e)
        optional = [lifted and c.type is not None and c.type.optional for c in children]
        vals = [self.expr(c, frame, strict=not o, lift=lifted)
                for c, o in zip(children, optional)]
        if not any(optional):
            return vals
        # The module evaluates the operands that may have no value first; if one has
        # none, the operation has none, and the others are not evaluated: their errors
        # count only where every optional operand has a value.
        given = exp.and_(*(exp.and_(not_null(v.v), is_null(v.e) if v.e is not None
                                    else exp.true())
                           for v, o in zip(vals, optional) if o))
        return [v if o or v.e is None else self.put(v.v, case((given, v.e)), v,
                                                     *(x for x, ox in zip(vals, optional)
                                                       if ox))
                for v, o in zip(vals, optional)]

    # ------------------------------------------------------------ leaves

    def _literal(self, e: ir.Literal, frame: Frame, lift: bool) -> Val:
        return Val(sql_literal(e.value, (e.type or T.ERROR).kind), None, 0)

    def _name(self, e: ir.Name, frame: Frame, lift: bool) -> Val:
        if e.name in frame.params:
            return frame.params[e.name]
        target = self.i.decls.get(e.name)
        if e.name in self.facts and (target is None or isinstance(target, ir.Fact)):
            if target is not None and target.per is not None:
                return self.cannot(e, "values per period (series facts)")
            return self.facts[e.name]
        if isinstance(target, ir.Definition):
            return self.definition(target, (), e)
        if isinstance(target, ir.Obligation):
            return self.cannot(e, "an obligation as a value (ask for its fields)")
        if isinstance(target, ir.Power):
            return self.cannot(e, "a power as a value (ask for `.available`)")
        if isinstance(target, ir.Table):
            if self.outer is not None:
                return self.from_outer(self.outer.expr(e, frame))
            key = ("table", target.name)
            if key not in self.memo:
                self.memo[key] = lists.table(self, target)
            return self.memo[key]
        return Val(text(e.name), None, 0)  # a party, or a member of a choice

    def _nothing(self, e: ir.Nothing, frame: Frame, lift: bool) -> Val:
        if e.type is not None and e.type.kind in ("list", "record"):
            return Val(lists.to(exp.Null(), lists.data_type(self.i, e.type.required())), None,
                       0)
        sql_type = SQL_TYPES.get((e.type or T.ERROR).kind)
        return Val(cast(exp.Null(), sql_type) if sql_type else exp.Null(), None, 0)

    # ------------------------------------------------------------ terms

    def definition(self, d: ir.Definition, args: tuple[Val, ...], at: ir.Expr) -> Val:
        """A term's value, computed once for each set of arguments (inlined: SQL has no
        functions of rows)."""
        if self.outer is not None and not args:
            # The same for every item: computed once, in the enclosing query.
            return self.from_outer(self.outer.definition(d, args, at))
        back = self.step_back(at)
        if back is not None:
            return back
        key = (d.name, *(repr(a) for a in args))
        known = self.memo.get(key)
        if known is not None:
            return known
        if key in self.active:
            return self.cannot(at, "a term defined through itself (recursion)")
        self.active.add(key)
        try:
            frame = Frame(self.i.label_of(d), {p.name: a for p, a in zip(d.params, args)})
            if d.name in self.i.recursive:
                value = recursion.fold(self, d, args, frame)
            else:
                value = self.term(d, frame)
        finally:
            self.active.discard(key)
        self.memo[key] = value
        return value

    def term(self, d: ir.Definition, frame: Frame) -> Val:
        """A term's value in `frame`, its exceptions applied."""
        declared = d.declared_type or T.ERROR
        general = self.coerce(self.expr(d.expr, frame, strict=not declared.optional),
                              d.expr.type, declared)
        value = self.exceptions(d, frame, general)
        return self.put(value.v, value.e, value, note=f"{d.name}: {self.note(d.expr)}")

    def step_back(self, at: ir.Expr) -> Val | None:
        """A term's value for the period before, where `at` is the term's use of it and
        the term is being folded over periods (recursion.py): the fold's state."""
        back = self.steps_back.get(id(at))
        if back is not None or self.outer is None:
            return back
        found = self.outer.step_back(at)
        return self.from_outer(found) if found is not None else None

    def exceptions(self, d: ir.Definition, frame: Frame, general: Val) -> Val:
        """A term's value with its exceptions: the first that applies gives it; two that
        apply with different values are a ConflictError; every condition is evaluated."""
        found = self.i.exceptions.get(d.name, ())
        if not found:
            return general
        errors: list[exp.Expr | None] = []
        applies: list[tuple[Val, Val]] = []
        for exc in found:
            exc_frame = Frame(self.i.label_of(exc), frame.params)
            condition = self.expr(exc.condition, exc_frame)
            value = self.coerce(self.expr(exc.value, exc_frame), exc.value.type,
                                d.declared_type)
            errors += [condition.e, case((condition.v, value.e)) if value.e is not None
                       else None]
            applies.append((condition, value))
            if len(found) == 1:
                break
        conflicts = []
        for i, (ci, vi) in enumerate(applies):
            for cj, vj in applies[i + 1:]:
                conflicts.append((exp.and_(ci.v, cj.v, exp.NEQ(this=vi.v, expression=vj.v)),
                                  self.error("ConflictError", f"two exceptions to '{d.name}' "
                                             "apply with different values", d.span, frame)))
        any_applies = exp.or_(*(c.v for c, _ in applies))
        v = case(*((c.v, x.v) for c, x in applies), default=general.v)
        e = coalesce(*errors, case(*conflicts) if conflicts else None,
                     case((exp.Not(this=any_applies), general.e))
                     if general.e is not None else None)
        return self.put(v, e, general, *(x for pair in applies for x in pair))

    def _call(self, e: ir.Call, frame: Frame, lift: bool) -> Val:
        target = self.i.decls.get(e.name)
        if isinstance(target, ir.Definition):
            args = self.operands(e, frame, lift)
            coerced = tuple(self.coerce(a, x.type, p.type)
                            for a, x, p in zip(args, e.args, target.params))
            value = self.definition(target, coerced, e)
            errors = coalesce(*(a.e for a in args), value.e)
            return self.put(value.v, errors, value, *args) if errors is not value.e else value
        if isinstance(target, ir.Fact) and target.per is not None:
            return periods.series_value(self, e, target, frame, lift)
        if target is not None:
            # Read by its fields and `is late` (duties.py), not as a value.
            return self.cannot(e, "an instance of an obligation or power as a value (ask "
                               "for its fields)")
        if e.name in ("year", "month", "day", "days_between") and any(
                a.type is not None and a.type.kind == "datetime" for a in e.args):
            # The module reads a date and time in its own time zone (its day, or whole
            # days elapsed); a SQL timestamp keeps the instant, not the zone it was given in.
            return self.cannot(e, f"{e.name} of a date and time (read in the zone it was "
                               "given in, which SQL timestamps do not keep)")
        args = self.operands(e, frame, lift)
        values = [a.v for a in args]
        errors = coalesce(*(a.e for a in args))
        if e.name in ("year", "month", "day"):
            part = {"year": exp.Year, "month": exp.Month, "day": exp.Day}[e.name]
            return self.put(cast(part(this=values[0]), "BIGINT"), errors, *args)
        if e.name == "days_between":
            return self.put(self.days(values[0], values[1]), errors, *args)
        if e.name == "round":
            rounded = exp.Round(this=cast(values[0], DECIMAL_SQL),
                                decimals=cast(values[1], "INTEGER"))
            return self.put(cast(rounded, DECIMAL_SQL), errors, *args)
        return self.cannot(e, f"the function {e.name}")

    # -------------------------------------------------------- arithmetic

    def days(self, earlier: exp.Expr, later: exp.Expr) -> exp.Expr:
        """The number of days from `earlier` to `later`."""
        return cast(exp.DateDiff(this=cast(later, "DATE"), expression=cast(earlier, "DATE"),
                                 unit=exp.var("DAY")), "BIGINT")

    def _not(self, e: ir.Not, frame: Frame, lift: bool) -> Val:
        operand = self.expr(e.operand, frame)
        return self.put(exp.Not(this=operand.v), operand.e, operand)

    def _negate(self, e: ir.Negate, frame: Frame, lift: bool) -> Val:
        (operand,) = self.operands(e, frame, lift)
        return self.put(exp.Neg(this=operand.v), operand.e, operand)

    def _binary(self, e: ir.Binary, frame: Frame, lift: bool) -> Val:
        if e.op in ("and", "or", "unless"):
            return self.logic(e, frame)
        lk, rk = (e.left.type or T.ERROR).kind, (e.right.type or T.ERROR).kind
        left, right = self.operands(e, frame, lift)
        errors = coalesce(left.e, right.e)
        if e.op == "^":
            return self.power_of(left, right, errors, e, frame)
        if e.op in ("+", "-") and lk in T.MOMENTS and rk in T.DURATIONS:
            return self.shifted(left, right, e.right.type, e.op == "-", e, frame)
        if e.op == "+" and lk in T.DURATIONS and rk in T.MOMENTS:
            return self.shifted(right, left, e.left.type, False, e, frame)
        if e.op == "-" and lk == rk == "date":
            return self.put(self.days(right.v, left.v), errors, left, right)
        decimal = (e.type or T.ERROR).kind in T.DECIMALS
        lv, rv = left.v, right.v
        if decimal:
            lv, rv = cast(lv, DECIMAL_SQL), cast(rv, DECIMAL_SQL)
        if e.op == "/":
            return self.divided(lv, rv, errors, e, frame, left, right)
        if decimal and e.op == "*":
            return self.product(lv, rv, exp.true(), e, frame, left, right, errors=errors)
        operation = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[e.op]
        return self.guarded(operation(this=lv, expression=rv), lv, rv, e.op, decimal, errors, e,
                            frame, left, right)

    def guarded(self, result: exp.Expr, lv: exp.Expr, rv: exp.Expr, op: str,
                decimal: bool, errors: exp.Expr | None, e: ir.Expr, frame: Frame,
                *inputs: Val) -> Val:
        """An arithmetic result, computed only where its estimate (in floating point) is
        within the range of the SQL type, and an error of the row elsewhere: engines
        abort a whole query on an overflow."""
        estimate = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[op](
            this=cast(lv, "DOUBLE"), expression=cast(rv, "DOUBLE"))
        limit = float(DECIMAL_LIMIT) / 10 if decimal else float(INTEGER_LIMIT) / 10
        within = exp.LT(this=exp.Abs(this=estimate), expression=exp.Literal.number(limit))
        kind = DECIMAL_SQL if decimal else "BIGINT"
        value = case((within, cast(result, kind)))
        overflow = self.error("ClauseRuntimeError", "the result is out of the range of the SQL "
                              "backend", e.span, frame)
        own = case((exp.and_(exp.Not(this=within), not_null(estimate)), overflow))
        return self.put(value, coalesce(errors, own), *inputs, note=self.note(e))

    def imprecise(self, rounded: exp.Expr, exact: exp.Expr, e: ir.Expr,
                  frame: Frame) -> exp.Expr:
        """An error where a result is rounded to DECIMAL_PLACES places and small enough
        that the rounding leaves fewer than 8 significant digits: the SQL backend stops
        there rather than carry a value the Python module would not give."""
        small = exp.LT(this=exp.Abs(this=rounded), expression=cast(text(SMALLEST), DECIMAL_SQL))
        # Compared at the exact product's 20 places (Spark would compare both at 10).
        widened = try_cast(rounded.copy(), "DECIMAL(38, 20)")
        return case((exp.and_(small, exp.NEQ(this=widened, expression=exact)),
                     self.error("ClauseRuntimeError", "the result is too small to be kept "
                                "exactly enough by the SQL backend (10 decimal places)",
                                e.span, frame)))

    def divided(self, lv: exp.Expr, rv: exp.Expr, errors: exp.Expr | None,
                e: ir.Expr, frame: Frame, *inputs: Val) -> Val:
        """A quotient rounded half up to DECIMAL_PLACES places; division by zero is an
        error of the row, as in the module."""
        zero = exp.EQ(this=rv, expression=exp.Literal.number(0))
        small = exp.LT(this=exp.Abs(this=cast(lv, "DOUBLE")),
                       expression=exp.Literal.number(1e17))
        if self.dialect == "duckdb":
            # DuckDB divides decimals in floating point: divide scaled whole numbers
            # (HUGEINT) instead, rounding half up on the magnitude.
            scale = exp.Literal.number(10 ** DECIMAL_PLACES)
            n = exp.Mul(this=cast(exp.Mul(this=exp.Abs(this=lv), expression=scale), "HUGEINT"),
                        expression=cast(scale, "HUGEINT"))
            d = cast(exp.Mul(this=exp.Abs(this=rv), expression=scale), "HUGEINT")
            two = exp.Literal.number(2)
            q = exp.IntDiv(this=exp.Add(this=exp.Mul(this=n, expression=two), expression=d),
                           expression=exp.Mul(this=d, expression=two))
            magnitude = exp.Mul(this=cast(q, "DECIMAL(38, 0)"),
                                expression=cast(text(f"1E-{DECIMAL_PLACES}"), DECIMAL_SQL))
            negative = exp.Xor(this=exp.LT(this=lv, expression=exp.Literal.number(0)),
                               expression=exp.LT(this=rv, expression=exp.Literal.number(0)))
            quotient = case((negative, exp.Neg(this=magnitude)), default=magnitude)
        else:
            # Spark and others divide decimals exactly to the result's scale, rounding
            # half up: a dividend of 18 digits before the point (below 10^17, as
            # `small` requires) makes that scale DECIMAL_PLACES, whatever the divisor's
            # precision. (A narrower divisor would overflow its cast, which aborts the
            # query under Spark's ANSI mode.)
            quotient = exp.Div(this=try_cast(lv, f"DECIMAL(28, {DECIMAL_PLACES})"),
                               expression=cast(rv, DECIMAL_SQL))
        value = case((exp.and_(exp.Not(this=zero), small), cast(quotient, DECIMAL_SQL)))
        # An operation on no value has no value (lifted): the dividend's NULL is not
        # divided, whatever the divisor is.
        own = case((exp.and_(zero, not_null(lv)),
                    self.error("ClauseRuntimeError", "division by zero", e.span, frame)),
                   (exp.and_(exp.Not(this=small), not_null(lv)),
                    self.error("ClauseRuntimeError", "the dividend is out of the range of the "
                               "SQL backend", e.span, frame)))
        # A divisor so small that its 10 places keep few of its digits (a quotient of a
        # quotient) would make the quotient wrong by far: the row is refused instead.
        tiny = exp.and_(not_null(lv), exp.Not(this=zero), exp.LT(this=exp.Abs(this=rv),
                                                   expression=cast(text(SMALLEST), DECIMAL_SQL)))
        refused = case((tiny, self.error("ClauseRuntimeError", "the divisor is too small for "
                                         "the SQL backend's 10 decimal places", e.span,
                                         frame)))
        return self.put(case((exp.Not(this=tiny), value)), coalesce(errors, own, refused),
                        *inputs, note=self.note(e))

    def power_of(self, base: Val, exponent: Val, errors: exp.Expr | None, e: ir.Expr,
                 frame: Frame) -> Val:
        """`base ^ exponent` (a whole number from -POWER_BITS bits to +): by squaring, each
        product rounded as a product is; a negative exponent divides 1 by the power. 0 to
        the power of 0 is an error, as 0 to a negative power (a division by zero) is."""
        x = cast(base.v, DECIMAL_SQL)
        n = exp.Abs(this=exponent.v)
        one = cast(exp.Literal.number(1), DECIMAL_SQL)

        def bit(k: int) -> exp.Expr:
            shifted = exp.IntDiv(this=n, expression=exp.Literal.number(2 ** k))
            return exp.EQ(this=exp.Mod(this=shifted, expression=exp.Literal.number(2)),
                          expression=exp.Literal.number(1))

        square = Val(x, None, max(base.level, exponent.level))
        result = Val(one, None, 0)
        own: list[exp.Expr | None] = []
        for k in range(POWER_BITS):
            if k:
                needed = exp.GTE(this=n, expression=exp.Literal.number(2 ** k))
                square = self.product(square.v, square.v, needed, e, frame, square, exponent)
                own.append(square.e)
            step = self.product(result.v, square.v, bit(k), e, frame, result, square, exponent)
            own.append(step.e)
            result = self.put(case((bit(k), step.v), default=result.v), None, step, result)
        too_large = exp.GTE(this=n, expression=exp.Literal.number(2 ** POWER_BITS))
        zero = exp.EQ(this=x, expression=exp.Literal.number(0))
        negative = exp.LT(this=exponent.v, expression=exp.Literal.number(0))
        quotient = self.divided(one, result.v, None, e, frame, result)
        value = case((exp.or_(too_large, exp.and_(zero, exp.LTE(
            this=exponent.v, expression=exp.Literal.number(0)))), exp.Null()),
            (negative, quotient.v), default=result.v)
        problems = case(
            (exp.and_(zero, negative), self.error("ClauseRuntimeError", "division by zero",
                                                  e.span, frame)),
            (exp.and_(zero, exp.EQ(this=exponent.v, expression=exp.Literal.number(0))),
             self.error("ClauseRuntimeError", "0 to the power of 0 is undefined", e.span,
                        frame)),
            (too_large, self.error("ClauseRuntimeError", "the exponent is out of the range of "
                                   "the SQL backend", e.span, frame)))
        every = coalesce(errors, problems, *own, case((negative, quotient.e))
                         if quotient.e is not None else None)
        return self.put(value, every, quotient, result, base, exponent, note=self.note(e))

    def product(self, a: exp.Expr, b: exp.Expr, needed: exp.Expr, e: ir.Expr, frame: Frame,
                *inputs: Val, errors: exp.Expr | None = None) -> Val:
        """a * b of decimals where `needed`, rounded to DECIMAL_PLACES places (the exact
        product has 20 places: 18 digits before them fit a DECIMAL(38)); out of range, an
        error (only where it is needed), after the operands' `errors`."""
        estimate = exp.Mul(this=cast(a, "DOUBLE"), expression=cast(b, "DOUBLE"))
        within = exp.LT(this=exp.Abs(this=estimate), expression=exp.Literal.number(PRODUCT_LIMIT))
        exact = exp.Mul(this=a, expression=b)
        rounded: exp.Expr = exact
        if self.dialect in SPARK_DIALECTS:
            rounded = _spark_product(a, b)
            # Below SMALLEST, both factors are below 10^4 (neither is below 10^-10 but 0):
            # their product to 20 places fits a DECIMAL(38) in Spark too.
            exact = exp.Mul(this=try_cast(a, "DECIMAL(18, 10)"),
                            expression=try_cast(b, "DECIMAL(19, 10)"))
        value = case((exp.and_(needed, within), cast(rounded, DECIMAL_SQL)))
        overflow = self.error("ClauseRuntimeError", "the result is out of the range of the SQL "
                              "backend", e.span, frame)
        error = coalesce(errors, case((exp.and_(needed, exp.Not(this=within),
                                                not_null(estimate)), overflow)),
                         case((needed, self.imprecise(value, exact, e, frame))))
        return self.put(value, error, *inputs, note=self.note(e))

    def _duration(self, e: ir.Duration, frame: Frame, lift: bool) -> Val:
        (amount,) = self.operands(e, frame, lift)
        if e.per_unit == 1:
            return amount
        return self.put(exp.Mul(this=amount.v, expression=exp.Literal.number(e.per_unit)),
                        amount.e, amount)

    def _shift(self, e: ir.Shift, frame: Frame, lift: bool) -> Val:
        amount, base = self.operands(e, frame, lift)  # operands: amount, then base
        return self.shifted(base, amount, e.amount.type, e.direction == "before", e, frame)

    def shifted(self, moment: Val, amount: Val, unit: T.Type | None, backwards: bool,
                e: ir.Expr, frame: Frame) -> Val:
        """`moment` moved by `amount` of the duration type `unit`."""
        if (moment.v is not None) and e.type is not None and e.type.kind == "datetime":
            return self.cannot(e, "moving a date and time (its local time kept across "
                               "daylight saving)")
        count: exp.Expr = exp.Neg(this=amount.v) if backwards else amount.v
        errors = coalesce(moment.e, amount.e)
        kind = (unit or T.ERROR).kind
        if kind == "business_days":
            return self.business_days(moment, amount, count, unit, errors, e, frame)
        unit_name = "MONTH" if kind == "months" else "DAY"
        # The count as INTEGER: Spark's DATE_ADD and ADD_MONTHS take no BIGINT.
        moved = cast(exp.DateAdd(this=cast(moment.v, "DATE"), expression=cast(count, "INTEGER"),
                                 unit=exp.var(unit_name)), "DATE")
        return self.put(moved, errors, moment, amount, note=self.note(e))

    def business_days(self, moment: Val, amount: Val, count: exp.Expr,
                      unit: T.Type | None, errors: exp.Expr | None, e: ir.Expr,
                      frame: Frame) -> Val:
        """The n-th business day after `moment` (before it for n < 0), by the calendar
        table: `cum` counts the business days on or before a day, `before` those before
        it. Two stages: the counts of the day, then the business day with the count."""
        table = self.calendar_table((unit or T.ERROR).calendar)
        day = cast(moment.v, "DATE")
        counts = [self.put(self.lookup(table, column, "day", day), None, moment, amount)
                  for column in ("cum", "before")]
        n = self.put(count, None, moment, amount)
        target = case((exp.GT(this=n.v, expression=exp.Literal.number(0)),
                       exp.Add(this=counts[0].v, expression=n.v)),
                      default=exp.Add(this=exp.Add(this=counts[1].v, expression=n.v),
                                      expression=exp.Literal.number(1)))
        target_val = self.put(target, None, *counts, n)
        found = self.lookup(table, "day", "cum", target_val.v, business=True, smallest=True)
        value = case((exp.EQ(this=n.v, expression=exp.Literal.number(0)), day), default=found)
        outside = self.error("ClauseRuntimeError", "a business day outside the years of the "
                             "SQL calendar table", e.span, frame)
        result = self.put(value, None, target_val, n, moment, note=self.note(e))
        own = case((exp.and_(is_null(result.v), not_null(day), not_null(n.v)), outside))
        return self.put(result.v, coalesce(errors, own), result, moment, amount)

    def lookup(self, table: str, column: str, key: str, value: exp.Expr,
               business: bool = False, smallest: bool = False) -> exp.Expr:
        """`(SELECT MAX(c.column) FROM table AS c WHERE c.key = value)`: a correlated
        scalar subquery, which engines run as a join."""
        where: exp.Expr = exp.EQ(this=exp.column(key, table="c"), expression=value)
        if business:
            where = exp.and_(where, exp.column("business", table="c"))
        pick = exp.Min if smallest else exp.Max
        query = exp.select(pick(this=exp.column(column, table="c"))).from_(
            exp.alias_(exp.to_table(table), "c")).where(where)
        return exp.Subquery(this=query)

    def _closeofbusiness(self, e: ir.CloseOfBusiness, frame: Frame, lift: bool) -> Val:
        (day,) = self.operands(e, frame, lift)
        table = self.calendar_table(None)
        value = self.lookup(table, "close_of_business", "day", cast(day.v, "DATE"))
        return self.put(value, day.e, day, note=self.note(e))

    # ------------------------------------------------------------ logic

    def _compare(self, e: ir.Compare, frame: Frame, lift: bool) -> Val:
        for side, other in ((e.right, e.left), (e.left, e.right)):
            if isinstance(side, ir.Literal) and isinstance(side.value, bool) and \
                    e.op in ("==", "!="):
                value = self.expr(other, frame)
                if side.value == (e.op == "=="):
                    return value
                return self.put(exp.Not(this=value.v), value.e, value)
        left = self.expr(e.left, frame)
        right = self.expr(e.right, frame)
        lv, rv = left.v, right.v
        kinds = {(e.left.type or T.ERROR).kind, (e.right.type or T.ERROR).kind}
        if kinds & set(T.DECIMALS):
            lv, rv = cast(lv, DECIMAL_SQL), cast(rv, DECIMAL_SQL)
        elif kinds == {"date", "datetime"}:
            return self.cannot(e, "comparing a date with a date and time")
        node = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT,
                ">=": exp.GTE}[e.op](this=lv, expression=rv)
        return self.put(node, coalesce(left.e, right.e), left, right, note=self.note(e))

    def _isgiven(self, e: ir.IsGiven, frame: Frame, lift: bool) -> Val:
        operand = self.expr(e.operand, frame, strict=False, lift=True)
        test = is_null(operand.v) if e.negated else not_null(operand.v)
        return self.put(test, operand.e, operand)

    def logic(self, e: ir.Binary, frame: Frame) -> Val:
        """`and`, `or`, `unless`: two-valued where neither side can be unknown (the right
        side's error counts only where it is reached), else three-valued."""
        if self.i.unknowable(e.left) or self.i.unknowable(e.right):
            left = self.expr(e.left, frame)
            right = self.expr(e.right, frame)
            if e.op == "unless":
                right = self.put(exp.Not(this=right.v), right.e, right)
            return self.decide([left, right], e.op == "or")
        left = self.expr(e.left, frame)
        right = self.expr(e.right, frame)
        rv = exp.Not(this=right.v) if e.op == "unless" else right.v
        if e.op == "or":
            v = exp.or_(left.v, rv)
            reached: exp.Expr = exp.Not(this=left.v)
        else:
            v = exp.and_(left.v, rv)
            reached = left.v
        e_ = coalesce(left.e, case((reached, right.e)) if right.e is not None else None)
        return self.put(v, e_, left, right, note=self.note(e))

    def decide(self, items: Sequence[Val], decisive: bool) -> Val:
        """Three-valued `any` (`decisive` true) or `all`: the first item whose truth is
        `decisive` decides, even after an item left unknown by a missing fact or value; an
        item's other error is raised where it is reached; if nothing decides, the first
        unknown item's error."""
        target: exp.Expr = exp.true() if decisive else exp.false()
        whens: list[tuple[exp.Expr, exp.Expr]] = []
        decided: list[exp.Expr] = []
        for item in items:
            if item.e is not None:
                whens.append((exp.and_(not_null(item.e), exp.Not(this=unknown(item.e))),
                              item.e))
            hit: exp.Expr = exp.EQ(this=item.v, expression=target)
            if item.e is not None:
                hit = exp.and_(is_null(item.e), hit)
            whens.append((hit, exp.Null()))
            decided.append(hit)
        first_unknown = coalesce(*(i.e for i in items))
        e = case(*whens, default=first_unknown) if first_unknown is not None else None
        value = case((exp.or_(*decided), target), default=exp.Not(this=target))
        result = self.put(value, e, *items)
        if result.e is None:
            return result
        return self.put(case((is_null(result.e), result.v)), result.e, result)

    def _ifthenelse(self, e: ir.IfThenElse, frame: Frame, lift: bool) -> Val:
        condition = self.expr(e.condition, frame)
        then = self.coerce(self.expr(e.then, frame, strict=False), e.then.type, e.type)
        otherwise = self.coerce(self.expr(e.otherwise, frame, strict=False), e.otherwise.type,
                                e.type)
        v = case((condition.v, then.v), default=otherwise.v)
        branch = case((condition.v, then.e or exp.Null()), default=otherwise.e or exp.Null()) \
            if then.e is not None or otherwise.e is not None else None
        return self.put(v, coalesce(condition.e, branch), condition, then, otherwise,
                        note=self.note(e))

    def _when(self, e: ir.When, frame: Frame, lift: bool) -> Val:
        condition = self.expr(e.condition, frame)
        value = self.coerce(self.expr(e.value, frame, strict=False, lift=True), e.value.type,
                            e.type)
        v = case((condition.v, value.v))
        branch = case((condition.v, value.e)) if value.e is not None else None
        return self.put(v, coalesce(condition.e, branch), condition, value)

    def _case(self, e: ir.Case, frame: Frame, lift: bool) -> Val:
        subject = self.expr(e.subject, frame)
        arms = [(arm, self.coerce(self.expr(arm.value, frame, strict=False), arm.value.type,
                                  e.type)) for arm in e.arms]
        whens_v, whens_e = [], []
        default_v: exp.Expr | None = None
        default_e: exp.Expr | None = None
        for arm, val in arms:
            if not arm.members:
                default_v, default_e = val.v, val.e
                continue
            matches = exp.In(this=subject.v, expressions=[text(m) for m in arm.members])
            whens_v.append((matches, val.v))
            whens_e.append((matches, val.e or exp.Null()))
        v = case(*whens_v, default=default_v)
        branch = case(*whens_e, default=default_e) \
            if any(val.e is not None for _, val in arms) else None
        return self.put(v, coalesce(subject.e, branch), subject, *(val for _, val in arms))

    # ------------------------------------------------------------ lists of items

    def _listop(self, e: ir.ListOp, frame: Frame, lift: bool) -> Val:
        if e.kind in ("all", "any", "none"):
            return self.truth_list(e, frame)
        guards: list[Val | None] = []
        values: list[Val] = []
        errors: list[exp.Expr | None] = []
        for item in e.items:
            guard = self.expr(item.when, frame) if item.when is not None else None
            value = self.coerce(self.expr(item.expr, frame, strict=False, lift=True),
                                item.expr.type, e.type)
            guards.append(guard)
            values.append(value)
            if guard is not None:
                errors += [guard.e, case((guard.v, value.e)) if value.e is not None else None]
            else:
                errors.append(value.e)
        counted = [case((g.v, x.v)) if g is not None else x.v for g, x in zip(guards, values)]
        inputs = [*values, *(g for g in guards if g is not None)]
        if e.kind == "total":
            kind = DECIMAL_SQL if (e.type or T.ERROR).kind in T.DECIMALS else "BIGINT"
            zero = cast(exp.Literal.number(0), kind)
            terms = [exp.Coalesce(this=c, expressions=[zero]) for c in counted]
            total: exp.Expr = terms[0] if terms else zero
            for term in terms[1:]:
                total = exp.Add(this=total, expression=term)
            return self.put(cast(total, kind), coalesce(*errors), *inputs, note=self.note(e))
        pick = exp.Least if e.kind in ("earliest", "least") else exp.Greatest
        if len(counted) == 1:
            v: exp.Expr = counted[0]
        else:
            # An item with no value is skipped, as LEAST and GREATEST skip NULL in the
            # engines (sqlglot is told so: it would guard other dialects otherwise).
            v = pick(this=counted[0], expressions=counted[1:], ignore_nulls=True)
        return self.put(v, coalesce(*errors), *inputs, note=self.note(e))

    def truth_list(self, e: ir.ListOp, frame: Frame) -> Val:
        """all of / any of / none of, items in order; an item whose guard fails counts as
        true for `all of` and false for the others."""
        every = e.kind == "all"
        items = []
        for item in e.items:
            value = self.expr(item.expr, frame)
            if item.when is not None:
                guard = self.expr(item.when, frame)
                skip = exp.true() if every else exp.false()
                v = case((exp.Not(this=guard.v), skip), default=value.v)
                errors = coalesce(guard.e, case((guard.v, value.e)) if value.e is not None
                                  else None)
                value = self.put(v, errors, guard, value)
            items.append(value)
        unknowable = any(self.i.unknowable(x.expr) or
                         (x.when is not None and self.i.unknowable(x.when)) for x in e.items)
        if unknowable:
            result = self.decide(items, not every)
        else:
            result = self.stop_at_first(items, not every)
        if e.kind == "none":
            return self.put(exp.Not(this=result.v), result.e, result)
        return result

    def stop_at_first(self, items: Sequence[Val], decisive: bool) -> Val:
        """Two-valued: items in order until one's truth is `decisive`; an item's error
        counts only where the items before it did not decide."""
        target: exp.Expr = exp.true() if decisive else exp.false()
        errors: list[exp.Expr | None] = []
        undecided: list[exp.Expr] = []
        for item in items:
            if item.e is not None:
                reached = exp.and_(*undecided) if undecided else exp.true()
                errors.append(case((reached, item.e)))
            undecided.append(exp.NEQ(this=item.v, expression=target))
        value = case((exp.or_(*(exp.EQ(this=x.v, expression=target) for x in items)), target),
                     default=exp.Not(this=target))
        return self.put(value, coalesce(*errors), *items)

    # ----------------------------------------------------- obligations and powers

    def _field(self, e: ir.Field, frame: Frame, lift: bool) -> Val:
        if (e.operand.type or T.ERROR).kind in ("record", "share"):
            return lists.record_field(self, e, frame, lift)
        return duties.field(self, e, frame)

    def obligation(self, o: ir.Obligation, period: Val | None = None) -> dict[str, Val]:
        """An obligation's fields (duties.FIELDS), of its instance for `period` where it
        recurs."""
        return duties.obligation(self, o, period)

    def deadline(self, deadline: ir.Deadline, frame: Frame) -> Val:
        if deadline.kind == "within" and deadline.after is not None:
            start = self.expr(deadline.after, frame)
            amount = self.expr(deadline.expr, frame)
            return self.shifted(start, amount, deadline.expr.type, False, deadline.expr, frame)
        return self.expr(deadline.expr, frame)

    def power(self, p: ir.Power, period: Val | None = None) -> Val:
        """Whether a power is available (its instance for `period` where it recurs)."""
        return duties.power(self, p, period)

    # ------------------------------------------------ not translated (yet)

    def _periodof(self, e: ir.PeriodOf, frame: Frame, lift: bool) -> Val:
        return periods.period_of(self, e, frame, lift)

    def _firstperiod(self, e: ir.FirstPeriod, frame: Frame, lift: bool) -> Val:
        return periods.first_period(self, e, frame, lift)

    def _periodop(self, e: ir.PeriodOp, frame: Frame, lift: bool) -> Val:
        return periods.period_op(self, e, frame, lift)

    def _businessdayof(self, e: ir.BusinessDayOf, frame: Frame, lift: bool) -> Val:
        return periods.business_day_of(self, e, frame, lift)

    def _each(self, e: ir.Each, frame: Frame, lift: bool) -> Val:
        lists.need_lambdas(self, e)
        return lists.each(self, e, periods.period_range(self, e.range, frame), frame)

    def _late(self, e: ir.Late, frame: Frame, lift: bool) -> Val:
        return duties.late(self, e, frame)

    def _inforce(self, e: ir.InForce, frame: Frame, lift: bool) -> Val:
        return versions.term_in_force(self, e, frame)

    def _listof(self, e: ir.ListOf, frame: Frame, lift: bool) -> Val:
        return lists.list_of(self, e, frame)

    def _foreach(self, e: ir.ForEach, frame: Frame, lift: bool) -> Val:
        return lists.for_each(self, e, frame)

    def _aggregate(self, e: ir.Aggregate, frame: Frame, lift: bool) -> Val:
        return lists.aggregate_of(self, e, frame)

    def _allocate(self, e: ir.Allocate, frame: Frame, lift: bool) -> Val:
        return lists.allocate(self, e, frame)

    def _presentvalue(self, e: ir.PresentValue, frame: Frame, lift: bool) -> Val:
        # Discount factors are powers and exponentials to 50 digits: no SQL engine
        # computes them exactly.
        return self.cannot(e, "present values (powers and exponentials to 50 digits)")
