"""`clausec verify`: proofs, counterexamples confirmed by the compiled code and replayed by
`clausec eval`, search where z3 cannot reach, exit codes, and the seed contracts'
invariants."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli, write_clause

from clausec import api
from clausec.analysis import verify
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]

HEADER = """
agreement deal "Deal" {
  dated 2004-01-01
  party buyer "Buyer"
  party seller "Seller"
}
"""

CONTRACT = HEADER + """
fact price: money
fact paid: money default $0
fact start: date optional
define remaining "the remaining price": money = price - paid
define due: date = 2 business days after start
invariant remaining_never_negative "the remaining price is never negative" =
  remaining is at least $0 when paid is at most price
invariant remaining_bad "the remaining price is always positive" = remaining is more than $0
invariant due_soon "the due date is at most a week after the start" =
  due is at most start + 7 days when start is given
"""

# Five business days a week, z3's approximation says three business days are three
# days: only the search finds the weekends and holidays in between.
SEARCH_ONLY = HEADER + """
fact start: date
define due: date = 3 business days after start
invariant due_within_three_days "the due date is at most three days after the start" =
  due is at most start + 3 days
"""


def outcomes_of(path: Path, examples: int = 50, names: set[str] | None = None
                ) -> dict[str, verify.Outcome]:
    agreement, found = api.group([path])[0]
    result = api.analyse(SourceFile.read(agreement), [SourceFile.read(a) for a in found])
    assert result.ok, [d.message for d in result.diagnostics]
    return {f"{o.invariant}{'@' + o.version if o.version else ''}": o
            for o in verify.verify(result, examples=examples, timeout=5, names=names)}


def test_proof_counterexample_and_search(tmp_path: Path) -> None:
    outcomes = outcomes_of(write_clause(tmp_path, CONTRACT, "deal.clause"))
    proved = outcomes["remaining_never_negative"]
    assert (proved.status, proved.method, proved.verdict) == ("proved", "z3", "proved (z3)")
    bad = outcomes["remaining_bad"]
    assert bad.status == "failed" and bad.method == "z3"
    # Minimal: the one required fact that matters, nothing optional.
    assert bad.facts == {"price": "0"} and bad.failure == "is false"
    assert "remaining is more than $0 = false" in bad.explanation
    due = outcomes["due_soon"]
    assert due.method == "search" and due.status == "passed"
    assert due.verdict == "no counterexample in 50 examples (search)"
    assert "business-day" in due.note


def test_a_false_invariant_only_search_finds(tmp_path: Path) -> None:
    outcome = outcomes_of(write_clause(tmp_path, SEARCH_ONLY, "deal.clause"),
                          examples=200)["due_within_three_days"]
    assert "business-day" in outcome.note
    assert outcome.status == "failed" and outcome.method == "search"
    assert outcome.facts is not None
    # A start from Wednesday on: the weekend falls within the three business days.
    assert date.fromisoformat(outcome.facts["start"]).weekday() >= 2


def test_cli_writes_a_counterexample_that_eval_replays(tmp_path: Path) -> None:
    path = write_clause(tmp_path, CONTRACT, "deal.clause")
    out = tmp_path / "cex"
    run = run_cli("verify", path, "--examples", "20", "--counterexamples", out)
    assert run.returncode == 1, run.stderr
    assert "proved (z3)" in run.stdout
    assert "counterexample (z3)" in run.stdout
    assert "no counterexample in 20 examples (search)" in run.stdout
    assert "FAILED: remaining_bad: is false" in run.stdout
    written = out / "remaining_bad.json"
    assert json.loads(written.read_text()) == {"price": "0"}
    command = f"clausec eval {path} remaining_bad --facts {written} --explain"
    assert command in run.stdout
    replay = run_cli("eval", path, "remaining_bad", "--facts", written, "--explain")
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout.startswith("remaining_bad = false")
    assert "The guarantee “the remaining price is always positive” does not hold" in \
        " ".join(replay.stdout.split())


def test_cli_exit_0_and_json(tmp_path: Path) -> None:
    text = CONTRACT.replace("invariant remaining_bad", "# invariant remaining_bad") \
        .replace('"the remaining price is always positive" = remaining is more than $0', "")
    path = write_clause(tmp_path, text, "deal.clause")
    run = run_cli("verify", path, "--examples", "10", "--format", "json")
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(run.stdout)
    assert {d["invariant"]: d["verdict"] for d in data} == {
        "remaining_never_negative": "proved (z3)",
        "due_soon": "no counterexample in 10 examples (search)",
    }


def test_cli_errors(tmp_path: Path) -> None:
    run = run_cli("verify", tmp_path / "missing.clause")
    assert run.returncode == 1 and "no such file" in run.stderr
    broken = write_clause(tmp_path, HEADER + "invariant x = nope\n", "broken.clause")
    run = run_cli("verify", broken)
    assert run.returncode == 1 and "'nope' is not defined" in run.stderr
    assert "Traceback" not in run.stderr
    run = run_cli("verify", broken, "--examples", "0")
    assert run.returncode == 2 and "must be at least 1" in run.stderr


def test_amended_versions_are_each_verified(tmp_path: Path) -> None:
    write_clause(tmp_path, HEADER + """
section 1 {
  define fee: money = $10
}
invariant fee_small "the fee is at most $10" = fee is at most $10
""", "deal.clause")
    write_clause(tmp_path, """
amendment raise "Amendment" amends deal {
  dated 2005-01-01
  effective 2005-01-01
}
replace section 1 {
  define fee: money = $20
}
""", "amendment.clause")
    run = run_cli("verify", tmp_path, "--examples", "5", "--counterexamples", tmp_path / "cex")
    assert run.returncode == 1, run.stderr
    assert "proved (z3)" in run.stdout and "as originally signed" in run.stdout
    assert "FAILED: fee_small, as amended on January 1, 2005: is false" in run.stdout
    assert (tmp_path / "cex" / "fee_small@2005-01-01.json").exists()
    assert "--as-of 2005-01-01 --explain" in run.stdout


# ------------------------------------------------------------- seed contracts

SEED_METHODS: dict[str, dict[str, str]] = {
    "patent_purchase": {
        "closing_payment_never_negative": "proved (z3)",
        "deposit_amount_at_least_deposit": "proved (z3)",
        "stockholder_approval_has_a_date": "proved (z3)",
        "revenue_limitation_starts_at_ten_million": "proved (z3)|search",
        "revenue_limitation_grows": "proved (z3)|search",
        "closing_date_after_effective_date": "search|proved (z3)",
        "limited_license_covers_its_limitation": "proved (z3)|search",
        "board_approval_has_a_date": "proved (z3)",
        "closing_date_is_amendment_date": "proved (z3)",
        "no_termination_under_section_8_after_amendment": "proved (z3)",
    },
    "rights_agreement": {
        "distribution_date_not_before_stock_acquisition": "search",
        "stock_acquisition_starts_distribution": "search",
        "stock_acquisition_needs_acquiring_person": "proved (z3)|search",
        "flip_in_needs_acquiring_person": "proved (z3)|search",
        "flip_in_is_a_triggering_event": "proved (z3)|search",
        "redeemed_rights_not_exercisable": "search",
    },
}


@pytest.mark.parametrize("folder", sorted(SEED_METHODS))
def test_seed_contract_invariants_hold(folder: str) -> None:
    """Every invariant of the seed contracts holds in every version, by the method the
    logic allows: z3 where it reaches, search otherwise; never a failure. (z3 once found
    a division by zero in Amendment No. 1's Qualified Transaction, with no shares
    outstanding, that the search had missed; the clause now says what that case means.)"""
    agreement, found = api.group([ROOT / "clauses" / folder])[0]
    result = api.analyse(SourceFile.read(agreement), [SourceFile.read(a) for a in found])
    assert result.versions is not None
    outcomes = verify.verify(result, examples=15, timeout=5)
    assert {o.invariant for o in outcomes} == set(SEED_METHODS[folder])
    for outcome in outcomes:
        assert outcome.status != "failed", (outcome.invariant, outcome.version, outcome.facts,
                                            outcome.failure)
        allowed = SEED_METHODS[folder][outcome.invariant].split("|")
        method = "proved (z3)" if outcome.status == "proved" else "search"
        assert method in allowed, (outcome.invariant, outcome.version, outcome.verdict)
        # The original and the amended version both: proofs where the logic is linear.
    by_version = {(o.invariant, o.version): o.verdict for o in outcomes}
    if folder == "rights_agreement":
        assert by_version[("flip_in_needs_acquiring_person", "as originally signed")] == \
            "proved (z3)"
    else:
        assert by_version[("closing_date_after_effective_date",
                           "as amended on March 31, 2004")] == "proved (z3)"


def test_seed_counterexample_of_the_unqualified_distribution_date(tmp_path: Path) -> None:
    """"The Distribution Date is never before the Stock Acquisition Date" is false as the
    Agreement is written: clause (ii) (a tender offer) can come first."""
    for source in (ROOT / "clauses" / "rights_agreement").glob("*.clause"):
        if not source.name.endswith(".tests.clause"):
            (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"),
                                                encoding="utf-8")
    agreement = tmp_path / "rights_agreement.clause"
    agreement.write_text(agreement.read_text(encoding="utf-8") + """
invariant dd_never_before_sad = distribution_date is on or after stock_acquisition_date
  when stock_acquisition_date is given and distribution_date is given
""", encoding="utf-8")
    outcomes = outcomes_of(tmp_path, examples=100, names={"dd_never_before_sad"})
    outcome = outcomes["dd_never_before_sad@as originally signed"]
    assert outcome.status == "failed", outcome
    facts: dict[str, Any] = outcome.facts or {}
    assert facts["tender_offer_commenced_on"] < facts["acquiring_person_announced_on"]
