"""AWS host names read back into service and region, from botocore's own endpoint data.

A client that is not pointed at the emulator calls AWS by name (``sqs.eu-west-1.amazonaws.com``);
transparent mode (``connect_proxy.py``) learns the service and region from that name, and the
request's SigV4 credential scope says them again: the two must agree (one request, one meaning),
or the request is refused as AWS refuses a credential scoped to another region or service.

The names are botocore's ``endpoints.json`` (what the SDKs resolve to): every explicit host name
(global services such as ``iam.amazonaws.com`` with their credential scope's region, FIPS and
dual-stack variants, SQS's legacy ``REGION.queue.amazonaws.com``), and the partitions' and
services' templates (``{service}.{region}.{dnsSuffix}``, ``{service}-fips...``,
``{service}.{region}.api.aws``, S3's ``s3.dualstack.{region}``) for every region the partition's
region pattern admits. S3 buckets may stand before an S3 name (virtual-hosted style,
`Virtual hosting of buckets <https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html>`_);
an account id before an ``s3-control`` name (S3 Control's host prefix).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?$")
# The legacy us-east-1 bucket naming rules, the widest (Amazon S3 User Guide, "General purpose bucket
# naming rules"); a virtual-hosted bucket is a DNS name anyway, so upper case and '_' never arrive here.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,253}[a-z0-9]$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_BUCKET_SERVICES = frozenset({"s3"})
_ACCOUNT_SERVICES = frozenset({"s3-control"})


@dataclass(frozen=True, slots=True)
class AwsHost:
    """What an AWS host name says about the requests sent to it."""

    name: str                       # the host name, lower case, no port
    service: str                    # endpoints.json's service key: the endpoint prefix ("sqs", "api.ecr", "s3")
    region: str                     # the region requests to it are signed for (a global service's scope region)
    partition: str
    fips: bool = False
    dualstack: bool = False
    credential_service: str | None = None   # a signing name endpoints.json gives instead of the prefix ("lex")
    bucket: str | None = None       # S3 virtual-hosted style: the bucket named before the S3 host name
    account: str | None = None      # S3 Control: the account id named before the host name

    @property
    def endpoint_name(self) -> str:
        """The host name without the bucket or account label."""
        label = self.bucket or self.account
        return self.name[len(label) + 1:] if label else self.name


@dataclass(frozen=True, slots=True)
class _Endpoint:
    service: str
    region: str
    partition: str
    fips: bool
    dualstack: bool
    credential_service: str | None


@dataclass(frozen=True, slots=True)
class _Template:
    pattern: re.Pattern[str]
    service: str | None             # None: any service (the partition's own templates)
    partition: str
    fips: bool
    dualstack: bool
    credential_service: str | None


@dataclass(frozen=True)
class _HostIndex:
    exact: Mapping[str, _Endpoint]
    templates: tuple[_Template, ...]
    suffixes: tuple[str, ...]       # every DNS suffix of every partition, longest first


def parse_aws_host(host: str) -> AwsHost | None:
    """The AWS endpoint ``host`` names, or None when it is not under an AWS DNS suffix.

    Raises ValueError for a name under an AWS suffix that no endpoint of botocore's data has
    (an access point, a VPC endpoint's own DNS name, a registry host): such a name is AWS's, so it
    is never treated as an ordinary internet host, and the emulator does not decide it either."""
    name = host.lower().rstrip(".")
    index = _index()
    if not any(name == suffix or name.endswith("." + suffix) for suffix in index.suffixes):
        return None
    labels = name.split(".")
    # The longest S3 (or S3 Control) name the host ends with: what stands before it is a bucket (or an
    # account id). "my.bucket.s3.us-east-1.amazonaws.com" would also fit "{service}.{region}" as a
    # service "my.bucket.s3", which no signing name has.
    for cut in range(len(labels) - 1):
        rest = _parse(".".join(labels[cut:]))
        if rest is None or rest.service not in _BUCKET_SERVICES | _ACCOUNT_SERVICES:
            continue
        prefix = ".".join(labels[:cut])
        if not prefix:
            return rest
        if rest.service in _BUCKET_SERVICES and _BUCKET.fullmatch(prefix) and ".." not in prefix:
            return _with(rest, name, bucket=prefix)
        if rest.service in _ACCOUNT_SERVICES and _ACCOUNT.fullmatch(prefix):
            return _with(rest, name, account=prefix)
        what = "a bucket name" if rest.service in _BUCKET_SERVICES else "an account id"
        raise ValueError(f"'{prefix}' before the {rest.service} endpoint {rest.name} is not {what}")
    found = _parse(name)
    if found is not None:
        return found
    raise ValueError(f"'{name}' is an AWS name, but not one of an AWS API endpoint in botocore's endpoint data"
                     " (access points, VPC endpoint DNS names and registry hosts are not emulated)")


def _with(found: AwsHost, name: str, *, bucket: str | None = None, account: str | None = None) -> AwsHost:
    return AwsHost(name, found.service, found.region, found.partition, found.fips, found.dualstack,
                   found.credential_service, bucket, account)


@functools.lru_cache(maxsize=4096)
def _parse(name: str) -> AwsHost | None:
    index = _index()
    if not all(_LABEL.fullmatch(label) for label in name.split(".")):
        return None
    endpoint = index.exact.get(name)
    if endpoint is not None:
        return AwsHost(name, endpoint.service, endpoint.region, endpoint.partition, endpoint.fips,
                       endpoint.dualstack, endpoint.credential_service)
    for template in index.templates:
        match = template.pattern.fullmatch(name)
        if match is None:
            continue
        service = template.service or match.group("service")
        return AwsHost(name, service, match.group("region"), template.partition, template.fips, template.dualstack,
                       template.credential_service)
    return None


def scope_disagreement(host: AwsHost, signing_name: str, region: str) -> str | None:
    """Why a request to ``host`` signed for ``signing_name`` in ``region`` has two meanings (None: it
    has one), in AWS's words for a credential scoped to another region or service."""
    if region != host.region:
        if host.service in _BUCKET_SERVICES | _ACCOUNT_SERVICES:
            # S3's AuthorizationHeaderMalformed ("Regions and endpoints", Amazon S3 User Guide)
            return (f"The authorization header is malformed; the region '{region}' is wrong; expecting"
                    f" '{host.region}'")
        return (f"Credential should be scoped to a valid region, not '{region}'. (the host {host.name} is the"
                f" endpoint of {host.region})")
    if host.service not in endpoint_prefixes(signing_name) and host.credential_service != signing_name:
        return (f"Credential should be scoped to correct service: '{host.credential_service or host.service}'."
                f" (the host {host.name} is the {host.service} endpoint; the request is signed for '{signing_name}')")
    return None


def call_disagreement(host: AwsHost, service: str) -> str | None:
    """Why a call identified as botocore's ``service`` is not one ``host`` serves (None: it is); a
    signing name may stand for two services (``s3``: S3 and S3 Control), the host for one."""
    from accesspath.catalog.botocore_models import service_model

    prefix = service_model(service).metadata.get("endpointPrefix")
    if prefix == host.service or (host.credential_service is not None and prefix is None):
        return None
    return f"the host {host.name} is the {host.service} endpoint, not the endpoint of {service} ({prefix})"


@functools.lru_cache(maxsize=256)
def endpoint_prefixes(signing_name: str) -> frozenset[str]:
    """The endpoint prefixes (botocore's ``metadata.endpointPrefix``) of the services a SigV4 signing
    name stands for: ``ecr`` → ``api.ecr``, ``s3`` → ``s3`` and ``s3-control``."""
    from accesspath.emulator.protocols import models_for_signing_name

    return frozenset(str(model.metadata.get("endpointPrefix") or signing_name)
                     for model in models_for_signing_name(signing_name))


@functools.lru_cache(maxsize=1)
def _index() -> _HostIndex:
    from accesspath.catalog.botocore_models import _loader

    data = _loader().load_data("endpoints")
    exact: dict[str, _Endpoint] = {}
    templates: list[_Template] = []
    generic: list[_Template] = []
    suffixes: set[str] = set()
    for partition in data["partitions"]:
        name = partition["partition"]
        region_pattern = partition["regionRegex"].strip("^$")
        is_region_name = re.compile(region_pattern).fullmatch
        defaults = partition["defaults"]
        suffixes.add(partition["dnsSuffix"])
        suffixes.update(v.get("dnsSuffix", partition["dnsSuffix"]) for v in defaults.get("variants", ()))
        for form in _forms(defaults, partition["dnsSuffix"]):
            generic.append(_template(form, None, name, region_pattern, None))
        for service, description in partition["services"].items():
            service_defaults = description.get("defaults", {})
            credential_service = service_defaults.get("credentialScope", {}).get("service")
            own = [f for f in _forms(service_defaults, service_defaults.get("dnsSuffix", partition["dnsSuffix"]),
                                     inherit=defaults) if f[0] is not None]
            for form in own:
                templates.append(_template(form, service, name, region_pattern, credential_service))
            for key, endpoint in description.get("endpoints", {}).items():
                scope = endpoint.get("credentialScope", {})
                region = scope.get("region") or (key if is_region_name(key) else None)
                if region is None:
                    continue
                signing = scope.get("service", credential_service)
                is_region = is_region_name(key) is not None
                for hostname, tags in _explicit_names(endpoint, service_defaults, service, key,
                                                      partition["dnsSuffix"], is_region):
                    # A name listed twice (a deprecated "fips-REGION" key and a region's variant) keeps its tags.
                    seen = exact.get(hostname)
                    exact[hostname] = _Endpoint(service, region, name, "fips" in tags or (seen is not None and seen.fips),
                                                "dualstack" in tags or (seen is not None and seen.dualstack), signing)
    # Tagged (FIPS, dual-stack) templates first: "{service}.{region}" would also read "sqs-fips.{region}".
    templates.sort(key=lambda t: not (t.fips or t.dualstack))
    generic.sort(key=lambda t: not (t.fips or t.dualstack))
    return _HostIndex(exact, tuple(templates + generic), tuple(sorted(suffixes, key=len, reverse=True)))


def _forms(defaults: Mapping[str, Any], dns_suffix: str, *,
           inherit: Mapping[str, Any] | None = None) -> Iterator[tuple[str | None, str, frozenset[str]]]:
    """(hostname template, DNS suffix, tags) of a defaults block: its hostname, its variants and its
    SSL common name (the name older SDKs use, SQS's ``{region}.queue.{dnsSuffix}``)."""
    hostname = defaults.get("hostname")
    if hostname is None and inherit is not None and "dnsSuffix" in defaults:
        hostname = inherit.get("hostname")       # a service on another DNS suffix (api.aws) with the usual shape
    yield hostname, dns_suffix, frozenset()
    for variant in defaults.get("variants", ()):
        yield variant.get("hostname"), variant.get("dnsSuffix", dns_suffix), frozenset(variant.get("tags", ()))
    if "sslCommonName" in defaults:
        yield defaults["sslCommonName"], dns_suffix, frozenset()


def _template(form: tuple[str | None, str, frozenset[str]], service: str | None, partition: str,
              region_pattern: str, credential_service: str | None) -> _Template:
    hostname, dns_suffix, tags = form
    assert hostname is not None
    pattern = re.escape(hostname)
    pattern = pattern.replace(re.escape("{service}"), re.escape(service) if service else
                              r"(?P<service>[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9][a-z0-9\-]*)*?)")
    pattern = pattern.replace(re.escape("{region}"), f"(?P<region>{region_pattern})")
    pattern = pattern.replace(re.escape("{dnsSuffix}"), re.escape(dns_suffix))
    return _Template(re.compile(pattern), service, partition, "fips" in tags, "dualstack" in tags, credential_service)


def _explicit_names(endpoint: Mapping[str, Any], service_defaults: Mapping[str, Any], service: str, key: str,
                    dns_suffix: str, is_region: bool) -> Iterator[tuple[str, frozenset[str]]]:
    def expanded(template: str) -> str:
        return template.replace("{service}", service).replace("{region}", key).replace("{dnsSuffix}", dns_suffix)

    if "hostname" in endpoint:
        yield expanded(endpoint["hostname"]), frozenset()
    for variant in endpoint.get("variants", ()):
        if "hostname" in variant:
            yield expanded(variant["hostname"]), frozenset(variant.get("tags", ()))
    common_name = endpoint.get("sslCommonName") or service_defaults.get("sslCommonName")
    if common_name and is_region:
        yield expanded(common_name), frozenset()


def aws_dns_suffixes() -> tuple[str, ...]:
    """Every DNS suffix AWS endpoints live under (``amazonaws.com``, ``api.aws``, ``amazonaws.com.cn``...)."""
    return _index().suffixes
