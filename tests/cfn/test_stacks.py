"""Several templates loaded together: imports across stacks, loops, broken resources and policy documents."""

from __future__ import annotations

from pathlib import Path

import pytest

import accesspath.cfn
from accesspath.cfn import CircularReferenceError, Symbolic, load_stacks, policy_nodes, stack_name_for
from accesspath.policy import PolicyType, Position, parse_policy
from accesspath.policy.model import Severity

from .loading import codes, load_many, load_one


def test_seed_003_backend_policies_attach_to_the_imported_task_role(templates: Path) -> None:
    backend = templates / "ecs-taskrole-backend.yml"
    stacks = load_stacks([backend, templates / "ecs-taskrole.yml"])
    # Exporters first, whatever order the files were given in.
    assert [s.name for s in stacks.stacks] == ["ecs-taskrole", "ecs-taskrole-backend"]
    stack = stacks.stack("ecs-taskrole-backend")
    assert stack is not None
    # The empty SSMAccessPolicy is reported at its line and the rest loads.
    assert [str(i) for i in stack.issues] == [
        f"{backend}:42:3: error: resource 'SSMAccessPolicy' is empty: it has no Type and no Properties,"
        " so it is not loaded [empty-resource]"]
    assert [r.logical_id for r in stack.resources] == [
        "CloudFormationAccessPolicy", "SQSAccessPolicy", "DynamoDBAccessPolicy"]
    for resource in stack.resources:
        roles = resource.property("Roles")
        assert roles is not None and roles.to_python() == ["MyVPC-backend-task-role-Dev"]
        # The imported value sits where the Fn::ImportValue was written.
        assert roles.value[0].start is not None and roles.value[0].start.source == str(backend)


def test_parsed_policy_documents_keep_their_yaml_positions(templates: Path) -> None:
    backend = templates / "ecs-taskrole-backend.yml"
    stacks = load_stacks([templates / "ecs-taskrole.yml", backend])
    found = {(loc.resource.logical_id, loc.path, loc.kind) for loc in policy_nodes(stacks)}
    assert found == {
        ("BackendEcsTaskRole", "Properties.AssumeRolePolicyDocument", "role-trust"),
        ("FrontendEcsTaskRole", "Properties.AssumeRolePolicyDocument", "role-trust"),
        ("CloudFormationAccessPolicy", "Properties.PolicyDocument", "identity"),
        ("SQSAccessPolicy", "Properties.PolicyDocument", "identity"),
        ("DynamoDBAccessPolicy", "Properties.PolicyDocument", "identity"),
    }
    location = next(loc for loc in policy_nodes(stacks) if loc.resource.logical_id == "DynamoDBAccessPolicy")
    policy = parse_policy(location.node, policy_type=PolicyType(location.kind), policy_id="DynamoDBAccessPolicy",
                          source=str(backend))
    assert not [i for i in policy.issues if i.severity is Severity.ERROR]
    statement = policy.statements[0]
    assert statement.start == Position(50, 13, str(backend))
    assert statement.resource is not None
    # The Fn::Sub resource keeps the position of the !Sub in the YAML, resolved for the account.
    assert statement.resource.position == Position(54, 23, str(backend))
    assert statement.resource.texts == ("arn:aws:dynamodb:us-east-1:123456789012:table/*",)


def test_a_missing_import_is_symbolic_and_names_the_export(templates: Path) -> None:
    backend = templates / "ecs-taskrole-backend.yml"
    stacks = load_stacks([backend], parameter_overrides={"EnvType": "Production"})
    stack = stacks.stacks[0]
    missing = [i for i in stack.issues if i.code == "missing-import"]
    assert len(missing) == 3
    assert missing[0].message == ("no loaded template exports 'MyVPC-BackendEcsTaskRole-Production'; load the"
                                  " stack that exports it or give --import MyVPC-BackendEcsTaskRole-Production=VALUE"
                                  " (imported by stack 'ecs-taskrole-backend')")
    assert missing[0].position == Position(27, 11, str(backend))
    role = stack.resources[0].property("Roles").value[0]  # type: ignore[union-attr]
    assert isinstance(role.value, Symbolic) and role.value.position == Position(27, 11, str(backend))


def test_a_missing_import_suggests_close_exports(templates: Path) -> None:
    stacks = load_stacks([templates / "ecs-taskrole.yml", templates / "ecs-taskrole-backend.yml"],
                         stack_names={str(templates / "ecs-taskrole.yml"): "roles"})
    # Export names are resolved per stack: make the backend ask for Staging only.
    backend = load_many(
        (Path(templates / "ecs-taskrole.yml").read_text(), "roles.yml", "roles"),
        ("""\
Resources:
  P:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: p
      PolicyDocument: {Statement: []}
      Roles: [!ImportValue MyVPC-BackendEcsTaskRole-Staging]
""", "p.yml", "p"))
    assert stacks.stack("roles") is not None
    issue = next(i for i in backend.stack("p").issues if i.code == "missing-import")  # type: ignore[union-attr]
    assert issue.message == ("no loaded template exports 'MyVPC-BackendEcsTaskRole-Staging'; load the stack that"
                             " exports it or give --import MyVPC-BackendEcsTaskRole-Staging=VALUE (loaded templates export 'MyVPC-BackendEcsTaskRole-Dev',"
                             " 'MyVPC-BackendEcsTaskRoleArn-Dev') (imported by stack 'p')")


def test_export_names_and_values_across_three_stacks() -> None:
    network = """\
Parameters:
  Env: {Type: String, Default: dev}
Resources:
  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.1.0.0/16}}
Outputs:
  VpcId:
    Value: !Ref Vpc
    Export: {Name: !Sub "${AWS::StackName}-VpcId"}
  Cidr:
    Value: !GetAtt Vpc.CidrBlock
    Export: {Name: !Join ["-", [!Ref Env, cidr]]}
"""
    endpoints = """\
Resources:
  Endpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      ServiceName: com.amazonaws.us-east-1.s3
      VpcId: !ImportValue network-VpcId
      PolicyDocument:
        Statement:
          - {Effect: Allow, Principal: "*", Action: "s3:GetObject", Resource: "*"}
Outputs:
  EndpointId:
    Value: !Ref Endpoint
    Export: {Name: endpoint-id}
"""
    bucket = """\
Resources:
  Bucket: {Type: AWS::S3::Bucket, Properties: {BucketName: assets}}
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: [!GetAtt Bucket.Arn, !Sub "${Bucket.Arn}/*"]
            Condition:
              StringNotEquals:
                aws:SourceVpce: !ImportValue endpoint-id
                aws:SourceVpc: !ImportValue network-VpcId
"""
    stacks = load_many((bucket, "bucket.yml", "bucket"), (endpoints, "endpoints.yml", "endpoints"),
                       (network, "network.yml", "network"))
    assert [s.name for s in stacks.stacks] == ["network", "endpoints", "bucket"]
    assert stacks.issues == ()
    vpc_id = stacks.stack("network").resource("Vpc").physical_id  # type: ignore[union-attr]
    endpoint_id = stacks.stack("endpoints").resource("Endpoint").physical_id  # type: ignore[union-attr]
    assert set(stacks.exports) == {"network-VpcId", "dev-cidr", "endpoint-id"}
    assert stacks.exports["dev-cidr"].value.value == "10.1.0.0/16"
    kinds = {loc.resource.logical_id: loc.kind for loc in policy_nodes(stacks)}
    assert kinds == {"Endpoint": "vpc-endpoint", "Policy": "resource"}
    location = next(loc for loc in policy_nodes(stacks) if loc.kind == "resource")
    assert location.node.to_python()["Statement"][0]["Condition"] == {
        "StringNotEquals": {"aws:SourceVpce": endpoint_id, "aws:SourceVpc": vpc_id}}
    assert location.node.to_python()["Statement"][0]["Resource"] == ["arn:aws:s3:::assets", "arn:aws:s3:::assets/*"]


def test_import_loops_between_stacks_are_an_error() -> None:
    a = "Resources:\n  Q: {Type: AWS::SQS::Queue, Properties: {QueueName: !ImportValue from-b}}\n" \
        "Outputs:\n  O: {Value: x, Export: {Name: from-a}}\n"
    b = "Resources:\n  Q: {Type: AWS::SQS::Queue, Properties: {QueueName: !ImportValue from-a}}\n" \
        "Outputs:\n  O: {Value: y, Export: {Name: from-b}}\n"
    with pytest.raises(CircularReferenceError) as raised:
        load_many((a, "a.yml", "a"), (b, "b.yml", "b"))
    assert str(raised.value) == ("a.yml:2:54: stacks import each other's exports: 'a' imports 'from-b' from 'b';"
                                 " 'b' imports 'from-a' from 'a'")


def test_a_stack_importing_its_own_export_is_an_error() -> None:
    a = "Resources:\n  Q: {Type: AWS::SQS::Queue, Properties: {QueueName: !ImportValue mine}}\n" \
        "Outputs:\n  O: {Value: x, Export: {Name: mine}}\n"
    with pytest.raises(CircularReferenceError, match="stack 'a' imports its own export 'mine'"):
        load_many((a, "a.yml", "a"))


def test_duplicate_exports_are_reported() -> None:
    text = "Resources:\n  Q: {Type: AWS::SQS::Queue}\nOutputs:\n  O: {Value: x, Export: {Name: shared}}\n"
    stacks = load_many((text, "a.yml", "a"), (text, "b.yml", "b"))
    assert codes(stacks.stack("b")) == ["duplicate-export"]  # type: ignore[arg-type]
    assert stacks.exports["shared"].stack == "a"


@pytest.mark.parametrize("resources, cycle", [
    ("  A: {Type: AWS::SQS::Queue, Properties: {QueueName: !GetAtt B.QueueName}}\n"
     "  B: {Type: AWS::SQS::Queue, Properties: {QueueName: !Ref A}}\n", "'A' -> 'B' -> 'A'"),
    ("  A: {Type: AWS::SQS::Queue, DependsOn: [C]}\n"
     "  B: {Type: AWS::SQS::Queue, DependsOn: A}\n"
     "  C: {Type: AWS::SQS::Queue, Properties: {QueueName: !Sub '${B.QueueName}-x'}}\n", "'A' -> 'C' -> 'B' -> 'A'"),
    ("  A: {Type: AWS::SQS::Queue, Properties: {QueueName: !Sub '${A}'}}\n", "'A' -> 'A'"),
])
def test_circular_references_between_resources_are_an_error(resources: str, cycle: str) -> None:
    with pytest.raises(CircularReferenceError) as raised:
        load_one("Resources:\n" + resources)
    assert f"circular reference between resources: {cycle}" in str(raised.value)
    assert str(raised.value).startswith("t.yml:")


def test_resources_without_type_are_reported_and_the_rest_loads() -> None:
    stack = load_one("""\
Resources:
  SSMAccessPolicy:
    Properties:
      PolicyDocument: {Statement: []}
  NoProperties:
    Type: AWS::IAM::Policy
  Queue:
    Type: AWS::SQS::Queue
    Properties: {Tags: [!Ref SSMAccessPolicy]}
""")
    assert [str(i) for i in stack.issues] == [
        "t.yml:2:3: error: resource 'SSMAccessPolicy' has no Type (it has Properties), so it is not loaded"
        " [missing-type]",
        "t.yml:5:3: error: resource 'NoProperties' (AWS::IAM::Policy) has no 'PolicyDocument' property"
        " [missing-property]",
        "t.yml:5:3: error: resource 'NoProperties' (AWS::IAM::Policy) has no 'PolicyName' property"
        " [missing-property]",
    ]
    assert [r.logical_id for r in stack.resources] == ["NoProperties", "Queue"]
    tag = stack.resource("Queue").properties.to_python()["Tags"][0]  # type: ignore[union-attr]
    assert isinstance(tag, Symbolic) and "has no Type and was not loaded" in tag.reason


def test_statement_written_directly_under_a_resource_is_reported() -> None:
    stack = load_one("""\
Resources:
  SSMAccessPolicy:
    Statement:
      - Effect: Allow
    Roles: [x]
""")
    assert codes(stack) == ["unknown-resource-attribute", "unknown-resource-attribute", "missing-type"]
    assert stack.issues[0].position == Position(3, 5, "t.yml")
    assert stack.resources == ()


def test_unknown_types_are_kept_as_not_modelled() -> None:
    stack = load_one("Resources:\n  Tg: {Type: AWS::ElasticLoadBalancingV2::TargetGroup}\n")
    assert [(i.code, i.severity) for i in stack.issues] == [("not-modelled", Severity.WARNING)]
    target_group = stack.resource("Tg")
    assert target_group is not None and target_group.type == "AWS::ElasticLoadBalancingV2::TargetGroup"
    assert isinstance(target_group.physical_id, Symbolic)


def test_policy_documents_of_every_kind() -> None:
    stack_text = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: "sts:AssumeRole"}]
      Policies:
        - PolicyName: inline
          PolicyDocument: {Statement: [{Effect: Allow, Action: "s3:*", Resource: "*"}]}
        - PolicyName: second
          PolicyDocument: '{"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}'
  Managed:
    Type: AWS::IAM::ManagedPolicy
    Properties: {PolicyDocument: {Statement: []}}
  Queue: {Type: AWS::SQS::Queue}
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties: {Queues: [!Ref Queue], PolicyDocument: {Statement: []}}
  Key:
    Type: AWS::KMS::Key
    Properties: {KeyPolicy: {Statement: []}}
  Secret: {Type: AWS::SecretsManager::Secret}
  SecretPolicy:
    Type: AWS::SecretsManager::ResourcePolicy
    Properties: {SecretId: !Ref Secret, ResourcePolicy: {Statement: []}}
  Repo:
    Type: AWS::ECR::Repository
    Properties: {RepositoryPolicyText: {Statement: []}}
"""
    stacks = load_many((stack_text, "t.yml", "s"))
    found = [(loc.resource.logical_id, loc.path, loc.kind) for loc in policy_nodes(stacks)]
    assert found == [
        ("Role", "Properties.AssumeRolePolicyDocument", "role-trust"),
        ("Role", "Properties.Policies[0].PolicyDocument", "identity"),
        ("Role", "Properties.Policies[1].PolicyDocument", "identity"),
        ("Managed", "Properties.PolicyDocument", "identity"),
        ("QueuePolicy", "Properties.PolicyDocument", "resource"),
        ("Key", "Properties.KeyPolicy", "kms-key"),
        ("SecretPolicy", "Properties.ResourcePolicy", "resource"),
        ("Repo", "Properties.RepositoryPolicyText", "resource"),
    ]
    assert all(kind in {t.value for t in PolicyType} for _, _, kind in found)
    json_string = [loc for loc in policy_nodes(stacks)][2].node
    assert json_string.is_object and json_string.start is not None and json_string.start.line == 11
    secret_policy = stacks.stacks[0].resource("SecretPolicy")
    assert secret_policy is not None
    assert secret_policy.physical_id == stacks.stacks[0].resource("Secret").physical_id  # type: ignore[union-attr]


def test_stack_names_come_from_file_names(tmp_path: Path) -> None:
    path = tmp_path / "sample_ecs-taskrole.cfn.yml"
    path.write_text("Resources:\n  Q: {Type: AWS::SQS::Queue}\n")
    stacks = load_stacks([str(path)], region="eu-central-1")
    assert stacks.stacks[0].name == "sample-ecs-taskrole"
    assert stack_name_for("1-net.yaml") == "stack-1-net"
    assert stacks.partition == "aws" and stacks.region == "eu-central-1"


def test_unreadable_files_are_usage_errors(tmp_path: Path) -> None:
    from accesspath.errors import UsageError
    with pytest.raises(UsageError, match="no such file .*missing.yml"):
        load_stacks([tmp_path / "missing.yml"])


def test_the_public_surface_is_pinned() -> None:
    assert sorted(accesspath.cfn.__all__) == sorted([
        "CircularReferenceError", "DEFAULT_ACCOUNT", "DEFAULT_REGION", "Export", "LoadedStack", "Output",
        "POLICY_PROPERTIES", "Parameter", "ParameterValueError", "PolicyLocation", "RESOURCE_TYPE_MODELS",
        "Resource", "StackSet", "Symbolic", "TemplateError", "TemplateIssue", "TemplateSource",
        "TemplateSyntaxError", "decode_template", "load_stacks", "policy_nodes", "stack_name_for",
        # nested stacks, CDK assemblies and parameter files (issue 9)
        "AssemblyStack", "NESTED_STACK_TYPES", "ParameterValue", "TemplateUrlMapping", "is_cloud_assembly",
        "locate_template", "nested_stack_name", "parse_assignment", "parse_parameter", "read_cloud_assembly",
        "read_parameter_file", "template_sources",
    ])


def test_an_export_whose_output_is_not_created_is_reported() -> None:
    exporter = """\
Conditions:
  Never: !Equals [a, b]
Resources:
  Q: {Type: AWS::SQS::Queue}
Outputs:
  O: {Condition: Never, Value: !Ref Q, Export: {Name: queue-url}}
"""
    importer = "Resources:\n  P: {Type: AWS::SQS::Queue, Properties: {QueueName: !ImportValue queue-url}}\n"
    stacks = load_many((importer, "i.yml", "i"), (exporter, "e.yml", "e"))
    assert [i.message for i in stacks.stack("i").issues] == [  # type: ignore[union-attr]
        "the export 'queue-url' of stack 'e' is not available (its output's condition is false)"]


def test_texts_can_be_given_directly() -> None:
    stacks = load_stacks(["Resources:\n  Q: {Type: AWS::SQS::Queue}\n"])
    assert stacks.stacks[0].name == "stack-1"
    assert stacks.stacks[0].resources[0].position == Position(2, 3, "<template 1>")


def test_cfn_init_metadata_resolves_resources_declared_after_it() -> None:
    """The ECS reference architecture's launch configuration names an SSM parameter declared below it in
    its cfn-init commands (ecs-cluster.yaml): the parameter is resolved first, never 'not resolved yet'."""
    stack = load_one("""\
Resources:
  LaunchConfiguration:
    Type: AWS::AutoScaling::LaunchConfiguration
    Properties: {ImageId: ami-12345678, InstanceType: t3.micro}
    Metadata:
      AWS::CloudFormation::Init:
        config:
          commands:
            01_agent: {command: !Sub 'agent-ctl -c ssm:${AgentParameter} -s'}
  AgentParameter:
    Type: AWS::SSM::Parameter
    Properties: {Name: agent-config, Type: String, Value: '{}'}
""")
    assert codes(stack) == []
    init = stack.resource("LaunchConfiguration").cfn_init  # type: ignore[union-attr]
    assert init is not None
    assert init.to_python()["config"]["commands"]["01_agent"]["command"] == "agent-ctl -c ssm:agent-config -s"


def test_a_cycle_closed_only_through_cfn_init_metadata_is_not_an_error() -> None:
    """Only Properties and DependsOn order creation (aws-attribute-dependson.md): a metadata reference back
    to a resource that depends on this one stays unknown, and the template loads."""
    stack = load_one("""\
Resources:
  LaunchConfiguration:
    Type: AWS::AutoScaling::LaunchConfiguration
    Properties: {ImageId: ami-12345678, InstanceType: t3.micro}
    Metadata:
      AWS::CloudFormation::Init:
        config:
          commands: {01_signal: {command: !Sub 'cfn-signal --resource ${Group}'}}
  Group:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      LaunchConfigurationName: !Ref LaunchConfiguration
      MinSize: '1'
      MaxSize: '1'
      VPCZoneIdentifier: [subnet-12345678]
""")
    assert "unresolved-reference" not in codes(stack)
    command = stack.resource("LaunchConfiguration").cfn_init.to_python()[  # type: ignore[union-attr]
        "config"]["commands"]["01_signal"]["command"]
    assert isinstance(command, Symbolic) and "depends on it" in command.reason
    assert stack.resource("Group") is not None
