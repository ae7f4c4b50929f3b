"""Parse and validate IAM policy documents.

Validation follows what IAM rejects with MalformedPolicyDocument when a policy is created
(reference_policies_grammar.md, reference_policies_elements_*.md). Problems are returned as
:class:`PolicyIssue` data on the :class:`Policy`; nothing here raises for bad policy content.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from accesspath.policy.limits import limit_for, size_problem, surely_within
from accesspath.policy.model import (
    ActionBlock,
    ConditionClause,
    Effect,
    Policy,
    PolicyIssue,
    PolicyType,
    PrincipalBlock,
    PrincipalEntry,
    ResourceBlock,
    Severity,
    Statement,
)
from accesspath.policy.operators import (
    POLICY_VALUE_PARSERS,
    OperatorError,
    parse_bool,
    parse_operator,
    scalar_text,
)
from accesspath.policy.patterns import ARN, LITERAL, WHOLE, Pattern
from accesspath.policy.source import (
    JsonSyntaxError,
    NestingError,
    Node,
    Position,
    decode_json_counting_floats,
    node_from_python,
)

VERSIONS = ("2012-10-17", "2008-10-17")
TOP_LEVEL = ("Version", "Id", "Statement")
STATEMENT_ELEMENTS = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                      "Resource", "NotResource", "Condition")
PRINCIPAL_KINDS = ("AWS", "Service", "Federated", "CanonicalUser")

_ACTION_RE = re.compile(r"^[A-Za-z0-9*?\-]+:[A-Za-z0-9*?\-_]*$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_AWS_PRINCIPAL_ARN_RE = re.compile(
    r"^arn:aws[a-zA-Z-]*:(iam|sts)::(\d{12}):(root|user/.+|role/.+|assumed-role/[^/]+/.+|federated-user/.+)$")


class _Collector:
    def __init__(self, policy_type: PolicyType) -> None:
        self.policy_type = policy_type
        self.issues: list[PolicyIssue] = []

    def error(self, code: str, message: str, position: Position | None, element: str) -> None:
        self.issues.append(PolicyIssue(code, message, Severity.ERROR, position, element))

    def warning(self, code: str, message: str, position: Position | None, element: str) -> None:
        self.issues.append(PolicyIssue(code, message, Severity.WARNING, position, element))


def parse_policy(document: str | Node | dict[str, Any] | Any, *, policy_type: PolicyType = PolicyType.IDENTITY,
                 policy_id: str = "policy", source: str | None = None,
                 line_offset: int = 0, column_offset: int = 0, attachment: str | None = None) -> Policy:
    """Parse a policy from JSON text, a decoded :class:`Node` tree or plain Python objects.

    Never raises for bad content: JSON syntax errors and every validation problem become
    :class:`PolicyIssue` entries; a policy with errors is never used to allow anything.
    ``attachment`` names what the policy is attached to (a key of
    :data:`accesspath.policy.limits.SIZE_LIMITS`, e.g. ``"s3-bucket"``) for AWS's size limit;
    without it the policy type's largest limit applies.
    """
    collector = _Collector(policy_type)
    within = False
    if isinstance(document, str):
        try:
            root, floats = decode_json_counting_floats(document, source, line_offset=line_offset,
                                                       column_offset=column_offset)
            limit = limit_for(policy_type, attachment)
            within = limit is None or surely_within(document, floats, limit)
        except JsonSyntaxError as error:
            collector.error("json-syntax", f"the policy is not valid JSON: {error.message}",
                            error.position, "Policy")
            return Policy(policy_id, policy_type, None, None, (), tuple(collector.issues), source)
    else:
        try:
            root = node_from_python(document)
        except NestingError as error:
            collector.error("too-deep", f"the policy is not valid: {error}", None, "Policy")
            return Policy(policy_id, policy_type, None, None, (), tuple(collector.issues), source)
    if not within:
        _check_size(root, collector, attachment)
    policy = _parse_root(root, collector, policy_id, source)
    return replace(policy, attachment=attachment) if attachment is not None else policy


def _check_size(root: Node, c: _Collector, attachment: str | None) -> None:
    """AWS refuses to store a policy over its size limit (accesspath.policy.limits)."""
    limit = limit_for(c.policy_type, attachment)
    problem = size_problem(root, limit) if limit is not None else None
    if problem is not None:
        message, refused = problem
        (c.error if refused else c.warning)("policy-too-large", message, root.start, "Policy")


def _parse_root(root: Node, c: _Collector, policy_id: str, source: str | None) -> Policy:
    if not root.is_object:
        c.error("not-an-object", "a policy must be a JSON object", root.start, "Policy")
        return Policy(policy_id, c.policy_type, None, None, (), tuple(c.issues), source)
    members = _members(root, c, "Policy")
    for key, (key_pos, _node) in members.items():
        if key not in TOP_LEVEL:
            c.error("unknown-element", f"unknown policy element '{key}'"
                    f" (expected one of {', '.join(TOP_LEVEL)})", key_pos, key)
    version = None
    if "Version" in members:
        _, vnode = members["Version"]
        if isinstance(vnode.value, str) and vnode.value in VERSIONS:
            version = vnode.value
        else:
            c.error("bad-version", f"Version must be \"2012-10-17\" or \"2008-10-17\", not {_show(vnode)}",
                    vnode.start, "Version")
    if c.policy_type is PolicyType.RCP and version != "2012-10-17" and "Version" not in members:
        # orgs_manage_policies_rcps_syntax.html: "Every RCP must include a Version element with the
        # value 2012-10-17."
        c.error("rcp-version", "a resource control policy must have \"Version\": \"2012-10-17\"", root.start,
                "Version")
    elif c.policy_type is PolicyType.RCP and version == "2008-10-17":
        c.error("rcp-version", "a resource control policy must have \"Version\": \"2012-10-17\", not"
                " \"2008-10-17\"", members["Version"][1].start, "Version")
    policy_id_value = None
    if "Id" in members:
        inode = members["Id"][1]
        if isinstance(inode.value, str):
            policy_id_value = inode.value
        else:
            c.error("bad-id", "Id must be a string", inode.start, "Id")
    statements: list[Statement] = []
    if "Statement" not in members:
        c.error("missing-statement", "the policy has no Statement element", root.start, "Statement")
    else:
        snode = members["Statement"][1]
        items: tuple[Node, ...]
        if snode.is_object:
            items = (snode,)
        elif snode.is_array:
            items = snode.value
            if not items:
                c.error("empty-statement", "Statement is an empty list", snode.start, "Statement")
        else:
            c.error("bad-statement", "Statement must be an object or a list of objects", snode.start, "Statement")
            items = ()
        supports_variables = version == "2012-10-17"
        for index, item in enumerate(items):
            statement = _parse_statement(item, index, c, supports_variables)
            if statement is not None:
                statements.append(statement)
        _check_sids(statements, c)
    return Policy(policy_id, c.policy_type, version, policy_id_value, tuple(statements), tuple(c.issues), source,
                  root)


def _members(node: Node, c: _Collector, element: str) -> dict[str, tuple[Position | None, Node]]:
    """An object's members by name; duplicate names are errors (IAM rejects them)."""
    found: dict[str, tuple[Position | None, Node]] = {}
    for member in node.value:
        if member.key in found:
            c.error("duplicate-key", f"duplicate key '{member.key}' in {element}", member.key_start, member.key)
            continue
        found[member.key] = (member.key_start, member.value)
    return found


_IAM_POLICY_TYPES = (PolicyType.IDENTITY, PolicyType.PERMISSIONS_BOUNDARY, PolicyType.SESSION, PolicyType.SCP)
_SID_RE = re.compile(r"^[A-Za-z0-9]*$")


def _check_sids(statements: list[Statement], c: _Collector) -> None:
    seen: dict[str, Statement] = {}
    for statement in statements:
        if statement.sid is None:
            continue
        if c.policy_type in _IAM_POLICY_TYPES and not _SID_RE.match(statement.sid):
            # reference_policies_grammar.md: "For IAM policies, basic alphanumeric characters
            # (A-Z,a-z,0-9) are the only allowed characters in the Sid value."
            c.error("bad-sid", f"Sid '{statement.sid}' may only hold the letters A-Z, a-z and digits 0-9"
                    " in an IAM policy", statement.start, "Sid")
        if statement.sid in seen and c.policy_type in _IAM_POLICY_TYPES:
            c.error("duplicate-sid", f"Sid '{statement.sid}' is used by more than one statement"
                    " (statement ids must be unique in this policy)", statement.start, "Sid")
        seen.setdefault(statement.sid, statement)


def _parse_statement(node: Node, index: int, c: _Collector, supports_variables: bool) -> Statement | None:
    if not node.is_object:
        c.error("bad-statement", f"Statement[{index}] must be an object", node.start, "Statement")
        return None
    errors_before = sum(1 for i in c.issues if i.severity is Severity.ERROR)
    members = _members(node, c, f"Statement[{index}]")
    for key, (key_pos, _value) in members.items():
        if key not in STATEMENT_ELEMENTS:
            c.error("unknown-element", f"unknown statement element '{key}' in Statement[{index}]"
                    f" (expected one of {', '.join(STATEMENT_ELEMENTS)})", key_pos, key)

    sid = None
    if "Sid" in members:
        sid_node = members["Sid"][1]
        if isinstance(sid_node.value, str):
            sid = sid_node.value
        else:
            c.error("bad-sid", "Sid must be a string", sid_node.start, "Sid")

    effect = Effect.DENY  # placeholder when Effect is bad; the statement is then invalid
    if "Effect" not in members:
        c.error("missing-effect", f"Statement[{index}] has no Effect", node.start, "Effect")
    else:
        enode = members["Effect"][1]
        if enode.value == "Allow":
            effect = Effect.ALLOW
        elif enode.value == "Deny":
            effect = Effect.DENY
        else:
            c.error("bad-effect", f"Effect must be \"Allow\" or \"Deny\", not {_show(enode)}", enode.start, "Effect")

    principal = _parse_principal(members, index, c)

    action = _parse_actions(members, index, node, c)
    resource = _parse_resources(members, index, node, c, supports_variables)
    conditions = _parse_conditions(members, c, supports_variables)

    if c.policy_type is PolicyType.RCP and effect is Effect.ALLOW and not _is_full_access(principal, action, resource,
                                                                                      conditions):
        # orgs_manage_policies_rcps_syntax.html: "The effect of Allow is only supported for the
        # RCPFullAWSAccess policy" (Principal "*", Action "*", Resource "*", no Condition).
        c.error("rcp-allow", f"Statement[{index}]: an RCP statement with Allow must be the RCPFullAWSAccess"
                " statement (\"Principal\": \"*\", \"Action\": \"*\", \"Resource\": \"*\", no Condition);"
                " restrict with Deny statements", node.start, "Effect")

    if principal is not None and principal.negated and effect is Effect.ALLOW:
        c.warning("notprincipal-allow", "NotPrincipal with Allow grants access to every principal except"
                  " the ones listed, including anonymous users; AWS strongly recommends against it",
                  principal.position, "NotPrincipal")

    errors_after = sum(1 for i in c.issues if i.severity is Severity.ERROR)
    return Statement(index, sid, effect, principal, action, resource, conditions, node.start, node.end,
                     valid=errors_after == errors_before)


def _is_full_access(principal: PrincipalBlock | None, action: ActionBlock, resource: ResourceBlock | None,
                    conditions: tuple[ConditionClause, ...]) -> bool:
    return (principal is not None and not principal.negated and bool(principal.entries)
            and all(e.value == "*" for e in principal.entries)
            and not action.negated and action.texts == ("*",)
            and resource is not None and not resource.negated and resource.texts == ("*",) and not conditions)


def _strings(node: Node, c: _Collector, element: str) -> list[tuple[str, Position | None]]:
    """A string or a non-empty list of strings."""
    if isinstance(node.value, str) and not node.is_array and not node.is_object:
        return [(node.value, node.start)]
    if node.is_array:
        out = []
        if not node.value:
            c.error("empty-list", f"{element} is an empty list", node.start, element)
        for item in node.value:
            if isinstance(item.value, str) and not item.is_array and not item.is_object:
                out.append((item.value, item.start))
            else:
                c.error("bad-value", f"{element} values must be strings, not {_show(item)}", item.start, element)
        return out
    c.error("bad-value", f"{element} must be a string or a list of strings, not {_show(node)}", node.start, element)
    return []


def _parse_principal(members: dict[str, tuple[Position | None, Node]], index: int,
                     c: _Collector) -> PrincipalBlock | None:
    has_p, has_np = "Principal" in members, "NotPrincipal" in members
    policy_type = c.policy_type
    if has_p and has_np:
        c.error("principal-and-notprincipal", f"Statement[{index}] has both Principal and NotPrincipal",
                members["NotPrincipal"][0], "NotPrincipal")
    if not has_p and not has_np:
        if policy_type.requires_principal:
            c.error("missing-principal", f"Statement[{index}] of a {policy_type.label} must have a Principal",
                    None, "Principal")
        return None
    name = "Principal" if has_p else "NotPrincipal"
    key_pos, node = members[name]
    if not policy_type.takes_principal:
        c.error("unexpected-principal", f"a {policy_type.label} must not specify {name}"
                " (the policy applies to the identity it is attached to)", key_pos, name)
        return None
    entries: list[PrincipalEntry] = []
    if node.value == "*" and not node.is_object and not node.is_array:
        entries.append(PrincipalEntry("*", "*", node.start))
    elif node.is_object:
        for kind, (kpos, vnode) in _members(node, c, name).items():
            if kind not in PRINCIPAL_KINDS:
                c.error("bad-principal-type", f"unknown principal type '{kind}' in {name}"
                        f" (expected one of {', '.join(PRINCIPAL_KINDS)})", kpos, name)
                continue
            for value, vpos in _strings(vnode, c, f"{name}.{kind}"):
                problem = _principal_problem(kind, value)
                if problem:
                    code = "wildcard-in-principal" if value != "*" and ("*" in value or "?" in value) else "bad-principal"
                    c.error(code, f"invalid principal in policy: {problem}", vpos, name)
                    continue
                entries.append(PrincipalEntry(kind, value, vpos))
    else:
        c.error("bad-principal", f"{name} must be \"*\" or an object such as {{\"AWS\": \"123456789012\"}},"
                f" not {_show(node)}", node.start, name)
    if policy_type is PolicyType.ROLE_TRUST and has_np:
        # reference_policies_elements_notprincipal.md: "You cannot use the NotPrincipal element in an
        # IAM identity-based policy nor in an IAM role trust policy."
        c.error("trust-notprincipal", "a role trust policy cannot use NotPrincipal (name the principals that"
                " may assume the role in Principal)", key_pos, name)
    if policy_type is PolicyType.RCP and has_np:
        # Organizations user guide, orgs_manage_policies_rcps_syntax.html: the elements an RCP takes
        # are Version, Statement, Sid, Effect, Principal, Action, Resource, NotResource, Condition.
        c.error("rcp-element", "resource control policies do not take NotPrincipal (use \"Principal\": \"*\""
                " and a condition on aws:PrincipalArn)", key_pos, name)
    elif policy_type is PolicyType.RCP and not all(e.kind == "*" or (e.kind == "AWS" and e.value == "*")
                                                   for e in entries):
        c.error("rcp-principal", "resource control policies only take \"Principal\": \"*\"", node.start, name)
    return PrincipalBlock(tuple(entries), has_np and not has_p, node.start)


def _principal_problem(kind: str, value: str) -> str | None:
    if kind == "AWS":
        if value != "*" and ("*" in value or "?" in value):
            # reference_policies_elements_principal.md: "You cannot use a wildcard to match part of a
            # principal name or ARN."
            return (f"'{value}': a wildcard cannot match part of a principal name or ARN (use \"*\" alone,"
                    " or a condition on aws:PrincipalArn with ArnLike)")
        if value == "*" or _ACCOUNT_RE.match(value) or _AWS_PRINCIPAL_ARN_RE.match(value):
            return None
        return f"'{value}' is not an account id or an IAM user, role, session or root ARN"
    if kind == "Service":
        if value == "*" or ("*" not in value and "." in value):
            return None
        return f"'{value}' is not a service principal such as 'ecs-tasks.amazonaws.com'"
    if not value:
        return f"empty {kind} principal"
    return None


def _parse_actions(members: dict[str, tuple[Position | None, Node]], index: int, statement: Node,
                   c: _Collector) -> ActionBlock:
    has_a, has_na = "Action" in members, "NotAction" in members
    if has_a and has_na:
        c.error("action-and-notaction", f"Statement[{index}] has both Action and NotAction",
                members["NotAction"][0], "NotAction")
    if not has_a and not has_na:
        c.error("missing-action", f"Statement[{index}] has neither Action nor NotAction", statement.start, "Action")
        return ActionBlock((), False, statement.start)
    name = "Action" if has_a else "NotAction"
    node = members[name][1]
    patterns = []
    for value, pos in _strings(node, c, name):
        if value != "*" and not _ACTION_RE.match(value):
            if ":" not in value:
                c.error("bad-action", f"action '{value}' must be prefixed by a service, as in 's3:GetObject'",
                        pos, name)
            else:
                c.error("bad-action", f"'{value}' is not a valid action name", pos, name)
            continue
        prefix = value.split(":", 1)[0]
        if value != "*" and ("*" in prefix or "?" in prefix):
            # reference_policies_elements_action.md: an action is "a service namespace as an action
            # prefix" followed by the action name; wildcards go in the name ("s3:*", "iam:*AccessKey*").
            c.error("wildcard-in-service-prefix", f"action '{value}': the service prefix cannot hold a wildcard"
                    " (name the service, as in 's3:GetObject' or 's3:*')", pos, name)
            continue
        patterns.append(Pattern.compile(value, mode=WHOLE, ignore_case=True))
    if c.policy_type is PolicyType.RCP and not has_a:
        c.error("rcp-element", "resource control policies do not take NotAction (orgs_manage_policies_rcps_syntax)",
                members[name][0], name)
    return ActionBlock(tuple(patterns), not has_a, node.start)


def _parse_resources(members: dict[str, tuple[Position | None, Node]], index: int, statement: Node,
                     c: _Collector, supports_variables: bool) -> ResourceBlock | None:
    has_r, has_nr = "Resource" in members, "NotResource" in members
    if has_r and has_nr:
        c.error("resource-and-notresource", f"Statement[{index}] has both Resource and NotResource",
                members["NotResource"][0], "NotResource")
    if not has_r and not has_nr:
        if c.policy_type is not PolicyType.ROLE_TRUST:
            c.error("missing-resource", f"Statement[{index}] has neither Resource nor NotResource",
                    statement.start, "Resource")
        return None
    name = "Resource" if has_r else "NotResource"
    node = members[name][1]
    patterns = []
    for value, pos in _strings(node, c, name):
        if value != "*" and not value.startswith("arn:"):
            if value.count(":") >= 5:
                c.warning("resource-not-arn", f"resource '{value}' does not start with 'arn:'", pos, name)
            else:
                c.error("bad-resource", f"resource '{value}' must be an ARN or \"*\"", pos, name)
                continue
        pattern = Pattern.compile(value, mode=ARN, variables=supports_variables)
        segments = value.split(":", 5)
        if len(segments) == 6 and ("*" in segments[2] or "?" in segments[2]):
            c.warning("wildcard-in-service", f"resource '{value}': a wildcard in the service segment is not"
                      " a wildcard (AWS does not allow one there), so it matches nothing", pos, name)
        if supports_variables and len(segments) == 6 and "${" in ":".join(segments[:5]):
            c.warning("variable-before-resource", f"resource '{value}': policy variables only work in the"
                      " resource part of an ARN (after the fifth colon); here they are literal text", pos, name)
        patterns.append(pattern)
    return ResourceBlock(tuple(patterns), not has_r, node.start)


def _parse_conditions(members: dict[str, tuple[Position | None, Node]], c: _Collector,
                      supports_variables: bool) -> tuple[ConditionClause, ...]:
    if "Condition" not in members:
        return ()
    node = members["Condition"][1]
    if not node.is_object:
        c.error("bad-condition", f"Condition must be an object, not {_show(node)}", node.start, "Condition")
        return ()
    clauses: list[ConditionClause] = []
    for operator_text, (opos, block) in _members(node, c, "Condition").items():
        try:
            operator = parse_operator(operator_text)
        except OperatorError as error:
            c.error("bad-operator", str(error), opos, "Condition")
            continue
        if not block.is_object:
            c.error("bad-condition", f"the value of '{operator_text}' must be an object of condition keys",
                    block.start, "Condition")
            continue
        for key, (kpos, values_node) in _members(block, c, operator_text).items():
            clause = _parse_clause(operator_text, operator, key, kpos, values_node, c, supports_variables)
            if clause is not None:
                clauses.append(clause)
    return tuple(clauses)


def _parse_clause(operator_text: str, operator: Any, key: str, kpos: Position | None, values_node: Node,
                  c: _Collector, supports_variables: bool) -> ConditionClause | None:
    spec = operator.spec
    raw_values: list[tuple[Any, Position | None]]
    if values_node.is_array:
        raw_values = [(n.value if not (n.is_array or n.is_object) else n, n.start) for n in values_node.value]
        if not raw_values:
            c.error("empty-list", f"condition key '{key}' has an empty list of values", values_node.start, key)
            return None
    elif values_node.is_object:
        c.error("bad-condition-value", f"condition key '{key}' must have a string or a list of strings",
                values_node.start, key)
        return None
    else:
        raw_values = [(values_node.value, values_node.start)]
    if not key or ":" not in key:
        c.error("bad-condition-key", f"condition key '{key}' must be prefixed by a service or 'aws:'", kpos, key)
        return None
    texts: list[str] = []
    parsed: list[object] = []
    patterns: list[Pattern] = []
    variables = supports_variables and spec.takes_variables
    for raw, pos in raw_values:
        text = scalar_text(raw)
        if text is None:
            c.error("bad-condition-value", f"condition values must be strings, numbers or booleans,"
                    f" not {_show(raw) if isinstance(raw, Node) else 'null'} (key '{key}')", pos, key)
            return None
        texts.append(text)
        family = spec.family
        if family in POLICY_VALUE_PARSERS:
            try:
                parsed.append(POLICY_VALUE_PARSERS[family](text))
            except ValueError as error:
                c.error("bad-condition-value", f"{operator_text} on '{key}': {error}", pos, key)
                return None
        elif family == "bool":
            if not (variables and "${" in text):
                try:
                    parse_bool(text)
                except ValueError as error:
                    c.error("bad-condition-value", f"Bool on '{key}': {error}", pos, key)
                    return None
            patterns.append(Pattern.compile(text.lower() if "${" not in text else text,
                                            mode=LITERAL, variables=variables, ignore_case=True))
        elif family == "arn":
            patterns.append(Pattern.compile(text, mode=ARN, variables=variables))
        else:  # string
            if spec.comparison == "like":
                patterns.append(Pattern.compile(text, mode=WHOLE, variables=variables))
            else:
                patterns.append(Pattern.compile(text, mode=LITERAL, variables=variables,
                                                ignore_case=spec.comparison == "ignorecase"))
    if operator.set_operator is not None and spec.family == "null":
        c.warning("set-operator-on-null", f"'{operator_text}': set operators have no effect with Null", kpos, key)
    return ConditionClause(operator_text, spec.name, operator.set_operator, operator.if_exists, key,
                           tuple(texts), tuple(patterns), tuple(parsed), kpos)


def _show(node: Any) -> str:
    value = node.to_python() if isinstance(node, Node) else node
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"\"{value}\""
    return str(value)
