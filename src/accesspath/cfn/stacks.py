"""Load several templates together, resolving ``Fn::ImportValue`` across them.

Each template is prepared (parameters, conditions, the names it exports and imports), the stacks
are ordered so that every exporter is loaded before its importers (an import loop is a
:class:`CircularReferenceError`), and then each stack is resolved in that order.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from accesspath.cfn.decode import decode_template
from accesspath.cfn.errors import CircularReferenceError
from accesspath.cfn.intrinsics import scalar_node, symbolic_node
from accesspath.cfn.model import Export, LoadedStack, StackSet, Symbolic
from accesspath.cfn.pseudo import Deployment, partition_for_region
from accesspath.cfn.template import ImportLookup, TemplateLoader
from accesspath.errors import UsageError
from accesspath.policy.model import Severity
from accesspath.policy.source import Node

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
_ACCOUNT_RE = re.compile(r"^\d{12}$")


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """A template's text, the name positions show for it and the stack it is deployed as."""

    text: str
    source: str
    stack_name: str

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], stack_name: str | None = None) -> TemplateSource:
        from accesspath.files import read_text

        return cls(read_text(str(path)), str(path), stack_name or stack_name_for(Path(path).name))

    @classmethod
    def from_text(cls, text: str, *, source: str = "<template>", stack_name: str | None = None) -> TemplateSource:
        return cls(text, source, stack_name or stack_name_for(source))


def stack_name_for(file_name: str) -> str:
    """The stack name a file stands for: its name without extensions, made a valid stack name
    (letters, digits and hyphens, starting with a letter; at most 128 characters)."""
    stem = Path(file_name).name
    for extension in (".template", ".yaml", ".yml", ".json", ".cfn"):
        if stem.lower().endswith(extension) and len(stem) > len(extension):
            stem = stem[: -len(extension)]
    name = re.sub(r"[^A-Za-z0-9-]+", "-", stem).strip("-")
    if not name or not name[0].isalpha():
        name = "stack-" + name if name else "stack"
    return name[:128]


def load_stacks(templates: Iterable[str | os.PathLike[str] | TemplateSource], *,
                account: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION, partition: str | None = None,
                organization_id: str | None = None,
                parameter_overrides: Mapping[str, object] | None = None,
                stack_names: Mapping[str, str] | None = None) -> StackSet:
    """Load templates together into a :class:`StackSet`.

    ``templates`` are file paths, template texts (a ``str`` containing a newline) or
    :class:`TemplateSource` objects. Stack names come from the file names unless ``stack_names``
    maps a path (as given) to a name. ``parameter_overrides`` apply to every template that
    declares the parameter; an override no template declares is a :class:`UsageError`.
    ``partition`` defaults to the region's partition.
    """
    if not _ACCOUNT_RE.match(account):
        raise UsageError(f"the account id '{account}' must be 12 digits")
    partition = partition or partition_for_region(region)
    sources = [_source(item, index, stack_names or {}) for index, item in enumerate(templates)]
    seen: dict[str, str] = {}
    for source in sources:
        if source.stack_name in seen:
            raise UsageError(f"two templates would be the stack '{source.stack_name}' ('{seen[source.stack_name]}'"
                             f" and '{source.source}'); give them different stack names")
        seen[source.stack_name] = source.source
    loaders = []
    for source in sources:
        root = decode_template(source.text, source.source)
        deployment = Deployment(account, region, partition, source.stack_name, organization_id)
        loaders.append(TemplateLoader(root, source=source.source, deployment=deployment,
                                      parameter_overrides=parameter_overrides))
    for loader in loaders:
        loader.prepare()
    unused = set(parameter_overrides or {}) - set().union(*(loader.used_overrides for loader in loaders))
    if unused:
        raise UsageError("no loaded template has a parameter named "
                         + ", ".join(f"'{name}'" for name in sorted(unused)))
    return StackSet(tuple(_resolve_in_order(loaders)), account, region, partition, organization_id)


def _source(item: str | os.PathLike[str] | TemplateSource, index: int, names: Mapping[str, str]) -> TemplateSource:
    if isinstance(item, TemplateSource):
        return item
    if isinstance(item, str) and "\n" in item:
        return TemplateSource.from_text(item, source=f"<template {index + 1}>",
                                        stack_name=f"stack-{index + 1}")
    return TemplateSource.from_path(item, names.get(os.fspath(item)))


def _resolve_in_order(loaders: list[TemplateLoader]) -> list[LoadedStack]:
    exporters: dict[str, TemplateLoader] = {}
    for loader in loaders:
        for output, (name, position) in loader.export_names.items():
            if not isinstance(name, str):
                continue
            other = exporters.get(name)
            if other is not None and other is not loader:
                loader.report("duplicate-export", f"the export '{name}' of output '{output}' is also exported by"
                              f" stack '{other.name}'; CloudFormation allows one export per name in a region",
                              Severity.ERROR, position)
                loader.rejected_exports.add(name)
                continue
            exporters[name] = loader

    # Exporters first: depth-first over import edges with an explicit path, so a loop is reported.
    dependencies: dict[int, list[tuple[TemplateLoader, str, Node]]] = {}
    for loader in loaders:
        edges = []
        for name, at in loader.imported_names:
            exporter = exporters.get(name)
            if exporter is loader:
                raise CircularReferenceError(f"stack '{loader.name}' imports its own export '{name}'", at.start,
                                             source=loader.source)
            if exporter is not None:
                edges.append((exporter, name, at))
        dependencies[id(loader)] = edges
    ordered: list[TemplateLoader] = []
    done: set[int] = set()

    def visit(loader: TemplateLoader, path: list[tuple[TemplateLoader, str, Node | None]]) -> None:
        if id(loader) in done:
            return
        if any(step[0] is loader for step in path):
            # Each step (stack, name, at) reads: stack imports name from the next stack on the path.
            loop = path[next(i for i, step in enumerate(path) if step[0] is loader):]
            targets = [step[0] for step in loop[1:]] + [loader]
            described = "; ".join(f"'{step[0].name}' imports '{step[1]}' from '{target.name}'"
                                  for step, target in zip(loop, targets))
            at = loop[0][2]
            raise CircularReferenceError(f"stacks import each other's exports: {described}",
                                         at.start if at is not None else None, source=loop[0][0].source)
        for exporter, name, at in dependencies[id(loader)]:
            visit(exporter, path + [(loader, name, at)])
        done.add(id(loader))
        ordered.append(loader)

    for loader in loaders:
        visit(loader, [])

    loaded: dict[str, LoadedStack] = {}
    result = []
    for loader in ordered:
        stack = loader.finish(_import_lookup(loader, exporters, loaded))
        loaded[stack.name] = stack
        result.append(stack)
    return result


def _import_lookup(importer: TemplateLoader, exporters: Mapping[str, TemplateLoader],
                   loaded: Mapping[str, LoadedStack]) -> ImportLookup:
    def lookup(name: str, at: Node) -> Node:
        exporter = exporters.get(name)
        if exporter is None:
            known = [n for s in loaded.values() for n in s.exports] + [n for n in exporters]
            close = difflib.get_close_matches(name, sorted(set(known)), n=2, cutoff=0.75)
            hint = f" (loaded templates export {', '.join(repr(c) for c in close)})" if close else ""
            message = (f"no loaded template exports '{name}'; load the stack that exports it{hint}"
                       f" (imported by stack '{importer.name}')")
            importer.report("missing-import", message, Severity.WARNING, at.start)
            return symbolic_node(Symbolic(message, at.start), at)
        stack = loaded.get(exporter.name)
        export: Export | None = stack.exports.get(name) if stack is not None else None
        if export is None:
            why = ("its output's condition is false" if stack is not None
                   else "the stack was not loaded before its importers")
            message = f"the export '{name}' of stack '{exporter.name}' is not available ({why})"
            importer.report("missing-import", message, Severity.WARNING, at.start)
            return symbolic_node(Symbolic(message, at.start), at)
        value = export.value
        if isinstance(value.value, Symbolic):
            return symbolic_node(value.value, at)
        return scalar_node(value.value, at)
    return lookup
