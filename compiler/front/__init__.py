"""The front end: clause text to the IR.

`parser` (the Lark LALR grammar in `grammar/clause.lark`, every syntax error of a file in
one run), `transform` (parse tree to IR nodes, positions kept), `incremental` (re-parse
only the chunks of a file that changed, for the language server).
"""
