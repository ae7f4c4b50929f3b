"""Names in calls resolve to the resources the environment defines (issue 12, item 2).

A secret's ARN ends in "-" and six random characters (Secrets Manager User Guide,
"Permissions policy examples": "the ARN of a secret ... ends with a hyphen and six random
characters"); KMS authorizes the key, never its alias (KMS Developer Guide, "Using aliases to
control access"). What the environment cannot know is undetermined, never allowed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accesspath.cli import main

HERE = Path(__file__).resolve().parent
NAMES = str(HERE / "fixtures" / "names.yaml")
SEED_001 = str(HERE.parents[1] / "examples" / "seed001-fargate-private-subnet" / "template.yaml")


def can(capsys: pytest.CaptureFixture[str], template: str, caller: str, *line: str) -> tuple[int, list[dict]]:
    code = main(["can", "--format", "json", template, "--from", caller, "--", "aws", *line])
    return code, json.loads(capsys.readouterr().out)["results"]


@pytest.mark.parametrize("secret_id", [
    "web/database", "DatabaseSecret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:web/database"])
def test_seed_001_secret_by_name_is_its_full_arn(capsys, secret_id: str) -> None:
    # The seed's execution role may read exactly the template's secret ARN (with its suffix).
    code, [result] = can(capsys, SEED_001, "ExecutionRole", "secretsmanager", "get-secret-value", "--secret-id",
                         secret_id)
    assert result["resource"] == "arn:aws:secretsmanager:us-east-1:123456789012:secret:web/database-MYXOU3"
    assert (code, result["decision"]) == (0, "allowed")


def test_a_secret_outside_the_templates_is_undetermined_only_when_it_matters(capsys) -> None:
    # Allowed on every secret, denied on prod/*: a secret the templates lack is decided when the
    # statements agree on every suffix, and denied under prod/ whatever its suffix.
    _, [dev] = can(capsys, NAMES, "AppRole", "secretsmanager", "get-secret-value", "--secret-id", "dev/x")
    assert dev["decision"] == "allowed"
    _, [prod] = can(capsys, NAMES, "AppRole", "secretsmanager", "get-secret-value", "--secret-id", "prod/x")
    assert prod["decision"] == "explicitDeny"


def test_an_unknown_secret_is_undetermined_where_its_suffix_decides(capsys, tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(Path(NAMES).read_text().replace(
        'Resource: !Sub "arn:aws:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:prod/*"',
        'Resource: !Sub "arn:aws:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:dev/x-AbCdEf"'))
    code, [result] = can(capsys, str(template), "AppRole", "secretsmanager", "get-secret-value", "--secret-id", "dev/x")
    assert (code, result["decision"]) == (3, "undetermined")   # exit 3: unknown
    assert "six random characters" in result["unknowns"][0]["what"]


@pytest.mark.parametrize(("line", "resource"), [
    (["s3api", "get-object", "--bucket", "Uploads", "--key", "a", "out"], "arn:aws:s3:::names-uploads-"),
    (["dynamodb", "get-item", "--table-name", "Table", "--key", "{}"], "arn:aws:dynamodb:us-east-1:123456789012:table/names-Table-"),
    (["secretsmanager", "get-secret-value", "--secret-id", "Prod"], "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-"),
    (["sqs", "send-message", "--queue-url", "https://sqs.us-east-1.amazonaws.com/123456789012/Queue",
      "--message-body", "x"], "arn:aws:sqs:us-east-1:123456789012:names-Queue-"),
])
def test_a_logical_id_stands_for_the_resource_it_declares(capsys, line: list[str], resource: str) -> None:
    _, results = can(capsys, NAMES, "AppRole", *line)
    assert results[0]["resource"].startswith(resource), results[0]["resource"]


def test_generated_names_are_used_as_given(capsys) -> None:
    from accesspath.environment.load import load_environment

    env = load_environment([NAMES])
    bucket = next(h for h in env.resources.values() if h.kind == "s3-bucket")
    _, [result] = can(capsys, NAMES, "AppRole", "s3api", "get-object", "--bucket", bucket.name, "--key", "k", "o")
    assert (result["resource"], result["decision"]) == (f"{bucket.arn}/k", "allowed")


def test_a_kms_alias_of_the_templates_is_its_key(capsys) -> None:
    # KMS authorizes the key behind the alias (KMS Developer Guide, "Using aliases to control access").
    from accesspath.environment.load import load_environment

    key = next(h.arn for h in load_environment([NAMES]).resources.values() if h.kind == "kms-key")
    _, [result] = can(capsys, NAMES, "AppRole", "kms", "decrypt", "--ciphertext-blob", "aGk=", "--key-id", "alias/app")
    assert (result["resource"], result["decision"]) == (key, "allowed")
    _, [by_logical_id] = can(capsys, NAMES, "AppRole", "kms", "decrypt", "--ciphertext-blob", "aGk=",
                             "--key-id", "AppKey")
    assert (by_logical_id["resource"], by_logical_id["decision"]) == (key, "allowed")
    # An alias the templates do not define: the key is not known; only a statement on every key decides.
    _, [other] = can(capsys, NAMES, "AppRole", "kms", "decrypt", "--ciphertext-blob", "aGk=", "--key-id", "alias/x")
    assert other["decision"] == "undetermined"
