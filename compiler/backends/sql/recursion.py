"""Terms defined through themselves, as SQL: a fold over the periods back to where the
steps stop.

A term may use its own value for the period before (`credit_carried(previous q)`), under
a guard that stops the steps back (`if q is after first royalty_quarter then ... else
...`): the checker makes sure of both (passes/check.py). The module computes such a term
for period P by going back one period at a time until the guard fails; SQL has no
recursion over the values of a row, so the query goes forward instead: it folds the
periods from the lowest the steps can reach up to P (the engine's reduce: DuckDB
LIST_REDUCE, Spark AGGREGATE), computing the term for each period with the value of the
one before in the fold's state, its error included, as the module would have it.

The lowest period the steps can reach: each guard on the way to the term's own use
bounds the period parameter from below by a value that does not depend on it (`q is
after B`, `q is on or after B`); no use is reached at or below the period before the
least of those bounds. The fold starts there (or at P, if P is earlier): its first period
never reads the state, and the later ones read what the module would have computed.

What is computed for each period is staged as a list's items are (lists.ElementStages):
the parts that do not depend on the period before are columns of the items, computed for
every period at once; the parts that do are written inside the fold's step.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from clausec import ir
from clausec.backends.python.runtime_time import MAX_PERIODS
from clausec.backends.sql import lists
from clausec.backends.sql.base import (
    Frame,
    Translating,
    UntranslatableError,
    Val,
    case,
    cast,
    is_null,
)
from clausec.ir import types as T
from clausec.ir.visit import subexpressions

# The level of a value computed from the period before: above every stage, so that it is
# written where it is used (inside the fold's step) rather than as a column.
STEP_LEVEL = 1 << 30


class StepStages(lists.ElementStages):
    """The stages of a term computed for each period of a fold: as a list's items, but a
    value that depends on the fold's state stays an expression of the step."""

    def put(self, v: exp.Expr, e: exp.Expr | None, level: int, note: str = "") -> Val:
        if level >= STEP_LEVEL:
            return Val(exp.Paren(this=v), e, level)
        return super().put(v, e, level, note)


def uses(d: ir.Definition) -> Iterator[tuple[ir.Call, tuple[ir.Expr, ...]]]:
    """Each use of `d`'s own value in its expression, with the conditions of the `if`s it
    is under."""
    stack: list[tuple[ir.Expr, tuple[ir.Expr, ...]]] = [(d.expr, ())]
    while stack:
        node, guards = stack.pop()
        if isinstance(node, ir.Call) and node.name == d.name:
            yield node, guards
        if isinstance(node, ir.IfThenElse):
            stack += [(node.condition, guards), (node.then, (*guards, node.condition)),
                      (node.otherwise, (*guards, node.condition))]
            continue
        stack.extend((child, guards) for child in subexpressions(node))


def bounds(guards: tuple[ir.Expr, ...], param: str) -> list[ir.Expr]:
    """What the guards compare the period parameter with: every side of a comparison
    whose other side is the parameter itself and which does not use it."""
    found = []
    for guard in guards:
        for node in ir.walk(guard):
            if not isinstance(node, ir.Compare):
                continue
            for this, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(this, ir.Name) and this.name == param and \
                        param not in ir.names_used(other):
                    found.append(other)
    return found


def fold(t: Translating, d: ir.Definition, args: tuple[Val, ...], frame: Frame) -> Val:
    """`d` for the arguments `args` (bound in `frame`, the term's own): the term computed
    for every period of the fold, the value of the one before from the fold's state."""
    lists.need_lambdas(t, d.expr)
    position = next(i for i, p in enumerate(d.params) if p.type.kind == "period")
    param = d.params[position].name
    found = list(uses(d))
    lowest = _lowest(t, args[position], [b for _, guards in found
                                            for b in bounds(guards, param)], frame)
    target = args[position]
    periods = t.put(cast(exp.GenerateSeries(start=lowest.v, end=target.v), "ARRAY<BIGINT>"),
                    None, lowest, target)

    stages = StepStages(t.depth + 1)
    inner = t.inner(stages)
    state = f"_r{t.depth + 1}"
    before = Val(lists.field(lists.var(state), "v"), lists.field(lists.var(state), "e"),
                 STEP_LEVEL)
    for call, _ in found:
        inner.steps_back[id(call)] = before
    params = {name: inner.from_outer(val) for name, val in frame.params.items()}
    params[param] = stages.item()
    computed = inner.term(d, Frame(frame.section, params))
    rows = stages.finish(t, periods)

    sql_type = lists.data_type(t.i, (d.declared_type or T.ERROR).required())
    # The state before the first period is read only where the steps back go past
    # MAX_PERIODS periods from the period asked (the first is then the last they may
    # reach): an error, as the module's.
    never = t.error("ClauseRuntimeError", f"'{d.name}' goes back more than "
                    f"{MAX_PERIODS:,} periods from the period asked", d.span, frame)
    initial = lists.struct(("v", lists.to(exp.Null(), sql_type)), ("e", never))
    step = lists.struct(("v", lists.to(computed.v, sql_type)),
                        ("e", cast(computed.e, "TEXT") if computed.e is not None
                         else cast(exp.Null(), "TEXT")))
    folded = t.put(exp.Reduce(this=rows.v.copy(), initial=initial,
                              merge=lists.lam(step, state, stages.var)), None, rows)
    error = lists.field(folded.v, "e")
    return t.put(case((is_null(error), lists.field(folded.v, "v"))), error, folded,
                 note=f"{d.name}: {t.note(d.expr)}")


def _lowest(t: Translating, target: Val, found: list[ir.Expr], frame: Frame) -> Val:
    """The first period of the fold: the period before the least bound, or the target if
    it is earlier, but not more than MAX_PERIODS before the target. A bound with an error
    is left out: the target's own guard reports it."""
    candidates: list[exp.Expr] = [target.v]
    inputs = [target]
    for bound in found:
        if (bound.type or T.ERROR).kind != "period":
            raise UntranslatableError("a term defined through itself whose steps stop at "
                                      "a bound that is not a period", bound.span)
        val = t.expr(bound, frame)
        inputs.append(val)
        below = exp.Sub(this=val.v, expression=exp.Literal.number(1))
        candidates.append(case((is_null(val.e), below)) if val.e is not None else below)
    least = exp.Least(this=candidates[0], expressions=candidates[1:], ignore_nulls=True) \
        if len(candidates) > 1 else candidates[0]
    farthest = exp.Sub(this=target.v.copy(), expression=exp.Literal.number(MAX_PERIODS))
    return t.put(exp.Greatest(this=exp.Coalesce(this=least, expressions=[target.v.copy()]),
                              expressions=[farthest]), None, *inputs)
