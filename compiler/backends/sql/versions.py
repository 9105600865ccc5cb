"""Which version of the agreement answers a row, as SQL: the module's `at(day, facts)`,
`current(facts)` and `(TERM as in force on D)`.

A version is in force on a day from its effective date; an amendment effective upon an
event, from the date the row's facts give for the event (not before its own effective
date), and not at all where they give none. Which version is in force may thus differ from
row to row: every version that may be is computed, and a CASE picks the row's, in the
module's order (the last to have taken effect; now, the latest dated version or a later
amendment whose event happened):

    CASE WHEN <upon fact> <= day AND day >= '2009-05-01' THEN <answer as amended>
         ELSE <answer as signed> END

The dates of the events are facts: a row whose fact cannot be read has that error
(FactError) before any answer, as the module's Facts raises it, so the pick needs no
errors of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from sqlglot import exp

from clausec import ir
from clausec.backends.interpret import Interpreter
from clausec.backends.sql.base import (
    SQL_TYPES,
    Frame,
    Stages,
    Translating,
    UntranslatableError,
    Val,
    case,
    cast,
    coalesce,
    not_null,
    sql_literal,
    text,
)
from clausec.ir import types as T

# A version and when it is in force for a row: a condition over the row, or None where
# the choices before it do not hold. The first choice whose condition holds is the row's.
Choice = tuple[exp.Expr | None, Interpreter]


def latest(versions: Sequence[Interpreter], day: date | None) -> Interpreter:
    """The latest version that may be in force on `day` (now, if None), whatever the
    facts."""
    return next((v for v in reversed(versions[1:])
                 if day is None or (v.effective is not None and v.effective <= day)),
                versions[0])


def in_force(versions: Sequence[Interpreter], day: date | exp.Expr | None,
             happened: Callable[[str], exp.Expr]) -> list[Choice]:
    """The versions that may be in force on `day` (a date, a DATE of the row, or None:
    now), each with when it is, as the module's `_version_at` and `_version_now` choose.
    `happened`: the DATE of the row's fact that says when an event happened."""
    choices: list[Choice] = []
    for version in reversed(versions[1:]):
        condition = _taken_effect(version, day, happened)
        if condition is True:
            return [*choices, (None, version)]
        if condition is not False:
            choices.append((condition, version))
    return [*choices, (None, versions[0])]


def _taken_effect(version: Interpreter, day: date | exp.Expr | None,
                  happened: Callable[[str], exp.Expr]) -> exp.Expr | bool:
    """Whether `version` has taken effect by `day` (now, if None): known for every row
    (True or False), or a condition over the row."""
    effective = version.effective or date.min
    if isinstance(day, date):
        if effective > day:
            return False
        return True if version.upon is None else \
            exp.LTE(this=happened(version.upon), expression=sql_literal(day, "date"))
    if day is None:
        # Now: a dated amendment is in force (the module's `current`), one effective upon
        # an event once it happened.
        return True if version.upon is None else not_null(happened(version.upon))
    dated = exp.GTE(this=day.copy(), expression=sql_literal(effective, "date"))
    if version.upon is None:
        return dated
    # Effective on the later of the event's date and its own: a row with no date for the
    # event is not (a comparison with NULL does not hold).
    return exp.and_(dated, exp.LTE(this=happened(version.upon), expression=day.copy()))


def pick(t: Translating, choices: Sequence[tuple[exp.Expr | None, Val]], kind: str,
         *inputs: Val) -> Val:
    """The value (and error) of the first choice whose condition holds, as a value of
    `kind` (each version's as that type: a CASE has one); `inputs`: what the conditions
    read."""
    if len(choices) == 1:
        return choices[0][1]
    sql_type = SQL_TYPES.get(kind)

    def typed(value: exp.Expr) -> exp.Expr:
        return cast(value, sql_type) if sql_type is not None else value

    whens = [(condition, val) for condition, val in choices[:-1] if condition is not None]
    assert len(whens) == len(choices) - 1, "only the last choice holds where none before does"
    default = choices[-1][1]
    v = case(*((c, typed(val.v)) for c, val in whens), default=typed(default.v))
    e = None
    if any(val.e is not None for _, val in choices):
        e = case(*((c.copy(), val.e or exp.Null()) for c, val in whens),
                 default=default.e or exp.Null())
    return t.put(v, e, *inputs, *(val for _, val in choices))


def not_in_force(version: Interpreter, name: str) -> Val:
    """`name` in a version where it is not in force: the module's NotInForceError, on
    every row."""
    return Val(cast(exp.Null(), "TEXT"), text(f"NotInForceError: {version.absent[name]}"), 0)


def term_in_force(t: Translating, e: ir.InForce, frame: Frame) -> Val:
    """`(TERM as in force on D)`: the term, with its arguments, in the version in force on
    D for the row (the module's `_version_at(VERSIONS, D, facts).evaluate(TERM, ...)`);
    D first, then the arguments, then the term."""
    day = t.expr(e.on, frame)
    operand = e.operand
    assert isinstance(operand, (ir.Name, ir.Call))
    given = getattr(operand, "args", ())
    args = [t.expr(a, frame) for a in given]
    versions = _versions(t)
    choices = in_force(versions, day.v, lambda fact: t.facts[fact].v.copy())
    answers: dict[int, Val] = {}
    for _, version in choices:
        if id(version) not in answers:
            answers[id(version)] = _term(translator_of(t, version), version, operand,
                                         list(zip(args, given)))
    value = pick(t, [(c, answers[id(v)]) for c, v in choices], (e.type or T.ERROR).kind,
                 day)
    errors = coalesce(day.e, *(a.e for a in args), value.e)
    return t.put(value.v, errors, value, day, *args) if errors is not value.e else value


def _term(t: Translating, version: Interpreter, at: ir.Name | ir.Call,
          args: list[tuple[Val, ir.Expr]]) -> Val:
    """A term with its arguments in `version` (`t`, its translator), as its `evaluate`
    gives it."""
    if at.name in version.absent:
        return not_in_force(version, at.name)
    decl = version.decls.get(at.name)
    if not isinstance(decl, ir.Definition) or len(decl.params) != len(args):
        raise UntranslatableError("a term as in force on a date where it is not a term "
                                  "with these arguments", at.span)
    coerced = tuple(t.coerce(val, given.type, param.type)
                    for (val, given), param in zip(args, decl.params))
    return t.definition(decl, coerced, at)


def _versions(t: Translating) -> Sequence[Interpreter]:
    agreement = t.i.agreement
    return agreement.versions if agreement is not None else (t.i,)


def translator_of(t: Translating, version: Interpreter) -> Translating:
    """The translator of `version` where `t` computes: of the query's columns, or of the
    items of the same list (plan.py registers those of the query, one per version)."""
    if version is t.i:
        return t
    root = t
    while root.outer is not None:
        root = root.outer
    registry = _stages(root).translators
    key = (id(t.stages), id(version))
    found = registry.get(key)
    if found is None:
        assert t.outer is not None, f"the query has no translator of {version.label!r}"
        found = registry[key] = translator_of(t.outer, version).inner(t.stages)
    return found


def register(translators: Sequence[Translating]) -> None:
    """The translators of the versions of a query (sharing its stages), for
    `translator_of`."""
    for translator in translators:
        stages = _stages(translator)
        stages.translators[(id(stages), id(translator.i))] = translator


def _stages(t: Translating) -> Stages:
    stages = t.stages
    assert isinstance(stages, Stages), "the query's translator computes its columns"
    return stages
