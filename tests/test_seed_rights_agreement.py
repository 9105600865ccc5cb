"""Scenario tests of the Rights Agreement of June 1, 2001, as it stood before Amendment No. 1.

Source: Item 1 of the Form 8-A/A of December 23, 2003
(/work/shared/contracts/rights-agreement-amendment-no-1.txt). Every expected value below is
worked out by hand from the quoted sentence of the summary, never copied from the compiled
module's output.

Calendar facts used:
- Monday June 2, 2003 + 10 days = Thursday June 12, 2003.
- Thursday November 27, 2003 is Thanksgiving Day (a U.S. federal holiday).
- June 14, 2011 is in Eastern Daylight Time: 5:00 P.M. New York City time is 21:00 UTC.
- Times in December 2003 are Eastern Standard Time (UTC-5).

The scenario tests that only give facts and expect answers are clause tests now, in
clauses/rights_agreement/rights_agreement.tests.clause (run by `clausec test` and by pytest); these are
the ones that look at the Python API: messages, explanations, renderings, JSON facts.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import clausec
from clausec.diagnostics import Diagnostics
from clausec.front import parser, transform
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
CLAUSE = ROOT / "clauses" / "rights_agreement" / "rights_agreement.clause"
EXAMPLES = ROOT / "clauses" / "examples"
CONTRACT = Path("/work/shared/contracts/rights-agreement-amendment-no-1.txt")
NY = ZoneInfo("America/New_York")


def ny(*args: int) -> datetime:
    """A moment in New York City time."""
    return datetime(*args, tzinfo=NY)


@pytest.fixture(scope="module")
def ra():
    return clausec.load(CLAUSE)


def acquiring(ra, announced=date(2003, 6, 2), ownership="20%", **more):
    """A person announced on `announced` to hold `ownership` of the Common Stock."""
    return ra.Facts(beneficial_ownership=ownership, acquiring_person_announced_on=announced,
                    **more)


# --------------------------------------------------------------------------- basics


class TestRightsAndPrice:


    def test_header(self, ra):
        assert ra.AGREEMENT["title"] == "Rights Agreement"
        assert ra.AGREEMENT["dated"] == "2001-06-01"
        assert ra.AGREEMENT["time_zone"] == "America/New_York"
        roles = {role for role, _ in ra.PARTIES.values()}
        assert roles == {"Company", "Rights Agent"}


# --------------------------------------------------------------------------- 1(a), 1(ff)


class TestAcquiringPerson:
    """'a person or group of affiliated or associated persons (an "Acquiring Person") has
    acquired beneficial ownership of 15% or more of the outstanding shares of Common Stock
    after June 1, 2001 ..., other than as a result of repurchases of stock by the Company or
    certain inadvertent actions by institutional or certain other stockholders'"""


    def test_decimal_fraction_input(self, ra):
        # Percent facts may be given as a fraction: 0.15 is 15%.
        assert ra.acquiring_person(ra.Facts(beneficial_ownership=Decimal("0.15"))) is True


# --------------------------------------------------------------------------- 3(a)


class TestDistributionDate:
    """'a Distribution Date will occur upon the earlier of (i) 10 days following a public
    announcement that a person ... has acquired beneficial ownership of 15% or more ... (the
    "Stock Acquisition Date") ... or (ii) 10 business days (or such later date as the Board
    shall determine) following the commencement of a tender offer or exchange offer that
    would result in a person or group becoming an Acquiring Person.'"""


    def test_tender_offer_for_all_shares_counts_before_amendment(self, ra):
        # Before Amendment No. 1 any such offer counts, including one "for all outstanding
        # shares of the Common Stock" (which the amendment later excludes): the
        # Distribution Date does not depend on the offer's extent, and no fact asks it.
        assert not any("all_outstanding_shares" in name for name in ra.FACT_TYPES)
        facts = ra.Facts(tender_offer_commenced_on=date(2003, 11, 21),
                         tender_offer_would_create_acquiring_person=True)
        assert ra.distribution_date(facts) == date(2003, 12, 8)


    def test_explain_names_section_3a(self, ra):
        facts = ra.Facts(tender_offer_commenced_on=date(2003, 11, 21),
                         tender_offer_would_create_acquiring_person=True)
        ex = ra.explain("distribution_date", facts)
        assert ex.value == date(2003, 12, 8)
        assert ex.section == "3(a)"
        assert "Section 3(a)" in str(ex)


# --------------------------------------------------------------------------- 7(a)


class TestExerciseAndExpiry:
    """'The Rights are not exercisable until the Distribution Date and will expire at 5:00
    P.M. (New York City time) on June 14, 2011, unless such date is extended or the Rights
    are earlier redeemed or exchanged by the Company'"""


    def test_expired_after(self, ra):
        assert ra.rights_expired(ra.Facts(as_of=ny(2011, 6, 15, 9, 0))) is True

    def test_utc_moments(self, ra):
        # 5:00 P.M. EDT (UTC-4) is 21:00 UTC.
        utc = UTC
        assert ra.rights_expired(ra.Facts(as_of=datetime(2011, 6, 14, 20, 59, tzinfo=utc))) \
            is False
        assert ra.rights_expired(ra.Facts(as_of=datetime(2011, 6, 14, 21, 0, tzinfo=utc))) \
            is True
        # 17:00 UTC is only 1:00 P.M. in New York.
        assert ra.rights_expired(ra.Facts(as_of=datetime(2011, 6, 14, 17, 0, tzinfo=utc))) \
            is False

    def test_iso_strings_with_offset(self, ra):
        assert ra.rights_expired(ra.Facts(as_of="2011-06-14T16:59:59-04:00")) is False
        assert ra.rights_expired(ra.Facts(as_of="2011-06-14T17:00:00-04:00")) is True
        assert ra.rights_expired(ra.Facts(as_of="2011-06-14T21:00:00+00:00")) is True


    def test_explain_expiry_names_section(self, ra):
        ex = ra.explain("rights_expired", ra.Facts(as_of=ny(2011, 6, 14, 17, 0)))
        assert ex.value is True
        assert ex.section == "7(a)"
        assert "Section 7(a)" in str(ex)


# --------------------------------------------------------------------------- 11(a)(ii)


class TestFlipIn:
    """'In the event that a person becomes an Acquiring Person, except ... pursuant to an
    offer for all outstanding shares of Common Stock which the independent directors
    determine to be fair ... (a "Qualified Offer"), each holder of a Right will thereafter
    have the right to receive, upon exercise, Common Stock ... having a value equal to two
    times the exercise price of the Right.'"""


    def test_adjustment_shares_needs_current_market_price(self, ra):
        with pytest.raises(ra.MissingFactError) as info:
            ra.adjustment_shares(ra.Facts(beneficial_ownership="20%"))
        assert info.value.fact == "current_market_price"


# --------------------------------------------------------------------------- 13


class TestFlipOver:
    """'In the event that, at any time following the Stock Acquisition Date, (i) the Company
    engages in a merger ... in which the Company is not the surviving corporation (other
    than with an entity which acquired the shares pursuant to a Qualified Offer), (ii) ...
    the Company is the surviving corporation and the Common Stock of the Company is changed
    or exchanged or (iii) 50% or more of the Company's assets, cash flow or earning power is
    sold or transferred, each holder of a Right ... shall thereafter have the right to
    receive, upon exercise, common stock of the acquiring company having a value equal to
    two times the exercise price of the Right.'"""

    def after_sad(self, ra, **more):
        # Stock Acquisition Date June 2, 2003; transaction September 2, 2003.
        return acquiring(ra, business_combination_on=date(2003, 9, 2), **more)


    def test_triggering_events(self, ra):
        # '"Triggering Events"': the flip-in and the flip-over events.
        assert ra.triggering_event(ra.Facts(beneficial_ownership="20%")) is True
        assert ra.triggering_event(ra.Facts()) is False


# --------------------------------------------------------------------------- 23, 24, 27


class TestRedemption:
    """'At any time until 10 days following the Stock Acquisition Date, the Company may
    redeem the Rights in whole, but not in part, at a price of $.01 per Right'"""


    def test_redemption_price(self, ra):
        # "the only right of the holders of Rights will be to receive the $.01 per Right
        # redemption price."
        pw = ra.redeem_rights(ra.Facts())
        assert ra.redemption_price(ra.Facts()) == Decimal("0.01")
        assert len(pw.consequences) == 1
        assert pw.consequences[0].obligor == "Company"
        assert pw.consequences[0].object == Decimal("0.01")

    def test_explain_names_section_23(self, ra):
        ex = ra.explain("redemption_available", acquiring(ra, as_of=ny(2003, 6, 13, 12, 0)))
        assert ex.value is False
        assert ex.section == "23"
        assert "Section 23" in str(ex)


class TestExchange:
    """'At any time after a person becomes an Acquiring Person and prior to the acquisition
    by such person or group of fifty percent (50%) or more of the outstanding Common Stock,
    the Board may exchange the Rights ... at an exchange ratio of one share of Common Stock
    ... per Right'"""

    def test_available_between_15_and_50_percent(self, ra):
        assert ra.exchange_rights(ra.Facts(beneficial_ownership="20%")).available is True
        assert ra.exchange_rights(ra.Facts(beneficial_ownership="49.99%")).available is True

    def test_not_available_at_50_percent(self, ra):
        assert ra.exchange_rights(ra.Facts(beneficial_ownership="50%")).available is False

    def test_not_available_without_acquiring_person(self, ra):
        assert ra.exchange_rights(ra.Facts(beneficial_ownership="10%")).available is False

    def test_one_share_per_right(self, ra):
        assert ra.exchange_ratio(ra.Facts()) == 1


class TestAmendment:
    """'Any of the provisions of the Rights Agreement may be amended by the Board prior to the
    Distribution Date. After the Distribution Date, the provisions ... may be amended ... in
    order to cure any ambiguity, [etc.] ... The foregoing notwithstanding, no amendment may
    be made at such time as the Rights are not redeemable.'"""

    def test_any_provision_before_distribution_date(self, ra):
        facts = ra.Facts(as_of=ny(2003, 12, 1, 12, 0))
        assert ra.amend_any_provision(facts).available is True

    def test_limited_after_distribution_date(self, ra):
        # Distribution Date December 8, 2003 (tender offer, no Stock Acquisition Date, so
        # the Rights stay redeemable).
        facts = ra.Facts(tender_offer_commenced_on=date(2003, 11, 21),
                         tender_offer_would_create_acquiring_person=True,
                         as_of=ny(2003, 12, 9, 12, 0))
        assert ra.amend_any_provision(facts).available is False
        assert ra.amend_limited(facts).available is True

    def test_none_when_not_redeemable(self, ra):
        # Stock Acquisition Date June 2, 2003; on June 20, 2003 the Rights are no longer
        # redeemable, so no amendment may be made.
        facts = acquiring(ra, as_of=ny(2003, 6, 20, 12, 0))
        assert ra.amend_any_provision(facts).available is False
        assert ra.amend_limited(facts).available is False


# --------------------------------------------------------------------------- structure


def _program(path: Path):
    source = SourceFile.read(path)
    diagnostics = Diagnostics()
    return transform.build(source.name, parser.parse(source, diagnostics), diagnostics)


def test_every_section_with_logic_has_text():
    from clausec import ir

    program = _program(CLAUSE)
    logic = {d.name for d in program.declarations if not isinstance(d, ir.Fact)}
    for section in program.sections:
        if logic.intersection(section.declarations):
            assert section.texts, f"section {section.number} has logic but no text"


def test_text_blocks_are_the_filings_words():
    norm = lambda s: re.sub(r"\s+", " ", s).strip()
    filing = norm(CONTRACT.read_text())
    for section in _program(CLAUSE).sections:
        for text in section.texts:
            assert norm(text.text) in filing, f"section {section.number}: {text.text[:60]}"


def test_sections_revealed_by_the_amendment_are_present():
    numbers = {s.number for s in _program(CLAUSE).sections}
    assert {"1(d)", "1(ff)", "3(a)", "11(a)(ii)", "13", "13(d)"} <= numbers


def test_example_tender_offer(ra):
    # clauses/examples/rights_tender_offer.json: a tender offer that
    # would make the bidder an Acquiring Person, commenced Friday November 21, 2003; asked
    # on Tuesday December 9, 2003 at 10:00 A.M. EST.
    facts = ra.Facts.from_dict(json.loads((EXAMPLES / "rights_tender_offer.json").read_text()))
    assert ra.distribution_date(facts) == date(2003, 12, 8)
    assert ra.rights_exercisable(facts) is True
    assert ra.redeem_rights(facts).available is True
    assert ra.amend_any_provision(facts).available is False


def test_example_flip_in(ra):
    # clauses/examples/rights_flip_in.json: 20% announced Monday June 2, 2003; Current
    # Market Price $1; asked on June 20, 2003.
    facts = ra.Facts.from_dict(json.loads((EXAMPLES / "rights_flip_in.json").read_text()))
    assert ra.distribution_date(facts) == date(2003, 6, 12)
    assert ra.adjustment_shares(facts) == Decimal(30)
    assert ra.flip_in_exercisable(facts) is True


def test_example_expiry(ra):
    facts = ra.Facts.from_dict(json.loads((EXAMPLES / "rights_expiry.json").read_text()))
    # "will expire at 5:00 P.M. (New York City time) on June 14, 2011": the example asks
    # at exactly 2011-06-14T17:00:00-04:00.
    assert ra.rights_expired(facts) is True
