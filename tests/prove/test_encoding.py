"""The SMT encoding against the concrete engine: same decisions on every conformance case, and every
solver answer checked on requests drawn near the policies' boundaries.

The conformance cases cite the IAM User Guide page each rests on (tests/conformance/cases/); here the
encoding must reach the engine's decision on each of them, with everything concrete, and with the
resource and the context left to the solver every witness it finds must replay to the decision it
claims (docs/prove.md, "Trust, checked").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import z3
from hypothesis import HealthCheck, given, settings

from accesspath.engine import AuthorizationRequest, RequestContext, authorize
from accesspath.engine.authorize import PolicySet, _principal_context
from accesspath.engine.request import ContextValue, RequestPrincipal
from accesspath.policy.patterns import NO_VALUE
from accesspath.prove.authorizer import SymbolicDecision, decide
from accesspath.prove.encode import SymbolicRequest
from accesspath.prove.space import clause_counts, multivalued_key
from accesspath.prove.symbols import SymbolicContext, Unsupported
from accesspath.prove.witness import context_from_model, read_string
from accesspath.simulate import load_simulation
from policy_strategies import request as simulate_request

CASES = Path(__file__).resolve().parents[1] / "conformance" / "cases"
# A budget in the solver's own resource units, not seconds: the same on a loaded machine as on a quiet one.
SOLVER_RLIMIT = 200_000_000
# docs/prove.md, "What the encoding does not cover".
DOCUMENTED_LIMITS = ("takes its value from a context key the proof leaves free", "with a policy variable",
                     "is read both as")


def _conformance_pairs() -> list[tuple[str, object]]:
    found = []
    for path in sorted(CASES.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            found.append((case["id"], case["request"]))
    return found


PAIRS = _conformance_pairs()


class _EverythingFixed(dict):
    """A context in which every key the request does not set is absent (nothing is left free)."""

    def __contains__(self, key: object) -> bool:
        return True


def _lookup(context: RequestContext):
    def lookup(key: str):
        entry = context.get(key)
        if entry is None or not entry.values:
            return None
        return entry.single if entry.single is not None else NO_VALUE
    return lookup


def _symbolic(principal: RequestPrincipal, action: str, resource: z3.SeqRef, policies: PolicySet,
              fixed: dict[str, ContextValue | None], *, everything_fixed: bool) -> tuple[SymbolicRequest, SymbolicDecision]:
    counts = clause_counts(policies)
    context = SymbolicContext(_EverythingFixed(fixed) if everything_fixed else dict(fixed), counts,
                              frozenset(k for k in counts if multivalued_key(k)))
    lookup_context = RequestContext.of({k: v for k, v in fixed.items() if v is not None})
    request = SymbolicRequest(principal, action, resource, context, _lookup(lookup_context))
    owner = policies.resource_owner or principal.account
    same = z3.BoolVal(policies.resource_owner is None or policies.resource_owner == principal.account)
    return request, decide(request, policies, same, owner)


def _decision(decision: SymbolicDecision) -> str:
    allowed, explicit = z3.simplify(decision.allowed), z3.simplify(decision.explicit_deny)
    if z3.is_true(allowed):
        return "allowed"
    if z3.is_true(explicit):
        return "explicitDeny"
    assert z3.is_false(allowed) and z3.is_false(explicit), (allowed, explicit)
    return "implicitDeny"


@pytest.mark.parametrize("case_id,document", PAIRS, ids=[p[0] for p in PAIRS])
def test_concrete_requests_decide_as_the_engine(case_id: str, document: object) -> None:
    simulation = load_simulation(document)
    for action, resource, context, policies in simulation.pairs:
        expected = authorize(AuthorizationRequest(simulation.principal, action, resource, context), policies)
        full = context.with_defaults(_principal_context(simulation.principal))
        fixed = {key: full.get(key) for key in full.keys()}
        _, decision = _symbolic(simulation.principal, action, z3.StringVal(resource), policies, fixed,
                                everything_fixed=True)
        assert _decision(decision) == expected.decision.value, (case_id, action, resource)


def _check_witnesses(principal: RequestPrincipal, action: str, policies: PolicySet,
                     concrete: tuple[str, RequestContext] | None = None, *, rlimit: int = 0) -> int:
    """Leave the resource and every context key but the principal's own to the solver; for each
    decision, a witness must replay to it, and "no request" must hold for the concrete sample.

    With ``rlimit``, a question the solver cannot settle within that budget is counted (and returned)
    instead of failing; without, it fails."""
    unsettled = 0
    fixed = dict(_principal_context(principal))
    resource = z3.String("resource")
    try:
        request, decision = _symbolic(principal, action, resource, policies, fixed, everything_fixed=False)
    except Unsupported as error:
        # What the encoding cannot express makes a proof "unknown"; only these documented limits may.
        assert any(limit in str(error) for limit in DOCUMENTED_LIMITS), str(error)
        return 0
    for claimed, goal in (("allowed", decision.allowed), ("explicitDeny", decision.explicit_deny),
                          ("implicitDeny", decision.implicit_deny)):
        solver = z3.Solver()
        solver.set("rlimit", rlimit or SOLVER_RLIMIT)
        solver.add(*request.context.constraints, goal)
        answer = solver.check()
        if answer == z3.unknown and rlimit:
            unsettled += 1
            continue
        assert answer != z3.unknown, (action, claimed, solver.reason_unknown())
        if answer == z3.sat:
            model = solver.model()
            text = read_string(model, resource)
            values = context_from_model(request.context, model)
            # A request holds a list exactly when it has several values (as the Decider builds it).
            listed = RequestContext.of({k: ContextValue(tuple(v), multivalued=len(v) != 1) for k, v in values.items()})
            replayed = authorize(AuthorizationRequest(principal, action, text, listed), policies)
            assert replayed.decision.value == claimed, (action, text, values, claimed)
        elif concrete is not None and _representable(concrete[1]):
            sample_resource, sample_context = concrete
            sampled = authorize(AuthorizationRequest(principal, action, sample_resource, sample_context), policies)
            assert sampled.decision.value != claimed, ("proved unreachable, yet the sample reaches it", action,
                                                      sample_resource, claimed)
    return unsettled


def _representable(context: RequestContext) -> bool:
    """The proof gives a key several values only where AWS may send several (space.multivalued_key)."""
    return all(len(context.get(key).values) <= 1 or multivalued_key(key) for key in context.keys())  # type: ignore[union-attr]


@pytest.mark.parametrize("case_id,document", PAIRS, ids=[p[0] for p in PAIRS])
def test_witnesses_replay_on_conformance_policies(case_id: str, document: object) -> None:
    simulation = load_simulation(document)
    seen: set[tuple[str, int]] = set()
    for action, resource, context, policies in simulation.pairs:
        if (action, id(policies)) in seen:
            continue
        seen.add((action, id(policies)))
        _check_witnesses(simulation.principal, action, policies, (resource, context))


UNSETTLED: list[int] = []


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(simulate_request())
def test_solver_answers_hold_on_generated_requests(document: dict) -> None:
    """Random policies and requests: every answer the solver gives holds. A question it cannot settle
    within a smaller budget is counted: the next test bounds how many there may be."""
    simulation = load_simulation(document)
    for action, resource, context, policies in simulation.pairs[:2]:
        UNSETTLED.append(_check_witnesses(simulation.principal, action, policies, (resource, context),
                                          rlimit=SOLVER_RLIMIT // 4))


def test_the_solver_settles_nearly_every_generated_question() -> None:
    if not UNSETTLED:
        test_solver_answers_hold_on_generated_requests()
    questions = 3 * len(UNSETTLED)
    assert questions >= 30 and sum(UNSETTLED) <= questions // 10, (sum(UNSETTLED), questions)
