"""Scenario tests of the Patent Purchase Agreement of December 30, 2003, as originally signed.

Source: /work/shared/contracts/patent-purchase-agreement-and-amendment.txt (Exhibit 2.1).
Every expected value below is worked out by hand from the quoted sentence of the
Agreement, never copied from the compiled module's output.

Calendar facts used (U.S. federal holidays, 2003-2004):
- Thursday January 1, 2004: New Year's Day.
- Monday January 19, 2004: Birthday of Martin Luther King, Jr. (third Monday of January).
- Monday February 16, 2004: Washington's Birthday (third Monday of February).

The scenario tests that only give facts and expect answers are clause tests now, in
clauses/patent_purchase/patent_purchase.tests.clause (run by `clausec test` and by pytest); these are
the ones that look at the Python API: messages, explanations, renderings, JSON facts.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import clausec
from clausec.diagnostics import Diagnostics
from clausec.front import parser, transform
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
CLAUSE = ROOT / "clauses" / "patent_purchase" / "patent_purchase.clause"
EXAMPLES = ROOT / "clauses" / "examples"
CONTRACT = Path("/work/shared/contracts/patent-purchase-agreement-and-amendment.txt")


@pytest.fixture(scope="module")
def pp():
    return clausec.load(CLAUSE)


def approved(pp, on=date(2003, 12, 31), **more):
    """Facts in which the Plan of Liquidation was approved on `on` (Section 2.6(i))."""
    return pp.Facts(plan_of_liquidation_approved_on=on, **more)


# --------------------------------------------------------------------------- 2.6 / 3.1


# --------------------------------------------------------------------------- 3.2 - 3.4


class TestClosingPayment:
    """3.4: "Two business days after the satisfaction of the conditions set forth in Section
    3.1, Purchaser shall pay to Seller the amount of one million eight hundred thousand
    dollars($1,800,000), minus the amount of the Deposit Amount which has been received by
    Seller from the Escrow Agent" """


    def test_rendered_as_payment_on_the_day(self, pp):
        # "Two business days after the satisfaction of the conditions ..., Purchaser shall
        # pay": the payment falls on that day (the Closing Date is "the date and time of such
        # payment"), it is not a payment "by" a deadline.
        facts = approved(pp, on=date(2003, 12, 31), deposit_received=Decimal(900000))
        text = str(pp.closing_payment_due(facts))
        assert "Purchaser must pay $900,000.00 to Seller" in text
        assert "on January 5, 2004" in text


# --------------------------------------------------------------------------- 4, 5


# --------------------------------------------------------------------------- 7.2


# --------------------------------------------------------------------------- 8


class TestTermination:
    def test_mutual_written_consent(self, pp):
        # 8.1: "This Agreement may be terminated by the mutual written consent of Seller and
        # Purchaser."
        pw = pp.terminate_by_mutual_consent(pp.Facts())
        assert pw.available is True
        assert set(pw.holders) == {"Seller", "Purchaser"}
        assert pw.section == "8.1"

    def test_mutual_consent_is_not_rendered_as_either_party(self, pp):
        # 8.1: "the mutual written consent of Seller and Purchaser": both must act, so the
        # power must not read as if Seller or Purchaser alone could terminate.
        assert "Seller or Purchaser" not in str(pp.terminate_by_mutual_consent(pp.Facts()))

    def test_no_stockholder_approval_by_march_30_2004(self, pp):
        # 8.2: "This Agreement may be terminated by either party if the Requisite
        # Stockholder Approval is not obtained by March 30, 2004." Asked on March 31, 2004
        # with no approval: available to either party.
        pw = pp.terminate_for_no_stockholder_approval(pp.Facts(as_of=date(2004, 3, 31)))
        assert pw.available is True
        assert set(pw.holders) == {"Seller", "Purchaser"}
        assert pw.section == "8.2"


    def test_failed_vote_at_special_meeting(self, pp):
        # 8.3: "This Agreement may be terminated by either party if at a duly called special
        # meeting of Seller's stockholders at which a vote is taken on the Plan of
        # Liquidation ..., the Requisite Stockholder Vote is not obtained."
        pw = pp.terminate_for_failed_vote(pp.Facts(special_meeting_vote_taken=True))
        assert pw.available is True
        assert set(pw.holders) == {"Seller", "Purchaser"}


    def test_superior_contract_and_100k_payment(self, pp):
        # 8.4: "Seller may terminate this agreement if it enters into a contract with
        # another party which Seller's board of directors determines is ... reasonably
        # likely to result in greater financial return to stockholders ... In the event of
        # such a termination, Seller shall pay Purchaser one hundred thousand dollars
        # ($100,000)".
        facts = pp.Facts(other_contract_entered=True, board_determined_greater_return=True)
        pw = pp.terminate_for_superior_contract(facts)
        assert pw.available is True
        assert pw.holders == ("Seller",)
        assert pw.section == "8.4"
        assert len(pw.consequences) == 1
        payment = pw.consequences[0]
        assert payment.obligor == "Seller"
        assert payment.beneficiary == "Purchaser"
        assert payment.action == "pay"
        assert payment.object == Decimal(100000)


# --------------------------------------------------------------------------- misc


class TestHeaderAndStructure:
    def test_header(self, pp):
        # 'This PATENT PURCHASE AGREEMENT ("Agreement") is entered into on December 30,
        # 2003 ... by and between Thalveg Data Flow LLC ... ("Purchaser"), and Net
        # Perceptions, Inc., a Delaware corporation ... ("Seller").'
        # 9.4: "... governed by the internal substantive laws of the State of New York"
        assert pp.AGREEMENT["title"] == "Patent Purchase Agreement"
        assert pp.AGREEMENT["dated"] == "2003-12-30"
        assert "New York" in pp.AGREEMENT["governing_law"]
        roles = {role for role, _ in pp.PARTIES.values()}
        assert roles == {"Purchaser", "Seller"}
        assert pp.PARTIES["purchaser"][1].startswith("Thalveg Data Flow LLC")
        assert pp.PARTIES["seller"][1].startswith("Net Perceptions, Inc.")

    def test_explain_names_deciding_sections(self, pp):
        # 3.1 decides the closing conditions; 2.6 defines the Requisite Stockholder Approval.
        ex = pp.explain("closing_conditions_met", approved(pp))
        assert ex.value is True
        assert ex.section == "3.1"
        assert "Section 3.1" in str(ex)
        approval = ex.find("Requisite Stockholder Approval")
        assert approval is not None
        assert approval.section == "2.6"
        assert "Section 2.6" in str(ex)

    def test_explain_closing_payment(self, pp):
        ex = pp.explain("closing_payment", approved(pp, deposit_received="900000"))
        assert ex.value == Decimal(900000)
        assert ex.section == "3.4"
        assert "Section 3.4" in str(ex)

    def test_missing_fact_is_reported(self, pp):
        # 8.2 cannot be decided without the date of the question once no approval is known.
        with pytest.raises(pp.MissingFactError) as info:
            pp.terminate_for_no_stockholder_approval(pp.Facts())
        assert info.value.fact == "as_of"

    def test_wrong_fact_type_is_rejected(self, pp):
        with pytest.raises(pp.FactError):
            pp.Facts(deposit_received=1.5)


def _program(path: Path):
    source = SourceFile.read(path)
    diagnostics = Diagnostics()
    return transform.build(source.name, parser.parse(source, diagnostics), diagnostics)


def _logic_names(program) -> set[str]:
    from clausec import ir

    return {d.name for d in program.declarations if not isinstance(d, ir.Fact)}


def test_every_section_with_logic_has_text():
    program = _program(CLAUSE)
    logic = _logic_names(program)
    for section in program.sections:
        if logic.intersection(section.declarations):
            assert section.texts, f"section {section.number} has logic but no text"


def test_text_blocks_are_the_contracts_words():
    # Every text block is a verbatim passage of the Agreement (whitespace aside).
    norm = lambda s: re.sub(r"\s+", " ", s).strip()
    contract = norm(CONTRACT.read_text())
    for section in _program(CLAUSE).sections:
        for text in section.texts:
            assert norm(text.text) in contract, f"section {section.number}: {text.text[:60]}"


def test_one_section_per_contract_section():
    # Sections 1.1-1.3, 2.1-2.6, 3.1-3.4, 4.1-4.3, 5.1-5.3, 6.1-6.11, 7.1-7.2, 8.1-8.4,
    # 9.1-9.11 of the original Agreement.
    expected = (
        [f"1.{i}" for i in range(1, 4)] + [f"2.{i}" for i in range(1, 7)]
        + [f"3.{i}" for i in range(1, 5)] + [f"4.{i}" for i in range(1, 4)]
        + [f"5.{i}" for i in range(1, 4)] + [f"6.{i}" for i in range(1, 12)]
        + [f"7.{i}" for i in range(1, 3)] + [f"8.{i}" for i in range(1, 5)]
        + [f"9.{i}" for i in range(1, 12)]
    )
    assert [s.number for s in _program(CLAUSE).sections] == expected


def test_example_closing_facts(pp):
    # clauses/examples/patent_closing.json: Plan of Liquidation approved Wednesday December
    # 31, 2003, Amendment 2 intact, the $900,000 Deposit Amount received by Seller.
    facts = pp.Facts.from_dict(json.loads((EXAMPLES / "patent_closing.json").read_text()))
    assert pp.closing_conditions_met(facts) is True
    assert pp.closing_payment(facts) == Decimal(900000)
    assert pp.closing_date(facts) == date(2004, 1, 5)


def test_example_superior_contract_facts(pp):
    # clauses/examples/patent_superior_contract.json: Seller enters into a superior
    # contract (8.4) and terminates on Friday February 13, 2004.
    facts = pp.Facts.from_dict(json.loads((EXAMPLES / "patent_superior_contract.json").read_text()))
    assert pp.terminate_for_superior_contract(facts).available is True
    assert pp.deposit_to_purchaser_on_termination(facts).due == date(2004, 2, 18)
