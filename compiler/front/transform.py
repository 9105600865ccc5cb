"""The front end, transforming: parse tree to IR.

`ToIR` turns each rule into the IR node of the same name (ir.py), bottom up and without
recursion: a chain of one operator (`a + b + ... + z`) is as deep a tree as it is long.
Literal values are decoded here (dates, amounts, percentages), and literals that do
not mean anything (February 30th, an unknown time zone) are reported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import lark
from lark import Token

from clausec import ir
from clausec.diagnostics import Diagnostics
from clausec.ir import types as T
from clausec.source import Span

_WORD_OPS = {
    "at_least": (">=", "at least"),
    "at_most": ("<=", "at most"),
    "more_than": (">", "more than"),
    "less_than": ("<", "less than"),
    "before": ("<", "before"),
    "after": (">", "after"),
    "on_or_before": ("<=", "on or before"),
    "on_or_after": (">=", "on or after"),
    "is_not": ("!=", "is not"),
    "is_equal": ("==", "is"),
}


# The rules naming a unit or basis of periods, as the words they stand for.
_PERIOD_UNIT_RULES = {"month_unit": "month", "quarter_unit": "quarter",
                      "half_year_unit": "half_year", "year_unit": "year"}
_PERIOD_BASES = {"calendar_basis": "calendar", "fiscal_basis": "fiscal",
                 "contract_basis": "contract"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def known_zone(name: str) -> ZoneInfo | None:
    """The time zone of an IANA name, or None (a lookup can fail in several ways: unknown
    key, a directory of zones, a malformed name)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        return None


def _span(file: str, meta: Any) -> Span:
    if getattr(meta, "empty", True):
        return Span(file, 1, 1, 1, 2)
    return Span(file, meta.line, meta.column, meta.end_line, meta.end_column)


def _token_span(file: str, token: Token) -> Span:
    return Span(file, token.line or 1, token.column or 1, token.end_line or token.line or 1,
                token.end_column or (token.column or 1) + len(token))


def unquote(token: Token) -> str:
    """The text of a STRING or LONG_STRING token: escapes resolved, a text block flush left."""
    text = str(token)
    if text.startswith('"""'):
        return _dedent(text, 3, len(text) - 3)
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _dedent(text: str, start: int = 0, end: int | None = None) -> str:
    """Contract text blocks are indented to sit inside sections; store them flush left.

    `text[start:end]`, read a line at a time and joined a batch of lines at a time: a text
    block may be megabytes long, and a list of all its lines would take several times its
    size."""
    end = len(text) if end is None else end
    while start < end and text[start] == "\n":
        start += 1
    while end > start and text[end - 1] == "\n":
        end -= 1
    cut = min((len(line) - len(line.lstrip()) for line in _lines(text, start, end)
               if line.strip()), default=0)
    batches: list[str] = []
    batch: list[str] = []
    for line in _lines(text, start, end):
        batch.append(line[cut:].rstrip())
        if len(batch) == 1024:
            batches.append("\n".join(batch))
            batch = []
    batches.append("\n".join(batch))
    return "\n".join(batches).strip()


def _lines(text: str, start: int, end: int) -> Iterator[str]:
    """The lines of `text[start:end]`, as splitting it at each newline gives them."""
    while True:
        newline = text.find("\n", start, end)
        if newline < 0:
            yield text[start:end]
            return
        yield text[start:newline]
        start = newline + 1


@attrs.frozen
class _SectionParts:
    section: ir.Section
    declarations: tuple[ir.Declaration, ...]


def _body(number: str, body: list[Any]) -> tuple[tuple[ir.Part, ...],
                                                  tuple[ir.Declaration, ...]]:
    """Group a section body into parts: each text block with the declarations after it."""
    parts: list[ir.Part] = []
    decls: list[ir.Declaration] = []
    text: ir.Text | None = None
    names: list[str] = []
    for item in body:
        if isinstance(item, ir.Text):
            if text is not None or names:
                parts.append(ir.Part(text, tuple(names)))
            text, names = item, []
        else:
            decl = attrs.evolve(item, section=number)
            if isinstance(decl, ir.Exception_) and not decl.name:
                # Unnamed exceptions are named after their target and section.
                where = re.sub(r"[^A-Za-z0-9]+", "_", number).strip("_")
                base = f"{decl.target}_exception_{where}"
                taken = sum(1 for d in decls if d.name.startswith(base))
                decl = attrs.evolve(decl, name=base if not taken else f"{base}_{taken + 1}")
            decls.append(decl)
            names.append(decl.name)
    if text is not None or names:
        parts.append(ir.Part(text, tuple(names)))
    return tuple(parts), tuple(decls)


@attrs.frozen
class _TestsFor:
    agreement: str
    span: Span


class ToIR:
    """One method per rule, called with the rule's position and its children's IR (or
    tokens), as a Lark Transformer with `v_args(meta=True)` calls them."""

    def __init__(self, file: str, diagnostics: Diagnostics):
        self.file = file
        self.diagnostics = diagnostics

    def transform(self, tree: Any) -> Any:
        """The IR of a parse tree, built bottom up with a stack of its own. Anything that
        is not a tree (a token, an absent optional part, IR already) is itself."""
        if not isinstance(tree, lark.Tree):
            return tree
        done: list[Any] = []  # the results of the children of the nodes on the stack
        stack: list[tuple[lark.Tree[Token], bool]] = [(tree, False)]
        while stack:
            node, expanded = stack.pop()
            if not expanded:
                stack.append((node, True))
                stack.extend((c, False) for c in reversed(node.children)
                             if isinstance(c, lark.Tree))
                continue
            children: list[Any] = []
            trees = sum(isinstance(c, lark.Tree) for c in node.children)
            built = iter(done[len(done) - trees:]) if trees else iter(())
            for child in node.children:
                children.append(next(built) if isinstance(child, lark.Tree) else child)
            if trees:
                del done[len(done) - trees:]
            method = getattr(self, str(node.data), None)
            if callable(method) and not str(node.data).startswith("_"):
                done.append(method(node.meta, children))
            else:
                done.append(self.__default__(node.data, children, node.meta))
        return done[0]

    def span(self, meta: Any) -> Span:
        return _span(self.file, meta)

    def tspan(self, token: Token) -> Span:
        return _token_span(self.file, token)

    # ------------------------------------------------------------- literals

    def true(self, meta: Any, _: list[Any]) -> ir.Literal:
        return ir.Literal(True, "true", span=self.span(meta), type=T.BOOL)

    def false(self, meta: Any, _: list[Any]) -> ir.Literal:
        return ir.Literal(False, "false", span=self.span(meta), type=T.BOOL)

    def integer(self, meta: Any, children: list[Token]) -> ir.Literal:
        text = str(children[0])
        digits = text.replace("_", "")
        if len(digits) > 100:
            self.diagnostics.error(self.span(meta), f"a number of {len(digits)} digits is too "
                                   "long", "numbers may have at most 100 digits",
                                   code="literal")
            digits = "0"
        return ir.Literal(int(digits), text, span=self.span(meta), type=T.INTEGER)

    def decimal(self, meta: Any, children: list[Token]) -> ir.Literal:
        text = str(children[0])
        return ir.Literal(Decimal(text.replace("_", "")), text, span=self.span(meta),
                          type=T.DECIMAL)

    def percent(self, meta: Any, children: list[Token]) -> ir.Literal:
        text = str(children[0])
        # Moving the exponent, not dividing: a division would round in the default
        # 28-digit context, and a percent literal is exact however many digits it has.
        sign, digits, exponent = Decimal(text.rstrip("%").strip()).as_tuple()
        value = Decimal((sign, digits, int(exponent) - 2))
        return ir.Literal(value, text.replace(" ", ""), span=self.span(meta), type=T.PERCENT)

    def money(self, meta: Any, children: list[Token]) -> ir.Literal:
        text = str(children[0])
        currency = "USD"
        digits = text
        if text.startswith("$"):
            digits = text[1:]
        else:
            currency, digits = text.split(" ", 1)
        try:
            value = Decimal(digits.replace(",", "") or "x")
        except InvalidOperation:
            self.diagnostics.error(self.span(meta), f"{text!r} is not an amount",
                                   "write an amount like $1,800,000 or $0.01", code="literal")
            value = Decimal(0)
        return ir.Literal(value, text, span=self.span(meta), type=T.money(currency))

    def string(self, meta: Any, children: list[Token]) -> ir.Literal:
        return ir.Literal(unquote(children[0]), str(children[0]), span=self.span(meta),
                          type=T.TEXT)

    def date_literal(self, meta: Any, children: list[Token]) -> ir.Literal:
        text = str(children[0])
        try:
            if children[0].type == "ISO_DATE":
                value = date.fromisoformat(text)
            else:
                value = datetime.strptime(text, "%B %d, %Y").date()
        except ValueError:
            self.diagnostics.error(self.span(meta), f"{text!r} is not a date in the calendar",
                                   code="literal")
            value = date(2000, 1, 1)
        return ir.Literal(value, text, span=self.span(meta), type=T.DATE)

    def datetime(self, meta: Any, children: list[Token]) -> ir.Literal:
        text = str(children[0])
        span = self.span(meta)
        match = re.fullmatch(
            r"(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?"
            r"(?: ?([AaPp])\.?[Mm]\.?)?(?: (\S+))?", text)
        assert match is not None  # the token's own pattern guarantees the shape
        day, hour, minute, second, ampm, zone = match.groups()
        hour_n = int(hour)
        if ampm:
            hour_n = hour_n % 12 + (12 if ampm.lower() == "p" else 0)
        try:
            value = datetime.combine(
                date.fromisoformat(day), time(hour_n, int(minute), int(second or 0)))
        except ValueError:
            self.diagnostics.error(span, f"{text!r} is not a valid date and time", code="literal")
            value = datetime(2000, 1, 1)
        if zone:
            # An unknown zone is reported here; UTC stands in so nothing else complains.
            value = value.replace(tzinfo=self._zone(zone, span) or ZoneInfo("UTC"))
        # A naive value means "in the agreement's time zone": the checker resolves it.
        return ir.Literal(value, text, span=span, type=T.DATETIME)

    def _zone(self, name: str, span: Span) -> ZoneInfo | None:
        zone = known_zone(name)
        if zone is None:
            self.diagnostics.error(span, f"unknown time zone {name!r}",
                                   "use an IANA name such as America/New_York", code="literal")
        return zone

    # ---------------------------------------------------------- expressions

    def too_deep(self, meta: Any, _: list[Any]) -> ir.Literal:
        """A subtree cut for nesting too deeply (reported by the parser): a value of no
        type, which no later check complains about again."""
        return ir.Literal(0, "", span=self.span(meta), type=T.ERROR)

    def name(self, meta: Any, children: list[Token]) -> ir.Name:
        return ir.Name(str(children[0]), span=self.span(meta))

    # "first", "next" or "previous" with no period after it: a name.
    def first_name(self, meta: Any, _: list[Token]) -> ir.Name:
        return ir.Name("first", span=self.span(meta))

    def next_name(self, meta: Any, _: list[Token]) -> ir.Name:
        return ir.Name("next", span=self.span(meta))

    def previous_name(self, meta: Any, _: list[Token]) -> ir.Name:
        return ir.Name("previous", span=self.span(meta))

    def call(self, meta: Any, children: list[Any]) -> ir.Call:
        args = tuple(c for c in children[1:] if c is not None)
        return ir.Call(str(children[0]), args, span=self.span(meta))

    def not_(self, meta: Any, children: list[Any]) -> ir.Not:
        return ir.Not(children[0], span=self.span(meta))

    def neg(self, meta: Any, children: list[Any]) -> ir.Negate:
        return ir.Negate(children[0], span=self.span(meta))

    def _binary(op: str) -> Any:  # type: ignore[misc]  # a factory of rule methods
        def method(self: ToIR, meta: Any, children: list[Any]) -> ir.Binary:
            return ir.Binary(op, children[0], children[-1], span=self.span(meta))
        return method

    add = _binary("+")
    sub = _binary("-")
    mul = _binary("*")
    div = _binary("/")
    pow_ = _binary("^")
    and_ = _binary("and")
    or_ = _binary("or")
    unless = _binary("unless")

    def compare(self, meta: Any, children: list[Any]) -> ir.Compare:
        return ir.Compare(str(children[1]), children[0], children[2], span=self.span(meta))

    def compare_words(self, meta: Any, children: list[Any]) -> ir.Compare:
        op, words = children[1]
        return ir.Compare(op, children[0], children[2], words, span=self.span(meta))

    def is_given(self, meta: Any, children: list[Any]) -> ir.IsGiven:
        return ir.IsGiven(children[0], span=self.span(meta))

    def is_not_given(self, meta: Any, children: list[Any]) -> ir.IsGiven:
        return ir.IsGiven(children[0], negated=True, span=self.span(meta))

    def days(self, meta: Any, children: list[Any]) -> ir.Duration:
        return ir.Duration(children[0], "days", span=self.span(meta))

    def business_days(self, meta: Any, children: list[Any]) -> ir.Duration:
        return ir.Duration(children[0], "business_days", span=self.span(meta))

    def calendar_business_days(self, meta: Any, children: list[Any]) -> ir.Duration:
        amount, calendar = children
        return ir.Duration(amount, "business_days", str(calendar), span=self.span(meta))

    def months(self, meta: Any, children: list[Any]) -> ir.Duration:
        return ir.Duration(children[0], "months", span=self.span(meta))

    def years(self, meta: Any, children: list[Any]) -> ir.Duration:
        return ir.Duration(children[0], "years", span=self.span(meta))

    def after_(self, meta: Any, children: list[Any]) -> ir.Shift:
        return ir.Shift(children[0], children[1], "after", span=self.span(meta))

    def before_(self, meta: Any, children: list[Any]) -> ir.Shift:
        return ir.Shift(children[0], children[1], "before", span=self.span(meta))

    def close_of_business(self, meta: Any, children: list[Any]) -> ir.CloseOfBusiness:
        return ir.CloseOfBusiness(children[0], span=self.span(meta))

    # -------------------------------------------------------------- periods

    def calendar_family(self, meta: Any, children: list[Any]) -> str:
        return f"calendar_{children[0]}"

    def named_family(self, meta: Any, children: list[Token]) -> str:
        return str(children[0])

    def containing(self, meta: Any, children: list[Any]) -> ir.PeriodOf:
        return ir.PeriodOf(children[0], children[1], span=self.span(meta))

    def first_period(self, meta: Any, children: list[Any]) -> ir.FirstPeriod:
        return ir.FirstPeriod(children[0], span=self.span(meta))

    def _period_op(op: str) -> Any:  # type: ignore[misc]  # a factory of rule methods
        def method(self: ToIR, meta: Any, children: list[Any]) -> ir.PeriodOp:
            # The operand is last: "start of" is a token of its own before it.
            return ir.PeriodOp(op, children[-1], span=self.span(meta))
        return method

    period_start = _period_op("start")
    period_end = _period_op("end")
    next_period = _period_op("next")
    previous_period = _period_op("previous")
    period_number = _period_op("number")

    def last_business_day(self, meta: Any, children: list[Any]) -> ir.BusinessDayOf:
        _, period, calendar = children
        return ir.BusinessDayOf("last", period, str(calendar) if calendar else None,
                                span=self.span(meta))

    def first_business_day(self, meta: Any, children: list[Any]) -> ir.BusinessDayOf:
        _, period, calendar = children
        return ir.BusinessDayOf("first", period, str(calendar) if calendar else None,
                                span=self.span(meta))

    def recurrence(self, meta: Any, children: list[Any]) -> ir.Range:
        family, variable, (kind, start, end, count) = children
        return ir.Range(family, str(variable), kind, start, end, count, span=self.span(meta))

    def range_until(self, meta: Any, children: list[Any]) -> tuple[Any, ...]:
        return ("until", children[0], children[1], None)

    def range_through(self, meta: Any, children: list[Any]) -> tuple[Any, ...]:
        return ("through", children[0], children[1], None)

    def range_open(self, meta: Any, children: list[Any]) -> tuple[Any, ...]:
        return ("open", children[0], None, None)

    def range_ending(self, meta: Any, children: list[Any]) -> tuple[Any, ...]:
        count, end = children
        n = int(str(count).replace("_", ""))
        if not 1 <= n <= 10_000:
            self.diagnostics.error(self.tspan(count), f"a run of {n} periods",
                                   "the number of periods must be 1 to 10,000", code="range")
            n = 1
        return ("ending", None, end, n)

    def each(self, meta: Any, children: list[Any]) -> ir.Each:
        kind, body, range_, when = children
        return ir.Each(kind, body, range_, when, span=self.span(meta))

    def field(self, meta: Any, children: list[Any]) -> ir.Field:
        return ir.Field(children[0], str(children[1]), span=self.span(meta))

    def in_force(self, meta: Any, children: list[Any]) -> ir.InForce:
        return ir.InForce(children[0], children[1], span=self.span(meta))

    def in_default(self, meta: Any, children: list[Any]) -> ir.Late:
        return ir.Late(children[0], children[1], True, span=self.span(meta))

    def late(self, meta: Any, children: list[Any]) -> ir.Late:
        return ir.Late(children[0], children[1], span=self.span(meta))

    def if_then_else(self, meta: Any, children: list[Any]) -> ir.IfThenElse:
        return ir.IfThenElse(children[0], children[1], children[2], span=self.span(meta))

    def list_op(self, meta: Any, children: list[Any]) -> ir.ListOp:
        return ir.ListOp(children[0], tuple(children[1:]), span=self.span(meta))

    def item(self, meta: Any, children: list[Any]) -> ir.Item:
        label, expr, when = children
        return ir.Item(str(label) if label is not None else None, expr, when,
                       span=self.span(meta))

    # ------------------------------------------------ lists, choices, records

    def nothing(self, meta: Any, _: list[Any]) -> ir.Nothing:
        return ir.Nothing(span=self.span(meta))

    def when_value(self, meta: Any, children: list[Any]) -> ir.When:
        return ir.When(children[0], children[1], span=self.span(meta))

    def case(self, meta: Any, children: list[Any]) -> ir.Case:
        subject, *arms = children
        return ir.Case(subject, tuple(a for a in arms if isinstance(a, ir.Arm)),
                       span=self.span(meta))

    def case_arm(self, meta: Any, children: list[Any]) -> ir.Arm:
        *members, value = children
        return ir.Arm(tuple(str(m) for m in members), value, self.span(meta))

    def otherwise_arm(self, meta: Any, children: list[Any]) -> ir.Arm:
        return ir.Arm((), children[0], self.span(meta))

    def list_literal(self, meta: Any, children: list[Any]) -> ir.ListOf:
        return ir.ListOf(tuple(c for c in children if c is not None), span=self.span(meta))

    def list_each(self, meta: Any, children: list[Any]) -> ir.ForEach:
        body, variable, source, when = children
        return ir.ForEach(body, str(variable), source, when, span=self.span(meta))

    def aggregate(self, meta: Any, children: list[Any]) -> ir.Aggregate:
        kind, body, variable, source, when = children
        span = self.span(meta)
        return ir.Aggregate(kind, ir.ForEach(body, str(variable), source, when, span=span),
                            span=span)

    def first_of(self, meta: Any, children: list[Any]) -> ir.Aggregate:
        return ir.Aggregate("first", children[1], span=self.span(meta))

    def allocate(self, meta: Any, children: list[Any]) -> ir.Allocate:
        amount, method, source = children
        return ir.Allocate(amount, method, source, span=self.span(meta))

    def pro_rata(self, meta: Any, _: list[Any]) -> str:
        return "pro_rata"

    def in_order(self, meta: Any, _: list[Any]) -> str:
        return "in_order"

    def compounding(self, meta: Any, children: list[Token]) -> str:
        return str(children[-1])

    def simple_interest(self, meta: Any, _: list[Any]) -> str:
        return "simple"

    def present_value(self, meta: Any, children: list[Any]) -> ir.PresentValue:
        _, amount, day, variable, source, when, rate, day_count, compounding, on = children
        # Where the contract names no basis: actual/365 and annual compounding (see the
        # language reference, "Present value").
        return ir.PresentValue(amount, day, str(variable), source, when, rate,
                               str(day_count) if day_count is not None else "actual/365",
                               compounding or "annually", on, span=self.span(meta))

    # word operators and list kinds are plain values for their parents
    def __default__(self, data: Any, children: list[Any], meta: Any) -> Any:
        if data in _WORD_OPS:
            return _WORD_OPS[data]
        if data in ("all", "any", "none", "earliest", "latest", "least", "greatest", "total"):
            return str(data)
        if data in _PERIOD_UNIT_RULES:
            return _PERIOD_UNIT_RULES[data]
        if data in _PERIOD_BASES:
            return _PERIOD_BASES[data]
        return lark.Tree(data, children, meta)

    # ---------------------------------------------------------------- types

    def bool_type(self, meta: Any, _: list[Any]) -> T.Type:
        return T.BOOL

    def integer_type(self, meta: Any, _: list[Any]) -> T.Type:
        return T.INTEGER

    def decimal_type(self, meta: Any, _: list[Any]) -> T.Type:
        return T.DECIMAL

    def money_type(self, meta: Any, children: list[Any]) -> T.Type:
        # The agreement's currency is filled in by the checker when none is written.
        return T.Type("money", str(children[0]) if children[0] is not None else None)

    def percent_type(self, meta: Any, _: list[Any]) -> T.Type:
        return T.PERCENT

    def date_type(self, meta: Any, _: list[Any]) -> T.Type:
        return T.DATE

    def datetime_type(self, meta: Any, _: list[Any]) -> T.Type:
        return T.DATETIME

    def days_type(self, meta: Any, _: list[Any]) -> T.Type:
        return T.DAYS

    def business_days_type(self, meta: Any, _: list[Any]) -> T.Type:
        return T.BUSINESS_DAYS

    def calendar_business_days_type(self, meta: Any, children: list[Any]) -> T.Type:
        return T.Type("business_days", calendar=str(children[0]))

    def months_type(self, meta: Any, _: list[Any]) -> T.Type:
        return T.MONTHS

    def calendar_period_type(self, meta: Any, children: list[Any]) -> T.Type:
        return T.period(f"calendar_{children[0]}")

    def named_type(self, meta: Any, children: list[Token]) -> T.Type:
        # Resolved by the checker: the name of a period family.
        return T.Type("named", family=str(children[0]), span=self.tspan(children[0]))

    def list_type(self, meta: Any, children: list[Any]) -> T.Type:
        return T.list_of(children[0])

    def party_type(self, meta: Any, _: list[Any]) -> T.Type:
        return T.PARTY

    def text_type(self, meta: Any, _: list[Any]) -> T.Type:
        return T.TEXT

    # --------------------------------------------------------- declarations

    def optional(self, meta: Any, _: list[Any]) -> bool:
        return True

    def fact_default(self, meta: Any, children: list[Any]) -> tuple[str, ir.Expr]:
        return ("default", children[0])

    def description(self, meta: Any, children: list[Token]) -> tuple[str, str]:
        return ("description", unquote(children[0]))

    def per(self, meta: Any, children: list[Any]) -> str:
        return children[0]  # type: ignore[no-any-return]

    def constraint(self, meta: Any, children: list[Any]) -> tuple[str, ir.Expr]:
        return ("constraint", children[0])

    def fact(self, meta: Any, children: list[Any]) -> ir.Fact:
        name, term, type_, per, optional, default, constraint, description = children
        return ir.Fact(
            str(name),
            unquote(term) if term is not None else None,
            type_.maybe(bool(optional) or default is not None),
            default[1] if default else None,
            description[1] if description else None,
            None,
            self.span(meta),
            per,
            constraint[1] if constraint else None,
        )

    def periods(self, meta: Any, children: list[Any]) -> ir.PeriodFamily:
        name, term, basis, unit, beginning, start = children
        first_month = 1
        if beginning is not None:
            month, day, token = beginning
            first_month = _MONTHS.index(month) + 1
            if day not in (None, 1):
                self.diagnostics.error(self.tspan(token), f"a fiscal year beginning on "
                                       f"{month} {day}", "fiscal years begin on the first "
                                       f"day of a month: write 'beginning {month} 1'",
                                       code="period")
            if basis != "fiscal":
                self.diagnostics.error(self.tspan(token), f"{basis} years begin in January"
                                       if basis == "calendar" else
                                       "contract periods begin on their 'from' date",
                                       "only fiscal periods take 'beginning MONTH 1'",
                                       code="period")
        return ir.PeriodFamily(str(name), unquote(term) if term is not None else None,
                               basis, unit, first_month, start, None, self.span(meta))

    def user_calendar(self, meta: Any, children: list[Any]) -> tuple[str, Any]:
        name, term, *bases = children
        extra: tuple[date, ...] = ()
        if bases and isinstance(bases[-1], tuple):
            extra = bases.pop()
        return ("calendars", ir.UserCalendar(
            str(name), unquote(term) if term is not None else None,
            tuple(str(b) for b in bases if b is not None), extra, None, self.span(meta)))

    def calendar_plus(self, meta: Any, children: list[Any]) -> tuple[date, ...]:
        return tuple(c.value for c in children if c is not None)

    def beginning(self, meta: Any, children: list[Token]) -> tuple[str, int | None, Token]:
        month, day = children
        return (str(month), int(str(day)) if day is not None else None, month)

    def commencing(self, meta: Any, children: list[Any]) -> ir.Expr:
        return children[0]  # type: ignore[no-any-return]

    def parameters(self, meta: Any, children: list[Any]) -> tuple[ir.Parameter, ...]:
        return tuple(children)

    def parameter(self, meta: Any, children: list[Any]) -> ir.Parameter:
        return ir.Parameter(str(children[0]), children[1], self.span(meta))

    def choice(self, meta: Any, children: list[Any]) -> ir.Choice:
        name, term, *members = children
        return ir.Choice(str(name), unquote(term) if term is not None else None,
                         tuple(m for m in members if isinstance(m, ir.Member)), None,
                         self.span(meta))

    def member(self, meta: Any, children: list[Any]) -> ir.Member:
        name, term = children
        return ir.Member(str(name), unquote(term) if term is not None else None,
                         self.span(meta))

    def record(self, meta: Any, children: list[Any]) -> ir.Record:
        name, term, *fields = children
        return ir.Record(str(name), unquote(term) if term is not None else None,
                         tuple(fields), None, self.span(meta))

    def record_field(self, meta: Any, children: list[Any]) -> ir.RecordField:
        name, term, type_, constraint = children
        return ir.RecordField(str(name), unquote(term) if term is not None else None, type_,
                              self.span(meta), constraint[1] if constraint else None)

    def table(self, meta: Any, children: list[Any]) -> ir.Table:
        name, term, columns, *rows = children
        return ir.Table(str(name), unquote(term) if term is not None else None, columns,
                        tuple(rows), None, self.span(meta))

    def columns(self, meta: Any, children: list[Any]) -> tuple[ir.RecordField, ...]:
        return tuple(children)

    def table_row(self, meta: Any, children: list[Any]) -> ir.Row:
        return ir.Row(tuple(children), self.span(meta))

    def definition(self, meta: Any, children: list[Any]) -> ir.Definition:
        name, params, term, type_, expr, when = children
        if when is not None:  # "define x = X when C": X where C holds, else no value
            expr = ir.When(expr, when, span=self.span(meta))
        return ir.Definition(str(name), unquote(term) if term is not None else None,
                             params or (), type_, expr, False, None, self.span(meta))

    def condition(self, meta: Any, children: list[Any]) -> ir.Definition:
        name, params, term, expr = children
        return ir.Definition(str(name), unquote(term) if term is not None else None,
                             params or (), T.BOOL, expr, True, None, self.span(meta))

    def exception(self, meta: Any, children: list[Any]) -> ir.Exception_:
        name, target, term, value, condition = children
        return ir.Exception_(str(name) if name is not None else "", str(target),
                             unquote(term) if term is not None else None, value, condition,
                             None, self.span(meta))

    def invariant(self, meta: Any, children: list[Any]) -> ir.Invariant:
        name, term, expr, assumption = children
        return ir.Invariant(str(name), unquote(term) if term is not None else None, expr,
                            assumption, None, self.span(meta))

    def party_holder(self, meta: Any, children: list[Token]) -> ir.Holder:
        return ir.Holder("party", (str(children[0]),), self.span(meta))

    def either_party(self, meta: Any, _: list[Any]) -> ir.Holder:
        return ir.Holder("either", (), self.span(meta))

    def joint_holders(self, meta: Any, children: list[Token]) -> ir.Holder:
        return ir.Holder("joint", (str(children[0]), str(children[1])), self.span(meta))

    def action(self, meta: Any, children: list[Token]) -> str:
        token = children[0]
        return unquote(token) if token.type == "STRING" else str(token)

    def object(self, meta: Any, children: list[Any]) -> ir.Expr:
        return children[0]  # type: ignore[no-any-return]

    def beneficiary(self, meta: Any, children: list[Token]) -> tuple[str, Span]:
        return (str(children[0]), self.tspan(children[0]))

    def when(self, meta: Any, children: list[Any]) -> ir.Expr:
        return children[0]  # type: ignore[no-any-return]

    def deadline_by(self, meta: Any, children: list[Any]) -> ir.Deadline:
        return ir.Deadline("by", children[0], span=self.span(meta))

    def deadline_on(self, meta: Any, children: list[Any]) -> ir.Deadline:
        return ir.Deadline("on", children[0], span=self.span(meta))

    def deadline_within(self, meta: Any, children: list[Any]) -> ir.Deadline:
        return ir.Deadline("within", children[0], children[1], span=self.span(meta))

    def promptly(self, meta: Any, _: list[Any]) -> str:
        return "promptly"

    def practicable(self, meta: Any, _: list[Any]) -> str:
        return "as soon as reasonably practicable"

    def performed(self, meta: Any, children: list[Any]) -> tuple[str, ir.Expr]:
        return ("performed", children[0])

    def cure(self, meta: Any, children: list[Any]) -> tuple[str, ir.Deadline]:
        return ("cure", ir.Deadline("within", children[0], children[1], span=self.span(meta)))

    def duty(self, meta: Any, children: list[Any]) -> ir.Duty:
        (holder, action, object_, beneficiary, standard, deadline, performed, cure,
         condition) = children
        return ir.Duty(holder, action, object_, beneficiary[0] if beneficiary else None,
                       deadline, condition, self.span(meta), standard,
                       performed[1] if performed else None, cure[1] if cure else None)

    def obligation(self, meta: Any, children: list[Any]) -> ir.Obligation:
        name, term, recurrence, duty = children
        return ir.Obligation(str(name), unquote(term) if term is not None else None, duty,
                             None, self.span(meta), recurrence)

    def consequence(self, meta: Any, children: list[Any]) -> ir.Duty:
        return children[0]  # type: ignore[no-any-return]

    def power(self, meta: Any, children: list[Any]) -> ir.Power:
        name, term, recurrence, holder, action, object_, window, condition, *consequences = \
            children
        return ir.Power(str(name), unquote(term) if term is not None else None, holder,
                        action, object_, condition, tuple(consequences), None, self.span(meta),
                        recurrence, window)

    # -------------------------------------------------------------- sections

    def text(self, meta: Any, children: list[Token]) -> ir.Text:
        return ir.Text(unquote(children[0]), self.span(meta))

    def section(self, meta: Any, children: list[Any]) -> _SectionParts:
        number, heading, *body = children
        parts, decls = _body(str(number), body)
        section = ir.Section(str(number), unquote(heading) if heading is not None else None,
                             parts, self.span(meta))
        return _SectionParts(section, decls)

    def _part(kind: str) -> Any:  # type: ignore[misc]  # a factory of rule methods
        def method(self: ToIR, meta: Any, children: list[Token]) -> Token:
            # A token, as a section's SECTION_NUMBER is: its text the part's number
            # ("Article VI"), its position that of `article VI`.
            return Token("PART_NUMBER", ir.part_number(kind, str(children[0])),
                         start_pos=meta.start_pos, line=meta.line, column=meta.column,
                         end_line=meta.end_line, end_column=meta.end_column,
                         end_pos=meta.end_pos)
        return method

    article_part = _part("article")
    exhibit_part = _part("exhibit")
    schedule_part = _part("schedule")

    # ------------------------------------------------------------ operations

    def section_target(self, meta: Any, children: list[Token]) -> ir.Target:
        return ir.Target("section", (str(children[0]),), span=self.span(meta))

    def sections_target(self, meta: Any, children: list[Token]) -> ir.Target:
        numbers = tuple(str(c) for c in children if c is not None)
        return ir.Target("sections" if len(numbers) > 1 else "section", numbers,
                         span=self.span(meta))

    def sentence_target(self, meta: Any, children: list[Token]) -> ir.Target:
        ordinal, number = children[-2:]
        return ir.Target("sentence", (str(number),), ir.ORDINALS[str(ordinal)],
                         span=self.span(meta))

    def clause_target(self, meta: Any, children: list[Token]) -> ir.Target:
        label, ordinal, number = children[0], children[-2], children[-1]
        return ir.Target("clause", (str(number),), ir.ORDINALS[str(ordinal)], str(label),
                         span=self.span(meta))

    def part_clause_target(self, meta: Any, children: list[Token]) -> ir.Target:
        label, number = children[0], children[-1]
        return ir.Target("clause", (str(number),), None, str(label), span=self.span(meta))

    def _operation(self, kind: str, meta: Any, target: ir.Target, heading: Any,
                   body: list[Any]) -> ir.Operation:
        parts, decls = _body(target.sections[0], body)
        return ir.Operation(kind, target, unquote(heading) if heading is not None else None,
                            parts, decls, self.span(meta))

    def replace_op(self, meta: Any, children: list[Any]) -> ir.Operation:
        target, heading, *body = children
        return self._operation("replace", meta, target, heading, body)

    def delete_op(self, meta: Any, children: list[Any]) -> ir.Operation:
        target, body = children  # a body: the logic of a sentence without a deleted clause
        return self._operation("delete", meta, target, None, body or [])

    def append_op(self, meta: Any, children: list[Any]) -> ir.Operation:
        number, *body = children
        target = ir.Target("section", (str(number),), span=self.tspan(number))
        return self._operation("append", meta, target, None, body)

    def add_op(self, meta: Any, children: list[Any]) -> ir.Operation:
        number, heading, *body = children
        target = ir.Target("section", (str(number),), span=self.tspan(number))
        return self._operation("add", meta, target, heading, body)

    def op_body(self, meta: Any, children: list[Any]) -> list[Any]:
        return children

    def substitute_op(self, meta: Any, children: list[Any]) -> ir.Operation:
        words, old, target, body = children
        op = self._operation("substitute", meta, target, None, body or [])
        return attrs.evolve(op, words=unquote(words), old=unquote(old),
                            words_span=self.tspan(old))

    def insert_op(self, meta: Any, children: list[Any]) -> ir.Operation:
        words, _, target, body = children  # the second: `end of`
        op = self._operation("insert", meta, target, None, body or [])
        return attrs.evolve(op, words=unquote(words), words_span=self.tspan(words))

    def conform_op(self, meta: Any, children: list[Any]) -> ir.Operation:
        number, *body = children
        target = ir.Target("section", (str(number),), span=self.tspan(number))
        return self._operation("conform", meta, target, None, body)

    # A row of a table: `replace row 3 of table T with |...|`, `delete row for 2003 of
    # table T`, `add row to table T [after row 5] |...| ...`.

    def row_number(self, meta: Any, children: list[Token]) -> tuple[int | None, ir.Expr | None]:
        return (int(children[0]), None)

    def row_key(self, meta: Any, children: list[Any]) -> tuple[int | None, ir.Expr | None]:
        return (None, children[0])

    def after_row(self, meta: Any, children: list[Any]) -> str:
        return "after"

    def before_row(self, meta: Any, children: list[Any]) -> str:
        return "before"

    def _row_op(self, kind: str, meta: Any, table: Token,
                ref: tuple[int | None, ir.Expr | None] | None, place: str | None,
                rows: list[ir.Row]) -> ir.Operation:
        row, key = ref if ref is not None else (None, None)
        target = ir.Target("row", (), span=self.tspan(table), table=str(table), row=row,
                           row_key=key, place=place)
        return ir.Operation(kind, target, None, (), (), self.span(meta), rows=tuple(rows))

    def replace_row_op(self, meta: Any, children: list[Any]) -> ir.Operation:
        ref, table, row = children
        return self._row_op("replace", meta, table, ref, None, [row])

    def delete_row_op(self, meta: Any, children: list[Any]) -> ir.Operation:
        ref, table = children
        return self._row_op("delete", meta, table, ref, None, [])

    def add_row_op(self, meta: Any, children: list[Any]) -> ir.Operation:
        table, place, ref, *rows = children
        return self._row_op("add", meta, table, ref, place, rows)

    # ---------------------------------------------------------------- header

    def dated(self, meta: Any, children: list[Any]) -> tuple[str, Any]:
        return ("dated", children[0].value)

    def effective(self, meta: Any, children: list[Any]) -> tuple[str, Any]:
        return ("effective", children[0].value)

    def effective_upon(self, meta: Any, children: list[Token]) -> tuple[str, Any]:
        return ("effective_upon", str(children[0]))

    def governing_law(self, meta: Any, children: list[Token]) -> tuple[str, Any]:
        return ("governing_law", unquote(children[0]))

    def party(self, meta: Any, children: list[Any]) -> tuple[str, Any]:
        name, role, description = children
        return ("party", ir.Party(str(name), unquote(role) if role is not None else None,
                                  unquote(description) if description is not None else None,
                                  self.span(meta)))

    def calendar(self, meta: Any, children: list[Token]) -> tuple[str, Any]:
        # Whether the calendar exists is the checker's question (passes/calendars.py).
        return ("calendar", (str(children[0]), self.tspan(children[0])))

    def holidays(self, meta: Any, children: list[Any]) -> tuple[str, Any]:
        return ("holidays", tuple(c.value for c in children if c is not None))

    def time_zone(self, meta: Any, children: list[Any]) -> tuple[str, Any]:
        zone, label = children
        self._zone(str(zone), self.span(meta))
        return ("time_zone", (str(zone), unquote(label) if label is not None else None))

    def close_of_business_time(self, meta: Any, children: list[Token]) -> tuple[str, Any]:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?: ?([AaPp])\.?[Mm]\.?)?", str(children[0]))
        assert match is not None
        hour = int(match.group(1))
        if match.group(3):
            hour = hour % 12 + (12 if match.group(3).lower() == "p" else 0)
        if hour > 23 or int(match.group(2)) > 59:
            self.diagnostics.error(self.span(meta), f"{children[0]!s} is not a time of day",
                                   code="literal")
            hour = 17
        return ("close_of_business", f"{hour:02d}:{match.group(2)}")

    def currency(self, meta: Any, children: list[Token]) -> tuple[str, Any]:
        return ("currency", str(children[0]))

    def _header(self, kind: str, meta: Any, name: Token, title: Token, amends: str | None,
                items: list[tuple[str, Any]]) -> ir.Header:
        fields: dict[str, Any] = {}
        parties = []
        own_calendars = []
        for key, value in items:
            if key == "party":
                parties.append(value)
            elif key == "calendars":
                own_calendars.append(value)
            elif key == "time_zone":
                fields["time_zone"], fields["time_zone_label"] = value
            elif key == "calendar":
                fields["calendar"], fields["calendar_span"] = value
            else:
                fields[key] = value
        return ir.Header(
            kind=kind, name=str(name), title=unquote(title), amends=amends,
            dated=fields.get("dated"), effective=fields.get("effective"),
            governing_law=fields.get("governing_law"), parties=tuple(parties),
            calendar=fields.get("calendar", "us_federal"), holidays=fields.get("holidays", ()),
            time_zone=fields.get("time_zone"), time_zone_label=fields.get("time_zone_label"),
            close_of_business=fields.get("close_of_business", "17:00"),
            currency=fields.get("currency", "USD"), span=self.span(meta),
            calendar_span=fields.get("calendar_span"),
            effective_upon=fields.get("effective_upon"),
            calendars=tuple(own_calendars),
        )

    def agreement(self, meta: Any, children: list[Any]) -> ir.Header:
        name, title, *items = children
        return self._header("agreement", meta, name, title, None, items)

    def amendment(self, meta: Any, children: list[Any]) -> ir.Header:
        name, title, amends, *items = children
        return self._header("amendment", meta, name, title, str(amends), items)

    # ----------------------------------------------------------------- tests

    def tests_for(self, meta: Any, children: list[Token]) -> _TestsFor:
        return _TestsFor(str(children[0]), self.span(meta))

    def test(self, meta: Any, children: list[Any]) -> ir.ScenarioTest:
        description, *items = children
        as_of = [i for i in items if isinstance(i, date)]
        if len(as_of) > 1:
            self.diagnostics.error(self.span(meta), "a test has one 'as of' date",
                                   "write a test per date", code="test")
        given = [g for i in items if isinstance(i, tuple) for g in i]
        return ir.ScenarioTest(unquote(description), as_of[0] if as_of else None,
                               tuple(given),
                               tuple(i for i in items if isinstance(i, ir.Expectation)),
                               self.span(meta))

    def as_of(self, meta: Any, children: list[Any]) -> date:
        return children[0].value  # type: ignore[no-any-return]

    def given(self, meta: Any, children: list[ir.GivenFact]) -> tuple[ir.GivenFact, ...]:
        return tuple(children)

    def given_record(self, meta: Any, children: list[Any]) -> ir.GivenRecord:
        return ir.GivenRecord(tuple(children), self.span(meta))

    def field_value(self, meta: Any, children: list[Any]) -> tuple[str, ir.Expr]:
        return (str(children[0]), children[1])

    def given_records(self, meta: Any, children: list[Any]) -> ir.GivenRecords:
        return ir.GivenRecords(tuple(children), self.span(meta))

    def given_fact(self, meta: Any, children: list[Any]) -> ir.GivenFact:
        name, key, value = children
        return ir.GivenFact(str(name), value, self.span(meta), key)

    def arguments(self, meta: Any, children: list[Any]) -> tuple[ir.Expr, ...]:
        return tuple(c for c in children if c is not None)

    def probe(self, meta: Any, children: list[Any]) -> ir.Probe:
        name, args, field = children
        return ir.Probe(str(name), args or (), str(field) if field is not None else None,
                        self.span(meta))

    def expect_value(self, meta: Any, children: list[Any]) -> ir.Expectation:
        return ir.Expectation(children[0], children[1], None, self.span(meta))

    def expect_error(self, meta: Any, children: list[Any]) -> ir.Expectation:
        return ir.Expectation(children[0], None, str(children[1]), self.span(meta))


def build(file: str, trees: list[lark.Tree[Token]], diagnostics: Diagnostics) -> ir.Program:
    """Build the IR of one file from its top-level parse trees."""
    to_ir = ToIR(file, diagnostics)
    header: ir.Header | None = None
    sections: list[ir.Section] = []
    declarations: list[ir.Declaration] = []
    operations: list[ir.Operation] = []
    tests: list[ir.ScenarioTest] = []
    tests_for: _TestsFor | None = None
    for tree in trees:
        node = to_ir.transform(tree)
        if isinstance(node, ir.ScenarioTest):
            tests.append(node)
        elif isinstance(node, _TestsFor):
            if tests_for is not None or header is not None:
                diagnostics.error(node.span, "'tests for' starts a file of tests; this file "
                                  "already has a header", code="duplicate")
                continue
            tests_for = node
        elif isinstance(node, ir.Header):
            if tests_for is not None:
                diagnostics.error(node.span, f"a file of tests for '{tests_for.agreement}' "
                                  f"cannot hold an {node.kind}",
                                  "put the tests in a file of their own, or in the "
                                  "agreement's file without 'tests for'", code="duplicate")
                continue
            if header is not None:
                diagnostics.error(node.span, f"a second {node.kind} header in one file",
                                  "one clause file holds one agreement or one amendment",
                                  code="duplicate")
                continue
            header = node
            declarations.extend(node.calendars)
        elif isinstance(node, ir.Operation):
            operations.append(node)
        elif isinstance(node, _SectionParts):
            sections.append(node.section)
            declarations.extend(node.declarations)
        elif isinstance(node, ir.Exception_) and not node.name:
            taken = sum(1 for d in declarations if d.name.startswith(f"{node.target}_exception"))
            suffix = f"_{taken + 1}" if taken else ""
            declarations.append(attrs.evolve(node, name=f"{node.target}_exception{suffix}"))
        else:
            declarations.append(node)
    if operations and (header is None or header.kind != "amendment"):
        diagnostics.error(operations[0].span, "only an amendment can replace, delete, append "
                          "to or add sections",
                          "start the file with: amendment NAME \"Title\" amends AGREEMENT "
                          "{ dated ... effective ... }", code="amendment")
    if tests_for is not None and (sections or declarations or operations):
        first = (sections or declarations or operations)[0]
        diagnostics.error(first.span, f"a file of tests for '{tests_for.agreement}' holds "
                          "tests only", "move the provision to the agreement's file",
                          code="test")
    return ir.Program(file, header, tuple(sections), tuple(declarations), tuple(operations),
                      tuple(tests), tests_for.agreement if tests_for else None)
