"""Parameters (defaults, overrides, AllowedValues), Conditions, Fn::If and resource conditions."""

from __future__ import annotations

import pytest

from accesspath.cfn import CircularReferenceError, ParameterValueError, Symbolic
from accesspath.errors import UsageError

from .loading import codes, load_many, load_one

TEMPLATE = """\
Parameters:
  EnvType:
    Type: String
    AllowedValues: ["Dev", "Staging", "Production"]
    Default: Dev
  Zones:
    Type: CommaDelimitedList
    Default: "a,b"
  Port:
    Type: Number
    Default: 8080
    MaxValue: 65535
Conditions:
  IsProduction: !Equals [!Ref EnvType, Production]
  IsStaging: !Equals [Staging, !Ref EnvType]
  IsDeployed: !Or [!Condition IsProduction, !Condition IsStaging]
  IsDev: !Not [!Condition IsDeployed]
  IsProductionWithZones: !And [!Condition IsProduction, !Equals [!Select [1, !Ref Zones], b]]
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !If [IsProduction, /prod/app, !Sub "/${EnvType}/app"]
      RetentionInDays: !If [IsDev, !Ref AWS::NoValue, 30]
      Port: !Ref Port
  ProductionOnly:
    Type: AWS::SQS::Queue
    Condition: IsProduction
    Properties: {QueueName: prod-jobs}
Outputs:
  Queue:
    Condition: IsProduction
    Value: !Ref ProductionOnly
  LogGroup:
    Value: !Ref Logs
"""


def test_defaults_and_conditions() -> None:
    stack = load_one(TEMPLATE)
    assert codes(stack) == []
    assert stack.parameters["EnvType"].value == "Dev" and stack.parameters["EnvType"].origin == "default"
    assert stack.parameters["Zones"].value == ("a", "b")
    assert stack.parameters["Port"].value == "8080"
    assert dict(stack.conditions) == {"IsProduction": False, "IsStaging": False, "IsDeployed": False,
                                      "IsDev": True, "IsProductionWithZones": False}
    logs = stack.resource("Logs")
    assert logs is not None
    assert logs.properties.to_python() == {"LogGroupName": "/Dev/app", "Port": "8080"}
    assert stack.resource("ProductionOnly") is None  # its condition is false: not created
    assert set(stack.outputs) == {"LogGroup"}


def test_overrides_change_conditions() -> None:
    stack = load_one(TEMPLATE, parameter_overrides={"EnvType": "Production", "Zones": "x, b"})
    assert stack.parameters["EnvType"].origin == "override"
    assert stack.parameters["Zones"].value == ("x", "b")  # members are space-trimmed
    assert stack.conditions["IsProductionWithZones"] is True
    logs = stack.resource("Logs")
    assert logs is not None and logs.properties.to_python()["LogGroupName"] == "/prod/app"
    assert logs.properties.to_python()["RetentionInDays"] == 30
    queue = stack.resource("ProductionOnly")
    assert queue is not None and queue.condition == "IsProduction"
    assert stack.outputs["Queue"].value.value == "https://sqs.us-east-1.amazonaws.com/123456789012/prod-jobs"


def test_override_outside_allowed_values_names_the_parameter_and_its_position() -> None:
    with pytest.raises(ParameterValueError) as raised:
        load_one(TEMPLATE, parameter_overrides={"EnvType": "Prod"})
    assert str(raised.value) == ("t.yml:2:3: the override of parameter 'EnvType' is 'Prod', which is not one of"
                                 " its AllowedValues 'Dev', 'Staging', 'Production'")
    assert isinstance(raised.value, UsageError)


def test_default_outside_allowed_values_points_at_the_default() -> None:
    with pytest.raises(ParameterValueError) as raised:
        load_one(TEMPLATE.replace("Default: Dev", "Default: Test"))
    assert str(raised.value).startswith("t.yml:5:14: the Default of parameter 'EnvType' is 'Test'")


def test_other_parameter_constraints() -> None:
    with pytest.raises(ParameterValueError, match="is not a number"):
        load_one(TEMPLATE, parameter_overrides={"Port": "http"})
    with pytest.raises(ParameterValueError, match="breaks its MaxValue 65535"):
        load_one(TEMPLATE, parameter_overrides={"Port": "70000"})


def test_an_override_no_template_declares_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no loaded template has a parameter named 'EnvTyp'"):
        load_one(TEMPLATE, parameter_overrides={"EnvTyp": "Dev"})


def test_parameter_without_value_is_symbolic_and_reported() -> None:
    stack = load_one("""\
Parameters:
  VPCName: {Type: String}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Sub "${VPCName}-jobs"}
""")
    assert codes(stack) == ["missing-parameter-value"]
    assert isinstance(stack.parameters["VPCName"].value, Symbolic)
    queue = stack.resource("Q")
    assert queue is not None and isinstance(queue.physical_id, Symbolic)


def test_ssm_parameter_types_are_symbolic() -> None:
    stack = load_one("""\
Parameters:
  Ami: {Type: "AWS::SSM::Parameter::Value<String>", Default: /aws/service/ami}
Resources:
  Q: {Type: AWS::SQS::Queue, Properties: {Tags: [!Ref Ami]}}
""")
    assert codes(stack) == ["ssm-parameter"]
    assert isinstance(stack.resource("Q").properties.to_python()["Tags"][0], Symbolic)  # type: ignore[union-attr]


def test_condition_loops_are_an_error_not_a_hang() -> None:
    with pytest.raises(CircularReferenceError) as raised:
        load_one("""\
Conditions:
  A: !Not [!Condition B]
  B: !And [!Condition C, !Condition A]
  C: !Equals [x, x]
Resources:
  Q: {Type: AWS::SQS::Queue}
""")
    assert str(raised.value) == "t.yml:2:3: circular reference between conditions: 'A' -> 'B' -> 'A'"


def test_conditions_cannot_refer_to_resources_or_unknown_conditions() -> None:
    stack = load_one("""\
Conditions:
  A: !Equals [!Ref Q, x]
Resources:
  Q: {Type: AWS::SQS::Queue, Properties: {Tags: [!If [Nope, a, b]]}}
""")
    assert codes(stack) == ["resource-reference-not-allowed", "unknown-condition"]
    assert isinstance(stack.conditions["A"], Symbolic)


def test_and_or_decide_without_unknown_operands() -> None:
    stack = load_one("""\
Parameters:
  Unknown: {Type: String}
Conditions:
  Maybe: !Equals [!Ref Unknown, x]
  False: !Equals [a, b]
  AndFalse: !And [!Condition Maybe, !Condition False]
  OrTrue: !Or [!Condition Maybe, !Not [!Condition False]]
  Undecided: !Or [!Condition Maybe, !Condition False]
Resources:
  Q: {Type: AWS::SQS::Queue, Condition: Undecided}
""")
    assert stack.conditions["AndFalse"] is False and stack.conditions["OrTrue"] is True
    assert isinstance(stack.conditions["Undecided"], Symbolic)
    assert codes(stack) == ["missing-parameter-value", "undecided-condition"]
    assert stack.resource("Q") is not None  # kept, and said so


def test_reference_to_a_resource_that_is_not_created_is_reported() -> None:
    stack = load_one("""\
Conditions:
  Never: !Equals [a, b]
Resources:
  Gone: {Type: AWS::SQS::Queue, Condition: Never}
  Q: {Type: AWS::SQS::Queue, Properties: {Tags: [!GetAtt Gone.Arn]}}
""")
    assert codes(stack) == ["reference-to-absent-resource"]
    assert stack.issues[0].message == ("Fn::GetAtt 'Gone.Arn': 'Gone' is not created (its condition 'Never' is"
                                       " false)")


def test_overrides_apply_to_every_stack_that_declares_the_parameter() -> None:
    text = "Parameters:\n  EnvType: {Type: String, Default: Dev}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n"
    stacks = load_many((text, "a.yml", "a"), (text, "b.yml", "b"), parameter_overrides={"EnvType": "Staging"})
    assert [s.parameters["EnvType"].value for s in stacks.stacks] == ["Staging", "Staging"]
