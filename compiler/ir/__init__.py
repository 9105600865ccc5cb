"""The intermediate representation: small frozen classes, one per thing a contract says.

The transformer (transform.py) builds these from the parse tree; the checker
(check.py) returns the same tree with every expression's `type` filled in; the
generators read them. Nodes are immutable so passes can share subtrees freely.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar, cast

import attrs

from clausec.ir.types import BOOL, Type
from clausec.source import Span

_N = TypeVar("_N")

# ------------------------------------------------------------------ expressions


@attrs.frozen
class Expr:
    span: Span = attrs.field(kw_only=True, eq=False)
    type: Type | None = attrs.field(default=None, kw_only=True, eq=False)


@attrs.frozen
class Literal(Expr):
    value: bool | int | Decimal | date | datetime | str
    # The spelling in the clause file ("$1,800,000", "7.5%"), kept for summaries.
    text: str = ""


@attrs.frozen
class Name(Expr):
    name: str


@attrs.frozen
class Call(Expr):
    name: str
    args: tuple[Expr, ...]


@attrs.frozen
class Not(Expr):
    operand: Expr


@attrs.frozen
class Negate(Expr):
    operand: Expr


@attrs.frozen
class Binary(Expr):
    """Arithmetic (+ - * / ^) and logic (and, or, unless)."""

    op: str
    left: Expr
    right: Expr


@attrs.frozen
class Compare(Expr):
    op: str  # == != < <= > >=
    left: Expr
    right: Expr
    words: str = ""  # "at least", "on or before"...: how the clause file said it


@attrs.frozen
class IsGiven(Expr):
    operand: Expr
    negated: bool = False


@attrs.frozen
class Duration(Expr):
    """`10 days`, `2 business days`, `3 months`, `1 year`: an amount of one of UNITS."""

    amount: Expr
    unit: str  # one of DURATION_UNITS
    # Business days of a named calendar ("2 business days in new_york_banks"); None: the
    # agreement's calendar.
    calendar: str | None = None

    @property
    def business(self) -> bool:
        return self.unit == "business_days"

    @property
    def per_unit(self) -> int:
        """How many of its type's units one of this duration's units is: a year is twelve
        months (the only unit that is not its type's own)."""
        return 12 if self.unit == "years" else 1


# The units of a duration, as the contract counts them. A year is twelve months (so a
# year after February 29 is February 28, as twelve months after it is).
DURATION_UNITS = ("days", "business_days", "months", "years")


@attrs.frozen
class Shift(Expr):
    """`10 days after X`, `2 business days before Y`."""

    amount: Expr
    base: Expr
    direction: str  # "after" or "before"


@attrs.frozen
class CloseOfBusiness(Expr):
    day: Expr


@attrs.frozen
class IfThenElse(Expr):
    condition: Expr
    then: Expr
    otherwise: Expr


@attrs.frozen
class Item:
    """One listed item: `(a) receipt of the Requisite Board Approval`."""

    label: str | None
    expr: Expr
    when: Expr | None = None
    span: Span = attrs.field(kw_only=True, eq=False)


@attrs.frozen
class ListOp(Expr):
    kind: str  # all any none earliest latest least greatest total
    items: tuple[Item, ...]


# ---------------------------------------------------------------------- periods
# A period family is named by a string: "calendar_quarter" (one of CALENDAR_FAMILIES,
# which need no declaration) or the name of a `periods` declaration.


@attrs.frozen
class PeriodOf(Expr):
    """`royalty_quarter containing D`: the period of a family that contains a date."""

    family: str
    day: Expr


@attrs.frozen
class FirstPeriod(Expr):
    """`first royalty_quarter`: the first period of a family that has a start."""

    family: str


@attrs.frozen
class PeriodOp(Expr):
    """`start of P`, `end of P`, `next P`, `previous P`, `number of P`."""

    op: str  # one of PERIOD_OPS
    operand: Expr


PERIOD_OPS = ("start", "end", "next", "previous", "number")


@attrs.frozen
class BusinessDayOf(Expr):
    """`last business day of P` (`first ...`), in a named calendar or the agreement's."""

    which: str  # "first" or "last"
    period: Expr
    calendar: str | None = None


@attrs.frozen
class Range:
    """Which periods a recurring duty or an aggregate runs over:
    `for each royalty_quarter q from A until B` (kind "until"), `... from A through B`,
    `... from A` ("open"), `... in the 4 ending with B` ("ending")."""

    family: str
    variable: str
    kind: str  # one of RANGE_KINDS
    start: Expr | None  # A: a date or a period of the family (None for "ending")
    end: Expr | None  # B (None for "open")
    count: int | None = None  # N, for "ending"
    span: Span = attrs.field(kw_only=True, eq=False)


RANGE_KINDS = ("until", "through", "open", "ending")


@attrs.frozen
class Each(Expr):
    """`sum of [royalties(q) for each royalty_quarter q from A through B when C]`."""

    kind: str  # as ListOp.kind
    body: Expr
    range: Range
    when: Expr | None = None


@attrs.frozen
class Field(Expr):
    """`access_fee(q).due`: a field of an obligation (one of OBLIGATION_FIELDS)."""

    operand: Expr
    field: str


OBLIGATION_FIELDS = ("due", "amount", "performed_on", "active")


@attrs.frozen
class Late(Expr):
    """`access_fee(q) is late on D`: in effect, due before D, and not performed by its due
    date. `... is in default on D` (`default`): late, and, for a duty with a cure period,
    not performed by the end of the cure period after the notice either."""

    operand: Expr
    on: Expr
    default: bool = False


@attrs.frozen
class InForce(Expr):
    """`(leverage_ratio(q) as in force on end of q)`: a term, evaluated in the version of
    the agreement in force on a date (the date it concerns), not the version asked."""

    operand: Expr  # a Name or Call of a defined term or condition
    on: Expr


# ------------------------------------------------------- lists, choices, records


@attrs.frozen
class Nothing(Expr):
    """`none`: no value (of whatever type the context expects)."""


@attrs.frozen
class When(Expr):
    """`(X when C)`: X where C holds, else no value."""

    value: Expr
    condition: Expr


@attrs.frozen
class Arm:
    """`term_benchmark or daily_simple: 7.50%`: the value of a case for some members;
    `otherwise: ...` has no members."""

    members: tuple[str, ...]
    value: Expr
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Case(Expr):
    """`case loan.kind of [term_benchmark: 7.50%, base_rate: 6.50%]`: a value for each
    member of a choice; the checker requires every member to be covered."""

    subject: Expr
    arms: tuple[Arm, ...]


@attrs.frozen
class ListOf(Expr):
    """`[a, b, c]`: a list written out."""

    items: tuple[Expr, ...]


@attrs.frozen
class ForEach(Expr):
    """`[l.principal for each l in lenders when not l.declined]`: a list built from
    another, in its order."""

    body: Expr
    variable: str
    source: Expr
    when: Expr | None = None


@attrs.frozen
class Aggregate(Expr):
    """`sum of [x.amount for each x in xs]`, `number of xs`, `first of [...]`: one value
    from a list (one of AGGREGATE_KINDS)."""

    kind: str
    source: Expr


# As ListOp.kind, and "count" (number of) and "first" (first of).
AGGREGATE_KINDS = ("all", "any", "none", "earliest", "latest", "least", "greatest", "total",
                   "count", "first")


@attrs.frozen
class Allocate(Expr):
    """`allocate A pro rata [weights]` or `allocate A in order [caps]`: the share of A that
    goes to each item of a list (a list of shares: `.item`, `.amount`)."""

    amount: Expr
    method: str  # one of ALLOCATION_METHODS
    source: Expr  # a list of numbers or amounts (a ForEach: its items are the shares' items)


ALLOCATION_METHODS = ("pro_rata", "in_order")
SHARE_FIELDS = ("item", "amount")


@attrs.frozen
class PresentValue(Expr):
    """`present value of [p.amount on p.due for each p in payments when ...] at R
    actual/360 compounded annually on D`."""

    amount: Expr
    day: Expr
    variable: str
    source: Expr
    when: Expr | None
    rate: Expr
    day_count: str  # one of DAY_COUNTS
    compounding: str  # one of COMPOUNDINGS
    on: Expr


DAY_COUNTS = ("actual/360", "actual/365", "actual/actual", "30/360")
COMPOUNDINGS = ("annually", "semiannually", "quarterly", "monthly", "daily", "continuously",
                "simple")


# ----------------------------------------------------------------- declarations


@attrs.frozen
class Parameter:
    name: str
    type: Type
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Fact:
    """An input the user supplies."""

    name: str
    term: str | None
    type: Type  # optional facts have type.optional
    default: Expr | None
    description: str | None
    section: str | None
    span: Span = attrs.field(eq=False)
    per: str | None = None  # a series: one value per period of this family
    # `where C`: what a value can be (C mentions the fact by its name).
    constraint: Expr | None = None


@attrs.frozen
class PeriodFamily:
    """`periods royalty_quarter "royalty quarter" = calendar quarters from D`."""

    name: str
    term: str | None
    basis: str  # "calendar", "fiscal" or "contract"
    unit: str  # one of PERIOD_UNITS
    first_month: int  # the month a fiscal year begins in (1 otherwise)
    start: Expr | None  # `from D`: the first (stub or contract) period starts on D
    section: str | None
    span: Span = attrs.field(eq=False)

    @property
    def display(self) -> str:
        return self.term or self.name.replace("_", " ")


@attrs.frozen
class UserCalendar:
    """`calendar lender_days "Business Day" = new_york_banks and london_banks plus [...]`:
    closed whenever one of the built-in calendars `bases` is, and on the dates `extra`."""

    name: str
    term: str | None
    bases: tuple[str, ...]
    extra: tuple[date, ...]
    section: str | None
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Member:
    name: str
    term: str | None
    span: Span = attrs.field(eq=False)

    @property
    def display(self) -> str:
        return self.term or self.name.replace("_", " ")


@attrs.frozen
class Choice:
    """`choice loan_type "Type of Loan" = [term_benchmark "Term Benchmark Loan", ...]`."""

    name: str
    term: str | None
    members: tuple[Member, ...]
    section: str | None
    span: Span = attrs.field(eq=False)


@attrs.frozen
class RecordField:
    name: str
    term: str | None
    type: Type
    span: Span = attrs.field(eq=False)
    # `where C`: what the field's values can be (C mentions the field by its name), checked
    # for every record read from the facts, as a fact's constraint is.
    constraint: Expr | None = None


@attrs.frozen
class Record:
    """`record lender "Lender" { name: text  principal: money }`: what each of many
    things has."""

    name: str
    term: str | None
    fields: tuple[RecordField, ...]
    section: str | None
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Row:
    cells: tuple[Expr, ...]
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Table:
    """A table written in the contract: a list of rows, each a record of its columns.
    Its name is both the list (a value) and the type of one of its rows."""

    name: str
    term: str | None
    columns: tuple[RecordField, ...]
    rows: tuple[Row, ...]
    section: str | None
    span: Span = attrs.field(eq=False)

    @property
    def fields(self) -> tuple[RecordField, ...]:
        return self.columns


PERIOD_UNITS = ("month", "quarter", "half_year", "year")
# The families that need no declaration: "calendar quarter" is `calendar_quarter`.
CALENDAR_FAMILIES = {f"calendar_{unit}": unit for unit in PERIOD_UNITS}


def family_display(family: str) -> str:
    """How a family is named in messages and summaries: "calendar quarter"."""
    return family.replace("_", " ").replace("half year", "half-year")


@attrs.frozen
class Definition:
    """A defined term (`define`) or a predicate (`condition`, always bool)."""

    name: str
    term: str | None
    params: tuple[Parameter, ...]
    declared_type: Type | None
    expr: Expr
    is_condition: bool
    section: str | None
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Exception_:
    """A rule that, when its condition holds, gives a defined term another value."""

    name: str
    target: str
    term: str | None
    value: Expr
    condition: Expr
    section: str | None
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Holder:
    kind: str  # "party", "either", "joint"
    parties: tuple[str, ...]
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Deadline:
    kind: str  # "by", "on", "within"
    expr: Expr  # the date, or for "within" the duration
    after: Expr | None = None  # for "within": the event it counts from
    span: Span = attrs.field(kw_only=True, eq=False)


@attrs.frozen
class Duty:
    """Who must do what, for whom, by when, under which condition."""

    holder: Holder
    action: str
    object: Expr | None
    beneficiary: str | None
    deadline: Deadline | None
    condition: Expr | None
    span: Span = attrs.field(eq=False)
    # "promptly", "as soon as reasonably practicable": a standard the deadline bounds.
    standard: str | None = None
    performed: Expr | None = None  # `performed on D`: when it was done
    cure: Deadline | None = None  # `cure within 30 days after NOTICE`: the cure period


@attrs.frozen
class Obligation:
    name: str
    term: str | None
    duty: Duty
    section: str | None
    span: Span = attrs.field(eq=False)
    recurrence: Range | None = None  # one instance per period of the range


@attrs.frozen
class Power:
    """`either party may terminate when ... then ...`"""

    name: str
    term: str | None
    holder: Holder
    action: str
    object: Expr | None
    condition: Expr | None
    consequences: tuple[Duty, ...]
    section: str | None
    span: Span = attrs.field(eq=False)
    recurrence: Range | None = None
    window: Deadline | None = None  # "may terminate within 6 months after X": when it closes


@attrs.frozen
class Invariant:
    """A property the encoding must satisfy for all facts (for which `assumption`, if
    given, holds): checked by `clausec verify`, compiled like a condition that is true
    wherever the property holds."""

    name: str
    term: str | None
    expr: Expr
    assumption: Expr | None
    section: str | None
    span: Span = attrs.field(eq=False)

    def as_condition(self) -> Definition:
        """The condition that holds where the invariant does: `expr`, or with an assumption
        `if assumption then expr else true` (true where the assumption fails)."""
        expr = self.expr
        if self.assumption is not None:
            expr = IfThenElse(self.assumption, expr,
                              Literal(True, "true", span=self.span, type=BOOL),
                              span=self.span, type=BOOL)
        return Definition(self.name, self.term, (), BOOL, expr, True, self.section, self.span)


Declaration = (Fact | Definition | Exception_ | Obligation | Power | Invariant | PeriodFamily
               | UserCalendar | Choice | Record | Table)


# ------------------------------------------------------------------- structure


@attrs.frozen
class Text:
    """The contract's own words for (part of) a section."""

    text: str
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Part:
    """A text block of a section and the declarations that encode it (those that follow
    it up to the next text block). Amendments that replace or delete a sentence replace
    or delete its part, words and logic together."""

    text: Text | None
    declarations: tuple[str, ...]


@attrs.frozen
class Section:
    number: str
    heading: str | None
    parts: tuple[Part, ...]
    span: Span = attrs.field(eq=False)
    # How consolidation labels a section in force only because of an amendment:
    # "as amended on March 31, 2004", or for an amendment's own provisions
    # "of the Amendment to Patent Purchase Agreement".
    note: str = ""
    deleted: str = ""  # "[Deleted by the Amendment of March 31, 2004]" once deleted

    @property
    def texts(self) -> tuple[Text, ...]:
        return tuple(p.text for p in self.parts if p.text is not None)

    @property
    def declarations(self) -> tuple[str, ...]:
        return tuple(name for p in self.parts for name in p.declarations)

    @property
    def text(self) -> str:
        if self.deleted:
            return self.deleted
        return "\n\n".join(t.text for t in self.texts)

    @property
    def label(self) -> str:
        """How explanations name it: "3.1", "3.1, as amended on March 31, 2004"."""
        return f"{self.number}{self.note}"

    @property
    def kind(self) -> str:
        """"section", or the kind of named part it is: "article", "exhibit", "schedule"."""
        return part_kind(self.number)

    @property
    def cite(self) -> str:
        """How the contract cites it: "Section 3.1", "Article VI", "Schedule 1.01(c)"."""
        return cite(self.number)


# The named parts of an agreement besides its sections. A part's number (the key every
# pass and the generated module know it by, and `section` of its declarations) carries its
# kind: "Article VI", "Exhibit C", "Schedule 1.01(c)"; a section's is its bare number,
# "3.1". A section number starts with a digit or "(", so the two never meet.
PART_KINDS = ("article", "exhibit", "schedule")


def part_number(kind: str, number: str) -> str:
    """The key of a part: ("article", "VI") -> "Article VI"; ("section", "3.1") -> "3.1"."""
    return number if kind == "section" else f"{kind.capitalize()} {number}"


def part_kind(number: str) -> str:
    """"article", "exhibit" or "schedule" for a part's key (an amendment's own part,
    "Article II of the First Amendment of ...", too); "section" otherwise."""
    word = number.split(" ", 1)[0].lower()
    return word if word in PART_KINDS and " " in number else "section"


def cite(number: str) -> str:
    """"3.1" -> "Section 3.1"; "Article VI" stays as it is (with any note after it)."""
    return number if part_kind(number) != "section" else f"Section {number}"


@attrs.frozen
class Party:
    name: str
    role: str | None  # "Purchaser"
    description: str | None  # "Thalveg Data Flow LLC, a Delaware limited liability company"
    span: Span = attrs.field(eq=False)

    @property
    def display(self) -> str:
        return self.role or self.name.replace("_", " ").title()


@attrs.frozen
class Header:
    """The agreement's (or an amendment's) header block."""

    kind: str  # "agreement" or "amendment"
    name: str
    title: str
    amends: str | None
    dated: date | None
    effective: date | None
    governing_law: str | None
    parties: tuple[Party, ...]
    calendar: str
    holidays: tuple[date, ...]
    time_zone: str | None
    time_zone_label: str | None
    close_of_business: str  # "17:00"
    currency: str
    span: Span = attrs.field(eq=False)
    calendar_span: Span | None = attrs.field(default=None, eq=False)
    # An amendment effective upon an event: the date fact that says when it happened
    # (then `effective`, if given, is the earliest it can be: usually its date).
    effective_upon: str | None = None
    # The agreement's own calendars, declared in its header; the transformer also lists
    # them among the program's declarations, where passes find them by name.
    calendars: tuple[UserCalendar, ...] = ()


@attrs.frozen
class Target:
    """What an amendment operation acts on: sections, a sentence, or a clause of one."""

    kind: str  # "section", "sections", "sentence", "clause", "row"
    sections: tuple[str, ...]  # part numbers: "3.1", "Article VI", "Schedule 1.01(c)"
    # 1-based; -1 for "the last sentence"; None for a clause of the whole section
    # ("clause (b) of Section 14.2")
    sentence: int | None = None
    clause: str | None = None  # "(i)"
    span: Span = attrs.field(kw_only=True, eq=False)
    # A row of a table: the table's name, and the row by its 1-based number or by the
    # value in its first column ("the row for 2003"); None for a row added at the end.
    # A row added before or after another has `place` "before" or "after".
    table: str | None = attrs.field(default=None, kw_only=True)
    row: int | None = attrs.field(default=None, kw_only=True)
    row_key: Expr | None = attrs.field(default=None, kw_only=True)
    place: str | None = attrs.field(default=None, kw_only=True)

    def describe(self) -> str:
        """The target in the contract's words: "the first sentence of Section 3.4"."""
        if self.kind == "row":
            return f"{self.row_words()} of table {self.table}"
        if self.kind == "sections":
            listed = ", ".join(self.sections[:-1]) + " and " + self.sections[-1]
            return f"Sections {listed}"
        where = cite(self.sections[0])
        if self.kind == "section":
            return where
        if self.kind == "clause" and self.sentence is None:
            return f"clause {self.clause} of {where}"
        ordinal = ORDINALS_BY_NUMBER.get(self.sentence or 0, f"sentence {self.sentence} of")
        sentence = f"the {ordinal} sentence of {where}"
        if self.kind == "sentence":
            return sentence
        return f"clause {self.clause} of {sentence}"

    def row_words(self) -> str:
        """"row 3", "the row for 2003" (its first cell as written)."""
        if self.row_key is not None:
            return f"the row for {cell_text(self.row_key)}"
        return f"row {self.row}"


def cell_text(cell: Expr) -> str:
    """A table's cell as the clause file writes it: "$300,000", "2003", a member's name."""
    if isinstance(cell, Literal):
        return cell.text or str(cell.value)
    if isinstance(cell, Name):
        return cell.name
    return "..."


ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
            "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "last": -1}
ORDINALS_BY_NUMBER = {n: word for word, n in ORDINALS.items()}


# What an amendment can do to a section; consolidate.py has one method per kind.
OPERATION_KINDS = ("add", "append", "delete", "replace", "substitute", "insert", "conform")


@attrs.frozen
class Operation:
    """One change an amendment makes: replace, delete, append to, or add a section or part
    of one; substitute words for words in one, or insert words at the end of one; replace,
    delete or add a row of a table; conform a section to a copy with its struck and
    inserted words marked. The body (for all but delete) is a section body: text and
    declarations."""

    kind: str  # one of OPERATION_KINDS
    target: Target
    heading: str | None
    parts: tuple[Part, ...]
    declarations: tuple[Declaration, ...]
    span: Span = attrs.field(eq=False)
    # substitute: the new words and the old ones they replace; insert: the words added
    # at the end of the target (`old` is "").
    words: str = ""
    old: str = ""
    words_span: Span | None = attrs.field(default=None, eq=False)  # where `old` is quoted
    # A row replaced (one) or added (one or more): the rows as the amendment writes them.
    rows: tuple[Row, ...] = ()


# ------------------------------------------------------------------------ tests


@attrs.frozen
class Probe:
    """What a test looks at: a name, with arguments for a parametrised term, and a field
    of an obligation or power ("closing_payment_due.due")."""

    name: str
    args: tuple[Expr, ...]
    field: str | None
    span: Span = attrs.field(eq=False)

    def describe(self) -> str:
        args = f"({', '.join(a.text if isinstance(a, Literal) else '...' for a in self.args)})"
        return self.name + (args if self.args else "") + (f".{self.field}" if self.field
                                                            else "")


@attrs.frozen
class Expectation:
    """`expect PROBE = VALUE` (value set) or `expect PROBE raises ERROR` (error set)."""

    probe: Probe
    value: Expr | None
    error: str | None
    span: Span = attrs.field(eq=False)


@attrs.frozen
class GivenRecord:
    """`{name: "A", principal: $500,000}`: one record a test gives (in a list fact)."""

    fields: tuple[tuple[str, Expr], ...]
    span: Span = attrs.field(eq=False)


@attrs.frozen
class GivenRecords:
    """`[{...}, {...}]`: the records of a list fact a test gives."""

    items: tuple[GivenRecord, ...]
    span: Span = attrs.field(eq=False)


@attrs.frozen
class GivenFact:
    name: str
    value: Expr | GivenRecord | GivenRecords
    span: Span = attrs.field(eq=False)
    key: Expr | None = None  # the period of a series: `royalties["2009-Q1"] = ...`


@attrs.frozen
class ScenarioTest:
    """`test "description" { as of DATE  given { ... }  expect ... }`"""

    description: str
    as_of: date | None
    given: tuple[GivenFact, ...]
    expectations: tuple[Expectation, ...]
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Program:
    """One clause file."""

    file: str
    header: Header | None
    sections: tuple[Section, ...]
    declarations: tuple[Declaration, ...]
    operations: tuple[Operation, ...] = ()
    tests: tuple[ScenarioTest, ...] = ()
    # The agreement a file of tests is for (`tests for NAME`); None for other files.
    tests_for: str | None = None

    def by_name(self) -> dict[str, Declaration]:
        return {d.name: d for d in self.declarations}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def evolve(node: _N, **changes: object) -> _N:
    """`attrs.evolve` for IR nodes, without its per-call introspection: the checker
    rebuilds every expression with its type, on every keystroke in the language server.
    IR classes have no validators, converters or private attributes, so copying the
    fields is all `attrs.evolve` would do."""
    cls = type(node)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        fields = attrs.fields(cast("type[attrs.AttrsInstance]", cls))
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields)
    new = object.__new__(cls)
    for name in names:
        object.__setattr__(new, name, changes.pop(name) if name in changes else
                           getattr(node, name))
    if changes:
        raise TypeError(f"{cls.__name__} has no field {next(iter(changes))!r}")
    return new


def walk(node: object) -> Iterator[object]:
    """`node` and everything below it (the items of tuples and lists, the fields of IR
    nodes but their positions and types), depth first, with a stack rather than recursion
    so that deep expressions cannot overflow."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (tuple, list)):
            stack.extend(current)
        elif attrs.has(type(current)):
            cls = cast("type[attrs.AttrsInstance]", type(current))
            stack.extend(getattr(current, f.name) for f in attrs.fields(cls)
                         if f.name not in ("span", "type"))


def names_used(node: object) -> set[str]:
    """Every name a declaration or expression refers to (terms, facts, calls)."""
    return {n.name for n in walk(node) if isinstance(n, (Name, Call))}
