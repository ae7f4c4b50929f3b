"""Decoding: YAML short tags rewritten to the long form, positions on every value, errors with file:line:col."""

from __future__ import annotations

import textwrap

import pytest

from accesspath.cfn import TemplateSyntaxError, decode_template
from accesspath.errors import UsageError
from accesspath.policy.source import Node, Position


def decode(text: str) -> Node:
    return decode_template(textwrap.dedent(text), "t.yml")


def member(node: Node, key: str) -> Node:
    matches = [m.value for m in node.value if m.key == key]
    assert matches, f"no {key!r} in {node.to_python()!r}"
    return matches[-1]


def test_every_value_has_a_one_based_position() -> None:
    root = decode("""\
        A: one
        B:
          - x
          - {C: 2}
        """)
    assert root.start == Position(1, 1, "t.yml")
    assert member(root, "A").start == Position(1, 4, "t.yml")
    b = member(root, "B")
    assert b.value[0].start == Position(3, 5, "t.yml")
    assert member(b.value[1], "C").start == Position(4, 9, "t.yml")
    assert root.value[1].key_start == Position(2, 1, "t.yml")


@pytest.mark.parametrize("tag, long_form", [
    ("!Sub 'x-${AWS::Region}'", {"Fn::Sub": "x-${AWS::Region}"}),
    ("!Ref MyParam", {"Ref": "MyParam"}),
    ("!ImportValue shared-vpc", {"Fn::ImportValue": "shared-vpc"}),
    ("!Base64 hello", {"Fn::Base64": "hello"}),
    ("!GetAZs ''", {"Fn::GetAZs": ""}),
    ("!Condition IsProd", {"Condition": "IsProd"}),
    ("!Join ['-', [a, b]]", {"Fn::Join": ["-", ["a", "b"]]}),
    ("!If [IsProd, a, b]", {"Fn::If": ["IsProd", "a", "b"]}),
    ("!Select [0, [a, b]]", {"Fn::Select": [0, ["a", "b"]]}),
    ("!Split [',', 'a,b']", {"Fn::Split": [",", "a,b"]}),
    ("!FindInMap [M, k, v]", {"Fn::FindInMap": ["M", "k", "v"]}),
    ("!Equals [a, b]", {"Fn::Equals": ["a", "b"]}),
    ("!Not [!Condition C]", {"Fn::Not": [{"Condition": "C"}]}),
    ("!And [!Condition A, !Condition B]", {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}),
    ("!Or [!Condition A, !Condition B]", {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}),
    ("!Cidr ['10.0.0.0/16', 2, 8]", {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}),
    ("!GetAtt Role.Arn", {"Fn::GetAtt": ["Role", "Arn"]}),
    ("!GetAtt [Role, Arn]", {"Fn::GetAtt": ["Role", "Arn"]}),
    ("!GetAtt Db.Endpoint.Address", {"Fn::GetAtt": ["Db", "Endpoint.Address"]}),
])
def test_short_tags_become_the_long_form(tag: str, long_form: object) -> None:
    root = decode(f"Value: {tag}\n")
    value = member(root, "Value")
    assert value.to_python() == long_form
    assert value.start == Position(1, 8, "t.yml")  # the position of the tag
    assert value.value[0].key_start == Position(1, 8, "t.yml")


def test_nested_short_tags_keep_their_own_positions() -> None:
    root = decode("""\
        Roles:
          - Fn::ImportValue: !Sub ${VPCName}-BackendEcsTaskRole-${EnvType}
        """)
    item = member(root, "Roles").value[0]
    sub = member(item, "Fn::ImportValue")
    assert sub.to_python() == {"Fn::Sub": "${VPCName}-BackendEcsTaskRole-${EnvType}"}
    assert sub.start == Position(2, 22, "t.yml")


def test_dates_and_versions_stay_strings_numbers_and_booleans_do_not() -> None:
    root = decode("""\
        AWSTemplateFormatVersion: 2010-09-09
        Count: 3
        Ratio: 1.5
        Enabled: true
        Nothing:
        Quoted: '3'
        """)
    assert root.to_python() == {"AWSTemplateFormatVersion": "2010-09-09", "Count": 3, "Ratio": 1.5,
                                "Enabled": True, "Nothing": None, "Quoted": "3"}


def test_duplicate_keys_are_an_error_naming_both_places() -> None:
    with pytest.raises(TemplateSyntaxError) as raised:
        decode("""\
            Resources:
              Queue:
                Type: AWS::SQS::Queue
              Queue:
                Type: AWS::SNS::Topic
            """)
    assert str(raised.value) == "t.yml:4:3: duplicate key 'Queue' (first at line 2, column 3)"


def test_yaml_syntax_errors_have_file_line_col_and_are_usage_errors() -> None:
    # The layout of seed 003's SSMAccessPolicy: "Roles" is indented less than "Statement".
    text = """\
        Resources:
          SSMAccessPolicy:
                Statement:
                  - Effect: Allow
              Roles:
                - x
        """
    with pytest.raises(TemplateSyntaxError) as raised:
        decode(text)
    error = raised.value
    assert isinstance(error, UsageError)
    assert (error.source, error.line, error.column) == ("t.yml", 5, 7)
    assert str(error).startswith("t.yml:5:7: the template is not valid YAML: expected <block end>")


def test_unknown_tags_are_an_error() -> None:
    with pytest.raises(TemplateSyntaxError, match=r"t.yml:1:8: unknown tag '!Reff'"):
        decode("Value: !Reff X\n")


def test_getatt_short_form_needs_a_dot() -> None:
    with pytest.raises(TemplateSyntaxError, match="must have the form Resource.Attribute"):
        decode("Value: !GetAtt RoleArn\n")


def test_self_referencing_aliases_are_an_error_not_a_hang() -> None:
    with pytest.raises(TemplateSyntaxError, match="alias"):
        decode("A: &a [1, *a]\n")


def test_aliases_are_expanded() -> None:
    root = decode("A: &doc {Effect: Allow}\nB: *doc\n")
    assert root.to_python() == {"A": {"Effect": "Allow"}, "B": {"Effect": "Allow"}}


def test_empty_template_is_an_error() -> None:
    with pytest.raises(TemplateSyntaxError, match="empty"):
        decode("# nothing\n")


def test_json_templates_keep_positions_and_reject_duplicates() -> None:
    root = decode_template('{\n  "Resources": {\n    "Q": {"Type": "AWS::SQS::Queue"}\n  }\n}\n', "t.json")
    assert member(member(root, "Resources"), "Q").start == Position(3, 10, "t.json")
    with pytest.raises(TemplateSyntaxError) as raised:
        decode_template('{"A": 1,\n "A": 2}', "t.json")
    assert str(raised.value) == "t.json:2:2: duplicate key 'A' (first at line 1, column 2)"
    with pytest.raises(TemplateSyntaxError, match=r"^t.json:1:7: the template is not valid JSON"):
        decode_template('{"A": }', "t.json")
