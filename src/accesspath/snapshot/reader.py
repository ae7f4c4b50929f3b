"""Read a live account with read-only calls into the native environment document.

Every call is a read (``Describe*``, ``List*``, ``Get*``; the policy in
``accesspath/data/snapshot-policy.json`` lists them and is checked by ``accesspath validate`` in the
tests). Paginated calls use botocore's paginators; throttling is retried with botocore's adaptive
mode. What cannot be read (a missing permission, a service not enabled) is recorded: a policy that
could not be read is written as an unresolved value, so the decisions that depend on it are
``undetermined`` and name what is missing, and the section of the account that could not be listed
is reported in ``notRead``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from accesspath.environment.native import FORMAT, UNRESOLVED, VERSION

_READ_ERRORS = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
                "UnrecognizedClientException", "OptInRequired", "AWSOrganizationsNotInUseException")


@dataclass
class SnapshotReport:
    """What was read, and what could not be (service, call, error)."""

    not_read: list[tuple[str, str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class _Progress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def step(self, text: str) -> None:
        if self.enabled:
            sys.stderr.write(f"\r\033[Kreading {text}...")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def take_snapshot(session: Any, region: str, *, progress: bool = False) -> tuple[dict[str, Any], SnapshotReport]:
    """The native environment document of ``session``'s account in ``region``."""
    from botocore.config import Config

    config = Config(region_name=region, retries={"mode": "adaptive", "max_attempts": 10})
    reader = _Reader(lambda service: session.client(service, config=config), region, _Progress(progress))
    try:
        return reader.read(), reader.report
    finally:
        reader.progress.done()


class _Reader:
    def __init__(self, client: Callable[[str], Any], region: str, progress: _Progress) -> None:
        self._client = client
        self._clients: dict[str, Any] = {}
        self.region = region
        self.progress = progress
        self.report = SnapshotReport()

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._client(service)
        return self._clients[service]

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any] | None:
        """One read; None (and a line in the report) when it is refused."""
        from botocore.exceptions import ClientError
        try:
            return getattr(self.client(service), operation)(**params)  # type: ignore[no-any-return]
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _READ_ERRORS or "AccessDenied" in code:
                self.report.not_read.append((service, operation, code))
                return None
            raise

    def pages(self, service: str, operation: str, key: str, **params: Any) -> Iterator[Any]:
        from botocore.exceptions import ClientError
        try:
            paginator = self.client(service).get_paginator(operation)
            for page in paginator.paginate(**params):
                yield from page.get(key) or []
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _READ_ERRORS or "AccessDenied" in code:
                self.report.not_read.append((service, operation, code))
                return
            raise

    # -- the document ----------------------------------------------------------------------------

    def read(self) -> dict[str, Any]:
        self.progress.step("the account")
        identity = self.call("sts", "get_caller_identity") or {}
        account = str(identity.get("Account") or "")
        partition = str(identity.get("Arn", "arn:aws:").split(":")[1] or "aws")
        document: dict[str, Any] = {
            FORMAT: VERSION, "account": account, "region": self.region, "partition": partition,
            "organizationId": None, "vpcs": [], "subnets": [], "routeTables": [], "securityGroups": [],
            "gateways": [], "vpcEndpoints": [], "roles": [], "instances": [], "taskDefinitions": [],
            "services": [], "resources": [], "serviceControlPolicies": None, "resourceControlPolicies": None,
            "notModelled": [],
        }
        self._network(document)
        profiles = self._identities(document)
        self._instances(document, profiles)
        self._ecs(document)
        self._resources(document, account, partition)
        self._organization(document, account)
        for key in ("vpcs", "subnets", "vpcEndpoints", "roles", "instances", "services", "resources"):
            self.report.counts[key] = len(document[key])
        return document

    def _network(self, document: dict[str, Any]) -> None:
        self.progress.step(f"the network of {self.region}")
        dhcp = {d["DhcpOptionsId"]: d for d in self.pages("ec2", "describe_dhcp_options", "DhcpOptions")}
        for vpc in self.pages("ec2", "describe_vpcs", "Vpcs"):
            vpc_id = vpc["VpcId"]
            support = self.call("ec2", "describe_vpc_attribute", VpcId=vpc_id, Attribute="enableDnsSupport") or {}
            hostnames = self.call("ec2", "describe_vpc_attribute", VpcId=vpc_id, Attribute="enableDnsHostnames") or {}
            entry: dict[str, Any] = {
                "id": vpc_id, "cidr": vpc.get("CidrBlock"),
                "dnsSupport": (support.get("EnableDnsSupport") or {}).get("Value", True),
                "dnsHostnames": (hostnames.get("EnableDnsHostnames") or {}).get("Value", False)}
            servers = _dns_servers(dhcp.get(vpc.get("DhcpOptionsId", "")))
            if servers:
                entry["dnsServers"] = servers
            document["vpcs"].append(entry)
        tables = list(self.pages("ec2", "describe_route_tables", "RouteTables"))
        associated: dict[str, str] = {}
        mains: dict[str, str] = {}
        for table in tables:
            for association in table.get("Associations") or []:
                if association.get("SubnetId"):
                    associated[association["SubnetId"]] = table["RouteTableId"]
                if association.get("Main"):
                    mains[table.get("VpcId", "")] = table["RouteTableId"]
            document["routeTables"].append({"id": table["RouteTableId"], "vpcId": table.get("VpcId"),
                                            "routes": [_route(r) for r in table.get("Routes") or []]})
        for subnet in self.pages("ec2", "describe_subnets", "Subnets"):
            document["subnets"].append({
                "id": subnet["SubnetId"], "vpcId": subnet.get("VpcId"), "cidr": subnet.get("CidrBlock"),
                # A subnet without an explicit association uses its VPC's main route table.
                "routeTableId": associated.get(subnet["SubnetId"]) or mains.get(subnet.get("VpcId", "")),
                "availabilityZone": subnet.get("AvailabilityZone"),
                "mapPublicIp": bool(subnet.get("MapPublicIpOnLaunch"))})
        for group in self.pages("ec2", "describe_security_groups", "SecurityGroups"):
            document["securityGroups"].append({
                "id": group["GroupId"], "vpcId": group.get("VpcId"),
                "ingress": [r for p in group.get("IpPermissions") or [] for r in _permission(p)],
                "egress": [r for p in group.get("IpPermissionsEgress") or [] for r in _permission(p)]})
        for gateway in self.pages("ec2", "describe_internet_gateways", "InternetGateways"):
            vpc_id = next((a.get("VpcId") for a in gateway.get("Attachments") or []), None)
            document["gateways"].append({"id": gateway["InternetGatewayId"], "kind": "igw", "vpcId": vpc_id,
                                         "subnetId": None})
        for gateway in self.pages("ec2", "describe_nat_gateways", "NatGateways"):
            if gateway.get("State") in ("deleted", "deleting", "failed"):
                continue
            document["gateways"].append({"id": gateway["NatGatewayId"], "kind": "nat", "vpcId": None,
                                         "subnetId": gateway.get("SubnetId")})
        for endpoint in self.pages("ec2", "describe_vpc_endpoints", "VpcEndpoints"):
            policy = endpoint.get("PolicyDocument")
            document["vpcEndpoints"].append({
                "id": endpoint["VpcEndpointId"], "vpcId": endpoint.get("VpcId"),
                "serviceName": endpoint.get("ServiceName"), "type": endpoint.get("VpcEndpointType", "Gateway"),
                "privateDns": bool(endpoint.get("PrivateDnsEnabled")),
                "subnetIds": list(endpoint.get("SubnetIds") or []),
                "securityGroupIds": [g.get("GroupId") for g in endpoint.get("Groups") or []],
                "routeTableIds": list(endpoint.get("RouteTableIds") or []),
                "policy": {"id": f"{endpoint['VpcEndpointId']} endpoint policy", "document": _document(policy)}
                if policy else None,
                "logicalId": None})

    def _identities(self, document: dict[str, Any]) -> dict[str, str]:
        """Roles (with their policies) from get-account-authorization-details; instance profile ARN -> role."""
        self.progress.step("IAM")
        managed: dict[str, Any] = {}
        roles: list[dict[str, Any]] = []
        profiles: dict[str, str] = {}
        for kind, key in (("LocalManagedPolicy", "Policies"), ("AWSManagedPolicy", "Policies"), ("Role", "RoleDetailList")):
            for item in self.pages("iam", "get_account_authorization_details", key, Filter=[kind]):
                if key == "Policies":
                    default = next((v for v in item.get("PolicyVersionList") or [] if v.get("IsDefaultVersion")), None)
                    if default is not None:
                        managed[item["Arn"]] = (item.get("PolicyName"), _document(default.get("Document")))
                else:
                    roles.append(item)
        for role in roles:
            entry: dict[str, Any] = {
                "name": role["RoleName"], "arn": role["Arn"],
                "trustPolicy": {"id": f"trust policy of {role['RoleName']}",
                                "document": _document(role.get("AssumeRolePolicyDocument"))},
                "policies": [{"id": f"{role['RoleName']} inline {p['PolicyName']}", "document": _document(p.get("PolicyDocument"))}
                             for p in role.get("RolePolicyList") or []],
                "permissionsBoundary": None, "managedPolicyArns": [], "unresolved": [], "logicalId": None}
            for attached in role.get("AttachedManagedPolicies") or []:
                arn = attached["PolicyArn"]
                entry["managedPolicyArns"].append(arn)
                found = managed.get(arn) or _bundled(arn)
                if found is not None:
                    entry["policies"].append({"id": f"managed policy {found[0]}", "document": found[1]})
                else:
                    entry["unresolved"].append(arn)
            boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            if boundary:
                found = managed.get(boundary) or _bundled(boundary)
                entry["permissionsBoundary"] = ({"id": f"permissions boundary {found[0]}", "document": found[1]}
                                                if found else {"id": f"permissions boundary {boundary}",
                                                               "document": {UNRESOLVED: f"the permissions boundary"
                                                                            f" {boundary} could not be read"}})
            for profile in role.get("InstanceProfileList") or []:
                profiles[profile["Arn"]] = role["RoleName"]
            document["roles"].append(entry)
        return profiles

    def _instances(self, document: dict[str, Any], profiles: dict[str, str]) -> None:
        self.progress.step(f"EC2 instances of {self.region}")
        for reservation in self.pages("ec2", "describe_instances", "Reservations"):
            for instance in reservation.get("Instances") or []:
                if (instance.get("State") or {}).get("Name") in ("terminated", "shutting-down"):
                    continue
                options = instance.get("MetadataOptions") or {}
                profile = (instance.get("IamInstanceProfile") or {}).get("Arn")
                document["instances"].append({
                    "id": instance["InstanceId"], "subnetId": instance.get("SubnetId"),
                    "securityGroupIds": [g.get("GroupId") for g in instance.get("SecurityGroups") or []],
                    "roleName": profiles.get(profile) if profile else None, "userData": None,
                    "httpTokens": options.get("HttpTokens"), "hopLimit": options.get("HttpPutResponseHopLimit"),
                    "publicIp": bool(instance.get("PublicIpAddress")), "logicalId": None})

    def _ecs(self, document: dict[str, Any]) -> None:
        self.progress.step(f"ECS in {self.region}")
        families: dict[str, dict[str, Any]] = {}
        for cluster_arn in self.pages("ecs", "list_clusters", "clusterArns"):
            service_arns = list(self.pages("ecs", "list_services", "serviceArns", cluster=cluster_arn))
            for start in range(0, len(service_arns), 10):
                described = self.call("ecs", "describe_services", cluster=cluster_arn,
                                      services=service_arns[start:start + 10]) or {}
                for service in described.get("services") or []:
                    network = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
                    task_arn = service.get("taskDefinition", "")
                    family = task_arn.rsplit("/", 1)[-1].split(":")[0]
                    if task_arn not in families:
                        families[task_arn] = self._task_definition(task_arn)
                    document["services"].append({
                        "name": service.get("serviceName"), "cluster": cluster_arn.rsplit("/", 1)[-1],
                        "taskDefinition": family, "launchType": service.get("launchType"),
                        "platformVersion": service.get("platformVersion"),
                        "subnetIds": list(network.get("subnets") or []),
                        "securityGroupIds": list(network.get("securityGroups") or []),
                        "assignPublicIp": network.get("assignPublicIp") == "ENABLED",
                        "enableExecuteCommand": bool(service.get("enableExecuteCommand")), "logicalId": None,
                        "capacityProviders": [s.get("capacityProvider") for s in service.get("capacityProviderStrategy") or []]})
        document["taskDefinitions"] = [t for t in families.values() if t]

    def _task_definition(self, arn: str) -> dict[str, Any]:
        found = (self.call("ecs", "describe_task_definition", taskDefinition=arn) or {}).get("taskDefinition")
        if not found:
            return {}
        return {
            "family": found.get("family"), "arn": found.get("taskDefinitionArn"),
            "taskRoleName": _role_name(found.get("taskRoleArn")),
            "executionRoleName": _role_name(found.get("executionRoleArn")),
            "networkMode": found.get("networkMode"), "compatibilities": list(found.get("requiresCompatibilities") or []),
            "logicalId": None,
            "containers": [{"name": c.get("name"), "image": c.get("image"),
                            "logDriver": (c.get("logConfiguration") or {}).get("logDriver"),
                            "logOptions": (c.get("logConfiguration") or {}).get("options") or {},
                            "secrets": {s.get("name"): s.get("valueFrom") for s in c.get("secrets") or []}}
                           for c in found.get("containerDefinitions") or []]}

    def _resources(self, document: dict[str, Any], account: str, partition: str) -> None:
        from botocore.exceptions import ClientError
        self.progress.step("resource policies")
        holders = document["resources"]
        buckets = self.call("s3", "list_buckets") or {}
        for bucket in buckets.get("Buckets") or []:
            name = bucket["Name"]
            try:
                policy = self.client("s3").get_bucket_policy(Bucket=name).get("Policy")
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                policy = None if code == "NoSuchBucketPolicy" else _unreadable(f"the policy of bucket {name}", code)
            holders.append({"kind": "s3-bucket", "arn": f"arn:{partition}:s3:::{name}", "name": name,
                            "policy": _entry(f"bucket policy of {name}", policy), "logicalId": None})
        for key in self.pages("kms", "list_keys", "Keys"):
            key_id = key["KeyId"]
            described = (self.call("kms", "describe_key", KeyId=key_id) or {}).get("KeyMetadata") or {}
            if described.get("KeyManager") == "AWS":
                continue
            try:
                policy = self.client("kms").get_key_policy(KeyId=key_id, PolicyName="default").get("Policy")
            except ClientError as error:
                policy = _unreadable(f"the key policy of {key_id}", error.response.get("Error", {}).get("Code", ""))
            holders.append({"kind": "kms-key", "arn": key["KeyArn"], "name": key_id,
                            "policy": _entry(f"key policy of {key_id}", policy), "logicalId": None})
        for url in self.pages("sqs", "list_queues", "QueueUrls"):
            attributes = (self.call("sqs", "get_queue_attributes", QueueUrl=url,
                                    AttributeNames=["QueueArn", "Policy"]) or {}).get("Attributes") or {}
            arn = attributes.get("QueueArn") or f"arn:{partition}:sqs:{self.region}:{account}:{url.rsplit('/', 1)[-1]}"
            holders.append({"kind": "sqs-queue", "arn": arn, "name": unquote(url.rsplit("/", 1)[-1]),
                            "policy": _entry(f"queue policy of {arn}", attributes.get("Policy")), "logicalId": None})
        for secret in self.pages("secretsmanager", "list_secrets", "SecretList"):
            found = self.call("secretsmanager", "get_resource_policy", SecretId=secret["ARN"])
            policy = found.get("ResourcePolicy") if found is not None else _unreadable(
                f"the resource policy of secret {secret['Name']}", "AccessDenied")
            entry: dict[str, Any] = {"kind": "secret", "arn": secret["ARN"], "name": secret.get("Name"),
                                     "policy": _entry(f"secret policy of {secret['Name']}", policy), "logicalId": None}
            if secret.get("KmsKeyId"):
                entry["kmsKeyId"] = secret["KmsKeyId"]
            holders.append(entry)
        for repository in self.pages("ecr", "describe_repositories", "repositories"):
            try:
                policy = self.client("ecr").get_repository_policy(
                    repositoryName=repository["repositoryName"]).get("policyText")
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                policy = None if code == "RepositoryPolicyNotFoundException" else _unreadable(
                    f"the policy of repository {repository['repositoryName']}", code)
            holders.append({"kind": "ecr-repository", "arn": repository["repositoryArn"],
                            "name": repository["repositoryName"],
                            "policy": _entry(f"repository policy of {repository['repositoryName']}", policy),
                            "logicalId": None})
        for group in self.pages("logs", "describe_log_groups", "logGroups"):
            arn = str(group.get("arn", "")).removesuffix(":*")
            holders.append({"kind": "log-group", "arn": arn, "name": group.get("logGroupName"), "policy": None,
                            "logicalId": None})

    def _organization(self, document: dict[str, Any], account: str) -> None:
        """The organization id, and the SCPs on the account's path from the root when readable."""
        self.progress.step("the organization")
        organization = (self.call("organizations", "describe_organization") or {}).get("Organization")
        if not organization:
            return
        document["organizationId"] = organization.get("Id")
        levels: list[list[dict[str, Any]]] = []
        target = account
        chain = [account]
        for _ in range(10):  # at most five levels of OUs below the root
            parents = (self.call("organizations", "list_parents", ChildId=target) or {}).get("Parents") or []
            if not parents:
                break
            target = parents[0]["Id"]
            chain.append(target)
            if parents[0].get("Type") == "ROOT":
                break
        if len(chain) < 2:
            return
        for target in reversed(chain):
            level = []
            for summary in self.pages("organizations", "list_policies_for_target", "Policies", TargetId=target,
                                      Filter="SERVICE_CONTROL_POLICY"):
                found = (self.call("organizations", "describe_policy", PolicyId=summary["Id"]) or {}).get("Policy") or {}
                content = found.get("Content")
                level.append({"id": f"SCP {summary.get('Name')} ({summary['Id']}) on {target}",
                              "document": _document(content) if content else {UNRESOLVED: f"SCP {summary['Id']}"
                                                                                          " could not be read"}})
            levels.append(level)
        if all(levels):
            document["serviceControlPolicies"] = levels


def _document(value: Any) -> Any:
    """A policy document as IAM returns it: an object, or URL-encoded / plain JSON text."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        return {UNRESOLVED: "a policy document that is not JSON"}
    for text in (value, unquote(value)):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            continue
    return {UNRESOLVED: "a policy document that is not JSON"}


def _entry(policy_id: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"id": policy_id, "document": value if isinstance(value, dict) and UNRESOLVED in value else _document(value)}


def _unreadable(what: str, code: str) -> dict[str, str]:
    return {UNRESOLVED: f"{what} could not be read ({code or 'error'}; see docs/snapshot.md for the permissions)"}


def _bundled(arn: str) -> tuple[str, Any] | None:
    from accesspath.catalog.managed_policies import bundled_managed_policies
    entry = bundled_managed_policies().entry(arn)
    return (entry.name, entry.document) if entry is not None else None


def _role_name(arn: Any) -> str | None:
    return arn.rsplit("/", 1)[-1] if isinstance(arn, str) and arn else None


def _dns_servers(options: dict[str, Any] | None) -> list[str]:
    if not options:
        return []
    for configuration in options.get("DhcpConfigurations") or []:
        if configuration.get("Key") == "domain-name-servers":
            servers = [v.get("Value") for v in configuration.get("Values") or []]
            return [] if servers == ["AmazonProvidedDNS"] else [s for s in servers if s]
    return []


def _route(route: dict[str, Any]) -> dict[str, Any]:
    destination = route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock") or route.get(
        "DestinationPrefixListId") or ""
    gateway = route.get("GatewayId") or ""
    if gateway == "local":
        return {"destination": destination, "target": "local", "targetId": None}
    if route.get("NatGatewayId"):
        return {"destination": destination, "target": "nat", "targetId": route["NatGatewayId"]}
    if gateway.startswith("igw-"):
        return {"destination": destination, "target": "igw", "targetId": gateway}
    if gateway.startswith("vpce-"):
        return {"destination": destination, "target": "vpce", "targetId": gateway}
    return {"destination": destination, "target": "other", "targetId": gateway or None}


def _permission(permission: dict[str, Any]) -> list[dict[str, Any]]:
    base = {"protocol": str(permission.get("IpProtocol", "-1")), "fromPort": permission.get("FromPort"),
            "toPort": permission.get("ToPort")}
    rules = [dict(base, cidr=r["CidrIp"]) for r in permission.get("IpRanges") or [] if r.get("CidrIp")]
    rules += [dict(base, cidr=r["CidrIpv6"]) for r in permission.get("Ipv6Ranges") or [] if r.get("CidrIpv6")]
    rules += [dict(base, groupId=g["GroupId"]) for g in permission.get("UserIdGroupPairs") or [] if g.get("GroupId")]
    rules += [dict(base, prefixList=p["PrefixListId"]) for p in permission.get("PrefixListIds") or []
              if p.get("PrefixListId")]
    return rules
