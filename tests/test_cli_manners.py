"""CLI manners: options are taken only as spelled, misspellings are named, unknown actions are warned of."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from accesspath.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
SEED_000 = str(ROOT / "examples" / "seed000-ecs-endpoint-policy" / "template.yaml")


def _parsers(parser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_no_parser_accepts_abbreviations() -> None:
    parsers = list(_parsers(build_parser()))
    assert len(parsers) > 10
    assert all(p.allow_abbrev is False for p in parsers)


def test_an_abbreviated_option_is_refused_with_the_closest_option(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["access", SEED_000, "--region", "ap-northeast-1", "--from", "AdminInstance", "--form", "json"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: accesspath access")
    assert "'--form' is not an option of 'accesspath access'; did you mean '--format'?" in err


def test_a_misspelled_required_option_is_named_rather_than_reported_missing(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["can", SEED_000, "--fromm", "AdminInstance", "--action", "ecs:ListClusters"])
    err = capsys.readouterr().err
    assert "usage: accesspath can" in err
    assert "'--fromm' is not an option of 'accesspath can'; did you mean '--from'?" in err
    assert "required" not in err


def test_nested_subcommand_usage_is_shown(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["policy", "generate", "--from-logg", "x.jsonl"])
    err = capsys.readouterr().err
    assert err.startswith("usage: accesspath policy generate")
    assert "did you mean '--from-log'?" in err


def test_can_warns_of_an_action_that_does_not_exist(capsys) -> None:
    code = main(["can", SEED_000, "--region", "ap-northeast-1", "--from", "AdminInstance",
                 "--action", "ecs:DescribeClusterz"])
    captured = capsys.readouterr()
    assert code == 1   # AWS denies an action no policy can name; the decision still stands
    assert ("warning: action 'ecs:DescribeClusterz' does not exist in the IAM action catalog"
            " (did you mean 'ecs:DescribeClusters'?)") in captured.err
    code = main(["can", SEED_000, "--region", "ap-northeast-1", "--from", "AdminInstance",
                 "--action", "ecs:ListClusters"])
    assert code == 0 and "warning" not in capsys.readouterr().err
