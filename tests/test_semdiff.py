"""The semantic diff (`clausec diff`, compiler/analysis/semdiff.py): which results an amendment
changed, whether they still give the same answers, and facts on which they do not.

The seed amendments' findings are asserted concretely: every counterexample's facts are
evaluated again here on the compiled module. Small inline agreements cover proofs of
equivalence (a pure refactoring), a difference only a search finds (business days),
added and removed names, and two drafts compared as files; then the command line.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from clausec import api, cli
from clausec.analysis import search, semdiff
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
PATENT = ROOT / "clauses" / "patent_purchase"
RIGHTS = ROOT / "clauses" / "rights_agreement"
FAST = semdiff.Options(examples=400)


def _sides(folder: Path) -> tuple[semdiff.Side, semdiff.Side]:
    """The original agreement and the version as amended, compiled."""
    (agreement, amendments), = api.group([folder])
    result = api.analyse(SourceFile.read(agreement), [SourceFile.read(a) for a in amendments])
    assert result.versions is not None
    module = semdiff.compiled(result)
    (_, old), (_, new) = result.versions[0], result.versions[1]
    return (semdiff.Side(old, module, module.VERSIONS[0], "as originally signed"),
            semdiff.Side(new, module, module.VERSIONS[1], "as amended"))


@pytest.fixture(scope="module")
def patent() -> tuple[semdiff.Side, semdiff.Side]:
    return _sides(PATENT)


@pytest.fixture(scope="module")
def rights() -> tuple[semdiff.Side, semdiff.Side]:
    return _sides(RIGHTS)


def _decide(sides: tuple[semdiff.Side, semdiff.Side], name: str,
            options: semdiff.Options = FAST) -> semdiff.Finding:
    before, after = sides
    found = {f.name: f for f in semdiff.changes(before.checked, after.checked)}
    assert name in found, f"{name} is not among the changed names"
    return semdiff.decide(before, after, found[name], options)


def _values(sides: tuple[semdiff.Side, semdiff.Side], name: str,
            facts: dict[str, Any]) -> tuple[Any, Any]:
    """The name's value in each version on facts given as a facts file gives them."""
    before, after = sides
    return tuple(side.version.evaluate(name, side.module.Facts.from_dict(facts))
                 for side in (before, after))  # type: ignore[return-value]


# ------------------------------------------------------------ the seed amendments


def test_patent_closing_conditions_now_hold_on_board_approval_alone(patent: Any) -> None:
    """Section 3.1 as amended: "contingent upon (a) receipt of the Requisite Board
    Approval" where it was "(a) receipt of the Requisite Stockholder Approval"."""
    finding = _decide(patent, "closing_conditions_met")
    assert finding.verdict == "differs" and finding.method == "z3"
    assert finding.change == "changed"
    directions = {}
    for c in finding.counterexamples:
        old, new = _values(patent, "closing_conditions_met", c.facts)
        assert old is not new  # confirmed again here, on the compiled module
        assert (c.before.value, c.after.value) == (str(old).lower(), str(new).lower())
        directions[(old, new)] = c
    # Both ways: now met without stockholders once the board approved, and no longer met
    # on the stockholders' approval alone.
    assert set(directions) == {(False, True), (True, False)}
    board = directions[(False, True)]
    assert len(board.facts) == 1  # minimised: one approval is all it takes
    (fact, value), = board.facts.items()
    assert fact in ("board_approved_at_meeting_on", "board_approved_by_written_consent_on")
    assert date.fromisoformat(value)
    assert "no Requisite Stockholder Approval" in board.before.why
    assert "there is a Requisite Board Approval" in board.after.why
    stockholders = directions[(True, False)]
    assert not any(k.startswith("board_") for k in stockholders.facts)
    assert "Requisite Stockholder Approval" in stockholders.before.why


def test_patent_closing_payment_is_a_refactoring(patent: Any) -> None:
    """$1,800,000 - deposit_received for purchase_price - deposit_received: the same."""
    finding = _decide(patent, "closing_payment")
    assert (finding.verdict, finding.method) == ("equivalent", "z3")
    assert finding.summary == "equivalent (proved with z3)"
    assert not finding.counterexamples


def test_patent_dependencies_are_followed(patent: Any) -> None:
    """Section 4.1's assignment is not amended, but its condition is: it counts as
    changed, and differs; the exception the Amendment adds to a term changes the term."""
    before, after = patent
    found = {f.name: f for f in semdiff.changes(before.checked, after.checked)}
    assert found["patent_assignment"].change == "affected"
    assert "closing_conditions_met" in found["patent_assignment"].because[0]
    assert found["terminated_under_section_8"].because == (
        "exception no_termination_after_deletion_of_section_8 added",)
    assert "purchase_price" not in found  # unchanged, and uses nothing that changed
    finding = _decide(patent, "terminated_under_section_8")
    c = finding.counterexamples[0]
    assert _values(patent, "terminated_under_section_8", c.facts) == (True, False)
    assert date.fromisoformat(c.facts["terminated_on"]) >= date(2004, 3, 31)


def test_rights_tender_offer_for_all_shares_no_longer_sets_a_distribution_date(
        rights: Any) -> None:
    """Amendment No. 1, (4): clause (ii) now counts from (A) an offer "for less than the
    all outstanding shares" or (B) one reduced to less than all."""
    finding = _decide(rights, "distribution_date")
    assert finding.verdict == "differs"
    for c in finding.counterexamples:
        old, new = _values(rights, "distribution_date", c.facts)
        assert old != new
    # The headline finding for Amendment No. 1, by the diff's own machinery: facts of a
    # tender offer for all shares, minimised while the Distribution Date goes from set to
    # none.
    before, after = rights
    probe = semdiff._Probe(before, after, "distribution_date")
    offer = {"tender_offer_commenced_on": date(2003, 12, 23),
             "tender_offer_would_create_acquiring_person": True,
             "tender_offer_for_all_shares": True, "beneficial_ownership": "4%",
             "rights_redeemed": False}

    def set_then_none(a: semdiff.Outcome, b: semdiff.Outcome) -> bool:
        return a.ok and b.ok and a.value is not None and b.value is None

    assert set_then_none(*probe.pair((offer, ())))
    kinds = {i.name: i.kind for i in search.inputs([before.checked, after.checked],
                                                   "distribution_date")}
    data, _ = search.minimise(probe.accepts(set_then_none), (offer, ()), kinds, {})
    assert data == {"tender_offer_commenced_on": date(2003, 12, 23),
                    "tender_offer_would_create_acquiring_person": True,
                    "tender_offer_for_all_shares": True}
    old, new = _values(rights, "distribution_date", {k: str(v) if isinstance(v, date) else v
                                                     for k, v in data.items()})
    assert old == date(2004, 1, 8) and new is None  # ten business days after Dec 23


def test_rights_tender_offer_trigger(rights: Any) -> None:
    finding = _decide(rights, "tender_offer_distribution_date")
    assert finding.verdict == "differs"
    c = finding.counterexamples[0]
    assert c.facts.get("tender_offer_for_all_shares") is True
    old, new = _values(rights, "tender_offer_distribution_date", c.facts)
    assert old != new


# ------------------------------------------------------ small agreements


AGREEMENT = '''\
agreement supply "Supply Agreement" {
  dated January 1, 2004
  party buyer "Buyer"
  party seller "Seller"
}

section 1 "Terms" {
  text """
    The terms.
  """
  fact accepted: bool default false
  fact paid: bool default false
  fact units: integer default 0
  fact delivered_on: date optional
  fact rebate: percent default 0%
  condition complete "complete" = accepted and paid
  define doubled: integer = units * 2
  define due_on: date = 10 days after delivered_on
  condition large "large order" = units is at least 80
  define old_fee: integer = 5
}
'''

AMENDMENT = '''\
amendment supply_amendment "First Amendment" amends supply {
  dated June 1, 2004
  effective June 1, 2004
}

replace section 1 "Terms" {
  text """
    The terms, as amended.
  """
  fact accepted: bool default false
  fact paid: bool default false
  fact units: integer default 0
  fact delivered_on: date optional
  condition complete "complete" = all of [paid, accepted]
  define doubled: integer = units + units
  define due_on: date = 10 business days after delivered_on
  condition large "large order" = units is at least 85
  define new_fee: integer = 7
}
'''


@pytest.fixture
def small(tmp_path: Path) -> Path:
    folder = tmp_path / "supply"
    folder.mkdir()
    (folder / "supply.clause").write_text(AGREEMENT, encoding="utf-8")
    (folder / "amendment.clause").write_text(AMENDMENT, encoding="utf-8")
    return folder


def _compare(folder: Path, options: semdiff.Options = FAST) -> dict[str, semdiff.Finding]:
    (agreement, amendments), = api.group([folder])
    result = api.analyse(SourceFile.read(agreement), [SourceFile.read(a) for a in amendments])
    assert result.ok, result.diagnostics
    comparison, = semdiff.amendment_comparisons(result, semdiff.compiled(result), [(0, 1)],
                                                options)
    return {f.name: f for f in comparison.findings}


def test_refactorings_are_proved_equivalent(small: Path) -> None:
    found = _compare(small)
    for name in ("complete", "doubled"):  # `a and b` / all of [b, a]; x * 2 / x + x
        assert found[name].change == "changed"
        assert (found[name].verdict, found[name].method) == ("equivalent", "z3"), name


def test_threshold_moved_is_found_at_its_edge(small: Path) -> None:
    """80 to 85: the counterexample sits between the two thresholds."""
    finding = _compare(small)["large"]
    assert finding.verdict == "differs"
    units = {c.facts["units"] for c in finding.counterexamples}
    assert units and all(80 <= u < 85 for u in units)


def test_business_days_differ_by_search_only(small: Path) -> None:
    """z3 cannot do business days: the search (with z3's help on the rest) finds it."""
    from clausec.backends import smt

    (agreement, amendments), = api.group([small])
    result = api.analyse(SourceFile.read(agreement), [SourceFile.read(a) for a in amendments])
    assert result.versions is not None
    reach = smt.check_equivalent(result.versions[0][1], result.versions[1][1], "due_on")
    assert isinstance(reach, smt.OutOfReach) and "business" in reach.reason
    for options in (FAST, semdiff.Options(examples=400, use_z3=False)):
        finding = _compare(small, options)["due_on"]
        assert (finding.verdict, finding.method) == ("differs", "search")
        c, = finding.counterexamples
        assert list(c.facts) == ["delivered_on"]
        day = date.fromisoformat(c.facts["delivered_on"])
        assert c.before.value != c.after.value
        # Ten calendar days against ten business days: never the same date.
        module = semdiff.compiled(result)
        facts = module.Facts(delivered_on=day)
        assert module.VERSIONS[0].due_on(facts) != module.VERSIONS[1].due_on(facts)


def test_added_and_removed_names(small: Path) -> None:
    found = _compare(small)
    assert (found["new_fee"].change, found["new_fee"].kind) == ("added", "definition")
    assert (found["old_fee"].change, found["old_fee"].kind) == ("removed", "definition")
    assert (found["rebate"].change, found["rebate"].kind) == ("removed", "fact")
    assert found["new_fee"].verdict == "" and not found["new_fee"].counterexamples


def test_no_difference_found_says_it_is_no_proof(small: Path) -> None:
    """Without z3, even a refactoring is only searched: the verdict says how far."""
    finding = _compare(small, semdiff.Options(examples=300, use_z3=False))["doubled"]
    assert (finding.verdict, finding.method, finding.examples) == (
        "no difference found", "search", 300)
    assert finding.summary == ("no difference found in 300 examples (bounded search; "
                               "not a proof)")


NON_LINEAR = """
agreement deal "Deal" {
  dated 2004-01-01
}
fact price: money
fact rate: percent
fact owned: integer
fact outstanding: integer
define share: money = price * rate
define fee: money = price * rate
condition qualified = owned / outstanding is at least 85%
"""


def test_non_linear_results_are_decided_by_z3() -> None:
    """Products of facts and divisions by a fact are z3's too: a product commuted is
    proved the same; a doubled fee and a quotient written as a product differ, on facts
    the compiled versions confirm."""
    after = NON_LINEAR.replace("share: money = price * rate", "share: money = rate * price") \
        .replace("fee: money = price * rate", "fee: money = price * rate * 2") \
        .replace("owned / outstanding is at least 85%", "owned * 100 is at least outstanding * 85")
    old, new = (api.analyse(SourceFile(name, text))
                for name, text in (("draft1.clause", NON_LINEAR), ("draft2.clause", after)))
    found = {f.name: f for f in semdiff.file_comparison(old, new, FAST).findings}
    assert (found["share"].verdict, found["share"].method) == ("equivalent", "z3")
    for name in ("fee", "qualified"):
        assert (found[name].verdict, found[name].method) == ("differs", "z3"), name
    fee = found["fee"].counterexamples[0]
    assert fee.before.value != fee.after.value
    # A quotient of two negative counts is positive; their product test is not.
    c = found["qualified"].counterexamples[0]
    assert c.facts["outstanding"] < 0 and c.before.value != c.after.value


# ---------------------------------------------------------------- the command


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_text_and_exit_codes(small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(small), "--examples", "300")
    assert code == 0  # differences are not an error ...
    assert "complete (condition “complete”, Section 1, as amended on June 1, 2004): " \
        "equivalent (proved with z3)" in out
    assert "large (condition “large order”" in out and "when: units = 8" in out
    assert "Added: new_fee (definition)" in out
    assert "Removed: old_fee (definition), rebate (fact)" in out
    code, _, _ = _run(capsys, str(small), "--examples", "300", "--exit-code")
    assert code == 1  # ... unless asked, as git diff --exit-code


def test_cli_json_shape_and_determinism(small: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(small), "--format", "json", "--examples", "300")
    assert code == 0
    data = json.loads(out)
    comparison, = data["comparisons"]
    assert comparison["amendment"] == "the First Amendment of June 1, 2004"
    assert (comparison["before"], comparison["after"]) == ("as originally signed",
                                                           "as amended on June 1, 2004")
    results = {r["name"]: r for r in comparison["results"]}
    large = results["large"]
    assert set(large) >= {"name", "kind", "term", "change", "because", "verdict",
                          "method", "summary", "counterexamples"}
    example = large["counterexamples"][0]
    assert set(example) == {"facts", "args", "before", "after"}
    assert set(example["before"]) == {"value", "why", "explanation"}
    assert example["before"]["explanation"]["label"].startswith("large")
    assert comparison["totals"] == {"changed": 4, "equivalent": 2, "differs": 2,
                                    "no difference found": 0, "added": 1, "removed": 2}
    _, again, _ = _run(capsys, str(small), "--format", "json", "--examples", "300")
    assert again == out  # seeded: the same input gives the same output


def test_cli_two_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two drafts of one agreement, compared as files."""
    old = tmp_path / "draft1.clause"
    new = tmp_path / "draft2.clause"
    old.write_text(AGREEMENT, encoding="utf-8")
    new.write_text(AGREEMENT.replace("units is at least 80", "units is more than 80"),
                   encoding="utf-8")
    code, out, _ = _run(capsys, str(old), str(new), "--format", "json")
    assert code == 0
    comparison, = json.loads(out)["comparisons"]
    assert (comparison["before"], comparison["after"]) == (str(old), str(new))
    assert [r["name"] for r in comparison["results"]] == ["large"]
    c, = [c for c in comparison["results"][0]["counterexamples"]]
    assert c["facts"] == {"units": 80}
    assert (c["before"]["value"], c["after"]["value"]) == ("true", "false")


def test_cli_selects_an_amendment_or_dates(small: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(small), "--amendment", "supply_amendment",
                        "--examples", "200")
    assert code == 0 and "First Amendment" in out
    code, out, _ = _run(capsys, str(small), "--from", "2004-02-01", "--to", "2004-07-01",
                        "--examples", "200")
    assert code == 0 and "large" in out
    code, _, err = _run(capsys, str(small), "--amendment", "nope")
    assert code == 1 and "no amendment named 'nope'; the amendments are: " \
        "supply_amendment" in err


def test_cli_errors(tmp_path: Path, small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, str(tmp_path / "missing.clause"))
    assert code == 1 and "no such file or folder" in err
    lone = tmp_path / "lone.clause"
    lone.write_text(AGREEMENT, encoding="utf-8")
    code, _, err = _run(capsys, str(lone))
    assert code == 1 and "no amendments to compare" in err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "supply.clause").write_text(AGREEMENT.replace("units * 2", "units * "),
                                          encoding="utf-8")
    (broken / "amendment.clause").write_text(AMENDMENT, encoding="utf-8")
    code, _, err = _run(capsys, str(broken))
    assert code == 1 and "supply.clause:" in err and "Traceback" not in err


def test_summary_table_says_whether_results_are_the_same() -> None:
    from clausec import summarize

    (agreement, amendments), = api.group([PATENT])
    result = api.analyse(SourceFile.read(agreement), [SourceFile.read(a) for a in amendments])
    text = summarize(result, "markdown")
    table = text[text.index("#### What it changed in the logic"):text.index("#### Redline")]
    assert "| Provision | Change | Before | After | Same results? |" in table
    rows = {line.split("`")[1]: line for line in table.splitlines() if line.count("`") >= 2}
    assert rows["closing_payment"].endswith("| equivalent (proved with z3) |")
    assert "| differs: e.g. when board_approved_" in rows["closing_conditions_met"]
    assert "it is false before and true after (z3 counterexample, confirmed) |" in \
        rows["closing_conditions_met"]
    assert "| affected: uses closing_conditions_met, closing_date, which changed" in \
        rows["patent_assignment"]
    assert rows["amendment_date"].endswith("| — |")  # added: nothing to compare
