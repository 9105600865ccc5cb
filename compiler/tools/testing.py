"""Scenario tests of clause files: find them, check them, run them.

A test lives in an agreement's (or an amendment's) file after its sections, or in a file
of tests that starts with `tests for AGREEMENT`. `discover` pairs every file of tests with
its agreement (among the paths given, or beside the file, as amendments are found);
`prepare` compiles the agreement with its amendments once and checks every test against
the version of the agreement in force at the test's `as of` date, so that a misspelt name
or a value of the wrong type is a diagnostic with a caret, not a failure at run time;
`run_test` evaluates the expectations in the compiled module and says, for each one that
fails, what was expected, what came out, and why (the explanation tree).

Used by `clausec test` (cli/test.py), by `clausec check` (`check_tests`), by the pytest
plugin and by coverage (coverage.py), which watches the explanations.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from clausec import api, ir
from clausec.diagnostics import Diagnostic, Diagnostics, did_you_mean
from clausec.front import parser, transform
from clausec.ir import types as T
from clausec.passes.check import CheckedProgram
from clausec.source import ReadError, SourceFile, read_text

# The errors a test may expect (`expect NAME raises ERROR`), most general last.
ERROR_NAMES = ("MissingFactError", "NoValueError", "ConflictError", "NotInForceError",
               "FactError", "ClauseRuntimeError", "ClauseError")


class TooDeepError(Exception):
    """A value whose evaluation needs more nested calls than Python's stack has room for."""


# A cheap look for test blocks, before parsing anything.
HAS_TESTS = re.compile(r'^\s*test\s+"', re.MULTILINE)
_TESTS_FOR = re.compile(r"^\s*tests\s+for\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)


# --------------------------------------------------------------------- discovery


@attrs.frozen
class Suite:
    """An agreement, its amendments, and the files that hold tests of it."""

    agreement: Path
    amendments: tuple[Path, ...]
    test_files: tuple[Path, ...]


@attrs.frozen
class Discovery:
    suites: list[Suite]
    # Files of tests whose agreement was not found: an error each.
    diagnostics: list[Diagnostic]
    sources: dict[str, SourceFile]


def _clause_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(sorted(path.rglob("*.clause")) if path.is_dir() else [path])
    return list(dict.fromkeys(files))


def _read_text(path: Path) -> str:
    try:
        return read_text(path)
    except ReadError:
        raise  # a device, a pipe or a huge file among the paths: say so, not "no tests"
    except OSError:
        return ""


def tests_for(path: Path) -> str | None:
    """The agreement a file of tests is for, or None when it is no file of tests. Read as
    `api.group` reads headers, so that every file is either grouped or a file of tests."""
    kind, name, _ = api.peek(path)
    return name if kind == "tests" else None


def discover(paths: Iterable[str | Path]) -> Discovery:
    """The suites of tests among files and folders."""
    files = _clause_files(paths)
    test_files = [f for f in files if tests_for(f) is not None]
    groups = api.group([f for f in files if f not in test_files])
    by_name: dict[str, tuple[Path, list[Path]]] = {}
    for agreement, amendments in groups:
        by_name.setdefault(_agreement_name(agreement), (agreement, amendments))
    tests_of: dict[Path, list[Path]] = {agreement: [] for agreement, _ in groups}
    diagnostics: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {}
    for file in test_files:
        name = tests_for(file) or ""
        found = by_name.get(name) or _beside(file, name)
        if found is None:
            source = SourceFile.read(file)
            sources[source.name] = source
            match = _TESTS_FOR.search(source.text)
            assert match is not None
            line = source.text.count("\n", 0, match.start(1)) + 1
            column = match.start(1) - source.text.rfind("\n", 0, match.start(1))
            known = list(by_name) + [_agreement_name(p) for p in file.parent.glob("*.clause")]
            diagnostics.append(Diagnostic(
                "error", source.span(line, column, line, column + len(name)),
                f"no agreement '{name}' among the files given, nor beside this file",
                did_you_mean(name, [k for k in known if k and k != name]) or
                "name the agreement's file or folder too", "test"))
            continue
        by_name.setdefault(name, found)
        tests_of.setdefault(found[0], []).append(file)
    suites = []
    for agreement, amendments in by_name.values():
        own = [f for f in [agreement, *amendments] if HAS_TESTS.search(_read_text(f))]
        held = own + tests_of.get(agreement, [])
        if held:
            suites.append(Suite(agreement, tuple(amendments), tuple(dict.fromkeys(held))))
    return Discovery(suites, diagnostics, sources)


def _agreement_name(path: Path) -> str:
    match = re.search(r"^\s*agreement\s+([A-Za-z_][A-Za-z0-9_]*)", _read_text(path),
                      re.MULTILINE)
    return match.group(1) if match else ""


def _beside(file: Path, name: str) -> tuple[Path, list[Path]] | None:
    """The agreement `name` in the folder of `file`, with the amendments beside it."""
    siblings = [f for f in sorted(file.parent.glob("*.clause")) if tests_for(f) is None]
    for agreement, amendments in api.group(siblings):
        if _agreement_name(agreement) == name:
            return agreement, amendments
    return None


# ------------------------------------------------------------------- preparing


@attrs.frozen
class Located:
    """A test and the file it is in."""

    file: str
    test: ir.ScenarioTest


@attrs.define
class Prepared:
    """An agreement compiled once, with its tests checked against it."""

    suite: Suite
    result: api.Result | None
    sources: dict[str, SourceFile]
    diagnostics: list[Diagnostic]
    tests: list[Located]
    module: types.ModuleType | None = None
    sql: Any = None  # the SQL backend's answers (backends/sql/scenarios.py), made once

    @property
    def ok(self) -> bool:
        return self.module is not None and not any(d.severity == "error"
                                                   for d in self.diagnostics)

    @property
    def name(self) -> str:
        return self.result.source.name if self.result else str(self.suite.agreement)


def prepare(suite: Suite, result: api.Result | None = None, *, load: bool = True,
            module: types.ModuleType | None = None) -> Prepared:
    """Analyse the agreement (unless `result` already is its analysis), read and check the
    tests, and (with `load`, when everything checks) import the compiled module (unless
    `module` already is the one compiled from `result`)."""
    if result is None:
        result = api.analyse(SourceFile.read(suite.agreement),
                             [SourceFile.read(a) for a in suite.amendments])
    sources = dict(result.sources)
    diagnostics = Diagnostics()
    located: list[Located] = []
    for file in suite.test_files:
        source = sources.get(str(file))
        own_file = source is not None  # the agreement's or an amendment's: analysed already
        if source is None:
            source = sources[str(file)] = SourceFile.read(file)
        scratch = Diagnostics()
        program = transform.build(source.name, parser.parse(source, scratch), scratch)
        if not own_file:
            diagnostics.items.extend(scratch.items)
        located.extend(Located(source.name, t) for t in program.tests)
    if result.versions is not None:
        checker = _TestChecker(result.versions, diagnostics)
        for item in located:
            checker.check(item.test)
    prepared = Prepared(suite, result, sources,
                        [*result.diagnostics, *diagnostics.sorted()], located)
    if load and result.versions is not None and not diagnostics.has_errors:
        prepared.module = module or api.module_from_source(api.generate(result),
                                                           result.source.name)
    return prepared


def check_tests(paths: Sequence[str | Path], analysed: Sequence[api.Result] = ()
                ) -> tuple[list[Diagnostic], dict[str, SourceFile]]:
    """The diagnostics of the tests among `paths` (for `clausec check`): only those of the
    tests themselves and of files of tests, since `analysed` (the agreements already
    analysed, reused here) reports its own."""
    found = discover(paths)
    diagnostics = list(found.diagnostics)
    sources = dict(found.sources)
    by_file = {r.source.name: r for r in analysed}
    for suite in found.suites:
        known = by_file.get(str(suite.agreement))
        prepared = prepare(suite, known, load=False)
        own = set(prepared.result.diagnostics) if prepared.result else set()
        if known is None and prepared.result is not None:
            own = set()  # an agreement found beside a file of tests: report it too
        diagnostics.extend(d for d in prepared.diagnostics if d not in own)
        sources.update(prepared.sources)
    return diagnostics, sources


# -------------------------------------------------------------------- checking


# The fields of a compiled Obligation and Power that a test may look at.
OBLIGATION_FIELDS = ("obligor", "action", "object", "beneficiary", "due", "active", "section")
POWER_FIELDS = ("holders", "action", "available", "section")


def version_index(versions: Sequence[tuple[Any, Any]], as_of: date | None) -> int:
    """Which version is in force on `as_of` (the latest when None), as `module.at` picks."""
    if as_of is None:
        return len(versions) - 1
    chosen = 0
    for i, (version, _) in enumerate(versions):
        if version is not None and version.effective is not None and version.effective <= as_of:
            chosen = i
    return chosen


def describe_version(versions: Sequence[tuple[Any, Any]], index: int) -> str:
    """"the agreement as amended on March 31, 2004", "the agreement as originally signed"."""
    version = versions[index][0]
    if version is None or len(versions) == 1:
        return "the agreement"
    if version.effective is None:
        return "the agreement as originally signed"
    return f"the agreement {version.label}"


# The type of a name in a test that is not a party: a member of some choice (which one,
# the fact or term it is compared with says).
MEMBER = T.Type("choice")


def constant(expr: ir.Expr | ir.GivenRecord | ir.GivenRecords, header: ir.Header
             ) -> tuple[object, T.Type] | tuple[None, str]:
    """The value and type of a value written in a test, or (None, why it is no value)."""
    if isinstance(expr, ir.GivenRecords):
        return [constant(r, header)[0] for r in expr.items], T.list_of(T.Type("record"))
    if isinstance(expr, ir.GivenRecord):
        return {name: constant(value, header)[0] for name, value in expr.fields}, \
            T.Type("record")
    if isinstance(expr, ir.ListOf):
        items = [constant(i, header) for i in expr.items]
        for value, why in items:
            if not isinstance(why, T.Type):
                return None, why
        element = None
        for _, type_ in items:
            assert isinstance(type_, T.Type)
            element = type_ if element is None else (T.join(element, type_) or element)
        return tuple(v for v, _ in items), T.list_of(element or T.NOTHING)
    if isinstance(expr, ir.Literal):
        value, type_ = expr.value, expr.type or T.ERROR
        if isinstance(value, datetime) and value.tzinfo is None:
            zone = transform.known_zone(header.time_zone) if header.time_zone else None
            if zone is None:
                return None, ("this date and time has no time zone, and the agreement "
                              "declares none; add the zone (2011-06-14 17:00 America/New_York)")
            value = value.replace(tzinfo=zone)
        return value, type_
    if isinstance(expr, ir.Negate):
        inner, inner_type = constant(expr.operand, header)
        if isinstance(inner_type, T.Type) and isinstance(inner, (int, Decimal)) \
                and not isinstance(inner, bool):
            return -inner, inner_type
        return None, "only a number or an amount can be negative"
    if isinstance(expr, ir.Duration) and isinstance(expr.amount, ir.Literal) \
            and isinstance(expr.amount.value, int) and not isinstance(expr.amount.value, bool):
        type_ = T.DURATION_TYPES[expr.unit]
        if expr.business:  # of the calendar it names, or the agreement's (as check.py has it)
            type_ = attrs.evolve(type_, calendar=expr.calendar or header.calendar)
        return expr.amount.value * expr.per_unit, type_
    if isinstance(expr, ir.Name):
        if expr.name in {p.name for p in header.parties}:
            return expr.name, T.PARTY
        return expr.name, MEMBER  # a member of a choice, if the fact's type has it
    return None, ("a test gives and expects plain values: true, 42, $900,000, 7.5%, "
                  "2004-03-31, 10 days, \"text\", a party's or a member's name, a list "
                  "[$1, $2] or records [{name: \"A\", amount: $5}]")


class _TestChecker:
    """Checks tests against the checked versions of their agreement."""

    def __init__(self, versions: api.CheckedVersions, diagnostics: Diagnostics):
        self.versions = versions
        self.d = diagnostics
        # Facts of every version: what the compiled `Facts` accepts.
        self.facts: dict[str, ir.Fact] = {}
        for _, checked in versions:
            for decl in checked.program.declarations:
                if isinstance(decl, ir.Fact):
                    self.facts.setdefault(decl.name, decl)
        self.fact_types = {name: checked.types[name] for _, checked in versions
                           for name in checked.types if name in self.facts}
        # The members of each choice and the fields of each record (and table row).
        self.members: dict[str, list[str]] = {}
        self.records: dict[str, dict[str, T.Type]] = {}
        for _, checked in versions:
            for decl in checked.program.declarations:
                if isinstance(decl, ir.Choice):
                    self.members[decl.name] = [m.name for m in decl.members]
                elif isinstance(decl, (ir.Record, ir.Table)):
                    self.records[decl.name] = {f.name: f.type for f in decl.fields}

    def check(self, test: ir.ScenarioTest) -> None:
        index = version_index(self.versions, test.as_of)
        checked = self.versions[index][1]
        header = checked.header
        given: dict[str, ir.GivenFact] = {}
        for fact in test.given:
            self._given(fact, header, given)
        for expectation in test.expectations:
            self._expectation(expectation, index, checked)

    def _given(self, fact: ir.GivenFact, header: ir.Header,
               seen: dict[str, ir.GivenFact]) -> None:
        key = fact.name if fact.key is None else f"{fact.name}[{constant(fact.key, header)[0]}]"
        if key in seen:
            self.d.error(fact.span, f"'{key}' is given twice in this test", code="test")
            return
        seen[key] = fact
        declared = self.facts.get(fact.name)
        if declared is not None and (fact.key is None) != (declared.per is None):
            if fact.key is None:
                self.d.error(fact.span, f"'{fact.name}' has a value per "
                             f"{ir.family_display(declared.per or '')}",
                             f"give one period at a time: {fact.name}[\"2009-Q1\"] = ... "
                             f"or {fact.name}[2009-03-31] = ...", code="test")
            else:
                self.d.error(fact.span, f"'{fact.name}' has one value, not one per period",
                             f"write {fact.name} = ...", code="test")
            return
        if fact.key is not None:
            _, key_type = constant(fact.key, header)
            if not isinstance(key_type, T.Type) or key_type.kind not in ("date", "text"):
                self.d.error(fact.key.span, "a period is named by a date inside it "
                             "(2009-03-31) or by its label (\"2009-Q1\")", code="test")
                return
        if declared is None:
            self.d.error(fact.span, f"'{fact.name}' is not a fact of the agreement",
                         did_you_mean(fact.name, self.facts) or
                         "a test gives facts (`fact` declarations), not terms", code="test")
            return
        _, type_ = constant(fact.value, header)
        if not isinstance(type_, T.Type):
            self.d.error(fact.value.span, type_, code="test")
            return
        want = self._resolve(self.fact_types.get(fact.name, declared.type), header)
        if self._data(fact.value, want, header):
            return
        if not T.assignable(type_, want.required()):
            self.d.error(fact.value.span, f"'{fact.name}' is {want.required()}, but this "
                         f"value is {type_}", _example(want), code="test")

    def _data(self, value: ir.Expr | ir.GivenRecord | ir.GivenRecords, want: T.Type,
              header: ir.Header) -> bool:
        """Check a member's name, a list or records a test gives against the fact's type;
        True if `value` is one of them (reported here if wrong)."""
        if isinstance(value, ir.Name) and value.name not in {p.name for p in header.parties}:
            members = self.members.get(want.name or "") if want.kind == "choice" else None
            if members is None:
                hint = did_you_mean(value.name, [p.name for p in header.parties])
                self.d.error(value.span, f"'{value.name}' is not a party of the agreement"
                             + (f"; {hint}" if hint else ""), code="test")
            elif value.name not in members:
                self.d.error(value.span, f"'{value.name}' is not a member of "
                             f"'{want.name}'", did_you_mean(value.name, members) or
                             "its members are " + ", ".join(members), code="test")
            return True
        if isinstance(value, ir.GivenRecords):
            if want.kind != "list" or (want.element or T.ERROR).kind != "record":
                self.d.error(value.span, f"records are given for a fact that is {want}",
                             _example(want), code="test")
                return True
            for record in value.items:
                self._data(record, want.element or T.ERROR, header)
            return True
        if isinstance(value, ir.GivenRecord):
            fields = self.records.get(want.name or "", {}) if want.kind == "record" else {}
            if not fields:
                self.d.error(value.span, f"a record is given for a fact that is {want}",
                             code="test")
                return True
            given = {name for name, _ in value.fields}
            for name, expr in value.fields:
                field = fields.get(name)
                if field is None:
                    self.d.error(expr.span, f"a {want} has no field '{name}'",
                                 did_you_mean(name, list(fields)), code="test")
                    continue
                _, type_ = constant(expr, header)
                if not isinstance(type_, T.Type):
                    self.d.error(expr.span, type_, code="test")
                elif not self._data(expr, field, header) and \
                        not T.assignable(type_, field.required()):
                    self.d.error(expr.span, f"'{name}' is {field}, but this value is "
                                 f"{type_}", _example(field), code="test")
            missing = [n for n in fields if n not in given]
            if missing:
                self.d.error(value.span, "this record has no " + ", ".join(
                    f"'{n}'" for n in missing), code="test")
            return True
        return False

    def _expectation(self, expectation: ir.Expectation, index: int,
                     checked: CheckedProgram) -> None:
        probe = expectation.probe
        version = self.versions[index][0]
        decl = checked.declarations.get(probe.name)
        when = describe_version(self.versions, index)
        if decl is None or isinstance(decl, ir.Exception_):
            absent = version.absent.get(probe.name) if version is not None else None
            if absent is not None:
                if expectation.error != "NotInForceError":
                    self.d.error(probe.span, f"'{probe.name}' is not in force in {when}: "
                                 f"{absent}", f"expect {probe.name} raises NotInForceError, "
                                 "or give the test another 'as of' date", code="test")
                return
            names = [n for n, d in checked.declarations.items()
                     if not isinstance(d, ir.Exception_)]
            self.d.error(probe.span, f"'{probe.name}' is not a term, condition, obligation, "
                         f"power or fact of {when}", did_you_mean(probe.name, names),
                         code="test")
            return
        result = self._probe_type(probe, decl, checked, expectation.error is not None)
        if expectation.error is not None:
            self._error_name(expectation, when)
            return
        if result is None or expectation.value is None:
            return
        _, type_ = constant(expectation.value, checked.header)
        if not isinstance(type_, T.Type):
            self.d.error(expectation.value.span, type_, code="test")
            return
        if self._data(expectation.value, result, checked.header):
            return
        if result.kind != "error" and not _comparable(type_, result):
            self.d.error(expectation.value.span, f"{probe.describe()} is "
                         f"{result.required()}, but the value expected is {type_}",
                         _example(result), code="test")

    def _error_name(self, expectation: ir.Expectation, when: str) -> None:
        error = expectation.error or ""
        if error not in ERROR_NAMES:
            self.d.error(expectation.span, f"'{error}' is not an error of a compiled "
                         "agreement", did_you_mean(error, ERROR_NAMES) or
                         "one of: " + ", ".join(ERROR_NAMES), code="test")
        elif error == "NotInForceError":
            self.d.error(expectation.span, f"'{expectation.probe.name}' is in force in "
                         f"{when}, so it cannot raise NotInForceError",
                         "give the test the date of a version without it ('as of')",
                         code="test")

    def _probe_type(self, probe: ir.Probe, decl: ir.Declaration,
                    checked: CheckedProgram, raises: bool) -> T.Type | None:
        """The type of what the probe looks at, or None after reporting why it is wrong."""
        params = parameters(decl)
        if len(probe.args) != len(params):
            wanted = ", ".join(p.name for p in params)
            self.d.error(probe.span, f"'{probe.name}' takes {len(params)} argument(s)"
                         + (f" ({wanted})" if wanted else "") + f", not {len(probe.args)}",
                         f"write {probe.name}({wanted})" if params else
                         f"write {probe.name}", code="test")
            return None
        ok = True
        for arg, param in zip(probe.args, params):
            _, type_ = constant(arg, checked.header)
            want = self._resolve(param.type, checked.header)
            if not isinstance(type_, T.Type):
                self.d.error(arg.span, type_, code="test")
                ok = False
            elif want.kind == "period":
                if type_.kind not in ("date", "text"):
                    self.d.error(arg.span, f"'{param.name}' of '{probe.name}' is a "
                                 f"{want}: name it by a date inside it (2009-03-31) or by "
                                 "its label (\"2009-Q1\")", code="test")
                    ok = False
            elif self._data(arg, want, checked.header):
                continue
            elif not T.assignable(type_, want.required()):
                self.d.error(arg.span, f"'{param.name}' of '{probe.name}' is {want}, not "
                             f"{type_}", _example(want), code="test")
                ok = False
        if not ok:
            return None
        if probe.field is None:
            if isinstance(decl, (ir.Obligation, ir.Power)) and not raises:
                obligation = isinstance(decl, ir.Obligation)
                fields = ("active", "due", "object") if obligation else ("available",)
                self.d.error(probe.span, f"'{probe.name}' is "
                             f"{'an obligation' if obligation else 'a power'}; a test "
                             "compares one of its fields",
                             "write " + " or ".join(f"{probe.name}.{f}" for f in fields),
                             code="test")
                return None
            return checked.types.get(probe.name, T.ERROR)
        fields_of = field_types(decl, checked.header)
        if fields_of is None:
            self.d.error(probe.span, f"'{probe.name}' is a value, not an obligation or a "
                         f"power: it has no field '{probe.field}'", f"write {probe.name}",
                         code="test")
            return None
        if probe.field not in fields_of:
            self.d.error(probe.span, f"'{probe.name}' has no field '{probe.field}'",
                         did_you_mean(probe.field, fields_of) or
                         "its fields: " + ", ".join(fields_of), code="test")
            return None
        return fields_of[probe.field]

    @staticmethod
    def _resolve(type_: T.Type, header: ir.Header) -> T.Type:
        if type_.kind == "money" and type_.currency is None:
            return attrs.evolve(type_, currency=header.currency)
        return type_


def parameters(decl: ir.Declaration) -> tuple[ir.Parameter, ...]:
    """What a probe of `decl` takes: a term's parameters, or the period of one instance of
    a recurring obligation or power."""
    if isinstance(decl, ir.Definition):
        return decl.params
    if isinstance(decl, (ir.Obligation, ir.Power)) and decl.recurrence is not None:
        r = decl.recurrence
        return (ir.Parameter(r.variable, T.period(r.family), r.span),)
    return ()


def field_types(decl: ir.Declaration, header: ir.Header) -> dict[str, T.Type] | None:
    """The type of each field a test may look at, for an obligation or a power."""
    if isinstance(decl, ir.Power):
        return {"holders": T.PARTY, "action": T.TEXT, "available": T.BOOL,
                "section": T.TEXT}
    if not isinstance(decl, ir.Obligation):
        return None
    duty = decl.duty
    due = T.DATE
    if duty.deadline is not None:
        base = duty.deadline.after if duty.deadline.kind == "within" else duty.deadline.expr
        if base is not None and base.type is not None:
            due = base.type
    object_ = duty.object.type if duty.object is not None and duty.object.type else T.TEXT
    if object_.kind == "money" and object_.currency is None:
        object_ = T.money(header.currency)
    performed = T.DATE
    if duty.performed is not None and duty.performed.type is not None:
        performed = duty.performed.type.required()
    return {"obligor": T.PARTY, "action": T.TEXT, "object": object_, "amount": object_,
            "beneficiary": T.PARTY, "due": due, "active": T.BOOL, "section": T.TEXT,
            "performed_on": performed, "cure_by": due}


def _comparable(value: T.Type, result: T.Type) -> bool:
    if value.kind in T.NUMERIC and result.kind in T.NUMERIC:
        # 7.5% or 0.075 for a percent; 2 for a decimal: numbers compare as numbers.
        return True
    if value.kind == result.kind == "list":
        return (value.element or T.NOTHING).kind == "nothing" or \
            _comparable(value.element or T.ERROR, result.element or T.ERROR)
    return value.required().same(result.required())


def _example(type_: T.Type) -> str | None:
    examples = {"bool": "true or false", "integer": "42", "decimal": "2.5",
                "money": "$900,000", "percent": "7.5%", "date": "2004-03-31",
                "datetime": "2011-06-14 5:00 PM America/New_York", "days": "10 days",
                "business_days": "2 business days", "months": "3 months or 1 year",
                "party": "a party's name",
                "text": '"text"'}
    example = examples.get(type_.kind)
    if type_.kind == "business_days" and type_.calendar:
        example = f"2 business days in {type_.calendar}"
    return f"write {type_.required()} like {example}" if example else None


# --------------------------------------------------------------------- running


@attrs.frozen
class Failure:
    """One expectation of a test that did not hold."""

    expectation: ir.Expectation
    file: str
    expected: str
    actual: str
    explanation: str | None = None


@attrs.frozen
class TestResult:
    test: ir.ScenarioTest
    file: str
    version: str  # "the agreement as amended on March 31, 2004"
    failures: tuple[Failure, ...]
    checked: int  # expectations evaluated

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def where(self) -> str:
        return f"{self.file}:{self.test.span.line}"


# Called with (version index, probe name, args, facts) for every expectation evaluated:
# coverage watches the explanations through it.
Observer = Callable[[int, str, tuple[object, ...], object], None]


def run_test(prepared: Prepared, located: Located, observer: Observer | None = None,
             backend: str = "python") -> TestResult:
    """Evaluate the expectations of one test in the compiled agreement; with `backend`
    "sql", each answered by the SQL backend in DuckDB instead (the facts still read by
    the compiled module's Facts)."""
    assert prepared.module is not None and prepared.result is not None
    module = prepared.module
    versions = prepared.result.versions
    assert versions is not None
    test = located.test
    index = version_index(versions, test.as_of)
    checked = versions[index][1]
    version = module.VERSIONS[index]
    if backend == "sql":
        from clausec.backends.sql.scenarios import SqlAgreement
        if prepared.sql is None:
            prepared.sql = SqlAgreement(prepared.result, module)
        version = prepared.sql.version(index)
    header = checked.header
    label = describe_version(versions, index)
    failures: list[Failure] = []
    try:
        facts: object = module.Facts.from_dict(given_facts(test, header))
        facts_error: Exception | None = None
    except module.ClauseError as error:
        facts, facts_error = None, error
    if facts is not None and any(v.upon is not None for v in module.VERSIONS):
        # An amendment effective upon an event is in force only if the facts say so.
        version = module.at(test.as_of or date.max, facts)
        index = list(module.VERSIONS).index(version)
        checked = versions[index][1]
        label = describe_version(versions, index)
    for expectation in test.expectations:
        failure = _expect(module, version, checked, expectation, facts, facts_error)
        if failure is not None:
            failures.append(attrs.evolve(failure, file=located.file))
        if observer is not None and facts is not None:
            args = tuple(constant(a, header)[0] for a in expectation.probe.args)
            observer(index, expectation.probe.name, args, facts)
    return TestResult(test, located.file, label, tuple(failures), len(test.expectations))


def given_facts(test: ir.ScenarioTest, header: ir.Header) -> dict[str, object]:
    """The facts a test gives, as `Facts.from_dict` takes them: a series as a mapping from
    the name of each period (a date inside it, or its label) to its value."""
    facts: dict[str, object] = {}
    for g in test.given:
        value = constant(g.value, header)[0]
        if g.key is None:
            facts[g.name] = value
            continue
        key = constant(g.key, header)[0]
        series = facts.setdefault(g.name, {})
        if isinstance(series, dict):
            series[key.isoformat() if isinstance(key, date) else str(key)] = value
    return facts


def _expect(module: Any, version: Any, checked: CheckedProgram,
            expectation: ir.Expectation, facts: object, facts_error: Exception | None
            ) -> Failure | None:
    probe = expectation.probe
    header = checked.header
    args = tuple(constant(a, header)[0] for a in probe.args)
    value: object = None
    error: Exception | None = facts_error
    if error is None:
        try:
            value = version.evaluate(probe.name, facts, *args)
            if probe.field is not None:
                value = getattr(value, probe.field)
        except module.ClauseError as raised:
            error = raised
        except RecursionError:
            # The compiled module calls each term of a chain inside the next: a failure of
            # this test, said in words, rather than a traceback of the whole run.
            error = TooDeepError(f"'{probe.name}' is defined through too long a chain of "
                                 "terms to evaluate here")
    kind, currency = _kind(probe, checked)
    if expectation.error is not None:
        return _expect_error(module, expectation, value, error, kind, currency, version,
                             facts, args)
    assert expectation.value is not None
    expected, _ = constant(expectation.value, header)
    shown = _format(module, expected, kind, currency, header)
    if error is not None:
        return Failure(expectation, "", shown, f"{type(error).__name__}: {error}",
                       _explain(version, probe.name, facts, args))
    if _equal(value, expected, kind, header):
        return None
    actual = "no value" if value is None else _format(module, value, kind, currency, header)
    return Failure(expectation, "", shown, actual, _explain(version, probe.name, facts, args))


def _expect_error(module: Any, expectation: ir.Expectation, value: object,
                  error: Exception | None, kind: str, currency: str, version: Any,
                  facts: object, args: tuple[object, ...]) -> Failure | None:
    wanted = expectation.error or ""
    if error is not None:
        if wanted in {cls.__name__ for cls in type(error).__mro__}:
            return None
        return Failure(expectation, "", wanted, f"{type(error).__name__}: {error}")
    if value is None and wanted == "NoValueError":
        return None  # the term has no value: the event it waits for has not happened
    shown = "no value" if value is None else _format(module, value, kind, currency, None)
    return Failure(expectation, "", wanted, f"no error; the value is {shown}",
                   _explain(version, expectation.probe.name, facts, args))


def _kind(probe: ir.Probe, checked: CheckedProgram) -> tuple[str, str]:
    """How to format the probed value: a runtime kind and a currency."""
    decl = checked.declarations.get(probe.name)
    type_: T.Type | None
    if probe.field is not None and decl is not None:
        type_ = (field_types(decl, checked.header) or {}).get(probe.field)
    else:
        type_ = checked.types.get(probe.name)
    if type_ is None or type_.kind == "error":
        return "text", checked.header.currency
    return type_.kind, type_.currency or checked.header.currency


def _format(module: Any, value: object, kind: str, currency: str,
            header: ir.Header | None) -> str:
    if isinstance(value, tuple) and kind != "list":  # the holders of a power
        return " or ".join(str(v) for v in value) or "no party"
    if kind == "party" and header is not None:
        return _party_display(str(value), header)
    if kind == "text" and isinstance(value, str):
        return json.dumps(value)
    try:
        return str(module.format_value(value, kind, currency))
    except ValueError:
        return str(value)


def _party_display(name: str, header: ir.Header) -> str:
    for party in header.parties:
        if party.name == name:
            return party.display
    return name


def _equal(actual: object, expected: object, kind: str, header: ir.Header) -> bool:
    """Whether a computed value is the expected one: numbers exactly ($90 is $90.00),
    parties by name or by role, a power's holders when the one holder is the party."""
    if actual is None:
        return False
    if kind == "bool" or isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, (int, Decimal)) and isinstance(actual, (int, Decimal)) \
            and not isinstance(actual, bool):
        return Decimal(actual) == Decimal(expected)
    if kind == "party":
        names = {str(expected), _party_display(str(expected), header)}
        if isinstance(actual, tuple):
            return len(actual) == 1 and actual[0] in names
        return actual in names
    if isinstance(expected, date) and not isinstance(expected, datetime):
        return isinstance(actual, date) and not isinstance(actual, datetime) \
            and actual == expected
    if isinstance(expected, tuple) and isinstance(actual, tuple):  # a list, item by item
        return len(actual) == len(expected) and all(
            _equal(a, e, "", header) for a, e in zip(actual, expected))
    return type(actual) is type(expected) and actual == expected


def _explain(version: Any, name: str, facts: object, args: tuple[object, ...]) -> str | None:
    if facts is None:
        return None
    try:
        return str(version.explain(name, facts, *args).render())
    except Exception:  # noqa: BLE001 - an explanation is a help; its failure is not the test's
        return None


# -------------------------------------------------------------------- reporting


def render_failure(result: TestResult) -> str:
    """A failed test: where, which version, each failing expectation, why."""
    lines = [f"FAILED {result.where}: {result.test.description}", f"  ({result.version})"]
    for failure in result.failures:
        span = failure.expectation.span
        lines.append(f"  {failure.file}:{span.line}:{span.column}: "
                     f"{_expectation_text(failure.expectation)}")
        lines.append(f"    expected: {failure.expected}")
        lines.append(f"    actual:   {failure.actual}")
        if failure.explanation:
            lines.append("    why:")
            lines.extend("      " + line for line in failure.explanation.splitlines())
    return "\n".join(lines)


def _expectation_text(expectation: ir.Expectation) -> str:
    probe = expectation.probe.describe()
    if expectation.error is not None:
        return f"expect {probe} raises {expectation.error}"
    value = expectation.value
    text = value.text if isinstance(value, ir.Literal) and value.text else "..."
    if isinstance(value, ir.Name):
        text = value.name
    elif isinstance(value, ir.Duration) and isinstance(value.amount, ir.Literal):
        text = f"{value.amount.text} {value.unit.replace('_', ' ')}"
    return f"expect {probe} = {text}"


def summary_line(results: Sequence[TestResult]) -> str:
    passed = sum(r.passed for r in results)
    return f"{passed} passed, {len(results) - passed} failed"


def to_dict(result: TestResult) -> dict[str, object]:
    return {
        "description": result.test.description, "file": result.file,
        "line": result.test.span.line, "version": result.version, "passed": result.passed,
        "failures": [{"line": f.expectation.span.line, "column": f.expectation.span.column,
                      "expectation": _expectation_text(f.expectation),
                      "expected": f.expected, "actual": f.actual,
                      "explanation": f.explanation} for f in result.failures],
    }
