"""`clausec verify`: check every invariant of an agreement, in every version in force.

For each invariant of each version (the agreement as signed, then after each amendment):

1. z3 (smt.py): the invariant's logic translated exactly (non-linear arithmetic too,
   within the time limit of a query); unsat of "assumption and not property" is a
   proof. A model is a candidate counterexample: it becomes a facts dict, is CONFIRMED
   by running the compiled module (a counterexample the compiled code does not fail on
   is never reported; the disagreement is noted and the search runs), then minimised
   (optional facts dropped, values simplified) while it still fails.
2. Out of reach of an exact translation (business days, datetimes, compounding, ...): z3
   on a translation with the unreachable parts left free proposes candidates (confirmed
   the same way). Then, and where z3 gave no answer in time, hypothesis searches with
   the facts strategies of factgen.py, derandomized, for `--examples` examples; a
   failure it finds is shrunk. "No counterexample in N examples" is a search result,
   not a proof: `--require-proof` makes it fail the command.

A counterexample is a facts JSON file that `clausec eval NAME --facts FILE --as-of DATE
--explain` replays; the report prints that command and the explanation tree.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

from clausec import api, ir
from clausec.passes.check import CheckedProgram, union_of_facts
from clausec.passes.consolidate import Version

EXIT_OK, EXIT_FAILED = 0, 1


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
        self.facts = union_of_facts([c for _, c in result.versions])

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
        for decl in checked.program.declarations:
            if not isinstance(decl, ir.Invariant) or names is not None and \
                    decl.name not in names:
                continue
            outcome = _verify_one(checker, index, version, checked, decl, examples,
                                  timeout, several)
            if outcome.facts is not None:
                _finish_counterexample(outcome, checker, index, eval_path or
                                       result.source.name, out_dir, several)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    return outcomes


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
        facts = _complete(answer.facts, checker, checked)
        if checker.failure(index, inv.name, facts) is not None:
            outcome.status = "failed"
            outcome.facts = _minimise(facts, checker, checked, index, inv.name)
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
        if candidate is not None:
            facts = _complete(candidate, checker, checked)
            if checker.failure(index, inv.name, facts) is not None:
                outcome.status, outcome.method = "failed", "z3 with free terms, confirmed"
                outcome.facts = _minimise(facts, checker, checked, index, inv.name)
                outcome.seconds = time.perf_counter() - start
                return outcome
    outcome.method = "search"
    found, tried = _search(checker, checked, index, inv.name, examples)
    outcome.examples = tried
    if found is None:
        outcome.status = "passed"
    else:
        outcome.status = "failed"
        outcome.facts = found
    outcome.seconds = time.perf_counter() - start
    return outcome


def _json(facts: Mapping[str, Any], checker: _Checker) -> dict[str, Any]:
    from clausec.backends import smt
    return smt.facts_json(facts, checker.facts)


def _complete(facts: Mapping[str, Any], checker: _Checker, checked: CheckedProgram
              ) -> dict[str, Any]:
    """A model's facts, with the simplest value for each required fact it leaves free."""
    from clausec.analysis import factgen
    out = _json(facts, checker)
    for name, fact in checker.facts.items():
        if name not in out and not fact.type.optional and fact.default is None:
            out[name] = _json({name: factgen.simple_value(fact, checked)}, checker)[name]
    return out


def _simpler(fact: ir.Fact, value: Any, checked: CheckedProgram, checker: _Checker
             ) -> Iterator[Any]:
    """Simpler values to try in place of `value` (JSON form), simplest first."""
    from clausec.analysis import factgen
    yield _json({fact.name: factgen.simple_value(fact, checked)}, checker)[fact.name]
    if fact.type.kind in ("money", "decimal") and isinstance(value, str):
        number = Decimal(value)
        for step in (Decimal(1000), Decimal(1)):
            yield _json({fact.name: (number / step).to_integral_value() * step},
                        checker)[fact.name]
    if isinstance(value, int) and not isinstance(value, bool) and value:
        yield value // 2


def _minimise(facts: dict[str, Any], checker: _Checker, checked: CheckedProgram, index: int,
              name: str) -> dict[str, Any]:
    """Drop optional facts and simplify values while the invariant still fails."""
    current = dict(facts)
    changed = True
    rounds = 0
    while changed and rounds < 5:
        changed, rounds = False, rounds + 1
        for fact_name in list(current):
            fact = checker.facts.get(fact_name)
            if fact is None:
                continue
            tries: list[dict[str, Any]] = []
            if fact.type.optional or fact.default is not None:
                tries.append({k: v for k, v in current.items() if k != fact_name})
            for value in _simpler(fact, current[fact_name], checked, checker):
                if value != current[fact_name]:
                    tries.append({**current, fact_name: value})
            for attempt in tries:
                if checker.failure(index, name, attempt) is not None:
                    current, changed = attempt, True
                    break
    return current


def _search(checker: _Checker, checked: CheckedProgram, index: int, name: str,
            examples: int) -> tuple[dict[str, Any] | None, int]:
    """Hypothesis: a (shrunk) facts dict on which the invariant fails, or None, and how
    many examples were tried."""
    from clausec.analysis import factgen
    tried = 0

    def fails(facts: dict[str, Any]) -> bool:
        nonlocal tried
        tried += 1
        return checker.failure(index, name, facts) is not None

    strategy = factgen.facts_strategy(checked, checker.facts)
    found = factgen.find(strategy, fails, examples, shrink=True)
    return (None if found is None else _json(found, checker)), min(tried, examples)


def _finish_counterexample(outcome: Outcome, checker: _Checker, index: int, eval_path: str,
                           out_dir: Path | None, several: bool) -> None:
    assert outcome.facts is not None
    outcome.failure = checker.failure(index, outcome.invariant, outcome.facts) or ""
    outcome.explanation = checker.explain(index, outcome.invariant, outcome.facts)
    suffix = f"@{outcome.as_of.isoformat()}" if several and outcome.as_of else ""
    filename = f"{outcome.invariant}{suffix}.json"
    target = (out_dir / filename) if out_dir is not None else Path(filename)
    if out_dir is not None:
        from clausec.cli import write_atomically
        write_atomically(target, json.dumps(outcome.facts, indent=2) + "\n")
        outcome.file = str(target)
    as_of = f" --as-of {outcome.as_of.isoformat()}" if several and outcome.as_of else ""
    outcome.replay = (f"clausec eval {eval_path} {outcome.invariant} --facts {target}"
                      f"{as_of} --explain")


# ------------------------------------------------------------------ command line


def register(sub: Any) -> None:
    p = sub.add_parser(
        "verify", help="prove the invariants of agreements, or find counterexamples",
        description="Check every invariant of each agreement in every version in force "
        "(as signed, after each amendment): prove it with z3 where its logic is in reach, "
        "otherwise search for a counterexample with hypothesis. A counterexample is "
        "confirmed by the compiled code, minimised, and can be replayed with clausec eval. "
        "Exit 1 if an invariant fails (or, with --require-proof, is not proved).")
    p.add_argument("files", nargs="+", metavar="PATH",
                   help="clause files or folders (an agreement and its amendments)")
    p.add_argument("--examples", type=_positive, default=200, metavar="N",
                   help="examples to try when searching (default: 200)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="time limit of each z3 query (default: 10)")
    p.add_argument("--counterexamples", metavar="DIR",
                   help="write each counterexample to DIR/INVARIANT[@DATE].json")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="the report as text (default) or JSON")
    p.add_argument("--require-proof", action="store_true",
                   help="exit 1 when an invariant is only searched, not proved")
    p.set_defaults(run=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run(args: argparse.Namespace) -> int:
    from clausec import cli
    if args.timeout <= 0:
        raise cli.UserError("--timeout must be more than 0 seconds")
    out_dir = Path(args.counterexamples) if args.counterexamples else None
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise cli.UserError(f"{out_dir}: not a directory")
    results = cli._groups(args.files)
    outcomes: list[Outcome] = []
    failed_to_compile = False
    for result in results:
        if not result.ok:
            cli._print_diagnostics(result.diagnostics, result.sources)
            print(f"{result.source.name}: {cli._summary(result.diagnostics)}", file=sys.stderr)
            failed_to_compile = True
            continue
        path = _eval_path(result, args.files)
        if args.format == "text":
            _print_heading(result, path)
        found = verify(result, args.examples, args.timeout, path, out_dir,
                       _print_outcome if args.format == "text" else None)
        outcomes += found
        if args.format == "text" and not found:
            print("  no invariants")
    failed = [o for o in outcomes if o.status == "failed"]
    unproved = [o for o in outcomes if o.status == "passed"] if args.require_proof else []
    if args.format == "json":
        print(json.dumps([o.to_dict() for o in outcomes], indent=2))
    else:
        for outcome in failed:
            _print_failure(outcome)
        _print_totals(outcomes)
    if failed_to_compile:
        raise cli.UserError("some agreements did not compile; their invariants were not "
                            "verified")
    if unproved:
        print(f"clausec: --require-proof: {len(unproved)} invariant check"
              f"{'s' * (len(unproved) != 1)} only searched, not proved:", file=sys.stderr)
        for outcome in unproved:
            where = f", {outcome.version}" if outcome.version else ""
            print(f"  {outcome.agreement}: {outcome.invariant}{where}"
                  f"{' (' + outcome.note + ')' if outcome.note else ''}", file=sys.stderr)
    return EXIT_FAILED if failed or unproved else EXIT_OK


def _eval_path(result: api.Result, given: list[str]) -> str:
    """The PATH of `clausec eval` that loads this agreement with its amendments."""
    agreement = Path(result.source.name)
    if len(result.sources) == 1:
        return str(agreement)
    folder = agreement.parent
    if len(api.group([folder])) == 1:
        return str(folder)
    return str(agreement)


def _print_heading(result: api.Result, path: str) -> None:
    assert result.versions is not None
    header = result.versions[0][1].header
    count = len(result.versions)
    versions = f", {count} versions" if count > 1 else ""
    print(f"{path}: {header.title}{versions}")


def _print_outcome(outcome: Outcome) -> None:
    where = f", {outcome.version}" if outcome.version else ""
    title = f" ({outcome.title})" if outcome.title else ""
    print(f"  {outcome.verdict:<44} {outcome.invariant}{title}{where}  "
          f"[{outcome.seconds:.2f}s]")
    if outcome.note and outcome.status != "proved":
        print(f"  {'':<44} {outcome.note}")
    sys.stdout.flush()


def _print_failure(outcome: Outcome) -> None:
    where = f", {outcome.version}" if outcome.version else ""
    print()
    print(f"FAILED: {outcome.invariant}{where}: {outcome.failure}")
    print(f"  counterexample ({outcome.method}): "
          f"{json.dumps(outcome.facts, sort_keys=True)}")
    if outcome.file:
        print(f"  written to {outcome.file}")
    else:
        print("  (write it to a file with --counterexamples DIR)")
    print(f"  replay: {outcome.replay}")
    print()
    for line in outcome.explanation.rstrip("\n").split("\n"):
        print(f"    {line}")


def _print_totals(outcomes: list[Outcome]) -> None:
    proved = sum(o.status == "proved" for o in outcomes)
    passed = sum(o.status == "passed" for o in outcomes)
    failed = sum(o.status == "failed" for o in outcomes)
    seconds = sum(o.seconds for o in outcomes)
    print()
    print(f"{len(outcomes)} invariant check{'s' * (len(outcomes) != 1)}: {proved} proved, "
          f"{passed} without counterexample (search), {failed} failed  [{seconds:.2f}s]")
