"""Lists, records and tables as SQL: ARRAYs and STRUCTs, and lambdas over them.

A list is an ARRAY, a record a STRUCT with a field per record field (by its name), a
table written in the contract a constant ARRAY of STRUCTs. Each row of the query holds
its own lists, so nothing is joined or grouped: a list fact is a column of the facts
table (an Arrow, Parquet or JSON list; a list of records, a list of structs).

What is computed for each item of a list (the body and the `when` of `[... for each x in
xs when ...]`) is staged as the query is (base.Stages), but inside the list: each stage
maps the list to a list of STRUCTs with one more field per column (`ElementStages`), so
that the SQL stays linear in the size of the logic. The aggregates (sum of, number of,
first of, earliest of..., all of, any of, none of) fold the items in order with the
engine's reduce (DuckDB LIST_REDUCE, Spark AGGREGATE), as the module loops over them:
the same first error, the same items skipped, the same three-valued logic.

Lists need an engine with lambdas over arrays: DuckDB and Spark (and Databricks); in
another dialect a list is an UntranslatableError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
from sqlglot import exp

from clausec import ir
from clausec.backends.sql.base import (
    DECIMAL_LIMIT,
    DECIMAL_SQL,
    INTEGER_LIMIT,
    SQL_TYPES,
    Frame,
    Translating,
    UntranslatableError,
    Val,
    case,
    coalesce,
    is_null,
    not_null,
    unknown,
)
from clausec.ir import types as T
from clausec.source import Span

if TYPE_CHECKING:
    from clausec.backends.interpret import Interpreter

# The dialects whose engines have lambdas over arrays (sqlglot writes them for each).
WITH_LAMBDAS = ("duckdb", "spark", "spark2", "databricks")


def data_type(i: Interpreter, type_: T.Type) -> exp.DataType:
    """The SQL type of a clause type: a list an ARRAY, a record a STRUCT."""
    kind = type_.kind
    if kind == "list":
        element = data_type(i, type_.element or T.ERROR)
        return exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[element], nested=True)
    if kind == "share":
        item = data_type(i, type_.element or T.ERROR)
        return exp.DataType(this=exp.DataType.Type.STRUCT, nested=True, expressions=[
            exp.ColumnDef(this=exp.to_identifier("item", quoted=True), kind=item),
            exp.ColumnDef(this=exp.to_identifier("amount", quoted=True),
                          kind=exp.DataType.build(DECIMAL_SQL))])
    if kind == "record":
        # A record as the facts read it (the original version's), or a table of this
        # version (one an amendment adds is in no other).
        record = i.types.get(type_.name or "")
        if not isinstance(record, (ir.Record, ir.Table)):
            record = i.decls.get(type_.name or "")
        if not isinstance(record, (ir.Record, ir.Table)):
            raise UntranslatableError(f"the record type {type_.name}", _span(i, type_))
        fields = [exp.ColumnDef(this=exp.to_identifier(f.name, quoted=True),
                                kind=data_type(i, f.type)) for f in record.fields]
        return exp.DataType(this=exp.DataType.Type.STRUCT, expressions=fields, nested=True)
    sql_type = SQL_TYPES.get(kind)
    if sql_type is None:
        raise UntranslatableError(f"values of type {type_}", _span(i, type_))
    return exp.DataType.build(sql_type)


def _span(i: Interpreter, type_: T.Type) -> Span:
    span = type_.span
    return span if isinstance(span, Span) else i.checked.header.span


def to(e: exp.Expr, type_: exp.DataType) -> exp.Expr:
    return exp.Cast(this=e, to=type_.copy())


def field(of: exp.Expr, name: str) -> exp.Expr:
    return exp.Dot(this=of, expression=exp.to_identifier(name, quoted=True))


def struct(*fields: tuple[str, exp.Expr]) -> exp.Expr:
    return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(name, quoted=True),
                                                  expression=value)
                                   for name, value in fields])


def lam(body: exp.Expr, *names: str) -> exp.Expr:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(n) for n in names])


def var(name: str) -> exp.Column:
    return exp.column(name)


class ElementStages:
    """The stages of what is computed for each item of a list: stage k is a STRUCT per
    item with the fields of the stages before it and its own; `finish` writes the stages
    as columns of the enclosing query (or list), each a TRANSFORM of the one before."""

    def __init__(self, depth: int) -> None:
        self.var = f"_x{depth}"
        self.levels: list[list[tuple[str, exp.Expr]]] = [[]]
        self.count = 0
        # The stage of the enclosing query after which the list's columns can be
        # computed: the latest its items read (a term without parameters, a variable of
        # an enclosing list).
        self.needs = 0

    def item(self) -> Val:
        return Val(field(var(self.var), "item"), None, 0)

    def put(self, v: exp.Expr, e: exp.Expr | None, level: int, note: str = "") -> Val:
        if isinstance(v, (exp.Column, exp.Literal, exp.Null, exp.Boolean, exp.Dot)) and \
                e is None:
            return Val(v, None, level)
        self.count += 1
        name = f"_{self.count}"
        while len(self.levels) <= level + 1:
            self.levels.append([])
        self.levels[level + 1].append((name, v))
        error = None
        if e is not None:
            self.levels[level + 1].append((name + "_e", exp.Cast(
                this=e, to=exp.DataType.build("TEXT"))))
            error = field(var(self.var), name + "_e")
        return Val(field(var(self.var), name), error, level + 1)

    def finish(self, t: Translating, source: Val) -> Val:
        """The list of STRUCTs, one per item of `source` (an ARRAY), as a column of the
        enclosing query: `item` and every field of every stage."""
        x = var(self.var)
        rows = t.put(exp.Transform(this=source.v, expression=lam(struct(("item", x)),
                                                                 self.var)),
                     None, source, Val(x, None, self.needs))
        names = ["item"]
        for columns in self.levels[1:]:
            if not columns:
                continue
            kept = [(n, field(x.copy(), n)) for n in names]
            rows = t.put(exp.Transform(this=rows.v, expression=lam(
                struct(*kept, *((n, e.copy()) for n, e in columns)), self.var)), None, rows)
            names += [n for n, _ in columns]
        return rows


@attrs.frozen
class Items:
    """A list's items as the query computes them: `rows`, an ARRAY (of STRUCTs where an
    expression is computed for each item), and, over one of them (the lambda variable
    `var`), its value and error and its `when`'s."""

    rows: Val
    var: str
    element: exp.Expr  # the item of the source list itself
    value: exp.Expr
    error: exp.Expr | None = None
    kept: exp.Expr | None = None  # None: every item is kept
    kept_error: exp.Expr | None = None

    def item_error(self) -> exp.Expr | None:
        """An item's error: its `when`'s, else its body's where it is kept."""
        body = self.error
        if body is not None and self.kept is not None:
            body = case((self.kept.copy(), body.copy()))
        return coalesce(self.kept_error.copy() if self.kept_error is not None else None,
                        body.copy() if body is not None else None)

    def keep(self) -> exp.Expr:
        return exp.Coalesce(this=self.kept.copy(), expressions=[exp.false()]) \
            if self.kept is not None else exp.true()


def need_lambdas(t: Translating, e: ir.Expr) -> None:
    if t.dialect not in WITH_LAMBDAS:
        raise UntranslatableError(f"lists in the {t.dialect} dialect (its engine has no "
                                  "lambdas over arrays)", e.span)


def items_of(t: Translating, source: Val, variable: str, body: ir.Expr,
             when: ir.Expr | None, frame: Frame, strict: bool,
             target: T.Type | None, lift: bool = False) -> Items:
    """`body` (and `when`) computed for each item of `source` (an ARRAY), with
    `variable` bound to the item."""
    stages = ElementStages(t.depth + 1)
    inner = t.inner(stages)
    params = {name: inner.from_outer(val) for name, val in frame.params.items()}
    params[variable] = stages.item()
    item_frame = Frame(frame.section, params)
    kept = inner.expr(when, item_frame) if when is not None else None
    value = inner.coerce(inner.expr(body, item_frame, strict=strict, lift=lift),
                         body.type, target)
    if isinstance(value.v, (exp.Literal, exp.Null, exp.Boolean)) or kept is not None and \
            isinstance(kept.v, exp.Boolean):
        # A constant is a field too, so that every item reads it from the same place.
        value = stages.put(exp.Paren(this=value.v), value.e, value.level)
    rows = stages.finish(t, source)
    return Items(rows, stages.var, stages.item().v, value.v, value.e,
                 kept.v if kept is not None else None, kept.e if kept is not None else None)


def plain_items(t: Translating, source: Val) -> Items:
    """The items of a list as they are."""
    name = f"_x{t.depth + 1}"
    return Items(source, name, var(name), var(name))


def over(items: Items, body: exp.Expr) -> exp.Expr:
    return lam(body, items.var)


def first_error(items: Items) -> exp.Expr | None:
    """The first item's error, in order (NULL where none has one)."""
    error = items.item_error()
    if error is None:
        return None
    errors = exp.Transform(this=items.rows.v.copy(), expression=over(items, error))
    present = exp.ArrayFilter(this=errors, expression=lam(not_null(var("_e")), "_e"))
    return exp.Bracket(this=present, expressions=[exp.Literal.number(1)], offset=1,
                       safe=True)


def values(items: Items) -> exp.Expr:
    """The kept items' values, in order, as an ARRAY."""
    rows: exp.Expr = items.rows.v.copy()
    if items.kept is not None:
        rows = exp.ArrayFilter(this=rows, expression=over(items, items.keep()))
    if isinstance(items.value, exp.Column) and items.value.name == items.var:
        return rows
    return exp.Transform(this=rows, expression=over(items, items.value.copy()))


def fold(items: Items, state: Sequence[tuple[str, exp.Expr, exp.DataType]],
         step: Sequence[exp.Expr]) -> exp.Expr:
    """The items folded in order into a STRUCT `state` (name, initial value, type), each
    item computing the state's fields anew (`step`, over `_acc` and the item)."""
    initial = struct(*((name, to(value, type_)) for name, value, type_ in state))
    after = struct(*((name, to(value, type_)) for (name, _, type_), value in zip(state, step)))
    return exp.Reduce(this=items.rows.v.copy(), initial=initial,
                      merge=lam(after, "_acc", items.var))


def acc(name: str) -> exp.Expr:
    return field(var("_acc"), name)


TEXT = exp.DataType.build("TEXT")
BOOLEAN = exp.DataType.build("BOOLEAN")


def aggregate(t: Translating, kind: str, items: Items, result: T.Type | None, e: ir.Expr,
              frame: Frame, before: Sequence[Val]) -> Val:
    """One value from a list's items (`kind`: one of ir.AGGREGATE_KINDS); `before`: the
    values computed before the items (the list's own error comes first)."""
    if kind in ("all", "any", "none"):
        return _decide(t, kind, items, e, before)
    if kind == "count":
        count = exp.ArraySize(this=values(items) if items.kept is not None
                              else items.rows.v.copy())
        return t.put(exp.Cast(this=count, to=exp.DataType.build("BIGINT")),
                     coalesce(*(b.e for b in before), first_error(items)), items.rows, *before)
    if kind == "first":
        return _first(t, items, result, before)
    if kind == "total":
        return _total(t, items, result, e, frame, before)
    pick = exp.ArrayMin if kind in ("earliest", "least") else exp.ArrayMax
    return t.put(pick(this=values(items)), coalesce(*(b.e for b in before),
                                                   first_error(items)),
                 items.rows, *before, note=t.note(e))


def _first(t: Translating, items: Items, result: T.Type | None, before: Sequence[Val]) -> Val:
    """`first of`: the first kept item's value (no value where none is kept); the errors
    of the `when`s up to it, and its own."""
    done = exp.or_(acc("d"), not_null(acc("e")))
    taken = items.keep()
    if items.kept_error is not None:
        taken = exp.and_(is_null(items.kept_error.copy()), taken)
    errors: list[tuple[exp.Expr, exp.Expr]] = [(done.copy(), acc("e"))]
    if items.kept_error is not None:
        errors.append((not_null(items.kept_error.copy()), items.kept_error.copy()))
    errors.append((taken.copy(), items.error.copy() if items.error is not None
                   else exp.Null()))
    state = [("d", exp.false(), BOOLEAN),
             ("v", exp.Null(), data_type(t.i, (result or T.ERROR).required())),
             ("e", exp.Null(), TEXT)]
    step = [case((done, acc("d")), (taken, exp.true()), default=exp.false()),
            case((done.copy(), acc("v")), (taken.copy(), items.value.copy())),
            case(*errors)]
    folded = t.put(fold(items, state, step), None, items.rows, *before)
    error = coalesce(*(b.e for b in before), field(folded.v, "e"))
    return t.put(case((is_null(field(folded.v, "e")), field(folded.v, "v"))), error, folded,
                 *before)


def _total(t: Translating, items: Items, result: T.Type | None, e: ir.Expr, frame: Frame,
           before: Sequence[Val]) -> Val:
    """`sum of`: the kept items' values added in order (an item with no value adds
    nothing), each sum within the SQL type's range or an error of the row."""
    decimal = (result or T.ERROR).kind in T.DECIMALS
    kind = exp.DataType.build(DECIMAL_SQL if decimal else "BIGINT")
    limit = float(DECIMAL_LIMIT) / 10 if decimal else float(INTEGER_LIMIT) / 10
    item_error = items.item_error()
    adds = exp.and_(items.keep(), not_null(items.value.copy()),
                    is_null(item_error.copy()) if item_error is not None else exp.true())
    estimate = exp.Add(this=exp.Cast(this=acc("t"), to=exp.DataType.build("DOUBLE")),
                       expression=exp.Cast(this=items.value.copy(),
                                           to=exp.DataType.build("DOUBLE")))
    within = exp.LT(this=exp.Abs(this=estimate), expression=exp.Literal.number(limit))
    overflow = t.error("ClauseRuntimeError", "the result is out of the range of the SQL "
                       "backend", e.span, frame)
    stopped = not_null(acc("e"))
    state = [("t", exp.Literal.number(0), kind), ("e", exp.Null(), TEXT)]
    step = [case((exp.and_(exp.Not(this=stopped), adds, within),
                  exp.Add(this=to(acc("t"), kind), expression=to(items.value.copy(), kind))),
                 default=acc("t")),
            case((stopped, acc("e")),
                 *(((not_null(item_error.copy()), item_error.copy()),)
                   if item_error is not None else ()),
                 (exp.and_(adds, exp.Not(this=within)), overflow))]
    folded = t.put(fold(items, state, step), None, items.rows, *before)
    error = coalesce(*(b.e for b in before), field(folded.v, "e"))
    return t.put(case((is_null(field(folded.v, "e")), field(folded.v, "t"))), error, folded,
                 *before, note=t.note(e))


def _decide(t: Translating, kind: str, items: Items, e: ir.Expr, before: Sequence[Val]) -> Val:
    """all of / any of / none of, in the module's three-valued way: the first item whose
    truth decides the answer decides it, even after one left unknown by a missing fact or
    value; another error stops at once; an item its `when` leaves out counts as true for
    `all of` and false for the others."""
    decisive: exp.Expr = exp.false() if kind == "all" else exp.true()
    error = items.item_error()
    value: exp.Expr = items.value.copy()
    if items.kept is not None:
        value = case((items.kept.copy(), value), default=exp.Not(this=decisive.copy()))
    value = exp.Coalesce(this=value, expressions=[exp.false()])
    done = exp.or_(acc("d"), not_null(acc("e")))
    clean = is_null(error.copy()) if error is not None else exp.true()
    state = [("d", exp.false(), BOOLEAN), ("u", exp.Null(), TEXT), ("e", exp.Null(), TEXT)]
    if error is not None:
        step = [case((done, acc("d")), (exp.and_(clean, exp.EQ(this=value, expression=decisive)),
                                        exp.true()), default=exp.false()),
                case((done, acc("u")), (exp.and_(not_null(error.copy()), unknown(error.copy())),
                                        exp.Coalesce(this=acc("u"),
                                                     expressions=[error.copy()])),
                     default=acc("u")),
                case((done, acc("e")), (exp.and_(not_null(error.copy()),
                                                 exp.Not(this=unknown(error.copy()))),
                                        error.copy()))]
    else:
        step = [exp.or_(acc("d"), exp.EQ(this=value, expression=decisive)), acc("u"), acc("e")]
    folded = t.put(fold(items, state, step), None, items.rows, *before)
    decided = field(folded.v, "d")
    own = coalesce(field(folded.v, "e"), case((exp.Not(this=decided.copy()),
                                              field(folded.v, "u"))))
    answer = case((decided, decisive.copy()), default=exp.Not(this=decisive.copy()))
    if kind == "none":
        answer = exp.Not(this=answer)
    errors = coalesce(*(b.e for b in before), own)
    return t.put(case((is_null(errors), answer)) if errors is not None else answer, errors,
                 folded, *before, note=t.note(e))


# ------------------------------------------------------------ the constructs


def for_each(t: Translating, e: ir.ForEach, frame: Frame) -> Val:
    need_lambdas(t, e)
    source = t.expr(e.source, frame)
    items = items_of(t, source, e.variable, e.body, e.when, frame, False,
                     (e.type or T.ERROR).element)
    return t.put(values(items), coalesce(source.e, first_error(items)), items.rows, source,
                 note=t.note(e))


def aggregate_of(t: Translating, e: ir.Aggregate, frame: Frame) -> Val:
    need_lambdas(t, e)
    source = e.source
    if isinstance(source, ir.ForEach):
        listed = t.expr(source.source, frame)
        # Only a sum needs every item to have a value (as the module's loops).
        strict = e.kind in ("total", "all", "any", "none")
        target = e.type if e.kind not in ("all", "any", "none", "count") else None
        items = items_of(t, listed, source.variable, source.body, source.when, frame,
                         strict, target)
        return aggregate(t, e.kind, items, e.type, e, frame, [listed])
    listed = t.expr(source, frame)
    items = plain_items(t, listed)
    if e.kind in ("all", "any", "none"):
        # `all of xs` over a list of truths: Python's all() and any(), no value false.
        return _decide(t, e.kind, items, e, [listed])
    return aggregate(t, e.kind, items, e.type, e, frame, [listed])


def list_of(t: Translating, e: ir.ListOf, frame: Frame) -> Val:
    need_lambdas(t, e)
    element = (e.type or T.ERROR).element
    listed = [t.coerce(t.expr(item, frame, strict=False), item.type, element)
              for item in e.items]
    array: exp.Expr = exp.Array(expressions=[x.v for x in listed])
    return t.put(to(array, data_type(t.i, (e.type or T.ERROR).required())),
                 coalesce(*(x.e for x in listed)), *listed)


def table(t: Translating, decl: ir.Table) -> Val:
    """A table written in the contract: its rows, each a STRUCT of its cells."""
    frame = Frame(t.i.label_of(decl))
    rows = []
    cells: list[Val] = []
    for row in decl.rows:
        values_ = [t.coerce(t.expr(cell, frame), cell.type, column.type)
                   for column, cell in zip(decl.columns, row.cells)]
        cells += values_
        rows.append(struct(*((column.name, to(value.v, data_type(t.i, column.type)))
                             for column, value in zip(decl.columns, values_))))
    array = to(exp.Array(expressions=rows), data_type(t.i, T.list_of(T.record(decl.name))))
    return t.put(array, coalesce(*(c.e for c in cells)), *cells)


def record_field(t: Translating, e: ir.Field, frame: Frame, lift: bool) -> Val:
    record = t.expr(e.operand, frame, strict=not lift, lift=lift)
    return t.put(field(record.v, e.field), record.e, record)


def each(t: Translating, e: ir.Each, listed: Val, frame: Frame) -> Val:
    """An aggregate over a range of periods: as over a list of the periods (`listed`,
    an array, periods.period_range's)."""
    need_lambdas(t, e)
    r = e.range
    # "the earliest of ...": a period's item with no value is skipped, as in a list; a
    # sum and a condition need every one.
    strict = e.kind in ("total", "all", "any", "none")
    target = e.type if e.kind not in ("all", "any", "none") else None
    items = items_of(t, listed, r.variable, e.body, e.when, frame, strict, target,
                     lift=not strict)
    return aggregate(t, e.kind, items, e.type, e, frame, [listed])


def allocate(t: Translating, e: ir.Allocate, frame: Frame) -> Val:
    """`allocate A in order [caps]`: A applied to the items in order, each taking up to
    its cap, as a list of shares (item, amount); exact, as the module's waterfall."""
    need_lambdas(t, e)
    if e.method != "in_order":
        # The module shares in units of the amount's last digit (whole cents, or finer
        # where the amount was computed with more digits): SQL's DECIMAL keeps the value,
        # not the digits it was computed with, so the shares could differ by a unit.
        raise UntranslatableError("allocations pro rata (their unit is the last digit the "
                                  "amount was computed with, which SQL does not keep)",
                                  e.span)
    amount = t.coerce(t.expr(e.amount, frame), e.amount.type, T.DECIMAL)
    source = e.source
    if isinstance(source, ir.ForEach):
        listed = t.expr(source.source, frame)
        items = items_of(t, listed, source.variable, source.body, source.when, frame, True,
                         T.DECIMAL)
    else:
        listed = t.expr(source, frame)
        items = plain_items(t, listed)
    share = data_type(t.i, (e.type or T.ERROR).element or T.ERROR)
    money = exp.DataType.build(DECIMAL_SQL)
    cap = to(items.value.copy(), money)
    take = exp.Least(this=cap, expressions=[acc("left")], ignore_nulls=True)
    state = [("left", amount.v, money),
             ("shares", exp.Array(expressions=[]), exp.DataType(
                 this=exp.DataType.Type.ARRAY, expressions=[share], nested=True))]
    taken = exp.ArrayConcat(this=acc("shares"), expressions=[exp.Array(expressions=[
        struct(("item", items.element.copy()), ("amount", take.copy()))])])
    step = [case((items.keep(), exp.Sub(this=acc("left"), expression=take.copy())),
                 default=acc("left")),
            case((items.keep(), taken), default=acc("shares"))]
    folded = t.put(fold(items, state, step), None, items.rows, amount, listed)
    negative_cap = exp.ArraySize(this=exp.ArrayFilter(this=items.rows.v.copy(), expression=over(
        items, exp.and_(items.keep(), exp.LT(this=items.value.copy(),
                                             expression=exp.Literal.number(0))))))
    own = case((exp.LT(this=amount.v.copy(), expression=exp.Literal.number(0)),
                t.error("ClauseRuntimeError", "the amount to apply in order is negative",
                        e.span, frame)),
               (exp.GT(this=negative_cap, expression=exp.Literal.number(0)),
                t.error("ClauseRuntimeError", "an item to apply the amount to takes a "
                        "negative amount", e.span, frame)))
    errors = coalesce(amount.e, listed.e, first_error(items), own)
    shares = field(folded.v, "shares")
    return t.put(case((is_null(errors), shares)) if errors is not None else shares, errors,
                 folded, amount, listed, note=t.note(e))
