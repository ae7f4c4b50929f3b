"""``accesspath snapshot -o FILE``: read a live account (read-only) into a native environment file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from accesspath.errors import UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "snapshot",
        help="read a live account with read-only calls into an environment file every command accepts",
        description=(
            "Read the account of the standard AWS credential chain (or --profile) with read-only calls: VPCs,"
            " subnets, route tables, security groups, gateways, VPC endpoints and their policies, DHCP options,"
            " ECS clusters, services and task definitions, EC2 instances, IAM roles with their policies"
            " (get-account-authorization-details), the resource policies of S3, KMS, SQS, Secrets Manager and ECR,"
            " log groups, and the organization's SCPs when readable. What cannot be read is listed; policies that"
            " could not be read are unknown, so decisions that depend on them are undetermined. The permissions it"
            " needs: 'accesspath snapshot --print-policy' (docs/snapshot.md). Exit status: 0, 2 for bad input."),
        epilog="example: accesspath snapshot --profile audit --region eu-west-1 -o env.json && accesspath audit env.json",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="the environment file to write (with several"
                        " regions, one file per region: FILE with the region before its suffix)")
    parser.add_argument("--profile", default=None, help="the AWS CLI profile to use (default: the standard chain)")
    parser.add_argument("--region", action="append", default=[], metavar="REGION",
                        help="a region to read (repeatable; default: the profile's region)")
    parser.add_argument("--print-policy", action="store_true",
                        help="print the read-only IAM policy snapshot needs, and exit")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.print_policy:
        from importlib import resources
        sys.stdout.write(resources.files("accesspath").joinpath("data/snapshot-policy.json").read_text("utf-8"))
        return 0
    if not args.output:
        raise UsageError("give -o FILE: where to write the environment")
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound
    except ImportError:
        raise UsageError("snapshot needs boto3: pip install boto3") from None
    from accesspath.snapshot import take_snapshot

    try:
        session = boto3.Session(profile_name=args.profile)
    except ProfileNotFound:
        raise UsageError(f"--profile '{args.profile}' is not a configured profile") from None
    regions = args.region or [session.region_name or ""]
    if not regions[0]:
        raise UsageError("no region: give --region or configure one for the profile")
    output = Path(args.output)
    for region in regions:
        target = output if len(regions) == 1 else output.with_name(f"{output.stem}-{region}{output.suffix}")
        try:
            document, report = take_snapshot(session, region, progress=sys.stderr.isatty())
        except NoCredentialsError:
            raise UsageError("no AWS credentials: configure a profile or the environment variables") from None
        except (ClientError, BotoCoreError) as error:
            raise UsageError(f"reading the account failed in {region}: {error}") from None
        target.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        counts = ", ".join(f"{count} {name}" for name, count in report.counts.items())
        print(f"wrote {target}: account {document['account']}, {region}: {counts}")
        for service, operation, code in report.not_read:
            print(f"  not read: {service}:{operation} ({code}): what depends on it is undetermined", file=sys.stderr)
    return 0
