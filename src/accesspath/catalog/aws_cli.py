"""Reading an AWS CLI command line with the AWS CLI's own grammar.

``aws s3api get-object --bucket b --key k out.json --region ap-northeast-1`` → ``s3``,
``GetObject``, ``{"Bucket": "b", "Key": "k"}`` and the region. The ``awscli`` package's own
command and argument tables parse the line (global options, positional arguments such as the
output file of ``get-object`` and ``lambda invoke``, shorthand syntax, JSON, ``file://`` and
``fileb://`` values, ``--cli-input-json``), exactly as ``aws`` would before it sends anything;
nothing is sent. The high-level ``aws s3`` commands (``cp``, ``mv``, ``rm``, ``ls``, ``sync``,
``mb``, ``rb``, ``presign``) are read with their own argument tables and turned into the API calls
they make (:mod:`accesspath.catalog.s3_commands`).

The CLI is imported on first use (it costs about half a second), and only for lines that the
precomputed tables of :mod:`accesspath.catalog.aws_cli_table` cannot read exactly as it would.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from accesspath.catalog.calls import ApiCall, IamRequest, iam_requests_for_call
from accesspath.errors import UsageError

# High-level CLI commands that are one API operation.
_CLI_CUSTOMIZATIONS = {("ecr", "get-login-password"): ("ecr", "GetAuthorizationToken")}
# Options that make the CLI print instead of calling (generate-cli-skeleton) are not calls.
_NOT_CALLS = ("--generate-cli-skeleton",)


@dataclass(frozen=True)
class UnresolvedRequest:
    """An IAM request a high-level command makes on resources the line does not name (the keys
    under a prefix that ``--recursive`` or ``sync`` will find)."""

    action: str
    resource_pattern: str
    reason: str


@dataclass(frozen=True)
class CliCall:
    """What an ``aws`` line calls, in order, and the region of ``--region``."""

    calls: tuple[ApiCall, ...]
    region: str | None
    unresolved: tuple[UnresolvedRequest, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def call(self) -> ApiCall:
        """The first call (most lines make exactly one)."""
        if not self.calls:
            raise UsageError("the command makes no API call whose parameters are known")
        return self.calls[0]


def iam_requests_for_cli(parsed: CliCall, **options: Any) -> tuple[IamRequest, ...]:
    """The IAM requests of every call of the line; ``options`` as for :func:`iam_requests_for_call`."""
    requests: list[IamRequest] = []
    for call in parsed.calls:
        requests.extend(iam_requests_for_call(call.service, call.operation, call.params, **options))
    for unresolved in parsed.unresolved:
        requests.append(IamRequest(action=unresolved.action, resource="*", note=unresolved.reason,
                                   unresolved=unresolved.reason, resource_pattern=unresolved.resource_pattern))
    return tuple(requests)


def parse_aws_cli(argv: Sequence[str]) -> CliCall:
    """Parse ``aws SERVICE OPERATION [...]`` (the leading ``aws`` is optional) as the AWS CLI does."""
    words = list(argv)
    if words and words[0] == "aws":
        words = words[1:]
    for word in words:
        if word.split("=", 1)[0] in _NOT_CALLS:
            raise UsageError(f"'{word}' prints a skeleton instead of calling AWS: give the call's parameters")
    if len([w for w in words if not w.startswith("-")]) < 1:
        raise UsageError("expected an AWS CLI command: aws SERVICE OPERATION [--parameter value ...]")
    from accesspath.catalog.aws_cli_table import parse_with_table

    plain = parse_with_table(words)   # a plain line, read from the precomputed tables without the CLI
    if plain is not None:
        service, operation, params, region = plain
        return CliCall((ApiCall(service, operation, params),), region)
    return parse_with_aws_cli(words)


def parse_with_aws_cli(words: list[str]) -> CliCall:
    """Parse a line (without its leading ``aws``) with the AWS CLI's own driver."""
    driver = _driver()
    command_table = driver._get_command_table()
    first = next((w for w in words if not w.startswith("-")), "")
    if first and first not in command_table:
        closest = difflib.get_close_matches(first, list(command_table), n=1)
        hint = f" (did you mean '{closest[0]}'?)" if closest else ""
        raise UsageError(f"unknown AWS service '{first}'{hint}")
    globals_, remaining = _parse(driver._create_parser(command_table), words, "aws")
    from awscli.utils import emit_top_level_args_parsed_event

    emit_top_level_args_parsed_event(driver.session, globals_, remaining)
    driver._emit_session_event(globals_)  # registers the file:// and fileb:// value loaders
    region = globals_.region
    name = globals_.command
    if name == "s3":
        from accesspath.catalog.s3_commands import parse_s3_command

        return parse_s3_command(driver, command_table["s3"], remaining, globals_, region)
    command = command_table.get(name)
    from awscli.clidriver import ServiceCommand, ServiceOperation

    if not isinstance(command, ServiceCommand):
        raise UsageError(f"'aws {name}' is not an AWS service command")
    operation_word = next((w for w in remaining if not w.startswith("-")), None)
    operations = command._get_command_table()
    if operation_word is not None and operation_word not in operations:
        closest = difflib.get_close_matches(operation_word, list(operations), n=1)
        hint = f" (did you mean '{closest[0]}'?)" if closest else ""
        raise UsageError(f"'{operation_word}' is not an operation of '{name}'{hint}")
    parsed, remaining = _parse(command._create_parser(), remaining, f"aws {name}")
    operation = command._get_command_table().get(parsed.operation)
    if (name, parsed.operation) in _CLI_CUSTOMIZATIONS:
        service, api = _CLI_CUSTOMIZATIONS[(name, parsed.operation)]
        return CliCall((ApiCall(service, api, {}),), region)
    if not isinstance(operation, ServiceOperation):
        raise UsageError(f"'aws {name} {parsed.operation}' is a command of the AWS CLI, not one API call:"
                         " give the API operation it makes")
    params = _call_parameters(operation, remaining, globals_, f"aws {name} {parsed.operation}")
    model = operation._operation_model
    return CliCall((ApiCall(model.service_model.service_name, model.name, params),), region)


def _call_parameters(operation: Any, words: list[str], globals_: Any, where: str) -> dict[str, Any]:
    """ServiceOperation.__call__ up to the point where the CLI would send the request."""
    session = operation._session
    session.emit(f"before-building-argument-table-parser.{operation._parent_name}.{operation._name}",
                 argument_table=operation.arg_table, args=words, session=session, parsed_globals=globals_)
    parser = operation._create_operation_parser(operation.arg_table)
    operation._add_help(parser)
    parsed, remaining = _parse(parser, words, where)
    if parsed.help is not None:
        remaining.append(parsed.help)
    if remaining:
        raise UsageError(f"{where}: unknown options: {', '.join(remaining)}")
    session.emit(f"operation-args-parsed.{operation._parent_name}.{operation._name}",
                 parsed_args=parsed, parsed_globals=globals_)
    with _cli_errors(where):
        params: dict[str, Any] = operation._build_call_parameters(parsed, operation.arg_table, globals_)
        override = operation._emit_first_non_none_response(
            f"calling-command.{operation._parent_name}.{operation._name}",
            call_parameters=params, parsed_args=parsed, parsed_globals=globals_)
    if override is not None:
        raise UsageError(f"{where}: the AWS CLI would not call AWS for this line")
    # --max-items, --page-size and --starting-token drive the CLI's paginator, not the request.
    params.pop("PaginationConfig", None)
    _validate(operation._operation_model, params, where)
    return params


def _validate(model: Any, params: dict[str, Any], where: str) -> None:
    """botocore's own validation, which refuses a call before it is signed (missing required
    parameters, wrong types)."""
    from botocore.exceptions import ParamValidationError
    from botocore.validate import validate_parameters

    if model.input_shape is None:
        return
    try:
        validate_parameters(params, model.input_shape)
    except ParamValidationError as error:
        text = " ".join(str(error.kwargs.get("report", error)).split())
        raise UsageError(f"{where}: {text}") from None


def _parse(parser: Any, words: list[str], where: str) -> tuple[Any, list[str]]:
    """argparse through the CLI's parser; its usage error (printed, then exit) becomes one line."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            parsed, remaining = parser.parse_known_args(words)
    except SystemExit:
        lines = [line for line in stderr.getvalue().splitlines() if line.strip()]
        message = lines[-1] if lines else "invalid arguments"
        message = message.split(": error: ", 1)[-1]
        raise UsageError(f"{where}: {message}") from None
    return parsed, list(remaining)


@contextlib.contextmanager
def _cli_errors(where: str) -> Any:
    """The CLI's errors in reading a value (shorthand, JSON, file://) as one line."""
    from awscli.argprocess import ParamError, ParamSyntaxError, ParamUnknownKeyError
    from awscli.paramfile import ResourceLoadingError

    try:
        yield
    except (ParamError, ParamSyntaxError, ParamUnknownKeyError, ResourceLoadingError, ValueError) as error:
        raise UsageError(f"{where}: {' '.join(str(error).split())}") from None


@functools.lru_cache(maxsize=1)
def _driver() -> Any:
    """The AWS CLI's driver with its built-in plugins only (no user plugins from ~/.aws/config)."""
    # botocore first: importing awscli installs an import alias that would otherwise load its own
    # bundled copy of botocore under the same name, beside the one the rest of accesspath uses.
    import botocore.session
    from awscli.clidriver import CLIDriver
    from awscli.plugin import load_plugins

    session = botocore.session.Session()
    # The command line is read, never sent: no profile, credentials or config file are needed,
    # and a profile the machine does not have must not fail the parse.
    session.set_config_variable("profile", None)
    load_plugins({}, event_hooks=session.get_component("event_emitter"))
    return CLIDriver(session=session)
