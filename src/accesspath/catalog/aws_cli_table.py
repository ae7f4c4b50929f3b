"""The AWS CLI's command and argument tables, precomputed, for reading plain ``aws`` lines without
loading the AWS CLI (about 0.2 s of start-up: botocore's session, every customization, the service's
model).

A line is read from the table only when the table says exactly what the AWS CLI would do with it:
``aws [--region R] [--output O] [--profile P] SERVICE OPERATION`` followed by options of an
operation that no customization touches, each option once, with plain values (strings that name no
``file://``-style location, digits for integers, flags for booleans, words for lists of strings),
every required member present and every length and range minimum botocore checks met. Anything else
(shorthand, JSON, ``file://``, positional arguments, pagination options, ``aws s3``, an unknown name,
a value botocore would refuse) goes to the AWS CLI itself (:mod:`accesspath.catalog.aws_cli`),
which parses it or says what is wrong. The table is used only when the installed ``awscli`` and
``botocore`` are the versions it was generated from, and nothing on the machine can change the
models the CLI would load (``AWS_DATA_PATH``, ``~/.aws/models``, ``api_versions`` in the config).

Regenerate with ``python -m accesspath.catalog.aws_cli_table refresh`` (the services in
:data:`SERVICES`; ``--services all`` for every one) after upgrading either
package; tests/catalog/test_aws_cli_table.py fails until then, and compares the table with a fresh
generation and the AWS CLI's own parse.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Sequence
from importlib import resources
from typing import Any

from accesspath.catalog.packed_json import PackedJson

TABLE = "data/aws_cli_commands.packed"
GLOBALS_WITH_VALUE = ("--region", "--output", "--profile")

# Handlers that the AWS CLI runs for every operation and that leave plain values as they are (read in
# awscli 1.46): required-argument overrides for --cli-input-json / --generate-cli-skeleton (neither is
# in the table), endpoint overrides, pagination checks on options that are not in the table, the
# shorthand parser (lists and structures only) and file:// loading (values naming a location are not
# taken). An operation with any other handler is left to the AWS CLI.
GENERIC_HANDLERS = frozenset({
    "awscli.customizations.arguments:OverrideRequiredArgsArgument.override_required_args",
    "awscli.customizations.generatecliskeleton:GenerateCliSkeletonArgument.override_required_args",
    "awscli.customizations.generatecliskeleton:GenerateCliSkeletonArgument.generate_json_skeleton",
    "awscli.customizations.cliinputjson:CliInputJSONArgument.add_to_call_parameters",
    "awscli.customizations.overridesslcommonname:update_endpoint_url",
    "awscli.customizations.paginate:check_should_enable_pagination",
    "awscli.customizations.paginate:check_should_enable_pagination_call_parameters",
    "awscli.argprocess:ParamShorthandParser",
    "awscli.paramfile:URIArgumentHandler",
})
_DIGITS = re.compile(r"[0-9]+\Z")

# The service commands precomputed by default: what ECS workloads and their operators call. Lines for
# any other service are read by the AWS CLI, as before.
SERVICES = ("application-autoscaling", "autoscaling", "cloudformation", "cloudwatch", "dynamodb", "ec2", "ecr",
            "ecs", "efs", "elbv2", "events", "firehose", "iam", "kinesis", "kms", "lambda", "logs", "rds", "s3api",
            "secretsmanager", "servicediscovery", "sns", "sqs", "ssm", "ssmmessages", "sts", "xray")


def installed_versions() -> dict[str, str]:
    """The versions of the installed awscli and botocore, read from their files without importing them."""
    from importlib.machinery import PathFinder

    versions = {}
    for package in ("awscli", "botocore"):
        # The path finder alone: awscli's import hook would answer with the botocore copy it bundles,
        # which is not the one accesspath imports first and the CLI driver runs on.
        spec = PathFinder.find_spec(package)
        text = open(spec.origin, encoding="utf-8").read() if spec and spec.origin else ""  # noqa: SIM115
        found = re.search(r"^__version__ = ['\"]([^'\"]+)['\"]", text, re.MULTILINE)
        versions[package] = found.group(1) if found else "?"
    return versions


def _models_can_differ() -> bool:
    """Whether this machine can make the AWS CLI load other models than the table was built from."""
    from importlib.util import find_spec

    data_path = os.environ.get("AWS_DATA_PATH")
    if data_path:
        # Importing awscli sets AWS_DATA_PATH to its own data folder; any other folder is the user's.
        spec = find_spec("awscli")
        own = os.path.join(os.path.dirname(os.path.abspath(spec.origin)), "data") if spec and spec.origin else ""
        if data_path != own:
            return True
    if os.path.isdir(os.path.join(os.path.expanduser("~"), ".aws", "models")):
        return True
    config = os.environ.get("AWS_CONFIG_FILE") or os.path.join(os.path.expanduser("~"), ".aws", "config")
    try:
        with open(config, encoding="utf-8", errors="replace") as handle:
            return "api_versions" in handle.read()
    except OSError:
        return False


@functools.lru_cache(maxsize=1)
def _table() -> PackedJson | None:
    try:
        packed = PackedJson(resources.files("accesspath").joinpath(TABLE).read_bytes(), TABLE)
    except (OSError, ValueError):
        return None
    if packed.header.get("versions") != installed_versions() or _models_can_differ():
        return None
    # A process where awscli was imported before botocore runs on the botocore copy awscli bundles.
    loaded = sys.modules.get("botocore")
    if loaded is not None and getattr(loaded, "__version__", None) != packed.header["versions"]["botocore"]:
        return None
    return packed


@functools.lru_cache(maxsize=64)
def _service(name: str) -> dict[str, Any] | None:
    table = _table()
    return table.member(name) if table is not None and name in table else None


def parse_with_table(words: Sequence[str]) -> tuple[str, str, dict[str, Any], str | None] | None:
    """``(service, operation, parameters, region)`` of a plain line, as the AWS CLI would read it;
    None when the table cannot say (the caller then asks the AWS CLI)."""
    table = _table()
    if table is None:
        return None
    global_names: list[str] = table.header["globals"]
    rest: list[str] = []
    found: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word in GLOBALS_WITH_VALUE:
            if word in found or i + 1 >= len(words) or words[i + 1].startswith("-"):
                return None
            found[word] = words[i + 1]
            i += 2
            continue
        rest.append(word)
        i += 1
    if found.get("--output", "json") not in table.header["outputs"]:
        return None
    if len(rest) < 2 or rest[0].startswith("-") or rest[1].startswith("-"):
        return None
    service = _service(rest[0])
    operation = service["operations"].get(rest[1]) if service else None
    if service is None or operation is None:
        return None
    api_name, arguments, required = operation
    # A parameter takes the place of its first option in the table (--no-X builds X where --X does).
    first: dict[str, int] = {}
    for position, arg in enumerate(arguments):
        first.setdefault(arg[1], position)
    options = {arg[0]: (first[arg[1]], arg) for arg in arguments}
    chosen: dict[int, Any] = {}
    members: set[str] = set()
    i = 2
    while i < len(rest):
        word = rest[i]
        # argparse would take a word the global parser knows, or a prefix of one, as that global option.
        if word not in options or any(name.startswith(word) for name in global_names):
            return None
        position, (_, member, kind, minimum) = options[word]
        if member in members:
            return None
        members.add(member)
        values = []
        i += 1
        while i < len(rest) and not rest[i].startswith("-"):
            values.append(rest[i])
            i += 1
        value = _value(kind, minimum, values)
        if value is None:
            return None
        chosen[position] = (member, value)
    if any(member not in members for member in required):
        return None
    # The AWS CLI builds the parameters in its argument table's order.
    params = dict(chosen[position] for position in sorted(chosen))
    return service["service"], api_name, params, found.get("--region")


def _value(kind: str, minimum: Any, values: list[str]) -> Any:
    """A value as the AWS CLI unpacks it, or None where only the AWS CLI can say."""
    if kind in ("true", "false"):
        return (kind == "true") if not values else None
    if kind == "list":
        if not values or any("://" in v or v.strip().startswith("[") for v in values):
            return None
        least, item_least = minimum
        if (least is not None and len(values) < least) or (
                item_least is not None and any(len(v) < item_least for v in values)):
            return None
        return values
    if len(values) != 1 or "://" in values[0]:
        return None
    if kind == "integer":
        if not _DIGITS.match(values[0]):
            return None
        number = int(values[0])
        return number if minimum is None or number >= minimum else None
    return values[0] if minimum is None or len(values[0]) >= minimum else None


# -- generating the table from the installed AWS CLI ----------------------------------------------

def _handler_names(emitter: Any, event: str) -> set[str]:
    if hasattr(emitter, "_alias_event_name"):
        event = emitter._alias_event_name(event)
    inner = getattr(emitter, "_emitter", emitter)
    names = set()
    for handler in inner._handlers.prefix_search(event):
        function = getattr(handler, "func", handler)   # functools.partial
        qualname = getattr(function, "__qualname__", None) or type(function).__qualname__
        names.add(f"{getattr(function, '__module__', None) or type(function).__module__}:{qualname}")
    return names


def _minimum(shape: Any) -> Any:
    if "min" in shape.metadata:
        return shape.metadata["min"]
    return 1 if getattr(shape, "serialization", {}).get("hostLabel") else None


def _argument(name: str, argument: Any) -> list[Any] | None:
    """``[--name, Member, kind, minimum]`` for an argument the table can read, else None."""
    from awscli.arguments import BooleanArgument, CLIArgument, ListArgument
    from botocore.utils import is_json_value_header

    if type(argument) not in (BooleanArgument, CLIArgument, ListArgument):
        return None
    model = argument.argument_model
    if is_json_value_header(model) or getattr(model, "is_document_type", False):
        return None
    member = argument._serialized_name
    if type(argument) is BooleanArgument and model.type_name == "boolean":
        return [f"--{name}", member, "false" if argument._action == "store_false" else "true", None]
    if type(argument) is ListArgument and model.type_name == "list" and model.member.type_name == "string" \
            and not getattr(model.member, "is_document_type", False):
        return [f"--{name}", member, "list", [_minimum(model), _minimum(model.member)]]
    if type(argument) is CLIArgument and model.type_name == "string":
        return [f"--{name}", member, "string", _minimum(model)]
    if type(argument) is CLIArgument and model.type_name in ("integer", "long"):
        return [f"--{name}", member, "integer", _minimum(model)]
    return None


def _needs_what_the_table_lacks(table: Any, arguments: list[list[Any]]) -> bool:
    """An operation with a positional argument, or a required one the table cannot read (the output
    file of ``s3api get-object``), is left to the AWS CLI: a line without it is not a call."""
    taken = {found[0] for found in arguments}
    return any(getattr(argument, "positional_arg", False)
               or (getattr(argument, "required", False) and f"--{name}" not in taken)
               for name, argument in table.items())


def _driver_after_a_parse() -> Any:
    # The session as a parse leaves it: session-initialized handlers (file:// loading) registered.
    from accesspath.catalog.aws_cli import _driver, parse_with_aws_cli

    parse_with_aws_cli(["sts", "get-caller-identity"])
    return _driver()


def generate(services: Sequence[str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The table's header and its members (one per service command) from the installed AWS CLI."""
    driver = _driver_after_a_parse()   # first: it imports botocore before awscli can alias its own copy
    from awscli.clidriver import ServiceCommand, ServiceOperation
    from botocore import xform_name

    emitter = driver.session.get_component("event_emitter")
    commands = driver._get_command_table()
    global_names = sorted({f"--{name}" for name in driver._get_argument_table()} | {"--version"})
    outputs = sorted(driver._get_argument_table()["output"].choices or ())
    members: dict[str, Any] = {}
    for name in sorted(commands if services is None else services):
        command = commands.get(name)
        if type(command) is not ServiceCommand:
            continue
        operations: dict[str, Any] = {}
        for op_name, operation in command._get_command_table().items():
            if type(operation) is not ServiceOperation:
                continue
            model = operation._operation_model
            if model.input_shape is not None and getattr(model.input_shape, "is_union", False):
                continue
            table = operation.arg_table
            events = [f"before-building-argument-table-parser.{name}.{op_name}",
                      f"operation-args-parsed.{name}.{op_name}", f"calling-command.{name}.{op_name}",
                      f"process-cli-arg.{model.service_model.service_name}.{xform_name(model.name, '-')}"]
            events += [f"load-cli-arg.{model.service_model.endpoint_prefix}.{op_name}.{arg}" for arg in table]
            if any(_handler_names(emitter, event) - GENERIC_HANDLERS for event in events):
                continue
            arguments = [found for arg_name, argument in table.items() if (found := _argument(arg_name, argument))]
            if _needs_what_the_table_lacks(table, arguments):
                continue
            required = sorted(model.input_shape.required_members) if model.input_shape is not None else []
            operations[op_name] = [model.name, arguments, required]
        members[name] = {"service": command.service_model.service_name, "operations": operations}
    header = {"versions": installed_versions(), "globals": global_names, "outputs": outputs}
    return header, members


def refresh(argv: list[str] | None = None) -> int:
    import argparse

    from accesspath.catalog.packed_json import pack_json

    parser = argparse.ArgumentParser(prog="python -m accesspath.catalog.aws_cli_table refresh",
                                     description="rewrite the precomputed AWS CLI command table")
    parser.add_argument("-o", "--output", default=str(resources.files("accesspath").joinpath(TABLE)),
                        help="where to write (default: the bundled " + TABLE + ")")
    parser.add_argument("--services", nargs="+", default=list(SERVICES), metavar="NAME",
                        help="the service commands to precompute (default: those ECS workloads call; 'all' for every"
                             " one, which takes minutes); lines for other services are read by the AWS CLI")
    args = parser.parse_args(argv)
    header, members = generate(None if args.services == ["all"] else args.services)
    with open(args.output, "wb") as out:
        out.write(pack_json(header, members))
    operations = sum(len(m["operations"]) for m in members.values())
    print(f"{len(members)} services, {operations} operations ({header['versions']}) written to {args.output}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "refresh":
        raise SystemExit("usage: python -m accesspath.catalog.aws_cli_table refresh [-o OUTPUT]")
    raise SystemExit(refresh(sys.argv[2:]))
