"""S3 request bodies the IAM requests depend on, read strictly: ``DeleteObjects`` names its keys in XML.

A ``DeleteObjects`` call (``POST /bucket?delete``) is authorized per object: ``s3:DeleteObject`` on
each key, and ``s3:DeleteObjectVersion`` too for a key given with a ``VersionId`` (Amazon S3 API
Reference, DeleteObjects, "Permissions"). The body is read here, and whatever another XML reader
could see differently is refused: a DTD (entities), comments and processing instructions, prefixed
names (an ``s3:Key`` is a ``Key`` to a namespace-aware reader and not to others), attributes, text
beside elements, an element the request format does not have or has once only given twice, more
than 1,000 objects (S3's limit). The body is forwarded as it was sent: what was decided is what the
upstream reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from xml.etree import ElementTree

from accesspath.emulator.protocols import ServiceCall, UnknownCall, WireStyle

MAX_DECIDED_BODY = 4 * 1024 * 1024
"""The largest S3 body read to decide a call (1,000 keys of 1,024 bytes, with version ids, fit)."""
MAX_DELETE_OBJECTS = 1000
S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"

# S3 operations whose IAM requests depend on the body: buffered and read before the decision.
DECIDED_BY_BODY = frozenset({"DeleteObjects"})

_OBJECT_FIELDS = frozenset({"Key", "VersionId", "ETag", "LastModifiedTime", "Size"})
_UNSAFE_MARKUP = re.compile(rb"<!DOCTYPE|<!ENTITY|<!--|<\?(?!xml[\s?])|xmlns:|<\s*/?\s*[A-Za-z_][\w.\-]*:",
                            re.IGNORECASE)


def read_delete_objects(body: bytes, style: WireStyle) -> dict[str, Any]:
    """The ``Delete`` member of a DeleteObjects call: ``{"Objects": [{"Key", "VersionId"?}...], "Quiet"?}``."""
    if _UNSAFE_MARKUP.search(body):
        raise UnknownCall("ambiguous", "the Delete XML holds a DTD, a comment, a processing instruction or a prefixed"
                                       " name: XML readers disagree on these", style)
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        raise UnknownCall("body", f"The XML you provided was not well-formed or did not validate against our"
                                  f" published schema ({error})", style) from None
    namespace = _namespace(root.tag)
    if _local(root.tag) != "Delete" or namespace not in ("", S3_NAMESPACE):
        raise UnknownCall("body", "the DeleteObjects body must be a <Delete> element", style)
    _plain(root, style)
    objects: list[dict[str, str]] = []
    quiet: str | None = None
    for child in root:
        name = _child_name(child, namespace, style)
        if name == "Object":
            objects.append(_object(child, namespace, style))
        elif name == "Quiet" and quiet is None:
            quiet = _text(child, style)
        else:
            raise UnknownCall("ambiguous", f"<{name[:40]}> is not expected (or given twice) in <Delete>", style)
    if not objects:
        raise UnknownCall("body", "the DeleteObjects body names no <Object>", style)
    if len(objects) > MAX_DELETE_OBJECTS:
        raise UnknownCall("body", f"DeleteObjects takes at most {MAX_DELETE_OBJECTS} objects, not {len(objects)}",
                          style)
    delete: dict[str, Any] = {"Objects": objects}
    if quiet is not None:
        delete["Quiet"] = quiet.strip().lower() == "true"
    return delete


def _object(element: ElementTree.Element, namespace: str, style: WireStyle) -> dict[str, str]:
    _plain(element, style)
    fields: dict[str, str] = {}
    for child in element:
        name = _child_name(child, namespace, style)
        if name not in _OBJECT_FIELDS or name in fields:
            raise UnknownCall("ambiguous", f"<{name[:40]}> is not expected (or given twice) in <Object>", style)
        fields[name] = _text(child, style)
    if not fields.get("Key"):
        raise UnknownCall("body", "an <Object> of the Delete XML names no <Key>", style)
    return {name: fields[name] for name in ("Key", "VersionId") if name in fields}


def _child_name(element: ElementTree.Element, namespace: str, style: WireStyle) -> str:
    if _namespace(element.tag) != namespace:
        raise UnknownCall("ambiguous", "the Delete XML mixes namespaces", style)
    return _local(element.tag)


def _plain(element: ElementTree.Element, style: WireStyle) -> None:
    """No attributes, and no text beside the child elements."""
    if element.attrib:
        raise UnknownCall("ambiguous", f"attributes on <{_local(element.tag)[:40]}> are not part of the Delete XML",
                          style)
    texts = [element.text] + [child.tail for child in element]
    if any(text and text.strip() for text in texts):
        raise UnknownCall("ambiguous", f"text beside the elements of <{_local(element.tag)[:40]}>", style)


def _text(element: ElementTree.Element, style: WireStyle) -> str:
    if element.attrib or len(element):
        raise UnknownCall("ambiguous", f"<{_local(element.tag)[:40]}> must hold text only", style)
    return element.text or ""


def _namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def with_body_params(call: ServiceCall, body: bytes) -> ServiceCall:
    """``call`` with the members its body carries (for the operations of :data:`DECIDED_BY_BODY`)."""
    if call.operation == "DeleteObjects":
        return replace(call, params={**call.params, "Delete": read_delete_objects(body, call.style)})
    return call


def per_object_calls(call: ServiceCall) -> list[tuple[str, Mapping[str, Any]]]:
    """A DeleteObjects call as the DeleteObject calls it is authorized as (one per object)."""
    bucket = call.params["Bucket"]
    return [("DeleteObject", {"Bucket": bucket, **item}) for item in call.params["Delete"]["Objects"]]
