"""Every audit rule against a failing and a passing template, and the seeds the issue names."""

from __future__ import annotations

import pytest

from accesspath.audit import rule_catalog
from accesspath.audit.probes import ENDPOINT_PROBES
from accesspath.audit.rule import RuleInfo, rule_info_problems
from accesspath.environment.container_credentials import instance_role_reach
from accesspath.environment.container_instances import decoded_user_data
from accesspath.catalog.service_catalog import get_catalog
from accesspath.environment.model import Instance
from accesspath.lint.findings import Severity

from .conftest import EXAMPLES, TEMPLATES, audit_of, of_rule, rule_ids

SEED_000 = EXAMPLES / "seed000-ecs-endpoint-policy" / "template.yaml"
SEED_001 = EXAMPLES / "seed001-fargate-private-subnet" / "template.yaml"
SEED_002 = EXAMPLES / "seed002-task-role" / "template.yaml"
SEED_004 = EXAMPLES / "seed004-logs-endpoint-policy" / "template.yaml"

ALL_RULES = {"task-role-confused-deputy", "endpoint-exfiltration", "endpoint-foreign-principals", "endpoint-no-allow",
             "endpoint-default-policy", "task-role-overbroad", "instance-metadata-credentials",
             "role-mixup", "endpoint-security-group", "ecs-endpoint-siblings", "endpoint-private-dns-off",
             "endpoint-other-region"}


# -- the rules' data ---------------------------------------------------------------------------------

def test_rule_catalog_is_complete_and_valid() -> None:
    infos = rule_catalog()
    assert {i.id for i in infos} == ALL_RULES
    for info in infos:
        assert rule_info_problems(info) == []
        assert info.help_uri.startswith("https://docs.aws.amazon.com/")


@pytest.mark.parametrize("bad, problem", [
    (RuleInfo("E101", Severity.ERROR, "t", "r", "f", ("https://docs.aws.amazon.com/x",)), "descriptive"),
    (RuleInfo("some-rule", Severity.ERROR, "t", "r", "f", ()), "cites no AWS"),
    (RuleInfo("some-rule", Severity.ERROR, "t", "r", "f", ("https://example.com/",)), "not an AWS"),
    (RuleInfo("some-rule", Severity.ERROR, "t", "", "f", ("https://docs.aws.amazon.com/x",)), "no rationale"),
])
def test_bad_rule_data_is_caught(bad: RuleInfo, problem: str) -> None:
    assert any(problem in p for p in rule_info_problems(bad))


def test_probe_actions_are_in_the_catalog() -> None:
    catalog = get_catalog()
    for probes in ENDPOINT_PROBES.values():
        for probe in probes:
            assert catalog.find_action(probe.action) is not None, probe.action


# -- task-role-confused-deputy -----------------------------------------------------------------------

def test_confused_deputy_unscoped_trust_fails() -> None:
    findings = of_rule(audit_of(TEMPLATES / "trust.yaml", Scoped="false"), "task-role-confused-deputy")
    assert len(findings) == 1
    finding = findings[0]
    assert "trust-task-role" in finding.finding.message and "999999999999" in finding.finding.message
    assert finding.finding.file.endswith("trust.yaml") and finding.finding.line is not None
    evidence = finding.evidence[0]
    assert evidence.principal == "ecs-tasks.amazonaws.com" and evidence.decision == "allowed"
    assert dict(evidence.context)["aws:SourceAccount"] == "999999999999"


def test_confused_deputy_scoped_trust_passes() -> None:
    assert "task-role-confused-deputy" not in rule_ids(audit_of(TEMPLATES / "trust.yaml"))


def test_seed002_task_role_trust_passes() -> None:
    subjects = {f.subject for f in of_rule(audit_of(SEED_002), "task-role-confused-deputy")}
    assert not any("app-task-role" in s for s in subjects)
    # Its execution role's trust has no condition: that one is reported.
    assert any("app-execution-role" in s for s in subjects)


# -- endpoint-default-policy / endpoint-exfiltration / endpoint-foreign-principals -------------------

def test_an_endpoint_without_a_policy_is_one_finding_listing_its_risks() -> None:
    """No PolicyDocument is AWS's default full-access policy (PrivateLink guide, "Control access to VPC
    endpoints using endpoint policies"): one finding, with each risk the engine confirms (issue 9 item 11)."""
    report = audit_of(TEMPLATES / "logs-default-endpoint.yaml")
    [finding] = report.findings
    assert finding.rule_id == "endpoint-default-policy" and finding.severity is Severity.WARNING
    message = finding.finding.message
    assert "has no PolicyDocument" in message
    assert "this account's principals can write to other accounts' resources (logs:PutLogEvents on" in message
    assert "principals of other accounts can use it (logs:PutLogEvents as arn:aws:sts::999999999999:" in message
    assert "logs carries data or credentials" in message
    write, stranger = finding.evidence
    assert write.decision == stranger.decision == "allowed"
    assert dict(write.context)["aws:ResourceAccount"] == "999999999999"
    assert stranger.principal.startswith("arn:aws:sts::999999999999:")


def test_a_written_policy_that_lets_data_out_and_strangers_in_is_reported_by_its_statement() -> None:
    report = audit_of(TEMPLATES / "endpoint-perimeter.yaml", Loose="true")
    [exfiltration] = of_rule(report, "endpoint-exfiltration")
    assert "s3:PutObject" in exfiltration.finding.message and "999999999999" in exfiltration.finding.message
    assert exfiltration.finding.line == 30  # the allowing statement, not the endpoint
    assert dict(exfiltration.evidence[0].context)["aws:ResourceAccount"] == "999999999999"
    assert len(of_rule(report, "endpoint-foreign-principals")) == 1
    assert "endpoint-default-policy" not in rule_ids(report)


def test_seed004_endpoint_policy_passes_exfiltration() -> None:
    report = audit_of(SEED_004, region="ap-northeast-1")
    assert not {"endpoint-exfiltration", "endpoint-foreign-principals", "endpoint-no-allow",
                "endpoint-default-policy"} & rule_ids(report)


def test_perimeter_policy_passes_endpoint_policy_rules() -> None:
    report = audit_of(TEMPLATES / "endpoint-perimeter.yaml")
    assert not {"endpoint-exfiltration", "endpoint-foreign-principals", "endpoint-no-allow",
                "endpoint-default-policy"} & rule_ids(report)


def test_seed001_default_endpoints_one_finding_each() -> None:
    findings = of_rule(audit_of(SEED_001), "endpoint-default-policy")
    services = [f.finding.message.split(" ")[1] for f in findings]
    assert sorted(services) == sorted(set(services))  # one finding per endpoint
    assert {"(ecr.api)", "(ecr.dkr)", "(s3)", "(logs)", "(secretsmanager)"} <= set(services)
    assert not {"endpoint-exfiltration", "endpoint-foreign-principals"} & rule_ids(audit_of(SEED_001))


# -- endpoint-no-allow -------------------------------------------------------------------------------

def test_endpoint_policy_allowing_nothing_fails() -> None:
    [finding] = of_rule(audit_of(TEMPLATES / "endpoint-perimeter.yaml", AllowNothing="true"), "endpoint-no-allow")
    assert "(sqs)" in finding.finding.message and finding.finding.severity is Severity.ERROR


def test_seed000_agent_endpoints_allow_nothing_the_agent_sends() -> None:
    # The article's policy (ecs:ListClusters only) on ecs-agent and ecs-telemetry: the agent's calls fail.
    findings = of_rule(audit_of(SEED_000, region="ap-northeast-1"), "endpoint-no-allow")
    assert sorted(f.finding.message.split(" ")[4] for f in findings) == ["(ecs-agent)", "(ecs-telemetry)"]


# -- task-role-overbroad -----------------------------------------------------------------------------

def test_seed003_task_roles_are_overbroad(seed003) -> None:
    findings = of_rule(seed003, "task-role-overbroad")
    backend = {f.finding.message.split(" write actions")[0].rsplit(" ", 1)[1] for f in findings
               if "backend" in f.subject}
    frontend = {f.finding.message.split(" write actions")[0].rsplit(" ", 1)[1] for f in findings
                if "frontend" in f.subject}
    assert {"cloudformation", "sqs", "dynamodb", "rds", "sns"} <= backend
    assert {"s3", "sqs", "elasticache"} <= frontend
    sqs = next(f for f in findings if "frontend" in f.subject and "sqs write" in f.finding.message)
    assert "sqs:SendMessage" in sqs.finding.message and "1 of the" in sqs.finding.message
    assert sqs.finding.file.endswith("frontend-task-role-policies.yaml")


def test_overbroad_fix_names_the_templates_resources() -> None:
    [finding] = of_rule(audit_of(TEMPLATES / "task-role-scope.yaml", Broad="true"), "task-role-overbroad")
    assert "every one of" in finding.finding.message
    assert "arn:aws:sqs:us-east-1:123456789012:orders" in finding.finding.fix


def test_task_role_scoped_to_its_queue_passes() -> None:
    assert "task-role-overbroad" not in rule_ids(audit_of(TEMPLATES / "task-role-scope.yaml"))


# -- instance-metadata-credentials -------------------------------------------------------------------

def test_unprotected_container_instance_fails() -> None:
    [finding] = of_rule(audit_of(TEMPLATES / "container-instance.yaml", Protected="false"),
                        "instance-metadata-credentials")
    message = finding.finding.message
    assert "bridge" in message and "iptables" in message and "IMDSv1" in message


def test_protected_container_instance_passes() -> None:
    assert "instance-metadata-credentials" not in rule_ids(audit_of(TEMPLATES / "container-instance.yaml"))


def test_instance_role_reach_by_network_mode() -> None:
    # ECS guide, "Task IAM role" (seed 002); EC2 guide, "Configure the instance metadata options".
    bare = Instance("i-1", None)
    assert instance_role_reach(bare, "awsvpc").reachable and "ECS_AWSVPC_BLOCK_IMDS" in instance_role_reach(
        bare, "awsvpc").fix
    blocked = Instance("i-1", None, agent_config=(("ECS_AWSVPC_BLOCK_IMDS", "true"),))
    assert instance_role_reach(blocked, "awsvpc").status == "blocked"
    # The hop limit does not stop awsvpc containers: they use their own ENI.
    assert instance_role_reach(Instance("i-3", None, http_tokens="required", hop_limit=1), "awsvpc").reachable
    hop2 = instance_role_reach(Instance("i-2", None, http_tokens="required", hop_limit=2), "bridge")
    assert hop2.reachable and "HopLimit is 2" in hop2.reason
    assert instance_role_reach(Instance("i-3", None, http_tokens="required", hop_limit=1), "bridge").status == "blocked"
    assert instance_role_reach(Instance("i-5", None, imds_iptables_block=True), "bridge").status == "blocked"
    host = instance_role_reach(Instance("i-4", None, http_tokens="required", imds_iptables_block=True), "host")
    assert host.reachable and "host network mode" in host.reason
    assert instance_role_reach(Instance("i-6", None, http_endpoint="disabled"), "host").status == "blocked"
    unread = Instance("i-7", None, unread=("the user data fetches and runs configuration at boot",))
    assert instance_role_reach(unread, "bridge").status == "undetermined"
    assert decoded_user_data("ZWNobyBoaQ==") == "echo hi"
    assert decoded_user_data("#!/bin/bash\necho hi") == "#!/bin/bash\necho hi"


def test_fargate_only_environment_has_no_container_instances() -> None:
    assert "instance-metadata-credentials" not in rule_ids(audit_of(SEED_004, region="ap-northeast-1"))


# -- role-mixup -------------------------------------------------------------------------------------

def test_task_role_with_execution_permissions_fails() -> None:
    [finding] = of_rule(audit_of(TEMPLATES / "role-mixup.yaml", Mixed="true"), "role-mixup")
    message = finding.finding.message
    assert "ecr:GetAuthorizationToken" in message and "logs:CreateLogStream" in message
    assert "mixup-execution-role" in message
    decisions = {(e.principal.split("/")[1], e.action): e.decision for e in finding.evidence}
    assert decisions[("mixup-task-role", "ecr:GetAuthorizationToken")] == "allowed"
    assert decisions[("mixup-execution-role", "ecr:GetAuthorizationToken")] == "implicitDeny"


def test_execution_role_with_its_permissions_passes() -> None:
    assert "role-mixup" not in rule_ids(audit_of(TEMPLATES / "role-mixup.yaml"))
    assert "role-mixup" not in rule_ids(audit_of(SEED_001))


# -- endpoint network rules --------------------------------------------------------------------------

NETWORK = TEMPLATES / "endpoint-network.yaml"
NETWORK_RULES = {"endpoint-security-group", "ecs-endpoint-siblings", "endpoint-private-dns-off", "endpoint-other-region"}


def test_network_template_passes_every_network_rule() -> None:
    assert not NETWORK_RULES & rule_ids(audit_of(NETWORK))


@pytest.mark.parametrize("parameter, value, rule", [
    ("IngressCidr", "10.9.0.0/16", "endpoint-security-group"),
    ("Siblings", "false", "ecs-endpoint-siblings"),
    ("PrivateDns", "false", "endpoint-private-dns-off"),
    ("OtherRegion", "true", "endpoint-other-region"),
])
def test_each_network_mistake_fails_exactly_its_rule(parameter: str, value: str, rule: str) -> None:
    found = NETWORK_RULES & rule_ids(audit_of(NETWORK, **{parameter: value}))
    assert found == {rule}


def test_security_group_finding_names_the_caller_and_the_reason() -> None:
    findings = of_rule(audit_of(NETWORK, IngressCidr="10.9.0.0/16"), "endpoint-security-group")
    ecs = next(f for f in findings if "(ecs)" in f.finding.message)
    assert "instance Instance" in ecs.finding.message and "443" in ecs.finding.message
    assert ecs.finding.line is not None


def test_siblings_need_ec2_capacity() -> None:
    # Seed 002 has no ecs endpoint; seed 000 has all three.
    assert "ecs-endpoint-siblings" not in rule_ids(audit_of(SEED_000, region="ap-northeast-1"))


def test_public_surface() -> None:
    import accesspath.audit as audit

    assert sorted(audit.__all__) == ["AuditFinding", "AuditReport", "AuditRule", "Evidence", "RuleInfo",
                                     "rule_catalog", "run_audit", "select_rules"]
