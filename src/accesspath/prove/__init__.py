"""Proofs over every request of an environment: the engine's semantics as SMT formulas (z3).

``prove.properties.prove`` decides a property (docs/prove.md); ``prove.diff.diff`` compares two states.
"""
