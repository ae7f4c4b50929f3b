"""Finding the template of a nested stack on disk.

``AWS::CloudFormation::Stack`` names its template by ``TemplateURL`` (aws-resource-cloudformation-stack.md):
in a deployed stack that is an ``https://`` URL of an S3 object; before ``aws cloudformation
package`` (and in ``AWS::Serverless::Application``'s ``Location``) it is a path relative to the
parent template. Offline, a URL is mapped to a file three ways, in this order:

1. an explicit ``--template-url PREFIX=DIR`` mapping (the longest matching prefix wins);
2. a local path (no scheme, or ``file://``), relative to the parent template's folder;
3. for ``https://`` and ``s3://`` URLs, the longest trailing part of the URL's path that exists
   under the parent template's folder (or a folder of one of its ancestors): the reference
   architectures keep ``infrastructure/vpc.yaml`` beside ``master.yaml`` and point at
   ``https://s3.amazonaws.com/BUCKET/infrastructure/vpc.yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

NESTED_STACK_TYPES = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")


@dataclass(frozen=True, slots=True)
class TemplateUrlMapping:
    """``--template-url PREFIX=DIR``: URLs starting with ``prefix`` are files under ``directory``."""

    prefix: str
    directory: Path

    @classmethod
    def parse(cls, text: str) -> TemplateUrlMapping:
        from accesspath.errors import UsageError

        prefix, sep, directory = text.partition("=")
        # A URL holds '=' only in its query, which template URLs do not use; split at the last '='
        # when the first split leaves a scheme-less directory that looks like a query.
        if not sep or not prefix or not directory:
            raise UsageError(f"--template-url '{text}' must look like PREFIX=DIR, e.g."
                             " https://s3.amazonaws.com/my-bucket/=./templates")
        path = Path(directory)
        if not path.is_dir():
            raise UsageError(f"--template-url '{text}': '{directory}' is not a folder")
        return cls(prefix, path)


@dataclass(frozen=True, slots=True)
class Located:
    path: Path | None
    tried: tuple[str, ...]  # what was looked for, for the warning when nothing was found


def url_path_parts(url: str) -> list[str]:
    """The parts of the object key an S3 URL names (the bucket of a path-style URL included)."""
    split = urlsplit(url)
    if split.scheme == "s3":
        key = f"{split.netloc}/{split.path.lstrip('/')}"
    else:
        key = split.path
    return [unquote(part) for part in key.split("/") if part and part not in (".", "..")]


def locate_template(url: str, folders: Sequence[Path], mappings: Sequence[TemplateUrlMapping] = ()) -> Located:
    """The file a nested stack's ``url`` stands for; ``folders`` are the parent's folder, then its ancestors'."""
    tried: list[str] = []
    for mapping in sorted(mappings, key=lambda m: len(m.prefix), reverse=True):
        if url.startswith(mapping.prefix):
            candidate = mapping.directory / unquote(url[len(mapping.prefix):].lstrip("/"))
            tried.append(str(candidate))
            if candidate.is_file():
                return Located(candidate, tuple(tried))
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("", "file") or (len(scheme) == 1 and url[1:3] in (":\\", ":/")):  # a path, or C:\...
        path = Path(unquote(urlsplit(url).path) if scheme == "file" else url)
        candidates = [path] if path.is_absolute() else [folder / path for folder in folders[:1]]
        for candidate in candidates:
            tried.append(str(candidate))
            if candidate.is_file():
                return Located(candidate, tuple(tried))
        return Located(None, tuple(tried))
    if scheme not in ("https", "http", "s3"):
        return Located(None, tuple(tried))
    parts = url_path_parts(url)
    for folder in _unique(folders):
        for start in range(len(parts)):
            candidate = folder.joinpath(*parts[start:])
            if candidate.is_file():
                return Located(candidate, tuple(tried))
        if parts:
            tried.append(str(folder.joinpath(*parts[-1:])))
    return Located(None, tuple(tried))


def _unique(folders: Sequence[Path]) -> list[Path]:
    seen: set[Path] = set()
    out = []
    for folder in folders:
        resolved = folder.resolve()
        if resolved not in seen:
            seen.add(resolved)
            out.append(folder)
    return out
