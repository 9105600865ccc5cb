"""`clausec lsp` on choices, records, tables and lists, end to end (a real client over
stdio): hover on a member, a record's field and a table; go to definition of each; the
outline of choices, records and tables; completion of fields after `l.`, of members in
`case X of [...]`, and of the new keywords; their semantic tokens."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from clausec import api
from clausec.source import SourceFile

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "tests" / "data" / "lists" / "credit_lists.clause"
TESTS = REPO / "tests" / "data" / "lists" / "credit_lists.tests.clause"

on_module_loop = pytest.mark.asyncio(loop_scope="module")

CONFIG = ClientServerConfig(server_command=[sys.executable, "-m", "clausec", "lsp"],
                            server_env=dict(os.environ))
CURSOR = "§"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lsp_lists_workspace")
    shutil.copy(SAMPLE, root / SAMPLE.name)
    shutil.copy(TESTS, root / TESTS.name)
    return root


_initialized: list[lsp.InitializeResult] = []


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient, workspace: Path) -> Any:
    _initialized[:] = [await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=workspace.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(workspace.as_uri(), "lists")]))]
    yield
    await lsp_client.shutdown_session()


_versions: dict[str, int] = {}


def open_doc(client: LanguageClient, workspace: Path, name: str = SAMPLE.name
             ) -> tuple[str, str]:
    path = workspace / name
    u = path.as_uri()
    text = path.read_text(encoding="utf-8")
    _versions[u] = 1
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(u, "clause", 1, text)))
    return u, text


def change_doc(client: LanguageClient, u: str, text: str) -> None:
    _versions[u] = _versions.get(u, 1) + 1
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=u, version=_versions[u]),
        [lsp.TextDocumentContentChangeWholeDocument(text)]))


def position_of(text: str, needle: str, occurrence: int = 0, offset: int = 1
                ) -> lsp.Position:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start)
    return lsp.Position(line, start - (text.rfind("\n", 0, start) + 1) + offset)


def line_of(text: str, needle: str) -> int:
    return text.count("\n", 0, text.index(needle))


def word_at(text: str, r: lsp.Range) -> str:
    assert r.start.line == r.end.line
    return text.split("\n")[r.start.line][r.start.character:r.end.character]


async def hover(client: LanguageClient, u: str, at: lsp.Position) -> str:
    found = await client.text_document_hover_async(lsp.HoverParams(
        lsp.TextDocumentIdentifier(u), at))
    assert found is not None
    return found.contents.value  # type: ignore[union-attr]


async def definition(client: LanguageClient, u: str, at: lsp.Position) -> list[lsp.Location]:
    found = await client.text_document_definition_async(lsp.DefinitionParams(
        lsp.TextDocumentIdentifier(u), at))
    assert isinstance(found, list)
    return [item for item in found if isinstance(item, lsp.Location)]


async def completion_at(client: LanguageClient, u: str, typed: str) -> dict[str, Any]:
    """The completion items where CURSOR is in `typed` (which has it once)."""
    at = typed.index(CURSOR)
    text = typed.replace(CURSOR, "", 1)
    change_doc(client, u, text)
    line = text.count("\n", 0, at)
    result = await client.text_document_completion_async(lsp.CompletionParams(
        lsp.TextDocumentIdentifier(u),
        lsp.Position(line, at - (text.rfind("\n", 0, at) + 1))))
    assert isinstance(result, lsp.CompletionList)
    return {item.label: item for item in result.items}


# -------------------------------------------------------------------------- hover


@on_module_loop
async def test_hover_on_a_member_names_its_choice_and_term(client: LanguageClient,
                                                           workspace: Path) -> None:
    u, text = open_doc(client, workspace)
    for needle in ('term_benchmark "Term', "term_benchmark: 7.50%"):
        value = await hover(client, u, position_of(text, needle, offset=3))
        assert "**member** `term_benchmark` — “Term Benchmark Loan”" in value, needle
        assert "the choice `loan_type` (“Type of Loan”)" in value, needle
        assert "`base_rate`" in value and "*Section 1.01*" in value, needle
    value = await hover(client, u, position_of(text, "choice loan_type", offset=8))
    assert "**choice** `loan_type` — “Type of Loan”" in value
    assert "`term_benchmark` (“Term Benchmark Loan”), `base_rate`" in value


@on_module_loop
async def test_hover_on_a_field_shows_its_type_term_and_record(client: LanguageClient,
                                                               workspace: Path) -> None:
    u, text = open_doc(client, workspace)
    for needle, offset in (("l.principal", 4), ('principal "outstanding', 2)):
        value = await hover(client, u, position_of(text, needle, offset=offset))
        assert "**field** `principal` — “outstanding Term Loans”" in value, needle
        assert "*Type:* money USD" in value, needle
        assert "a field of the record `lender` (“Term Lender”)" in value, needle
        assert "*Section 2.11*" in value, needle
    # `s.item.declined`: a share's field, then a field of the record the share goes to.
    value = await hover(client, u, position_of(text, "s.item.declined", offset=3))
    assert "**field** `item` of a share of an allocation" in value
    value = await hover(client, u, position_of(text, "s.item.declined", offset=9))
    assert "**field** `declined` — “delivered a rejection notice”" in value
    assert "*Type:* bool" in value
    # A column of a table, read from one of its rows.
    value = await hover(client, u, position_of(text, "r.ending", offset=4))
    assert "**field** `ending`" in value and "*Type:* date" in value
    assert "a field of the table `step_down` (“Leverage Step-Down”)" in value


@on_module_loop
async def test_hover_on_a_record_a_table_and_an_item(client: LanguageClient,
                                                     workspace: Path) -> None:
    u, text = open_doc(client, workspace)
    value = await hover(client, u, position_of(text, "list of lender", offset=10))
    assert "**record** `lender` — “Term Lender”" in value
    assert "`name`: text, `principal`: money USD, `declined`: bool" in value
    value = await hover(client, u, position_of(text, "in step_down", offset=5))
    assert "**table** `step_down` — “Leverage Step-Down”" in value
    assert "*Columns:* `ending`: date, `maximum`: decimal" in value
    assert "2 rows; as a value, the list of its rows" in value
    assert "| 2024-12-31   | 4.25             |" in value  # the table itself
    value = await hover(client, u, position_of(text, "for each l in lenders", offset=9))
    assert value == "`l` — each item of `lenders` · *Type:* `lender`"


# --------------------------------------------------------------------- definition


@on_module_loop
async def test_definition_of_members_fields_records_and_tables(client: LanguageClient,
                                                               workspace: Path) -> None:
    u, text = open_doc(client, workspace)
    for needle, offset, declared, word in (
            ("term_benchmark: 7.50%", 2, 'term_benchmark "Term', "term_benchmark"),
            ("l.principal", 4, 'principal "outstanding', "principal"),
            ("s.item.declined", 10, 'declined "delivered', "declined"),
            ("r.maximum", 3, "maximum: decimal", "maximum"),
            ("in step_down", 5, 'step_down "Leverage', "step_down"),
            ("list of lender", 10, 'lender "Term Lender"', "lender"),
            (": loan_type", 4, 'loan_type "Type of Loan"', "loan_type")):
        (location,) = await definition(client, u, position_of(text, needle, offset=offset))
        assert location.uri == u
        assert location.range.start.line == line_of(text, declared), needle
        assert word_at(text, location.range) == word, needle
    # `s.amount`: a share's field is declared nowhere.
    assert await definition(client, u, position_of(text, "s.amount", offset=3)) == []


@on_module_loop
async def test_references_of_a_field_are_where_its_record_is_read(client: LanguageClient,
                                                                  workspace: Path) -> None:
    u, text = open_doc(client, workspace)
    tests = (workspace / TESTS.name).read_text(encoding="utf-8")
    found = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=lsp.TextDocumentIdentifier(u),
        position=position_of(text, 'declined "delivered', offset=2),
        context=lsp.ReferenceContext(include_declaration=True)))
    assert found is not None
    here = [f for f in found if f.uri == u]
    assert sorted(f.range.start.line for f in here) == [
        line_of(text, 'declined "delivered'), line_of(text, "s.item.declined")]
    assert all(word_at(text, f.range) == "declined" for f in here)
    # And in the records a test gives the fact `lenders`.
    there = [f for f in found if f.uri == (workspace / TESTS.name).as_uri()]
    assert len(there) == 2 and all(word_at(tests, f.range) == "declined" for f in there)


@on_module_loop
async def test_a_field_of_the_records_a_test_gives(client: LanguageClient,
                                                    workspace: Path) -> None:
    u, text = open_doc(client, workspace)
    ut, tests = open_doc(client, workspace, TESTS.name)
    at = position_of(tests, 'principal: $600', offset=2)
    value = await hover(client, ut, at)
    assert "**field** `principal` — “outstanding Term Loans”" in value
    assert "a field of the record `lender`" in value
    (location,) = await definition(client, ut, at)
    assert location.uri == u
    assert location.range.start.line == line_of(text, 'principal "outstanding')


# ------------------------------------------------------------------------ outline


@on_module_loop
async def test_outline_has_choices_records_and_tables(client: LanguageClient,
                                                      workspace: Path) -> None:
    u, _ = open_doc(client, workspace)
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        lsp.TextDocumentIdentifier(u)))
    assert symbols is not None
    sections = {s.name: s for s in symbols if isinstance(s, lsp.DocumentSymbol)}
    terms = {c.name: c for c in sections["Section 1.01"].children or []}
    choice = terms["loan_type"]
    assert choice.kind == lsp.SymbolKind.Enum and choice.detail == "Type of Loan"
    assert [(m.name, m.kind, m.detail) for m in choice.children or []] == [
        ("term_benchmark", lsp.SymbolKind.EnumMember, "Term Benchmark Loan"),
        ("base_rate", lsp.SymbolKind.EnumMember, "member")]
    record = {c.name: c for c in sections["Section 2.11"].children or []}["lender"]
    assert record.kind == lsp.SymbolKind.Struct and record.detail == "Term Lender"
    assert [(f.name, f.kind) for f in record.children or []] == [
        ("name", lsp.SymbolKind.Field), ("principal", lsp.SymbolKind.Field),
        ("declined", lsp.SymbolKind.Field)]
    table = {c.name: c for c in sections["Section 6.12"].children or []}["step_down"]
    assert table.kind == lsp.SymbolKind.Struct
    assert [f.name for f in table.children or []] == ["ending", "maximum"]


# --------------------------------------------------------------------- completion


@on_module_loop
async def test_completion_of_fields_after_a_dot(client: LanguageClient,
                                                workspace: Path) -> None:
    u, text = open_doc(client, workspace)
    items = await completion_at(
        client, u, text + f"\ndefine q: money = sum of [l.{CURSOR} for each l in lenders]\n")
    assert set(items) == {"name", "principal", "declined"}
    assert items["principal"].kind == lsp.CompletionItemKind.Field
    assert "outstanding Term Loans" in (items["principal"].detail or "")
    items = await completion_at(
        client, u, text + f"\ndefine q = [s.{CURSOR} for each s in shares]\n")
    assert set(items) == {"item", "amount"}
    items = await completion_at(
        client, u, text + f"\ndefine q = [s.item.pr{CURSOR} for each s in shares]\n")
    assert set(items) == {"name", "principal", "declined"}
    items = await completion_at(
        client, u, text + f"\ndefine q = first of [r.{CURSOR} for each r in step_down]\n")
    assert set(items) == {"ending", "maximum"}
    change_doc(client, u, text)


@on_module_loop
async def test_completion_of_members_in_a_case(client: LanguageClient,
                                               workspace: Path) -> None:
    u, text = open_doc(client, workspace)
    items = await completion_at(client, u, text + f"\ndefine r = case loan_kind of [{CURSOR}]\n")
    assert set(items) == {"term_benchmark", "base_rate", "otherwise"}
    assert items["term_benchmark"].kind == lsp.CompletionItemKind.EnumMember
    assert "Term Benchmark Loan" in (items["term_benchmark"].detail or "")
    items = await completion_at(
        client, u, text + f"\ndefine r = case loan_kind of [\n  term_benchmark: 1%,\n  {CURSOR}")
    assert set(items) == {"base_rate", "otherwise"}
    change_doc(client, u, text)


@on_module_loop
async def test_completion_of_types_and_keywords(client: LanguageClient,
                                                workspace: Path) -> None:
    u, text = open_doc(client, workspace)
    items = await completion_at(client, u, text + f"\nfact f: {CURSOR}")
    assert {"loan_type", "lender", "step_down", "list of", "money"} <= set(items)
    assert items["lender"].kind == lsp.CompletionItemKind.Struct
    assert items["loan_type"].kind == lsp.CompletionItemKind.Enum
    items = await completion_at(client, u, text + f"\nfact f: list of {CURSOR}")
    assert {"lender", "loan_type"} <= set(items)
    # A field's type, in a record and in a table's columns.
    items = await completion_at(client, u, text + f'\nrecord r {{\n  kind "Kind": {CURSOR}')
    assert {"loan_type", "money", "date"} <= set(items) and "define" not in items
    items = await completion_at(client, u, text + f"\ntable t {{\n  | a: date | b: {CURSOR}")
    assert {"loan_type", "decimal"} <= set(items) and "define" not in items
    items = await completion_at(client, u, text + f"\ndefine d = {CURSOR}")
    assert {"choice", "record", "table", "case", "of", "otherwise", "none", "allocate",
            "pro rata", "in order", "present value of", "list of", "where", "first of",
            "none of"} <= set(items)
    assert items["allocate"].kind == lsp.CompletionItemKind.Keyword
    assert "base_rate" in items and items["base_rate"].kind == \
        lsp.CompletionItemKind.EnumMember
    change_doc(client, u, text)


# ------------------------------------------------------- semantic tokens, rename


def decode(data: list[int], legend: lsp.SemanticTokensLegend, text: str
           ) -> dict[tuple[int, int], tuple[str, str]]:
    """(line, start) → (token text, type)."""
    lines = text.split("\n")
    out = {}
    line = start = 0
    for i in range(0, len(data), 5):
        dl, ds, length, kind, _ = data[i:i + 5]
        line += dl
        start = start + ds if dl == 0 else ds
        out[(line, start)] = (lines[line][start:start + length], legend.token_types[kind])
    return out


@on_module_loop
async def test_semantic_tokens_of_members_fields_and_types(client: LanguageClient,
                                                           workspace: Path) -> None:
    u, text = open_doc(client, workspace)
    result = await client.text_document_semantic_tokens_full_async(lsp.SemanticTokensParams(
        lsp.TextDocumentIdentifier(u)))
    assert result is not None
    provider = _initialized[0].capabilities.semantic_tokens_provider
    assert isinstance(provider, lsp.SemanticTokensOptions)
    tokens = decode(result.data, provider.legend, text)

    def kind(needle: str, offset: int = 0) -> str:
        at = position_of(text, needle, offset=offset)
        return tokens[(at.line, at.character)][1]

    assert kind("term_benchmark: 7.50%") == "enumMember"
    assert kind("principal", ) == "property"
    assert kind("l.principal", 2) == "property"
    assert kind("list of lender", 8) == "type"
    assert kind("in step_down", 3) == "type"
    assert kind("for each l in", 9) == "parameter"


@on_module_loop
async def test_rename_a_member_everywhere(client: LanguageClient, workspace: Path) -> None:
    u, text = open_doc(client, workspace)
    edit = await client.text_document_rename_async(lsp.RenameParams(
        lsp.TextDocumentIdentifier(u), position_of(text, "base_rate: 6.50%", offset=2),
        "base_rate_loan"))
    assert edit is not None and edit.changes is not None
    lines = text.split("\n")
    for e in sorted(edit.changes[u], key=lambda e: (e.range.start.line,
                                                    e.range.start.character), reverse=True):
        line = lines[e.range.start.line]
        assert line[e.range.start.character:e.range.end.character] == "base_rate"
        lines[e.range.start.line] = (line[:e.range.start.character] + e.new_text
                                     + line[e.range.end.character:])
    renamed = "\n".join(lines)
    assert len(edit.changes[u]) == 2
    assert api.analyse(SourceFile("r.clause", renamed), []).ok
