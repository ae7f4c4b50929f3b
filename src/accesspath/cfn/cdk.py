"""A CDK cloud assembly (``cdk.out/``) read as the stacks it deploys.

``cdk synth`` writes ``manifest.json`` beside the templates. Its ``artifacts`` of type
``aws:cloudformation:stack`` are the stacks: ``properties.templateFile`` is the template,
``properties.stackName`` the deployed name (the artifact id when absent), ``environment``
``aws://ACCOUNT/REGION`` where they are deployed (``unknown-account``/``unknown-region`` for an
environment-agnostic stack) and ``dependencies`` the artifacts deployed first. Artifacts of type
``cdk:cloud-assembly`` are nested assemblies (CDK stages) in ``properties.directoryName``.
Nested stacks' templates are assets of the parent (``aws:asset:path`` metadata on the
``AWS::CloudFormation::Stack`` resource) and are found by the nested-stack loader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from accesspath.errors import UsageError

MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class AssemblyStack:
    artifact_id: str
    stack_name: str
    template: Path
    account: str | None
    region: str | None
    dependencies: tuple[str, ...]  # stack names


def is_cloud_assembly(path: str | Path) -> bool:
    """A folder holding a CDK ``manifest.json``, or that manifest itself."""
    candidate = Path(path)
    manifest = candidate / MANIFEST if candidate.is_dir() else candidate
    if manifest.name != MANIFEST or not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("artifacts"), dict) and "version" in data


def read_cloud_assembly(path: str | Path) -> list[AssemblyStack]:
    """Every stack of the assembly (nested assemblies included), in manifest order."""
    candidate = Path(path)
    folder = candidate if candidate.is_dir() else candidate.parent
    stacks: list[AssemblyStack] = []
    _read(folder, stacks, depth=0)
    if not stacks:
        raise UsageError(f"the cloud assembly '{folder}' has no CloudFormation stacks (run 'cdk synth' first?)")
    return stacks


def _read(folder: Path, stacks: list[AssemblyStack], depth: int) -> None:
    manifest = folder / MANIFEST
    if depth > 10:
        raise UsageError(f"'{manifest}': cloud assemblies nested more than 10 deep")
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read '{manifest}': {error.strerror or error}") from None
    except ValueError as error:
        raise UsageError(f"'{manifest}' is not valid JSON: {error}") from None
    artifacts = data.get("artifacts") if isinstance(data, dict) else None
    if not isinstance(artifacts, dict):
        raise UsageError(f"'{manifest}' is not a cloud assembly manifest (it has no 'artifacts')")
    names = {}
    for artifact_id, artifact in artifacts.items():
        if isinstance(artifact, dict) and artifact.get("type") == "aws:cloudformation:stack":
            properties = artifact.get("properties") or {}
            names[artifact_id] = str(properties.get("stackName") or artifact_id)
    for artifact_id, artifact in artifacts.items():
        if not isinstance(artifact, dict):
            continue
        kind = artifact.get("type")
        properties = artifact.get("properties") or {}
        if kind == "cdk:cloud-assembly" and isinstance(properties.get("directoryName"), str):
            _read(folder / properties["directoryName"], stacks, depth + 1)
        if kind != "aws:cloudformation:stack":
            continue
        template = properties.get("templateFile")
        if not isinstance(template, str):
            raise UsageError(f"'{manifest}': stack artifact '{artifact_id}' has no templateFile")
        account, region = _environment(artifact.get("environment"))
        dependencies = tuple(names[d] for d in artifact.get("dependencies") or () if d in names)
        stacks.append(AssemblyStack(artifact_id, names[artifact_id], folder / template, account, region,
                                    dependencies))


def _environment(text: object) -> tuple[str | None, str | None]:
    """``aws://ACCOUNT/REGION``; the ``unknown-…`` placeholders of environment-agnostic stacks are None."""
    if not isinstance(text, str) or not text.startswith("aws://"):
        return None, None
    account, _, region = text.removeprefix("aws://").partition("/")
    return (account if account.isdigit() and len(account) == 12 else None,
            region if region and not region.startswith("unknown-") else None)
