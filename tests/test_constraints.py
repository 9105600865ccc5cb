"""Facts' constraints (`fact balance: money where balance >= $0`) in `clausec verify` and
`clausec diff`: z3 assumes them, the search draws only values they allow, and no
counterexample breaks one."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from clausec import api, cli
from clausec.analysis import factgen, search, semdiff, verify
from clausec.backends import smt
from clausec.passes.check import CheckedProgram
from clausec.source import SourceFile

HEADER = """
agreement deal "Deal" {
  dated 2004-01-01
  party buyer "Buyer"
  party seller "Seller"
}
"""

LENDERS = """
record lender "Lender" {
  name: text
  principal: money
}
fact lenders: list of lender
define lent: money = sum of [l.principal for each l in lenders]
"""


def result_of(text: str) -> api.Result:
    result = api.analyse(SourceFile("deal.clause", HEADER + text))
    assert result.ok, [d.message for d in result.diagnostics]
    return result


def checked_of(text: str) -> CheckedProgram:
    checked = result_of(text).checked
    assert checked is not None
    return checked


def module_of(text: str) -> Any:
    return semdiff.compiled(result_of(text))


def outcomes(text: str, examples: int = 200) -> dict[str, verify.Outcome]:
    return {o.invariant: o for o in verify.verify(result_of(text), examples=examples,
                                                  timeout=5)}


def unconstrained(text: str) -> str:
    return text.replace(" where balance >= $0", "")


# ------------------------------------------------------------------------ verify


BALANCE = """
fact balance: money where balance >= $0
fact fee: money default $10
invariant covered = balance + fee >= fee
"""


def test_an_invariant_false_only_for_negative_balances_is_proved_with_the_constraint() -> None:
    assert smt.check_invariant(checked_of(BALANCE), "covered", 5000) == smt.Proved()
    without = smt.check_invariant(checked_of(unconstrained(BALANCE)), "covered", 5000)
    assert isinstance(without, smt.Counterexample) and without.facts["balance"] < 0
    assert outcomes(BALANCE)["covered"].status == "proved"
    found = outcomes(unconstrained(BALANCE))["covered"]
    assert found.status == "failed" and found.facts is not None
    assert Decimal(found.facts["balance"]) < 0


# Out of z3's reach (a list): the search decides, or z3 with the list's part left free
# proposes a candidate that the compiled code confirms.
CANDIDATE = "z3 with free terms, confirmed"
SEARCHED = LENDERS + """
fact balance: money where balance >= $0
invariant covered = balance + lent >= lent
"""


def test_the_search_draws_no_negative_balance() -> None:
    outcome = outcomes(SEARCHED)["covered"]
    assert (outcome.method, outcome.status) == ("search", "passed")
    assert outcome.note.startswith("out of reach of z3: lists")
    found = outcomes(unconstrained(SEARCHED))["covered"]
    assert found.status == "failed" and found.method in ("search", CANDIDATE)
    assert found.facts is not None and Decimal(found.facts["balance"]) < 0


def test_counterexamples_never_break_a_constraint() -> None:
    """z3's and the search's: the compiled Facts class takes each, and a required fact
    the invariant does not use gets a value its constraint allows."""
    text = """
fact price: money where price >= $100
fact floor: money where floor >= $500
fact kind: text
invariant cheap = price < $150
"""
    result = smt.check_invariant(checked_of(text), "cheap", 5000)
    assert isinstance(result, smt.Counterexample)
    assert result.facts["price"] >= 150 and result.facts["floor"] >= 500
    module = module_of(text)
    module.Facts(**result.facts)  # no FactError
    searched = LENDERS + """
fact price: money where price >= $100
fact floor: money where floor >= $500
invariant cheap = price + lent < $150 + lent
"""
    outcome = outcomes(searched)["cheap"]
    assert outcome.status == "failed" and outcome.method in ("search", CANDIDATE)
    assert outcome.facts is not None
    assert Decimal(outcome.facts["price"]) >= 150 and Decimal(outcome.facts["floor"]) >= 500
    module_of(searched).Facts.from_dict(outcome.facts)


def test_constraints_on_optional_and_choice_facts() -> None:
    text = """
choice loan_type = [term_benchmark, base_rate]
fact kind: loan_type where kind != base_rate
fact cap: money optional where cap > $0
invariant benchmark = kind == term_benchmark
invariant positive = cap > $0 when cap is given
invariant small = cap < $1,000,000 when cap is given
"""
    checked = checked_of(text)
    assert smt.check_invariant(checked, "benchmark", 5000) == smt.Proved()
    assert smt.check_invariant(checked, "positive", 5000) == smt.Proved()
    result = smt.check_invariant(checked, "small", 5000)
    assert isinstance(result, smt.Counterexample) and result.facts["cap"] >= 1_000_000
    assert result.facts["kind"] == "term_benchmark"


def test_a_constraint_on_a_list() -> None:
    text = LENDERS.replace("fact lenders: list of lender",
                           "fact lenders: list of lender where number of lenders <= 2") + \
        "invariant few = number of lenders <= 2\n"
    outcome = outcomes(text)["few"]
    assert (outcome.method, outcome.status) == ("search", "passed")
    found = outcomes(text.replace(" where number of lenders <= 2", ""))["few"]
    assert found.status == "failed" and found.facts is not None
    assert len(found.facts["lenders"]) == 3


def test_a_constraint_no_value_satisfies_is_reported(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    text = """
fact balance: money where balance > $5 and balance < $3
invariant positive = balance > $0
"""
    assert smt.unsatisfiable(checked_of(text)) == ["balance"]
    outcome = outcomes(text)["positive"]
    assert "no value satisfies the `where` of 'balance'" in outcome.note
    assert "vacuous" in outcome.note
    path = tmp_path / "deal.clause"
    path.write_text(HEADER + text, encoding="utf-8")
    cli.main(["verify", str(path)])
    assert "no value satisfies the `where` of 'balance'" in capsys.readouterr().out


def test_the_search_says_when_it_finds_no_allowed_value() -> None:
    """A constraint that the search's values never meet (no decimal number does)."""
    text = LENDERS + """
fact balance: decimal where balance * balance == 2
invariant inv = balance >= 0 or lent >= $0
"""
    checked = checked_of(text)
    module = module_of(text)
    notes: list[str] = []
    allowed = search.Allowed([module], [checked])
    assert search.find(lambda example: False, [checked], "inv", 100, allowed=allowed,
                       notes=notes) is None
    assert notes == [("no value of fact 'balance' that its `where` allows was found in "
                      "200 tries")]


# ------------------------------------------------------------- generated facts


def test_generated_facts_satisfy_the_constraints() -> None:
    text = LENDERS + """
choice loan_type = [term_benchmark, base_rate]
fact kind: loan_type
fact balance: money where balance >= $1,000
fact rate: percent optional where rate <= 10%
invariant inv = balance + lent >= lent
"""
    checked = checked_of(text)
    module = module_of(text)
    allowed = search.Allowed([module], [checked])
    assert not allowed("balance", Decimal(999)) and allowed("balance", Decimal(1000))
    drawn: list[tuple[dict[str, Any], tuple[Any, ...]]] = []

    def record(example: tuple[dict[str, Any], tuple[Any, ...]]) -> bool:
        drawn.append(example)
        return False

    assert search.find(record, [checked], "inv", 300, allowed=allowed) is None
    strategy = factgen.facts_strategy(checked, allowed=allowed,
                                      seeds={"balance": [Decimal(1000)]})
    factgen.find(strategy, lambda d: bool(drawn.append((d, ()))) and False, 100, seed=1)
    assert len(drawn) > 300
    kinds, lists, missing_rate = set(), set(), 0
    for data, _ in drawn:
        assert data.get("balance") is None or data["balance"] >= 1000
        assert data.get("rate") is None or data["rate"] <= Decimal("0.1")
        missing_rate += "rate" not in data
        if "kind" in data:
            kinds.add(data["kind"])
        if "lenders" in data:
            lists.add(len(data["lenders"]))
            assert all(set(item) == {"name", "principal"} for item in data["lenders"])
        if {"balance", "kind", "lenders"} <= set(data):
            module.Facts.from_dict(data)  # a valid facts object
    assert kinds == {"term_benchmark", "base_rate"}
    assert lists <= {0, 1, 2, 3, 4} and len(lists) >= 3
    assert missing_rate > 0  # an optional fact is sometimes left out


def test_complete_gives_a_value_the_constraint_allows() -> None:
    text = """
choice loan_type = [term_benchmark, base_rate]
fact kind: loan_type
fact floor: money where floor >= $500
fact day: date where day >= 2010-01-01
"""
    checked = checked_of(text)
    facts = {d.name: d for d in checked.program.declarations if hasattr(d, "constraint")}
    done = smt.complete({}, facts, checked.header, checked)  # type: ignore[arg-type]
    assert done["kind"] == "term_benchmark"
    assert done["floor"] >= 500 and str(done["day"]) >= "2010-01-01"
    module_of(text).Facts(**done)


# ------------------------------------------------------------------------ diff


AGREEMENT = '''\
agreement loan "Loan Agreement" {
  dated January 1, 2024
  party borrower "Borrower"
  party lender "Lender"
}

section 1 "Terms" {
  text """
    The terms.
  """
  record tranche "Tranche" {
    amount: money
  }
  fact tranches: list of tranche
  fact balance: money where balance >= $0
  define payable: money = balance
  define payable_all: money = balance + sum of [t.amount for each t in tranches]
}
'''

AMENDMENT = '''\
amendment loan_amendment "First Amendment" amends loan {
  dated June 1, 2024
  effective June 1, 2024
}

replace section 1 "Terms" {
  text """
    The terms, as amended.
  """
  record tranche "Tranche" {
    amount: money
  }
  fact tranches: list of tranche
  fact balance: money where balance >= $0
  define payable: money = if balance >= $0 then balance else $0
  define payable_all: money = (if balance >= $0 then balance else $0) +
    sum of [t.amount for each t in tranches]
}
'''


def _compare(folder: Path, constrained: bool, options: semdiff.Options
             ) -> dict[str, semdiff.Finding]:
    folder.mkdir()
    edit = (lambda t: t) if constrained else unconstrained
    (folder / "loan.clause").write_text(edit(AGREEMENT), encoding="utf-8")
    (folder / "amendment.clause").write_text(edit(AMENDMENT), encoding="utf-8")
    (agreement, amendments), = api.group([folder])
    result = api.analyse(SourceFile.read(agreement), [SourceFile.read(a) for a in amendments])
    assert result.ok, [d.message for d in result.diagnostics]
    comparison, = semdiff.amendment_comparisons(result, semdiff.compiled(result), [(0, 1)],
                                                options)
    return {f.name: f for f in comparison.findings}


def test_versions_that_differ_only_for_negative_balances_do_not_differ(tmp_path: Path
                                                                       ) -> None:
    found = _compare(tmp_path / "z3", True, semdiff.Options(examples=300))
    assert (found["payable"].verdict, found["payable"].method) == ("equivalent", "z3")
    # Out of z3's reach (a list), the search draws no negative balance.
    assert (found["payable_all"].verdict, found["payable_all"].method) == (
        "no difference found", "search")
    searched = _compare(tmp_path / "search", True, semdiff.Options(examples=300,
                                                                   use_z3=False))
    assert searched["payable"].verdict == "no difference found"
    differ = _compare(tmp_path / "unconstrained", False, semdiff.Options(examples=300))
    for name in ("payable", "payable_all"):
        assert differ[name].verdict == "differs", name
        for c in differ[name].counterexamples:
            assert Decimal(c.facts["balance"]) < 0


def test_diff_of_two_files_reports_no_difference(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "draft1.clause"
    new = tmp_path / "draft2.clause"
    old.write_text(HEADER + "fact balance: money where balance >= $0\n"
                   "define payable: money = balance\n", encoding="utf-8")
    new.write_text(HEADER + "fact balance: money where balance >= $0\n"
                   "define payable: money = if balance < $0 then $0 else balance\n",
                   encoding="utf-8")
    code = cli.main(["diff", str(old), str(new), "--format", "json", "--examples", "200"])
    assert code == 0
    comparison, = json.loads(capsys.readouterr().out)["comparisons"]
    payable, = comparison["results"]
    assert payable["verdict"] == "equivalent"
    code = cli.main(["diff", str(old), str(new), "--format", "json", "--examples", "200",
                     "--no-z3"])
    comparison, = json.loads(capsys.readouterr().out)["comparisons"]
    payable, = comparison["results"]
    assert payable["verdict"] == "no difference found"
