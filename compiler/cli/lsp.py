"""`clausec lsp`: the language server (tools/lsp/), over standard input and output.
Needs pygls (clausec[lsp])."""

from __future__ import annotations

import argparse

from clausec.cli.common import EXIT_OK, require


def run(args: argparse.Namespace) -> int:
    require("lsp", "lsp")
    from clausec.tools.lsp.server import build_server

    server = build_server()
    server.start_io()
    return EXIT_OK
