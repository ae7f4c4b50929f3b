"""Load several templates together, resolving ``Fn::ImportValue`` across them and nested stacks.

Each template is prepared (parameters, conditions, the names it exports and imports), the stacks
are ordered so that every exporter is loaded before its importers (an import loop is a
:class:`CircularReferenceError`), and then each stack is resolved in that order. A nested stack
(``AWS::CloudFormation::Stack``) is loaded when its parent's resources reach it, with the
parameters the parent passes; its outputs are the parent's ``Fn::GetAtt Child.Outputs.Name``.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from accesspath.cfn.decode import decode_template
from accesspath.cfn.errors import CircularReferenceError
from accesspath.cfn.intrinsics import as_text, scalar_node, symbolic_node
from accesspath.cfn.model import Export, LoadedStack, StackSet, Symbolic
from accesspath.cfn.nested import TemplateUrlMapping, locate_template
from accesspath.cfn.pseudo import Deployment, partition_for_region
from accesspath.cfn.template import ImportLookup, TemplateLoader
from accesspath.errors import UsageError
from accesspath.policy.model import Severity
from accesspath.policy.source import Node, Position

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
_ACCOUNT_RE = re.compile(r"^\d{12}$")


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """A template's text, the name positions show for it and the stack it is deployed as."""

    text: str
    source: str
    stack_name: str
    account: str | None = None          # where this stack is deployed, when it says (a CDK assembly)
    region: str | None = None
    depends_on: tuple[str, ...] = ()    # stacks deployed before this one (a CDK assembly's dependencies)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], stack_name: str | None = None) -> TemplateSource:
        from accesspath.files import read_text

        return cls(read_text(str(path)), str(path), stack_name or stack_name_for(Path(path).name))

    @classmethod
    def from_text(cls, text: str, *, source: str = "<template>", stack_name: str | None = None) -> TemplateSource:
        return cls(text, source, stack_name or stack_name_for(source))


def template_sources(paths: Iterable[str | os.PathLike[str]],
                     stack_names: Mapping[str, str] | None = None) -> list[TemplateSource]:
    """The templates the user named: a file is one stack (named by ``stack_names`` or its stem); a CDK
    cloud assembly (a ``cdk.out`` folder, or its ``manifest.json``) is its stacks with their real names,
    account, region and dependencies."""
    from accesspath.cfn.cdk import is_cloud_assembly, read_cloud_assembly
    from accesspath.files import read_text

    sources = []
    for item in paths:
        path = os.fspath(item)
        if is_cloud_assembly(path):
            for stack in read_cloud_assembly(path):
                sources.append(TemplateSource(read_text(str(stack.template)), str(stack.template), stack.stack_name,
                                              stack.account, stack.region, stack.dependencies))
        else:
            sources.append(TemplateSource.from_path(path, (stack_names or {}).get(path)))
    return sources


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
                stack_names: Mapping[str, str] | None = None,
                stack_parameters: Mapping[str, Mapping[str, object]] | None = None,
                imports: Mapping[str, str] | None = None,
                template_urls: Sequence[TemplateUrlMapping] = ()) -> StackSet:
    """Load templates together into a :class:`StackSet`.

    ``templates`` are file paths, template texts (a ``str`` containing a newline) or
    :class:`TemplateSource` objects. Stack names come from the file names unless ``stack_names``
    maps a path (as given) to a name. ``parameter_overrides`` apply to every stack that declares
    the parameter (a nested stack takes its parent's value first); ``stack_parameters`` maps a stack
    name (or a nested stack's path, ``root/Child``) to overrides of that stack alone, which win over
    everything. A parameter no stack declares is a :class:`UsageError`. ``imports`` supplies
    ``Fn::ImportValue`` names that no loaded stack exports; ``template_urls`` maps nested stacks'
    ``TemplateURL`` prefixes to folders. ``partition`` defaults to the region's partition.
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
    loading = _Loading(account, region, partition, organization_id, dict(parameter_overrides or {}),
                       {name: dict(values) for name, values in (stack_parameters or {}).items()},
                       dict(imports or {}), tuple(template_urls))
    loaders = []
    for source in sources:
        root = decode_template(source.text, source.source)
        deployment = Deployment(source.account or account, source.region or region,
                                partition_for_region(source.region) if source.region else partition,
                                source.stack_name, organization_id)
        loader = TemplateLoader(root, source=source.source, deployment=deployment,
                                parameter_overrides=loading.overrides_for(source.stack_name, source.stack_name),
                                nested=loading.load_child, text=source.text)
        loading.folders[id(loader)] = _folders_of(source.source, ())
        loading.depends_on[id(loader)] = source.depends_on
        loaders.append(loader)
    for loader in loaders:
        loader.prepare()
    loading.resolve_in_order(loaders)
    loading.check_overrides_used()
    return StackSet(tuple(loading.result), account, region, partition, organization_id)


class _Loading:
    """The state of one :func:`load_stacks` call: who exports what, what is loaded, nested stacks."""

    def __init__(self, account: str, region: str, partition: str, organization_id: str | None,
                 overrides: dict[str, object], stack_overrides: dict[str, dict[str, object]],
                 imports: dict[str, str], template_urls: tuple[TemplateUrlMapping, ...]) -> None:
        self.account, self.region, self.partition, self.organization_id = account, region, partition, organization_id
        self.overrides = overrides
        self.stack_overrides = stack_overrides
        self.imports = imports
        self.template_urls = template_urls
        self.exporters: dict[str, TemplateLoader] = {}
        self.loaded: dict[str, LoadedStack] = {}
        self.result: list[LoadedStack] = []
        self.used: set[str] = set()                      # unqualified override names some stack used
        self.used_qualified: set[tuple[str, str]] = set()  # (stack key, name)
        self.folders: dict[int, tuple[Path, ...]] = {}    # loader -> its folder, then its ancestors'
        self.loaders: list[TemplateLoader] = []
        self.depends_on: dict[int, tuple[str, ...]] = {}   # loader -> stacks deployed before it
        self.loading_files: list[Path] = []

    def overrides_for(self, name: str, path: str) -> dict[str, object]:
        values = dict(self.overrides)
        for key in (name, path):
            values.update(self.stack_overrides.get(key, {}))
        return values

    def _note_used(self, loader: TemplateLoader) -> None:
        self.loaders.append(loader)
        for key in (loader.name, loader.path):
            for name in self.stack_overrides.get(key, {}):
                if name in loader.used_overrides:
                    self.used_qualified.add((key, name))
        self.used |= loader.used_overrides & set(self.overrides)

    def check_overrides_used(self) -> None:
        unused = set(self.overrides) - self.used
        if unused:
            raise UsageError("no loaded template has a parameter named "
                             + ", ".join(f"'{name}'" for name in sorted(unused)))
        known = {key for loader in self.loaders for key in (loader.name, loader.path)}
        for key, values in self.stack_overrides.items():
            if key not in known:
                names = sorted({loader.path for loader in self.loaders})
                raise UsageError(f"--param '{key}:...': there is no stack '{key}' (stacks: {', '.join(names)})")
            missing = [name for name in values if (key, name) not in self.used_qualified]
            if missing:
                raise UsageError(f"stack '{key}' has no parameter named "
                                 + ", ".join(f"'{name}'" for name in sorted(missing)))

    # -- exports and imports ------------------------------------------------------------------

    def register_exports(self, loader: TemplateLoader) -> None:
        for output, (name, position) in loader.export_names.items():
            if not isinstance(name, str):
                continue
            other = self.exporters.get(name)
            if other is not None and other is not loader:
                loader.report("duplicate-export", f"the export '{name}' of output '{output}' is also exported by"
                              f" stack '{other.name}'; CloudFormation allows one export per name in a region",
                              Severity.ERROR, position)
                loader.rejected_exports.add(name)
                continue
            self.exporters[name] = loader

    def resolve_in_order(self, loaders: list[TemplateLoader]) -> None:
        for loader in loaders:
            self.register_exports(loader)
        # Exporters first: depth-first over import edges with an explicit path, so a loop is reported.
        # A stack importing a name no top-level stack exports goes last: a nested stack may export it.
        dependencies: dict[int, list[tuple[TemplateLoader, str, Node]]] = {}
        waits: set[int] = set()
        for loader in loaders:
            edges = []
            for name, at in loader.imported_names:
                exporter = self.exporters.get(name)
                if exporter is loader:
                    raise CircularReferenceError(f"stack '{loader.name}' imports its own export '{name}'", at.start,
                                                 source=loader.source)
                if exporter is not None:
                    edges.append((exporter, name, at))
                elif name not in self.imports:
                    waits.add(id(loader))
            by_name = {other.name: other for other in loaders}
            for name in self.depends_on.get(id(loader), ()):
                if name in by_name and by_name[name] is not loader:
                    edges.append((by_name[name], f"(deployed after '{name}')", loader.root))
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

        for loader in sorted(loaders, key=lambda item: id(item) in waits):
            visit(loader, [])
        for loader in ordered:
            self.finish(loader)

    def finish(self, loader: TemplateLoader) -> LoadedStack:
        stack = loader.finish(self.import_lookup(loader))
        self._note_used(loader)
        self.loaded[stack.name] = stack
        self.result.append(stack)
        return stack

    def import_lookup(self, importer: TemplateLoader) -> ImportLookup:
        def lookup(name: str, at: Node) -> Node:
            exporter = self.exporters.get(name)
            if exporter is None:
                if name in self.imports:  # --import NAME=VALUE
                    return scalar_node(self.imports[name], at)
                known = [n for s in self.loaded.values() for n in s.exports] + list(self.exporters)
                close = difflib.get_close_matches(name, sorted(set(known)), n=2, cutoff=0.75)
                hint = f" (loaded templates export {', '.join(repr(c) for c in close)})" if close else ""
                message = (f"no loaded template exports '{name}'; load the stack that exports it or give"
                           f" --import {name}=VALUE{hint} (imported by stack '{importer.name}')")
                importer.report("missing-import", message, Severity.WARNING, at.start)
                return symbolic_node(Symbolic(message, at.start), at)
            stack = self.loaded.get(exporter.name)
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

    # -- nested stacks ------------------------------------------------------------------------

    def load_child(self, parent: TemplateLoader, logical_id: str, type_: str, properties: Node,
                   declaration: Node) -> LoadedStack | Symbolic:
        """Load the template of the nested stack ``logical_id`` of ``parent`` (its resources are being resolved)."""
        url_property = "Location" if type_ == "AWS::Serverless::Application" else "TemplateURL"
        url_node = properties.member(url_property)
        where = url_node.start if url_node is not None else declaration.start
        asset = _asset_path(declaration)  # a CDK assembly's nested template sits beside its parent
        folders = self.folders.get(id(parent), ())
        url = as_text(url_node) if url_node is not None else None
        if asset is not None and folders and (folders[0] / asset).is_file():
            path: Path | None = folders[0] / asset
            shown = asset
        elif isinstance(url, str):
            located = locate_template(url, folders, self.template_urls)
            path, shown = located.path, url
            if path is None:
                tried = f" (looked for {', '.join(repr(t) for t in located.tried[:3])})" if located.tried else ""
                return self._child_missing(parent, logical_id, f"the template '{url}' of nested stack '{logical_id}'"
                                           f" was not found{tried}; map its URL to a folder with"
                                           " --template-url PREFIX=DIR", where)
        else:
            what = (f"its {url_property} is unresolved ({url.reason})" if isinstance(url, Symbolic)
                    else f"it has no {url_property} naming a template file")
            return self._child_missing(parent, logical_id, f"nested stack '{logical_id}' is not loaded: {what};"
                                       " give the template's URL a known value or map it with"
                                       " --template-url PREFIX=DIR", where)
        assert path is not None
        if any(path.resolve() == seen for seen in self.loading_files):
            raise CircularReferenceError(f"nested stack '{logical_id}' includes '{shown}', which includes itself",
                                         where, source=parent.source)
        passed: dict[str, object] = {}
        parameters = properties.member("Parameters")
        if parameters is not None and parameters.is_object:
            passed = {member.key: member.value for member in parameters.value}
        name = nested_stack_name(parent.name, logical_id, parent.deployment)
        stack_path = f"{parent.path}/{logical_id}"
        overrides = dict(self.overrides)
        overrides.update(passed)
        for key in (name, stack_path):
            overrides.update(self.stack_overrides.get(key, {}))
        from accesspath.files import read_text

        text = read_text(str(path))
        root = decode_template(text, str(path))
        deployment = Deployment(self.account, self.region, self.partition, name, self.organization_id)
        child = TemplateLoader(root, source=str(path), deployment=deployment, parameter_overrides=overrides,
                               nested=self.load_child, text=text)
        child.parent, child.logical_id_in_parent, child.path = parent.name, logical_id, stack_path
        self.folders[id(child)] = (path.parent, *folders)
        self.loading_files.append(path.resolve())
        try:
            child.prepare()
            for passed_name, value in passed.items():
                if passed_name not in child.parameters:
                    parent.report("unknown-nested-parameter", f"nested stack '{logical_id}' passes the parameter"
                                  f" '{passed_name}', which its template '{shown}' does not declare",
                                  Severity.ERROR, value.start if isinstance(value, Node) else where)
            self.register_exports(child)
            return self.finish(child)
        finally:
            self.loading_files.pop()

    def _child_missing(self, parent: TemplateLoader, logical_id: str, message: str,
                       where: Position | None) -> Symbolic:
        parent.report("nested-template-not-found", message + "; what depends on its outputs is undetermined",
                      Severity.WARNING, where)
        return Symbolic(message, where)


def nested_stack_name(parent: str, logical_id: str, deployment: Deployment) -> str:
    """``PARENT-LOGICALID-SUFFIX`` as CloudFormation names nested stacks (SUFFIX: 12 or 13 characters,
    here 13 from a hash of where the stack is), at most 128 characters."""
    digest = hashlib.sha256(f"nested/{deployment.account}/{deployment.region}/{parent}/{logical_id}".encode())
    suffix = base64.b32encode(digest.digest()).decode()[:13]
    room = 128 - len(suffix) - 2
    head = f"{parent}-{logical_id}"[:room]
    return f"{head}-{suffix}"


def _asset_path(declaration: Node) -> str | None:
    metadata = declaration.member("Metadata")
    asset = metadata.member("aws:asset:path") if metadata is not None else None
    return asset.value if asset is not None and isinstance(asset.value, str) else None


def _folders_of(source: str, ancestors: tuple[Path, ...]) -> tuple[Path, ...]:
    if source.startswith("<"):
        return (Path.cwd(), *ancestors)
    return (Path(source).parent, *ancestors)


def _source(item: str | os.PathLike[str] | TemplateSource, index: int, names: Mapping[str, str]) -> TemplateSource:
    if isinstance(item, TemplateSource):
        return item
    if isinstance(item, str) and "\n" in item:
        return TemplateSource.from_text(item, source=f"<template {index + 1}>",
                                        stack_name=f"stack-{index + 1}")
    return TemplateSource.from_path(item, names.get(os.fspath(item)))
