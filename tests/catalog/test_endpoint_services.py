"""The VPC endpoint services table: schema, lookups, override from describe-vpc-endpoint-services."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from accesspath.catalog import EndpointServiceTable, default_endpoint_services
from accesspath.catalog.endpoint_services import load_endpoint_services_document
from accesspath.errors import UsageError

REGION = "ap-northeast-1"
FIXTURE = Path(__file__).parent / "fixtures" / "describe_vpc_endpoint_services.json"


def test_table_matches_its_schema() -> None:
    schema = json.loads(resources.files("accesspath").joinpath("data", "endpoint_services.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(load_endpoint_services_document(), schema)


def test_table_covers_the_services_ecs_workloads_use() -> None:
    ids = {s.id for s in default_endpoint_services().services}
    assert ids == {"ecs", "ecs-agent", "ecs-telemetry", "ecr.api", "ecr.dkr", "s3", "dynamodb", "logs", "events",
                   "monitoring", "secretsmanager", "ssm", "ssmmessages", "ec2messages", "kms", "sts", "sqs", "sns",
                   "elasticloadbalancing"}


@pytest.mark.parametrize(("host", "endpoint_id"), [
    ("ecs.ap-northeast-1.amazonaws.com", "ecs"),
    ("api.ecr.ap-northeast-1.amazonaws.com", "ecr.api"),
    ("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com", "ecr.dkr"),
    ("logs.ap-northeast-1.amazonaws.com", "logs"),
    ("ecs-a-3.ap-northeast-1.amazonaws.com", "ecs-agent"),
    ("ecs-t-1.ap-northeast-1.amazonaws.com", "ecs-telemetry"),
    ("my-bucket.s3.ap-northeast-1.amazonaws.com", "s3"),
    ("monitoring.ap-northeast-1.amazonaws.com", "monitoring"),
])
def test_lookup_by_host(host: str, endpoint_id: str) -> None:
    found = default_endpoint_services().for_host(host, REGION)
    assert found is not None and found.id == endpoint_id
    assert found.service_name(REGION) == f"com.amazonaws.{REGION}.{endpoint_id}"


def test_hosts_of_other_regions_and_services_do_not_match() -> None:
    table = default_endpoint_services()
    assert table.for_host("ecs.us-east-1.amazonaws.com", REGION) is None
    assert table.for_host("ecr.ap-northeast-1.amazonaws.com", REGION) is None  # ecr.api answers api.ecr only
    assert table.for_host("a.b.dkr.ecr.ap-northeast-1.amazonaws.com", REGION) is None


def test_lookup_by_prefix_and_action() -> None:
    table = default_endpoint_services()
    assert {s.id for s in table.for_prefix("ecr", REGION)} == {"ecr.api", "ecr.dkr"}
    def ids(action: str) -> tuple[str, ...]:
        return tuple(s.id for s in table.for_action(action, REGION))

    assert ids("ecs:Poll") == ("ecs-agent",)
    assert ids("ecs:StartTelemetrySession") == ("ecs-telemetry",)
    assert ids("ecs:DescribeClusters") == ("ecs",)
    assert ids("ecr:BatchGetImage") == ("ecr.dkr", "ecr.api")  # Docker pull, or an SDK call
    assert ids("ecr:GetAuthorizationToken") == ("ecr.api",)
    assert ids("cloudwatch:PutMetricData") == ("monitoring",)
    assert ids("lambda:InvokeFunction") == ("lambda",)   # not curated: the general rule (issue 9 item 8)

def test_override_from_describe_output() -> None:
    base = default_endpoint_services()
    assert base.by_id("ecs-agent", REGION).endpoint_policy_supported is True  # type: ignore[union-attr]
    table = base.with_describe_output(FIXTURE.read_text("utf-8"))
    agent = table.by_id("ecs-agent", REGION)
    assert agent is not None and agent.endpoint_policy_supported is False
    assert agent.iam_actions == ("ecs:Poll",)  # kept from our table
    assert agent.answers_for_host("ecs-a-1.ap-northeast-1.amazonaws.com", REGION)
    s3 = table.by_id("s3", REGION)
    assert s3 is not None and set(s3.types) == {"Gateway", "Interface"}
    xray = table.by_id("xray", REGION)
    # Not curated: the IAM prefix comes from the general rule, policy support from the describe output.
    assert xray is not None and xray.iam_prefixes == ("xray",) and xray.endpoint_policy_supported is True
    # Another region still sees the built-in table; the original table is unchanged.
    assert table.by_id("ecs-agent", "us-east-1").endpoint_policy_supported is True  # type: ignore[union-attr]
    general = base.by_id("xray", REGION)   # the general rule: policy support unknown without describe output
    assert general is not None and general.general and general.endpoint_policy_supported is None


def test_bad_describe_output_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="ServiceDetails"):
        EndpointServiceTable(services=()).with_describe_output({"ServiceNames": []})
