"""Periods as SQL: what a family's periods are, row by row.

Functions of a Translator (translate.py calls them for the period constructs); each
returns a Val. Not translated yet: every one is an UntranslatableError.
"""

from __future__ import annotations

from clausec import ir
from clausec.backends.sql.base import Frame, Translating, UntranslatableError, Val


def period_of(t: Translating, e: ir.PeriodOf, frame: Frame, lift: bool) -> Val:
    raise UntranslatableError("periods (their dates, stubs and fiscal years)", e.span)


def first_period(t: Translating, e: ir.FirstPeriod, frame: Frame, lift: bool) -> Val:
    raise UntranslatableError("periods (their dates, stubs and fiscal years)", e.span)


def period_op(t: Translating, e: ir.PeriodOp, frame: Frame, lift: bool) -> Val:
    raise UntranslatableError("periods (their dates, stubs and fiscal years)", e.span)


def business_day_of(t: Translating, e: ir.BusinessDayOf, frame: Frame, lift: bool) -> Val:
    raise UntranslatableError("the first or last business day of a period", e.span)


def series_value(t: Translating, e: ir.Call, fact: ir.Fact, frame: Frame, lift: bool) -> Val:
    raise UntranslatableError("values per period (series facts)", e.span)


def period_range(t: Translating, r: ir.Range, frame: Frame) -> Val:
    """The periods of a range, in order, as an array (its Val's value)."""
    raise UntranslatableError("sums and conditions over a range of periods", r.span)
