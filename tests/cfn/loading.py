"""Helpers for loading test templates given as text."""

from __future__ import annotations

import textwrap
from pathlib import Path

from accesspath.cfn import LoadedStack, StackSet, TemplateSource, load_stacks

TEMPLATES = Path(__file__).parent / "templates"


def load_one(text: str, *, source: str = "t.yml", stack_name: str = "test-stack", **options: object) -> LoadedStack:
    stacks = load_many((text, source, stack_name), **options)
    return stacks.stacks[0]


def load_many(*templates: tuple[str, str, str], **options: object) -> StackSet:
    sources = [TemplateSource(textwrap.dedent(text), source, name) for text, source, name in templates]
    return load_stacks(sources, **options)  # type: ignore[arg-type]


def codes(stack: LoadedStack) -> list[str]:
    return [issue.code for issue in stack.issues]
