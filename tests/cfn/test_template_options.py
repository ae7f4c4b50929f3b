"""The template options every command shares: --stack, --param [STACK:]NAME=VALUE, --params FILE,
--import, --template-url; parameter files in the shapes the AWS CLI and CodePipeline use.

Shapes: ``aws cloudformation create-stack --parameters`` takes ``[{"ParameterKey", "ParameterValue"}]``
(AWS CLI reference, create-stack); ``aws cloudformation deploy --parameter-overrides`` takes
``Key=Value`` pairs; a CodePipeline template configuration file is ``{"Parameters": {...}}``
(continuous-delivery-codepipeline-cfn-artifacts.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accesspath.cfn import load_stacks, parse_parameter, read_parameter_file
from accesspath.cli import main
from accesspath.errors import UsageError

APP = """\
Parameters:
  Env:
    Type: String
    AllowedValues: [dev, prod]
  AmiId:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id
  ConfigBucket:
    Type: String
    Default: ""
Resources:
  TaskRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub ${AWS::StackName}-${Env}-task
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - PolicyName: read
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: s3:GetObject
                Resource: !Sub
                  - arn:aws:s3:::${Bucket}/*
                  - Bucket: !ImportValue shared-config-bucket
  Instance:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: !Ref AmiId
"""


@pytest.mark.parametrize("text, name", [
    ('[{"ParameterKey": "Env", "ParameterValue": "prod"}, {"ParameterKey": "ConfigBucket",'
     ' "ParameterValue": "cfg"}]', "create-stack.json"),
    ("# deploy --parameter-overrides\nEnv=prod\n\nConfigBucket = cfg\n", "overrides.txt"),
    ('["Env=prod", "ConfigBucket=cfg"]', "overrides.json"),
    ('{"Parameters": {"Env": "prod", "ConfigBucket": "cfg"}, "Tags": {"team": "a"}}', "pipeline.json"),
])
def test_parameter_files_in_every_shape(text: str, name: str) -> None:
    values = read_parameter_file(text, name)
    assert [(v.stack, v.name, v.value) for v in values] == [(None, "Env", "prod"), (None, "ConfigBucket", "cfg")]
    assert values[0].origin.startswith(f"{name}:")


@pytest.mark.parametrize("text, message", [
    ('[{"ParameterKey": "Env", "UsePreviousValue": true}]', "previous value, which cannot be known offline"),
    ('[{"ParameterKey": "Env", "ParameterValue": "a", "Extra": 1}]', "unknown field 'Extra'"),
    ('{"Parameter": {}}', "unknown field 'Parameter'"),
    ("Env prod\n", "must look like Key=Value"),
    ('[{"ParameterKey": "Env", "ParameterValue": "a"}', "not valid JSON"),
])
def test_bad_parameter_files_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as raised:
        read_parameter_file(text, "p.json")
    assert raised.value.source == "p.json" and raised.value.line is not None


def test_qualified_and_unqualified_params() -> None:
    assert parse_parameter("app:Env=prod").stack == "app"
    assert parse_parameter("master/Network:VpcCidr=10.0.0.0/16").stack == "master/Network"
    assert parse_parameter("Env=a=b").value == "a=b"
    with pytest.raises(UsageError, match="NAME=VALUE or STACK:NAME=VALUE"):
        parse_parameter(":Env=x")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def export(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[dict, str]:
    code = main(["env", "export", *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out), captured.err


def test_stack_names_params_files_imports_and_ssm_values(tmp_path: Path, capsys) -> None:
    template = write(tmp_path, "app.yaml", APP)
    params = write(tmp_path, "params.json", '[{"ParameterKey": "Env", "ParameterValue": "dev"}]')
    document, err = export(["--stack", f"web={template}", "--params", str(params),
                            "--param", "web:Env=prod", "--import", "shared-config-bucket=cfg-bucket",
                            "--param", "AmiId=ami-0123456789abcdef0"], capsys)
    role = document["roles"][0]
    assert role["name"] == "web-prod-task"   # --stack names the stack; --param wins over the file
    statement = role["policies"][0]["document"]["Statement"][0]
    assert statement["Resource"] == "arn:aws:s3:::cfg-bucket/*"  # --import
    assert "ssm-parameter" not in err        # the SSM parameter took the resolved value from --param
    assert "missing-import" not in err


def test_ssm_parameters_without_a_value_are_reported(tmp_path: Path) -> None:
    template = write(tmp_path, "app.yaml", APP)
    stacks = load_stacks([template], parameter_overrides={"Env": "dev"})
    ami = stacks.stacks[0].parameters["AmiId"]
    assert ami.origin == "default" and "read at deploy time" in str(ami.value)
    stacks = load_stacks([template], parameter_overrides={"Env": "dev", "AmiId": "ami-0123456789abcdef0"})
    assert stacks.stacks[0].parameters["AmiId"].value == "ami-0123456789abcdef0"


@pytest.mark.parametrize("argv, message", [
    (["--param", "other:Env=prod"], "there is no stack 'other'"),
    (["--param", "app:Nope=1"], "stack 'app' has no parameter named 'Nope'"),
    (["--param", "Env=staging"], "is not one of its AllowedValues"),
    (["--import", "novalue"], "--import 'novalue' must look like NAME=VALUE"),
    (["--stack", "x"], "--stack 'x' must look like NAME=FILE"),
])
def test_option_errors_are_one_line_with_status_2(tmp_path: Path, capsys, argv: list[str], message: str) -> None:
    template = write(tmp_path, "app.yaml", APP)
    code = main(["env", "show", str(template), "--param", "Env=dev", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_params_file_for_one_stack(tmp_path: Path, capsys) -> None:
    template = write(tmp_path, "app.yaml", APP)
    other = write(tmp_path, "other.yaml", "Parameters:\n  Env: {Type: String}\nResources:\n"
                  "  Q: {Type: AWS::SQS::Queue, Properties: {QueueName: !Sub 'q-${Env}'}}\n")
    params = write(tmp_path, "app-params.txt", "Env=prod\n")
    document, _ = export([str(template), str(other), "--params", f"app:{params}", "--param", "other:Env=x",
                          "--import", "shared-config-bucket=b"], capsys)
    assert document["roles"][0]["name"] == "app-prod-task"
    assert any(r["name"] == "q-x" for r in document["resources"])
