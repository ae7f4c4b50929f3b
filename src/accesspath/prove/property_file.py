"""Property files: the properties a team keeps beside its templates (JSON or YAML, docs/prove.md).

    properties:
      - name: logs stay in the organization     # optional label
        property: no-data-out                   # a built-in property
        org: o-exampleorgid
        accounts: ["111122223333"]              # more accounts that count as inside
        callers: [LogsInstance]                 # default: every caller of the environment
        actions: ["logs:*"]                     # default: every action the property concerns
        resources: ["arn:aws:logs:*"]           # access-not-granted only
        read: false                             # no-data-out: reads count too
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from accesspath.errors import UsageError
from accesspath.prove.properties import BUILT_IN, PropertySpec

_FIELDS = {"name", "property", "org", "accounts", "callers", "actions", "resources", "read"}


def read_property_file(path: str) -> list[PropertySpec]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read property file '{path}': {error.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"property file '{path}' is not UTF-8 text") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else path
        raise UsageError(f"{where}: the property file is not valid YAML or JSON ({getattr(error, 'problem', error)})") \
            from None
    if not isinstance(document, dict) or not isinstance(document.get("properties"), list):
        raise UsageError(f"{path}: a property file holds a 'properties' list")
    unknown_top = set(document) - {"properties"}
    if unknown_top:
        raise UsageError(f"{path}: unknown field '{min(unknown_top)}' (expected 'properties')")
    specs = []
    for index, entry in enumerate(document["properties"]):
        specs.append(_spec(entry, f"{path}: properties[{index}]"))
    if not specs:
        raise UsageError(f"{path}: the 'properties' list is empty")
    return specs


def _spec(entry: Any, where: str) -> PropertySpec:
    if not isinstance(entry, dict):
        raise UsageError(f"{where} must be a mapping with a 'property' field")
    unknown = set(entry) - _FIELDS
    if unknown:
        raise UsageError(f"{where}: unknown field '{min(unknown)}' (expected {', '.join(sorted(_FIELDS))})")
    kind = entry.get("property")
    if kind not in BUILT_IN:
        raise UsageError(f"{where}: 'property' must be one of {', '.join(BUILT_IN)}, not {kind!r}")

    def strings(name: str) -> tuple[str, ...]:
        value = entry.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise UsageError(f"{where}: '{name}' must be a list of strings")
        return tuple(str(v) for v in value)

    read = entry.get("read", False)
    if not isinstance(read, bool):
        raise UsageError(f"{where}: 'read' must be true or false")
    org = entry.get("org")
    if org is not None and not isinstance(org, str):
        raise UsageError(f"{where}: 'org' must be an organization id such as o-exampleorgid")
    label = entry.get("name", "")
    spec = PropertySpec(kind, callers=strings("callers"), actions=strings("actions"), resources=strings("resources"),
                        organization=org, accounts=strings("accounts"), read=read, label=str(label))
    try:
        spec.check()
    except UsageError as error:
        raise UsageError(f"{where}: {error}") from None
    return spec
