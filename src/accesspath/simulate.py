"""``simulate``: AWS's ``iam simulate-custom-policy`` request shape, decided by the engine.

The input format is documented in docs/simulate.md. Input problems (wrong types, unknown
fields, bad context values) raise :class:`~accesspath.errors.UsageError` with the position in the
input file; problems inside policies are reported per result and never turn into an allow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from accesspath.engine.authorize import (
    AuthorizationResult,
    PolicySet,
    authorize,
    default_resource_policy_type,
)
from accesspath.engine.conditions import ConditionResult
from accesspath.engine.evaluate import PolicyOutcome, StatementMatch, StatementTrace
from accesspath.engine.request import (
    AuthorizationRequest,
    ContextValue,
    PrincipalFormatError,
    RequestContext,
    RequestPrincipal,
    principal_from_arn,
)
from accesspath.errors import UsageError
from accesspath.policy import (
    Node,
    Policy,
    PolicyType,
    Position,
    decode_json,
    node_from_python,
    parse_policy,
)
from accesspath.policy.limits import resource_attachment
from accesspath.policy.operators import (
    parse_address,
    parse_binary,
    parse_bool,
    parse_date,
    parse_number,
)
from accesspath.policy.source import JsonSyntaxError

DEFAULT_CALLER = "arn:aws:iam::123456789012:user/simulated-user"

FIELDS = (
    "PolicyInputList", "PermissionsBoundaryPolicyInputList", "ResourcePolicy", "ResourcePolicyType",
    "ResourceOwner", "CallerArn", "ActionNames", "ResourceArns", "ContextEntries", "SessionPolicyInputList",
    "VpcEndpointPolicy", "ServiceControlPolicies", "ResourceControlPolicies", "ServiceLinkedRole",
    "ManagementAccount", "Call", "Region",
    # Accepted for compatibility with simulate-custom-policy input files; they change nothing here.
    "ResourceHandlingOption", "MaxItems", "Marker",
)

CONTEXT_TYPES = {
    "string": (None, False), "stringlist": (None, True),
    "numeric": (parse_number, False), "numericlist": (parse_number, True),
    "boolean": (parse_bool, False), "booleanlist": (parse_bool, True),
    "ip": (parse_address, False), "iplist": (parse_address, True),
    "binary": (parse_binary, False), "binarylist": (parse_binary, True),
    "date": (parse_date, False), "datelist": (parse_date, True),
}

RESOURCE_POLICY_TYPES = {"resource": PolicyType.RESOURCE, "role-trust": PolicyType.ROLE_TRUST,
                         "kms-key": PolicyType.KMS_KEY}

# Every ActionNames × ResourceArns pair is decided and kept for the output, so one request is
# bounded (docs/simulate.md): a 127 KB request once asked for 2.8 GB.
MAX_PAIRS = 10_000


def _resource_attachment(kind: PolicyType, resources: tuple[str, ...]) -> str | None:
    """The size limit of a ResourcePolicy: that of the resources' service, when they share one."""
    if kind is not PolicyType.RESOURCE:
        return None
    found = {resource_attachment(arn) for arn in resources}
    return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class Simulation:
    """A parsed simulate request: the principal, the policies, and the pairs to decide."""

    principal: RequestPrincipal
    pairs: tuple[tuple[str, str, RequestContext, PolicySet], ...]   # action, resource, context, policies
    parsed: tuple[Policy, ...]
    unresolved: tuple[tuple[str, str] | None, ...] = ()
    """Per pair of a ``Call``: why its resource is not known and the pattern of the ARN it would have."""

    def run(self, *, explain: bool = False) -> list[AuthorizationResult]:
        results = [authorize(AuthorizationRequest(self.principal, action, resource, context), policies,
                             explain=explain)
                   for action, resource, context, policies in self.pairs]
        for index, unresolved in enumerate(self.unresolved):
            if unresolved is not None:  # decided on a sample of the pattern: show the pattern
                result, pattern = results[index], unresolved[1]
                # The message is written from the request, so it names the pattern too.
                results[index] = replace(result, request=replace(result.request, resource=pattern))
        return results

    def undetermined(self, results: list[AuthorizationResult]) -> list[str | None]:
        """Per result: why it is ``undetermined`` (a ``Call`` whose resource is not known, where a
        statement scoped to resources could decide differently), or None when it stands."""
        from accesspath.catalog.service_catalog import get_catalog
        from accesspath.engine.unknown_resource import decide_unknown_resource

        reasons: list[str | None] = []
        for index, result in enumerate(results):
            unresolved = self.unresolved[index] if index < len(self.unresolved) else None
            if unresolved is None:
                reasons.append(None)
                continue
            reason, pattern = unresolved
            action, policies = self.pairs[index][0], self.pairs[index][3]
            _, dependents = decide_unknown_resource(result.request, policies, pattern or "*")
            if get_catalog().find_action(action) is None:
                reasons.append(f"{reason} (it would be {result.decision.value} on '*')")
            elif dependents:
                reasons.append(f"{reason}: {', '.join(dependents)} could decide differently on the real resource"
                               f" ({result.decision.value} if none of them applies)")
            else:
                reasons.append(None)
        return reasons


def simulate(request: dict[str, Any] | str, *, explain: bool = False, source: str | None = None) -> dict[str, Any]:
    """Decide a simulate request given as a dict (or JSON text); return the JSON-shaped result."""
    simulation = load_simulation(request, source=source)
    results = simulation.run(explain=explain)
    return {"EvaluationResults": [result_to_json(r, explain=explain, undetermined=u)
                                  for r, u in zip(results, simulation.undetermined(results), strict=True)]}


def load_simulation(document: dict[str, Any] | str | Node, *, source: str | None = None) -> Simulation:
    if isinstance(document, str):
        try:
            root = decode_json(document, source)
        except JsonSyntaxError as error:
            raise UsageError(f"the input is not valid JSON: {error.message}", source=source,
                             line=error.position.line, column=error.position.column) from None
    else:
        root = node_from_python(document)
    return _Loader(source).load(root)


class _Loader:
    def __init__(self, source: str | None) -> None:
        self.source = source

    def fail(self, message: str, node: Node | None) -> UsageError:
        position = node.start if node is not None else None
        return UsageError(message, source=self.source, line=position.line if position else None,
                          column=position.column if position else None)

    def load(self, root: Node) -> Simulation:
        if not root.is_object:
            raise self.fail("the input must be a JSON object with PolicyInputList, ActionNames, ...", root)
        fields: dict[str, Node] = {}
        for member in root.value:
            if member.key not in FIELDS:
                raise self.fail(f"unknown field '{member.key}' (expected one of: {', '.join(FIELDS[:17])})",
                                member.value)
            if member.key in fields:
                raise self.fail(f"field '{member.key}' is given twice", member.value)
            fields[member.key] = member.value

        caller = self.string(fields.get("CallerArn"), "CallerArn") or DEFAULT_CALLER
        try:
            principal = principal_from_arn(caller)
        except PrincipalFormatError as error:
            raise self.fail(str(error), fields.get("CallerArn")) from None
        if self.boolean(fields.get("ServiceLinkedRole"), "ServiceLinkedRole"):
            principal = replace(principal, service_linked=True)
        if "Call" in fields and ("ActionNames" in fields or "ResourceArns" in fields):
            raise self.fail("give either Call or ActionNames/ResourceArns, not both", fields["Call"])
        actions = tuple(self.strings(fields.get("ActionNames"), "ActionNames", required="Call" not in fields))
        for action, node in zip(actions, self.nodes(fields.get("ActionNames"))):
            if action != "*" and ":" not in action:
                raise self.fail(f"action '{action}' must look like 'service:Action'", node)
        resources = tuple(self.strings(fields.get("ResourceArns"), "ResourceArns")) or ("*",)

        parsed: list[Policy] = []

        def policies(name: str, policy_type: PolicyType) -> list[Policy]:
            node = fields.get(name)
            if node is None:
                return []
            if not node.is_array:
                raise self.fail(f"{name} must be a list of policies", node)
            out = [self.policy(item, policy_type, f"{name}.{i + 1}") for i, item in enumerate(node.value)]
            parsed.extend(out)
            return out

        def levels(name: str, policy_type: PolicyType) -> list[list[Policy]] | None:
            node = fields.get(name)
            if node is None:
                return None
            if not node.is_array or not all(level.is_array for level in node.value):
                raise self.fail(f"{name} must be a list of levels (root first), each a list of policies", node)
            out = []
            for depth, level in enumerate(node.value):
                level_policies = [self.policy(item, policy_type, f"{name}.{depth}.{i + 1}")
                                  for i, item in enumerate(level.value)]
                parsed.extend(level_policies)
                out.append(level_policies)
            return out

        identity = policies("PolicyInputList", PolicyType.IDENTITY)
        boundary = policies("PermissionsBoundaryPolicyInputList", PolicyType.PERMISSIONS_BOUNDARY)
        session = policies("SessionPolicyInputList", PolicyType.SESSION)
        vpce: list[Policy] | None = None
        if "VpcEndpointPolicy" in fields:
            vpce = [self.policy(fields["VpcEndpointPolicy"], PolicyType.VPC_ENDPOINT, "VpcEndpointPolicy")]
            parsed.extend(vpce)
        scps = levels("ServiceControlPolicies", PolicyType.SCP)
        rcps = levels("ResourceControlPolicies", PolicyType.RCP)

        owner = self.account(fields.get("ResourceOwner"))
        management = None
        if self.boolean(fields.get("ManagementAccount"), "ManagementAccount"):
            management = principal.account
        context = self.context(fields.get("ContextEntries"))
        unresolved: tuple[tuple[str, str] | None, ...] = ()
        if "Call" in fields:
            call_requests = self.call_pairs(fields["Call"], principal.account,
                                            self.string(fields.get("Region"), "Region"), context)
            requests = tuple((action, resource, request_context)
                             for action, resource, request_context, _ in call_requests)
            unresolved = tuple(u for *_, u in call_requests)
        else:
            if len(actions) * len(resources) > MAX_PAIRS:
                raise self.fail(f"ActionNames × ResourceArns is {len(actions):,} × {len(resources):,} ="
                                f" {len(actions) * len(resources):,} pairs; one request decides at most"
                                f" {MAX_PAIRS:,} (split it into several requests)", fields["ActionNames"])
            requests = tuple((action, resource, context) for action in actions for resource in resources)

        # The resource-based policy is read as the kind the input names, or else as each action and
        # resource imply: a role trust policy for sts:AssumeRole*, the key policy for a kms: action
        # on a key ARN, an ordinary resource policy otherwise.
        given_type = self.resource_policy_type(fields.get("ResourcePolicyType"))
        policy_sets: dict[PolicyType, PolicySet] = {}

        def policy_set(kind: PolicyType) -> PolicySet:
            if kind not in policy_sets:
                resource: list[Policy] = []
                if "ResourcePolicy" in fields:
                    resource = [self.policy(fields["ResourcePolicy"], kind, "ResourcePolicy",
                                            _resource_attachment(kind, resources))]
                    parsed.extend(resource)
                policy_sets[kind] = PolicySet.of(
                    identity=identity, permissions_boundary=boundary or None, session=session or None,
                    resource=resource, resource_owner=owner, scps=scps, rcps=rcps, vpc_endpoint=vpce,
                    management_account=management, resource_policy_type=kind)
            return policy_sets[kind]

        pairs = tuple((action, resource, request_context,
                       policy_set(given_type or default_resource_policy_type(action, resource)))
                      for action, resource, request_context in requests)
        return Simulation(principal, pairs, tuple(parsed), unresolved)

    # -- field readers ---------------------------------------------------------------------

    def nodes(self, node: Node | None) -> tuple[Node, ...]:
        if node is None:
            return ()
        return node.value if node.is_array else (node,)

    def string(self, node: Node | None, name: str) -> str | None:
        if node is None:
            return None
        if node.is_array or node.is_object or not isinstance(node.value, str):
            raise self.fail(f"{name} must be a string", node)
        return node.value

    def strings(self, node: Node | None, name: str, *, required: bool = False, allow_empty: bool = False) -> list[str]:
        if node is None:
            if required:
                raise UsageError(f"the input has no {name}", source=self.source)
            return []
        if not node.is_array:
            raise self.fail(f"{name} must be a list of strings", node)
        out = []
        for item in node.value:
            if item.is_array or item.is_object or not isinstance(item.value, str) or not (item.value or allow_empty):
                raise self.fail(f"{name} must hold {'' if allow_empty else 'non-empty '}strings", item)
            out.append(item.value)
        if required and not out:
            raise self.fail(f"{name} is empty", node)
        return out

    def boolean(self, node: Node | None, name: str) -> bool:
        if node is None:
            return False
        if not isinstance(node.value, bool) or node.is_array or node.is_object:
            raise self.fail(f"{name} must be true or false", node)
        return node.value

    def account(self, node: Node | None) -> str | None:
        text = self.string(node, "ResourceOwner")
        if text is None:
            return None
        if text.isdigit() and len(text) == 12:
            return text
        parts = text.split(":")
        if len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam" and parts[5] == "root" and parts[4].isdigit():
            return parts[4]
        raise self.fail(f"ResourceOwner '{text}' must be an account id or arn:aws:iam::ID:root", node)

    def call_pairs(self, node: Node, account: str | None, region: str | None,
                   context: RequestContext,
                   ) -> tuple[tuple[str, str, RequestContext, tuple[str, str] | None], ...]:
        """The IAM requests of ``Call``: an AWS CLI command line or {"Service", "Operation", "Parameters"}."""
        import shlex

        from accesspath.catalog.aws_cli import iam_requests_for_cli, parse_aws_cli
        from accesspath.catalog.calls import DEFAULT_REGION, iam_requests_for_call
        from accesspath.engine.unknown_resource import alternatives_of, sample_of

        try:
            if isinstance(node.value, str) and not (node.is_array or node.is_object):
                cli = parse_aws_cli(shlex.split(node.value))
                requests = iam_requests_for_cli(cli, account=account or "123456789012",
                                                region=cli.region or region or DEFAULT_REGION)
            elif node.is_object:
                members = {m.key: m.value for m in node.value}
                unknown = set(members) - {"Service", "Operation", "Parameters"}
                if unknown:
                    raise self.fail(f"unknown field '{min(unknown)}' in Call"
                                    " (expected Service, Operation, Parameters)", node)
                service = self.string(members.get("Service"), "Call.Service") or ""
                operation = self.string(members.get("Operation"), "Call.Operation") or ""
                parameters = members.get("Parameters")
                params = parameters.to_python() if parameters is not None else {}
                if not service or not operation or not isinstance(params, dict):
                    raise self.fail("Call needs Service, Operation and an object of Parameters", node)
                requests = iam_requests_for_call(service, operation, params, account=account or "123456789012",
                                                 region=region or DEFAULT_REGION)
            else:
                raise self.fail("Call must be an AWS CLI command line or an object with Service and Operation", node)
        except UsageError as error:
            if error.line is None and node.start is not None:
                raise self.fail(f"Call: {error.message}", node) from None
            raise
        except ValueError as error:
            raise self.fail(f"Call: {error}", node) from None
        pairs = []
        for request in requests:
            extra = {k.lower(): ContextValue(tuple(v), multivalued=len(v) != 1) for k, v in request.context.items()}
            merged = dict(extra)
            merged.update(context.entries)
            unresolved = (request.unresolved, request.resource_pattern) if request.unresolved else None
            resource = sample_of(alternatives_of(request.resource_pattern)[0]) if unresolved else request.resource
            pairs.append((request.action, resource, RequestContext.of(merged), unresolved))
        return tuple(pairs)

    def resource_policy_type(self, node: Node | None) -> PolicyType | None:
        text = self.string(node, "ResourcePolicyType")
        if text is None:
            return None
        if text not in RESOURCE_POLICY_TYPES:
            raise self.fail(f"ResourcePolicyType '{text}' must be one of {', '.join(RESOURCE_POLICY_TYPES)}", node)
        return RESOURCE_POLICY_TYPES[text]

    def policy(self, node: Node, policy_type: PolicyType, policy_id: str, attachment: str | None = None) -> Policy:
        if node.is_object:
            return parse_policy(node, policy_type=policy_type, policy_id=policy_id, source=self.source,
                                attachment=attachment)
        if isinstance(node.value, str) and not node.is_array:
            line_offset = column_offset = 0
            source: str | None = f"{self.source or '<input>'} ({policy_id})"
            if node.start is not None and "\n" not in node.value and "\\" not in node.value:
                # A one-line policy string without escapes: positions map straight onto the file.
                line_offset, column_offset, source = node.start.line - 1, node.start.column, self.source
            return parse_policy(node.value, policy_type=policy_type, policy_id=policy_id, source=source,
                                line_offset=line_offset, column_offset=column_offset, attachment=attachment)
        raise self.fail(f"{policy_id} must be a policy: a JSON object or a JSON string", node)

    def context(self, node: Node | None) -> RequestContext:
        if node is None:
            return RequestContext()
        if not node.is_array:
            raise self.fail("ContextEntries must be a list", node)
        entries: dict[str, ContextValue] = {}
        for entry in node.value:
            if not entry.is_object:
                raise self.fail("each ContextEntries item must be an object with ContextKeyName,"
                                " ContextKeyValues and ContextKeyType", entry)
            members = {m.key: m.value for m in entry.value}
            unknown = set(members) - {"ContextKeyName", "ContextKeyValues", "ContextKeyType"}
            if unknown:
                raise self.fail(f"unknown field '{min(unknown)}' in a context entry", entry)
            name = self.string(members.get("ContextKeyName"), "ContextKeyName")
            if not name:
                raise self.fail("a context entry has no ContextKeyName", entry)
            type_name = self.string(members.get("ContextKeyType"), "ContextKeyType") or "string"
            spec = CONTEXT_TYPES.get(type_name.lower())
            if spec is None:
                raise self.fail(f"unknown ContextKeyType '{type_name}' for '{name}' (expected one of:"
                                " string, stringList, numeric, numericList, boolean, booleanList, ip, ipList,"
                                " binary, binaryList, date, dateList)", members.get("ContextKeyType"))
            values_node = members.get("ContextKeyValues")
            values = self.strings(values_node, "ContextKeyValues", allow_empty=True) if values_node is not None else []
            parser, multivalued = spec
            if not multivalued and len(values) > 1:
                raise self.fail(f"context key '{name}' has type {type_name} but {len(values)} values"
                                f" (use {type_name}List for several)", values_node)
            if parser is not None:
                for value in values:
                    try:
                        parser(value)
                    except ValueError as error:
                        raise self.fail(f"context key '{name}': {error}", values_node) from None
            if name.lower() in entries:
                raise self.fail(f"context key '{name}' is given twice", entry)
            entries[name.lower()] = ContextValue(tuple(values), multivalued, type_name)
        return RequestContext.of(entries)


# -- output ---------------------------------------------------------------------------------

def _position(position: Position | None) -> dict[str, int] | None:
    if position is None:
        return None
    return {"Line": position.line, "Column": position.column}


def statement_to_json(match_policy: Policy, statement: Any) -> dict[str, Any]:
    return {
        "SourcePolicyId": match_policy.policy_id,
        "SourcePolicyType": match_policy.policy_type.value,
        "Source": statement.start.source if statement.start and statement.start.source else match_policy.source,
        "Sid": statement.sid,
        "StatementIndex": statement.index,
        "StartPosition": _position(statement.start),
        "EndPosition": _position(statement.end),
    }


def _match_to_json(match: StatementMatch) -> dict[str, Any]:
    out = statement_to_json(match.policy, match.statement)
    out["Effect"] = match.statement.effect.value
    if match.grant is not None:
        out["PrincipalMatch"] = match.grant.value
    return out


def result_to_json(result: AuthorizationResult, *, explain: bool = False,
                   undetermined: str | None = None) -> dict[str, Any]:
    """One result; ``undetermined`` (why the resource is not known) makes it ``undetermined``."""
    return {
        "EvalActionName": result.request.action,
        "EvalResourceName": result.request.resource,
        "EvalDecision": "undetermined" if undetermined else result.decision.value,
        "DecidingGate": None if undetermined else (result.deciding_gate.value if result.deciding_gate else None),
        "Message": undetermined or result.message,
        "MatchedStatements": [_match_to_json(m) for m in result.deciding_statements],
        "MissingContextValues": list(result.missing_context_keys),
        "Errors": list(result.errors),
        "Notes": list(result.notes),
        "Explanation": explanation_to_json(result) if explain else None,
    }


def explanation_to_json(result: AuthorizationResult) -> dict[str, Any]:
    return {
        "Gates": [{"Gate": g.gate.value, "Status": g.status.value, "Note": g.note,
                   "Statements": [_match_to_json(m) for m in g.statements]} for g in result.gates],
        "Policies": [_policy_trace_to_json(o) for o in result.policies],
    }


def _policy_trace_to_json(outcome: PolicyOutcome) -> dict[str, Any]:
    policy = outcome.policy
    return {
        "PolicyId": policy.policy_id,
        "PolicyType": policy.policy_type.value,
        "Valid": policy.is_valid,
        "Issues": [str(i) for i in policy.issues],
        "Statements": [_trace_to_json(policy, t) for t in outcome.statements or ()],
    }


def _trace_to_json(policy: Policy, trace: StatementTrace) -> dict[str, Any]:
    out = statement_to_json(policy, trace.statement)
    out.update({
        "Effect": trace.statement.effect.value,
        "ActionMatched": trace.action_matched,
        "ResourceMatched": trace.resource_matched,
        "PrincipalMatched": trace.principal,
        "Conditions": [_condition_to_json(c) for c in trace.conditions],
        "Applies": trace.applies,
        "Note": trace.note,
    })
    return out


def _condition_to_json(result: ConditionResult) -> dict[str, Any]:
    return {
        "Operator": result.clause.operator,
        "Key": result.clause.key,
        "PolicyValues": list(result.policy_values),
        "RequestValues": None if result.request_values is None else list(result.request_values),
        "Result": result.outcome.value,
        "Position": _position(result.clause.position),
        "Detail": result.detail,
    }
