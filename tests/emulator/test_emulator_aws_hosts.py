"""AWS host names read back into service and region (transparent mode), and the agreement rule with
the SigV4 credential scope.

Host name shapes: "AWS service endpoints" (https://docs.aws.amazon.com/general/latest/gr/rande.html:
``service.region.amazonaws.com``, FIPS ``service-fips.region.amazonaws.com``, dual-stack
``service.region.api.aws``; global IAM at ``iam.amazonaws.com`` signed for us-east-1), SQS's legacy
``region.queue.amazonaws.com`` ("Amazon SQS endpoints and quotas",
https://docs.aws.amazon.com/general/latest/gr/sqs-service.html), S3's virtual-hosted and path-style
names ("Virtual hosting of buckets", https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html;
"Dual-stack endpoints", https://docs.aws.amazon.com/AmazonS3/latest/userguide/dual-stack-endpoints.html).
"""

from __future__ import annotations

import pytest

from accesspath.emulator.aws_hosts import (
    aws_dns_suffixes,
    call_disagreement,
    parse_aws_host,
    scope_disagreement,
)


@pytest.mark.parametrize(("host", "service", "region", "fips", "dualstack", "bucket"), [
    ("sqs.eu-west-1.amazonaws.com", "sqs", "eu-west-1", False, False, None),
    ("SQS.EU-WEST-1.AMAZONAWS.COM.", "sqs", "eu-west-1", False, False, None),
    ("eu-west-1.queue.amazonaws.com", "sqs", "eu-west-1", False, False, None),
    ("queue.amazonaws.com", "sqs", "us-east-1", False, False, None),
    ("sqs-fips.us-east-1.amazonaws.com", "sqs", "us-east-1", True, False, None),
    ("sqs.us-east-1.api.aws", "sqs", "us-east-1", False, True, None),
    ("iam.amazonaws.com", "iam", "us-east-1", False, False, None),
    ("iam-fips.amazonaws.com", "iam", "us-east-1", True, False, None),
    ("iam.global.api.aws", "iam", "us-east-1", False, True, None),
    ("sts.amazonaws.com", "sts", "us-east-1", False, False, None),
    ("sts.ap-northeast-1.amazonaws.com", "sts", "ap-northeast-1", False, False, None),
    ("ecs.ap-northeast-1.amazonaws.com", "ecs", "ap-northeast-1", False, False, None),
    ("api.ecr.us-east-1.amazonaws.com", "api.ecr", "us-east-1", False, False, None),
    ("ecr-fips.us-east-1.amazonaws.com", "api.ecr", "us-east-1", True, False, None),
    ("monitoring.us-east-1.amazonaws.com", "monitoring", "us-east-1", False, False, None),
    ("logs.eu-west-1.api.aws", "logs", "eu-west-1", False, True, None),
    ("sqs.cn-north-1.amazonaws.com.cn", "sqs", "cn-north-1", False, False, None),
    # S3: path style, virtual-hosted (dotted buckets too), legacy global, FIPS and dual-stack
    ("s3.eu-north-1.amazonaws.com", "s3", "eu-north-1", False, False, None),
    ("s3.amazonaws.com", "s3", "us-east-1", False, False, None),
    ("my-bucket.s3.amazonaws.com", "s3", "us-east-1", False, False, "my-bucket"),
    ("my.bucket.s3.eu-west-1.amazonaws.com", "s3", "eu-west-1", False, False, "my.bucket"),
    ("data.s3.dualstack.us-east-1.amazonaws.com", "s3", "us-east-1", False, True, "data"),
    ("data.s3-fips.dualstack.us-east-2.amazonaws.com", "s3", "us-east-2", True, True, "data"),
])
def test_aws_host_names(host: str, service: str, region: str, fips: bool, dualstack: bool, bucket: str | None) -> None:
    found = parse_aws_host(host)
    assert found is not None
    assert (found.service, found.region, found.fips, found.dualstack, found.bucket) == (
        service, region, fips, dualstack, bucket)


def test_s3_control_names_its_account() -> None:
    found = parse_aws_host("123456789012.s3-control.us-east-1.amazonaws.com")
    assert found is not None and found.service == "s3-control" and found.account == "123456789012"
    assert found.endpoint_name == "s3-control.us-east-1.amazonaws.com"


@pytest.mark.parametrize("host", ["example.com", "127.0.0.1", "pypi.org", "amazonaws.com.example.org"])
def test_hosts_outside_aws(host: str) -> None:
    assert parse_aws_host(host) is None


@pytest.mark.parametrize(("host", "why"), [
    ("vpce-0123-abcd.sqs.us-east-1.vpce.amazonaws.com", "not one of an AWS API endpoint"),
    ("amazonaws.com", "not one of an AWS API endpoint"),
    ("b1.s3.us-east-1.amazonaws.com", "'b1' before the s3 endpoint"),          # 3 characters at least
    ("abc.s3-control.us-east-1.amazonaws.com", "is not an account id"),
])
def test_aws_names_that_are_no_api_endpoint_are_refused(host: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_aws_host(host)


def test_suffixes_cover_every_partition() -> None:
    assert {"amazonaws.com", "api.aws", "amazonaws.com.cn"} <= set(aws_dns_suffixes())


@pytest.mark.parametrize(("host", "signing_name", "region", "problem"), [
    ("sqs.eu-west-1.amazonaws.com", "sqs", "eu-west-1", None),
    ("eu-west-1.queue.amazonaws.com", "sqs", "eu-west-1", None),
    ("iam.amazonaws.com", "iam", "us-east-1", None),
    ("api.ecr.us-east-1.amazonaws.com", "ecr", "us-east-1", None),        # signing name ecr, prefix api.ecr
    ("monitoring.us-east-1.amazonaws.com", "monitoring", "us-east-1", None),
    ("123456789012.s3-control.us-east-1.amazonaws.com", "s3", "us-east-1", None),
    # AWS's own words for a credential scoped elsewhere (InvalidSignatureException / SignatureDoesNotMatch)
    ("sqs.eu-west-1.amazonaws.com", "sqs", "us-east-1", "Credential should be scoped to a valid region, not"
                                                        " 'us-east-1'."),
    ("iam.amazonaws.com", "iam", "eu-west-1", "not 'eu-west-1'"),
    ("sqs.eu-west-1.amazonaws.com", "ecs", "eu-west-1", "Credential should be scoped to correct service: 'sqs'."),
    ("my-bucket.s3.amazonaws.com", "sqs", "us-east-1", "correct service: 's3'"),
])
def test_host_and_credential_scope_must_agree(host: str, signing_name: str, region: str, problem: str | None) -> None:
    found = parse_aws_host(host)
    assert found is not None
    said = scope_disagreement(found, signing_name, region)
    if problem is None:
        assert said is None
    else:
        assert said is not None and problem in said


def test_the_call_must_be_one_the_host_serves() -> None:
    # The signing name s3 stands for S3 and S3 Control; the host says which.
    control = parse_aws_host("123456789012.s3-control.us-east-1.amazonaws.com")
    bucket = parse_aws_host("my-bucket.s3.us-east-1.amazonaws.com")
    assert control is not None and bucket is not None
    assert call_disagreement(control, "s3control") is None and call_disagreement(bucket, "s3") is None
    assert call_disagreement(control, "s3") is not None and call_disagreement(bucket, "s3control") is not None
