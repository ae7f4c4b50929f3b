"""Build an :class:`Environment` from loaded CloudFormation stacks.

Property names and defaults follow the CloudFormation resource reference (AWS::EC2::VPC,
AWS::EC2::Subnet, AWS::EC2::VPCEndpoint, AWS::IAM::Role, AWS::ECS::TaskDefinition, ...).
Values the loader could not resolve stay unresolved: a policy that holds one fails validation and
never allows; a network value that is unresolved is reported and left out.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from accesspath.catalog.managed_policies import ManagedPolicyCatalog, bundled_managed_policies
from accesspath.cfn.limitations import summarised
from accesspath.cfn.model import Resource, StackSet, Symbolic
from accesspath.cfn.policies import attachment_of
from accesspath.environment.container_instances import (
    build_instances,
    default_capacity_providers,
    service_capacity_providers,
    service_cluster,
)
from accesspath.environment.model import (
    Container,
    EcsService,
    Environment,
    Gateway,
    ResourcePolicyHolder,
    Role,
    Route,
    RouteTable,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
    TaskDefinition,
    Vpc,
    VpcEndpoint,
)
from accesspath.environment.unknowns import Unknown, policy_from_template, supply_hint, unknown_policy
from accesspath.policy import Node, Policy, PolicyType, Position, parse_policy

MODELLED = frozenset({
    "AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::RouteTable", "AWS::EC2::Route",
    "AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::InternetGateway", "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::NatGateway", "AWS::EC2::VPCEndpoint", "AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::SecurityGroupEgress", "AWS::EC2::Instance", "AWS::EC2::EIP",
    "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::InstanceProfile", "AWS::IAM::User",
    "AWS::ECS::Cluster", "AWS::ECS::TaskDefinition", "AWS::ECS::Service",
    "AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::Logs::LogGroup", "AWS::ECR::Repository",
    "AWS::SQS::Queue", "AWS::SQS::QueuePolicy", "AWS::KMS::Key", "AWS::SecretsManager::Secret",
    "AWS::SecretsManager::ResourcePolicy", "AWS::SSM::Parameter", "AWS::DynamoDB::Table", "AWS::KMS::Alias",
    # container instances (environment.container_instances)
    "AWS::AutoScaling::AutoScalingGroup", "AWS::AutoScaling::LaunchConfiguration", "AWS::EC2::LaunchTemplate",
    "AWS::EC2::SpotFleet", "AWS::ECS::CapacityProvider", "AWS::ECS::ClusterCapacityProviderAssociations",
    "AWS::EC2::DHCPOptions", "AWS::EC2::VPCDHCPOptionsAssociation",
    # nested stacks are followed by the loader: their resources are in the stack set
    "AWS::CloudFormation::Stack", "AWS::Serverless::Application",
})


class _Builder:
    def __init__(self, stacks: StackSet, managed: ManagedPolicyCatalog | None = None) -> None:
        self.stacks = stacks
        self.managed = managed or bundled_managed_policies()
        # a type accesspath does not model is one warning with its counts, not one per resource and reference
        self.issues: list[str] = [str(i) for i in summarised(stacks.issues)]
        self.partition = stacks.partition
        self.external_roles: dict[str, Role] = {}

    # -- value readers -----------------------------------------------------------------------

    def value(self, node: Node | None) -> Any:
        if node is None:
            return None
        return node.to_python()

    def text(self, resource: Resource, name: str) -> str | None:
        node = resource.property(name)
        if node is None:
            return None
        value = node.value
        if isinstance(value, Symbolic):
            self.issues.append(f"{node.start or resource.position}: {resource.logical_id}.{name} is unresolved"
                               f" ({value.reason}); it is left out")
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)
        return None

    def texts(self, resource: Resource, name: str) -> tuple[str, ...]:
        node = resource.property(name)
        return self.texts_of(node, f"{resource.logical_id}.{name}", resource)

    def texts_of(self, node: Node | None, label: str, resource: Resource,
                 keep_unresolved: bool = False) -> tuple[str, ...]:
        """Strings of a list property; ``keep_unresolved`` keeps an ``unresolved:LABEL`` stand-in
        for a value that is not resolved (a subnet that is not known is not an absent subnet)."""
        if node is None:
            return ()
        items = node.value if node.is_array else (node,)
        out = []
        for item in items:
            if isinstance(item.value, Symbolic) and keep_unresolved:
                self.issues.append(f"{item.start or resource.position}: {label} holds an unresolved value"
                                   f" ({item.value.reason}); what depends on it is undetermined")
                out.append(f"unresolved:{label}")
            elif isinstance(item.value, Symbolic):
                self.issues.append(f"{item.start or resource.position}: {label} holds an unresolved value"
                                   f" ({item.value.reason}); it is left out")
            elif isinstance(item.value, (str, int)) and not (item.is_array or item.is_object):
                out.append(str(item.value))
        return tuple(out)

    def flag(self, resource: Resource, name: str, default: bool) -> bool:
        text = self.text(resource, name)
        if text is None:
            return default
        return text.lower() == "true"

    def member(self, node: Node | None, name: str) -> Node | None:
        return node.member(name) if node is not None else None

    def member_text(self, node: Node | None, name: str) -> str | None:
        found = self.member(node, name)
        if found is None or isinstance(found.value, Symbolic) or found.is_array or found.is_object:
            return None
        value = found.value
        if isinstance(value, bool):
            return "true" if value else "false"
        return None if value is None else str(value)

    def physical(self, resource: Resource) -> str:
        return resource.physical_id if isinstance(resource.physical_id, str) else resource.logical_id

    def stack_path(self, resource: Resource) -> str | None:
        """How users name the resource's stack: its name, or PARENT/LOGICALID for a nested stack."""
        stack = self.stacks.stack(resource.stack) if resource.stack else None
        return stack.qualified_name if stack is not None else (resource.stack or None)

    def attribute(self, resource: Resource, name: str) -> str | None:
        value = resource.attributes.get(name)
        return value if isinstance(value, str) else None

    def policy(self, node: Node | None, policy_type: PolicyType, policy_id: str, resource: Resource) -> Policy | None:
        if node is None:
            return None
        source = node.start.source if node.start and node.start.source else (
            resource.position.source if resource.position else None)
        return policy_from_template(node, policy_type=policy_type, policy_id=policy_id, source=source,
                                    attachment=attachment_of(resource.type, policy_type.value))

    # -- build ---------------------------------------------------------------------------------

    def build(self) -> Environment:
        stacks = self.stacks
        all_resources = list(stacks.resources())
        by_type: dict[str, list[Resource]] = {}
        for resource in all_resources:
            by_type.setdefault(resource.type, []).append(resource)
        not_modelled = tuple((r.logical_id, r.type) for r in all_resources if r.type not in MODELLED)

        vpcs = {}
        for r in by_type.get("AWS::EC2::VPC", []):
            vpc = Vpc(self.physical(r), self.text(r, "CidrBlock"), self.flag(r, "EnableDnsSupport", True),
                      self.flag(r, "EnableDnsHostnames", False), r.position, logical_id=r.logical_id, stack=r.stack or None)
            vpcs[vpc.id] = vpc
        # Custom DNS (VPC user guide, "DHCP option sets"): DomainNameServers other than AmazonProvidedDNS.
        dhcp_servers = {self.physical(r): self.texts(r, "DomainNameServers")
                        for r in by_type.get("AWS::EC2::DHCPOptions", [])}
        for r in by_type.get("AWS::EC2::VPCDHCPOptionsAssociation", []):
            vpc_id, options_id = self.text(r, "VpcId"), self.text(r, "DhcpOptionsId")
            servers = tuple(s for s in dhcp_servers.get(options_id or "", ()) if s != "AmazonProvidedDNS")
            if vpc_id in vpcs and servers:
                vpcs[vpc_id] = replace(vpcs[vpc_id], dns_servers=servers)

        associations = {}
        for r in by_type.get("AWS::EC2::SubnetRouteTableAssociation", []):
            subnet_id, table_id = self.text(r, "SubnetId"), self.text(r, "RouteTableId")
            if subnet_id and table_id:
                associations[subnet_id] = table_id
        subnets = {}
        for r in by_type.get("AWS::EC2::Subnet", []):
            subnet_id = self.physical(r)
            subnets[subnet_id] = Subnet(subnet_id, self.text(r, "VpcId") or "", self.text(r, "CidrBlock"),
                                        associations.get(subnet_id), self.text(r, "AvailabilityZone"),
                                        self.flag(r, "MapPublicIpOnLaunch", False), r.position, logical_id=r.logical_id, stack=r.stack or None)

        gateways = {}
        igw_vpcs = {self.text(r, "InternetGatewayId"): self.text(r, "VpcId")
                    for r in by_type.get("AWS::EC2::VPCGatewayAttachment", [])}
        for r in by_type.get("AWS::EC2::InternetGateway", []):
            gateway_id = self.physical(r)
            gateways[gateway_id] = Gateway(gateway_id, "igw", igw_vpcs.get(gateway_id), None, r.position, logical_id=r.logical_id, stack=r.stack or None)
        for r in by_type.get("AWS::EC2::NatGateway", []):
            gateway_id = self.physical(r)
            gateways[gateway_id] = Gateway(gateway_id, "nat", None, self.text(r, "SubnetId"), r.position, logical_id=r.logical_id, stack=r.stack or None)

        routes: dict[str, list[Route]] = {}
        for r in by_type.get("AWS::EC2::Route", []):
            table_id = self.text(r, "RouteTableId")
            if not table_id:
                continue
            destination = self.text(r, "DestinationCidrBlock") or self.text(r, "DestinationIpv6CidrBlock") or ""
            kind, target = "other", None
            for prop, target_kind in (("NatGatewayId", "nat"), ("GatewayId", "igw"), ("VpcEndpointId", "vpce"),
                                      ("EgressOnlyInternetGatewayId", "other"), ("TransitGatewayId", "other"),
                                      ("VpcPeeringConnectionId", "other"), ("InstanceId", "other"),
                                      ("NetworkInterfaceId", "other")):
                value = self.text(r, prop)
                if value:
                    kind, target = target_kind, value
                    break
            if kind == "igw" and target is not None and target.startswith("vgw-"):
                kind = "other"
            routes.setdefault(table_id, []).append(Route(destination, kind, target, r.position))
        tables = {}
        for r in by_type.get("AWS::EC2::RouteTable", []):
            table_id = self.physical(r)
            tables[table_id] = RouteTable(table_id, self.text(r, "VpcId") or "", tuple(routes.get(table_id, ())),
                                          r.position, logical_id=r.logical_id, stack=r.stack or None)

        groups = self.security_groups(by_type)
        endpoints = {}
        for r in by_type.get("AWS::EC2::VPCEndpoint", []):
            endpoint_id = self.physical(r)
            endpoint_type = self.text(r, "VpcEndpointType") or "Gateway"
            endpoints[endpoint_id] = VpcEndpoint(
                endpoint_id, self.text(r, "VpcId") or "", self.text(r, "ServiceName") or "", endpoint_type,
                self.flag(r, "PrivateDnsEnabled", False), self.texts(r, "SubnetIds"), self.texts(r, "SecurityGroupIds"),
                self.texts(r, "RouteTableIds"),
                self.policy(r.property("PolicyDocument"), PolicyType.VPC_ENDPOINT, f"{r.logical_id}.PolicyDocument", r),
                r.logical_id, r.position, r.stack or None)

        roles = self.roles(by_type)
        profiles = {}
        for r in by_type.get("AWS::IAM::InstanceProfile", []):
            names = self.texts(r, "Roles")
            for key in (self.physical(r), self.attribute(r, "Arn") or "", r.logical_id):
                if names:
                    profiles[key] = names[0]
        instances = build_instances(self, by_type, subnets, profiles,
                                    {name: role.managed_policy_arns for name, role in roles.items()})

        tasks = {}
        for r in by_type.get("AWS::ECS::TaskDefinition", []):
            arn = self.physical(r)
            # Without Family, CloudFormation names the family STACK-LOGICALID-SUFFIX (the ARN's): two stacks'
            # TaskDefinition resources stay two task definitions.
            family = self.text(r, "Family") or _family_of(arn) or r.logical_id
            containers = []
            definitions = r.property("ContainerDefinitions")
            for item in (definitions.value if definitions is not None and definitions.is_array else ()):
                log = self.member(item, "LogConfiguration")
                options = self.member(log, "Options")
                secrets = self.member(item, "Secrets")
                containers.append(Container(
                    self.member_text(item, "Name") or "", self.member_text(item, "Image"),
                    self.member_text(log, "LogDriver"),
                    tuple((m.key, str(m.value.value)) for m in (options.value if options is not None and
                                                                options.is_object else ())
                          if not isinstance(m.value.value, Symbolic)),
                    tuple((self.member_text(s, "Name") or "", self.member_text(s, "ValueFrom") or "")
                          for s in (secrets.value if secrets is not None and secrets.is_array else ())),
                    item.start))
            tasks[family] = TaskDefinition(
                family, arn, self.role_reference(r, "TaskRoleArn", roles), self.role_reference(r, "ExecutionRoleArn", roles),
                self.text(r, "NetworkMode"), self.texts(r, "RequiresCompatibilities"), tuple(containers),
                r.logical_id, r.position, self.stack_path(r))

        services = {}
        cluster_defaults = default_capacity_providers(self, by_type)
        for r in by_type.get("AWS::ECS::Service", []):
            network = self.member(r.property("NetworkConfiguration"), "AwsvpcConfiguration")
            # Without ServiceName, CloudFormation generates the name (STACK-LOGICALID-SUFFIX).
            name = self.text(r, "ServiceName") or self.attribute(r, "Name") or r.logical_id
            task_ref = self.text(r, "TaskDefinition") or ""
            task = next((t for t in tasks.values() if task_ref == t.arn), None) or next(
                (t for t in tasks.values() if task_ref in (t.family, t.logical_id)), None)
            cluster = service_cluster(self, r)
            services[name] = EcsService(
                name, cluster, task.family if task else task_ref,
                self.text(r, "LaunchType"), self.text(r, "PlatformVersion"),
                self.texts_of(self.member(network, "Subnets"), f"{r.logical_id}.Subnets", r, keep_unresolved=True),
                self.texts_of(self.member(network, "SecurityGroups"), f"{r.logical_id}.SecurityGroups", r,
                              keep_unresolved=True),
                (self.member_text(network, "AssignPublicIp") or "DISABLED") == "ENABLED",
                self.flag(r, "EnableExecuteCommand", False), r.logical_id, r.position,
                service_capacity_providers(self, r, cluster, cluster_defaults), self.stack_path(r))

        holders = self.resource_holders(by_type)
        env = Environment(
            account=stacks.account, region=stacks.region, partition=stacks.partition,
            organization_id=stacks.organization_id, vpcs=vpcs, subnets=subnets, route_tables=tables,
            security_groups=groups, endpoints=endpoints, gateways=gateways, roles=roles, instances=instances,
            task_definitions=tasks, services=services, resources=holders, not_modelled=not_modelled,
            issues=(), external_roles=dict(self.external_roles), kms_aliases=self.kms_aliases(by_type))
        env = self.named_network_references(env)
        return replace(env, issues=tuple(self.issues))

    def named_network_references(self, env: Environment) -> Environment:
        """Subnets and security groups named by a logical id (``--param Subnets=PrivateSubnet1``, or
        ``Stack/LogicalId``) become their ids; a name that matches nothing of the inputs is said."""
        def ids(kind: str, refs: tuple[str, ...], label: str, position: Position | None) -> tuple[str, ...]:
            out = []
            for ref in refs:
                found = env.network_object(kind, ref)
                if found is None and not ref.startswith("unresolved:"):
                    self.issues.append(f"{position or '<template>'}: {label} names {kind} '{ref}', which is not one"
                                       " of the inputs (give its LogicalId or Stack/LogicalId, or load the template"
                                       " that defines it); paths from there are undetermined")
                out.append(found or ref)
            return tuple(out)

        services = {name: replace(s, subnet_ids=ids("subnet", s.subnet_ids, f"{s.logical_id or name}.Subnets", s.position),
                                  security_group_ids=ids("security-group", s.security_group_ids,
                                                         f"{s.logical_id or name}.SecurityGroups", s.position))
                    for name, s in env.services.items()}
        endpoints = {key: replace(e, subnet_ids=tuple(env.network_object("subnet", x) or x for x in e.subnet_ids),
                                  security_group_ids=tuple(env.network_object("security-group", x) or x
                                                           for x in e.security_group_ids),
                                  route_table_ids=tuple(env.network_object("route-table", x) or x
                                                        for x in e.route_table_ids),
                                  vpc_id=env.network_object("vpc", e.vpc_id) or e.vpc_id)
                     for key, e in env.endpoints.items()}
        subnets = {key: replace(n, vpc_id=env.network_object("vpc", n.vpc_id) or n.vpc_id)
                   for key, n in env.subnets.items()}
        return replace(env, services=services, endpoints=endpoints, subnets=subnets)

    def kms_aliases(self, by_type: dict[str, list[Resource]]) -> dict[str, str]:
        """``alias/name`` → the ARN of the key it points at (AWS::KMS::Alias AliasName, TargetKeyId)."""
        aliases = {}
        stacks = self.stacks
        for r in by_type.get("AWS::KMS::Alias", []):
            name, target = self.text(r, "AliasName"), self.text(r, "TargetKeyId")
            if name and target:
                aliases[name] = target if target.startswith("arn:") else \
                    f"arn:{stacks.partition}:kms:{stacks.region}:{stacks.account}:key/{target}"
        return aliases

    def role_reference(self, resource: Resource, name: str, roles: dict[str, Role],
                       profiles: dict[str, str] | None = None) -> str | None:
        """The role a property names; one the templates do not define becomes an external role
        whose trust and permissions are unknown, never a role that cannot be assumed."""
        node = resource.property(name)
        if node is None:
            return None
        label = f"{resource.logical_id}.{name}"
        if isinstance(node.value, Symbolic):
            unknown = Unknown(f"the role {label} names ({node.value.reason})", supply_hint(node.value.reason),
                              node.value.position or node.start)
            return self.external_role(label, f"arn:{self.partition}:iam::{self.stacks.account}:role/{label}",
                                      unknown, node.start)
        text = self.text(resource, name)
        if not text:
            return None
        if profiles is not None:  # an instance profile: its role, when the templates declare the profile
            if text in profiles:
                return profiles[text]
            text = text.rsplit("/", 1)[-1]
        name_or_arn = _role_name(text) or text
        if any(name_or_arn in (role.name, role.logical_id) or text == role.arn for role in roles.values()):
            return name_or_arn
        arn = text if text.startswith("arn:") else f"arn:{self.partition}:iam::{self.stacks.account}:role/{text}"
        what = "instance profile" if profiles is not None else "role"
        return self.external_role(name_or_arn, arn, Unknown(
            f"the {what} '{text}' that {label} names, which the templates do not define",
            "load the template that defines it, or give --authorization-details FILE", node.start), node.start)

    def external_role(self, name: str, arn: str, unknown: Unknown, position: Position | None) -> str:
        if name not in self.external_roles:
            self.issues.append(f"{position or '<template>'}: {unknown.what}; decisions that depend on it are"
                               f" undetermined ({unknown.supply})")
            self.external_roles[name] = Role(
                name, arn, unknown_policy(f"trust policy of {name}", PolicyType.ROLE_TRUST, unknown),
                (unknown_policy(f"policies of {name}", PolicyType.IDENTITY, unknown),), position=position,
                external=True)
        return name

    def security_groups(self, by_type: dict[str, list[Resource]]) -> dict[str, SecurityGroup]:
        def rule(node: Node, direction: str) -> SecurityGroupRule:
            protocol = (self.member_text(node, "IpProtocol") or "-1").lower()
            if protocol == "6":
                protocol = "tcp"
            from_port = self.member_text(node, "FromPort")
            to_port = self.member_text(node, "ToPort")
            peer = "SourceSecurityGroupId" if direction == "ingress" else "DestinationSecurityGroupId"
            prefix = "SourcePrefixListId" if direction == "ingress" else "DestinationPrefixListId"
            return SecurityGroupRule(protocol, _int(from_port), _int(to_port),
                                     self.member_text(node, "CidrIp") or self.member_text(node, "CidrIpv6"),
                                     self.member_text(node, peer), self.member_text(node, prefix), node.start)

        extra: dict[str, dict[str, list[SecurityGroupRule]]] = {}
        for kind, direction in (("AWS::EC2::SecurityGroupIngress", "ingress"), ("AWS::EC2::SecurityGroupEgress", "egress")):
            for r in by_type.get(kind, []):
                group_id = self.text(r, "GroupId")
                if group_id:
                    extra.setdefault(group_id, {}).setdefault(direction, []).append(rule(r.properties, direction))
        groups = {}
        for r in by_type.get("AWS::EC2::SecurityGroup", []):
            group_id = self.attribute(r, "GroupId") or self.physical(r)
            ingress_node, egress_node = r.property("SecurityGroupIngress"), r.property("SecurityGroupEgress")
            ingress = [rule(n, "ingress") for n in (ingress_node.value if ingress_node is not None and
                                                     ingress_node.is_array else ())]
            more = extra.get(group_id, {}) or extra.get(self.physical(r), {})
            ingress += more.get("ingress", [])
            if egress_node is not None and egress_node.is_array:
                # Egress rules in the template replace the default allow-all rule.
                egress = tuple([rule(n, "egress") for n in egress_node.value] + more.get("egress", []))
            else:
                egress = SecurityGroup("", None).egress + tuple(more.get("egress", []))
            groups[group_id] = SecurityGroup(group_id, self.text(r, "VpcId"), tuple(ingress), egress, r.position,
                                             logical_id=r.logical_id, stack=r.stack or None)
            if self.physical(r) != group_id:
                groups[self.physical(r)] = groups[group_id]
        return groups

    def roles(self, by_type: dict[str, list[Resource]]) -> dict[str, Role]:
        managed_in_templates: dict[str, Policy] = {}
        attached: dict[str, list[Policy]] = {}
        for r in by_type.get("AWS::IAM::ManagedPolicy", []):
            policy = self.policy(r.property("PolicyDocument"), PolicyType.IDENTITY, f"{r.logical_id}.PolicyDocument", r)
            if policy is None:
                continue
            managed_in_templates[self.physical(r)] = policy
            for role_name in self.texts(r, "Roles"):
                attached.setdefault(role_name, []).append(policy)
        for r in by_type.get("AWS::IAM::Policy", []):
            policy = self.policy(r.property("PolicyDocument"), PolicyType.IDENTITY, f"{r.logical_id}.PolicyDocument", r)
            if policy is None:
                self.issues.append(f"{r.position}: {r.logical_id} has no PolicyDocument")
                continue
            for role_name in self.texts(r, "Roles"):
                attached.setdefault(role_name, []).append(policy)
        roles = {}
        for r in by_type.get("AWS::IAM::Role", []):
            name = self.physical(r)
            arn = self.attribute(r, "Arn") or f"arn:{self.partition}:iam::{self.stacks.account}:role/{name}"
            policies: list[Policy] = []
            inline = r.property("Policies")
            for index, item in enumerate(inline.value if inline is not None and inline.is_array else ()):
                policy_name = self.member_text(item, "PolicyName") or f"Policies[{index}]"
                policy = self.policy(self.member(item, "PolicyDocument"), PolicyType.IDENTITY,
                                     f"{r.logical_id}.{policy_name}", r)
                if policy is not None:
                    policies.append(policy)
            unresolved = []
            managed_arns = self.texts(r, "ManagedPolicyArns")
            for managed in managed_arns:
                found = managed_in_templates.get(managed) or self.managed.policy(managed)
                if found is None:
                    # Not given is not empty: decisions that depend on it are undetermined.
                    unresolved.append(managed)
                    self.issues.append(f"{r.position}: {r.logical_id} attaches '{managed}', which is neither in the"
                                       " templates nor among the AWS managed policies accesspath has; decisions that"
                                       " depend on it are undetermined (give --authorization-details FILE)")
                    policies.append(unknown_policy(f"managed policy {managed}", PolicyType.IDENTITY, Unknown(
                        f"the managed policy '{managed}' attached to {r.logical_id}",
                        "give --authorization-details FILE with the JSON of"
                        " 'aws iam get-account-authorization-details'", r.position)))
                else:
                    policies.append(found)
            policies.extend(attached.get(name, []))
            boundary_arn = self.text(r, "PermissionsBoundary")
            boundary = None
            if boundary_arn:
                in_templates = managed_in_templates.get(boundary_arn)
                boundary = (self.managed.policy(boundary_arn, PolicyType.PERMISSIONS_BOUNDARY)
                            if in_templates is None else None)
                if in_templates is not None:
                    boundary = parse_policy(in_templates.document, policy_type=PolicyType.PERMISSIONS_BOUNDARY,
                                            policy_id=f"boundary {in_templates.policy_id}", source=in_templates.source) \
                        if in_templates.document is not None else in_templates
                elif boundary is None:
                    # Never read as "no boundary" nor as an empty one: decisions through it are undetermined.
                    boundary = unknown_policy(f"permissions boundary {boundary_arn}", PolicyType.PERMISSIONS_BOUNDARY,
                                              Unknown(f"the permissions boundary '{boundary_arn}' of {r.logical_id}",
                                                      "give --authorization-details FILE", r.position))
                    self.issues.append(f"{r.position}: {r.logical_id} has permissions boundary '{boundary_arn}',"
                                       " which accesspath does not have; decisions through it are undetermined")
            trust = self.policy(r.property("AssumeRolePolicyDocument"), PolicyType.ROLE_TRUST,
                                f"{r.logical_id}.AssumeRolePolicyDocument", r)
            roles[name] = Role(name, arn, trust, tuple(policies), boundary, managed_arns, tuple(unresolved),
                               r.logical_id, r.position)
        for role_name in attached:
            if role_name not in roles:
                self.issues.append(f"policies are attached to role '{role_name}', which no loaded template declares")
        return roles

    def resource_holders(self, by_type: dict[str, list[Resource]]) -> dict[str, ResourcePolicyHolder]:
        holders: dict[str, ResourcePolicyHolder] = {}
        partition, region, account = self.partition, self.stacks.region, self.stacks.account

        def add(kind: str, r: Resource, arn: str | None, name: str | None, policy: Policy | None = None,
                kms_key: str | None = None) -> None:
            if arn:
                holders[arn] = ResourcePolicyHolder(kind, arn, policy, name, r.logical_id, r.position, kms_key)

        bucket_policies = {self.text(r, "Bucket"): r for r in by_type.get("AWS::S3::BucketPolicy", [])}
        for r in by_type.get("AWS::S3::Bucket", []):
            name = self.physical(r)
            policy_resource = bucket_policies.get(name)
            policy = (self.policy(policy_resource.property("PolicyDocument"), PolicyType.RESOURCE,
                                  f"{policy_resource.logical_id}.PolicyDocument", policy_resource)
                      if policy_resource is not None else None)
            add("s3-bucket", r, self.attribute(r, "Arn") or f"arn:{partition}:s3:::{name}", name, policy)
        queue_policies: dict[str, Resource] = {}
        for r in by_type.get("AWS::SQS::QueuePolicy", []):
            for url in self.texts(r, "Queues"):
                queue_policies[url] = r
        for r in by_type.get("AWS::SQS::Queue", []):
            url = self.physical(r)
            policy_resource = queue_policies.get(url)
            policy = (self.policy(policy_resource.property("PolicyDocument"), PolicyType.RESOURCE,
                                  f"{policy_resource.logical_id}.PolicyDocument", policy_resource)
                      if policy_resource is not None else None)
            add("sqs-queue", r, self.attribute(r, "Arn"), self.attribute(r, "QueueName"), policy)
        for r in by_type.get("AWS::KMS::Key", []):
            add("kms-key", r, self.attribute(r, "Arn"), self.physical(r),
                self.policy(r.property("KeyPolicy"), PolicyType.KMS_KEY, f"{r.logical_id}.KeyPolicy", r))
        secret_policies = {self.text(r, "SecretId"): r for r in by_type.get("AWS::SecretsManager::ResourcePolicy", [])}
        for r in by_type.get("AWS::SecretsManager::Secret", []):
            arn = self.physical(r)
            policy_resource = secret_policies.get(arn)
            policy = (self.policy(policy_resource.property("ResourcePolicy"), PolicyType.RESOURCE,
                                  f"{policy_resource.logical_id}.ResourcePolicy", policy_resource)
                      if policy_resource is not None else None)
            add("secret", r, arn if arn.startswith("arn:") else None, self.text(r, "Name"), policy,
                self.text(r, "KmsKeyId"))
        for r in by_type.get("AWS::ECR::Repository", []):
            add("ecr-repository", r, self.attribute(r, "Arn"), self.physical(r),
                self.policy(r.property("RepositoryPolicyText"), PolicyType.RESOURCE,
                            f"{r.logical_id}.RepositoryPolicyText", r))
        for r in by_type.get("AWS::Logs::LogGroup", []):
            name = self.physical(r)
            add("log-group", r, f"arn:{partition}:logs:{region}:{account}:log-group:{name}", name)
        for r in by_type.get("AWS::DynamoDB::Table", []):
            add("dynamodb-table", r, self.attribute(r, "Arn"), self.physical(r))
        # ECS resources carry no resource policy, but calls are authorized on them (Service Authorization
        # Reference, Amazon ECS: cluster, service, task-definition, capacity-provider).
        for r in by_type.get("AWS::ECS::Cluster", []):
            add("ecs-cluster", r, self.attribute(r, "Arn"), self.physical(r))
        for r in by_type.get("AWS::ECS::Service", []):
            add("ecs-service", r, self.physical(r), self.attribute(r, "Name"))
        for r in by_type.get("AWS::ECS::TaskDefinition", []):
            arn = self.physical(r)
            add("ecs-task-definition", r, arn, arn.rsplit("/", 1)[-1] if arn else None)
        for r in by_type.get("AWS::ECS::CapacityProvider", []):
            name = self.physical(r)
            add("ecs-capacity-provider", r, f"arn:{partition}:ecs:{region}:{account}:capacity-provider/{name}", name)
        for r in by_type.get("AWS::SSM::Parameter", []):
            name = self.physical(r)
            add("ssm-parameter", r, f"arn:{partition}:ssm:{region}:{account}:parameter/{name.lstrip('/')}", name)
        return holders


def _family_of(arn: str) -> str | None:
    """``FAMILY`` of ``arn:...:task-definition/FAMILY:REVISION``."""
    if ":task-definition/" not in arn:
        return None
    return arn.rsplit(":task-definition/", 1)[1].rsplit(":", 1)[0] or None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _role_name(arn_or_name: str | None) -> str | None:
    if not arn_or_name:
        return None
    if arn_or_name.startswith("arn:"):
        return arn_or_name.rsplit("/", 1)[-1]
    return arn_or_name


def build_environment(stacks: StackSet, managed: ManagedPolicyCatalog | None = None) -> Environment:
    return _Builder(stacks, managed).build()
