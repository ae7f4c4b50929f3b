"""The scale benchmark's generated environment is a real, working ECS estate (benchmarks/gen_environment.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from accesspath.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_environment", ROOT / "benchmarks" / "gen_environment.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_services_start_and_the_output_is_deterministic(tmp_path: Path, capsys) -> None:
    generator = _generator()
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert generator.main(["3", "-o", str(first)]) == 0
    assert generator.main(["3", "-o", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert main(["launch-check", str(first), "--region", "us-east-1", "--service", "Service2", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ready"] is True
    # the secret read goes through the secretsmanager interface endpoint, as the generator intends
    secret = next(step for step in report["steps"] if step["action"] == "secretsmanager:GetSecretValue")
    assert "secretsmanager" in json.dumps(secret["path"])


def test_n_must_be_positive(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _generator().main(["0"])
    assert exit_info.value.code == 2
    assert "N must be at least 1" in capsys.readouterr().err
