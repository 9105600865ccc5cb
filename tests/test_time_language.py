"""The language of contracts that run over time: periods, series facts, aggregates over
ranges of periods, balances carried from the previous period, recurring obligations and
powers, performance, and the agenda (docs/time.md), as the checker and the compiled
module see them.

Expected values are worked out by hand from a calendar: October 1, 2008 is a Wednesday;
the calendar quarter containing it ends on December 31, 2008; the fiscal year beginning
April 1, 1999 ends on March 31, 2000 and is named FY2000; a contract month counted from
January 31 starts on the last day of each shorter month (February 29, 2024).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import ModuleType

import pytest

from clausec import api
from clausec.source import SourceFile

HEADER = """
agreement licence "Licence" {
  dated October 1, 2008
  effective October 1, 2008
  party licensee "Licensee"
  party licensor "Licensor"
  calendar us_federal
  calendar lender_days "Business Day" = new_york_banks and london_banks plus [2024-12-24]
}
define commencement_date: date = October 1, 2008
"""


def analyse(text: str) -> api.Result:
    return api.analyse(SourceFile("t.clause", HEADER + text))


def errors(text: str) -> list[str]:
    result = analyse(text)
    return [d.message + (f" | {d.hint}" if d.hint else "") for d in result.diagnostics
            if d.severity == "error"]


def build(text: str) -> ModuleType:
    result = analyse(text)
    assert result.ok, errors(text)
    return api.module_from_source(api.generate(result), "t.clause")


# ---------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("fact x: money per royalty_quarter", "'royalty_quarter' is not a family of periods"),
    ("define f(q: quartr): integer = 1", "unknown type 'quartr'"),
    ("define d: date = calendar quartr containing commencement_date", "unexpected"),
    ("define d: integer = number of (royalty_quartr containing commencement_date)",
     "'royalty_quartr' is not a family of periods"),
    ("periods p = contract years", "contract periods count from a date"),
    ("periods p = fiscal months beginning April 1", "fiscal months are calendar months"),
    ("periods p = fiscal years beginning April 2", "a fiscal year beginning on April 2"),
    ("periods p = calendar years beginning April 1", "calendar years begin in January"),
    ("define d: date = start of (first calendar quarter)",
     "the calendar quarters have no first period"),
    ("define d: date = start of commencement_date", "'start of' needs a period, not date"),
    ("define d: date = calendar quarter containing 5", "'containing' needs a date"),
])
def test_period_mistakes_are_reported(text: str, message: str) -> None:
    found = errors(text)
    assert any(message in e for e in found), found


def test_a_misspelt_family_gets_a_suggestion() -> None:
    found = errors("""
      periods royalty_quarter = calendar quarters from commencement_date
      define f(q: royalty_quartr): integer = 1
    """)
    assert found == ["unknown type 'royalty_quartr' | did you mean 'royalty_quarter'?"]


def test_start_end_and_number_remain_names() -> None:
    module = build("""
      fact start: date
      fact end: date
      fact number: integer
      define span: days = end - start
      define first_day: date = start of (calendar quarter containing start)
      define count: integer = number + number of (calendar month containing end)
    """)
    facts = module.Facts(start=date(2009, 2, 10), end=date(2009, 3, 1), number=1)
    assert module.span(facts) == 19
    assert module.first_day(facts) == date(2009, 1, 1)
    assert module.count(facts) == 4


SERIES = """
periods royalty_quarter "royalty quarter" = calendar quarters from commencement_date
fact royalties "royalties": money per royalty_quarter
fact paid_on: date per royalty_quarter optional
"""


@pytest.mark.parametrize(("text", "message"), [
    ("define x: money = royalties", "'royalties' has a value per royalty quarter"),
    ("define x: money = royalties(commencement_date)",
     "'royalties' takes a royalty quarter, not date"),
    ("define x: money = royalties(calendar quarter containing commencement_date)",
     "'royalties' takes a royalty quarter, not calendar quarter"),
    ("define x: money = sum of [royalties(q) for each royalty_quarter q from commencement_date]",
     "'sum of' needs the last period"),
    ("define x: money = sum of [royalties(q) for each royalty_quarter q from 5 through 6]",
     "bounded by dates or royalty quarters"),
    (("define x: bool = all of [royalties(q) for each royalty_quarter q from commencement_date "
     "through 2009-12-31]"), "must be true or false"),
])
def test_series_and_aggregate_mistakes_are_reported(text: str, message: str) -> None:
    found = errors(SERIES + text)
    assert any(message in e for e in found), found


@pytest.mark.parametrize(("text", "message"), [
    # No guard: the steps back never stop.
    ("define c(q: royalty_quarter): money = c(previous q) + royalties(q)",
     "with nothing to stop the steps back"),
    # A guard that does not bound q from below.
    (("define c(q: royalty_quarter): money = if q is before first royalty_quarter "
     "then c(previous q) else $0"), "with nothing to stop the steps back"),
    # Not one period back.
    (("define c(q: royalty_quarter): money = if q is after first royalty_quarter "
     "then c(q) else $0"), "the compiler cannot see that this ends"),
    (("define c(q: royalty_quarter): money = if q is after first royalty_quarter "
     "then c(next q) else $0"), "the compiler cannot see that this ends"),
    # No declared type.
    (("define c(q: royalty_quarter) = if q is after first royalty_quarter "
     "then c(previous q) else $0"), "its type must be declared"),
    # Two terms defined by each other: a cycle, as before.
    (("define a(q: royalty_quarter): money = b(q)\n"
     "define b(q: royalty_quarter): money = a(q)"), "circular definition"),
])
def test_recursion_that_might_not_end_is_an_error(text: str, message: str) -> None:
    found = errors(SERIES + text)
    assert any(message in e for e in found), found


@pytest.mark.parametrize("guard", [
    "if q is after first royalty_quarter then {call} else $0",
    "if q is on or after next first royalty_quarter then {call} else $0",
    "if first royalty_quarter is before q then {call} else $0",
    "if q is on or before first royalty_quarter then $0 else {call}",
    "if not (q is on or before first royalty_quarter) then {call} else $0",
    "if q is after first royalty_quarter and royalties(q) > $0 then {call} else $0",
])
def test_guarded_recursion_is_accepted(guard: str) -> None:
    text = f"define c(q: royalty_quarter): money = {guard.format(call='c(previous q)')}"
    assert errors(SERIES + text) == []


OBLIGATIONS = SERIES + """
define term_end: date = 2010-10-01
obligation fee "the fee" for each royalty_quarter q from commencement_date until term_end:
  licensee must pay royalties(q) to licensor within 30 days after end of q
    performed on paid_on(q)
obligation report "the report": licensee must deliver "a report" by 2009-02-01
fact as_of: date optional
"""


@pytest.mark.parametrize(("text", "message"), [
    ("define d: date = fee.due", "'fee' recurs for each royalty quarter"),
    ("define d: date = commencement_date.due", "'.due' is a field of an obligation"),
    ("define d: date = fee(first royalty_quarter).dew", "an obligation has no field 'dew'"),
    ("define d: date = report.performed_on", "'report' does not say when it was performed"),
    ("condition c = report is late on 2009-03-01", "'report' does not say when it was performed"),
    ("condition c = fee(first royalty_quarter) is late on 5", "'is late on' needs a date"),
    ("condition c = commencement_date is late on 2009-03-01", "only an obligation can be late"),
])
def test_obligation_field_mistakes_are_reported(text: str, message: str) -> None:
    found = errors(OBLIGATIONS + text)
    assert any(message in e for e in found), found


# ---------------------------------------------------------------------------
# Periods, in the compiled module
# ---------------------------------------------------------------------------

FAMILIES = """
periods royalty_quarter "royalty quarter" = calendar quarters from commencement_date
periods fiscal_year = fiscal years beginning April 1
periods fiscal_quarter = fiscal quarters beginning April 1
periods contract_month = contract months from 2024-01-31
fact day: date
define royalty_q(d: date): royalty_quarter = royalty_quarter containing d
define quarter_start(q: royalty_quarter): date = start of q
define quarter_end(q: royalty_quarter): date = end of q
define quarter_number(q: royalty_quarter): integer = number of q
define following(q: royalty_quarter): royalty_quarter = next q
define fy_number(d: date): integer = number of (fiscal_year containing d)
define fq_number(d: date): integer = number of (fiscal_quarter containing d)
define month_starts(n: integer): date = start of (contract_month containing day)
define last_bd(q: calendar quarter): date = last business day of q
define last_bd_banks(q: calendar quarter): date = last business day of q in new_york_banks
define first_bd(q: calendar quarter): date = first business day of q
"""


@pytest.fixture(scope="module")
def families() -> ModuleType:
    return build(FAMILIES)


def test_a_stub_first_period_then_calendar_quarters(families: ModuleType) -> None:
    m, facts = families, families.Facts(day=date(2009, 1, 1))
    first = m.royalty_q(facts, date(2008, 11, 15))
    assert (first.start, first.end) == (date(2008, 10, 1), date(2008, 12, 31))
    assert m.quarter_start(facts, first) == date(2008, 10, 1)
    assert m.quarter_end(facts, "2009-Q1") == date(2009, 3, 31)
    assert m.quarter_number(facts, "2009-Q3") == 3
    assert m.following(facts, first).label == "2009-Q1"
    # A period may be given by a date inside it, or its label; the stub's label may leave
    # out its first day.
    assert m.quarter_end(facts, "2008-Q4") == date(2008, 12, 31)
    assert m.quarter_end(facts, date(2009, 5, 5)) == date(2009, 6, 30)


def test_a_date_before_the_first_period_is_an_error(families: ModuleType) -> None:
    with pytest.raises(families.ClauseError, match="before the first period"):
        families.royalty_q(families.Facts(day=date(2009, 1, 1)), date(2008, 9, 30))


def test_fiscal_years_are_named_by_the_year_they_end_in(families: ModuleType) -> None:
    facts = families.Facts(day=date(2009, 1, 1))
    assert families.fy_number(facts, date(1999, 4, 1)) == 2000
    assert families.fy_number(facts, date(2000, 3, 31)) == 2000
    assert families.fq_number(facts, date(1999, 4, 1)) == 1
    assert families.fq_number(facts, date(2000, 1, 15)) == 4


def test_contract_months_follow_the_end_of_month_rule(families: ModuleType) -> None:
    # Counted from January 31, 2024: the second contract month starts February 29.
    assert families.month_starts(families.Facts(day=date(2024, 3, 10)), 1) == date(2024, 2, 29)
    assert families.month_starts(families.Facts(day=date(2024, 3, 31)), 1) == date(2024, 3, 31)


def test_business_days_of_a_period(families: ModuleType) -> None:
    facts = families.Facts(day=date(2009, 1, 1))
    # December 31, 2022 is a Saturday: the last business day of Q4 2022 is Friday the 30th.
    assert families.last_bd(facts, "2022-Q4") == date(2022, 12, 30)
    # July 4, 2026 is a Saturday: federal offices close Friday July 3, New York banks open.
    assert families.first_bd(facts, "2026-Q3") == date(2026, 7, 1)
    assert families.last_bd(facts, "2026-Q2") == date(2026, 6, 30)
    # January 1, 2023 is a Sunday (observed Monday the 2nd): the first is the 3rd.
    assert families.first_bd(facts, "2023-Q1") == date(2023, 1, 3)
    assert families.last_bd_banks(facts, "2024-Q1") == date(2024, 3, 29)


# ---------------------------------------------------------------------------
# Series, aggregates and ranges
# ---------------------------------------------------------------------------

AGGREGATES = SERIES + """
fact units: integer per calendar quarter default 0
define through(a: date, b: date): money =
  sum of [royalties(q) for each royalty_quarter q from a through b]
define until(a: date, b: date): money =
  sum of [royalties(q) for each royalty_quarter q from a until b]
define last4(b: date): integer =
  sum of [units(q) for each calendar quarter q in the 4 ending with calendar quarter containing b]
define ytd(q: calendar quarter): integer =
  sum of [units(p) for each calendar quarter p from start of (calendar year containing start of q) through q]
define biggest(a: date, b: date): money =
  greatest of [royalties(q) for each royalty_quarter q from a through b when royalties(q) > $100]
define all_paid(a: date, b: date): bool =
  all of [paid_on(q) is given for each royalty_quarter q from a through b]
define credit(q: royalty_quarter): money =
  if q is after first royalty_quarter
  then greater of [$0, credit(previous q) + $100 - royalties(q)]
  else greater of [$0, $100 - royalties(q)]
"""


@pytest.fixture(scope="module")
def aggregates() -> ModuleType:
    return build(AGGREGATES)


ROYALTIES = {"2008-12-31": "50", "2009-Q1": "150", "2009-06-30": "20", "2009-Q3": "300"}


def test_ranges_through_and_until(aggregates: ModuleType) -> None:
    m = aggregates
    facts = m.Facts(royalties=ROYALTIES)
    assert m.through(facts, date(2008, 10, 1), date(2009, 9, 30)) == 520
    # "until B": the periods that start before B. July 1 starts a quarter: not it.
    assert m.until(facts, date(2008, 10, 1), date(2009, 7, 1)) == 220
    assert m.until(facts, date(2008, 10, 1), date(2009, 7, 2)) == 520
    # A range from before the first period starts at the first.
    assert m.through(facts, date(2000, 1, 1), date(2008, 12, 31)) == 50
    # A range that ends before it begins is empty: its sum is zero.
    assert m.through(facts, date(2009, 7, 1), date(2009, 1, 1)) == 0


def test_greatest_and_all_over_periods(aggregates: ModuleType) -> None:
    m = aggregates
    facts = m.Facts(royalties=ROYALTIES, paid_on={"2009-Q1": "2009-04-15"})
    assert m.biggest(facts, date(2008, 10, 1), date(2009, 9, 30)) == 300
    assert m.biggest(facts, date(2008, 10, 1), date(2008, 12, 31)) is None  # none over $100
    assert m.all_paid(facts, date(2009, 1, 1), date(2009, 3, 31)) is True
    assert m.all_paid(facts, date(2009, 1, 1), date(2009, 6, 30)) is False


def test_the_n_periods_ending_with_one_and_year_to_date(aggregates: ModuleType) -> None:
    m = aggregates
    facts = m.Facts(royalties={}, units={"2008-Q3": 1, "2008-Q4": 2, "2009-Q1": 4,
                                         "2009-Q2": 8, "2009-Q3": 16})
    assert m.last4(facts, date(2009, 8, 1)) == 30  # Q4 2008 to Q3 2009
    assert m.last4(facts, date(2009, 6, 30)) == 15  # Q3 2008 to Q2 2009
    assert m.ytd(facts, "2009-Q3") == 28
    assert m.ytd(facts, "2008-Q2") == 0  # the default for quarters not given


def test_a_balance_carried_forward(aggregates: ModuleType) -> None:
    m = aggregates
    facts = m.Facts(royalties=ROYALTIES)
    # 2008-Q4: 100 - 50 = 50; 2009-Q1: 50 + 100 - 150 = 0; Q2: 0 + 100 - 20 = 80;
    # Q3: 80 + 100 - 300 < 0, so 0.
    assert [m.credit(facts, q) for q in ("2008-Q4", "2009-Q1", "2009-Q2", "2009-Q3")] == \
        [50, 0, 80, 0]


def test_a_balance_over_ten_thousand_periods_needs_no_deep_stack() -> None:
    m = build("""
      periods rental_month = contract months from 2000-01-01
      fact paid: integer per rental_month default 1
      define paid_so_far(p: rental_month): integer =
        if p is after first rental_month then paid_so_far(previous p) + paid(p) else paid(p)
    """)
    assert m.paid_so_far(m.Facts(), "contract month 9000") == 9000


def test_series_input_errors_name_the_fact_and_the_period(aggregates: ModuleType) -> None:
    m = aggregates
    with pytest.raises(m.FactError, match=r"'2008-12-31' and '2008-Q4' both name 2008-Q4"):
        m.through(m.Facts(royalties={"2008-12-31": "1", "2008-Q4": "2"}),
                  date(2008, 10, 1), date(2008, 12, 31))
    with pytest.raises(m.FactError, match="'2009-Q5' is neither a date"):
        m.through(m.Facts(royalties={"2009-Q5": "1"}), date(2008, 10, 1), date(2008, 12, 31))
    with pytest.raises(m.FactError, match="'2008-Q3' is before the first"):
        m.through(m.Facts(royalties={"2008-Q3": "1"}), date(2008, 10, 1), date(2008, 12, 31))
    with pytest.raises(m.FactError, match=r"royalties.*for '2009-Q1'.*expected money"):
        m.Facts(royalties={"2009-Q1": "lots"})
    with pytest.raises(m.MissingFactError, match=r"royalties\[2009-Q2\]"):
        m.through(m.Facts(royalties={"2009-Q1": "1"}), date(2009, 1, 1), date(2009, 6, 30))
    # A list of {"period": ..., "value": ...} is a series too.
    listed = m.Facts(royalties=[{"period": "2009-Q1", "value": "7"}])
    assert m.through(listed, date(2009, 1, 1), date(2009, 3, 31)) == 7


# ---------------------------------------------------------------------------
# Recurring obligations, performance, the agenda
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def obligations() -> ModuleType:
    return build(OBLIGATIONS + """
      condition payment_default =
        any of [fee(q) is late on as_of for each royalty_quarter q from commencement_date through as_of]
      define first_due: date = fee(first royalty_quarter).due
      power audit "audit" for each calendar year y from 2009-01-01 until term_end:
        licensor may audit within 6 months after end of y
    """)


def test_each_instance_has_its_own_amount_and_deadline(obligations: ModuleType) -> None:
    m = obligations
    facts = m.Facts(royalties={"2008-Q4": "10", "2009-Q1": "20"})
    first = m.fee(facts, "2008-Q4")
    assert (first.object, first.due, first.active, first.period) == (10, date(2009, 1, 30),
                                                                     True, "2008-Q4")
    assert m.fee(facts, "2009-Q1").due == date(2009, 4, 30)
    assert m.first_due(facts) == date(2009, 1, 30)
    # Outside its range an instance is not in effect: until October 1, 2010.
    assert m.fee(facts, "2010-Q3").active is True
    assert m.fee(facts, "2010-Q4").active is False


def test_late_is_not_performed_by_the_deadline(obligations: ModuleType) -> None:
    m = obligations
    royalties = {"2008-Q4": "10", "2009-Q1": "20", "2009-Q2": "5"}
    on_time = m.Facts(royalties=royalties, as_of=date(2009, 5, 1),
                      paid_on={"2008-Q4": "2009-01-30", "2009-Q1": "2009-04-30"})
    assert m.payment_default(on_time) is False
    # Paid a day late: late, even after it was paid.
    late = m.Facts(royalties=royalties, as_of=date(2009, 6, 1),
                   paid_on={"2008-Q4": "2009-01-31", "2009-Q1": "2009-04-30"})
    assert m.payment_default(late) is True
    # On the due date itself, not yet late; the day after, late.
    unpaid = m.Facts(royalties=royalties, paid_on={"2008-Q4": "2009-01-20"},
                     as_of=date(2009, 4, 30))
    assert m.payment_default(unpaid) is False
    assert m.payment_default(m.Facts(royalties=royalties, paid_on={"2008-Q4": "2009-01-20"},
                                     as_of=date(2009, 5, 1))) is True


def test_the_agenda_lists_instances_and_windows_in_date_order(obligations: ModuleType) -> None:
    m = obligations
    facts = m.Facts(royalties={"2008-Q4": "10", "2009-Q1": "20", "2009-Q2": "5",
                               "2009-Q3": "7", "2009-Q4": "9"},
                    paid_on={"2008-Q4": "2009-02-02"})
    agenda = m.agenda(facts, date(2009, 1, 1), date(2009, 12, 31))
    assert [(e.date, e.name, e.period, e.status) for e in agenda] == [
        (date(2009, 1, 30), "fee", "2008-Q4", "performed late on 2009-02-02"),
        (date(2009, 2, 1), "report", None, "not performed"),
        (date(2009, 4, 30), "fee", "2009-Q1", "not performed"),
        (date(2009, 7, 30), "fee", "2009-Q2", "not performed"),
        (date(2009, 10, 30), "fee", "2009-Q3", "not performed"),
    ]
    assert agenda[0].text == "Licensee must pay $10.00 to Licensor by January 30, 2009"
    assert agenda[0].to_dict()["amount"] == "$10.00"
    assert agenda.undetermined == []
    windows = m.agenda(facts, date(2010, 1, 1), date(2010, 12, 31))
    assert [(e.date, e.kind, e.period) for e in windows if e.name == "audit"] == [
        (date(2010, 6, 30), "window closes", "2009")]


def test_the_agenda_says_what_it_cannot_decide() -> None:
    m = build(SERIES + """
      obligation fee for each royalty_quarter q from commencement_date:
        licensee must pay royalties(q) to licensor within 30 days after end of q
          when royalties(q) > $0
    """)
    # 2008-Q4's royalties are known; 2009-Q1's (due April 30) are not, so whether its
    # installment applies cannot be decided: it is not listed, but named.
    agenda = m.agenda(m.Facts(royalties={"2008-Q4": "10"}), date(2009, 1, 1),
                      date(2009, 6, 30))
    assert [e.period for e in agenda] == ["2008-Q4"]
    assert len(agenda.undetermined) == 2  # 2009-Q1 and 2009-Q2
    assert "fact 'royalties[2009-Q1]' is not given" in agenda.undetermined[0]
    # An amount not yet known does not keep an instance off the agenda.
    unconditional = build(OBLIGATIONS)
    listed = unconditional.agenda(unconditional.Facts(royalties={"2008-Q4": "10"}),
                                  date(2009, 1, 1), date(2009, 6, 30))
    assert [(e.period, e.amount) for e in listed if e.name == "fee"] == [
        ("2008-Q4", 10), ("2009-Q1", None)]
    assert listed.undetermined == []
    with pytest.raises(ValueError, match="the end is before the start"):
        m.agenda(m.Facts(royalties={}), date(2009, 3, 31), date(2009, 1, 1))


def test_standards_are_kept_beside_the_deadline() -> None:
    m = build("""
      fact x: date
      obligation notify: licensee must notify "the Licensor" promptly, but in any event within 5 days after x
      obligation cure: licensee must cure "the breach" as soon as reasonably practicable
    """)
    facts = m.Facts(x=date(2009, 3, 2))
    assert str(m.notify(facts)) == \
        "Licensee must notify the Licensor promptly, and in any event by March 7, 2009"
    assert m.notify(facts).standard == "promptly"
    assert m.cure(facts).standard == "as soon as reasonably practicable"
    assert m.cure(facts).due is None


def test_the_agenda_uses_the_version_in_force_on_each_date(tmp_path) -> None:
    base = HEADER + """
section 1 {
  text "The Licensee shall pay $100 at the end of each calendar quarter."
  obligation fee for each calendar quarter q from 2009-01-01: licensee must pay $100 to licensor on end of q
}
"""
    amendment = """
amendment first "First Amendment" amends licence {
  dated 2009-05-01
  effective 2009-07-01
}
replace section 1 {
  text "The Licensee shall pay $150 at the end of each calendar quarter."
  obligation fee for each calendar quarter q from 2009-01-01: licensee must pay $150 to licensor on end of q
}
"""
    result = api.analyse(SourceFile("licence.clause", base),
                         [SourceFile("first.clause", amendment)])
    assert result.ok, [d.message for d in result.diagnostics]
    m = api.module_from_source(api.generate(result), "licence")
    agenda = m.agenda(m.Facts(), date(2009, 1, 1), date(2009, 12, 31))
    assert [(e.date, e.amount) for e in agenda] == [
        (date(2009, 3, 31), 100), (date(2009, 6, 30), 100),
        (date(2009, 9, 30), 150), (date(2009, 12, 31), 150)]
    assert {e.version for e in agenda[2:]} == {m.VERSIONS[1].label}


def test_a_term_as_in_force_on_the_date_it_concerns() -> None:
    base = HEADER + """
section 1 {
  text "The Leverage Ratio shall not exceed 4.00 to 1.00."
  define maximum_leverage: decimal = 4.00
}
fact test_date: date
condition within_covenant(d: date) = 3.50 <= (maximum_leverage as in force on d)
define limit_then(d: date): decimal = (maximum_leverage as in force on d)
"""
    amendment = """
amendment first "First Amendment" amends licence {
  dated 2009-05-01
  effective 2009-07-01
}
replace section 1 {
  text "The Leverage Ratio shall not exceed 3.25 to 1.00."
  define maximum_leverage: decimal = 3.25
}
"""
    result = api.analyse(SourceFile("licence.clause", base),
                         [SourceFile("first.clause", amendment)])
    assert result.ok, [d.message for d in result.diagnostics]
    m = api.module_from_source(api.generate(result), "licence")
    facts = m.Facts(test_date=date(2009, 3, 31))
    # Asked today (the amended version), about a quarter before the amendment.
    assert m.limit_then(facts, date(2009, 3, 31)) == 4
    assert m.within_covenant(facts, date(2009, 3, 31)) is True
    assert m.limit_then(facts, date(2009, 9, 30)) == Decimal("3.25")
    assert m.within_covenant(facts, date(2009, 9, 30)) is False


@pytest.mark.parametrize(("text", "message"), [
    ("define x: date = (commencement_date as in force on 5)", "'as in force on' needs a date"),
    ("define x: decimal = (1.5 as in force on commencement_date)",
     "only a defined term or condition"),
    ("define x: date = (x as in force on commencement_date)", "circular definition"),
])
def test_as_in_force_mistakes(text: str, message: str) -> None:
    found = errors(text)
    assert any(message in e for e in found), found


CONDITIONAL = """
amendment first "First Amendment" amends licence {
  dated 2009-05-01
  effective upon conditions_satisfied_on
}
replace section 1 {
  text "The Leverage Ratio shall not exceed 3.25 to 1.00."
  define maximum_leverage: decimal = 3.25
  fact conditions_satisfied_on "the satisfaction of the conditions precedent": date optional
}
"""
COVENANT = HEADER + """
section 1 {
  text "The Leverage Ratio shall not exceed 4.00 to 1.00."
  define maximum_leverage: decimal = 4.00
}
define limit_then(d: date): decimal = (maximum_leverage as in force on d)
"""


def test_an_amendment_effective_upon_the_conditions_precedent() -> None:
    result = api.analyse(SourceFile("licence.clause", COVENANT),
                         [SourceFile("first.clause", CONDITIONAL)])
    assert result.ok, [d.message for d in result.diagnostics]
    m = api.module_from_source(api.generate(result), "licence")
    pending = m.Facts()
    satisfied = m.Facts(conditions_satisfied_on=date(2009, 6, 15))
    # Not effective until the conditions are satisfied: the original applies.
    assert m.evaluate("maximum_leverage", pending) == 4
    assert m.at(date(2010, 1, 1), pending) is m.VERSIONS[0]
    assert m.evaluate("maximum_leverage", satisfied) == Decimal("3.25")
    assert m.at(date(2009, 6, 14), satisfied) is m.VERSIONS[0]
    assert m.at(date(2009, 6, 15), satisfied) is m.VERSIONS[1]
    # A term as in force on a date follows the facts too.
    assert m.limit_then(satisfied, date(2009, 3, 31)) == 4
    assert m.limit_then(satisfied, date(2009, 9, 30)) == Decimal("3.25")
    # Satisfied before the amendment's date: effective from its date, not before.
    early = m.Facts(conditions_satisfied_on=date(2009, 4, 1))
    assert m.at(date(2009, 4, 30), early) is m.VERSIONS[0]
    assert m.at(date(2009, 5, 1), early) is m.VERSIONS[1]


def test_scenario_tests_pick_the_version_the_facts_make_effective(tmp_path) -> None:
    (tmp_path / "licence.clause").write_text(COVENANT, encoding="utf-8")
    (tmp_path / "first.clause").write_text(CONDITIONAL, encoding="utf-8")
    (tmp_path / "licence.tests.clause").write_text("""
tests for licence
test "before the conditions are satisfied" {
  as of 2010-01-01
  expect maximum_leverage = 4.00
}
test "once they are" {
  as of 2010-01-01
  given { conditions_satisfied_on = 2009-06-15 }
  expect maximum_leverage = 3.25
}
""", encoding="utf-8")
    from clausec.cli import main
    assert main(["test", str(tmp_path)]) == 0


def test_effective_upon_needs_a_date_fact() -> None:
    wrong = CONDITIONAL.replace("effective upon conditions_satisfied_on",
                                "effective upon conditions_satisfied")
    result = api.analyse(SourceFile("licence.clause", COVENANT),
                         [SourceFile("first.clause", wrong)])
    messages = [d.message + " | " + (d.hint or "") for d in result.diagnostics
                if d.severity == "error"]
    assert any("'conditions_satisfied' is not a date fact" in m
               and "did you mean 'conditions_satisfied_on'?" in m for m in messages), messages


def test_a_calendar_of_the_agreements_own() -> None:
    m = build("""
      fact d: date
      define next_business_day: date = 1 business day in lender_days after d
      define last_bd(q: calendar quarter): date = last business day of q in lender_days
    """)
    # Monday December 23, 2024: the 24th is added, the 25th and 26th are holidays in
    # London (the 25th in New York): the next business day is Friday the 27th.
    assert m.next_business_day(m.Facts(d=date(2024, 12, 23))) == date(2024, 12, 27)
    # Monday May 27, 2024 is Memorial Day (New York) and the spring bank holiday (London);
    # Monday May 6, 2024 is a bank holiday in London only: closed.
    assert m.next_business_day(m.Facts(d=date(2024, 5, 3))) == date(2024, 5, 7)
    # Good Friday, March 29, 2024 and Easter Monday: London closes both.
    assert m.last_bd(m.Facts(d=date(2024, 1, 1)), "2024-Q1") == date(2024, 3, 28)
    with pytest.raises(m.ClauseError, match="covers 1999 to 2099"):
        m.next_business_day(m.Facts(d=date(2100, 1, 4)))


@pytest.mark.parametrize(("text", "message"), [
    ("calendar mine = new_york_bank", "unknown calendar 'new_york_bank' | did you mean new_york_banks?"),
    ("calendar nyse = new_york_banks", "'nyse' is a built-in calendar"),
    ("calendar mine = nyse plus [2150-01-04]", "2150-01-04 is outside the years"),
])
def test_calendar_mistakes(text: str, message: str) -> None:
    header = HEADER.replace("  calendar us_federal\n", f"  calendar us_federal\n  {text}\n")
    result = api.analyse(SourceFile("t.clause", header))
    found = [d.message + (f" | {d.hint}" if d.hint else "") for d in result.diagnostics
             if d.severity == "error"]
    assert any(message in e for e in found), found


def test_an_unknown_calendar_in_a_duration() -> None:
    found = errors("define d: date = 1 business day in mine after commencement_date")
    assert any("unknown calendar 'mine'" in e for e in found), found


def test_the_agreements_calendar_may_be_its_own() -> None:
    m = api.module_from_source(api.generate(api.analyse(SourceFile("t.clause", """
agreement a "A" {
  dated 2024-01-01
  calendar settlement
  calendar settlement = weekends_only plus [2024-07-05]
}
fact d: date
define settles: date = 1 business day after d
"""))), "t.clause")
    assert m.settles(m.Facts(d=date(2024, 7, 4))) == date(2024, 7, 8)


CURE = OBLIGATIONS.replace("performed on paid_on(q)\n", """performed on paid_on(q)
    cure within 30 days after default_notice_on(q)
""") + """
fact default_notice_on "written notice specifying the default": date per royalty_quarter optional
condition fee_default(q: royalty_quarter) = fee(q) is in default on as_of
"""


def test_in_default_after_the_cure_period() -> None:
    m = build(CURE)
    royalties = {"2008-Q4": "10"}
    # Due January 30, 2009, not paid. Late from January 31, but without a notice never in
    # default.
    no_notice = m.Facts(royalties=royalties, as_of=date(2009, 6, 1))
    assert m.fee_default(no_notice, "2008-Q4") is False
    # Notice on February 2: the 30 days run to March 4; in default from March 5.
    noticed = {"default_notice_on": {"2008-Q4": "2009-02-02"}}
    assert m.fee_default(m.Facts(royalties=royalties, as_of=date(2009, 3, 4), **noticed),
                         "2008-Q4") is False
    assert m.fee_default(m.Facts(royalties=royalties, as_of=date(2009, 3, 5), **noticed),
                         "2008-Q4") is True
    # Cured on March 3: late, but never in default.
    cured = m.Facts(royalties=royalties, as_of=date(2009, 6, 1),
                    paid_on={"2008-Q4": "2009-03-03"}, **noticed)
    assert m.fee_default(cured, "2008-Q4") is False
    assert m.fee(cured, "2008-Q4").cure_by == date(2009, 3, 4)


def test_without_a_cure_period_in_default_is_late() -> None:
    m = build(OBLIGATIONS + """
      condition fee_default(q: royalty_quarter) = fee(q) is in default on as_of
    """)
    facts = m.Facts(royalties={"2008-Q4": "10"}, as_of=date(2009, 1, 31))
    assert m.fee_default(facts, "2008-Q4") is True


def test_a_cure_period_needs_the_date_of_performance() -> None:
    found = errors(SERIES + """
      fact notice_on: date optional
      obligation fee for each royalty_quarter q from commencement_date:
        licensee must pay royalties(q) to licensor by end of q cure within 30 days after notice_on
    """)
    assert any("a cure period needs to know when the duty was performed" in e for e in found)


def test_the_agenda_as_of_a_day_says_pending_late_or_in_default() -> None:
    m = build(CURE)
    facts = m.Facts(royalties={"2008-Q4": "10", "2009-Q1": "20", "2009-Q2": "30"},
                    paid_on={"2009-Q1": "2009-05-02"},
                    default_notice_on={"2008-Q4": "2009-02-02"})
    agenda = m.agenda(facts, date(2009, 1, 1), date(2009, 7, 31), as_of=date(2009, 5, 1))
    assert [(e.period, e.status) for e in agenda if e.name == "fee"] == [
        ("2008-Q4", "in default"),  # cure period over on March 4
        ("2009-Q1", "late"),  # due April 30; paid May 2, after the day asked about
        ("2009-Q2", "pending"),  # due July 30
    ]


def test_the_facts_schema_of_a_series() -> None:
    from clausec.backends.python.schema import facts_schema

    result = analyse(SERIES + "fact units: integer per calendar quarter default 0")
    versions = result.versions
    assert versions is not None
    properties = facts_schema(versions[-1][1])["properties"]
    royalties = properties["royalties"]
    as_mapping, as_list = royalties["oneOf"]
    assert as_mapping["type"] == "object"
    assert as_mapping["additionalProperties"]["type"] == ["number", "string"]
    assert as_list["items"]["required"] == ["period", "value"]
    assert "one value per royalty quarter" in royalties["$comment"]
    assert {"type": "null"} in properties["paid_on"]["oneOf"]  # optional
    assert "0 for a period not given" in properties["units"]["$comment"]


def test_a_scenario_test_looks_at_the_end_of_a_cure_period(tmp_path) -> None:
    (tmp_path / "licence.clause").write_text(HEADER + CURE + """
test "notice on February 2: the cure period runs to March 4" {
  given {
    royalties["2008-Q4"] = $10
    default_notice_on["2008-Q4"] = 2009-02-02
    as_of = 2009-03-05
  }
  expect fee(2008-12-31).cure_by = 2009-03-04
  expect fee_default(2008-12-31) = true
}
""", encoding="utf-8")
    from clausec.cli import main
    assert main(["test", str(tmp_path)]) == 0
