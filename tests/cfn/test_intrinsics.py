"""Every intrinsic function, resolved with positions; what cannot be resolved is Symbolic and reported."""

from __future__ import annotations

import base64

from accesspath.cfn import Resource, Symbolic
from accesspath.policy.source import Position

from .loading import codes, load_one


def values(text: str, **options: object) -> dict[str, object]:
    """The resolved Properties of the resource 'R' (an SQS queue unless the template says otherwise)."""
    stack = load_one(text, **options)
    resource = stack.resource("R")
    assert resource is not None, [str(i) for i in stack.issues]
    return resource.properties.to_python()  # type: ignore[no-any-return]


def queue(properties: str, extra: str = "") -> str:
    return f"""\
Parameters:
  Env: {{Type: String, Default: dev}}
  Names: {{Type: CommaDelimitedList, Default: "a, b,c"}}
Mappings:
  Sizes:
    dev: {{Memory: "512", Cpu: 256}}
    prod: {{Memory: "2048"}}
Resources:
  R:
    Type: AWS::SQS::Queue
    Properties:
{properties}
{extra}"""


def test_pseudo_parameters() -> None:
    props = values(queue("""\
      A: !Ref AWS::AccountId
      B: !Ref AWS::Region
      C: !Ref AWS::Partition
      D: !Ref AWS::StackName
      E: !Ref AWS::URLSuffix
      F: !Ref AWS::NotificationARNs
      G: !Ref AWS::StackId"""), account="111122223333", region="cn-north-1")
    assert (props["A"], props["B"], props["C"], props["D"], props["E"], props["F"]) == (
        "111122223333", "cn-north-1", "aws-cn", "test-stack", "amazonaws.com.cn", [])
    assert str(props["G"]).startswith("arn:aws-cn:cloudformation:cn-north-1:111122223333:stack/test-stack/")


def test_sub_in_all_its_forms() -> None:
    props = values(queue("""\
      Plain: !Sub "${Env}-${AWS::Region}"
      Vars: !Sub ["${Name}-${Env}", {Name: !Ref AWS::AccountId}]
      Literal: !Sub "${!Literal}-${Env}"
      Attr: !Sub "${Q.Arn}"
      NoVars: !Sub plain text""", extra="  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: jobs}\n"))
    assert props == {"Plain": "dev-us-east-1", "Vars": "123456789012-dev", "Literal": "${Literal}-dev",
                     "Attr": "arn:aws:sqs:us-east-1:123456789012:jobs", "NoVars": "plain text"}


def test_resolved_values_take_the_position_of_the_intrinsic() -> None:
    stack = load_one(queue('      QueueName: !Sub "${Env}-jobs"'))
    resource = stack.resource("R")
    assert resource is not None
    node = resource.property("QueueName")
    assert node is not None and node.value == "dev-jobs"
    assert node.start == Position(12, 18, "t.yml")


def test_join_select_split() -> None:
    props = values(queue("""\
      Joined: !Join ["/", [a, !Ref Env, 3]]
      JoinList: !Join [":", !Ref Names]
      Picked: !Select [1, !Ref Names]
      PickedString: !Select ["0", [x, y]]
      Split: !Split [",", "p,q,r"]
      SplitSelect: !Select [2, !Split ["-", "a-b-c"]]"""))
    assert props == {"Joined": "a/dev/3", "JoinList": "a:b:c", "Picked": "b", "PickedString": "x",
                     "Split": ["p", "q", "r"], "SplitSelect": "c"}


def test_find_in_map_base64_get_azs_cidr() -> None:
    props = values(queue("""\
      Memory: !FindInMap [Sizes, !Ref Env, Memory]
      Cpu: !FindInMap [Sizes, dev, Cpu]
      Encoded: {"Fn::Base64": !Sub "hello ${Env}"}
      Zones: !GetAZs ""
      OtherZones: !GetAZs eu-west-1
      Zone: !Select [0, !GetAZs {Ref: AWS::Region}]
      Blocks: !Cidr ["10.0.0.0/16", 3, 8]
      Blocks6: !Cidr ["fd00::/56", 2, 64]"""))
    assert props["Memory"] == "512" and props["Cpu"] == 256
    assert props["Encoded"] == base64.b64encode(b"hello dev").decode()
    assert props["Zones"] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert props["OtherZones"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert props["Zone"] == "us-east-1a"
    assert props["Blocks"] == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
    assert props["Blocks6"] == ["fd00::/64", "fd00:0:0:1::/64"]


def test_find_in_map_missing_key_is_symbolic_and_reported() -> None:
    stack = load_one(queue("      Memory: !FindInMap [Sizes, prod, Cpu]"))
    resource = stack.resource("R")
    assert resource is not None
    value = resource.properties.to_python()["Memory"]
    assert isinstance(value, Symbolic)
    assert "'Cpu' is not a key of mapping 'Sizes.prod'" in value.reason
    assert codes(stack) == ["missing-mapping-key"]
    assert stack.issues[0].position == Position(12, 15, "t.yml")


def test_cidr_that_does_not_fit_is_reported() -> None:
    stack = load_one(queue("      Blocks: !Cidr ['10.0.0.0/24', 4, 7]"))
    assert codes(stack) == ["bad-argument"]
    assert "holds only 2 blocks of /25, not 4" in stack.issues[0].message


def test_select_out_of_range_is_reported() -> None:
    stack = load_one(queue("      X: !Select [5, [a, b]]"))
    assert codes(stack) == ["index-out-of-range"]


def test_json_templates_use_the_long_form() -> None:
    stack = load_one("""{
  "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
  "Resources": {
    "R": {"Type": "AWS::SQS::Queue",
          "Properties": {"QueueName": {"Fn::Join": ["-", [{"Ref": "Env"}, {"Fn::GetAtt": ["B", "Arn"]}]]}}},
    "B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "logs"}}
  }
}""", source="t.json")
    resource = stack.resource("R")
    assert resource is not None
    assert resource.properties.to_python() == {"QueueName": "dev-arn:aws:s3:::logs"}
    assert resource.properties.value[0].value.start == Position(5, 39, "t.json")


def test_no_value_removes_the_key_or_the_item() -> None:
    props = values(queue("""\
      Gone: !Ref AWS::NoValue
      Kept: yes
      List: [a, !Ref AWS::NoValue, b]
      Chosen: !If [IsDev, !Ref AWS::NoValue, kept]""",
                         extra="Conditions:\n  IsDev: !Equals [!Ref Env, dev]\n"))
    assert props == {"Kept": True, "List": ["a", "b"]}


def test_unsupported_intrinsic_is_symbolic_and_reported() -> None:
    stack = load_one(queue("      Size: !Length [a, b]"))
    resource = stack.resource("R")
    assert resource is not None
    value = resource.properties.to_python()["Size"]
    # Fn::Length exists only under the AWS::LanguageExtensions transform (transform-aws-languageextensions.md).
    assert isinstance(value, Symbolic) and value.reason == ("the intrinsic function 'Fn::Length' needs the"
                                                            " AWS::LanguageExtensions transform")
    assert value.position == Position(12, 13, "t.yml")
    assert codes(stack) == ["unsupported-intrinsic"]


def test_symbolic_values_propagate_without_new_issues() -> None:
    stack = load_one(queue('      Name: !Join ["-", [!Sub "${Env}", !Length [a]]]'))
    resource = stack.resource("R")
    assert resource is not None
    assert isinstance(resource.properties.to_python()["Name"], Symbolic)
    assert codes(stack) == ["unsupported-intrinsic"]


def test_unknown_references_are_errors() -> None:
    stack = load_one(queue("""\
      A: !Ref Nope
      B: !GetAtt Nope.Arn
      C: !Ref AWS::Nothing"""))
    assert codes(stack) == ["unknown-reference", "unknown-reference", "unknown-pseudo-parameter"]
    assert stack.issues[0].message == "'Nope' is not a parameter, pseudo parameter or resource of this template"
    assert str(stack.issues[0].position) == "t.yml:12:10"


def resource(stack_text: str, logical_id: str, **options: object) -> Resource:
    stack = load_one(stack_text, **options)
    found = stack.resource(logical_id)
    assert found is not None, [str(i) for i in stack.issues]
    return found


ECS_WORLD = """\
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  Subnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 2, 8]]
      AvailabilityZone: !Select [0, !GetAZs ""]
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: tasks, VpcId: !Ref Vpc}
  Endpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      ServiceName: !Sub com.amazonaws.${AWS::Region}.ecs
      VpcId: !Ref Vpc
      VpcEndpointType: Interface
  Role:
    Type: AWS::IAM::Role
    Properties:
      Path: /ecs/
      AssumeRolePolicyDocument: {Statement: []}
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties: {Roles: [!Ref Role]}
  Bucket: {Type: AWS::S3::Bucket}
  Queue: {Type: AWS::SQS::Queue, Properties: {QueueName: jobs}}
  Key: {Type: AWS::KMS::Key}
  Logs: {Type: AWS::Logs::LogGroup, Properties: {LogGroupName: /ecs/app}}
  Cluster: {Type: AWS::ECS::Cluster, Properties: {ClusterName: prod}}
  Secret: {Type: AWS::SecretsManager::Secret, Properties: {Name: db}}
  Repo: {Type: AWS::ECR::Repository, Properties: {RepositoryName: app}}
  Table: {Type: AWS::DynamoDB::Table, Properties: {TableName: orders, KeySchema: []}}
  Uses:
    Type: AWS::SQS::Queue
    Properties:
      Tags:
        - !GetAtt Subnet.VpcId
        - !GetAtt Vpc.CidrBlock
        - !GetAtt Endpoint.Id
        - !Ref Secret
        - !GetAtt Queue.QueueUrl
        - !Ref Queue
        - !GetAtt Repo.RepositoryUri
        - !GetAtt Logs.Arn
        - !GetAtt Cluster.Arn
        - !Ref Key
        - !GetAtt Key.Arn
        - !GetAtt Table.Arn
        - !GetAtt Profile.Arn
        - !GetAtt Role.Arn
        - !Ref Bucket
        - !GetAtt Bucket.Arn
        - !GetAtt Role.RoleId
        - !GetAtt Queue.QueueName
"""


def test_ref_and_getatt_for_the_ecs_world() -> None:
    stack = load_one(ECS_WORLD, stack_name="app", account="111122223333", region="eu-west-1")
    assert codes(stack) == []
    tags = stack.resource("Uses").properties.to_python()["Tags"]  # type: ignore[union-attr]
    vpc_id = stack.resource("Vpc").physical_id  # type: ignore[union-attr]
    assert isinstance(vpc_id, str) and vpc_id.startswith("vpc-") and len(vpc_id) == 21
    key_id = stack.resource("Key").physical_id  # type: ignore[union-attr]
    role_name = stack.resource("Role").physical_id  # type: ignore[union-attr]
    bucket = stack.resource("Bucket").physical_id  # type: ignore[union-attr]
    profile = stack.resource("Profile")
    assert profile is not None
    assert role_name == f"app-Role-{str(role_name).rsplit('-', 1)[1]}" and len(str(role_name).rsplit("-", 1)[1]) == 13
    assert bucket == str(bucket).lower() and str(bucket).startswith("app-bucket-")
    assert tags[:-2] == [
        vpc_id,
        "10.0.0.0/16",
        stack.resource("Endpoint").physical_id,  # type: ignore[union-attr]
        stack.resource("Secret").physical_id,  # type: ignore[union-attr]
        "https://sqs.eu-west-1.amazonaws.com/111122223333/jobs",
        "https://sqs.eu-west-1.amazonaws.com/111122223333/jobs",
        "111122223333.dkr.ecr.eu-west-1.amazonaws.com/app",
        "arn:aws:logs:eu-west-1:111122223333:log-group:/ecs/app:*",
        "arn:aws:ecs:eu-west-1:111122223333:cluster/prod",
        key_id,
        f"arn:aws:kms:eu-west-1:111122223333:key/{key_id}",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/orders",
        f"arn:aws:iam::111122223333:instance-profile/{profile.physical_id}",
        f"arn:aws:iam::111122223333:role/ecs/{role_name}",
        bucket,
        f"arn:aws:s3:::{bucket}",
    ]
    assert str(tags[-2]).startswith("AROA") and tags[-1] == "jobs"
    assert str(stack.resource("Secret").physical_id).startswith(  # type: ignore[union-attr]
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-")
    subnet = stack.resource("Subnet")
    assert subnet is not None and str(subnet.physical_id).startswith("subnet-")
    assert subnet.properties.to_python()["CidrBlock"] == "10.0.0.0/24"
    assert subnet.properties.to_python()["AvailabilityZone"] == "eu-west-1a"
    assert str(stack.resource("Sg").physical_id).startswith("sg-")  # type: ignore[union-attr]
    assert str(stack.resource("Endpoint").physical_id).startswith("vpce-")  # type: ignore[union-attr]


def test_synthetic_ids_are_deterministic() -> None:
    first = load_one(ECS_WORLD, stack_name="app")
    second = load_one(ECS_WORLD, stack_name="app")
    other = load_one(ECS_WORLD, stack_name="other")
    assert [r.physical_id for r in first.resources] == [r.physical_id for r in second.resources]
    assert first.resource("Vpc").physical_id != other.resource("Vpc").physical_id  # type: ignore[union-attr]


def test_unknown_attribute_and_unmodelled_type_are_symbolic_and_reported() -> None:
    stack = load_one("""\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties: {AssumeRolePolicyDocument: {Statement: []}}
  Alb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
  Uses:
    Type: AWS::SQS::Queue
    Properties:
      A: !GetAtt Role.Nope
      B: !Ref Alb
      C: !GetAtt Alb.DNSName
""")
    props = stack.resource("Uses").properties.to_python()  # type: ignore[union-attr]
    assert all(isinstance(props[k], Symbolic) for k in "ABC")
    assert codes(stack) == ["not-modelled", "unknown-attribute", "unmodelled-reference", "unmodelled-reference"]
    assert [(i.resource_type, i.logical_id) for i in stack.issues if i.code != "unknown-attribute"] == [
        ("AWS::ElasticLoadBalancingV2::LoadBalancer", "Alb")] * 3
    assert stack.issues[1].message == ("Fn::GetAtt 'Role.Nope': 'Nope' is not an attribute accesspath models for"
                                       " 'AWS::IAM::Role' (known: Arn, RoleId)")
    assert stack.resource("Alb") is not None and not stack.resource("Alb").modelled  # type: ignore[union-attr]
    assert all(i.severity.value == "warning" for i in stack.issues)


def test_physical_id_from_an_unresolved_name_is_symbolic() -> None:
    stack = load_one("""\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !ImportValue not-loaded
      AssumeRolePolicyDocument: {Statement: []}
  Uses:
    Type: AWS::SQS::Queue
    Properties: {Tags: [!GetAtt Role.Arn]}
""")
    role = stack.resource("Role")
    assert role is not None and isinstance(role.physical_id, Symbolic)
    assert "no loaded template exports 'not-loaded'" in role.physical_id.reason
    assert isinstance(stack.resource("Uses").properties.to_python()["Tags"][0], Symbolic)  # type: ignore[union-attr]


def test_find_in_map_default_value_and_sub_of_a_list_is_reported() -> None:
    props = values(queue('      Memory: !FindInMap [Sizes, test, Memory, {DefaultValue: "128"}]'))
    assert props == {"Memory": "128"}
    stack = load_one(queue('      Name: !Sub "${Names}"'))
    assert codes(stack) == ["bad-argument"]
    assert stack.issues[0].message == "'${Names}' in Fn::Sub must be a string, not a list"
