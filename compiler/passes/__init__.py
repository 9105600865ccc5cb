"""Passes over the IR, as plain functions: `consolidate` applies amendments in
effective-date order and yields every version of an agreement; `check` resolves names,
infers and checks types, finds cycles and conflicts, and hands each version on as a
`CheckedProgram` that every backend reads.
"""
