"""Bad input is one line and exit status 2, never a traceback, a hang or a blowup (issue 17, observation 9).

Each test is one sub-case of the observation, run through the command line as a user would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accesspath.cfn.allowed_pattern import allowed_pattern_matches
from accesspath.cli import main
from accesspath.cli.output import escape_unprintable

ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})
TOPIC = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(code: int, err: str, where: str) -> str:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert where in lines[0], lines[0]
    return lines[0]


# -- text output -------------------------------------------------------------------------------

def simulate_request(tmp_path: Path, resource: str) -> str:
    path = tmp_path / "request.json"
    # json.dumps writes a lone surrogate as the escape \ud800, which the reader turns back into one
    path.write_text(json.dumps({"PolicyInputList": [ALLOW_ALL], "ActionNames": ["s3:GetObject"],
                                "ResourceArns": [resource]}))
    return str(path)


def test_a_lone_surrogate_is_escaped_in_text_output(tmp_path: Path, capsys) -> None:
    code, out, err = run(["simulate", simulate_request(tmp_path, "arn:aws:s3:::b/\ud800"), "--format", "text"], capsys)
    assert code == 0 and err == ""
    assert "arn:aws:s3:::b/\\ud800: allowed" in out
    out.encode("utf-8")  # what reaches the terminal is printable UTF-8


def test_json_output_stays_json_with_the_same_meaning(tmp_path: Path, capsys) -> None:
    resource = "arn:aws:s3:::b/\ud800\x1b]0;owned\x07\x85"
    code, out, _ = run(["simulate", simulate_request(tmp_path, resource)], capsys)
    assert code == 0 and "\x1b" not in out and "\x85" not in out
    assert json.loads(out)["EvaluationResults"][0]["EvalResourceName"] == resource


def test_terminal_controls_are_escaped_but_colours_kept() -> None:
    assert escape_unprintable("a\x1b]0;title\x07b\tc\n") == "a\\u001b]0;title\\u0007b\tc\n"
    assert escape_unprintable("\x1b[31merror\x1b[0m") == "\x1b[31merror\x1b[0m"


# -- templates ---------------------------------------------------------------------------------

def template_error(tmp_path: Path, capsys, text: str) -> str:
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    code, _, err = run(["env", "show", str(path)], capsys)
    return one_line_error(code, err, f"{path}:")


def test_a_control_character_in_yaml(tmp_path: Path, capsys) -> None:
    line = template_error(tmp_path, capsys, TOPIC + "    Properties:\n      TopicName: \"a\x01b\"\n")
    assert "stack.yaml:5:20:" in line and "U+0001" in line


def test_an_integer_of_4301_digits(tmp_path: Path, capsys) -> None:
    line = template_error(tmp_path, capsys, TOPIC + "    Properties:\n      TopicName: " + "9" * 4301 + "\n")
    assert "stack.yaml:5:18:" in line and "4,300 digits" in line


def test_500_levels_of_nesting(tmp_path: Path, capsys) -> None:
    line = template_error(tmp_path, capsys, TOPIC + "    Metadata:\n      X: " + "[" * 500 + "]" * 500 + "\n")
    assert "nesting deeper than 200 levels" in line


def test_aliases_that_expand_without_bound_even_under_metadata(tmp_path: Path, capsys) -> None:
    # 483 bytes that stand for 9**8 values: once 32 s and 1.25 GB. Refused before anything is expanded.
    lines = ["Metadata:", "  a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 8)]
    line = template_error(tmp_path, capsys, "\n".join(lines) + "\n" + TOPIC)
    assert "aliases expand to more than 100,000" in line


def test_a_few_aliases_are_still_read(tmp_path: Path, capsys) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text("Metadata:\n  tags: &tags [a, b]\n  again: *tags\n" + TOPIC)
    code, _, err = run(["env", "show", str(path)], capsys)
    assert code == 0, err


def test_an_allowed_pattern_that_backtracks_forever_is_matched_in_linear_time(tmp_path: Path, capsys) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text("Parameters:\n  Name:\n    Type: String\n    AllowedPattern: '(a+)+$'\n"
                    f"    Default: {'a' * 40000}b\n" + TOPIC)
    code, _, err = run(["env", "show", str(path)], capsys)
    assert "does not match its AllowedPattern" in one_line_error(code, err, f"{path}:5:")


def test_an_allowed_pattern_re2_cannot_run_is_reported_not_checked() -> None:
    assert allowed_pattern_matches(r"(a)\1", "aa") is None
    assert allowed_pattern_matches(r"[a-z][a-z0-9-]*", "web-1") is True
    assert allowed_pattern_matches(r"[a-z]+", "Web") is False


# -- native environment files ----------------------------------------------------------------

HEAD = '{"accesspath-environment": 1, "account": "123456789012", "region": "us-east-1",\n'


@pytest.mark.parametrize("body, expected", [
    (' "partition": "aws-moon"}', "'aws-moon': not a partition"),
    (' "roles": [{"name": "r", "arn": "not-an-arn"}]}', "'not-an-arn': an ARN has the form"),
    (' "resources": [{"kind": "s3-bucket", "arn": "arn:aws-moon:s3:::b"}]}', "'aws-moon' is not a partition"),
    (' "notModelled": ["AWS::Lambda::Function"]}', "a notModelled entry must be an object"),
    (' "notModelled": [{"logicalId": 1, "type": "AWS::Lambda::Function"}]}', "logicalId must be a string"),
    (' "organizationId": "org-1"}', "an organization id looks like"),
    (' "vpcs": [{"id": "vpc-1", "cidr": "10.0.0.0/33"}]}', "not a CIDR block"),
    (' "securityGroups": [{"id": "sg-1", "ingress": [{"fromPort": 70000, "toPort": 1}]}]}', "not a port"),
    (' "instances": [{"id": "i-1", "hopLimit": 0}]}', "'hopLimit' 0 is not between 1 and 64"),
])
def test_every_native_file_field_is_validated(tmp_path: Path, capsys, body: str, expected: str) -> None:
    path = tmp_path / "env.json"
    path.write_text(HEAD + body)
    code, _, err = run(["env", "show", str(path)], capsys)
    assert expected in one_line_error(code, err, f"{path}:2:")


@pytest.mark.parametrize("head, expected", [
    ('{"accesspath-environment": 1, "account": "12345", "region": "us-east-1"}', "an account id is 12 digits"),
    ('{"accesspath-environment": 1, "account": "123456789012", "region": "moon"}', "not a region name"),
])
def test_account_and_region_are_validated(tmp_path: Path, capsys, head: str, expected: str) -> None:
    path = tmp_path / "env.json"
    path.write_text(head)
    code, _, err = run(["env", "show", str(path)], capsys)
    assert expected in one_line_error(code, err, f"{path}:1:")


def test_a_long_role_arn_as_caller_is_read_in_linear_time(tmp_path: Path, capsys) -> None:
    # A lazy regex once took 19 s on a 20,000-character role ARN; this one has 200,000.
    path = tmp_path / "request.json"
    path.write_text(json.dumps({"CallerArn": "arn:aws:iam::123456789012:role/" + "a/" * 100_000,
                                "PolicyInputList": [ALLOW_ALL], "ActionNames": ["s3:GetObject"]}))
    code, _, err = run(["simulate", str(path)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("url", ["http://[", "http://localhost:99999", "http://localhost:port"])
def test_an_upstream_that_is_not_a_url(capsys, url: str) -> None:
    template = str(Path(__file__).resolve().parent.parent / "examples" / "seed000-ecs-endpoint-policy" / "template.yaml")
    code, _, err = run(["serve", template, "--region", "ap-northeast-1", "--from", "AdminInstance",
                        "--upstream", url], capsys)
    assert "is not a URL" in one_line_error(code, err, f"--upstream '{url}'")
