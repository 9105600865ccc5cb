"""Consolidation: an agreement and its amendments, consolidated as in force at each date.

Amendments apply in effective-date order. Each one yields a new version of the
agreement: its sections (words and logic together) and its declarations. Every
operation is either applied or reported; nothing is skipped silently. Each version
also records its redline (what the amendment changed, before and after) and, for the
names that are not in force in it, why (deleted by an amendment, or not added yet).
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Sequence
from datetime import date

import attrs

from clausec import ir
from clausec.diagnostics import Diagnostics, Related, did_you_mean
from clausec.source import Span

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")

# A sentence ends at . ! or ? followed by space and a capital (or an opening quote or
# parenthesis before one). "Sections 3.3 and 3.4", "U.S. patent" and "No. 1" do not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”')]*\s+(?=[\"“(]*[A-Z])")


def long_date(day: date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


# A period after these does not end a sentence ("U.S. Patent No. 6,000,000 is ...").
_ABBREVIATIONS = frozenset({"no.", "nos.", "inc.", "co.", "corp.", "ltd.", "mr.", "ms.",
                            "mrs.", "dr.", "jr.", "st.", "etc.", "sec.", "art.", "vs.", "v."})
_INITIALS = re.compile(r"(?:[A-Za-z]\.){1,4}")  # U.S., N.A., e.g., i.e.


def split_sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    sentences: list[str] = []
    for piece in _SENTENCE_END.split(text) if text else []:
        last = sentences[-1].rsplit(" ", 1)[-1] if sentences else ""
        if last and (last.lower() in _ABBREVIATIONS or _INITIALS.fullmatch(last)):
            sentences[-1] += " " + piece
        elif piece:
            sentences.append(piece)
    return sentences


@attrs.frozen
class Change:
    """One entry of an amendment's redline."""

    amendment: str  # the amendment's name
    # replace, delete, append, add, substitute, insert_text (words inserted at the end of
    # a provision), insert (an amendment's own provision)
    operation: str
    section: str
    description: str  # "Section 3.1 is amended in its entirety"
    before: str
    after: str
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Version:
    """The agreement as in force from `effective` until the next version."""

    label: str  # "original" or "as amended on March 31, 2004"
    effective: date | None  # None: the original, in force from the start
    amendment: ir.Header | None
    program: ir.Program
    changes: tuple[Change, ...]
    # Names declared in some version but not in this one, and why ("deleted by ...").
    absent: dict[str, str] = attrs.field(factory=dict, eq=False)
    removed: dict[str, Related] = attrs.field(factory=dict, eq=False)

    @property
    def upon(self) -> str | None:
        """The date fact on which an amendment "effective upon" an event takes effect (not
        before `effective`, its date); None for an amendment with a fixed date."""
        return self.amendment.effective_upon if self.amendment is not None else None

    @property
    def suffix(self) -> str:
        """The Python name suffix of this version's functions."""
        if self.effective is None:
            return "__original"
        return f"__amended_{self.effective:%Y_%m_%d}"


def amendment_label(header: ir.Header) -> str:
    when = header.dated or header.effective
    return f"the {header.title}" + (f" of {long_date(when)}" if when else "")


def consolidate(agreement: ir.Program, amendments: Sequence[ir.Program],
                diagnostics: Diagnostics) -> list[Version]:
    """The versions of `agreement`: the original, then one per amendment in effective-date
    order. Problems (an amended section that does not exist, a sentence out of range, two
    amendments changing one provision on the same date...) go to `diagnostics`."""
    assert agreement.header is not None
    ordered = _order(agreement, amendments, diagnostics)
    versions = [Version("original", None, None, agreement, ())]
    state = _State.of(agreement)
    touched: dict[tuple[date, str], tuple[str, Span]] = {}
    for amendment in ordered:
        header = amendment.header
        assert header is not None and header.effective is not None
        applier = _Applier(state, amendment, diagnostics, touched)
        applier.apply()
        program = state.program(agreement)
        versions.append(Version(f"as amended on {long_date(header.dated or header.effective)}",
                                header.effective, header, program, tuple(applier.changes),
                                removed=dict(state.removed)))
    _explain_absences(versions)
    return versions


def _order(agreement: ir.Program, amendments: Sequence[ir.Program],
           diagnostics: Diagnostics) -> list[ir.Program]:
    assert agreement.header is not None
    valid = []
    for amendment in amendments:
        header = amendment.header
        if header is None and amendment.operations:
            continue  # transform reported the operations outside an amendment
        if header is None or header.kind != "amendment":
            where = header.span if header else Span(amendment.file, 1, 1, 1, 2)
            diagnostics.error(where, "this file is given as an amendment, but it is not one",
                              "an amendment starts with: amendment NAME \"Title\" amends "
                              f"{agreement.header.name} {{ ... }}", code="amendment")
            continue
        if header.amends != agreement.header.name:
            diagnostics.error(header.span, f"this amendment amends '{header.amends}', but the "
                              f"agreement is '{agreement.header.name}'",
                              f"write: amends {agreement.header.name}", code="amendment",
                              related=[Related(agreement.header.span, "the agreement")])
            continue
        if header.effective is None and header.dated is None:
            diagnostics.error(header.span, "an amendment needs an effective date",
                              "add 'effective March 31, 2004' (or 'dated ...') to its header;"
                              " an amendment 'effective upon' an event needs its date",
                              code="amendment")
            continue
        if header.effective is None:
            header = attrs.evolve(header, effective=header.dated)
            amendment = attrs.evolve(amendment, header=header)
        valid.append(amendment)
    # Effective-date order; amendments of one date in the order they are dated, then given.
    return sorted(valid, key=lambda a: (a.header.effective, a.header.dated or date.min))  # type: ignore[union-attr]


@attrs.define
class _State:
    """The agreement being consolidated: sections in order, and declarations by name."""

    sections: list[ir.Section]
    declarations: dict[str, ir.Declaration]
    removed: dict[str, Related] = attrs.field(factory=dict)
    deleted_by: dict[str, Span] = attrs.field(factory=dict)  # section -> the deleting op

    @classmethod
    def of(cls, program: ir.Program) -> _State:
        # A program that is itself a consolidated version keeps its deletions.
        deleted = {s.number: s.span for s in program.sections if s.deleted}
        return cls(list(program.sections), {d.name: d for d in program.declarations},
                   deleted_by=deleted)

    def program(self, agreement: ir.Program) -> ir.Program:
        return attrs.evolve(agreement, sections=tuple(self.sections),
                            declarations=tuple(self.declarations.values()), operations=())

    def find(self, number: str) -> int | None:
        for i, section in enumerate(self.sections):
            if section.number == number:
                return i
        return None


class _Applier:
    def __init__(self, state: _State, amendment: ir.Program, diagnostics: Diagnostics,
                 touched: dict[tuple[date, str], tuple[str, Span]]):
        self.state = state
        self.amendment = amendment
        self.header = amendment.header
        assert self.header is not None and self.header.effective is not None
        self.effective: date = self.header.effective
        self.d = diagnostics
        self.touched = touched
        self.label = amendment_label(self.header)
        self.note = f", as amended on {long_date(self.header.dated or self.effective)}"
        self.changes: list[Change] = []
        self.pending: list[tuple[ir.Declaration, ir.Declaration, ir.Operation]] = []
        self.removed_here: set[str] = set()
        self.body_decls = {d.name: d for op in amendment.operations for d in op.declarations}

    def apply(self) -> None:
        # Operations first: a provision the amendment moves (deletes from the agreement and
        # restates among its own, as the Amendment of March 31, 2004 does with the closing
        # payment) is then new, not a clash.
        for op in self.amendment.operations:
            getattr(self, "_row" if op.target.kind == "row" else "_" + op.kind)(op)
        self._check_moves()
        self._own_provisions()

    # ------------------------------------------------------------- helpers

    def _section(self, number: str, op: ir.Operation) -> int | None:
        """The index of a section in force, or None after reporting why it is not."""
        index = self.state.find(number)
        deleted = self.state.deleted_by.get(number)
        if index is None or deleted is not None:
            related = [Related(deleted, f"{ir.cite(number)} was deleted here")] if deleted else []
            known = [s.number for s in self.state.sections if s.number not in
                     self.state.deleted_by]
            self.d.error(op.target.span, f"{ir.cite(number)} is not in force on "
                         f"{long_date(self.effective)}, so it cannot be amended",
                         did_you_mean(number, known), code="amendment", related=related)
            return None
        key = (self.effective, number)
        name = self.header.name if self.header else ""
        other = self.touched.get(key)
        if other is not None and other[0] != name:
            self.d.error(op.span, f"two amendments effective on {long_date(self.effective)} "
                         f"both change {ir.cite(number)}; which applies is not defined",
                         "give them different effective dates, or merge the changes",
                         code="amendment", related=[Related(other[1], "the other change")])
            return None
        self.touched[key] = (name, op.span)
        return index

    def _owned(self, decls: Sequence[ir.Declaration], allowed: Sequence[str],
               op: ir.Operation) -> list[ir.Declaration]:
        """The body's declarations that may be declared here: new names, or names of the
        provision being replaced. A name that belongs elsewhere is an error (replacing this
        provision must not silently change another one)."""
        for decl in decls:
            existing = self.state.declarations.get(decl.name)
            if existing is not None and decl.name not in allowed:
                # Decided once the whole amendment has applied: it may move the term here
                # from a provision it deletes (as the Closing Date moves from 3.4 to 3.1).
                self.pending.append((decl, existing, op))
        return list(decls)

    def _check_moves(self) -> None:
        for decl, existing, op in self.pending:
            if decl.name in self.removed_here:
                continue
            where = ir.cite(existing.section) if existing.section else "the agreement"
            self.d.error(decl.span, f"'{decl.name}' belongs to {where}, not to "
                         f"{op.target.describe()}",
                         f"amend {where} to change it, or give this term a new name",
                         code="amendment", related=[Related(existing.span, "declared here")])

    def _declare(self, decls: Sequence[ir.Declaration], section: ir.Section) -> None:
        for decl in decls:
            self.state.declarations[decl.name] = attrs.evolve(decl, section=section.number)
            self.state.removed.pop(decl.name, None)

    def _remove(self, names: Sequence[str], op: ir.Operation, why: str) -> None:
        for name in names:
            self.removed_here.add(name)
            if name in self.body_decls:
                continue  # re-declared by the amendment: replaced, not removed
            self.state.declarations.pop(name, None)
            self.state.removed[name] = Related(op.span, why)

    def _record(self, op: ir.Operation, section: str, description: str, before: str,
                after: str) -> None:
        # "insert" names an amendment's own provision coming into force (_record_own).
        kind = "insert_text" if op.kind == "insert" else op.kind
        self.changes.append(Change(self.header.name if self.header else "", kind, section,
                                   description, before, after, op.span))

    # ----------------------------------------------------------- operations

    def _own_provisions(self) -> None:
        """The amendment's own sections and declarations come into force with it."""
        for section in self.amendment.sections:
            number = f"{section.number} of {self.label}"
            own = attrs.evolve(section, number=number)
            self.state.sections.append(own)
            decls = [d for d in self.amendment.declarations if d.section == section.number]
            self._check_new(decls)
            self._declare(decls, own)
            self._record_own(section, number)
        loose = [d for d in self.amendment.declarations if d.section is None]
        self._check_new(loose)
        for decl in loose:
            self.state.declarations[decl.name] = decl
            self.state.removed.pop(decl.name, None)

    def _record_own(self, section: ir.Section, number: str) -> None:
        self.changes.append(Change(self.header.name if self.header else "", "insert", number,
                                   ir.cite(number), "", section.text, section.span))

    def _check_new(self, decls: Sequence[ir.Declaration]) -> None:
        for decl in decls:
            existing = self.state.declarations.get(decl.name)
            if existing is not None:
                self.d.error(decl.span, f"'{decl.name}' is already declared by the agreement",
                             "an amendment changes a provision with replace/append; a new "
                             "provision needs a new name", code="amendment",
                             related=[Related(existing.span, "declared here")])

    def _replace(self, op: ir.Operation) -> None:
        target = op.target
        if target.kind == "section":
            self._replace_section(op)
        elif target.kind == "sentence":
            self._sentence(op, replace=True)
        elif target.kind == "clause" and target.sentence is None:
            self._words(op, "replace")
        elif target.kind == "clause":
            self._clause(op)
        else:
            self.d.error(op.span, "several sections cannot be replaced by one body",
                         "replace them one at a time", code="amendment")

    def _replace_section(self, op: ir.Operation) -> None:
        number = op.target.sections[0]
        index = self._section(number, op)
        if index is None:
            return
        old = self.state.sections[index]
        decls = self._owned(op.declarations, old.declarations, op)
        self._remove(old.declarations, op, f"{ir.cite(number)} was amended in its entirety "
                     f"by {self.label}")
        new = ir.Section(number, op.heading or old.heading, op.parts, op.span, self.note)
        self.state.sections[index] = new
        self._declare(decls, new)
        self._record(op, number, f"{ir.cite(number)} is amended in its entirety",
                     old.text, new.text)

    def _delete(self, op: ir.Operation) -> None:
        target = op.target
        if target.kind == "clause":
            self._words(op, "delete")
            return
        if op.parts or op.declarations:
            self.d.error(op.span, f"deleting {target.describe()} takes no body",
                         "only a deleted clause takes one (the logic of what is left of its "
                         "sentence); to change the logic with the words, replace them",
                         code="amendment")
            return
        if target.kind == "sentence":
            self._sentence(op, replace=False)
            return
        for number in target.sections:
            if number in self.state.deleted_by and self.state.find(number) is not None:
                self.d.error(op.target.span, f"{ir.cite(number)} is deleted twice",
                             code="amendment",
                             related=[Related(self.state.deleted_by[number],
                                              "it was deleted here")])
                continue
            index = self._section(number, op)
            if index is None:
                continue
            old = self.state.sections[index]
            self._remove(old.declarations, op, f"{ir.cite(number)} was deleted by "
                         f"{self.label}")
            placeholder = f"[Deleted by {self.label}]"
            self.state.sections[index] = attrs.evolve(old, parts=(), note=self.note,
                                                      deleted=placeholder)
            self.state.deleted_by[number] = op.span
            self._record(op, number, f"{ir.cite(number)} is deleted", old.text, "")

    def _substitute(self, op: ir.Operation) -> None:
        self._words(op, "substitute")

    def _insert(self, op: ir.Operation) -> None:
        self._words(op, "insert")

    def _append(self, op: ir.Operation) -> None:
        number = op.target.sections[0]
        index = self._section(number, op)
        if index is None:
            return
        old = self.state.sections[index]
        self._check_new([d for d in op.declarations
                         if d.name not in old.declarations])
        new = attrs.evolve(old, parts=old.parts + op.parts, note=self.note)
        self.state.sections[index] = new
        self._declare(op.declarations, new)
        added = "\n\n".join(p.text.text for p in op.parts if p.text is not None)
        self._record(op, number, f"text added at the end of {ir.cite(number)}", old.text,
                     new.text if added else old.text)

    def _add(self, op: ir.Operation) -> None:
        number = op.target.sections[0]
        if self.state.find(number) is not None and number not in self.state.deleted_by:
            existing = self.state.sections[self.state.find(number) or 0]
            self.d.error(op.target.span, f"{ir.cite(number)} already exists",
                         "to change it, replace it", code="amendment",
                         related=[Related(existing.span, "it is here")])
            return
        new = ir.Section(number, op.heading, op.parts, op.span, self.note)
        self._check_new(op.declarations)
        placeholder = self.state.find(number)
        if placeholder is not None:  # a deleted section's number, used again
            self.state.sections[placeholder] = new
            del self.state.deleted_by[number]
        else:
            self.state.sections.insert(self._position_for(number), new)
        self._declare(op.declarations, new)
        self._record(op, number, f"{ir.cite(number)} is added", "", new.text)

    # ------------------------------------------------------------ conformed copy

    def _conform(self, op: ir.Operation) -> None:
        """A section restated with its struck and inserted words marked: the struck
        reading must be its words as in force; the inserted reading is its new words; the
        body's declarations replace those of the same names, and a text block struck
        whole takes the logic that encodes it along (unless the body restates it)."""
        number = op.target.sections[0]
        index = self._section(number, op)
        if index is None:
            return
        section = self.state.sections[index]
        copies: list[tuple[ir.Part, Marked]] = []
        for part in op.parts:
            if part.text is None:
                continue
            marked = read_marks(part.text.text)
            if isinstance(marked, str):
                self.d.error(part.text.span, f"the conformed copy of {section.cite}: {marked}",
                             "mark struck words {--like this--}, inserted words {++like "
                             "this++}, and a replacement {~~old~>new~~}", code="amendment")
                return
            copies.append((part, marked))
        olds = [(p, part) for p, part in enumerate(section.parts) if part.text is not None]
        standing = [(part, marked) for part, marked in copies if marked.before.split()]
        here = [Related(section.span, f"{section.cite}{section.note}"
                        f"{',' if section.note else ''} is here")]
        when = long_date(self.effective)
        if len(standing) != len(olds):
            self.d.error(op.target.span, f"the conformed copy of {section.cite} restates "
                         f"{len(standing)} of its text blocks; as in force on {when} it has "
                         f"{len(olds)}",
                         "restate every text block of the section, struck and inserted "
                         "words marked", code="amendment", related=here)
            return
        for (_, old), (copy, marked) in zip(olds, standing):
            assert old.text is not None and copy.text is not None
            differ = _first_difference(old.text.text, marked.before)
            if differ is not None:
                theirs, ours = differ
                self.d.error(copy.text.span, f"the conformed copy does not read as "
                             f"{section.cite} as in force on {when}: where the section "
                             f"reads “{theirs}”, the copy's struck reading is “{ours}”",
                             "copy the words as they stand, and mark what changes",
                             code="amendment", related=here)
                return
        if not any(marked.struck or marked.inserted for _, marked in copies):
            self.d.warning(op.target.span, f"the conformed copy of {section.cite} marks no "
                           "change to its words", "mark struck words {--like this--} and "
                           "inserted words {++like this++}", code="amendment")
        decls = self._owned(op.declarations, section.declarations, op)
        restated = {d.name for d in decls}
        parts = [part for part in section.parts if part.text is None]
        matched = iter(olds)
        for copy, marked in copies:
            old_part = next(matched)[1] if marked.before.split() else None
            names = old_part.declarations if old_part is not None else ()
            added = tuple(n for n in copy.declarations if n not in section.declarations)
            if not marked.after.split():  # struck whole: its logic goes with its words
                self._remove([n for n in names if n not in restated], op,
                             f"its words in {section.cite} were struck by {self.label}")
                continue
            text = copy.text if old_part is None or old_part.text is None else \
                old_part.text
            assert text is not None
            parts.append(ir.Part(attrs.evolve(text, text=marked.after), names + added))
        self._warn_stale(op, section, " ".join(marked.struck for _, marked in copies),
                         " ".join(marked.inserted for _, marked in copies), decls)
        self._commit(op, index, section, parts, decls,
                     "is amended as shown in the conformed copy")

    # ------------------------------------------------------------ table rows

    def _row(self, op: ir.Operation) -> None:
        """Replace, delete or add a row of a table written in the agreement."""
        target = op.target
        table = self.state.declarations.get(target.table or "")
        if not isinstance(table, ir.Table):
            tables = [d.name for d in self.state.declarations.values()
                      if isinstance(d, ir.Table)]
            self.d.error(target.span, f"there is no table '{target.table}' in force on "
                         f"{long_date(self.effective)}", did_you_mean(target.table or "",
                                                                       tables),
                         code="amendment")
            return
        index = self._section(table.section, op) if table.section is not None else None
        if table.section is not None and index is None:
            return
        rows = list(table.rows)
        at = len(rows) if op.kind == "add" and target.place is None else \
            self._row_index(op, table)
        if at is None:
            return
        name = table.term or table.name
        which = f"{target.row_words()} of the {name}" if target.row_key is not None else \
            f"row {at + 1} of the {name}"
        if op.kind == "replace":
            before, after = [rows[at]], list(op.rows)
            rows[at:at + 1] = op.rows
            description = f"{which[0].upper()}{which[1:]} is replaced"
        elif op.kind == "delete":
            before, after = [rows[at]], []
            del rows[at]
            description = f"{which[0].upper()}{which[1:]} is deleted"
        else:
            at += target.place == "after"
            before, after = [], list(op.rows)
            rows[at:at] = op.rows
            many = "Rows are" if len(op.rows) > 1 else "A row is"
            description = f"{many} added to the {name}" + (
                f", {target.place} {target.row_words()}" if target.place else "")
        new = attrs.evolve(table, rows=tuple(rows))
        self.state.declarations[table.name] = new
        number = table.section or ""
        if index is not None:
            self.state.sections[index] = attrs.evolve(self.state.sections[index],
                                                      note=self.note)
        self.changes.append(Change(self.header.name if self.header else "", f"{op.kind}_row",
                                   number, description, _rows_text(before),
                                   _rows_text(after), op.span))

    def _row_index(self, op: ir.Operation, table: ir.Table) -> int | None:
        """The 0-based index of the row an operation names, or None once reported."""
        target = op.target
        here = [Related(table.span, f"'{table.name}' is here")]
        if target.row_key is None:
            count = len(table.rows)
            if not 1 <= (target.row or 0) <= count:
                self.d.error(target.span, f"{target.describe()} does not exist: "
                             f"'{table.name}' has {count} row{'s' * (count != 1)}",
                             code="amendment", related=here)
                return None
            return (target.row or 0) - 1
        key = _cell_key(target.row_key)
        found = [i for i, row in enumerate(table.rows)
                 if row.cells and _cell_key(row.cells[0]) == key]
        column = table.columns[0].name if table.columns else "first"
        if not found:
            keys = [ir.cell_text(row.cells[0]) for row in table.rows if row.cells]
            self.d.error(target.row_key.span, f"no row of '{table.name}' has "
                         f"{ir.cell_text(target.row_key)} in its first column ('{column}')",
                         f"its rows are for {', '.join(keys)}" if keys else None,
                         code="amendment", related=here)
            return None
        if len(found) > 1:
            self.d.error(target.row_key.span, f"{len(found)} rows of '{table.name}' have "
                         f"{ir.cell_text(target.row_key)} in their first column ('{column}'), "
                         "so which one is meant is not clear", "name the row by its number",
                         code="amendment",
                         related=[Related(table.rows[i].span, f"row {i + 1}") for i in found])
            return None
        return found[0]

    def _position_for(self, number: str) -> int:
        """After the last section with the same parent: 1(ll) goes after 1(kk), 3.5 after
        3.4 (but not after 11(a) or 13). An article, exhibit or schedule with no parent
        goes after the last of its kind (Schedule 2.01 after Schedule 1.01(c)), or after
        the agreement's own provisions."""
        parent = re.sub(r"(\([A-Za-z0-9]+\)|\.[0-9]+)$", "", number)
        kind = ir.part_kind(number)
        last = same_kind = own_end = None
        for i, section in enumerate(self.state.sections):
            n = section.number
            if " of " in n:
                continue  # an amendment's own provision, not one of the agreement's
            own_end = i
            if n == parent or n.startswith((parent + "(", parent + ".")):
                last = i
            if kind != "section" and section.kind == kind:
                same_kind = i
        if last is None and kind != "section":
            last = same_kind if same_kind is not None else own_end
        return len(self.state.sections) if last is None else last + 1

    # ------------------------------------------------------------ sentences

    def _locate(self, op: ir.Operation, index: int) -> tuple[int, int, list[str]] | None:
        """(part index, sentence index within the part, the part's sentences) of the
        targeted sentence, or None after reporting that there is no such sentence."""
        section = self.state.sections[index]
        located: list[tuple[int, int, list[str]]] = []
        for p, part in enumerate(section.parts):
            sentences = split_sentences(part.text.text) if part.text else []
            located.extend((p, s, sentences) for s in range(len(sentences)))
        wanted = op.target.sentence or 1
        if wanted == -1:
            wanted = len(located)
        if not 1 <= wanted <= len(located):
            count = len(located)
            self.d.error(op.target.span, f"{op.target.describe()} does not exist: "
                         f"{section.cite} has {count} sentence{'s' * (count != 1)}",
                         code="amendment", related=[Related(section.span, "the section")])
            return None
        return located[wanted - 1]

    def _target_sentence(self, op: ir.Operation
                         ) -> tuple[int, ir.Section, int, int, list[str]] | None:
        """(section index, section, part index, sentence index, the part's sentences) of
        the sentence an operation targets, or None once the reason is reported."""
        index = self._section(op.target.sections[0], op)
        located = self._locate(op, index) if index is not None else None
        if index is None or located is None:
            return None
        return (index, self.state.sections[index], *located)

    def _commit(self, op: ir.Operation, index: int, section: ir.Section,
                parts: list[ir.Part], decls: Sequence[ir.Declaration], verb: str) -> None:
        """Install a section's new parts and declarations, and record the change."""
        new = attrs.evolve(section, parts=tuple(parts), note=self.note)
        self.state.sections[index] = new
        self._declare(decls, new)
        what = op.target.describe()
        self._record(op, section.number, f"{what[0].upper()}{what[1:]} {verb}", section.text,
                     new.text)

    def _sentence(self, op: ir.Operation, replace: bool) -> None:
        target = self._target_sentence(op)
        if target is None:
            return
        index, section, p, s, sentences = target
        part = section.parts[p]
        decls = self._owned(op.declarations, part.declarations, op)
        if len(sentences) > 1 and part.declarations:
            self.d.error(op.target.span, f"{op.target.describe()} shares its text block, and "
                         "the logic that follows it, with other sentences",
                         "give the sentence its own text block in the agreement, with the "
                         "declarations that encode it", code="amendment",
                         related=[Related(part.text.span if part.text else section.span,
                                          "the text block")])
            return
        remaining = sentences[:s] + sentences[s + 1:]
        new_parts = list(section.parts)
        replacement = list(op.parts) if replace else []
        if remaining:
            assert part.text is not None
            kept = ir.Part(attrs.evolve(part.text, text=" ".join(remaining)), part.declarations)
            if replace:
                # The new sentence takes the old one's place among the others.
                before = " ".join(sentences[:s])
                after = " ".join(sentences[s + 1:])
                replacement = ([ir.Part(attrs.evolve(part.text, text=before), ())]
                               if before else []) + list(op.parts) + (
                    [ir.Part(attrs.evolve(part.text, text=after), part.declarations)]
                    if after else [])
                new_parts[p:p + 1] = replacement
            else:
                new_parts[p] = kept
        else:
            self._remove(part.declarations, op, f"{op.target.describe()} was "
                         f"{'replaced' if replace else 'deleted'} by {self.label}")
            new_parts[p:p + 1] = replacement
        self._commit(op, index, section, new_parts,
                     decls, "is amended in its entirety" if replace else "is deleted")

    def _clause(self, op: ir.Operation) -> None:
        target = self._target_sentence(op)
        if target is None:
            return
        index, section, p, s, sentences = target
        part = section.parts[p]
        decls = self._owned(op.declarations, section.declarations, op)
        label = op.target.clause or ""
        sentence = sentences[s]
        start = _find_label(sentence, label)
        if start < 0:
            self.d.error(op.target.span, f"{op.target.describe()}: the sentence has no "
                         f"clause {label}", code="amendment",
                         related=[Related(part.text.span if part.text else section.span,
                                          "the sentence")])
            return
        following = _next_label(label)
        end = _find_label(sentence, following, start + len(label)) if following else -1
        new_text = " ".join(p.text.text for p in op.parts if p.text is not None)
        new_text = " ".join(new_text.split())
        changed = sentence[:start] + new_text + (" " + sentence[end:] if end >= 0 else "")
        sentences = sentences[:s] + [changed] + sentences[s + 1:]
        assert part.text is not None
        new_part = ir.Part(attrs.evolve(part.text, text=" ".join(sentences)),
                           part.declarations + tuple(d.name for d in decls
                                                     if d.name not in section.declarations))
        new_parts = list(section.parts)
        new_parts[p] = new_part
        self._commit(op, index, section, new_parts, decls, "is amended in its entirety")

    # ------------------------------------------------------- words in place
    # substitute, insert, and a clause found by its label anywhere in a section: each
    # works on the words of a text block where they stand (its line breaks kept), in a
    # window of it: the whole block, a sentence, or a clause.

    def _words(self, op: ir.Operation, kind: str) -> None:
        """substitute / insert / delete or replace a clause: the words of the target
        changed in place, and the body's declarations in force with them."""
        target = op.target
        if target.kind == "sections":
            verb = "substituted" if kind == "substitute" else "inserted"
            self.d.error(target.span, f"words are {verb} in one section at a time",
                         f"write one '{op.kind}' for each section", code="amendment")
            return
        if kind == "insert" and not op.words.split() or \
                kind == "substitute" and not op.old.split():
            what = "to insert" if kind == "insert" else "to replace"
            self.d.error(op.words_span or op.span, f"the words {what} are empty",
                         "quote the words as they stand in the contract", code="amendment")
            return
        texts = [p.text for p in op.parts if p.text is not None]
        if texts and kind != "replace":
            words = "its quoted words" if kind != "delete" else "none"
            self.d.error(texts[0].span, f"a text block in the body of '{op.kind}' has no "
                         f"place: the words it adds are {words}",
                         "the body holds the logic that changes with the words; to restate "
                         "the words, replace the sentence or the section", code="amendment")
            return
        index = self._section(target.sections[0], op)
        if index is None:
            return
        section = self.state.sections[index]
        windows = self._windows(op, section, index)
        if windows is None:
            return
        if kind == "substitute":
            self._substitute_in(op, index, section, windows)
        elif kind == "insert":
            self._insert_in(op, index, section, windows)
        else:
            self._clause_in(op, index, section, windows, kind)

    def _windows(self, op: ir.Operation, section: ir.Section, index: int
                 ) -> list[_Window] | None:
        """Where in the section's text blocks the target stands, or None once reported."""
        target = op.target
        texts = [(p, part.text.text) for p, part in enumerate(section.parts)
                 if part.text is not None]
        if target.kind == "section":
            return [_Window(p, 0, len(text)) for p, text in texts]
        if target.kind == "sentence" or target.sentence is not None:
            located = self._locate(op, index)
            if located is None:
                return None
            p, s, _ = located
            text = _text_of(section, p)
            start, end = _sentence_spans(text)[s]
            window = _Window(p, start, end)
            if target.kind == "sentence":
                return [window]
            return self._clause_window(op, section, [window])
        # A clause by its label anywhere in the section: its sentence is where it ends.
        return self._clause_window(op, section, [_Window(p, 0, len(t)) for p, t in texts])

    def _clause_window(self, op: ir.Operation, section: ir.Section,
                       windows: list[_Window]) -> list[_Window] | None:
        """The words of clause `(b)`: from its label to the next label ("(c)"), or to the
        end of its sentence; the label must stand once in the windows."""
        label = op.target.clause or ""
        found = []
        for w in windows:
            text = _text_of(section, w.part)
            at = _find_label(text, label, w.start)
            while 0 <= at < w.end:
                found.append((w, text, at))
                at = _find_label(text, label, at + len(label))
        where = op.target.describe().removeprefix(f"clause {label} of ")
        if not found:
            self.d.error(op.target.span, f"{op.target.describe()}: {where} has no clause "
                         f"{label}", code="amendment",
                         related=[Related(section.span, f"{section.cite} is here")])
            return None
        if len(found) > 1:
            places = _places(section, [(w.part, at, at + len(label)) for w, _, at in found])
            self.d.error(op.target.span, f"{op.target.describe()}: the label {label} stands "
                         f"{_times(len(found))} in {where}: {places}",
                         f"name its sentence: clause {label} of the first sentence of "
                         f"{where}", code="amendment",
                         related=[Related(section.span, f"{section.cite} is here")])
            return None
        w, text, at = found[0]
        end = w.end
        if w.start == 0 and w.end == len(text):  # the whole block: up to its sentence's end
            end = next((b for a, b in _sentence_spans(text) if a <= at < b), len(text))
        following = _next_label(label)
        after = _find_label(text, following, at + len(label)) if following else -1
        if 0 <= after < end:
            end = after
        return [_Window(w.part, at, end)]

    def _substitute_in(self, op: ir.Operation, index: int, section: ir.Section,
                       windows: list[_Window]) -> None:
        pattern = _words_pattern(op.old)
        texts = {w.part: _text_of(section, w.part) for w in windows}
        found = [(w.part, m.start(), m.end()) for w in windows
                 for m in pattern.finditer(texts[w.part], w.start, w.end)]
        what = op.target.describe()
        here = [Related(section.span, f"{section.cite}{section.note}"
                        f"{',' if section.note else ''} is here")]
        if not found:
            scope = " ".join(texts[w.part][w.start:w.end] for w in windows)
            self.d.error(op.words_span or op.span, f"“{op.old}” is not in {what} as in "
                         f"force on {long_date(self.effective)}", _near(op.old, scope),
                         code="amendment", related=here)
            return
        if len(found) > 1:
            self.d.error(op.words_span or op.span, f"“{op.old}” stands {_times(len(found))} "
                         f"in {what}, so which one to replace is not clear: "
                         f"{_places(section, found)}",
                         "quote more of the words around the one to replace, so that they "
                         "stand once", code="amendment", related=here)
            return
        p, start, end = found[0]
        text = _text_of(section, p)
        if not op.words.strip() and start > 0 and text[start - 1] == " " and (
                end == len(text) or not text[end].isalnum()):
            start -= 1  # words deleted: and the space before them
        old, words = " ".join(op.old.split()), " ".join(op.words.split())
        verb = f"is amended by deleting “{old}”" + (
            f" and substituting “{words}” in lieu thereof" if words else "")
        self._rewrite(op, index, section, p, start, end, op.words.strip(), verb)

    def _insert_in(self, op: ir.Operation, index: int, section: ir.Section,
                   windows: list[_Window]) -> None:
        if not windows:
            self.d.error(op.target.span, f"{op.target.describe()} has no words to insert "
                         "after", "append a text block to it instead", code="amendment",
                         related=[Related(section.span, f"{section.cite} is here")])
            return
        w = windows[-1]
        text = _text_of(section, w.part)
        at = _core_end(text, w.start, w.end) if op.target.kind == "clause" else w.end
        at = len(text[:at].rstrip())
        words = op.words.strip()
        start = at
        if words[:1] in ",;:" and text[:at].endswith("."):
            # "; provided that ...": before the period that ends the sentence, which the
            # words end instead when they bring their own.
            start = at - 1
            if not words.rstrip().endswith((".", "!", "?")):
                words += "."
        elif words[:1] not in ",;:.)" and at > 0:
            words = " " + words
        self._rewrite(op, index, section, w.part, start, at, words,
                      f"is amended by inserting “{' '.join(op.words.split())}” at the end "
                      "thereof")

    def _clause_in(self, op: ir.Operation, index: int, section: ir.Section,
                   windows: list[_Window], kind: str) -> None:
        w, = windows
        text = _text_of(section, w.part)
        start, end = w.start, w.end
        if kind == "replace":
            words = " ".join(" ".join(p.text.text.split()) for p in op.parts
                             if p.text is not None)
            if end < len(text) and not text[end].isspace() and words:
                words += " "
            self._rewrite(op, index, section, w.part, start, end, words,
                          "is amended in its entirety")
            return
        label = op.target.clause or ""
        following = _next_label(label)
        if not (following and 0 <= _find_label(text, following, start) == end):
            # The last clause: the words before it lose their connector ("..., and"), the
            # sentence keeps its full stop.
            end = _core_end(text, start, end)
            start = _connector_start(text, start)
        self._rewrite(op, index, section, w.part, start, end, "", "is deleted")

    def _rewrite(self, op: ir.Operation, index: int, section: ir.Section, p: int, start: int,
                 end: int, words: str, verb: str) -> None:
        """Put `words` for text[start:end] of the section's part p, declare the body's
        declarations (new names join that part), and record the change."""
        part = section.parts[p]
        assert part.text is not None
        text = part.text.text
        decls = self._owned(op.declarations, section.declarations, op)
        if op.kind == "substitute":
            self._warn_stale(op, section, text[start:end], op.words, decls)
        added = tuple(d.name for d in decls if d.name not in section.declarations)
        parts = list(section.parts)
        parts[p] = ir.Part(attrs.evolve(part.text, text=text[:start] + words + text[end:]),
                           part.declarations + added)
        self._commit(op, index, section, parts, decls, verb)

    def _warn_stale(self, op: ir.Operation, section: ir.Section, old: str, new: str,
                    decls: Sequence[ir.Declaration]) -> None:
        """The words change, and the logic keeps the figure they had: "$75,000,000" struck
        from the text (`old`, replaced by `new`) but still written in the term that
        encodes it."""
        restated = {d.name for d in decls}

        def struck(literal: ir.Literal) -> bool:
            return bool(literal.text.strip()) and \
                bool(_words_pattern(literal.text).search(old)) and \
                not _words_pattern(literal.text).search(new)

        for name in section.declarations:
            decl = self.state.declarations.get(name)
            if decl is None or name in restated:
                continue
            literal = next((n for n in ir.walk(decl) if isinstance(n, ir.Literal)
                            and struck(n)), None)
            if literal is not None:
                self.d.warning(op.words_span or op.span,
                               f"{literal.text} is struck from {section.cite}, but "
                               f"'{name}' still says {literal.text}",
                               f"restate '{name}' in the body of this '{op.kind}': "
                               f"{op.kind} ... {{ ... }}", code="amendment",
                               related=[Related(literal.span, f"'{name}' says it here")])
                return


def _cell_key(cell: ir.Expr) -> tuple[str, object]:
    """What a row's first cell is, for finding the row by it: a literal's value (2003 is
    2003.0; "$5" is 5), or a member's name."""
    if isinstance(cell, ir.Literal):
        return ("value", cell.value)
    if isinstance(cell, ir.Name):
        return ("name", cell.name)
    return ("expr", id(cell))


def _rows_text(rows: Sequence[ir.Row]) -> str:
    """Rows as a redline shows them: "| 2 | $200 |", one paragraph each."""
    return "\n\n".join("| " + " | ".join(ir.cell_text(c) for c in row.cells) + " |"
                     for row in rows)


@attrs.frozen
class Marked:
    """A conformed copy's text block read both ways: `before` with its struck words and
    without its inserted ones, `after` the other way round; and the words struck and
    inserted, each run on its own."""

    before: str
    after: str
    struck: str
    inserted: str


# CriticMarkup's marks: {--struck--}, {++inserted++}, {~~struck~>inserted~~}.
_MARKS = re.compile(r"\{--|--\}|\{\+\+|\+\+\}|\{~~|~>|~~\}")
_CLOSES = {"{--": "--}", "{++": "++}", "{~~": "~~}"}


def read_marks(text: str) -> Marked | str:
    """A text block's two readings, or what is wrong with its marks."""
    before: list[str] = []
    after: list[str] = []
    struck: list[str] = []
    inserted: list[str] = []
    opened: tuple[str, int] | None = None  # the mark open, and where
    replaced = False  # inside {~~ ... }, after its ~>
    end = 0
    for match in _MARKS.finditer(text):
        mark, at = match.group(), match.start()
        words = text[end:at]
        end = match.end()
        if opened is None:
            before.append(words)
            after.append(words)
            if mark not in _CLOSES:
                return f"“{mark}” closes no mark, near “{_context(text, at, end)}”"
            opened, replaced = (mark, at), False
            continue
        kind = opened[0]
        if mark in _CLOSES:
            return (f"“{kind}” near “{_context(text, opened[1], opened[1] + 3)}” is not "
                    f"closed by “{_CLOSES[kind]}” before the next mark")
        if kind == "{~~" and mark == "~>" and not replaced:
            before.append(words)
            struck.append(words)
            replaced = True
            continue
        if mark != _CLOSES[kind] or (kind == "{~~" and not replaced):
            return f"“{mark}” does not close “{kind}”, near “{_context(text, at, end)}”"
        if kind == "{--":
            before.append(words)
            struck.append(words)
        else:
            after.append(words)
            inserted.append(words)
        opened = None
    if opened is not None:
        return (f"“{opened[0]}” near “{_context(text, opened[1], opened[1] + 3)}” is not "
                f"closed by “{_CLOSES[opened[0]]}”")
    before.append(text[end:])
    after.append(text[end:])
    return Marked(_tidy("".join(before)), _tidy("".join(after)), " ".join(struck),
                  " ".join(inserted))


def _tidy(text: str) -> str:
    """A reading with the spaces that marks leave doubled ("for  Contract") made single,
    within each line, and none before the punctuation after a struck word."""
    lines = [re.sub(r"(?<=\S)[ \t]{2,}", " ", line) for line in text.split("\n")]
    return re.sub(r" +([.,;:])", r"\1", "\n".join(lines)).strip()


def _first_difference(section: str, copy: str) -> tuple[str, str] | None:
    """Where two texts' words first differ (spacing and line breaks aside): the words
    around it in each, or None where they read the same."""
    a, b = section.split(), copy.split()
    if a == b:
        return None
    i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    start = max(0, i - 4)
    return (_excerpt(a, start, i + 5), _excerpt(b, start, i + 5))


def _excerpt(words: list[str], start: int, stop: int) -> str:
    shown = " ".join(words[start:stop]) or "(the end)"
    return ("…" if start > 0 else "") + shown + ("…" if stop < len(words) else "")


def _text_of(section: ir.Section, p: int) -> str:
    text = section.parts[p].text
    return text.text if text is not None else ""


@attrs.frozen
class _Window:
    """Where a target stands in one of its section's text blocks: text[start:end] of the
    block of part `part`."""

    part: int
    start: int
    end: int


def _words_pattern(words: str) -> re.Pattern[str]:
    """The quoted words as they may stand in a text block: any run of spaces and line
    breaks for a space, and a whole word at either end ("Lender" is not in "Lenders")."""
    body = r"\s+".join(re.escape(w) for w in words.split())
    before = r"(?<!\w)" if re.match(r"\w", words.strip()) else ""
    after = r"(?!\w)" if re.search(r"\w$", words.strip()) else ""
    return re.compile(before + body + after)


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where each sentence of split_sentences(text) stands in `text` itself, whose runs
    of spaces and line breaks split_sentences makes one space: (start, end) offsets."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    starts: list[int] = []  # where each word starts in the one-space text
    n = 0
    for a, b in words:
        starts.append(n)
        n += b - a + 1
    flat = " ".join(text[a:b] for a, b in words)

    def raw(offset: int) -> int:
        i = max(0, bisect.bisect_right(starts, offset) - 1)
        a, b = words[i]
        return a + min(offset - starts[i], b - a)

    spans = []
    pos = 0
    for sentence in split_sentences(text):
        at = flat.find(sentence, pos)
        at = pos if at < 0 else at
        end = min(at + len(sentence), len(flat))
        spans.append((raw(at), raw(end - 1) + 1 if end > at else raw(at)))
        pos = end
    return spans


_CONNECTOR = re.compile(r"[\s,;]*(?:\b(?:and|or)\b)?[\s,;]*$")


def _core_end(text: str, start: int, end: int) -> int:
    """The end of a clause's own words: before the "; and " or ", or " that leads to the
    next one, and before the full stop of a last clause."""
    core = text[start:end]
    core = _CONNECTOR.sub("", core.rstrip().rstrip(".")) if core.rstrip().endswith(".") \
        else _CONNECTOR.sub("", core)
    return start + len(core)


def _connector_start(text: str, start: int) -> int:
    """Where the connector before a clause (", and ", "; or ") begins."""
    match = _CONNECTOR.search(text[:start])
    return match.start() if match else start


def _times(n: int) -> str:
    return {2: "twice", 3: "three times"}.get(n, f"{n} times")


def _places(section: ir.Section, found: Sequence[tuple[int, int, int]]) -> str:
    """Where each occurrence stands in the section's consolidated text (its text blocks
    one after another, a blank line between): line and column, and the words around it."""
    base: dict[int, int] = {}
    offset = 0
    for p, part in enumerate(section.parts):
        if part.text is not None:
            base[p] = offset
            offset += len(part.text.text) + 2
    whole = section.text
    places = []
    for p, start, end in found:
        at = base[p] + start
        line = whole.count("\n", 0, at) + 1
        column = at - (whole.rfind("\n", 0, at) + 1) + 1
        context = _context(_text_of(section, p), start, end)
        places.append(f"line {line}, column {column} of its text (“{context}”)")
    return "; ".join(places[:-1]) + (" and " if len(places) > 1 else "") + places[-1]


def _context(text: str, start: int, end: int, around: int = 30) -> str:
    """text[start:end] with the words around it, on one line: "…exceed $75,000,000 to…"."""
    a = max(0, start - around)
    b = min(len(text), end + around)
    while a > 0 and not text[a - 1].isspace() and a < start:
        a += 1  # a whole word
    while b < len(text) and not text[b].isspace() and b > end:
        b -= 1
    shown = " ".join(text[a:b].split())
    return ("…" if a > 0 else "") + shown + ("…" if b < len(text) else "")


# A text longer than this (in words) is not searched for the words nearest a quotation.
_NEAR_WORDS = 20_000


def _near(words: str, text: str) -> str:
    """A hint for quoted words not found: the closest run of as many words in the text."""
    size = len(words.split())
    tokens = text.split()
    if len(tokens) > _NEAR_WORDS:
        return "quote the words exactly as they stand in its text (as amended so far)"
    marks = ".,;:" if not words.rstrip().endswith(tuple(".,;:")) else ""
    runs = sorted({" ".join(tokens[i:i + size]).rstrip(marks)
                   for i in range(max(0, len(tokens) - size + 1))})
    match = difflib.get_close_matches(" ".join(words.split()), runs, n=1, cutoff=0.6)
    if match:
        return f"did you mean “{match[0]}”? Quote the words exactly as they stand"
    return "quote the words exactly as they stand in its text (as amended so far)"


def _find_label(sentence: str, label: str, start: int = 0) -> int:
    """Where a clause label such as "(i)" stands in a sentence: not the "(i)" of a section
    reference like "Section 1(i)" or "Section 11(a)(ii)"."""
    match = re.compile(r"(?<![\w)])" + re.escape(label)).search(sentence, start)
    return match.start() if match else -1


_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"]


def _next_label(label: str) -> str | None:
    """The label after "(i)" is "(ii)", after "(a)" "(b)", after "(1)" "(2)"."""
    inner = label.strip("()")
    if inner in _ROMAN[:-1]:
        return f"({_ROMAN[_ROMAN.index(inner) + 1]})"
    if inner.upper() in [r.upper() for r in _ROMAN[:-1]] and inner.isupper():
        return f"({_ROMAN[_ROMAN.index(inner.lower()) + 1].upper()})"
    if inner.isdigit():
        return f"({int(inner) + 1})"
    if len(inner) == 1 and inner.isalpha():
        return f"({chr(ord(inner) + 1)})"
    return None


def _explain_absences(versions: list[Version]) -> None:
    """For each version, why each name of another version is not in force in it."""
    everywhere: dict[str, list[int]] = {}
    for i, version in enumerate(versions):
        for decl in version.program.declarations:
            everywhere.setdefault(decl.name, []).append(i)
    for i, version in enumerate(versions):
        for name, present in everywhere.items():
            if i in present:
                continue
            later = [j for j in present if j > i]
            if later and not any(j < i for j in present):
                added = versions[later[0]]
                assert added.amendment is not None and added.effective is not None
                version.absent[name] = (f"'{name}' is not in force {_when(version)}: it was "
                                        f"added by {amendment_label(added.amendment)}, "
                                        f"effective {long_date(added.effective)}")
            else:
                gone = next(v for v in versions[max(j for j in present if j < i) + 1:i + 1])
                assert gone.amendment is not None and gone.effective is not None
                why = version.removed.get(name)
                what = why.message if why else f"it was removed by " \
                    f"{amendment_label(gone.amendment)}"
                version.absent[name] = (f"'{name}' is not in force {_when(version)}: {what}, "
                                        f"effective {long_date(gone.effective)}")


def _when(version: Version) -> str:
    if version.effective is None:
        return "in the original agreement"
    return f"from {long_date(version.effective)}"
