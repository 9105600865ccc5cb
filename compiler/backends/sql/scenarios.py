"""Scenario tests through SQL (`clausec test --backend sql`): each expectation answered
by DuckDB over a table of one row, the test's facts, as the compiled module's version
would answer it (`evaluate(name, facts, *args)`), so that tools/testing.py compares and
reports alike. An answer's error is raised as the module's own error class."""

from __future__ import annotations

import types
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlglot import exp

from clausec.backends.python.codegen import py_name
from clausec.backends.sql.base import deep_enough
from clausec.backends.sql.plan import Plan, SqlError, compile_plan


class SqlAgreement:
    """An agreement's versions answered by DuckDB (one connection; the calendar tables
    registered once)."""

    def __init__(self, result: Any, module: types.ModuleType) -> None:
        import duckdb
        self.result = result
        self.module = module
        self.connection = duckdb.connect()
        self.connection.execute("SET TimeZone = 'UTC'")  # timestamps are UTC, as the plan's
        self.registered: set[str] = set()
        self.plans: dict[tuple[int, str, str], Plan] = {}

    def version(self, index: int) -> SqlVersion:
        return SqlVersion(self, index)


class SqlVersion:
    def __init__(self, agreement: SqlAgreement, index: int) -> None:
        self.agreement = agreement
        self.index = index

    @deep_enough
    def evaluate(self, name: str, facts: object, *args: object) -> object:
        agreement = self.agreement
        module = agreement.module
        versions = agreement.result.versions
        version = versions[self.index][0]
        # The version in force on its own effective date (the original: on any day before
        # the first amendment).
        as_of = version.effective if version is not None and self.index else date.min
        key = (self.index, name, repr(args))
        plan = agreement.plans.get(key)
        if plan is None:
            try:
                plan = compile_plan(agreement.result, [name], as_of=as_of, each_error=True,
                                    arguments={name: args} if args else None)
            except SqlError as error:
                raise _error(module, "ClauseError",
                             "; ".join(d.message for d in error.diagnostics)) from None
            agreement.plans[key] = plan
        row = self._run(plan, facts)
        fields: dict[str, object] = {}
        for output in plan.outputs:
            problem = row[f"{output.name} error"]
            if problem is not None:
                kind, _, message = str(problem).partition(": ")
                raise _error(module, kind, message)
            fields[output.name.rpartition(".")[2] if "." in output.name else ""] = \
                _value(row[output.name])
        if "" in fields:
            return fields[""]
        if "amount" in fields:
            fields["object"] = fields["amount"]
        # What an obligation or a power says of itself that no fact changes (who must act,
        # the action, the section), as the module describes it.
        try:
            described = module.VERSIONS[self.index].evaluate(name, facts, *args)
        except module.ClauseError:
            described = None
        return _Answer(fields, described)

    def _run(self, plan: Plan, facts: object) -> dict[str, object]:
        import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
        connection = self.agreement.connection
        for calendar in plan.calendars:
            if calendar.name not in self.agreement.registered:
                connection.register(calendar.name, pa.table(calendar.rows()))
                self.agreement.registered.add(calendar.name)
        # The facts as a table of one row, each value cast by DuckDB to its column's type
        # (lists of structs, series of (period, value), as the plan reads them).
        columns = [exp.alias_(exp.Cast(this=exp.Placeholder(),
                                       to=exp.DataType.build(c.sql_type, dialect="duckdb")),
                              c.name, quoted=True) for c in plan.facts]
        select = exp.select(*columns) if columns else exp.select(exp.alias_(
            exp.Literal.number(0), "_"))
        values = [_input(getattr(facts, py_name(c.name), None)) for c in plan.facts]
        connection.execute(f"CREATE OR REPLACE TEMP TABLE facts AS {select.sql('duckdb')}",
                           values)
        cursor = connection.execute(plan.sql(pretty=False))
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        return dict(zip(names, rows[0])) if rows else {}


class _Answer:
    """An obligation's or a power's fields: those the query computed, the others as the
    module describes them."""

    def __init__(self, fields: dict[str, object], described: object) -> None:
        self._fields = fields
        self._described = described

    def __getattr__(self, name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._fields:
            return self._fields[name]
        return getattr(self._described, name)


def _input(value: object) -> object:
    """A value of the module's Facts as DuckDB takes it: decimals at the query's places,
    dates and times in UTC, lists and records as lists and dicts, a series as its
    (period, value) pairs."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return value.quantize(Decimal(1).scaleb(-10))
    if isinstance(value, (list, tuple)):
        return [_input(v) for v in value]
    if isinstance(value, dict):
        return {k: _input(v) for k, v in value.items()}
    pairs = getattr(value, "values", None)
    if isinstance(pairs, tuple) and hasattr(value, "fact"):  # a series fact
        return [{"period": key, "value": _input(v)} for key, v in pairs]
    return value


def _value(value: object) -> object:
    """An answer as the module gives it: a date and time in UTC, aware."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _error(module: types.ModuleType, kind: str, message: str) -> Exception:
    """An error of the module's class `kind` (its base ClauseError where it has none by
    that name), carrying the SQL backend's message."""
    cls = getattr(module, kind, None)
    if not (isinstance(cls, type) and issubclass(cls, module.ClauseError)):
        cls = module.ClauseError
    error: Exception = Exception.__new__(cls)
    Exception.__init__(error, message)
    return error
