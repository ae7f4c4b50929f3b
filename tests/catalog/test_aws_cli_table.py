"""The precomputed AWS CLI tables (accesspath/data/aws_cli_commands.packed): generated from the installed
awscli and botocore, never stale, and reading every line they accept exactly as the AWS CLI does."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources

import pytest

from accesspath.catalog import aws_cli_table
from accesspath.catalog.aws_cli import parse_aws_cli
from accesspath.catalog.aws_cli_table import TABLE, installed_versions, parse_with_table
from accesspath.catalog.packed_json import PackedJson

# Services the tool is about (ECS and what its tasks call), compared in full with a fresh generation.
SAMPLE = ("ecs", "ecr", "sqs", "secretsmanager", "kms", "sts", "s3api")


@pytest.fixture(scope="module")
def shipped() -> PackedJson:
    return PackedJson(resources.files("accesspath").joinpath(TABLE).read_bytes())


def test_the_table_is_from_the_installed_awscli_and_botocore(shipped: PackedJson) -> None:
    # After an upgrade of either package this fails until `python -m accesspath.catalog.aws_cli_table
    # refresh` is run; until then the table is not used at all (see test_a_stale_table_is_not_used).
    assert shipped.header["versions"] == installed_versions()
    assert len(shipped) > 20


def _in_a_fresh_process(code: str) -> object:
    # A clean interpreter imports botocore before awscli, as the command line does; this test process
    # may have imported awscli first (other tests), which then runs on the botocore copy it bundles.
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_table_is_what_the_generator_writes_today(shipped: PackedJson) -> None:
    header, members = _in_a_fresh_process(  # type: ignore[misc]
        "import json; from accesspath.catalog.aws_cli_table import generate;"
        f" print(json.dumps(generate({SAMPLE!r})))")
    assert header == shipped.header
    for name in SAMPLE:
        assert members[name] == shipped.member(name), name


_COMPARE = """
import json, sys
from importlib import resources
from accesspath.catalog.aws_cli import parse_with_aws_cli
from accesspath.catalog.aws_cli_table import TABLE, parse_with_table
from accesspath.catalog.packed_json import PackedJson
from accesspath.errors import UsageError

def sample(kind):
    if kind == "integer":
        return ["7"]
    if kind == "list":
        return ["value-one-abcdefghijkl", "value-two-abcdefghijkl"]
    if kind in ("true", "false"):
        return []
    return ["value-abcdefghijklmnopqrstuvwxyz"]

service = sys.argv[1]
shipped = PackedJson(resources.files("accesspath").joinpath(TABLE).read_bytes())
lines = []   # for each operation: its required options alone, then with each other option in turn
for op_name, (_, arguments, required) in shipped.member(service)["operations"].items():
    base = [service, op_name]
    for option, member, kind, _ in arguments:
        if member in required and kind != "false":
            base += [option, *sample(kind)]
    lines.append(base)
    for option, member, kind, _ in arguments:
        if member not in required:
            lines.append([*base, option, *sample(kind), "--region", "eu-west-3"])
read, wrong = 0, []
for line in lines:
    fast = parse_with_table(line)
    try:
        slow = parse_with_aws_cli(line)
    except UsageError:
        if fast is not None:
            wrong.append([line, "the AWS CLI refuses it"])
        continue
    if fast is None:
        continue
    read += 1
    seen = [slow.call.service, slow.call.operation, list(slow.call.params.items()), slow.region]
    if seen != [fast[0], fast[1], list(fast[2].items()), fast[3]]:   # the same parameters in the same order
        wrong.append([line, repr(seen)])
print(json.dumps({"read": read, "wrong": wrong}))
"""


@pytest.mark.parametrize("service", ["ecs", "sqs", "secretsmanager", "kms"])
def test_every_line_the_table_reads_is_read_as_the_aws_cli_reads_it(service: str) -> None:
    done = subprocess.run([sys.executable, "-c", _COMPARE, service], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["wrong"] == []
    assert report["read"] > 20   # the table is really used on these services


@pytest.mark.parametrize("line", [
    ["ecs", "describe-clusters", "--clusters", "file://clusters.json"],          # the CLI reads the file
    ["ecs", "describe-clusters", "--clusters", '["a","b"]'],                     # JSON list
    ["ecs", "list-services", "--cluster", "a", "--cluster", "b"],                # repeated option
    ["ecs", "list-clusters", "--max-results", "0x10"],                           # not plain digits
    ["ecs", "list-clusters", "--max-items", "5"],                                # pagination option
    ["ecs", "list-clusters", "--cli-input-json", "{}"],
    ["ecs", "list-clusters", "--debug"],                                         # global flag
    ["ecs", "list-clusters", "--reg", "eu-west-1"],                              # argparse abbreviation
    ["ecs", "list-clusters", "help"],
    ["ecs", "list-cluster"],                                                     # misspelt: the CLI says so
    ["ecs", "describe-services", "--cluster", "c"],                              # required --services missing
    ["s3", "ls"],                                                                # a customization
    ["ecr", "get-login-password"],
    ["sqs", "create-queue", "--queue-name", "q", "--attributes", "VisibilityTimeout=5"],   # shorthand map
])
def test_lines_only_the_aws_cli_can_read_go_to_it(line: list[str]) -> None:
    assert parse_with_table(line) is None


def test_plain_lines_are_read_from_the_table() -> None:
    assert parse_with_table(["ecs", "list-clusters"]) == ("ecs", "ListClusters", {}, None)
    assert parse_with_table(["--region", "ap-northeast-1", "ecs", "describe-clusters", "--clusters", "a", "b",
                             "--output", "text"]) == \
        ("ecs", "DescribeClusters", {"clusters": ["a", "b"]}, "ap-northeast-1")
    assert parse_with_table(["s3api", "get-bucket-policy", "--bucket", "b"]) == \
        ("s3", "GetBucketPolicy", {"Bucket": "b"}, None)
    assert parse_aws_cli(["aws", "ecs", "list-clusters"]).call.operation == "ListClusters"


def test_a_stale_table_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    aws_cli_table._table.cache_clear()
    aws_cli_table._service.cache_clear()
    monkeypatch.setattr(aws_cli_table, "installed_versions", lambda: {"awscli": "9.9.9", "botocore": "9.9.9"})
    try:
        assert parse_with_table(["ecs", "list-clusters"]) is None
        # ...and the AWS CLI reads the line instead.
        assert parse_aws_cli(["ecs", "list-clusters"]).call.operation == "ListClusters"
    finally:
        aws_cli_table._table.cache_clear()
        aws_cli_table._service.cache_clear()


def test_models_of_the_users_own_are_left_to_the_aws_cli(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    aws_cli_table._table.cache_clear()
    config = tmp_path / "config"
    config.write_text("[default]\napi_versions =\n    ecs = 2014-11-13\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    try:
        assert parse_with_table(["ecs", "list-clusters"]) is None
    finally:
        aws_cli_table._table.cache_clear()
