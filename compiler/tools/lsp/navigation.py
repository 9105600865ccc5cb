"""Where things are in clause files: the symbol index the language server navigates by.

`index_file` walks the parse trees of one file (those of the chunks that parsed, so a
half-written file still has an index for the rest) and records every occurrence of a
name or a section number: where a term, fact or party is declared and where it is used,
where a section is declared and where an amendment's operation names it. Positions are
0-based (line, character), as the Language Server Protocol counts them.

Sections live in a file's own namespace: an amendment's `section 2.3` is its own, while
`replace section 3.1` names Section 3.1 of the agreement the amendment amends. So a
section's key carries the file it belongs to: `section_key(agreement_file, "3.1")`.

A choice's members are names like any term's (`term_benchmark` is a value of its choice);
the fields of a record or a table are known by their owner (`field_key("lender",
"principal")`). Where a field is read (`l.principal`) the tree does not say whose it is:
records.py asks the checker.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import attrs
import lark
from lark import Token

from clausec import ir
from clausec.front import parser, transform

Role = Literal["decl", "ref"]

# Parse-tree rules that declare a name, and what the outline and hover call them.
DECLARATIONS = {
    "fact": "fact", "definition": "definition", "condition": "condition",
    "exception": "exception", "obligation": "obligation", "power": "power",
    "invariant": "invariant", "periods": "periods",
    "choice": "choice", "record": "record", "table": "table",
}
# What a choice, a record and a table declare inside: members and fields.
_PARTS_OF = {"choice": "member", "record": "field", "table": "field"}
# `calendar month`, ...: the period families every agreement has without declaring them.
CALENDAR_FAMILIES = ("calendar month", "calendar quarter", "calendar half year",
                     "calendar year")
_UNITS = {"month_unit": "month", "quarter_unit": "quarter", "half_year_unit": "half year",
          "year_unit": "year"}
_SECTION_HOLDERS = ("section", "replace_op", "append_op", "add_op", "substitute_op",
                    "insert_op", "conform_op")
# What an amendment does to a table's rows: the operation's words.
_ROW_OPS = {"replace_row_op": "replace", "delete_row_op": "delete", "add_row_op": "add"}
# The rules of `article VI`, `exhibit C`, `schedule 1.01(c)`: a part, and its kind.
_PARTS = {"article_part": "article", "exhibit_part": "exhibit", "schedule_part": "schedule"}


@attrs.frozen
class Range:
    """0-based, end exclusive."""

    line: int
    character: int
    end_line: int
    end_character: int

    def contains(self, line: int, character: int) -> bool:
        return (self.line, self.character) <= (line, character) <= (
            self.end_line, self.end_character)


def token_range(token: Token) -> Range:
    line = (token.line or 1) - 1
    column = (token.column or 1) - 1
    end_line = (token.end_line or token.line or 1) - 1
    end_column = (token.end_column or (token.column or 1) + len(token)) - 1
    return Range(line, column, end_line, end_column)


def tree_range(tree: lark.Tree[Token]) -> Range:
    meta = tree.meta
    if getattr(meta, "empty", True):
        return Range(0, 0, 0, 0)
    return Range(meta.line - 1, meta.column - 1, meta.end_line - 1, meta.end_column - 1)


def name_key(name: str) -> str:
    return f"name:{name}"


def section_key(file: str, number: str) -> str:
    return f"section:{file}#{number}"


def field_key(owner: str, name: str) -> str:
    """A field of a record or of a table's rows: `field:lender.principal`. Where the
    field is used (`l.principal`), its record is known only to the checker: the key of
    such an occurrence has no owner (`field:.principal`), and the server resolves it; in
    the records a test gives a fact, the owner is the fact (`field:@lenders.principal`)."""
    return f"field:{owner}.{name}"


def field_of(key: str) -> tuple[str, str] | None:
    """(owner, field) of a field's key; owner is "" where the field is used."""
    if not key.startswith("field:"):
        return None
    owner, _, name = key.removeprefix("field:").rpartition(".")
    return owner, name


def local_key(file: str, token: Token) -> str:
    """A range variable (`q` of `for each royalty_quarter q`): its own, in its scope."""
    return f"local:{file}#{token.line}:{token.column}:{token}"


def family_of(tree: object) -> str | None:
    """The words of a `period_family` or `type` tree: `royalty_quarter`, `calendar month`."""
    if not isinstance(tree, lark.Tree):
        return None
    if tree.data in ("calendar_family", "calendar_period_type"):
        unit = next((c for c in tree.children if isinstance(c, lark.Tree)), None)
        return "calendar " + _UNITS.get(str(unit.data), "period") if unit is not None \
            else None
    if tree.data in ("named_family", "named_type"):
        name = next((c for c in tree.children if isinstance(c, Token)), None)
        return str(name) if name is not None else None
    return None


def calendar_key(name: str) -> str:
    """A built-in business-day calendar (`calendar nyse`, `2 business days in nyse`): one
    namespace for every file, since the calendars are the compiler's, not a file's."""
    return f"calendar:{name}"


# Parse-tree rules whose last NAME names a calendar.
_CALENDAR_RULES = ("calendar", "calendar_business_days", "calendar_business_days_type")


@attrs.frozen
class Occurrence:
    key: str
    text: str  # the name or the section number as written
    role: Role
    kind: str  # fact, definition, ..., party, section, calendar, range:FAMILY
    range: Range


@attrs.frozen
class Symbol:
    """A declaration of the file, for hover and the outline."""

    name: str
    kind: str  # fact, definition, condition, exception, obligation, power, invariant,
    # party, section, operation, test, agreement, amendment
    title: str | None  # the quoted term or heading
    range: Range  # the whole declaration
    selection: Range  # its name
    section: str | None  # the number of the section (or operation) it is in
    section_text: str  # that section's contract words
    children: tuple[Symbol, ...] = ()
    per: str | None = None  # a series fact: the family of its periods
    owner: str | None = None  # a member: its choice; a field: its record or table


@attrs.frozen
class FileIndex:
    file: str
    occurrences: tuple[Occurrence, ...]
    symbols: tuple[Symbol, ...]  # top level: header, sections, operations, tests...

    def at(self, line: int, character: int) -> Occurrence | None:
        for occurrence in self.occurrences:
            if occurrence.range.contains(line, character):
                return occurrence
        return None

    def declarations(self) -> Iterator[Symbol]:
        """Every declared term, fact and party of the file, sections' ones included."""
        stack = list(self.symbols)
        while stack:
            symbol = stack.pop()
            stack.extend(symbol.children)
            if symbol.kind in DECLARATIONS.values() or symbol.kind in ("party", "member"):
                yield symbol

    def sections(self) -> Iterator[Occurrence]:
        """The sections this file declares (its own, or an agreement's that it adds)."""
        return (o for o in self.occurrences if o.kind == "section" and o.role == "decl")


def index_file(file: str, trees: Iterable[lark.Tree[Token]],
               agreement_file: str | None = None) -> FileIndex:
    """The index of one file. `agreement_file` is the agreement an amendment amends (the
    file whose sections its operations name)."""
    walker = _Walker(file, agreement_file or file)
    symbols = tuple(s for tree in trees for s in walker.top(tree))
    return FileIndex(file, tuple(sorted(walker.occurrences, key=lambda o: (
        o.range.line, o.range.character))), symbols)


class _Walker:
    def __init__(self, file: str, agreement_file: str) -> None:
        self.file = file
        self.agreement_file = agreement_file
        self.occurrences: list[Occurrence] = []

    def add(self, key: str, token: Token, role: Role, kind: str, text: str | None = None
            ) -> None:
        self.occurrences.append(Occurrence(key, str(token) if text is None else text, role,
                                           kind, token_range(token)))

    def top(self, tree: lark.Tree[Token]) -> Iterator[Symbol]:
        data = tree.data
        if data in _SECTION_HOLDERS:
            yield self.section(tree)
        elif data in DECLARATIONS:
            yield from self.declaration(tree, None, "")
        elif data in ("agreement", "amendment"):
            yield self.header(tree)
        elif data == "delete_op":
            self.targets(tree)
            # A clause deleted with the logic of what is left of its sentence.
            body = next((c for c in tree.children if isinstance(c, lark.Tree)
                         and c.data == "op_body"), None)
            numbers = _numbers(tree, deep=True)
            children = [symbol for item in (body.children if body is not None else [])
                        if isinstance(item, lark.Tree) and item.data in DECLARATIONS
                        for symbol in self.declaration(item, numbers[0][1] if numbers
                                                       else None, "")]
            yield Symbol(f"delete {_target_words(tree)}", "operation", None,
                         tree_range(tree), tree_range(tree), None, "", tuple(children))
        elif data in _ROW_OPS:
            # `replace row 3 of table T with |...|`: T is a reference to the table, and
            # the cells are expressions (a member's name is a reference to it).
            self.expressions(tree, set())
            table = next(c for c in tree.children if isinstance(c, Token) and c.type == "NAME")
            self.add(name_key(table), table, "ref", "name")
            yield Symbol(f"{_ROW_OPS[str(data)]} a row of table {table}", "operation", None,
                         tree_range(tree), token_range(table), None, "", ())
        elif data == "test":
            self.expressions(tree, set())
            title = _string(tree.children[0]) if tree.children else "test"
            yield Symbol(f"test {title}", "test", None, tree_range(tree), tree_range(tree),
                         None, "")
        elif data == "tests_for":
            name = _tokens(tree, "NAME")
            if name:
                yield Symbol(f"tests for {name[0]}", "tests", None, tree_range(tree),
                             token_range(name[0]), None, "")

    def header(self, tree: lark.Tree[Token]) -> Symbol:
        names = _tokens(tree, "NAME")
        children = []
        for item in tree.children:
            if isinstance(item, lark.Tree) and item.data == "calendar":
                self.calendar(item)
            if isinstance(item, lark.Tree) and item.data == "party":
                party = _tokens(item, "NAME")
                if party:
                    self.add(name_key(party[0]), party[0], "decl", "party")
                    role = next((_string(c) for c in item.children
                                 if isinstance(c, Token) and c.type == "STRING"), None)
                    children.append(Symbol(str(party[0]), "party", role, tree_range(item),
                                           token_range(party[0]), None, ""))
        title = next((_string(c) for c in tree.children
                      if isinstance(c, Token) and c.type == "STRING"), None)
        name = names[0] if names else None
        selection = token_range(name) if name is not None else tree_range(tree)
        return Symbol(str(name or tree.data), str(tree.data), title, tree_range(tree),
                      selection, None, "", tuple(children))

    def section(self, tree: lark.Tree[Token]) -> Symbol:
        data = tree.data
        found = _numbers(tree, deep=data not in ("section", "append_op", "add_op"))
        numbers = [token for token, _ in found]
        number = found[0][1] if found else "?"
        if data == "section" and found:
            self.add(section_key(self.file, number), numbers[0], "decl", "section", number)
        elif data == "add_op" and found:
            self.add(section_key(self.agreement_file, number), numbers[0], "decl", "section",
                     number)
        elif data == "append_op" and found:
            self.add(section_key(self.agreement_file, number), numbers[0], "ref", "section",
                     number)
        else:
            self.targets(tree)
        # A substitution's or insertion's body is a section's, in braces of its own.
        items = [c for c in tree.children if not (isinstance(c, lark.Tree)
                                                  and c.data == "op_body")]
        items += [c for body in tree.children if isinstance(body, lark.Tree)
                  and body.data == "op_body" for c in body.children]
        strings = [c for c in tree.children if isinstance(c, Token) and c.type == "STRING"]
        heading = _string(strings[0]) if strings and data in _HEADED else None
        text = "\n\n".join(transform.unquote(t)
                           for item in items if isinstance(item, lark.Tree)
                           and item.data == "text" for t in item.children
                           if isinstance(t, Token))
        children: list[Symbol] = []
        for item in items:
            if isinstance(item, lark.Tree) and item.data in DECLARATIONS:
                children.extend(self.declaration(item, number, text))
        label = {"section": "section", "replace_op": f"replace {_target_words(tree)}",
                 "append_op": f"append to {_written(number)}", "add_op": f"add {_written(number)}",
                 "substitute_op": f"substitute in {_target_words(tree)}",
                 "insert_op": f"insert at the end of {_target_words(tree)}",
                 "conform_op": f"conform {_written(number)}"}[str(data)]
        name = number if data == "section" else label
        selection = token_range(numbers[0]) if numbers else tree_range(tree)
        return Symbol(name, "section" if data == "section" else "operation", heading,
                      tree_range(tree), selection, number, text, tuple(children))

    def targets(self, tree: lark.Tree[Token]) -> None:
        for token, number in _numbers(tree, deep=True):
            self.add(section_key(self.agreement_file, number), token, "ref", "section", number)

    def declaration(self, tree: lark.Tree[Token], section: str | None, text: str
                    ) -> Iterator[Symbol]:
        kind = DECLARATIONS[str(tree.data)]
        children = tree.children
        names = [c for c in children if isinstance(c, Token) and c.type == "NAME"]
        if kind == "exception":
            # exception [NAME] to TARGET: the first child is None when unnamed.
            target = children[1] if isinstance(children[1], Token) else None
            if target is not None:
                self.add(name_key(target), target, "ref", "definition")
            declared = children[0] if isinstance(children[0], Token) else None
        else:
            declared = names[0] if names else None
        params = {str(p.children[0]) for c in children if isinstance(c, lark.Tree)
                  and c.data == "parameters" for p in c.children
                  if isinstance(p, lark.Tree) and p.children}
        self.expressions(tree, params)
        if declared is None:
            return
        self.add(name_key(declared), declared, "decl", kind)
        title = next((_string(c) for c in children
                      if isinstance(c, Token) and c.type == "STRING"), None)
        per = next((family_of(c.children[0]) for c in children if isinstance(c, lark.Tree)
                    and c.data == "per" and c.children), None)
        yield Symbol(str(declared), kind, title, tree_range(tree), token_range(declared),
                     section, text, self.parts(tree, str(declared), section, text), per=per)

    def parts(self, tree: lark.Tree[Token], owner: str, section: str | None, text: str
              ) -> tuple[Symbol, ...]:
        """The members of a choice (names of their own, values of the choice), the fields
        of a record and the columns of a table (each known by its owner's name)."""
        kind = _PARTS_OF.get(str(tree.data))
        if kind is None:
            return ()
        rule = "member" if kind == "member" else "record_field"
        found = []
        for part in tree.iter_subtrees_topdown():  # type: ignore[no-untyped-call]
            name = part.children[0] if part.data == rule and part.children else None
            if not isinstance(name, Token):
                continue
            key = name_key(name) if kind == "member" else field_key(owner, str(name))
            self.add(key, name, "decl", kind)
            title = next((_string(c) for c in part.children
                          if isinstance(c, Token) and c.type == "STRING"), None)
            found.append(Symbol(str(name), kind, title, tree_range(part), token_range(name),
                                section, text, owner=owner))
        return tuple(found)

    def range_variables(self, tree: lark.Tree[Token]) -> dict[int, tuple[str, str]]:
        """The range variables a declaration binds (`for each royalty_quarter q`), declared
        here; and the names that use them (by id), in the obligation, power or `each`
        aggregate whose `for each` binds them (an inner one hides an outer one)."""
        uses: dict[int, tuple[str, str]] = {}
        for scope in tree.iter_subtrees_topdown():  # type: ignore[no-untyped-call]
            if scope.data in _EACH_ITEM:
                self.item_variable(scope, uses)
            for recurrence in scope.children:
                if not (isinstance(recurrence, lark.Tree) and recurrence.data == "recurrence"):
                    continue
                variable = next((c for c in recurrence.children
                                 if isinstance(c, Token) and c.type == "NAME"), None)
                if variable is None:
                    continue
                family = family_of(recurrence.children[0]) or "period"
                key, kind = local_key(self.file, variable), f"range:{family}"
                self.occurrences.append(Occurrence(key, str(variable), "decl", kind,
                                                   token_range(variable)))
                for sub in scope.iter_subtrees():
                    first = sub.children[0] if sub.children else None
                    if sub.data == "name" and isinstance(first, Token) and \
                            str(first) == str(variable):
                        uses[id(first)] = (key, kind)
        return uses

    def item_variable(self, scope: lark.Tree[Token], uses: dict[int, tuple[str, str]]
                      ) -> None:
        """`[l.principal for each l in lenders]`: `l` stands for each item of the list, in
        the brackets (its kind `item:lenders` names the list when it is a name)."""
        variable = next((c for c in scope.children
                         if isinstance(c, Token) and c.type == "NAME"), None)
        if variable is None:
            return
        after = scope.children[scope.children.index(variable) + 1:]
        source = after[0] if after else None
        first = source.children[0] if isinstance(source, lark.Tree) and \
            source.data == "name" and source.children else None
        key, kind = local_key(self.file, variable), f"item:{first if first else ''}"
        self.occurrences.append(Occurrence(key, str(variable), "decl", kind,
                                           token_range(variable)))
        for sub in scope.iter_subtrees():
            name = sub.children[0] if sub.children else None
            if sub.data == "name" and isinstance(name, Token) and str(name) == str(variable) \
                    and sub is not source:
                uses[id(name)] = (key, kind)

    def calendar(self, tree: lark.Tree[Token]) -> None:
        names = _tokens(tree, "NAME")
        if names:
            self.add(calendar_key(names[-1]), names[-1], "ref", "calendar")

    def expressions(self, tree: lark.Tree[Token], params: set[str]) -> None:
        """References inside a declaration or a test: names, calls, parties, probes, the
        calendars business days are counted in, period families, and range variables."""
        ranges = self.range_variables(tree)
        for sub in tree.iter_subtrees():
            data = sub.data
            first = sub.children[0] if sub.children else None
            if data in _CALENDAR_RULES:
                self.calendar(sub)
            if data in ("named_family", "named_type") and isinstance(first, Token):
                self.add(name_key(first), first, "ref", "name")
            if data == "name" and isinstance(first, Token) and id(first) in ranges:
                key, kind = ranges[id(first)]
                self.occurrences.append(Occurrence(key, str(first), "ref", kind,
                                                   token_range(first)))
            elif data in ("name", "call", "given_fact", "probe", "party_holder") and \
                    isinstance(first, Token) and first.type == "NAME":
                if str(first) not in params:
                    self.add(name_key(first), first, "ref", "name")
            elif data in ("joint_holders", "beneficiary"):
                for token in sub.children:
                    if isinstance(token, Token) and token.type == "NAME":
                        self.add(name_key(token), token, "ref", "party")
            elif data == "case_arm":  # `term_benchmark or base_rate: ...`: members
                for token in sub.children:
                    if isinstance(token, Token) and token.type == "NAME":
                        self.add(name_key(token), token, "ref", "name")
            elif data == "field" and len(sub.children) > 1 and \
                    isinstance(sub.children[1], Token):  # `l.principal`
                name = sub.children[1]
                self.add(field_key("", str(name)), name, "ref", "field")
            if data == "given_fact" and isinstance(first, Token):
                # `lenders = [{name: "A", principal: $5}]`: fields of the fact's records.
                for value in sub.iter_subtrees():
                    given = value.children[0] if value.data == "field_value" else None
                    if isinstance(given, Token):
                        self.add(field_key(f"@{first}", str(given)), given, "ref", "field")


# The expressions that bind a name to each item of a list: `[x for each x in xs]`,
# `sum of [...]`, `present value of [...]`.
_EACH_ITEM = ("list_each", "aggregate", "present_value")


def _tokens(tree: lark.Tree[Token], kind: str, deep: bool = False) -> list[Token]:
    if deep:
        return [t for t in tree.scan_values(lambda v: isinstance(v, Token) and v.type == kind)]
    return [c for c in tree.children if isinstance(c, Token) and c.type == kind]


def _string(token: object) -> str:
    text = str(token)
    return text[1:-1] if text.startswith('"') and len(text) >= 2 else text


# Rules whose first string is a heading (a substitution's strings are its words).
_HEADED = ("section", "replace_op", "add_op")


def _numbers(tree: lark.Tree[Token], deep: bool = False) -> list[tuple[Token, str]]:
    """The section numbers a tree names, in order: each token with the number it stands
    for ("3.1"; "Article VI" for the token VI of `article VI`). `deep`: in its subtrees
    too (the targets of an operation), else in its own children (a section's header)."""
    found: list[tuple[Token, str]] = []
    stack: list[lark.Tree[Token] | Token | None] = [tree]
    parents: dict[int, str] = {}
    while stack:
        node = stack.pop()
        if isinstance(node, Token):
            if node.type == "SECTION_NUMBER":
                found.append((node, str(node)))
            elif node.type == "PART_NUMBER" and id(node) in parents:
                found.append((node, ir.part_number(parents[id(node)], str(node))))
        elif isinstance(node, lark.Tree) and (node is tree or deep or node.data in _PARTS):
            if node.data in _PARTS:
                parents.update({id(c): _PARTS[str(node.data)] for c in node.children})
            stack.extend(reversed(node.children))
    return found


def _written(number: str) -> str:
    """A section number as a clause file writes it: "section 3.1", "article VI"."""
    kind = ir.part_kind(number)
    return f"section {number}" if kind == "section" else \
        f"{kind} {number.split(' ', 1)[1]}"


def _target_words(tree: lark.Tree[Token]) -> str:
    target = next((c for c in tree.children if isinstance(c, lark.Tree)
                   and str(c.data).endswith("_target")), None)
    numbers = [number for _, number in _numbers(tree, deep=True)]
    if target is None or not numbers:
        return "section"
    if target.data == "sections_target":
        return "sections " + ", ".join(numbers)
    if target.data == "sentence_target":
        ordinal = _tokens(target, "ORDINAL")
        return f"the {ordinal[0] if ordinal else ''} sentence of {_written(numbers[0])}"
    if target.data in ("clause_target", "part_clause_target"):
        label = _tokens(target, "LABEL")
        return f"clause {label[0] if label else ''} of {_written(numbers[0])}"
    return _written(numbers[0])


# --------------------------------------------------------------- lexical tokens


@attrs.frozen
class Lexeme:
    type: str  # the grammar's terminal name, or "KEYWORD"
    text: str
    range: Range


def keyword_terminals() -> frozenset[str]:
    return frozenset(t.name for t in parser.lark_parser().terminals
                     if t.pattern.type == "str" and t.pattern.value.isalpha())


def lex(text: str) -> Iterator[Lexeme]:
    """Every token of a text, comments included; a character no terminal matches is
    skipped (the file is being typed), and lexing goes on after it."""
    from lark.exceptions import UnexpectedCharacters

    keywords = keyword_terminals()
    offset = 0
    line_base = 0
    while offset <= len(text):
        rest = text[offset:]
        try:
            for token in parser.lark_parser().lex(rest, dont_ignore=True):
                if token.type == "WS":
                    continue
                kind = "KEYWORD" if token.type in keywords else token.type
                yield Lexeme(kind, str(token), _shift(token_range(token), line_base, offset,
                                                      text))
            return
        except UnexpectedCharacters as error:
            offset += (error.pos_in_stream or 0) + 1
            line_base = text.count("\n", 0, offset)


def _shift(r: Range, line_base: int, offset: int, text: str) -> Range:
    """A range lexed from text[offset:], moved to the text's own lines."""
    if offset == 0:
        return r
    # Columns of the first line of the rest start at the column of `offset`.
    column0 = offset - (text.rfind("\n", 0, offset) + 1)
    line = r.line + line_base
    character = r.character + (column0 if r.line == 0 else 0)
    end_character = r.end_character + (column0 if r.end_line == 0 else 0)
    return Range(line, character, r.end_line + line_base, end_character)
