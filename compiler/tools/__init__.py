"""Tools for the people who write clauses: `formatter` (clausec fmt), `testing` and
`coverage` (clausec test), `pytest_plugin`, and the language server in `lsp`."""
