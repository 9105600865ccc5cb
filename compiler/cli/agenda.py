"""`clausec agenda`: what falls due between two dates, on the facts of JSON or CSV files:
every obligation instance due and every power window that closes, as a table, as JSON, or
as an iCalendar file (RFC 5545) that calendar programs import.

The compiled module does the work (`agenda(facts, start, end)`); this module prints it.
Every output is a function of the agreement, the facts and the dates alone, so that two
runs give the same bytes: the iCalendar stamp is a date of the agreement, not the clock.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from clausec import __version__, api, ir
from clausec.cli.common import EXIT_OK, UserError, analyse, load_facts, write_atomically


def run(args: argparse.Namespace) -> int:
    result = analyse(args.files)
    module = api.module_from_source(api.generate(result), result.source.name)
    facts_data = load_facts(args.facts)
    try:
        facts = module.Facts.from_dict(facts_data)
        agenda = module.agenda(facts, args.date_from, args.date_to, args.as_of)
    except module.ClauseError as error:
        raise UserError(str(error)) from None
    except RecursionError:
        raise UserError("the agenda needs terms defined through too long a chain of terms "
                        "to evaluate here") from None
    undetermined = _undetermined(agenda, module)
    if args.format == "json":
        text = render_json(module, agenda, args.date_from, args.date_to)
    elif args.format == "ics":
        text = render_ics(module, agenda)
    else:
        text = render_text(module, agenda, args.date_from, args.date_to)
    if args.output:
        try:
            write_atomically(Path(args.output), text)
        except OSError as error:
            raise UserError(f"{args.output}: cannot write: "
                            f"{error.strerror or error}") from None
    elif args.format == "ics":
        # Bytes, so that the CRLF line ends reach the file as they are on every platform.
        sys.stdout.flush()
        out = getattr(sys.stdout, "buffer", None)
        if out is not None:
            out.write(text.encode("utf-8"))
            out.flush()
        else:
            sys.stdout.write(text)
    else:
        sys.stdout.write(text)
    if undetermined and args.format != "json":
        print(f"clausec: note: {len(undetermined)} item{'s' * (len(undetermined) != 1)} "
              "could not be determined for want of facts (not listed):", file=sys.stderr)
        for message in undetermined:
            print(f"  {message}", file=sys.stderr)
    return EXIT_OK


def _undetermined(agenda: Any, module: Any) -> list[str]:
    """The agenda's undetermined items; with a single version of the agreement, without
    its label ("original: ") in front of each."""
    messages = list(agenda.undetermined)
    if len(module.VERSIONS) == 1:
        prefix = f"{module.VERSIONS[0].label}: "
        messages = [m.removeprefix(prefix) for m in messages]
    return messages


# ------------------------------------------------------------------------- text


def render_text(module: Any, agenda: Any, start: date, end: date) -> str:
    """One line per entry in date order, in aligned columns: date, section, period,
    status, and what is due (or which power's window closes)."""
    agreement = module.AGREEMENT
    entries = list(agenda)
    count = f"{len(entries)} entr{'ies' if len(entries) != 1 else 'y'}"
    title = agreement["title"] or agreement["name"]
    span = f"{start.isoformat()} to {end.isoformat()}"
    lines = [f"{title} ({agreement['name']}): {span}, {count}"]
    if not entries:
        lines.append("")
        lines.append("Nothing falls due and no power's window closes in these dates.")
        return "\n".join(lines) + "\n"
    several = len(module.VERSIONS) > 1
    header = [*("DATE", "SECTION", "PERIOD", "STATUS"), *(("VERSION",) if several else ()),
              "WHAT"]
    rows = [header]
    for entry in entries:
        row = [entry.date.isoformat(), entry.section or "-", entry.period or "-",
               entry.status]
        if several:
            row.append(entry.version)
        row.append(entry.text)
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines.append("")
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------- JSON


def render_json(module: Any, agenda: Any, start: date, end: date) -> str:
    """The agenda as JSON, in a fixed order of keys."""
    out = {
        "agreement": module.AGREEMENT["name"],
        "from": start.isoformat(),
        "to": end.isoformat(),
        "entries": [entry.to_dict() for entry in agenda],
        "undetermined": list(agenda.undetermined),
    }
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------- iCalendar

# RFC 5545 3.1: a content line is folded after at most 75 octets; each continuation
# starts with one space, which counts.
ICS_LINE_OCTETS = 75


def render_ics(module: Any, agenda: Any) -> str:
    """An iCalendar file (RFC 5545): one all-day event per entry, each with a UID that
    depends only on the agreement, the entry's name, period and date (importing the file
    again updates the events), and a DTSTAMP that is the date of the latest version of
    the agreement (its date, or its last amendment's effective date), not the clock."""
    agreement = module.AGREEMENT
    name = agreement["name"]
    stamp = _stamp(module, agenda)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//clausec//clausec {__version__}//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(agreement['title'] or name)}",
    ]
    for entry in agenda:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event_uid(name, entry.name, entry.period, entry.date)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{entry.date.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(entry.date + timedelta(days=1)).strftime('%Y%m%d')}",
            f"SUMMARY:{escape_text(entry.text)}",
            f"DESCRIPTION:{escape_text(_description(module, entry))}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _description(module: Any, entry: Any) -> str:
    parts = []
    if entry.section:
        title = module.SECTIONS.get(entry.section, (None, ""))[0]
        parts.append(ir.cite(entry.section) + (f" ({title})" if title else ""))
    kind = "Obligation" if entry.kind == "due" else "Power"
    parts.append(f"{kind}: {entry.name}")
    if entry.period:
        parts.append(f"Period: {entry.period}")
    parts.append(f"Status: {entry.status}")
    if entry.amount_text:
        # What is paid, or what is delivered ("a statement of ...").
        number = isinstance(entry.amount, (int, Decimal)) and not isinstance(entry.amount, bool)
        parts.append(f"{'Amount' if number else 'Item'}: {entry.amount_text}")
    if entry.party:
        parts.append(f"Party: {entry.party}")
    if len(module.VERSIONS) > 1:
        parts.append(f"Version: {entry.version}")
    return "\n".join(parts)


def _stamp(module: Any, agenda: Any) -> str:
    """The DTSTAMP of every event: midnight UTC of the latest date of the agreement as
    the agenda uses it (its date, its effective date, the effective dates of the
    amendments its entries were evaluated in)."""
    agreement = module.AGREEMENT
    days = [date.fromisoformat(agreement[key]) for key in ("dated", "effective")
            if agreement.get(key)]
    used = {entry.version for entry in agenda}
    days += [version.effective for version in module.VERSIONS
             if version.effective and version.label in used]
    day = max(days) if days else date(1970, 1, 1)
    return f"{day.strftime('%Y%m%d')}T000000Z"


def event_uid(agreement: str, name: str, period: str | None, day: date) -> str:
    """A UID that names the same entry in every run: a digest of the agreement, the
    obligation's or power's name, the period and the date."""
    key = "\x1f".join([agreement, name, period or "", day.isoformat()])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"{digest}@{agreement}.clausec"


def escape_text(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line ends
    escaped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def fold(line: str) -> str:
    """A content line folded (RFC 5545 3.1) so that no line is longer than 75 octets,
    never inside a UTF-8 sequence: each continuation starts with a space."""
    if len(line.encode("utf-8")) <= ICS_LINE_OCTETS:
        return line
    parts: list[str] = []
    current: list[str] = []
    size = 0
    limit = ICS_LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            parts.append("".join(current))
            current, size = [], 0
            limit = ICS_LINE_OCTETS - 1  # the leading space of a continuation
        current.append(char)
        size += octets
    parts.append("".join(current))
    return "\r\n ".join(parts)
