"""Witnesses: the concrete request a solver's model stands for, replayed through the engine.

A witness is only reported after the concrete engine, given exactly that request, reaches the
decision the solver claimed; a disagreement is an error in the encoding and is raised, never
reported as a result.
"""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass, field, replace
from decimal import Decimal

import z3

from accesspath.catalog.calls import IamRequest
from accesspath.engine import AuthorizationRequest, AuthorizationResult, authorize
from accesspath.environment.callers import Caller
from accesspath.environment.decide import Decider
from accesspath.environment.network import NetworkPath, PathKind
from accesspath.prove.space import Case
from accesspath.prove.symbols import BINARY, DATE, IP, NUMERIC, SCALE, FreeValue, SymbolicContext


class EncodingDisagreement(AssertionError):
    """The solver's claim did not survive the concrete engine: a bug in the encoding."""


@dataclass(frozen=True)
class Witness:
    """A concrete request: who, what, on which resource, with which context, on which path."""

    caller: str
    principal: str
    action: str
    resource: str
    context: dict[str, list[str]]
    path: str
    decision: str
    resource_owner: str | None = None          # set when the proof chose the owner of an ARN without one
    deciding_statements: tuple[str, ...] = ()
    actions_alike: int = 1                     # actions the policies treat exactly alike (this one included)
    examples: tuple[str, ...] = ()             # a few of them
    label: str = ""                            # "before" / "after" for diffs
    notes: tuple[str, ...] = field(default=())
    # For the JSON vocabulary (cli/json_vocabulary.py): the caller, path and engine result themselves.
    origin: Caller | None = None
    network_path: NetworkPath | None = None
    result: AuthorizationResult | None = None

    def can_command(self, templates: list[str]) -> str:
        """The ``accesspath can`` command that reproduces the decision (callers of the environment)."""
        parts = ["accesspath", "can", *templates, "--from", self.caller, "--action", self.action,
                 "--resource", self.resource]
        for key, values in self.context.items():
            parts += [f"--context {key}={value}" for value in values]
        if self.resource_owner:
            parts += ["--resource-account", self.resource_owner]
        return " ".join(_quote(p) for p in parts)


def witness_from_model(case: Case, model: z3.ModelRef, claimed: str, decider: Decider | None) -> Witness:
    """The request of ``case`` under ``model``, after checking the engine decides it as ``claimed``."""
    resource = read_string(model, case.resource)
    context = context_from_model(case.request.context, model)
    owner = case.owner.account if case.owner.assumed else None
    result = replay(case, resource, context)
    if result.decision.value != claimed:
        raise EncodingDisagreement(
            f"the solver found {case.action} on {resource!r} with {context} {claimed} for {case.caller.id}, but the"
            f" engine decides {result.decision.value}")
    notes: list[str] = []
    if decider is not None and not case.hypothetical:
        decision = (decider if owner is None else _with_owner(decider, owner)).decide(
            case.caller, IamRequest(case.action, resource, {k: tuple(v) for k, v in context.items()}))
        if decision.decision != claimed:
            raise EncodingDisagreement(
                f"the environment decides {case.action} on {resource!r} for {case.caller.id} {decision.decision},"
                f" the case built for it {claimed}")
    statements = tuple(f"{m.policy.policy_id} {m.statement.label}" +
                       (f" ({m.statement.start})" if m.statement.start else "")
                       for m in result.deciding_statements)
    return Witness(case.caller.id, case.caller.principal.arn, case.action, resource, context,
                   describe_path(case), claimed, owner, statements, len(case.actions), case.actions[1:5],
                   notes=tuple(notes), origin=case.caller, network_path=case.path, result=result)


def context_from_model(context: SymbolicContext, model: z3.ModelRef) -> dict[str, list[str]]:
    """The values the model gives the free context keys (keys it leaves absent are left out)."""
    found: dict[str, list[str]] = {}
    for key, free in sorted(context.free.items()):
        if key in context.linked:
            continue
        count = model.eval(free.count, model_completion=True).as_long()  # type: ignore[attr-defined]
        if count > 0:
            found[key] = [_value_text(model, free.kind, value) for value in free.values[:count]]
    return found


def replay(case: Case, resource: str, context: dict[str, list[str]]) -> AuthorizationResult:
    """The concrete engine's decision on the case's own policies for this request."""
    owner = case.owner.account or (resource.split(":")[4] if resource.count(":") >= 5 else None)
    concrete = case.concrete_context(resource, context, owner)
    policies = replace(case.policies, resource_owner=owner, decision_cache={})
    return authorize(AuthorizationRequest(case.caller.principal, case.action, resource, concrete), policies)


def describe_path(case: Case) -> str:
    if case.path is None:
        return "no network path (the caller has no placement)"
    if case.path.kind in (PathKind.INTERFACE_ENDPOINT, PathKind.GATEWAY_ENDPOINT):
        return case.path.describe()
    return case.path.describe()


def read_string(model: z3.ModelRef, term: z3.SeqRef) -> str:
    """A string of the model, character by character (z3 escapes some characters in its text form)."""
    length = model.eval(z3.Length(term), model_completion=True).as_long()  # type: ignore[attr-defined]
    codes = [model.eval(z3.StrToCode(z3.SubString(term, i, 1)), model_completion=True).as_long()  # type: ignore[attr-defined]
             for i in range(length)]
    return "".join(chr(c) for c in codes)


def _value_text(model: z3.ModelRef, kind: str, value: FreeValue) -> str:
    malformed = value.malformed is not None and z3.is_true(model.eval(value.malformed, model_completion=True))
    if kind in (NUMERIC, DATE):
        if malformed:
            return "not-a-number" if kind == NUMERIC else "not-a-date"
        assert value.scaled is not None
        scaled = model.eval(value.scaled, model_completion=True).as_long()  # type: ignore[attr-defined]
        return _decimal(Decimal(scaled) / Decimal(SCALE[kind]))
    if kind == IP:
        if malformed:
            return "not-an-address"
        assert value.address is not None and value.is_v6 is not None
        number = model.eval(value.address, model_completion=True).as_long()  # type: ignore[attr-defined]
        if z3.is_true(model.eval(value.is_v6, model_completion=True)):
            return str(ipaddress.IPv6Address(number))
        return str(ipaddress.IPv4Address(number & 0xFFFFFFFF))
    if kind == BINARY:
        if malformed:
            return "not-base64!"
        assert value.text is not None
        return base64.b64encode(read_string(model, value.text).encode("latin-1", "replace")).decode()
    assert value.text is not None
    return read_string(model, value.text)


def _decimal(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text


def _with_owner(decider: Decider, owner: str) -> Decider:
    return Decider(decider.env, decider.endpoint_services, resource_account=owner)


def _quote(part: str) -> str:
    import shlex
    return shlex.quote(part)
