"""Periods as SQL: what a family's periods are, row by row.

A period is its index (BIGINT), as the runtime's `Period.index`: consecutive periods have
consecutive indexes, so `next`, `previous`, comparisons and ranges are arithmetic on it.
Its family is known from its type; what a family's periods are may depend on the row (a
family `from D`, D a fact), so the start of the family is a value of the row too
(`Family.start`) and a period's dates are computed from it and the index where they are
asked for:

* calendar and fiscal periods (without `from`): the index is the serial of the period,
  counted from the months in which whole periods start: month serial
  (year * 12 + month - 1) minus the fiscal offset, divided by the period's months;
* with `from D`: the same, counted from the period containing D (its first, a stub
  starting on D, is 1);
* contract periods: period n starts (n - 1) periods after D, by the end-of-month rule.

A range of periods is the ARRAY of its indexes (lists.py aggregates over it as over a
list); the first or last business day of a period is read from the calendar table, as
business-day shifts are (translate.py). An answer that is a period is its label
("2009-Q1 (from 2009-02-10)"), as the module prints it. A series fact is a column of
(period, value) structs, each period named by its label or a date inside it, matched
with the family's periods row by row (see "series facts" below).

Each function of a Translator (translate.py calls them for the period constructs) returns
a Val; the errors are the runtime's ValueErrors, which the module reports as
ClauseRuntimeError: a date before the family's first period, a period before year 1 or
after 9999, the period before a first one, a period with no business day.

Not translated: a date and time where a date is expected (the period containing it, a
family from it): the module reads its day in its own offset, the query in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Protocol

import attrs
from sqlglot import exp

from clausec import ir
from clausec.backends.python import runtime_time
from clausec.backends.python.runtime_periods import Frequency
from clausec.backends.sql.base import (
    Frame,
    Translating,
    UntranslatableError,
    Val,
    case,
    cast,
    coalesce,
    is_null,
    not_null,
    sql_literal,
    text,
)
from clausec.ir import types as T
from clausec.ir.visit import LIFTABLE
from clausec.source import Span


class WithFacts(Translating, Protocol):
    """A translator that also gives the facts' columns (a series fact's is read by
    `series_value`): translate.py's Translator."""

    @property
    def facts(self) -> Mapping[str, Val]: ...


_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}
_LETTERS = {"month": "M", "quarter": "Q", "half_year": "H", "year": ""}
_SINGULAR = {"month": "month", "quarter": "quarter", "half_year": "half-year", "year": "year"}
_DATES = ("date",)


@attrs.frozen
class Family:
    """A family of periods as the query reads it: its kind, and its start (the `from D`
    of a declared family: a value of the row, None where it has none)."""

    name: str
    display: str
    basis: str  # "calendar", "fiscal" or "contract"
    unit: str
    first_month: int
    start: Val | None

    @property
    def months(self) -> int:
        return _MONTHS[self.unit]

    @property
    def offset(self) -> int:
        """The month serial (mod months) of the months in which whole periods start."""
        return (self.first_month - 1) % self.months


# ------------------------------------------------------------------ SQL arithmetic


def _n(value: int) -> exp.Expr:
    return exp.Literal.number(value)


def _add(a: exp.Expr, b: exp.Expr | int) -> exp.Expr:
    return exp.Add(this=a, expression=_n(b) if isinstance(b, int) else b)


def _sub(a: exp.Expr, b: exp.Expr | int) -> exp.Expr:
    return exp.Sub(this=a, expression=_n(b) if isinstance(b, int) else b)


def _mul(a: exp.Expr, b: int) -> exp.Expr:
    return exp.Mul(this=a, expression=_n(b))


def _div(a: exp.Expr, b: int) -> exp.Expr:
    """Whole-number division of a number that is never negative (the serials of years 1
    and after): truncation and floor agree on it."""
    return exp.IntDiv(this=a, expression=_n(b))


def _mod(a: exp.Expr, b: int) -> exp.Expr:
    return exp.Mod(this=a, expression=_n(b))


def _eq(a: exp.Expr, b: exp.Expr | int) -> exp.Expr:
    return exp.EQ(this=a, expression=_n(b) if isinstance(b, int) else b)


def _serial(day: exp.Expr) -> exp.Expr:
    """The month serial of a date: months since January of year 0."""
    return cast(_sub(_add(_mul(cast(exp.Year(this=day), "BIGINT"), 12),
                          cast(exp.Month(this=day), "BIGINT")), 1), "BIGINT")


def _first_of(serial: exp.Expr) -> exp.Expr:
    """The first day of the month with this serial."""
    return exp.DateFromParts(year=cast(_div(serial, 12), "INTEGER"),
                             month=cast(_add(_mod(serial.copy(), 12), 1), "INTEGER"),
                             day=_n(1))


def _last_of(serial: exp.Expr) -> exp.Expr:
    """The last day of the month with this serial."""
    return exp.LastDay(this=_first_of(serial))


def _add_months(day: exp.Expr, months: exp.Expr) -> exp.Expr:
    """`day` moved by whole months, by the end-of-month rule (the engines' month
    arithmetic clamps to the month's last day, as the runtime's add_months does)."""
    return cast(exp.DateAdd(this=cast(day, "DATE"), expression=cast(months, "INTEGER"),
                            unit=exp.var("MONTH")), "DATE")


def _year_within(serial: exp.Expr) -> exp.Expr:
    """Whether a month serial is in the years 1 to 9999."""
    return exp.Between(this=serial, low=_n(12), high=_n(9999 * 12 + 11))


# ------------------------------------------------------------------ families


def family(t: Translating, name: str, span: Span) -> Family:
    """The family `name` of this version, its start computed once per query (in the
    enclosing query, for the items of a list)."""
    unit = ir.CALENDAR_FAMILIES.get(name)
    if unit is not None:
        return Family(name, name.replace("_", " "), "calendar", unit, 1, None)
    decl = t.i.decls.get(name)
    if not isinstance(decl, ir.PeriodFamily):
        raise UntranslatableError(f"the periods {name}", span)
    start = family_start(t, decl) if decl.start is not None else None
    return Family(name, decl.display, decl.basis, decl.unit, decl.first_month, start)


def family_start(t: Translating, decl: ir.PeriodFamily) -> Val:
    """The `from D` of a family, with its errors (the module builds the family, and
    reports them, where a period of it is first needed)."""
    if t.outer is not None:
        return t.from_outer(family_start(t.outer, decl))
    key = ("family", decl.name)
    known = t.memo.get(key)
    if known is None:
        assert decl.start is not None
        if (decl.start.type or T.ERROR).kind not in _DATES:
            raise UntranslatableError("periods from a date and time (its day is read in "
                                      "its own offset)", decl.start.span)
        value = t.expr(decl.start, Frame(t.i.label_of(decl)))
        known = t.memo[key] = t.put(cast(value.v, "DATE"), value.e, value,
                                    note=f"{decl.name}: {t.note(decl.start)}")
    return known


def _natural(f: Family, day: exp.Expr) -> exp.Expr:
    """The serial of the calendar or fiscal period (of whole periods) containing `day`."""
    return _div(_sub(_serial(day), f.offset), f.months)


def _whole(f: Family, index: exp.Expr) -> exp.Expr:
    """The serial of the whole calendar or fiscal period of this index (for a family
    `from D`, of the period containing D and after)."""
    if f.start is None:
        return index
    return _sub(_add(_natural(f, f.start.v), index), 1)


def _first_month(f: Family, index: exp.Expr) -> exp.Expr:
    """The month serial in which the whole period of this index starts."""
    return _add(_mul(_whole(f, index), f.months), f.offset)


def _valid(f: Family, index: exp.Expr) -> exp.Expr:
    """Whether the period of this index is one of the runtime's: in the years 1 to 9999
    (its first and last day) and, in a family with a start, not before its first."""
    if f.basis == "contract":
        assert f.start is not None
        c = _serial(f.start.v)
        return exp.and_(exp.GTE(this=index, expression=_n(1)),
                        _year_within(_add(c, _mul(index.copy(), f.months))))
    first = _first_month(f, index)
    ends = _year_within(_add(first.copy(), f.months - 1))
    if f.start is None:
        return exp.and_(_year_within(first), ends)
    # The first period starts on the family's start, whatever month its whole one would.
    starts = exp.or_(_eq(index.copy(), 1), _year_within(first))
    return exp.and_(exp.GTE(this=index.copy(), expression=_n(1)), starts, ends)


def _out_of_range(t: Translating, f: Family, index: Val, span: Span,
                  frame: Frame) -> exp.Expr:
    """The error of an index that is no period of the family (NULL where it is one)."""
    return case((exp.and_(not_null(index.v), exp.Not(this=_valid(f, index.v))),
                 t.error("ClauseRuntimeError", f"a {f.display} outside the supported dates "
                         "(years 1 to 9999)", span, frame)))


def _checked(t: Translating, f: Family, index: exp.Expr, errors: exp.Expr | None,
             span: Span, frame: Frame, *inputs: Val) -> Val:
    """A period of the family: its index, NULL and an error where it is none."""
    val = t.put(cast(index, "BIGINT"), errors, *inputs, *_starts(f))
    own = _out_of_range(t, f, val, span, frame)
    return t.put(case((exp.Not(this=exp.Coalesce(this=_valid(f, val.v), expressions=[
        exp.false()])), exp.Null()), default=val.v), coalesce(val.e, own), val)


def _starts(f: Family) -> list[Val]:
    return [f.start] if f.start is not None else []


# ------------------------------------------------------------------ a period's days


def start_of(f: Family, index: exp.Expr) -> exp.Expr:
    """The first day of a period (a valid index)."""
    if f.basis == "contract":
        assert f.start is not None
        return _add_months(f.start.v, _mul(_sub(index, 1), f.months))
    whole = _first_of(_first_month(f, index))
    if f.start is None:
        return whole
    return case((_eq(index.copy(), 1), cast(f.start.v, "DATE")), default=whole)


def end_of(f: Family, index: exp.Expr) -> exp.Expr:
    """The last day of a period (a valid index)."""
    if f.basis == "contract":
        assert f.start is not None
        after = _add_months(f.start.v, _mul(index, f.months))
        return cast(exp.DateAdd(this=after, expression=_n(-1), unit=exp.var("DAY")), "DATE")
    return _last_of(_add(_first_month(f, index), f.months - 1))


def number_of(f: Family, index: exp.Expr) -> exp.Expr:
    """The number in the period's label: the quarter (1-4) or month (1-12) in its year,
    the year (a fiscal year's: the calendar year it ends in), or a contract period's."""
    if f.basis == "contract":
        return index
    if f.months == 12:
        return _year_of(f, index)
    first = _first_month(f, index)
    return _add(_div(_sub(first, _year_start(f, first.copy())), f.months), 1)


def _year_start(f: Family, first: exp.Expr) -> exp.Expr:
    """The month serial of the first month of the (fiscal) year a month is in."""
    return _add(_mul(_div(_sub(first, f.first_month - 1), 12), 12), f.first_month - 1)


def _year_of(f: Family, index: exp.Expr) -> exp.Expr:
    """The year of a period's label: the calendar year, or the one a fiscal year ends
    in (a stub's is its whole period's: the same year)."""
    return _div(_add(_year_start(f, _first_month(f, index)), 11), 12)


def _digits(value: exp.Expr, width: int) -> exp.Expr:
    """A whole number (0 or more) with at least `width` digits, as Python's `:04d` writes
    it (LPAD alone would cut a longer one: the fiscal year FY10000 ends in 10000)."""
    digits = cast(value, "TEXT")
    return case((exp.LT(this=exp.Length(this=digits), expression=_n(width)),
                 exp.Pad(this=digits.copy(), expression=_n(width), fill_pattern=text("0"),
                         is_left=True)), default=digits.copy())


def _iso(day: exp.Expr) -> exp.Expr:
    return exp.Concat(expressions=[_digits(exp.Year(this=day), 4), text("-"),
                                   _digits(exp.Month(this=day.copy()), 2), text("-"),
                                   _digits(exp.Day(this=day.copy()), 2)])


def _plain_label(f: Family, index: exp.Expr) -> exp.Expr:
    """A period's label without a stub's "(from ...)"."""
    if f.basis == "contract":
        return exp.Concat(expressions=[text(f"contract {_SINGULAR[f.unit]} "),
                                       cast(index, "TEXT")])
    year = _digits(_year_of(f, index), 4)
    parts: list[exp.Expr]
    letter = _LETTERS[f.unit]
    if f.basis == "fiscal":
        parts = [text("FY"), year]
        if f.months < 12:
            parts += [text(f" {letter}"), cast(number_of(f, index.copy()), "TEXT")]
    elif f.months == 1:
        parts = [year, text("-"), _digits(_add(_mod(_first_month(f, index.copy()), 12), 1), 2)]
    elif f.months == 12:
        parts = [year]
    else:
        parts = [year, text(f"-{letter}"), cast(number_of(f, index.copy()), "TEXT")]
    return exp.Concat(expressions=parts)


def label_of(f: Family, index: exp.Expr) -> exp.Expr:
    """The period's label, as the runtime's: "2024-Q2", "2024-05", "2024", "FY2000 Q3",
    "contract year 2"; a stub adds its first day, "2009-Q1 (from 2009-02-10)"."""
    label = _plain_label(f, index)
    if f.start is None or f.basis == "contract":
        return label
    c = f.start.v
    # A first period that does not start where a whole one would is a stub.
    stub = exp.and_(_eq(index.copy(), 1), exp.or_(
        exp.NEQ(this=exp.Day(this=c.copy()), expression=_n(1)),
        exp.NEQ(this=_mod(_sub(_serial(c.copy()), f.offset), f.months), expression=_n(0))))
    return case((stub, exp.Concat(expressions=[label.copy(), text(" (from "), _iso(c.copy()),
                                               text(")")])), default=label)


# ------------------------------------------------------------------ the constructs


def _lifted(e: ir.Expr, lift: bool) -> bool:
    """Whether the operation has no value where its operand has none (as translate's
    operands reads it), rather than an error."""
    return lift and e.type is not None and e.type.optional and isinstance(e, LIFTABLE)


def _family_error(f: Family, operand: Val, lifted: bool) -> exp.Expr | None:
    """The error of building the family, where the module builds it: before its operand,
    or, where the operation is lifted, only once the operand has a value."""
    if f.start is None or f.start.e is None:
        return None
    if lifted:
        return case((not_null(operand.v), f.start.e))
    return f.start.e


def containing(t: Translating, f: Family, day: Val, span: Span, frame: Frame,
               errors: exp.Expr | None, *deps: Val) -> Val:
    """The period of `f` that contains `day` (a date); an error where `day` is before its
    first period, or the period is outside the supported dates. `errors`: those before
    it, read from `day` and `deps`."""
    d = cast(day.v, "DATE")
    if f.start is None:
        return _checked(t, f, _natural(f, d), errors, span, frame, day, *deps)
    c = f.start.v
    before = t.error("ClauseRuntimeError", f"the date is before the first {f.display}",
                     span, frame)
    own = case((exp.LT(this=d, expression=c), before))
    errors = coalesce(errors, own)
    if f.basis != "contract":
        index = _add(_sub(_natural(f, d.copy()), _natural(f, c.copy())), 1)
        return _checked(t, f, case((exp.GTE(this=d.copy(), expression=c.copy()), index)),
                        errors, span, frame, day, *deps)
    # The estimate is one too high where `day` is in the month a period starts in, but
    # before the day it starts on. The runtime computes the estimated period's days
    # first: where they are outside the supported dates, so is the answer.
    estimate = t.put(case((exp.GTE(this=d.copy(), expression=c.copy()), _add(
        _div(_sub(_serial(d.copy()), _serial(c.copy())), f.months), 1))), None, day, f.start)
    starts = _add_months(c.copy(), _mul(_sub(estimate.v, 1), f.months))
    index = case((exp.Not(this=_valid(f, estimate.v)), exp.Null()),
                 (exp.LT(this=d.copy(), expression=starts), _sub(estimate.v.copy(), 1)),
                 default=estimate.v.copy())
    errors = coalesce(errors, _out_of_range(t, f, estimate, span, frame))
    return _checked(t, f, index, errors, span, frame, day, estimate, *deps)


def _day_operand(e: ir.Expr) -> None:
    if (e.type or T.ERROR).kind not in _DATES:
        raise UntranslatableError("the period containing a date and time (its day is read "
                                  "in its own offset)", e.span)


def period_of(t: Translating, e: ir.PeriodOf, frame: Frame, lift: bool) -> Val:
    _day_operand(e.day)
    f = family(t, e.family, e.span)
    (day,) = t.operands(e, frame, lift)
    lifted = _lifted(e, lift)
    built = _family_error(f, day, lifted)
    errors = coalesce(day.e, built) if lifted else coalesce(built, day.e)
    return containing(t, f, day, e.span, frame, errors)


def first_period(t: Translating, e: ir.FirstPeriod, frame: Frame, lift: bool) -> Val:
    f = family(t, e.family, e.span)
    if f.start is None:
        error = t.error("ClauseRuntimeError", f"the {f.display} have no first period: they "
                        "have no start date", e.span, frame)
        return t.put(cast(exp.Null(), "BIGINT"), error)
    return _checked(t, f, _n(1), f.start.e, e.span, frame, f.start)


def period_op(t: Translating, e: ir.PeriodOp, frame: Frame, lift: bool) -> Val:
    f = family(t, (e.operand.type or T.ERROR).family or "", e.span)
    (period,) = t.operands(e, frame, lift)
    inputs = [period, *_starts(f)]
    # A period has a value only once its family was built: the family's errors, if any,
    # are the period's own already.
    if e.op == "start":
        return t.put(start_of(f, period.v), period.e, *inputs, note=t.note(e))
    if e.op == "end":
        return t.put(end_of(f, period.v), period.e, *inputs, note=t.note(e))
    if e.op == "number":
        return t.put(cast(number_of(f, period.v), "BIGINT"), period.e, *inputs)
    if e.op == "next":
        return _checked(t, f, _add(period.v, 1), period.e, e.span, frame, *inputs)
    assert e.op == "previous", e.op
    errors = period.e
    if f.start is not None:
        first = t.error("ClauseRuntimeError", f"there is no {f.display} before the first",
                        e.span, frame)
        errors = coalesce(errors, case((_eq(period.v, 1), first)))
    return _checked(t, f, _sub(period.v.copy(), 1), errors, e.span, frame, *inputs)


def argument(t: Translating, family_name: str, value: object, span: Span) -> Val:
    """A period given as an argument of a term answered for every row: a date (the period
    containing it, in each row's family), or a period's label ("2009-Q1") or the period
    itself, of a family that does not depend on the row."""
    f = family(t, family_name, span)
    frame = Frame(None)
    if isinstance(value, str):
        try:  # a date written out names the period containing it, as the module reads it
            value = date.fromisoformat(value.strip())
        except ValueError:
            pass
    if isinstance(value, date) and not isinstance(value, datetime):
        day = Val(sql_literal(value, "date"), None, 0)
        return containing(t, f, day, span, frame, f.start.e if f.start else None,
                          *_starts(f))
    if f.start is not None:
        raise UntranslatableError("a period argument other than a date (for periods "
                                  "from a date of the row)", span)
    frequency = Frequency(f.unit, f.basis, f.first_month)
    try:
        # A period (of the module's own classes) is named by its label, as it prints.
        index = runtime_time.period_of(frequency, str(value), "the period").index
    except ValueError as error:
        message = t.error("ClauseRuntimeError", str(error), span, frame)
        return Val(cast(exp.Null(), "BIGINT"), message, 0)
    return Val(cast(_n(index), "BIGINT"), None, 0)


def label(t: Translating, family_name: str, period: Val, span: Span) -> Val:
    """A period's label (how an answer that is a period is written in the results)."""
    f = family(t, family_name, span)
    return t.put(label_of(f, period.v), period.e, period, *_starts(f))


def business_day_of(t: Translating, e: ir.BusinessDayOf, frame: Frame, lift: bool) -> Val:
    """The first or last business day of a period, from the calendar table: the business
    day whose count is one more than the count before the period's first day (the first),
    or the count on its last day (the last); an error where it is not in the period, or
    the table does not know the period's days."""
    f = family(t, (e.period.type or T.ERROR).family or "", e.span)
    (period,) = t.operands(e, frame, lift)
    table = t.calendar_table(e.calendar)
    inputs = [period, *_starts(f)]
    first = t.put(start_of(f, period.v), None, *inputs)
    last = t.put(end_of(f, period.v.copy()), None, *inputs)
    if e.which == "first":
        count = t.put(_add(t.lookup(table, "before", "day", first.v), 1), None, first)
    else:
        count = t.put(t.lookup(table, "cum", "day", last.v), None, last)
    found = t.put(t.lookup(table, "day", "cum", count.v, business=True, smallest=True), None,
                  count)
    inside = exp.Between(this=found.v, low=first.v, high=last.v)
    outside = t.error("ClauseRuntimeError", "a business day outside the years of the SQL "
                      "calendar table", e.span, frame)
    none = t.error("ClauseRuntimeError", "the period has no business day", e.span, frame)
    own = case((is_null(period.v), exp.Null()), (is_null(count.v), outside),
               (exp.Not(this=exp.Coalesce(this=inside, expressions=[exp.false()])), none))
    value = case((inside.copy(), found.v))
    return t.put(value, coalesce(period.e, own), found, first, last, period, note=t.note(e))


# ------------------------------------------------------------------ series facts
#
# A series fact is a column of (period, value) structs (plan.py reads and converts it):
# each period named by its label ("2009-Q1", "FY2000 Q3", "contract year 2", a stub's
# with or without its "(from ...)") or by an ISO date inside it, as the module's Series
# names them. Each name is matched with its period's index once per row (`_indexed`);
# a name that is no period of the family, or a period named twice, is the FactError the
# module raises when the series is first read.

MAX_PERIODS = runtime_time.MAX_PERIODS
# Whitespace as Python's str.split() sees it (the characters themselves: the patterns
# hold no backslash, as reading.py's).
_SPACES = "[ \t\n\r\f\v]+"
_ISO_DAY = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_BASIC_DAY = "^[0-9]{8}$"
# ISO week dates ("2009-W13-2"), which Python's date.fromisoformat reads: not read here.
_WEEK_DAY = "^[0-9]{4}-?w[0-9]"


def series_type(value: exp.DataType) -> exp.DataType:
    """The SQL type of a series fact's column: ARRAY<STRUCT<period TEXT, value ...>>."""
    entry = exp.DataType(this=exp.DataType.Type.STRUCT, nested=True, expressions=[
        exp.ColumnDef(this=exp.to_identifier("period", quoted=True),
                      kind=exp.DataType.build("TEXT")),
        exp.ColumnDef(this=exp.to_identifier("value", quoted=True), kind=value.copy())])
    return exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[entry], nested=True)


def _field(of: exp.Expr, name: str) -> exp.Expr:
    return exp.Dot(this=of, expression=exp.to_identifier(name, quoted=True))


def _lam(body: exp.Expr, name: str) -> exp.Expr:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(name)])


def _struct(*fields: tuple[str, exp.Expr]) -> exp.Expr:
    return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(name, quoted=True),
                                                  expression=value)
                                   for name, value in fields])


def _first_item(array: exp.Expr) -> exp.Expr:
    return exp.Bracket(this=array, expressions=[_n(1)], offset=1, safe=True)


def _day_index(f: Family, d: exp.Expr) -> exp.Expr:
    """The index of the period containing `d`, NULL where there is none (`d` before the
    first, or the period outside the supported dates): one expression, for a lambda."""
    if f.start is None:
        index = _natural(f, d)
    elif f.basis != "contract":
        index = case((exp.GTE(this=d, expression=f.start.v), _add(_sub(
            _natural(f, d.copy()), _natural(f, f.start.v)), 1)))
    else:
        c = f.start.v
        estimate = _add(_div(_sub(_serial(d.copy()), _serial(c)), f.months), 1)
        starts = _add_months(c.copy(), _mul(_sub(estimate.copy(), 1), f.months))
        index = case((exp.LT(this=d.copy(), expression=c.copy()), exp.Null()),
                     (exp.Not(this=_valid(f, estimate.copy())), exp.Null()),
                     (exp.LT(this=d.copy(), expression=starts), _sub(estimate.copy(), 1)),
                     default=estimate.copy())
    return case((_valid(f, index), index.copy()))


def _label_index(f: Family, name: exp.Expr) -> exp.Expr:
    """The index of the period whose label is `name` (lower case, its spaces single), NULL
    where none has: the numbers of the label read by the family's pattern, the period
    they give, and its label compared with `name`."""
    def number(pattern: str, group: int) -> exp.Expr:
        return exp.TryCast(this=exp.RegexpExtract(this=name.copy(), expression=text(pattern),
                                                  group=_n(group)),
                           to=exp.DataType.build("BIGINT"), safe=True)

    fm, m = f.first_month, f.months
    if f.basis == "contract":
        index = number("^contract [a-z-]+ ([0-9]+)", 1)
        year_ok: exp.Expr = exp.LTE(this=index.copy(), expression=_n(MAX_PERIODS))
    else:
        if f.basis == "fiscal":
            pattern = "^fy([0-9]{4})" + (" [qh]([0-9]+)" if m < 12 else "")
            year = number(pattern, 1)
            # The month serial the fiscal year named by `year` (the year it ends in) starts.
            year_start = _add(_mul(year, 12), (fm - 1) - (12 if fm != 1 else 0))
        else:
            pattern = "^([0-9]{4})" + {1: "-([0-9]+)", 12: ""}.get(m, "-[qh]([0-9]+)")
            year = number(pattern, 1)
            year_start = _mul(year, 12)
        first = year_start if m == 12 else _add(year_start, _mul(_sub(number(pattern, 2), 1),
                                                                 m))
        natural = _div(_sub(first, f.offset), m)
        index = natural if f.start is None else _add(_sub(natural, _natural(f, f.start.v)), 1)
        # The module looks for labels near the year they name, from 0002 to 9998.
        year_ok = exp.Between(this=year.copy(), low=_n(2), high=_n(9998))
    own = exp.or_(_eq(exp.Lower(this=label_of(f, index.copy())), name.copy()),
                  _eq(exp.Lower(this=_plain_label(f, index.copy())), name.copy()))
    return case((exp.and_(year_ok, _valid(f, index.copy()), own), index.copy()))


def _named_index(f: Family, key: exp.Expr) -> exp.Expr:
    """The index of the period a series names by `key`: an ISO date inside it, else its
    label."""
    name = exp.Lower(this=exp.Trim(this=exp.RegexpReplace(this=key, expression=text(_SPACES),
                                                           replacement=text(" "))))
    basic = exp.Concat(expressions=[exp.Substring(this=name.copy(), start=_n(1), length=_n(4)),
                                    text("-"), exp.Substring(this=name.copy(), start=_n(5),
                                                             length=_n(2)),
                                    text("-"), exp.Substring(this=name.copy(), start=_n(7),
                                                             length=_n(2))])
    day = case((exp.RegexpLike(this=name.copy(), expression=text(_ISO_DAY)),
                exp.TryCast(this=name.copy(), to=exp.DataType.build("DATE"), safe=True)),
               (exp.RegexpLike(this=name.copy(), expression=text(_BASIC_DAY)),
                exp.TryCast(this=basic, to=exp.DataType.build("DATE"), safe=True)))
    return case((not_null(day), _day_index(f, day.copy())), default=_label_index(f, name))


def _indexed(t: Translating, fact: ir.Fact, f: Family, column: Val | None,
             span: Span) -> Val:
    """A series' entries with the index of the period each names (`i`), and the error of
    the names: the first that names no period, or a period named twice (a FactError, as
    the module's), or an ISO week date (which the query does not read)."""
    if t.outer is not None:
        # The family again as the enclosing query has it: this one's start is a value
        # of the list's items.
        return t.from_outer(_indexed(t.outer, fact, family(t.outer, f.name, span), column,
                                     span))
    key = ("series", fact.name)
    known = t.memo.get(key)
    if known is not None:
        return known
    if column is None:
        # plan.py reads no column for them.
        raise UntranslatableError("values per period of a type SQL does not hold", span)
    entry = exp.column("_p")
    indexed = exp.Transform(this=column.v, expression=_lam(_struct(
        ("i", _named_index(f, _field(entry, "period"))), ("period", _field(entry, "period")),
        ("value", _field(entry, "value"))), "_p"))
    rows = t.put(indexed, None, column, *_starts(f), note=f"the periods of {fact.name}")
    z = exp.column("_z")
    unnamed = _first_item(exp.ArrayFilter(this=rows.v, expression=_lam(
        is_null(_field(z, "i")), "_z")))
    week = exp.ArrayFilter(this=rows.v, expression=_lam(exp.RegexpLike(this=exp.Lower(
        this=exp.Trim(this=_field(z.copy(), "period"))), expression=text(_WEEK_DAY)), "_z"))
    indexes = exp.Transform(this=rows.v, expression=_lam(_field(z.copy(), "i"), "_z"))
    twice = exp.LT(this=exp.ArraySize(this=exp.ArrayDistinct(this=indexes)),
                   expression=exp.ArraySize(this=rows.v))
    problem = f"FactError: fact {fact.name!r}: "
    error = case((exp.GT(this=exp.ArraySize(this=week), expression=_n(0)),
                  t.error("ClauseRuntimeError", "an ISO week date names a period of "
                          f"{fact.name!r}, which the SQL backend does not read", span,
                          Frame(fact.section))),
                 (not_null(unnamed), exp.Concat(expressions=[
                     text(problem), _field(unnamed.copy(), "period"),
                     text(f" names none of the {f.display} periods")])),
                 (twice, text(problem + "two of its entries name the same period: give "
                              "each period once")))
    known = t.memo[key] = t.put(rows.v, error, rows)
    return known


def series_value(t: WithFacts, e: ir.Call, fact: ir.Fact, frame: Frame, lift: bool) -> Val:
    """A series fact's value for a period: the value given for it, else the default, else
    no value (where the clause allows none) or a MissingFactError naming the period."""
    f = family(t, fact.per or "", e.span)
    entries = _indexed(t, fact, f, t.facts.get(fact.name), e.span)
    (period,) = t.operands(e, frame, lift)
    lifted = _lifted(e, lift)
    built = _family_error(f, period, lifted)
    before = coalesce(period.e, built) if lifted else coalesce(built, period.e)
    z = exp.column("_z")
    picked = t.put(_first_item(exp.ArrayFilter(this=entries.v, expression=_lam(
        exp.EQ(this=_field(z, "i"), expression=period.v), "_z"))), None, entries, period)
    value: exp.Expr = _field(picked.v, "value")
    inputs = [picked, entries, period, *_starts(f)]
    if fact.default is not None:
        default = t.coerce(t.expr(fact.default, Frame(fact.section)), fact.default.type,
                           fact.type)
        value = exp.Coalesce(this=value, expressions=[default.v])
        inputs.append(default)
    # Not given, an optional series without a default is none at all: no value for any
    # period, and no names to match.
    absent = is_null(entries.v) if fact.type.optional and fact.default is None \
        else exp.false()
    needed = not (e.type or T.ERROR).optional
    missing = None
    if needed and fact.default is None:
        # The module's message names the period by its label, which only the row knows:
        # the error's text up to it, the label, and the rest.
        where = t.error("MissingFactError", f"fact '{fact.name}[", e.span, frame).name
        needer = ir.cite(frame.section) if frame.section else "this rule"
        missing = case((is_null(picked.v), exp.Concat(expressions=[
            text(where), label_of(f, period.v), text(f"]' is not given, but {needer} needs "
                                                     "it")])))
    own = coalesce(case((exp.Not(this=absent), entries.e)) if entries.e is not None
                   else None, missing)
    if own is not None:
        own = case((not_null(period.v), own))
    return t.put(case((exp.Not(this=absent.copy()), value)), coalesce(before, own), *inputs,
                 note=t.note(e))


# ------------------------------------------------------------------ ranges


def _bound_index(t: Translating, f: Family, bound: ir.Expr, val: Val, frame: Frame,
                 errors: exp.Expr | None, *deps: Val, at: Span | None = None) -> Val:
    """A range's bound as a period: itself, or the period containing the date (an error
    of finding it reported `at` a span, the bound's by default)."""
    if (bound.type or T.ERROR).kind == "period":
        return t.put(val.v, errors, val, *deps)
    _day_operand(bound)
    return containing(t, f, val, at or bound.span, frame, errors, *deps)


def period_range(t: Translating, r: ir.Range, frame: Frame) -> Val:
    """The periods of a range, in order, as an array (its Val's value) of indexes."""
    f = family(t, r.family, r.span)
    bounds = [t.expr(b, frame) if b is not None else None for b in (r.start, r.end)]
    start, end = bounds
    if r.kind == "open" or end is None or r.end is None:
        error = t.error("ClauseRuntimeError", "the range of periods has no end", r.span,
                        frame)
        return t.put(cast(exp.Null(), "ARRAY<BIGINT>"), coalesce(
            f.start.e if f.start else None, *(b.e for b in bounds if b is not None), error),
            *(b for b in bounds if b is not None))
    built = f.start.e if f.start is not None else None
    if r.kind == "ending":
        assert r.count is not None
        last = _bound_index(t, f, r.end, end, frame, coalesce(built, end.e), *_starts(f))
        first = _sub(last.v, r.count - 1)
        if f.start is not None:
            first = exp.Greatest(this=first, expressions=[_n(1)])
        lowest = t.put(first, None, last)
        # The earliest period of the run must be one (the later ones then are).
        own = case((exp.and_(not_null(lowest.v), exp.Not(this=_valid(f, lowest.v))),
                    t.error("ClauseRuntimeError", f"a {f.display} outside the supported "
                            "dates (years 1 to 9999)", r.span, frame)))
        return _indexes(t, lowest, last, coalesce(last.e, own), r, frame, *_starts(f))
    assert r.start is not None and start is not None
    first_val = _first(t, f, r.start, start, frame, coalesce(built, start.e))
    last_val = _last(t, f, r, end, frame, coalesce(first_val.e, end.e), first_val)
    too_many = case((exp.GTE(this=_sub(last_val.v, first_val.v), expression=_n(MAX_PERIODS)),
                     t.error("ClauseRuntimeError", f"a range of more than {MAX_PERIODS:,} "
                             f"{f.display} periods", r.span, frame)))
    return _indexes(t, first_val, last_val, coalesce(last_val.e, too_many), r, frame)


def range_ends(t: Translating, r: ir.Range, frame: Frame, at: Span) -> tuple[Val, Val]:
    """The first and last periods of the range of a recurring obligation or power (the
    module's `_in_range`), a bound with no value read as none: the first NULL where the
    range has no periods (it starts on an event that has not happened), the last NULL
    where it has no end. The first's error is that of every step before a period is
    compared with them (the family, the bounds, the first period); the last's, that of
    the period containing the end, which the module finds only for a period at or after
    the first. The runtime's errors are reported `at` the declaration, as the module's."""
    f = family(t, r.family, r.span)
    bounds = [t.expr(b, frame, strict=False, lift=True) if b is not None else None
              for b in (r.start, r.end)]
    start, end = bounds
    errors = coalesce(f.start.e if f.start is not None else None,
                      *(b.e for b in bounds if b is not None))
    if r.kind == "ending":
        assert r.end is not None and end is not None and r.count is not None
        last = _bound_index(t, f, r.end, end, frame, errors, *_starts(f), at=at)
        # The module asks for the period of no value, a TypeError.
        none = t.error("ClauseRuntimeError", "the last period must be a period, a date or a "
                       "period's label, not NoneType", at, frame)
        first = t.put(_sub(last.v, r.count - 1), coalesce(last.e, case((is_null(end.v),
                                                                          none))), last, end)
        return first, Val(last.v, None, last.level)
    assert r.start is not None and start is not None
    # The first period's own error after those of both bounds, which the module has
    # evaluated before it.
    found = _first(t, f, r.start, start, frame, None, at=at)
    first = t.put(found.v, coalesce(errors, found.e), found,
                  *(b for b in bounds if b is not None), *_starts(f))
    if r.kind == "open" or end is None:
        return first, Val(cast(exp.Null(), "BIGINT"), None, 0)
    return first, _last(t, f, r, end, frame, None, at=at)


def _first(t: Translating, f: Family, bound: ir.Expr, val: Val, frame: Frame,
           errors: exp.Expr | None, at: Span | None = None) -> Val:
    """The first period of a range from `bound`: a date before the family's first period
    starts it at the first."""
    if (bound.type or T.ERROR).kind == "period" or f.start is None:
        return _bound_index(t, f, bound, val, frame, errors, *_starts(f), at=at)
    _day_operand(bound)
    early = exp.LT(this=cast(val.v, "DATE"), expression=f.start.v)
    day = t.put(case((early, f.start.v), default=cast(val.v.copy(), "DATE")), None, val,
                f.start)
    return containing(t, f, day, at or bound.span, frame, errors, val)


def _last(t: Translating, f: Family, r: ir.Range, val: Val, frame: Frame,
          errors: exp.Expr | None, *deps: Val, at: Span | None = None) -> Val:
    """The last period of a range `until` or `through` its end: the period itself (the one
    before it, `until`), or the one containing the date (`until`: the last that starts
    before it); 0 where the date is before the family's first period."""
    assert r.end is not None
    if (r.end.type or T.ERROR).kind == "period":
        given = val.v if r.kind == "through" else _sub(val.v, 1)
        return t.put(given, errors, val, *deps)
    _day_operand(r.end)
    d = cast(val.v, "DATE")
    early: exp.Expr = exp.false() if f.start is None else exp.LT(this=d, expression=f.start.v)
    day = t.put(case((early, exp.Null()), default=d.copy()), None, val, *_starts(f))
    period = containing(t, f, day, at or r.end.span, frame, errors, val, *deps)
    index: exp.Expr = period.v
    if r.kind == "until":
        starts_on = exp.EQ(this=start_of(f, period.v), expression=day.v)
        index = case((starts_on, _sub(period.v.copy(), 1)), default=period.v.copy())
    zero = case((early.copy(), _n(0)), default=index)
    return t.put(cast(zero, "BIGINT"), period.e, period, day, *_starts(f))


def _indexes(t: Translating, first: Val, last: Val, errors: exp.Expr | None, r: ir.Range,
            frame: Frame, *inputs: Val) -> Val:
    """The indexes from `first` to `last`, an empty array where there are none (Spark's
    SEQUENCE counts down otherwise)."""
    empty = cast(exp.Array(expressions=[]), "ARRAY<BIGINT>")
    indexes = case((exp.GTE(this=last.v, expression=first.v), cast(exp.GenerateSeries(
        start=first.v.copy(), end=last.v.copy()), "ARRAY<BIGINT>")), default=empty)
    value = case((is_null(errors), indexes)) if errors is not None else indexes
    return t.put(value, errors, first, last, *inputs, note=t.i.snippet(r.span, 80))
