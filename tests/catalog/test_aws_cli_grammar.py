"""`aws ...` lines read with the AWS CLI's own argument tables (issue 12, item 1).

Grammar: AWS CLI User Guide, "Specifying parameter values" (cli-usage-parameters.html), shorthand
syntax (cli-usage-shorthand.html), file:// values (cli-usage-parameters-file.html); the high-level
S3 commands: AWS CLI Command Reference, ``aws s3``, and the permissions S3 checks for each call
(AmazonS3/latest/userguide/using-with-s3-policy-actions.html).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from accesspath.catalog.aws_cli import iam_requests_for_cli, parse_aws_cli
from accesspath.errors import UsageError

ACCOUNT = "123456789012"


def calls(line: str) -> list[tuple[str, str, dict]]:
    parsed = parse_aws_cli(shlex.split(line))
    return [(c.service, c.operation, dict(c.params)) for c in parsed.calls]


def requests(line: str) -> list[tuple[str, str]]:
    parsed = parse_aws_cli(shlex.split(line))
    return [(r.action, r.resource_pattern + " (not known)" if r.unresolved else r.resource)
            for r in iam_requests_for_cli(parsed, account=ACCOUNT, region="us-east-1")]


def test_positional_output_files_are_arguments_not_values() -> None:
    assert calls("aws s3api get-object --bucket b --key k out.json") == [
        ("s3", "GetObject", {"Bucket": "b", "Key": "k"})]
    assert calls("aws lambda invoke --function-name f --payload '{\"a\":1}' response.json --region eu-west-1") == [
        ("lambda", "Invoke", {"FunctionName": "f", "Payload": '{"a":1}'})]
    assert parse_aws_cli(shlex.split("aws lambda invoke --function-name f out.json --region eu-west-1")).region \
        == "eu-west-1"


def test_shorthand_json_and_lists() -> None:
    [(_, _, params)] = calls("aws ecs run-task --task-definition web:3 --network-configuration "
                             "'awsvpcConfiguration={subnets=[subnet-1,subnet-2],assignPublicIp=DISABLED}'"
                             " --overrides '{\"taskRoleArn\": \"arn:aws:iam::123456789012:role/r\"}'")
    assert params["networkConfiguration"] == {"awsvpcConfiguration": {
        "subnets": ["subnet-1", "subnet-2"], "assignPublicIp": "DISABLED"}}
    assert params["overrides"] == {"taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/r"}
    assert calls("aws ecs describe-clusters --clusters a b")[0][2] == {"clusters": ["a", "b"]}
    [(_, _, tagged)] = calls("aws ec2 run-instances --image-id ami-1 --count 1 "
                             "--tag-specifications 'ResourceType=instance,Tags=[{Key=team,Value=red}]'")
    assert tagged["TagSpecifications"] == [{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "red"}]}]
    assert (tagged["MinCount"], tagged["MaxCount"]) == (1, 1)   # --count is the CLI's own argument


def test_file_values_and_cli_input_json_are_read(tmp_path: Path) -> None:
    value = tmp_path / "value.txt"
    value.write_text("s3cr3t")
    assert calls(f"aws ssm put-parameter --name /app/db --type SecureString --value file://{value}")[0][2][
        "Value"] == "s3cr3t"
    skeleton = tmp_path / "input.json"
    skeleton.write_text(json.dumps({"clusters": ["from-file"]}))
    assert calls(f"aws ecs describe-clusters --cli-input-json file://{skeleton}")[0][2] == {"clusters": ["from-file"]}


def test_pagination_options_do_not_change_the_request() -> None:
    assert calls("aws ecs list-clusters --max-items 5 --page-size 2") == [("ecs", "ListClusters", {})]


@pytest.mark.parametrize(("line", "expected"), [
    ("aws s3 ls", [("s3:ListAllMyBuckets", "*")]),
    ("aws s3 ls s3://b/logs/", [("s3:ListBucket", "arn:aws:s3:::b")]),
    ("aws s3 cp report.csv s3://b/in/", [("s3:PutObject", "arn:aws:s3:::b/in/report.csv")]),
    ("aws s3 cp report.csv s3://b/in/x.csv --acl bucket-owner-full-control",
     [("s3:PutObject", "arn:aws:s3:::b/in/x.csv"), ("s3:PutObjectAcl", "arn:aws:s3:::b/in/x.csv")]),
    ("aws s3 cp s3://b/k .", [("s3:GetObject", "arn:aws:s3:::b/k")]),
    ("aws s3 cp s3://a/k s3://b/copy", [("s3:GetObject", "arn:aws:s3:::a/k"), ("s3:PutObject", "arn:aws:s3:::b/copy")]),
    ("aws s3 mv s3://a/k s3://b/", [("s3:GetObject", "arn:aws:s3:::a/k"), ("s3:PutObject", "arn:aws:s3:::b/k"),
                                    ("s3:DeleteObject", "arn:aws:s3:::a/k")]),
    ("aws s3 rm s3://b/old.txt", [("s3:DeleteObject", "arn:aws:s3:::b/old.txt")]),
    ("aws s3 rm s3://b/tmp --recursive", [("s3:ListBucket", "arn:aws:s3:::b"),
                                          ("s3:DeleteObject", "arn:aws:s3:::b/tmp* (not known)")]),
    ("aws s3 sync ./site s3://b/www --delete", [("s3:ListBucket", "arn:aws:s3:::b"),
                                                ("s3:PutObject", "arn:aws:s3:::b/www/* (not known)"),
                                                ("s3:DeleteObject", "arn:aws:s3:::b/www/* (not known)")]),
    ("aws s3 cp ./dir s3://b/up --recursive", [("s3:PutObject", "arn:aws:s3:::b/up/* (not known)")]),
    ("aws s3 mb s3://new-bucket", [("s3:CreateBucket", "arn:aws:s3:::new-bucket")]),
    ("aws s3 rb s3://b --force", [("s3:ListBucket", "arn:aws:s3:::b"), ("s3:DeleteBucket", "arn:aws:s3:::b"),
                                  ("s3:DeleteObject", "arn:aws:s3:::b/* (not known)")]),
    ("aws s3 presign s3://b/k --expires-in 300", [("s3:GetObject", "arn:aws:s3:::b/k")]),
    ("aws s3 sync s3://b/www ./site --dryrun", [("s3:ListBucket", "arn:aws:s3:::b")]),
])
def test_high_level_s3_commands_make_the_requests_the_cli_sends(line: str, expected: list[tuple[str, str]]) -> None:
    assert requests(line) == expected


def test_recursive_copies_are_undetermined_where_a_key_scoped_deny_could_apply() -> None:
    from accesspath.simulate import simulate

    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/secret/*"}]}
    def decisions(line: str) -> list[str]:
        output = simulate({"PolicyInputList": [json.dumps(policy)], "CallerArn": f"arn:aws:iam::{ACCOUNT}:user/u",
                           "Call": line})
        return [r["EvalDecision"] for r in output["EvaluationResults"]]

    assert decisions("aws s3 cp s3://data/ . --recursive") == ["allowed", "undetermined"]
    assert decisions("aws s3 cp s3://data/public/ . --recursive") == ["allowed", "allowed"]
    assert decisions("aws s3 cp s3://data/secret/k .") == ["explicitDeny"]


@pytest.mark.parametrize(("line", "message"), [
    ("aws s3 frobnicate s3://b", "expected one of the 'aws s3' commands"),
    ("aws s3 rm b/k", "is not an S3 path"),
    ("aws s3 cp s3://b/ . ", "names no key"),
    ("aws ecs describe-clusters --generate-cli-skeleton", "prints a skeleton"),
    ("aws s3api put-object --bucket b --key k --body /nonexistent/file", "Blob values must be a path to a file"),
    ("aws ecs list-clusters --region", "expected one argument"),
])
def test_bad_lines_are_one_line_usage_errors(line: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_aws_cli(shlex.split(line))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_profile_does_not_fail_the_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    assert calls("aws ecs list-clusters") == [("ecs", "ListClusters", {})]
