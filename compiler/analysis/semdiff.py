"""The semantic diff of two versions of an agreement: `clausec diff`.

Which results (terms, conditions, obligations, powers, invariants) an amendment changed,
and for each whether it still gives the same answers. A result is changed when its own
logic is (the checked IR compared structurally: positions, wording, item labels and the
sections a provision sits in do not count), when an exception to it was added, removed or
changed, or when a name it uses changed: dependencies are followed, so the Distribution
Date's users change with it.

Each changed result is decided, in this order:
- by z3 (smt.check_equivalent), where the logic is within its reach: proved equivalent,
  or a counterexample;
- otherwise by a bounded search (search.py, seeded, so a run is reproducible), whose
  facts are drawn around the constants of the logic involved (85% and 80% thresholds,
  the dates and day counts) as well as at random. A search that finds nothing proves
  nothing, and says so.

Every counterexample, z3's too, is confirmed by evaluating both compiled versions, then
minimised by search.py's rule (fewest facts given, simplest values) so that it reads
well, and shown with both values and both explanations.

Facts that a fact's `where` (its constraint) refuses are never a counterexample: z3
assumes the constraints, the search draws only values they allow, and an example that
either version's Facts class refuses for one is no difference.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

from clausec import api, ir
from clausec.analysis.search import (
    Allowed,
    Example,
    constants,
    fact_decls,
    find,
    inputs,
    minimise,
    uses,
)
from clausec.ir import types as T
from clausec.ir.visit import shape
from clausec.passes.check import CheckedProgram, union_of_facts
from clausec.passes.consolidate import Version, amendment_label

if TYPE_CHECKING:
    from clausec.backends.english.summaries import Verdict

DEFAULT_EXAMPLES = 2000  # examples of the bounded search, per result
DEFAULT_SEED = 0
DEFAULT_TIMEOUT_MS = 10_000  # z3, per result
RESULT_KINDS = ("definition", "condition", "obligation", "power", "invariant")

# ------------------------------------------------------------------ the report


@attrs.frozen
class Outcome:
    """What one version gives for a name on some facts: a value, or an error."""

    value: Any = None
    error: str = ""  # the error's class name ("MissingFactError"), "" for a value
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@attrs.frozen
class Shown:
    """One side of a counterexample, for people: the value and why."""

    value: str  # "true", "$900,000.00", "no value", "MissingFactError: ..."
    why: str  # the explanation in English sentences ("" for an error)
    tree: dict[str, Any] | None  # the explanation tree (Explanation.to_dict())
    short: str = ""  # for a table: "in effect, due March 31, 2004", "MissingFactError"


@attrs.frozen
class Counterexample:
    facts: dict[str, Any]  # as a facts file gives them (JSON values)
    facts_text: tuple[tuple[str, str], ...]  # (name, value as the summaries write it)
    args: tuple[Any, ...]
    args_text: tuple[str, ...]
    before: Shown
    after: Shown


@attrs.frozen
class Finding:
    """One name of the agreement that the change touched."""

    name: str
    kind: str  # definition, condition, obligation, power, invariant, fact
    term: str  # the provision's term as the contract spells it, or ""
    change: str  # "changed" (its own logic), "affected" (what it uses), "added", "removed"
    because: tuple[str, ...]  # why it counts as changed, in words
    section_before: str
    section_after: str
    verdict: str = ""  # "equivalent", "differs", "no difference found", "unknown", ""
    method: str = ""  # "z3", "search", ""
    examples: int = 0  # examples the search tried
    note: str = ""  # why z3 could not decide, when the search did
    # Facts on which the versions disagree; for a yes/no result, one per direction.
    counterexamples: tuple[Counterexample, ...] = ()
    seconds: float = attrs.field(default=0.0, eq=False)

    @property
    def summary(self) -> str:
        """The verdict in a few words: "equivalent (proved with z3)"."""
        if self.change in ("added", "removed"):
            return self.change
        if self.method == "rows":  # a table written in the clause files: its rows compared
            return "the same rows" if self.verdict == "equivalent" else \
                f"differs: {self.note}"
        if self.verdict == "equivalent":
            return "equivalent (proved with z3)"
        if self.verdict == "differs":
            how = "z3 counterexample" if self.method == "z3" else "found by search"
            return f"differs ({how}, confirmed)"
        if self.verdict == "no difference found":
            return (f"no difference found in {self.examples:,} examples "
                    f"(bounded search; not a proof)")
        return "not decided"


@attrs.frozen
class Reworded:
    """A change of the contract's words, as a redline: "…not to exceed [-$75,000,000-]
    {+$100,000,000+} to (b)…"."""

    section: str  # "Section 1.01", "Article VI"
    operation: str  # replace, delete, append, add, substitute, insert_text, insert
    description: str  # "Section 1.01 is amended by deleting “$75,000,000” and ..."
    redline: tuple[str, ...]  # a line per changed paragraph, unchanged words cut short


@attrs.frozen
class Comparison:
    """Two versions of an agreement, and what differs between them."""

    title: str
    before: str  # "as originally signed", "old.clause"
    after: str
    amendment: str  # the amendment's label, or "" for two files
    findings: tuple[Finding, ...]
    words: tuple[Reworded, ...] = ()  # what the words say differently

    def results(self) -> list[Finding]:
        return [f for f in self.findings if f.kind != "fact"]


# ------------------------------------------------------------ what changed


def _kind(decl: ir.Declaration) -> str:
    if isinstance(decl, ir.Definition):
        return "condition" if decl.is_condition else "definition"
    if isinstance(decl, ir.Fact):
        return "fact"
    if isinstance(decl, ir.Exception_):
        return "exception"
    return type(decl).__name__.lower()


def _logic(checked: CheckedProgram, name: str) -> object:
    """The logic of a name: its declaration and the exceptions to it (by what they say,
    not by their names)."""
    decl = checked.declarations[name]
    exceptions = sorted(repr(shape(attrs.evolve(e, name=""))) for e in
                         checked.exceptions.get(name, ()))
    if isinstance(decl, ir.Fact):
        return ("Fact", shape(decl.type), shape(decl.default))
    return (shape(decl), tuple(exceptions))


def _exception_notes(old: CheckedProgram, new: CheckedProgram, name: str) -> list[str]:
    before = {e.name: repr(shape(e)) for e in old.exceptions.get(name, ())}
    after = {e.name: repr(shape(e)) for e in new.exceptions.get(name, ())}
    notes = []
    for exception in sorted(set(before) | set(after)):
        if exception not in before:
            notes.append(f"exception {exception} added")
        elif exception not in after:
            notes.append(f"exception {exception} removed")
        elif before[exception] != after[exception]:
            notes.append(f"exception {exception} changed")
    return notes


def changes(old: CheckedProgram, new: CheckedProgram) -> list[Finding]:
    """The names whose logic differs between two versions, with why; undecided."""
    a, b = old.declarations, new.declarations
    touched: dict[str, list[str]] = {}
    for name in sorted(set(a) | set(b)):
        decl = b.get(name) or a[name]
        if isinstance(decl, ir.Exception_):
            continue  # part of the logic of the term it is an exception to
        if name not in a or name not in b:
            touched[name] = []
        elif _kind(a[name]) != _kind(b[name]) or _logic(old, name) != _logic(new, name):
            own = shape(a[name]) != shape(b[name]) or _kind(a[name]) != _kind(b[name])
            touched[name] = (["its own logic changed"] if own else []) + \
                _exception_notes(old, new, name)
    # A result whose logic is the same but which uses a changed name is changed too.
    common = [n for n in b if n in a and n not in touched
              and not isinstance(b[n], (ir.Exception_, ir.Fact))]
    grew = True
    while grew:
        grew = False
        for name in common:
            if name in touched:
                continue
            used = sorted((uses(old, name) | uses(new, name)) & set(touched))
            if used:
                touched[name] = [f"uses {', '.join(used)}, which changed"]
                grew = True
    findings = []
    for name, because in touched.items():
        decl = b.get(name) or a[name]
        change = "added" if name not in a else "removed" if name not in b else \
            "affected" if because and because[0].startswith("uses ") else "changed"
        findings.append(Finding(
            name, _kind(decl), getattr(decl, "term", None) or "", change, tuple(because),
            _section(old, name), _section(new, name)))
    return sorted(findings, key=_finding_order(old, new))


def _section(checked: CheckedProgram, name: str) -> str:
    decl = checked.declarations.get(name)
    if decl is None:
        return ""
    number = getattr(decl, "section", None)
    if number is None:
        return "the general provisions"
    section = checked.sections.get(number)
    return ir.cite(section.label if section is not None else number)


def _finding_order(old: CheckedProgram, new: CheckedProgram
                   ) -> Callable[[Finding], tuple[int, int, int, str]]:
    """Changed results first, in the agreement's order; then added, then removed."""
    rank = {"changed": 0, "affected": 0, "added": 1, "removed": 2}

    def position(checked: CheckedProgram, name: str) -> int:
        names = [d.name for d in checked.program.declarations]
        return names.index(name) if name in names else len(names)

    def key(f: Finding) -> tuple[int, int, int, str]:
        where = position(new, f.name) if f.change != "removed" else position(old, f.name)
        return (rank[f.change], f.kind == "fact", where, f.name)
    return key


# ------------------------------------------------------------------- sides


@attrs.frozen
class Side:
    """One version of an agreement: its checked IR and its compiled functions."""

    checked: CheckedProgram
    module: Any  # the compiled module
    version: Any  # the module's Version (evaluate, explain)
    label: str  # "as originally signed", "as amended on March 31, 2004", "draft.clause"

    def facts(self, data: Mapping[str, Any]) -> Any:
        known = self.module.FACT_TYPES
        return self.module.Facts.from_dict({k: v for k, v in data.items() if k in known})

    def outcome(self, name: str, data: Mapping[str, Any], args: Sequence[Any]) -> Outcome:
        try:
            return Outcome(self.version.evaluate(name, self.facts(data), *args))
        except self.module.ClauseError as error:
            return Outcome(None, type(error).__name__, str(error))
        except (ArithmeticError, ValueError) as error:  # a date past year 9999...
            return Outcome(None, type(error).__name__, str(error))

    def show(self, name: str, data: Mapping[str, Any], args: Sequence[Any],
             explain: bool = True) -> Shown:
        from clausec.backends.english import (
            summaries as summarize,  # jinja2: only when there is something to explain
        )

        outcome = self.outcome(name, data, args)
        if not outcome.ok:
            return Shown(f"{outcome.error}: {outcome.message}", "", None, outcome.error)
        short = self.short(name, outcome.value)
        if not explain:
            return Shown(self.text(name, outcome.value), "", None, short)
        tree = self.version.explain(name, self.facts(data), *args)
        why = summarize.render_explanation(self.checked, self.label, name, tree,
                                           outcome.value)
        return Shown(self.text(name, outcome.value), why.strip(), tree.to_dict(), short)

    def short(self, name: str, value: Any) -> str:
        """An obligation as in effect or not (and when due), a power as available or not;
        any other value as `text` gives it."""
        if isinstance(value, self.module.Obligation):
            if not value.active:
                return "not in effect"
            due = f", due {self.module.format_value(value.due, 'date')}" \
                if type(value.due) is date else ""
            return "in effect" + due
        if isinstance(value, self.module.Power):
            return "available" if value.available else "not available"
        return self.text(name, value)

    def text(self, name: str, value: Any) -> str:
        if value is None:
            return "no value"
        if isinstance(value, (self.module.Obligation, self.module.Power)):
            shown = str(replace(value, section=None))
            return shown
        kind = self.checked.types.get(name)
        currency = self.checked.header.currency
        if kind is None or kind.kind not in T.SPELLING or kind.kind == "error":
            return str(value)
        return str(self.module.format_value(value, kind.kind, currency))


def _comparable(value: Any) -> Any:
    """What of a value counts: an obligation's who, what, to whom, when and whether in
    effect (not its name or section); of an obligation in effect in neither version,
    nothing (nothing is owed either way)."""
    kind = type(value).__name__
    if kind == "Obligation" and hasattr(value, "obligor"):
        if not value.active:
            return ("Obligation", False)
        return ("Obligation", True, value.obligor, value.action, value.object,
                value.beneficiary, value.due, value.deadline)
    if kind == "Power" and hasattr(value, "holders"):
        return ("Power", value.holders, value.action, value.available, value.joint,
                tuple(_comparable(c) for c in value.consequences) if value.available
                else ())
    return value


def _differ(a: Outcome, b: Outcome) -> bool:
    if a.ok and b.ok:
        return bool(_comparable(a.value) != _comparable(b.value))
    return (a.error, a.ok and _comparable(a.value)) != (b.error, b.ok and
                                                        _comparable(b.value))


# ------------------------------------------------------------------ deciding


@attrs.frozen
class Options:
    examples: int = DEFAULT_EXAMPLES
    seed: int = DEFAULT_SEED
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    use_z3: bool = True
    # Summaries need the verdicts and the facts of one counterexample, not the
    # explanations nor the other direction of a yes/no result.
    explain: bool = True
    both_directions: bool = True


Accept = Callable[[Outcome, Outcome], bool]


def _values_differ(a: Outcome, b: Outcome) -> bool:
    """The kind of difference that reads best: both versions give a value."""
    return a.ok and b.ok and _differ(a, b)


class _Probe:
    """Evaluates a name in both versions on facts (and arguments), counting the
    examples."""

    def __init__(self, before: Side, after: Side, name: str):
        self.before, self.after, self.name = before, after, name
        self.count = 0
        # Facts a fact's `where` refuses (in either version's Facts class) are not a
        # case: no counterexample breaks a constraint.
        modules = [before.module] + ([after.module] if after.module is not before.module
                                     else [])
        self.allowed = Allowed(modules, [before.checked, after.checked])
        self.notes: list[str] = []  # what the search could not draw (search.find)
        self.fill = _fill(modules, [before.checked, after.checked])

    def complete(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The facts, with the simplest (allowed) value of each fact a Facts class
        requires that they leave out: the search draws only the facts the name depends
        on, and a required list of lenders the name does not use is still needed."""
        return {**self.fill, **data}

    def pair(self, example: Example) -> tuple[Outcome, Outcome]:
        self.count += 1
        data, args = example
        if not self.allowed.facts(data):
            refused = Outcome(None, "FactError", "a fact's `where` refuses its value")
            return refused, refused
        data = self.complete(data)
        return (self.before.outcome(self.name, data, args),
                self.after.outcome(self.name, data, args))

    def accepts(self, accept: Accept) -> Callable[[Example], bool]:
        return lambda example: accept(*self.pair(example))


def _fill(modules: Sequence[Any], programs: Sequence[CheckedProgram]) -> dict[str, Any]:
    """The simplest (allowed) value of each fact without default that a module's Facts
    class requires, where one of the programs declares it (smt.complete)."""
    decls: dict[str, ir.Fact] = {}
    for checked in programs:
        decls.update((d.name, d) for d in checked.program.declarations
                     if isinstance(d, ir.Fact))
    required = {name: attrs.evolve(decls[name], type=decls[name].type.required())
                for module in modules for name, kind in module.FACT_TYPES.items()
                if not kind.endswith("(optional)") and name in decls
                and decls[name].default is None}
    if not required:
        return {}
    try:
        from clausec.backends import smt
    except ImportError:  # z3 is a dependency; a broken install still diffs
        return {}
    return smt.complete({}, required, programs[-1].header, programs[-1])


def decide(before: Side, after: Side, finding: Finding, options: Options) -> Finding:
    """The verdict on one changed result: z3 where it reaches, else the search; a
    difference is confirmed on the compiled module, minimised, and for a yes/no result
    looked for in the other direction too (what now holds, and what no longer does)."""
    start = time.perf_counter()
    probe = _Probe(before, after, finding.name)
    note, method, examples = "", "z3", 0
    found: Example | None = None
    exact = False  # whether z3 reached all of the logic
    verdict, model = "", None
    if options.use_z3:
        verdict, model, note = _z3(before, after, finding.name, options.timeout_ms)
        if verdict == "equivalent":
            return attrs.evolve(finding, verdict="equivalent", method="z3",
                                seconds=time.perf_counter() - start)
        exact = verdict == "differs"
    # Where z3 gave no answer in time, the translation was whole: the candidates below
    # would ask it the same question again.
    asks_z3 = options.use_z3 and verdict != "unknown"
    if verdict == "unknown":
        method, note = "search", f"z3 could not decide ({note})"
    elif options.use_z3:
        # A model where both versions give a value reads better than one where a version
        # raises; out of reach, z3 with the parts it cannot decide left free may still
        # point at a difference. The compiled module confirms either (or not).
        candidates: list[Callable[[], Example | None]] = [lambda: _z3_model(before, after, finding.name, options.timeout_ms,
                                        abstract=not exact, values=True),
                      lambda: model if exact else _z3_model(
                          before, after, finding.name, options.timeout_ms, abstract=True)]
        for candidate in candidates:
            example = candidate()
            if example is not None and _differ(*probe.pair(example)):
                found = example
                break
        if found is None and exact:
            note = "z3's counterexample did not hold in the compiled module"
        elif not exact:
            # Out of reach, a confirmed candidate is the search's finding, not a proof's.
            method = "search"
            note = f"out of reach ({note})" + (
                "; the facts are z3's, with that part left free, confirmed by evaluation"
                if found is not None else "")
    else:
        note = "not used (--no-z3)"
    if found is None:
        method = "search"
        tried = probe.count
        found = search(probe, options, _values_differ, fallback=_differ)
        examples = probe.count - tried
    elif not _values_differ(*probe.pair(found)):
        better = search(probe, options, _values_differ, targeted_only=True)
        found = better or found
    if found is None:
        note = "; ".join(x for x in (note, *dict.fromkeys(probe.notes)) if x)
        return attrs.evolve(finding, verdict="no difference found", method="search",
                            examples=examples, note=note,
                            seconds=time.perf_counter() - start)
    found_examples = [_shown(probe, found, options)]
    a, b = probe.pair(found)
    if options.both_directions and a.ok and b.ok and isinstance(a.value, bool) \
            and isinstance(b.value, bool):
        # The other direction: by z3, else around the constants only (it may not exist,
        # and a full search for nothing costs more than it tells).
        def reverse(x: Outcome, y: Outcome) -> bool:
            return x.ok and y.ok and x.value is b.value and y.value is a.value

        other = _z3_model(before, after, finding.name, options.timeout_ms,
                          abstract=not exact, values=True, direction=(b.value, a.value)) \
            if asks_z3 else None
        if other is None or not reverse(*probe.pair(other)):
            other = search(probe, options, reverse, targeted_only=True)
        if other is not None:
            found_examples.append(_shown(probe, other, options))
    return attrs.evolve(finding, verdict="differs", method=method,
                        examples=examples if method == "search" else 0,
                        note=note if method == "search" else "",
                        counterexamples=tuple(found_examples),
                        seconds=time.perf_counter() - start)


def _shown(probe: _Probe, example: Example, options: Options) -> Counterexample:
    """An example, minimised as the kind of difference it is, and shown."""
    a, b = probe.pair(example)
    first: tuple[Any, Any] = (a.value, b.value)

    def same_direction(x: Outcome, y: Outcome) -> bool:
        return x.ok and y.ok and (x.value, y.value) == first

    keep: Accept = _differ
    if a.ok and b.ok:
        keep = same_direction if isinstance(a.value, bool) else _values_differ
    programs = [probe.before.checked, probe.after.checked]
    kinds = {i.name: i.kind for i in inputs(programs, probe.name)}
    data, args = minimise(probe.accepts(keep), example, kinds, constants(programs, probe.name))
    # As a facts file gives them: with the required facts the name does not depend on.
    kinds = {name: fact.type.kind for name, fact in fact_decls(programs).items()} | kinds
    return _counterexample(probe.before, probe.after, probe.name, probe.complete(data), args,
                           kinds, options.explain)


def _z3(before: Side, after: Side, name: str, timeout_ms: int
        ) -> tuple[str, Example | None, str]:
    """("equivalent" | "differs" | "unknown" | "", the counterexample's facts and
    arguments, why not decided: "unknown" where z3 gave no answer, "" where the logic is
    out of its reach)."""
    try:
        from clausec.backends import smt
    except ImportError as error:  # z3 is a dependency; a broken install still diffs
        return "", None, f"not available ({error})"
    result = smt.check_equivalent(before.checked, after.checked, name, timeout_ms)
    if isinstance(result, smt.Proved):
        return "equivalent", None, ""
    if isinstance(result, smt.Counterexample):
        return "differs", (dict(result.facts), _args(after, name, result.args)), ""
    return ("unknown" if isinstance(result, smt.Unknown) else ""), None, result.reason


def _z3_model(before: Side, after: Side, name: str, timeout_ms: int, *, abstract: bool,
              values: bool = False, direction: tuple[bool, bool] | None = None
              ) -> Example | None:
    """Facts on which z3 finds that the versions disagree: with `values`, both giving a
    value (neither raising); with `direction`, a yes/no result going from the first to the
    second. `abstract`: what is out of z3's reach (business days, datetimes, divisions...)
    is left free (smt.candidate's approach, for two versions), so the model is only a
    candidate. smt.check_equivalent does not take these constraints, hence this."""
    import z3  # type: ignore[import-untyped]

    from clausec.backends import smt

    facts = union_of_facts([before.checked, after.checked])
    smt.new_query()
    space = smt.FactSpace(parties=tuple(p.name for p in after.checked.header.parties))
    try:
        old = smt.Translator(before.checked, facts, space, abstract=abstract).provision(name)
        new = smt.Translator(after.checked, facts, space, abstract=abstract).provision(name)
    except smt.OutOfReachError:
        return None
    keys = sorted(set(old) & set(new))
    if any(old[k].value.sort() != new[k].value.sort() for k in keys):
        return None
    wanted = [z3.Not(z3.And(*[smt.equal(old[k], new[k]) for k in keys]))]
    if values:
        wanted += [sym.ok for sym in (*old.values(), *new.values())]
    if direction is not None:
        if keys != ["value"] or not z3.is_bool(old["value"].value):
            return None
        wanted += [old["value"].value == z3.BoolVal(direction[0]),
                   new["value"].value == z3.BoolVal(direction[1])]
    result = smt.solve(z3.Not(z3.And(*wanted)), space, timeout_ms,
                       after.checked.header.dated)
    if not isinstance(result, smt.Counterexample):
        return None
    return dict(result.facts), _args(after, name, result.args)


def _args(side: Side, name: str, by_name: Mapping[str, Any]) -> tuple[Any, ...]:
    decl = side.checked.declarations.get(name)
    params = decl.params if isinstance(decl, ir.Definition) else ()
    return tuple(by_name.get(p.name) for p in params)


def search(probe: _Probe, options: Options, accept: Accept,
           fallback: Accept | None = None, targeted_only: bool = False) -> Example | None:
    """A seeded search (search.find) for facts that `accept` takes: around the constants
    of the logic, then with factgen's hypothesis strategies (not with `targeted_only`).
    With `fallback`, the first example that it takes is the answer if none is accepted
    (a difference where a version raises an error)."""
    second: Example | None = None

    def test(example: Example) -> bool:
        nonlocal second
        a, b = probe.pair(example)
        if accept(a, b):
            return True
        if second is None and fallback is not None and fallback(a, b):
            second = example
        return False

    hit = find(test, [probe.before.checked, probe.after.checked], probe.name,
               options.examples, options.seed, targeted_only=targeted_only,
               allowed=probe.allowed, notes=probe.notes)
    return hit or second


def _counterexample(before: Side, after: Side, name: str, data: dict[str, Any],
                    args: tuple[Any, ...], kinds: Mapping[str, str], explain: bool = True
                    ) -> Counterexample:
    from clausec.backends import smt
    from clausec.backends.python.runtime import format_value

    programs = [before.checked, after.checked]
    decls = fact_decls(programs)
    currency = after.checked.header.currency
    shown = tuple((k, format_value(v, kinds.get(k, "text"), currency)
                   if kinds.get(k) in T.SPELLING else str(v)) for k, v in sorted(data.items()))
    params = [p for p in inputs(programs, name) if p.is_param]
    args_text = tuple(format_value(a, p.kind, currency) for a, p in zip(args, params))
    as_json = smt.facts_json(dict(sorted(data.items())), decls, after.checked.declarations)
    args_json = smt.facts_json({p.name: a for p, a in zip(params, args)}, decls)
    return Counterexample(
        as_json, shown, tuple(args_json.values()), args_text,
        before.show(name, data, args, explain), after.show(name, data, args, explain))


# -------------------------------------------------------------- comparisons


def compare(before: Side, after: Side, title: str, amendment: str = "",
            options: Options | None = None, words: Sequence[Reworded] | None = None
            ) -> Comparison:
    """What differs between two versions, every changed result decided; `words`: the
    redline of their words (by default, section by section)."""
    options = options or Options()
    found = []
    for finding in changes(before.checked, after.checked):
        if finding.change in ("changed", "affected") and finding.kind in RESULT_KINDS:
            finding = decide(before, after, finding, options)
        elif finding.change == "changed":
            finding = _rows_compared(before.checked, after.checked, finding)
        found.append(finding)
    if words is None:
        words = sections_reworded(before.checked.program, after.checked.program)
    return Comparison(title, before.label, after.label, amendment, tuple(found),
                      tuple(words))


def _rows_compared(old: CheckedProgram, new: CheckedProgram, finding: Finding) -> Finding:
    """A table's verdict: its rows are values written out, so the versions' rows are
    compared as they stand ("differs: row 2 changed, row 3 added")."""
    a, b = old.declarations.get(finding.name), new.declarations.get(finding.name)
    if not isinstance(a, ir.Table) or not isinstance(b, ir.Table):
        return finding
    rows_a = [tuple(shape(c) for c in row.cells) for row in a.rows]
    rows_b = [tuple(shape(c) for c in row.cells) for row in b.rows]
    if rows_a == rows_b and [shape(c) for c in a.columns] == [shape(c) for c in b.columns]:
        return attrs.evolve(finding, verdict="equivalent", method="rows")
    said: list[str] = []
    keys_a = [_first_cell(row) for row in a.rows]
    keys_b = [_first_cell(row) for row in b.rows]
    if len(set(keys_a)) == len(keys_a) and len(set(keys_b)) == len(keys_b):
        # Rows known by their first cells ("the row for 2003"), as the contract names them.
        old_rows, new_rows = dict(zip(keys_a, rows_a)), dict(zip(keys_b, rows_b))
        for verb, keys in (
                ("changed", [k for k in keys_b if k in old_rows and old_rows[k] != new_rows[k]]),
                ("deleted", [k for k in keys_a if k not in new_rows]),
                ("added", [k for k in keys_b if k not in old_rows])):
            if keys:
                rows = "the row" if len(keys) == 1 else "the rows"
                said.append(f"{rows} for {', '.join(keys)} {verb}")
    else:
        matcher = difflib.SequenceMatcher(a=rows_a, b=rows_b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in ("replace", "delete"):
                said.append(f"{_rows_words(i1, i2)} of the old table "
                            f"{'replaced' if tag == 'replace' else 'deleted'}")
            elif tag == "insert":
                said.append(f"{_rows_words(j1, j2)} of the new table added")
    return attrs.evolve(finding, verdict="differs", method="rows",
                        note="; ".join(said) or "its columns changed")


def _first_cell(row: ir.Row) -> str:
    """A row's first cell as the clause file writes it: how a contract names the row."""
    return ir.cell_text(row.cells[0]) if row.cells else "..."


def _rows_words(start: int, stop: int) -> str:
    return f"row {start + 1}" if stop - start == 1 else f"rows {start + 1}-{stop}"


# A run of unchanged words longer than this is cut to its ends in a redline, and a struck
# or inserted run longer than _CHANGED_WORDS to its first and last words.
_CONTEXT_WORDS = 8
_CHANGED_WORDS = 40
# A word with the punctuation inside it ("$75,000,000", "1.01(c)", "U.S."), or a mark of
# punctuation after one: "1.00." and "1.00;" differ by their marks, not by the figure.
_WORD = re.compile(r"\n[ \t]*\n|[^\s.,;:!?]+(?:[.,:][^\s.,;:!?]+)*|\S")
_PARAGRAPH = "\n\n"
_Token = tuple[str, bool]  # a word, and whether a space comes before it


def _words_of(text: str) -> list[_Token]:
    out: list[_Token] = []
    end = 0
    for match in _WORD.finditer(text):
        word = match.group()
        out.append((_PARAGRAPH if not word.strip() else word, match.start() > end))
        end = match.end()
    return out


def _joined(tokens: Sequence[_Token], leading: bool) -> str:
    return "".join((" " if space and (i or leading) else "") + word
                   for i, (word, space) in enumerate(tokens))


def redline(before: str, after: str) -> tuple[str, ...]:
    """The changed paragraphs of two texts, words struck [-like this-] and inserted
    {+like this+} (as the text summaries mark them), with a few unchanged words around."""
    a, b = _words_of(before), _words_of(after)
    matcher = difflib.SequenceMatcher(a=[w for w, _ in a], b=[w for w, _ in b],
                                      autojunk=False)
    runs: list[tuple[str, list[_Token]]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            runs.append(("equal", b[j1:j2]))
        if tag in ("delete", "replace"):
            runs.append(("delete", a[i1:i2]))
        if tag in ("insert", "replace"):
            runs.append(("insert", b[j1:j2]))
    paragraphs: list[list[tuple[str, list[_Token]]]] = [[]]
    for op, tokens in runs:
        run: list[_Token] = []
        for token in tokens:
            if token[0] == _PARAGRAPH:
                if run:
                    paragraphs[-1].append((op, run))
                    run = []
                paragraphs.append([])
            else:
                run.append(token)
        if run:
            paragraphs[-1].append((op, run))
    lines = []
    keep = _CONTEXT_WORDS
    for paragraph in paragraphs:
        if all(op == "equal" for op, _ in paragraph):
            continue
        line = ""
        for k, (op, tokens) in enumerate(paragraph):
            if op == "equal":
                if k == 0 and len(tokens) > keep:
                    start = len(tokens) - keep
                    while start < len(tokens) - 1 and not tokens[start][0][0].isalnum():
                        start += 1  # from a word, not a mark of punctuation
                    tokens = [("…", False), (tokens[start][0], False), *tokens[start + 1:]]
                elif k == len(paragraph) - 1 and len(tokens) > keep:
                    tokens = [*tokens[:keep], ("…", False)]
                elif len(tokens) > 2 * keep:
                    tokens = [*tokens[:keep], ("…", True), *tokens[-keep:]]
                line += _joined(tokens, bool(line))
                continue
            if len(tokens) > _CHANGED_WORDS:
                half = _CHANGED_WORDS // 2
                tokens = [*tokens[:half], ("…", True), *tokens[-half:]]
            mark = ("[-", "-]") if op == "delete" else ("{+", "+}")
            line += (" " if tokens[0][1] and line else "") + mark[0] + \
                _joined(tokens, False) + mark[1]
        lines.append(line)
    return tuple(lines)


def version_reworded(version: Version) -> list[Reworded]:
    """The redline of the words an amendment changed (its consolidation's record)."""
    return [Reworded(ir.cite(c.section), c.operation, c.description,
                     redline(c.before, c.after)) for c in version.changes]


def sections_reworded(old: ir.Program, new: ir.Program) -> list[Reworded]:
    """The sections whose words differ between two agreements, section by section."""
    before = {s.number: s for s in old.sections}
    after = {s.number: s for s in new.sections}
    out = []
    for number in [*after, *(n for n in before if n not in after)]:
        a, b = before.get(number), after.get(number)
        text_a, text_b = (a.text if a else ""), (b.text if b else "")
        if text_a == text_b:
            continue
        what = "added" if a is None else "deleted" if b is None else "changed"
        out.append(Reworded(ir.cite(number), what, f"{ir.cite(number)} is {what}",
                            redline(text_a, text_b)))
    return out


def _version_label(version: Version | None) -> str:
    if version is None or version.effective is None:
        return "as originally signed"
    return version.label


def amendment_comparisons(result: api.Result, module: Any, pairs: Iterable[tuple[int, int]],
                          options: Options | None = None) -> list[Comparison]:
    """Each pair (i, j) of an agreement's versions compared: version i before, j after."""
    assert result.versions is not None
    out = []
    for i, j in pairs:
        (old, old_checked), (new, new_checked) = result.versions[i], result.versions[j]
        before = Side(old_checked, module, module.VERSIONS[i], _version_label(old))
        after = Side(new_checked, module, module.VERSIONS[j], _version_label(new))
        amendments = [v.amendment for v, _ in result.versions[i + 1:j + 1]
                      if v is not None and v.amendment is not None]
        label = " and ".join(amendment_label(a) for a in amendments)
        words = [w for v, _ in result.versions[i + 1:j + 1] if v is not None
                 for w in version_reworded(v)]
        out.append(compare(before, after, new_checked.header.title, label, options, words))
    return out


def file_comparison(old: api.Result, new: api.Result, options: Options | None = None
                    ) -> Comparison:
    """Two agreements (two drafts, say), each as in force with all its amendments."""
    sides = []
    for result in (old, new):
        assert result.versions is not None and result.checked is not None
        module = api.module_from_source(api.generate(result), result.source.name)
        sides.append(Side(result.checked, module, module.VERSIONS[-1], result.source.name))
    title = new.checked.header.title if new.checked is not None else ""
    return compare(sides[0], sides[1], title, "", options)


def compiled(result: api.Result) -> Any:
    return api.module_from_source(api.generate(result), result.source.name)


# ------------------------------------------------------------------ summaries

# Fewer examples than the command's default: a summary is rendered often (and the
# verdict says how many examples were tried).
SUMMARY_OPTIONS = Options(examples=500, explain=False, both_directions=False)
_SUMMARY_CACHE: dict[tuple[object, ...], list[Comparison]] = {}


def for_summary(result: api.Result) -> list[Comparison]:
    """Each amendment compared with the version before it, for the summaries' table of
    what changed; computed once per agreement text (a summary is rendered in several
    formats and as of several dates)."""
    key = tuple((name, source.text) for name, source in result.sources.items())
    if key not in _SUMMARY_CACHE:
        assert result.versions is not None
        pairs = [(i - 1, i) for i in range(1, len(result.versions))]
        _SUMMARY_CACHE[key] = amendment_comparisons(result, compiled(result), pairs,
                                                    SUMMARY_OPTIONS) if pairs else []
    return _SUMMARY_CACHE[key]


def in_words(f: Finding) -> str:
    """A verdict for the summaries' table: "equivalent (proved with z3)", "differs: e.g.
    when … (false before, true after)", "no difference found in 500 examples (…)"."""
    if f.verdict != "differs" or not f.counterexamples:
        return f.summary if f.verdict else ""
    c = f.counterexamples[0]
    given = ", ".join(f"{k} is {v}" for k, v in c.facts_text) or "no fact is given"
    args = f" for {', '.join(c.args_text)}" if c.args_text else ""
    how = "z3 counterexample" if f.method == "z3" else "found by search"
    before, after = c.before.short, c.after.short
    if before == after:  # both in effect, say: what differs is in the details
        before, after = c.before.value, c.after.value
    return (f"differs: e.g. when {given}{args}, it is {before} before and {after} after "
            f"({how}, confirmed)")


def summary_verdicts(result: api.Result) -> list[tuple[Verdict, ...]]:
    """The verdicts of the summaries' tables of what changed (`verdicts` of
    summaries.render): for each amendment, the results it changed, each in words."""
    from clausec.backends.english.summaries import Verdict

    return [tuple(Verdict(f.name, f.term, f.change, f.section_before, f.section_after,
                          in_words(f), f.because) for f in c.results())
            for c in for_summary(result)]


# ------------------------------------------------------------------ rendering


def to_json(comparisons: Sequence[Comparison]) -> dict[str, Any]:
    """The comparisons as JSON data (no timings: the same input gives the same output)."""
    def finding(f: Finding) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": f.name, "kind": f.kind, "term": f.term, "change": f.change,
            "because": list(f.because), "section_before": f.section_before,
            "section_after": f.section_after}
        if f.kind != "fact" and f.change in ("changed", "affected"):
            out.update(verdict=f.verdict, method=f.method, summary=f.summary)
            if f.method == "search":
                out["examples"] = f.examples
            if f.note:
                out["z3"] = f.note
            out["counterexamples"] = [{
                "facts": c.facts, "args": list(c.args),
                "before": _side_json(c.before), "after": _side_json(c.after)}
                for c in f.counterexamples]
        return out

    return {"comparisons": [{
        "agreement": c.title, "amendment": c.amendment, "before": c.before,
        "after": c.after, "results": [finding(f) for f in c.findings],
        "words": [{"section": w.section, "operation": w.operation,
                   "description": w.description, "redline": list(w.redline)}
                  for w in c.words],
        "totals": totals(c)} for c in comparisons]}


def _side_json(shown: Shown) -> dict[str, Any]:
    # One sentence per entry, unwrapped (as `eval --format json` gives "why").
    why = [" ".join(p.split()) for p in shown.why.split("\n\n") if p.strip()]
    return {"value": shown.value, "why": why, "explanation": shown.tree}


def totals(c: Comparison) -> dict[str, int]:
    counts = {"changed": 0, "equivalent": 0, "differs": 0, "no difference found": 0,
              "added": 0, "removed": 0}
    for f in c.findings:
        if f.change in ("added", "removed"):
            counts[f.change] += 1
        elif f.kind != "fact":
            counts["changed"] += 1
            if f.verdict in counts:
                counts[f.verdict] += 1
    return counts


def render_text(comparisons: Sequence[Comparison], width: int = 88) -> str:
    from clausec.backends.english.wording import wrap

    lines: list[str] = []
    for c in comparisons:
        what = c.amendment or f"{c.before} -> {c.after}"
        lines += [f"{c.title}: {what}", f"  before: {c.before}", f"  after:  {c.after}", ""]
        if c.words:
            lines.append("Words (struck [-like this-], inserted {+like this+}):")
            for w in c.words:
                lines.append(wrap(w.description + ".", width, "    ", "  "))
                lines += [wrap(line, width, "      ", "    ") for line in w.redline]
            lines.append("")
        results = [f for f in c.findings if f.change in ("changed", "affected")
                   and f.kind != "fact"]
        for f in results:
            lines += _finding_lines(f, width, wrap)
        facts = [f for f in c.findings if f.kind == "fact" and f.change == "changed"]
        for change in ("added", "removed"):
            names = [f for f in c.findings if f.change == change]
            if names:
                listed = ", ".join(f"{f.name} ({f.kind})" for f in names)
                lines += [wrap(listed, width, "    ", f"{change.capitalize()}: "), ""]
        if facts:
            listed = ", ".join(f.name for f in facts)
            lines += [wrap(listed, width, "    ", "Facts with a new type or default: "), ""]
        n = totals(c)
        lines += [(f"{n['changed']} changed: {n['equivalent']} equivalent, {n['differs']} "
                   f"differ, {n['no difference found']} with no difference found; "
                   f"{n['added']} added, {n['removed']} removed."), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _finding_lines(f: Finding, width: int, wrap: Callable[..., str]) -> list[str]:
    where = f.section_after or f.section_before
    term = f" “{f.term}”" if f.term else ""
    lines = [f"{f.name} ({f.kind}{term}, {where}): {f.summary}"]
    lines.append(wrap("; ".join(f.because), width, "    ", "  because: "))
    if f.note and f.method == "search":
        lines.append(wrap(f.note, width, "    ", "  z3: "))
    for c in f.counterexamples:
        given = ", ".join(f"{k} = {v}" for k, v in c.facts_text) or "nothing (the defaults)"
        lines.append(wrap(given, width, "    ", "  when: "))
        if c.args_text:
            lines.append(f"  arguments: {', '.join(c.args_text)}")
        for label, side in (("before", c.before), ("after", c.after)):
            lines.append(wrap(side.value, width, "      ", f"    {label}: ".ljust(12)))
            for paragraph in side.why.split("\n\n"):
                if paragraph.strip():
                    lines.append(wrap(" ".join(paragraph.split()), width, "        ",
                                      "      "))
    lines.append("")
    return lines


__all__ = ["Comparison", "Counterexample", "Finding", "Options", "Outcome", "Reworded", "Side",
           "amendment_comparisons", "changes", "compare", "file_comparison", "render_text",
           "summary_verdicts", "to_json"]
