"""`clausec lsp` answers every request, whatever it holds, and keeps its memory bounded.

The server runs as a subprocess and is spoken to in bare JSON-RPC (lsp_client.py), so
that the messages can be anything: `null` params, a position at line -1, a missing
field, an unknown method, a body that is not JSON. A request must get exactly one
response with its id (a result or an error), a notification none, and the server must
go on answering.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import cli_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsp_client import LspServer, answered, churn, expected_answer

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "clauses"

INVALID_PARAMS, METHOD_NOT_FOUND, INVALID_REQUEST, PARSE_ERROR = -32602, -32601, -32600, -32700
NOT_INITIALIZED = -32002


def _methods() -> tuple[list[str], list[str]]:
    """(requests, notifications) the server registers, its own and pygls's, as the
    server itself lists them: a feature added later is fuzzed too."""
    from lsprotocol import types as lsp

    from clausec.tools.lsp.server import build_server

    fm = build_server().protocol.fm
    names = sorted(set(fm.features) | set(fm.builtin_features))
    notifications = {name for name in names
                     if lsp.METHOD_TO_TYPES.get(name, (None, None))[1] is None
                     and name not in (lsp.SHUTDOWN,)}
    return ([n for n in names if n not in notifications], sorted(notifications))


REQUESTS, NOTIFICATIONS = _methods()
# `shutdown` ends the session: test_before_initialize_and_after_shutdown has it.
FUZZED_REQUESTS = [r for r in REQUESTS if r != "shutdown"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lsp_robustness")
    shutil.copytree(SEEDS / "patent_purchase", root / "patent_purchase")
    return root


def amendment_uri(workspace: Path) -> str:
    return (workspace / "patent_purchase" / "amendment_2004_03_31.clause").as_uri()


def start(workspace: Path, initialize: bool = True) -> LspServer:
    server = LspServer(env=cli_env(), cwd=workspace)
    if initialize:
        server.initialize(workspace)
    return server


@pytest.fixture(scope="module")
def server(workspace: Path) -> Iterator[LspServer]:
    with start(workspace) as running:
        path = workspace / "patent_purchase" / "amendment_2004_03_31.clause"
        running.notify("textDocument/didOpen", {"textDocument": {
            "uri": path.as_uri(), "languageId": "clause", "version": 1,
            "text": path.read_text()}})
        yield running


def request(server: LspServer, method: str, params: Any) -> dict[str, Any]:
    response = server.request(method, params, timeout=30)
    assert response is not None, f"{method} {params!r}: no answer"
    return response


def error_of(response: dict[str, Any]) -> tuple[int, str]:
    assert "error" in response, response
    return response["error"]["code"], response["error"]["message"]


# --------------------------------------------------- the review's unanswered requests


def test_invalid_params_are_answered_with_what_is_wrong(server: LspServer,
                                                        workspace: Path) -> None:
    doc = {"uri": amendment_uri(workspace)}
    cases: list[tuple[str, Any, str]] = [
        ("textDocument/hover", {"textDocument": doc, "position": {"line": -1, "character": 0}},
         "params.position: Position.line should be in range"),
        ("textDocument/hover", {"textDocument": doc,
                                "position": {"line": 0, "character": 2 ** 31}},
         "Position.character should be in range"),
        ("textDocument/definition", None, "params: required field missing"),
        ("textDocument/references", [], "params.textDocument"),
        ("textDocument/completion", {"textDocument": doc},
         "params.position: required field missing"),
        ("textDocument/hover", {"textDocument": {"uri": 7},
                                "position": {"line": "two", "character": 0}},
         "params.position.line: expected an integer"),
        ("textDocument/formatting", {"textDocument": doc,
                                     "options": {"tabSize": -1, "insertSpaces": True}},
         "FormattingOptions.tab_size should be in range"),
        ("textDocument/rename", {"textDocument": doc, "position": {"line": 0, "character": 0}},
         "params.newName: required field missing"),
    ]
    for method, params, why in cases:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": server.next_id(), "method": method}
        if params is not None:
            message["params"] = params
        server.send(message)
        response = server.wait(json.dumps(message["id"]), 1, 30)
        assert response is not None, (method, params)
        code, text = error_of(response)
        assert code == INVALID_PARAMS and text.startswith(f"{method}: invalid params: "), text
        assert why in text, (why, text)


def test_unknown_methods_and_methods_not_served(server: LspServer, workspace: Path) -> None:
    for method in ("textDocument/rangeFormatting", "textDocument/codeAction",
                   "textDocument/signatureHelp", "$/anything", "no such method", ""):
        code, text = error_of(request(server, method, {"textDocument": {"uri": "x"}}))
        assert code == METHOD_NOT_FOUND and method in text
    # without params too (pygls could not even read those)
    assert error_of(request(server, "$/ping", None))[0] == METHOD_NOT_FOUND


def test_positions_past_the_end_are_the_end(server: LspServer, workspace: Path) -> None:
    path = workspace / "patent_purchase" / "amendment_2004_03_31.clause"
    lines = path.read_text().split("\n")
    line = lines.index("  fact board_approved_at_meeting_on")
    doc = {"uri": path.as_uri()}
    at_end = request(server, "textDocument/hover", {
        "textDocument": doc, "position": {"line": line, "character": len(lines[line])}})
    past = request(server, "textDocument/hover", {
        "textDocument": doc, "position": {"line": line, "character": 2 ** 31 - 1}})
    assert at_end["result"] is not None and past["result"] == at_end["result"]
    beyond = request(server, "textDocument/completion", {
        "textDocument": doc, "position": {"line": 2 ** 31 - 1, "character": 2 ** 31 - 1}})
    assert beyond["result"]["items"]
    for method in ("textDocument/definition", "textDocument/references"):
        found = request(server, method, {
            "textDocument": doc, "position": {"line": 10 ** 6, "character": 0},
            "context": {"includeDeclaration": True}})
        assert isinstance(found["result"], list)


def test_documents_not_open_unknown_or_not_files(server: LspServer, workspace: Path) -> None:
    agreement = workspace / "patent_purchase" / "patent_purchase.clause"
    text = agreement.read_text()
    # Never opened: read from disk, and answered as the file says.
    symbols = request(server, "textDocument/documentSymbol",
                      {"textDocument": {"uri": agreement.as_uri()}})
    assert any(s["name"] == "patent_purchase" for s in symbols["result"])
    at = text.split("\n").index(next(x for x in text.split("\n") if "define purchase_price"
                                     in x))
    hover = request(server, "textDocument/hover", {
        "textDocument": {"uri": agreement.as_uri()}, "position": {"line": at, "character": 10}})
    assert "purchase_price" in hover["result"]["contents"]["value"]
    for uri in ("file:///nowhere/at/all.clause", "untitled:Untitled-1", "http://x/y.clause",
                "file:", "file:///dev/zero", "file:///%00.clause", "", "file:///" + "a" * 5000,
                (workspace / "patent_purchase").as_uri()):
        for method in ("textDocument/hover", "textDocument/completion",
                       "textDocument/formatting", "textDocument/semanticTokens/full",
                       "textDocument/documentSymbol", "textDocument/prepareRename"):
            response = request(server, method, {
                "textDocument": {"uri": uri}, "position": {"line": 0, "character": 0},
                "options": {"tabSize": 2, "insertSpaces": True}})
            assert "result" in response, (uri, method, response)


def test_messages_that_are_not_requests(server: LspServer) -> None:
    cases: list[tuple[Any, int]] = [
        (b"{not json", PARSE_ERROR), (b"\xff\xfe\x00", PARSE_ERROR),
        ([{"jsonrpc": "2.0", "id": 1, "method": "shutdown"}], INVALID_REQUEST),  # a batch
        (42, INVALID_REQUEST), ("shutdown", INVALID_REQUEST), (None, INVALID_REQUEST),
        ({"jsonrpc": "2.0", "id": [1], "method": "shutdown"}, INVALID_REQUEST),
        ({"jsonrpc": "2.0", "id": None, "method": "shutdown"}, INVALID_REQUEST),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "shutdown"}, INVALID_REQUEST),
        ({"jsonrpc": "2.0", "id": True, "method": "shutdown"}, INVALID_REQUEST),
    ]
    for message, code in cases:
        before = server.counts["null"]
        server.send(message)
        response = server.wait("null", before + 1, 30)
        assert response is not None, message
        assert error_of(response)[0] == code, (message, response)
        assert answered(server, {"jsonrpc": "2.0", "id": server.next_id(), "method": "$/x"})
    for message in ({"id": 8, "method": "shutdown"}, {"jsonrpc": "1.0", "id": 9,
                                                      "method": "shutdown"},
                    {"jsonrpc": "2.0", "id": 10, "method": ["shutdown"]},
                    {"jsonrpc": "2.0", "id": 11}):
        server.send(message)
        response = server.wait(json.dumps(message["id"]), 1, 30)
        assert response is not None and error_of(response)[0] == INVALID_REQUEST, message
    assert server.garbled == 0


def test_bad_notifications_are_dropped_without_an_answer(server: LspServer,
                                                          workspace: Path) -> None:
    uri = amendment_uri(workspace)
    responses = sum(server.counts.values())
    for message in [
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": None},
        {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": 2}, "contentChanges": [{
                "range": {"start": {"line": 9, "character": 0},
                          "end": {"line": 2, "character": 0}}, "text": "x"}]}},  # reversed
        {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": "file:///never/opened.clause", "version": 2},
            "contentChanges": [{"text": "x"}]}},
        {"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {
            "textDocument": {"uri": "file:///never/opened.clause"}}},
        {"jsonrpc": "2.0", "method": "textDocument/didSave", "params": {
            "textDocument": {"uri": "file:///dev/zero"}}},
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": [1]}},
        {"jsonrpc": "2.0", "method": "initialized", "params": []},
        {"jsonrpc": "2.0", "method": "no/such/notification"},
        {"jsonrpc": "2.0", "method": 5},
        {"method": "textDocument/didOpen"},
    ]:
        assert answered(server, message), message
    assert sum(server.counts.values()) == responses + 10  # the probes' answers only
    # The document the reversed range went to is put back as it was.
    path = workspace / "patent_purchase" / "amendment_2004_03_31.clause"
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                             "contentChanges": [{"text": path.read_text()}]})


def test_before_initialize_and_after_shutdown(workspace: Path) -> None:
    with start(workspace, initialize=False) as server:
        code, _ = error_of(request(server, "textDocument/hover", {
            "textDocument": {"uri": amendment_uri(workspace)},
            "position": {"line": 0, "character": 0}}))
        assert code == NOT_INITIALIZED
        assert error_of(request(server, "initialize", {"processId": "me"}))[0] == \
            INVALID_PARAMS
        server.initialize(workspace)
        assert "result" in request(server, "shutdown", None)
        for method in ("textDocument/hover", "shutdown", "$/x"):
            code, text = error_of(request(server, method, {}))
            assert code == INVALID_REQUEST and "shutting down" in text
        server.notify("exit")
        assert server.process.wait(30) == 0


# --------------------------------------------------------------- fuzzed messages

URIS = ["file:///nowhere/x.clause", "untitled:Untitled-1", "http://example.com/a.clause",
        "file:", "file:///dev/zero", "file:///%00", "", "\ud800", "file:///" + "é" * 300]
WEIRD: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.sampled_from([-1, 0, 2 ** 31 - 1, 2 ** 31, 2 ** 63,
                                               -2 ** 63, 10 ** 30, 1.5, -0.0, 1e308]),
    st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40), st.sampled_from(URIS), st.just([]), st.just({}),
    st.lists(st.integers(), max_size=3))
KEYS = st.sampled_from(["textDocument", "position", "line", "character", "uri", "options",
                        "tabSize", "insertSpaces", "context", "includeDeclaration",
                        "newName", "text", "version", "contentChanges", "range", "id",
                        "value", "command", "arguments", "event", "token", "x"])
JSON: st.SearchStrategy[Any] = st.recursive(
    WEIRD, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                   st.dictionaries(KEYS, inner, max_size=4)), max_leaves=12)


def template(method: str, uri: str) -> dict[str, Any]:
    """Params the method takes, for a document of the workspace: mutated, they are
    nearly right, which reaches deeper than noise does."""
    at = {"line": 12, "character": 8}
    return {"textDocument": {"uri": uri, "version": 5, "languageId": "clause",
                             "text": "agreement x {\n}\n"}, "position": at,
            "context": {"includeDeclaration": True}, "newName": "renamed",
            "options": {"tabSize": 2, "insertSpaces": True},
            "contentChanges": [{"text": "agreement y {\n}\n"}],
            "range": {"start": at, "end": {"line": 1, "character": 0}}}


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    params = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        holder: Any = params
        while True:
            keys = list(holder) if isinstance(holder, dict) else []
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            if isinstance(holder[key], dict) and draw(st.booleans()):
                holder = holder[key]
                continue
            if draw(st.integers(0, 3)) == 0:
                del holder[key]
            else:
                holder[key] = draw(WEIRD)
            break
    return params


UNKNOWN = ["textDocument/rangeFormatting", "textDocument/codeAction",
           "textDocument/signatureHelp", "$/x", "unknown/method", "", "textDocument/hover\x00"]


@st.composite
def params_for(draw: st.DrawFn, method: str, uri: str) -> Any:
    if method == "initialize" or draw(st.integers(0, 3)) == 0:
        return draw(JSON)  # (a right `initialize` would start the session over)
    return draw(mutated(template(method, uri)))


@st.composite
def fuzzed_request(draw: st.DrawFn, uri: str) -> dict[str, Any]:
    method = draw(st.sampled_from(FUZZED_REQUESTS * 3 + UNKNOWN))
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": draw(st.integers(1, 10 ** 6) |
                                                            st.text(min_size=1, max_size=8)),
                               "method": method}
    if draw(st.integers(0, 9)) > 0:
        message["params"] = draw(params_for(method, uri))
    return message


@st.composite
def fuzzed_notification(draw: st.DrawFn, uri: str) -> dict[str, Any]:
    method = draw(st.sampled_from([n for n in NOTIFICATIONS if n != "exit"]) |
                  st.sampled_from(["$/cancelRequest", "$/setTrace", "no/such"]))
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if draw(st.integers(0, 9)) > 0:
        # Not to the open document: its text is what the other tests ask about.
        message["params"] = draw(params_for(method, uri.replace("amendment", "scratch")))
    return message


FUZZ = settings(max_examples=400, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(data=st.data())
def test_every_request_gets_exactly_one_answer(server: LspServer, workspace: Path,
                                               data: st.DataObject) -> None:
    message = data.draw(fuzzed_request(amendment_uri(workspace)))
    started = time.monotonic()
    assert answered(server, message, timeout=10), message
    assert time.monotonic() - started < 20
    response = server.wait(expected_answer(message) or "", 1, 0)
    assert response is not None and ("result" in response) != ("error" in response)


@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_bad_notifications_leave_the_server_answering(server: LspServer, workspace: Path,
                                                      data: st.DataObject) -> None:
    message = data.draw(fuzzed_notification(amendment_uri(workspace)))
    assert answered(server, message, timeout=10), message


@settings(FUZZ, max_examples=150)
@given(message=st.one_of(
    JSON, st.binary(max_size=30),
    st.fixed_dictionaries(
        {"jsonrpc": st.sampled_from(["2.0", "1.0", 2]) | WEIRD, "id": WEIRD,
         "method": st.sampled_from(REQUESTS + NOTIFICATIONS) | WEIRD},
        optional={"params": JSON, "result": JSON, "error": JSON})))
def test_any_message_at_all(server: LspServer, message: Any) -> None:
    if isinstance(message, dict) and message.get("method") in ("exit", "shutdown",
                                                               "initialize"):
        message["method"] = "textDocument/hover"
    assert answered(server, message, timeout=10), message
    assert server.alive() and server.garbled == 0


# ------------------------------------------------------------------------ memory


def test_memory_stays_bounded_over_ten_thousand_messages(tmp_path: Path) -> None:
    """Edits, hovers and completions of one document, documents opened and closed,
    files asked about and never opened: after a warm-up, the server's memory stops
    growing (before the bound, it grew by about 13 MB every 1,000 messages)."""
    root = tmp_path / "workspace"
    root.mkdir()
    with start(root) as server:
        assert churn(server, root, 1_000) == 0
        warm = server.rss_kb()
        assert churn(server, root, 9_000, start=1_000) == 0
        grown = server.rss_kb() - warm
        assert server.alive() and server.garbled == 0
    assert grown < 25 * 1024, f"the server grew by {grown // 1024} MB"


def test_the_protocol_keeps_nothing_per_message_and_answers_what_does_not_serialise(
        tmp_path: Path) -> None:
    """In-process, to see inside: pygls kept the future of each notification its own
    handlers take (didOpen, didChange, didClose) for ever; and an answer that does not
    serialise was logged and never sent."""
    import asyncio

    from clausec.tools.lsp.server import build_server

    written: list[dict[str, Any]] = []

    class Writer:
        def write(self, data: bytes) -> None:
            written.append(json.loads(data.split(b"\r\n\r\n", 1)[1]))

        def close(self) -> None:
            pass

    async def session() -> Any:
        protocol = build_server().protocol
        protocol.set_writer(Writer())
        protocol.handle_message({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": None, "capabilities": {}, "rootUri": tmp_path.as_uri()}})
        for i in range(200):
            uri = (tmp_path / f"doc_{i % 7}.clause").as_uri()
            for method, params in (
                    ("textDocument/didOpen", {"textDocument": {
                        "uri": uri, "languageId": "clause", "version": 1,
                        "text": f"agreement doc_{i} {{\n}}\n"}}),
                    ("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                                "contentChanges": [{"text": "define x = 1\n"}]}),
                    ("textDocument/didClose", {"textDocument": {"uri": uri}})):
                protocol.handle_message({"jsonrpc": "2.0", "method": method, "params": params})
            await asyncio.sleep(0)
        await asyncio.sleep(0.1)
        protocol._send_response(99, result=object())
        return protocol

    protocol = asyncio.run(session())
    assert protocol._request_futures == {}
    assert written[0]["id"] == 1 and "capabilities" in written[0]["result"]
    assert written[-1]["id"] == 99 and written[-1]["error"]["code"] == -32603


def test_workspace_keeps_a_bounded_state_of_closed_files(tmp_path: Path) -> None:
    from lsp_client import churn_text

    from clausec.tools.lsp.workspace import CLOSED_FILES, GOOD_RESULTS, Workspace

    ws = Workspace([tmp_path])
    for i in range(3 * CLOSED_FILES):
        path = tmp_path / f"doc_{i}.clause"
        ws.open(path, churn_text(i).replace("churn", f"doc_{i}"))
        ws.analyse(path)
        ws.index(path)
        ws.close(path)
        ws.index(tmp_path / f"never_opened_{i}.clause")
    assert not ws.documents and len(ws._open) == 0
    assert len(ws._closed) <= CLOSED_FILES and len(ws.good) <= GOOD_RESULTS
    # The workspace is searched, but not the folders of tools.
    for folder in ("sub/deeper", ".git", "node_modules/x"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "found.clause").write_text("agreement found {\n}\n")
    near = tmp_path / "elsewhere" / "x.clause"
    assert [f for f in ws.clause_files(near) if f.name == "found.clause"] == [
        (tmp_path / "sub/deeper/found.clause").resolve()]
    # A document opened again takes up its state where it was left.
    path = tmp_path / f"doc_{3 * CLOSED_FILES - 1}.clause"
    front = ws.front(path)
    ws.open(path, "agreement x {\n}\n")
    assert ws.front(path) is front and len(ws._open) == 1
