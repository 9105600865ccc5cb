"""The query of an agreement over a table of facts, and what it needs.

`compile_plan` picks the versions that may be in force for a row (on a date, on the row's
own date, or now; an amendment effective upon an event once the row's facts say it
happened: versions.py), reads the facts the way the compiled module's `Facts` does
(conversion, defaults, parties and members, `where` constraints: a fact that breaks them
is a FactError of the row and its answers are NULL), translates each name asked for in
each of those versions (translate.py), picks the row's, and assembles the stages into one
SELECT:

    SELECT keys..., facts converted FROM facts          -- stage 0
    SELECT *, columns of stage 1 FROM (stage 0)          -- ...one per stage
    SELECT keys..., answers..., error FROM (last stage)

An obligation answers with `NAME.active`, `NAME.due` and `NAME.amount`, a power with
`NAME.available`. `error` is the row's first error: a fact's, else the first answer's
("distribution_date: NoValueError: ..."); an answer with an error is NULL.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

import attrs
import sqlglot
from sqlglot import exp

from clausec import ir
from clausec.backends.interpret import Interpreter, interpret
from clausec.backends.python.runtime import Calendar, close_of_business
from clausec.backends.sql import lists, periods, reading, versions
from clausec.backends.sql.base import (
    DECIMAL_PLACES,
    SQL_TYPES,
    Frame,
    Stages,
    UntranslatableError,
    Val,
    case,
    cast,
    coalesce,
    col,
    deep_enough,
    is_null,
    not_null,
    sql_literal,
    text,
    try_cast,
)
from clausec.backends.sql.translate import Translator
from clausec.diagnostics import CompileError, Diagnostic, did_you_mean
from clausec.ir import types as T
from clausec.source import SourceFile, Span

__all__ = ["CALENDAR_YEARS", "DECIMAL_PLACES", "CalendarTable", "FactColumn", "Output", "Plan",
           "SqlError", "compile_plan", "untranslated"]

# The years a calendar table covers: a business day outside them is an error of the row.
CALENDAR_YEARS = (1900, 2199)
ERROR_COLUMN = "error"


class SqlError(CompileError):
    """What has no SQL translation, or a name that is not the agreement's: diagnostics at
    the clause that says it."""


@attrs.frozen
class Output:
    name: str  # "distribution_date", "mail_rights_certificates.active"
    kind: str  # the clause type's kind: "bool", "date", "money", ...


@attrs.frozen
class FactColumn:
    name: str
    kind: str
    sql_type: str


@attrs.frozen
class CalendarTable:
    """The business days of a calendar, as a table the query reads: for each day of
    CALENDAR_YEARS, `cum` (business days on or before it), `before` (before it),
    `business`, and `close_of_business` (the agreement's close of business that day, in
    UTC)."""

    name: str
    columns: tuple[tuple[str, str], ...]
    rows: Callable[[], dict[str, list[object]]]


@attrs.frozen
class Plan:
    query: exp.Expr
    dialect: str
    keys: tuple[str, ...]
    outputs: tuple[Output, ...]
    facts: tuple[FactColumn, ...]
    calendars: tuple[CalendarTable, ...]
    error_column: str = ERROR_COLUMN

    @deep_enough
    def sql(self, pretty: bool = True) -> str:
        return self.query.sql(dialect=self.dialect, pretty=pretty)


@deep_enough
def compile_plan(result: object, names: Sequence[str] = (), *, dialect: str = "duckdb",
                 as_of: date | None = None, columns: Sequence[str] | None = None,
                 table: str = "facts", each_error: bool = False,
                 arguments: Mapping[str, tuple[object, ...]] | None = None,
                 as_of_column: str | None = None,
                 text_columns: Collection[str] | None = None) -> Plan:
    """The query answering `names` (every term, condition, invariant, obligation and
    power without parameters, if none) for each row of `table`, in the version of the
    agreement in force for it on `as_of` (now, if None: the latest version, or an
    amendment effective upon an event where the row's facts say it happened). `columns`: the input's columns
    (None: every fact); those that are not facts are passed through first, as keys.
    `each_error`: also a column "NAME error" per answer. `arguments`: the arguments of
    parametrised terms asked for (constants, the same for every row). `as_of_column`: a
    key column of dates; each row is answered in the version in force on its date (on
    `as_of` where it is empty), instead of one version for all. `text_columns`: the
    columns whose values may be text, read as the module reads text ("$1,000", "7.5%");
    the others are of their facts' types, read by a cast (None: any may be text)."""
    agreement = interpret(result)  # type: ignore[arg-type]
    sources: dict[str, SourceFile] = dict(getattr(result, "sources", {}) or {})
    version = versions.latest(agreement.versions, as_of)
    builder = _Builder(version, dialect, columns, sources, arguments or {}, text_columns)
    if as_of_column is not None and as_of_column not in builder.keys:
        keys = ", ".join(builder.keys) or "none"
        raise SqlError([Diagnostic("error", version.checked.header.span,
                                   f"the as-of column {as_of_column!r} is not one of the "
                                   "facts table's columns that are not facts",
                                   f"those are: {keys}", code="sql")], sources)
    wanted = builder.names(names)
    choices = builder.choices(as_of, as_of_column)
    outputs: list[tuple[Output, Val]] = []
    problems: list[Diagnostic] = [
        Diagnostic("error", version.fact_decls[b].span, f"the facts '{a}' and '{b}' differ "
                   "only by case: SQL engines compare column names without it",
                   "rename one of them to use the SQL backend", code="sql")
        for a, b in builder.clashes]
    for name, at in wanted:
        try:
            outputs.extend(builder.by_row(name, choices))
        except UntranslatableError as error:
            problems.append(Diagnostic("error", error.span, f"'{name}' uses {error.what}, "
                                       "which has no SQL translation yet",
                                       "ask for other names, or evaluate it with the Python "
                                       "module", code="sql"))
        except KeyError:
            problems.append(Diagnostic("error", at, f"'{name}' is not a term, condition, "
                                       "obligation or power of the agreement",
                                       did_you_mean(name, builder.known()), code="sql"))
    try:
        constraints = builder.constraints()
    except UntranslatableError as error:
        problems.append(Diagnostic("error", error.span, f"a fact's 'where' uses {error.what}, "
                                   "which has no SQL translation yet", code="sql"))
        constraints = []
    if problems:
        raise SqlError(problems, sources)
    query = builder.query(outputs, constraints, table, each_error)
    return Plan(query, dialect, builder.keys, tuple(o for o, _ in outputs),
                tuple(builder.fact_columns), tuple(builder.calendar_tables.values()))


@deep_enough
def untranslated(result: object, names: Sequence[str] = (), *,
                 as_of: date | None = None) -> dict[str, str]:
    """Of `names` (every name `compile_plan` would answer, if none), those that have no
    SQL translation yet, each with the construct it uses."""
    agreement = interpret(result)  # type: ignore[arg-type]
    builder = _Builder(versions.latest(agreement.versions, as_of), "duckdb", None, {})
    choices = builder.choices(as_of, None)
    found = {}
    for a, b in builder.clashes:
        found.update({name: f"facts that differ only by case ('{a}', '{b}')"
                      for name, _ in builder.names(names)})
    for name, _ in builder.names(names):
        if name in found:
            continue
        try:
            builder.by_row(name, choices)
        except UntranslatableError as error:
            found[name] = error.what
        except KeyError:
            found[name] = "no such name"
    return found


class _Builder:
    def __init__(self, version: Interpreter, dialect: str, columns: Sequence[str] | None,
                 sources: dict[str, SourceFile],
                 arguments: Mapping[str, tuple[object, ...]] | None = None,
                 text_columns: Collection[str] | None = None) -> None:
        self.version = version
        # The columns that may hold text ("$1,000", "7.5%"), read by their patterns; the
        # others by a cast alone (a regular expression per row costs a batch 3x).
        self.text_columns = text_columns
        self.reading_text = True
        self.arguments = arguments or {}
        self.dialect = dialect
        self.sources = sources
        facts = version.fact_decls
        given = list(columns) if columns is not None else list(facts)
        self.present = {c for c in given if c in facts}
        self.keys = tuple(c for c in given if c not in facts)
        self.fact_columns: list[FactColumn] = []
        self.fact_values: dict[str, Val] = {}
        # The keys under names of the query's own (`_key0`...), given back their names
        # at the end: past stage 0 only the query's columns exist, so that no input
        # column can stand for one of them.
        self.stage0: list[exp.Expr] = [exp.alias_(col(k), f"_key{i}", quoted=True)
                                             for i, k in enumerate(self.keys)]
        self.fact_errors: list[exp.Expr] = []
        self.calendar_tables: dict[str, CalendarTable] = {}
        seen: dict[str, str] = {}
        self.clashes: list[tuple[str, str]] = []
        for name, fact in facts.items():
            other = seen.setdefault(name.lower(), name)
            if other != name:
                self.clashes.append((other, name))
            self._fact(name, fact)
        # A translator per version of the agreement, sharing the query's stages: a row
        # may be answered in any version that may be in force for it (versions.py).
        self.versions = version.agreement.versions if version.agreement is not None \
            else (version,)
        stages = Stages()
        self.translators: dict[int, Translator] = {
            id(v): Translator(v, self.fact_values, functools.partial(self.calendar, version=v),
                              dialect, stages) for v in self.versions}
        versions.register(list(self.translators.values()))
        self.translator = self.translators[id(version)]

    # ---------------------------------------------------------------- facts

    def _fact(self, name: str, fact: ir.Fact) -> None:
        """A fact's column converted as the module's Facts converts it; an error of the
        row where it cannot be."""
        kind = fact.type.kind
        self.reading_text = self.text_columns is None or name in self.text_columns
        if fact.per is not None:
            self._series_fact(name, fact)
            return
        if kind in ("list", "record"):
            self._nested_fact(name, fact)
            return
        sql_type = SQL_TYPES.get(kind)
        if sql_type is None:
            return  # values SQL does not hold: read by no translated construct
        self.fact_columns.append(FactColumn(name, kind, sql_type))
        raw: exp.Expr = col(name) if name in self.present else cast(exp.Null(), "TEXT")
        value = self._converted(raw, fact.type, sql_type)
        problem = f"FactError: fact {name!r}: "
        errors: list[tuple[exp.Expr, exp.Expr]] = [
            (exp.and_(not_null(raw), is_null(value)),
             exp.Concat(expressions=[text(problem), cast(raw, "TEXT"),
                                     text(f" is not {_a(kind)}")]))]
        if kind in ("party", "choice"):
            allowed = self._allowed(fact.type)
            errors.append((exp.and_(not_null(value),
                                    exp.Not(this=exp.In(this=value,
                                                        expressions=[text(m) for m in allowed]))),
                           exp.Concat(expressions=[text(problem), value,
                                                   text(" is not one of " + ", ".join(allowed))])))
        if fact.default is not None:
            default = sql_literal(_constant(fact.default), kind)
            value = exp.Coalesce(this=value, expressions=[default])
        elif not fact.type.optional:
            errors.append((is_null(raw), text(problem + "not given")))
        # Named by position: engines compare names without case, and `Facts` and
        # `facts` are two facts of a clause file.
        internal = f"_fact{len(self.fact_columns)}"
        self.stage0.append(exp.alias_(value, internal, quoted=True))
        self.stage0.append(exp.alias_(case(*errors), internal + "_e", quoted=True))
        self.fact_values[name] = Val(col(internal), None, 0)
        self.fact_errors.append(col(internal + "_e"))

    def _series_fact(self, name: str, fact: ir.Fact) -> None:
        """A series fact: a list of (period, value) structs, one per period given (the
        JSON form `[{"period": "2009-Q1", "value": ...}]`), each value read as a fact of
        its type, an error of the row where one cannot be; matched with the periods of
        its family where a value is asked for (periods.series_value). Not given, it has
        no values. Its `where` is checked with the other facts' (constraints)."""
        type_ = fact.type.required()
        try:
            value_type = lists.data_type(self.version, type_)
        except UntranslatableError:
            return
        series_type = periods.series_type(value_type)
        self.fact_columns.append(FactColumn(name, "list", series_type.sql("duckdb")))
        raw: exp.Expr = col(name) if name in self.present else lists.to(exp.Null(), series_type)
        entry = lists.var("_y1")
        value, error = self._nested(lists.field(entry, "value"), type_, name, 2)
        key = lists.field(entry.copy(), "period")
        converted = exp.Transform(this=raw, expression=lists.lam(lists.struct(
            ("period", cast(key, "TEXT")), ("value", value)), entry.name))
        problem = f"FactError: fact {name!r}: "
        # As the module's Facts: every value given, each period named.
        checks = case((is_null(key.copy()), text(problem + "a period is named by a date or "
                                                 "a label, not None")),
                      (is_null(lists.field(entry.copy(), "value")),
                       text(problem + "a value is not given")), default=error)
        errors = exp.ArrayFilter(this=exp.Transform(this=raw.copy(), expression=lists.lam(
            checks, entry.name)), expression=lists.lam(not_null(lists.var("_e")), "_e"))
        first = exp.Bracket(this=errors, expressions=[exp.Literal.number(1)], offset=1,
                            safe=True)
        too_many = exp.GT(this=exp.ArraySize(this=raw.copy()),
                          expression=exp.Literal.number(periods.MAX_PERIODS))
        internal = f"_fact{len(self.fact_columns)}"
        self.stage0.append(exp.alias_(converted, internal, quoted=True))
        self.stage0.append(exp.alias_(case((too_many, text(
            problem + f"more than {periods.MAX_PERIODS:,} periods")), default=first),
            internal + "_e", quoted=True))
        self.fact_values[name] = Val(col(internal), None, 0)
        self.fact_errors.append(col(internal + "_e"))

    def _nested_fact(self, name: str, fact: ir.Fact) -> None:
        """A list or record fact: its column (a list, a struct, a list of structs) read
        item by item and field by field as the module's Facts reads it, an error of the
        row at the first item or field that cannot be read."""
        type_ = fact.type.required()
        try:
            data_type = lists.data_type(self.version, type_)
        except UntranslatableError:
            return  # a list of what SQL does not hold: read by no translated construct
        self.fact_columns.append(FactColumn(name, fact.type.kind, data_type.sql("duckdb")))
        raw: exp.Expr = col(name) if name in self.present else lists.to(exp.Null(), data_type)
        value, error = self._nested(raw, type_, name, 1)
        errors: list[tuple[exp.Expr, exp.Expr]] = []
        if error is not None:
            errors.append((not_null(error), error))
        if not fact.type.optional:
            errors.append((is_null(raw), text(f"FactError: fact {name!r}: not given")))
        internal = f"_fact{len(self.fact_columns)}"
        self.stage0.append(exp.alias_(value, internal, quoted=True))
        self.stage0.append(exp.alias_(case(*errors) if errors else cast(exp.Null(), "TEXT"),
                                      internal + "_e", quoted=True))
        self.fact_values[name] = Val(col(internal), None, 0)
        self.fact_errors.append(col(internal + "_e"))

    def _nested(self, raw: exp.Expr, type_: T.Type, what: str, depth: int
                ) -> tuple[exp.Expr, exp.Expr | None]:
        """A value of `type_` read from `raw`, and the error (a text, NULL where none)
        that says why it cannot be."""
        kind = type_.kind
        problem = f"FactError: fact {what!r}: "
        if kind == "list":
            item = lists.var(f"_y{depth}")
            value, error = self._nested(item, type_.element or T.ERROR, f"{what}[…]", depth + 1)
            converted = exp.Transform(this=raw, expression=lists.lam(value, item.name))
            if error is None:
                return converted, None
            errors = exp.Transform(this=raw.copy(), expression=lists.lam(error, item.name))
            present = exp.ArrayFilter(this=errors, expression=lists.lam(not_null(
                lists.var("_e")), "_e"))
            return converted, exp.Bracket(this=present, expressions=[exp.Literal.number(1)],
                                          offset=1, safe=True)
        if kind == "record":
            record = self.version.types.get(type_.name or "")
            assert isinstance(record, (ir.Record, ir.Table))
            fields: list[tuple[str, exp.Expr]] = []
            found: list[exp.Expr | None] = [case((is_null(raw), text(
                problem + f"expected a record with the fields "
                f"{', '.join(f.name for f in record.fields)}, got nothing")))]
            for f in record.fields:
                part = lists.field(raw.copy(), f.name)
                value, error = self._nested(part, f.type, f"{what}.{f.name}", depth)
                fields.append((f.name, value))
                found.append(case((is_null(part.copy()), text(
                    problem + f"field {f.name!r} is not given"))))
                found.append(error)
            return case((not_null(raw.copy()), lists.struct(*fields))), coalesce(*found)
        sql_type = SQL_TYPES[kind]
        value = self._converted(raw, type_, sql_type)
        checks = [(exp.and_(not_null(raw.copy()), is_null(value.copy())),
                   exp.Concat(expressions=[text(problem), cast(raw.copy(), "TEXT"),
                                           text(f" is not {_a(kind)}")]))]
        if kind in ("party", "choice"):
            allowed = self._allowed(type_)
            checks.append((exp.and_(not_null(value.copy()), exp.Not(this=exp.In(
                this=value.copy(), expressions=[text(m) for m in allowed]))),
                exp.Concat(expressions=[text(problem), value.copy(),
                                        text(" is not one of " + ", ".join(allowed))])))
        return value, case(*checks)

    def _allowed(self, type_: T.Type) -> list[str]:
        if type_.kind == "party":
            return list(self.version.party_names)
        choice = self.version.types.get(type_.name or "")
        return [m.name for m in choice.members] if isinstance(choice, ir.Choice) else []

    def _converted(self, raw: exp.Expr, type_: T.Type, sql_type: str) -> exp.Expr:
        kind = type_.kind
        if kind in ("text", "party", "choice"):
            return cast(raw, "TEXT")
        if kind == "datetime" and self.dialect == "duckdb":
            instant = try_cast(raw, "TIMESTAMPTZ")
            return exp.AtTimeZone(this=instant, zone=text("UTC"))
        if not self.reading_text:
            return try_cast(raw, sql_type)
        return reading.read(raw, kind, sql_type, type_.currency)

    def constraints(self) -> list[exp.Expr]:
        """The facts' `where`, as errors of the row."""
        found = []
        for name, fact in self.version.fact_decls.items():
            if fact.constraint is None or name not in self.fact_values:
                continue
            if fact.per is not None:
                found.append(self._series_constraint(name, fact, fact.constraint))
                continue
            value = self.fact_values[name]
            frame = Frame(fact.section, {name: value})
            holds = self.translator.expr(fact.constraint, frame)
            rule = self.version.snippet(fact.constraint.span, 80)
            message = exp.Concat(expressions=[text(f"FactError: fact {name!r}: "),
                                              cast(value.v, "TEXT"),
                                              text(f" is not allowed: the agreement requires "
                                                   f"{rule}")])
            error = coalesce(holds.e, case((exp.and_(not_null(value.v),
                                                     exp.Not(this=holds.v)), message)))
            assert error is not None
            found.append(self.translator.put(error, None, holds).v)
        return found

    def _series_constraint(self, name: str, fact: ir.Fact, constraint: ir.Expr) -> exp.Expr:
        """A series fact's `where`, checked for each value given, in order: the first
        that breaks it is an error of the row, as the module's Facts reports it."""
        t = self.translator
        series = self.fact_values[name]
        entry = lists.var("_y1")
        given = t.put(exp.Transform(this=series.v, expression=lists.lam(
            lists.field(entry, "value"), entry.name)), None, series)
        items = lists.items_of(t, given, name, constraint, None, Frame(fact.section), True,
                               None)
        rule = self.version.snippet(constraint.span, 80)
        broken = exp.Concat(expressions=[text(f"FactError: fact {name!r}: "),
                                         cast(items.element.copy(), "TEXT"),
                                         text(f" is not allowed: the agreement requires "
                                              f"{rule}")])
        each = case((exp.Not(this=items.value.copy()), broken))
        if items.error is not None:
            each = exp.Coalesce(this=items.error.copy(), expressions=[each])
        errors = exp.ArrayFilter(this=exp.Transform(this=items.rows.v.copy(), expression=lists.lam(
            each, items.var)), expression=lists.lam(not_null(lists.var("_e")), "_e"))
        first = exp.Bracket(this=errors, expressions=[exp.Literal.number(1)], offset=1,
                            safe=True)
        return t.put(first, None, items.rows).v

    # -------------------------------------------------------------- names

    def known(self) -> list[str]:
        return [d.name for d in self.version.checked.program.declarations
                if isinstance(d, (ir.Definition, ir.Invariant, ir.Obligation, ir.Power,
                                  ir.Table))]

    def names(self, asked: Sequence[str]) -> list[tuple[str, Span]]:
        header = self.version.checked.header.span
        if asked:
            return [(name, header) for name in asked]
        return [(d.name, d.span) for d in self.version.checked.program.declarations
                if isinstance(d, (ir.Definition, ir.Invariant, ir.Obligation, ir.Power))
                and not getattr(d, "params", ()) and getattr(d, "recurrence", None) is None]

    def answers(self, name: str, version: Interpreter) -> list[tuple[Output, Val]]:
        """`name` answered in `version`."""
        decl = version.decls.get(name)
        if name in version.absent:
            return [(Output(name, "text"), versions.not_in_force(version, name))]
        if isinstance(decl, ir.Invariant):
            decl = decl.as_condition()
        t = self.translators[id(version)]
        if isinstance(decl, ir.Definition):
            given = self.arguments.get(name, ())
            if len(given) != len(decl.params):
                raise UntranslatableError("parameters (a batch answers terms without "
                                          "arguments)", decl.span)
            if any(p.type.kind not in SQL_TYPES and p.type.kind != "period"
                   for p in decl.params):
                raise UntranslatableError("parameters of this type", decl.span)
            args = tuple(periods.argument(t, p.type.family or "", a, p.span)
                         if p.type.kind == "period" else Val(sql_literal(a, p.type.kind), None, 0)
                         for a, p in zip(given, decl.params))
            declared = decl.declared_type or T.ERROR
            value = t.definition(decl, args, ir.Name(name, span=decl.span))
            if declared.kind == "period":
                # A period is answered with its label ("2024-Q2"), as the module prints it.
                return [(Output(name, "text"),
                         periods.label(t, declared.family or "", value, decl.span))]
            return [(Output(name, declared.kind), value)]
        if isinstance(decl, ir.Obligation):
            fields = t.obligation(decl, self.instance_period(t, name, decl))
            out = [(Output(f"{name}.active", "bool"), fields["active"])]
            deadline = decl.duty.deadline
            if deadline is not None:
                moment = deadline.after if deadline.kind == "within" and deadline.after \
                    is not None else deadline.expr
                out.append((Output(f"{name}.due", (moment.type or T.DATE).kind), fields["due"]))
            if decl.duty.object is not None:
                out.append((Output(f"{name}.amount",
                                   (decl.duty.object.type or T.ERROR).kind), fields["amount"]))
            return out
        if isinstance(decl, ir.Power):
            return [(Output(f"{name}.available", "bool"),
                     t.power(decl, self.instance_period(t, name, decl)))]
        if isinstance(decl, ir.Table):
            return [(Output(name, "list"), t.expr(ir.Name(name, span=decl.span), Frame(None)))]
        raise KeyError(name)

    def instance_period(self, t: Translator, name: str, decl: ir.Obligation | ir.Power
                        ) -> Val | None:
        """The period of the instance of a recurring obligation or power asked for: its
        argument (a date in it, or its label), as a term's period parameter."""
        r = decl.recurrence
        given = self.arguments.get(name, ())
        if len(given) != (r is not None):
            raise UntranslatableError("recurring obligations and powers without the period "
                                      "of their instance (give it as an argument)"
                                      if r is not None else "arguments of an obligation or "
                                      "power that does not recur", decl.span)
        return periods.argument(t, r.family, given[0], decl.span) \
            if r is not None else None

    def choices(self, as_of: date | None, column: str | None) -> list[versions.Choice]:
        """The versions that may answer a row, each with when it does: the version in
        force on `as_of` (now, if None), or on the row's date in `column` (on `as_of` where
        it is empty)."""
        def happened(fact: str) -> exp.Expr:
            return self.fact_values[fact].v.copy()

        on_day = versions.in_force(self.versions, as_of, happened)
        if column is None:
            return on_day
        day = cast(col(f"_key{self.keys.index(column)}"), "DATE")
        return [(exp.and_(is_null(day.copy()), condition) if condition is not None
                 else is_null(day.copy()), version) for condition, version in on_day] + \
            versions.in_force(self.versions, day, happened)

    def by_row(self, name: str, choices: Sequence[versions.Choice]) -> list[tuple[Output, Val]]:
        """`name` answered in the version in force for each row (`choices`): every
        version's answers computed, the row's picked. A version where the name is not in
        force answers NotInForceError, as the module does; an answer a version does not
        have (the due date of an obligation without one there) is its no value."""
        found: dict[int, dict[str, tuple[Output, Val]]] = {}
        for _, version in choices:
            if id(version) not in found:
                found[id(version)] = {o.name: (o, v) for o, v in self.answers(name, version)}
        if len(found) == 1:
            return list(next(iter(found.values())).values())
        # Typed as the latest version where the name is in force has it, with the answers
        # only earlier ones have (a version where it is not has only an error).
        in_force = [found[id(v)] for _, v in choices if name not in v.absent] or \
            [found[id(choices[0][1])]]
        outputs: dict[str, Output] = {}
        for answers in in_force:
            for output_name, (output, _) in answers.items():
                outputs.setdefault(output_name, output)
        picked = []
        for output_name, output in outputs.items():
            vals = [(condition, _answer(found[id(v)], output_name)) for condition, v in choices]
            picked.append((output, versions.pick(self.translator, vals, output.kind)))
        return picked

    # ------------------------------------------------------------- calendars

    def calendar(self, name: str | None, version: Interpreter) -> str:
        """The table of a calendar's business days (None: the calendar of `version`)."""
        calendar_name = name or version.checked.header.calendar
        table = f"clausec_calendar_{calendar_name}"
        if table not in self.calendar_tables:
            calendar = version.calendar_of(name)
            header = version.checked.header
            self.calendar_tables[table] = CalendarTable(
                table, (("day", "DATE"), ("cum", "BIGINT"), ("before", "BIGINT"),
                        ("business", "BOOLEAN"), ("close_of_business", "TIMESTAMP")),
                functools.partial(_calendar_rows, calendar, header.close_of_business,
                                  header.time_zone or "UTC"))
        return table

    # ---------------------------------------------------------------- query

    def query(self, outputs: list[tuple[Output, Val]], constraints: list[exp.Expr],
              table: str, each_error: bool) -> exp.Expr:
        stages = self.translator.columns
        facts_error = coalesce(*self.fact_errors, *constraints)
        row_error = self.translator.put(facts_error, None, *(
            [Val(c, None, self._level(c)) for c in constraints])) if facts_error is not None \
            else None
        final: list[exp.Expr] = [exp.alias_(col(f"_key{i}"), k, quoted=True)
                                       for i, k in enumerate(self.keys)]
        errors: list[exp.Expr] = []
        for output, val in outputs:
            ok: exp.Expr = exp.true()
            own = val.e
            if row_error is not None:
                ok = exp.and_(ok, is_null(row_error.v))
            if own is not None:
                ok = exp.and_(ok, is_null(own))
                errors.append(case((is_null(row_error.v) if row_error else exp.true(),
                                    case((not_null(own), exp.Concat(expressions=[
                                        text(output.name + ": "), own]))))))
            answer = case((ok, val.v))
            if output.kind in SQL_TYPES:
                answer = cast(answer, SQL_TYPES[output.kind])
            final.append(exp.alias_(answer, output.name, quoted=True))
            if each_error:
                final.append(exp.alias_(case((ok, exp.Null()), default=coalesce(
                    row_error.v if row_error else None, own) or exp.Null()),
                    f"{output.name} error", quoted=True))
        final.append(exp.alias_(coalesce(row_error.v if row_error else None, *errors)
                                or cast(exp.Null(), "TEXT"), ERROR_COLUMN, quoted=True))
        select: exp.Select = exp.select(*self.stage0).from_(exp.to_table(table))
        for k, columns in enumerate(stages.levels[1:], 1):
            if columns:
                select = exp.select(exp.Star(), *columns).from_(
                    exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(f"s{k}"))))
        return _parenthesized(exp.select(*final).from_(
            exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier("answers")))))

    def _level(self, column: exp.Expr) -> int:
        name = column.name if isinstance(column, exp.Column) else ""
        for k, columns in enumerate(self.translator.columns.levels):
            if any(c.alias == name for c in columns):
                return k
        return 0


def _answer(answers: Mapping[str, tuple[Output, Val]], name: str) -> Val:
    """A version's answer `name`; where it has none, no value, with the errors of its
    other answers."""
    if name in answers:
        return answers[name][1]
    other = next(iter(answers.values()))[1]
    return Val(exp.Null(), other.e, other.level)


def _constant(e: ir.Expr) -> object:
    """The value of a fact's default, which the checker requires to be written out: a
    literal, a duration of one (`10 days`), or a negated one."""
    if isinstance(e, ir.Literal):
        return e.value
    if isinstance(e, ir.Duration):
        return _constant(e.amount) * e.per_unit  # type: ignore[operator]
    if isinstance(e, ir.Negate):
        return -_constant(e.operand)  # type: ignore[operator]
    if isinstance(e, ir.Name):  # a party or a member
        return e.name
    raise UntranslatableError("a default that is not written out", e.span)


def _parenthesized(tree: exp.Expr) -> exp.Expr:
    """The tree with every operation inside another in parentheses: sqlglot prints the
    tree as built, and `(a + b) * c` built as nodes must not print as `a + b * c`."""
    for node in list(tree.walk()):
        if isinstance(node, (exp.Binary, exp.Not, exp.Neg)) and not isinstance(node, exp.Dot):
            for key in ("this", "expression"):
                child = node.args.get(key)
                if isinstance(child, (exp.Binary, exp.Not, exp.Neg)) and \
                        not isinstance(child, exp.Dot):
                    node.set(key, exp.Paren(this=child))
    return tree


def _a(kind: str) -> str:
    return {"bool": "true or false", "integer": "a whole number", "decimal": "a number",
            "money": "an amount of money", "percent": "a percentage (as a fraction)",
            "date": "a date", "datetime": "a date and time with its offset"}.get(kind,
                                                                               "a " + kind)


@functools.lru_cache(maxsize=16)
def _calendar_rows(calendar: Calendar, close: str, zone: str) -> dict[str, list[object]]:
    days: list[object] = []
    cum: list[object] = []
    before: list[object] = []
    business: list[object] = []
    closes: list[object] = []
    count = 0
    # The close of business as the module computes it, for its time of day and zone,
    # taken once: only the date changes from day to day.
    first = close_of_business(date(2000, 1, 1), close, zone)
    closing, where = first.timetz().replace(tzinfo=None), first.tzinfo
    day = date(CALENDAR_YEARS[0], 1, 1)
    last = date(CALENDAR_YEARS[1], 12, 31)
    step = timedelta(days=1)
    known_before = False
    while day <= last:
        # Every day has its close of business (which no calendar changes). A day the
        # calendar does not know (a year outside a holiday table) has no counts, but for
        # the days next to the known ones: the module counts from the day before the
        # first, or after the last, without asking about it.
        try:
            is_business: bool | None = calendar.is_business_day(day)
        except ValueError:
            is_business = None
        if is_business is None:
            counted: int | None = count if known_before else None
            known_before = False
            if counted is None:
                following = day + step
                try:
                    calendar.is_business_day(following)
                    counted = count if following <= last else None
                except ValueError:
                    counted = None
            before.append(counted)
            cum.append(counted)
            business.append(None if counted is None else False)
        else:
            known_before = True
            before.append(count)
            count += is_business
            cum.append(count)
            business.append(is_business)
        days.append(day)
        local = datetime.combine(day, closing, tzinfo=where)
        closes.append(local.astimezone(UTC).replace(tzinfo=None))
        day += step
    return {"day": days, "cum": cum, "before": before, "business": business,
            "close_of_business": closes}


def parse(sql: str, dialect: str) -> exp.Expr:
    """A query as sqlglot reads it (for tests and tools)."""
    return sqlglot.parse_one(sql, dialect=dialect)

