"""A tiny, plainly written reference evaluator for `accesspath simulate` requests.

It exists only to be compared with the fast engine on random inputs (tests/test_properties.py).
It reads the same request dict (docs/simulate.md) and returns one decision per action x resource.
It does no caching, no compilation and no indexing: every rule is written out straight from
docs/evaluation.md and the IAM User Guide pages in doc_source/ it names.

It covers the subset the property-test generators produce: identity policies, one resource
policy (resource / role-trust / kms-key), a permissions boundary, session policies, a VPC
endpoint policy, SCP and RCP levels; callers that are IAM users, roles, assumed-role sessions,
account roots, service principals or anonymous; Principal and NotPrincipal; all condition
operators. Policies are assumed to be valid (the generators only make valid ones): a request it
does not cover raises NotCovered.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = "allowed", "explicitDeny", "implicitDeny"


class Unevaluable(Exception):
    """A request value that the operator cannot read (docs/evaluation.md, "Fail closed")."""


class NotCovered(Exception):
    """A request outside what this reference reads (see the module docstring)."""


# ---------------------------------------------------------------- wildcards
# A pattern is a list of tokens: "*" and "?" are wildcards, ("lit", c) a literal character.
# Literal tokens are needed because ${*} and ${?} stand for the plain characters
# (reference_policies_variables.md, "Special characters").

def plain_tokens(text):
    return [c if c in "*?" else ("lit", c) for c in text]


def glob(tokens, text, ignore_case=False):
    """True when the token list matches all of text; '*' any run, '?' one character."""
    if ignore_case:
        text = text.lower()
        tokens = [t if t in ("*", "?") else ("lit", t[1].lower()) for t in tokens]
    # ok[i][j]: tokens[i:] match text[j:]; filled from the end (a plain DP, no regex).
    n, m = len(tokens), len(text)
    ok = [[False] * (m + 1) for _ in range(n + 1)]
    ok[n][m] = True
    for i in range(n - 1, -1, -1):
        for j in range(m, -1, -1):
            t = tokens[i]
            if t == "*":
                ok[i][j] = ok[i + 1][j] or (j < m and ok[i][j + 1])
            elif t == "?":
                ok[i][j] = j < m and ok[i + 1][j + 1]
            else:
                ok[i][j] = j < m and text[j] == t[1] and ok[i + 1][j + 1]
    return ok[0][0]


def tokens_text(tokens):
    return "".join(t if t in ("*", "?") else t[1] for t in tokens)


def split_tokens(tokens, parts):
    """Split a token list at its first parts-1 literal ':' characters."""
    out, cur = [], []
    for t in tokens:
        if t == ("lit", ":") and len(out) < parts - 1:
            out.append(cur)
            cur = []
        else:
            cur.append(t)
    out.append(cur)
    return out


def arn_match(tokens, arn):
    """ARN operators (reference_policies_elements_condition_operators.md): "Each of the six
    colon-delimited components of the ARN is checked separately". A pattern that is not an ARN
    is matched against the whole string, as for resources (docs/evaluation.md, "Matching")."""
    pattern_parts = split_tokens(tokens, 6)
    if len(pattern_parts) < 6 or tokens_text(pattern_parts[0]) != "arn":
        return glob(tokens, arn)
    arn_parts = arn.split(":", 5)
    return len(arn_parts) == 6 and all(glob(p, a) for p, a in zip(pattern_parts, arn_parts))


def resource_match(pattern, resource, context, version):
    """reference_policies_elements_resource.md, "Using wildcards in resource ARNs": the first five
    segments are matched one by one, the resource part (after the fifth colon) as a whole, where
    '*' may span '/' and ':'. "You can't use a wildcard in the service segment", and variables
    only in "the resource portion of the ARN" (reference_policies_variables.md): elsewhere both are
    plain characters. A pattern that is not an ARN matches the whole string (docs/evaluation.md)."""
    parts = pattern.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        tokens = substitute(pattern, context, version)
        return tokens is not None and glob(tokens, resource)
    resource_part = substitute(parts[5], context, version)
    if resource_part is None:
        return False  # a variable with no value: "will not match any resource"
    heads = [plain_tokens(p) for p in parts[:5]]
    heads[2] = [("lit", c) for c in parts[2]]
    arn_parts = resource.split(":", 5)
    return len(arn_parts) == 6 and all(glob(p, a) for p, a in zip(heads + [resource_part], arn_parts))


# ---------------------------------------------------------------- policy variables

def substitute(text, context, version):
    """reference_policies_variables.md: ${key} is replaced by the key's single value; under a
    Version other than 2012-10-17 it is literal text. Returns tokens, or None when a variable has
    no value (missing without default, or multivalued): such a value "matches nothing"."""
    if version != "2012-10-17":
        return plain_tokens(text)
    tokens, i = [], 0
    while i < len(text):
        end = text.find("}", i + 2)
        if text.startswith("${", i) and end != -1:
            inner = text[i + 2:end]
            if inner in ("*", "?", "$"):
                tokens.append(("lit", inner))  # "Special characters"
            else:
                key, default = inner, None
                if "," in inner:  # "Specifying default values": ${key, 'default'}
                    key, rest = inner.split(",", 1)
                    rest = rest.strip()
                    if len(rest) >= 2 and rest[0] == rest[-1] == "'":
                        default = rest[1:-1]
                entry = context.get(key.strip().lower())
                # "You can't use a multivalued condition key as a variable" (a *List type).
                if entry is not None and len(entry[1]) == 1 and not entry[0].endswith("List"):
                    value = entry[1][0]
                elif entry is None and default is not None:
                    value = default
                else:
                    return None  # "Policy variables with no value"
                tokens.extend(("lit", c) for c in value)
            i = end + 1
        else:
            tokens.extend(plain_tokens(text[i]))
            i += 1
    return tokens


# ---------------------------------------------------------------- conditions
# reference_policies_elements_condition_operators.md

def as_strings(value):
    values = value if isinstance(value, list) else [value]
    return [("true" if v else "false") if isinstance(v, bool) else str(v) for v in values]


def parse_number(text):
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise Unevaluable(text) from None
    if not number.is_finite():  # Decimal reads "NaN" and "Infinity"; they are no numbers
        raise Unevaluable(text)
    return number


def parse_date(text):
    """W3C ISO 8601 dates or epoch seconds ("Date condition operators")."""
    text = text.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), tz=timezone.utc)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Unevaluable(text) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def parse_ip(text):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise Unevaluable(text) from None


def compare(base, request_value, policy_tokens):
    """One request value against one policy value, for a non-negated base operator."""
    policy_text = tokens_text(policy_tokens)
    if base == "StringEquals":
        return request_value == policy_text
    if base == "StringEqualsIgnoreCase":
        return request_value.lower() == policy_text.lower()
    if base == "StringLike":
        return glob(policy_tokens, request_value)
    if base in ("ArnEquals", "ArnLike"):  # the two "behave identically"
        return arn_match(policy_tokens, request_value)
    if base == "Bool":
        if request_value.lower() not in ("true", "false"):
            raise Unevaluable(request_value)
        return request_value.lower() == policy_text.lower()
    if base == "BinaryEquals":  # base64 text, compared as the bytes it encodes
        try:
            request_bytes = base64.b64decode(request_value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise Unevaluable(request_value) from None
        return request_bytes == base64.b64decode(policy_text.strip(), validate=True)
    if base == "IpAddress":
        network = ipaddress.ip_network(policy_text.strip(), strict=False)  # no prefix: /32
        address = parse_ip(request_value)
        return address.version == network.version and address in network
    if base.startswith("Numeric"):
        a, b = parse_number(request_value), parse_number(policy_text)
    elif base.startswith("Date"):
        a, b = parse_date(request_value), parse_date(policy_text)
    else:
        raise NotCovered(f"operator not covered by the reference: {base}")
    relation = base[len("Numeric"):] if base.startswith("Numeric") else base[len("Date"):]
    return {"Equals": a == b, "LessThan": a < b, "LessThanEquals": a <= b,
            "GreaterThan": a > b, "GreaterThanEquals": a >= b}[relation]


NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
           "StringNotLike": "StringLike", "NumericNotEquals": "NumericEquals",
           "DateNotEquals": "DateEquals", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
           "NotIpAddress": "IpAddress"}
TAKES_VARIABLES = ("String", "Arn", "Bool")  # "Where you can use policy variables"


def condition_holds(operator, key, policy_value, context, version):
    """One operator/key pair; raises Unevaluable when a request value cannot be read."""
    set_operator = None
    if ":" in operator:
        set_operator, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists") and operator != "Null"
    base = operator[:-len("IfExists")] if if_exists else operator
    entry = context.get(key.lower())  # "Condition key names are case-insensitive"
    request_values = entry[1] if entry else []
    policy_values = as_strings(policy_value)

    if base == "Null":  # "true": the key is absent; "false": it is present
        return any((v.lower() == "true") == (not request_values) for v in policy_values)

    if not request_values:  # a missing key, or an empty list, counts as missing
        if if_exists or set_operator == "ForAllValues":
            return True
        if set_operator == "ForAnyValue":
            return False
        return base in NEGATED  # negated operators hold for a missing key

    if set_operator is None and entry[0].endswith("List"):
        # "Multivalued context keys require a condition set operator"
        # (reference_policies_condition-single-vs-multi-valued-context-keys.md); how AWS reads one
        # without is not documented: docs/evaluation.md reads it as a condition that cannot be evaluated.
        raise Unevaluable(key)

    positive = NEGATED.get(base, base)
    patterns = []
    for v in policy_values:
        if positive.startswith(TAKES_VARIABLES):
            tokens = substitute(v, context, version)
            if tokens is not None:  # a variable with no value matches nothing
                patterns.append(tokens)
        else:
            patterns.append(plain_tokens(v))

    def satisfies(request_value):
        # Several policy values: OR; for a negated operator: none may match (NOR).
        matched = any(compare(positive, request_value, p) for p in patterns)
        return not matched if base in NEGATED else matched

    if set_operator == "ForAllValues":
        return all(satisfies(rv) for rv in request_values)
    if set_operator == "ForAnyValue":
        return any(satisfies(rv) for rv in request_values)
    if base in NEGATED:
        return all(satisfies(rv) for rv in request_values)
    return any(satisfies(rv) for rv in request_values)


def conditions_hold(condition_block, context, version):
    """All operators and all keys must hold (AND): "All conditions must resolve to true to invoke
    the desired Allow or Deny effect" (reference_policies_multi-value-conditions.md). Returns
    True, False or "error"; a condition that is false outweighs one that cannot be evaluated."""
    results = []
    for operator, keys in (condition_block or {}).items():
        for key, value in keys.items():
            try:
                results.append(condition_holds(operator, key, value, context, version))
            except Unevaluable:
                results.append("error")
    if "error" in results and False not in results:
        return "error"
    return False not in results


# ---------------------------------------------------------------- principals
# reference_policies_elements_principal.md; docs/evaluation.md "Principals"

def describe_caller(caller_arn):
    """kind, account, the role ARN its sessions belong to, and the ARN itself."""
    caller = {"arn": caller_arn, "account": None, "role_arn": None, "name": None}
    if caller_arn == "anonymous":
        return dict(caller, kind="anonymous")
    if not caller_arn.startswith("arn:"):
        return dict(caller, kind="service")
    parts = caller_arn.split(":", 5)
    caller["account"], resource = parts[4], parts[5]
    if resource == "root":
        return dict(caller, kind="root")
    if resource.startswith("user/"):
        return dict(caller, kind="user", name=resource.split("/")[-1])
    if resource.startswith("role/"):  # "a role (treated as a session of that role)"
        return dict(caller, kind="session", role_arn=caller_arn)
    if resource.startswith("assumed-role/"):
        role_name = resource.split("/")[1]
        return dict(caller, kind="session", role_arn=f"arn:aws:iam::{parts[4]}:role/{role_name}")
    if resource.startswith("federated-user/"):
        return dict(caller, kind="federated")
    raise NotCovered(f"caller not covered by the reference: {caller_arn}")


def not_principal_applies(not_principal, caller, effect, boundary):
    """docs/evaluation.md, "NotPrincipal": each identity of the caller's chain (account; user; or
    role, then session) is looked up; a Deny applies unless every one is listed, an Allow only when
    none is. access_policies_boundaries.md: a Deny with NotPrincipal "will always deny any IAM
    principal that has a permissions boundary policy attached"."""
    if effect == "Deny" and boundary and caller["kind"] in ("user", "session", "federated"):
        return True
    listed = set()
    for kind, values in not_principal.items():
        for value in (values if isinstance(values, list) else [values]):
            grant = principal_grant({kind: value}, caller)
            if grant:
                listed.add(grant)
    chain = {"session": {"account", "role", "direct"}, "user": {"account", "direct"},
             "federated": {"account", "direct"}, "root": {"account"}}.get(caller["kind"], {"direct"})
    return not chain <= listed if effect == "Deny" else not listed


def principal_grant(principal, caller):
    """How a Principal element names the caller: "direct", "role", "account" or None."""
    if principal == "*":
        return "direct"
    found = []
    for kind, values in principal.items():
        for value in (values if isinstance(values, list) else [values]):
            if kind == "AWS" and value == "*":
                found.append("direct")  # "*" matches everyone, anonymous included
            elif kind == "AWS" and caller["account"] and value in (
                    caller["account"], f"arn:aws:iam::{caller['account']}:root"):
                found.append("account")  # delegates to the account
            elif (kind == "AWS" and caller["role_arn"] and value.startswith(f"arn:aws:iam::{caller['account']}:role/")
                  and value.split("/")[-1] == caller["role_arn"].split("/")[-1]):
                # A role ARN matches that role's sessions; session ARNs leave out the role's path,
                # and a role name is unique in its account whatever the path.
                found.append("role")
            elif kind in ("AWS", "Service", "Federated") and value == caller["arn"]:
                found.append("direct")  # users, sessions, services: exact match
    for strongest in ("direct", "role", "account"):
        if strongest in found:
            return strongest
    return None


# ---------------------------------------------------------------- statements

def as_list(value):
    return value if isinstance(value, list) else [value]


def load(policy):
    return json.loads(policy) if isinstance(policy, str) else policy


def statement_applies(statement, action, resource, context, version):
    """Action, Resource and Condition of one statement (Principal is checked by the caller).
    Returns True, False or "error" (a condition that could not be evaluated)."""
    if "Action" in statement:
        if not any(glob(plain_tokens(p), action, ignore_case=True) for p in as_list(statement["Action"])):
            return False
    elif any(glob(plain_tokens(p), action, ignore_case=True) for p in as_list(statement["NotAction"])):
        return False
    for element in ("Resource", "NotResource"):
        if element in statement:
            hit = any(resource_match(p, resource, context, version) for p in as_list(statement[element]))
            if hit != (element == "Resource"):
                return False
    return conditions_hold(statement.get("Condition"), context, version)


def matching(policies, effect, action, resource, context, caller, use_principal, boundary=False):
    """Grants ("direct"/"role"/"account", or True without Principal) of the matching statements."""
    grants = []
    for policy in policies:
        policy = load(policy)
        version = policy.get("Version")
        for statement in as_list(policy.get("Statement", [])):
            if statement.get("Effect") != effect:
                continue
            grant = True
            if use_principal and "Principal" in statement:
                grant = principal_grant(statement["Principal"], caller)
                if grant is None:
                    continue
            elif use_principal and "NotPrincipal" in statement:
                if not not_principal_applies(statement["NotPrincipal"], caller, effect, boundary):
                    continue
                grant = "direct"
            applies = statement_applies(statement, action, resource, context, version)
            # "A condition that cannot be evaluated makes an Allow statement not apply and a
            # Deny statement apply" (docs/evaluation.md, "Fail closed").
            if applies is True or (applies == "error" and effect == "Deny"):
                grants.append(grant)
    return grants


# ---------------------------------------------------------------- the decision

def read_context(entries, caller):
    """ContextEntries by lowercased key, over the principal keys AWS puts in every request
    (reference_policies_condition-keys.md: aws:PrincipalArn, aws:PrincipalAccount, ...;
    reference_policies_variables.md, "Principal key values": aws:username for IAM users)."""
    context = {}
    if caller["kind"] in ("user", "session", "root", "federated"):
        principal_type = {"user": "User", "session": "AssumedRole", "root": "Account",
                          "federated": "FederatedUser"}[caller["kind"]]
        # "For IAM roles, the request context returns the ARN of the role"
        context["aws:principalarn"] = ("arn", [caller["role_arn"] or caller["arn"]])
        context["aws:principalaccount"] = ("string", [caller["account"]])
        context["aws:principaltype"] = ("string", [principal_type])
        context["aws:principalisawsservice"] = ("boolean", ["false"])
        if caller["kind"] == "user":
            context["aws:username"] = ("string", [caller["name"]])
    elif caller["kind"] == "service":
        context["aws:principalisawsservice"] = ("boolean", ["true"])
        context["aws:principalservicename"] = ("string", [caller["arn"]])
    for entry in entries or []:
        context[entry["ContextKeyName"].lower()] = (entry.get("ContextKeyType", "string"),
                                                   list(entry.get("ContextKeyValues", [])))
    return context


def account_of(owner):
    return owner.split(":")[4] if owner.startswith("arn:") else owner


def evaluate(request):
    """{(action, resource): decision} for every pair of the request."""
    caller = describe_caller(request["CallerArn"])
    context = read_context(request.get("ContextEntries"), caller)
    is_principal = caller["kind"] not in ("service", "anonymous")  # they have no identity policies
    is_session = caller["kind"] in ("session", "federated")
    # Policies attach to users and roles; the account root user takes none and "has full access"
    # (reference_policies_evaluation-logic.md, "Determining whether a request is allowed").
    has_policies = is_principal and caller["kind"] != "root"
    identity = request.get("PolicyInputList", []) if has_policies else []
    boundary = request.get("PermissionsBoundaryPolicyInputList") or [] if has_policies else []
    session = request.get("SessionPolicyInputList") or [] if is_session else []
    resource_policy = [request["ResourcePolicy"]] if request.get("ResourcePolicy") else []
    vpce = [request["VpcEndpointPolicy"]] if request.get("VpcEndpointPolicy") else []
    owner = account_of(request.get("ResourceOwner") or caller["account"] or "")
    same_account = caller["account"] is not None and owner == caller["account"]
    slr, management = request.get("ServiceLinkedRole", False), request.get("ManagementAccount", False)
    # SCPs: not for service-linked roles, the management account, or service principals.
    scps = request.get("ServiceControlPolicies") or []
    if slr or management or not is_principal:
        scps = []
    # RCPs: not for service-linked roles, nor for the management account's own resources.
    rcps = request.get("ResourceControlPolicies") or []
    if slr or (management and same_account):
        rcps = []
    # RCPs govern only the services that support them (Organizations user guide,
    # orgs_manage_policies_rcps.html, "List of AWS services that support RCPs").
    rcp_services = ("s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss", "cognito-identity",
                    "dynamodb", "logs")

    decisions = {}
    for action in request["ActionNames"]:
        for resource in request.get("ResourceArns") or ["*"]:
            # docs/simulate.md: role-trust for sts:AssumeRole*; sts:TagSession and
            # sts:SetSourceIdentity are granted by the trust policy too (id_session-tags.md); the
            # key policy for a kms: action on a key ARN (arn:...:kms:REGION:ACCOUNT:key/ID).
            resource_parts = resource.split(":", 5)
            policy_type = request.get("ResourcePolicyType") or (
                "role-trust" if action.lower().startswith("sts:assumerole")
                or action.lower() in ("sts:tagsession", "sts:setsourceidentity")
                else "kms-key" if action.lower().startswith("kms:") and len(resource_parts) == 6
                and resource_parts[2] == "kms" and resource_parts[5].startswith("key/")
                else "resource")
            if ((action.lower() == "sts:getcalleridentity" and is_principal)
                    or (action.lower() == "sts:getsessiontoken" and caller["kind"] in ("user", "root"))):
                # "No permissions are required to perform this operation ... you can still perform
                # this operation" (id_credentials_temp_request.md); "No permissions are required for
                # a user to get a session token" (id_credentials_temp_control-access_getsessiontoken.md).
                decisions[action, resource] = ALLOWED
                continue
            levels = rcps if action.split(":")[0].lower() in rcp_services else []

            def allows(policies, principal=False):
                return matching(policies, "Allow", action, resource, context, caller, principal, bool(boundary))

            def denies(policies, principal=False):
                return bool(matching(policies, "Deny", action, resource, context, caller, principal, bool(boundary)))

            # 1. Explicit deny anywhere (reference_policies_evaluation-logic.md, "Deny evaluation").
            if (denies(identity) or denies(boundary) or denies(session)
                    or denies(resource_policy, True) or denies(vpce, True)
                    or any(denies(level) for level in scps)
                    or any(denies(level, True) for level in levels)):
                decisions[action, resource] = EXPLICIT_DENY
                continue
            # 2-4. Every SCP level, every RCP level and the VPC endpoint policy need an Allow.
            if (not all(allows(level) for level in scps)
                    or not all(allows(level, True) for level in levels)
                    or (vpce and not allows(vpce, True))):
                decisions[action, resource] = IMPLICIT_DENY
                continue
            # 5-7. Identity side: identity policy (the account root needs none), permissions
            # boundary, session policy.
            identity_ok = bool(allows(identity)) or caller["kind"] == "root"
            boundary_ok = not boundary or bool(allows(boundary))
            # "a federated user session without a session policy has no permissions"
            session_ok = bool(allows(session)) if session else caller["kind"] != "federated"
            grants = set(allows(resource_policy, True))
            if not same_account:
                # 8. Cross-account: both the identity side and the resource side must allow
                # (reference_policies_evaluation-logic-cross-account.md).
                allowed = is_principal and identity_ok and boundary_ok and session_ok and bool(grants)
            elif "direct" in grants:
                # A grant to the user/session ARN or "*" is final ("Resource-based policies and
                # implicit denies", reference_policies_evaluation-logic.md).
                allowed = True
            elif "role" in grants:
                allowed = boundary_ok and session_ok  # the role ARN stands in for identity
            elif policy_type in ("role-trust", "kms-key"):
                # Trust and key policies must allow themselves; an account grant delegates.
                allowed = "account" in grants and identity_ok and boundary_ok and session_ok
            else:
                allowed = identity_ok and boundary_ok and session_ok
            if not is_principal and not same_account:
                allowed = "direct" in grants  # only a resource-based policy can allow them
            decisions[action, resource] = ALLOWED if allowed else IMPLICIT_DENY
    return decisions
