"""Which VPC endpoint service an AWS API call goes through, by host name, service prefix or action.

The table is ``accesspath/data/endpoint_services.json`` (sources cited there). It can be
overridden, region by region, with the JSON that ``aws ec2 describe-vpc-endpoint-services``
prints: that output is what the account really sees (types, endpoint policy support, private DNS
names), so it wins over our table.
(https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html,
"View available AWS service names")
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

from accesspath.errors import UsageError

# AWS-owned service names: com.amazonaws.REGION.NAME, and the shapes some services use instead
# (aws.api.REGION.NAME, aws.sagemaker.REGION.NAME); a partner's or an account's own endpoint service
# (com.amazonaws.vpce.REGION.vpce-svc-...) is not AWS's.
_SERVICE_NAME = re.compile(r"^(?P<head>com\.amazonaws|aws\.[a-z0-9-]+)\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)"
                           r"\.(?P<id>[a-z0-9][a-z0-9.-]*)$")


def dns_suffix(region: str) -> str:
    """The DNS suffix of a region's partition (China regions use amazonaws.com.cn)."""
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


@dataclass(frozen=True)
class EndpointService:
    """One AWS endpoint service, e.g. ``com.amazonaws.{region}.ecr.dkr``.

    ``endpoint_policy_supported`` is None when no source says; callers must treat None as
    "unknown", never as "no policy applies".
    """

    id: str
    service_name_pattern: str
    types: tuple[str, ...]
    endpoint_policy_supported: bool | None
    iam_prefixes: tuple[str, ...]
    iam_actions: tuple[str, ...]
    excluded_actions: tuple[str, ...]
    private_dns_patterns: tuple[str, ...]
    note: str
    sources: tuple[str, ...]
    region: str | None = None
    """Set when the entry comes from describe-vpc-endpoint-services output for one region."""
    general: bool = False
    """Not in the curated table: derived by the general rule (:func:`general_endpoint_service`)."""

    def service_name(self, region: str) -> str:
        return self.service_name_pattern.replace("{region}", region)

    def private_dns_names(self, region: str) -> tuple[str, ...]:
        return tuple(p.replace("{region}", region).replace("{dns_suffix}", dns_suffix(region))
                     for p in self.private_dns_patterns)

    def answers_for_host(self, host: str, region: str) -> bool:
        """Whether the endpoint's private DNS answers for ``host`` (``*`` stands within one label)."""
        host = host.lower().rstrip(".")
        return any(_host_regex(name).fullmatch(host) for name in self.private_dns_names(region))

    def carries_action(self, action: str) -> bool:
        """Whether a call of ``service:Action`` goes through this endpoint service."""
        prefix = action.partition(":")[0].lower()
        lowered = action.lower()
        if self.iam_actions:
            return lowered in {a.lower() for a in self.iam_actions}
        return prefix in self.iam_prefixes and lowered not in {a.lower() for a in self.excluded_actions}


@functools.lru_cache(maxsize=256)
def _host_regex(name: str) -> re.Pattern[str]:
    return re.compile("[a-z0-9-]*".join(re.escape(part) for part in name.lower().split("*")))


@dataclass(frozen=True)
class EndpointServiceTable:
    """The endpoint services we know, plus per-region overrides from describe output."""

    services: tuple[EndpointService, ...]
    overrides: tuple[EndpointService, ...] = ()

    def in_region(self, region: str) -> tuple[EndpointService, ...]:
        """The table as seen in one region: overrides for that region replace entries by id."""
        local = {s.id: s for s in self.overrides if s.region == region}
        merged = [local.pop(s.id, s) for s in self.services]
        return tuple(merged) + tuple(local.values())

    def by_id(self, endpoint_id: str, region: str) -> EndpointService | None:
        found = next((s for s in self.in_region(region) if s.id == endpoint_id), None)
        if found is None and _iam_prefix_of(endpoint_id) is not None:
            return general_endpoint_service(endpoint_id)
        return found

    def for_host(self, host: str, region: str) -> EndpointService | None:
        """The endpoint service whose private DNS answers for an API host name, if any."""
        return next((s for s in self.in_region(region) if s.answers_for_host(host, region)), None)

    def for_prefix(self, prefix: str, region: str) -> tuple[EndpointService, ...]:
        """Every endpoint service that carries calls of an IAM service prefix."""
        return tuple(s for s in self.in_region(region) if prefix.lower() in s.iam_prefixes)

    def for_action(self, action: str, region: str) -> tuple[EndpointService, ...]:
        """The endpoint services a call of ``service:Action`` may go through, most specific first.

        An entry that lists the action by name comes before one that carries the whole prefix:
        ``ecr:BatchGetImage`` goes through ``ecr.dkr`` when Docker pulls an image and through
        ``ecr.api`` when an SDK calls it. Use :meth:`for_host` when the host is known.
        """
        found = [s for s in self.in_region(region) if s.carries_action(action)]
        if not found:
            # Not in the table: the general rule (an endpoint service named after the IAM prefix).
            prefix = action.partition(":")[0].lower()
            general = general_endpoint_service(prefix)
            return (general,) if general.iam_prefixes else ()
        return tuple(sorted(found, key=lambda s: not s.iam_actions))

    def with_describe_output(self, document: Mapping[str, Any] | str) -> EndpointServiceTable:
        """A new table overridden by ``aws ec2 describe-vpc-endpoint-services`` JSON output."""
        data = json.loads(document) if isinstance(document, str) else document
        details = data.get("ServiceDetails") if isinstance(data, Mapping) else None
        if not isinstance(details, list):
            raise UsageError("describe-vpc-endpoint-services output has no 'ServiceDetails' list")
        merged: dict[tuple[str, str], EndpointService] = {}
        for detail in details:
            entry = self._override_entry(detail, merged)
            if entry is not None:
                merged[(entry.region or "", entry.id)] = entry
        return replace(self, overrides=self.overrides + tuple(merged.values()))

    def _override_entry(self, detail: Any, merged: Mapping[tuple[str, str], EndpointService]
                        ) -> EndpointService | None:
        if not isinstance(detail, Mapping) or not isinstance(detail.get("ServiceName"), str):
            raise UsageError("describe-vpc-endpoint-services output: a service detail has no 'ServiceName'")
        match = _SERVICE_NAME.match(detail["ServiceName"])
        if match is None:  # e.g. "aws.api.us-east-1.qbusiness", or a partner's service: not ours
            return None
        region, endpoint_id = match["region"], match["id"]
        base = (merged.get((region, endpoint_id)) or next((s for s in self.services if s.id == endpoint_id), None)
                or general_endpoint_service(endpoint_id, f"{match['head']}.{{region}}.{endpoint_id}"))
        types = tuple(t["ServiceType"] for t in detail.get("ServiceType", ()) if "ServiceType" in t)
        dns = [d["PrivateDnsName"] for d in detail.get("PrivateDnsNames", ()) if "PrivateDnsName" in d]
        if not dns and isinstance(detail.get("PrivateDnsName"), str):
            dns = [detail["PrivateDnsName"]]
        policy = detail.get("VpcEndpointPolicySupported")
        # Gateway and interface endpoints of one service come as two details: merge their types.
        all_types = tuple(dict.fromkeys((base.types if base and base.region else ()) + types))
        return EndpointService(
            id=endpoint_id,
            service_name_pattern=f"{match['head']}.{{region}}.{endpoint_id}",
            types=all_types or (base.types if base else ()),
            endpoint_policy_supported=policy if isinstance(policy, bool) else (base.endpoint_policy_supported if base else None),
            iam_prefixes=base.iam_prefixes if base else (),
            iam_actions=base.iam_actions if base else (),
            excluded_actions=base.excluded_actions if base else (),
            private_dns_patterns=tuple(dict.fromkeys(
                (base.private_dns_patterns if base and base.region else ()) + tuple(d.lower() for d in dns)))
            or (base.private_dns_patterns if base else ()),
            note=base.note if base else "from describe-vpc-endpoint-services; IAM prefixes unknown",
            sources=base.sources if base else (),
            region=region,
            general=base.general if base else False,
        )


def _iam_prefix_of(service_id: str) -> str | None:
    """The IAM service prefix an endpoint service carries, by the general rule: its name, or the name
    without ``-fips`` or its first label (``sagemaker.api`` -> ``sagemaker``), when the action catalog
    knows it as a prefix."""
    from accesspath.catalog.service_catalog import get_catalog

    catalog = get_catalog()
    for candidate in (service_id, service_id.removesuffix("-fips"), service_id.split(".")[0],
                      service_id.split("-")[0]):
        if candidate and catalog.has_service(candidate):
            return candidate
    return None


@functools.lru_cache(maxsize=512)
def general_endpoint_service(service_id: str, pattern: str | None = None) -> EndpointService:
    """An endpoint service the curated table does not list, by the general rule of AWS PrivateLink
    ("AWS services that integrate with AWS PrivateLink": the service name is
    com.amazonaws.REGION.NAME and, with private DNS, the endpoint answers for the service's default
    regional host NAME.REGION.amazonaws.com). Whether its endpoint accepts a policy is unknown here
    (None) unless describe-vpc-endpoint-services output says."""
    prefix = _iam_prefix_of(service_id)
    return EndpointService(
        id=service_id, service_name_pattern=pattern or f"com.amazonaws.{{region}}.{service_id}",
        types=("Interface",), endpoint_policy_supported=None,
        iam_prefixes=(prefix,) if prefix else (), iam_actions=(), excluded_actions=(),
        private_dns_patterns=(f"{service_id}.{{region}}.{{dns_suffix}}",),
        note="not in the curated table: IAM prefix and private DNS name from the general rule",
        sources=("https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html",),
        general=True)


def _entry(raw: Mapping[str, Any]) -> EndpointService:
    return EndpointService(
        id=raw["id"], service_name_pattern=raw["service_name"], types=tuple(raw["types"]),
        endpoint_policy_supported=raw["endpoint_policy_supported"],
        iam_prefixes=tuple(raw["iam_prefixes"]), iam_actions=tuple(raw.get("iam_actions", ())),
        excluded_actions=tuple(raw.get("excluded_actions", ())),
        private_dns_patterns=tuple(raw["private_dns_names"]), note=raw.get("note", ""),
        sources=tuple(raw["sources"]),
    )


def load_endpoint_services_document() -> dict[str, Any]:
    """The raw data file (for schema validation and tooling)."""
    text = resources.files("accesspath").joinpath("data", "endpoint_services.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@functools.lru_cache(maxsize=1)
def default_endpoint_services() -> EndpointServiceTable:
    """The built-in table (read once)."""
    document = load_endpoint_services_document()
    return EndpointServiceTable(services=tuple(_entry(raw) for raw in document["endpoint_services"]))
