"""API calls → IAM requests, end to end (AWS CLI lines and boto3-style calls)."""

from __future__ import annotations

import re

import pytest

from accesspath.catalog import IamRequest, iam_requests_for_call, image_pull_requests
from accesspath.catalog.aws_cli import parse_aws_cli
from accesspath.errors import UsageError

ACCOUNT = "111122223333"
REGION = "ap-northeast-1"


def cli(*words: str, **options: object) -> tuple[IamRequest, ...]:
    parsed = parse_aws_cli(["aws", *words])
    return iam_requests_for_call(parsed.call.service, parsed.call.operation, parsed.call.params,
                                 account=ACCOUNT, region=parsed.region or REGION, **options)  # type: ignore[arg-type]


def pairs(requests: tuple[IamRequest, ...]) -> list[tuple[str, str]]:
    return [(r.action, r.resource) for r in requests]


def test_ecs_list_clusters_is_checked_against_star() -> None:
    [request] = cli("ecs", "list-clusters")
    assert (request.action, request.resource, request.inferred) == ("ecs:ListClusters", "*", False)


def test_ecs_describe_clusters_names_the_cluster_arn() -> None:
    assert pairs(cli("ecs", "describe-clusters", "--clusters", "test-dev-cluster", "--region", "ap-northeast-1")) == [
        ("ecs:DescribeClusters", f"arn:aws:ecs:ap-northeast-1:{ACCOUNT}:cluster/test-dev-cluster")]


def test_ecs_describe_clusters_without_clusters_means_default() -> None:
    assert pairs(cli("ecs", "describe-clusters")) == [("ecs:DescribeClusters", f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/default")]


def test_region_option_wins_over_the_default_region() -> None:
    [request] = cli("ecs", "describe-clusters", "--clusters", "a", "--region", "eu-west-1")
    assert request.resource == f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/a"


def test_logs_put_log_events_names_the_log_stream() -> None:
    # seed 004: group logs-test-allowed, stream log-stream
    requests = cli("logs", "put-log-events", "--log-group-name", "logs-test-allowed", "--log-stream-name", "log-stream",
                   "--log-events", "timestamp=1,message=x")
    assert pairs(requests) == [("logs:PutLogEvents",
                                f"arn:aws:logs:ap-northeast-1:{ACCOUNT}:log-group:logs-test-allowed:log-stream:log-stream")]


def test_cluster_given_as_arn_sets_account_and_region() -> None:
    [request] = cli("ecs", "describe-services", "--cluster", "arn:aws:ecs:us-west-2:444455556666:cluster/prod",
                    "--services", "web", "api")[:1]
    assert request.resource == "arn:aws:ecs:us-west-2:444455556666:service/prod/web"
    assert request.context == {"ecs:cluster": ("arn:aws:ecs:us-west-2:444455556666:cluster/prod",)}
    assert len(cli("ecs", "describe-services", "--services", "web", "api")) == 2


def test_run_task_passes_known_roles() -> None:
    requests = cli("ecs", "run-task", "--task-definition", "web:3", "--cluster", "prod",
                   "--overrides", '{"taskRoleArn": "arn:aws:iam::111122223333:role/app/web-task"}',
                   extras={"execution_role_arn": f"arn:aws:iam::{ACCOUNT}:role/exec"})
    assert pairs(requests) == [
        ("ecs:RunTask", f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:3"),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/app/web-task"),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/exec"),
    ]
    assert requests[0].context["ecs:cluster"] == (f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod",)
    assert requests[1].context == {"iam:PassedToService": ("ecs-tasks.amazonaws.com",)}


def test_run_task_without_revision_says_the_revision_is_unknown() -> None:
    [request] = cli("ecs", "run-task", "--task-definition", "web")
    assert request.resource.endswith(":task-definition/web:*")
    assert "'*'" in request.note


def test_agent_calls_are_mapped_without_botocore() -> None:
    requests = iam_requests_for_call("ecs", "Poll", {"cluster": "prod", "containerInstance": "abc123"},
                                     account=ACCOUNT, region=REGION)
    assert pairs(requests) == [("ecs:Poll", f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/prod/abc123")]
    assert len(iam_requests_for_call("ecs", "PutSystemLogEvents", {"containerInstance": "x"}, account=ACCOUNT,
                                     region=REGION)) == 2


@pytest.mark.parametrize(("name", "resource"), [("/a/b", "parameter/a/b"), ("a", "parameter/a")])
def test_ssm_parameter_names_with_and_without_slash(name: str, resource: str) -> None:
    [request] = cli("ssm", "get-parameter", "--name", name)
    assert request.resource == f"arn:aws:ssm:{REGION}:{ACCOUNT}:{resource}"


def test_secret_with_customer_managed_key_needs_kms_via_secretsmanager() -> None:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    requests = cli("secretsmanager", "get-secret-value", "--secret-id", "db", extras={"kms_key_arn": key})
    assert pairs(requests) == [("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db"),
                               ("kms:Decrypt", key)]
    assert requests[1].context == {"kms:ViaService": (f"secretsmanager.{REGION}.amazonaws.com",)}
    assert len(cli("secretsmanager", "get-secret-value", "--secret-id", "db")) == 1


def test_s3_operations() -> None:
    [listing] = cli("s3api", "list-objects-v2", "--bucket", "b", "--prefix", "home/")
    assert (listing.action, listing.resource, listing.context) == ("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ("home/",)})
    assert pairs(cli("s3api", "head-object", "--bucket", "b", "--key", "k")) == [("s3:GetObject", "arn:aws:s3:::b/k")]
    assert pairs(cli("s3api", "create-multipart-upload", "--bucket", "b", "--key", "k")) == [("s3:PutObject", "arn:aws:s3:::b/k")]
    assert pairs(cli("s3api", "copy-object", "--copy-source", "src/dir/a.txt", "--bucket", "dst", "--key", "b.txt")) == [
        ("s3:GetObject", "arn:aws:s3:::src/dir/a.txt"), ("s3:PutObject", "arn:aws:s3:::dst/b.txt")]


def test_sqs_queue_url_becomes_queue_arn() -> None:
    requests = cli("sqs", "send-message", "--queue-url", "https://sqs.ap-northeast-1.amazonaws.com/444455556666/jobs",
                   "--message-body", "hi")
    assert pairs(requests) == [("sqs:SendMessage", f"arn:aws:sqs:{REGION}:444455556666:jobs")]


def test_dynamodb_batch_names_every_table() -> None:
    requests = iam_requests_for_call("dynamodb", "BatchGetItem", {"RequestItems": {"a": {"Keys": []}, "b": {"Keys": []}}},
                                     account=ACCOUNT, region=REGION)
    assert [r.resource for r in requests] == [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/a",
                                              f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/b"]


def test_unmapped_operation_takes_the_same_name_action_and_derives_its_resource() -> None:
    [request] = cli("ec2", "describe-instances")
    assert (request.action, request.resource, request.inferred, request.unresolved) == \
        ("ec2:DescribeInstances", "*", True, "")
    [derived] = cli("ecs", "delete-cluster", "--cluster", "x")
    assert derived.inferred and not derived.unresolved
    assert (derived.action, derived.resource) == ("ecs:DeleteCluster", f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/x")


def test_a_kms_alias_leaves_the_key_unknown() -> None:
    # KMS authorizes the key, never the alias (KMS Developer Guide, "Using aliases to control access").
    [request] = cli("kms", "decrypt", "--ciphertext-blob", "aGk=", "--key-id", "alias/app")
    assert request.resource == "*" and "alias/app" in request.unresolved
    assert request.resource_pattern == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"
    assert dict(request.context) == {"kms:RequestAlias": ("alias/app",)}


def test_image_pull_steps() -> None:
    steps = image_pull_requests(f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/team/app:1.0")
    assert [(name, pairs(requests)) for name, requests in steps] == [
        ("ecr:GetAuthorizationToken", [("ecr:GetAuthorizationToken", "*")]),
        ("ecr:BatchGetImage", [("ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/app")]),
        ("ecr:GetDownloadUrlForLayer", [("ecr:GetDownloadUrlForLayer", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/app")]),
        ("ecr:BatchCheckLayerAvailability",
         [("ecr:BatchCheckLayerAvailability", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/app")]),
        ("s3:GetObject", [("s3:GetObject", f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/*")]),
    ]


@pytest.mark.parametrize(("words", "message"), [
    (["ecs", "describe-clustrs"], "did you mean 'describe-clusters'"),
    (["ecs", "describe-clusters", "--clusterz", "x"], "unknown options: --clusterz"),
    (["ecs"], "the following arguments are required: operation"),
    (["ecz", "list-clusters"], "unknown AWS service 'ecz' (did you mean 'ecs'?)"),
    (["logs", "put-log-events", "--log-group-name", "g", "--log-events", "timestamp=1,message=x"], "required: --log-stream-name"),
    (["sqs", "send-message", "--queue-url", "nope", "--message-body", "x"], "is not an SQS queue URL"),
    (["ecs", "run-task", "--task-definition", "a:1", "--overrides", "{bad"], "Invalid JSON"),
    (["ssm", "put-parameter", "--name", "a", "--value", "file:///nonexistent/secret.txt"], "Unable to load paramfile"),
    (["s3api", "get-object", "--bucket", "b", "--key", "k"], "the following arguments are required: outfile"),
    (["s3", "cp", "a", "b"], "must be an S3 path"),
    (["ecs", "describe-services", "--cluster", "arn:aws:ecs:us-east-1:111122223333:service/a/b", "--services", "s"], "is not cluster ARN"),
])
def test_bad_calls_are_usage_errors(words: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        cli(*words)


def test_unknown_service_says_the_closest() -> None:
    with pytest.raises(UsageError, match="unknown AWS service 'ecss' \\(did you mean 'ecs'\\?\\)"):
        cli("ecss", "list-clusters")


@pytest.mark.parametrize("url, region", [
    ("https://sqs.ap-northeast-1.amazonaws.com/123456789012/orders", "ap-northeast-1"),
    ("https://eu-west-1.queue.amazonaws.com/123456789012/orders", "eu-west-1"),
    ("http://127.0.0.1:5000/123456789012/orders", "us-west-2"),  # a local endpoint: the call's region
])
def test_queue_arn_takes_the_region_of_the_queue_url(url, region) -> None:
    (request,) = iam_requests_for_call("sqs", "SendMessage", {"QueueUrl": url, "MessageBody": "x"},
                                       region="us-west-2")
    assert request.resource == f"arn:aws:sqs:{region}:123456789012:orders"
