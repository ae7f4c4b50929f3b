"""Reading the emulator's decision log: bad lines are errors with file:line, skipped lines are counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from accesspath.cli import main
from accesspath.errors import UsageError
from accesspath.generate import read_decision_log

LOGS = Path(__file__).resolve().parent / "logs"


def test_every_bad_line_is_named_with_file_and_line(capsys) -> None:
    log = str(LOGS / "malformed.jsonl")
    code = main(["policy", "generate", "--from-log", log])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    err = captured.err
    assert f"{log}:2:268: not valid JSON" in err
    assert f"{log}:3: a decision-log entry must be a JSON object, not a list" in err
    assert f"{log}:4: 'requests[0].action' must be an IAM action" in err
    assert f"{log}:5: 'requests' is missing" in err
    assert "4 lines are not decision-log entries; nothing was generated" in err
    assert "Traceback" not in err


def test_a_single_bad_line_is_a_usage_error_with_its_position() -> None:
    good = LOGS.joinpath("seed000-ecs.jsonl").read_text().splitlines()
    text = "\n".join([good[0], '{"principal": 7, "requests": []}', good[1]])
    with pytest.raises(UsageError) as raised:
        read_decision_log(text, "decisions.jsonl")
    assert raised.value.source == "decisions.jsonl" and raised.value.line == 2
    assert "'principal' must be a string, not a number" in str(raised.value)


def test_wrong_types_inside_a_request_are_errors() -> None:
    line = ('{"principal": "arn:aws:sts::123456789012:assumed-role/r/s", "requests": [{"action": "ecs:ListClusters",'
            ' "resource": "*", "path": {"kind": "interface-endpoint", "endpointId": 12}}]}')
    with pytest.raises(UsageError, match=r"'requests\[0\]\.path\.endpointId' must be a string or null"):
        read_decision_log(line, "log")


def test_skipped_lines_are_counted_with_their_reason(capsys) -> None:
    log = read_decision_log(LOGS.joinpath("skipped.jsonl").read_text(), "skipped.jsonl")
    assert log.lines == 6 and log.calls == 2 and len(log.requests) == 2
    reasons = {s.reason: s.lines for s in log.skipped}
    assert reasons == {
        "blank": (2,),
        "no principal: an unsigned call has no role to generate a policy for": (3,),
        "the principal is not a role session: only roles get generated policies": (4,),
        "the call has no IAM requests": (5,),
    }
    # The CLI says so too: nothing is dropped silently.
    code = main(["policy", "generate", "--from-log", str(LOGS / "skipped.jsonl")])
    out = capsys.readouterr().out
    assert code == 0
    assert "1 line skipped, the call has no IAM requests: " in out and "skipped.jsonl:5" in out
    assert "1 line skipped, the principal is not a role session" in out


def test_fields_the_reader_does_not_use_are_ignored() -> None:
    log = read_decision_log(LOGS.joinpath("skipped.jsonl").read_text(), "skipped.jsonl")
    first = log.requests[0]
    assert (first.action, first.resource, first.caller_id, first.call) == ("ecs:ListClusters", "*", "Web",
                                                                          "ecs ListClusters")
    assert first.role_name == "app-task-role" and first.role_arn == "arn:aws:iam::123456789012:role/app-task-role"
    assert first.path is not None and first.path.kind == "nat-gateway" and first.endpoint_id is None


def test_unreachable_requests_are_still_observed_needs() -> None:
    log = read_decision_log(LOGS.joinpath("skipped.jsonl").read_text(), "skipped.jsonl")
    unreachable = [r for r in log.requests if r.decision == "unreachable"]
    assert [r.action for r in unreachable] == ["ecs:DescribeClusters"] and unreachable[0].line == 6


def test_a_log_without_role_requests_is_an_error(capsys, tmp_path) -> None:
    log = tmp_path / "anonymous.jsonl"
    log.write_text(LOGS.joinpath("skipped.jsonl").read_text().splitlines()[2] + "\n")
    code = main(["policy", "generate", "--from-log", str(log)])
    err = capsys.readouterr().err
    assert code == 2 and "no requests made by a role" in err and "1 line" not in err


def test_reads_what_the_emulator_writes() -> None:
    # The emulator is built alongside; its writer and this reader must agree on the format.
    from accesspath.emulator import decision_log as emulator_log
    import json

    from accesspath.catalog import IamRequest
    from accesspath.environment import Decider, load_environment, resolve_caller

    template = Path(__file__).resolve().parents[2] / "examples" / "seed004-logs-endpoint-policy" / "template.yaml"
    env = load_environment([str(template)], region="ap-northeast-1")
    caller = resolve_caller(env, "LogsInstance")
    stream = "arn:aws:logs:ap-northeast-1:123456789012:log-group:logs-test-denied:log-stream:s"
    decision = Decider(env).decide(caller, IamRequest("logs:PutLogEvents", stream))
    entry = emulator_log.log_entry(caller=caller, service="logs", operation="PutLogEvents", decisions=[decision],
                                   decision=decision.decision, status=400)
    log = read_decision_log(json.dumps(entry, separators=(",", ":")) + "\n", "emulator.jsonl")
    (observed,) = log.requests
    assert (observed.role_name, observed.caller_id, observed.action, observed.resource) == (
        "ec2-logs-fullaccess-role", "LogsInstance", "logs:PutLogEvents", stream)
    assert observed.decision == "implicitDeny" and observed.gate == "vpc-endpoint"
    assert observed.endpoint_id == "vpce-e7f79f36159935817" and observed.path is not None
    assert observed.path.region == "ap-northeast-1" and observed.path.short_service == "logs"
