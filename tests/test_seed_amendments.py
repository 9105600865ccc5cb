"""Scenario tests of the two seed amendments, through the consolidated, versioned module.

- The Amendment to Patent Purchase Agreement of March 31, 2004 (effective March 31, 2004):
  /work/shared/contracts/patent-purchase-agreement-and-amendment.txt, near the end;
  clauses/patent_purchase/amendment_2004_03_31.clause.
- Amendment No. 1 to Rights Agreement of December 22, 2003 (effective December 22, 2003):
  /work/shared/contracts/rights-agreement-amendment-no-1.txt, Exhibit 2 at the end;
  clauses/rights_agreement/amendment_no_1.clause.

`clausec.load(agreement, amendments=[...])` gives the latest version at the top level and
`module.at(date)` the version in force on a date. Every expected value below is worked out
by hand from the quoted sentence, never copied from the compiled module's output.

Calendar facts used:
- March 2004: Monday March 1, Thursday March 18, Monday March 22, Tuesday March 30,
  Wednesday March 31; Monday March 15 + 2 business days = Wednesday March 17. No federal
  holiday falls in March or April 2004 before Memorial Day.
- Friday November 21, 2003 + 10 business days (Thanksgiving, Thursday November 27, is not
  one) = Monday December 8, 2003.
- Monday December 1, 2003 + 10 business days = Monday December 15, 2003.
- Times in December 2003 are Eastern Standard Time (UTC-5).

The scenario tests that only give facts and expect answers are clause tests now, in
clauses/patent_purchase/patent_purchase.tests.clause and
clauses/rights_agreement/rights_agreement.tests.clause (run by `clausec test` and by pytest); these are
the ones that look at the Python API: messages, explanations, renderings, JSON facts.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import clausec
from clausec import ir
from clausec.diagnostics import Diagnostics
from clausec.front import parser, transform
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
CLAUSES = ROOT / "clauses"
PPA = CLAUSES / "patent_purchase" / "patent_purchase.clause"
PPA_AMENDMENT = CLAUSES / "patent_purchase" / "amendment_2004_03_31.clause"
RA = CLAUSES / "rights_agreement" / "rights_agreement.clause"
RA_AMENDMENT = CLAUSES / "rights_agreement" / "amendment_no_1.clause"
PPA_CONTRACT = Path("/work/shared/contracts/patent-purchase-agreement-and-amendment.txt")
RA_CONTRACT = Path("/work/shared/contracts/rights-agreement-amendment-no-1.txt")
NY = ZoneInfo("America/New_York")

PPA_TITLE = "Amendment to Patent Purchase Agreement"
RA_TITLE = "Amendment No. 1 to Rights Agreement"

# The PPA Amendment is effective March 31, 2004.
BEFORE_PPA = date(2004, 3, 1)
EVE_OF_PPA = date(2004, 3, 30)
PPA_EFFECTIVE = date(2004, 3, 31)
# Amendment No. 1 is effective December 22, 2003.
EVE_OF_RA = date(2003, 12, 21)
RA_EFFECTIVE = date(2003, 12, 22)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def names_amendment(error: BaseException, title: str, effective: date) -> bool:
    """Whether a NotInForceError's message names the amendment and its date."""
    message = str(error)
    spelled = {effective.isoformat(), f"{effective:%B} {effective.day}, {effective.year}"}
    return title in message and any(s in message for s in spelled)


@pytest.fixture(scope="module")
def pp():
    return clausec.load(PPA, amendments=[PPA_AMENDMENT])


@pytest.fixture(scope="module")
def ra():
    return clausec.load(RA, amendments=[RA_AMENDMENT])


# ============================================================== Patent Purchase Agreement


def board_approved(pp, on=date(2004, 3, 30), **more):
    """Seller's board approved by unanimous written consent on `on` (Amendment 2.3); no
    Requisite Stockholder Approval (Amendment 1.3: "Seller did not obtain the Requisite
    Stockholder Approval")."""
    return pp.Facts(board_approved_by_written_consent_on=on, **more)


class TestClosingConditions:
    """Agreement 3.1 (original): "... are contingent upon (a) receipt of the Requisite
    Stockholder Approval and (b) the Amendment 2 to the License Agreement ... has not been
    terminated or amended."
    Amendment 3.1 (Section 3.1 as amended): "... are contingent upon (a) receipt of the
    Requisite Board Approval, (b) the Amendment 2 to the License Agreement shall not have
    been terminated or amended and (c) the Escrow Agreement by and among Seller, Purchaser
    and Escrow Agent shall not have been terminated or amended." """


    def test_stockholder_approval_no_longer_a_condition(self, pp):
        # Stockholder approval alone met the original (a); it is not the Requisite Board
        # Approval of the amended (a).
        facts = pp.Facts(plan_of_liquidation_approved_on=date(2004, 3, 18))
        assert pp.at(BEFORE_PPA).closing_conditions_met(facts) is True
        assert pp.at(PPA_EFFECTIVE).closing_conditions_met(facts) is False

    def test_escrow_agreement_terminated_or_amended(self, pp):
        # (c), new in 3.1 as amended: "the Escrow Agreement ... shall not have been
        # terminated or amended". The original 3.1 had no such condition.
        facts = board_approved(pp, escrow_agreement_terminated_or_amended=True,
                               plan_of_liquidation_approved_on=date(2004, 3, 18))
        assert pp.at(BEFORE_PPA).closing_conditions_met(facts) is True
        assert pp.closing_conditions_met(facts) is False


    def test_requisite_board_approval_not_in_force_before_the_amendment(self, pp):
        # "Requisite Board Approval" is defined only by the Amendment (its Section 2.3).
        with pytest.raises(pp.NotInForceError) as info:
            pp.at(BEFORE_PPA).requisite_board_approval(board_approved(pp))
        assert names_amendment(info.value, PPA_TITLE, PPA_EFFECTIVE), str(info.value)

    def test_explain_names_the_amended_section(self, pp):
        facts = board_approved(pp)
        amended = pp.at(PPA_EFFECTIVE).explain("closing_conditions_met", facts)
        assert amended.value is True
        assert "Section 3.1, as amended on March 31, 2004" in str(amended)
        # The Requisite Board Approval is the Amendment's own Section 2.3, not the
        # Agreement's 2.3 ("List of Prosecution Counsel").
        assert f"Section 2.3 of the {PPA_TITLE}" in str(amended)
        original = pp.at(BEFORE_PPA).explain("closing_conditions_met", facts)
        assert original.value is False
        assert "Section 3.1" in str(original)
        assert "as amended" not in str(original)

    def test_one_facts_class_serves_every_version(self, pp):
        # Facts of the original only (8.4), of the amendment only (2.3), and of both.
        facts = pp.Facts(board_approved_by_written_consent_on=date(2004, 3, 30),
                         other_contract_entered=True, deposit_received="900000")
        assert pp.at(BEFORE_PPA).closing_conditions_met(facts) is False
        assert pp.at(PPA_EFFECTIVE).closing_conditions_met(facts) is True


class TestClosingPayment:
    """Agreement 3.4, first sentence (deleted by Amendment 3.2): "Two business days after
    the satisfaction of the conditions set forth in Section 3.1, Purchaser shall pay to
    Seller the amount of one million eight hundred thousand dollars($1,800,000), minus the
    amount of the Deposit Amount which has been received by Seller from the Escrow Agent
    ... (the date and time of such payment by Seller being hereafter referred to as the
    "Closing Date")."
    Amendment 3.2: "The first sentence of Section 3.4 of the Agreement is deleted in its
    entirety. Subject to the satisfaction of the conditions set forth in Section 3.1 of the
    Agreement, as amended by this Amendment, concurrently with the execution and delivery of
    this Amendment, Purchaser shall pay the Seller one million eight hundred thousand
    dollars ($1,800,000), minus the amount of the Deposit Amount which has been received by
    Seller from the Escrow Agent ..."
    Amendment 3.1 (3.1 as amended): "the payment specified in Section 3.4 (the date and time
    of such payment being hereafter referred to as the "Closing Date")". """


    def test_not_in_effect_without_the_conditions(self, pp):
        # "Subject to the satisfaction of the conditions set forth in Section 3.1 ..."
        facts = pp.Facts(deposit_received="900000")
        ob = pp.closing_payment_due(facts)
        assert ob.active is False
        assert ob.due == date(2004, 3, 31)
        assert pp.closing_date(facts) is None


    def test_explain_closing_date_names_the_amended_section(self, pp):
        ex = pp.explain("closing_date", board_approved(pp))
        assert ex.value == date(2004, 3, 31)
        assert "Section 3.1, as amended on March 31, 2004" in str(ex)


class TestUnchangedProvisionsKeepWorking:
    """The Amendment leaves the second sentence of 3.4 and Sections 4, 5 and 7 alone; they
    speak of the Closing Date and of the conditions of Section 3.1, now as amended."""


    def test_no_transfer_without_board_approval(self, pp):
        # 3.1 as amended: "The obligation of Seller to transfer the Patents pursuant to
        # Section 4 ... [is] contingent upon (a) receipt of the Requisite Board Approval"
        facts = pp.Facts(plan_of_liquidation_approved_on=date(2004, 3, 18))
        assert pp.patent_assignment(facts).active is False
        assert pp.at(BEFORE_PPA).patent_assignment(facts).active is True


class TestConsolidatedText:
    """The latest version's words: what the Amendment deleted is gone, what it wrote is in."""

    def test_deleted_sections(self, pp):
        # Amendment 4.1 (6.1) and 5.1 (8.1-8.4).
        for number in ("6.1", "8.1", "8.2", "8.3", "8.4"):
            _, text = pp.SECTIONS[number]
            assert "Deleted" in text and PPA_TITLE in text, (number, text)

    def test_first_sentence_of_3_4_deleted(self, pp):
        _, text = pp.SECTIONS["3.4"]
        assert "Two business days after" not in text
        assert _norm(text) == ("Immediately prior to the Closing Date, the parties hereto agree "
                               "to instruct the Escrow Agent to deliver the Deposit Amount to "
                               "Seller.")

    def test_section_3_1_restated(self, pp):
        _, text = pp.SECTIONS["3.1"]
        assert "(a) receipt of the Requisite Board Approval" in _norm(text)
        assert "Requisite Stockholder Approval" not in text

    def test_the_amendments_own_provisions(self, pp):
        numbers = list(pp.SECTIONS)
        for own in ("2.3", "3.2", "4.3", "5.1"):
            assert any(n.startswith(f"{own} of the {PPA_TITLE}") for n in numbers), own
        # ... beside, not instead of, the Agreement's own 2.3 and 3.2.
        assert "2.3" in numbers and "3.2" in numbers

    def test_explanation_root_names_the_amended_section(self, pp):
        # The node that decides -- the root, closing_conditions_met itself -- names the
        # version of 3.1 that decided, not only the nodes below it.
        ex = pp.explain("closing_conditions_met", board_approved(pp))
        assert "Section 3.1, as amended on March 31, 2004" in str(ex).splitlines()[0]


class TestTermination:
    """Amendment 5.1: "Sections 8.1, 8.2, 8.3 and 8.4 of the Agreement are hereby deleted." """

    def superior_contract(self, pp):
        return pp.Facts(other_contract_entered=True, board_determined_greater_return=True)

    def test_superior_contract_power_on_march_30_2004(self, pp):
        # Required scenario. 8.4: "Seller may terminate this agreement if it enters into a
        # contract with another party which Seller's board of directors determines is ...
        # reasonably likely to result in greater financial return to stockholders ... In the
        # event of such a termination, Seller shall pay Purchaser one hundred thousand
        # dollars ($100,000)".
        power = pp.at(EVE_OF_PPA).terminate_for_superior_contract(self.superior_contract(pp))
        assert power.available is True
        assert power.holders == ("Seller",)
        assert len(power.consequences) == 1
        assert power.consequences[0].object == Decimal(100_000)

    def test_superior_contract_power_gone_on_march_31_2004(self, pp):
        # Required scenario: deleted by Amendment 5.1 from March 31, 2004.
        for version in (pp.at(PPA_EFFECTIVE), pp.at(date(2004, 4, 1))):
            with pytest.raises(pp.NotInForceError) as info:
                version.terminate_for_superior_contract(self.superior_contract(pp))
            assert names_amendment(info.value, PPA_TITLE, PPA_EFFECTIVE), str(info.value)


    def test_other_termination_powers_gone(self, pp):
        # 8.1 (mutual consent), 8.2 (no stockholder approval by March 30, 2004), 8.3 (failed
        # vote) go with 8.4.
        facts = pp.Facts(special_meeting_vote_taken=True, as_of=date(2004, 3, 30))
        original = pp.at(EVE_OF_PPA)
        assert original.terminate_by_mutual_consent(facts).available is True
        assert original.terminate_for_failed_vote(facts).available is True
        for name in ("terminate_by_mutual_consent", "terminate_for_no_stockholder_approval",
                     "terminate_for_failed_vote"):
            with pytest.raises(pp.NotInForceError):
                getattr(pp.at(PPA_EFFECTIVE), name)(facts)

    def test_section_8_2_never_became_available(self, pp):
        # 8.2: "if the Requisite Stockholder Approval is not obtained by March 30, 2004".
        # On March 30, 2004 it could still be obtained that day: no power. From March 31,
        # 2004, when it would have become available, Section 8.2 is deleted.
        assert pp.at(EVE_OF_PPA).terminate_for_no_stockholder_approval(
            pp.Facts(as_of=date(2004, 3, 30))).available is False
        with pytest.raises(pp.NotInForceError):
            pp.at(PPA_EFFECTIVE).terminate_for_no_stockholder_approval(
                pp.Facts(as_of=date(2004, 3, 31)))


    def test_no_termination_pursuant_to_section_8_after_its_deletion(self, pp):
        # Reading (clauses/patent_purchase/amendment_2004_03_31.clause, Section 5.1 of the Amendment):
        # from March 31, 2004 there is no Section 8 to terminate under, so a termination on
        # or after that date is not one "pursuant to Section 8" and 3.3 does not return the
        # Deposit Amount. Under the original, a date was enough.
        facts = pp.Facts(terminated_on=date(2004, 4, 15))
        assert pp.at(BEFORE_PPA).terminated_under_section_8(facts) is True
        assert pp.at(BEFORE_PPA).deposit_to_purchaser_on_termination(facts).active is True
        assert pp.terminated_under_section_8(facts) is False
        assert pp.deposit_to_purchaser_on_termination(facts).active is False
        ex = pp.explain("terminated_under_section_8", facts)
        assert f"Section 5.1 of the {PPA_TITLE}" in str(ex)


# ===================================================================== Rights Agreement


def tender_offer(ra, **more):
    """A tender offer commenced Friday November 21, 2003 which, upon consummation, would
    make the offeror an Acquiring Person."""
    return ra.Facts(tender_offer_commenced_on=date(2003, 11, 21),
                    tender_offer_would_create_acquiring_person=True, **more)


class TestDistributionDate:
    """Before (Item 1's summary): "a Distribution Date will occur upon the earlier of (i) 10
    days following ... (the "Stock Acquisition Date") ... or (ii) 10 business days (or such
    later date as the Board shall determine) following the commencement of a tender offer
    or exchange offer that would result in a person or group becoming an Acquiring Person."
    After (Amendment No. 1 (4), the first sentence of Section 3(a)): "Until the earlier of
    (i) the close of business on the tenth day after the Stock Acquisition Date (or, if the
    tenth day after the Stock Acquisition Date occurs before the Record Date, the close of
    business on the Record Date), or (ii) the close of business on the tenth Business Day
    (or such later date as the Board shall determine) after (A) the date that a tender or
    exchange offer by any Person (other than the Company, ...) for less than the all
    outstanding shares of Common Stock is commenced ... or (B) the date that a tender or
    exchange offer ... which, at the time ... commenced, ... is for all outstanding shares
    of Common Stock, is amended or supplemented such that such tender or exchange offer is
    for less than all outstanding shares of Common Stock, if (in the case of (A) or (B))
    upon consummation thereof, such Person would become an Acquiring Person ..." """


    def test_offer_for_less_than_all_shares_in_both(self, ra):
        # Required scenario: (A) an offer "for less than the all outstanding shares".
        facts = tender_offer(ra, tender_offer_for_all_shares=False)
        assert ra.at(EVE_OF_RA).distribution_date(facts) == date(2003, 12, 8)
        assert ra.at(RA_EFFECTIVE).distribution_date(facts) == date(2003, 12, 8)


    def test_close_of_business_on_the_tenth_business_day(self, ra):
        # "the close of business on the tenth Business Day": 5:00 P.M. New York City time
        # on Monday December 8, 2003.
        assert ra.distribution_date_occurred(tender_offer(ra, as_of=ny(2003, 12, 8, 16, 59))) \
            is False
        assert ra.distribution_date_occurred(tender_offer(ra, as_of=ny(2003, 12, 8, 17, 0))) \
            is True
        assert ra.rights_attached_to_common_stock(
            tender_offer(ra, as_of=ny(2003, 12, 9, 10, 0))) is False

    def test_all_shares_offer_leaves_rights_attached(self, ra):
        facts = tender_offer(ra, tender_offer_for_all_shares=True, as_of=ny(2003, 12, 23, 10, 0))
        assert ra.rights_attached_to_common_stock(facts) is True
        assert ra.at(EVE_OF_RA).rights_attached_to_common_stock(facts) is False

    def test_tenth_day_before_the_record_date(self, ra):
        # (i) "(or, if the tenth day after the Stock Acquisition Date occurs before the
        # Record Date, the close of business on the Record Date)". Stock Acquisition Date
        # Saturday June 2, 2001; tenth day Tuesday June 12, 2001, before the Record Date,
        # Thursday June 14, 2001. The summary's rule (before) has no such proviso.
        facts = ra.Facts(beneficial_ownership="20%", acquiring_person_announced_on=date(2001, 6, 2),
                         announced_by_company_or_acquiring_person=True)
        assert ra.at(EVE_OF_RA).distribution_date(facts) == date(2001, 6, 12)
        assert ra.distribution_date(facts) == date(2001, 6, 14)

    def test_tenth_day_after_the_stock_acquisition_date(self, ra):
        # Stock Acquisition Date Monday June 2, 2003 -> Thursday June 12, 2003.
        facts = ra.Facts(beneficial_ownership="20%", acquiring_person_announced_on=date(2003, 6, 2),
                         announced_by_company_or_acquiring_person=True)
        assert ra.distribution_date(facts) == date(2003, 6, 12)

    def test_no_shares_outstanding_is_no_qualified_transaction(self, ra):
        # A reading the amendment needs (its 85% test divides by the shares outstanding
        # net of directors' and plans' shares): with none, no Qualified Transaction, where
        # the division by zero z3 found used to be.
        facts = ra.Facts(beneficial_ownership="90%", acquired_pursuant_to_offer_for_all_shares=True,
                         shares_outstanding_at_commencement=100, director_officer_shares=60,
                         non_confidential_plan_shares=40, shares_owned_upon_consummation=0)
        assert ra.qualified_transaction(facts) is False

    def test_explain_names_the_amended_section(self, ra):
        ex = ra.explain("distribution_date", tender_offer(ra))
        assert ex.value == date(2003, 12, 8)
        assert "Section 3(a), as amended on December 22, 2003" in str(ex)


def qualified_transaction_facts(ra, **more):
    """Required scenario: upon consummation of a tender offer for all outstanding shares the
    bidder owns 80 of the 100 shares outstanding at commencement (80%); 10 of them are held
    by directors who are also officers, none by employee stock plans."""
    values = {"beneficial_ownership": "80%", "acquired_pursuant_to_offer_for_all_shares": True,
              "shares_owned_upon_consummation": 80, "shares_outstanding_at_commencement": 100,
              "director_officer_shares": 10, "non_confidential_plan_shares": 0}
    values.update(more)
    return ra.Facts(**values)


class TestFlipIn:
    """Amendment No. 1 (5), Section 11(a)(ii) as amended: "In the event any Person shall ...
    become an Acquiring Person, unless the event causing such Person to become an Acquiring
    Person (A) is a transaction set forth in Section 13(a) hereof, (B) is an acquisition of
    shares of Common Stock pursuant to a tender offer or an exchange offer for all
    outstanding shares ... [determined fair by the non-officer, unaffiliated directors] (a
    "Qualified Offer"), or (C) is an acquisition of shares of Common Stock pursuant to a
    tender offer or an exchange offer for all outstanding shares of Common Stock the
    consummation of which ... results in such Person becoming the Beneficial Owner of shares
    of Common Stock constituting at least 85% of the shares of Common Stock outstanding at
    the time of commencement ... (a "Qualified Transaction"), excluding for purposes of
    determining the number of shares of Common Stock outstanding (but not for purposes of
    determining the number of outstanding shares of Common Stock beneficially owned by such
    Person) those shares of Common Stock beneficially owned by (1) individuals, if any, who
    are directors and also officers of the Company and (2) stock plans sponsored by the
    Company, if any, in which Company employee participants do not have the right to
    determine confidentially whether shares ... will be tendered ..." """


    def test_84_2_percent_flips_in(self, ra):
        # 5 director-officer shares: 80 / 95 = 84.2% < 85%.
        facts = qualified_transaction_facts(ra, director_officer_shares=5)
        assert ra.qualified_transaction(facts) is False
        assert ra.flip_in_event(facts) is True


    def test_exactly_85_percent(self, ra):
        # "at least 85%": 85 of 100.
        facts = qualified_transaction_facts(ra, beneficial_ownership="85%",
                                            shares_owned_upon_consummation=85,
                                            director_officer_shares=0)
        assert ra.qualified_transaction(facts) is True


    def test_qualified_transaction_not_in_force_before(self, ra):
        with pytest.raises(ra.NotInForceError) as info:
            ra.at(EVE_OF_RA).qualified_transaction(qualified_transaction_facts(ra))
        assert names_amendment(info.value, RA_TITLE, RA_EFFECTIVE), str(info.value)

    def test_qualified_offer_still_excepted(self, ra):
        # (B) "... (a "Qualified Offer")": no flip-in before or after.
        facts = ra.Facts(beneficial_ownership="90%", acquired_pursuant_to_offer_for_all_shares=True,
                         independent_directors_approved_offer=True)
        assert ra.at(EVE_OF_RA).flip_in_event(facts) is False
        assert ra.qualified_offer(facts) is True
        assert ra.flip_in_event(facts) is False

    def test_all_shares_offer_needs_the_share_counts_after_the_amendment(self, ra):
        # Without the directors' determination, whether an all-shares offer flips in now
        # turns on the 85% test: its share counts must be given.
        facts = ra.Facts(beneficial_ownership="90%", acquired_pursuant_to_offer_for_all_shares=True)
        assert ra.at(EVE_OF_RA).flip_in_event(facts) is True
        with pytest.raises(ra.MissingFactError) as info:
            ra.flip_in_event(facts)
        # The shares outstanding first: the test has a meaning only when some are.
        assert info.value.fact == "shares_outstanding_at_commencement"
        facts = ra.Facts(beneficial_ownership="90%", acquired_pursuant_to_offer_for_all_shares=True,
                         shares_outstanding_at_commencement=1000)
        with pytest.raises(ra.MissingFactError) as info:
            ra.flip_in_event(facts)
        assert info.value.fact == "shares_owned_upon_consummation"


    def test_explain_names_the_amended_section(self, ra):
        ex = ra.explain("flip_in_event", qualified_transaction_facts(ra))
        assert ex.value is False
        assert "Section 11(a)(ii), as amended on December 22, 2003" in str(ex)


class TestBeneficialOwnership:
    """Amendment No. 1 (1), added at the end of Section 1(d): "Notwithstanding anything in
    this Section 1(d) to the contrary, a Person (the "First Person") shall not be deemed to
    Beneficially Own securities Beneficially Owned by another Person solely as a result of
    ... any agreement, arrangement or understanding between the First Person and such other
    Person solely with respect to the voting of any voting securities of the Company solely
    with respect to the Plan of Complete Liquidation and Dissolution ..."
    1(a) (summary): "has acquired beneficial ownership of 15% or more". """

    def test_voting_agreement_shares_no_longer_make_an_acquiring_person(self, ra):
        # Required scenario: 20%, of which 8% are another stockholder's shares attributed
        # only through a voting agreement on the Plan of Liquidation. Before: 20% >= 15%,
        # an Acquiring Person. After: 20% - 8% = 12% < 15%, not one.
        facts = ra.Facts(beneficial_ownership="20%", liquidation_voting_agreement_ownership="8%")
        assert ra.at(EVE_OF_RA).acquiring_person(facts) is True
        assert ra.at(RA_EFFECTIVE).acquiring_person(facts) is False
        assert ra.acquiring_person(facts) is False
        assert ra.beneficial_ownership_under_section_1d(facts) == Decimal("0.12")
        # ... and so no flip-in either.
        assert ra.at(EVE_OF_RA).flip_in_event(facts) is True
        assert ra.flip_in_event(facts) is False

    def test_still_an_acquiring_person_with_15_percent_of_its_own(self, ra):
        # 24% - 8% = 16% >= 15%.
        facts = ra.Facts(beneficial_ownership="24%", liquidation_voting_agreement_ownership="8%")
        assert ra.acquiring_person(facts) is True


    def test_no_voting_agreement_no_change(self, ra):
        facts = ra.Facts(beneficial_ownership="20%")
        assert ra.acquiring_person(facts) is True

    def test_explain_names_the_amended_section(self, ra):
        facts = ra.Facts(beneficial_ownership="20%", liquidation_voting_agreement_ownership="8%")
        ex = ra.explain("acquiring_person", facts)
        assert ex.value is False
        assert "Section 1(d), as amended on December 22, 2003" in str(ex)


class TestStockAcquisitionDate:
    """Amendment No. 1 (2), Section 1(ff) as amended: ""Stock Acquisition Date" shall mean
    the first date of public announcement (which ... shall include ... a report filed or
    amended pursuant to Section 13(d) under the Exchange Act) by the Company or an Acquiring
    Person that an Acquiring Person has become such other than pursuant to a Qualified Offer
    or a Qualified Transaction." """

    def announced(self, ra, **more):
        return ra.Facts(acquiring_person_announced_on=date(2003, 12, 29),
                        announced_by_company_or_acquiring_person=True, **more)


    def test_not_upon_a_qualified_transaction(self, ra):
        facts = qualified_transaction_facts(ra, acquiring_person_announced_on=date(2003, 12, 29),
                                            announced_by_company_or_acquiring_person=True)
        assert ra.at(EVE_OF_RA).stock_acquisition_date(facts) == date(2003, 12, 29)
        assert ra.stock_acquisition_date(facts) is None


    def test_not_upon_an_announcement_by_someone_else(self, ra):
        facts = ra.Facts(beneficial_ownership="20%",
                         acquiring_person_announced_on=date(2003, 12, 29),
                         announced_by_company_or_acquiring_person=False)
        assert ra.stock_acquisition_date(facts) is None

    def test_who_announced_must_be_given(self, ra):
        facts = ra.Facts(beneficial_ownership="20%",
                         acquiring_person_announced_on=date(2003, 12, 29))
        with pytest.raises(ra.MissingFactError) as info:
            ra.stock_acquisition_date(facts)
        assert info.value.fact == "announced_by_company_or_acquiring_person"

    def test_qualified_transaction_keeps_the_rights_redeemable(self, ra):
        # 23: "At any time until 10 days following the Stock Acquisition Date, the Company
        # may redeem the Rights": with no Stock Acquisition Date, they stay redeemable.
        facts = qualified_transaction_facts(ra, acquiring_person_announced_on=date(2003, 12, 29),
                                            announced_by_company_or_acquiring_person=True,
                                            as_of=ny(2004, 2, 2, 12, 0))
        assert ra.at(EVE_OF_RA).redeem_rights(facts).available is False
        assert ra.redeem_rights(facts).available is True


class TestQualifiedTransactionDefinition:
    """Amendment No. 1 (3): "Section 1 of the Rights Agreement is hereby further amended to
    add the following subparagraph at the end thereof: (ll) "Qualified Transaction" shall
    have the meaning set forth in Section 11(a)(ii) hereof." """

    def test_added_at_the_end_of_section_1(self, ra):
        # "at the end thereof": after the last subparagraph of Section 1 in the file, 1(ff),
        # and before Section 3(a).
        numbers = list(ra.SECTIONS)
        assert numbers.index("1(ll)") == numbers.index("1(ff)") + 1, numbers
        _, text = ra.SECTIONS["1(ll)"]
        assert "Section 11(a)(ii)" in text


class TestFlipOver:
    """Amendment No. 1 (6), clause (i) of the first sentence of Section 13(d) as amended:
    "(i) such transaction is consummated with a Person or Persons who acquired shares of
    Common Stock pursuant to a tender offer or exchange offer for all outstanding shares of
    Common Stock which is a Qualified Offer or a Qualified Transaction ... (or a wholly owned
    subsidiary of any such Person or Persons),"
    13 (summary): "(i) the Company engages in a merger ... in which the Company is not the
    surviving corporation (other than with an entity which acquired the shares pursuant to a
    Qualified Offer)". """

    def merger(self, ra, **more):
        # Stock Acquisition Date June 2, 2003 (an open-market acquisition of 20%); merger
        # in which the Company does not survive on January 15, 2004.
        return ra.Facts(beneficial_ownership="20%", acquiring_person_announced_on=date(2003, 6, 2),
                        announced_by_company_or_acquiring_person=True,
                        business_combination_on=date(2004, 1, 15), company_not_surviving=True,
                        **more)

    def test_merger_with_a_qualified_transaction_acquirer(self, ra):
        facts = self.merger(ra, merger_with_qualified_transaction_acquirer=True)
        assert ra.at(EVE_OF_RA).flip_over_event(facts) is True
        assert ra.flip_over_event(facts) is False
        assert ra.flip_over(facts).active is False

    def test_merger_with_a_qualified_offer_acquirer(self, ra):
        facts = self.merger(ra, merger_with_qualified_offer_acquirer=True)
        assert ra.at(EVE_OF_RA).flip_over_event(facts) is False
        assert ra.flip_over_event(facts) is False

    def test_other_mergers_flip_over(self, ra):
        assert ra.flip_over_event(self.merger(ra)) is True
        assert ra.triggering_event(self.merger(ra)) is True


# ===================================================================== the files themselves


def _program(path: Path) -> ir.Program:
    source = SourceFile.read(path)
    diagnostics = Diagnostics()
    program = transform.build(source.name, parser.parse(source, diagnostics), diagnostics)
    assert not diagnostics.has_errors, diagnostics.render({source.name: source})
    return program


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize(("path", "contract"), [(PPA_AMENDMENT, PPA_CONTRACT),
                                                (RA_AMENDMENT, RA_CONTRACT)])
def test_text_blocks_are_the_amendments_words(path, contract):
    filing = _norm(contract.read_text())
    program = _program(path)
    texts = [t for s in program.sections for t in s.texts]
    texts += [p.text for op in program.operations for p in op.parts if p.text is not None]
    assert texts
    for text in texts:
        assert _norm(text.text) in filing, text.text[:60]


def test_ppa_amendment_operations():
    program = _program(PPA_AMENDMENT)
    assert program.header.kind == "amendment"
    assert program.header.amends == "patent_purchase"
    assert program.header.dated == program.header.effective == date(2004, 3, 31)
    ops = [(op.kind, op.target.describe()) for op in program.operations]
    assert ops == [
        ("replace", "Section 3.1"),                          # Amendment 3.1
        ("delete", "the first sentence of Section 3.4"),     # Amendment 3.2, first sentence
        ("delete", "Section 6.1"),                           # Amendment 4.1
        ("delete", "Sections 8.1, 8.2, 8.3 and 8.4"),        # Amendment 5.1
    ]
    assert {"2.2", "2.3", "3.2", "4.2", "4.3", "4.4", "4.5"} <= {s.number for s in program.sections}


def test_ppa_deleted_sentence_is_its_own_text_block():
    # The first sentence of the Agreement's 3.4 is its own text block: deleting it takes
    # its declarations and nothing else.
    section = {s.number: s for s in _program(PPA).sections}["3.4"]
    first = section.parts[0]
    assert _norm(first.text.text).startswith("Two business days after the satisfaction")
    assert _norm(first.text.text).count(". ") == 0
    assert set(first.declarations) == {"deposit_received", "closing_payment", "closing_date",
                                       "closing_payment_due"}


def test_rights_amendment_operations():
    program = _program(RA_AMENDMENT)
    assert program.header.amends == "rights_agreement"
    assert program.header.dated == program.header.effective == date(2003, 12, 22)
    ops = [(op.kind, op.target.describe()) for op in program.operations]
    assert ops == [
        ("append", "Section 1(d)"),                                # (1)
        ("replace", "Section 1(ff)"),                              # (2)
        ("add", "Section 1(ll)"),                                  # (3)
        ("replace", "the second sentence of Section 3(a)"),        # (4), see the file
        ("replace", "Section 11(a)(ii)"),                          # (5)
        ("replace", "the first sentence of Section 13(d)"),        # (6), see the file
    ]


def test_rights_agreement_3a_distribution_date_sentence_is_the_second_block():
    # Why (4) targets the second sentence of the file's 3(a): its first block is the
    # summary's "Initially, ..." (no logic); the Distribution Date is the second.
    section = {s.number: s for s in _program(RA).sections}["3(a)"]
    assert _norm(section.parts[0].text.text).startswith("Initially, the Rights")
    assert section.parts[0].declarations == ()
    assert "distribution_date" in section.parts[1].declarations
