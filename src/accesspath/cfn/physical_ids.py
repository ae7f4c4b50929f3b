"""What ``Ref`` and ``Fn::GetAtt`` return for the resource types the ECS world uses.

CloudFormation invents names and ids when a resource is created; offline they are synthetic but
deterministic (derived from account, region, stack name and logical id), so two loads of the
same templates give the same values. Names given in the properties are used as they are.
ARNs follow the formats in the Service Authorization Reference for the stack's partition,
region and account. Every model below states what its ``Ref`` returns; a resource type that is
not listed is kept with its type and reported as not modelled, and a ``Ref``/``Fn::GetAtt`` to
it is a :class:`~accesspath.cfn.model.Symbolic` value.

Synthetic forms:

- names: ``STACK-LOGICALID-SUFFIX`` (``SUFFIX`` is 13 characters from a hash, upper case;
  lower case where the service requires it), shortened to the service's length limit;
- ids: the service's prefix and 17 hex digits from a hash (``vpc-…``, ``subnet-…``, ``sg-…``,
  ``vpce-…``); KMS key ids are UUIDs; IAM role ids are ``AROA`` and 17 characters.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from accesspath.cfn.model import Symbolic
from accesspath.cfn.pseudo import Deployment
from accesspath.policy.source import Node

AttributeValue = str | tuple[str, ...] | Symbolic


@dataclass(frozen=True, slots=True)
class Identity:
    """The physical id (``Ref``) and the attributes (``Fn::GetAtt``) of one resource."""

    physical_id: str | Symbolic
    attributes: Mapping[str, AttributeValue]


class _Unresolved(Exception):
    def __init__(self, symbolic: Symbolic) -> None:
        super().__init__(symbolic.reason)
        self.symbolic = symbolic


@dataclass(frozen=True, slots=True)
class ResourceContext:
    logical_id: str
    type: str
    properties: Node
    deployment: Deployment

    def _property(self, name: str) -> Node | None:
        found = None
        if self.properties.is_object:
            for member in self.properties.value:
                if member.key == name:
                    found = member.value
        return found

    def string(self, name: str) -> str | None:
        """A string property; raises :class:`_Unresolved` when it is known to exist but not known."""
        node = self._property(name)
        if node is None or node.value is None:
            return None
        if isinstance(node.value, Symbolic):
            raise _Unresolved(node.value)
        if node.is_object or node.is_array:
            raise _Unresolved(Symbolic(f"property '{name}' of '{self.logical_id}' is not a string", node.start))
        if isinstance(node.value, bool):
            return "true" if node.value else "false"
        return str(node.value)

    def flag(self, name: str) -> bool:
        node = self._property(name)
        return node is not None and (node.value is True or node.value == "true")

    def _digest(self, purpose: str) -> bytes:
        d = self.deployment
        return hashlib.sha256(f"{purpose}/{d.account}/{d.region}/{d.stack_name}/{self.logical_id}".encode()).digest()

    def hex_id(self, prefix: str, purpose: str = "id") -> str:
        return f"{prefix}-{self._digest(purpose).hex()[:17]}"

    def suffix(self, length: int = 13) -> str:
        return base64.b32encode(self._digest("suffix")).decode()[:length]

    def synthetic_name(self, max_length: int = 64, *, lower: bool = False, separator: str = "-") -> str:
        """``STACK-LOGICALID-SUFFIX`` shortened as CloudFormation does to fit ``max_length``."""
        suffix = self.suffix()
        room = max_length - len(suffix) - 2 * len(separator)
        stack, logical = self.deployment.stack_name, self.logical_id
        if len(stack) + len(logical) > room:
            half = max(room // 2, 1)
            logical = logical[: max(room - min(len(stack), half), 1)]
            stack = stack[: max(room - len(logical), 1)]
        name = f"{stack}{separator}{logical}{separator}{suffix}"
        return name.lower() if lower else name

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        d = self.deployment
        return (f"arn:{d.partition}:{service}:{d.region if region else ''}:"
                f"{d.account if account else ''}:{resource}")


@dataclass(frozen=True, slots=True)
class ResourceTypeModel:
    type: str
    ref: str  # what Ref returns, for documentation and messages
    attributes: tuple[str, ...]
    required_properties: tuple[str, ...]
    build: Callable[[ResourceContext], tuple[str, dict[str, AttributeValue]]]


def identity_of(model: ResourceTypeModel, context: ResourceContext) -> Identity:
    try:
        physical_id, attributes = model.build(context)
    except _Unresolved as unresolved:
        reason = (f"the physical id of '{context.logical_id}' depends on an unresolved property:"
                  f" {unresolved.symbolic.reason}")
        symbolic = Symbolic(reason, unresolved.symbolic.position)
        return Identity(symbolic, {name: symbolic for name in model.attributes})
    return Identity(physical_id, attributes)


def _path(context: ResourceContext) -> str:
    path = context.string("Path") or "/"
    return path if path.endswith("/") else path + "/"


def _iam_role(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("RoleName") or c.synthetic_name(64)
    role_id = "AROA" + base64.b32encode(c._digest("role-id")).decode()[:17]
    return name, {"Arn": c.arn("iam", f"role{_path(c)}{name}", region=False), "RoleId": role_id}


def _iam_instance_profile(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("InstanceProfileName") or c.synthetic_name(128)
    return name, {"Arn": c.arn("iam", f"instance-profile{_path(c)}{name}", region=False)}


def _iam_user(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("UserName") or c.synthetic_name(64)
    return name, {"Arn": c.arn("iam", f"user{_path(c)}{name}", region=False)}


def _iam_group(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("GroupName") or c.synthetic_name(128)
    return name, {"Arn": c.arn("iam", f"group{_path(c)}{name}", region=False)}


def _iam_policy(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    policy_id = c.synthetic_name(30)
    return policy_id, {"Id": policy_id}


def _iam_managed_policy(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("ManagedPolicyName") or c.synthetic_name(128)
    arn = c.arn("iam", f"policy{_path(c)}{name}", region=False)
    policy_id = "ANPA" + base64.b32encode(c._digest("policy-id")).decode()[:17]
    return arn, {"PolicyArn": arn, "PolicyId": policy_id}


def _s3_bucket(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("BucketName") or c.synthetic_name(63, lower=True)
    d = c.deployment
    return name, {
        "Arn": c.arn("s3", name, region=False, account=False),
        "DomainName": f"{name}.s3.{d.url_suffix}",
        "RegionalDomainName": f"{name}.s3.{d.region}.{d.url_suffix}",
        "DualStackDomainName": f"{name}.s3.dualstack.{d.region}.{d.url_suffix}",
        "WebsiteURL": f"http://{name}.s3-website-{d.region}.{d.url_suffix}",
    }


def _sqs_queue(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("QueueName")
    if name is None:
        fifo = c.flag("FifoQueue")
        name = c.synthetic_name(80 - (5 if fifo else 0)) + (".fifo" if fifo else "")
    d = c.deployment
    url = f"https://sqs.{d.region}.{d.url_suffix}/{d.account}/{name}"
    return url, {"Arn": c.arn("sqs", name), "QueueName": name, "QueueUrl": url}


def _kms_key(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    key_id = str(uuid.UUID(bytes=c._digest("kms-key")[:16], version=4))
    return key_id, {"Arn": c.arn("kms", f"key/{key_id}"), "KeyId": key_id}


def _kms_alias(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("AliasName") or f"alias/{c.synthetic_name(200)}"
    return name, {}


def _log_group(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("LogGroupName") or c.synthetic_name(512)
    # Fn::GetAtt Arn of a log group ends in ":*" (aws-resource-logs-loggroup.md).
    return name, {"Arn": c.arn("logs", f"log-group:{name}:*")}


def _ecs_cluster(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("ClusterName") or c.synthetic_name(255)
    return name, {"Arn": c.arn("ecs", f"cluster/{name}")}


def _last_segment(value: str) -> str:
    return value.rsplit("/", 1)[-1]


def _ecs_service(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    cluster = _last_segment(c.string("Cluster") or "default")
    name = c.string("ServiceName") or c.synthetic_name(255)
    arn = c.arn("ecs", f"service/{cluster}/{name}")
    return arn, {"ServiceArn": arn, "Name": name}


def _ecs_task_definition(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    family = c.string("Family") or c.synthetic_name(255)
    arn = c.arn("ecs", f"task-definition/{family}:1")  # revision 1: a freshly created family
    return arn, {"TaskDefinitionArn": arn}


def _secret(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("Name") or f"{c.logical_id}-{c.suffix(12)}"
    # Secrets Manager appends a hyphen and six random characters to the name in the ARN.
    arn = c.arn("secretsmanager", f"secret:{name}-{c.suffix(6)}")
    return arn, {"Id": arn}


def _secret_resource_policy(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    secret = c.string("SecretId") or c.synthetic_name(64)
    return secret, {"Id": secret}


def _ecr_repository(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("RepositoryName") or c.synthetic_name(256, lower=True)
    d = c.deployment
    return name, {"Arn": c.arn("ecr", f"repository/{name}"),
                  "RepositoryUri": f"{d.account}.dkr.ecr.{d.region}.{d.url_suffix}/{name}"}


def _dynamodb_table(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("TableName") or c.synthetic_name(255)
    arn = c.arn("dynamodb", f"table/{name}")
    return name, {"Arn": arn, "StreamArn": f"{arn}/stream/1970-01-01T00:00:00.000"}


def _vpc(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    vpc_id = c.hex_id("vpc")
    cidr = c.string("CidrBlock")
    attributes: dict[str, AttributeValue] = {
        "VpcId": vpc_id,
        "DefaultSecurityGroup": c.hex_id("sg", "default-sg"),
        "DefaultNetworkAcl": c.hex_id("acl", "default-acl"),
        "CidrBlock": cidr if cidr is not None else Symbolic(
            f"'{c.logical_id}' has no CidrBlock (an IPAM pool allocates it at deploy time)"),
    }
    if cidr is not None:
        attributes["CidrBlockAssociations"] = (c.hex_id("vpc-cidr-assoc", "cidr-assoc"),)
    return vpc_id, attributes


def _subnet(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    subnet_id = c.hex_id("subnet")
    attributes: dict[str, AttributeValue] = {"SubnetId": subnet_id}
    for name in ("VpcId", "CidrBlock", "AvailabilityZone"):
        value = c.string(name)
        attributes[name] = value if value is not None else Symbolic(f"'{c.logical_id}' has no {name}")
    return subnet_id, attributes


def _security_group(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    group_id = c.hex_id("sg")
    vpc = c.string("VpcId")
    return group_id, {"GroupId": group_id,
                      "VpcId": vpc if vpc is not None else Symbolic(f"'{c.logical_id}' has no VpcId")}


def _vpc_endpoint(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    endpoint_id = c.hex_id("vpce")
    service = c.string("ServiceName") or ""
    short_service = service.rsplit(".", 1)[-1] if service else "service"
    d = c.deployment
    dns = f"{endpoint_id}-{c.suffix(8).lower()}.{short_service}.{d.region}.vpce.{d.url_suffix}"
    interface = (c.string("VpcEndpointType") or "Gateway") != "Gateway"
    return endpoint_id, {
        "Id": endpoint_id,
        "CreationTimestamp": "1970-01-01T00:00:00.000Z",
        "DnsEntries": (f"Z{c.suffix(13)}:{dns}",) if interface else (),
        "NetworkInterfaceIds": (c.hex_id("eni"),) if interface else (),
    }


Builder = Callable[[ResourceContext], tuple[str, dict[str, AttributeValue]]]


def _plain_id(prefix: str, key: str | None = None) -> Builder:
    def build(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
        value = c.hex_id(prefix)
        return value, ({key: value} if key else {})
    return build


def _sns_topic(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("TopicName") or c.synthetic_name(256)
    arn = c.arn("sns", name)
    return arn, {"TopicArn": arn, "TopicName": name}


def _lambda_function(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("FunctionName") or c.synthetic_name(64)
    return name, {"Arn": c.arn("lambda", f"function:{name}")}


def _ec2_instance(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    instance_id = c.hex_id("i")
    return instance_id, {"InstanceId": instance_id, "PrivateIp": "10.0.0.10",
                         "AvailabilityZone": f"{c.deployment.region}a"}


def _launch_template(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    template_id = c.hex_id("lt")
    return template_id, {"LaunchTemplateId": template_id, "DefaultVersionNumber": "1", "LatestVersionNumber": "1"}


def _auto_scaling_group(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    return c.string("AutoScalingGroupName") or c.synthetic_name(255), {}


def _launch_configuration(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    return c.string("LaunchConfigurationName") or c.synthetic_name(255), {}


def _capacity_provider(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    return c.string("Name") or c.synthetic_name(255), {}


def _eip(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    # 203.0.113.0/24 is reserved for documentation (RFC 5737): never a real address.
    address = f"203.0.113.{int(c.suffix(4), 36) % 254 + 1}" if c.suffix(4).isalnum() else "203.0.113.1"
    return address, {"AllocationId": c.hex_id("eipalloc"), "PublicIp": address}


def _ssm_parameter(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    name = c.string("Name") or c.synthetic_name(64)
    return name, {"Type": c.string("Type") or "String", "Value": c.string("Value") or ""}


def _generated_id(c: ResourceContext) -> tuple[str, dict[str, AttributeValue]]:
    return c.synthetic_name(64), {}


def _m(type_: str, ref: str, attributes: tuple[str, ...], required: tuple[str, ...],
       build: Callable[[ResourceContext], tuple[str, dict[str, AttributeValue]]]) -> ResourceTypeModel:
    return ResourceTypeModel(type_, ref, attributes, required, build)


RESOURCE_TYPE_MODELS: Mapping[str, ResourceTypeModel] = {m.type: m for m in (
    _m("AWS::IAM::Role", "the role name (RoleName, else STACK-LOGICALID-SUFFIX)", ("Arn", "RoleId"),
       ("AssumeRolePolicyDocument",), _iam_role),
    _m("AWS::IAM::InstanceProfile", "the instance profile name", ("Arn",), ("Roles",), _iam_instance_profile),
    _m("AWS::IAM::User", "the user name", ("Arn",), (), _iam_user),
    _m("AWS::IAM::Group", "the group name", ("Arn",), (), _iam_group),
    _m("AWS::IAM::Policy", "a generated policy id", ("Id",), ("PolicyDocument", "PolicyName"), _iam_policy),
    _m("AWS::IAM::RolePolicy", "a generated id", (), ("PolicyDocument", "PolicyName", "RoleName"), _generated_id),
    _m("AWS::IAM::ManagedPolicy", "the policy ARN", ("PolicyArn", "PolicyId"), ("PolicyDocument",),
       _iam_managed_policy),
    _m("AWS::S3::Bucket", "the bucket name (lower case)",
       ("Arn", "DomainName", "RegionalDomainName", "DualStackDomainName", "WebsiteURL"), (), _s3_bucket),
    _m("AWS::S3::BucketPolicy", "a generated id", (), ("Bucket", "PolicyDocument"), _generated_id),
    _m("AWS::SQS::Queue", "the queue URL", ("Arn", "QueueName", "QueueUrl"), (), _sqs_queue),
    _m("AWS::SQS::QueuePolicy", "a generated id", (), ("PolicyDocument", "Queues"), _generated_id),
    _m("AWS::SNS::Topic", "the topic ARN", ("TopicArn", "TopicName"), (), _sns_topic),
    _m("AWS::KMS::Key", "the key id (a UUID)", ("Arn", "KeyId"), (), _kms_key),
    _m("AWS::KMS::Alias", "the alias name", (), ("AliasName", "TargetKeyId"), _kms_alias),
    _m("AWS::Logs::LogGroup", "the log group name", ("Arn",), (), _log_group),
    _m("AWS::ECS::Cluster", "the cluster name", ("Arn",), (), _ecs_cluster),
    _m("AWS::ECS::Service", "the service ARN", ("ServiceArn", "Name"), (), _ecs_service),
    _m("AWS::ECS::TaskDefinition", "the task definition ARN (revision 1)", ("TaskDefinitionArn",), (),
       _ecs_task_definition),
    _m("AWS::SecretsManager::Secret", "the secret ARN", ("Id",), (), _secret),
    _m("AWS::SecretsManager::ResourcePolicy", "the secret's ARN (SecretId)", ("Id",),
       ("ResourcePolicy", "SecretId"), _secret_resource_policy),
    _m("AWS::ECR::Repository", "the repository name", ("Arn", "RepositoryUri"), (), _ecr_repository),
    _m("AWS::DynamoDB::Table", "the table name", ("Arn", "StreamArn"), ("KeySchema",), _dynamodb_table),
    _m("AWS::EC2::VPC", "the VPC id (vpc-…)",
       ("VpcId", "DefaultSecurityGroup", "DefaultNetworkAcl", "CidrBlock", "CidrBlockAssociations"), (), _vpc),
    _m("AWS::EC2::Subnet", "the subnet id (subnet-…)", ("SubnetId", "VpcId", "CidrBlock", "AvailabilityZone"),
       ("VpcId",), _subnet),
    _m("AWS::EC2::SecurityGroup", "the group id (sg-…)", ("GroupId", "VpcId"), ("GroupDescription",),
       _security_group),
    _m("AWS::EC2::VPCEndpoint", "the endpoint id (vpce-…)",
       ("Id", "CreationTimestamp", "DnsEntries", "NetworkInterfaceIds"), ("ServiceName", "VpcId"), _vpc_endpoint),
    _m("AWS::EC2::InternetGateway", "the gateway id (igw-…)", ("InternetGatewayId",), (),
       _plain_id("igw", "InternetGatewayId")),
    _m("AWS::EC2::NatGateway", "the NAT gateway id (nat-…)", ("NatGatewayId",), ("SubnetId",),
       _plain_id("nat", "NatGatewayId")),
    _m("AWS::EC2::RouteTable", "the route table id (rtb-…)", ("RouteTableId",), ("VpcId",),
       _plain_id("rtb", "RouteTableId")),
    _m("AWS::Lambda::Function", "the function name", ("Arn",), ("Code", "Role"), _lambda_function),
    _m("AWS::EC2::Instance", "the instance id (i-…)", ("InstanceId", "PrivateIp", "AvailabilityZone"), (),
       _ec2_instance),
    _m("AWS::EC2::LaunchTemplate", "the launch template id (lt-…)",
       ("LaunchTemplateId", "DefaultVersionNumber", "LatestVersionNumber"), (), _launch_template),
    _m("AWS::AutoScaling::AutoScalingGroup", "the group name", (), (), _auto_scaling_group),
    _m("AWS::AutoScaling::LaunchConfiguration", "the launch configuration name", (), (), _launch_configuration),
    _m("AWS::EC2::SpotFleet", "the spot fleet request id (sfr-…)", (), (), _plain_id("sfr")),
    _m("AWS::ECS::CapacityProvider", "the capacity provider name", (), (), _capacity_provider),
    _m("AWS::ECS::ClusterCapacityProviderAssociations", "a generated id", (), (), _generated_id),
    _m("AWS::EC2::SubnetRouteTableAssociation", "the association id (rtbassoc-…)", ("Id",),
       ("SubnetId", "RouteTableId"), _plain_id("rtbassoc", "Id")),
    _m("AWS::EC2::VPCGatewayAttachment", "a generated id", (), ("VpcId",), _generated_id),
    _m("AWS::EC2::Route", "a generated id", (), ("RouteTableId",), _generated_id),
    _m("AWS::EC2::DHCPOptions", "the DHCP options id (dopt-…)", ("DhcpOptionsId",), (),
       _plain_id("dopt", "DhcpOptionsId")),
    _m("AWS::EC2::VPCDHCPOptionsAssociation", "a generated id", (), ("DhcpOptionsId", "VpcId"), _generated_id),
    _m("AWS::EC2::SecurityGroupIngress", "the rule id (sgr-…)", ("Id",), ("GroupId",), _plain_id("sgr", "Id")),
    _m("AWS::EC2::SecurityGroupEgress", "the rule id (sgr-…)", ("Id",), ("GroupId",), _plain_id("sgr", "Id")),
    _m("AWS::EC2::EIP", "the public IP (a documentation address)", ("AllocationId", "PublicIp"), (), _eip),
    _m("AWS::SSM::Parameter", "the parameter name", ("Type", "Value"), (), _ssm_parameter),
)}
