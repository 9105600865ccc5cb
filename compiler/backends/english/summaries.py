"""The English backend: summaries and explanations, in plain English, from the compiled logic.

`summary(result, ...)` builds the template context of an agreement as in force on a
date (its overview, every section's logic, glossary, obligations, timeline, and each
amendment's redline and changes in the logic); `render(...)` puts it through the
templates of one format (templates/summary.{md,html,txt}.j2), whose English comes from
one macro per IR node kind (templates/english.j2). `explanation(...)` turns the
explanation tree of `eval --explain` into the sentences of templates/explain.txt.j2.

Everything shown is read from the checked IR, the consolidation's redline and, for
explanations, the values the compiled module computed: a summary cannot say what the
code does not do. The context is plain attrs classes, documented in the README.

Templates, the built-in ones and a user's (`--templates`), render in jinja2's sandbox,
and every value they print is escaped for the format where it is printed (english.py).
"""

from __future__ import annotations

import contextlib
import difflib
import functools
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import attrs
import jinja2
import jinja2.runtime
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from clausec import ir
from clausec.backends.english.wording import (
    Lexicon,
    business_days_of,
    calendar_name,
    cite,
    cite_item,
    filters,
    finalizer,
    item_label,
    list_style,
    literal,
)
from clausec.backends.python.runtime import Explanation
from clausec.ir import types as T
from clausec.ir.visit import operands, shape
from clausec.passes.check import CheckedProgram
from clausec.passes.consolidate import Version, amendment_label, long_date

TEMPLATES = Path(__file__).parent / "templates"
SUFFIXES = {"markdown": "md", "html": "html", "text": "txt"}

# ---------------------------------------------------------------- the context


class Result(Protocol):
    """What a summary reads of an analysed agreement (an api.Result): its versions, the
    agreement as signed and then after each amendment."""

    @property
    def versions(self) -> Sequence[tuple[Version | None, CheckedProgram]] | None: ...


@attrs.frozen
class SectionView:
    """A section as in force: its number and heading, and its logic (declarations)."""

    number: str  # "3.1", "2.3 of the Amendment to ...", "" for the general provisions
    heading: str | None
    label: str  # "Section 3.1"
    note: str  # ", as amended on March 31, 2004", or ""
    deleted: str  # "[Deleted by the Amendment ... of March 31, 2004]", or ""
    excerpt: str  # the first words of its text, for a section with no heading
    provisions: tuple[ir.Declaration, ...]  # definitions, conditions, exceptions, duties
    facts: tuple[ir.Fact, ...]  # the inputs it declares


@attrs.frozen
class Entry:
    """A glossary entry: a defined term or a fact, where it is defined and used."""

    name: str
    decl: ir.Declaration
    section: str  # "Section 3.1, as amended on March 31, 2004"
    used_in: tuple[str, ...]  # the sections whose provisions use it
    exceptions: tuple[ir.Exception_, ...] = ()


@attrs.frozen
class Amount:
    """The amounts and thresholds (money and percentages) one provision states."""

    name: str
    decl: ir.Declaration
    values: tuple[str, ...]  # "$1,800,000.00", "7.5%"
    section: str


@attrs.frozen
class DutyRow:
    """A row of the obligations table: an obligation, or what follows a power's use."""

    name: str  # the obligation's (or power's) name
    decl: ir.Obligation | ir.Power
    duty: ir.Duty
    section: str


@attrs.frozen
class Event:
    """A line of the timeline: a date the agreement fixes, or one that runs from events.

    kind: "dated", "effective" (of the agreement or an amendment: `title` says which),
    "term" (a defined date), "mentioned" (a date a provision states), "due" (a duty
    with a fixed date: `duty`), "deadline" (a duty whose deadline runs from an event)."""

    kind: str
    when: date | None  # None: depends on events
    when_text: str  # "March 30, 2004"
    title: str = ""
    decl: ir.Declaration | None = None
    duty: ir.Duty | None = None
    section: str = ""


@attrs.frozen
class Segment:
    """A run of words of a redline: "equal", "delete" or "insert"."""

    op: str
    text: str


@attrs.frozen
class Redline:
    """One change of an amendment, word by word (paragraphs of segments)."""

    section: str
    operation: str  # replace, delete, append, add, insert (the amendment's own provision)
    description: str  # "Section 3.1 is amended in its entirety"
    paragraphs: tuple[tuple[Segment, ...], ...]
    deleted_note: str  # "[Deleted by the Amendment ... of March 31, 2004]" for a deletion


@attrs.frozen
class LogicChange:
    """A provision an amendment added, removed, changed or moved, before and after in
    words (already rendered for the output format, with each version's own terms)."""

    name: str
    term: str  # the provision's term, as the contract spells it (or "")
    change: str  # "added", "removed", "changed" (its logic), "reworded" (its words), "moved"
    section_before: str
    section_after: str
    before: str
    after: str
    # Whether its results are the same (semdiff.py): "equivalent (proved with z3)",
    # "differs: e.g. when ...", "no difference found in 500 examples (...)", or "".
    verdict: str = ""
    # For a result whose own words did not change ("affected"): why it changed anyway.
    because: str = ""


@attrs.frozen
class Verdict:
    """Whether a result an amendment changed gives the same answers: the semantic diff's
    finding (analysis/semdiff.py computes them, `summary_verdicts`), given to `render` and
    `summary` by their caller, one sequence per amendment."""

    name: str
    term: str
    change: str  # "changed" (its own logic), "affected" (what it uses), "added", "removed"
    section_before: str
    section_after: str
    words: str  # "equivalent (proved with z3)", "differs: e.g. when ...", or ""
    because: tuple[str, ...] = ()  # why it counts as changed


# The verdicts of one summary: for each amendment in order, its results' verdicts; None
# when they could not be computed (z3 and hypothesis not installed).
Verdicts = Sequence[Sequence[Verdict]]

# What the "Same results?" column says of a changed result when there are no verdicts.
NO_VERDICTS = "not compared: this column needs clausec[verify]"


@attrs.frozen
class AmendmentView:
    title: str  # "Amendment to Patent Purchase Agreement"
    label: str  # "the Amendment to Patent Purchase Agreement of March 31, 2004"
    dated: str
    effective: str
    in_force: bool  # on the summary's date
    redline: tuple[Redline, ...]
    logic: tuple[LogicChange, ...]


@attrs.frozen
class Overview:
    parties: tuple[ir.Party, ...]
    dates: tuple[tuple[str, str], ...]  # ("Dated", "December 30, 2003"), ...
    governing_law: str | None
    business_days: str  # which days are business days
    time_zone: str | None
    close_of_business: str  # "5:00 P.M."
    currency: str
    amounts: tuple[Amount, ...]
    # The families of periods it declares (royalty quarters, fiscal years), in order.
    periods: tuple[ir.PeriodFamily, ...] = ()


@attrs.frozen
class Summary:
    """Everything a summary template is given (as `summary`, beside `lex`)."""

    format: str  # markdown, html or text
    title: str
    header: ir.Header
    version: str  # "as amended on March 31, 2004", "as originally signed", or ""
    as_of: date | None
    overview: Overview
    sections: tuple[SectionView, ...]
    glossary: tuple[Entry, ...]  # defined terms (define, condition), by term
    facts: tuple[Entry, ...]  # the facts it depends on, by term
    obligations: tuple[DutyRow, ...]
    powers: tuple[ir.Power, ...]
    timeline: tuple[Event, ...]  # dated events, in date order
    schedule: tuple[Event, ...]  # dates and deadlines that run from events
    amendments: tuple[AmendmentView, ...]


# ------------------------------------------------------------- environment


class Sandbox(SandboxedEnvironment):
    """Where templates render: they read the context and call its methods, and nothing
    else (no attribute that starts with "_", no function's globals, no Python), since a
    user's templates are no more trusted than a document. A value too large to build
    (`"x" * 10**12`, `7 ** 10**6`) is refused rather than attempted."""

    intercepted_binops = frozenset(["*", "**"])
    LIMIT = 10_000_000

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any,
                   right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and \
                isinstance(left, (int, float)) and abs(right) > 10_000 and abs(left) > 1:
            raise SecurityError(f"{left} ** {right} is too large to compute")
        if operator == "*":
            for count, seq in ((left, right), (right, left)):
                if isinstance(count, int) and isinstance(seq, (str, list, tuple)) and \
                        count * len(seq) > self.LIMIT:
                    raise SecurityError(f"{len(seq):,} items repeated {count:,} times "
                                        f"is too large to build")
        return super().call_binop(context, operator, left, right)


def environment(fmt: str, templates: str | Path | None = None) -> jinja2.Environment:
    """The templates of a format: the user's directory first, then the package's."""
    return _environment(fmt, None if templates is None else str(templates))


@functools.lru_cache(maxsize=16)
def _environment(fmt: str, templates: str | None) -> jinja2.Environment:
    # Cached: compiling the templates costs far more than rendering them. jinja2 reloads a
    # template whose file changed, so a user editing an override sees the edit.
    loaders: list[jinja2.BaseLoader] = []
    if templates is not None:
        loaders.append(jinja2.FileSystemLoader(str(templates)))
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATES)))
    # Markdown is autoescaped too: what a macro returns is then known to be escaped
    # already, and `finalize` gives every other value Markdown's escaping (see english.py).
    env = Sandbox(
        loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
        autoescape=fmt in ("html", "markdown"), finalize=finalizer(fmt),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(filters(fmt))
    return env


@contextlib.contextmanager
def template_errors(templates: str | Path | None = None) -> Iterator[None]:
    """Errors of templates (a sandbox refusal, a missing field, a failure in a user's
    template) told as `file:line: message`, the template line that failed: in the user's
    templates if they took part, else in the built-in ones. Anything else raised in the
    built-in templates alone is a fault of clausec, and is raised as it is."""
    try:
        yield
    except (jinja2.TemplateSyntaxError, jinja2.TemplateNotFound):
        raise
    except Exception as error:  # a user's template is code of theirs: it may raise anything
        user = Path(templates).resolve() if templates is not None else None
        frames = _template_lines(error, [d for d in (user, TEMPLATES.resolve()) if d])
        own = [(file, line) for file, path, line in frames
               if user is not None and path.is_relative_to(user)]
        if not frames or not (own or isinstance(error, jinja2.TemplateError)):
            raise
        file, line = (own or [(file, line) for file, _, line in frames])[-1]
        message = str(error) if isinstance(error, jinja2.TemplateError) else \
            f"{type(error).__name__}: {error}"
        raise jinja2.TemplateRuntimeError(f"{file}:{line}: {message}") from None


def _template_lines(error: BaseException, folders: list[Path]
                    ) -> list[tuple[str, Path, int]]:
    """The template files (as named, and resolved) and lines `error` went through,
    outermost first: jinja2 gives the frames of a template its file's name and line."""
    found = []
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        path = Path(filename).resolve()
        if any(path.is_relative_to(folder) for folder in folders):
            found.append((filename, path, tb.tb_lineno))
        tb = tb.tb_next
    return found


def english_module(env: jinja2.Environment, lex: Lexicon) -> Any:
    """english.j2 as a module bound to one version's words, for text built outside the
    layout templates (a change's before and after)."""
    return env.get_template("english.j2").make_module({"lex": lex, "values": {}})


# ----------------------------------------------------------------- summary


def version_at(versions: Sequence[tuple[Version | None, CheckedProgram]],
               day: date | None) -> int:
    """The index of the version in force on `day` (the latest if None), as the compiled
    module's at() chooses it."""
    if day is None:
        return len(versions) - 1
    chosen = 0
    for i, (version, _) in enumerate(versions):
        if i and version is not None and version.effective is not None \
                and version.effective <= day:
            chosen = i
    return chosen


def summary(result: Result, env: jinja2.Environment, fmt: str,
            as_of: date | None = None, verdicts: Verdicts | None = None
            ) -> tuple[Summary, Lexicon]:
    """The context of the summary of an agreement as in force on `as_of` (default: with
    every amendment), and the lexicon of that version. `verdicts` fill the "Same results?"
    column of each amendment's table of what changed; without them (None) it says that
    it needs clausec[verify]."""
    assert result.versions is not None
    index = version_at(result.versions, as_of)
    version, checked = result.versions[index]
    lex = Lexicon(checked, fmt)
    order = _section_order(checked)
    if len(result.versions) == 1:
        label = ""
    elif version is None or version.effective is None:
        label = "as originally signed"
    else:
        label = version.label
    context = Summary(
        format=fmt, title=checked.header.title, header=checked.header, version=label,
        as_of=as_of, overview=_overview(result, checked, order),
        sections=tuple(_sections(checked)), glossary=_glossary(checked, order, facts=False),
        facts=_glossary(checked, order, facts=True), obligations=tuple(_duties(checked)),
        powers=tuple(d for d in _in_order(checked, order) if isinstance(d, ir.Power)),
        timeline=tuple(_timeline(result, checked, order)),
        schedule=tuple(_schedule(checked, order)),
        amendments=tuple(_amendments(result, env, fmt, as_of, verdicts)),
    )
    return context, lex


def render(result: Result, fmt: str = "markdown", as_of: date | None = None,
           templates: str | Path | None = None, verdicts: Verdicts | None = None) -> str:
    """The summary of an agreement in one format (markdown, html or text), with the
    semantic diff's `verdicts` (see `summary`; semdiff.summary_verdicts computes them)."""
    env = environment(fmt, templates)
    with template_errors(templates):
        context, lex = summary(result, env, fmt, as_of, verdicts)
        template = env.get_template(f"summary.{SUFFIXES[fmt]}.j2")
        text = template.render(summary=context, lex=lex, values={})
    # One blank line at most between blocks, and one newline at the end: templates can
    # then lay themselves out for reading without counting newlines.
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).rstrip("\n") + "\n"


def _section_order(checked: CheckedProgram) -> dict[str | None, int]:
    order: dict[str | None, int] = {None: -1}
    for i, section in enumerate(checked.program.sections):
        order.setdefault(section.number, i)
    return order


def _label(checked: CheckedProgram, number: str | None) -> str:
    """"Section 3.1, as amended on March 31, 2004": how summaries cite where a
    declaration is, with the note of the version."""
    if number is None:
        return cite(None)
    section = checked.sections.get(number)
    return cite(section.label if section is not None else number)


def _in_order(checked: CheckedProgram, order: dict[str | None, int]) -> list[ir.Declaration]:
    decls = list(checked.program.declarations)
    position = {d.name: i for i, d in enumerate(decls)}
    return sorted(decls, key=lambda d: (order.get(d.section, len(order)), position[d.name]))


def _sections(checked: CheckedProgram) -> Iterator[SectionView]:
    decls = checked.declarations
    general = [d for d in checked.program.declarations if d.section is None]
    if general:
        yield SectionView("", None, "General provisions", "", "", "",
                          tuple(d for d in general if not isinstance(d, ir.Fact)),
                          tuple(d for d in general if isinstance(d, ir.Fact)))
    for section in checked.program.sections:
        own = [decls[n] for n in dict.fromkeys(section.declarations)
               if n in decls and decls[n].section == section.number]
        words = section.text.split()
        excerpt = "" if section.heading or section.deleted else \
            " ".join(words[:12]) + ("…" if len(words) > 12 else "")
        excerpt = excerpt.replace('"', "")  # "Licensee" shall mean ...: quoted as a whole
        yield SectionView(section.number, section.heading, cite(section.number), section.note,
                          section.deleted, excerpt,
                          tuple(d for d in own if not isinstance(d, ir.Fact)),
                          tuple(d for d in own if isinstance(d, ir.Fact)))


def _users(checked: CheckedProgram) -> dict[str, set[str | None]]:
    """For each name, the sections whose declarations use it."""
    users: dict[str, set[str | None]] = {}
    for decl in checked.program.declarations:
        if isinstance(decl, ir.Invariant):
            continue  # a property of the encoding, not a provision that uses the term
        used = ir.names_used(decl) - {decl.name}
        if isinstance(decl, ir.Exception_):
            used.add(decl.target)
        for name in used:
            users.setdefault(name, set()).add(decl.section)
    return users


def _sort_key(term: str) -> str:
    words = term.strip("“”\"").split()
    if words and words[0].lower() in ("the", "a", "an", "this"):
        words = words[1:]
    return " ".join(words).lower()


def _glossary(checked: CheckedProgram, order: dict[str | None, int],
              facts: bool) -> tuple[Entry, ...]:
    users = _users(checked)
    wanted = (ir.Fact,) if facts else (ir.Definition,)
    entries = []
    for decl in checked.program.declarations:
        if not isinstance(decl, wanted):
            continue
        where = sorted(users.get(decl.name, ()), key=lambda s: order.get(s, len(order)))
        entries.append(Entry(decl.name, decl, _label(checked, decl.section),
                             tuple(_label(checked, s) for s in where),
                             tuple(checked.exceptions.get(decl.name, ()))))
    return tuple(sorted(entries, key=lambda e: (_sort_key(getattr(e.decl, "term", None)
                                                          or e.name), e.name)))


def _duties(checked: CheckedProgram) -> Iterator[DutyRow]:
    for decl in _in_order(checked, _section_order(checked)):
        if isinstance(decl, ir.Obligation):
            yield DutyRow(decl.name, decl, decl.duty, _label(checked, decl.section))
        elif isinstance(decl, ir.Power):
            for duty in decl.consequences:
                yield DutyRow(decl.name, decl, duty, _label(checked, decl.section))


# ---------------------------------------------------------------- overview


def _literals(node: object) -> Iterator[ir.Literal]:
    """Every literal in a declaration, in source order (a table's, in the order of its
    rows, which amendments may have written in other files)."""
    if isinstance(node, ir.Table):
        yield from (n for row in node.rows for cell in row.cells for n in _literals(cell))
        return
    found = [n for n in ir.walk(node) if isinstance(n, ir.Literal)]
    yield from sorted(found, key=lambda lit: (lit.span.line, lit.span.column))


def _overview(result: Result, checked: CheckedProgram,
              order: dict[str | None, int]) -> Overview:
    header = checked.header
    dates: list[tuple[str, str]] = []
    if header.dated:
        dates.append(("Dated", long_date(header.dated)))
    if header.effective and header.effective != header.dated:
        dates.append(("Effective", long_date(header.effective)))
    for version, _ in (result.versions or [])[1:]:
        if version is None or version.amendment is None:
            continue
        amendment = version.amendment
        when = f"dated {long_date(amendment.dated)}" if amendment.dated else ""
        if amendment.effective and amendment.effective != amendment.dated:
            when += (", " if when else "") + f"effective {long_date(amendment.effective)}"
        dates.append((amendment.title, when))
    amounts = []
    for decl in _in_order(checked, order):
        if isinstance(decl, (ir.Fact, ir.Invariant)):  # an invariant states no threshold
            continue
        values = [literal(lit.value, lit.type) for lit in _literals(decl)
                  if lit.type is not None and lit.type.kind in ("money", "percent")]
        if values:
            amounts.append(Amount(decl.name, decl, tuple(dict.fromkeys(values)),
                                  _label(checked, decl.section)))
    business = _business_days_of(checked, header.calendar)
    if header.holidays:
        business += ", and not " + ", ".join(long_date(d) for d in header.holidays)
    for name in _other_calendars(checked):
        business += f"; in the {_calendar_name(checked, name)}, " \
                    f"{_business_days_of(checked, name)}"
    hour, minute = (int(p) for p in header.close_of_business.split(":"))
    close = f"{hour % 12 or 12}:{minute:02d} {'A.M.' if hour < 12 else 'P.M.'}"
    zone = header.time_zone_label or header.time_zone
    periods = tuple(d for d in _in_order(checked, order) if isinstance(d, ir.PeriodFamily))
    return Overview(header.parties, tuple(dates), header.governing_law, business, zone,
                    close, header.currency, tuple(amounts), periods)


def _user_calendar(checked: CheckedProgram, name: str) -> ir.UserCalendar | None:
    decl = checked.declarations.get(name)
    return decl if isinstance(decl, ir.UserCalendar) else None


def _calendar_name(checked: CheckedProgram, name: str) -> str:
    own = _user_calendar(checked, name)
    return f"{own.term} calendar" if own is not None and own.term else calendar_name(name)


def _business_days_of(checked: CheckedProgram, name: str) -> str:
    """Which days are business days in a calendar, the agreement's own ones included:
    "every day but Saturday, Sunday, the days the New York banks' calendar or the London
    banks' calendar is closed, and December 24, 2024"."""
    own = _user_calendar(checked, name)
    if own is None:
        return business_days_of(name)
    bases = " or the ".join(calendar_name(b) for b in own.bases)
    closed = [f"the days the {bases} is closed", *(long_date(d) for d in own.extra)]
    if len(closed) == 1:
        return f"every day but Saturday, Sunday and {closed[0]}"
    return "every day but Saturday, Sunday, " + ", ".join(closed[:-1]) + " and " + closed[-1]


def _other_calendars(checked: CheckedProgram) -> list[str]:
    """The calendars other than the agreement's that provisions and facts count business
    days in, in the order they first appear."""
    found: list[tuple[tuple[str, int, int], str]] = []
    for decl in checked.program.declarations:
        if isinstance(decl, ir.Fact) and decl.type.calendar:
            found.append(((decl.span.file, decl.span.line, decl.span.column),
                          decl.type.calendar))
        for node in ir.walk(decl):
            if isinstance(node, ir.Duration) and node.calendar:
                found.append(((node.span.file, node.span.line, node.span.column),
                              node.calendar))
    ordered = dict.fromkeys(name for _, name in sorted(found))
    return [name for name in ordered if name != checked.header.calendar]


# ---------------------------------------------------------------- timeline


def _fixed_date(expr: ir.Expr | None, checked: CheckedProgram, depth: int = 0
                ) -> date | None:
    """The date an expression always has (a literal, or a term defined as one)."""
    if isinstance(expr, ir.Literal) and isinstance(expr.value, date):
        return expr.value
    if isinstance(expr, ir.Name) and depth < 8:
        decl = checked.declarations.get(expr.name)
        if isinstance(decl, ir.Definition) and not decl.params:
            return _fixed_date(decl.expr, checked, depth + 1)
    return None


def _day(moment: date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _timeline(result: Result, checked: CheckedProgram,
              order: dict[str | None, int]) -> Iterator[Event]:
    header = checked.header
    events: list[Event] = []
    if header.dated:
        events.append(Event("dated", header.dated, long_date(header.dated), header.title))
    if header.effective and header.effective != header.dated:
        events.append(Event("effective", header.effective, long_date(header.effective),
                            header.title))
    for version, _ in (result.versions or [])[1:]:
        amendment = version.amendment if version is not None else None
        if amendment is None:
            continue
        if amendment.dated:
            events.append(Event("dated", amendment.dated, long_date(amendment.dated),
                                amendment.title))
        if amendment.effective and amendment.effective != amendment.dated:
            events.append(Event("effective", amendment.effective,
                                long_date(amendment.effective), amendment.title))
    for decl in _in_order(checked, order):
        section = _label(checked, decl.section)
        if isinstance(decl, (ir.Fact, ir.Invariant)):  # an invariant states no event
            continue
        if isinstance(decl, ir.Definition) and isinstance(decl.expr, ir.Literal) and \
                isinstance(decl.expr.value, date):
            events.append(Event("term", decl.expr.value, _when(decl.expr, checked),
                                decl=decl, section=section))
            continue
        for lit in _literals(decl):
            if isinstance(lit.value, date):
                events.append(Event("mentioned", lit.value, _when(lit, checked), decl=decl,
                                    section=section))
        for duty in _duties_of(decl):
            deadline = duty.deadline
            fixed = _fixed_date(deadline.expr, checked) if deadline and \
                deadline.kind != "within" else None
            if fixed is not None:
                events.append(Event("due", fixed, literal(fixed, T.DATE, header.time_zone,
                                                          header.time_zone_label),
                                    decl=decl, duty=duty, section=section))
    unique = list(dict.fromkeys(events))
    yield from sorted(unique, key=lambda e: _day(e.when) if e.when else date.max)


def _when(lit: ir.Literal, checked: CheckedProgram) -> str:
    return literal(lit.value, lit.type, checked.header.time_zone,
                   checked.header.time_zone_label)


def _duties_of(decl: ir.Declaration) -> tuple[ir.Duty, ...]:
    if isinstance(decl, ir.Obligation):
        return (decl.duty,)
    if isinstance(decl, ir.Power):
        return decl.consequences
    return ()


def _schedule(checked: CheckedProgram, order: dict[str | None, int]) -> Iterator[Event]:
    """Dates defined from events, and deadlines that run from them."""
    for decl in _in_order(checked, order):
        section = _label(checked, decl.section)
        type_ = checked.types.get(decl.name)
        if isinstance(decl, ir.Definition) and type_ is not None and \
                type_.kind in T.MOMENTS and _fixed_date(decl.expr, checked) is None:
            yield Event("term", None, "", decl=decl, section=section)
        for duty in _duties_of(decl):
            deadline = duty.deadline
            if deadline is not None and (deadline.kind == "within" or
                                         _fixed_date(deadline.expr, checked) is None):
                yield Event("deadline", None, "", decl=decl, duty=duty, section=section)


# -------------------------------------------------------------- amendments


def word_diff(before: str, after: str) -> tuple[tuple[Segment, ...], ...]:
    """A word-by-word redline of two texts, paragraph by paragraph."""
    mark = "\x00"  # a paragraph break, as a word of its own

    def words(text: str) -> list[str]:
        out: list[str] = []
        for paragraph in text.split("\n\n"):
            if paragraph.split():
                out.extend([*paragraph.split(), mark])
        return out[:-1]

    a, b = words(before), words(after)
    paragraphs: list[list[Segment]] = [[]]

    def emit(op: str, tokens: list[str]) -> None:
        run: list[str] = []
        for token in [*tokens, None]:
            if token is None or token == mark:
                if run:
                    current = paragraphs[-1]
                    if current and current[-1].op == op:
                        current[-1] = Segment(op, current[-1].text + " " + " ".join(run))
                    else:
                        current.append(Segment(op, " ".join(run)))
                    run = []
                if token == mark and paragraphs[-1]:
                    paragraphs.append([])
            else:
                run.append(token)

    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            emit("equal", a[i1:i2])
        if tag in ("delete", "replace"):
            emit("delete", a[i1:i2])
        if tag in ("insert", "replace"):
            emit("insert", b[j1:j2])
    return tuple(tuple(p) for p in paragraphs if p)


def _logic(decl: ir.Declaration) -> object:
    """What a declaration's logic is (ir.visit.shape), a fact's type included: `shape`
    leaves out the types of expressions, and with them the field of a fact that holds its
    type (a fact of business days in another calendar is another fact)."""
    if isinstance(decl, ir.Fact):
        return (shape(decl), shape(decl.type))
    return shape(decl)


def _unplaced(decl: ir.Declaration) -> ir.Declaration:
    return attrs.evolve(decl, section=None)


def _logic_changes(env: jinja2.Environment, fmt: str, old: CheckedProgram,
                   new: CheckedProgram) -> Iterator[LogicChange]:
    before, after = old.declarations, new.declarations
    en_old, en_new = english_module(env, Lexicon(old, fmt)), english_module(env, Lexicon(new, fmt))
    sentence = env.filters["sentence"]
    order = _section_order(new)
    old_order = _section_order(old)
    names = sorted(set(before) | set(after), key=lambda n: (
        order.get(after[n].section, len(order)) if n in after else
        old_order.get(before[n].section, len(old_order)) + 0.5, n))
    for name in names:
        a, b = before.get(name), after.get(name)
        if a is not None and b is not None and _logic(a) == _logic(b):
            # The same logic (the diff's meaning, ir.visit.shape): in other words, in
            # another section, or both.
            if _unplaced(a) != _unplaced(b):
                change = "reworded"
            elif a.section != b.section:
                change = "moved"
            else:
                continue
        else:
            change = "added" if a is None else "removed" if b is None else "changed"
        term = getattr(b if b is not None else a, "term", None) or ""
        yield LogicChange(
            name, term, change,
            _label(old, a.section) if a is not None else "",
            _label(new, b.section) if b is not None else "",
            sentence(en_old.node(a)) if a is not None else "",
            sentence(en_new.node(b)) if b is not None else "")


def _amendments(result: Result, env: jinja2.Environment, fmt: str,
                as_of: date | None, verdicts: Verdicts | None) -> Iterator[AmendmentView]:
    versions = result.versions or []
    for i in range(1, len(versions)):
        version, checked = versions[i]
        if version is None or version.amendment is None:
            continue
        amendment = version.amendment
        label = amendment_label(amendment)
        redline = []
        for change in version.changes:
            deleted = f"[Deleted by {label}]" if change.operation == "delete" and \
                not change.after else ""
            redline.append(Redline(change.section, change.operation, change.description,
                                   word_diff(change.before, change.after), deleted))
        effective = version.effective
        yield AmendmentView(
            amendment.title, label,
            long_date(amendment.dated) if amendment.dated else "",
            long_date(effective) if effective else "",
            as_of is None or (effective is not None and effective <= as_of),
            tuple(redline),
            _with_verdicts(_logic_changes(env, fmt, versions[i - 1][1], checked),
                           None if verdicts is None else verdicts[i - 1],
                           _results(versions[i - 1][1]) | _results(checked)))


def _results(checked: CheckedProgram) -> set[str]:
    """The names whose answers the semantic diff compares."""
    return {name for name, decl in checked.declarations.items()
            if not isinstance(decl, (ir.Fact, ir.Exception_))}


def _with_verdicts(logic: Iterator[LogicChange], verdicts: Sequence[Verdict] | None,
                   results: set[str]) -> tuple[LogicChange, ...]:
    """The table of what changed with the semantic diff's verdicts, and a row for each
    result that gives other answers only through what it uses (or its exceptions).
    Without verdicts, each changed result says what its column needs."""
    if verdicts is None:
        return tuple(attrs.evolve(c, verdict=NO_VERDICTS)
                     if c.change == "changed" and c.name in results else c for c in logic)
    found = {v.name: v for v in verdicts}
    rows = [attrs.evolve(c, verdict=found[c.name].words)
            if c.name in found and c.change == "changed" else c for c in logic]
    listed = {c.name for c in rows}
    for v in verdicts:
        if v.name not in listed and v.change in ("changed", "affected"):
            rows.append(LogicChange(v.name, v.term, "affected", v.section_before,
                                    v.section_after, "", "", v.words,
                                    "; ".join(v.because)))
    return tuple(rows)


# ------------------------------------------------------------ explanations


@attrs.frozen
class Reason:
    """A proposition that decided a value: `expr` is `holds` (true or false)."""

    expr: ir.Expr
    holds: bool
    label: str  # its item label in the list it is part of, or ""
    cite: str  # "Section 3.1(a), as amended on March 31, 2004" for a listed item, or ""


@attrs.frozen
class Because:
    """One sentence of an explanation: what `name` is, and why.

    kind: "condition" (true or false, from `reasons` or an exception), "value" (a term's
    value: the English of `expr`, with the values of its names), "obligation", "power"
    (in effect or available or not, from `reasons`), "fact"."""

    kind: str
    name: str
    decl: ir.Declaration | None
    holds: bool
    value: str
    cite: str
    args: tuple[str, ...] = ()
    expr: ir.Expr | None = None
    reasons: tuple[Reason, ...] = ()
    exception: ir.Exception_ | None = None
    duty_text: str = ""  # an obligation as decided: "Purchaser must pay $900,000.00 ..."
    # An invariant ("invariant", true or false from `reasons`): whether its assumption holds.
    assumed: bool = True


@attrs.frozen
class Explained:
    """The context of templates/explain.txt.j2 (as `explained`, beside `lex` and
    `values`: the computed values of the names in the sentences, by node)."""

    name: str
    version: str
    sentences: tuple[Because, ...]


_SKIPPED = "not evaluated: already decided"
_LIMIT = 12  # sentences: an explanation, not the whole tree again


def _literalish(e: ir.Expr) -> bool:
    return isinstance(e, ir.Literal) or (isinstance(e, ir.Duration)
                                         and isinstance(e.amount, ir.Literal))


def _pairs(e: ir.Expr, x: Explanation, lex: Lexicon) -> list[tuple[ir.Expr, Explanation]]:
    """The subexpressions of `e` with their explanations in `x`, following the shapes of
    the generated explain functions (codegen.xexpr); [] where they are not known."""
    kids = x.children
    if isinstance(e, (ir.Name, ir.Call)) and isinstance(lex.decl(e.name), ir.Definition):
        return []
    if _literalish(e) or isinstance(e, ir.Name):
        return []
    if isinstance(e, ir.Binary) and e.op in ("and", "or", "unless"):
        return list(zip([e.left, e.right], kids)) if len(kids) == 2 else []
    if isinstance(e, ir.ListOp):
        if len(kids) != len(e.items):
            return []
        out = []
        for item, kid in zip(e.items, kids):
            if kid.note == "does not apply" and item.when is not None and kid.children:
                out.append((item.when, kid.children[0]))
            elif kid.note != _SKIPPED:
                out.append((item.expr, kid))
        return out
    if isinstance(e, ir.IfThenElse):
        if len(kids) != 2:
            return []
        return [(e.condition, kids[0]), (e.then if kids[0].value else e.otherwise, kids[1])]
    children = [c for c in operands(e) if not _literalish(c)]
    return list(zip(children, kids)) if len(children) == len(kids) else []


def _record(e: ir.Expr, x: Explanation, lex: Lexicon, values: dict[int, str]) -> None:
    """The computed values of the names and terms in `e`, for the sentences to show."""
    stack = [(e, x)]
    while stack:
        node, ex = stack.pop()
        if isinstance(node, (ir.Name, ir.Call)) and ex.value is not None \
                and ex.kind not in ("bool", "error", "") and ex.note != _SKIPPED \
                and (lex.decl(node.name) is not None or isinstance(node, ir.Call)) \
                and not isinstance(lex.decl(node.name), (ir.Obligation, ir.Power)):
            # (an obligation's or power's instance is a whole sentence, not a value to
            # show after its name: its fields are shown instead; nor is a list or a
            # record, too long to read after a name)
            if not isinstance(ex.value, (tuple, list, dict)):
                values[id(node)] = lex.value_text(ex.value, ex.kind, ex.currency, node.type)
        elif isinstance(node, (ir.Field, ir.PeriodOp)) and ex.value is not None \
                and ex.kind not in ("bool", "error", "") and ex.note != _SKIPPED \
                and not isinstance(ex.value, (tuple, list, dict)):
            values[id(node)] = lex.value_text(ex.value, ex.kind, ex.currency, node.type)
        stack.extend(_pairs(node, ex, lex))


def _decisive(e: ir.Expr, x: Explanation, lex: Lexicon
              ) -> list[tuple[ir.Expr, Explanation, str, str]]:
    """The parts of a yes/no expression that decided its value, with their item labels
    (as numbered in summaries, and as the clause file writes them, if it does):
    for "all of" that holds, every item; for one that fails, the item that failed (the
    evaluation stops there), and so on for any of, none of, and, or, unless."""
    if isinstance(e, ir.Not) and not _literalish(e.operand) and len(x.children) == 1:
        return _decisive(e.operand, x.children[0], lex)
    pairs: list[tuple[ir.Expr, Explanation, str, str]] = []
    if isinstance(e, ir.ListOp) and e.kind in ("all", "any", "none") and \
            len(x.children) == len(e.items):
        labelled = [i for i in e.items if i.label]
        style = list_style(labelled[0].label) if labelled else 0
        for n, (item, kid) in enumerate(zip(e.items, x.children)):
            if kid.note in (_SKIPPED, "does not apply"):
                continue
            pairs.append((item.expr, kid, item.label or item_label(n, style),
                          item.label or ""))
        kind = {"all": "and", "any": "or", "none": "none"}[e.kind]
    elif isinstance(e, ir.Binary) and e.op in ("and", "or", "unless") and \
            len(x.children) == 2:
        pairs = [(c, k, "", "") for c, k in zip([e.left, e.right], x.children)
                 if k.note != _SKIPPED]
        kind = e.op
    else:
        return [(e, x, "", "")]
    value = bool(x.value)
    if kind == "and":
        chosen = pairs if value else [p for p in pairs if not p[1].value][:1]
    elif kind == "or":
        chosen = [p for p in pairs if p[1].value][:1] if value else pairs
    elif kind == "none":
        chosen = pairs if value else [p for p in pairs if p[1].value][:1]
    else:  # unless: A unless B
        chosen = pairs if value else ([pairs[0]] if not pairs[0][1].value else pairs[1:])
    if isinstance(e, ir.Binary):
        # A and B and C nests as (A and B) and C: its reasons are those of the whole chain.
        flat: list[tuple[ir.Expr, Explanation, str, str]] = []
        for pair in chosen:
            same = isinstance(pair[0], ir.Binary) and pair[0].op == e.op != "unless"
            flat.extend(_decisive(pair[0], pair[1], lex) if same else [pair])
        chosen = flat
    return chosen or [(e, x, "", "")]


def _named(e: ir.Expr, x: Explanation, lex: Lexicon, everywhere: bool = False
           ) -> Iterator[tuple[str, Explanation]]:
    """The defined conditions that decided `e` (or, `everywhere`, that it evaluated)."""
    if isinstance(e, (ir.Name, ir.Call)) and lex.kind(e.name) == "condition":
        if x.note != _SKIPPED and x.value is not None:
            yield e.name, x
        return
    if everywhere:
        for child, kid in _pairs(e, x, lex):
            yield from _named(child, kid, lex, True)
        return
    decisive = _decisive(e, x, lex)
    if decisive == [(e, x, "", "")]:
        for child, kid in _pairs(e, x, lex):
            if isinstance(child, (ir.Name, ir.Call, ir.Not)):
                yield from _named(child, kid, lex)
        return
    for child, kid, _, _ in decisive:
        yield from _named(child, kid, lex)


def _reasons(e: ir.Expr, x: Explanation, lex: Lexicon, section: str | None
             ) -> tuple[Reason, ...]:
    out = []
    decisive = _decisive(e, x, lex)
    for child, kid, label, own in decisive:
        where = cite_item(section, own) if own and len(decisive) == 1 else ""
        out.append(Reason(child, bool(kid.value), label if len(decisive) > 1 else "", where))
    return tuple(out)


def _definition_sentence(name: str, x: Explanation, lex: Lexicon, values: dict[int, str],
                         section_label: str | None, args: tuple[str, ...]) -> Because:
    decl = lex.decl(name)
    assert isinstance(decl, ir.Definition)
    where = cite(x.section or section_label)
    exception = None
    general: Explanation | None = None
    if x.note == "decided by an exception":
        for child in x.children:
            if child.label.startswith("exception ") and child.value:
                chosen = child.label.removeprefix("exception ")
                exception = next((e for e in lex.checked.exceptions.get(name, ())
                                  if e.name == chosen), None)
                if exception is not None and child.children:
                    _record(exception.condition, child.children[0], lex, values)
                break
    elif x.children:
        general = x.children[0]
        _record(decl.expr, general, lex, values)
    if decl.is_condition:
        reasons = _reasons(decl.expr, general, lex, x.section) if general else ()
        return Because("condition", name, decl, bool(x.value), "", where, args,
                       decl.expr, reasons, exception)
    return Because("value", name, decl, True,
                   lex.value_text(x.value, x.kind, x.currency, lex.type_of(name))
                   if x.value is not None else "no value", where, args, decl.expr, (),
                   exception)


def _invariant_sentence(inv: ir.Invariant, x: Explanation, lex: Lexicon,
                        values: dict[int, str], where: str
                        ) -> tuple[Because, Explanation | None]:
    """An invariant compiles to `if assumption then property else true`: its reasons are
    those of the property where the assumption holds; otherwise it holds trivially."""
    node = x.children[0] if x.children else None
    assumed = True
    if inv.assumption is not None and node is not None and len(node.children) == 2:
        test, branch = node.children
        _record(inv.assumption, test, lex, values)
        assumed = bool(test.value)
        node = branch if assumed else None
    reasons: tuple[Reason, ...] = ()
    if node is not None:
        _record(inv.expr, node, lex, values)
        reasons = _reasons(inv.expr, node, lex, x.section)
    return Because("invariant", inv.name, inv, bool(x.value), "", where, (), inv.expr,
                   reasons, assumed=assumed), node


def explanation(checked: CheckedProgram, version_label: str, name: str,
                tree: Explanation, value: Any, fmt: str = "text"
                ) -> tuple[Explained, Lexicon, dict[int, str]]:
    """The English explanation of `name` from the compiled module's explanation tree
    `tree` and its value: the context of templates/explain.txt.j2."""
    lex = Lexicon(checked, fmt)
    values: dict[int, str] = {}
    decl = lex.decl(name)
    sentences: list[Because] = []
    follow: list[tuple[str, Explanation]] = []
    where = cite(tree.section) if tree.section else cite(getattr(decl, "section", None))
    if isinstance(decl, ir.Definition):
        args = tuple(str(a) for a in _args_of(tree, decl))
        sentence = _definition_sentence(name, tree, lex, values, decl.section, args)
        sentences.append(sentence)
        general = tree.children[0] if tree.children and sentence.exception is None else None
        if general is not None:
            follow.extend(_named(decl.expr, general, lex, everywhere=not decl.is_condition))
    elif isinstance(decl, ir.Invariant):
        sentence, node = _invariant_sentence(decl, tree, lex, values, where)
        sentences.append(sentence)
        if node is not None:
            follow.extend(_named(decl.expr, node, lex))
    elif isinstance(decl, (ir.Obligation, ir.Power)):
        condition = decl.duty.condition if isinstance(decl, ir.Obligation) else decl.condition
        active = bool(value.active if isinstance(decl, ir.Obligation) else value.available)
        reasons: tuple[Reason, ...] = ()
        if condition is not None and tree.children:
            _record(condition, tree.children[0], lex, values)
            reasons = _reasons(condition, tree.children[0], lex, tree.section)
            follow.extend(_named(condition, tree.children[0], lex))
        kind = "obligation" if isinstance(decl, ir.Obligation) else "power"
        text = lex.esc(value.duty()) if kind == "obligation" else ""
        sentences.append(Because(kind, name, decl, active, "", where, (), condition,
                                 reasons, None, text))
    else:
        shown = lex.value_text(tree.value, tree.kind, tree.currency, lex.type_of(name)) \
            if tree.value is not None else "not given"
        sentences.append(Because("fact", name, decl, True, shown, where))
    seen = {name}
    while follow and len(sentences) < _LIMIT:
        other, node = follow.pop(0)
        if other in seen:
            continue
        seen.add(other)
        other_decl = lex.decl(other)
        assert isinstance(other_decl, ir.Definition)
        args = tuple(str(a) for a in _args_of(node, other_decl))
        sentence = _definition_sentence(other, node, lex, values, other_decl.section, args)
        sentences.append(sentence)
        if sentence.exception is None and node.children:
            follow.extend(_named(other_decl.expr, node.children[0], lex))
    return Explained(name, version_label, tuple(sentences)), lex, values


def _args_of(x: Explanation, decl: ir.Definition) -> list[str]:
    """The arguments of a parametrised term, from its explanation's label
    ("revenue_limitation(2008) (Revenue Limitation)")."""
    if not decl.params or not x.label.startswith(decl.name + "("):
        return []
    inner = x.label[len(decl.name) + 1:]
    depth, end = 1, 0
    for end, char in enumerate(inner):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            break
    return [a.strip() for a in inner[:end].split(",")] if inner[:end] else []


def render_explanation(checked: CheckedProgram, version_label: str, name: str,
                       tree: Explanation, value: Any, fmt: str = "text",
                       templates: str | Path | None = None) -> str:
    """Why `name` has its value, in English sentences (templates/explain.txt.j2)."""
    env = environment(fmt, templates)
    explained, lex, values = explanation(checked, version_label, name, tree, value, fmt)
    with template_errors(templates):
        text = env.get_template("explain.txt.j2").render(explained=explained, lex=lex,
                                                         values=values)
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n")) + "\n"
