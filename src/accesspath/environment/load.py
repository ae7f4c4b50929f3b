"""Load an environment from CloudFormation templates or a native environment file."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace

from accesspath.cfn.nested import TemplateUrlMapping
from accesspath.environment import native
from accesspath.environment.model import Environment
from accesspath.errors import UsageError
from accesspath.files import read_text
from accesspath.policy import Node, Policy, PolicyType, decode_json, parse_policy
from accesspath.policy.source import JsonSyntaxError


def organization_policy_levels(files: Sequence[str], policy_type: PolicyType) -> tuple[tuple[Policy, ...], ...] | None:
    """One level per file, root first; a file holds one policy or a JSON list of policies."""
    if not files:
        return None
    levels = []
    for path in files:
        text = read_text(path)
        try:
            root = decode_json(text, path)
        except JsonSyntaxError as error:
            raise UsageError(f"not valid JSON: {error.message}", source=path, line=error.position.line,
                             column=error.position.column) from None
        nodes: tuple[Node, ...] = root.value if root.is_array else (root,)
        levels.append(tuple(parse_policy(node, policy_type=policy_type, policy_id=f"{path}#{i + 1}", source=path)
                            for i, node in enumerate(nodes)))
    return tuple(levels)


def load_environment(paths: Sequence[str], *, account: str | None = None, region: str | None = None,
                     partition: str = "aws", organization_id: str | None = None,
                     parameters: Mapping[str, str] | None = None, scp_files: Sequence[str] = (),
                     rcp_files: Sequence[str] = (), authorization_details: str | None = None,
                     stacks: Sequence[tuple[str, str]] = (),
                     stack_parameters: Mapping[str, Mapping[str, str]] | None = None,
                     imports: Mapping[str, str] | None = None,
                     template_urls: Sequence[TemplateUrlMapping] = ()) -> Environment:
    """Templates loaded together (exports feed imports, nested stacks followed), or one native environment file,
    or the JSON of ``terraform show -json``.

    ``paths`` are template files or CDK cloud assemblies; ``stacks`` are ``(stack name, file)`` pairs
    (``--stack NAME=FILE``). ``account`` and ``region`` default to a CDK assembly's own when all its stacks
    agree, else to 123456789012 and us-east-1. ``authorization_details``: the JSON of
    ``aws iam get-account-authorization-details``, the source of managed policies and of roles the
    templates reference but do not define.
    """
    from accesspath.cfn import DEFAULT_ACCOUNT, DEFAULT_REGION, is_cloud_assembly
    from accesspath.environment.authorization_details import read_authorization_details, with_roles
    from accesspath.terraform import environment_document, is_terraform_json

    details = read_authorization_details(authorization_details) if authorization_details else None
    if account is not None and not (account.isdigit() and len(account) == 12):
        raise UsageError(f"--account '{account}' is not a 12-digit account id")
    files = [path for path in paths if not is_cloud_assembly(path)]
    texts = [(read_text(path), path) for path in files]
    natives = [path for text, path in texts if native.is_native(text)]
    terraform = [path for text, path in texts if is_terraform_json(text)]
    if terraform:
        if len(paths) != 1 or stacks:
            raise UsageError(f"'{terraform[0]}' is Terraform JSON (terraform show -json): give it alone, not with"
                             " templates")
        document = environment_document(texts[0][0], terraform[0], account=account or DEFAULT_ACCOUNT,
                                        region=region, partition=partition)
        env = native.from_text(json.dumps(document, indent=1),
                               f"{terraform[0]} (as 'accesspath env export' writes it)")
    elif natives:
        if len(paths) != 1 or stacks:
            raise UsageError(f"'{natives[0]}' is an environment file: give it alone, not with templates")
        env = native.from_text(texts[0][0], natives[0])
        if region:
            env = replace(env, region=region)
    else:
        from accesspath.cfn import TemplateSource, load_stacks, template_sources
        from accesspath.environment.from_templates import build_environment

        sources = template_sources(paths) + [TemplateSource.from_path(path, name) for name, path in stacks]
        if not sources:
            raise UsageError("no templates were given")
        deployed_accounts = {s.account for s in sources if s.account}
        deployed_regions = {s.region for s in sources if s.region}
        account = account or (deployed_accounts.pop() if len(deployed_accounts) == 1 else DEFAULT_ACCOUNT)
        region = region or (deployed_regions.pop() if len(deployed_regions) == 1 else DEFAULT_REGION)
        loaded = load_stacks(sources, account=account, region=region, partition=partition,
                             organization_id=organization_id, parameter_overrides=parameters or {},
                             stack_parameters=stack_parameters, imports=imports, template_urls=template_urls)
        env = build_environment(loaded, details.managed if details is not None else None)
    if details is not None:
        env = with_roles(env, details)
    scps = organization_policy_levels(scp_files, PolicyType.SCP)
    rcps = organization_policy_levels(rcp_files, PolicyType.RCP)
    if scps is not None or rcps is not None or (organization_id and not env.organization_id):
        env = replace(env, scps=scps if scps is not None else env.scps, rcps=rcps if rcps is not None else env.rcps,
                      organization_id=organization_id or env.organization_id)
    return env
