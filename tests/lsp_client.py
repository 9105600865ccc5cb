"""A bare JSON-RPC client of `clausec lsp`: Content-Length framing over a pipe, nothing
else, so that it can send what no LSP library would (`null` params, a position at line
-1, a batch, a body that is not JSON) and see what comes back.

`LspServer` runs the server as a subprocess; `answered(server, message)` is the check a
fuzzer can call with one arbitrary message:

    from lsp_client import LspServer, answered

    with LspServer() as server:
        server.initialize(root)
        assert answered(server, {"jsonrpc": "2.0", "id": 7, "method": "textDocument/hover",
                                 "params": None})

What the server must do with a message, as JSON-RPC 2.0 and the LSP say:
- a request (an object with a "method" and an "id" that is an integer or a string) gets
  exactly one response with that id: a result, or an error (InvalidParams, MethodNotFound,
  InvalidRequest after `shutdown`...);
- a body that is not JSON, a value that is not an object, or an object whose "id" is of
  another type (null, a fraction, a list...) gets one error response with the id null
  (an empty body is no message at all);
- a notification (no "id") and a response (no "method") get no response at all;
- `exit` ends the server.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Self

NULL_ID = "null"


def id_key(value: Any) -> str | None:
    """How a response is matched to its request: the id as JSON, for the ids the server
    answers with (integers and strings); None for an id it cannot answer with."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    return json.dumps(value)


def expected_answer(message: Any) -> str | None:
    """The id key of the one response `message` calls for (NULL_ID for an error about a
    message whose id is unusable), or None when it calls for none."""
    if isinstance(message, (bytes, bytearray)):
        if not message:
            return None  # `Content-Length: 0` frames nothing: there is no message
        try:
            message = json.loads(message)
        except ValueError:
            return NULL_ID
    if not isinstance(message, dict):
        return NULL_ID
    if "id" not in message:
        return None  # a notification, however malformed
    if "method" not in message and ("result" in message or "error" in message):
        return None  # a response to the server: not answered
    return id_key(message["id"]) or NULL_ID


class LspServer:
    """`python -m clausec lsp` (or `command`) and a thread that reads what it writes."""

    def __init__(self, command: list[str] | None = None, env: dict[str, str] | None = None,
                 cwd: Path | None = None, stderr: Any = subprocess.DEVNULL) -> None:
        self.process = subprocess.Popen(
            command or [sys.executable, "-m", "clausec", "lsp"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=stderr, env=env or dict(os.environ), cwd=cwd)
        self._lock = threading.Condition()
        self._responses: dict[str, list[dict[str, Any]]] = {}
        self.counts: collections.Counter[str] = collections.Counter()
        # Diagnostics and log messages: only the last ones, the memory test sends many.
        self.notifications: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=2000)
        self.garbled = 0  # frames that were not JSON (must stay 0)
        self._ids = itertools.count(1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    # --------------------------------------------------------------- writing

    def send(self, message: Any) -> None:
        """Frame and write one message: any JSON value, or bytes sent as the body."""
        body = message if isinstance(message, (bytes, bytearray)) else json.dumps(
            message).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def next_id(self) -> int:
        return next(self._ids) + 1_000_000_000  # apart from ids a fuzzer picks

    def request(self, method: str, params: Any = None, timeout: float = 10.0
                ) -> dict[str, Any] | None:
        """Send a request and wait for its response (None if none came in time)."""
        msg_id = self.next_id()
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.wait(id_key(msg_id) or NULL_ID, 1, timeout)

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def initialize(self, root: Path) -> dict[str, Any]:
        response = self.request("initialize", {
            "processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {},
            "workspaceFolders": [{"uri": root.as_uri(), "name": "root"}]}, timeout=60)
        assert response is not None and "result" in response, response
        self.notify("initialized", {})
        return response["result"]

    # --------------------------------------------------------------- reading

    def wait(self, key: str, count: int, timeout: float) -> dict[str, Any] | None:
        """The `count`-th response with this id key, once it came; None after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.counts[key] < count:
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    return None
                self._lock.wait(min(left, 0.5))
            return self._responses[key][-1]

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    with self._lock:
                        self._lock.notify_all()
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii", "replace").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                continue
            body = stream.read(length)
            try:
                message = json.loads(body)
            except ValueError:
                self.garbled += 1
                continue
            self._received(message)

    def _received(self, message: Any) -> None:
        if not isinstance(message, dict):
            self.garbled += 1
            return
        if "method" in message:
            if "id" in message:  # a request of the server's: answer it, or it waits
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            else:
                self.notifications.append(message)
            return
        key = id_key(message.get("id")) or NULL_ID
        with self._lock:
            answers = self._responses.setdefault(key, [])
            answers.append(message)
            del answers[:-1]  # the last is enough; the counter counts
            self.counts[key] += 1
            self._lock.notify_all()

    # --------------------------------------------------------------- the process

    def rss_kb(self) -> int:
        """The server's resident memory, in kB."""
        with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def close(self, timeout: float = 10.0) -> int | None:
        """Shut down politely if the server is still there, else kill it."""
        if self.alive():
            try:
                self.request("shutdown", timeout=timeout)
                self.notify("exit")
                self.process.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        return self.process.returncode

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


PROBE_METHOD = "$/clausec/probe"  # no such method: MethodNotFound, the cheapest answer


def answered(server: LspServer, message: Any, timeout: float = 10.0) -> bool:
    """Send one arbitrary message (a JSON value, or bytes as the body) to a running server
    and say whether it behaved: a request got exactly one response with its id (or one
    with the id null, for an unusable id or body) within `timeout`, and the server still
    answers afterwards. For `exit`, behaving is exiting."""
    key = expected_answer(message)
    before = server.counts[key] if key is not None else 0
    try:
        server.send(message)
    except OSError:
        return False
    parsed = message
    if isinstance(message, (bytes, bytearray)):
        try:
            parsed = json.loads(message)
        except ValueError:
            parsed = None
    if isinstance(parsed, dict) and parsed.get("method") == "exit" and "id" not in parsed \
            and parsed.get("jsonrpc") == "2.0":
        try:
            server.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    if key is not None and server.wait(key, before + 1, timeout) is None:
        return False
    # A request of its own, answered after everything sent before it: the server lives,
    # and any second answer to `message` would be here by now.
    if server.request(PROBE_METHOD, timeout=timeout) is None:  # MethodNotFound, or after
        return False  # `shutdown` InvalidRequest: an answer either way
    return key is None or server.counts[key] == before + 1


# ------------------------------------------------------------------ workloads

CHURN_AGREEMENT = '''agreement churn "Churn Agreement" {
  party buyer "Buyer"
  party seller "Seller"
}

fact price "Purchase Price": money
fact deposit: money default $1,000
fact signed_on: date

section 1 "Price" {
  text """
    The Net Price is the Purchase Price less the Deposit.
  """
  define net_price "Net Price": money = price - deposit
  define fee: money = round(net_price * 2%, 2)
}

section 2 "Closing" {
  define closing_date: date = signed_on + 10 days
  condition paid = net_price > $0
  obligation pay_price to buyer = buyer must pay net_price to seller by closing_date
}
'''


def churn_text(step: int) -> str:
    """The churned document after `step` edits: a new amount each time, a misspelt name
    (a did-you-mean) every third edit, a half-written declaration every fifth."""
    text = CHURN_AGREEMENT + f"\nsection 3 \"Edit {step}\" {{\n  define extra = ${step:,}\n"
    if step % 3 == 0:
        text += f"  define typo_{step} = net_prise + ${step}\n"
    if step % 5 == 0:
        text += "  define half = \n"
    return text + "}\n"


def churn(server: LspServer, root: Path, messages: int, start: int = 0,
          timeout: float = 30.0) -> int:
    """Send `messages` messages, always the same ones for the same `start`: edits of one
    document of the workspace `root` (a new version each time), hovers and completions
    on it, documents opened, asked about and closed, and files outside the workspace
    asked about without being opened (new ones each cycle: nothing is the same twice).
    Returns how many requests went unanswered."""
    folder = root / "churn"
    folder.mkdir(exist_ok=True)
    outside = root.parent / f"{root.name}_outside"
    outside.mkdir(exist_ok=True)
    agreement = folder / "churn.clause"
    agreement.write_text(CHURN_AGREEMENT, encoding="utf-8")
    main = agreement.as_uri()
    lines = CHURN_AGREEMENT.split("\n")
    spots = [(i, line.index(word) + 1) for i, line in enumerate(lines)
             for word in ("net_price", "price", "buyer", "closing_date") if word in line]
    sent = 0
    version = 1
    unanswered = 0

    def ask(method: str, params: Any) -> None:
        nonlocal sent, unanswered
        sent += 1
        if server.request(method, params, timeout=timeout) is None:
            unanswered += 1

    def tell(method: str, params: Any) -> None:
        nonlocal sent
        sent += 1
        server.notify(method, params)

    tell("textDocument/didOpen", {"textDocument": {
        "uri": main, "languageId": "clause", "version": version, "text": churn_text(0)}})
    cycle = start
    while sent < messages:
        cycle += 1
        line, character = spots[cycle % len(spots)]
        at = {"textDocument": {"uri": main}, "position": {"line": line,
                                                          "character": character}}
        version += 1
        tell("textDocument/didChange", {
            "textDocument": {"uri": main, "version": version},
            "contentChanges": [{"text": churn_text(cycle)}]})
        ask("textDocument/hover", at)
        ask("textDocument/completion", at)
        # Past the end of the line, and of the file: answered, with nothing.
        ask("textDocument/hover", {"textDocument": {"uri": main},
                                   "position": {"line": line, "character": 10_000}})
        ask("textDocument/definition", at)
        other = (folder / f"other_{cycle}.clause").as_uri()
        tell("textDocument/didOpen", {"textDocument": {
            "uri": other, "languageId": "clause", "version": 1,
            "text": churn_text(cycle).replace("churn", f"other_{cycle}")}})
        ask("textDocument/hover", {"textDocument": {"uri": other},
                                   "position": {"line": line, "character": character}})
        ask("textDocument/documentSymbol", {"textDocument": {"uri": other}})
        tell("textDocument/didClose", {"textDocument": {"uri": other}})
        # Files never opened: one on disk, outside the workspace, and one nowhere.
        elsewhere = outside / str(cycle) / "elsewhere.clause"  # alone in its folder
        elsewhere.parent.mkdir(exist_ok=True)
        elsewhere.write_text(churn_text(cycle).replace("churn", f"elsewhere_{cycle}"),
                             encoding="utf-8")
        ask("textDocument/hover", {"textDocument": {"uri": elsewhere.as_uri()},
                                   "position": {"line": line, "character": character}})
        ask("textDocument/hover", {"textDocument": {"uri": (
            root / f"nowhere_{cycle}" / "x.clause").as_uri()},
            "position": {"line": 0, "character": 0}})
    return unanswered


def main(argv: list[str] | None = None) -> int:
    """`python tests/lsp_client.py [ROOT] < messages`: each line of standard input is the
    body of one message, sent as it is (so a line that is not JSON is sent too), to a
    server initialized on the folder ROOT (the current one by default); prints the
    messages the server did not answer as it must, and exits 1 if there was one."""
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else ".").resolve()
    failed = 0
    server = LspServer(cwd=root)
    try:
        server.initialize(root)
        for line in sys.stdin.buffer:
            body = line.rstrip(b"\r\n")
            if not body:
                continue
            if not answered(server, body):
                failed += 1
                print(f"not answered as it must: {body[:200]!r}", flush=True)
            if not server.alive():  # `exit`, as asked: a new server for the next ones
                server.close()
                server = LspServer(cwd=root)
                server.initialize(root)
    finally:
        server.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
