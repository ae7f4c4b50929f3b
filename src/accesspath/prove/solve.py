"""Asking the solver about cases: is there a request in this case that reaches a goal?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import z3

from accesspath.environment.decide import Decider
from accesspath.prove.authorizer import SymbolicDecision, decide
from accesspath.prove.space import Case
from accesspath.prove.symbols import Unsupported
from accesspath.prove.witness import Witness, witness_from_model

# Per case; the whole question has its own budget in the callers.
CASE_TIMEOUT_MS = 5_000


@dataclass(frozen=True)
class CaseAnswer:
    """``found`` with a witness, ``none`` (no request of the case reaches the goal), or ``unknown``."""

    status: str
    witness: Witness | None = None
    reason: str = ""


Goal = Callable[[Case, SymbolicDecision], z3.BoolRef]


def allowed(case: Case, decision: SymbolicDecision) -> z3.BoolRef:
    return decision.allowed


def ask(case: Case, goal: Goal, decider: Decider | None, *, claimed: str = "allowed",
        extra: Callable[[Case], list[z3.BoolRef]] | None = None) -> CaseAnswer:
    """Is there a request of ``case`` for which ``goal`` holds?

    Where policies hold values accesspath was not given, the question is asked of both bounds
    (environment/unknowns.py): allowed even by the restrictive bound is found; not allowed even by the
    permissive bound is none; anything between depends on what is missing, and is unknown.
    """
    if case.bounds is not None:
        permissive, restrictive = case.bounds
        strict = ask(replace(case, policies=restrictive, bounds=None), goal, decider, claimed=claimed, extra=extra)
        if strict.status != "none":
            return strict
        loose = ask(replace(case, policies=permissive, bounds=None), goal, None, claimed=claimed, extra=extra)
        if loose.status == "none":
            return loose
        return CaseAnswer("unknown", reason="depends on what accesspath was not given: " + "; ".join(case.unknowns))
    try:
        decision = decide(case.request, case.policies, case.same_account, case.owner.account)
        target = goal(case, decision)
    except Unsupported as error:
        return CaseAnswer("unknown", reason=str(error))
    if z3.is_false(z3.simplify(target)):
        return CaseAnswer("none")
    solver = z3.Solver()
    solver.set("timeout", CASE_TIMEOUT_MS)
    solver.add(*case.domain, *case.request.context.constraints, target)
    if extra is not None:
        solver.add(*extra(case))
    result = solver.check()
    if result == z3.unsat:
        return CaseAnswer("none")
    if result == z3.unknown:
        return CaseAnswer("unknown", reason=f"the solver gave up ({solver.reason_unknown()})")
    return CaseAnswer("found", witness_from_model(case, readable_model(solver, case), claimed, decider))


def readable_model(solver: z3.Solver, case: Case) -> z3.ModelRef:
    """The solver's model, or one whose resource names read like names, when there is one."""
    model = solver.model()
    if not case.names:
        return model
    solver.push()
    solver.set("timeout", 2_000)
    readable = z3.Concat(z3.Range("a", "z"), z3.Star(z3.Union(z3.Range("a", "z"), z3.Range("0", "9"), z3.Re("-"))))
    solver.add(*[z3.InRe(name, readable) for name in case.names])
    if solver.check() == z3.sat:
        model = solver.model()
    solver.pop()
    return model
