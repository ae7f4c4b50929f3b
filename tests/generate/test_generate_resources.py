"""Grouping observed ARNs: exact by default, the last variable of the ARN template only past the threshold."""

from __future__ import annotations

import pytest

from accesspath.catalog import get_catalog
from accesspath.generate import group_resources
from accesspath.generate.confirm import probe_arn

GROUP = "arn:aws:logs:ap-northeast-1:123456789012:log-group:/ecs/web"


def patterns(action: str, arns: list[str], threshold: int = 3) -> list[str]:
    return [p.pattern for p in group_resources(get_catalog(), action, arns, threshold)]


def test_up_to_the_threshold_streams_stay_exact() -> None:
    streams = [f"{GROUP}:log-stream:web-{i}" for i in range(3)]
    assert patterns("logs:PutLogEvents", streams) == streams


def test_more_streams_than_the_threshold_become_one_pattern_of_their_group() -> None:
    streams = [f"{GROUP}:log-stream:web-{i}" for i in range(4)]
    (pattern,) = group_resources(get_catalog(), "logs:PutLogEvents", streams)
    assert pattern.pattern == f"{GROUP}:log-stream:*"
    assert pattern.observed == tuple(sorted(streams)) and pattern.resource_type == "log-stream"
    assert pattern.generalized


def test_only_the_last_variable_is_generalized() -> None:
    # Streams of two groups: each group keeps its name; only the group with more than 3 streams is grouped.
    other = "arn:aws:logs:ap-northeast-1:123456789012:log-group:/ecs/worker"
    arns = [f"{GROUP}:log-stream:web-{i}" for i in range(4)] + [f"{other}:log-stream:w-1"]
    assert patterns("logs:PutLogEvents", arns) == [f"{GROUP}:log-stream:*", f"{other}:log-stream:w-1"]
    # Another region or account is another family.
    tokyo = [f"{GROUP}:log-stream:web-{i}" for i in range(2)]
    osaka = [a.replace("ap-northeast-1", "ap-northeast-3") for a in [f"{GROUP}:log-stream:web-{i}" for i in range(2, 4)]]
    assert len(patterns("logs:PutLogEvents", tokyo + osaka)) == 4


def test_hierarchical_names_keep_their_shared_prefix() -> None:
    ecs_streams = [f"{GROUP}:log-stream:ecs/web/{task:032x}" for task in range(5)]
    assert patterns("logs:PutLogEvents", ecs_streams) == [f"{GROUP}:log-stream:ecs/web/*"]
    keys = ["reports/2026/11/a.csv", "reports/2026/11/b.csv", "reports/2026/12/c.csv", "reports/2026/12/d.csv"]
    assert patterns("s3:GetObject", [f"arn:aws:s3:::assets/{k}" for k in keys]) == ["arn:aws:s3:::assets/reports/2026/*"]
    assert patterns("s3:GetObject", [f"arn:aws:s3:::assets/{k}" for k in ["a", "b/c", "d", "e"]]) == \
        ["arn:aws:s3:::assets/*"]


def test_the_threshold_is_an_option() -> None:
    streams = [f"{GROUP}:log-stream:web-{i}" for i in range(2)]
    assert patterns("logs:PutLogEvents", streams, threshold=1) == [f"{GROUP}:log-stream:*"]
    assert patterns("logs:PutLogEvents", streams * 3, threshold=2) == sorted(set(streams))  # repeats count once


def test_actions_without_resources_get_star_and_unknown_arns_stay_exact() -> None:
    assert patterns("ecs:ListClusters", ["*"]) == ["*"]
    assert patterns("ecs:listclusters", ["*"]) == ["*"]
    # DescribeLogStreams is mapped to "log-group:NAME:log-stream:", which is no documented ARN shape.
    odd = [f"{GROUP}{i}:log-stream:" for i in range(5)]
    assert patterns("logs:DescribeLogStreams", odd) == odd


def test_wildcard_characters_in_an_exact_arn_are_written_literally() -> None:
    (pattern,) = group_resources(get_catalog(), "s3:GetObject", ["arn:aws:s3:::assets/what?*$.txt"])
    assert pattern.pattern == "arn:aws:s3:::assets/what${?}${*}${$}.txt"
    assert not pattern.generalized
    assert probe_arn(pattern.pattern) == "arn:aws:s3:::assets/what?*$.txt"


@pytest.mark.parametrize("pattern, probe", [
    (f"{GROUP}:log-stream:*", f"{GROUP}:log-stream:accesspath-unobserved"),
    ("arn:aws:s3:::b/x${*}/*", "arn:aws:s3:::b/x*/accesspath-unobserved"),
])
def test_probe_arns(pattern: str, probe: str) -> None:
    assert probe_arn(pattern) == probe
