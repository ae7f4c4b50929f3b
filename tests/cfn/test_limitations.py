"""Loader limitations (types accesspath does not model) are shown once per type with counts (issue 9 item 11)."""

from __future__ import annotations

import json

from accesspath.cfn.limitations import is_limitation, summarised
from accesspath.cli import main

from .loading import load_many

PARENT = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !GetAtt Alb.DNSName, Tags: [{Key: k, Value: !Ref TargetGroup}]}
  Alb: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer}
  TargetGroup: {Type: AWS::ElasticLoadBalancingV2::TargetGroup}
  Unrelated: {Type: AWS::EC2::Subnet, Properties: {VpcId: !ImportValue nowhere, CidrBlock: 10.0.0.0/24}}
"""
SERVICE = """\
Resources:
  TargetGroup: {Type: AWS::ElasticLoadBalancingV2::TargetGroup}
  Rule: {Type: AWS::ElasticLoadBalancingV2::ListenerRule, Properties: {Actions: [{TargetGroupArn: !Ref TargetGroup}]}}
"""


def test_one_issue_per_unmodelled_type_with_its_counts_in_the_place_of_the_first() -> None:
    stacks = load_many((PARENT, "parent.yml", "parent"), (SERVICE, "service.yml", "service"))
    raw = stacks.issues
    assert sum(is_limitation(i) for i in raw) == 7  # 4 resources, 3 references
    shown = summarised(raw)
    assert [i.code for i in shown] == ["not-modelled", "not-modelled", "not-modelled", "missing-import"]
    target_group, rule, load_balancer, missing_import = shown  # stacks load in import order: service first
    assert load_balancer.message == (
        "the type 'AWS::ElasticLoadBalancingV2::LoadBalancer' is not modelled: 1 resource (Alb) is kept unread,"
        " 1 Ref/Fn::GetAtt to it unresolved; a value taken from it is unknown where it is used")
    assert load_balancer.position is not None and (load_balancer.position.source, load_balancer.position.line) == (
        "parent.yml", 5)  # the resource, not a reference to it
    assert target_group.message.startswith("the type 'AWS::ElasticLoadBalancingV2::TargetGroup' is not modelled:"
                                           " 2 resources (TargetGroup (in 2 stacks)) are kept unread, 2 Ref/Fn::GetAtt")
    assert missing_import.code == "missing-import"  # other issues are kept as they are
    assert rule.message.startswith("the type 'AWS::ElasticLoadBalancingV2::ListenerRule' is not modelled: 1 resource"
                                   " (Rule)")

def test_validate_reports_a_type_once_with_a_fix_that_applies(capsys, tmp_path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text("Resources:\n" + "".join(
        f"  Group{n}: {{Type: AWS::ElasticLoadBalancingV2::TargetGroup}}\n" for n in range(6)))
    main(["validate", str(path), "--format", "json"])

    findings = json.loads(capsys.readouterr().out)["findings"]
    [finding] = [f for f in findings if f["ruleId"] == "template"]
    assert "6 resources (Group0, Group1, Group2, Group3 and 2 more)" in finding["message"]
    assert finding["fix"].startswith("nothing to correct in the template")
    assert finding["location"]["line"] == 2
