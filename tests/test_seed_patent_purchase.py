"""Scenario tests of the Patent Purchase Agreement of December 30, 2003, as originally signed.

Source: /work/shared/contracts/patent-purchase-agreement-and-amendment.txt (Exhibit 2.1).
Every expected value below is worked out by hand from the quoted sentence of the
Agreement, never copied from the compiled module's output.

Calendar facts used (U.S. federal holidays, 2003-2004):
- Thursday January 1, 2004: New Year's Day.
- Monday January 19, 2004: Birthday of Martin Luther King, Jr. (third Monday of January).
- Monday February 16, 2004: Washington's Birthday (third Monday of February).
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import clausec
import pytest
from clausec import parser, transform
from clausec.diagnostics import Diagnostics
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


class TestClosingConditions:
    """3.1: "... contingent upon (a) receipt of the Requisite Stockholder Approval and (b)
    the Amendment 2 to the License Agreement ... has not been terminated or amended." """

    def test_met_when_plan_of_liquidation_approved_and_amendment_2_intact(self, pp):
        # 2.6: approval "of (i) the Plan of Liquidation" is Requisite Stockholder Approval.
        facts = approved(pp)
        assert pp.requisite_stockholder_approval(facts) is True
        assert pp.closing_conditions_met(facts) is True

    def test_met_when_merger_agreement_approved(self, pp):
        # 2.6 (ii): "by such requisite vote approving and adopting a merger agreement which
        # provides for the transfer of patents pursuant to this Agreement"
        facts = pp.Facts(merger_agreement_approved_on=date(2004, 3, 18))
        assert pp.requisite_stockholder_approval(facts) is True
        assert pp.closing_conditions_met(facts) is True

    def test_met_when_agreement_approved_by_separate_vote(self, pp):
        # 2.6 (ii): "... or by separate vote."
        facts = pp.Facts(agreement_approved_by_separate_vote_on=date(2004, 3, 18))
        assert pp.requisite_stockholder_approval(facts) is True
        assert pp.closing_conditions_met(facts) is True

    def test_not_met_without_stockholder_approval(self, pp):
        # (a) "receipt of the Requisite Stockholder Approval" has not happened.
        facts = pp.Facts()
        assert pp.requisite_stockholder_approval(facts) is False
        assert pp.closing_conditions_met(facts) is False

    def test_not_met_when_amendment_2_terminated_or_amended(self, pp):
        # (b) "the Amendment 2 to the License Agreement ... has not been terminated or
        # amended" fails, although (a) holds.
        facts = approved(pp, license_amendment_2_terminated_or_amended=True)
        assert pp.requisite_stockholder_approval(facts) is True
        assert pp.closing_conditions_met(facts) is False

    def test_not_met_when_both_fail(self, pp):
        facts = pp.Facts(license_amendment_2_terminated_or_amended=True)
        assert pp.closing_conditions_met(facts) is False

    def test_approval_obtained_on_first_approval(self, pp):
        # 2.6: approval of "(i) the Plan of Liquidation or (ii) this Agreement": whichever
        # comes first is the receipt of the Requisite Stockholder Approval.
        facts = pp.Facts(
            plan_of_liquidation_approved_on=date(2004, 3, 18),
            agreement_approved_by_separate_vote_on=date(2004, 3, 17),
        )
        assert pp.requisite_stockholder_approval_obtained_on(facts) == date(2004, 3, 17)


# --------------------------------------------------------------------------- 3.2 - 3.4


class TestPriceAndDeposit:
    def test_purchase_price(self, pp):
        # 3.2: "The total purchase price ... shall be one million eight hundred thousand
        # dollars ($1,800,000)"
        assert pp.purchase_price(pp.Facts()) == Decimal(1800000)

    def test_deposit_amount_is_deposit_plus_interest(self, pp):
        # 3.3: "nine hundred thousand dollars ($900,000) (the "Deposit" and, together with
        # any interest earned thereon, the "Deposit Amount")": 900,000 + 1,234.56.
        facts = pp.Facts(interest_earned=Decimal("1234.56"))
        assert pp.deposit(facts) == Decimal(900000)
        assert pp.deposit_amount(facts) == Decimal("901234.56")

    def test_deposit_amount_without_interest(self, pp):
        assert pp.deposit_amount(pp.Facts()) == Decimal(900000)

    def test_deposit_payable_upon_execution(self, pp):
        # 3.3: "Upon the execution of this Agreement, Purchaser shall pay to Private Bank
        # Minnesota (the "Escrow Agent") nine hundred thousand dollars ($900,000)"; the
        # Agreement "is entered into on December 30, 2003".
        ob = pp.deposit_payment(pp.Facts())
        assert ob.obligor == "Purchaser"
        assert ob.object == Decimal(900000)
        assert ob.due == date(2003, 12, 30)
        assert ob.active is True
        assert ob.section == "3.3"


class TestClosingPayment:
    """3.4: "Two business days after the satisfaction of the conditions set forth in Section
    3.1, Purchaser shall pay to Seller the amount of one million eight hundred thousand
    dollars($1,800,000), minus the amount of the Deposit Amount which has been received by
    Seller from the Escrow Agent" """

    def test_900k_when_deposit_amount_received(self, pp):
        # $1,800,000 - $900,000 = $900,000
        facts = approved(pp, deposit_received=Decimal(900000))
        assert pp.closing_payment(facts) == Decimal(900000)

    def test_1_8m_when_nothing_received(self, pp):
        # $1,800,000 - $0 = $1,800,000
        facts = approved(pp)
        assert pp.closing_payment(facts) == Decimal(1800000)

    def test_deposit_with_interest_received(self, pp):
        # Seller received the Deposit Amount of $900,000 + $1,234.56 interest:
        # $1,800,000 - $901,234.56 = $898,765.44
        facts = approved(pp, deposit_received="901234.56")
        assert pp.closing_payment(facts) == Decimal("898765.44")

    def test_due_two_business_days_after_conditions_over_holiday_and_weekend(self, pp):
        # Conditions satisfied Wednesday December 31, 2003. Thursday January 1, 2004 is New
        # Year's Day; Friday January 2 is business day 1; Saturday 3 and Sunday 4 are the
        # weekend; Monday January 5, 2004 is business day 2.
        facts = approved(pp, on=date(2003, 12, 31), deposit_received=Decimal(900000))
        assert pp.conditions_satisfied_on(facts) == date(2003, 12, 31)
        assert pp.closing_date(facts) == date(2004, 1, 5)
        ob = pp.closing_payment_due(facts)
        assert ob.active is True
        assert ob.obligor == "Purchaser"
        assert ob.beneficiary == "Seller"
        assert ob.action == "pay"
        assert ob.object == Decimal(900000)
        assert ob.due == date(2004, 1, 5)
        assert ob.section == "3.4"

    def test_rendered_as_payment_on_the_day(self, pp):
        # "Two business days after the satisfaction of the conditions ..., Purchaser shall
        # pay": the payment falls on that day (the Closing Date is "the date and time of such
        # payment"), it is not a payment "by" a deadline.
        facts = approved(pp, on=date(2003, 12, 31), deposit_received=Decimal(900000))
        text = str(pp.closing_payment_due(facts))
        assert "Purchaser must pay $900,000.00 to Seller" in text
        assert "on January 5, 2004" in text

    def test_due_two_business_days_after_thursday(self, pp):
        # Conditions satisfied Thursday March 18, 2004: Friday March 19 (1), weekend,
        # Monday March 22, 2004 (2).
        facts = pp.Facts(agreement_approved_by_separate_vote_on=date(2004, 3, 18))
        assert pp.closing_date(facts) == date(2004, 3, 22)

    def test_not_in_effect_without_conditions(self, pp):
        # 3.1: the obligation of Purchaser to make the payment "[is] contingent upon" the
        # conditions.
        facts = approved(pp, license_amendment_2_terminated_or_amended=True)
        ob = pp.closing_payment_due(facts)
        assert ob.active is False

    def test_deposit_delivered_to_seller_before_closing(self, pp):
        # 3.4: "Immediately prior to the Closing Date, the parties hereto agree to instruct
        # the Escrow Agent to deliver the Deposit Amount to Seller."
        facts = approved(pp, on=date(2003, 12, 31))
        ob = pp.deposit_to_seller_at_closing(facts)
        assert ob.active is True
        assert ob.beneficiary == "Seller"
        assert ob.object == Decimal(900000)
        assert ob.due == date(2004, 1, 5)


class TestEscrowTransfers:
    def test_deposit_to_seller_within_two_business_days_after_breach(self, pp):
        # 3.3: "If Purchaser breaches this Agreement by failing to timely make the payment
        # specified in Section 3.4, ... the Deposit Amount shall be transferred to Seller
        # within two business days after the breach".
        # Breach Friday January 16, 2004; Monday January 19 is Martin Luther King, Jr. Day:
        # Tuesday January 20 (1), Wednesday January 21, 2004 (2).
        facts = pp.Facts(payment_breach_on=date(2004, 1, 16), interest_earned="500.00")
        ob = pp.deposit_to_seller_on_breach(facts)
        assert ob.active is True
        assert ob.beneficiary == "Seller"
        assert ob.object == Decimal("900500.00")
        assert ob.due == date(2004, 1, 21)
        assert ob.section == "3.3"

    def test_no_transfer_to_seller_without_breach(self, pp):
        ob = pp.deposit_to_seller_on_breach(pp.Facts())
        assert ob.active is False

    def test_deposit_to_purchaser_within_two_business_days_after_termination(self, pp):
        # 3.3: "If this Agreement is terminated pursuant to Section 8, the Deposit Amount
        # will be transferred to Purchaser within two business days after any such
        # termination".
        # Terminated Friday February 13, 2004; Monday February 16 is Washington's Birthday:
        # Tuesday February 17 (1), Wednesday February 18, 2004 (2).
        facts = pp.Facts(terminated_on=date(2004, 2, 13))
        ob = pp.deposit_to_purchaser_on_termination(facts)
        assert ob.active is True
        assert ob.beneficiary == "Purchaser"
        assert ob.object == Decimal(900000)
        assert ob.due == date(2004, 2, 18)

    def test_no_transfer_to_purchaser_without_termination(self, pp):
        ob = pp.deposit_to_purchaser_on_termination(pp.Facts())
        assert ob.active is False


# --------------------------------------------------------------------------- 4, 5


class TestTransferOnClosingDate:
    """4.1-4.3, 5.1: "Effective on the Closing Date ..." / "On the Closing Date, seller
    shall deliver to Purchaser ..." """

    @pytest.mark.parametrize(
        "name, section, obligor, beneficiary",
        [
            ("patent_assignment", "4.1", "Seller", "Purchaser"),
            ("causes_of_action_assignment", "4.2", "Seller", "Purchaser"),
            ("license_agreement_assignment", "4.3", "Seller", "Purchaser"),
            ("closing_delivery", "5.1", "Seller", "Purchaser"),
            ("license_back", "7.1", "Purchaser", "Seller"),
        ],
    )
    def test_due_on_closing_date(self, pp, name, section, obligor, beneficiary):
        # Conditions satisfied December 31, 2003 -> Closing Date January 5, 2004 (see
        # TestClosingPayment).
        ob = getattr(pp, name)(approved(pp, on=date(2003, 12, 31)))
        assert ob.active is True
        assert ob.section == section
        assert ob.obligor == obligor
        assert ob.beneficiary == beneficiary
        assert ob.due == date(2004, 1, 5)

    def test_transfer_contingent_on_closing_conditions(self, pp):
        # 3.1: "The obligation of Seller to transfer the Patents pursuant to Section 4 ...
        # [is] contingent upon (a) receipt of the Requisite Stockholder Approval"
        ob = pp.patent_assignment(pp.Facts())
        assert ob.active is False

    def test_purchaser_performs_license_agreement_from_closing_date(self, pp):
        # 4.3: "Purchaser agrees to accept such assignment and, beginning on the Closing
        # Date, to perform all the obligations of Seller under the License Agreement."
        ob = pp.license_agreement_performance(approved(pp, on=date(2003, 12, 31)))
        assert ob.obligor == "Purchaser"
        assert ob.due == date(2004, 1, 5)


class TestMeetingNotice:
    def test_ten_days_prior_written_notice(self, pp):
        # 5.3: "Seller will give Purchaser at least ten (10) days prior written notice of
        # the date of the stockholder meeting": meeting Thursday March 18, 2004 -> notice
        # no later than March 8, 2004 (March 18 - 10 days).
        ob = pp.meeting_date_notice(pp.Facts(stockholder_meeting_on=date(2004, 3, 18)))
        assert ob.active is True
        assert ob.obligor == "Seller"
        assert ob.beneficiary == "Purchaser"
        assert ob.due == date(2004, 3, 8)

    def test_no_notice_without_meeting(self, pp):
        assert pp.meeting_date_notice(pp.Facts()).active is False


# --------------------------------------------------------------------------- 7.2


class TestRevenueLimitation:
    """7.2: "The Revenue Limitation shall be Ten Million Dollars ($10,000,000.00) during the
    calendar year of the first such transfer, and shall be increased each subsequent year by
    seven point five percent (7.5%)." Read as compounding (see the clause file)."""

    def test_year_of_first_transfer(self, pp):
        facts = pp.Facts(license_first_transferred_on=date(2004, 6, 1))
        assert pp.revenue_limitation(facts, 2004) == Decimal(10000000)

    def test_first_subsequent_year(self, pp):
        # 10,000,000 x 1.075 = 10,750,000
        facts = pp.Facts(license_first_transferred_on=date(2004, 6, 1))
        assert pp.revenue_limitation(facts, 2005) == Decimal(10750000)

    def test_2008_with_first_transfer_in_2004(self, pp):
        # 10,000,000 x 1.075^4 = 10,000,000 x 1.335469140625 = 13,354,691.40625
        facts = pp.Facts(license_first_transferred_on=date(2004, 6, 1))
        assert pp.revenue_limitation(facts, 2008) == Decimal("13354691.40625")

    def test_2008_with_first_transfer_in_2006(self, pp):
        # 10,000,000 x 1.075^2 = 10,000,000 x 1.155625 = 11,556,250
        facts = pp.Facts(license_first_transferred_on=date(2006, 2, 1))
        assert pp.revenue_limitation(facts, 2008) == Decimal(11556250)

    def test_12_5m_covered_in_2008_after_2004_transfer(self, pp):
        # "this license shall apply only ... to the extent that revenue ... does not exceed
        # the "Revenue Limitation"": 12,500,000 <= 13,354,691.40625.
        facts = pp.Facts(license_first_transferred_on=date(2004, 6, 1))
        assert pp.license_covers(facts, Decimal(12500000), 2008) is True
        assert pp.licensed_revenue(facts, Decimal(12500000), 2008) == Decimal(12500000)

    def test_12_5m_not_covered_in_2008_after_2006_transfer(self, pp):
        # 12,500,000 > 11,556,250: only 11,556,250 of it is licensed.
        facts = pp.Facts(license_first_transferred_on=date(2006, 2, 1))
        assert pp.license_covers(facts, Decimal(12500000), 2008) is False
        assert pp.licensed_revenue(facts, Decimal(12500000), 2008) == Decimal(11556250)

    def test_not_limited_before_any_transfer(self, pp):
        # "Upon such a transaction, this license shall apply only ...": no transfer, no
        # limitation.
        facts = pp.Facts()
        assert pp.license_limited(facts, 2008) is False
        assert pp.license_covers(facts, Decimal(50000000), 2008) is True
        assert pp.licensed_revenue(facts, Decimal(50000000), 2008) == Decimal(50000000)

    def test_not_limited_in_years_before_first_transfer(self, pp):
        facts = pp.Facts(license_first_transferred_on=date(2006, 2, 1))
        assert pp.license_limited(facts, 2005) is False
        assert pp.license_covers(facts, Decimal(50000000), 2005) is True

    def test_limit_itself_is_covered(self, pp):
        # "does not exceed": revenue equal to the limitation is covered.
        facts = pp.Facts(license_first_transferred_on=date(2004, 6, 1))
        assert pp.license_covers(facts, Decimal(10000000), 2004) is True
        assert pp.license_covers(facts, Decimal("10000000.01"), 2004) is False

    def test_transfer_permitted_only_to_acquirer_of_substantially_all(self, pp):
        # 7.2: "This license is not transferable except to a purchaser of all, or
        # substantially all, of a Licensee's assets, or to a party that by merger or
        # otherwise acquires all, or substantially all, of a Licensee's outstanding capital
        # stock."
        assert pp.transfer_license(pp.Facts()).available is False
        assert pp.transfer_license(
            pp.Facts(transferee_purchases_substantially_all_assets=True)).available is True
        assert pp.transfer_license(
            pp.Facts(transferee_acquires_substantially_all_stock=True)).available is True


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

    def test_not_yet_on_march_30_2004(self, pp):
        # On March 30, 2004 the approval can still be obtained "by March 30, 2004".
        pw = pp.terminate_for_no_stockholder_approval(pp.Facts(as_of=date(2004, 3, 30)))
        assert pw.available is False

    def test_not_when_approval_obtained_by_march_30_2004(self, pp):
        facts = approved(pp, on=date(2004, 3, 18), as_of=date(2004, 4, 15))
        assert pp.stockholder_approval_obtained_by_deadline(facts) is True
        assert pp.terminate_for_no_stockholder_approval(facts).available is False

    def test_not_when_approval_obtained_on_march_30_2004(self, pp):
        # "by March 30, 2004" includes March 30, 2004.
        facts = approved(pp, on=date(2004, 3, 30), as_of=date(2004, 4, 15))
        assert pp.terminate_for_no_stockholder_approval(facts).available is False

    def test_when_approval_obtained_after_march_30_2004(self, pp):
        # Obtained April 2, 2004: not obtained "by March 30, 2004".
        facts = approved(pp, on=date(2004, 4, 2), as_of=date(2004, 4, 5))
        assert pp.stockholder_approval_obtained_by_deadline(facts) is False
        assert pp.terminate_for_no_stockholder_approval(facts).available is True

    def test_failed_vote_at_special_meeting(self, pp):
        # 8.3: "This Agreement may be terminated by either party if at a duly called special
        # meeting of Seller's stockholders at which a vote is taken on the Plan of
        # Liquidation ..., the Requisite Stockholder Vote is not obtained."
        pw = pp.terminate_for_failed_vote(pp.Facts(special_meeting_vote_taken=True))
        assert pw.available is True
        assert set(pw.holders) == {"Seller", "Purchaser"}

    def test_no_failed_vote_when_approved(self, pp):
        facts = approved(pp, on=date(2004, 3, 18), special_meeting_vote_taken=True)
        assert pp.terminate_for_failed_vote(facts).available is False

    def test_no_failed_vote_without_meeting(self, pp):
        assert pp.terminate_for_failed_vote(pp.Facts()).available is False

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

    def test_no_superior_contract_without_board_determination(self, pp):
        facts = pp.Facts(other_contract_entered=True)
        assert pp.terminate_for_superior_contract(facts).available is False

    def test_no_superior_contract_without_contract(self, pp):
        facts = pp.Facts(board_determined_greater_return=True)
        assert pp.terminate_for_superior_contract(facts).available is False


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
