"""libyaml reads templates (issue 14): the nodes, values and line/column marks are the pure loader's,
and a template that is not valid YAML gets the pure loader's error, word for word."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from accesspath.cfn import TemplateSyntaxError
from accesspath.cfn import yaml_loader
from accesspath.cfn.yaml_loader import load_yaml

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml")

# What a template may hold that a reader could place differently: multi-byte and astral characters
# (columns count characters), CRLF line ends, a byte-order mark, block and folded scalars, plain
# scalars over several lines, flow collections, anchors and aliases, short tags, a %YAML directive.
AWKWARD = [
    "Description: 日本語の説明 ✓\nResources:\n  A: {Type: 'AWS::SQS::Queue', P: \"値\"}\n  B: !Sub '${A}テスト'\n",
    "A: 1\r\nB:\r\n  - x\r\n  - !Ref y\r\n",
    "\ufeffA: 1\nB: 2\n",
    "%YAML 1.1\n---\nA: 1\n...\n",
    "A: |\n  line1\n  line2\n\nB: >-\n  folded\n  text\nC: x\n",
    "A: this is\n  a plain scalar\n  on lines\nB: [1, 😀, 'two words', {k: v}]\n",
    "A: &a {x: 1, y: [a, b]}\nB: *a\nC: !GetAtt Role.Arn\nD: !If [C, !Ref A, !Ref 'AWS::NoValue']\n",
    "😀: 1\nb: ~\nc: true\nd: 0x1F\ne: 1.5e3\nf: 2010-09-09\n",
]

# Not valid YAML, or refused by a bound: libyaml words these differently; the user must not see that.
BAD = [
    "A:\n\tB: 1\n",
    "A" * 1100 + ": 1\n",
    "A: x\u2028y\n",
    "A: 1\n---\nB: 2\n",
    "A:\n  B: 1\n C: 2\n",
    "A: 'abc\n",
    "A: '\ud800'\n",
    "A: \x00\n",
    "A: \x1b\n",
    "[" * 250 + "]" * 250,
    "A: &a 1\n" + "".join(f"B{i}: *a\n" for i in range(1_100)),
    "A: 1\nA: 2\n",
]


def _templates() -> list[Path]:
    found = sorted(p for folder in ("examples", "tests") for p in (ROOT / folder).rglob("*")
                   if p.suffix in (".yaml", ".yml") and p.is_file())
    assert len(found) > 20  # the seeds' templates and the test templates
    return found


def _generated(count: int) -> str:
    spec = importlib.util.spec_from_file_location("gen_environment", ROOT / "benchmarks" / "gen_environment.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(yaml.safe_dump(module.environment(count), sort_keys=False, width=120))


def _pure_must_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> None:
        raise AssertionError("the pure-Python loader ran on valid YAML")
    monkeypatch.setattr(yaml_loader, "_TemplateYamlLoader", refuse)


@pytest.mark.parametrize("text", AWKWARD)
def test_libyaml_gives_the_pure_loaders_nodes_and_marks(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = load_yaml(text, "t.yml", pure=True)
    _pure_must_not_run(monkeypatch)  # so the comparison below is really libyaml against the pure loader
    assert load_yaml(text, "t.yml") == expected   # Node equality includes every start, end and key mark


def test_every_template_of_the_repository_and_a_generated_estate_read_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts = {str(path): path.read_text(encoding="utf-8") for path in _templates()}
    texts["generated N=3"] = _generated(3)
    expected = {}
    for name, text in texts.items():
        try:
            expected[name] = load_yaml(text, name, pure=True)
        except TemplateSyntaxError as error:  # a deliberately bad test template: compared below
            expected[name] = str(error)
    _pure_must_not_run(monkeypatch)
    for name, text in texts.items():
        if isinstance(expected[name], str):
            continue
        assert load_yaml(text, name) == expected[name], name


@pytest.mark.parametrize("text", BAD)
def test_bad_yaml_is_reported_as_the_pure_loader_reports_it(text: str) -> None:
    with pytest.raises(TemplateSyntaxError) as pure:
        load_yaml(text, "t.yml", pure=True)
    with pytest.raises(TemplateSyntaxError) as default:
        load_yaml(text, "t.yml")
    assert str(default.value) == str(pure.value)
    assert (default.value.line, default.value.column) == (pure.value.line, pure.value.column)
    assert default.value.line is not None  # file:line:col, in the user's terms
