"""``accesspath call -- aws SERVICE OPERATION ...``: the IAM requests an API call makes."""

from __future__ import annotations

import argparse
import json
from typing import Any

from accesspath.errors import UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "call", help="show the IAM requests (action, resource, context) of an AWS CLI call",
        description="accesspath call [--account ID] [--region R] -- aws ecs describe-clusters --clusters prod")
    parser.add_argument("--account", help="the caller's account id (default 123456789012)")
    parser.add_argument("--region", help="region when the command has no --region (default us-east-1)")
    parser.add_argument("--task-role-arn", help="RunTask/StartTask: the task definition's task role")
    parser.add_argument("--execution-role-arn", help="RunTask/StartTask: the task definition's execution role")
    parser.add_argument("--kms-key-arn", help="the customer managed key of a secret or SecureString parameter")
    parser.add_argument("--image-pull", metavar="IMAGE", help="show the steps of pulling this ECR image instead")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("command_line", nargs=argparse.REMAINDER, metavar="-- aws ...")
    parser.set_defaults(run=run_call)


def run_call(args: argparse.Namespace) -> int:
    from accesspath.catalog.calls import (
        DEFAULT_ACCOUNT,
        DEFAULT_REGION,
        iam_requests_for_call,
        image_pull_requests,
    )

    account = args.account or DEFAULT_ACCOUNT
    if not (account.isdigit() and len(account) == 12):
        raise UsageError(f"account '{account}' is not a 12-digit account id")
    words = [w for w in args.command_line if w != "--"] if args.command_line[:1] == ["--"] else list(args.command_line)
    if args.image_pull:
        if words:
            raise UsageError("give either --image-pull IMAGE or an aws command, not both")
        steps = image_pull_requests(args.image_pull, account=account, region=args.region or DEFAULT_REGION)
        return _print([(name, list(requests)) for name, requests in steps], args.format)
    if not words:
        raise UsageError("expected an AWS CLI command after '--': accesspath call -- aws ecs list-clusters")
    from accesspath.catalog.aws_cli import iam_requests_for_cli, parse_aws_cli

    parsed = parse_aws_cli(words)
    extras = {k: v for k, v in (("task_role_arn", args.task_role_arn),
                                ("execution_role_arn", args.execution_role_arn),
                                ("kms_key_arn", args.kms_key_arn)) if v}
    region = parsed.region or args.region or DEFAULT_REGION
    call_steps: list[tuple[str, list[Any]]] = [(f"{call.service}:{call.operation}",
              list(iam_requests_for_call(call.service, call.operation, call.params, account=account, region=region,
                                         extras=extras)))
             for call in parsed.calls]
    if parsed.unresolved:
        call_steps.append((" ".join(words), list(iam_requests_for_cli(
            type(parsed)((), parsed.region, parsed.unresolved), account=account, region=region))))
    return _print(call_steps, args.format)


def _print(steps: list[tuple[str, list[Any]]], output_format: str) -> int:
    if output_format == "json":
        print(json.dumps({"calls": [{"call": name, "requests": [r.to_json() for r in requests]}
                                    for name, requests in steps]}, indent=2))
        return 0
    for name, requests in steps:
        print(name)
        for request in requests:
            flag = "  (inferred)" if request.inferred else ""
            resource = f"{request.resource_pattern} (not known)" if request.unresolved else request.resource
            print(f"  {request.action}  {resource}{flag}")
            for key, values in request.context.items():
                print(f"      {key} = {', '.join(values)}")
            if request.note:
                print(f"      note: {request.note}")
    return 0
