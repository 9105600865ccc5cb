"""Backends: one IR, several readings of it.

`python` generates a standalone module (codegen and the runtime pasted into it);
`english` words the logic for people (summaries, explanations, templates); `smt`
translates it to z3 where the translation is exact; `interpret` evaluates the IR
directly, an independent check of the generated code.
"""
