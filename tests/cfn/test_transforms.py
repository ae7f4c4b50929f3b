"""Transforms and CDK assemblies: templates as CloudFormation would see them after its transforms.

- AWS::Serverless-2016-10-31 is applied by AWS's SAM translator (transform-aws-serverless.md);
- AWS::LanguageExtensions: Fn::ForEach (intrinsic-function-reference-foreach.md), Fn::ToJsonString,
  Fn::Length and intrinsic functions in DeletionPolicy (transform-aws-languageextensions.md);
- a CDK cloud assembly's manifest.json names its stacks, their environment and dependencies.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accesspath.cfn import Symbolic, TemplateError, load_stacks, policy_nodes, read_cloud_assembly, template_sources
from accesspath.cli import main
from accesspath.environment.from_templates import build_environment
from accesspath.policy import Position

from .loading import TEMPLATES, load_one

SAM = TEMPLATES / "transforms" / "sam.yaml"
EXTENSIONS = TEMPLATES / "transforms" / "language-extensions.yaml"
CDK = TEMPLATES / "cdk.out"


def test_sam_is_translated_by_the_sam_translator() -> None:
    stacks = load_stacks([SAM])
    sam = stacks.stack("sam")
    assert sam is not None
    types = {r.logical_id: r.type for r in sam.resources}
    assert types["Worker"] == "AWS::Lambda::Function" and types["WorkerRole"] == "AWS::IAM::Role"
    assert not [i for i in stacks.issues if i.code in ("transform-not-applied", "unknown-section")]
    role = sam.resource("WorkerRole")
    assert role is not None
    # A managed policy named by its name becomes its ARN; the SAM policy template SQSPollerPolicy and
    # the inline statement become inline policies.
    assert "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess" in role.property("ManagedPolicyArns").to_python()
    documents = {loc.path: loc.node for loc in policy_nodes(stacks) if loc.resource.logical_id == "WorkerRole"}
    poller = documents["Properties.Policies[0].PolicyDocument"].to_python()
    assert poller["Statement"][0]["Resource"] == "arn:aws:sqs:us-east-1:123456789012:sam-Orders-OSOLS6IPD5ANN"
    inline = documents["Properties.Policies[1].PolicyDocument"]
    # The statement the translator copied keeps its place in the template.
    assert inline.start == Position(24, 11, str(SAM))
    assert inline.to_python()["Statement"][0]["Resource"] == "arn:aws:s3:::assets-prod/*"
    # What the translator generated is placed at the SAM resource it came from.
    assert documents["Properties.AssumeRolePolicyDocument"].start == Position(15, 3, str(SAM))


def test_a_serverless_application_with_a_local_location_is_a_nested_stack() -> None:
    stacks = load_stacks([SAM])
    child = next(s for s in stacks.stacks if s.path == "sam/Shared")
    assert child.parameters["Stage"].value == "prod"
    sam = stacks.stack("sam")
    assert sam is not None and sam.outputs["SharedBucket"].value.value == "shared-prod"


def test_sam_errors_are_template_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n"
                    "    Properties: {Handler: 1, Runtime: python3.12, CodeUri: [1]}\n")
    with pytest.raises(TemplateError, match="AWS::Serverless-2016-10-31 transform rejects the template"):
        load_stacks([path])


def test_for_each_expands_resources_and_outputs() -> None:
    stacks = load_stacks([EXTENSIONS])
    stack = stacks.stacks[0]
    queues = [r for r in stack.resources if r.type == "AWS::SQS::Queue"]
    # &{Name} drops the characters a logical id cannot hold: audit-log is Queueauditlog.
    assert [q.logical_id for q in queues] == ["Queueorders", "Queueinvoices", "Queueauditlog"]
    assert [q.property("QueueName").value for q in queues] == ["app-orders", "app-invoices", "app-audit-log"]
    sends = {r.logical_id: r for r in stack.resources if r.type == "AWS::IAM::Policy"}
    statement = sends["Sendauditlog"].property("PolicyDocument").to_python()["Statement"][0]
    assert statement["Resource"] == "arn:aws:sqs:us-east-1:123456789012:app-audit-log"
    assert set(stack.outputs) == {"QueueCount", "Urlorders", "Urlinvoices", "Urlauditlog"}
    assert stack.outputs["QueueCount"].value.value == 3  # Fn::Length
    assert not [i for i in stacks.issues if i.severity.value == "error"]


def test_to_json_string_gives_a_policy_document_every_command_reads() -> None:
    env = build_environment(load_stacks([EXTENSIONS]))
    role = env.roles["queue-sender"]
    assert role.trust_policy is not None and role.trust_policy.statements
    assert len([p for p in role.policies if "Send" in (p.policy_id or "")]) == 3


def test_for_each_collections_come_from_parameters() -> None:
    stacks = load_stacks([EXTENSIONS], parameter_overrides={"QueueNames": "a,b"})
    assert [r.logical_id for r in stacks.stacks[0].resources if r.type == "AWS::SQS::Queue"] == ["Queuea", "Queueb"]


def test_deletion_policy_intrinsics_need_the_transform_and_a_valid_value() -> None:
    text = """\
    Parameters:
      Keep: {Type: String, Default: Retain}
    Resources:
      Q:
        Type: AWS::SQS::Queue
        DeletionPolicy: !Ref Keep
    """
    stack = load_one(text)
    assert "intrinsic-needs-language-extensions" in [i.code for i in stack.issues]
    stack = load_one("Transform: AWS::LanguageExtensions\n" + text.replace("    ", "", 1)
                     .replace("\n    ", "\n"), parameter_overrides={"Keep": "Forever"})
    assert any(i.code == "bad-argument" and "'Forever'" in i.message for i in stack.issues)


def test_an_unresolved_for_each_collection_is_reported() -> None:
    stack = load_one("""\
    Transform: AWS::LanguageExtensions
    Parameters:
      Names: {Type: CommaDelimitedList}
    Resources:
      Fn::ForEach::Q:
        - N
        - !Ref Names
        - Q${N}: {Type: AWS::SQS::Queue}
      Other: {Type: AWS::SQS::Queue}
    """)
    assert [r.logical_id for r in stack.resources] == ["Other"]
    issue = next(i for i in stack.issues if i.code == "unresolved-for-each")
    assert "what the loop would create is missing" in issue.message


def test_other_transforms_are_reported_not_applied() -> None:
    stack = load_one("Transform: [MyMacro]\nResources:\n  Q: {Type: AWS::SQS::Queue}\n")
    assert [i.code for i in stack.issues if i.code == "transform-not-applied"] == ["transform-not-applied"]


def test_a_cdk_assembly_is_its_stacks_with_names_environment_and_dependencies() -> None:
    stacks = read_cloud_assembly(CDK)
    assert [(s.stack_name, s.account, s.region, s.dependencies) for s in stacks] == [
        ("shop-network", "111122223333", "eu-west-1", ()),
        ("AppStack", "111122223333", "eu-west-1", ("shop-network",)),
    ]
    sources = template_sources([CDK / "manifest.json"])
    assert [s.stack_name for s in sources] == ["shop-network", "AppStack"]


def test_a_cdk_assembly_loads_wherever_templates_do(capsys) -> None:
    code = main(["env", "export", str(CDK)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    document = json.loads(captured.out)
    assert (document["account"], document["region"]) == ("111122223333", "eu-west-1")
    service = document["services"][0]
    subnet = document["subnets"][0]
    assert service["subnetIds"] == [subnet["id"]]  # Fn::ImportValue across the assembly's stacks
    # The nested stack's template is the asset beside the parent (aws:asset:path).
    bucket = next(r for r in document["resources"] if r["kind"] == "s3-bucket")
    assert bucket["policy"] is not None
    role = document["roles"][0]
    assert role["arn"].startswith("arn:aws:iam::111122223333:role/AppStack-TaskRole")
    principal = bucket["policy"]["document"]["Statement"][0]["Principal"]["AWS"]
    assert principal == role["arn"]


def test_cdk_nested_stack_names_and_unknown_environments(tmp_path: Path) -> None:
    manifest = json.loads((CDK / "manifest.json").read_text())
    manifest["artifacts"]["AppStack"]["environment"] = "aws://unknown-account/unknown-region"
    folder = tmp_path / "cdk.out"
    folder.mkdir()
    for path in CDK.iterdir():
        (folder / path.name).write_text(path.read_text())
    (folder / "manifest.json").write_text(json.dumps(manifest))
    app = read_cloud_assembly(folder)[1]
    assert (app.account, app.region) == (None, None)
    stacks = load_stacks(template_sources([folder]), account="444455556666", region="us-west-2")
    nested = next(s for s in stacks.stacks if s.parent == "AppStack")
    assert nested.path == "AppStack/Storage" and nested.name.startswith("AppStack-Storage-")
    assert not isinstance(nested.parameters["referencetoAppStackTaskRoleArn"].value, Symbolic)
