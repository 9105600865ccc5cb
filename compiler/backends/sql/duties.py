"""Obligations and powers as SQL: whether each applies and what the module describes of it
(its amount, due date, when it was performed, when its cure period ends), one instance
per period for a recurring one (`access_fee(q)`), and whether an obligation `is late` or
`is in default` on a day.

The module describes an instance whole, whichever field is asked of it: it decides
whether the instance applies (the period in the recurrence's range first, then the
condition, evaluated only in range), then computes the amount, the due date, the date of
performance and the end of the cure period. Those four are "soft": a fact or value they
need that is missing leaves them None; their other errors stand. So every field of an
instance carries one error, the first of all of these in that order, and an instance is
computed once for each period argument (remembered by its repr, as a term is for its
arguments).

A recurring provision's range (`for each royalty_quarter q from A until B`) does not
depend on the period: its first and last periods are computed once per query
(periods.range_ends), and an instance is in range where its period is between them.
"""

from __future__ import annotations

from sqlglot import exp

from clausec import ir
from clausec.backends.sql import periods
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
    unknown,
)
from clausec.ir import types as T

# An instance's fields, in the order the module computes them.
FIELDS = ("active", "amount", "due", "performed_on", "cure_by")
_SOFT = FIELDS[1:]


def soft(t: Translating, val: Val) -> Val:
    """A value whose missing facts or values leave it unknown (None) instead of an
    error; other errors stand."""
    if val.e is None:
        return val
    v = case((is_null(val.e), val.v))
    e = case((exp.Not(this=unknown(val.e)), val.e))
    return t.put(v, e, val)


def obligation(t: Translating, o: ir.Obligation, period: Val | None) -> dict[str, Val]:
    """An obligation's fields (FIELDS), or those of its instance for `period` (an index,
    with its error) where it recurs, each with the error of describing it."""
    if period is None and t.outer is not None:
        # The same for every item of a list: computed once, in the enclosing query.
        return {name: t.from_outer(val) for name, val in obligation(t.outer, o, None).items()}
    key = ("obligation", o.name, repr(period))
    if (*key, FIELDS[0]) in t.memo:
        return {name: t.memo[(*key, name)] for name in FIELDS}
    frame, active = _applies(t, o, o.duty.condition, period)
    fields = {"active": active, **_described(t, o.duty, frame, _SOFT)}
    # The error once, as a column: every field reads it.
    active = t.put(active.v, coalesce(*(val.e for val in fields.values())), *fields.values())
    fields["active"] = active
    for name, val in fields.items():
        t.memo[(*key, name)] = Val(val.v, active.e, max(val.level, active.level))
    return {name: t.memo[(*key, name)] for name in FIELDS}


def power(t: Translating, p: ir.Power, period: Val | None) -> Val:
    """Whether a power (or its instance for `period`) is available: with the errors the
    module raises while it describes it (each consequence's amount and due date, its
    condition where the power is available, when it was performed and its cure period;
    when the power's window closes)."""
    frame, available = _applies(t, p, p.condition, period)
    parts = [available]
    errors: list[exp.Expr | None] = [available.e]
    for duty in p.consequences:
        before = list(_described(t, duty, frame, ("amount", "due")).values())
        condition = t.expr(duty.condition, frame) if duty.condition is not None else None
        after = list(_described(t, duty, frame, ("performed_on", "cure_by")).values())
        parts += [*before, *after]
        errors += [x.e for x in before]
        if condition is not None:
            parts.append(condition)
            if condition.e is not None:
                errors.append(case((available.v, condition.e)))
        errors += [x.e for x in after]
    if p.window is not None:
        window = soft(t, t.deadline(p.window, frame))
        parts.append(window)
        errors.append(window.e)
    return t.put(available.v, coalesce(*errors), *parts)


def field(t: Translating, e: ir.Field, frame: Frame) -> Val:
    """`fee.due`, `access_fee(q).amount`, ...: a field of an obligation or of an instance."""
    return instance(t, e.operand, frame)[e.field]


def instance(t: Translating, operand: ir.Expr, frame: Frame) -> dict[str, Val]:
    """The fields of the obligation `operand` names (`fee`), or of its instance for a
    period (`access_fee(q)`, the period evaluated first, as the module does)."""
    target = t.i.decls.get(operand.name) if isinstance(operand, (ir.Name, ir.Call)) else None
    if not isinstance(target, ir.Obligation):
        raise UntranslatableError("an obligation given by an expression", operand.span)
    if isinstance(operand, ir.Call) and target.recurrence is not None:
        return obligation(t, target, t.expr(operand.args[0], frame))
    return obligation(t, target, None)


def late(t: Translating, e: ir.Late, frame: Frame) -> Val:
    """`X is late on D`: X applies, is due before D and was not performed on or before its
    due date. `X is in default on D`: late, and, where X has a cure period, its end (after
    the notice: none without one) is before D and X was not performed by then either."""
    target = t.i.decls.get(e.operand.name) if isinstance(e.operand, (ir.Name, ir.Call)) \
        else None
    if isinstance(target, ir.Obligation):
        _days_only(target.duty, e)
    duty = instance(t, e.operand, frame)
    day = t.expr(e.on, frame)
    due, performed = duty["due"].v, duty["performed_on"].v
    value = exp.and_(duty["active"].v, not_null(due), exp.LT(this=due, expression=day.v),
                     _after(performed, due))
    if e.default and isinstance(target, ir.Obligation) and target.duty.cure is not None:
        cure_by = duty["cure_by"].v
        value = exp.and_(value, not_null(cure_by), exp.LT(this=cure_by, expression=day.v),
                         _after(performed, cure_by))
    return t.put(value, coalesce(duty["active"].e, day.e), *duty.values(), day,
                 note=t.note(e))


def _after(performed: exp.Expr, deadline: exp.Expr) -> exp.Expr:
    """Not performed on or before the deadline."""
    return exp.or_(is_null(performed), exp.GT(this=performed, expression=deadline))


def _days_only(duty: ir.Duty, e: ir.Late) -> None:
    """The module compares the days of a due date, a date of performance and the end of a
    cure period; a date and time's day is read in the zone it was given in, which SQL
    timestamps do not keep."""
    moments = [duty.performed]
    for deadline in (duty.deadline, duty.cure):
        if deadline is not None:
            moments.append(deadline.after if deadline.kind == "within" and
                           deadline.after is not None else deadline.expr)
    if any(m is not None and (m.type or T.ERROR).kind == "datetime" for m in moments):
        raise UntranslatableError("'is late' and 'is in default' of a duty with a date and "
                                  "time (its day is read in the zone it was given in, which "
                                  "SQL timestamps do not keep)", e.span)


def _applies(t: Translating, decl: ir.Obligation | ir.Power, condition: ir.Expr | None,
             period: Val | None) -> tuple[Frame, Val]:
    """Where an instance is described (its period bound to the recurrence's variable),
    and whether it applies: in its range, then its condition, which the module evaluates
    only in range."""
    r = decl.recurrence
    label = t.i.label_of(decl)
    if r is None:
        frame = Frame(label)
        holds = t.expr(condition, frame) if condition is not None else None
        return frame, holds if holds is not None else Val(exp.true(), None, 0)
    if period is None:
        raise UntranslatableError("a recurring obligation or power without the period of "
                                  "its instance", decl.span)
    frame = Frame(label, {r.variable: period})
    within = _in_range(t, decl, period)
    if condition is None:
        return frame, within
    holds = t.expr(condition, frame)
    error = coalesce(within.e, case((within.v, holds.e)) if holds.e is not None else None)
    return frame, t.put(exp.and_(within.v, holds.v), error, within, holds)


def _in_range(t: Translating, decl: ir.Obligation | ir.Power, period: Val) -> Val:
    """Whether the period of an instance is one of its provision's range; the period's
    error first (the module evaluates the argument before it describes the instance)."""
    first, last = _range_ends(t, decl)
    reached = exp.GTE(this=period.v, expression=first.v)
    within = exp.and_(reached, exp.or_(is_null(last.v), exp.LTE(this=period.v.copy(),
                                                                 expression=last.v)))
    error = coalesce(period.e, first.e, case((reached.copy(), last.e))
                     if last.e is not None else None)
    return t.put(exp.Coalesce(this=within, expressions=[exp.false()]), error, period, first,
                 last)


def _range_ends(t: Translating, decl: ir.Obligation | ir.Power) -> tuple[Val, Val]:
    """The first and last periods of a recurring provision's range, computed once per
    query (they do not depend on the instance)."""
    if t.outer is not None:
        first, last = _range_ends(t.outer, decl)
        return t.from_outer(first), t.from_outer(last)
    key = ("range", decl.name)
    if (*key, "first") not in t.memo:
        assert decl.recurrence is not None
        ends = periods.range_ends(t, decl.recurrence, Frame(t.i.label_of(decl)), decl.span)
        t.memo[(*key, "first")], t.memo[(*key, "last")] = ends
    return t.memo[(*key, "first")], t.memo[(*key, "last")]


def _described(t: Translating, duty: ir.Duty, frame: Frame,
               names: tuple[str, ...]) -> dict[str, Val]:
    """The soft parts of a duty named (amount, due, performed_on, cure_by), in order; no
    value where the duty has none."""
    parts: dict[str, ir.Expr | ir.Deadline | None] = {
        "amount": duty.object, "due": duty.deadline, "performed_on": duty.performed,
        "cure_by": duty.cure}
    described = {}
    for name in names:
        part = parts[name]
        if part is None:
            described[name] = Val(cast(exp.Null(), "DATE") if name != "amount"
                                  else exp.Null(), None, 0)
        elif isinstance(part, ir.Deadline):
            described[name] = soft(t, t.deadline(part, frame))
        else:
            described[name] = soft(t, t.expr(part, frame))
    return described
