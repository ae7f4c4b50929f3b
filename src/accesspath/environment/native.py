"""The native environment file: what ``accesspath env export`` writes and every command reads.

A JSON document (schema in docs/environment.md and ``accesspath/data/environment.schema.json``)
so environments can be generated from other sources (Terraform, the AWS APIs) and edited by
hand. Policies inside it keep their line and column in the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from ipaddress import ip_network
from typing import Any

from accesspath.environment.model import (
    Container,
    EcsService,
    Environment,
    Gateway,
    Instance,
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
from accesspath.errors import UsageError
from accesspath.policy import Node, Policy, PolicyType, decode_json
from accesspath.policy.arns import PARTITIONS, arn_problem
from accesspath.policy.limits import ATTACHMENTS, resource_attachment
from accesspath.policy.source import JsonSyntaxError

FORMAT = "accesspath-environment"
VERSION = 1

_ACCOUNT_RE = re.compile(r"\d{12}")
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z0-9]+)+-\d+")
_ORGANIZATION_RE = re.compile(r"o-[a-z0-9]{10,32}")


def is_native(text: str) -> bool:
    head = text.lstrip()[:400]
    return head.startswith("{") and f'"{FORMAT}"' in head


def _policy(policy: Policy | None) -> Any:
    if policy is None:
        return None
    entry = {"id": policy.policy_id, "document": _policy_document(policy)}
    if policy.attachment is not None:
        entry["attachment"] = policy.attachment
    return entry


UNRESOLVED = "accesspath-unresolved"


def _policy_document(policy: Policy) -> Any:
    return _exportable(policy.document.to_python()) if policy.document is not None else None


def _exportable(value: Any) -> Any:
    """Plain JSON; a template value accesspath could not resolve is written as
    ``{"accesspath-unresolved": reason}``, which no policy accepts, so an exported environment stays
    fail-closed where the templates were (the policy is invalid and never allows)."""
    if isinstance(value, dict):
        return {k: _exportable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exportable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return {UNRESOLVED: str(getattr(value, "reason", value))}


def _rule(rule: SecurityGroupRule) -> dict[str, Any]:
    out: dict[str, Any] = {"protocol": rule.protocol, "fromPort": rule.from_port, "toPort": rule.to_port}
    for key, value in (("cidr", rule.cidr), ("groupId", rule.group_id), ("prefixList", rule.prefix_list)):
        if value is not None:
            out[key] = value
    return out


def to_document(env: Environment) -> dict[str, Any]:
    """The environment as a JSON-ready document."""
    return {
        FORMAT: VERSION,
        "account": env.account, "region": env.region, "partition": env.partition,
        "organizationId": env.organization_id,
        "vpcs": [{"id": v.id, "cidr": v.cidr, "dnsSupport": v.dns_support, "dnsHostnames": v.dns_hostnames,
                  **({"dnsServers": list(v.dns_servers)} if v.dns_servers else {}), **_named(v)}
                 for v in env.vpcs.values()],
        "subnets": [{"id": s.id, "vpcId": s.vpc_id, "cidr": s.cidr, "routeTableId": s.route_table_id,
                     "availabilityZone": s.availability_zone, "mapPublicIp": s.map_public_ip, **_named(s)}
                    for s in env.subnets.values()],
        "routeTables": [{"id": t.id, "vpcId": t.vpc_id,
                         "routes": [{"destination": r.destination, "target": r.target_kind, "targetId": r.target_id}
                                    for r in t.routes], **_named(t)} for t in env.route_tables.values()],
        "securityGroups": [{"id": g.id, "vpcId": g.vpc_id, "ingress": [_rule(r) for r in g.ingress],
                            "egress": [_rule(r) for r in g.egress], **_named(g)}
                           for key, g in env.security_groups.items() if key == g.id],
        "gateways": [{"id": g.id, "kind": g.kind, "vpcId": g.vpc_id, "subnetId": g.subnet_id, **_named(g)}
                     for g in env.gateways.values()],
        "vpcEndpoints": [{"id": e.id, "vpcId": e.vpc_id, "serviceName": e.service_name, "type": e.endpoint_type,
                          "privateDns": e.private_dns, "subnetIds": list(e.subnet_ids),
                          "securityGroupIds": list(e.security_group_ids), "routeTableIds": list(e.route_table_ids),
                          "policy": _policy(e.policy), **_named(e)} for e in env.endpoints.values()],
        "roles": [{"name": r.name, "arn": r.arn, "trustPolicy": _policy(r.trust_policy),
                   "policies": [_policy(p) for p in r.policies],
                   "permissionsBoundary": _policy(r.permissions_boundary),
                   "managedPolicyArns": list(r.managed_policy_arns), "unresolved": list(r.unresolved),
                   "logicalId": r.logical_id} for r in env.roles.values()],
        "instances": [{"id": i.id, "subnetId": i.subnet_id, "securityGroupIds": list(i.security_group_ids),
                       "roleName": i.role_name, "userData": i.user_data, "httpTokens": i.http_tokens,
                       "hopLimit": i.hop_limit, "publicIp": i.public_ip, "logicalId": i.logical_id,
                       "source": i.source, "subnetIds": list(i.subnet_ids), "cluster": i.cluster,
                       "httpEndpoint": i.http_endpoint, "agentConfig": dict(i.agent_config),
                       "imdsIptablesBlock": i.imds_iptables_block, "capacityProviders": list(i.capacity_providers),
                       "unread": list(i.unread)}
                      for i in env.instances.values()],
        "taskDefinitions": [{"family": t.family, "arn": t.arn, "taskRoleName": t.task_role_name,
                             "executionRoleName": t.execution_role_name, "networkMode": t.network_mode,
                             "compatibilities": list(t.compatibilities), "logicalId": t.logical_id,
                             "containers": [{"name": c.name, "image": c.image, "logDriver": c.log_driver,
                                             "logOptions": dict(c.log_options), "secrets": dict(c.secrets)}
                                            for c in t.containers]} for t in env.task_definitions.values()],
        "services": [{"name": s.name, "cluster": s.cluster, "taskDefinition": s.task_definition,
                      "launchType": s.launch_type, "platformVersion": s.platform_version,
                      "subnetIds": list(s.subnet_ids), "securityGroupIds": list(s.security_group_ids),
                      "assignPublicIp": s.assign_public_ip, "enableExecuteCommand": s.enable_execute_command,
                      "logicalId": s.logical_id, "capacityProviders": list(s.capacity_providers)}
                     for s in env.services.values()],
        "resources": [{"kind": r.kind, "arn": r.arn, "name": r.name, "policy": _policy(r.policy),
                       "logicalId": r.logical_id, **({"kmsKeyId": r.kms_key} if r.kms_key else {})}
                      for r in env.resources.values()],
        "serviceControlPolicies": None if env.scps is None else [[_policy(p) for p in level] for level in env.scps],
        "resourceControlPolicies": None if env.rcps is None else [[_policy(p) for p in level] for level in env.rcps],
        "notModelled": [{"logicalId": lid, "type": kind} for lid, kind in env.not_modelled],
    }


_ALLOWED: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in {
    "a VPC": "id cidr dnsSupport dnsHostnames dnsServers logicalId stack",
    "a subnet": "id vpcId cidr routeTableId availabilityZone mapPublicIp logicalId stack",
    "a route table": "id vpcId routes logicalId stack",
    "a route": "destination target targetId",
    "a security group": "id vpcId ingress egress logicalId stack",
    "ingress": "protocol fromPort toPort cidr groupId prefixList",
    "egress": "protocol fromPort toPort cidr groupId prefixList",
    "a gateway": "id kind vpcId subnetId logicalId stack",
    "a VPC endpoint": ("id vpcId serviceName type privateDns subnetIds securityGroupIds routeTableIds policy logicalId"
                       " stack"),
    "a role": "name arn trustPolicy policies permissionsBoundary managedPolicyArns unresolved logicalId",
    "an instance": ("id subnetId securityGroupIds roleName userData httpTokens hopLimit publicIp logicalId source"
                    " subnetIds cluster httpEndpoint agentConfig imdsIptablesBlock capacityProviders unread"),
    "a task definition": "family arn taskRoleName executionRoleName networkMode compatibilities containers logicalId",
    "a container": "name image logDriver logOptions secrets",
    "an ECS service": ("name cluster taskDefinition launchType platformVersion subnetIds securityGroupIds"
                       " assignPublicIp enableExecuteCommand logicalId capacityProviders"),
    "a resource": "kind arn name policy logicalId kmsKeyId",
    "a policy entry": "id document attachment",
}.items()}


def _named(obj: Any) -> dict[str, str]:
    """The template's logical id and stack of a network object, when it came from one (issue 9)."""
    return {key: value for key, value in (("logicalId", obj.logical_id), ("stack", obj.stack)) if value}


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def named(self, fields: dict[str, Node], what: str) -> dict[str, Any]:
        return {"logical_id": self.text(fields, "logicalId", what), "stack": self.text(fields, "stack", what)}

    def fail(self, message: str, node: Node | None) -> UsageError:
        pos = node.start if node is not None else None
        return UsageError(message, source=self.source, line=pos.line if pos else None,
                          column=pos.column if pos else None)

    def obj(self, node: Node | None, what: str) -> dict[str, Node]:
        if node is None or not node.is_object:
            raise self.fail(f"{what} must be an object", node)
        fields = {m.key: m.value for m in node.value}
        allowed = _ALLOWED.get(what)
        if allowed is not None:
            for member in node.value:
                if member.key not in allowed:
                    raise self.fail(f"unknown field '{member.key}' in {what} (expected one of:"
                                    f" {', '.join(sorted(allowed))})", member.value)
        return fields

    def items(self, node: Node | None, what: str) -> tuple[Node, ...]:
        if node is None or (not node.is_array and node.value is None):
            return ()
        if not node.is_array:
            raise self.fail(f"{what} must be a list", node)
        return node.value

    def text(self, fields: dict[str, Node], key: str, what: str, *, required: bool = False) -> str | None:
        node = fields.get(key)
        if node is None or node.value is None:
            if required:
                raise UsageError(f"{what} has no '{key}'", source=self.source)
            return None
        if not isinstance(node.value, str) or node.is_array or node.is_object:
            raise self.fail(f"{what}.{key} must be a string", node)
        return node.value

    def flag(self, fields: dict[str, Node], key: str, default: bool) -> bool:
        node = fields.get(key)
        if node is None or node.value is None:
            return default
        if not isinstance(node.value, bool):
            raise self.fail(f"'{key}' must be true or false", node)
        return node.value

    def number(self, fields: dict[str, Node], key: str) -> int | None:
        node = fields.get(key)
        if node is None or node.value is None:
            return None
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            raise self.fail(f"'{key}' must be a whole number", node)
        return node.value

    def texts(self, fields: dict[str, Node], key: str) -> tuple[str, ...]:
        out = []
        for item in self.items(fields.get(key), key):
            if not isinstance(item.value, str) or item.is_array or item.is_object:
                raise self.fail(f"'{key}' must hold strings", item)
            out.append(item.value)
        return tuple(out)

    def matching(self, fields: dict[str, Node], key: str, what: str, check: Callable[[str], str | None], *,
                 required: bool = False) -> str | None:
        """A string field that must pass ``check`` (which says what is wrong, or None)."""
        value = self.text(fields, key, what, required=required)
        if value is not None:
            problem = check(value)
            if problem is not None:
                raise self.fail(f"{what}.{key} '{value}': {problem}", fields.get(key))
        return value

    def port(self, fields: dict[str, Node], key: str) -> int | None:
        value = self.number(fields, key)
        if value is not None and not -1 <= value <= 65535:
            raise self.fail(f"'{key}' {value} is not a port (-1 to 65535)", fields.get(key))
        return value

    def mapping(self, fields: dict[str, Node], key: str) -> tuple[tuple[str, str], ...]:
        node = fields.get(key)
        if node is None or node.value is None:
            return ()
        fields = self.obj(node, key)
        for name, value in fields.items():
            if value.is_array or value.is_object or isinstance(value.value, bool) or value.value is None:
                raise self.fail(f"'{key}.{name}' must be a string", value)
        return tuple((k, str(v)) for k, v in node.to_python().items())

    def policy(self, node: Node | None, policy_type: PolicyType, default_id: str,
               attachment: str | None = None) -> Policy | None:
        if node is None or node.value is None:
            return None
        fields = self.obj(node, "a policy entry")
        document = fields.get("document")
        if document is None:
            raise self.fail("a policy entry needs a 'document'", node)
        policy_id = self.text(fields, "id", "policy") or default_id
        from accesspath.environment.unknowns import policy_from_template
        given = self.matching(fields, "attachment", "a policy entry", _attachment_problem)
        # A value written as {"accesspath-unresolved": reason} (env export of an unresolved template value,
        # a Terraform value known only after apply) is read back as that unknown: decisions that depend on
        # it are undetermined, as they were from the templates.
        return policy_from_template(_with_unresolved(document), policy_type=policy_type, policy_id=policy_id,
                                    source=self.source, attachment=given or attachment)


def _with_unresolved(node: Node) -> Node:
    """The node with each ``{"accesspath-unresolved": reason}`` object turned into an unresolved value."""
    from accesspath.cfn.model import Symbolic
    from accesspath.policy.source import Member

    if node.is_object:
        if len(node.value) == 1 and node.value[0].key == UNRESOLVED and isinstance(node.value[0].value.value, str):
            return Node(Symbolic(node.value[0].value.value, node.start), node.start, node.end)
        return Node(tuple(Member(m.key, _with_unresolved(m.value), *_member_rest(m)) for m in node.value),
                    node.start, node.end, node.kind)
    if node.is_array:
        return Node(tuple(_with_unresolved(item) for item in node.value), node.start, node.end, node.kind)
    return node


def _member_rest(member: Any) -> tuple[Any, ...]:
    from dataclasses import fields
    return tuple(getattr(member, f.name) for f in fields(member)[2:])


def from_text(text: str, source: str) -> Environment:
    try:
        root = decode_json(text, source)
    except JsonSyntaxError as error:
        raise UsageError(f"not valid JSON: {error.message}", source=source, line=error.position.line,
                         column=error.position.column) from None
    r = _Reader(source)
    top = r.obj(root, "an environment file")
    version = top.get(FORMAT)
    if version is None or version.value != VERSION:
        raise r.fail(f"not an accesspath environment file (expected \"{FORMAT}\": {VERSION})", root)
    account = r.matching(top, "account", "the environment", _account_problem, required=True) or ""
    region = r.matching(top, "region", "the environment", _region_problem, required=True) or ""

    def rules(node: Node | None, what: str) -> tuple[SecurityGroupRule, ...]:
        out = []
        for item in r.items(node, what):
            f = r.obj(item, what)
            out.append(SecurityGroupRule(r.text(f, "protocol", what) or "-1", r.port(f, "fromPort"),
                                         r.port(f, "toPort"), r.matching(f, "cidr", what, _cidr_problem),
                                         r.text(f, "groupId", what),
                                         r.text(f, "prefixList", what), item.start))
        return tuple(out)

    vpcs, subnets, tables, groups, gateways, endpoints = {}, {}, {}, {}, {}, {}
    for item in r.items(top.get("vpcs"), "vpcs"):
        f = r.obj(item, "a VPC")
        vpc = Vpc(r.text(f, "id", "a VPC", required=True) or "", r.matching(f, "cidr", "a VPC", _cidr_problem),
                  r.flag(f, "dnsSupport", True), r.flag(f, "dnsHostnames", False), item.start,
                  r.texts(f, "dnsServers"), **r.named(f, "a VPC"))
        vpcs[vpc.id] = vpc
    for item in r.items(top.get("subnets"), "subnets"):
        f = r.obj(item, "a subnet")
        subnet = Subnet(r.text(f, "id", "a subnet", required=True) or "", r.text(f, "vpcId", "a subnet", required=True) or "",
                        r.matching(f, "cidr", "a subnet", _cidr_problem), r.text(f, "routeTableId", "a subnet"),
                        r.text(f, "availabilityZone", "a subnet"), r.flag(f, "mapPublicIp", False), item.start,
                        **r.named(f, "a subnet"))
        subnets[subnet.id] = subnet
    for item in r.items(top.get("routeTables"), "routeTables"):
        f = r.obj(item, "a route table")
        routes = []
        for route_node in r.items(f.get("routes"), "routes"):
            rf = r.obj(route_node, "a route")
            routes.append(Route(r.matching(rf, "destination", "a route", _destination_problem, required=True) or "",
                                r.text(rf, "target", "a route", required=True) or "", r.text(rf, "targetId", "a route"),
                                route_node.start))
        table = RouteTable(r.text(f, "id", "a route table", required=True) or "",
                           r.text(f, "vpcId", "a route table") or "", tuple(routes), item.start,
                           **r.named(f, "a route table"))
        tables[table.id] = table
    for item in r.items(top.get("securityGroups"), "securityGroups"):
        f = r.obj(item, "a security group")
        egress = rules(f.get("egress"), "egress") if "egress" in f else SecurityGroup("", None).egress
        group = SecurityGroup(r.text(f, "id", "a security group", required=True) or "", r.text(f, "vpcId", "a security group"),
                              rules(f.get("ingress"), "ingress"), egress, item.start, **r.named(f, "a security group"))
        groups[group.id] = group
    for item in r.items(top.get("gateways"), "gateways"):
        f = r.obj(item, "a gateway")
        kind = r.text(f, "kind", "a gateway", required=True) or ""
        if kind not in ("igw", "nat"):
            raise r.fail(f"gateway kind '{kind}' must be \"igw\" or \"nat\"", f.get("kind"))
        gateway = Gateway(r.text(f, "id", "a gateway", required=True) or "", kind, r.text(f, "vpcId", "a gateway"),
                          r.text(f, "subnetId", "a gateway"), item.start, **r.named(f, "a gateway"))
        gateways[gateway.id] = gateway
    for item in r.items(top.get("vpcEndpoints"), "vpcEndpoints"):
        f = r.obj(item, "a VPC endpoint")
        endpoint_id = r.text(f, "id", "a VPC endpoint", required=True) or ""
        endpoint = VpcEndpoint(endpoint_id, r.text(f, "vpcId", "a VPC endpoint", required=True) or "",
                               r.text(f, "serviceName", "a VPC endpoint", required=True) or "",
                               r.text(f, "type", "a VPC endpoint") or "Gateway", r.flag(f, "privateDns", False),
                               r.texts(f, "subnetIds"), r.texts(f, "securityGroupIds"), r.texts(f, "routeTableIds"),
                               r.policy(f.get("policy"), PolicyType.VPC_ENDPOINT, f"{endpoint_id} policy"),
                               r.text(f, "logicalId", "a VPC endpoint"), item.start,
                               r.text(f, "stack", "a VPC endpoint"))
        endpoints[endpoint.id] = endpoint
    roles = {}
    for item in r.items(top.get("roles"), "roles"):
        f = r.obj(item, "a role")
        name = r.text(f, "name", "a role", required=True) or ""
        policies = tuple(p for i, node in enumerate(r.items(f.get("policies"), "policies"))
                         if (p := r.policy(node, PolicyType.IDENTITY, f"{name} policy {i + 1}")) is not None)
        role = Role(name, r.matching(f, "arn", "a role", arn_problem, required=True) or "",
                    r.policy(f.get("trustPolicy"), PolicyType.ROLE_TRUST, f"{name} trust policy"), policies,
                    r.policy(f.get("permissionsBoundary"), PolicyType.PERMISSIONS_BOUNDARY, f"{name} boundary"),
                    r.texts(f, "managedPolicyArns"), r.texts(f, "unresolved"), r.text(f, "logicalId", "a role"),
                    item.start)
        roles[role.name] = role
    instances = {}
    for item in r.items(top.get("instances"), "instances"):
        f = r.obj(item, "an instance")
        instance = Instance(r.text(f, "id", "an instance", required=True) or "", r.text(f, "subnetId", "an instance"),
                            r.texts(f, "securityGroupIds"), r.text(f, "roleName", "an instance"),
                            r.text(f, "userData", "an instance"), r.text(f, "httpTokens", "an instance"),
                            _hop_limit(r, f), r.flag(f, "publicIp", False), r.text(f, "logicalId", "an instance"),
                            item.start, source=r.text(f, "source", "an instance") or "instance",
                            subnet_ids=r.texts(f, "subnetIds"), cluster=r.text(f, "cluster", "an instance"),
                            http_endpoint=r.text(f, "httpEndpoint", "an instance"),
                            agent_config=r.mapping(f, "agentConfig"),
                            imds_iptables_block=r.flag(f, "imdsIptablesBlock", False),
                            capacity_providers=r.texts(f, "capacityProviders"), unread=r.texts(f, "unread"))
        instances[instance.id] = instance
    tasks = {}
    for item in r.items(top.get("taskDefinitions"), "taskDefinitions"):
        f = r.obj(item, "a task definition")
        containers = []
        for cnode in r.items(f.get("containers"), "containers"):
            cf = r.obj(cnode, "a container")
            containers.append(Container(r.text(cf, "name", "a container", required=True) or "",
                                        r.text(cf, "image", "a container"), r.text(cf, "logDriver", "a container"),
                                        r.mapping(cf, "logOptions"), r.mapping(cf, "secrets"), cnode.start))
        task = TaskDefinition(r.text(f, "family", "a task definition", required=True) or "",
                              r.matching(f, "arn", "a task definition", arn_problem, required=True) or "",
                              r.text(f, "taskRoleName", "a task definition"),
                              r.text(f, "executionRoleName", "a task definition"),
                              r.text(f, "networkMode", "a task definition"), r.texts(f, "compatibilities"),
                              tuple(containers), r.text(f, "logicalId", "a task definition"), item.start)
        tasks[task.family] = task
    services = {}
    for item in r.items(top.get("services"), "services"):
        f = r.obj(item, "an ECS service")
        service = EcsService(r.text(f, "name", "an ECS service", required=True) or "",
                             r.text(f, "cluster", "an ECS service") or "default",
                             r.text(f, "taskDefinition", "an ECS service", required=True) or "",
                             r.text(f, "launchType", "an ECS service"), r.text(f, "platformVersion", "an ECS service"),
                             r.texts(f, "subnetIds"), r.texts(f, "securityGroupIds"),
                             r.flag(f, "assignPublicIp", False), r.flag(f, "enableExecuteCommand", False),
                             r.text(f, "logicalId", "an ECS service"), item.start,
                             r.texts(f, "capacityProviders"))
        services[service.name] = service
    resources = {}
    kinds = {"s3-bucket": PolicyType.RESOURCE, "sqs-queue": PolicyType.RESOURCE, "kms-key": PolicyType.KMS_KEY,
             "secret": PolicyType.RESOURCE, "ecr-repository": PolicyType.RESOURCE, "log-group": PolicyType.RESOURCE,
             "dynamodb-table": PolicyType.RESOURCE, "ssm-parameter": PolicyType.RESOURCE,
             # ECS resources have no resource policy; they are what ECS calls are authorized on.
             "ecs-cluster": PolicyType.RESOURCE, "ecs-service": PolicyType.RESOURCE,
             "ecs-task-definition": PolicyType.RESOURCE, "ecs-capacity-provider": PolicyType.RESOURCE}
    for item in r.items(top.get("resources"), "resources"):
        f = r.obj(item, "a resource")
        kind = r.text(f, "kind", "a resource", required=True) or ""
        if kind not in kinds:
            raise r.fail(f"unknown resource kind '{kind}' (expected one of: {', '.join(kinds)})", f.get("kind"))
        arn = r.matching(f, "arn", "a resource", arn_problem, required=True) or ""
        holder = ResourcePolicyHolder(kind, arn, r.policy(f.get("policy"), kinds[kind], f"{arn} policy",
                                                          resource_attachment(arn)),
                                      r.text(f, "name", "a resource"), r.text(f, "logicalId", "a resource"), item.start,
                                      r.text(f, "kmsKeyId", "a resource"))
        resources[arn] = holder

    def levels(key: str, policy_type: PolicyType) -> tuple[tuple[Policy, ...], ...] | None:
        node = top.get(key)
        if node is None or node.value is None:
            return None
        out = []
        for depth, level in enumerate(r.items(node, key)):
            out.append(tuple(p for i, pnode in enumerate(r.items(level, key))
                             if (p := r.policy(pnode, policy_type, f"{key}[{depth}][{i}]")) is not None))
        return tuple(out)

    known = {"vpcs", "subnets", "routeTables", "securityGroups", "gateways", "vpcEndpoints", "roles", "instances",
             "taskDefinitions", "services", "resources", "serviceControlPolicies", "resourceControlPolicies",
             "notModelled", "account", "region", "partition", "organizationId", FORMAT}
    for key, node in top.items():
        if key not in known:
            raise r.fail(f"unknown field '{key}' in the environment file", node)
    return Environment(
        account=account, region=region,
        partition=r.matching(top, "partition", "the environment", _partition_problem) or "aws",
        organization_id=r.matching(top, "organizationId", "the environment", _organization_problem),
        vpcs=vpcs, subnets=subnets, route_tables=tables, security_groups=groups, endpoints=endpoints,
        gateways=gateways, roles=roles, instances=instances, task_definitions=tasks, services=services,
        resources=resources, scps=levels("serviceControlPolicies", PolicyType.SCP),
        rcps=levels("resourceControlPolicies", PolicyType.RCP),
        not_modelled=tuple((r.text(n, "logicalId", "a notModelled entry", required=True) or "",
                            r.text(n, "type", "a notModelled entry", required=True) or "")
                           for n in (r.obj(item, "a notModelled entry")
                                     for item in r.items(top.get("notModelled"), "notModelled"))),
    )


def _attachment_problem(value: str) -> str | None:
    return None if value in ATTACHMENTS else f"not one of {', '.join(sorted(ATTACHMENTS))}"


def _account_problem(value: str) -> str | None:
    return None if _ACCOUNT_RE.fullmatch(value) else "an account id is 12 digits"


def _region_problem(value: str) -> str | None:
    return None if _REGION_RE.fullmatch(value) else "not a region name such as 'us-east-1'"


def _partition_problem(value: str) -> str | None:
    return None if value in PARTITIONS else f"not a partition (expected one of {', '.join(PARTITIONS)})"


def _organization_problem(value: str) -> str | None:
    return None if _ORGANIZATION_RE.fullmatch(value) else "an organization id looks like 'o-a1b2c3d4e5'"


def _cidr_problem(value: str) -> str | None:
    try:
        ip_network(value, strict=False)
    except ValueError:
        return "not a CIDR block such as '10.0.0.0/16'"
    return None


def _destination_problem(value: str) -> str | None:
    """A route's destination: a CIDR block or a managed prefix list (pl-…)."""
    return None if value.startswith("pl-") else _cidr_problem(value)


def _hop_limit(r: _Reader, fields: dict[str, Node]) -> int | None:
    value = r.number(fields, "hopLimit")
    if value is not None and not 1 <= value <= 64:  # ec2 ModifyInstanceMetadataOptions: 1 to 64
        raise r.fail(f"'hopLimit' {value} is not between 1 and 64", fields.get("hopLimit"))
    return value
