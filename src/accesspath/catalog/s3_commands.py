"""The high-level ``aws s3`` commands as the API calls they make.

Each command's arguments are read with the AWS CLI's own argument table (``awscli.customizations.s3``);
what it then calls is the CLI's documented behaviour (AWS CLI Command Reference, ``aws s3``;
https://docs.aws.amazon.com/cli/latest/reference/s3/) and the permissions S3 checks for each call
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html):

- ``ls`` lists buckets (ListBuckets) or a prefix (ListObjectsV2, with ``/`` as delimiter unless
  ``--recursive``);
- ``cp`` and ``mv`` upload (PutObject; large files go through CreateMultipartUpload, UploadPart and
  CompleteMultipartUpload, which S3 authorizes as ``s3:PutObject`` too), download (HeadObject and
  GetObject, both ``s3:GetObject``) or copy (CopyObject: ``s3:GetObject`` on the source and
  ``s3:PutObject`` on the destination; the source's tags travel with it under the default tagging
  directive, so the CLI sends no tagging call of its own); ``mv`` then deletes the source
  (DeleteObject); ``--acl`` adds ``s3:PutObjectAcl``;
- ``rm`` deletes (DeleteObject), ``mb`` creates and ``rb`` deletes the bucket, ``rb --force``
  empties it first;
- ``sync`` lists the source and the destination, then copies what differs, and with ``--delete``
  deletes what the source lacks;
- ``presign`` calls nothing: the URL it signs makes a GetObject with the signer's permissions when
  it is used, and that request is the one decided.

With ``--recursive`` and ``sync``, the keys are only known when the command runs (the local files
or the listing): those requests are *unresolved* on the prefix (``arn:aws:s3:::bucket/prefix*``), and
the decision is ``undetermined`` where a statement scoped to some keys could change it.
"""

from __future__ import annotations

import posixpath
from typing import Any

from accesspath.catalog.aws_cli import CliCall, UnresolvedRequest, _parse
from accesspath.catalog.calls import ApiCall
from accesspath.errors import UsageError


def parse_s3_command(driver: Any, s3: Any, words: list[str], globals_: Any, region: str | None) -> CliCall:
    """``aws s3 SUBCOMMAND ...`` → the calls it makes."""
    from awscli.argparser import ArgTableArgParser

    if not words or words[0] not in s3.subcommand_table:
        known = ", ".join(sorted(s3.subcommand_table))
        raise UsageError(f"expected one of the 'aws s3' commands ({known})")
    name = words[0]
    command = s3.subcommand_table[name]
    # BasicCommand.__call__ up to running the command: plugins add options (sync's --delete,
    # --size-only...) to the argument table at this event.
    command._subcommand_table = command._build_subcommand_table()
    command._arg_table = command._build_arg_table()
    driver.session.emit(f"before-building-argument-table-parser.{'.'.join(command.lineage_names)}",
                        argument_table=command._arg_table, args=words[1:], session=driver.session,
                        parsed_globals=globals_)
    parsed, remaining = _parse(ArgTableArgParser(command.arg_table), words[1:], f"aws s3 {name}")
    if remaining:
        raise UsageError(f"aws s3 {name}: unknown options: {', '.join(remaining)}")
    options = vars(parsed)
    paths = options.get("paths") or options.get("path")
    paths = [paths] if isinstance(paths, str) else list(paths or [])
    builder = _Calls(name, options)
    if name == "ls":
        builder.ls(paths[0] if paths else "s3://")
    elif name in ("cp", "mv"):
        builder.copy(paths[0], paths[1], move=name == "mv")
    elif name == "rm":
        builder.rm(_s3(paths[0], name))
    elif name == "sync":
        builder.sync(paths[0], paths[1])
    elif name == "mb":
        bucket, _ = _s3(paths[0], name)
        builder.call("CreateBucket", Bucket=bucket)
        if options.get("tags"):
            builder.notes.append("the bucket's tags are set by CreateBucket itself")
    elif name == "rb":
        bucket, _ = _s3(paths[0], name)
        if options.get("force"):
            builder.list(bucket, "", recursive=True)
            builder.unresolved("s3:DeleteObject", bucket, "", "--force deletes every object of the bucket")
        builder.call("DeleteBucket", Bucket=bucket)
    elif name == "presign":
        bucket, key = _s3(paths[0], name)
        builder.call("GetObject", Bucket=bucket, Key=key)
        builder.notes.append("presign sends nothing: the URL makes this GetObject, with the signer's"
                             " permissions, when it is used")
    elif name == "website":
        bucket, _ = _s3(paths[0], name)
        builder.call("PutBucketWebsite", Bucket=bucket, WebsiteConfiguration={})
    else:  # a command a newer CLI added: never guess its calls
        raise UsageError(f"'aws s3 {name}' is not modelled: give the API calls it makes with 'aws s3api'")
    if options.get("dryrun"):
        builder.keep_listing_only()
    if not builder.calls and not builder.unresolved_requests:
        raise UsageError(f"aws s3 {name}: the command sends no request (--dryrun)")
    return CliCall(tuple(builder.calls), region, tuple(builder.unresolved_requests), tuple(builder.notes))


def _s3(path: str, command: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``(bucket, key)``."""
    if not path.startswith("s3://"):
        raise UsageError(f"aws s3 {command}: '{path}' is not an S3 path (s3://bucket/key)")
    bucket, _, key = path[len("s3://"):].partition("/")
    if not bucket:
        raise UsageError(f"aws s3 {command}: '{path}' names no bucket")
    if bucket.startswith("arn:"):
        raise UsageError(f"aws s3 {command}: access point paths ('{path}') are not modelled; give the bucket")
    return bucket, key


class _Calls:
    def __init__(self, command: str, options: dict[str, Any]) -> None:
        self.command = command
        self.options = options
        self.calls: list[ApiCall] = []
        self.unresolved_requests: list[UnresolvedRequest] = []
        self.notes: list[str] = []
        self._listing: set[int] = set()

    def call(self, operation: str, **params: Any) -> None:
        self.calls.append(ApiCall("s3", operation, params))

    def list(self, bucket: str, prefix: str, *, recursive: bool) -> None:
        params: dict[str, Any] = {"Bucket": bucket}
        if prefix:
            params["Prefix"] = prefix
        if not recursive:
            params["Delimiter"] = "/"
        self._listing.add(len(self.calls))
        self.call("ListObjectsV2", **params)

    def unresolved(self, action: str, bucket: str, prefix: str, why: str) -> None:
        self.unresolved_requests.append(UnresolvedRequest(
            action, f"arn:aws:s3:::{bucket}/{prefix}*",
            f"the keys under 's3://{bucket}/{prefix}' are known only when the command runs ({why})"))

    def keep_listing_only(self) -> None:
        self.calls = [c for i, c in enumerate(self.calls) if i in self._listing]
        self.unresolved_requests = []
        self.notes.append("--dryrun: only the listings are sent")

    def ls(self, path: str) -> None:
        if path in ("s3://", "s3:"):
            self.call("ListBuckets")
            return
        bucket, prefix = _s3(path, "ls")
        self.list(bucket, prefix, recursive=bool(self.options.get("dir_op")))

    def _upload(self, bucket: str, key: str) -> None:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if self.options.get("acl"):
            params["ACL"] = self.options["acl"]
        self.call("PutObject", **params)
        if self.options.get("acl"):
            self.call("PutObjectAcl", Bucket=bucket, Key=key, ACL=self.options["acl"])

    def copy(self, source: str, destination: str, *, move: bool) -> None:
        recursive = bool(self.options.get("dir_op"))
        if not source.startswith("s3://") and not destination.startswith("s3://"):
            raise UsageError(f"aws s3 {self.command}: one of '{source}' and '{destination}' must be an S3 path")
        why = "--recursive"
        if not source.startswith("s3://"):
            bucket, key = _s3(destination, self.command)
            if recursive:
                self.unresolved("s3:PutObject", bucket, _folder(key), why)
            else:
                self._upload(bucket, _target_key(key, source))
            return
        source_bucket, source_key = _s3(source, self.command)
        if recursive:
            self.list(source_bucket, source_key, recursive=True)
            self.unresolved("s3:GetObject", source_bucket, source_key, why)
            if destination.startswith("s3://"):
                bucket, key = _s3(destination, self.command)
                self.unresolved("s3:PutObject", bucket, _folder(key), why)
            if move:
                self.unresolved("s3:DeleteObject", source_bucket, source_key, why)
            return
        if not source_key:
            raise UsageError(f"aws s3 {self.command}: '{source}' names no key (add --recursive to copy a prefix)")
        if destination.startswith("s3://"):
            bucket, key = _s3(destination, self.command)
            params: dict[str, Any] = {"Bucket": bucket, "Key": _target_key(key, source_key),
                                      "CopySource": f"{source_bucket}/{source_key}"}
            if self.options.get("acl"):
                params["ACL"] = self.options["acl"]
            self.call("CopyObject", **params)
        else:
            self.call("GetObject", Bucket=source_bucket, Key=source_key)
        if move:
            self.call("DeleteObject", Bucket=source_bucket, Key=source_key)

    def rm(self, target: tuple[str, str]) -> None:
        bucket, key = target
        if self.options.get("dir_op"):
            self.list(bucket, key, recursive=True)
            self.unresolved("s3:DeleteObject", bucket, key, "--recursive")
        else:
            self.call("DeleteObject", Bucket=bucket, Key=key)

    def sync(self, source: str, destination: str) -> None:
        why = "sync copies what differs"
        if source.startswith("s3://"):
            source_bucket, source_prefix = _s3(source, "sync")
            self.list(source_bucket, _folder(source_prefix), recursive=True)
            self.unresolved("s3:GetObject", source_bucket, _folder(source_prefix), why)
        if destination.startswith("s3://"):
            bucket, prefix = _s3(destination, "sync")
            self.list(bucket, _folder(prefix), recursive=True)
            self.unresolved("s3:PutObject", bucket, _folder(prefix), why)
            if self.options.get("delete"):
                self.unresolved("s3:DeleteObject", bucket, _folder(prefix), "--delete")
        elif not source.startswith("s3://"):
            raise UsageError(f"aws s3 sync: one of '{source}' and '{destination}' must be an S3 path")


def _folder(prefix: str) -> str:
    """A sync or recursive prefix is a folder: ``photos`` → ``photos/``."""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _target_key(key: str, source: str) -> str:
    """``cp file s3://b/dir/`` writes ``dir/file``; ``cp file s3://b`` writes ``file``."""
    if not key or key.endswith("/"):
        return key + posixpath.basename(source.replace("\\", "/").rstrip("/"))
    return key
