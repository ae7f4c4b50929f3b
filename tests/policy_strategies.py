"""Hypothesis strategies for realistic `simulate` requests (docs/simulate.md).

Everything is drawn from small alphabets so that random policies and random requests actually
meet: a handful of actions, resource ARNs, principals and condition keys, with the wildcards,
negations, set operators and policy variables that make IAM evaluation subtle. The generated
policies are valid; tests that want broken ones build them on top.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

ACCOUNT, OTHER_ACCOUNT = "111122223333", "444455556666"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/s1"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
SERVICE = "ecs-tasks.amazonaws.com"
FEDERATED = f"arn:aws:sts::{ACCOUNT}:federated-user/alice"
CALLERS = {"user": USER, "session": SESSION, "role": ROLE, "root": ROOT, "service": SERVICE,
           "federated": FEDERATED, "anonymous": "anonymous"}

ACTIONS = ["s3:GetObject", "s3:PutObject", "ecs:ListClusters", "ecs:DescribeClusters",
           "logs:PutLogEvents", "sts:AssumeRole", "kms:Decrypt", "sts:GetCallerIdentity"]
# No wildcard in a service prefix: AWS rejects it (docs/evaluation.md, "Grammar AWS rejects").
ACTION_PATTERNS = ACTIONS + ["S3:getobject", "s3:*", "s3:Get*", "*", "ecs:*Clusters", "ecs:Describe?lusters",
                             "kms:*", "logs:Put*", "sts:Assume*", "ecs:List*", "s3:*Object"]

RESOURCES = [
    "arn:aws:s3:::bucket-a/alice/data.txt",
    "arn:aws:s3:::bucket-a/logs/x",
    "arn:aws:s3:::bucket-b",
    f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/dev",
    f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:app:log-stream:s",
    ROLE,
    f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1",
]
RESOURCE_PATTERNS = RESOURCES + [
    "*", "arn:aws:s3:::bucket-a/*", "arn:aws:s3:::bucket-?/*", "arn:aws:s3:::bucket-a/${aws:username}/*",
    "arn:aws:s3:::*log*", "arn:aws:s3:::bucket-${aws:PrincipalTag/team}",
    "arn:aws:s3:::bucket-${aws:PrincipalTag/team, 'a'}/*", f"arn:aws:ecs:*:{ACCOUNT}:cluster/*",
    "arn:aws:ecs:us-east-1:*:*", "arn:aws:logs:*:*:log-group:app:*", "arn:aws:kms:*:*:key/*",
    "arn:aws:iam::*:role/app", "arn:aws:s3:::Bucket-a/*", "arn:aws:s3:::bucket-a/${*}",
    "arn:*", "arn:aws:s?:::bucket-b", "arn:aws:ecs:${aws:PrincipalTag/team}:*:*",
]

# Condition keys: request type, request values, operator family, policy values.
KEYS = {
    "aws:username": ("string", ["alice", "bob", "Alice"], "String",
                     ["alice", "al*", "A?ice", "bob", "${aws:PrincipalTag/team, 'alice'}", "${aws:TagKeys}"]),
    "aws:PrincipalTag/team": ("string", ["a", "b", "A", "*"], "String",
                              ["a", "b", "${aws:username}", "?", "${*}", "${aws:PrincipalTag/team}"]),
    "aws:SourceVpce": ("string", ["vpce-1", "vpce-2"], "String", ["vpce-1", "vpce-*", "${aws:SourceVpce}"]),
    "aws:SourceArn": ("string", [f"arn:aws:sns:us-east-1:{ACCOUNT}:topic", "arn:aws:sns:eu-west-1:9:t:x"],
                      "Arn", [f"arn:aws:sns:*:{ACCOUNT}:*", "arn:aws:sns:*:*:t*", f"arn:aws:sns:us-east-1:{ACCOUNT}:topic",
                       "arn:aws:sns:*", "*"]),
    "aws:SourceIp": ("ip", ["203.0.113.7", "198.51.100.1", "2001:db8::1"], "Ip",
                     ["203.0.113.0/24", "198.51.100.1", "2001:db8::/32"]),
    "aws:SecureTransport": ("boolean", ["true", "false"], "Bool", ["true", "false", True, False]),
    "aws:CurrentTime": ("date", ["2024-05-01T12:00:00Z", "2023-01-01T00:00:00Z", "1714564800", "2024-05-01"], "Date",
                        ["2024-01-01T00:00:00Z", "1700000000", "2024-05-01T12:00:00Z"]),
    "s3:max-keys": ("numeric", ["5", "10", "100", "10.0"], "Numeric", ["10", "5.0", "50", "-1", 7]),
    "aws:PrincipalArn": ("string", [USER, ROLE], "Arn", [ROLE, USER, f"arn:aws:iam::{ACCOUNT}:*", "arn:aws:iam::*:role/a*"]),
    "aws:PrincipalAccount": ("string", [ACCOUNT, OTHER_ACCOUNT], "String", [ACCOUNT, "4444*"]),
    "aws:TagKeys": ("stringList", ["env", "team", "cost"], "String", ["env", "team", "t*"]),
    "ec2:UserData": ("binary", ["QUJD", "eHl6", "QUJDRA=="], "Binary", ["QUJD", "eHl6"]),
}
OPERATORS = {
    "String": ["StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
               "StringLike", "StringNotLike"],
    "Arn": ["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "StringLike"],
    "Ip": ["IpAddress", "NotIpAddress"],
    "Bool": ["Bool"],
    "Date": ["DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
             "DateGreaterThanEquals"],
    "Numeric": ["NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
                "NumericGreaterThan", "NumericGreaterThanEquals"],
    "Binary": ["BinaryEquals"],
}

PRINCIPALS = ["*", {"AWS": "*"}, {"AWS": ACCOUNT}, {"AWS": ROOT}, {"AWS": USER}, {"AWS": ROLE},
              {"AWS": SESSION}, {"Service": SERVICE}, {"AWS": OTHER_ACCOUNT},
              {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:user/mallory"}, {"AWS": [OTHER_ACCOUNT, USER]},
              {"AWS": [ROLE, ACCOUNT]}, {"Service": ["ecs.amazonaws.com", SERVICE]}, {"AWS": FEDERATED},
              {"AWS": f"arn:aws:iam::{ACCOUNT}:role/service-role/app"}]


def one_or_many(elements, max_size=3):
    """A JSON value that IAM reads as a list: a single string or a list of them."""
    return st.one_of(st.sampled_from(elements), st.lists(st.sampled_from(elements), min_size=1, max_size=max_size))


@st.composite
def condition_entry(draw):
    key = draw(st.sampled_from(sorted(KEYS)))
    request_type, _, family, values = KEYS[key]
    if draw(st.integers(0, 9)) == 0:
        return "Null", key, draw(st.sampled_from(["true", "false"]))
    operator = draw(st.sampled_from(OPERATORS[family]))
    if request_type.endswith("List") or draw(st.integers(0, 9)) == 0:
        operator = draw(st.sampled_from(["ForAllValues:", "ForAnyValue:"])) + operator
    elif draw(st.booleans()):
        operator += "IfExists"
    if draw(st.integers(0, 4)) == 0:
        key = key.upper() if draw(st.booleans()) else key.lower()  # key names are case-insensitive
    value = draw(one_or_many(values, 2))
    return operator, key, value


@st.composite
def condition_block(draw):
    block = {}
    for operator, key, value in draw(st.lists(condition_entry(), min_size=1, max_size=3)):
        if not any(k.lower() == key.lower() for k in block.get(operator, {})):
            block.setdefault(operator, {})[key] = value
    return block


@st.composite
def principal_element(draw, kind, effect):
    """Principal, or NotPrincipal where AWS accepts it (never in trust policies or RCPs)."""
    if kind == "rcp":
        return "Principal", "*"
    if kind in ("resource", "kms-key", "vpc-endpoint") and draw(st.integers(0, 4)) == 0:
        return "NotPrincipal", draw(st.sampled_from(PRINCIPALS[2:]))  # not "*": that excludes everyone
    if effect == "Allow" and draw(st.integers(0, 2)) == 0:
        return "Principal", draw(st.sampled_from(["*", {"AWS": [ACCOUNT, USER, ROLE]}, {"AWS": ROLE}, {"AWS": USER}]))
    return "Principal", draw(st.sampled_from(PRINCIPALS))


@st.composite
def statement(draw, kind, effect=None):
    """kind: identity, resource, role-trust, kms-key, vpc-endpoint, scp, rcp; or inferred: a resource
    policy whose kind the action decides (trust, key or resource policy), so the forms all accept."""
    s = {}
    if draw(st.integers(0, 3)) == 0:
        s["Sid"] = draw(st.sampled_from(["A", "B", "C1"]))
    # RCPs allow only in the full-access policy (full_allow_level); their statements deny.
    s["Effect"] = "Deny" if kind == "rcp" else effect or draw(st.sampled_from(["Allow"] * 4 + ["Deny"]))
    if kind in ("resource", "role-trust", "kms-key", "rcp", "inferred") or (
            kind == "vpc-endpoint" and draw(st.booleans())):
        element, value = draw(principal_element(kind, s["Effect"]))
        s[element] = value
    negate_action = draw(st.integers(0, 6)) == 0 and kind != "rcp"
    s["NotAction" if negate_action else "Action"] = draw(one_or_many(ACTION_PATTERNS))
    if kind == "role-trust":
        pass  # trust policies name no Resource
    elif kind in ("kms-key", "inferred"):
        s["Resource"] = "*"
    else:
        element = "NotResource" if draw(st.integers(0, 6)) == 0 else "Resource"
        s[element] = draw(one_or_many(RESOURCE_PATTERNS))
    if draw(st.integers(0, 2)) == 0:
        s["Condition"] = draw(condition_block())
    return s


def broad_allow(kind):
    """A statement that allows the requests a test draws, so that decisions reach the later gates."""
    statement = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    if kind in ("resource", "role-trust", "kms-key", "vpc-endpoint", "inferred"):
        statement["Principal"] = "*"
    if kind == "role-trust":
        del statement["Resource"]
    return statement


@st.composite
def policy(draw, kind, min_statements=1, max_statements=3):
    version = "2012-10-17" if kind == "rcp" else draw(st.sampled_from(["2012-10-17"] * 6 + ["2008-10-17"]))
    statements = draw(st.lists(statement(kind), min_size=min_statements, max_size=max_statements))
    if kind not in ("rcp", "scp") and draw(st.integers(0, 2)) == 0:
        # Bias toward decisions that reach the later gates: about a third of policies grant broadly.
        statements.insert(draw(st.integers(0, len(statements))), broad_allow(kind))
    sids = [s["Sid"] for s in statements if "Sid" in s]
    if len(sids) != len(set(sids)):  # a Sid must be unique within its policy
        for s in statements:
            s.pop("Sid", None)
    doc = {"Version": version, "Statement": statements}
    if len(statements) == 1 and draw(st.booleans()):
        doc["Statement"] = statements[0]  # a single statement need not be in a list
    if draw(st.integers(0, 4)) == 0:
        return json.dumps(doc, indent=2)  # policies may come as JSON text too
    return doc


@st.composite
def full_allow_level(draw, kind):
    """An SCP/RCP level: usually the full-access policy, sometimes narrower, plus a Deny."""
    if kind == "rcp":
        allow = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    else:
        allow = {"Effect": "Allow", "Action": draw(st.sampled_from(["*", "*", "s3:*", ["ecs:*", "logs:*"]])),
                 "Resource": "*"}
    level = [{"Version": "2012-10-17", "Statement": [allow]}] if draw(st.integers(0, 5)) else []
    if draw(st.integers(0, 2)) == 0:
        level.append(draw(policy(kind, 1, 2)))
    return level or [draw(policy(kind, 1, 1))]


UNREADABLE = {"numeric": "abc", "ip": "not-an-ip", "date": "soon", "boolean": "maybe", "binary": "not base64!"}


@st.composite
def context_entries(draw):
    entries = []
    for key in draw(st.lists(st.sampled_from(sorted(KEYS)), unique=True, max_size=5)):
        request_type, values, _, _ = KEYS[key]
        if request_type.endswith("List"):
            chosen = draw(st.lists(st.sampled_from(values), unique=True, max_size=3))
        elif request_type in UNREADABLE and draw(st.integers(0, 5)) == 0:
            # A string the operator cannot read: the condition cannot be evaluated (fail closed).
            request_type, chosen = "string", [UNREADABLE[request_type]]
        else:
            chosen = [draw(st.sampled_from(values))]
        entries.append({"ContextKeyName": key, "ContextKeyValues": chosen, "ContextKeyType": request_type})
    return entries


@st.composite
def request(draw, callers=tuple(CALLERS)):
    weighted = [c for c in callers for _ in range(3 if c in ("user", "session", "role") else 1)]
    caller_kind = draw(st.sampled_from(weighted))
    r = {"CallerArn": CALLERS[caller_kind],
         "ActionNames": draw(st.lists(st.sampled_from(ACTIONS + ["S3:getobject", "ECS:LISTCLUSTERS"]),
                                      min_size=1, max_size=3, unique=True))}
    if draw(st.integers(0, 9)):
        r["ResourceArns"] = draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=3, unique=True))
    if caller_kind not in ("service", "anonymous"):  # they have no identity policies
        r["PolicyInputList"] = draw(st.lists(policy("identity"), min_size=1, max_size=2))
    if caller_kind in ("user", "session", "role") and draw(st.integers(0, 3)) == 0:
        r["PermissionsBoundaryPolicyInputList"] = [draw(policy("identity"))]
    if caller_kind in ("session", "role", "federated") and draw(st.integers(0, 2)) == 0:
        r["SessionPolicyInputList"] = draw(st.lists(policy("identity"), min_size=1, max_size=2))
    if draw(st.booleans()):
        resource_type = draw(st.sampled_from(["resource", "resource", "role-trust", "kms-key", None]))
        if resource_type is not None:
            r["ResourcePolicyType"] = resource_type
        r["ResourcePolicy"] = draw(policy(resource_type or "inferred"))
    owner = draw(st.sampled_from([None, None, ACCOUNT, OTHER_ACCOUNT, f"arn:aws:iam::{OTHER_ACCOUNT}:root", ROOT]))
    if owner:
        r["ResourceOwner"] = owner
    if draw(st.integers(0, 3)) == 0:
        r["VpcEndpointPolicy"] = draw(policy("vpc-endpoint"))
    if draw(st.integers(0, 3)) == 0:
        r["ServiceControlPolicies"] = draw(st.lists(full_allow_level("scp"), min_size=1, max_size=2))
    if draw(st.integers(0, 4)) == 0:
        r["ResourceControlPolicies"] = draw(st.lists(full_allow_level("rcp"), min_size=1, max_size=2))
    if caller_kind in ("session", "role") and draw(st.integers(0, 9)) == 0:
        r["ServiceLinkedRole"] = True
    if caller_kind not in ("service", "anonymous") and draw(st.integers(0, 9)) == 0:
        r["ManagementAccount"] = True
    r["ContextEntries"] = draw(context_entries())
    return r


# ---- what a request holds, for hypothesis event() and the coverage test

ELEMENTS = ("Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition")
OPERATOR_FAMILIES = ("String", "Arn", "Ip", "Bool", "Date", "Numeric", "Binary", "Null", "ForAllValues",
                     "ForAnyValue", "IfExists")


def _policies(req):
    for field in ("PolicyInputList", "PermissionsBoundaryPolicyInputList", "SessionPolicyInputList"):
        yield from req.get(field, [])
    for field in ("ResourcePolicy", "VpcEndpointPolicy"):
        if field in req:
            yield req[field]
    for field in ("ServiceControlPolicies", "ResourceControlPolicies"):
        for level in req.get(field, []):
            yield from level


def features(req):
    """The element and operator families the request's policies use."""
    found = set()
    for doc in _policies(req):
        doc = json.loads(doc) if isinstance(doc, str) else doc
        statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        for s in statements:
            found.update(e for e in ELEMENTS if e in s)
            for operator in s.get("Condition", {}):
                found.update(f for f in OPERATOR_FAMILIES if f in operator)
    return found
