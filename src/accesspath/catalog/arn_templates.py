"""ARN templates of the Service Authorization Reference, compiled to regular expressions.

A template such as ``arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}`` is
matched against a concrete ARN. A placeholder matches within its own segment, as AWS formats
ARNs: it never spans ``:`` (so a log-stream ARN is not also a log-group ARN), and it spans ``/``
only where AWS documents that the name is hierarchical (IAM paths, log group names, ECR
repository namespaces, SSM parameter hierarchies...) and no ``/`` follows it in the template.
S3 object keys may hold any character, ``:`` included.
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html)
"""

from __future__ import annotations

import functools
import re

# Placeholders whose values may contain "/" (documented naming rules of each service).
_HIERARCHICAL = frozenset({
    "LogGroupName",  # logs: [\.\-_/#A-Za-z0-9]+ (CreateLogGroup API reference)
    "LogStreamName",  # logs: any character but ":" and "*"
    "RepositoryName",  # ecr: namespaces "team/app" (CreateRepository API reference)
    "ParameterNameWithoutLeadingSlash",  # ssm: hierarchies "a/b/c"
    "SecretId",  # secretsmanager: names allow "/_+=.@-"
    "Alias",  # kms: alias names allow "/" ("alias/team/key")
    "EventBusName",  # events: partner buses "aws.partner/..."
    "EventSourceName",  # events: partner event sources "aws.partner/..."
    "RoleName",  # ssm's iam-role template; a role path is part of the name there
    "ResourcePath",
    "EntityPath",
})
# Placeholders whose values may contain anything, ":" included.
_ANY_CHARACTER = frozenset({"ObjectName"})  # s3 object keys: any UTF-8 character

_FIXED = {
    "Partition": r"aws(?:-[a-z]+)*",
    "Region": r"[a-z]{2}(?:-[a-z]+)+-\d+",
    # IAM documents "aws" as the account of AWS managed policies (arn:aws:iam::aws:policy/...).
    "Account": r"(?:\d{12}|aws)",
}

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def placeholder_regex(name: str, next_literal: str) -> str:
    """The regex one placeholder compiles to, given the literal text that follows it."""
    if name in _FIXED:
        return _FIXED[name]
    if name in _ANY_CHARACTER and not next_literal:
        return r".+"
    if (name in _HIERARCHICAL or name.endswith("WithPath")) and not next_literal.startswith("/"):
        return r"[^:]+"
    return r"[^:/]+"


@functools.lru_cache(maxsize=4096)
def compile_arn_template(template: str) -> re.Pattern[str]:
    """Compile a Service Authorization Reference ARN template to an anchored regex."""
    parts: list[str] = []
    position = 0
    matches = list(_PLACEHOLDER.finditer(template))
    for index, match in enumerate(matches):
        parts.append(re.escape(template[position:match.start()]))
        end_of_next = matches[index + 1].start() if index + 1 < len(matches) else len(template)
        parts.append(f"(?:{placeholder_regex(match.group(1), template[match.end():end_of_next])})")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts))


def template_variables(template: str) -> tuple[str, ...]:
    """The placeholder names of a template, in order (``("Partition", "Region", ...)``)."""
    return tuple(_PLACEHOLDER.findall(template))


def fill_template(template: str, values: dict[str, str]) -> str:
    """Substitute ``${Var}`` placeholders; a missing variable is a ``KeyError`` (fail closed)."""
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


@functools.lru_cache(maxsize=4096)
def _capturing_regex(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    matches = list(_PLACEHOLDER.finditer(template))
    for index, match in enumerate(matches):
        parts.append(re.escape(template[position:match.start()]))
        name = match.group(1)
        end_of_next = matches[index + 1].start() if index + 1 < len(matches) else len(template)
        if name in seen:
            parts.append(f"(?P={_group(name)})")
        else:
            seen.add(name)
            regex = placeholder_regex(name, template[match.end():end_of_next])
            parts.append(f"(?P<{_group(name)}>{regex})")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts))


def _group(name: str) -> str:
    return "v_" + re.sub(r"\W", "_", name)


def parse_arn(template: str, arn: str) -> dict[str, str] | None:
    """The placeholder values of ``arn`` read through ``template``, or None if it does not match.

    ``parse_arn("arn:${Partition}:ecs:${Region}:${Account}:cluster/${ClusterName}",
    "arn:aws:ecs:us-east-1:123456789012:cluster/prod")`` gives ``{"Partition": "aws", ...,
    "ClusterName": "prod"}``.
    """
    match = _capturing_regex(template).fullmatch(arn)
    if match is None:
        return None
    names = template_variables(template)
    return {name: match.group(_group(name)) for name in dict.fromkeys(names)}
