"""Container image references of Amazon ECR private registries.

``ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY[:TAG|@DIGEST]``
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/docker-pull-ecr-image.html)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from accesspath.errors import UsageError

_REGISTRY = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$")
_REPOSITORY = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")


@dataclass(frozen=True)
class EcrImageReference:
    registry_id: str | None
    region: str | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def image_id(self) -> dict[str, str]:
        """The ``imageIds`` element BatchGetImage takes."""
        return {"imageDigest": self.digest} if self.digest else {"imageTag": self.tag or "latest"}


def parse_ecr_image(image: str) -> EcrImageReference:
    """Split an ECR image reference; a reference to another registry is a usage error."""
    registry: str | None = None
    rest = image
    first, slash, remainder = image.partition("/")
    if slash and ("." in first or ":" in first):
        registry, rest = first, remainder
    account = region = None
    if registry is not None:
        match = _REGISTRY.match(registry)
        if match is None:
            raise UsageError(f"'{image}' is not an Amazon ECR private image (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO)")
        account, region = match["account"], match["region"]
    digest = tag = None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
    elif ":" in rest:
        rest, tag = rest.rsplit(":", 1)
    if not _REPOSITORY.match(rest):
        raise UsageError(f"'{rest}' is not a valid ECR repository name")
    return EcrImageReference(registry_id=account, region=region, repository=rest, tag=tag, digest=digest)
