"""``diff``: is there any request the after-state allows that the before-state does not (and back)?

For each caller present in both states, the request is one symbolic request asked of both: the
cases of the two states share their symbols (resource, context keys), so a witness is a single
request that one state allows and the other does not. Action classes whose policies, paths and
resource policies read the same in both states cannot differ and are not asked.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

import z3

from accesspath.catalog.service_catalog import ServiceCatalog, get_catalog
from accesspath.engine.evaluate import action_matches
from accesspath.environment.callers import Caller
from accesspath.environment.decide import Decider
from accesspath.environment.model import Environment
from accesspath.errors import UsageError
from accesspath.policy import Policy
from accesspath.policy.model import Statement
from accesspath.prove.authorizer import decide
from accesspath.prove.properties import action_universe, allow_in_reach, environment_callers
from accesspath.prove.solve import CASE_TIMEOUT_MS, readable_model
from accesspath.prove.space import Case, CaseBuilder
from accesspath.prove.symbols import Unsupported
from accesspath.prove.witness import EncodingDisagreement, Witness, witness_from_model


@dataclass(frozen=True)
class CallerDiff:
    caller: str
    status: str                              # "no new access", "new access", "unknown", "added", "removed"
    gained: tuple[Witness, ...]              # allowed after, not before
    lost: tuple[Witness, ...]                # allowed before, not after
    reasons: tuple[str, ...]
    origin: Caller | None = None             # the caller itself (its after-state one, when it has one)


@dataclass(frozen=True)
class DiffResult:
    callers: tuple[CallerDiff, ...]
    seconds: float

    @property
    def status(self) -> str:
        if any(c.gained or c.status == "added" for c in self.callers):
            return "new access"
        if any(c.reasons for c in self.callers):
            return "unknown"
        return "no new access"


def diff(before: Environment, after: Environment, *, callers: Iterable[str] = (), catalog: ServiceCatalog | None = None,
         before_decider: Decider | None = None, after_decider: Decider | None = None,
         max_witnesses: int = 3) -> DiffResult:
    started = time.perf_counter()
    catalog = catalog or get_catalog()
    before_decider = before_decider or Decider(before)
    after_decider = after_decider or Decider(after)
    wanted = list(callers)
    before_callers = {c.id: c for c in _callers(before, wanted)}
    after_callers = {c.id: c for c in _callers(after, wanted)}
    results: list[CallerDiff] = []
    universe = action_universe(catalog)
    for ref in sorted(set(before_callers) | set(after_callers)):
        if ref not in before_callers:
            results.append(CallerDiff(ref, "added", (), (), (), after_callers[ref]))
            continue
        if ref not in after_callers:
            results.append(CallerDiff(ref, "removed", (), (), (), before_callers[ref]))
            continue
        results.append(_caller_diff(before_callers[ref], after_callers[ref], before_decider, after_decider,
                                    catalog, universe, max_witnesses))
    return DiffResult(tuple(results), time.perf_counter() - started)


def _callers(env: Environment, wanted: list[str]) -> list[Caller]:
    if not wanted:
        return environment_callers(env)
    from accesspath.environment.callers import resolve_caller
    found = []
    for ref in wanted:
        try:
            found.append(resolve_caller(env, ref))
        except UsageError:  # a caller of one state only is reported as added or removed
            pass
    return found


def _caller_diff(before: Caller, after: Caller, before_decider: Decider, after_decider: Decider,
                 catalog: ServiceCatalog, universe: list[str], max_witnesses: int) -> CallerDiff:
    before_builder = CaseBuilder(before_decider, catalog)
    after_builder = CaseBuilder(after_decider, catalog)
    gained: list[Witness] = []
    lost: list[Witness] = []
    reasons: list[str] = []
    # An action no Allow in reach names can be allowed in neither state (not even by the default key
    # policy, which allow_in_reach counts): only the rest can differ.
    candidates = [a for a in universe if allow_in_reach(before_builder, before, a, identity_only=False)
                  or allow_in_reach(after_builder, after, a, identity_only=False)]
    changed = [a for a in candidates
               if _signature(before_builder, before, a) != _signature(after_builder, after, a)]
    groups: dict[tuple[object, ...], list[str]] = {}
    for action in changed:
        key = (_signature(before_builder, before, action, ids=True), _signature(after_builder, after, action, ids=True))
        groups.setdefault(key, []).append(action)
    for number, actions in enumerate(groups.values()):
        alike = tuple(actions)
        tag = f"d{number}"
        before_cases = list(before_builder.cases(before, alike, tag=tag))
        after_cases = list(after_builder.cases(after, alike, tag=tag))
        for direction, (mine, theirs, decider_mine, decider_theirs, found) in enumerate((
                (after_cases, before_cases, after_decider, before_decider, gained),
                (before_cases, after_cases, before_decider, after_decider, lost))):
            if len(found) >= max_witnesses:
                continue
            for case in mine:
                # The other state's cases of the same resource shape (and the same owner, where the proof
                # chooses one) partition that shape's requests.
                others = [c for c in theirs if c.template == case.template
                          and (c.owner == case.owner or not (c.owner.assumed or case.owner.assumed))]
                answer = _new_in(case, others, decider_mine, decider_theirs)
                if isinstance(answer, str):
                    if answer not in reasons:
                        reasons.append(answer)
                elif answer is not None:
                    found.append(answer)
                    break
            del direction
    status = "new access" if gained else "unknown" if reasons else "no new access"
    return CallerDiff(after.id, status, tuple(gained), tuple(lost), tuple(reasons), after)


def _new_in(case: Case, others: list[Case], decider: Decider, other_decider: Decider) -> Witness | str | None:
    """A request of ``case`` that its state allows and the other state (``others``) does not."""
    try:
        for other in others:
            _share_bounds(case, other)
        mine = decide(case.request, case.policies, case.same_account, case.owner.account)
        theirs = [(other, decide(other.request, other.policies, other.same_account, other.owner.account)) for other in others]
    except Unsupported as error:
        return f"{case.action}: {error}"
    solver = z3.Solver()
    solver.set("timeout", CASE_TIMEOUT_MS)
    solver.add(*case.domain, *case.request.context.constraints, mine.allowed)
    for other, decision in theirs:
        solver.add(*other.request.context.constraints)
        # Whichever case of the other state the request falls in, it is not allowed there.
        solver.add(z3.Implies(z3.And(*other.domain) if other.domain else z3.BoolVal(True), z3.Not(decision.allowed)))
    result = solver.check()
    if result == z3.unsat:
        return None
    if result == z3.unknown:
        return f"{case.action}: the solver gave up ({solver.reason_unknown()})"
    witness = witness_from_model(case, readable_model(solver, case), "allowed", decider)
    from accesspath.catalog.calls import IamRequest
    other_owner = witness.resource_owner
    other_decider_for = other_decider if other_owner is None else Decider(
        other_decider.env, other_decider.endpoint_services, resource_account=other_owner)
    other_caller = others[0].caller if others else None
    if other_caller is not None:
        concrete = other_decider_for.decide(other_caller, IamRequest(witness.action, witness.resource,
                                                                      {k: tuple(v) for k, v in witness.context.items()}))
        if concrete.decision == "allowed":
            raise EncodingDisagreement(f"the diff found {witness.action} on {witness.resource!r} allowed in one state"
                                       " only, but both states allow it")
        note = f"the other state: {concrete.decision}" + (f" ({concrete.message})" if concrete.message else "")
        return replace(witness, notes=(note,))
    return replace(witness, notes=("the other state: unreachable, or the caller cannot make this request",))


def _share_bounds(one: Case, other: Case) -> None:
    for key in set(one.request.context.bounds) | set(other.request.context.bounds):
        size = max(one.request.context.bounds.get(key, 1), other.request.context.bounds.get(key, 1))
        one.request.context.bounds[key] = size  # type: ignore[index]
        other.request.context.bounds[key] = size  # type: ignore[index]
    multivalued = one.request.context.multivalued | other.request.context.multivalued
    one.request.context.multivalued = multivalued
    other.request.context.multivalued = multivalued


def _signature(builder: CaseBuilder, caller: Caller, action: str, *, ids: bool = False) -> tuple[object, ...]:
    """What decides ``action`` for ``caller`` in one state, by content (positions and ids aside)."""
    path = builder.path(caller, action)
    if path is not None and not path.reachable:
        return ("unreachable",)
    endpoint = path.endpoint if path is not None else None
    policies: list[Policy] = []
    if caller.role is not None:
        policies.extend(caller.role.policies)
        if caller.role.permissions_boundary is not None:
            policies.append(caller.role.permissions_boundary)
    if endpoint is not None and endpoint.policy is not None:
        policies.append(endpoint.policy)
    for levels in (builder.env.scps or (), builder.env.rcps or ()):
        for level in levels:
            policies.extend(level)
    holders = [h for h in builder.holders(action) if h is not None]
    holder_policies = [h if isinstance(h, Policy) else h.policy for h in holders]
    matched = tuple(sorted(
        (p.policy_type.value, p.is_valid, _statement_key(s))
        for p in policies + [hp for hp in holder_policies if hp is not None]
        for s in p.statements if s.valid and action_matches(s, action)))
    path_key = (path.kind.value, endpoint.id if endpoint else None,
                endpoint is not None and endpoint.policy is None) if path is not None else None
    holder_key = tuple(sorted((builder._holder_arn(h), getattr(h, "kind", "role")) for h in holders))
    env = builder.env
    base = (caller.principal.arn, env.account, env.organization_id, path_key, builder.templates(action), holder_key,
            matched)
    if ids:
        return base + (action.split(":", 1)[0].lower(), action.lower().startswith("sts:assumerole"))
    return base


def _statement_key(statement: Statement) -> tuple[object, ...]:
    principal = None
    if statement.principal is not None:
        principal = (statement.principal.negated, tuple(sorted((e.kind, e.value) for e in statement.principal.entries)))
    resource = None if statement.resource is None else (statement.resource.negated, statement.resource.texts)
    conditions = tuple(sorted((c.operator, c.key_lower, c.values) for c in statement.conditions))
    return (statement.effect.value, principal, statement.action.negated, statement.action.texts, resource, conditions)
