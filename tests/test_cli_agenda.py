"""`clausec agenda` (text, JSON, iCalendar), facts from CSV files, and `clausec eval` with
period arguments: run through `clausec.cli.main` in-process and, where the process
boundary matters (exit codes, tracebacks, bytes on standard output), in a subprocess.

Every expected date is worked out by hand from the clause text: see the comments of
LEASE and of the IntriCon tests."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from clausec.cli import main
from clausec.cli.agenda import escape_text, event_uid, fold

ROOT = Path(__file__).resolve().parent.parent
INTRICON = ROOT / "clauses" / "intricon_license"
DATA = Path(__file__).resolve().parent / "data" / "agenda"

# A lease from January 15, 2024. Rent months are calendar months from the Start Date: the
# first is a stub, January 15-31, 2024. The rent of a month is due 10 days after its last
# day: February 10, 2024 for January, March 10 for February (2024 is a leap year: February
# 29 + 10 days), April 10 for March. Lease years are contract years: lease year 1 runs
# from January 15, 2024 to January 14, 2025, and the window to terminate at its end closes
# 30 days later, on February 13, 2025. The report of the calendar quarter January-March
# 2024 is due 15 days after March 31: April 15, 2024.
LEASE = """
agreement lease "Equipment Lease" {
  dated January 15, 2024
  party lessee "Lessee"
  party lessor "Lessor"
}

define start_date "the Start Date": date = January 15, 2024

periods rent_month "rent month" = calendar months from start_date
periods lease_year "lease year" = contract years from start_date

section 2 "Rent" {
  fact rent_paid_on "the date the rent was paid": date per rent_month optional
  fact extra_rent "extra rent": money per rent_month default $0
  define monthly_rent(m: rent_month) "the rent": money = $1,000 + extra_rent(m)
  obligation rent "the monthly rent"
      for each rent_month m from start_date:
    lessee must pay monthly_rent(m) to lessor within 10 days after end of m
      performed on rent_paid_on(m)
}

section 3 "Reports" {
  obligation report "the quarterly report"
      for each calendar quarter q from start_date:
    lessee must deliver "a report of use; hours, and repairs \u2014 signed by the Lessee\u2019s engineer" to lessor within 15 days after end of q
}

section 5 "Termination" {
  power early_termination "termination at the end of a lease year"
      for each lease_year y from start_date:
    lessee may terminate within 30 days after end of y
}
"""

LEASE_FACTS = {
    # January's rent paid a day early, February's two days late, March's not at all.
    "rent_paid_on": {"2024-01": "2024-02-09", "2024-02-29": "2024-03-12"},
    "extra_rent": {"2024-03": "50"},
}

REPORT = ("Lessee must deliver a report of use; hours, and repairs \u2014 signed by the "
          "Lessee\u2019s engineer to Lessor by April 15, 2024")


def run_main(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def lease(tmp_path, write_clause):
    return write_clause(tmp_path, LEASE, "lease.clause")


@pytest.fixture
def lease_facts(tmp_path):
    path = tmp_path / "lease_facts.json"
    path.write_text(json.dumps(LEASE_FACTS), encoding="utf-8")
    return path


def agenda_json(capsys, *args):
    code, out, err = run_main(capsys, "agenda", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


# =============================================================================
# a small lease: a recurring obligation, a recurring delivery, a power's window
# =============================================================================


def test_lease_text(capsys, lease, lease_facts):
    code, out, err = run_main(capsys, "agenda", lease, "--facts", lease_facts,
                              "--from", "2024-01-01", "--to", "2024-04-30")
    assert code == 0, err
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == "Equipment Lease (lease): 2024-01-01 to 2024-04-30, 4 entries"
    assert lines[1] == ""
    assert lines[2].split() == ["DATE", "SECTION", "PERIOD", "STATUS", "WHAT"]
    rows = lines[3:]
    assert len(rows) == 4
    assert rows[0].startswith("2024-02-10  2 ")
    assert "2024-01 (from 2024-01-15)" in rows[0]
    assert "performed on 2024-02-09" in rows[0]
    assert rows[0].endswith("Lessee must pay $1,000.00 to Lessor by February 10, 2024")
    assert rows[1].startswith("2024-03-10")
    assert "performed late on 2024-03-12" in rows[1]
    assert rows[2].startswith("2024-04-10")
    assert "not performed" in rows[2]
    assert rows[2].endswith("Lessee must pay $1,050.00 to Lessor by April 10, 2024")
    assert rows[3].startswith("2024-04-15  3 ")
    assert rows[3].endswith(REPORT)
    # Aligned: the text of every entry starts in the same column.
    starts = {row.index("Lessee") for row in rows}
    assert len(starts) == 1 and lines[2].index("WHAT") in starts


def test_lease_json(capsys, lease, lease_facts):
    data = agenda_json(capsys, lease, "--facts", lease_facts,
                       "--from", "2024-01-01", "--to", "2024-04-30")
    assert list(data) == ["agreement", "from", "to", "entries", "undetermined"]
    assert data["agreement"] == "lease"
    assert (data["from"], data["to"]) == ("2024-01-01", "2024-04-30")
    assert data["undetermined"] == []
    summary = [(e["date"], e["name"], e["period"], e["status"], e["amount"])
               for e in data["entries"]]
    assert summary == [
        ("2024-02-10", "rent", "2024-01 (from 2024-01-15)", "performed on 2024-02-09",
         "$1,000.00"),
        ("2024-03-10", "rent", "2024-02", "performed late on 2024-03-12", "$1,000.00"),
        ("2024-04-10", "rent", "2024-03", "not performed", "$1,050.00"),
        ("2024-04-15", "report", "2024-Q1", "not performed",
         "a report of use; hours, and repairs \u2014 signed by the Lessee\u2019s engineer"),
    ]
    first = data["entries"][0]
    assert first["kind"] == "due" and first["party"] == "Lessee"
    assert first["section"] == "2" and first["version"] == "original"


def test_lease_power_window(capsys, lease, lease_facts):
    data = agenda_json(capsys, lease, "--facts", lease_facts,
                       "--from", "2025-02-01", "--to", "2025-02-28")
    summary = [(e["date"], e["kind"], e["name"], e["period"], e["status"])
               for e in data["entries"]]
    assert summary == [
        ("2025-02-10", "due", "rent", "2025-01", "not performed"),
        ("2025-02-13", "window closes", "early_termination", "contract year 1", "available"),
    ]
    assert data["entries"][1]["text"] == "Lessee may terminate until February 13, 2025"


def test_lease_one_day(capsys, lease, lease_facts):
    # --from and --to are both included.
    data = agenda_json(capsys, lease, "--facts", lease_facts,
                       "--from", "2025-02-13", "--to", "2025-02-13")
    assert [e["name"] for e in data["entries"]] == ["early_termination"]


def test_empty_agenda(capsys, lease):
    code, out, _ = run_main(capsys, "agenda", lease, "--from", "2024-01-01",
                            "--to", "2024-01-31")
    assert code == 0
    assert out.splitlines()[0].endswith("0 entries")
    assert "Nothing falls due" in out


def test_without_facts_file(capsys, lease):
    data = agenda_json(capsys, lease, "--from", "2024-02-01", "--to", "2024-02-29")
    assert [(e["date"], e["status"]) for e in data["entries"]] == [
        ("2024-02-10", "not performed")]


# =============================================================================
# iCalendar
# =============================================================================


def unfold(text: str) -> list[str]:
    """The content lines of an iCalendar text (RFC 5545 3.1), checking on the way that
    every line ends with CRLF and is at most 75 octets long."""
    assert text.endswith("\r\n")
    physical = text[:-2].split("\r\n")
    for line in physical:
        assert "\n" not in line and "\r" not in line
        assert len(line.encode("utf-8")) <= 75, line
    lines: list[str] = []
    for line in physical:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            assert value[i] not in ";,", f"unescaped {value[i]!r} in {value!r}"
            out.append(value[i])
            i += 1
    return "".join(out)


def events(lines: list[str]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            found.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            assert name not in current, f"{name} twice in an event"
            current[name] = value
    return found


def ics_bytes(cli_env, *args) -> bytes:
    """The bytes `clausec agenda ... --format ics` writes to standard output."""
    result = subprocess.run([sys.executable, "-m", "clausec", "agenda", *map(str, args),
                             "--format", "ics"], capture_output=True, env=cli_env(),
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def test_ics_is_valid(capsys, lease, lease_facts):
    code, out, _ = run_main(capsys, "agenda", lease, "--facts", lease_facts,
                            "--from", "2024-01-01", "--to", "2025-02-28", "--format", "ics")
    assert code == 0
    lines = unfold(out)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT")
    found = events(lines)
    data = agenda_json(capsys, lease, "--facts", lease_facts,
                       "--from", "2024-01-01", "--to", "2025-02-28")
    assert len(found) == len(data["entries"]) > 10
    uids = set()
    for event, entry in zip(found, data["entries"]):
        day = entry["date"].replace("-", "")
        assert event["DTSTART;VALUE=DATE"] == day
        # DTEND is the next day (exclusive end of an all-day event).
        after = date.fromisoformat(entry["date"]) + timedelta(days=1)
        assert event["DTEND;VALUE=DATE"] == after.strftime("%Y%m%d")
        assert unescape(event["SUMMARY"]) == entry["text"]
        description = unescape(event["DESCRIPTION"])
        assert f"Status: {entry['status']}" in description
        if entry["period"]:
            assert f"Period: {entry['period']}" in description
        assert f"Section {entry['section']}" in description
        # The stamp is the agreement's date, not the clock.
        assert event["DTSTAMP"] == "20240115T000000Z"
        assert event["UID"] == event_uid("lease", entry["name"], entry["period"],
                                         date.fromisoformat(entry["date"]))
        uids.add(event["UID"])
    assert len(uids) == len(found)
    report = next(e for e in found if "report" in e["SUMMARY"])
    # Semicolons and commas of the text are escaped; the long line is folded without
    # splitting a UTF-8 sequence (unfold decoded every physical line).
    assert "use\\; hours\\, and repairs" in report["SUMMARY"]
    assert unescape(report["SUMMARY"]) == REPORT
    assert "Item: a report of use" in unescape(report["DESCRIPTION"])
    window = next(e for e in found if "terminate" in e["SUMMARY"])
    assert window["DTSTART;VALUE=DATE"] == "20250213"
    assert "Power: early_termination" in unescape(window["DESCRIPTION"])


def test_ics_bytes_are_identical_across_runs(cli_env, lease, lease_facts):
    args = (lease, "--facts", lease_facts, "--from", "2024-01-01", "--to", "2024-12-31")
    first = ics_bytes(cli_env, *args)
    second = ics_bytes(cli_env, *args)
    assert first == second
    assert first.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert b"\r\n" in first and b"\n" not in first.replace(b"\r\n", b"")
    first.decode("utf-8")


def test_ics_uid_stable_when_facts_change(capsys, lease, lease_facts, tmp_path):
    # A payment recorded later updates the event: same UID, new status.
    args = ("--from", "2024-04-01", "--to", "2024-04-30", "--format", "ics")
    _, before, _ = run_main(capsys, "agenda", lease, "--facts", lease_facts, *args)
    paid = tmp_path / "paid.json"
    paid.write_text(json.dumps({**LEASE_FACTS, "rent_paid_on": {
        **LEASE_FACTS["rent_paid_on"], "2024-03": "2024-04-02"}}), encoding="utf-8")
    _, after, _ = run_main(capsys, "agenda", lease, "--facts", paid, *args)
    old, new = events(unfold(before)), events(unfold(after))
    assert [e["UID"] for e in old] == [e["UID"] for e in new]
    assert "not performed" in unescape(old[0]["DESCRIPTION"])
    assert "performed on 2024-04-02" in unescape(new[0]["DESCRIPTION"])


def test_ics_output_file(capsys, lease, lease_facts, tmp_path):
    out = tmp_path / "cal" / "lease.ics"
    code, stdout, _ = run_main(capsys, "agenda", lease, "--facts", lease_facts,
                               "--from", "2024-01-01", "--to", "2024-04-30",
                               "--format", "ics", "-o", out)
    assert code == 0 and stdout == ""
    data = out.read_bytes()
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert b"\r\r\n" not in data
    assert [p.name for p in out.parent.iterdir()] == ["lease.ics"]  # no temporary left


def test_escape_text():
    assert escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"


def test_fold_counts_octets():
    line = "SUMMARY:" + "\u00e9" * 100  # two octets each
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join([parts[0], *(p[1:] for p in parts[1:])]) == line
    assert fold("SHORT:x") == "SHORT:x"
    exact = "X:" + "a" * 73
    assert fold(exact) == exact  # 75 octets: not folded


# =============================================================================
# the IntriCon licence, 2009
# =============================================================================

# Royalty quarters are the calendar quarters from October 1, 2008. 4.2 and 4.3: the
# Access Fee ($300,000 / 4 = $75,000) and the Second Component ($100,000 / 4 = $25,000 in
# payment year 1, $400,000 / 4 = $100,000 from October 1, 2009) are due at the beginning
# of each quarter. 5.1: the statement of a quarter is due 30 days after its end (January
# 30, April 30, July 30, October 30). 4.4: the credit carried after 2008-Q4 is $25,000 -
# $10,000 = $15,000; after 2009-Q1 $15,000 + $25,000 - $20,000 = $20,000; after 2009-Q2
# $20,000 + $25,000 - $30,000 = $15,000; in 2009-Q3 the royalties of $60,000 exceed the
# Second Component and the credit by $60,000 - $25,000 - $15,000 = $20,000, due 30 days
# after September 30: October 30, 2009. No excess is due for the earlier quarters.
INTRICON_2009 = [
    ("2009-01-01", "access_fee", "2009-Q1", "$75,000.00", "performed on 2009-01-01"),
    ("2009-01-01", "second_component_payment", "2009-Q1", "$25,000.00",
     "performed on 2008-12-31"),
    ("2009-01-30", "statement", "2008-Q4", None, "performed on 2009-01-30"),
    ("2009-04-01", "access_fee", "2009-Q2", "$75,000.00", "performed late on 2009-04-03"),
    ("2009-04-01", "second_component_payment", "2009-Q2", "$25,000.00", "not performed"),
    ("2009-04-30", "statement", "2009-Q1", None, "performed late on 2009-05-04"),
    ("2009-07-01", "access_fee", "2009-Q3", "$75,000.00", "performed on 2009-06-30"),
    ("2009-07-01", "second_component_payment", "2009-Q3", "$25,000.00", "not performed"),
    ("2009-07-30", "statement", "2009-Q2", None, "not performed"),
    ("2009-10-01", "access_fee", "2009-Q4", "$75,000.00", "not performed"),
    ("2009-10-01", "second_component_payment", "2009-Q4", "$100,000.00", "not performed"),
    ("2009-10-30", "excess_payment", "2009-Q3", "$20,000.00", "not performed"),
    ("2009-10-30", "statement", "2009-Q3", None, "not performed"),
]


def entries_of(data):
    return [(e["date"], e["name"], e["period"],
             e["amount"] if e["name"] != "statement" else None, e["status"])
            for e in data["entries"]]


def test_intricon_2009_json(capsys):
    data = agenda_json(capsys, INTRICON, "--facts", DATA / "intricon_2009.json",
                       "--from", "2009-01-01", "--to", "2009-12-31")
    assert data["agreement"] == "intricon_license"
    assert entries_of(data) == INTRICON_2009
    access = [e["date"] for e in data["entries"] if e["name"] == "access_fee"]
    assert access == ["2009-01-01", "2009-04-01", "2009-07-01", "2009-10-01"]
    assert {e["section"] for e in data["entries"]} == {"4.2", "4.3", "4.4", "5.1"}
    # The excess of later quarters needs their royalties, which are not given yet.
    assert any("royalties[2009-Q4]" in m for m in data["undetermined"])
    assert all("royalties[" in m for m in data["undetermined"])


def test_intricon_2009_text(capsys):
    code, out, err = run_main(capsys, "agenda", INTRICON, "--facts",
                              DATA / "intricon_2009.json", "--from", "2009-01-01",
                              "--to", "2009-12-31")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ("Strategic Alliance Agreement (intricon_license): 2009-01-01 to "
                        "2009-12-31, 13 entries")
    rows = lines[3:]
    assert len(rows) == 13
    assert rows[0].split()[:4] == ["2009-01-01", "4.2", "2009-Q1", "performed"]
    assert rows[0].endswith("IntriCon must pay $75,000.00 to Dynamic Hearing by January 1, 2009")
    assert rows[10].endswith("IntriCon must pay $100,000.00 to Dynamic Hearing by October 1, "
                             "2009")
    # The undetermined items go to standard error, after the entries.
    assert err.startswith("clausec: note: ")
    assert "could not be determined for want of facts" in err
    assert "fact 'royalties[2009-Q4]' is not given" in err
    assert "royalties" not in out


def test_intricon_facts_from_csv_and_json(capsys):
    # The same facts split between a JSON file and a CSV file in long form (periods
    # named by a date inside them or by their label) give the same agenda.
    whole = agenda_json(capsys, INTRICON, "--facts", DATA / "intricon_2009.json",
                        "--from", "2009-01-01", "--to", "2009-12-31")
    split = agenda_json(capsys, INTRICON, "--facts", DATA / "intricon_2009_dates.json",
                        "--facts", DATA / "intricon_2009_royalties.csv",
                        "--from", "2009-01-01", "--to", "2009-12-31")
    assert split == whole


def test_intricon_output_file_text(capsys, tmp_path):
    out = tmp_path / "agenda.txt"
    code, stdout, _ = run_main(capsys, "agenda", INTRICON, "--facts",
                               DATA / "intricon_2009.json", "--from", "2009-01-01",
                               "--to", "2009-12-31", "-o", out)
    assert code == 0 and stdout == ""
    assert out.read_text(encoding="utf-8").count("\n") == 16


# =============================================================================
# facts from CSV
# =============================================================================


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_csv_plain_and_series_facts(capsys, tmp_path):
    facts = write(tmp_path, "f.csv", "fact,period,value\n"
                  "as_of,,2009-12-31\n"
                  "\n"
                  "royalties,2008-Q4,10000\n"
                  "royalties,2009-03-31,\"20,000.00\"\n")
    code, out, err = run_main(capsys, "eval", INTRICON, "credit_carried", "2009-Q1",
                              "--facts", facts)
    assert code == 0, err
    # $25,000 - $10,000 = $15,000 carried into 2009-Q1; $15,000 + $25,000 - $20,000.
    assert out.splitlines()[0] == "credit_carried(2009-Q1) = $20,000.00"
    code, out, _ = run_main(capsys, "eval", INTRICON, "as_of", "--facts", facts)
    assert out.splitlines()[0] == "as_of = December 31, 2009"


def test_csv_header_in_any_case_and_order_with_bom(capsys, tmp_path):
    facts = write(tmp_path, "f.csv", b"\xef\xbb\xbfValue,Fact,Period\r\n"
                  b"2009-12-31,as_of,\r\n")
    code, out, err = run_main(capsys, "eval", INTRICON, "as_of", "--facts", facts)
    assert code == 0, err
    assert out.startswith("as_of = December 31, 2009")


def test_csv_duplicate_row(capsys, tmp_path):
    facts = write(tmp_path, "dup.csv", "fact,period,value\n"
                  "royalties,2009-Q1,100\n"
                  "royalties,2009-Q2,200\n"
                  "royalties,2009-q1,300\n")
    code, out, err = run_main(capsys, "agenda", INTRICON, "--facts", facts,
                              "--from", "2009-01-01", "--to", "2009-12-31")
    assert code == 1 and out == ""
    assert err == (f"clausec: error: {facts}:4: fact 'royalties' has a second value for the "
                   "period '2009-q1' (lines 2 and 4)\n")


def test_csv_duplicate_plain_fact(capsys, tmp_path):
    facts = write(tmp_path, "dup.csv", "fact,period,value\nas_of,,2009-01-01\n"
                  "as_of,,2009-02-01\n")
    code, _, err = run_main(capsys, "eval", INTRICON, "as_of", "--facts", facts)
    assert code == 1
    assert err.strip() == (f"clausec: error: {facts}:3: fact 'as_of' is given twice "
                           "(lines 2 and 3)")


def test_csv_and_json_give_the_same_period(capsys, tmp_path):
    csv_file = write(tmp_path, "r.csv", "fact,period,value\nroyalties,2009-Q1,100\n")
    json_file = write(tmp_path, "r.json", '{"royalties": {"2009-Q1": "5"}}')
    code, _, err = run_main(capsys, "eval", INTRICON, "royalties", "--facts", json_file,
                            "--facts", csv_file)
    assert code == 1
    assert err.strip() == (f"clausec: error: fact 'royalties' has two values for the period "
                           f"'2009-Q1': in {json_file} and in {csv_file}:2")


def test_csv_same_period_named_two_ways(capsys, tmp_path):
    # "2009-Q1" and "2009-03-31" name one period: the module says so.
    facts = write(tmp_path, "r.csv", "fact,period,value\nroyalties,2009-Q1,1\n"
                  "royalties,2009-03-31,2\n")
    code, _, err = run_main(capsys, "agenda", INTRICON, "--facts", facts,
                            "--from", "2009-01-01", "--to", "2009-12-31")
    assert code == 1
    assert "'2009-Q1' and '2009-03-31' both name 2009-Q1" in err


@pytest.mark.parametrize("text, expected", [
    ("fact,value\nas_of,2009-01-01\n",
     ":1: the header must name the columns fact,period,value, not 'fact,value'"),
    ("fact,period,value,note\n", ":1: the header must name the columns"),
    ("fact,period,value\nas_of,2009-01-01\n",
     ":2: 2 column(s) where the header has 3 (fact,period,value): a column is missing"),
    ("fact,period,value\nas_of,,2009-01-01,x\n",
     ":2: 4 column(s) where the header has 3 (fact,period,value): a column is extra"),
    ("fact,period,value\n,,2009-01-01\n", ":2: no fact named in the column 'fact'"),
    ("", ": no header: a CSV facts file starts with the line fact,period,value"),
    ("fact,period,value\nroyalties,2009-Q1,\"1\n", ":2: not a valid CSV line"),
    (b"fact,period,value\nroyalties,2009-Q1,\xff1\n", ":2:19: not UTF-8 text (byte 0xff)"),
    ("fact,period,value\nroyalties,2009-Q1,1\nroyalties,,2\n",
     (":3: fact 'royalties' is given without a period, but line 2 gives it one value per "
      "period")),
    ("fact,period,value\nas_of,,2009-01-01\nas_of,2009-Q1,2\n",
     (":3: fact 'as_of' is given for the period '2009-Q1', but line 2 gives it without a "
      "period")),
])
def test_csv_errors(capsys, tmp_path, text, expected):
    facts = write(tmp_path, "bad.csv", text)
    code, out, err = run_main(capsys, "eval", INTRICON, "as_of", "--facts", facts)
    assert code == 1
    assert out == ""
    assert err.startswith(f"clausec: error: {facts}{expected}")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_csv_value_checked_by_the_module(capsys, tmp_path):
    facts = write(tmp_path, "r.csv", "fact,period,value\nroyalties,2009-Q1,lots\n")
    code, _, err = run_main(capsys, "eval", INTRICON, "credit_carried", "2009-Q1",
                            "--facts", facts)
    assert code == 1
    assert err.startswith("clausec: error: fact 'royalties': for '2009-Q1': expected money")


def test_csv_too_large(capsys, tmp_path, monkeypatch):
    from clausec.cli import common

    facts = write(tmp_path, "big.csv", "fact,period,value\n" + "royalties,2009-Q1,1\n" * 10)
    monkeypatch.setattr(common, "MAX_FILE_BYTES", 100)
    code, _, err = run_main(capsys, "eval", INTRICON, "as_of", "--facts", facts)
    assert code == 1
    assert err.startswith(f"clausec: error: {facts}: is too large")


def test_csv_missing_file(capsys, tmp_path):
    missing = tmp_path / "missing.csv"
    code, _, err = run_main(capsys, "eval", INTRICON, "as_of", "--facts", missing)
    assert code == 1
    assert err.strip() == f"clausec: error: {missing}: no such file"


def test_json_facts_given_twice(capsys, tmp_path):
    a = write(tmp_path, "a.json", '{"as_of": "2009-01-01"}')
    b = write(tmp_path, "b.json", '{"as_of": "2009-02-01"}')
    code, _, err = run_main(capsys, "eval", INTRICON, "as_of", "--facts", a, "--facts", b)
    assert code == 1
    assert err.strip() == f"clausec: error: fact 'as_of' is given twice: in {a} and in {b}"


def test_series_merged_from_two_json_files(capsys, tmp_path):
    a = write(tmp_path, "a.json", '{"royalties": {"2008-Q4": "10000"}}')
    b = write(tmp_path, "b.json",
              '{"royalties": [{"period": "2009-Q1", "value": "20000"}]}')
    code, out, err = run_main(capsys, "eval", INTRICON, "credit_carried", "2009-03-31",
                              "--facts", a, "--facts", b)
    assert code == 0, err
    assert out.splitlines()[0] == "credit_carried(2009-03-31) = $20,000.00"


# =============================================================================
# eval with period arguments
# =============================================================================


def test_eval_term_with_period_argument(capsys):
    facts = DATA / "intricon_2009.json"
    for arg in ("2009-03-31", "2009-02-14", "2009-Q1", "2009-q1"):
        code, out, err = run_main(capsys, "eval", INTRICON, "credit_carried", arg,
                                  "--facts", facts)
        assert code == 0, err
        assert out.splitlines()[0] == f"credit_carried({arg}) = $20,000.00"


def test_eval_contract_year_label(capsys):
    code, out, err = run_main(capsys, "eval", INTRICON, "annual_second_component",
                              "contract year 2")
    assert code == 0, err
    assert out.splitlines()[0] == "annual_second_component(contract year 2) = $400,000.00"


def test_eval_recurring_obligation(capsys):
    code, out, err = run_main(capsys, "eval", INTRICON, "excess_payment", "2009-Q3",
                              "--facts", DATA / "intricon_2009.json")
    assert code == 0, err
    assert out.splitlines()[0] == ("excess_payment(2009-Q3) = IntriCon must pay $20,000.00 "
                                   "to Dynamic Hearing by October 30, 2009 (Section 4.4)")
    code, out, err = run_main(capsys, "eval", INTRICON, "access_fee", "2009-05-20",
                              "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["kind"] == "obligation"
    assert "by April 1, 2009" in data["value"]


def test_eval_recurring_power_with_explanation(capsys, lease):
    code, out, err = run_main(capsys, "eval", lease, "early_termination",
                              "contract year 1", "--explain")
    assert code == 0, err
    assert out.startswith("early_termination(contract year 1) = ")


def test_eval_recurring_obligation_needs_its_period(capsys):
    code, out, err = run_main(capsys, "eval", INTRICON, "excess_payment")
    assert code == 1 and out == ""
    assert err.strip() == ("clausec: error: excess_payment takes 1 argument(s) (q: a royalty "
                           "quarter, as a date in it or its label), got 0")


def test_eval_bad_period_argument(capsys):
    code, out, err = run_main(capsys, "eval", INTRICON, "credit_carried", "2009-Q7",
                              "--facts", DATA / "intricon_2009.json")
    assert code == 1 and out == ""
    # Located at the term that takes the period, as any error of the module.
    assert err.startswith("clausec: error: intricon_license.clause:")
    assert "(Section 4.4): q: '2009-Q7' is neither a date" in err
    assert err.count("\n") == 1


# =============================================================================
# errors: one line, no traceback
# =============================================================================


@pytest.mark.parametrize("args, message", [
    (["--from", "2009-13-01", "--to", "2009-12-31"],
     "argument --from: '2009-13-01' is not a date (YYYY-MM-DD)"),
    (["--from", "2009-12-31", "--to", "2009-01-01"],
     "argument --to: 2009-01-01 is before --from 2009-12-31"),
    (["--from", "2009-01-01", "--to", "2009-12-31", "--format", "xml"],
     "argument --format: invalid choice: 'xml'"),
    (["--to", "2009-12-31"], "the following arguments are required: --from"),
])
def test_usage_errors_subprocess(run_cli, args, message):
    result = run_cli("agenda", INTRICON, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("usage: clausec agenda")
    assert f"clausec agenda: error: {message}" in result.stderr


@pytest.mark.parametrize("facts, message", [
    ("missing.json", "missing.json: no such file"),
    ("bad.json", "bad.json:1:15: invalid JSON"),
    ("bad.csv", "bad.csv:1: the header must name the columns fact,period,value"),
    ("wrong.json", "fact 'royalties': for '2009-Q1': expected money"),
    ("unknown.json", "did you mean 'royalties'"),
])
def test_input_errors_subprocess(run_cli, tmp_path, facts, message):
    write(tmp_path, "bad.json", '{"royalties": }')
    write(tmp_path, "bad.csv", "name,period,value\n")
    write(tmp_path, "wrong.json", '{"royalties": {"2009-Q1": "lots"}}')
    write(tmp_path, "unknown.json", '{"royaltie": {"2009-Q1": "1"}}')
    result = run_cli("agenda", INTRICON, "--facts", tmp_path / facts,
                     "--from", "2009-01-01", "--to", "2009-12-31")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("clausec: error: ")
    assert message in result.stderr


def test_eval_period_errors_subprocess(run_cli):
    for args in (["credit_carried", "2009-Q7"], ["excess_payment"],
                 ["credit_carried", "2008-07-01"]):
        result = run_cli("eval", INTRICON, *args, "--facts", DATA / "intricon_2009.json")
        assert result.returncode == 1, args
        assert "Traceback" not in result.stderr
        assert "internal error" not in result.stderr
        assert result.stderr.startswith("clausec: error: ")
        assert result.stderr.count("\n") == 1


def test_unwritable_output(capsys, lease, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    code, _, err = run_main(capsys, "agenda", lease, "--from", "2024-01-01",
                            "--to", "2024-04-30", "-o", blocker / "out.txt")
    assert code == 1
    assert err.startswith(f"clausec: error: {blocker / 'out.txt'}: cannot write")


def test_agenda_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["agenda", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: clausec agenda")
    for option in ("--facts", "--from", "--to", "--format", "-o"):
        assert option in out
    assert "standard error" in out
