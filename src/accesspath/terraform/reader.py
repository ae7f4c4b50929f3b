"""Read ``terraform show -json`` output (a plan or a state) into the native environment document.

The JSON shapes are Terraform's documented "JSON Output Format": a state has ``values.root_module``;
a plan has ``planned_values.root_module`` (values known before apply), ``resource_changes`` (whose
``change.after_unknown`` marks the values known only after apply) and ``configuration`` (whose
expressions name the resources a value refers to). Modules nest as ``child_modules``.

What a plan does not know yet is resolved only where it is an identity Terraform will wire up: the id
of another resource of the plan (a subnet's ``vpc_id`` refers to ``aws_vpc.main``) becomes that
resource's stand-in id. Any other unknown value (a policy document built from ARNs that do not exist
yet) is written as an unresolved marker, which no policy accepts: the native reader and every command
then treat it as they treat an unresolved template value, and say so.

Attribute names follow the AWS provider's resources (registry.terraform.io/providers/hashicorp/aws).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from accesspath.environment.native import FORMAT, UNRESOLVED, VERSION
from accesspath.errors import UsageError

# Resource types read; the others are listed as not modelled.
_MODELLED = frozenset({
    "aws_vpc", "aws_subnet", "aws_route_table", "aws_route", "aws_route_table_association",
    "aws_vpc_endpoint", "aws_vpc_endpoint_policy", "aws_vpc_endpoint_route_table_association",
    "aws_vpc_endpoint_subnet_association", "aws_vpc_endpoint_security_group_association",
    "aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule", "aws_internet_gateway", "aws_nat_gateway",
    "aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_iam_policy",
    "aws_iam_policy_attachment", "aws_iam_role_policies_exclusive", "aws_iam_role_policy_attachments_exclusive",
    "aws_iam_instance_profile", "aws_instance", "aws_ecs_cluster", "aws_ecs_task_definition", "aws_ecs_service",
    "aws_s3_bucket", "aws_s3_bucket_policy", "aws_kms_key", "aws_kms_key_policy", "aws_sqs_queue",
    "aws_sqs_queue_policy", "aws_secretsmanager_secret", "aws_secretsmanager_secret_policy",
    "aws_ecr_repository", "aws_ecr_repository_policy", "aws_cloudwatch_log_group",
})
_ID_PREFIX = {"aws_vpc": "vpc", "aws_subnet": "subnet", "aws_route_table": "rtb", "aws_security_group": "sg",
              "aws_internet_gateway": "igw", "aws_nat_gateway": "nat", "aws_vpc_endpoint": "vpce",
              "aws_instance": "i", "aws_kms_key": "key"}


def is_terraform_json(text: str) -> bool:
    head = text.lstrip()[:2000]
    return head.startswith("{") and '"format_version"' in text[:4000] and '"terraform_version"' in text[:4000]


@dataclass
class _Resource:
    address: str
    type: str
    name: str
    values: dict[str, Any]
    unknown: Any = field(default_factory=dict)   # the change's after_unknown (plans)
    references: dict[str, list[str]] = field(default_factory=dict)   # attribute -> configuration references


class _Unknown:
    """A value known only after apply."""

    def __init__(self, what: str) -> None:
        self.what = what


def environment_document(text: str, source: str, *, account: str, region: str | None,
                         partition: str) -> dict[str, Any]:
    """The native environment document for a ``terraform show -json`` document."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"not valid JSON: {error.msg}", source=source, line=error.lineno, column=error.colno) from None
    if not isinstance(document, dict):
        raise UsageError("a Terraform JSON document is an object", source=source)
    return _Builder(document, source, account, region, partition).build()


class _Builder:
    def __init__(self, document: dict[str, Any], source: str, account: str, region: str | None,
                 partition: str) -> None:
        self.source = source
        self.partition = partition
        if "planned_values" in document:
            root = _module(document.get("planned_values"), "planned_values")
        elif "values" in document:
            root = _module(document.get("values"), "values")
        else:
            raise UsageError("a Terraform JSON document has 'values' (a state) or 'planned_values' (a plan): run"
                             " 'terraform show -json' on a state or a saved plan", source=source)
        unknowns = {c.get("address"): (c.get("change") or {}).get("after_unknown") or {}
                    for c in document.get("resource_changes") or [] if isinstance(c, dict)}
        references = _configuration_references(document.get("configuration") or {})
        self.resources: dict[str, _Resource] = {}
        for entry in _walk(root):
            if entry.get("mode", "managed") != "managed" or not isinstance(entry.get("values"), dict):
                continue
            address = str(entry.get("address"))
            self.resources[address] = _Resource(address, str(entry.get("type")), str(entry.get("name")),
                                                entry["values"], unknowns.get(address, {}),
                                                references.get(_config_address(address), {}))
        self.region = region or _provider_region(document) or _region_from(self.resources.values()) or "us-east-1"
        self.account = _account_from(self.resources.values()) or account

    # -- values ----------------------------------------------------------------------------------

    def value(self, resource: _Resource, attribute: str) -> Any:
        """The attribute's value; for an unknown id, the stand-in id of the resource it refers to."""
        if attribute in resource.values and resource.values[attribute] is not None:
            return resource.values[attribute]
        if _is_unknown(resource.unknown, attribute):
            referenced = self.referenced(resource, attribute, ("id", "arn", "name", "bucket", "key_id"))
            if referenced and _names_a_resource(attribute):
                return referenced[0]
            if attribute in ("id", "arn", "name", "bucket", "key_id") and attribute not in resource.references:
                return self.identity(resource, attribute)
            return _Unknown(f"{resource.address}.{attribute} is known only after apply")
        return None

    def values(self, resource: _Resource, attribute: str) -> list[Any]:
        """A list attribute, with unknown ids resolved through the configuration's references."""
        known = resource.values.get(attribute)
        if isinstance(known, list) and not _is_unknown(resource.unknown, attribute):
            return known
        resolved = self.referenced(resource, attribute, ("id", "arn", "name"))
        if resolved:
            return resolved
        if isinstance(known, list):
            return [v for v in known if v is not None]
        return []

    def referenced(self, resource: _Resource, attribute: str, wanted: tuple[str, ...]) -> list[Any]:
        """The ids (ARNs, names) of the plan's resources the configuration wires into ``attribute``."""
        found = []
        for reference in resource.references.get(attribute, []):
            target, _, part = reference.rpartition(".")
            other = self._by_reference(target)
            if other is not None and part in wanted:
                found.append(self.identity(other, part))
        return found

    def identity(self, resource: _Resource, attribute: str) -> Any:
        known = resource.values.get(attribute)
        if isinstance(known, str) and known:
            return known
        digest = hashlib.sha256(resource.address.encode()).hexdigest()
        if attribute == "id":
            prefix = _ID_PREFIX.get(resource.type)
            if resource.type == "aws_iam_role":
                return self.role_name(resource)
            return f"{prefix}-{digest[:17]}" if prefix else f"{resource.type}-{digest[:12]}"
        if attribute in ("name", "bucket"):
            return resource.values.get("name") or resource.values.get("bucket") or f"tf-{resource.name}-{digest[:8]}"
        if attribute == "key_id":
            return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        if attribute == "arn":
            return self.arn(resource)
        return _Unknown(f"{resource.address}.{attribute} is known only after apply")

    def arn(self, resource: _Resource) -> str:
        known = resource.values.get("arn")
        if isinstance(known, str) and known:
            return known
        p, r, a = self.partition, self.region, self.account
        kind = resource.type
        if kind == "aws_iam_role":
            path = resource.values.get("path") or "/"
            return f"arn:{p}:iam::{a}:role{path}{self.role_name(resource)}"
        if kind == "aws_iam_policy":
            path = resource.values.get("path") or "/"
            return f"arn:{p}:iam::{a}:policy{path}{self.identity(resource, 'name')}"
        if kind == "aws_s3_bucket":
            return f"arn:{p}:s3:::{self.identity(resource, 'bucket')}"
        if kind == "aws_sqs_queue":
            return f"arn:{p}:sqs:{r}:{a}:{self.identity(resource, 'name')}"
        if kind == "aws_kms_key":
            return f"arn:{p}:kms:{r}:{a}:key/{self.identity(resource, 'key_id')}"
        if kind == "aws_secretsmanager_secret":
            # The six-character suffix AWS adds is not known before apply.
            return f"arn:{p}:secretsmanager:{r}:{a}:secret:{self.identity(resource, 'name')}-??????"
        if kind == "aws_ecr_repository":
            return f"arn:{p}:ecr:{r}:{a}:repository/{self.identity(resource, 'name')}"
        if kind == "aws_cloudwatch_log_group":
            return f"arn:{p}:logs:{r}:{a}:log-group:{self.identity(resource, 'name')}"
        if kind == "aws_ecs_task_definition":
            return f"arn:{p}:ecs:{r}:{a}:task-definition/{resource.values.get('family')}:1"
        if kind == "aws_ecs_cluster":
            return f"arn:{p}:ecs:{r}:{a}:cluster/{self.identity(resource, 'name')}"
        return f"arn:{p}:{kind}:{r}:{a}:{resource.address}"

    def role_name(self, resource: _Resource) -> str:
        name = resource.values.get("name")
        if isinstance(name, str) and name:
            return name
        prefix = resource.values.get("name_prefix") or "terraform-"
        return f"{prefix}{hashlib.sha256(resource.address.encode()).hexdigest()[:20]}"

    def _by_reference(self, target: str) -> _Resource | None:
        found = self.resources.get(target)
        if found is not None:
            return found
        instances = [r for address, r in self.resources.items() if _config_address(address) == target]
        return instances[0] if len(instances) == 1 else None

    def of_type(self, *kinds: str) -> Iterator[_Resource]:
        return (r for r in self.resources.values() if r.type in kinds)

    def policy(self, resource: _Resource, attribute: str) -> dict[str, Any] | None:
        """A policy attribute (a JSON string in Terraform) as a native policy entry."""
        raw = self.value(resource, attribute)
        policy_id = f"{resource.address}.{attribute}"
        if raw is None or raw == "":
            return None
        if isinstance(raw, _Unknown):
            if attribute not in resource.references:
                # The configuration does not set it: the provider reads back what AWS applies, the
                # default policy (a VPC endpoint's allows full access).
                return None
            return {"id": policy_id, "document": {UNRESOLVED: f"{raw.what} (terraform plan)"}}
        if isinstance(raw, dict):
            return {"id": policy_id, "document": raw}
        try:
            document = json.loads(raw)
        except (TypeError, json.JSONDecodeError):
            return {"id": policy_id, "document": {UNRESOLVED: f"{policy_id} is not a JSON policy document"}}
        return {"id": policy_id, "document": document}

    # -- the document ----------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            FORMAT: VERSION, "account": self.account, "region": self.region, "partition": self.partition,
            "organizationId": None,
            "vpcs": [], "subnets": [], "routeTables": [], "securityGroups": [], "gateways": [],
            "vpcEndpoints": [], "roles": [], "instances": [], "taskDefinitions": [], "services": [],
            "resources": [], "serviceControlPolicies": None, "resourceControlPolicies": None, "notModelled": [],
        }
        self._network(document)
        self._identities(document)
        self._ecs(document)
        self._resource_policies(document)
        document["notModelled"] = [{"logicalId": r.address, "type": r.type} for r in self.resources.values()
                                   if r.type not in _MODELLED]
        return document

    def _network(self, document: dict[str, Any]) -> None:
        for vpc in self.of_type("aws_vpc"):
            document["vpcs"].append({
                "id": self.identity(vpc, "id"), "cidr": vpc.values.get("cidr_block"),
                "dnsSupport": vpc.values.get("enable_dns_support", True) is not False,
                "dnsHostnames": bool(vpc.values.get("enable_dns_hostnames", False))})
        associations = {_text(self.value(a, "subnet_id")): _text(self.value(a, "route_table_id"))
                        for a in self.of_type("aws_route_table_association") if self.value(a, "subnet_id")}
        for subnet in self.of_type("aws_subnet"):
            subnet_id = self.identity(subnet, "id")
            document["subnets"].append({
                "id": subnet_id, "vpcId": _text(self.value(subnet, "vpc_id")), "cidr": subnet.values.get("cidr_block"),
                "routeTableId": associations.get(subnet_id), "availabilityZone": subnet.values.get("availability_zone"),
                "mapPublicIp": bool(subnet.values.get("map_public_ip_on_launch", False))})
        tables: dict[str, dict[str, Any]] = {}
        for table in self.of_type("aws_route_table"):
            table_id = self.identity(table, "id")
            routes = [self._route(route, route.get("cidr_block") or route.get("ipv6_cidr_block") or "")
                      for route in table.values.get("route") or [] if isinstance(route, dict)]
            tables[table_id] = {"id": table_id, "vpcId": _text(self.value(table, "vpc_id")), "routes": routes}
        for route in self.of_type("aws_route"):
            table_id = _text(self.value(route, "route_table_id"))
            if table_id in tables:
                tables[table_id]["routes"].append(self._route_resource(route))
        document["routeTables"] = list(tables.values())
        groups: dict[str, dict[str, Any]] = {}
        for group in self.of_type("aws_security_group"):
            group_id = self.identity(group, "id")
            # Terraform removes the default allow-all egress rule of the groups it creates: the egress
            # rules are exactly those listed (AWS provider, aws_security_group).
            groups[group_id] = {"id": group_id, "vpcId": _text(self.value(group, "vpc_id")),
                                "ingress": [r for rule in group.values.get("ingress") or [] for r in _sg_rules(rule)],
                                "egress": [r for rule in group.values.get("egress") or [] for r in _sg_rules(rule)]}
        for rule in self.of_type("aws_security_group_rule"):
            group_id = _text(self.value(rule, "security_group_id"))
            if group_id in groups:
                direction = "egress" if rule.values.get("type") == "egress" else "ingress"
                values = dict(rule.values)
                if self.value(rule, "source_security_group_id"):
                    values["security_groups"] = [_text(self.value(rule, "source_security_group_id"))]
                groups[group_id][direction].extend(_sg_rules(values))
        for kind, direction in (("aws_vpc_security_group_ingress_rule", "ingress"),
                                ("aws_vpc_security_group_egress_rule", "egress")):
            for rule in self.of_type(kind):
                group_id = _text(self.value(rule, "security_group_id"))
                if group_id in groups:
                    groups[group_id][direction].append(_vpc_rule(rule.values,
                                                                 _text(self.value(rule, "referenced_security_group_id"))))
        for group_id, entries in groups.items():  # "self" names the group itself
            for group_rule in entries["ingress"] + entries["egress"]:
                if group_rule.get("groupId") == "self":
                    group_rule["groupId"] = group_id
        document["securityGroups"] = list(groups.values())
        for gateway in self.of_type("aws_internet_gateway"):
            document["gateways"].append({"id": self.identity(gateway, "id"), "kind": "igw",
                                         "vpcId": _text(self.value(gateway, "vpc_id")), "subnetId": None})
        for gateway in self.of_type("aws_nat_gateway"):
            document["gateways"].append({"id": self.identity(gateway, "id"), "kind": "nat", "vpcId": None,
                                         "subnetId": _text(self.value(gateway, "subnet_id"))})
        endpoints: dict[str, dict[str, Any]] = {}
        for endpoint in self.of_type("aws_vpc_endpoint"):
            endpoint_id = self.identity(endpoint, "id")
            kind = endpoint.values.get("vpc_endpoint_type") or "Gateway"
            endpoints[endpoint_id] = {
                "id": endpoint_id, "vpcId": _text(self.value(endpoint, "vpc_id")),
                "serviceName": endpoint.values.get("service_name"), "type": kind,
                "privateDns": bool(endpoint.values.get("private_dns_enabled", False)),
                "subnetIds": [_text(v) for v in self.values(endpoint, "subnet_ids")],
                "securityGroupIds": [_text(v) for v in self.values(endpoint, "security_group_ids")],
                "routeTableIds": [_text(v) for v in self.values(endpoint, "route_table_ids")],
                "policy": self.policy(endpoint, "policy"), "logicalId": endpoint.address}
        for kind, field_name, attribute in (
                ("aws_vpc_endpoint_route_table_association", "routeTableIds", "route_table_id"),
                ("aws_vpc_endpoint_subnet_association", "subnetIds", "subnet_id"),
                ("aws_vpc_endpoint_security_group_association", "securityGroupIds", "security_group_id")):
            for association in self.of_type(kind):
                endpoint_id = _text(self.value(association, "vpc_endpoint_id"))
                if endpoint_id in endpoints:
                    endpoints[endpoint_id][field_name].append(_text(self.value(association, attribute)))
        for policy in self.of_type("aws_vpc_endpoint_policy"):
            endpoint_id = _text(self.value(policy, "vpc_endpoint_id"))
            if endpoint_id in endpoints:
                endpoints[endpoint_id]["policy"] = self.policy(policy, "policy")
        document["vpcEndpoints"] = list(endpoints.values())

    def _route(self, route: dict[str, Any], destination: str) -> dict[str, Any]:
        for key, target in (("nat_gateway_id", "nat"), ("gateway_id", "igw"), ("vpc_endpoint_id", "vpce")):
            value = route.get(key)
            if value:
                if key == "gateway_id" and str(value) == "local":
                    return {"destination": destination, "target": "local", "targetId": None}
                return {"destination": destination, "target": target, "targetId": value}
        return {"destination": destination, "target": "other", "targetId": None}

    def _route_resource(self, route: _Resource) -> dict[str, Any]:
        destination = route.values.get("destination_cidr_block") or route.values.get("destination_ipv6_cidr_block") or ""
        for key, target in (("nat_gateway_id", "nat"), ("gateway_id", "igw"), ("vpc_endpoint_id", "vpce")):
            value = self.value(route, key)
            if value and not isinstance(value, _Unknown):
                return {"destination": destination, "target": target, "targetId": value}
        return {"destination": destination, "target": "other", "targetId": None}

    def _identities(self, document: dict[str, Any]) -> None:
        customer_policies = {self.arn(p): p for p in self.of_type("aws_iam_policy")}
        roles: dict[str, dict[str, Any]] = {}
        for role in self.of_type("aws_iam_role"):
            name = self.role_name(role)
            entry: dict[str, Any] = {"name": name, "arn": self.arn(role),
                                     "trustPolicy": self.policy(role, "assume_role_policy"),
                     "policies": [], "permissionsBoundary": None, "managedPolicyArns": [], "unresolved": [],
                     "logicalId": role.address}
            for inline in role.values.get("inline_policy") or []:
                if isinstance(inline, dict) and inline.get("policy"):
                    entry["policies"].append({"id": f"{role.address}.inline_policy[{inline.get('name')}]",
                                              "document": _json_or_marker(inline.get("policy"))})
            for arn in role.values.get("managed_policy_arns") or []:
                self._attach(entry, str(arn), customer_policies)
            boundary = role.values.get("permissions_boundary")
            if boundary:
                found = customer_policies.get(str(boundary))
                if found is not None:
                    entry["permissionsBoundary"] = self.policy(found, "policy")
                else:
                    entry["unresolved"].append(str(boundary))
            roles[name] = entry
        for inline in self.of_type("aws_iam_role_policy"):
            role_name = _text(self.value(inline, "role"))
            if role_name in roles:
                policy = self.policy(inline, "policy")
                if policy is not None:
                    roles[role_name]["policies"].append(policy)
        for attachment in self.of_type("aws_iam_role_policy_attachment"):
            role_name = _text(self.value(attachment, "role"))
            arn = self.value(attachment, "policy_arn")
            if role_name in roles and isinstance(arn, str):
                self._attach(roles[role_name], arn, customer_policies)
        for attachment in self.of_type("aws_iam_policy_attachment"):
            arn = self.value(attachment, "policy_arn")
            for role_name in self.values(attachment, "roles"):
                if _text(role_name) in roles and isinstance(arn, str):
                    self._attach(roles[_text(role_name)], arn, customer_policies)
        document["roles"] = list(roles.values())
        profiles = {self.identity(p, "name"): _text(self.value(p, "role")) for p in self.of_type("aws_iam_instance_profile")}
        for instance in self.of_type("aws_instance"):
            options = (instance.values.get("metadata_options") or [{}])[0] or {}
            profile = instance.values.get("iam_instance_profile")
            document["instances"].append({
                "id": self.identity(instance, "id"), "subnetId": _text(self.value(instance, "subnet_id")),
                "securityGroupIds": [_text(v) for v in self.values(instance, "vpc_security_group_ids")],
                "roleName": profiles.get(_text(profile)) if profile else None,
                "userData": instance.values.get("user_data") if isinstance(instance.values.get("user_data"), str) else None,
                "httpTokens": options.get("http_tokens"), "hopLimit": options.get("http_put_response_hop_limit"),
                "publicIp": bool(instance.values.get("associate_public_ip_address", False)),
                "logicalId": instance.address})

    def _attach(self, role: dict[str, Any], arn: str, customer: dict[str, _Resource]) -> None:
        role["managedPolicyArns"].append(arn)
        found = customer.get(arn)
        if found is not None:
            policy = self.policy(found, "policy")
            if policy is not None:
                role["policies"].append(policy)
            return
        from accesspath.catalog.managed_policies import bundled_managed_policies
        managed = bundled_managed_policies().entry(arn)
        if managed is not None:
            role["policies"].append({"id": f"managed policy {managed.name} ({managed.version})",
                                     "document": managed.document})
        else:
            role["unresolved"].append(arn)

    def _ecs(self, document: dict[str, Any]) -> None:
        for task in self.of_type("aws_ecs_task_definition"):
            containers = []
            raw = task.values.get("container_definitions")
            try:
                definitions = json.loads(raw) if isinstance(raw, str) else []
            except json.JSONDecodeError:
                definitions = []
            for container in definitions if isinstance(definitions, list) else []:
                log = container.get("logConfiguration") or {}
                containers.append({
                    "name": container.get("name"), "image": container.get("image"),
                    "logDriver": log.get("logDriver"), "logOptions": log.get("options") or {},
                    "secrets": {s.get("name"): s.get("valueFrom") for s in container.get("secrets") or []}})
            document["taskDefinitions"].append({
                "family": task.values.get("family"), "arn": self.arn(task),
                "taskRoleName": _role_name(self.value(task, "task_role_arn")),
                "executionRoleName": _role_name(self.value(task, "execution_role_arn")),
                "networkMode": task.values.get("network_mode"),
                "compatibilities": list(task.values.get("requires_compatibilities") or []),
                "logicalId": task.address, "containers": containers})
        for service in self.of_type("aws_ecs_service"):
            network = (service.values.get("network_configuration") or [{}])[0] or {}
            subnets = [_text(v) for v in self.values_in(service, network, "network_configuration", "subnets")]
            groups = [_text(v) for v in self.values_in(service, network, "network_configuration", "security_groups")]
            task_definition = self.value(service, "task_definition")
            family = _text(task_definition).split("/")[-1].split(":")[0] if task_definition else ""
            cluster = _text(self.value(service, "cluster")).split("/")[-1]
            document["services"].append({
                "name": service.values.get("name"), "cluster": cluster or "default", "taskDefinition": family,
                "launchType": service.values.get("launch_type") or None,
                "platformVersion": service.values.get("platform_version") or None,
                "subnetIds": subnets, "securityGroupIds": groups,
                "assignPublicIp": bool(network.get("assign_public_ip", False)),
                "enableExecuteCommand": bool(service.values.get("enable_execute_command", False)),
                "logicalId": service.address,
                "capacityProviders": [s.get("capacity_provider") for s in service.values.get("capacity_provider_strategy") or []
                                      if isinstance(s, dict)]})

    def values_in(self, resource: _Resource, block: dict[str, Any], block_name: str, attribute: str) -> list[Any]:
        known = block.get(attribute)
        if isinstance(known, list) and known:
            return known
        nested = f"{block_name}.{attribute}"
        return self.referenced(resource, nested, ("id",))

    def _resource_policies(self, document: dict[str, Any]) -> None:
        holders: dict[str, dict[str, Any]] = {}
        for kind, holder_kind, name_attribute in (
                ("aws_s3_bucket", "s3-bucket", "bucket"), ("aws_sqs_queue", "sqs-queue", "name"),
                ("aws_kms_key", "kms-key", "key_id"), ("aws_secretsmanager_secret", "secret", "name"),
                ("aws_ecr_repository", "ecr-repository", "name"), ("aws_cloudwatch_log_group", "log-group", "name")):
            for resource in self.of_type(kind):
                arn = self.arn(resource)
                policy = self.policy(resource, "policy") if kind in ("aws_s3_bucket", "aws_sqs_queue", "aws_kms_key",
                                                                      "aws_secretsmanager_secret") else None
                entry: dict[str, Any] = {"kind": holder_kind, "arn": arn, "name": self.identity(resource, name_attribute),
                                         "policy": policy, "logicalId": resource.address}
                if kind == "aws_secretsmanager_secret" and resource.values.get("kms_key_id"):
                    entry["kmsKeyId"] = resource.values["kms_key_id"]
                holders[resource.address] = entry
        by_name = {(e["kind"], e["name"]): e for e in holders.values()}
        by_arn = {e["arn"]: e for e in holders.values()}
        for kind, holder_kind, attribute in (
                ("aws_s3_bucket_policy", "s3-bucket", "bucket"), ("aws_sqs_queue_policy", "sqs-queue", "queue_url"),
                ("aws_kms_key_policy", "kms-key", "key_id"),
                ("aws_secretsmanager_secret_policy", "secret", "secret_arn"),
                ("aws_ecr_repository_policy", "ecr-repository", "repository")):
            for resource in self.of_type(kind):
                target = _text(self.value(resource, attribute))
                found = by_arn.get(target) or by_name.get((holder_kind, target)) or by_name.get(
                    (holder_kind, target.rstrip("/").split("/")[-1]))
                if found is not None:
                    found["policy"] = self.policy(resource, "policy")
        document["resources"] = list(holders.values())


def _module(node: Any, where: str) -> dict[str, Any]:
    if not isinstance(node, dict) or not isinstance(node.get("root_module"), dict):
        return {}
    return node["root_module"]


def _walk(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource in module.get("resources") or []:
        if isinstance(resource, dict):
            yield resource
    for child in module.get("child_modules") or []:
        if isinstance(child, dict):
            yield from _walk(child)


def _configuration_references(configuration: dict[str, Any], prefix: str = "",
                              variables: dict[str, list[str]] | None = None) -> dict[str, dict[str, list[str]]]:
    """Configuration address -> attribute -> the resource addresses its expression refers to; inside a
    module, ``var.X`` stands for what the module call passes as X."""
    variables = variables or {}
    found: dict[str, dict[str, list[str]]] = {}
    module = configuration.get("root_module") if "root_module" in configuration else configuration
    if not isinstance(module, dict):
        return found
    for resource in module.get("resources") or []:
        if not isinstance(resource, dict):
            continue
        address = prefix + str(resource.get("address"))
        found[address] = {}
        for attribute, expression in _expressions(resource.get("expressions") or {}):
            found[address][attribute] = _resolve_references(expression.get("references") or [], prefix, variables)
    for name, call in (module.get("module_calls") or {}).items():
        if isinstance(call, dict) and isinstance(call.get("module"), dict):
            passed = {variable: _resolve_references(expression.get("references") or [], prefix, variables)
                      for variable, expression in _expressions(call.get("expressions") or {})}
            found.update(_configuration_references(call["module"], f"{prefix}module.{name}.", passed))
    return found


def _resolve_references(references: list[str], prefix: str, variables: dict[str, list[str]]) -> list[str]:
    resolved: list[str] = []
    for reference in references:
        if reference.startswith("var."):
            resolved.extend(variables.get(reference[4:].split(".")[0], []))
        elif not reference.startswith(("local.", "each.", "count.", "path.", "data.", "self.")):
            resolved.append(prefix + reference)
        else:
            resolved.append("?" + reference)  # kept so the attribute counts as set in the configuration
    return resolved


def _expressions(expressions: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for attribute, expression in expressions.items():
        if isinstance(expression, dict) and "references" in expression:
            yield prefix + attribute, expression
        elif isinstance(expression, dict):
            yield from _expressions(expression, f"{prefix}{attribute}.")
        elif isinstance(expression, list):
            for block in expression:
                if isinstance(block, dict):
                    yield from _expressions(block, f"{prefix}{attribute}.")


def _config_address(address: str) -> str:
    """``module.a["x"].aws_subnet.b[0]`` -> ``module.a.aws_subnet.b`` (instance keys dropped)."""
    out = []
    depth = 0
    for ch in address:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _is_unknown(unknown: Any, attribute: str) -> bool:
    if unknown is True:
        return True
    if isinstance(unknown, dict):
        value = unknown.get(attribute)
        return value is True or (isinstance(value, list) and any(v is True for v in value))
    return False


def _provider_region(document: dict[str, Any]) -> str | None:
    providers = (document.get("configuration") or {}).get("provider_config") or {}
    for provider in providers.values():
        if isinstance(provider, dict) and provider.get("name") == "aws":
            region = ((provider.get("expressions") or {}).get("region") or {}).get("constant_value")
            if isinstance(region, str):
                return region
    return None


def _account_from(resources: Any) -> str | None:
    for resource in resources:
        arn = resource.values.get("arn")
        if isinstance(arn, str) and arn.startswith("arn:"):
            parts = arn.split(":")
            if len(parts) > 4 and parts[4].isdigit() and len(parts[4]) == 12:
                return parts[4]
    return None


def _names_a_resource(attribute: str) -> bool:
    """Attributes whose value is another resource's id, ARN or name (wired up by Terraform at apply)."""
    return (attribute.endswith(("_id", "_ids", "_arn", "_url")) or attribute in (
        "role", "cluster", "task_definition", "bucket", "repository", "roles", "subnets", "security_groups"))


def _region_from(resources: Any) -> str | None:
    """The region the resources live in: from their ARNs, else a subnet's availability zone."""
    for resource in resources:
        arn = resource.values.get("arn")
        if isinstance(arn, str) and arn.startswith("arn:"):
            parts = arn.split(":")
            if len(parts) > 3 and parts[3]:
                return parts[3]
    for resource in resources:
        zone = resource.values.get("availability_zone")
        if isinstance(zone, str) and zone[-1:].isalpha() and zone[-2:-1].isdigit():
            return zone[:-1]
    return None


def _text(value: Any) -> str:
    if isinstance(value, _Unknown) or value is None:
        return ""
    return str(value)


def _role_name(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.rsplit("/", 1)[-1]


def _json_or_marker(raw: Any) -> Any:
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return {UNRESOLVED: "an inline policy that is not JSON"}


def _sg_rules(rule: dict[str, Any]) -> list[dict[str, Any]]:
    protocol = str(rule.get("protocol", "-1"))
    base = {"protocol": protocol, "fromPort": rule.get("from_port"), "toPort": rule.get("to_port")}
    out = [dict(base, cidr=cidr) for cidr in rule.get("cidr_blocks") or []]
    out += [dict(base, groupId=group) for group in rule.get("security_groups") or []]
    out += [dict(base, prefixList=prefix) for prefix in rule.get("prefix_list_ids") or []]
    if rule.get("self"):
        out.append(dict(base, groupId="self"))
    return out


def _vpc_rule(values: dict[str, Any], referenced: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"protocol": str(values.get("ip_protocol", "-1")), "fromPort": values.get("from_port"),
                            "toPort": values.get("to_port")}
    if values.get("cidr_ipv4"):
        rule["cidr"] = values["cidr_ipv4"]
    elif referenced:
        rule["groupId"] = referenced
    elif values.get("prefix_list_id"):
        rule["prefixList"] = values["prefix_list_id"]
    return rule
