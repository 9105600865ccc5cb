"""Latency of `clausec lsp`: from an edit to its diagnostics, on a 5,000-line file.

Starts the server over stdio as an editor would (a pygls client), opens a generated
agreement of about 5,000 lines (the file of compile_throughput.py), then applies edits one
at a time, each in another section, and measures the time from sending didChange to
receiving publishDiagnostics. Every other edit introduces an error (an unknown name),
the next one removes it again. Prints median and p90, and, as a baseline measured in
the same run, the time of `api.analyse` (parse, IR, check; no code generation) on the
same text in-process, with the ratio.

    python benchmarks/lsp_latency.py [--lines 5000] [--edits 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from compile_throughput import large_clause_file
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from clausec import api
from clausec.front import parser
from clausec.source import SourceFile

LINES_PER_SECTION = 12  # what large_clause_file writes per section


def edits(text: str, count: int) -> list[str]:
    """Texts after each edit, in sections spread over the file: an unknown name put in
    (a typo, as while typing), then taken out again by the next edit, which also changes
    a price in another section."""
    out = []
    sections = text.count("define price_")
    current = text
    typo: tuple[str, str] | None = None
    for n in range(count):
        i = (n * 37) % sections
        if typo is not None:
            current = current.replace(typo[1], typo[0], 1)
            typo = None
        if n % 2 == 0:
            old = f"define price_{i}: money = "
            current = current.replace(old, old + f"${n} + ", 1)
        else:
            good = f"condition ok_{i} = all of [(a) approved_{i}"
            typo = (good, good.replace("approved", "aproved"))
            current = current.replace(*typo, 1)
        out.append(current)
    return out


async def measure(text: str, versions: list[str]) -> list[float]:
    client = LanguageClient("lsp-latency", "1")
    arrived: asyncio.Queue[lsp.PublishDiagnosticsParams] = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        arrived.put_nowait(params)

    await client.start_io(sys.executable, "-m", "clausec", "lsp")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.clause"
        path.write_text(text)
        uri = path.as_uri()
        await client.initialize_async(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(), root_uri=Path(folder).as_uri()))
        client.initialized(lsp.InitializedParams())
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=uri, language_id="clause", version=1, text=text)))
        await arrived.get()  # the first analysis parses everything: not an edit
        times = []
        for n, version in enumerate(versions, start=2):
            start = time.perf_counter()
            client.text_document_did_change(lsp.DidChangeTextDocumentParams(
                lsp.VersionedTextDocumentIdentifier(uri=uri, version=n),
                [lsp.TextDocumentContentChangeWholeDocument(version)]))
            while (await arrived.get()).uri != uri:
                pass
            times.append(time.perf_counter() - start)
        await client.shutdown_async(None)
        client.exit(None)
    await client.stop()
    return times


def baseline(versions: list[str]) -> list[float]:
    parser.lark_parser()
    times = []
    for version in versions[:5]:
        start = time.perf_counter()
        api.analyse(SourceFile("big.clause", version))
        times.append(time.perf_counter() - start)
    return times


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--lines", type=int, default=5000)
    args.add_argument("--edits", type=int, default=30)
    ns = args.parse_args()
    text = large_clause_file(ns.lines // LINES_PER_SECTION)
    versions = edits(text, ns.edits)
    times = asyncio.run(measure(text, versions))
    base = baseline(versions)
    median, slow = statistics.median(times), p90(times)
    base_median = statistics.median(base)
    print(f"file: {text.count(chr(10)):,} lines; {len(times)} edits, each in another section")
    print(f"edit -> publishDiagnostics: median {median * 1000:.0f} ms, "
          f"p90 {slow * 1000:.0f} ms (target: under 150 ms)")
    print(f"baseline: api.analyse of the whole text in-process: median "
          f"{base_median * 1000:.0f} ms; server / baseline = {median / base_median:.2f}x")


if __name__ == "__main__":
    main()
