"""Hostile inputs for every command, shared by the fuzz tests and `benchmarks/fuzz.py`.

A case is one command run on one input: a clause file (a seed contract or a fixture,
mutated, or a hostile text), under a hostile file name, with hostile facts for `eval`.
`run_case` runs it in this process through `clausec.cli.main` (the language server in
a subprocess, through `LspClient`) and says whether clausec kept its promise: exit code
0 or 1, no traceback, no "internal error", an answer within the time limit.

Everything is drawn from a `random.Random`, so a case is reproduced from its seed; the
tests drive the seed from hypothesis, the benchmark counts through seeds.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASES = sorted([ROOT / "tests" / "data" / "all_constructs.clause",
                *(ROOT / "clauses").rglob("*.clause")])
BASE_TEXTS = {p.name: p.read_text(encoding="utf-8") for p in BASES}
# The files that go with each base (an agreement's amendments and tests), unmutated: with
# them, `test` runs tests and `eval` reaches past "no agreement here".
SIBLINGS = {p.name: tuple((q.name, q.read_text(encoding="utf-8"))
                          for q in sorted(p.parent.glob("*.clause")) if q != p)
            if p.parent.parent == ROOT / "clauses" else () for p in BASES}
EXAMPLE_FACTS = {p.name: p.read_text(encoding="utf-8")
                 for p in sorted((ROOT / "clauses" / "examples").glob("*.json"))}

COMMANDS = ("check", "compile", "fmt", "test", "summarize", "eval", "agenda", "lsp")

# Text a hostile user (or a broken tool) puts in a file.
HOSTILE_SNIPPETS = [
    "(" * 600 + "1" + ")" * 600,
    "[" * 500 + "]" * 500,
    "x + " * 400 + "x",
    "all of [" * 300 + "true" + "]" * 300,
    "not " * 2000 + "true",
    "9" * 6000,
    "1E999999999",
    "1E-999999999",
    "$" + "9" * 60 + ".01",
    "0.000000000000000000000000000000000001",
    "\x00", "\ufeff", "\u2028", "\u2029", "\x85", "\r", "\r\n", "\x0b", "\x1b[31m",
    "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    '"""' + "a" * 20000 + '"""',
    '"""', '"\\', "\\N{BULLET}", "{{ 7*7 }}", "<script>alert(1)</script>",
    "__import__('os').system('true')", "'; DROP TABLE facts; --",
    "\n" * 500, " " * 5000, "\t" * 100,
    "section " + "1." * 300 + "1 {",
    "define " + "a" * 5000 + " = 1",
    "2004-02-30", "9999-12-31", "0001-01-01", "2004-01-01 25:61 Mars/Olympus",
]

_TOKEN = re.compile(r"\s+|[A-Za-z_][A-Za-z0-9_]*|[0-9][0-9_.,]*|\"\"\"|.", re.DOTALL)
_INSERTABLE = ["{", "}", "(", ")", "[", "]", ",", ":", "=", "+", "-", "*", "/", "^", '"',
               "when", "unless", "all of", "any of", "not", "if", "then", "else", "define",
               "condition", "fact", "section", "test", "expect", "given", "as of", "x", "1",
               '"s"', "\n", "(a)", "2004-01-01", "$1", "15%", "days after", "business days"]

# File names: the name ends up in diagnostics, in generated code and in summaries.
HOSTILE_NAMES = [
    "contract.clause", "with space.clause", "quote'\"s.clause", "new\nline.clause",
    "p\nimport os; os.system('touch /tmp/clausec-fuzz-pwned')\n#.clause",
    "cr\rreturn.clause", "ls\u2028sep.clause", "nel\x85.clause", "tab\t.clause",
    "ünïcødé-合同.clause", "emoji-📜.clause", "back\\slash.clause", "{{x}}.clause",
    "<b>tag</b>.clause", "$(whoami).clause", "`id`.clause", "-leading-dash.clause",
    "a" * 200 + ".clause", ".hidden.clause", "no-suffix", "x.CLAUSE", "x.clause.clause",
]

# Values of facts: well-formed ones of each type, and hostile ones.
FACT_VALUES: list[Any] = [
    True, False, 0, 1, -1, 42, "2004-03-30", "2004-02-30", "2011-06-14T17:00:00-04:00",
    "1800000", "1,800,000", "$1,800,000.00", "7.5%", "seller", "buyer", "", "x" * 10000,
    None, [], {}, [1, 2], {"a": 1}, 1.5, 1e308, "NaN", "Infinity", "-0", "1E999999999",
    "9" * 5000,
]
HOSTILE_FACT_FILES = [
    "[" * 200_000 + "]" * 200_000,
    '{"x": ' + "9" * 5000 + "}",
    '{"x": ' + "[" * 5000 + "]" * 5000 + "}",
    '{"x": NaN}', '{"x": Infinity}', '{"x": 1e999999}', "null", "[]", '"text"', "",
    "{", '{"a": 1, "a": 2}', "\x00", '{"\\ud800": 1}', "\ufeff{}",
]


@dataclass(frozen=True)
class Case:
    """One command on one input."""

    command: str
    file_name: str
    text: str
    base: str
    facts: str = "{}"
    name: str = "x"
    args: tuple[str, ...] = ()
    siblings: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        return (f"clausec {self.command} on {self.file_name!r} (from {self.base}); "
                f"name={self.name!r}, {len(self.text)} characters, facts "
                f"{self.facts[:80]!r}")


@dataclass
class Outcome:
    """What a case did: `ok` is False when clausec broke a promise."""

    exit_code: int | None
    output: str
    seconds: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def mutate(text: str, rng: random.Random) -> str:
    """One to three edits of the kinds a typing user makes, or a hostile snippet."""
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(["char", "line", "token", "duplicate", "swap", "insert", "hostile",
                           "truncate"])
        lines = text.split("\n")
        if kind == "char" and text:
            i = rng.randrange(len(text))
            text = text[:i] + text[i + 1:]
        elif kind == "line":
            del lines[rng.randrange(len(lines))]
            text = "\n".join(lines)
        elif kind == "token":
            tokens = [m.span() for m in _TOKEN.finditer(text) if not m.group(0).isspace()]
            if tokens:
                a, b = rng.choice(tokens)
                text = text[:a] + text[b:]
        elif kind == "duplicate":
            i = rng.randrange(len(lines))
            text = "\n".join(lines[:i + 1] + lines[i:])
        elif kind == "swap":
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif kind == "truncate":
            text = text[:rng.randrange(len(text) + 1)]
        else:
            i = rng.randrange(len(text) + 1)
            word = rng.choice(HOSTILE_SNIPPETS if kind == "hostile" else _INSERTABLE)
            text = text[:i] + " " + word + " " + text[i:]
    return text


def _names_in(text: str) -> list[str]:
    found = re.findall(r"^\s*(?:define|condition|obligation|power|fact|invariant)\s+"
                       r"([A-Za-z_][A-Za-z0-9_]*)", text, re.MULTILINE)
    return found or ["x"]


def _facts(text: str, rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(HOSTILE_FACT_FILES)
    if rng.random() < 0.3:
        return rng.choice(sorted(EXAMPLE_FACTS.values()))
    facts = re.findall(r"^\s*fact\s+([A-Za-z_][A-Za-z0-9_]*)", text, re.MULTILINE)
    data = {name: rng.choice(FACT_VALUES) for name in facts if rng.random() < 0.7}
    if rng.random() < 0.2:
        data["no_such_fact"] = 1
    return json.dumps(data)


def make_case(rng: random.Random, command: str | None = None) -> Case:
    command = command or rng.choice(COMMANDS)
    base = rng.choice(sorted(BASE_TEXTS))
    text = BASE_TEXTS[base]
    if rng.random() < 0.85:
        text = mutate(text, rng)
    with_siblings = rng.random() < 0.5 and bool(SIBLINGS[base])
    file_name = base if with_siblings or rng.random() < 0.7 else rng.choice(HOSTILE_NAMES)
    names = _names_in(text + "".join(t for _, t in SIBLINGS[base] if with_siblings))
    return Case(command=command, file_name=file_name, text=text, base=base,
                facts=_facts(text, rng), name=rng.choice(names),
                siblings=SIBLINGS[base] if with_siblings else (),
                args=tuple(rng.choice(["2008", "x", "-1", "9" * 50, ""])
                           for _ in range(rng.randint(0, 1))))


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so clausec's own handlers cannot swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` (main thread only, as under pytest)."""
    def ring(signum: int, frame: object) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _write(folder: Path, case: Case) -> Path | None:
    """The case's file (and its siblings); the path to give the command: the folder when
    the file has siblings, so that an agreement is read with its amendments and tests."""
    try:
        path = folder / case.file_name
        path.write_text(case.text, encoding="utf-8", errors="surrogatepass")
        for name, text in case.siblings:
            (folder / name).write_text(text, encoding="utf-8")
        return folder if case.siblings else path
    except (OSError, ValueError, UnicodeError):
        return None  # a name this file system refuses: nothing to run


def _argv(case: Case, path: Path, folder: Path) -> list[str]:
    if case.command == "check":
        return ["check", str(path)]
    if case.command == "compile":
        return ["compile", str(path), "-o", str(folder / "out")]
    if case.command == "fmt":
        return ["fmt", "--check", str(path)] if len(case.text) % 2 else ["fmt", str(path)]
    if case.command == "test":
        return ["test", str(path)]
    if case.command == "summarize":
        formats = ("markdown", "html", "text")
        return ["summarize", str(path), "--format", formats[len(case.text) % 3],
                "-o", str(folder / "summary.out")]
    facts = folder / "facts.json"
    facts.write_text(case.facts, encoding="utf-8", errors="surrogatepass")
    if case.command == "agenda":
        formats = ("text", "json", "ics")
        return ["agenda", str(path), "--facts", str(facts), "--from", "2008-01-01",
                "--to", "2010-12-31", "--as-of", "2009-06-30",
                "--format", formats[len(case.text) % 3], "-o", str(folder / "agenda.out")]
    return ["eval", str(path), case.name, *case.args, "--facts", str(facts), "--explain"]


def run_case(case: Case, folder: Path, *, seconds: float = 60.0,
             lsp: LspClient | None = None) -> Outcome:
    """Run `case` with its files in `folder` (empty, owned by the caller)."""
    if case.command == "lsp":
        assert lsp is not None, "the lsp command needs a running server"
        return lsp.run(case, seconds=seconds)
    path = _write(folder, case)
    if path is None:
        return Outcome(None, "", 0.0)
    from clausec import cli

    stream = io.StringIO()
    start = time.perf_counter()
    problems: list[str] = []
    exit_code: int | None = None
    try:
        with time_limit(seconds), contextlib.redirect_stdout(stream), \
                contextlib.redirect_stderr(stream):
            exit_code = cli.main(_argv(case, path, folder))
    except Hang as error:
        problems.append(str(error))
    except SystemExit as error:  # argparse: a usage error is exit 2 by its convention
        exit_code = error.code if isinstance(error.code, int) else 1
        if exit_code != 2:
            problems.append(f"SystemExit({error.code!r})")
    except MemoryError:
        problems.append("out of memory")
    seconds_taken = time.perf_counter() - start
    output = stream.getvalue()
    if exit_code not in (0, 1, 2, None) or (exit_code == 2 and "internal error" in output):
        problems.append(f"exit code {exit_code}")
    for sign in ("internal error", "Traceback (most recent call last)"):
        if sign in output:
            problems.append(f"printed {sign!r}")
    if Path("/tmp/clausec-fuzz-pwned").exists():
        problems.append("code from the input ran")
    return Outcome(exit_code, output, seconds_taken, problems)


class LspClient:
    """`clausec lsp` in a subprocess, spoken to over stdio with JSON-RPC framing."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clausec", "lsp"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=root)
        self.answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.next_id = 0
        self.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(),
                                    "capabilities": {}}, seconds=60)
        self.notify("initialized", {})

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = 0
            while True:
                line = stdout.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(stdout.read(length))
            if "id" in message and "method" not in message:
                self.answers.put(message)
            elif "id" in message:  # a request of the server's own: answer it
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode("utf-8")
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any, seconds: float = 30.0) -> dict[str, Any] | None:
        """The answer to one request, or None when none came within `seconds`."""
        self.next_id += 1
        self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        deadline = time.monotonic() + seconds
        while True:
            try:
                answer = self.answers.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if answer.get("id") == self.next_id:
                return answer

    def run(self, case: Case, seconds: float) -> Outcome:
        """Open the case's text, ask what an editor asks, at sane and insane places."""
        uri = (self.root / case.file_name).as_uri()
        start = time.perf_counter()
        problems: list[str] = []
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "clause", "version": 1, "text": case.text}})
        lines = case.text.split("\n")
        places = [(0, 0), (len(lines) // 2, 3), (len(lines) - 1, 10**6), (-1, 5),
                  (2**31, 2**31)]
        requests: list[tuple[str, Any]] = []
        for line, character in places:
            at = {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}
            requests += [("textDocument/hover", at), ("textDocument/definition", at),
                         ("textDocument/completion", at)]
        requests += [("textDocument/formatting", {"textDocument": {"uri": uri},
                                                  "options": {"tabSize": 2,
                                                              "insertSpaces": True}}),
                     ("textDocument/documentSymbol", {"textDocument": {"uri": uri}}),
                     ("textDocument/hover", None)]
        for method, params in requests:
            if self.request(method, params, seconds) is None:
                # The editor would wait forever: one such request fails the case.
                problems.append(f"no answer to {method} with {json.dumps(params)[:200]}")
                break
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        if self.process.poll() is not None:
            problems.append(f"the server exited with {self.process.returncode}")
        return Outcome(0, "", time.perf_counter() - start, problems)

    def rss_kib(self) -> int:
        """The server's resident memory, from /proc."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.request("shutdown", None, seconds=5)
            self.notify("exit", None)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
