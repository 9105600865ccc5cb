"""`clausec verify`: check every invariant of an agreement, in every version in force.

For each invariant of each version (the agreement as signed, then after each amendment):

1. z3 (smt.py): the invariant's logic translated exactly (non-linear arithmetic too,
   within the time limit of a query); unsat of "assumption and not property" is a
   proof. A model is a candidate counterexample: it becomes a facts dict, is CONFIRMED
   by running the compiled module (a counterexample the compiled code does not fail on
   is never reported; the disagreement is noted and the search runs).
2. Out of reach of an exact translation (business days, datetimes, compounding, ...): z3
   on a translation with the unreachable parts left free proposes candidates (confirmed
   the same way). Then, and where z3 gave no answer in time, the counterexample search
   of search.py (the one `clausec diff` uses: around the constants of the invariant's
   logic, then factgen's hypothesis strategies, seeded) tries `--examples` examples.
   "No counterexample in N examples" is a search result, not a proof:
   `--require-proof` makes it fail the command.

Every counterexample, z3's or the search's, is minimised by search.py's rule (fewest
facts given, simplest values) while the invariant still fails the same way (is false,
or raises the same kind of error); a required fact left out has its simplest value
(smt.simple_value; where its `where` refuses that, the simplest one z3 finds that it
allows), and the counterexample gives it.

Facts' constraints (`fact balance: money where balance >= $0`): the compiled Facts class
refuses facts that break one, so no counterexample does. z3 assumes them; the search
draws only values they allow (search.Allowed); and a counterexample is confirmed on the
compiled Facts class, which checks them. A constraint that no value satisfies makes
every facts object one the agreement refuses: the outcome says so in its note (a proof
is then vacuous), as it does for a fact the search found no allowed value for.

A counterexample is a facts JSON file that `clausec eval NAME --facts FILE --as-of DATE
--explain` replays; the report prints that command and the explanation tree.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Mapping
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

from clausec import api, ir
from clausec.analysis import search
from clausec.passes.check import CheckedProgram, union_of_facts
from clausec.passes.consolidate import Version
from clausec.source import write_atomically


@attrs.define
class Outcome:
    """What verifying one invariant in one version found."""

    agreement: str  # the agreement's file
    invariant: str
    title: str | None
    version: str  # "as originally signed", "as amended on March 31, 2004", "" if only one
    as_of: date | None  # a date on which that version is in force (for --as-of)
    method: str  # "z3" or "search"
    status: str  # "proved", "passed" (search found nothing), "failed"
    seconds: float = 0.0
    examples: int = 0
    note: str = ""  # why z3 could not decide, or where z3 and the code disagreed
    facts: dict[str, Any] | None = None  # the counterexample, as JSON values
    failure: str = ""  # "is false", "raises MissingFactError: ..."
    explanation: str = ""
    replay: str = ""  # the clausec eval command
    file: str = ""  # where the counterexample was written

    @property
    def verdict(self) -> str:
        if self.status == "proved":
            return "proved (z3)"
        if self.status == "passed":
            return f"no counterexample in {self.examples} examples (search)"
        return f"counterexample ({self.method})"

    def to_dict(self) -> dict[str, Any]:
        out = attrs.asdict(self)
        out["as_of"] = self.as_of.isoformat() if self.as_of else None
        out["verdict"] = self.verdict
        out["seconds"] = round(self.seconds, 3)
        return out


# ------------------------------------------------------------------ one agreement


class _Checker:
    """The compiled module of an agreement, and what fails an invariant in it."""

    def __init__(self, result: api.Result):
        assert result.versions is not None
        self.result = result
        self.module: ModuleType = api.module_from_source(api.generate(result),
                                                         result.source.name)
        programs = [c for _, c in result.versions]
        self.facts = union_of_facts(programs)
        self.allowed = search.Allowed([self.module], programs)
        self._fill: dict[int, dict[str, Any]] = {}

    def complete(self, checked: CheckedProgram, facts: Mapping[str, Any]) -> dict[str, Any]:
        """The facts, with the simplest (allowed) value for each required fact they leave
        out (smt.complete, computed once per version)."""
        from clausec.backends import smt
        key = id(checked)
        if key not in self._fill:
            self._fill[key] = smt.complete({}, self.facts, checked.header, checked)
        return {**self._fill[key], **facts}

    def failure(self, index: int, name: str, facts: Mapping[str, Any]) -> str | None:
        """How the invariant fails on these facts in version `index`: it is false, or it
        raises an error other than MissingFactError. None if it holds, if a fact it needs
        is missing, or if the facts are not valid facts of the agreement."""
        module = self.module
        try:
            facts_obj = module.Facts.from_dict(dict(facts))
        except module.ClauseError:
            return None
        try:
            value = module.VERSIONS[index].evaluate(name, facts_obj)
        except module.MissingFactError:
            return None  # the facts do not say enough to judge: not a case
        except module.ClauseRuntimeError as error:
            return f"raises {type(error).__name__}: {error}"
        return None if value is True else "is false"

    def explain(self, index: int, name: str, facts: Mapping[str, Any]) -> str:
        facts_obj = self.module.Facts.from_dict(dict(facts))
        try:
            return str(self.module.VERSIONS[index].explain(name, facts_obj).render())
        except self.module.ClauseRuntimeError as error:
            return f"{name}: {type(error).__name__}: {error}"


def verify(result: api.Result, examples: int = 200, timeout: float = 10.0,
           eval_path: str | None = None, out_dir: Path | None = None,
           progress: Callable[[Outcome], None] | None = None,
           names: Collection[str] | None = None) -> list[Outcome]:
    """Verify every invariant (or those in `names`) of every version of an analysed
    agreement."""
    assert result.versions is not None
    checker = _Checker(result)
    outcomes = []
    several = len(result.versions) > 1
    for index, (version, checked) in enumerate(result.versions):
        refused = _refused(checker, checked, timeout)
        for decl in checked.program.declarations:
            if not isinstance(decl, ir.Invariant) or names is not None and \
                    decl.name not in names:
                continue
            outcome = _verify_one(checker, index, version, checked, decl, examples,
                                  timeout, several)
            if refused:
                outcome.note = "; ".join(x for x in (refused, outcome.note) if x)
            if outcome.facts is not None:
                _finish_counterexample(outcome, checker, index, eval_path or
                                       result.source.name, out_dir, several)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    return outcomes


def _refused(checker: _Checker, checked: CheckedProgram, timeout: float) -> str:
    """What to say of the facts' constraints that no value satisfies (smt.unsatisfiable),
    or ""."""
    if not any(f.constraint is not None for f in checker.facts.values()) and not any(
            isinstance(d, ir.Fact) and d.constraint is not None
            for d in checked.program.declarations):
        return ""
    from clausec.backends import smt
    names = smt.unsatisfiable(checked, checker.facts, int(timeout * 1000))
    if not names:
        return ""
    listed = ", ".join(f"'{n}'" for n in names)
    required = [n for n in names if not checker.facts[n].type.optional]
    what = "no facts are allowed at all, and a proof is vacuous" if required else \
        "such a fact can never be given"
    return f"no value satisfies the `where` of {listed}: {what}"


def _as_of(result: api.Result, index: int) -> date | None:
    """A date on which version `index` is in force."""
    assert result.versions is not None
    version = result.versions[index][0]
    if version is None:
        return None
    if version.effective is not None:
        return version.effective
    header = result.versions[index][1].header
    following = result.versions[index + 1][0] if index + 1 < len(result.versions) else None
    first = following.effective if following is not None else None
    dated = header.dated or header.effective
    if dated is not None and (first is None or dated < first):
        return dated
    return first - timedelta(days=1) if first is not None else None


def _verify_one(checker: _Checker, index: int, version: Version | None,
                checked: CheckedProgram, inv: ir.Invariant, examples: int, timeout: float,
                several: bool) -> Outcome:
    from clausec.backends import smt
    start = time.perf_counter()
    label = ""
    if several and version is not None:
        label = "as originally signed" if version.label == "original" else version.label
    outcome = Outcome(Path(checker.result.source.name).name, inv.name, inv.term, label,
                      _as_of(checker.result, index) if several else None, "z3", "proved")
    timeout_ms = int(timeout * 1000)
    answer = smt.check_invariant(checked, inv, timeout_ms, checker.facts)
    if isinstance(answer, smt.Proved):
        outcome.seconds = time.perf_counter() - start
        return outcome
    if isinstance(answer, smt.Counterexample):
        if _fails(checker, checked, index, inv.name)((answer.facts, ())):
            outcome.status = "failed"
            outcome.facts = _minimise(answer.facts, checker, checked, index, inv.name)
            outcome.seconds = time.perf_counter() - start
            return outcome
        outcome.note = ("z3's counterexample does not fail in the compiled code; searched "
                        "instead") if answer.exact else (
            "z3's candidate does not fail in the compiled code (z3 chose how a quotient "
            "rounds or whether a result beyond its bounds raises); searched instead")
    elif isinstance(answer, smt.Unknown):
        # The translation was whole: the one with free terms is the same question.
        outcome.note = f"z3 could not decide: {answer.reason}"
    else:
        outcome.note = f"out of reach of z3: {answer.reason}"
        candidate = smt.candidate(checked, inv, timeout_ms, checker.facts)
        if candidate is not None and _fails(checker, checked, index, inv.name)((candidate, ())):
            outcome.status, outcome.method = "failed", "z3 with free terms, confirmed"
            outcome.facts = _minimise(candidate, checker, checked, index, inv.name)
            outcome.seconds = time.perf_counter() - start
            return outcome
    outcome.method = "search"
    notes: list[str] = []
    found, tried = _search(checker, checked, index, inv.name, examples, notes)
    outcome.note = "; ".join(x for x in (outcome.note, *notes) if x)
    outcome.examples = tried
    if found is None:
        outcome.status = "passed"
    else:
        outcome.status = "failed"
        outcome.facts = found
    outcome.seconds = time.perf_counter() - start
    return outcome


def _json(facts: Mapping[str, Any], checker: _Checker, checked: CheckedProgram
          ) -> dict[str, Any]:
    from clausec.backends import smt
    return smt.facts_json(facts, checker.facts, checked.declarations)


def _complete(facts: Mapping[str, Any], checker: _Checker, checked: CheckedProgram
              ) -> dict[str, Any]:
    """The facts, with the simplest value for each required fact they leave out."""
    return checker.complete(checked, facts)


def _fails(checker: _Checker, checked: CheckedProgram, index: int, name: str,
           like: str | None = None) -> Callable[[search.Example], bool]:
    """Whether the invariant fails on an example's facts (completed); with `like` (a
    failure), whether it fails that way: is false, or raises the same kind of error."""
    def fails(example: search.Example) -> bool:
        failure = checker.failure(index, name, _complete(example[0], checker, checked))
        return failure is not None and (like is None or _way(failure) == _way(like))
    return fails


def _way(failure: str) -> str:
    return failure.partition(":")[0]  # "is false", "raises ClauseRuntimeError"


def _minimise(facts: Mapping[str, Any], checker: _Checker, checked: CheckedProgram,
              index: int, name: str) -> dict[str, Any]:
    """Failing facts minimised while they fail the same way (search.minimise), as JSON
    with every required fact."""
    first = checker.failure(index, name, _complete(facts, checker, checked))
    kinds = {n: fact.type.kind for n, fact in checker.facts.items()}
    data, _ = search.minimise(_fails(checker, checked, index, name, first), (dict(facts), ()),
                              kinds, search.constants([checked], name))
    return _json(_complete(data, checker, checked), checker, checked)


def _search(checker: _Checker, checked: CheckedProgram, index: int, name: str,
            examples: int, notes: list[str] | None = None
            ) -> tuple[dict[str, Any] | None, int]:
    """search.find: a (minimised) facts dict on which the invariant fails, or None, and
    how many examples were tried; drawn as the facts' constraints allow (what could not
    be drawn so is said in `notes`)."""
    tried = 0
    fails = _fails(checker, checked, index, name)

    def test(example: search.Example) -> bool:
        nonlocal tried
        tried += 1
        return fails(example)

    found = search.find(test, [checked], name, examples, allowed=checker.allowed,
                        notes=notes)
    if found is None:
        return None, min(tried, examples)
    return _minimise(found[0], checker, checked, index, name), min(tried, examples)


def _finish_counterexample(outcome: Outcome, checker: _Checker, index: int, eval_path: str,
                           out_dir: Path | None, several: bool) -> None:
    assert outcome.facts is not None
    outcome.failure = checker.failure(index, outcome.invariant, outcome.facts) or ""
    outcome.explanation = checker.explain(index, outcome.invariant, outcome.facts)
    suffix = f"@{outcome.as_of.isoformat()}" if several and outcome.as_of else ""
    filename = f"{outcome.invariant}{suffix}.json"
    target = (out_dir / filename) if out_dir is not None else Path(filename)
    if out_dir is not None:
        write_atomically(target, json.dumps(outcome.facts, indent=2) + "\n")
        outcome.file = str(target)
    as_of = f" --as-of {outcome.as_of.isoformat()}" if several and outcome.as_of else ""
    outcome.replay = (f"clausec eval {eval_path} {outcome.invariant} --facts {target}"
                      f"{as_of} --explain")
