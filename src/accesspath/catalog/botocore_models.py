"""AWS service models from botocore: operation and parameter names of API calls (loaded lazily)."""

from __future__ import annotations

import difflib
import functools
from typing import Any

from accesspath.errors import UsageError


@functools.lru_cache(maxsize=1)
def _loader() -> Any:
    # botocore's data loader alone: a session would read the user's AWS profile and fail on a
    # profile the machine does not have, and service models need no credentials or config.
    import botocore.loaders  # imported on first use: it costs ~100 ms

    return botocore.loaders.create_loader()


@functools.lru_cache(maxsize=1)
def available_services() -> tuple[str, ...]:
    """botocore's service names (``ecs``, ``s3``, ``elbv2``...)."""
    return tuple(_loader().list_available_services(type_name="service-2"))


@functools.lru_cache(maxsize=64)
def service_model(service: str) -> Any:
    """botocore's ``ServiceModel`` of a service; unknown names raise with the closest one."""
    names = available_services()
    if service not in names:
        closest = difflib.get_close_matches(service, names, n=1)
        hint = f" (did you mean '{closest[0]}'?)" if closest else ""
        raise UsageError(f"unknown AWS service '{service}'{hint}")
    from botocore.model import ServiceModel

    return ServiceModel(_loader().load_service_model(service, "service-2"), service_name=service)


def xform_name(name: str, separator: str = "_") -> str:
    """botocore's CamelCase → snake/kebab conversion (``DescribeClusters`` → ``describe-clusters``)."""
    from botocore import xform_name as _xform

    return str(_xform(name, separator))


def operation_for_cli_name(service: str, cli_name: str) -> str:
    """The API operation name for an AWS CLI subcommand (``describe-clusters`` → ``DescribeClusters``)."""
    model = service_model(service)
    by_cli = {xform_name(op, "-"): op for op in model.operation_names}
    if cli_name in by_cli:
        return by_cli[cli_name]
    closest = difflib.get_close_matches(cli_name, by_cli, n=1)
    hint = f" (did you mean '{closest[0]}'?)" if closest else ""
    raise UsageError(f"'{cli_name}' is not an operation of '{service}'{hint}")


def check_operation(service: str, operation: str) -> Any:
    """The ``OperationModel`` of an API operation name (``DescribeClusters``), or a clear error."""
    model = service_model(service)
    if operation in model.operation_names:
        return model.operation_model(operation)
    closest = difflib.get_close_matches(operation, list(model.operation_names), n=1)
    hint = f" (did you mean '{closest[0]}'?)" if closest else ""
    raise UsageError(f"'{operation}' is not an operation of '{service}'{hint}")


def signing_prefix(service: str) -> str:
    """The IAM-like prefix botocore signs a service's requests with (a fallback guess only)."""
    metadata = service_model(service).metadata
    return str(metadata.get("signingName") or metadata.get("endpointPrefix") or service)
