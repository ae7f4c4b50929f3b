"""What accesspath was not given is undetermined, scoped to what depends on it — never a denial.

Templates under ``templates/`` are written for these tests. The bounds rest on the monotonicity
of IAM's evaluation logic (IAM User Guide, reference_policies_evaluation-logic.md: an explicit
deny in any policy overrides an allow; without an allow the request is implicitly denied), and a
KMS key's policy is required for any access to the key (KMS developer guide, "Key policies in
AWS KMS").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accesspath.cli import main
from accesspath.environment.load import load_environment
from accesspath.environment.unknowns import PolicyWithUnknowns, bound

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
UNRESOLVED = str(TEMPLATES / "unresolved-statement.yaml")
DETAILS = str(TEMPLATES / "external-roles.json")
SEED_001 = Path(__file__).resolve().parents[2] / "examples" / "seed001-fargate-private-subnet" / "template.yaml"
BUCKET = "arn:aws:s3:::assets"


def can(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["can", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)["results"][0]


def launch(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["launch-check", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)


# -- item 5: an unresolved value affects only its statement --------------------------------------

def test_statements_without_the_unresolved_value_decide_as_usual(capsys) -> None:
    code, result = can(capsys, UNRESOLVED, "--from", "AppRole", "--action", "s3:PutObject",
                       "--resource", f"{BUCKET}/report.csv")
    assert (code, result["decision"]) == (0, "allowed")
    # The deciding statement keeps its own label and position although an earlier one holds the unknown.
    assert result["matchedStatements"][0]["Sid"] == "AppWrites"


def test_a_decision_that_depends_on_the_unresolved_statement_is_undetermined_and_names_it(capsys) -> None:
    code, result = can(capsys, UNRESOLVED, "--from", "AppRole", "--action", "s3:GetObject",
                       "--resource", f"{BUCKET}/report.csv")
    assert (code, result["decision"]) == (3, "undetermined")
    (unknown,) = result["unknowns"]
    assert "cdn-origin-identity-arn" in unknown["what"]
    assert "--import" in unknown["supply"]
    assert unknown["position"].endswith("unresolved-statement.yaml:34:30")


def test_an_unresolved_deny_condition_cannot_make_an_allow_but_the_denial_holds(capsys) -> None:
    # No statement allows DeleteObject: denied whether the Deny applies or not.
    code, result = can(capsys, UNRESOLVED, "--from", "AppRole", "--action", "s3:DeleteObject",
                       "--resource", f"{BUCKET}/report.csv")
    assert (code, result["decision"]) == (1, "implicitDeny")


def test_requests_the_policy_does_not_mention_are_decided(capsys) -> None:
    code, result = can(capsys, UNRESOLVED, "--from", "AppRole", "--action", "s3:ListBucket", "--resource", BUCKET)
    assert (code, result["decision"]) == (1, "implicitDeny")


def test_bounds_keep_every_known_statement_in_place() -> None:
    env = load_environment([UNRESOLVED])
    policy = env.resources[BUCKET].policy
    assert isinstance(policy, PolicyWithUnknowns) and len(policy.unknowns) == 2
    permissive, restrictive = bound(policy, True), bound(policy, False)
    assert permissive.is_valid and restrictive.is_valid
    assert [s.sid for s in permissive.statements] == ["CdnReads", "AppWrites", None]   # the Deny dropped
    assert [s.sid for s in restrictive.statements] == [None, "AppWrites", "OnlyAdminsDelete"]
    assert permissive.statements[0].principal is not None and permissive.statements[0].principal.entries[0].value == "*"
    assert restrictive.statements[2].conditions == ()   # the unresolved clause is read as true


# -- item 6: unknown is not denied ---------------------------------------------------------------

def _with_external_task_role(tmp_path: Path) -> str:
    text = SEED_001.read_text().replace("TaskRoleArn: !GetAtt TaskRole.Arn",
                                        "TaskRoleArn: arn:aws:iam::123456789012:role/shared-task-role")
    assert "shared-task-role" in text
    path = tmp_path / "external-task-role.yaml"
    path.write_text(text)
    return str(path)


def test_an_external_task_role_makes_launch_check_unknown_not_not_ready(capsys, tmp_path) -> None:
    code, report = launch(capsys, _with_external_task_role(tmp_path), "--service", "Service")
    assert (code, report["ready"]) == (3, "unknown")
    step = {s["step"]: s for s in report["steps"]}["assume task role"]
    assert step["status"] == "undetermined" and step["stoppedReason"] is None
    assert "shared-task-role" in step["fix"] and "--authorization-details" in step["fix"]
    # The rest of the launch is decided as usual.
    assert {s["status"] for s in report["steps"] if s["step"] != "assume task role"} == {"ok"}


def test_calls_of_an_external_task_role_are_undetermined_unless_the_network_decides(capsys, tmp_path) -> None:
    template = _with_external_task_role(tmp_path)
    code, result = can(capsys, template, "--from", "Service", "--action", "logs:PutLogEvents",
                       "--resource", "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:log-stream:x")
    assert (code, result["decision"]) == (3, "undetermined")
    assert "shared-task-role" in result["unknowns"][0]["what"]
    # No endpoint for ECS and no NAT: unreachable whatever the role may do.
    code, result = can(capsys, template, "--from", "Service", "--", "aws", "ecs", "list-clusters")
    assert (code, result["decision"]) == (1, "unreachable")


def test_authorization_details_supply_the_external_role(capsys, tmp_path) -> None:
    template = _with_external_task_role(tmp_path)
    code, report = launch(capsys, template, "--service", "Service", "--authorization-details", DETAILS)
    assert (code, report["ready"]) == (0, True)
    logs = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:log-stream:x"
    code, result = can(capsys, template, "--from", "Service", "--action", "logs:PutLogEvents", "--resource", logs,
                       "--authorization-details", DETAILS)
    assert (code, result["decision"]) == (0, "allowed")
    assert DETAILS in [m["Source"] for m in result["matchedStatements"]]
    code, result = can(capsys, template, "--from", "Service", "--action", "logs:DeleteLogGroup", "--resource", logs,
                       "--authorization-details", DETAILS)
    assert (code, result["decision"]) == (1, "implicitDeny")


def test_a_key_defined_elsewhere_has_an_unknown_key_policy(capsys) -> None:
    code, result = can(capsys, UNRESOLVED, "--from", "AppRole", "--action", "kms:Decrypt",
                       "--resource", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert (code, result["decision"]) == (3, "undetermined")
    assert "key policy" in result["unknowns"][0]["what"]


def test_assuming_a_role_defined_elsewhere_is_undetermined(capsys) -> None:
    # The caller's own policies allow no AssumeRole, but a trust policy that names the caller's role
    # grants it alone in the same account (reference_policies_evaluation-logic.md, "Resource-based
    # policies"): the unknown trust policy decides.
    code, result = can(capsys, UNRESOLVED, "--from", "AppRole", "--action", "sts:AssumeRole",
                       "--resource", "arn:aws:iam::123456789012:role/deployer")
    assert (code, result["decision"]) == (3, "undetermined")
    assert "trust policy of role 'arn:aws:iam::123456789012:role/deployer'" in result["unknowns"][0]["what"]


# -- item 7: every AWS managed policy; authorization details for the rest ---------------------------

def test_a_managed_policy_outside_the_old_eighteen_is_counted(capsys) -> None:
    code, result = can(capsys, UNRESOLVED, "--from", "AppRole", "--action", "ssm:GetParameter",
                       "--resource", "arn:aws:ssm:us-east-1:123456789012:parameter/app/db")
    assert (code, result["decision"]) == (0, "allowed")
    assert "AmazonSSMReadOnlyAccess" in result["matchedStatements"][0]["Source"] or \
        "AmazonSSMReadOnlyAccess" in json.dumps(result["matchedStatements"])


def test_a_customer_managed_policy_not_given_is_undetermined_then_read_from_details(capsys) -> None:
    resource = "arn:aws:ssm:us-east-1:123456789012:parameter/app/db"
    code, result = can(capsys, UNRESOLVED, "--from", "ReportsRole", "--action", "ssm:PutParameter", "--resource", resource)
    assert (code, result["decision"]) == (3, "undetermined")
    assert "team-boundary-extras" in result["unknowns"][0]["what"]
    assert "--authorization-details" in result["unknowns"][0]["supply"]
    code, result = can(capsys, UNRESOLVED, "--from", "ReportsRole", "--action", "ssm:PutParameter",
                       "--resource", resource, "--authorization-details", DETAILS)
    assert (code, result["decision"]) == (0, "allowed")
    # An unknown policy may deny as well as allow: what another policy allows is not certain either.
    code, result = can(capsys, UNRESOLVED, "--from", "ReportsRole", "--action", "ssm:GetParameter",
                       "--resource", resource)
    assert (code, result["decision"]) == (3, "undetermined")


@pytest.mark.parametrize("content, message", [
    ("{", "not valid JSON"),
    ('{"Something": []}', "get-account-authorization-details"),
])
def test_bad_authorization_details_are_one_line_errors(capsys, tmp_path, content, message) -> None:
    path = tmp_path / "details.json"
    path.write_text(content)
    code = main(["can", UNRESOLVED, "--from", "AppRole", "--action", "s3:GetObject", "--authorization-details",
                 str(path)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and str(path) in err and "Traceback" not in err


# -- item 9: logical ids; network objects not given ------------------------------------------------

def _service_subnets_from_parameters(tmp_path: Path) -> str:
    text = SEED_001.read_text()
    text = text.replace("Parameters:\n", "Parameters:\n  ServiceSubnets:\n    Type: List<AWS::EC2::Subnet::Id>\n"
                        "  ServiceGroups:\n    Type: List<AWS::EC2::SecurityGroup::Id>\n", 1)
    text = text.replace("Subnets: [!Ref PrivateSubnet]", "Subnets: !Ref ServiceSubnets")
    text = text.replace("SecurityGroups: [!Ref TaskSecurityGroup]", "SecurityGroups: !Ref ServiceGroups")
    path = tmp_path / "parameterised.yaml"
    path.write_text(text)
    return str(path)


LOG_STREAM = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:log-stream:x"


def test_subnet_and_group_parameters_take_logical_ids(capsys, tmp_path) -> None:
    template = _service_subnets_from_parameters(tmp_path)
    code, report = launch(capsys, template, "--service", "Service", "--param", "ServiceSubnets=PrivateSubnet",
                          "--param", "ServiceGroups=parameterised/TaskSecurityGroup")
    assert (code, report["ready"]) == (0, True)
    main(["can", template, "--param", "ServiceSubnets=PrivateSubnet", "--param", "ServiceGroups=TaskSecurityGroup",
          "--from", "ExecutionRole", "--subnet", "PrivateSubnet", "--action", "logs:PutLogEvents",
          "--resource", LOG_STREAM])
    # The endpoint's logical id stands beside its synthetic id.
    assert "path: interface endpoint vpce-" in (out := capsys.readouterr().out) and "[Logs]" in out


def test_a_subnet_parameter_naming_nothing_known_is_a_warning_and_undetermined(capsys, tmp_path) -> None:
    template = _service_subnets_from_parameters(tmp_path)
    code = main(["can", "--format", "json", template, "--param", "ServiceSubnets=subnet-0123456789abcdef0",
                 "--param", "ServiceGroups=TaskSecurityGroup", "--from", "Service", "--action", "logs:PutLogEvents",
                 "--resource", LOG_STREAM])
    captured = capsys.readouterr()
    result = json.loads(captured.out)["results"][0]
    assert "names subnet 'subnet-0123456789abcdef0', which is not one of the inputs" in captured.err
    assert (code, result["decision"]) == (3, "undetermined")
    assert "subnet 'subnet-0123456789abcdef0'" in result["unknowns"][0]["what"]
    assert "add an interface VPC endpoint" not in captured.out


def test_subnet_option_takes_a_logical_id_and_warns_on_an_unknown_one(capsys) -> None:
    code, by_id = can(capsys, str(SEED_001), "--from", "ExecutionRole", "--subnet", "PrivateSubnet",
                      "--security-group", "TaskSecurityGroup", "--action", "logs:PutLogEvents", "--resource", LOG_STREAM)
    assert (code, by_id["decision"]) == (0, "allowed")
    code = main(["can", "--format", "json", str(SEED_001), "--from", "ExecutionRole", "--subnet", "PublicSubnetX",
                 "--action", "logs:PutLogEvents", "--resource", LOG_STREAM])
    captured = capsys.readouterr()
    assert "--subnet 'PublicSubnetX' is not a subnet of the inputs" in captured.err
    assert "PrivateSubnet" in captured.err   # the subnets there are, by logical id
    assert (code, json.loads(captured.out)["results"][0]["decision"]) == (3, "undetermined")


def test_a_security_group_defined_elsewhere_leaves_an_allow_undetermined(capsys) -> None:
    code, result = can(capsys, str(SEED_001), "--from", "ExecutionRole", "--subnet", "PrivateSubnet",
                       "--security-group", "sg-0aaaabbbbccccdddd", "--action", "logs:PutLogEvents",
                       "--resource", LOG_STREAM)
    assert (code, result["decision"]) == (3, "undetermined")
    assert "security group 'sg-0aaaabbbbccccdddd'" in result["unknowns"][0]["what"]
    # A denial holds whatever the group allows: the policies decide it before the network can.
    code, result = can(capsys, str(SEED_001), "--from", "ExecutionRole", "--subnet", "PrivateSubnet",
                       "--security-group", "sg-0aaaabbbbccccdddd", "--action", "logs:DeleteLogGroup",
                       "--resource", LOG_STREAM)
    assert (code, result["decision"]) == (1, "implicitDeny")


def test_env_export_keeps_stack_and_logical_ids_and_show_verbose_lists_the_network(capsys, tmp_path) -> None:
    out = tmp_path / "env.json"
    assert main(["env", "export", str(SEED_001), "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    subnet = next(s for s in document["subnets"] if s["logicalId"] == "PrivateSubnet")
    assert subnet["stack"] == "template"
    assert {g["logicalId"] for g in document["securityGroups"]} == {"TaskSecurityGroup", "EndpointSecurityGroup"}
    # The export reads back, logical ids included: --subnet by logical id works on it too.
    code, result = can(capsys, str(out), "--from", "ExecutionRole", "--subnet", "template/PrivateSubnet",
                       "--action", "logs:PutLogEvents", "--resource", LOG_STREAM)
    assert (code, result["decision"]) == (0, "allowed")
    assert main(["env", "show", str(SEED_001), "--verbose"]) == 0
    shown = capsys.readouterr().out
    assert "subnet subnet-" in shown and "(PrivateSubnet)" in shown
    assert "route table rtb-" in shown and "security group sg-" in shown and "(TaskSecurityGroup)" in shown
