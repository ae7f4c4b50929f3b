"""Reading an AWS CLI command line into an API call (service, operation, parameters).

``aws ecs describe-clusters --clusters a b --region ap-northeast-1`` → ``ecs``,
``DescribeClusters``, ``{"clusters": ["a", "b"]}`` and the region. Values follow the CLI's rules
for simple types: lists as several words, structures and maps in shorthand (``k=v,k2=v2``) or
JSON (https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-shorthand.html). ``file://``
values and ``--cli-input-json`` are not read (this tool never touches local files for a call).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from accesspath.catalog.botocore_models import (
    operation_for_cli_name,
    service_model,
    xform_name,
)
from accesspath.catalog.calls import ApiCall
from accesspath.errors import UsageError

# CLI command names that differ from botocore's service names.
_CLI_SERVICES = {"s3api": "s3", "configservice": "config", "deploy": "codedeploy"}
# High-level CLI commands that are one API operation.
_CLI_CUSTOMIZATIONS = {("ecr", "get-login-password"): "GetAuthorizationToken"}
# Global options: those that take a value, and flags.
_GLOBAL_WITH_VALUE = {"--region", "--profile", "--output", "--endpoint-url", "--query", "--color",
                      "--ca-bundle", "--cli-read-timeout", "--cli-connect-timeout", "--cli-binary-format"}
_GLOBAL_FLAGS = {"--debug", "--no-verify-ssl", "--no-paginate", "--no-sign-request", "--no-cli-pager",
                 "--cli-auto-prompt", "--no-cli-auto-prompt"}
# Pagination options the CLI adds to paginated operations; they do not change authorization.
_PAGINATION = {"--starting-token", "--page-size", "--max-items"}


@dataclass(frozen=True)
class CliCall:
    call: ApiCall
    region: str | None


def parse_aws_cli(argv: Sequence[str]) -> CliCall:
    """Parse ``aws SERVICE OPERATION [--param value...]`` (the leading ``aws`` is optional)."""
    words = list(argv)
    if words and words[0] == "aws":
        words = words[1:]
    region: str | None = None
    positional: list[str] = []
    options: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        name = word.split("=", 1)[0]
        if name in _GLOBAL_WITH_VALUE:
            value, index = _option_value(words, index, word)
            if name == "--region":
                region = value
            continue
        if word in _GLOBAL_FLAGS:
            index += 1
            continue
        if len(positional) < 2 and not word.startswith("--"):
            positional.append(word)
        else:
            options.append(word)
        index += 1
    if len(positional) < 2:
        raise UsageError("expected an AWS CLI command: aws SERVICE OPERATION [--parameter value ...]")
    cli_service, cli_operation = positional
    if cli_service == "s3":
        raise UsageError("'aws s3' high-level commands are not API calls; use 'aws s3api' (e.g. 's3api list-objects-v2')")
    service = _CLI_SERVICES.get(cli_service, cli_service)
    if (service, cli_operation) in _CLI_CUSTOMIZATIONS:
        return CliCall(ApiCall(service, _CLI_CUSTOMIZATIONS[(service, cli_operation)], {}), region)
    operation = operation_for_cli_name(service, cli_operation)
    return CliCall(ApiCall(service, operation, _parameters(service, operation, options)), region)


def _option_value(words: list[str], index: int, word: str) -> tuple[str, int]:
    if "=" in word:
        return word.split("=", 1)[1], index + 1
    if index + 1 >= len(words):
        raise UsageError(f"option '{word}' needs a value")
    return words[index + 1], index + 2


def _parameters(service: str, operation: str, words: list[str]) -> dict[str, Any]:
    shape = service_model(service).operation_model(operation).input_shape
    members = dict(shape.members) if shape is not None else {}
    by_option = {"--" + xform_name(name, "-"): name for name in members}
    params: dict[str, Any] = {}
    index = 0
    while index < len(words):
        word = words[index]
        if not word.startswith("--"):
            raise UsageError(f"unexpected value '{word}' (every value follows an --option)")
        option, _, inline = word.partition("=")
        values: list[str] = [inline] if inline else []
        index += 1
        while not inline and index < len(words) and not words[index].startswith("--"):
            values.append(words[index])
            index += 1
        if option == "--cli-input-json" or option == "--cli-input-yaml":
            raise UsageError(f"'{option}' is not read; give the parameters as options")
        if option in _PAGINATION:
            continue
        negated = option.startswith("--no-") and ("--" + option[5:]) in by_option
        key = by_option.get("--" + option[5:] if negated else option)
        if key is None:
            raise UsageError(f"'{option}' is not a parameter of '{xform_name(operation, '-')}'")
        params[key] = _value(members[key], values, option, negated)
    return params


def _value(shape: Any, values: list[str], option: str, negated: bool) -> Any:
    kind = shape.type_name
    if kind == "boolean":
        if values:
            raise UsageError(f"'{option}' is a flag and takes no value")
        return not negated
    if not values:
        raise UsageError(f"option '{option}' needs a value")
    if any(v.startswith(("file://", "fileb://")) for v in values):
        raise UsageError(f"'{option}': file:// values are not read; give the value inline")
    if kind == "list":
        if len(values) == 1 and values[0].lstrip().startswith("["):
            return _json(values[0], option)
        return [_value(shape.member, [v], option, False) for v in values]
    if len(values) > 1:
        raise UsageError(f"option '{option}' takes one value, got {len(values)}")
    text = values[0]
    if kind in ("structure", "map"):
        return _json(text, option) if text.lstrip().startswith("{") else _shorthand(shape, text, option)
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"option '{option}' takes a whole number, not '{text}'") from None
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            raise UsageError(f"option '{option}' takes a number, not '{text}'") from None
    return text


def _shorthand(shape: Any, text: str, option: str) -> dict[str, Any]:
    """``k=v,k2=v2`` (values with commas or nesting need JSON)."""
    result: dict[str, Any] = {}
    for pair in text.split(","):
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise UsageError(f"option '{option}': '{text}' is not shorthand 'Key=Value,...' (use JSON for nested values)")
        key = key.strip()
        if shape.type_name == "structure":
            member = next((m for m in shape.members if m.lower() == key.lower()), None)
            if member is None:
                raise UsageError(f"option '{option}': '{key}' is not a field of {shape.name}")
            result[member] = _shorthand_scalar(shape.members[member], value, option)
        else:
            result[key] = value
    return result


def _shorthand_scalar(shape: Any, value: str, option: str) -> Any:
    if shape.type_name == "boolean":
        if value.lower() not in ("true", "false"):
            raise UsageError(f"option '{option}': '{value}' is not true or false")
        return value.lower() == "true"
    if shape.type_name in ("structure", "map", "list"):
        raise UsageError(f"option '{option}': nested values need JSON, not shorthand")
    return _value(shape, [value], option, False)


def _json(text: str, option: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"option '{option}': invalid JSON ({error.msg} at column {error.colno})") from None
