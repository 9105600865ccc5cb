"""Analyses built on the backends: `verify` proves invariants (z3) or searches for
counterexamples, `semdiff` says which answers an amendment changed, `factgen` draws facts
for the searches."""
