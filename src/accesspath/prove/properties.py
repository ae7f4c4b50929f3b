"""Properties over every request of an environment, and how each is decided.

Built in (docs/prove.md):

* ``access-not-granted``: no request of the callers, for the actions and resources given, is allowed;
* ``no-data-out``: no caller can write (with ``read``: or read) a resource of an account outside the
  organization or the accounts given, whatever that account's own resource policy says;
* ``no-access-from-outside``: no principal of another account (or anonymous) is allowed on a resource
  of the environment, over the internet or through the environment's endpoints;
* ``no-public-access``: the same, for a principal of an account that appears nowhere in the inputs, or
  anonymous: access open to anyone.

A result is ``proved`` only when every case was answered and none reaches the goal; ``fails`` comes
with witnesses the concrete engine has confirmed; anything the encoding or the solver could not
settle makes it ``unknown``, with the reason.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import z3

from accesspath.catalog.service_catalog import ServiceCatalog, get_catalog
from accesspath.engine.request import RequestPrincipal, principal_from_arn
from accesspath.environment.callers import Caller, resolve_caller
from accesspath.environment.decide import Decider
from accesspath.environment.model import Environment, ResourcePolicyHolder
from accesspath.environment.network import NetworkPath, PathKind
from accesspath.errors import UsageError
from accesspath.policy import Policy
from accesspath.policy.patterns import ARN, WHOLE, Pattern
from accesspath.prove.patterns import pattern_regex
from accesspath.prove.solve import ask
from accesspath.prove.space import Case, CaseBuilder, Outsider
from accesspath.prove.witness import Witness


def _kms_all_statement() -> Any:
    from accesspath.policy import PolicyType, parse_policy
    return parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*",
                         "Resource": "*"}]}, policy_type=PolicyType.IDENTITY, policy_id="kms").statements[0]


_KMS_ALL = _kms_all_statement()


def _any_action_statement() -> Any:
    from accesspath.policy import PolicyType, parse_policy
    return parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                         "Resource": "*"}]}, policy_type=PolicyType.IDENTITY, policy_id="any").statements[0]


_ANY_ACTION = _any_action_statement()
BUILT_IN = ("access-not-granted", "no-data-out", "no-access-from-outside", "no-public-access")
WRITE_LEVELS = frozenset({"Write", "Permissions management", "Tagging"})
_ACCOUNT = re.compile(r"(?<!\d)(\d{12})(?!\d)")


@dataclass(frozen=True)
class PropertySpec:
    """One property to prove, with its options (from the command line or a property file)."""

    name: str
    callers: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    organization: str | None = None
    accounts: tuple[str, ...] = ()
    read: bool = False
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name

    def check(self) -> None:
        if self.name not in BUILT_IN:
            raise UsageError(f"unknown property '{self.name}' (built in: {', '.join(BUILT_IN)})")
        if self.name == "access-not-granted" and not (self.actions or self.resources):
            raise UsageError("access-not-granted needs --actions and/or --resources")


@dataclass(frozen=True)
class PropertyResult:
    spec: PropertySpec
    status: str                              # proved, fails, unknown
    witnesses: tuple[Witness, ...]
    reasons: tuple[str, ...]
    cases: int
    seconds: float
    callers: tuple[str, ...] = field(default=())


class _Tally:
    def __init__(self, limit: int) -> None:
        self.witnesses: list[Witness] = []
        self.unknown: dict[str, list[str]] = {}   # reason -> the actions it leaves open
        self.cases = 0
        self.limit = limit

    @property
    def reasons(self) -> list[str]:
        out = []
        for reason, actions in self.unknown.items():
            shown = ", ".join(actions[:4]) + (f" and {len(actions) - 4} more" if len(actions) > 4 else "")
            out.append(f"{shown}: {reason}")
        return out

    @property
    def full(self) -> bool:
        return len(self.witnesses) >= self.limit

    def add(self, case: Case, answer: Any) -> None:
        self.cases += 1
        if answer.status == "found" and answer.witness is not None:
            self.witnesses.append(answer.witness)
        elif answer.status == "unknown":
            actions = self.unknown.setdefault(answer.reason, [])
            if case.action not in actions:
                actions.append(case.action)

    def result(self, spec: PropertySpec, started: float, callers: Iterable[str]) -> PropertyResult:
        status = "fails" if self.witnesses else "unknown" if self.reasons else "proved"
        return PropertyResult(spec, status, tuple(self.witnesses), tuple(self.reasons), self.cases,
                              time.perf_counter() - started, tuple(callers))


def prove(env: Environment, spec: PropertySpec, *, decider: Decider | None = None,
          catalog: ServiceCatalog | None = None, max_witnesses: int = 3) -> PropertyResult:
    """Decide ``spec`` over every request of ``env``."""
    spec.check()
    decider = decider or Decider(env)
    catalog = catalog or get_catalog()
    builder = CaseBuilder(decider, catalog)
    started = time.perf_counter()
    tally = _Tally(max_witnesses)
    if spec.name in ("access-not-granted", "no-data-out"):
        callers = environment_callers(env, spec.callers)
        for caller in callers:
            _callers_requests(builder, decider, catalog, caller, spec, tally)
            if tally.full:
                break
        return tally.result(spec, started, (c.id for c in callers))
    outsiders = list(_outsiders(env, spec))
    for outsider in outsiders:
        _outsider_requests(builder, decider, catalog, outsider, spec, tally)
        if tally.full:
            break
    return tally.result(spec, started, (o.caller.id for o in outsiders))


def environment_callers(env: Environment, wanted: Iterable[str] = ()) -> list[Caller]:
    """The callers a proof covers: the ones named, else every service, task definition, instance and
    role of the environment (a role on its own has no network placement)."""
    refs = list(wanted)
    if not refs:
        refs += [s.logical_id or s.name for s in env.services.values()]
        used_tasks = {s.task_definition for s in env.services.values()}
        refs += [t.logical_id or t.family for t in env.task_definitions.values()
                 if t.logical_id not in used_tasks and t.family not in used_tasks]
        refs += [i.logical_id or i.id for i in env.instances.values()]
        placed_roles = set()
        for ref in refs:
            try:
                caller = resolve_caller(env, ref)
            except UsageError:
                continue
            if caller.role is not None:
                placed_roles.add(caller.role.name)
        refs += [r.logical_id or r.name for r in env.roles.values() if r.name not in placed_roles and not r.service_linked]
    callers: list[Caller] = []
    for ref in dict.fromkeys(refs):
        try:
            callers.append(resolve_caller(env, ref))
        except UsageError:
            if wanted:
                raise
            # A service or instance without a role makes no signed requests: nothing to prove for it.
            continue
    return callers


def action_universe(catalog: ServiceCatalog, patterns: Iterable[str] = (), levels: frozenset[str] | None = None) -> list[str]:
    compiled = [Pattern.compile(p, mode=WHOLE, ignore_case=True) for p in patterns]
    found = []
    for action in catalog.all_actions():
        name = action.full_name
        if compiled and not any(p.matches(name) for p in compiled):
            continue
        if levels is not None and not (set(action.access_levels) | {action.access_level}) & levels:
            continue
        found.append(name)
    return found


def allow_in_reach(builder: CaseBuilder, caller: Caller, action: str, *, identity_only: bool) -> bool:
    """A cheap filter: some Allow statement the caller can meet names the action (or a KMS key without a
    key policy of its own has the default one)."""
    from accesspath.engine.evaluate import action_matches
    return any(action_matches(s, action) for s in _allow_statements(builder, caller, action, identity_only))


def _allow_statements(builder: CaseBuilder, caller: Caller, action: str, identity_only: bool) -> list[Any]:
    from accesspath.policy.model import Effect
    prefix = action.partition(":")[0].lower()
    key = (caller.id, caller.principal.arn, prefix if not identity_only else "", identity_only,
           action.lower().startswith("sts:assumerole"))
    cache: dict[tuple[object, ...], list[Any]] = builder.__dict__.setdefault("_allow_statements", {})
    found = cache.get(key)
    if found is not None:
        return found
    policies: list[Policy] = list(caller.role.policies) if caller.role else []
    default_key_policy = False
    if not identity_only:
        for holder in builder.holders(action):
            policy = holder if isinstance(holder, Policy) else holder.policy if holder is not None else None
            if policy is not None:
                policies.append(policy)
            elif isinstance(holder, ResourcePolicyHolder) and holder.kind == "kms-key":
                default_key_policy = True
    from accesspath.environment.unknowns import has_unknowns
    found = [s for p in policies for s in p.statements if s.valid and s.effect is Effect.ALLOW]
    if any(has_unknowns(p) for p in policies):
        found.append(_ANY_ACTION)  # its permissive bound may allow anything
    if default_key_policy:
        from accesspath.environment.decide import Decider as _Decider  # noqa: F401 - the default key policy's home
        found.append(_KMS_ALL)
    cache[key] = found
    return found


def _callers_requests(builder: CaseBuilder, decider: Decider, catalog: ServiceCatalog, caller: Caller,
                      spec: PropertySpec, tally: _Tally) -> None:
    if spec.name == "access-not-granted":
        actions = action_universe(catalog, spec.actions or ("*",))
        outside = None
        identity_only = False
    else:
        levels = WRITE_LEVELS | ({"Read", "List"} if spec.read else frozenset())
        actions = action_universe(catalog, spec.actions or ("*",), levels)
        outside = "000000000000" if builder.env.account != "000000000000" else "000000000001"
        identity_only = True
    actions = [a for a in actions if allow_in_reach(builder, caller, a, identity_only=identity_only)]
    resource_regexes = [pattern_regex(Pattern.compile(r, mode=ARN), None) for r in spec.resources]
    for actions_alike in builder.action_classes(caller, actions):
        cases: Iterator[Case]
        if outside is None:
            cases = builder.cases(caller, actions_alike)
        else:
            cases = builder.cases(caller, actions_alike, outside_owner=outside, inside_accounts=spec.accounts,
                                  organization=spec.organization or builder.env.organization_id)
        for case in cases:
            extra = None
            if resource_regexes:
                regexes = [r for r in resource_regexes if r is not None]

                def extra(case: Case, regexes: list[z3.ReRef] = regexes) -> list[z3.BoolRef]:
                    return [z3.Or(*[z3.InRe(case.resource, r) for r in regexes]) if regexes else z3.BoolVal(False)]
            tally.add(case, ask(case, lambda c, d: d.allowed, decider, extra=extra))
            if tally.full:
                return


def _outsiders(env: Environment, spec: PropertySpec) -> Iterator[Outsider]:
    """Principals of other accounts: every account the policies name that is not inside, and one that
    appears nowhere (anyone); roots, role sessions and users of each; anonymous. Service principals are
    not outsiders: whether a service acts for another account is service-specific (the audit's
    confused-deputy rule asks that question)."""
    inside = {env.account, *spec.accounts}
    organization = spec.organization or env.organization_id
    mentioned: dict[str, set[str]] = {}
    for policy in _resource_policies(env):
        for statement in policy.statements:
            for entry in statement.principal.entries if statement.principal else ():
                for account in _ACCOUNT.findall(entry.value):
                    names = mentioned.setdefault(account, set())
                    if ":role/" in entry.value:
                        names.add(entry.value.rsplit("/", 1)[-1])
            for clause in statement.conditions:
                for value in clause.values:
                    for account in _ACCOUNT.findall(value):
                        mentioned.setdefault(account, set())
    fresh = next(a for a in ("999999999999", "999999999998", "999999999997")
                 if a not in mentioned and a not in inside)
    accounts = {fresh: {"outsider"}} if spec.name == "no-public-access" else {
        a: names for a, names in mentioned.items() if a not in inside} | {fresh: {"outsider"}}
    exclusions: dict[str, tuple[str, ...]] = {}
    if organization:
        exclusions["aws:principalorgid"] = (organization,)
        exclusions["aws:sourceorgid"] = (organization,)
    partition = env.partition
    for account, role_names in sorted(accounts.items()):
        principals = [f"arn:{partition}:iam::{account}:root", f"arn:{partition}:iam::{account}:user/outsider"]
        principals += [f"arn:{partition}:sts::{account}:assumed-role/{name}/outsider" for name in sorted(role_names or {"outsider"})]
        for arn in principals:
            yield _outsider(principal_from_arn(arn), arn, exclusions, frozenset({"aws:principalorgid", "aws:sourceip"}))
    yield _outsider(principal_from_arn("anonymous"), "anonymous", exclusions, frozenset({"aws:sourceip"}))


def _outsider(principal: RequestPrincipal, ref: str, exclusions: dict[str, tuple[str, ...]],
              free: frozenset[str]) -> Outsider:
    caller = Caller("outsider", ref, None, principal, None)
    return Outsider(caller, free, exclusions)


def _resource_policies(env: Environment) -> Iterator[Policy]:
    for holder in env.resources.values():
        if holder.policy is not None:
            yield holder.policy
    for role in env.roles.values():
        if role.trust_policy is not None:
            yield role.trust_policy


def _targets(env: Environment) -> Iterator[tuple[str, ResourcePolicyHolder | Policy]]:
    """Resources an outsider could reach: those with a resource-based policy, and roles to assume."""
    for holder in env.resources.values():
        if holder.policy is not None or holder.kind == "kms-key":
            yield holder.arn.split(":")[2], holder
    for role in env.roles.values():
        if role.trust_policy is not None and not role.service_linked:
            yield "sts", role.trust_policy


def _outsider_requests(builder: CaseBuilder, decider: Decider, catalog: ServiceCatalog, outsider: Outsider,
                       spec: PropertySpec, tally: _Tally) -> None:
    env = builder.env
    for prefix, holder in _targets(env):
        actions = ["sts:AssumeRole"] if prefix == "sts" else action_universe(catalog, spec.actions or (f"{prefix}:*",))
        for actions_alike in builder.action_classes(outsider.caller, actions):
            carriers = {s.id for s in builder.endpoint_services(actions_alike[0])}
            # Over the internet (no endpoint policy), or from inside one of our VPCs through our endpoint.
            paths: list[NetworkPath | None] = [None]
            paths += [NetworkPath(PathKind.INTERFACE_ENDPOINT if e.endpoint_type == "Interface"
                                  else PathKind.GATEWAY_ENDPOINT, e.short_service, endpoint=e, vpc_id=e.vpc_id)
                      for e in env.endpoints.values() if e.short_service in carriers]
            for path in paths:
                placed = outsider if path is None else Outsider(
                    outsider.caller, (outsider.free_keys - {"aws:sourceip"}) | {"aws:vpcsourceip"},
                    outsider.exclusions)
                for case in builder.outsider_cases(placed, actions_alike, holder, path):
                    tally.add(case, ask(case, lambda c, d: d.allowed, decider))
                    if tally.full:
                        return
