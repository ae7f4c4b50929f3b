"""CloudFormation snippets for the generated policies.

The identity policy is an ``AWS::IAM::Policy`` resource attached to the role as seed 003 attaches
its task-role policies: ``Roles: [!Ref RoleLogicalId]`` when the templates declare the role, else
``Roles: [ROLE_NAME]``. The endpoint policy is the ``PolicyDocument`` property of the
``AWS::EC2::VPCEndpoint``, naming the role as ``!GetAtt RoleLogicalId.Arn`` when it is declared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from accesspath.generate.policies import EndpointPolicy, IdentityPolicy, pascal_case


@dataclass(frozen=True, slots=True)
class Ref:
    logical_id: str


@dataclass(frozen=True, slots=True)
class GetAtt:
    logical_id: str
    attribute: str


_QUOTED_TAG = re.compile(r"(!Ref|!GetAtt) '([A-Za-z0-9]+(?:\.[A-Za-z0-9]+)?)'")


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as CloudFormation templates are usually written.
        return super().increase_indent(flow, False)


_Dumper.add_representer(Ref, lambda dumper, value: dumper.represent_scalar("!Ref", value.logical_id))
_Dumper.add_representer(GetAtt, lambda dumper, value: dumper.represent_scalar(
    "!GetAtt", f"{value.logical_id}.{value.attribute}"))


def dump_yaml(value: Any) -> str:
    text: str = yaml.dump(value, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096,
                          allow_unicode=True)
    # PyYAML quotes every tagged scalar; logical ids are alphanumeric, so the plain form is the same value.
    return _QUOTED_TAG.sub(r"\1 \2", text)


def identity_policy_logical_id(policy: IdentityPolicy) -> str:
    return f"{pascal_case(policy.role.logical_id or policy.role.name)}GeneratedPolicy"


def identity_policy_resource(policy: IdentityPolicy) -> dict[str, Any]:
    """``{LogicalId: {Type: AWS::IAM::Policy, Properties: ...}}`` for the template's ``Resources``."""
    role: Ref | str = Ref(policy.role.logical_id) if policy.role.logical_id else policy.role.name
    return {identity_policy_logical_id(policy): {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": policy.name,
            "PolicyDocument": policy.document(),
            "Roles": [role],
        },
    }}


def identity_policy_snippet(policy: IdentityPolicy) -> str:
    header = (f"# accesspath policy generate: least privilege for role {policy.role.name}, from"
              f" {len(policy.requests)} observed requests.\n"
              "# Paste under Resources; it replaces the role's other policies only when you remove them.\n")
    return header + dump_yaml(identity_policy_resource(policy))


def endpoint_policy_property(policy: EndpointPolicy, role_logical_ids: Mapping[str, str]) -> dict[str, Any]:
    """``{PolicyDocument: ...}``; principals the templates declare are ``!GetAtt Role.Arn``."""
    document = policy.document()
    for statement in document["Statement"]:
        principal = statement.get("Principal")
        if principal is not None:
            principal["AWS"] = [GetAtt(role_logical_ids[arn], "Arn") if arn in role_logical_ids else arn
                                for arn in principal["AWS"]]
    return {"PolicyDocument": document}


def endpoint_policy_snippet(policy: EndpointPolicy, role_logical_ids: Mapping[str, str]) -> str:
    target = f"{policy.logical_id} ({policy.endpoint_id})" if policy.logical_id else policy.endpoint_id
    service = f", {policy.service_name}" if policy.service_name else ""
    header = (f"# accesspath policy generate: the PolicyDocument property of the AWS::EC2::VPCEndpoint"
              f" {target}{service},\n# from {len(policy.requests)} observed requests.\n")
    return header + dump_yaml(endpoint_policy_property(policy, role_logical_ids))
