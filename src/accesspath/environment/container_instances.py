"""ECS container instances from templates: which cluster each joins, where it sits, which role it has.

Container instances are EC2 instances whose ECS agent registers with a cluster. Templates build them
from ``AWS::AutoScaling::AutoScalingGroup`` (with a ``LaunchConfiguration`` or a ``LaunchTemplate``,
also through ``MixedInstancesPolicy``), ``AWS::EC2::SpotFleet`` and plain ``AWS::EC2::Instance``;
an ``AWS::ECS::CapacityProvider`` names the Auto Scaling group a cluster scales. One
:class:`Instance` stands for every instance a group launches (they share the configuration).

What the agent does comes from the boot configuration: the user data (decoded from ``Fn::Base64``)
and, when the user data runs ``cfn-init``, the files and commands of the resource's
``AWS::CloudFormation::Init`` metadata. Sources:
- ECS developer guide, "Amazon ECS container agent configuration": ``ECS_CLUSTER`` in
  ``/etc/ecs/ecs.config`` names the cluster; without it the agent registers with ``default``;
  ``ECS_AWSVPC_BLOCK_IMDS``, ``ECS_ENABLE_TASK_IAM_ROLE``, ``ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST``;
- ECS developer guide, "Task IAM role", additional configuration for EC2 instances (seed 002):
  ``iptables --insert DOCKER-USER 1 --in-interface docker+ --destination 169.254.169.254/32 --jump DROP``;
- CloudFormation user guide, ``AWS::EC2::LaunchTemplate`` / ``AWS::AutoScaling::LaunchConfiguration``
  (``MetadataOptions``, ``AssociatePublicIpAddress``), EC2 user guide "Instance IP addressing" (an
  instance gets a public address when its subnet's ``MapPublicIpOnLaunch`` is on, unless its network
  interface says otherwise).
What cannot be read (a script fetched at boot, an unresolved value) is recorded in
``Instance.unread`` and makes what depends on it undetermined; it is never assumed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from accesspath.cfn.model import Resource, Symbolic
from accesspath.environment.model import Instance, Subnet
from accesspath.policy import Node

if TYPE_CHECKING:
    from accesspath.environment.from_templates import _Builder

ECS_INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
IMDS_ADDRESS = "169.254.169.254"

_AGENT_SETTING = re.compile(r"\b(ECS_[A-Z0-9_]+)\s*=\s*[\"']?([^\s\"'>|;&]*)")
# Boot steps that fetch and run configuration accesspath cannot see.
_FETCHED = re.compile(r"(curl|wget)\s[^\n]*\|\s*(sudo\s+)?(ba)?sh\b|aws\s+s3\s+cp\s+s3://|"
                      r"(curl|wget)\s[^\n]*(-o|-O|--output)\s|aws\s+ssm\s+get-parameter|"
                      r"amazon-linux-extras\s+install\s+ansible|ansible-pull")


@dataclass(frozen=True, slots=True)
class BootConfiguration:
    """What an instance's boot configuration tells the ECS agent and the host's firewall."""

    text: str
    cluster: str | None                   # from ECS_CLUSTER; None when it is not set (or not readable)
    agent_config: tuple[tuple[str, str], ...]
    imds_iptables_block: bool
    unread: tuple[str, ...]
    mentions_ecs: bool                    # the configuration configures an ECS agent


def read_boot_configuration(user_data: Node | None, cfn_init: Node | None, label: str) -> BootConfiguration:
    """Read the user data (and the cfn-init metadata it runs) of ``label``."""
    unread: list[str] = []
    text = ""
    if user_data is not None:
        if isinstance(user_data.value, Symbolic):
            unread.append(f"the user data of {label} could not be resolved ({user_data.value.reason})")
        elif isinstance(user_data.value, str):
            text = decoded_user_data(user_data.value)
    if "cfn-init" in text:
        if cfn_init is not None:
            text += "\n" + "\n".join(_init_texts(cfn_init))
        else:
            unread.append(f"the user data of {label} runs cfn-init, whose configuration is not in the templates")
    fetched = _FETCHED.search(text)
    if fetched:
        unread.append(f"the user data of {label} fetches and runs configuration at boot ('{fetched.group(0).strip()}'),"
                      " which accesspath cannot read")
    settings: list[tuple[str, str]] = []
    for match in _AGENT_SETTING.finditer(text):
        settings.append((match.group(1), match.group(2)))
    cluster = None
    for key, value in settings:
        if key == "ECS_CLUSTER":
            if "$" in value or not value:
                unread.append(f"the user data of {label} sets ECS_CLUSTER from a shell value ('{value}')")
                cluster = None
            else:
                cluster = value
    mentions = "ECS_" in text or "/etc/ecs/" in text or "ecs-init" in text or "ecs.service" in text
    return BootConfiguration(text, cluster, tuple(settings), has_imds_iptables_block(text), tuple(unread), mentions)


def _init_texts(node: Node) -> Iterable[str]:
    """The contents of files and the commands of every config set of cfn-init metadata."""
    if not node.is_object:
        return
    for config in node.value:
        if config.key == "configSets" or not config.value.is_object:
            continue
        files, commands = config.value.member("files"), config.value.member("commands")
        for entry in files.value if files is not None and files.is_object else ():
            content = entry.value.member("content") if entry.value.is_object else None
            if content is not None and isinstance(content.value, str):
                # A file's content is what it holds: /etc/ecs/ecs.config lines are read as agent settings.
                yield content.value
        for entry in commands.value if commands is not None and commands.is_object else ():
            command = entry.value.member("command") if entry.value.is_object else None
            if command is not None and isinstance(command.value, str):
                yield command.value
            elif command is not None and command.is_array:
                yield " ".join(str(part.value) for part in command.value if isinstance(part.value, str))


def has_imds_iptables_block(text: str) -> bool:
    """A DROP of container (docker+) traffic to the instance metadata address, as seed 002 gives it."""
    for line in text.splitlines():
        lowered = line.lower()
        if ("iptables" in lowered and IMDS_ADDRESS in line and "drop" in lowered
                and ("docker" in lowered) and ("-i " in lowered or "--in-interface" in lowered)):
            return True
    return False


def decoded_user_data(user_data: str | None) -> str:
    """User data as text: CloudFormation's Fn::Base64 is decoded; plain text (native files) is kept."""
    if not user_data:
        return ""
    compact = "".join(user_data.split())
    try:
        return base64.b64decode(compact, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return user_data


def synthetic_instance_id(resource: Resource) -> str:
    """A stable instance id standing for the instances a group launches (the role session's name)."""
    return "i-" + hashlib.sha256(f"{resource.stack}/{resource.logical_id}".encode()).hexdigest()[:17]


@dataclass(frozen=True, slots=True)
class _LaunchSettings:
    """The instance settings a launch configuration or launch template gives."""

    user_data: Node | None = None
    cfn_init: Node | None = None
    profile: str | None = None
    security_group_ids: tuple[str, ...] = ()
    public_ip: str | None = None          # "true"/"false" when set
    subnet_id: str | None = None
    http_tokens: str | None = None
    hop_limit: str | None = None
    http_endpoint: str | None = None
    label: str = ""
    unread: tuple[str, ...] = ()


def build_instances(builder: _Builder, by_type: dict[str, list[Resource]], subnets: dict[str, Subnet],
                    profiles: dict[str, str], managed_policies: dict[str, tuple[str, ...]]) -> dict[str, Instance]:
    """Every instance and group of instances of the templates, as :class:`Instance` objects."""
    reader = _Reader(builder, by_type, subnets, profiles, managed_policies)
    return reader.instances()


class _Reader:
    def __init__(self, builder: _Builder, by_type: dict[str, list[Resource]], subnets: dict[str, Subnet],
                 profiles: dict[str, str], managed_policies: dict[str, tuple[str, ...]]) -> None:
        self.b = builder
        self.by_type = by_type
        self.subnets = subnets
        self.profiles = profiles
        self.managed_policies = managed_policies   # role name -> managed policy ARNs
        self.providers: dict[str, list[str]] = {}  # Auto Scaling group name -> capacity provider names
        for r in by_type.get("AWS::ECS::CapacityProvider", []):
            provider = builder.member(r.property("AutoScalingGroupProvider"), "AutoScalingGroupArn")
            group = _scalar(provider)
            if group:
                # The provider names the group by name or ARN (…:autoScalingGroupName/NAME).
                name = group.rsplit("autoScalingGroupName/", 1)[-1]
                self.providers.setdefault(name, []).append(builder.physical(r))

    # -- launch settings ----------------------------------------------------------------------

    def launch_configuration(self, ref: str) -> _LaunchSettings | None:
        r = next((r for r in self.by_type.get("AWS::AutoScaling::LaunchConfiguration", [])
                  if ref in (self.b.physical(r), r.logical_id)), None)
        if r is None:
            return None
        metadata = r.property("MetadataOptions")
        return _LaunchSettings(
            r.property("UserData"), r.cfn_init, _scalar(r.property("IamInstanceProfile")),
            self.b.texts(r, "SecurityGroups"), _scalar(r.property("AssociatePublicIpAddress")), None,
            self.b.member_text(metadata, "HttpTokens"), self.b.member_text(metadata, "HttpPutResponseHopLimit"),
            self.b.member_text(metadata, "HttpEndpoint"), f"launch configuration {r.logical_id}")

    def launch_template(self, spec: Node | None, label: str) -> _LaunchSettings | None:
        """The launch template a LaunchTemplateSpecification names (by id or name); only its data as
        declared (a template versioned outside the templates is read as declared)."""
        if spec is None:
            return None
        ref = self.b.member_text(spec, "LaunchTemplateId") or self.b.member_text(spec, "LaunchTemplateName")
        if ref is None:
            return _LaunchSettings(label=label, unread=(f"the launch template of {label} could not be resolved",))
        for r in self.by_type.get("AWS::EC2::LaunchTemplate", []):
            names = {self.b.physical(r), r.logical_id, self.b.text(r, "LaunchTemplateName") or ""}
            if ref in names:
                return self._template_data(r)
        return _LaunchSettings(label=label, unread=(f"the launch template '{ref}' of {label} is not in the templates",))

    def _template_data(self, r: Resource) -> _LaunchSettings:
        b = self.b
        data = r.property("LaunchTemplateData")
        metadata = b.member(data, "MetadataOptions")
        profile_node = b.member(data, "IamInstanceProfile")
        profile = _scalar(b.member(profile_node, "Arn")) or _scalar(b.member(profile_node, "Name"))
        interfaces = b.member(data, "NetworkInterfaces")
        first = interfaces.value[0] if interfaces is not None and interfaces.is_array and interfaces.value else None
        groups = b.texts_of(b.member(data, "SecurityGroupIds"), f"{r.logical_id}.SecurityGroupIds", r) or \
            b.texts_of(b.member(first, "Groups"), f"{r.logical_id}.NetworkInterfaces.Groups", r) or \
            b.texts_of(b.member(data, "SecurityGroups"), f"{r.logical_id}.SecurityGroups", r)
        return _LaunchSettings(
            b.member(data, "UserData"), r.cfn_init, profile, groups, _scalar(b.member(first, "AssociatePublicIpAddress")),
            _scalar(b.member(first, "SubnetId")), b.member_text(metadata, "HttpTokens"),
            b.member_text(metadata, "HttpPutResponseHopLimit"), b.member_text(metadata, "HttpEndpoint"),
            f"launch template {r.logical_id}")

    # -- instances --------------------------------------------------------------------------------

    def instances(self) -> dict[str, Instance]:
        out: dict[str, Instance] = {}
        for r in self.by_type.get("AWS::EC2::Instance", []):
            instance = self._ec2_instance(r)
            out[instance.id] = instance
        for r in self.by_type.get("AWS::AutoScaling::AutoScalingGroup", []):
            instance = self._auto_scaling_group(r)
            out[instance.id] = instance
        for r in self.by_type.get("AWS::EC2::SpotFleet", []):
            instance = self._spot_fleet(r)
            out[instance.id] = instance
        return out

    def _ec2_instance(self, r: Resource) -> Instance:
        b = self.b
        base = self.launch_template(r.property("LaunchTemplate"), f"instance {r.logical_id}") or _LaunchSettings()
        interfaces = r.property("NetworkInterfaces")
        first = interfaces.value[0] if interfaces is not None and interfaces.is_array and interfaces.value else None
        metadata = r.property("MetadataOptions")
        own = _LaunchSettings(
            r.property("UserData"), r.cfn_init, _scalar(r.property("IamInstanceProfile")),
            b.texts(r, "SecurityGroupIds") or b.texts_of(b.member(first, "GroupSet"), f"{r.logical_id}.GroupSet", r),
            _scalar(b.member(first, "AssociatePublicIpAddress")),
            b.text(r, "SubnetId") or b.member_text(first, "SubnetId"), b.member_text(metadata, "HttpTokens"),
            b.member_text(metadata, "HttpPutResponseHopLimit"), b.member_text(metadata, "HttpEndpoint"),
            f"instance {r.logical_id}")
        settings = _merged(own, base)
        subnet_ids = (settings.subnet_id,) if settings.subnet_id else ()
        return self._instance(b.physical(r), r, settings, subnet_ids, "instance")

    def _auto_scaling_group(self, r: Resource) -> Instance:
        b = self.b
        label = f"Auto Scaling group {r.logical_id}"
        settings: _LaunchSettings | None = None
        configuration = b.text(r, "LaunchConfigurationName")
        if configuration:
            settings = self.launch_configuration(configuration) or _LaunchSettings(
                label=label, unread=(f"the launch configuration '{configuration}' of {label} is not in the templates",))
        elif r.property("LaunchTemplate") is not None:
            settings = self.launch_template(r.property("LaunchTemplate"), label)
        else:
            mixed = b.member(b.member(r.property("MixedInstancesPolicy"), "LaunchTemplate"),
                             "LaunchTemplateSpecification")
            settings = self.launch_template(mixed, label)
        if settings is None:
            settings = _LaunchSettings(label=label, unread=(f"{label} names no launch configuration or template"
                                                            " accesspath can read",))
        subnet_ids = b.texts(r, "VPCZoneIdentifier")
        return self._instance(synthetic_instance_id(r), r, settings, subnet_ids, "auto-scaling-group",
                              tuple(self.providers.get(b.physical(r), ())))

    def _spot_fleet(self, r: Resource) -> Instance:
        b = self.b
        label = f"spot fleet {r.logical_id}"
        config = r.property("SpotFleetRequestConfigData")
        specs = b.member(config, "LaunchSpecifications")
        settings: _LaunchSettings | None = None
        subnet_ids: tuple[str, ...] = ()
        if specs is not None and specs.is_array and specs.value:
            spec = specs.value[0]
            metadata = b.member(spec, "MetadataOptions")
            group_nodes = b.member(spec, "SecurityGroups")
            groups = tuple(g for g in (_scalar(b.member(item, "GroupId")) for item in (
                group_nodes.value if group_nodes is not None and group_nodes.is_array else ())) if g)
            subnet_text = _scalar(b.member(spec, "SubnetId"))
            subnet_ids = tuple(s.strip() for s in subnet_text.split(",")) if subnet_text else ()
            settings = _LaunchSettings(
                b.member(spec, "UserData"), r.cfn_init, _scalar(b.member(b.member(spec, "IamInstanceProfile"), "Arn")),
                groups, None, None, b.member_text(metadata, "HttpTokens"),
                b.member_text(metadata, "HttpPutResponseHopLimit"), b.member_text(metadata, "HttpEndpoint"), label)
        else:
            configs = b.member(config, "LaunchTemplateConfigs")
            first = configs.value[0] if configs is not None and configs.is_array and configs.value else None
            settings = self.launch_template(b.member(first, "LaunchTemplateSpecification"), label)
            overrides = b.member(first, "Overrides")
            subnet_ids = tuple(s for s in (_scalar(b.member(o, "SubnetId")) for o in (
                overrides.value if overrides is not None and overrides.is_array else ())) if s)
        if settings is None:
            settings = _LaunchSettings(label=label, unread=(f"{label} has no launch specification accesspath can read",))
        return self._instance(synthetic_instance_id(r), r, settings, subnet_ids, "spot-fleet")

    def _instance(self, instance_id: str, r: Resource, settings: _LaunchSettings, subnet_ids: tuple[str, ...],
                  source: str, capacity_providers: tuple[str, ...] = ()) -> Instance:
        label = settings.label or f"{source} {r.logical_id}"
        boot = read_boot_configuration(settings.user_data, settings.cfn_init, label)
        unread = list(settings.unread) + list(boot.unread)
        role_name = None
        if settings.profile:
            role_name = self.profiles.get(settings.profile) or self.profiles.get(settings.profile.rsplit("/", 1)[-1])
            if role_name is None:
                unread.append(f"the instance profile '{settings.profile}' of {label} is not in the templates")
        subnet_id = subnet_ids[0] if subnet_ids else None
        subnet = self.subnets.get(subnet_id or "")
        # The network interface's AssociatePublicIpAddress wins over the subnet's MapPublicIpOnLaunch.
        public_ip = (settings.public_ip == "true") if settings.public_ip is not None else bool(
            subnet and subnet.map_public_ip)
        ecs_role = role_name is not None and ECS_INSTANCE_POLICY in self.managed_policies.get(role_name, ())
        is_container_instance = boot.mentions_ecs or bool(capacity_providers) or ecs_role
        cluster = None
        if is_container_instance:
            # Without ECS_CLUSTER the agent registers with the cluster named "default" — unless the setting
            # may come from what could not be read.
            cluster = boot.cluster or (None if boot.unread or settings.unread else "default")
        hop = settings.hop_limit
        user_data = settings.user_data.value if settings.user_data is not None and isinstance(
            settings.user_data.value, str) else None
        return Instance(
            instance_id, subnet_id, settings.security_group_ids, role_name, user_data, settings.http_tokens,
            int(hop) if hop and hop.isdigit() else None, public_ip, r.logical_id, r.position,
            source=source, subnet_ids=subnet_ids, cluster=cluster, http_endpoint=settings.http_endpoint,
            agent_config=boot.agent_config, imds_iptables_block=boot.imds_iptables_block,
            capacity_providers=capacity_providers, unread=tuple(unread))


def _merged(own: _LaunchSettings, base: _LaunchSettings) -> _LaunchSettings:
    """An instance's own properties override those of its launch template."""
    return _LaunchSettings(
        own.user_data if own.user_data is not None else base.user_data,
        own.cfn_init if own.user_data is not None else (base.cfn_init or own.cfn_init),
        own.profile or base.profile, own.security_group_ids or base.security_group_ids,
        own.public_ip if own.public_ip is not None else base.public_ip, own.subnet_id or base.subnet_id,
        own.http_tokens or base.http_tokens, own.hop_limit or base.hop_limit, own.http_endpoint or base.http_endpoint,
        own.label, own.unread + base.unread)


def _scalar(node: Node | None) -> str | None:
    if node is None or isinstance(node.value, Symbolic) or node.is_array or node.is_object or node.value is None:
        return None
    value = node.value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def default_capacity_providers(builder: _Builder, by_type: dict[str, list[Resource]]) -> dict[str, tuple[str, ...]]:
    """Each cluster's default capacity provider strategy (cluster name -> provider names)."""
    out: dict[str, tuple[str, ...]] = {}
    for r in by_type.get("AWS::ECS::Cluster", []):
        names = _strategy(builder, r.property("DefaultCapacityProviderStrategy"))
        if names:
            out[builder.physical(r)] = names
    for r in by_type.get("AWS::ECS::ClusterCapacityProviderAssociations", []):
        cluster = builder.text(r, "Cluster")
        names = _strategy(builder, r.property("DefaultCapacityProviderStrategy"))
        if cluster and names:
            out[cluster.rsplit("/", 1)[-1]] = names
    return out


def _strategy(builder: _Builder, node: Node | None) -> tuple[str, ...]:
    if node is None or not node.is_array:
        return ()
    return tuple(name for name in (_scalar(builder.member(item, "CapacityProvider")) for item in node.value) if name)


def service_capacity_providers(builder: _Builder, r: Resource, cluster: str,
                               defaults: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The capacity providers a service's tasks are placed with: its own strategy, or, without a launch
    type, its cluster's default strategy (ECS developer guide, "Amazon ECS capacity providers")."""
    own = _strategy(builder, r.property("CapacityProviderStrategy"))
    if own:
        return own
    if builder.text(r, "LaunchType"):
        return ()
    return defaults.get(cluster.rsplit("/", 1)[-1], ())


def service_cluster(builder: _Builder, r: Resource) -> str:
    """A service's cluster name: ``default`` when it names none (CreateService's default), ``""`` when the
    templates name one accesspath cannot resolve (an import of a stack that is not loaded)."""
    node = r.property("Cluster")
    if node is None:
        return "default"
    text = builder.text(r, "Cluster")
    return text if text is not None else ""
