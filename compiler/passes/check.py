"""Checking: names, types, cycles and conflicts (after consolidation, on each version).

`check` resolves every name, infers the type of every expression (returning the IR
with `type` filled in), orders definitions so that each comes after what it uses,
rejects cycles, and looks for rules that could decide the same value. It reports
into `Diagnostics` and never stops at the first problem.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from clausec import ir
from clausec.diagnostics import Diagnostics, Related, did_you_mean
from clausec.front.transform import known_zone
from clausec.ir import types as T
from clausec.ir.visit import DECLARATIONS, EXPRESSIONS, Visitor, subexpressions
from clausec.passes import calendars
from clausec.source import Span

# Functions every clause file may call.
BUILTINS: dict[str, tuple[tuple[frozenset[str], ...], T.Type]] = {
    "year": ((T.MOMENTS,), T.INTEGER),
    "month": ((T.MOMENTS,), T.INTEGER),
    "day": ((T.MOMENTS,), T.INTEGER),
    "days_between": ((frozenset({"date"}), frozenset({"date"})), T.INTEGER),
    "round": ((T.DECIMALS | {"integer"}, frozenset({"integer"})), T.DECIMAL),
}

# Rules with more atoms than this are left to the run-time conflict check.
_MAX_ATOMS = 16
# Taller expressions are refused: the generated Python nests up to three parentheses
# per level (explain()'s lists of lambdas), and CPython parses at most 200.
_MAX_DEPTH = 40
# A longer chain of terms, each defined by the next, is refused: evaluating, explaining
# or comparing the last one calls every term of the chain, one inside the other (up to
# three Python frames a term in explain(), two in an explanation's to_dict()), and
# Python's stack has room for about a thousand frames, some taken by the caller. Every
# command works at about 220 terms under a caller 100 frames deep; 150 leaves headroom.
MAX_TERM_CHAIN = 150
# A chain of one associative operator with more operands than this is regrouped into a
# balanced tree (a + b + c + d as (a + b) + (c + d)): its value is the same, and its
# height grows with the logarithm of its length, so that a long list of fees compiles.
_BALANCE_FROM = 16
# The operator families whose chains are checked in a loop (a + b - c is one chain).
_CHAIN_FAMILY = {"+": "sum", "-": "sum", "*": "product", "/": "product", "and": "and",
                 "or": "or"}


@attrs.frozen
class CheckedProgram:
    program: ir.Program
    header: ir.Header
    types: Mapping[str, T.Type]  # every fact and definition
    order: tuple[str, ...]  # definitions, each after those it uses
    exceptions: Mapping[str, tuple[ir.Exception_, ...]]  # by target
    sections: Mapping[str, ir.Section]

    @property
    def declarations(self) -> dict[str, ir.Declaration]:
        return self.program.by_name()


def default_header(file: str) -> ir.Header:
    return ir.Header(
        kind="agreement", name="agreement", title="Agreement", amends=None, dated=None,
        effective=None, governing_law=None, parties=(), calendar="us_federal", holidays=(),
        time_zone=None, time_zone_label=None, close_of_business="17:00", currency="USD",
        span=Span(file, 1, 1, 1, 2),
    )


def check(program: ir.Program, diagnostics: Diagnostics,
          removed: Mapping[str, Related] | None = None) -> CheckedProgram:
    """Check one program (a file, or a consolidated version of an agreement, in which case
    `removed` says which names amendments removed, and where)."""
    found = Diagnostics()
    try:
        checked = _Checker(program, found, removed or {}, prepare=False).run()
    except _DeepTerms:
        # Terms used before they are defined, many deep: checked again, each term's
        # dependencies first (the same result, without recursion).
        found = Diagnostics()
        checked = _Checker(program, found, removed or {}, prepare=True).run()
    diagnostics.items.extend(found.items)
    return checked


class _DeepTerms(Exception):
    """Checking a term reached terms not checked yet, more than _DIRECT_TERMS deep."""


# How many terms deep the checker follows uses of terms not checked yet by recursion (as
# fast as it gets); beyond, the program is checked again, each term's dependencies first.
_DIRECT_TERMS = 8


class _Checker(Visitor):
    visits = EXPRESSIONS + DECLARATIONS

    def __init__(self, program: ir.Program, diagnostics: Diagnostics,
                 removed: Mapping[str, Related], prepare: bool = True):
        self.prepare = prepare  # check each declaration's dependencies first (_prepare)
        self.program = program
        self.removed = removed
        self.d = diagnostics
        self.header = program.header or default_header(program.file)
        self.parties = {p.name: p for p in self.header.parties}
        self.decls: dict[str, ir.Declaration] = {}
        self.types: dict[str, T.Type] = {}
        self.typed: dict[str, ir.Declaration] = {}
        self.order: list[str] = []
        self.visiting: list[str] = []
        self.used: set[str] = set()
        self.exceptions: dict[str, list[ir.Exception_]] = {}
        self.depth = 0  # how deep the checker is in a declaration's expression
        self.nodes = 0  # how many nodes that expression has: a tall one has many
        self.heights: dict[str, int] = {}  # see _definition_type
        self.below: list[int] = []  # the tallest term used by each term being checked
        self.references: dict[str, list[str]] = {}  # see _uses
        self.checking: set[str] = set()  # obligations and powers being checked
        self.reported: set[tuple[str, Span]] = set()  # unknown families, once each
        # The members of the choices: a member's name is a value of its choice.
        self.members: dict[str, ir.Choice] = {}

    # ------------------------------------------------------------------ run

    def run(self) -> CheckedProgram:
        self._collect()
        self._known_calendar(self.header.calendar, self.header.calendar_span or self.header.span)
        # Facts first: definitions anywhere in the file may use them.
        for decl in sorted(self.program.declarations, key=lambda d: not isinstance(d, ir.Fact)):
            if self.decls.get(decl.name) is decl:
                if self.prepare:
                    self._prepare(decl)
                self._declaration(decl)
        self._check_conflicts()
        self._warn_unused()
        declarations = tuple(self.typed.get(d.name, d) for d in self.program.declarations
                             if self.decls.get(d.name) is d)
        return CheckedProgram(
            program=ir.evolve(self.program, declarations=declarations),
            header=self.header,
            types=dict(self.types),
            order=tuple(self.order),
            exceptions={k: tuple(self.typed[e.name] for e in v)  # type: ignore[misc]
                        for k, v in self.exceptions.items()},
            sections={s.number: s for s in self.program.sections},
        )

    def _collect(self) -> None:
        seen_sections: dict[str, ir.Section] = {}
        for section in self.program.sections:
            if section.number in seen_sections:
                first = seen_sections[section.number]
                self.d.error(section.span, f"{section.cite} is declared twice",
                             code="duplicate",
                             related=[Related(first.span, "first declared here")])
            else:
                seen_sections[section.number] = section
        seen_parties: dict[str, ir.Party] = {}
        for party in self.header.parties:
            if party.name in seen_parties:
                self.d.error(party.span, f"party '{party.name}' is declared twice",
                             code="duplicate",
                             related=[Related(seen_parties[party.name].span, "first here")])
            seen_parties[party.name] = party
        for decl in self.program.declarations:
            if decl.name.startswith("_"):
                self.d.error(decl.span, f"'{decl.name}': names may not start with '_'",
                             f"call it '{decl.name.lstrip('_') or 'value'}'", code="name")
            if decl.name in self.decls or decl.name in self.parties:
                earlier = self.decls.get(decl.name)
                first_span = earlier.span if earlier else self.parties[decl.name].span
                self.d.error(decl.span, f"'{decl.name}' is declared twice", code="duplicate",
                             related=[Related(first_span, "first declared here")])
                continue
            self.decls[decl.name] = decl
            if isinstance(decl, ir.Choice):
                self._collect_members(decl)
            if isinstance(decl, ir.Exception_):
                self.exceptions.setdefault(decl.target, []).append(decl)

    def _collect_members(self, choice: ir.Choice) -> None:
        seen: set[str] = set()
        for member in choice.members:
            if member.name in seen:
                self.d.error(member.span, f"'{member.name}' is listed twice in "
                             f"'{choice.name}'", code="duplicate")
                continue
            seen.add(member.name)
            other = self.members.get(member.name)
            if other is not None:
                self.d.error(member.span, f"'{member.name}' is already a member of "
                             f"'{other.name}'", "give one of them another name",
                             code="duplicate", related=[Related(other.span, "there")])
                continue
            self.members[member.name] = choice

    # --------------------------------------------------------- declarations

    def _choice(self, decl: ir.Choice) -> None:
        for member in decl.members:
            clash = self.decls.get(member.name)
            if clash is not None or member.name in self.parties:
                self.d.error(member.span, f"'{member.name}' is a member of '{decl.name}' "
                             "and also declared", "a member's name must not be the name of "
                             "a fact, term or party", code="duplicate",
                             related=[Related(clash.span, "declared here")] if clash else [])
            if member.name.startswith("_"):
                self.d.error(member.span, f"'{member.name}': names may not start with '_'",
                             code="name")
        if not decl.members:
            self.d.error(decl.span, f"'{decl.name}' has no members", code="type")
        self.typed[decl.name] = decl

    def _fields(self, fields: Sequence[ir.RecordField],
                owner: ir.Record | ir.Table) -> tuple[ir.RecordField, ...]:
        seen: dict[str, ir.RecordField] = {}
        typed = []
        for f in fields:
            if f.constraint is not None and isinstance(owner, ir.Table):
                self.d.error(f.constraint.span, "a table's column takes no 'where': its cells "
                             "are written in the table", "state a rule over the table as an "
                             "invariant", code="type")
                f = ir.evolve(f, constraint=None)
            if f.name in seen:
                self.d.error(f.span, f"'{owner.name}' has two fields '{f.name}'", code="duplicate",
                             related=[Related(seen[f.name].span, "first here")])
            seen[f.name] = f
            if f.name.startswith("_"):
                self.d.error(f.span, f"'{f.name}': names may not start with '_'", code="name")
            type_ = self._resolve_type(f.type, f.span)
            if type_.kind in ("list", "record", "share") or type_.optional:
                self.d.error(f.span, f"a field is a single value, not {type_}",
                             "declare another list fact for the nested list", code="type")
                type_ = T.ERROR
            typed.append(ir.evolve(f, type=type_, constraint=self._where(
                f.name, type_, f.constraint, owner, "field")))
        return tuple(typed)

    def _record(self, decl: ir.Record) -> None:
        self.typed[decl.name] = ir.evolve(decl, fields=self._fields(decl.fields, decl))

    def _table(self, decl: ir.Table) -> None:
        columns = self._fields(decl.columns, decl)
        rows = []
        for row in decl.rows:
            if len(row.cells) != len(columns):
                self.d.error(row.span, f"this row has {len(row.cells)} cells; "
                             f"'{decl.name}' has {len(columns)} columns", code="type")
            cells = []
            for cell, column in zip(row.cells, columns):
                typed = self._expr(cell, {}, decl)
                if not _is_constant(typed) and (typed.type or T.ERROR).kind != "error":
                    self.d.error(typed.span, "a table's cells are values written out",
                                 "such as $300,000, 2.5%, 2024-03-31 or a member's name",
                                 code="type")
                elif not T.assignable(typed.type or T.ERROR, column.type):
                    self.d.error(typed.span, f"column '{column.name}' is {column.type}, "
                                 f"not {typed.type}", code="type")
                cells.append(typed)
            rows.append(ir.evolve(row, cells=tuple(cells)))
        self.types[decl.name] = T.list_of(T.record(decl.name))
        self.typed[decl.name] = ir.evolve(decl, columns=columns, rows=tuple(rows))

    def record_fields(self, type_: T.Type) -> dict[str, ir.RecordField]:
        """The fields of a record type (a record's or a table's row), by name."""
        decl = self.typed.get(type_.name or "") or self.decls.get(type_.name or "")
        if isinstance(decl, ir.Record):
            if decl.name not in self.typed:
                self._record(decl)
                decl = self.typed[decl.name]
        elif isinstance(decl, ir.Table):
            if decl.name not in self.typed:
                self._table(decl)
            decl = self.typed[decl.name]
        if isinstance(decl, (ir.Record, ir.Table)):
            return {f.name: f for f in decl.fields}
        return {}

    def _declaration(self, decl: ir.Declaration) -> None:
        self.handler(decl)(decl)

    def _definition(self, decl: ir.Definition) -> None:
        self._definition_type(decl.name)

    def _exception(self, decl: ir.Exception_) -> None:
        if isinstance(self.decls.get(decl.target), ir.Definition):
            self._definition_type(decl.target)  # checks its exceptions too
        else:
            self._exception_to(decl, T.ERROR)

    def _obligation(self, decl: ir.Obligation) -> None:
        self._obligation_typed(decl.name)

    def _obligation_typed(self, name: str) -> ir.Obligation | ir.Power | None:
        """An obligation or power, checked first if it is not yet: a term may use its
        fields (`access_fee(q).amount`) before the file declares it."""
        done = self.typed.get(name)
        if isinstance(done, (ir.Obligation, ir.Power)):
            return done
        decl = self.decls.get(name)
        if not isinstance(decl, (ir.Obligation, ir.Power)) or name in self.checking:
            return None  # a duty whose own terms use its fields: reported where used
        self.checking.add(name)
        try:
            scope, recurrence = self._recurrence(decl.recurrence, decl)
            if isinstance(decl, ir.Obligation):
                typed: ir.Obligation | ir.Power = ir.evolve(
                    decl, recurrence=recurrence, duty=self._duty(decl.duty, decl, scope))
                self.types[name] = T.OBLIGATION
            else:
                typed = self._power_typed(decl, scope, recurrence)
                self.types[name] = T.POWER
        finally:
            self.checking.discard(name)
        self.typed[name] = typed
        return typed

    def _recurrence(self, recurrence: ir.Range | None,
                    decl: ir.Declaration) -> tuple[dict[str, T.Type], ir.Range | None]:
        if recurrence is None:
            return {}, None
        checked = self._range(recurrence, {}, decl)
        return {recurrence.variable: T.period(recurrence.family)}, checked

    def _resolve_type(self, type_: T.Type, span: Span | None = None) -> T.Type:
        if type_.kind == "money" and type_.currency is None:
            return ir.evolve(type_, currency=self.header.currency)
        if type_.kind == "business_days" and type_.calendar is None:
            return ir.evolve(type_, calendar=self.header.calendar)
        if type_.kind == "list" and type_.element is not None:
            return T.list_of(self._resolve_type(type_.element, span)).maybe(type_.optional)
        if type_.kind == "named" and isinstance(self.decls.get(type_.family or ""),
                                                (ir.Choice, ir.Record, ir.Table)):
            found = self.decls[type_.family or ""]
            kind = "choice" if isinstance(found, ir.Choice) else "record"
            return T.Type(kind, name=found.name, optional=type_.optional)
        if type_.kind == "named":
            name = type_.family or ""
            if self._family(name, None) is None:
                where = type_.span if isinstance(type_.span, Span) else span
                if where is not None and (name, where) not in self.reported:
                    self.reported.add((name, where))
                    families = [n for n, d in self.decls.items()
                                if isinstance(d, (ir.PeriodFamily, ir.Choice, ir.Record,
                                                  ir.Table))]
                    self.d.error(where, f"unknown type '{name}'",
                                 did_you_mean(name, [*_TYPE_WORDS, *families]) or
                                 "a type is one of " + ", ".join(_TYPE_WORDS) +
                                 ", or the name of a family of periods", code="name")
                return T.ERROR
            return T.period(name).maybe(type_.optional)
        return type_

    def _family(self, name: str, span: Span | None) -> ir.PeriodFamily | str | None:
        """The family of periods `name` names: a declaration, or the unit of a calendar
        family; None (reported at `span`) when there is none."""
        if name in ir.CALENDAR_FAMILIES:
            return ir.CALENDAR_FAMILIES[name]
        decl = self.decls.get(name)
        if isinstance(decl, ir.PeriodFamily):
            return decl
        if span is not None and (name, span) not in self.reported:
            self.reported.add((name, span))
            families = [n for n, d in self.decls.items() if isinstance(d, ir.PeriodFamily)]
            self.d.error(span, f"'{name}' is not a family of periods",
                         did_you_mean(name, families + ["calendar_quarter"]) or
                         "declare it: periods NAME = calendar quarters (or fiscal years "
                         "beginning April 1, contract years from D ...), or use calendar "
                         "month, calendar quarter or calendar year", code="name")
        return None

    def _usercalendar(self, decl: ir.UserCalendar) -> None:
        if calendars.calendar_info(decl.name) is not None:
            self.d.error(decl.span, f"'{decl.name}' is a built-in calendar",
                         "give the agreement's own calendar another name", code="duplicate")
        for base in decl.bases:
            if calendars.calendar_info(base) is None:
                closest = calendars.closest(base)
                self.d.error(decl.span, f"unknown calendar {base!r}",
                             f"did you mean {closest}?" if closest else "a calendar of the "
                             "agreement's own combines the built-in calendars: " +
                             ", ".join(calendars.names()), code="name")
        for day in decl.extra:
            if not calendars.FIRST_YEAR <= day.year <= calendars.LAST_YEAR:
                self.d.error(decl.span, f"{day.isoformat()} is outside the years the "
                             f"calendars cover ({calendars.FIRST_YEAR} to "
                             f"{calendars.LAST_YEAR})", code="literal")
        self.typed[decl.name] = decl

    def _periodfamily(self, decl: ir.PeriodFamily) -> None:
        start = None
        if decl.start is not None:
            start = self._expr(decl.start, {}, decl)
            if (start.type or T.ERROR).kind not in ("date", "error"):
                self.d.error(start.span, f"periods start from a date, not {start.type}",
                             code="type")
        elif decl.basis == "contract":
            self.d.error(decl.span, "contract periods count from a date",
                         f"write: periods {decl.name} = contract {decl.unit.replace('_', ' ')}s "
                         "from commencement_date", code="period")
        if decl.basis == "fiscal" and decl.unit == "month":
            self.d.error(decl.span, "fiscal months are calendar months",
                         "write: calendar months", code="period")
        self.typed[decl.name] = ir.evolve(decl, start=start)

    def _known_calendar(self, name: str, span: Span) -> None:
        if isinstance(self.decls.get(name), ir.UserCalendar):
            return
        if calendars.calendar_info(name) is None:
            closest = calendars.closest(name)
            self.d.error(span, f"unknown calendar {name!r}",
                         f"did you mean {closest}?" if closest else "the calendars are "
                         + ", ".join(calendars.names()), code="name")

    def _fact(self, fact: ir.Fact) -> None:
        if fact.type.calendar is not None:
            self._known_calendar(fact.type.calendar, fact.span)
        if fact.per is not None:
            self._family(fact.per, fact.span)
        type_ = self._resolve_type(fact.type, fact.span)
        default = None
        if fact.default is not None:
            default = self._expr(fact.default, {}, fact)
            if not T.assignable(default.type or T.ERROR, type_.required()):
                self.d.error(default.span, f"the default of '{fact.name}' is {default.type}, "
                             f"but the fact is {type_.required()}", code="type")
            if not _is_constant(default):
                self.d.error(default.span, "a fact's default must be a literal value",
                             "such as $0, 15%, 2004-03-30, 10 days, or a party's name",
                             code="type")
            # A fact with a default always has a value.
            type_ = type_.required()
        self.types[fact.name] = type_
        # The fact's name stands for its value (each period's, for a series).
        constraint = self._where(fact.name, type_.required(), fact.constraint, fact, "fact")
        self.typed[fact.name] = ir.evolve(fact, type=type_, default=default,
                                          constraint=constraint)

    def _where(self, name: str, type_: T.Type, constraint: ir.Expr | None,
               decl: ir.Declaration, owner: str) -> ir.Expr | None:
        """A fact's or a record field's `where`: a condition on its value alone (`name`
        stands for the value); None where there is none."""
        if constraint is None:
            return None
        typed = self._bool(constraint, {name: type_}, decl, f"a {owner}'s 'where'")
        other = sorted(n for n in ir.names_used(typed) if n != name and n in self.decls)
        if other:
            self.d.error(typed.span, f"a {owner}'s 'where' may use only the {owner} itself, "
                         f"not '{other[0]}'", "state conditions between facts as an "
                         "invariant's assumption", code="type")
        return typed

    def _scope(self, params: Iterable[ir.Parameter]) -> dict[str, T.Type]:
        scope: dict[str, T.Type] = {}
        for p in params:
            if p.name.startswith("_"):
                # As other names: the generated module's own names start with "_".
                self.d.error(p.span, f"'{p.name}': names may not start with '_'",
                             f"call it '{p.name.lstrip('_') or 'value'}'", code="name")
            if p.name in scope:
                self.d.error(p.span, f"parameter '{p.name}' is declared twice", code="duplicate")
            scope[p.name] = self._resolve_type(p.type, p.span)
        return scope

    def _prepare(self, decl: ir.Declaration) -> None:
        """Check the definitions that checking `decl` reaches, in the order it would reach
        them (depth first, each after those it uses), with a stack rather than recursion:
        a term may be defined through a chain of others as long as the file. Each is
        checked with `visiting` as the recursion would have it, so that a cycle is found
        and reported exactly as there, and checking `decl` then finds them all done."""
        if isinstance(decl, ir.Definition):
            roots = [decl.name]
        elif isinstance(decl, ir.Exception_):
            roots = [decl.target] if isinstance(self.decls.get(decl.target), ir.Definition) \
                else []
        else:
            roots = _references(decl, {}, self.decls)
        for root in roots:
            if root in self.types:
                continue
            path: list[str] = []
            stack: list[tuple[str, list[str] | None]] = [(root, None)]
            while stack:
                name, pending = stack.pop()
                if pending is None:  # entering `name`
                    if name in self.types or name in path:
                        continue  # done, or a cycle: checking it reports the cycle
                    path.append(name)
                    pending = self._uses(name)
                if pending:
                    stack.append((name, pending))
                    stack.append((pending.pop(), None))
                    continue
                path.pop()
                self.visiting = list(path)
                self._definition_type(name)
                self.visiting = []

    def _uses(self, name: str) -> list[str]:
        """The definitions checking definition `name` reaches, last first (to be popped),
        in the order it reaches them: its expression, then its exceptions."""
        found = self.references.get(name)
        if found is None:
            decl = self.decls[name]
            assert isinstance(decl, ir.Definition)
            scope = {p.name for p in decl.params}
            found = _references(decl.expr, scope, self.decls)
            for exc in self.exceptions.get(name, ()):
                found += _references(exc.value, scope, self.decls)
                found += _references(exc.condition, scope, self.decls)
            self.references[name] = found
        return [n for n in reversed(found) if n not in self.types]

    def _definition_type(self, name: str) -> T.Type:
        """The type of a definition, checking it first if needed (depth-first, for cycles)."""
        if name in self.types:
            return self.types[name]
        decl = self.decls[name]
        assert isinstance(decl, ir.Definition)
        if name in self.visiting:
            cycle = self.visiting[self.visiting.index(name):] + [name]
            self.d.error(decl.span, "circular definition: " + " -> ".join(cycle),
                         "a term cannot be defined, directly or indirectly, by itself",
                         code="cycle",
                         related=[Related(self.decls[n].span, f"'{n}' is defined here")
                                  for n in cycle[1:-1]])
            return T.ERROR
        if not self.prepare and len(self.visiting) >= _DIRECT_TERMS:
            raise _DeepTerms
        self.visiting.append(name)
        self.below.append(0)
        # Its expression is a root of its own.
        depth, nodes, self.depth, self.nodes = self.depth, self.nodes, 0, 0
        params = tuple(ir.evolve(p, type=self._resolve_type(p.type)) for p in decl.params)
        expr = self._expr(decl.expr, self._scope(decl.params), decl)
        if any(isinstance(n, ir.Call) and n.name == name for n in ir.walk(expr)):
            self._recursion(decl, expr)
        inferred = expr.type or T.ERROR
        declared = self._resolve_type(decl.declared_type) if decl.declared_type else None
        if declared is not None:
            if not T.assignable(inferred, declared):
                what = "condition" if decl.is_condition else f"'{name}'"
                self.d.error(expr.span, f"{what} is declared {declared} but its value is "
                             f"{inferred.required()}", code="type")
            type_ = declared.maybe(inferred.optional)
        else:
            type_ = inferred
        # Exceptions are part of the term's definition: a cycle through one is a cycle.
        for exc in self.exceptions.get(name, ()):
            self._exception_to(exc, type_)
        self.depth, self.nodes = depth, nodes
        self.visiting.pop()
        self._chain_height(decl, self.below.pop())
        self.types[name] = type_
        self.typed[name] = ir.evolve(decl, params=params, declared_type=type_, expr=expr)
        self.order.append(name)
        return type_

    def _chain_height(self, decl: ir.Definition, below: int) -> None:
        """Record how many terms, each defined by the next, `decl` stands on (itself
        included), `below` being the most any term it uses stands on; report where the
        chain first grows longer than MAX_TERM_CHAIN."""
        self.heights[decl.name] = below + 1
        if below == MAX_TERM_CHAIN:
            self.d.error(decl.span, f"'{decl.name}' ends a chain of more than "
                         f"{MAX_TERM_CHAIN} terms, each defined by the next",
                         "split the chain, or define the terms from a common base",
                         code="limit")

    def _used(self, name: str) -> T.Type:
        """The type of a term used in the definition being checked, which then stands on
        as many terms as that one, and one more."""
        type_ = self._definition_type(name)
        if self.below:
            self.below[-1] = max(self.below[-1], self.heights.get(name, 0))
        return type_

    def _exception_to(self, exc: ir.Exception_, target_type: T.Type) -> None:
        target = self.decls.get(exc.target)
        if target is None and exc.target in self.removed:
            why = self.removed[exc.target]
            self.d.error(exc.span, f"exception to '{exc.target}', but {why.message}",
                         "amend this exception too", code="dangling", related=[why])
            self.typed[exc.name] = exc
            return
        if not isinstance(target, ir.Definition):
            hint = did_you_mean(exc.target, [n for n, d in self.decls.items()
                                             if isinstance(d, ir.Definition)])
            what = "is not a defined term" if target else "is not declared"
            self.d.error(exc.span, f"exception to '{exc.target}', which {what}", hint,
                         code="name")
            self.typed[exc.name] = exc
            return
        self.used.add(exc.target)
        scope = self._scope(target.params)
        value = self._expr(exc.value, scope, exc)
        condition = self._bool(exc.condition, scope, exc, "the condition of an exception")
        if not T.assignable(value.type or T.ERROR, target_type.required()):
            self.d.error(value.span, f"this exception gives '{exc.target}' a {value.type}, "
                         f"but '{exc.target}' is {target_type.required()}", code="type",
                         related=[Related(target.span, f"'{exc.target}' is defined here")])
        self.typed[exc.name] = ir.evolve(exc, value=value, condition=condition)

    def _duty(self, duty: ir.Duty, decl: ir.Declaration,
              scope: Mapping[str, T.Type]) -> ir.Duty:
        self._holder(duty.holder)
        if duty.beneficiary is not None:
            self._party(duty.beneficiary, duty.span)
        object_ = self._expr(duty.object, scope, decl) if duty.object is not None else None
        deadline = None
        if duty.deadline is not None:
            deadline = self._deadline(duty.deadline, decl, scope)
        performed = None
        if duty.performed is not None:
            performed = self._expr(duty.performed, scope, decl)
            if (performed.type or T.ERROR).kind not in T.MOMENTS | {"error"}:
                self.d.error(performed.span, "'performed on' needs a date, not "
                             f"{performed.type}", code="type")
        cure = None
        if duty.cure is not None:
            cure = self._deadline(duty.cure, decl, scope)
            if duty.performed is None:
                self.d.error(duty.cure.span, "a cure period needs to know when the duty was "
                             "performed", "add 'performed on D' before 'cure within'",
                             code="type")
        condition = None
        if duty.condition is not None:
            condition = self._bool(duty.condition, scope, decl, "an obligation's condition")
        return ir.evolve(duty, object=object_, deadline=deadline, condition=condition,
                         performed=performed, cure=cure)

    def _deadline(self, deadline: ir.Deadline, decl: ir.Declaration,
                  scope: Mapping[str, T.Type]) -> ir.Deadline:
        if deadline.kind == "within":
            amount = self._expr(deadline.expr, scope, decl)
            after = self._expr(deadline.after, scope, decl) if deadline.after else None
            if (amount.type or T.ERROR).kind not in T.DURATIONS | {"error"}:
                self.d.error(amount.span, f"'within' needs a number of days, not {amount.type}",
                             "write e.g. 'within 2 business days after breach_date'",
                             code="type")
            if after is not None and (after.type or T.ERROR).kind not in T.MOMENTS | {"error"}:
                self.d.error(after.span, f"'within ... after' needs a date, not {after.type}",
                             code="type")
            return ir.evolve(deadline, expr=amount, after=after)
        expr = self._expr(deadline.expr, scope, decl)
        if (expr.type or T.ERROR).kind not in T.MOMENTS | {"error"}:
            self.d.error(expr.span, f"a deadline must be a date or datetime, not {expr.type}",
                         code="type")
        return ir.evolve(deadline, expr=expr)

    def _power(self, power: ir.Power) -> None:
        self._obligation_typed(power.name)

    def _power_typed(self, power: ir.Power, scope: Mapping[str, T.Type],
                     recurrence: ir.Range | None) -> ir.Power:
        self._holder(power.holder)
        object_ = self._expr(power.object, scope, power) if power.object is not None else None
        window = self._deadline(power.window, power, scope) if power.window else None
        condition = None
        if power.condition is not None:
            condition = self._bool(power.condition, scope, power, "a power's condition")
        consequences = tuple(self._duty(c, power, scope) for c in power.consequences)
        return ir.evolve(power, object=object_, condition=condition, window=window,
                         consequences=consequences, recurrence=recurrence)

    def _invariant(self, invariant: ir.Invariant) -> None:
        expr = self._bool(invariant.expr, {}, invariant, "an invariant")
        assumption = None
        if invariant.assumption is not None:
            assumption = self._bool(invariant.assumption, {}, invariant,
                                    "an invariant's assumption")
        self.types[invariant.name] = T.BOOL
        self.typed[invariant.name] = ir.evolve(invariant, expr=expr, assumption=assumption)

    def _holder(self, holder: ir.Holder) -> None:
        if holder.kind == "either" and len(self.parties) < 2:
            self.d.error(holder.span, "'either party' needs the agreement to declare its "
                         "parties", "add them to the agreement header: party NAME \"Role\"",
                         code="name")
        for party in holder.parties:
            self._party(party, holder.span)

    def _party(self, name: str, span: Span) -> None:
        if name not in self.parties:
            self.d.error(span, f"'{name}' is not a party of the agreement",
                         did_you_mean(name, self.parties) or
                         "declare it in the agreement header: party NAME \"Role\"",
                         code="name")

    # ----------------------------------------------------------- expressions

    def _bool(self, expr: ir.Expr, scope: Mapping[str, T.Type], decl: ir.Declaration,
              what: str) -> ir.Expr:
        typed = self._expr(expr, scope, decl)
        if (typed.type or T.ERROR).kind not in ("bool", "error"):
            self.d.error(typed.span, f"{what} must be true or false, not {typed.type}",
                         code="type")
        if isinstance(typed, ir.Literal) and isinstance(typed.value, bool):
            self.d.warning(typed.span, f"{what} is always {str(typed.value).lower()}",
                           code="constant")
        return typed

    def _expr(self, expr: ir.Expr, scope: Mapping[str, T.Type],
              decl: ir.Declaration) -> ir.Expr:
        # Recursion here follows the nesting the contract writes, which the parser bounds
        # (parser.MAX_NESTING); chains of one operator are walked in a loop (_binary).
        if self.depth == 0:
            self.nodes = 0
        self.depth += 1
        self.nodes += 1
        try:
            typed: ir.Expr = self.handler(expr)(expr, scope, decl)
        finally:
            self.depth -= 1
        if self.depth == 0 and self.nodes > _MAX_DEPTH:  # else it cannot be that tall
            typed = self._within_height(typed)
        return typed

    def _within_height(self, expr: ir.Expr) -> ir.Expr:
        """`expr`, or if the code generated from it would nest deeper than _MAX_DEPTH, an
        error where it does (and, in place of `expr`, a value of no type, so that no
        later pass meets the tall tree)."""
        found = _too_tall(expr)
        if found is None:
            return expr
        node, chain = found
        if chain:
            self.d.error(node.span, f"this chain of {chain} operands is too long to "
                         "compile", "split it into several defined terms (only a sum of "
                         "numbers or amounts, or a chain of 'and' or of 'or', may be as "
                         "long as needed)", code="limit")
        else:
            self.d.error(node.span, f"this expression nests more than {_MAX_DEPTH} levels "
                         "deep, counting each operator of a chain such as a - b - c",
                         "split it into several defined terms", code="limit")
        return ir.Literal(0, "", span=expr.span, type=T.ERROR)

    def _typed(self, expr: ir.Expr, type_: T.Type | None, **changes: Any) -> ir.Expr:
        return ir.evolve(expr, type=type_ or T.ERROR, **changes)

    def _literal(self, expr: ir.Literal, scope: Mapping[str, T.Type],
                 decl: ir.Declaration) -> ir.Expr:
        if isinstance(expr.value, datetime) and expr.value.tzinfo is None:
            if self.header.time_zone is None:
                self.d.error(expr.span, "this date and time has no time zone, and the "
                             "agreement declares none",
                             "add the zone (2011-06-14 17:00 America/New_York) or declare "
                             "'time zone America/New_York' in the agreement header",
                             code="type")
                return expr
            zone = known_zone(self.header.time_zone) or ZoneInfo("UTC")  # bad: reported
            return ir.evolve(expr, value=expr.value.replace(tzinfo=zone))
        return expr

    def _name(self, expr: ir.Name, scope: Mapping[str, T.Type],
              decl: ir.Declaration) -> ir.Expr:
        name = expr.name
        if name in scope:
            return self._typed(expr, scope[name])
        target = self.decls.get(name)
        if target is None and name in self.members:
            return self._typed(expr, T.choice(self.members[name].name))
        if isinstance(target, ir.Table):
            self.used.add(name)
            if name not in self.typed:
                self._table(target)
            return self._typed(expr, self.types[name])
        if target is None:
            if name in self.parties:
                return self._typed(expr, T.PARTY)
            if name in self.removed:
                why = self.removed[name]
                self.d.error(expr.span, f"'{name}' is used here, but {why.message}",
                             "amend this provision too, or keep the name in the amendment",
                             code="dangling", related=[why])
                return self._typed(expr, T.ERROR)
            candidates = list(scope) + list(self.decls) + list(self.parties)
            self.d.error(expr.span, f"'{name}' is not defined",
                         did_you_mean(name, candidates), code="name")
            return self._typed(expr, T.ERROR)
        self.used.add(name)
        if isinstance(target, ir.Fact):
            if target.per is not None:
                self.d.error(expr.span, f"'{name}' has a value per "
                             f"{ir.family_display(target.per)}",
                             f"write {name}(p) for its value for period p", code="type")
                return self._typed(expr, T.ERROR)
            return self._typed(expr, self.types.get(name, T.ERROR))
        if isinstance(target, (ir.Obligation, ir.Power)):
            if target.recurrence is not None:
                self.d.error(expr.span, f"'{name}' recurs for each "
                             f"{ir.family_display(target.recurrence.family)}",
                             f"write {name}({target.recurrence.variable}) for one instance",
                             code="type")
                return self._typed(expr, T.ERROR)
            return self._typed(expr, T.OBLIGATION if isinstance(target, ir.Obligation)
                               else T.POWER)
        if isinstance(target, ir.Definition):
            type_ = self._used(name)
            if target.params:
                args = ", ".join(p.name for p in target.params)
                self.d.error(expr.span, f"'{name}' takes parameters", f"write {name}({args})",
                             code="type")
            return self._typed(expr, type_)
        kind = {ir.PeriodFamily: "a family of periods", ir.Invariant: "an invariant",
                ir.Exception_: "an exception", ir.UserCalendar: "a calendar",
                ir.Choice: "a choice (a type)", ir.Record: "a record (a type)"}.get(
            type(target), "a declaration")
        self.d.error(expr.span, f"'{name}' is {kind}, not a value", code="type")
        return self._typed(expr, T.ERROR)

    def _call(self, expr: ir.Call, scope: Mapping[str, T.Type],
              decl: ir.Declaration) -> ir.Expr:
        args = tuple(self._expr(a, scope, decl) for a in expr.args)
        target = self.decls.get(expr.name)
        if isinstance(target, ir.Fact) and target.per is not None:
            self.used.add(expr.name)
            self._arguments(expr, args, (T.period(target.per),), target.span)
            return self._typed(expr, self.types.get(expr.name, T.ERROR), args=args)
        if isinstance(target, (ir.Obligation, ir.Power)) and target.recurrence is not None:
            self._arguments(expr, args, (T.period(target.recurrence.family),), target.span)
            type_ = T.OBLIGATION if isinstance(target, ir.Obligation) else T.POWER
            return self._typed(expr, type_, args=args)
        if isinstance(target, ir.Definition) and self.visiting and \
                self.visiting[-1] == expr.name and decl is target:
            return self._recursive_call(expr, args, target, scope)
        if isinstance(target, ir.Definition):
            self.used.add(expr.name)
            type_ = self._used(expr.name)
            params = target.params
            if len(args) != len(params):
                self.d.error(expr.span, f"'{expr.name}' takes {len(params)} argument(s), "
                             f"not {len(args)}", code="type",
                             related=[Related(target.span, f"'{expr.name}' is defined here")])
            for arg, param in zip(args, params):
                want = self._resolve_type(param.type)
                if not T.assignable(arg.type or T.ERROR, want.required()):
                    self.d.error(arg.span, f"'{param.name}' of '{expr.name}' is {want}, "
                                 f"not {arg.type}", code="type")
            return self._typed(expr, type_, args=args)
        if expr.name in BUILTINS and target is None:
            kinds, result = BUILTINS[expr.name]
            if len(args) != len(kinds):
                self.d.error(expr.span, f"{expr.name}() takes {len(kinds)} argument(s)",
                             code="type")
            for arg, allowed in zip(args, kinds):
                if (arg.type or T.ERROR).kind not in allowed | {"error"}:
                    self.d.error(arg.span, f"{expr.name}() does not take {arg.type}",
                                 code="type")
            if expr.name == "round" and args and args[0].type is not None and \
                    args[0].type.kind != "integer":
                result = args[0].type.required()  # rounding money gives money
            return self._typed(expr, result, args=args)
        hint = did_you_mean(expr.name, [n for n, d in self.decls.items()
                                        if isinstance(d, ir.Definition) and d.params]
                            + list(BUILTINS))
        self.d.error(expr.span, f"'{expr.name}' is not a defined term with parameters "
                     "nor a built-in function", hint, code="name")
        return self._typed(expr, T.ERROR, args=args)

    def _arguments(self, expr: ir.Call, args: tuple[ir.Expr, ...],
                   wanted: tuple[T.Type, ...], declared: Span) -> None:
        if len(args) != len(wanted):
            self.d.error(expr.span, f"'{expr.name}' takes {len(wanted)} argument(s), "
                         f"not {len(args)}", code="type",
                         related=[Related(declared, f"'{expr.name}' is declared here")])
        for arg, want in zip(args, wanted):
            if not T.assignable(arg.type or T.ERROR, want):
                self.d.error(arg.span, f"'{expr.name}' takes a {want}, not {arg.type}",
                             f"write {expr.name}({ir.family_display(want.family or '')} "
                             "containing D) for the period containing date D"
                             if want.kind == "period" else None, code="type")

    def _recursive_call(self, expr: ir.Call, args: tuple[ir.Expr, ...],
                        target: ir.Definition, scope: Mapping[str, T.Type]) -> ir.Expr:
        """A definition's use of its own value for an earlier period. The arguments are
        checked here; that the recursion ends (each use one period back, under a guard
        that stops it) is checked once the whole definition is typed (_recursion)."""
        if target.declared_type is None:
            self.d.error(expr.span, f"'{expr.name}' uses its own value, so its type must be "
                         "declared", f"write define {expr.name}(...): TYPE = ...",
                         code="cycle")
            return self._typed(expr, T.ERROR, args=args)
        self._arguments(expr, args, tuple(scope.get(p.name, T.ERROR) for p in target.params),
                        target.span)
        return self._typed(expr, self._resolve_type(target.declared_type), args=args)

    def _recursion(self, decl: ir.Definition, expr: ir.Expr) -> None:
        """Report each use of `decl`'s own value that might not end: it must be one period
        back (`previous p` for a period parameter p, the other arguments unchanged) and
        under a guard `p is after B` (or `on or after`), B not depending on p, so that each
        step goes back one period and the steps stop at B."""
        params = [p.name for p in decl.params]
        stack: list[tuple[ir.Expr, frozenset[str]]] = [(expr, frozenset())]
        while stack:
            node, bounded = stack.pop()
            if isinstance(node, ir.Call) and node.name == decl.name:
                problem = _recursion_problem(node, params, decl, bounded)
                if problem:
                    message, hint = problem
                    self.d.error(node.span, message, hint, code="cycle")
            if isinstance(node, ir.IfThenElse):
                stack.append((node.condition, bounded))
                stack.append((node.then, bounded | _lower_bounded(node.condition, True)))
                stack.append((node.otherwise, bounded | _lower_bounded(node.condition, False)))
                continue
            stack.extend((child, bounded) for child in subexpressions(node))

    # -------------------------------------------------------------- periods

    def _period(self, expr: ir.Expr, scope: Mapping[str, T.Type], decl: ir.Declaration,
                what: str) -> ir.Expr:
        typed = self._expr(expr, scope, decl)
        if (typed.type or T.ERROR).kind not in ("period", "error"):
            self.d.error(typed.span, f"{what} needs a period, not {typed.type}",
                         "such as: calendar quarter containing D", code="type")
        return typed

    def _periodof(self, expr: ir.PeriodOf, scope: Mapping[str, T.Type],
                  decl: ir.Declaration) -> ir.Expr:
        day = self._expr(expr.day, scope, decl)
        found = self._family(expr.family, expr.span)
        if (day.type or T.ERROR).kind not in T.MOMENTS | {"error"}:
            self.d.error(day.span, f"'containing' needs a date, not {day.type}", code="type")
        type_ = T.period(expr.family).maybe((day.type or T.ERROR).optional) \
            if found is not None else T.ERROR
        return self._typed(expr, type_, day=day)

    def _firstperiod(self, expr: ir.FirstPeriod, scope: Mapping[str, T.Type],
                     decl: ir.Declaration) -> ir.Expr:
        found = self._family(expr.family, expr.span)
        if found is None:
            return self._typed(expr, T.ERROR)
        if not isinstance(found, ir.PeriodFamily) or found.start is None:
            self.d.error(expr.span, f"the {ir.family_display(expr.family)}s have no first "
                         "period", "declare a family with a start: periods NAME = "
                         "calendar quarters from D", code="period")
        return self._typed(expr, T.period(expr.family))

    def _periodop(self, expr: ir.PeriodOp, scope: Mapping[str, T.Type],
                  decl: ir.Declaration) -> ir.Expr:
        if expr.op == "number":
            listed = self._expr(expr.operand, scope, decl)
            if (listed.type or T.ERROR).kind == "list":  # "the number of Lenders that..."
                return self._typed(ir.Aggregate("count", listed, span=expr.span),
                                   T.INTEGER)
        operand = self._period(expr.operand, scope, decl, f"'{_PERIOD_WORDS[expr.op]}'")
        type_ = operand.type or T.ERROR
        optional = type_.optional
        if type_.kind == "error":
            result = T.ERROR
        elif expr.op in ("start", "end"):
            result = T.DATE.maybe(optional)
        elif expr.op == "number":
            result = T.INTEGER.maybe(optional)
        else:
            result = type_
        return self._typed(expr, result, operand=operand)

    def _businessdayof(self, expr: ir.BusinessDayOf, scope: Mapping[str, T.Type],
                       decl: ir.Declaration) -> ir.Expr:
        period = self._period(expr.period, scope, decl, f"'{expr.which} business day of'")
        if expr.calendar is not None:
            self._known_calendar(expr.calendar, expr.span)
        optional = (period.type or T.ERROR).optional
        return self._typed(expr, T.DATE.maybe(optional), period=period)

    def _range(self, r: ir.Range, scope: Mapping[str, T.Type],
               decl: ir.Declaration) -> ir.Range:
        found = self._family(r.family, r.span)
        if r.variable in scope or r.variable in self.decls or r.variable in self.parties:
            self.d.error(r.span, f"'{r.variable}' is already a name here",
                         "call the period something else", code="duplicate")
        bounds: list[ir.Expr | None] = []
        for bound in (r.start, r.end):
            if bound is None:
                bounds.append(None)
                continue
            typed = self._expr(bound, scope, decl)
            type_ = typed.type or T.ERROR
            if found is not None and type_.kind not in ("date", "error") and \
                    not (type_.kind == "period" and type_.family == r.family):
                self.d.error(typed.span, f"a range of {ir.family_display(r.family)}s is "
                             f"bounded by dates or {ir.family_display(r.family)}s, not "
                             f"{type_.required()}", code="type")
            bounds.append(typed)
        return ir.evolve(r, start=bounds[0], end=bounds[1])

    def _each(self, expr: ir.Each, scope: Mapping[str, T.Type],
              decl: ir.Declaration) -> ir.Expr:
        r = self._range(expr.range, scope, decl)
        if r.kind == "open":
            self.d.error(r.span, f"'{_list_words(expr.kind)}' needs the last period",
                         "write: from A through B, from A until B, or in the N ending with B",
                         code="range")
        inner = {**scope, r.variable: T.period(r.family)}
        body = self._expr(expr.body, inner, decl)
        when = self._bool(expr.when, inner, decl, "'when'") if expr.when is not None else None
        type_ = body.type or T.ERROR
        if type_.kind == "error":
            result = T.ERROR
        elif expr.kind in ("all", "any", "none"):
            if type_.kind != "bool":
                self.d.error(body.span, f"the items of '{expr.kind} of' must be true or "
                             f"false, not {type_}", code="type")
            result = T.BOOL
        else:
            allowed = T.MOMENTS if expr.kind in ("earliest", "latest") else \
                T.NUMERIC | {"money"}
            if type_.kind not in allowed:
                what = "dates" if allowed is T.MOMENTS else "numbers or amounts"
                self.d.error(body.span, f"the items of '{_list_words(expr.kind)}' must be "
                             f"{what}, not {type_.required()}", code="type")
                result = T.ERROR
            elif expr.kind == "total":
                result = type_.required()  # a missing item is an error, not a zero
            else:
                result = type_.maybe()  # over no periods, there is none
        return self._typed(expr, result, body=body, range=r, when=when)

    def _duty_target(self, operand: ir.Expr) -> ir.Obligation | None:
        """The obligation `operand` (a name or an instance `x(q)`) is one of, checked."""
        if isinstance(operand, (ir.Name, ir.Call)):
            found = self._obligation_typed(operand.name)
            if isinstance(found, ir.Obligation):
                return found
        return None

    def _field(self, expr: ir.Field, scope: Mapping[str, T.Type],
               decl: ir.Declaration) -> ir.Expr:
        operand = self._expr(expr.operand, scope, decl)
        if (operand.type or T.ERROR).kind == "error":
            return self._typed(expr, T.ERROR, operand=operand)
        if (operand.type or T.ERROR).kind in ("record", "share"):
            return self._record_field(expr, operand)
        target = self._duty_target(operand)
        if target is None:
            self.d.error(operand.span, f"'.{expr.field}' is a field of an obligation",
                         "write e.g. access_fee(q).due", code="type")
            return self._typed(expr, T.ERROR, operand=operand)
        if expr.field not in ir.OBLIGATION_FIELDS:
            self.d.error(expr.span, f"an obligation has no field '{expr.field}'",
                         did_you_mean(expr.field, ir.OBLIGATION_FIELDS) or
                         "its fields are " + ", ".join(ir.OBLIGATION_FIELDS), code="name")
            return self._typed(expr, T.ERROR, operand=operand)
        duty = target.duty
        type_: T.Type = T.ERROR
        if expr.field == "active":
            type_ = T.BOOL
        elif expr.field == "due":
            type_ = _deadline_type(duty)
        elif expr.field == "amount":
            if duty.object is None:
                self.d.error(expr.span, f"'{target.name}' has no amount",
                             "its duty names no object", code="type")
            else:
                type_ = (duty.object.type or T.ERROR).maybe()  # unknown until it applies
        elif self._performed(target, expr.span):
            type_ = (duty.performed.type or T.ERROR).maybe() if duty.performed else T.ERROR
        return self._typed(expr, type_, operand=operand)

    def _performed(self, target: ir.Obligation, span: Span) -> bool:
        if target.duty.performed is not None:
            return True
        self.d.error(span, f"'{target.name}' does not say when it was performed",
                     "add 'performed on D' to its duty (a date fact, often one per period)",
                     code="type", related=[Related(target.span, "the obligation")])
        return False

    def _inforce(self, expr: ir.InForce, scope: Mapping[str, T.Type],
                 decl: ir.Declaration) -> ir.Expr:
        operand = self._expr(expr.operand, scope, decl)
        on = self._expr(expr.on, scope, decl)
        if (on.type or T.ERROR).kind not in ("date", "error"):
            self.d.error(on.span, f"'as in force on' needs a date, not {on.type}", code="type")
        target = self.decls.get(operand.name) if isinstance(operand, (ir.Name, ir.Call)) \
            else None
        if not isinstance(target, ir.Definition) and (operand.type or T.ERROR).kind != "error":
            self.d.error(operand.span, "only a defined term or condition can be taken as "
                         "in force on a date", "write (TERM as in force on D) or "
                         "(TERM(args) as in force on D)", code="type")
        if isinstance(target, ir.Definition) and self.visiting and \
                target.name in self.visiting:
            self.d.error(operand.span, f"'{target.name}' as in force on another date is "
                         "still itself: a term cannot be defined by itself", code="cycle")
        return self._typed(expr, operand.type, operand=operand, on=on)

    def _late(self, expr: ir.Late, scope: Mapping[str, T.Type],
              decl: ir.Declaration) -> ir.Expr:
        operand = self._expr(expr.operand, scope, decl)
        on = self._expr(expr.on, scope, decl)
        words = "is in default on" if expr.default else "is late on"
        if (on.type or T.ERROR).kind not in ("date", "error"):
            self.d.error(on.span, f"'{words}' needs a date, not {on.type}", code="type")
        if (operand.type or T.ERROR).kind != "error":
            target = self._duty_target(operand)
            if target is None:
                self.d.error(operand.span, "only an obligation can be late or in default",
                             code="type")
            else:
                self._performed(target, expr.span)
        return self._typed(expr, T.BOOL, operand=operand, on=on)

    def _not(self, expr: ir.Not, scope: Mapping[str, T.Type],
             decl: ir.Declaration) -> ir.Expr:
        operand = self._bool(expr.operand, scope, decl, "the operand of 'not'")
        return self._typed(expr, T.BOOL, operand=operand)

    def _negate(self, expr: ir.Negate, scope: Mapping[str, T.Type],
                decl: ir.Declaration) -> ir.Expr:
        operand = self._expr(expr.operand, scope, decl)
        type_ = operand.type or T.ERROR
        if type_.kind not in T.NUMERIC | {"money", "days", "business_days", "months", "error"}:
            self.d.error(expr.span, f"cannot negate {type_}", code="type")
            type_ = T.ERROR
        return self._typed(expr, type_, operand=operand)

    def _binary(self, expr: ir.Binary, scope: Mapping[str, T.Type],
                decl: ir.Declaration) -> ir.Expr:
        # `a + b - c + ...` is a tree as tall as the chain is long: its left spine is
        # walked in a loop, the operands checked left to right as the recursion would.
        family = _CHAIN_FAMILY.get(expr.op)
        spine = [expr]
        while family is not None and isinstance(spine[-1].left, ir.Binary) and \
                _CHAIN_FAMILY.get(spine[-1].left.op) == family:
            spine.append(spine[-1].left)
        self.nodes += len(spine) - 1
        bottom = spine[-1]
        if bottom.op in ("and", "or", "unless"):
            left = self._bool(bottom.left, scope, decl, f"the left side of '{bottom.op}'")
        else:
            left = self._expr(bottom.left, scope, decl)
        operands = [left]
        for node in reversed(spine):
            if node.op in ("and", "or", "unless"):
                right = self._bool(node.right, scope, decl, f"the right side of '{node.op}'")
            else:
                right = self._expr(node.right, scope, decl)
            operands.append(right)
            left = self._binary_node(node, left, right)
        if len(operands) > _BALANCE_FROM and len({n.op for n in spine}) == 1:
            return _balanced(expr.op, operands, left)
        return left

    def _binary_node(self, expr: ir.Binary, left: ir.Expr, right: ir.Expr) -> ir.Expr:
        """`expr` with its operands checked: typed, or reported."""
        if expr.op in ("and", "or", "unless"):
            return self._typed(expr, T.BOOL, left=left, right=right)
        type_ = T.arithmetic(expr.op, left.type or T.ERROR, right.type or T.ERROR)
        if type_ is None:
            lt, rt = (left.type or T.ERROR).required(), (right.type or T.ERROR).required()
            message = {
                "+": f"cannot add {lt} and {rt}",
                "-": f"cannot subtract {rt} from {lt}",
                "*": f"cannot multiply {lt} by {rt}",
                "/": f"cannot divide {lt} by {rt}",
                "^": f"cannot raise {lt} to the power of {rt}",
            }[expr.op]
            hint = None
            if {lt.kind, rt.kind} & T.MOMENTS and {lt.kind, rt.kind} & {"integer", "decimal"}:
                hint = "write a duration: '10 days after D' or 'D + 10 days'"
            elif expr.op == "^":
                hint = "the exponent must be an integer"
            self.d.error(expr.span, message, hint, code="type")
        return self._typed(expr, type_, left=left, right=right)

    def _compare(self, expr: ir.Compare, scope: Mapping[str, T.Type],
                 decl: ir.Declaration) -> ir.Expr:
        left = self._expr(expr.left, scope, decl)
        right = self._expr(expr.right, scope, decl)
        lt, rt = left.type or T.ERROR, right.type or T.ERROR
        if not T.comparable(expr.op, lt, rt):
            hint = None
            if {lt.kind, rt.kind} == {"date", "datetime"}:
                hint = "compare a datetime with 'close of business on D' rather than a date"
            words = expr.words or expr.op
            self.d.error(expr.span, f"cannot compare {lt.required()} with {rt.required()} "
                         f"('{words}')", hint, code="type")
        return self._typed(expr, T.BOOL, left=left, right=right)

    def _isgiven(self, expr: ir.IsGiven, scope: Mapping[str, T.Type],
                 decl: ir.Declaration) -> ir.Expr:
        operand = self._expr(expr.operand, scope, decl)
        if operand.type is not None and not operand.type.optional and \
                operand.type.kind != "error":
            self.d.warning(expr.span, "this value is always given, so the test is always "
                           f"{'false' if expr.negated else 'true'}",
                           "only optional facts, and terms built from them, can be missing",
                           code="constant")
        return self._typed(expr, T.BOOL, operand=operand)

    def _duration(self, expr: ir.Duration, scope: Mapping[str, T.Type],
                  decl: ir.Declaration) -> ir.Expr:
        amount = self._expr(expr.amount, scope, decl)
        if (amount.type or T.ERROR).kind not in ("integer", "error"):
            unit = "months or years" if expr.unit in ("months", "years") else "days"
            self.d.error(amount.span, f"a number of {unit} must be a whole number, not "
                         f"{amount.type}", code="type")
        type_ = T.DURATION_TYPES[expr.unit]
        if expr.calendar is not None:
            self._known_calendar(expr.calendar, expr.span)
        type_ = self._resolve_type(ir.evolve(type_, calendar=expr.calendar))
        return self._typed(expr, type_.maybe((amount.type or T.ERROR).optional), amount=amount)

    def _shift(self, expr: ir.Shift, scope: Mapping[str, T.Type],
               decl: ir.Declaration) -> ir.Expr:
        amount = self._expr(expr.amount, scope, decl)
        base = self._expr(expr.base, scope, decl)
        at, bt = amount.type or T.ERROR, base.type or T.ERROR
        type_: T.Type | None = bt
        if at.kind not in T.DURATIONS | {"error"}:
            self.d.error(amount.span, f"'{expr.direction}' needs a duration before it "
                         f"(such as 10 days), not {at}", code="type")
            type_ = T.ERROR
        if bt.kind not in T.MOMENTS | {"error"}:
            self.d.error(base.span, f"'{expr.direction}' needs a date after it, not {bt}",
                         code="type")
            type_ = T.ERROR
        if type_ is not None:
            type_ = type_.maybe(at.optional or bt.optional)
        return self._typed(expr, type_, amount=amount, base=base)

    def _closeofbusiness(self, expr: ir.CloseOfBusiness, scope: Mapping[str, T.Type],
                         decl: ir.Declaration) -> ir.Expr:
        day = self._expr(expr.day, scope, decl)
        if (day.type or T.ERROR).kind not in ("date", "error"):
            self.d.error(day.span, f"close of business is on a date, not {day.type}",
                         code="type")
        if self.header.time_zone is None:
            self.d.error(expr.span, "'close of business' needs the agreement's time zone",
                         "declare it in the agreement header: time zone America/New_York",
                         code="type")
        return self._typed(expr, T.DATETIME.maybe((day.type or T.ERROR).optional), day=day)

    def _ifthenelse(self, expr: ir.IfThenElse, scope: Mapping[str, T.Type],
                    decl: ir.Declaration) -> ir.Expr:
        condition = self._bool(expr.condition, scope, decl, "the condition of 'if'")
        then = self._expr(expr.then, scope, decl)
        otherwise = self._expr(expr.otherwise, scope, decl)
        type_ = T.join(then.type or T.ERROR, otherwise.type or T.ERROR)
        if type_ is None:
            self.d.error(expr.span, f"the branches of 'if' differ: {then.type} and "
                         f"{otherwise.type}", code="type")
        return self._typed(expr, type_, condition=condition, then=then, otherwise=otherwise)

    def _listop(self, expr: ir.ListOp, scope: Mapping[str, T.Type],
                decl: ir.Declaration) -> ir.Expr:
        items = []
        labels: dict[str, ir.Item] = {}
        for item in expr.items:
            if item.label is not None:
                if item.label in labels:
                    self.d.error(item.span, f"item {item.label} is listed twice",
                                 code="duplicate",
                                 related=[Related(labels[item.label].span, "first here")])
                labels[item.label] = item
            when = (self._bool(item.when, scope, decl, "an item's 'when'")
                    if item.when is not None else None)
            items.append(ir.evolve(item, expr=self._expr(item.expr, scope, decl), when=when))
        typed_items = tuple(items)
        types = [i.expr.type or T.ERROR for i in typed_items]
        kind = expr.kind
        if kind in ("all", "any", "none"):
            for item in typed_items:
                if (item.expr.type or T.ERROR).kind not in ("bool", "error"):
                    self.d.error(item.expr.span, f"the items of '{kind} of' must be true or "
                                 f"false; this one is {item.expr.type}", code="type")
            return self._typed(expr, T.BOOL, items=typed_items)
        allowed = T.MOMENTS if kind in ("earliest", "latest") else T.NUMERIC | {"money"}
        result: T.Type | None = None
        for item, type_ in zip(typed_items, types):
            if type_.kind == "error":
                result = T.ERROR
                continue
            if type_.kind not in allowed:
                what = "dates" if allowed is T.MOMENTS else "numbers or amounts"
                self.d.error(item.expr.span, f"the items of '{_list_words(kind)}' must be "
                             f"{what}; this one is {type_.required()}", code="type")
                result = T.ERROR
                continue
            joined = T.join(result, type_) if result is not None else type_
            if joined is None or (joined.kind == "decimal" and allowed is T.MOMENTS):
                self.d.error(item.expr.span, f"this item is {type_.required()}, the ones "
                             f"before it {result.required() if result else ''}", code="type")
                joined = T.ERROR
            result = joined
        if result is None:
            result = T.ERROR
        if kind == "total":
            result = result.required()
        else:
            # "earlier of" things that may not have happened may itself not have happened.
            result = result.maybe(any(t.optional for t in types) or
                                  any(i.when is not None for i in typed_items))
        return self._typed(expr, result, items=typed_items)

    def _record_field(self, expr: ir.Field, operand: ir.Expr) -> ir.Expr:
        type_ = operand.type or T.ERROR
        optional = type_.optional
        if type_.kind == "share":
            fields = {"item": type_.element or T.ERROR,
                      "amount": T.money(type_.currency or self.header.currency)}
        else:
            fields = {n: f.type for n, f in self.record_fields(type_).items()}
        if expr.field not in fields:
            what = f"a {type_.required()}"
            self.d.error(expr.span, f"{what} has no field '{expr.field}'",
                         did_you_mean(expr.field, list(fields)) or
                         "its fields are " + ", ".join(fields), code="name")
            return self._typed(expr, T.ERROR, operand=operand)
        return self._typed(expr, fields[expr.field].maybe(
            optional or fields[expr.field].optional), operand=operand)

    def _nothing(self, expr: ir.Nothing, scope: Mapping[str, T.Type],
                 decl: ir.Declaration) -> ir.Expr:
        return self._typed(expr, T.NOTHING)

    def _when(self, expr: ir.When, scope: Mapping[str, T.Type],
              decl: ir.Declaration) -> ir.Expr:
        value = self._expr(expr.value, scope, decl)
        condition = self._bool(expr.condition, scope, decl, "'when'")
        return self._typed(expr, (value.type or T.ERROR).maybe(), value=value,
                           condition=condition)

    def _case(self, expr: ir.Case, scope: Mapping[str, T.Type],
              decl: ir.Declaration) -> ir.Expr:
        subject = self._expr(expr.subject, scope, decl)
        stype = subject.type or T.ERROR
        arms = []
        result: T.Type | None = None
        for arm in expr.arms:
            value = self._expr(arm.value, scope, decl)
            arms.append(ir.evolve(arm, value=value))
            vtype = value.type or T.ERROR
            joined = vtype if result is None else T.join(result, vtype)
            if joined is None:
                self.d.error(value.span, f"this case is {vtype.required()}, the ones before "
                             f"it {result.required() if result else ''}", code="type")
                joined = T.ERROR
            result = joined
        if stype.kind == "error":
            return self._typed(expr, T.ERROR, subject=subject, arms=tuple(arms))
        choice = self.decls.get(stype.name or "") if stype.kind == "choice" else None
        if not isinstance(choice, ir.Choice):
            self.d.error(subject.span, f"'case' takes a choice, not {stype}",
                         "declare the alternatives: choice NAME = [a, b, ...]", code="type")
            return self._typed(expr, T.ERROR, subject=subject, arms=tuple(arms))
        names = [m.name for m in choice.members]
        covered: dict[str, ir.Arm] = {}
        otherwise: ir.Arm | None = None
        for arm in arms:
            if otherwise is not None:
                self.d.error(arm.span, "a case after 'otherwise' never applies",
                             "put 'otherwise' last", code="type")
            if not arm.members:
                otherwise = arm
            for member in arm.members:
                if member not in names:
                    self.d.error(arm.span, f"'{member}' is not a member of '{choice.name}'",
                                 did_you_mean(member, names) or "its members are "
                                 + ", ".join(names), code="name")
                elif member in covered:
                    self.d.error(arm.span, f"'{member}' has two cases", code="duplicate",
                                 related=[Related(covered[member].span, "first here")])
                else:
                    covered[member] = arm
        missing = [n for n in names if n not in covered]
        if missing and otherwise is None:
            self.d.error(expr.span, "this case does not say what applies for "
                         + ", ".join(f"'{m}'" for m in missing),
                         "add a case for each, or 'otherwise: ...'", code="case")
        elif not missing and otherwise is not None:
            self.d.warning(otherwise.span, "every member has its own case, so 'otherwise' "
                           "never applies", code="constant")
        return self._typed(expr, (result or T.ERROR).maybe(
            stype.optional or (result or T.ERROR).optional), subject=subject,
            arms=tuple(arms))

    def _list(self, expr: ir.Expr, scope: Mapping[str, T.Type], decl: ir.Declaration,
              what: str) -> ir.Expr:
        typed = self._expr(expr, scope, decl)
        type_ = typed.type or T.ERROR
        if type_.kind not in ("list", "error"):
            self.d.error(typed.span, f"{what} needs a list, not {type_}",
                         "such as a fact of type 'list of lender', a table, or "
                         "[x.amount for each x in xs]", code="type")
            return self._typed(typed, T.ERROR)
        if type_.optional:
            self.d.error(typed.span, f"{what} needs a list, and this one may be missing",
                         code="type")
        return typed

    def _listof(self, expr: ir.ListOf, scope: Mapping[str, T.Type],
                decl: ir.Declaration) -> ir.Expr:
        items = tuple(self._expr(i, scope, decl) for i in expr.items)
        element: T.Type | None = None
        for item in items:
            joined = item.type or T.ERROR if element is None else \
                T.join(element, item.type or T.ERROR)
            if joined is None:
                self.d.error(item.span, f"this item is {item.type}, the ones before it "
                             f"{element}", code="type")
                joined = T.ERROR
            element = joined
        return self._typed(expr, T.list_of(element or T.NOTHING), items=items)

    def _foreach(self, expr: ir.ForEach, scope: Mapping[str, T.Type],
                 decl: ir.Declaration) -> ir.Expr:
        source = self._list(expr.source, scope, decl, "'for each ... in'")
        element = (source.type or T.ERROR).element or T.ERROR
        inner = {**scope, expr.variable: element}
        body = self._expr(expr.body, inner, decl)
        when = self._bool(expr.when, inner, decl, "'when'") if expr.when is not None else None
        return self._typed(expr, T.list_of(body.type or T.ERROR), body=body, source=source,
                           when=when)

    def _aggregate(self, expr: ir.Aggregate, scope: Mapping[str, T.Type],
                   decl: ir.Declaration) -> ir.Expr:
        words = "number of" if expr.kind == "count" else _list_words(expr.kind)
        source = self._list(expr.source, scope, decl, f"'{words}'")
        element = (source.type or T.ERROR).element or T.ERROR
        if element.kind == "error" or (source.type or T.ERROR).kind == "error":
            return self._typed(expr, T.ERROR, source=source)
        if expr.kind == "count":
            return self._typed(expr, T.INTEGER, source=source)
        if expr.kind == "first":
            return self._typed(expr, element.maybe(), source=source)
        if expr.kind in ("all", "any", "none"):
            if element.kind not in ("bool", "nothing"):
                self.d.error(source.span, f"the items of '{words}' must be true or false, "
                             f"not {element}", code="type")
            return self._typed(expr, T.BOOL, source=source)
        allowed = T.MOMENTS if expr.kind in ("earliest", "latest") else T.NUMERIC | {"money"}
        if element.kind not in allowed:
            what = "dates" if allowed is T.MOMENTS else "numbers or amounts"
            self.d.error(source.span, f"the items of '{words}' must be {what}, not "
                         f"{element.required()}", code="type")
            return self._typed(expr, T.ERROR, source=source)
        if expr.kind == "total":
            return self._typed(expr, element.required(), source=source)
        return self._typed(expr, element.maybe(), source=source)  # of no items: none

    def _allocate(self, expr: ir.Allocate, scope: Mapping[str, T.Type],
                  decl: ir.Declaration) -> ir.Expr:
        amount = self._expr(expr.amount, scope, decl)
        source = self._list(expr.source, scope, decl, "'allocate'")
        atype = amount.type or T.ERROR
        element = (source.type or T.ERROR).element or T.ERROR
        if atype.kind not in ("money", "error"):
            self.d.error(amount.span, f"'allocate' shares out an amount of money, not {atype}",
                         code="type")
        if atype.optional:
            self.d.error(amount.span, "the amount to allocate may be missing",
                         "allocate (X when C) is not allowed: give the amount a value",
                         code="type")
        if expr.method == "pro_rata":
            ok = element.kind in T.NUMERIC | {"money", "error"}
            what = "numbers or amounts (the weights)"
        else:
            ok = element.kind == "error" or T.assignable(element.required(), atype.required())
            what = f"{atype.required()} (what each item can take, in order)"
        if not ok:
            self.d.error(source.span, f"the items of 'allocate ... "
                         f"{expr.method.replace('_', ' ')}' must be {what}, not {element}",
                         code="type")
        item = element
        if isinstance(source, ir.ForEach):  # the shares belong to the items iterated
            item = ((source.source.type or T.ERROR).element or T.ERROR)
        share = T.Type("share", currency=atype.currency, element=item)
        return self._typed(expr, T.list_of(share), amount=amount, source=source)

    def _presentvalue(self, expr: ir.PresentValue, scope: Mapping[str, T.Type],
                      decl: ir.Declaration) -> ir.Expr:
        source = self._list(expr.source, scope, decl, "'present value of'")
        element = (source.type or T.ERROR).element or T.ERROR
        inner = {**scope, expr.variable: element}
        amount = self._expr(expr.amount, inner, decl)
        day = self._expr(expr.day, inner, decl)
        when = self._bool(expr.when, inner, decl, "'when'") if expr.when is not None else None
        rate = self._expr(expr.rate, scope, decl)
        on = self._expr(expr.on, scope, decl)
        for typed, kinds, what in ((amount, {"money"}, "an amount"), (day, {"date"}, "a date"),
                                   (rate, {"percent", "decimal"}, "a rate"),
                                   (on, {"date"}, "a date")):
            if (typed.type or T.ERROR).kind not in kinds | {"error"}:
                self.d.error(typed.span, f"'present value' needs {what} here, not "
                             f"{typed.type}", code="type")
        result = (amount.type or T.ERROR).required() if (amount.type or T.ERROR).kind == \
            "money" else T.ERROR
        return self._typed(expr, result, amount=amount, day=day, source=source, when=when,
                           rate=rate, on=on)

    # ------------------------------------------------------------ conflicts

    def _check_conflicts(self) -> None:
        for target, exceptions in self.exceptions.items():
            for a, b in itertools.combinations(exceptions, 2):
                ta, tb = self.typed.get(a.name), self.typed.get(b.name)
                if not isinstance(ta, ir.Exception_) or not isinstance(tb, ir.Exception_):
                    continue
                if ta.value == tb.value:
                    continue  # both rules give the same value: no conflict
                witness = self._both_can_hold(ta.condition, tb.condition)
                if witness is not None:
                    self.d.error(
                        tb.span,
                        f"two exceptions could both decide '{target}' with different values"
                        + (f" (for example when {witness})" if witness else ""),
                        "make their conditions exclusive (add 'and not ...') or merge them",
                        code="conflict",
                        related=[Related(ta.span, "the other exception")],
                    )

    def _both_can_hold(self, a: ir.Expr, b: ir.Expr) -> str | None:
        """A description of facts under which both conditions hold, "" if they are the same
        condition, or None if they never both hold or that cannot be decided here (the
        generated code then checks at run time)."""
        if a == b:
            return ""
        atoms: list[ir.Expr] = []
        if not (_atoms(a, atoms, self.decls) and _atoms(b, atoms, self.decls)):
            return None
        if len(atoms) > _MAX_ATOMS:
            return None
        for values in itertools.product((False, True), repeat=len(atoms)):
            env = list(zip(atoms, values))
            if _truth(a, env) and _truth(b, env):
                return ", ".join(f"{_atom_name(x)} is {str(v).lower()}" for x, v in env) \
                    or "always"
        return None

    # ---------------------------------------------------------------- usage

    def _warn_unused(self) -> None:
        for decl in self.program.declarations:
            if isinstance(decl, ir.Fact) and decl.name not in self.used and \
                    self.decls.get(decl.name) is decl:
                self.d.warning(decl.span, f"fact '{decl.name}' is never used",
                               "remove it, or use it in a definition or condition",
                               code="unused")


# The types a clause file may write, for did-you-mean.
_TYPE_WORDS = ("bool", "integer", "decimal", "money", "percent", "date", "datetime", "days",
               "business days", "months", "party", "text", "calendar month",
               "calendar quarter", "calendar year")
_PERIOD_WORDS = {"start": "start of", "end": "end of", "next": "next",
                 "previous": "previous", "number": "number of"}


def _deadline_type(duty: ir.Duty) -> T.Type:
    """The type of a duty's due date: that of its deadline's date (optional: a duty may
    have none, or one counted from an event that has not happened)."""
    deadline = duty.deadline
    if deadline is None:
        return T.DATE.maybe()
    moment = deadline.after if deadline.kind == "within" else deadline.expr
    kind = (moment.type or T.ERROR).kind if moment is not None else "date"
    return (T.DATETIME if kind == "datetime" else T.DATE).maybe()


def _lower_bounded(condition: ir.Expr, holds: bool) -> frozenset[str]:
    """The names p for which `condition` (or, if not `holds`, its negation) implies
    `p > B` or `p >= B` for a B that does not mention p."""
    if isinstance(condition, ir.Not):
        return _lower_bounded(condition.operand, not holds)
    if isinstance(condition, ir.Binary) and condition.op in ("and", "or"):
        if (condition.op == "and") == holds:  # both sides hold
            return _lower_bounded(condition.left, holds) | _lower_bounded(condition.right, holds)
        return _lower_bounded(condition.left, holds) & _lower_bounded(condition.right, holds)
    if not isinstance(condition, ir.Compare):
        return frozenset()
    found = set()
    below, above = (">", ">="), ("<", "<=")
    for name_side, other, lower_ops in ((condition.left, condition.right, below),
                                        (condition.right, condition.left, above)):
        if not isinstance(name_side, ir.Name):
            continue
        op_bounds = condition.op in lower_ops if holds else \
            condition.op in (above if lower_ops is below else below)
        if op_bounds and name_side.name not in ir.names_used(other):
            found.add(name_side.name)
    return frozenset(found)


def _recursion_problem(call: ir.Call, params: list[str], decl: ir.Definition,
                       bounded: frozenset[str]) -> tuple[str, str] | None:
    """Why this use of `decl`'s own value might not end, or None."""
    hint = (f"use {decl.name}(previous p) for a period parameter p, under "
            f"'if p is after B then ... else ...' so that the steps back stop at B")
    stepped = [i for i, arg in enumerate(call.args)
               if isinstance(arg, ir.PeriodOp) and arg.op == "previous"
               and isinstance(arg.operand, ir.Name) and i < len(params)
               and arg.operand.name == params[i]]
    same = [i for i, arg in enumerate(call.args)
            if isinstance(arg, ir.Name) and i < len(params) and arg.name == params[i]]
    if len(stepped) != 1 or len(stepped) + len(same) != len(params):
        endless = f"'{decl.name}' is defined by itself, and the compiler cannot see that this ends"
        return (endless, hint)
    param = params[stepped[0]]
    if param not in bounded:
        message = (f"'{decl.name}({', '.join(params)})' uses its value for the period "
                   f"before '{param}' with nothing to stop the steps back")
        guard = (f"guard it: if {param} is after FIRST then ... {decl.name}(previous "
                 f"{param}) ... else ...")
        return (message, guard)
    return None


def _is_constant(expr: ir.Expr) -> bool:
    """A value fixed in the clause file: a literal, a negated literal, a number of days, a
    party."""
    if isinstance(expr, ir.Literal):
        return True
    if isinstance(expr, (ir.Negate, ir.Duration)):
        return _is_constant(expr.operand if isinstance(expr, ir.Negate) else expr.amount)
    return isinstance(expr, ir.Name) and expr.type is not None and \
        (expr.type == T.PARTY or expr.type.kind == "choice")


def _list_words(kind: str) -> str:
    return {"earliest": "earlier of", "latest": "later of", "least": "lesser of",
            "greatest": "greater of", "total": "sum of"}.get(kind, kind + " of")


def _atoms(expr: ir.Expr, atoms: list[ir.Expr], decls: Mapping[str, ir.Declaration]) -> bool:
    """Collect the boolean facts a condition is built from; False if it uses anything else
    (then whether two conditions can both hold is not decided at compile time)."""
    if isinstance(expr, ir.Literal):
        return isinstance(expr.value, bool)
    if isinstance(expr, ir.Name):
        fact = decls.get(expr.name)
        if isinstance(fact, ir.Fact) and expr.type == T.BOOL:
            if expr not in atoms:
                atoms.append(expr)
            return True
        return False
    if isinstance(expr, ir.Not):
        return _atoms(expr.operand, atoms, decls)
    if isinstance(expr, ir.Binary) and expr.op in ("and", "or", "unless"):
        return _atoms(expr.left, atoms, decls) and _atoms(expr.right, atoms, decls)
    if isinstance(expr, ir.ListOp) and expr.kind in ("all", "any", "none"):
        return all(_atoms(i.expr, atoms, decls) and
                   (i.when is None or _atoms(i.when, atoms, decls)) for i in expr.items)
    return False


def _truth(expr: ir.Expr, env: list[tuple[ir.Expr, bool]]) -> bool:
    if isinstance(expr, ir.Literal):
        return bool(expr.value)
    if isinstance(expr, ir.Name):
        return next(v for x, v in env if x == expr)
    if isinstance(expr, ir.Not):
        return not _truth(expr.operand, env)
    if isinstance(expr, ir.Binary):
        left, right = _truth(expr.left, env), _truth(expr.right, env)
        return {"and": left and right, "or": left or right,
                "unless": left and not right}[expr.op]
    assert isinstance(expr, ir.ListOp)
    values = [_truth(i.expr, env) for i in expr.items
              if i.when is None or _truth(i.when, env)]
    return {"all": all(values), "any": any(values), "none": not any(values)}[expr.kind]


def _atom_name(expr: ir.Expr) -> str:
    return expr.name if isinstance(expr, ir.Name) else "?"


# What checking each kind of node looks at, in the order it does: the fields holding
# expressions (or duties, deadlines) of each node that is not a name, call or list.
_PARTS: dict[type, tuple[str, ...]] = {
    ir.Literal: (), ir.Binary: ("left", "right"), ir.Compare: ("left", "right"),
    ir.IfThenElse: ("condition", "then", "otherwise"), ir.Shift: ("amount", "base"),
    ir.Not: ("operand",), ir.Negate: ("operand",), ir.IsGiven: ("operand",),
    ir.Duration: ("amount",), ir.CloseOfBusiness: ("day",), ir.Fact: ("default",),
    ir.Duty: ("object", "deadline", "performed", "cure", "condition"),
    ir.Deadline: ("expr", "after"), ir.Obligation: ("recurrence", "duty"),
    ir.Power: ("recurrence", "object", "window", "condition", "consequences"),
    ir.Invariant: ("expr", "assumption"), ir.PeriodFamily: ("start",),
    ir.PeriodOf: ("day",), ir.FirstPeriod: (), ir.PeriodOp: ("operand",),
    ir.BusinessDayOf: ("period",), ir.Range: ("start", "end"),
    ir.Each: ("range", "body", "when"), ir.Field: ("operand",), ir.Late: ("operand", "on"),
    ir.InForce: ("operand", "on"), ir.UserCalendar: (),
}


def _references(node: object, scope: Iterable[str] | Mapping[str, object],
                decls: Mapping[str, ir.Declaration]) -> list[str]:
    """The definitions that checking `node` (an expression, or a declaration other than a
    definition or an exception) looks up, in the order the checker does; names in `scope`
    are parameters. Walked with a stack: an expression may be a long chain."""
    found: list[str] = []
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        parts: Sequence[object]
        if isinstance(item, ir.Name):
            if item.name not in scope and isinstance(decls.get(item.name), ir.Definition):
                found.append(item.name)
            continue
        if isinstance(item, str):  # a call's definition, looked up after its arguments
            found.append(item)
            continue
        if isinstance(item, tuple):  # a power's consequences
            parts = item
        elif isinstance(item, ir.Call):
            parts = [*item.args]
            if isinstance(decls.get(item.name), ir.Definition):
                parts.append(item.name)
        elif isinstance(item, ir.ListOp):
            parts = [part for i in item.items for part in (i.when, i.expr)]
        else:
            parts = [getattr(item, field) for field in _PARTS.get(type(item), ())]
        stack.extend(p for p in reversed(parts) if p is not None)
    return found


def _too_tall(expr: ir.Expr) -> tuple[ir.Expr, int] | None:
    """Where `expr` is deeper than _MAX_DEPTH: the first node (in source order) past the
    limit, or the chain of one operator it lies in (`a - b - c ...`) when the chain is what
    makes it so deep, with the chain's operand count (0 for a node); None when `expr` is
    not that tall."""
    # (node, its depth, its chain family, the top of the chain it is in, and how far down)
    root = _CHAIN_FAMILY.get(expr.op) if isinstance(expr, ir.Binary) else None
    stack: list[tuple[ir.Expr, int, str | None, ir.Expr, int]] = [(expr, 1, root, expr, 0)]
    while stack:
        node, depth, family, top, run = stack.pop()
        if depth > _MAX_DEPTH:
            if run <= _BALANCE_FROM:
                return node, 0
            length, operand = 1, top
            while isinstance(operand, ir.Binary) and _CHAIN_FAMILY.get(operand.op) == family:
                operand, length = operand.left, length + 1
            return top, length
        for index, child in reversed(list(enumerate(subexpressions(node)))):
            own = _CHAIN_FAMILY.get(child.op) if isinstance(child, ir.Binary) else None
            if index == 0 and own is not None and own == family:
                stack.append((child, depth + 1, own, top, run + 1))  # the chain goes on
            else:
                stack.append((child, depth + 1, own, child, 0))
    return None


def _balanced(op: str, operands: list[ir.Expr], chain: ir.Expr) -> ir.Expr:
    """The operands of `chain` (a left-nested chain of the associative `op`, checked),
    regrouped into a balanced tree of the same value; `chain` itself when regrouping could
    change the value or its type (a date plus durations). A chain with an error (reported
    already) is regrouped too: nothing is generated from it, and later passes meet a
    shallow tree."""
    kinds = {(o.type or T.ERROR).kind for o in operands} - {"error"}
    currencies = {(o.type or T.ERROR).currency for o in operands} - {None}
    if op == "+":
        regroup = ((chain.type or T.ERROR).kind == "error" or kinds <= T.NUMERIC
                   or kinds == {"money"} and len(currencies) <= 1
                   or len(kinds) == 1 and kinds <= T.DURATIONS)
    else:
        regroup = op in ("and", "or")  # operands that are not true or false are reported
    if not regroup:
        return chain
    level = list(operands)
    while len(level) > 1:
        pairs: list[ir.Expr] = []
        for i in range(0, len(level) - 1, 2):
            left, right = level[i], level[i + 1]
            if op in ("and", "or"):
                type_: T.Type | None = T.BOOL
            else:
                type_ = T.arithmetic(op, left.type or T.ERROR, right.type or T.ERROR)
            span = Span(left.span.file, left.span.line, left.span.column,
                        right.span.end_line, right.span.end_column)
            pairs.append(ir.Binary(op, left, right, span=span, type=type_ or T.ERROR))
        if len(level) % 2:
            pairs.append(level[-1])
        level = pairs
    return ir.evolve(level[0], span=chain.span)


def constrained(fact: ir.Fact, declarations: Mapping[str, object]) -> bool:
    """Whether a `where` limits a fact's values: its own, or one of a field of its records
    (a record fact's, or its list's items')."""
    type_ = fact.type.element if fact.type.kind == "list" else fact.type
    return fact.constraint is not None or has_field_where(type_, declarations)


def has_field_where(type_: T.Type | None, declarations: Mapping[str, object]) -> bool:
    """Whether `type_` is a record with a field that has a `where`."""
    record = declarations.get(type_.name or "") if type_ is not None and \
        type_.kind == "record" else None
    return isinstance(record, (ir.Record, ir.Table)) and \
        any(f.constraint is not None for f in record.fields)


def union_of_facts(versions: Sequence[CheckedProgram]) -> dict[str, ir.Fact]:
    """The facts of all versions of an agreement, as the compiled module's one `Facts`
    class takes them: each as its latest version declares it, required only if the latest
    version requires it (a fact that only an earlier version uses is optional, and needed
    only when that version is evaluated)."""
    facts: dict[str, ir.Fact] = {}
    for checked in versions:
        for decl in checked.program.declarations:
            if isinstance(decl, ir.Fact):
                facts[decl.name] = decl
    latest = {d.name for d in versions[-1].program.declarations if isinstance(d, ir.Fact)}
    return {name: fact if name in latest else ir.evolve(fact, type=fact.type.maybe())
            for name, fact in facts.items()}
