"""Checks on the bundled snapshot of AWS managed IAM policies (``accesspath/data/aws_managed_policies.json``)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from accesspath.policy import PolicyType, parse_policy

ARN_PREFIX = "arn:aws:iam::aws:policy/"


def _raw_text() -> str:
    return resources.files("accesspath").joinpath("data", "aws_managed_policies.json").read_text("utf-8")


def _load() -> dict:
    return json.loads(_raw_text())


def _policy_names_in_file_order() -> list[str]:
    """Keys of the ``policies`` object as written (json.loads keeps only the last of duplicate keys)."""
    names: list[str] = []

    def hook(pairs):
        if pairs and all(isinstance(v, dict) and "arn" in v for _, v in pairs):
            names.extend(k for k, _ in pairs)
        return dict(pairs)

    json.loads(_raw_text(), object_pairs_hook=hook)
    return names


DATA = _load()
POLICIES = DATA["policies"]


def test_file_loads_with_comment_and_policies():
    assert isinstance(DATA.get("_comment"), str) and DATA["_comment"]
    assert isinstance(POLICIES, dict) and POLICIES


def test_names_are_unique():
    names = _policy_names_in_file_order()
    assert sorted(names) == sorted(POLICIES)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_entry_shape(name):
    entry = POLICIES[name]
    for key in ("arn", "version", "source", "document"):
        assert key in entry, f"{name} lacks {key}"
    assert isinstance(entry["version"], str) and entry["version"].startswith("v")
    assert entry["version"][1:].isdigit()
    assert entry["source"].startswith("https://")
    assert isinstance(entry["document"], dict)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_arn(name):
    arn = POLICIES[name]["arn"]
    assert arn.startswith(ARN_PREFIX)
    assert arn.endswith("/" + name)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_document_parses_as_identity_policy(name):
    policy = parse_policy(POLICIES[name]["document"], policy_type=PolicyType.IDENTITY)
    if not policy.is_valid:
        for issue in policy.issues:
            print(issue)
    assert policy.is_valid, f"{name}: {[str(i) for i in policy.issues]}"
