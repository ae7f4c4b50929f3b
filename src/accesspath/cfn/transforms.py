"""Template transforms, applied as CloudFormation applies them before anything is resolved.

- ``AWS::LanguageExtensions`` (transform-aws-languageextensions.md): ``Fn::ForEach`` loops in the
  Resources, Outputs and Conditions sections and inside resource properties are expanded here;
  ``Fn::ToJsonString`` and ``Fn::Length`` are intrinsic functions of the resolver; intrinsic
  functions in ``DeletionPolicy`` and ``UpdateReplacePolicy`` are resolved and checked by the loader.
- ``AWS::Serverless-2016-10-31``: applied by AWS's own SAM translator (the ``aws-sam-translator``
  package, the code CloudFormation's transform runs), never by hand. The translator works on
  plain dictionaries; its output is turned back into positioned nodes by reusing the template's
  own node wherever the translator copied a value unchanged (inline policies, properties passed
  through), and placing everything it generated at the SAM resource it came from.

CloudFormation applies the transforms in the order the template lists them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from accesspath.cfn.errors import TemplateError
from accesspath.cfn.model import Symbolic
from accesspath.policy.model import Severity
from accesspath.policy.source import Member, Node, Position

LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
SERVERLESS = "AWS::Serverless-2016-10-31"
SUPPORTED = (LANGUAGE_EXTENSIONS, SERVERLESS)

Report = Callable[[str, str, Severity, Position | None], None]
# Resolves a Fn::ForEach collection (a list, or a Ref to a CommaDelimitedList) to its items.
CollectionResolver = Callable[[Node], "tuple[str, ...] | Symbolic"]

_FOR_EACH = "Fn::ForEach::"
_NOT_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]")


def transform_names(root: Node) -> list[tuple[str | None, Node]]:
    """The transforms a template declares, in order (None for a macro given with parameters)."""
    declared = root.member("Transform") if root.is_object else None
    if declared is None:
        return []
    items = declared.value if declared.is_array else (declared,)
    out: list[tuple[str | None, Node]] = []
    for item in items:
        if isinstance(item.value, str) and not (item.is_object or item.is_array):
            out.append((item.value, item))
        else:
            name = item.member("Name") if item.is_object else None
            out.append((name.value if name is not None and isinstance(name.value, str) else None, item))
    return out


# -- AWS::LanguageExtensions: Fn::ForEach ---------------------------------------------------------


def expand_for_each(root: Node, collection: CollectionResolver, report: Report) -> Node:
    """``root`` with every ``Fn::ForEach`` in Resources, Outputs and Conditions expanded
    (intrinsic-function-reference-foreach.md)."""
    if not root.is_object:
        return root
    members = []
    for member in root.value:
        if member.key in ("Resources", "Outputs", "Conditions"):
            members.append(Member(member.key, _expand(member.value, collection, report, 0), member.key_start))
        else:
            members.append(member)
    return Node(tuple(members), root.start, root.end, root.kind)


def _expand(node: Node, collection: CollectionResolver, report: Report, depth: int) -> Node:
    if depth > 50:
        report("too-deep", "Fn::ForEach loops nested deeper than 50 levels", Severity.ERROR, node.start)
        return node
    if node.is_array:
        return Node(tuple(_expand(item, collection, report, depth + 1) for item in node.value), node.start, node.end,
                    node.kind)
    if not node.is_object:
        return node
    members: list[Member] = []
    for member in node.value:
        if not member.key.startswith(_FOR_EACH):
            members.append(Member(member.key, _expand(member.value, collection, report, depth + 1), member.key_start))
            continue
        loop = member.key.removeprefix(_FOR_EACH)
        argument = member.value
        if (not argument.is_array or len(argument.value) != 3 or not isinstance(argument.value[0].value, str)
                or not argument.value[2].is_object):
            report("bad-argument", f"Fn::ForEach::{loop} takes [identifier, collection, {{OutputKey: OutputValue}}]",
                   Severity.ERROR, member.key_start)
            continue
        identifier_node, collection_node, fragment = argument.value
        items = collection(collection_node)
        if isinstance(items, Symbolic):
            report("unresolved-for-each", f"Fn::ForEach::{loop}: its collection is unresolved ({items.reason});"
                   " what the loop would create is missing", Severity.WARNING, member.key_start)
            continue
        for item in items:
            for produced in fragment.value:
                key = _substitute_text(produced.key, identifier_node.value, item)
                if key == produced.key and not produced.key.startswith(_FOR_EACH):
                    report("bad-argument", f"Fn::ForEach::{loop}: the key '{produced.key}' does not use"
                           f" '${{{identifier_node.value}}}' or '&{{{identifier_node.value}}}', so every item"
                           " would write the same key", Severity.ERROR, produced.key_start)
                value = _substitute(produced.value, identifier_node.value, item)
                expanded = _expand(Node((Member(key, value, produced.key_start),), fragment.start, fragment.end,
                                        "object"), collection, report, depth + 1)
                members.extend(expanded.value)
    return Node(tuple(members), node.start, node.end, node.kind)


def _substitute_text(text: str, identifier: str, item: str) -> str:
    return text.replace("${" + identifier + "}", item).replace("&{" + identifier + "}",
                                                               _NOT_ALPHANUMERIC.sub("", item))


def _substitute(node: Node, identifier: str, item: str) -> Node:
    """Replace ``${Identifier}``, ``&{Identifier}`` and ``{"Ref": Identifier}`` in a fragment."""
    if node.is_object:
        if len(node.value) == 1 and node.value[0].key == "Ref" and node.value[0].value.value == identifier:
            return Node(item, node.start, node.end)
        return Node(tuple(Member(_substitute_text(m.key, identifier, item), _substitute(m.value, identifier, item),
                                 m.key_start) for m in node.value), node.start, node.end, node.kind)
    if node.is_array:
        return Node(tuple(_substitute(n, identifier, item) for n in node.value), node.start, node.end, node.kind)
    if isinstance(node.value, str):
        return Node(_substitute_text(node.value, identifier, item), node.start, node.end)
    return node


# -- AWS::Serverless-2016-10-31 --------------------------------------------------------------------


def apply_serverless(root: Node, parameters: dict[str, str], *, account: str, region: str, partition: str,
                     stack_name: str, at: Node, source: str) -> Node:
    """The template as the SAM transform leaves it (CloudFormation resources only)."""
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator

    from accesspath.catalog.managed_policies import bundled_managed_policies

    names = {name: arn for arn, name, _ in bundled_managed_policies().summaries() if ":iam::aws:policy/" in arn}
    values: dict[str, Any] = dict(parameters)
    values.update({"AWS::Region": region, "AWS::Partition": partition, "AWS::AccountId": account,
                   "AWS::StackName": stack_name})
    # The translator asks a boto3 session for the region when an ARN needs one: give it ours, offline.
    ArnGenerator.BOTO_SESSION_REGION_NAME = region
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    template = root.to_python()
    try:
        translated = translator.translate(template, parameter_values=values,
                                          get_managed_policy_map=lambda: names)
    except InvalidDocumentException as error:
        causes = "; ".join(str(cause.message) for cause in error.causes) or str(error)
        raise TemplateError(f"the {SERVERLESS} transform rejects the template: {causes}", at.start,
                            source=source) from None
    return _renode(translated, root)


def _renode(translated: dict[str, Any], original: Node) -> Node:
    """Positioned nodes for the translator's output, reusing the template's nodes where it copied them."""
    everywhere: dict[str, Node] = {}
    by_resource: dict[str, dict[str, Node]] = {}
    resources = original.member("Resources")
    for member in original.value:
        _index(member.value, everywhere)
    if resources is not None and resources.is_object:
        for member in resources.value:
            by_resource[member.key] = {}
            _index(member.value, by_resource[member.key])
    positions = {m.key: m.key_start for m in resources.value} if resources is not None and resources.is_object else {}

    def origin(logical_id: str) -> str | None:
        if logical_id in by_resource:
            return logical_id
        prefixes = [name for name in by_resource if logical_id.startswith(name)]
        return max(prefixes, key=len) if prefixes else None

    def build(value: Any, at: Position | None, index: dict[str, Node]) -> Node:
        if isinstance(value, (dict, list)):
            found = index.get(_canonical(value)) or everywhere.get(_canonical(value))
            if found is not None:
                return found
        if isinstance(value, dict):
            return Node(tuple(Member(str(k), build(v, at, index), at) for k, v in value.items()), at, at, "object")
        if isinstance(value, list):
            return Node(tuple(build(v, at, index) for v in value), at, at, "array")
        return Node(value, at, at)

    members = []
    for key, value in translated.items():
        section = original.member(key)
        at = section.start if section is not None else original.start
        key_start = next((m.key_start for m in original.value if m.key == key), at)
        if key == "Resources" and isinstance(value, dict):
            items = []
            for logical_id, declaration in value.items():
                source_id = origin(logical_id)
                where = positions.get(source_id) if source_id is not None else at
                index = by_resource.get(source_id, {}) if source_id is not None else {}
                items.append(Member(logical_id, build(declaration, where, index), where))
            members.append(Member(key, Node(tuple(items), at, at, "object"), key_start))
        else:
            members.append(Member(key, build(value, at, {}), key_start))
    return Node(tuple(members), original.start, original.end, "object")


def _index(node: Node, into: dict[str, Node]) -> None:
    pending = [node]
    while pending:
        current = pending.pop()
        if current.is_object or current.is_array:
            into.setdefault(_canonical(current.to_python()), current)
            pending.extend(m.value for m in current.value) if current.is_object else pending.extend(current.value)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
