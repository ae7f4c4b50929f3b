"""The reference evaluator against examples worked out in the IAM User Guide.

Each test names the doc_source page its example and expected decision come from; the reference
must get these right before it can judge the fast engine.
"""

from __future__ import annotations

from reference_evaluator import ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, evaluate, glob, plain_tokens

V = "2012-10-17"
USER = "arn:aws:iam::123456789012:user/carlossalazar"


def decide(request, action=None, resource=None):
    decisions = evaluate(request)
    if action is None:
        (decision,) = decisions.values()
        return decision
    return decisions[action, resource]


def policy(*statements, version=V):
    doc = {"Statement": list(statements)}
    if version:
        doc["Version"] = version
    return doc


# reference_policies_evaluation-logic.md, "Example identity-based and resource-based policy evaluation"
CARLOS_IDENTITY = policy(
    {"Sid": "AllowS3ListRead", "Effect": "Allow",
     "Action": ["s3:GetBucketLocation", "s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints",
                "s3:ListAllMyBuckets"], "Resource": "arn:aws:s3:::*"},
    {"Sid": "AllowS3Self", "Effect": "Allow", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]},
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"})
CARLOS_BUCKET = policy(
    {"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "s3:*",
     "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]})


def test_carlos_same_account():
    request = {"CallerArn": USER, "PolicyInputList": [CARLOS_IDENTITY], "ResourcePolicy": CARLOS_BUCKET,
               "ActionNames": ["s3:PutObject"],
               "ResourceArns": ["arn:aws:s3:::carlossalazar-logs", "arn:aws:s3:::carlossalazar/file.txt"]}
    assert decide(request, "s3:PutObject", "arn:aws:s3:::carlossalazar-logs") == EXPLICIT_DENY
    assert decide(request, "s3:PutObject", "arn:aws:s3:::carlossalazar/file.txt") == ALLOWED


def test_either_identity_or_resource_policy_suffices_in_one_account():
    # "If either the identity-based policy or the resource-based policy within the same account
    # allows the request and the other doesn't, the request is still allowed."
    base = {"CallerArn": USER, "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::carlossalazar/a"]}
    assert decide(dict(base, ResourcePolicy=CARLOS_BUCKET)) == ALLOWED
    assert decide(dict(base, PolicyInputList=[CARLOS_IDENTITY])) == ALLOWED
    assert decide(base) == IMPLICIT_DENY


# reference_policies_evaluation-logic-cross-account.md, "Example cross-account policy evaluation"
def test_carlos_cross_account():
    user = "arn:aws:iam::111111111111:user/carlossalazar"
    identity = policy(
        {"Sid": "AllowS3ListRead", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
        {"Sid": "AllowS3ProductionObjectActions", "Effect": "Allow", "Action": "s3:*Object*",
         "Resource": "arn:aws:s3:::Production/*"},
        {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::*log*", "arn:aws:s3:::*log*/*"]})
    bucket = policy({"Effect": "Allow", "Action": ["s3:GetObject*", "s3:PutObject*", "s3:ReplicateObject",
                                                    "s3:RestoreObject"],
                     "Principal": {"AWS": user}, "Resource": "arn:aws:s3:::Production/*"})
    base = {"CallerArn": user, "PolicyInputList": [identity], "ResourceOwner": "222222222222",
            "ActionNames": ["s3:PutObject", "s3:DeleteObject"]}
    logs = dict(base, ResourceArns=["arn:aws:s3:::Production-logs/f"])
    assert decide(logs, "s3:PutObject", "arn:aws:s3:::Production-logs/f") == EXPLICIT_DENY
    prod = dict(base, ResourceArns=["arn:aws:s3:::Production/f"], ResourcePolicy=bucket)
    assert decide(prod, "s3:PutObject", "arn:aws:s3:::Production/f") == ALLOWED
    # "He can create and edit, but not delete the objects in the bucket."
    assert decide(prod, "s3:DeleteObject", "arn:aws:s3:::Production/f") == IMPLICIT_DENY
    # Without the bucket policy the identity side alone is not enough across accounts.
    no_bucket = dict(base, ResourceArns=["arn:aws:s3:::Production/f"])
    assert decide(no_bucket, "s3:PutObject", "arn:aws:s3:::Production/f") == IMPLICIT_DENY


# reference_policies_evaluation-logic.md, "The difference between explicit and implicit denies"
def test_explicit_and_implicit_denies():
    iam = policy({"Sid": "AllowGetList", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
                 {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"})
    request = {"CallerArn": USER, "PolicyInputList": [iam],
               "ActionNames": ["iam:GetUser", "iam:CreatePolicy", "iam:GetOrganizationsAccessReport",
                               "IAM:listusers"]}
    decisions = evaluate(request)
    assert decisions["iam:GetUser", "*"] == ALLOWED
    assert decisions["iam:CreatePolicy", "*"] == IMPLICIT_DENY
    assert decisions["iam:GetOrganizationsAccessReport", "*"] == EXPLICIT_DENY
    assert decisions["IAM:listusers", "*"] == ALLOWED  # actions are case-insensitive


# reference_policies_evaluation-logic.md, table "Resource-based policies and implicit denies"
def test_role_arn_grant_is_limited_by_boundary_but_session_grant_is_not():
    session = "arn:aws:sts::111122223333:assumed-role/examplerole/examplerolesessionname"
    role = "arn:aws:iam::111122223333:role/examplerole"
    boundary = policy({"Effect": "Allow", "Action": "ecs:*", "Resource": "*"})
    base = {"CallerArn": session, "PermissionsBoundaryPolicyInputList": [boundary],
            "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::b/k"]}

    def bucket(principal):
        return policy({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:GetObject",
                       "Resource": "arn:aws:s3:::b/*"})
    assert decide(dict(base, ResourcePolicy=bucket(role))) == IMPLICIT_DENY
    assert decide(dict(base, ResourcePolicy=bucket(session))) == ALLOWED
    # A grant to the account delegates: an identity policy must allow.
    assert decide(dict(base, ResourcePolicy=bucket("111122223333"))) == IMPLICIT_DENY
    # A role grant stands in for the identity policy when no boundary limits it.
    del base["PermissionsBoundaryPolicyInputList"]
    assert decide(dict(base, ResourcePolicy=bucket(role))) == ALLOWED
    # ... but a session policy still limits it.
    assert decide(dict(base, ResourcePolicy=bucket(role), SessionPolicyInputList=[boundary])) == IMPLICIT_DENY


def test_role_trust_policy_must_allow_itself():
    caller = "arn:aws:iam::111122223333:user/alice"
    identity = policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})
    base = {"CallerArn": caller, "PolicyInputList": [identity], "ActionNames": ["sts:AssumeRole"],
            "ResourceArns": ["arn:aws:iam::111122223333:role/r"]}
    assert decide(base) == IMPLICIT_DENY  # no trust policy: default type role-trust
    trust_account = policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                            "Action": "sts:AssumeRole"})
    assert decide(dict(base, ResourcePolicy=trust_account)) == ALLOWED
    assert decide(dict(base, ResourcePolicy=trust_account, PolicyInputList=[])) == IMPLICIT_DENY
    service = dict(base, CallerArn="ecs-tasks.amazonaws.com", PolicyInputList=[],
                   ResourcePolicy=policy({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                          "Action": "sts:AssumeRole"}))
    assert decide(service) == ALLOWED


def test_scp_levels_and_vpc_endpoint():
    admin = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    ecs_only = policy({"Effect": "Allow", "Action": "ecs:*", "Resource": "*"})
    base = {"CallerArn": USER, "PolicyInputList": [admin], "ActionNames": ["ecs:ListClusters", "s3:GetObject"]}
    scp = evaluate(dict(base, ServiceControlPolicies=[[admin], [ecs_only]]))
    assert scp["ecs:ListClusters", "*"] == ALLOWED
    assert scp["s3:GetObject", "*"] == IMPLICIT_DENY
    assert evaluate(dict(base, ServiceControlPolicies=[[admin], [ecs_only]], ManagementAccount=True))[
        "s3:GetObject", "*"] == ALLOWED
    vpce = evaluate(dict(base, VpcEndpointPolicy=ecs_only))  # no Principal: applies to everyone
    assert vpce["ecs:ListClusters", "*"] == ALLOWED
    assert vpce["s3:GetObject", "*"] == IMPLICIT_DENY
    other = policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"},
                    "Action": "*", "Resource": "*"})
    assert evaluate(dict(base, VpcEndpointPolicy=other))["ecs:ListClusters", "*"] == IMPLICIT_DENY


# reference_policies_elements_resource.md, "Using wildcards in resource ARNs"
def test_resource_wildcards_span_slashes():
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*"}
    matches = ["1/test/object.jpg", "1/2/test/object.jpg", "1/2/test/3/object.jpg", "1/2/3/test/4/object.jpg",
               "1///test///object.jpg", "1/test/.jpg", "/test/object.jpg", "1/test/"]
    misses = ["1-test/object.jpg", "test/object.jpg", "1/2/test.jpg"]
    arns = [f"arn:aws:s3:::DOC-EXAMPLE-BUCKET/{k}" for k in matches + misses]
    decisions = evaluate({"CallerArn": USER, "PolicyInputList": [policy(statement)],
                          "ActionNames": ["s3:GetObject"], "ResourceArns": arns})
    assert [decisions["s3:GetObject", a] == ALLOWED for a in arns] == [True] * 8 + [False] * 3


# reference_policies_elements_condition_operators.md, "Amazon Resource Name (ARN) condition operators"
def test_arn_like_matches_segment_by_segment_but_string_like_does_not():
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    context = [{"ContextKeyName": "aws:SourceArn", "ContextKeyValues": [value], "ContextKeyType": "string"}]
    for operator, expected in (("StringLike", ALLOWED), ("ArnLike", IMPLICIT_DENY)):
        statement = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*",
                     "Condition": {operator: {"aws:SourceArn": pattern}}}
        assert decide({"CallerArn": USER, "PolicyInputList": [policy(statement)], "ActionNames": ["sqs:SendMessage"],
                       "ContextEntries": context}) == expected


def with_condition(condition, entries, effect="Allow"):
    statements = [{"Effect": effect, "Action": "*", "Resource": "*", "Condition": condition}]
    if effect == "Deny":
        statements.append({"Effect": "Allow", "Action": "*", "Resource": "*"})
    return decide({"CallerArn": USER, "PolicyInputList": [policy(*statements)], "ActionNames": ["ec2:RunInstances"],
                   "ContextEntries": [{"ContextKeyName": k, "ContextKeyValues": v, "ContextKeyType": t}
                                      for k, t, v in entries]})


# reference_policies_elements_condition_operators.md, "...IfExists condition operators"
def test_if_exists():
    types = ["t1.*", "t2.*", "m3.*"]
    assert with_condition({"StringLike": {"ec2:InstanceType": types}}, []) == IMPLICIT_DENY
    assert with_condition({"StringLikeIfExists": {"ec2:InstanceType": types}}, []) == ALLOWED
    big = [("ec2:InstanceType", "string", ["m5.large"])]
    assert with_condition({"StringLikeIfExists": {"ec2:InstanceType": types}}, big) == IMPLICIT_DENY
    assert with_condition({"StringLikeIfExists": {"ec2:instancetype": types}},
                          [("EC2:InstanceType", "string", ["t2.micro"])]) == ALLOWED
    # "If you are using an Effect: Deny element with a negated condition operator like
    # StringNotEqualsIfExists, the request is still denied even if the tag is missing."
    assert with_condition({"StringNotEqualsIfExists": {"aws:ResourceTag/team": "a"}}, [], "Deny") == EXPLICIT_DENY


# reference_policies_elements_condition_operators.md, "Condition operator to check existence of condition keys"
def test_null():
    issued = [("aws:TokenIssueTime", "date", ["2020-01-01T00:00:01Z"])]
    assert with_condition({"Null": {"aws:TokenIssueTime": "true"}}, []) == ALLOWED
    assert with_condition({"Null": {"aws:TokenIssueTime": "true"}}, issued) == IMPLICIT_DENY
    assert with_condition({"Null": {"aws:TokenIssueTime": "false"}}, issued) == ALLOWED
    assert with_condition({"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}}, issued) == ALLOWED
    assert with_condition({"DateGreaterThan": {"aws:TokenIssueTime": "1577836802"}}, issued) == IMPLICIT_DENY


# reference_policies_multi-value-conditions.md, "Evaluation logic for multiple values with condition set operators"
def test_for_all_values_and_for_any_value():
    allowed_attrs = {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["PostDateTime", "Message", "Tags"]}}
    ask = [("dynamodb:Attributes", "stringList", ["PostDateTime", "UserName"])]
    assert with_condition(allowed_attrs, ask) == IMPLICIT_DENY
    assert with_condition(allowed_attrs, [("dynamodb:Attributes", "stringList", ["Message", "Tags"])]) == ALLOWED
    assert with_condition(allowed_attrs, []) == ALLOWED  # "returns true if there are no keys"
    forbidden = {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["ID", "PostDateTime"]}}
    put = [("dynamodb:Attributes", "stringList", ["UserName", "Message", "PostDateTime"])]
    assert with_condition(forbidden, put, "Deny") == EXPLICIT_DENY
    assert with_condition(forbidden, [("dynamodb:Attributes", "stringList", ["UserName"])], "Deny") == ALLOWED
    assert with_condition(forbidden, [], "Deny") == ALLOWED  # "For no matching key ... returns false"


def test_negated_operators_and_numbers_and_addresses():
    accounts = [("aws:PrincipalAccount", "string", ["123456789012"])]
    # "the string cannot match any of the aws:PrincipalAccount values listed"
    assert with_condition({"StringNotEquals": {"aws:PrincipalAccount": ["1", "123456789012"]}}, accounts) == IMPLICIT_DENY
    assert with_condition({"StringNotEquals": {"aws:PrincipalAccount": ["1", "2"]}}, accounts) == ALLOWED
    assert with_condition({"StringNotEquals": {"aws:PrincipalAccount": "1"}}, []) == ALLOWED
    assert with_condition({"NumericLessThanEquals": {"s3:max-keys": "10"}}, [("s3:max-keys", "numeric", ["10"])]) == ALLOWED
    assert with_condition({"NumericLessThanEquals": {"s3:max-keys": "10"}}, [("s3:max-keys", "numeric", ["11"])]) == IMPLICIT_DENY
    ip = [("aws:SourceIp", "ip", ["203.0.113.7"])]
    assert with_condition({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, ip) == ALLOWED
    assert with_condition({"IpAddress": {"aws:SourceIp": ["2001:DB8:1234:5678::/64"]}}, ip) == IMPLICIT_DENY
    assert with_condition({"NotIpAddress": {"aws:SourceIp": "203.0.113.7"}}, ip) == IMPLICIT_DENY  # default /32
    assert with_condition({"Bool": {"aws:SecureTransport": False}}, [("aws:SecureTransport", "boolean", ["false"])]) == ALLOWED
    # docs/evaluation.md "Fail closed": a value that is not a number makes a Deny apply
    assert with_condition({"NumericEquals": {"s3:max-keys": "1"}}, [("s3:max-keys", "numeric", ["x"])], "Deny") == EXPLICIT_DENY
    assert with_condition({"NumericEquals": {"s3:max-keys": "1"}}, [("s3:max-keys", "numeric", ["x"])]) == IMPLICIT_DENY


# reference_policies_variables.md
def test_policy_variables():
    home = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::mybucket/${aws:username}/*"}
    name = [{"ContextKeyName": "aws:username", "ContextKeyValues": ["David"], "ContextKeyType": "string"}]
    base = {"CallerArn": "arn:aws:iam::123456789012:user/David", "ActionNames": ["s3:GetObject"],
            "ResourceArns": ["arn:aws:s3:::mybucket/David/a", "arn:aws:s3:::mybucket/${aws:username}/a"]}
    d = evaluate(dict(base, PolicyInputList=[policy(home)], ContextEntries=name))
    assert d["s3:GetObject", "arn:aws:s3:::mybucket/David/a"] == ALLOWED
    assert d["s3:GetObject", "arn:aws:s3:::mybucket/${aws:username}/a"] == IMPLICIT_DENY
    # "If you don't include the Version element ... treated as literal strings"
    d = evaluate(dict(base, PolicyInputList=[policy(home, version=None)], ContextEntries=name))
    assert d["s3:GetObject", "arn:aws:s3:::mybucket/David/a"] == IMPLICIT_DENY
    assert d["s3:GetObject", "arn:aws:s3:::mybucket/${aws:username}/a"] == ALLOWED
    # Without a context entry, aws:username is the user's friendly name ("Principal key values")...
    d = evaluate(dict(base, PolicyInputList=[policy(home)]))
    assert d["s3:GetObject", "arn:aws:s3:::mybucket/David/a"] == ALLOWED
    # ... and a role session has none: a variable with no value matches no resource.
    d = evaluate(dict(base, PolicyInputList=[policy(home)], CallerArn="arn:aws:sts::123456789012:assumed-role/r/David"))
    assert set(d.values()) == {IMPLICIT_DENY}
    # "Specifying default values"
    team = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::B-${aws:PrincipalTag/team, 'company-wide'}"}
    d = evaluate(dict(base, PolicyInputList=[policy(team)],
                      ResourceArns=["arn:aws:s3:::B-company-wide", "arn:aws:s3:::B-yellow"]))
    assert d["s3:GetObject", "arn:aws:s3:::B-company-wide"] == ALLOWED
    assert d["s3:GetObject", "arn:aws:s3:::B-yellow"] == IMPLICIT_DENY
    tagged = [{"ContextKeyName": "aws:PrincipalTag/team", "ContextKeyValues": ["yellow"], "ContextKeyType": "string"}]
    d = evaluate(dict(base, PolicyInputList=[policy(team)], ContextEntries=tagged,
                      ResourceArns=["arn:aws:s3:::B-company-wide", "arn:aws:s3:::B-yellow"]))
    assert d["s3:GetObject", "arn:aws:s3:::B-yellow"] == ALLOWED
    assert d["s3:GetObject", "arn:aws:s3:::B-company-wide"] == IMPLICIT_DENY
    # "Special characters": ${*} is a literal asterisk, not a wildcard
    star = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::x${*}"}
    d = evaluate(dict(base, PolicyInputList=[policy(star)], ResourceArns=["arn:aws:s3:::x*", "arn:aws:s3:::xy"]))
    assert d["s3:GetObject", "arn:aws:s3:::x*"] == ALLOWED
    assert d["s3:GetObject", "arn:aws:s3:::xy"] == IMPLICIT_DENY
    # Inverted operators match a variable with no value (Policy variables with no value).
    assert with_condition({"StringNotEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}},
                          [("s3:ExistingObjectTag/Team", "string", ["a"])], "Deny") == EXPLICIT_DENY


def test_glob():
    assert glob(plain_tokens("a*b?c"), "aXXbYc")
    assert not glob(plain_tokens("a*b?c"), "abc")
    assert glob(plain_tokens("*"), "")
    assert glob(plain_tokens("S3:get*"), "s3:GetObject", ignore_case=True)
    assert not glob(plain_tokens("S3:get*"), "s3:GetObject")


def test_resource_segments_before_the_resource_part_are_plain():
    # reference_policies_elements_resource.md: "You can't use a wildcard in the service segment";
    # reference_policies_variables.md: variables only "in the resource portion of the ARN".
    def allowed(pattern, arn, entries=()):
        statement = {"Effect": "Allow", "Action": "*", "Resource": pattern}
        return decide({"CallerArn": USER, "PolicyInputList": [policy(statement)], "ActionNames": ["sns:Publish"],
                       "ResourceArns": [arn], "ContextEntries": list(entries)}) == ALLOWED
    assert not allowed("arn:aws:s?s:us-east-1:1:t", "arn:aws:sns:us-east-1:1:t")
    assert allowed("arn:aws:sns:*:1:t", "arn:aws:sns:us-east-1:1:t")
    team = [{"ContextKeyName": "aws:PrincipalTag/team", "ContextKeyValues": ["a"], "ContextKeyType": "string"}]
    assert not allowed("arn:aws:sns:${aws:PrincipalTag/team}:1:t", "arn:aws:sns:a:1:t", team)
    assert allowed("arn:aws:sns:x:1:${aws:PrincipalTag/team}", "arn:aws:sns:x:1:a", team)
    assert allowed("arn:*", "arn:aws:sns:x:1:a")  # not an ARN pattern: the whole string


def test_multivalued_keys_are_no_variables():
    # reference_policies_variables.md: "You can't use a multivalued condition key as a variable."
    keys = [("aws:TagKeys", "stringList", ["alice"]), ("aws:PrincipalTag/t", "string", ["alice"])]
    assert with_condition({"StringEquals": {"aws:PrincipalTag/t": "${aws:TagKeys}"}}, keys) == IMPLICIT_DENY
    assert with_condition({"StringNotEquals": {"aws:PrincipalTag/t": "${aws:TagKeys}"}}, keys) == ALLOWED
