"""The z3 translation of choices, `case`, `none`, `(X when C)` and three-valued logic
(compiler/backends/smt.py), and what it leaves out of reach: lists, records, tables and
what is computed from them."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import z3  # type: ignore[import-untyped]

from clausec import api, cli
from clausec.analysis import verify
from clausec.backends import smt
from clausec.passes.check import CheckedProgram
from clausec.source import SourceFile

HEADER = """
agreement credit "Credit Agreement" {
  dated 2024-01-02
  party borrower "Borrower"
  party agent "Administrative Agent"
}
"""

LOANS = """
choice loan_type "Type of Loan" = [term_benchmark "Term Benchmark Loan", base_rate "Base Rate Loan"]
fact loan_kind "Type of the Loan": loan_type
"""


def checked_of(text: str) -> CheckedProgram:
    result = api.analyse(SourceFile("credit.clause", HEADER + text))
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.checked is not None
    return result.checked


def module_of(text: str) -> Any:
    code, diagnostics = api.compile_source(SourceFile("credit.clause", HEADER + text))
    assert code is not None, diagnostics
    return api.module_from_source(code, "credit.clause")


def invariant(text: str, name: str = "inv") -> smt.SmtResult:
    return smt.check_invariant(checked_of(text), name, 5000)


def fails_in_code(text: str, facts: dict[str, Any], name: str = "inv") -> bool:
    module = module_of(text)
    try:
        return module.evaluate(name, module.Facts(**facts)) is not True
    except module.MissingFactError:
        return False
    except module.ClauseRuntimeError:
        return True


# ------------------------------------------------------------------ choices and case


def test_a_case_over_every_member_of_a_choice_is_proved() -> None:
    text = LOANS + """
define applicable_rate "Applicable Rate": percent =
  case loan_kind of [term_benchmark: 7.50%, base_rate: 6.50%]
invariant rate_positive = applicable_rate > 0%
"""
    assert invariant(text, "rate_positive") == smt.Proved()


def test_an_arm_that_breaks_the_invariant_is_the_counterexample() -> None:
    text = LOANS + """
define applicable_rate "Applicable Rate": percent =
  case loan_kind of [term_benchmark: 7.50%, base_rate: 0%]
invariant inv = applicable_rate > 0%
"""
    result = invariant(text)
    assert isinstance(result, smt.Counterexample)
    assert result.facts == {"loan_kind": "base_rate"}
    assert fails_in_code(text, result.facts)


def test_otherwise_covers_the_other_members() -> None:
    text = """
choice tier = [senior, mezzanine, junior, equity]
fact ranking: tier
define spread: percent = case ranking of [senior: 2%, mezzanine or junior: 5%, otherwise: 9%]
invariant inv = spread < 9%
"""
    result = invariant(text)
    assert isinstance(result, smt.Counterexample) and result.facts == {"ranking": "equity"}
    assert fails_in_code(text, result.facts)
    proved = text.replace("spread < 9%", "spread >= 2% and spread <= 9%")
    assert invariant(proved) == smt.Proved()


def test_a_choice_fact_is_one_of_its_members() -> None:
    text = LOANS + "invariant inv = loan_kind == term_benchmark or loan_kind == base_rate\n"
    assert invariant(text) == smt.Proved()
    text = LOANS + "invariant inv = loan_kind == term_benchmark\n"
    result = invariant(text)
    assert isinstance(result, smt.Counterexample) and result.facts == {"loan_kind": "base_rate"}


def test_a_case_arm_with_no_value() -> None:
    text = LOANS + """
fact amount: money
define fee: money = case loan_kind of [term_benchmark: amount, base_rate: none]
invariant inv = fee >= $0 when fee is given and amount >= $0
invariant strict = fee >= $0 when amount >= $0
"""
    assert invariant(text) == smt.Proved()
    result = invariant(text, "strict")  # uses a fee that has no value: NoValueError
    assert isinstance(result, smt.Counterexample)
    assert result.facts["loan_kind"] == "base_rate"
    assert fails_in_code(text, result.facts, "strict")


def test_when_has_no_value_where_its_condition_fails() -> None:
    text = """
fact prepayment: money
define bonus: money = (prepayment when prepayment > $1,000)
invariant inv = bonus > $1,000 when bonus is given
invariant given = bonus is given
"""
    assert invariant(text) == smt.Proved()
    result = invariant(text, "given")
    assert isinstance(result, smt.Counterexample)
    assert result.facts["prepayment"] <= 1000
    assert fails_in_code(text, result.facts, "given")


# --------------------------------------------------------- three-valued logic


OPTIONAL = """
fact waived "the fee is waived": bool optional
fact paid "the fee is paid": bool
condition settled = any of [waived, paid]
"""


def test_any_of_is_decided_by_an_item_whose_facts_are_given() -> None:
    """`any of [waived, paid]` is true when paid, even if `waived` is not given: an
    invariant that says otherwise has a counterexample that leaves `waived` out."""
    text = OPTIONAL + "invariant inv = not settled when waived is not given\n"
    result = invariant(text)
    assert isinstance(result, smt.Counterexample)
    assert result.facts == {"paid": True}  # waived left out
    assert fails_in_code(text, result.facts)
    module = module_of(text)
    assert module.evaluate("settled", module.Facts(paid=True)) is True
    with pytest.raises(module.MissingFactError):
        module.evaluate("settled", module.Facts(paid=False))
    # Undecided with a fact missing: MissingFactError, which an invariant takes as "the
    # facts do not say", so this holds.
    holds = OPTIONAL + "invariant inv = settled when paid\n"
    assert invariant(holds) == smt.Proved()


# Conditions over optional facts (MissingFactError), a term that may have no value
# (NoValueError), a division that may raise (another error) and required facts.
LOGIC = """
fact a: bool optional
fact b: bool optional
fact p: bool
fact n: integer
define m: bool = (p when n > 1)
condition e = 10 / n > 4
"""
CONDITIONS = [
    "a and b", "a or b", "a unless b", "b unless a", "any of [a, b, e]",
    "all of [e, a, m]", "none of [a, m]", "any of [m, e, b]", "(a or e) and (m or b)",
    "not (a and m)", "any of [a when e, b]", "all of [a when b, m when a, p]",
    "all of [e, p]", "p or e", "e and p", "m or a", "a and m", "any of [e, a] unless m",
    "none of [b when p, e]", "any of [p] or all of [a]",
]
_ERRORS = {"MissingFactError": 1, "NoValueError": 2}


def _code_outcome(module: Any, name: str, facts: dict[str, Any]) -> tuple[int, bool | None]:
    try:
        value = module.evaluate(name, module.Facts(**facts))
    except module.ClauseRuntimeError as error:
        return _ERRORS.get(type(error).__name__, 3), None
    return 0, bool(value)


def _z3_outcome(translator: smt.Translator, sym: smt.Sym, facts: dict[str, Any]
                ) -> tuple[int, bool | None]:
    space = translator.space
    solver = z3.Solver()
    solver.add(*space.assumptions())
    for (name, _), var in space.values.items():
        given = name in facts
        solver.add(space.given[name] == z3.BoolVal(given))
        if given:
            value = facts[name]
            solver.add(var == (z3.BoolVal(value) if isinstance(value, bool) else
                               z3.IntVal(value)))
    assert solver.check() == z3.sat
    model = solver.model()
    err = model.eval(sym.err, model_completion=True).as_long()
    return err, (z3.is_true(model.eval(sym.value, model_completion=True)) if err == 0
                 else None)


def test_three_valued_logic_raises_what_the_compiled_code_raises() -> None:
    """Every condition, on every combination of facts (missing, true, false; a divisor
    0, 1 or 2): the translation gives the value or the kind of error the compiled module
    gives, the first unknown item's error where nothing decided."""
    text = LOGIC + "".join(f"condition c{i} = {c}\n" for i, c in enumerate(CONDITIONS))
    checked = checked_of(text)
    module = module_of(text)
    smt.new_query()
    translator = smt.translate(checked)
    syms = {i: translator.value(f"c{i}") for i in range(len(CONDITIONS))}
    optional = [None, True, False]
    for a, b, p, n in itertools.product(optional, optional, [True, False], [0, 1, 2]):
        facts = {k: v for k, v in {"a": a, "b": b, "p": p, "n": n}.items() if v is not None}
        for i, condition in enumerate(CONDITIONS):
            expected = _code_outcome(module, f"c{i}", facts)
            assert _z3_outcome(translator, syms[i], facts) == expected, (condition, facts)


# ------------------------------------------------------------------ out of reach


LISTS = """
record lender "Term Lender" {
  name: text
  principal "outstanding Term Loans": money
  declined "delivered a rejection notice": bool
}
fact lenders "Term Lenders": list of lender
fact prepayment: money where prepayment >= $0
define declining "number of declining lenders": integer =
  number of [l for each l in lenders when l.declined]
define shares = allocate prepayment pro rata [l.principal for each l in lenders]
define declined_proceeds: money = sum of [s.amount for each s in shares when s.item.declined]
invariant few_decline = declining <= 3
invariant within = declined_proceeds <= prepayment
"""


@pytest.mark.parametrize("name", ["few_decline", "within"])
def test_lists_are_out_of_reach(name: str) -> None:
    result = invariant(LISTS, name)
    assert isinstance(result, smt.OutOfReach) and "lists" in result.reason


def test_a_table_is_out_of_reach() -> None:
    text = """
table step_down "Leverage Step-Down" {
  | ending: date | maximum: decimal |
  | 2024-03-31   | 4.50            |
  | 2024-12-31   | 4.25            |
}
fact test_date: date
define maximum_ratio: decimal = (first of [r.maximum for each r in step_down when test_date <= r.ending])
invariant inv = maximum_ratio <= 4.50 when maximum_ratio is given
"""
    result = invariant(text)
    assert isinstance(result, smt.OutOfReach) and "lists" in result.reason


def test_verify_searches_what_is_out_of_reach(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """`clausec verify` on list aggregates: out of reach of z3, searched, the search's
    counterexamples lists of records; it never crashes."""
    path = tmp_path / "credit.clause"
    path.write_text(HEADER + LISTS, encoding="utf-8")
    result = api.analyse(SourceFile.read(path))
    outcomes = {o.invariant: o for o in verify.verify(result, examples=200, timeout=5)}
    for outcome in outcomes.values():
        assert outcome.method == "search"
        assert outcome.note.startswith("out of reach of z3: lists")
    few = outcomes["few_decline"]
    assert few.status == "failed" and few.facts is not None
    assert len(few.facts["lenders"]) == 4
    assert all(item["declined"] is True for item in few.facts["lenders"])
    code = cli.main(["verify", str(path), "--examples", "100"])
    out = capsys.readouterr().out
    assert code == 1
    assert "out of reach of z3: lists" in out
    assert "2 invariant checks" in out


def test_verify_reports_an_invariant_over_lists_without_counterexample(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "credit.clause"
    path.write_text(HEADER + LISTS.replace("declining <= 3", "declining >= 0"),
                    encoding="utf-8")
    code = cli.main(["verify", str(path), "--examples", "50", "--format", "json"])
    data = {o["invariant"]: o for o in json.loads(capsys.readouterr().out)}
    assert code == 1  # `within` fails: zero weights
    assert data["few_decline"]["status"] == "passed"
    assert data["few_decline"]["verdict"] == "no counterexample in 50 examples (search)"


def test_diff_searches_lists_with_the_other_required_facts_given(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Out of z3's reach, the search draws lists of records; the facts the result does
    not depend on but the Facts class requires (a choice, a date) get their simplest
    values, in the counterexample too, which replays."""
    old, new = tmp_path / "draft1.clause", tmp_path / "draft2.clause"
    text = HEADER + LOANS + LISTS + "fact test_date: date\n"
    old.write_text(text, encoding="utf-8")
    new.write_text(text.replace("[l.principal for each l in lenders]",
                                "[l.principal for each l in lenders when not l.declined]"),
                   encoding="utf-8")
    code = cli.main(["diff", str(old), str(new), "--format", "json", "--examples", "300"])
    assert code == 0
    comparison, = json.loads(capsys.readouterr().out)["comparisons"]
    results = {r["name"]: r for r in comparison["results"]}
    shares = results["shares"]
    assert (shares["verdict"], shares["method"]) == ("differs", "search")
    facts = shares["counterexamples"][0]["facts"]
    assert set(facts) == {"lenders", "loan_kind", "prepayment", "test_date"}
    assert any(lender["declined"] for lender in facts["lenders"])
    module = module_of(LOANS + LISTS + "fact test_date: date\n")
    module.Facts.from_dict(facts)
