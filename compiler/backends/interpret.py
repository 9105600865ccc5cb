"""An interpreter of the checked IR: a second implementation of the language's semantics.

The compiled module (codegen.py) is one implementation of what a clause means; this
module is another, written independently as a walk over the typed IR that check.py
produces. Both must give the same answer for every program and every set of facts; the
differential tests (tests/test_differential.py) generate programs and facts and compare
them. It is also the evaluator for tools that try provisions on many candidate facts
(the bounded searches of `clausec verify` and `clausec diff`): the IR is checked once,
and nothing is generated or compiled per call.

API
---

    from clausec import api
    from clausec.interpret import Interpreter, interpret

    result = api.analyse(source, amendments)     # an api.Result without errors
    agreement = interpret(result)                # every version of the agreement
    agreement.evaluate("closing_payment", {"deposit_received": Decimal(900000)})
    agreement.at(date(2004, 3, 1)).evaluate("closing_conditions_met", facts)

    one = Interpreter(checked)                   # a CheckedProgram, or (Version, checked)
    facts = one.facts({"start": date(2004, 7, 1)})   # validate and convert once...
    one.evaluate("closing_date", facts)          # ...then evaluate any name on them
    one.evaluate("revenue_limitation", facts, 2008)  # arguments after the facts

`evaluate(name, facts, *args)` takes the facts as a mapping of clause names to values
(converted and validated exactly as the module's `Facts` converts them: "$1,800,000"
is money, a missing required fact is a `FactError`) or as the `Facts` that `facts()`
returned, which skips the conversion. It returns what the module's function of the same
name returns: `bool`, `int`, `Decimal`, `date`, aware `datetime` or `str` for terms and
conditions (invariants are conditions), an `Obligation` or a `Power` (the runtime's
classes) for obligations and powers, a fact's value for a fact. Errors are the runtime's
classes (clausec.runtime, clausec.runtime_eval): `MissingFactError`, `NoValueError`,
`ConflictError`, `ClauseRuntimeError` (division by zero, a date out of range...),
`FactError`, `NotInForceError` and `ClauseError`, with the clause position of what
raised them.

Semantics, in brief (the compiled module is the reference; see the README):

- Decimal arithmetic runs in the runtime's exact context `_EXACT` (+ - * never round;
  a result beyond the limits of numbers is an error); integers stay Python ints; an
  integer where a decimal, money or percent is expected becomes a Decimal. Division,
  powers and rounding are the runtime's `_div`, `_pow` and `_round` (the README's
  division rule, exact powers up to 10,000 digits, round half up).
- Dates shift by calendar days, by months (the end-of-month rule: runtime_periods'
  `add_months`; a year is twelve months), or by business days of a calendar: the
  agreement's (its calendar and holidays) or one a provision names, each the runtime's
  `Calendar` as the compiled module builds it (a built-in calendar from its embedded
  table, which raises for a day outside its years); `close of business on D` is the
  runtime's `close_of_business` in the agreement's time zone.
- A value that may be missing (an optional fact, a list with guards, an "earlier of"
  of events that have not happened) raises `MissingFactError` (a fact) or `NoValueError`
  (anything else) where a value is needed. In the items of earlier/later/lesser/greater/
  sum of, in the operand of `is given` and in the branches of `if`, it is passed on
  instead, and an operation on a missing value has no value ("lifting").
- and, or, unless, all of, any of, none of and if evaluate left to right and stop as
  soon as the answer is known; a `when` guard is evaluated before its item. Where an
  operand or item may be unknown (it may have no value, or uses a term, a series, a duty
  or a field: codegen's `unknowable`, here `Interpreter.unknowable`), and over lists and
  ranges of periods always, the logic is three-valued (Kleene's): an item that decides
  the answer decides it even when another raised MissingFactError or NoValueError; if
  none decides, the first such error is raised again. `not` of an unknown is unknown.
- A member of a choice is its name (a str), a record a dict of its fields, a list a
  tuple, a share of an allocation a dict {"item", "amount"}; a table is its rows (records,
  computed once). List, record and choice facts are read by runtime_lists' converters
  (`as_list`, `as_record`, `as_choice`), each item and field converted as a fact of its
  type, and a fact's `where` is checked as the module's Facts checks it (`constrain`, in
  the caller's decimal context). `[B for each x in L when C]` evaluates L, then for each
  item C before B; `first of` stops at the first item, `number of` computes every one.
  Allocations and present values are runtime_lists' `pro_rata`, `in_order` and
  `present_value`; `case` evaluates its subject and then only the arm that applies;
  `(X when C)` evaluates C, then X only where C holds.
- Operands are evaluated in the order the compiled code evaluates them, so that where two
  of them would raise different errors, both implementations raise the same one.
- Periods (docs/time.md) are runtime_periods' `Frequency` and `Period`: a family's
  periods are built from its declaration (its start evaluated on the facts), a period
  argument may be given as a period, a date in it or its label (the runtime's
  `period_of`), a range's periods are the runtime's `periods_in_range`. A series fact is
  the runtime's `Series` (`as_series`); a period it has no value for is a
  MissingFactError naming `fact[period]`, or no value where the fact is optional. An
  aggregate over periods evaluates each period's `when` before its item; a recurring
  obligation or power is one instance per period (not in effect outside its range, which
  is tested before its condition); `is late on` is: in effect, due before the day, and
  not performed on or before the due date. A definition that uses its value for the
  previous period is computed for the periods 32, 64, ... before first (each
  remembered), so that no chain of periods goes deeper than 32 calls.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any, Protocol

import attrs

from clausec import ir
from clausec.backends.python.runtime import (
    Calendar,
    ClauseError,
    MissingFactError,
    Obligation,
    Power,
    as_bool,
    as_date,
    as_datetime,
    as_days,
    as_decimal,
    as_integer,
    as_money,
    as_months,
    as_party,
    as_percent,
    as_text,
    close_of_business,
)
from clausec.backends.python.runtime_eval import (
    EXACT,
    At,
    NotInForceError,
    NoValueError,
    conflict,
    days_between,
    divide,
    earliest,
    exponentiate,
    latest,
    located_error,
    moment_part,
    round_half_up,
    total,
    unknown_fact,
    unknown_name,
)
from clausec.backends.python.runtime_lists import (
    as_choice,
    as_list,
    as_record,
    constrain,
    in_order,
    present_value,
    pro_rata,
)
from clausec.backends.python.runtime_periods import (
    Frequency,
    Period,
    add_months,
    decode_holiday_table,
    first_business_day,
    last_business_day,
)
from clausec.backends.python.runtime_time import (
    MAX_PERIODS,
    Series,
    as_series,
    period_of,
    periods_in_range,
)
from clausec.diagnostics import Diagnostics
from clausec.ir import types as T
from clausec.ir.visit import LIFTABLE, Visitor, expressions, operands, subexpressions
from clausec.passes import calendars
from clausec.passes import check as check_pass
from clausec.passes.check import union_of_facts
from clausec.passes.consolidate import Version
from clausec.source import SourceFile, Span, snippet

__all__ = ["Agreement", "Analysed", "Facts", "Interpreter", "interpret"]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul,
}
# Python errors of a computation (a date past year 9999, an undefined decimal operation):
# reported as ClauseRuntimeError at the provision, as the compiled module reports them.
_COMPUTATION_ERRORS = (ArithmeticError, TypeError, ValueError)
# How far a definition of the previous period is computed back before its earlier values
# are computed first (see _Run._warm).
_STEP = 32
# What makes an item of all of / any of / and / or unknown rather than wrong: a fact not
# given, a value that is missing.
_UNKNOWN = (MissingFactError, NoValueError)
_TRUTH = ("all", "any", "none")
# The nodes whose value may depend on facts that are not given even where their type
# says they have a value (see Interpreter.unknowable).
_MAY_NOT_KNOW = (ir.Call, ir.Field, ir.Late, ir.InForce, ir.Nothing)


def _convert(kind: str) -> Callable[..., object]:
    """The runtime's converter of a fact of this kind (as the module's Facts uses it)."""
    converters: dict[str, Callable[..., object]] = {
        "bool": as_bool, "integer": as_integer, "decimal": as_decimal,
        "money": as_money, "percent": as_percent, "date": as_date,
        "datetime": as_datetime, "days": as_days, "business_days": as_days,
        "months": as_months, "party": as_party, "text": as_text,
    }
    return converters[kind]


@functools.cache
def calendar(name: str, extra_holidays: tuple[date, ...] = ()) -> Calendar:
    """The runtime's Calendar of the built-in calendar `name`, with `extra_holidays`, as
    the compiled module builds it (codegen: `_CALENDAR`, `_CALENDAR_<name>`): by rule, or
    from the table the module embeds (decoded once here too; Calendars are immutable)."""
    if name in calendars.RULE_BASED:
        return Calendar(holidays=calendars.RULE_BASED[name], extra_holidays=extra_holidays)
    table = decode_holiday_table(calendars.embedded_table(name))
    return Calendar(holidays=name, extra_holidays=extra_holidays, table=table)


@functools.cache
def own_calendar(name: str, bases: tuple[str, ...], dates: tuple[date, ...],
                 extra_holidays: tuple[date, ...] = ()) -> Calendar:
    """The runtime's Calendar of the agreement's own calendar `name` (closed whenever one
    of the built-in calendars `bases` is, and on `dates`), as the compiled module builds
    it from the table it embeds."""
    table = decode_holiday_table(calendars.combined_table(bases, dates))
    return Calendar(holidays=name, extra_holidays=extra_holidays, table=table)


@attrs.frozen
class Facts:
    """Validated, converted facts (clause name -> value; None for an optional fact not
    given), ready for `Interpreter.evaluate`. Made by `Interpreter.facts`."""

    values: Mapping[str, object]

    def __getitem__(self, name: str) -> object:
        return self.values[name]


_NOTHING: Mapping[Any, object] = {}


class _Frame:
    """Where an expression is evaluated: the section its declaration is cited by, the
    arguments of a parametrised definition, and, inside a lifted operation, the values
    of the operands already evaluated (by id of their IR node)."""

    __slots__ = ("lifted", "params", "section", "subst")

    def __init__(self, section: str | None, params: Mapping[str, object] = _NOTHING,
                 subst: Mapping[int, object] = _NOTHING, lifted: bool = False) -> None:
        self.section = section
        self.params = params
        self.subst = subst
        self.lifted = lifted

    def binding(self, name: str, value: object) -> _Frame:
        """This frame with `name` standing for `value` (an item of a list, a period)."""
        return _Frame(self.section, {**self.params, name: value}, self.subst, self.lifted)


class Interpreter:
    """One version of an agreement (or one clause file), evaluated from its checked IR."""

    def __init__(self, program: check_pass.CheckedProgram | Version
                 | tuple[Version | None, check_pass.CheckedProgram], *,
                 sources: Mapping[str, SourceFile] | None = None,
                 facts: Mapping[str, ir.Fact] | None = None,
                 parties: Sequence[str] | None = None,
                 types: Mapping[str, ir.Declaration] | None = None,
                 own_calendars: Mapping[str, ir.UserCalendar] | None = None) -> None:
        """`program` is a checked program, a consolidated `Version` (checked here), or a
        pair (version, checked program) as `api.Result.versions` holds them. `sources`
        (file name -> SourceFile) give the clause text that obligations quote (`due_text`)
        and that errors show; `facts` and `parties` are those of the agreement's `Facts`
        class when several versions share one (see `interpret`), and `types` the
        declarations its choices and records are read by (the original version's, as the
        module's `Facts` reads them); `own_calendars` are the agreement's own calendars
        (of any version, the last declaration of each: the module has one of each)."""
        version: Version | None
        if isinstance(program, Version):
            version, checked = program, check_pass.check(program.program, Diagnostics(),
                                                         program.removed)
        elif isinstance(program, tuple):
            version, checked = program
        else:
            version, checked = None, program
        self.version = version
        self.checked = checked
        self.label = version.label if version is not None else "original"
        self.effective: date | None = version.effective if version is not None else None
        # An amendment effective upon an event: the date fact that says when it happened.
        self.upon: str | None = version.upon if version is not None else None
        # The agreement this version is one of (set by Agreement): a term as in force on
        # a date is looked up there.
        self.agreement: Agreement | None = None
        self.absent: Mapping[str, str] = version.absent if version is not None else {}
        self.header = checked.header
        self.decls = checked.declarations
        self.exceptions = checked.exceptions
        self.fact_decls: Mapping[str, ir.Fact] = facts if facts is not None else \
            union_of_facts([checked])
        self.party_names = tuple(parties if parties is not None
                                 else (p.name for p in checked.header.parties))
        self.types: Mapping[str, ir.Declaration] = types if types is not None else self.decls
        self.roles = {p.name: p.display for p in checked.header.parties}
        self.own_calendars: Mapping[str, ir.UserCalendar] = own_calendars \
            if own_calendars is not None else \
            {d.name: d for d in checked.program.declarations if isinstance(d, ir.UserCalendar)}
        # The agreement's own calendar, with the holidays its header adds; the others
        # (business days in CAL), built when first counted in.
        self.calendar = self._built(checked.header.calendar, checked.header.holidays)
        self._calendars: dict[str, Calendar] = {checked.header.calendar: self.calendar}
        self.sections = {name: s for s in checked.program.sections
                         for name in s.declarations}
        self._lines = {name: s.text.split("\n") for name, s in (sources or {}).items()}
        self._defaults: dict[str, object] = {}
        self._where: dict[str, tuple[str | None, At]] = {}
        self._converters: dict[str, Callable[[str, object], object]] = {}
        # A table's rows (constants: computed once), and which expressions are unknowable
        # (by id, with the node itself, which keeps the id from being reused).
        self.tables: dict[str, tuple[dict[str, object], ...]] = {}
        self._unknowable: dict[int, tuple[ir.Expr, bool]] = {}
        # The definitions that use their own value for an earlier period, with the
        # position of their period parameter.
        self.recursive: dict[str, int] = {
            d.name: next(i for i, p in enumerate(d.params) if p.type.kind == "period")
            for d in self.decls.values()
            if isinstance(d, ir.Definition) and any(p.type.kind == "period" for p in d.params)
            and any(isinstance(n, ir.Call) and n.name == d.name for n in ir.walk(d.expr))}

    def __repr__(self) -> str:
        return f"<Interpreter {self.header.name} {self.label}>"

    # ------------------------------------------------------------------ the API

    @property
    def names(self) -> tuple[str, ...]:
        """What `evaluate` answers for, besides facts: terms, conditions, invariants,
        obligations, powers, families of periods and tables, in file order."""
        return tuple(d.name for d in self.checked.program.declarations
                     if isinstance(d, (ir.Definition, ir.Invariant, ir.Obligation, ir.Power,
                                       ir.PeriodFamily, ir.Table)))

    def facts(self, given: Mapping[str, object] | Facts) -> Facts:
        """`given` validated and converted as the compiled module's `Facts(**given)`:
        a FactError names a fact that is unknown, missing (and required) or malformed."""
        if isinstance(given, Facts):
            return given
        for name in given:
            if name not in self.fact_decls:
                raise unknown_fact(str(name), tuple(self.fact_decls))
        values: dict[str, object] = {}
        for name, fact in self.fact_decls.items():
            value = given.get(name)
            convert = self._converters.get(name)
            if convert is None:
                convert = self._converters[name] = self._fact_converter(fact)
            if fact.per is not None:
                values[name] = self._series(fact, value, convert)
            elif fact.default is not None:
                values[name] = convert(name, self._default(fact) if value is None else value)
            elif fact.type.optional:
                values[name] = None if value is None else convert(name, value)
            else:
                values[name] = convert(name, value)
        return Facts(values)

    def converter(self, type_: T.Type) -> Callable[[str, object], object]:
        """The runtime's converter (fact name, value) -> value of a fact of this type, as
        the module's Facts uses it: a list's items, a record's fields each converted as a
        fact of their own type; a choice is one of its members' names."""
        kind = type_.kind
        if kind == "list":
            element = self.converter(type_.element or T.ERROR)
            return lambda f, v: as_list(f, v, element)
        if kind == "choice":
            choice = self.types.get(type_.name or "")
            members = tuple(m.name for m in choice.members) \
                if isinstance(choice, ir.Choice) else ()
            return lambda f, v: as_choice(f, v, members)
        if kind == "record":
            record = self.types.get(type_.name or "")
            fields = tuple((f.name, self.constrained(f.name, f.constraint, record.section,
                                                     self.converter(f.type)))
                           for f in record.fields) \
                if isinstance(record, (ir.Record, ir.Table)) else ()
            return lambda f, v: as_record(f, v, fields)
        convert = _convert(kind)
        if kind == "money":
            currency = type_.currency or self.header.currency
            return lambda f, v: convert(f, v, currency)
        if kind == "party":
            parties = self.party_names
            return lambda f, v: convert(f, v, parties)
        return convert

    def _fact_converter(self, fact: ir.Fact) -> Callable[[str, object], object]:
        """A fact's converter; with a `where`, one that then checks it holds for the value
        (evaluated in the caller's decimal context, as the module's Facts checks it)."""
        return self.constrained(fact.name, fact.constraint, fact.section,
                                self.converter(fact.type))

    def constrained(self, name: str, condition: ir.Expr | None, section: str | None,
                    convert: Callable[[str, object], object]
                    ) -> Callable[[str, object], object]:
        """`convert`, then a check that the `where` of the fact or record field `name`
        holds for the value (evaluated in the caller's decimal context, as the module's
        Facts checks it); `convert` itself where there is no `where`."""
        if condition is None:
            return convert
        rule = self.snippet(condition.span, 80)
        frame_of = functools.partial(_Frame, section)

        def holds(value: object) -> bool:
            run = _Run(self, Facts({}))
            return bool(run.expr(condition, frame_of({name: value})))

        return lambda f, v: constrain(f, convert(f, v), holds, rule)

    def _series(self, fact: ir.Fact, value: object,
                convert: Callable[[str, object], object]) -> Series[object] | None:
        """A series fact's values (one per period, each converted as a fact of its type):
        a series not given is empty (each period it is asked for is then missing), or
        None where it is optional and has no default. A default stands for every period
        with no value of its own, as written in the clause file."""
        if value is None and fact.type.optional and fact.default is None:
            return None
        default = self._default(fact) if fact.default is not None else None
        return as_series(fact.name, {} if value is None else value,
                         lambda item: convert(fact.name, item), default)

    def evaluate(self, name: str, facts: Mapping[str, object] | Facts,
                 *args: object) -> object:
        """The value of a term, condition, invariant, obligation, power or fact, as the
        compiled module's `evaluate(name, Facts(**facts), *args)` gives it."""
        if name in self.absent:
            raise NotInForceError(self.absent[name])
        decl = self.decls.get(name)
        if isinstance(decl, ir.Invariant):
            decl = decl.as_condition()
        if isinstance(decl, (ir.Definition, ir.Obligation, ir.Power, ir.PeriodFamily,
                             ir.Table)):
            run = _Run(self, self.facts(facts))
            with localcontext(EXACT):
                if isinstance(decl, ir.Table):
                    if args:
                        raise TypeError(f"{name}() takes no arguments after the facts")
                    return run.table(decl)
                if isinstance(decl, ir.Definition):
                    if len(args) != len(decl.params):
                        raise TypeError(f"{name}() takes {len(decl.params)} argument(s) "
                                        f"after the facts, not {len(args)}")
                    return run.definition(decl, args)
                if isinstance(decl, ir.PeriodFamily):
                    if args:
                        raise TypeError(f"{name}() takes no arguments after the facts")
                    return run.frequency(name)
                wanted = 0 if decl.recurrence is None else 1
                if len(args) != wanted:
                    raise TypeError(f"{name}() takes {wanted} argument(s) after the facts, "
                                    f"not {len(args)}")
                if isinstance(decl, ir.Obligation):
                    return run.obligation(decl, *args)
                return run.power(decl, *args)
        if name in self.fact_decls:
            return self.facts(facts)[name]
        raise unknown_name(name, self.names + tuple(self.fact_decls))

    # ---------------------------------------------------------------- helpers

    def label_of(self, decl: ir.Declaration | ir.Definition) -> str | None:
        """How errors cite a declaration's section ("3.1, as amended on ...")."""
        section = self.sections.get(decl.name)
        return section.label if section is not None else decl.section

    def where(self, decl: ir.Declaration | ir.Definition) -> tuple[str | None, At]:
        """The section label of a declaration and its position, computed once."""
        known = self._where.get(decl.name)
        if known is None:
            label = self.label_of(decl)
            known = self._where[decl.name] = (label, self.at(decl.span, label))
        return known

    def at(self, span: Span, section: str | None) -> At:
        return (Path(span.file).name, span.line, span.column, section)

    def snippet(self, span: Span, limit: int = 100) -> str:
        """The clause source of a construct on one line, comments dropped ("" without
        the sources)."""
        return snippet(self._lines.get(span.file, []), span, limit)

    def role(self, party: str) -> str:
        return self.roles.get(party, party)

    def unknowable(self, e: ir.Expr) -> bool:
        """Whether evaluating `e` may find a fact or value missing, so that the logic
        around it is three-valued, as the compiled module decides it (codegen's
        `unknowable`): it, or something it is computed from, may have no value, or it uses
        a term, a series, a duty or a field (whose own facts may be missing). Elsewhere
        `and`, `or` and the lists of conditions stop at the first error."""
        known = self._unknowable.get(id(e))
        if known is not None and known[0] is e:
            return known[1]
        answer = False
        for node in expressions(e):
            if (node.type is not None and node.type.optional) or \
                    isinstance(node, _MAY_NOT_KNOW) or \
                    (isinstance(node, ir.Name) and not isinstance(
                        self.decls.get(node.name), (ir.Fact, ir.Table, type(None)))):
                answer = True
                break
        self._unknowable[id(e)] = (e, answer)
        return answer

    def calendar_of(self, name: str | None) -> Calendar:
        """The calendar business days of calendar `name` count in (None: the
        agreement's)."""
        if name is None:
            return self.calendar
        found = self._calendars.get(name)
        if found is None:
            found = self._calendars[name] = self._built(name, ())
        return found

    def _built(self, name: str, extra_holidays: tuple[date, ...]) -> Calendar:
        """Calendar `name`: a built-in one, or one the agreement declares."""
        own = self.own_calendars.get(name)
        if own is None or name in calendars.RULE_BASED:
            return calendar(name, extra_holidays)
        return own_calendar(name, own.bases, own.extra, extra_holidays)

    def _default(self, fact: ir.Fact) -> object:
        """A fact's default (a literal, checked to be one), evaluated once."""
        if fact.name not in self._defaults:
            assert fact.default is not None
            run = _Run(self, Facts({}))
            with localcontext(EXACT):
                self._defaults[fact.name] = run.expr(fact.default, _Frame(fact.section))
        return self._defaults[fact.name]


class _Run(Visitor):
    """One evaluation: the facts, and the values of the definitions computed so far (a
    definition is a pure function of the facts and its arguments, so each is computed
    once per evaluation; an error is remembered like a value)."""

    def __init__(self, interpreter: Interpreter, facts: Facts) -> None:
        self.i = interpreter
        self.given = facts
        self.facts = facts.values
        self.memo: dict[tuple[object, ...], tuple[bool, object]] = {}
        self.families: dict[str, Frequency] = {}
        # The recursive definitions being computed for a period asked, with the index
        # below which their steps back may not go (see _asked).
        self.floors: dict[str, int] = {}
        self.too_far_back: list[tuple[object, ...]] = []

    # ------------------------------------------------------------ expressions

    def expr(self, e: ir.Expr, frame: _Frame, strict: bool = True, lift: bool = False) -> object:
        """The value of `e`. Where `strict`, a missing value raises MissingFactError (a
        fact) or NoValueError; otherwise it is None. Where `lift`, an operation on an
        operand with no value has no value itself."""
        if id(e) in frame.subst:
            value = frame.subst[id(e)]
        elif lift and e.type is not None and e.type.optional and isinstance(e, LIFTABLE):
            value = self._lifted(e, frame)
        else:
            value = self.handler(e)(e, frame)
        # Whether a value may be missing is a matter of type, not of value: the compiled
        # module checks exactly where the type says it may be missing.
        if value is None and strict and self._may_be_missing(e, frame) and \
                not (frame.lifted and id(e) in frame.subst):
            at = self.i.at(e.span, frame.section)
            if isinstance(e, ir.Name) and isinstance(self.i.decls.get(e.name), ir.Fact):
                raise MissingFactError(e.name, file=at[0], line=at[1], column=at[2],
                                       section=at[3])
            what = self.i.snippet(e.span, 60)
            raise NoValueError(f"'{what}' has no value here (none of the events it depends "
                               "on has happened, or a fact it needs is not given)",
                               file=at[0], line=at[1], column=at[2], section=at[3])
        return value

    def _may_be_missing(self, e: ir.Expr, frame: _Frame) -> bool:
        if isinstance(e, ir.Name) and e.name not in frame.params and \
                e.name in self.i.fact_decls and isinstance(self.i.decls.get(e.name), ir.Fact):
            # As the agreement's Facts class has it: a fact only an earlier version needs
            # may be missing even where that version requires it.
            return self.i.fact_decls[e.name].type.optional
        return e.type is not None and e.type.optional

    def _lifted(self, e: ir.Expr, frame: _Frame) -> object:
        """`e` where an operand may be missing and so may the result: the operands that
        may be missing first (all of them, in source order), no value if one has none,
        otherwise the operation on them (its other operands evaluated as usual)."""
        maybe = [c for c in operands(e) if c.type is not None and c.type.optional]
        values = [self.expr(c, frame, strict=False, lift=True) for c in maybe]
        if any(v is None for v in values):
            return None
        subst = {**frame.subst, **{id(c): v for c, v in zip(maybe, values)}}
        inner = _Frame(frame.section, frame.params, subst, lifted=True)
        return self.handler(e)(e, inner)

    def _literal(self, e: ir.Literal, frame: _Frame) -> object:
        return e.value

    def _name(self, e: ir.Name, frame: _Frame) -> object:
        if e.name in frame.params:
            return frame.params[e.name]
        target = self.i.decls.get(e.name)
        if isinstance(target, ir.Fact):
            return self.facts[e.name]
        if isinstance(target, ir.Definition):
            return self.definition(target, ())
        if isinstance(target, ir.Obligation):
            return self.obligation(target)
        if isinstance(target, ir.Power):
            return self.power(target)
        if isinstance(target, ir.Table):
            return self.table(target)
        return e.name  # a party, or a member of a choice, stands for its name

    def _call(self, e: ir.Call, frame: _Frame) -> object:
        target = self.i.decls.get(e.name)
        if isinstance(target, ir.Fact):  # a series: its value for one period
            return self._series_value(e, target, frame)
        if isinstance(target, ir.Obligation):  # an instance of a recurring obligation
            return self.obligation(target, self.expr(e.args[0], frame))
        if isinstance(target, ir.Power):
            return self.power(target, self.expr(e.args[0], frame))
        if isinstance(target, ir.Definition):
            args = [_coerce(self.expr(a, frame), a.type, p.type)
                    for a, p in zip(e.args, target.params)]
            return self.definition(target, tuple(args))
        args = [self.expr(a, frame) for a in e.args]
        if e.name in ("year", "month", "day"):
            return moment_part(args[0], e.name)  # type: ignore[arg-type]
        if e.name == "days_between":
            return days_between(args[0], args[1])  # type: ignore[arg-type]
        assert e.name == "round", e.name
        return round_half_up(args[0], args[1])  # type: ignore[arg-type]

    def _not(self, e: ir.Not, frame: _Frame) -> object:
        return not self.expr(e.operand, frame)

    def _negate(self, e: ir.Negate, frame: _Frame) -> object:
        return -self.expr(e.operand, frame)  # type: ignore[operator]

    def _binary(self, e: ir.Binary, frame: _Frame) -> object:
        op = e.op
        if op in ("and", "or", "unless"):
            if self.i.unknowable(e.left) or self.i.unknowable(e.right):
                # Three-valued: a side that decides the answer decides it even when the
                # other side's facts are missing.
                def second() -> bool:
                    value = bool(self.expr(e.right, frame))
                    return not value if op == "unless" else value
                return _decide((functools.partial(self.expr, e.left, frame), second),
                               op == "or")
            left = self.expr(e.left, frame)
            if op == "or":
                return left or self.expr(e.right, frame)
            if op == "and":
                return left and self.expr(e.right, frame)
            return left and not self.expr(e.right, frame)  # A unless B: A and not B
        lk, rk = _kind(e.left), _kind(e.right)
        if op in ("+", "-") and lk in T.MOMENTS and rk in T.DURATIONS:
            moment = self.expr(e.left, frame)
            return self._shifted(moment, self.expr(e.right, frame), e.right.type, op == "-")
        if op == "+" and lk in T.DURATIONS and rk in T.MOMENTS:
            # `10 days + D`: the date is evaluated first, as in `D + 10 days`.
            moment = self.expr(e.right, frame)
            return self._shifted(moment, self.expr(e.left, frame), e.left.type, False)
        if op == "-" and lk == rk == "date":
            # D1 - D2 is the number of days from D2 to D1 (D2 evaluated first).
            earlier = self.expr(e.right, frame)
            return days_between(earlier, self.expr(e.left, frame))  # type: ignore[arg-type]
        left = self.expr(e.left, frame)
        right = self.expr(e.right, frame)
        at = self.i.at(e.span, frame.section)
        if op == "/":
            return divide(left, right, at)  # type: ignore[arg-type]
        if op == "^":
            return exponentiate(left, right, at)  # type: ignore[arg-type]
        return _ARITHMETIC[op](left, right)

    def _shifted(self, moment: Any, amount: Any, unit: T.Type | None,
                 backwards: bool) -> object:
        """`moment` shifted by `amount` of the duration type `unit`."""
        count = -amount if backwards else amount
        kind = (unit or T.ERROR).kind
        if kind == "months":
            return add_months(moment, count)
        if kind == "business_days":
            counted_in = self.i.calendar_of((unit or T.ERROR).calendar)
            return counted_in.add_business_days(moment, count)
        return self.i.calendar.add_days(moment, count)

    def _compare(self, e: ir.Compare, frame: _Frame) -> object:
        for side, other in ((e.right, e.left), (e.left, e.right)):
            # "x is true" is x itself: the literal is not a value to compute.
            if isinstance(side, ir.Literal) and isinstance(side.value, bool) and \
                    e.op in ("==", "!="):
                value = self.expr(other, frame)
                return value if side.value == (e.op == "==") else not value
        left = self.expr(e.left, frame)
        return _COMPARE[e.op](left, self.expr(e.right, frame))

    def _isgiven(self, e: ir.IsGiven, frame: _Frame) -> object:
        value = self.expr(e.operand, frame, strict=False, lift=True)
        return value is None if e.negated else value is not None

    def _duration(self, e: ir.Duration, frame: _Frame) -> object:
        # A number of days, business days or months is an int; a year is twelve months.
        amount = self.expr(e.amount, frame)
        return amount * e.per_unit if e.per_unit != 1 else amount  # type: ignore[operator]

    def _shift(self, e: ir.Shift, frame: _Frame) -> object:
        moment = self.expr(e.base, frame)
        amount = self.expr(e.amount, frame)
        return self._shifted(moment, amount, e.amount.type, e.direction == "before")

    def _closeofbusiness(self, e: ir.CloseOfBusiness, frame: _Frame) -> object:
        day = self.expr(e.day, frame)
        zone = self.i.header.time_zone
        return close_of_business(day, self.i.header.close_of_business, zone)  # type: ignore[arg-type]

    def _ifthenelse(self, e: ir.IfThenElse, frame: _Frame) -> object:
        # The branches may have no value: the `if` passes that on (strict where used).
        branch = e.then if self.expr(e.condition, frame) else e.otherwise
        return _coerce(self.expr(branch, frame, strict=False), branch.type, e.type)

    def _listop(self, e: ir.ListOp, frame: _Frame) -> object:
        if e.kind in ("all", "any", "none"):
            return self._truth_list(e, frame)
        values: list[object] = []
        for item in e.items:
            # An item counts only when its guard holds; the guard is evaluated first.
            if item.when is not None and not self.expr(item.when, frame):
                values.append(None)
                continue
            value = self.expr(item.expr, frame, strict=False, lift=True)
            values.append(_coerce(value, item.expr.type, e.type))
        if e.kind == "total":
            zero: object = Decimal(0) if _kind(e) in T.DECIMALS else 0
            return total(zero, *values)
        smallest = e.kind in ("earliest", "least")
        if e.type is not None and not e.type.optional and len(values) > 1:
            # Every item has a value by its type.
            return min(values) if smallest else max(values)  # type: ignore[type-var]
        return (earliest if smallest else latest)(*values)

    def _truth_list(self, e: ir.ListOp, frame: _Frame) -> bool:
        """all of / any of / none of: items in order, stopping once the answer is known;
        an item whose guard fails is true for `all of` and false for the others. Where an
        item may be unknown, three-valued: an item that decides the answer decides it even
        when an earlier one's facts are missing."""
        if any(self.i.unknowable(x) for x in subexpressions(e)):
            items = [functools.partial(self._listed, item, frame, e.kind == "all")
                     for item in e.items]
            answer = _decide(items, e.kind != "all")
            return not answer if e.kind == "none" else answer
        for item in e.items:
            if item.when is not None and not self.expr(item.when, frame):
                continue
            holds = bool(self.expr(item.expr, frame))
            if e.kind == "all" and not holds:
                return False
            if e.kind != "all" and holds:
                return e.kind == "any"
        return e.kind != "any"

    def _listed(self, item: ir.Item, frame: _Frame, every: bool) -> object:
        """One item of a three-valued list of conditions: where its guard fails, what
        leaves the answer as it is (true for `all of`, false for the others)."""
        if item.when is not None and not self.expr(item.when, frame):
            return every
        return self.expr(item.expr, frame)

    # ---------------------------------------------------------------- periods

    def frequency(self, name: str) -> Frequency:
        """The periods of family `name`: a calendar family, or a declared one (its start
        evaluated on these facts; an error in building it is reported at the family)."""
        unit = ir.CALENDAR_FAMILIES.get(name)
        if unit is not None:
            return Frequency.calendar(unit)
        known = self.families.get(name)
        if known is not None:
            return known
        family = self.i.decls[name]
        assert isinstance(family, ir.PeriodFamily), name
        label, at = self.i.where(family)
        try:
            start = None if family.start is None else self.expr(family.start, _Frame(label))
            if family.basis == "contract":
                built = Frequency.contract(family.unit, commencement=start)  # type: ignore[arg-type]
            elif family.basis == "fiscal":
                built = Frequency.fiscal(family.unit, first_month=family.first_month,
                                         commencement=start)  # type: ignore[arg-type]
            else:
                built = Frequency.calendar(family.unit, commencement=start)  # type: ignore[arg-type]
        except ClauseError:
            raise
        except _COMPUTATION_ERRORS as error:
            raise located_error(error, at) from error
        self.families[name] = built
        return built

    def _periodof(self, e: ir.PeriodOf, frame: _Frame) -> object:
        frequency = self.frequency(e.family)
        return frequency.containing(self.expr(e.day, frame))  # type: ignore[arg-type]

    def _firstperiod(self, e: ir.FirstPeriod, frame: _Frame) -> object:
        return self.frequency(e.family).first()

    def _periodop(self, e: ir.PeriodOp, frame: _Frame) -> object:
        period: Period = self.expr(e.operand, frame)  # type: ignore[assignment]
        if e.op == "start":
            return period.start
        if e.op == "end":
            return period.end
        if e.op == "next":
            return period.next()
        if e.op == "previous":
            return period.previous()
        assert e.op == "number", e.op
        return period.number

    def _businessdayof(self, e: ir.BusinessDayOf, frame: _Frame) -> object:
        period: Period = self.expr(e.period, frame)  # type: ignore[assignment]
        is_open = self.i.calendar_of(e.calendar).is_business_day
        if e.which == "first":
            return first_business_day(period, is_open)
        return last_business_day(period, is_open)

    def _bounds(self, r: ir.Range, frame: _Frame, strict: bool
                ) -> tuple[Frequency, object, object]:
        """A range's family and bounds, in that order. Where not `strict`, a bound with no
        value is None (the range of a recurring duty: not yet started, or open)."""
        frequency = self.frequency(r.family)
        start, end = (None if b is None else self.expr(b, frame, strict=strict,
                                                        lift=not strict)
                      for b in (r.start, r.end))
        return frequency, start, end

    def _each(self, e: ir.Each, frame: _Frame) -> object:
        r = e.range
        frequency, start, end = self._bounds(r, frame, True)
        periods = periods_in_range(frequency, r.kind, start, end, r.count)
        if e.kind in _TRUTH:
            return self._logic_in(e.kind, periods, r.variable, e.body, e.when, frame)
        values: list[object] = []
        for period in periods:
            inner = frame.binding(r.variable, period)
            # A period counts only when its condition holds, evaluated before its item.
            if e.when is not None and not self.expr(e.when, inner):
                continue
            # "the earliest of ...": a period's item with no value is skipped, as in a list.
            skips = e.kind != "total"
            value = self.expr(e.body, inner, strict=not skips, lift=skips)
            values.append(_coerce(value, e.body.type, e.type))
        if e.kind == "total":
            zero: object = Decimal(0) if _kind(e) in T.DECIMALS else 0
            return total(zero, *values)
        return (earliest if e.kind in ("earliest", "least") else latest)(*values)

    def _in_range(self, r: ir.Range, frame: _Frame, period: Period) -> bool:
        """Whether `period` is one of the range of a recurring obligation or power. A
        range that starts on an event that has not happened has no periods; one whose end
        has no value (or that has none) has no last period."""
        frequency, start, end = self._bounds(r, frame, False)
        if r.kind == "ending":
            last = period_of(frequency, end, "the last period")
            assert r.count is not None
            return last.index - r.count < period.index <= last.index
        if start is None:
            return False
        if isinstance(start, Period):
            first = period_of(frequency, start, "the first period")
        elif isinstance(start, date):
            day = _plain(start)
            if frequency.commencement is not None and day < frequency.commencement:
                first = frequency.first()
            else:
                first = frequency.containing(day)
        else:
            raise TypeError(f"a range starts at a date or a period, not "
                            f"{type(start).__name__}")
        if period.index < first.index:
            return False
        if r.kind == "open" or end is None:
            return True
        if isinstance(end, Period):
            last_index = period_of(frequency, end, "the last period").index
            if r.kind != "through":
                last_index -= 1
        elif isinstance(end, date):
            day = _plain(end)
            if frequency.commencement is not None and day < frequency.commencement:
                last_index = 0
            else:
                containing = frequency.containing(day)
                last_index = containing.index
                if r.kind == "until" and containing.start == day:
                    last_index -= 1  # "until B": the periods that start before B
        else:
            raise TypeError(f"a range ends at a date or a period, not {type(end).__name__}")
        return period.index <= last_index

    def _series_value(self, e: ir.Call, fact: ir.Fact, frame: _Frame) -> object:
        """A series fact's value for the period `e` names: None where the clause allows
        none (an optional series), else the value, the default, or MissingFactError
        naming the fact and the period."""
        frequency = self.frequency(fact.per or "")
        period: Period = self.expr(e.args[0], frame)  # type: ignore[assignment]
        series: Series[object] | None = self.facts[e.name]  # type: ignore[assignment]
        if e.type is not None and e.type.optional:
            return None if series is None else series.get(frequency, period)
        at = self.i.at(e.span, frame.section)
        if series is None:  # required here, but not in every version
            raise MissingFactError(f"{e.name}[{period.label}]", file=at[0], line=at[1],
                                   column=at[2], section=at[3])
        return series.value(frequency, period, at)

    def _field(self, e: ir.Field, frame: _Frame) -> object:
        if _kind(e.operand) in ("record", "share"):
            fields: Mapping[str, object] = self.expr(e.operand, frame)  # type: ignore[assignment]
            return fields[e.field]
        duty: Obligation = self.expr(e.operand, frame)  # type: ignore[assignment]
        if e.field == "due":
            return duty.due
        if e.field == "amount":
            return duty.object
        if e.field == "performed_on":
            return duty.performed_on
        assert e.field == "active", e.field
        return duty.active

    def _inforce(self, e: ir.InForce, frame: _Frame) -> object:
        # The term, by name, in the version in force on the date (the module's
        # _version_at(VERSIONS, day, facts).evaluate(name, facts, *args)).
        day = _plain(self.expr(e.on, frame))  # type: ignore[arg-type]
        operand = e.operand
        assert isinstance(operand, (ir.Name, ir.Call))
        args = tuple(self.expr(a, frame) for a in getattr(operand, "args", ()))
        agreement = self.i.agreement
        version = agreement.at(day, self.given) if agreement is not None else self.i
        return version.evaluate(operand.name, self.given, *args)

    def _late(self, e: ir.Late, frame: _Frame) -> object:
        duty: Obligation = self.expr(e.operand, frame)  # type: ignore[assignment]
        day = _plain(self.expr(e.on, frame))  # type: ignore[arg-type]
        # In effect, due before the day, and not performed on or before its due date.
        if not duty.active or duty.due is None:
            return False
        due = _plain(duty.due)
        if due >= day:
            return False
        late = duty.performed_on is None or _plain(duty.performed_on) > due
        if not (late and e.default and duty.curable):
            return late
        # In default: the cure period after the notice is over and it was not performed
        # by its end either (no notice given, no default).
        if duty.cure_by is None:
            return False
        cure_by = _plain(duty.cure_by)
        return cure_by < day and (duty.performed_on is None or
                                  _plain(duty.performed_on) > cure_by)

    # ------------------------------------------------ lists, choices, records

    def _nothing(self, e: ir.Nothing, frame: _Frame) -> object:
        return None

    def _when(self, e: ir.When, frame: _Frame) -> object:
        # The condition first: no value where it fails (the value is not evaluated).
        if not self.expr(e.condition, frame):
            return None
        value = self.expr(e.value, frame, strict=False, lift=True)
        return _coerce(value, e.value.type, e.type)

    def _case(self, e: ir.Case, frame: _Frame) -> object:
        subject = self.expr(e.subject, frame)
        arms: dict[str | None, ir.Arm] = {}
        for arm in e.arms:
            for member in arm.members or (None,):
                arms[member] = arm
        chosen = arms.get(subject)  # type: ignore[call-overload]
        if chosen is None:
            chosen = arms[None]  # otherwise
        value = self.expr(chosen.value, frame, strict=False)
        return _coerce(value, chosen.value.type, e.type)

    def _listof(self, e: ir.ListOf, frame: _Frame) -> object:
        element = (e.type or T.ERROR).element
        return tuple(_coerce(self.expr(item, frame, strict=False), item.type, element)
                     for item in e.items)

    def _items(self, e: ir.ForEach, frame: _Frame, strict: bool,
               target: T.Type | None) -> Iterator[object]:
        """The values of a ForEach's body for the items its `when` keeps, in order, each
        computed when it is asked for (the list it iterates is evaluated first, here)."""
        values: Iterable[object] = self.expr(e.source, frame)  # type: ignore[assignment]
        return self._bodies(e, values, frame, strict, target)

    def _bodies(self, e: ir.ForEach, values: Iterable[object], frame: _Frame, strict: bool,
                target: T.Type | None) -> Iterator[object]:
        for value in values:
            inner = frame.binding(e.variable, value)
            if e.when is not None and not self.expr(e.when, inner):
                continue
            yield _coerce(self.expr(e.body, inner, strict=strict), e.body.type, target)

    def _foreach(self, e: ir.ForEach, frame: _Frame) -> object:
        return tuple(self._items(e, frame, False, (e.type or T.ERROR).element))

    def _aggregate(self, e: ir.Aggregate, frame: _Frame) -> object:
        source, kind = e.source, e.kind
        items: Iterator[object]
        if isinstance(source, ir.ForEach):
            if kind in _TRUTH:
                values: Iterable[object] = self.expr(source.source, frame)  # type: ignore[assignment]
                return self._logic_in(kind, values, source.variable, source.body,
                                      source.when, frame)
            # The items of these may have no value (first of, number of, earlier of...);
            # a sum needs every one.
            strict = kind not in ("first", "count", "earliest", "latest", "least",
                                  "greatest")
            items = self._items(source, frame, strict, e.type)
        else:
            listed: Iterable[object] = self.expr(source, frame)  # type: ignore[assignment]
            if kind in _TRUTH:
                answer = all(listed) if kind == "all" else any(listed)
                return not answer if kind == "none" else answer
            items = iter(listed)
        if kind == "count":
            return sum(1 for _ in items)
        if kind == "first":
            return next(items, None)
        if kind == "total":
            zero: object = Decimal(0) if _kind(e) in T.DECIMALS else 0
            return total(zero, *items)
        return (earliest if kind in ("earliest", "least") else latest)(*items)

    def _logic_in(self, kind: str, values: Iterable[object], variable: str, body: ir.Expr,
                  when: ir.Expr | None, frame: _Frame) -> bool:
        """all of / any of / none of [body for each variable in values when ...],
        three-valued: an item that decides the answer decides it even when another's
        facts are missing; an item its `when` leaves out leaves the answer as it is."""
        every = kind == "all"

        def item(value: object) -> object:
            inner = frame.binding(variable, value)
            if when is not None and not self.expr(when, inner):
                return every
            return self.expr(body, inner)

        answer = _decide([functools.partial(item, v) for v in values], not every)
        return not answer if kind == "none" else answer

    def _pairs(self, source: ir.Expr, frame: _Frame) -> list[tuple[object, Any]]:
        """(item, value) for each item of a list: a ForEach's items are what it iterates."""
        if not isinstance(source, ir.ForEach):
            listed: Iterable[object] = self.expr(source, frame)  # type: ignore[assignment]
            return [(value, value) for value in listed]
        pairs = []
        values: Iterable[object] = self.expr(source.source, frame)  # type: ignore[assignment]
        for value in values:
            inner = frame.binding(source.variable, value)
            if source.when is not None and not self.expr(source.when, inner):
                continue
            pairs.append((value, self.expr(source.body, inner)))
        return pairs

    def _allocate(self, e: ir.Allocate, frame: _Frame) -> object:
        amount: Decimal = self.expr(e.amount, frame)  # type: ignore[assignment]
        pairs = self._pairs(e.source, frame)
        at = self.i.at(e.span, frame.section)
        if e.method == "pro_rata":
            return pro_rata(amount, pairs, at)
        return in_order(amount, pairs, at)

    def _presentvalue(self, e: ir.PresentValue, frame: _Frame) -> object:
        payments: list[tuple[Decimal, date]] = []
        values: Iterable[object] = self.expr(e.source, frame)  # type: ignore[assignment]
        for value in values:
            inner = frame.binding(e.variable, value)
            if e.when is not None and not self.expr(e.when, inner):
                continue
            amount: Decimal = self.expr(e.amount, inner)  # type: ignore[assignment]
            payments.append((amount, self.expr(e.day, inner)))  # type: ignore[arg-type]
        rate: Decimal = _coerce(self.expr(e.rate, frame), e.rate.type,  # type: ignore[assignment]
                                T.DECIMAL)
        on: date = self.expr(e.on, frame)  # type: ignore[assignment]
        return present_value(payments, rate, on, e.day_count, e.compounding,
                             self.i.at(e.span, frame.section))

    def table(self, t: ir.Table) -> tuple[dict[str, object], ...]:
        """A table's rows, each a record of its columns (constants: computed once)."""
        rows = self.i.tables.get(t.name)
        if rows is None:
            frame = _Frame(self.i.label_of(t))
            rows = self.i.tables[t.name] = tuple(
                {c.name: _coerce(self.expr(v, frame), v.type, c.type)
                 for c, v in zip(t.columns, row.cells)} for row in t.rows)
        return rows

    # ----------------------------------------------------------- declarations

    def definition(self, d: ir.Definition, args: tuple[object, ...]) -> object:
        if args:
            # Period arguments may be given as a date in the period or its label.
            args = tuple(self._period_arg(p.type.family or "", a, p.name, d)
                         if p.type.kind == "period" else a for p, a in zip(d.params, args))
        if d.name in self.i.recursive:
            period = args[self.i.recursive[d.name]]
            floor = self.floors.get(d.name)
            if floor is None and isinstance(period, Period):
                return self._asked(d, args, period)
            if floor is not None and isinstance(period, Period) and period.index < floor:
                raise _TooFarBack(f"'{d.name}' goes back more than {MAX_PERIODS:,} periods "
                                  "from the period asked")
        # Arguments by type and spelling: 1, Decimal("1.0") and True are equal in Python
        # but may give different results.
        key = (d.name, *[(type(a), repr(a)) for a in args]) if args else (d.name,)
        known = self.memo.get(key)
        if known is None:
            try:
                known = (True, self._definition(d, args))
            except ClauseError as error:
                known = (False, error)
            self.memo[key] = known
            if not known[0] and _went_too_far_back(known[1]):  # type: ignore[arg-type]
                # It depends on the period asked: forgotten with it (_asked).
                self.too_far_back.append(key)
        ok, value = known
        if not ok:
            raise value  # type: ignore[misc]
        return value

    def _asked(self, d: ir.Definition, args: tuple[object, ...], period: Period) -> object:
        """A definition that uses its value for the previous period, asked for period n
        (as the module's runtime_time._recursive): first computed for n - 32, n - 64, ...
        (oldest first, each remembered), so that no computation goes more than 32 periods
        deep, however long the chain; its steps back stop MAX_PERIODS periods before n."""
        position = self.i.recursive[d.name]
        earlier: list[tuple[object, ...]] = []
        index = period.index - _STEP
        while index >= period.index - MAX_PERIODS:
            try:
                before = period.frequency.period(index)
            except ValueError:
                break  # before the family's first period, or year 1
            shifted = (*args[:position], before, *args[position + 1:])
            if (d.name, *[(type(a), repr(a)) for a in shifted]) in self.memo:
                break
            earlier.append(shifted)
            index -= _STEP
        self.floors[d.name] = period.index - MAX_PERIODS
        try:
            for shifted in reversed(earlier):
                try:
                    self.definition(d, shifted)
                except Exception:  # noqa: BLE001, S112 - raised again where it is needed
                    continue
            return self.definition(d, args)
        finally:
            del self.floors[d.name]
            for stale in self.too_far_back:
                self.memo.pop(stale, None)
            self.too_far_back.clear()

    def _definition(self, d: ir.Definition, args: tuple[object, ...]) -> object:
        params = {p.name: a for p, a in zip(d.params, args)} if args else _NOTHING
        declared = d.declared_type or T.ERROR
        label, at = self.i.where(d)
        try:
            if d.name in self.i.exceptions:
                decided = self._exceptions(d, params)
                if decided is not None:
                    return decided[0]
            value = self.expr(d.expr, _Frame(label, params), strict=not declared.optional)
            return _coerce(value, d.expr.type, declared)
        except ClauseError:
            raise
        except _COMPUTATION_ERRORS as error:
            raise located_error(error, at) from error

    def _exceptions(self, d: ir.Definition, params: Mapping[str, object]
                    ) -> tuple[object] | None:
        """The value the exceptions to `d` give it, or None when none applies. Every
        exception's condition is evaluated; two that apply with different values are a
        ConflictError (the contract does not say which decides)."""
        decided: list[tuple[At, object]] = []
        for exc in self.i.exceptions.get(d.name, ()):
            frame = _Frame(self.i.label_of(exc), params)
            if self.expr(exc.condition, frame):
                value = _coerce(self.expr(exc.value, frame), exc.value.type, d.declared_type)
                decided.append((self.i.at(exc.span, self.i.label_of(exc)), value))
                if len(self.i.exceptions[d.name]) == 1:
                    break
        if any(value != decided[0][1] for _, value in decided[1:]):
            raise conflict(d.name, decided[0][0], decided[1][0])
        return (decided[0][1],) if decided else None

    def _instance(self, decl: ir.Obligation | ir.Power, args: tuple[object, ...]
                  ) -> tuple[_Frame, Period | None]:
        """Where a provision is evaluated: for an instance of a recurring one, with its
        period (given as a period, a date in it or its label)."""
        r = decl.recurrence
        if r is None:
            return _Frame(self.i.label_of(decl)), None
        period = self._period_arg(r.family, args[0], r.variable, decl)
        return _Frame(self.i.label_of(decl), {r.variable: period}), period

    def _period_arg(self, family: str, value: object, name: str,
                    decl: ir.Declaration) -> Period:
        """A period argument; one that names no period of the family is an error at the
        declaration, as the compiled module reports it."""
        frequency = self.frequency(family)
        try:
            return period_of(frequency, value, name)
        except (TypeError, ValueError) as error:
            raise located_error(error, self.i.at(decl.span, self.i.label_of(decl))) from None

    def _applies(self, decl: ir.Obligation | ir.Power, condition: ir.Expr | None,
                 frame: _Frame, period: Period | None) -> bool:
        """Whether an instance is in its range (first) and its condition holds."""
        if decl.recurrence is not None and period is not None and \
                not self._in_range(decl.recurrence, _Frame(frame.section), period):
            return False
        return bool(self.expr(condition, frame)) if condition is not None else True

    def obligation(self, o: ir.Obligation, *args: object) -> Obligation:
        frame, period = self._instance(o, args)
        try:
            active = self._applies(o, o.duty.condition, frame, period)
            return self._duty(o.duty, frame, o.name, lambda: active,
                              period.label if period is not None else None)
        except ClauseError:
            raise
        except _COMPUTATION_ERRORS as error:
            raise located_error(error, self.i.at(o.span, self.i.label_of(o))) from error

    def power(self, p: ir.Power, *args: object) -> Power:
        frame, period = self._instance(p, args)
        try:
            available = self._applies(p, p.condition, frame, period)
            consequences = []
            for index, duty in enumerate(p.consequences):
                # A consequence's own condition counts only when the power is available;
                # the compiled module evaluates it after the amount and the due date.
                def active(duty: ir.Duty = duty) -> bool:
                    return available and (duty.condition is None
                                          or bool(self.expr(duty.condition, frame)))
                consequences.append(self._duty(duty, frame, f"{p.name}.then[{index}]",
                                               active))
            action = p.action
            if p.object is not None:
                action += " " + self.i.snippet(p.object.span)
            window = p.window
            closes = None if window is None else self._soft(lambda: self._due(window, frame))
            return Power(name=p.name, section=p.section, holders=self._holders(p.holder),
                         action=action, available=available,
                         consequences=tuple(consequences), joint=p.holder.kind == "joint",
                         closes=closes,  # type: ignore[arg-type]
                         period=period.label if period is not None else None)
        except ClauseError:
            raise
        except _COMPUTATION_ERRORS as error:
            raise located_error(error, self.i.at(p.span, self.i.label_of(p))) from error

    def _duty(self, duty: ir.Duty, frame: _Frame, name: str,
              active: Callable[[], bool], period: str | None = None) -> Obligation:
        # The amount and the due date are unknown (None) until the facts they need are
        # given: an obligation is still described before its condition is met.
        obj: object = None
        kind = ""
        currency = self.i.header.currency
        if duty.object is not None:
            obj = self._soft(lambda: self.expr(duty.object, frame))  # type: ignore[arg-type]
            kind = _kind(duty.object)
            kind = "" if kind == "error" else kind
            currency = (duty.object.type.currency if duty.object.type else None) or currency
        due: object = None
        due_text, word = "", "by"
        deadline = duty.deadline
        if deadline is not None:
            word = "on" if deadline.kind == "on" else "by"
            due = self._soft(lambda: self._due(deadline, frame))
            due_text = self.i.snippet(deadline.span, 200)
        holders = self._holders(duty.holder)
        obligor = " and ".join(holders) if duty.holder.kind == "joint" else holders[0]
        beneficiary = self.i.role(duty.beneficiary) if duty.beneficiary else None
        applies = active()
        performed = duty.performed
        performed_on = None if performed is None else \
            self._soft(lambda: self.expr(performed, frame))
        cure = duty.cure
        cure_by = None if cure is None else self._soft(lambda: self._due(cure, frame))
        return Obligation(name=name, section=frame.section, obligor=obligor,
                          action=duty.action, object=obj, object_kind=kind,
                          beneficiary=beneficiary, due=due,  # type: ignore[arg-type]
                          due_text=due_text, active=applies, currency=currency,
                          deadline=word, performed_on=performed_on,  # type: ignore[arg-type]
                          cure_by=cure_by,  # type: ignore[arg-type]
                          curable=cure is not None, period=period, standard=duty.standard)

    def _due(self, deadline: ir.Deadline, frame: _Frame) -> object:
        if deadline.kind == "within" and deadline.after is not None:
            start = self.expr(deadline.after, frame)
            amount = self.expr(deadline.expr, frame)
            return self._shifted(start, amount, deadline.expr.type, False)
        return self.expr(deadline.expr, frame)

    @staticmethod
    def _soft(thunk: Callable[[], object]) -> object:
        try:
            return thunk()
        except (MissingFactError, NoValueError):
            return None

    def _holders(self, holder: ir.Holder) -> tuple[str, ...]:
        if holder.kind == "either":
            return tuple(p.display for p in self.i.header.parties) or ("Either party",)
        return tuple(self.i.role(p) for p in holder.parties)


def _plain(value: date) -> date:
    """The day of a date or a date and time."""
    return value.date() if isinstance(value, datetime) else value


def _kind(e: ir.Expr) -> str:
    return (e.type or T.ERROR).kind


def _decide(items: Iterable[Callable[[], object]], decisive: bool) -> bool:
    """`any of` the items (`decisive` True) or `all of` them (False), three-valued (Kleene):
    the first item whose truth is `decisive` decides, even if an earlier one could not be
    decided for a fact or value missing; if none decides and one could not be decided,
    the first such error is raised. Other errors are raised at once."""
    unknown: Exception | None = None
    for item in items:
        try:
            if bool(item()) is decisive:
                return decisive
        except _UNKNOWN as missing:
            unknown = unknown or missing
    if unknown is not None:
        raise unknown
    return not decisive


def _coerce(value: object, source: T.Type | None, target: T.Type | None) -> object:
    """An integer where a decimal, money or percent is expected is a Decimal (exactly)."""
    if source and target and source.kind == "integer" and target.kind in T.DECIMALS:
        if value is None and source.optional:
            return None
        return Decimal(value)  # type: ignore[arg-type]
    return value


# ------------------------------------------------------------- all versions


class Agreement:
    """Every version of an agreement, interpreted: like the compiled module's `at` and
    `evaluate`, with one `Facts` for all versions (as the module has one `Facts` class)."""

    def __init__(self, versions: Iterable[tuple[Version | None, check_pass.CheckedProgram]],
                 sources: Mapping[str, SourceFile] | None = None) -> None:
        pairs = list(versions)
        facts = union_of_facts([checked for _, checked in pairs])
        # The module's Facts class knows the parties of the agreement as signed.
        parties = [p.name for p in pairs[0][1].header.parties]
        # ...and reads choices and records as the original declares them; it has one
        # of each of the agreement's own calendars, as last declared.
        types = pairs[0][1].declarations
        own = {d.name: d for _, c in pairs for d in c.program.declarations
               if isinstance(d, ir.UserCalendar)}
        self.versions = tuple(Interpreter(pair, sources=sources, facts=facts, parties=parties,
                                          types=types, own_calendars=own)
                              for pair in pairs)
        for version in self.versions:
            version.agreement = self

    def _effective(self, version: Interpreter,
                   facts: Mapping[str, object] | Facts | None) -> date | None:
        """When `version` takes effect for these facts (None: it has not)."""
        if version.upon is None:
            return version.effective
        given = self.versions[-1].facts(facts) if facts is not None else None
        happened = given.values.get(version.upon) if given is not None else None
        if not isinstance(happened, date):
            return None
        day = _plain(happened)
        return max(day, version.effective) if version.effective else day

    def at(self, day: date, facts: Mapping[str, object] | Facts | None = None) -> Interpreter:
        """The version in force on `day` (amendments apply from their effective date; one
        effective upon an event, when the facts say it happened by then)."""
        day = _plain(day)
        chosen = self.versions[0]
        for version in self.versions[1:]:
            effective = self._effective(version, facts)
            if effective is not None and effective <= day:
                chosen = version
        return chosen

    def current(self, facts: Mapping[str, object] | Facts) -> Interpreter:
        """As in force now: the latest version (one effective upon an event once the
        facts say it happened)."""
        for version in reversed(self.versions):
            if version.upon is None or self._effective(version, facts) is not None:
                return version
        return self.versions[0]

    def evaluate(self, name: str, facts: Mapping[str, object] | Facts, *args: object) -> object:
        """As in force now: the latest version (see `current`)."""
        return self.current(facts).evaluate(name, facts, *args)

    def facts(self, given: Mapping[str, object] | Facts) -> Facts:
        return self.versions[-1].facts(given)


class Analysed(Protocol):
    """What `interpret` reads of an analysis, as `api.Result` has it (the api layer is
    above this one: it is not imported here)."""

    @property
    def versions(self) -> Sequence[tuple[Version | None, check_pass.CheckedProgram]] | None:
        ...

    @property
    def sources(self) -> Mapping[str, SourceFile]:
        ...


def interpret(result: Analysed) -> Agreement:
    """The interpreted agreement of an `api.Result` without errors (all its versions)."""
    if result.versions is None:
        raise ValueError("the agreement has errors; interpret only what checks")
    return Agreement(result.versions, result.sources)


class _TooFarBack(ValueError):
    """The steps back of a recursive definition went past MAX_PERIODS periods from the
    period asked (as the module's runtime_time._TooFarBack)."""


def _went_too_far_back(error: BaseException | None) -> bool:
    seen = 0
    while error is not None and seen < 100:
        if isinstance(error, _TooFarBack):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False
