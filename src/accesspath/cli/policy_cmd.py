"""``accesspath policy generate --from-log LOG [TEMPLATE...]``: least privilege from what was observed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from accesspath.cli.environment_options import add_environment_arguments
from accesspath.errors import UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "policy", help="generate policies from what the emulator observed",
        description="Policy tools. 'accesspath policy generate --help' for the generator.")
    commands = parser.add_subparsers(dest="policy_command", metavar="SUBCOMMAND")
    parser.set_defaults(run=lambda args: _missing_subcommand(parser))

    generate = commands.add_parser(
        "generate",
        help="write the narrowest identity and endpoint policies that allow the calls of a decision log",
        description=(
            "Read the decision log of 'accesspath serve'/'run' (JSON lines) and write, for each role (or --role),"
            " the narrowest identity policy and, for each VPC endpoint the calls went through, the narrowest"
            " endpoint policy that allow the observed requests: the identity policy every one of them, allowed or"
            " denied in the log; the endpoint policy only those the log shows allowed (the denied ones are listed"
            " apart, --include-denied adds them), so that a perimeter keeps its intent. Exact resource"
            " ARNs, several ARNs that differ only in the last part of their resource type's ARN (log streams of"
            " one log group) grouped into one pattern when more than --group-threshold were seen, \"*\" for"
            " actions that take no resource. With TEMPLATEs, the generated policies replace the role's and the"
            " endpoints' and every observed request is decided again. Exit status: 0 when every observed request"
            " is allowed with the generated policies (or there are no templates to confirm with), 1 otherwise,"
            " 2 for bad input (a bad log line is named with file:line)."),
        epilog=("example: accesspath policy generate --from-log decisions.jsonl stack.yaml --region ap-northeast-1"
                " -o generated/"),
    )
    # The log alone is enough to generate; templates are needed only to confirm.
    add_environment_arguments(
        generate, templates_required=False,
        templates_help=("CloudFormation templates (or one native environment file) the log was recorded against;"
                        " given, the generated policies are confirmed with them and the CloudFormation snippets"
                        " name the role by logical id"))
    generate.add_argument("--from-log", dest="log", required=True, metavar="LOG",
                          help="the decision log (JSON lines), '-' for standard input")
    generate.add_argument("--role", default=None, metavar="ID",
                          help="only this role (name, role or session ARN, or logical id in the templates);"
                               " default: every role of the log, one policy each")
    generate.add_argument("--group-threshold", type=int, default=None, metavar="N",
                          help="group ARNs that differ only in their last part into one pattern when more than N"
                               " were seen (default: 3)")
    generate.add_argument("--resource-account", default=None,
                          help="when confirming: the owner of resources whose ARN names no account (S3 buckets)"
                               " and that the templates do not declare")
    generate.add_argument("--include-denied", action="store_true",
                          help="also let through the endpoint policies the requests the log shows denied (by"
                               " default they are left out, since the current policies refuse them, and listed)")
    generate.add_argument("-o", "--output-dir", default=None, metavar="DIR",
                          help="write <role>-identity-policy.json, <role>-policy.cfn.yaml,"
                               " <endpoint>-endpoint-policy.json and <endpoint>-endpoint-policy.cfn.yaml to DIR")
    generate.add_argument("--format", choices=("text", "json", "yaml"), default="text",
                          help="standard output: a text summary (default), the policies and findings as JSON,"
                               " or the CloudFormation snippets as YAML")
    generate.set_defaults(run=run)


def _missing_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from accesspath.cli.environment_options import (
        endpoint_services_from_args,
        load_environment_from_args,
    )
    from accesspath.cli.io import read_input
    from accesspath.files import MAX_LOG_BYTES
    from accesspath.generate import (
        DEFAULT_GROUP_THRESHOLD,
        generate_from_log,
        read_decision_log,
    )

    text, source = read_input(args.log, MAX_LOG_BYTES)
    log = read_decision_log(text, source)
    env = load_environment_from_args(args) if args.templates or args.stack else None
    out_dir = Path(args.output_dir) if args.output_dir else None
    threshold = DEFAULT_GROUP_THRESHOLD if args.group_threshold is None else args.group_threshold
    policy_files = None
    if out_dir is not None:
        roles = log.roles()
        endpoints = {r.endpoint_id for r in log.requests if r.endpoint_id}
        policy_files = {name: str(out_dir / _identity_file(name)) for name in roles}
        policy_files.update({e: str(out_dir / _endpoint_file(e)) for e in endpoints})
    generated = generate_from_log(log, env=env, role=args.role, threshold=threshold,
                                  template_sources=tuple(args.templates),
                                  endpoint_services=endpoint_services_from_args(args) if env is not None else None,
                                  resource_account=args.resource_account, policy_files=policy_files,
                                  include_denied=args.include_denied)
    written = _write_files(generated, out_dir) if out_dir is not None else []
    if args.format == "json":
        json.dump(_json(generated, written), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.format == "yaml":
        sys.stdout.write(_yaml(generated))
    else:
        sys.stdout.write(_text(generated, written))
    return generated.exit_status


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.@+=," else "_" for c in name)


def _identity_file(role: str) -> str:
    return f"{_safe(role)}-identity-policy.json"


def _endpoint_file(endpoint_id: str) -> str:
    return f"{_safe(endpoint_id)}-endpoint-policy.json"


def _write_files(generated: Any, out_dir: Path) -> list[str]:
    from accesspath.generate import endpoint_policy_snippet, identity_policy_snippet

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create the output directory '{out_dir}': {error.strerror}") from None
    files: list[tuple[Path, str]] = []
    for identity in generated.identities:
        files.append((out_dir / _identity_file(identity.role.name), identity.to_json_text()))
        files.append((out_dir / f"{_safe(identity.role.name)}-policy.cfn.yaml", identity_policy_snippet(identity)))
    for endpoint in generated.endpoints:
        files.append((out_dir / _endpoint_file(endpoint.endpoint_id), endpoint.to_json_text()))
        files.append((out_dir / f"{_safe(endpoint.endpoint_id)}-endpoint-policy.cfn.yaml",
                      endpoint_policy_snippet(endpoint, generated.role_logical_ids)))
    for path, content in files:
        try:
            path.write_text(content, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write '{path}': {error.strerror}") from None
    return [str(path) for path, _ in files]


def _json(generated: Any, written: list[str]) -> dict[str, Any]:
    from accesspath.generate import endpoint_policy_property, identity_policy_resource
    from accesspath.generate.cloudformation import dump_yaml

    log = generated.log
    confirmation = generated.confirmation
    return {
        "log": {"source": log.source, "lines": log.lines, "calls": log.calls, "requests": len(log.requests),
                "skipped": [{"reason": s.reason, "lines": list(s.lines)} for s in log.skipped]},
        "groupThreshold": generated.threshold,
        "identityPolicies": [{
            "role": i.role.name, "roleArn": i.role.arn, "roleLogicalId": i.role.logical_id, "policyName": i.name,
            "observedRequests": len(i.requests), "policy": i.document(),
            "cloudFormation": dump_yaml(identity_policy_resource(i)),
            "groups": _groups(i.statements),
        } for i in generated.identities],
        "endpointPolicies": [{
            "endpointId": e.endpoint_id, "logicalId": e.logical_id, "serviceName": e.service_name,
            "observedRequests": len(e.requests), "policy": e.document(),
            "cloudFormation": dump_yaml(endpoint_policy_property(e, generated.role_logical_ids)),
            "groups": _groups(e.statements),
        } for e in generated.endpoints],
        "withheldDenied": [_observed_json(r) for r in generated.withheld],
        "broaderThanObserved": [{
            "policy": b.policy, "sid": b.sid, "actions": list(b.actions), "resource": b.pattern, "allowsUnobserved": b.probe,
            "observedResources": b.observed,
        } for b in generated.broader],
        "confirmation": None if confirmation is None else {
            "templates": list(confirmation.sources),
            "allAllowed": confirmation.all_allowed,
            "notes": list(confirmation.notes),
            "notAllowed": [{
                "line": f"{r.observed.where}", "action": r.observed.action, "resource": r.observed.resource,
                "decision": r.decision, "decidingGate": r.gate, "message": r.message or None, "notes": list(r.notes),
            } for r in confirmation.not_allowed],
            "allowed": sum(1 for r in confirmation.results if r.allowed),
            "withheldNowAllowed": [{
                "line": f"{r.observed.where}", "action": r.observed.action, "resource": r.observed.resource,
                "decision": r.decision, "notes": list(r.notes),
            } for r in confirmation.withheld_now_allowed],
        },
        "notes": list(generated.notes),
        "written": written,
    }


def _observed_json(request: Any) -> dict[str, Any]:
    return {"line": request.where, "role": request.role_name, "action": request.action, "resource": request.resource,
            "decision": request.decision, "decidingGate": request.gate, "endpointId": request.endpoint_id}


def _groups(statements: Any) -> list[dict[str, Any]]:
    return [{"sid": s.sid, "resource": p.pattern, "observed": list(p.observed)}
            for s in statements for p in s.resources if p.generalized]


def _yaml(generated: Any) -> str:
    from accesspath.generate import endpoint_policy_snippet, identity_policy_snippet

    parts = [identity_policy_snippet(i) for i in generated.identities]
    parts += [endpoint_policy_snippet(e, generated.role_logical_ids) for e in generated.endpoints]
    return "---\n".join(parts)


def _text(generated: Any, written: list[str]) -> str:
    log = generated.log
    roles = len(log.roles())
    lines = [f"decision log {log.source}: {_count(log.lines, 'line')}, {_count(log.calls, 'call')},"
             f" {_count(len(log.requests), 'IAM request')} of {_count(roles, 'role')}"]
    lines += [f"  {s.describe(log.source)}" for s in log.skipped]
    lines += [f"  note: {note}" for note in generated.notes]
    for identity in generated.identities:
        denied = sum(1 for r in identity.requests if r.decision not in (None, "allowed"))
        declared = f" ({identity.role.logical_id})" if identity.role.logical_id else ""
        lines.append("")
        lines.append(f"role {identity.role.name}{declared}: {_count(len(identity.requests), 'observed request')}"
                     + (f", {denied} of them not allowed in the log" if denied else ""))
        lines.append(f"  identity policy {identity.name}:")
        lines += _statement_lines(identity.statements)
    for endpoint in generated.endpoints:
        names = ", ".join(x for x in (endpoint.logical_id, endpoint.service_name) if x)
        lines.append("")
        lines.append(f"endpoint {endpoint.endpoint_id}{f' ({names})' if names else ''}:"
                     f" {_count(len(endpoint.requests), 'observed request')}")
        lines.append("  endpoint policy:")
        lines += _statement_lines(endpoint.statements)
    if generated.withheld:
        lines.append("")
        lines.append(f"left out of the endpoint policies: {_count(len(generated.withheld), 'request')} the log shows"
                     " denied (--include-denied adds them):")
        for request in generated.withheld:
            gate = f" by {request.gate}" if request.gate else ""
            lines.append(f"  {request.where}: {request.action} on {request.resource} through {request.endpoint_id}:"
                         f" {request.decision}{gate}")
    if generated.broader:
        lines.append("")
        lines.append(f"broader than observed (patterns stand for more than {generated.threshold} ARNs, or \"*\"):")
        lines += [f"  {b.describe()}" for b in generated.broader]
    lines.append("")
    confirmation = generated.confirmation
    if confirmation is None:
        lines.append("not confirmed: give the TEMPLATEs the log was recorded against to decide every observed"
                     " request again with the generated policies")
    else:
        templates = " ".join(confirmation.sources)
        lines += [f"note: {note}" for note in confirmation.notes]
        total = len(confirmation.results)
        if confirmation.all_allowed:
            kept_out = len(confirmation.withheld) - len(confirmation.withheld_now_allowed)
            verb = "stays" if kept_out == 1 else "stay"
            stays = f"; the {_count(kept_out, 'request')} left out {verb} denied" if kept_out else ""
            lines.append(f"confirmed with {templates}: all {total} observed requests are allowed with the"
                         f" generated policies{stays}")
        else:
            lines.append(f"confirmation with {templates}: {len(confirmation.not_allowed)} of {total} observed"
                         " requests would not be allowed with the generated policies:")
            for result in confirmation.not_allowed:
                gate = f" ({result.gate})" if result.gate else ""
                lines.append(f"  {result.observed.where}: {result.observed.action} on {result.observed.resource}:"
                             f" {result.decision}{gate}")
                if result.message:
                    lines.append(f"    {result.message}")
                lines += [f"    note: {note}" for note in result.notes]
        for result in confirmation.withheld_now_allowed:
            lines.append(f"  {result.observed.where}: {result.observed.action} on {result.observed.resource} was"
                         " denied in the log and is allowed with the generated policies")
        # Notes on allowed requests (a caller decided without its network placement...), once each.
        noted: dict[str, list[str]] = {}
        for result in confirmation.results:
            if result.allowed:
                for note in result.notes:
                    noted.setdefault(note, []).append(result.observed.where)
        for note, where in noted.items():
            lines.append(f"  note ({_count(len(where), 'request')}, first at {where[0]}): {note}")
    if written:
        lines.append("")
        lines.append("wrote " + ", ".join(written))
    return "\n".join(lines) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _statement_lines(statements: Any) -> list[str]:
    lines = []
    for statement in statements:
        lines.append(f"    {statement.sid}: {', '.join(statement.actions)}")
        if statement.principals:
            lines.append(f"      principals: {', '.join(statement.principals)}")
        for pattern in statement.resources:
            more = f"  ({len(pattern.observed)} observed)" if pattern.generalized and pattern.pattern != "*" else ""
            lines.append(f"      on {pattern.pattern}{more}")
    return lines
