"""The one wildcard matcher (accesspath.policy.patterns): IAM's ``*`` and ``?`` without backtracking.

Docs: reference_policies_elements_resource.md (wildcards within ARN segments; ``*`` spans ``/`` and
``:`` in the resource part), reference_policies_elements_action.md (actions compare
case-insensitively), reference_policies_variables.md (a variable's value is literal text).
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from accesspath.policy.patterns import (
    ARN,
    LITERAL,
    WHOLE,
    Pattern,
    _compile,
    key_template_matches,
    tokenize,
    wildcard_match,
)


def reference_regex(pattern: Pattern) -> re.Pattern[str]:
    """The plain reading of the rules as a regex: fine for short strings, never used by the product."""
    colons = 0
    segment_aware = pattern.mode == ARN and sum(t.count(":") for t in pattern.tokens if isinstance(t, str)) >= 5
    out = []
    for token in pattern.tokens:
        if isinstance(token, str):
            out.append(re.escape(token))
            colons += token.count(":")
        elif token.symbol == "*":
            out.append("[^:]*" if segment_aware and colons < 5 else ".*")
        else:
            out.append("[^:]" if segment_aware and colons < 5 else ".")
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if pattern.ignore_case else 0))


ALPHABET = "ab:/*?"
pattern_texts = st.text(alphabet=ALPHABET, max_size=14)
values = st.text(alphabet="ab:/", max_size=16)


@settings(max_examples=400, deadline=None)
@given(pattern_texts, values)
def test_whole_patterns_match_as_the_plain_reading_says(text: str, value: str) -> None:
    pattern = Pattern.compile(text, mode=WHOLE)
    assert pattern.matches(value) == bool(reference_regex(pattern).fullmatch(value))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet="ab*?", max_size=3), min_size=6, max_size=6), st.text(alphabet="ab:/*?", max_size=8),
       st.lists(st.text(alphabet="ab", max_size=3), min_size=6, max_size=6), st.text(alphabet="ab:/", max_size=8))
def test_arn_patterns_keep_wildcards_inside_the_first_five_segments(
        segments: list[str], rest: str, value_segments: list[str], value_rest: str) -> None:
    text = ":".join(["arn", *segments[1:5], segments[5] + rest])
    value = ":".join(["arn", *value_segments[1:5], value_segments[5] + value_rest])
    pattern = Pattern.compile(text, mode=ARN)
    assert pattern.matches(value) == bool(reference_regex(pattern).fullmatch(value))


def test_arn_segment_wildcards_stop_at_colons_and_the_resource_part_spans_them() -> None:
    pattern = Pattern.compile("arn:aws:ecs:*:*:cluster/*", mode=ARN)
    assert pattern.matches("arn:aws:ecs:us-east-1:123456789012:cluster/a:b/c")
    assert not pattern.matches("arn:aws:ecs:us:east-1:123456789012:cluster/a")
    assert Pattern.compile("arn:aws:s3:::b/*", mode=ARN).matches("arn:aws:s3:::b/x:y/z")


def test_actions_compare_ignoring_case_and_literals_take_no_wildcards() -> None:
    assert Pattern.compile("ECS:describe*", mode=WHOLE, ignore_case=True).matches("ecs:DescribeClusters")
    assert not Pattern.compile("ecs:Describe?", mode=WHOLE, ignore_case=True).matches("ecs:DescribeClusters")
    assert Pattern.compile("a*b", mode=LITERAL).matches("a*b")
    assert not Pattern.compile("a*b", mode=LITERAL).matches("axb")


def test_a_variable_value_is_literal_text() -> None:
    pattern = Pattern.compile("arn:aws:s3:::home/${aws:username}/*", mode=ARN, variables=True)
    lookup = {"aws:username": "a*"}.get
    assert pattern.matches("arn:aws:s3:::home/a*/k", lookup)
    assert not pattern.matches("arn:aws:s3:::home/ab/k", lookup)


def test_observation_7_many_stars_against_a_key_of_a_thousand_slashes() -> None:
    # Issue 17, observation 7: a Deny on arn:aws:s3:::b/*/*/*/*.secret and a key of 1,000 slashes
    # froze a backtracking regex for 36 s. The matcher places each block once, left to right.
    pattern = Pattern.compile("arn:aws:s3:::b/*/*/*/*.secret", mode=ARN)
    assert not pattern.matches("arn:aws:s3:::b/" + "/" * 1000 + "x")
    assert pattern.matches("arn:aws:s3:::b/" + "/" * 1000 + "x.secret")
    assert not Pattern.compile("*a*a*a*a*a*a*b", mode=WHOLE).matches("a" * 5000)


def test_only_the_last_star_of_each_segment_can_backtrack() -> None:
    # The structural reason matching is linear: a middle star is an atomic group that commits to
    # the leftmost occurrence of the block after it; one ordinary star is left per segment, and
    # only fixed-length text follows it.
    for text, mode in [("arn:aws:s3:::b/*/*?/*.secret", ARN), ("ecs:Desc?ibe*", WHOLE), ("*a*a*a*b", WHOLE),
                       ("arn:aws:ecs:*:*:cluster/?*/*x", ARN), ("arn:aws:*:us-*-1:*:a*b*c", ARN)]:
        source = _compile(tokenize(text, variables=False, wildcards=True), mode, False).regex.pattern
        committed = re.sub(r"\(\?>(\.|\[\^:\])\*\?", "", source)
        for region in re.split(r"\):|\)$|^\(\?>", committed):
            ordinary = [m.start() for m in re.finditer(r"(?<!\\)\*", region)]
            assert len(ordinary) <= 1, (text, source)
            assert "+" not in region and "{" not in region.replace("\\{", ""), source


def test_wildcard_match_and_key_templates_are_the_same_matcher() -> None:
    assert wildcard_match("aws*", "aws-cn") and not wildcard_match("aws?", "aws")
    assert key_template_matches("aws:ResourceTag/${TagKey}", "AWS:resourcetag/Team")
    assert key_template_matches("s3:ExistingObjectTag/<key>", "s3:existingobjecttag/x")
    assert not key_template_matches("aws:ResourceTag/${TagKey}", "aws:ResourceTag/")


def test_observation_7_through_simulate() -> None:
    # The same Deny through the whole simulate path (once 14 s on a 300-slash resource).
    from accesspath.simulate import simulate

    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*/*/*/*.secret"}]}
    keys = {"/" * 1000 + "x": "allowed", "/" * 1000 + "x.secret": "explicitDeny"}
    result = simulate({"PolicyInputList": [policy], "ActionNames": ["s3:GetObject"],
                       "ResourceArns": [f"arn:aws:s3:::b/{key}" for key in keys]})
    assert [r["EvalDecision"] for r in result["EvaluationResults"]] == list(keys.values())
