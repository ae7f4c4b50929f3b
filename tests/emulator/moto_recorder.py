"""moto's server in this process, and a record of every operation it executes with the resource it
touched: what the upstream really did, to compare with what the emulator decided."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import botocore.session


@dataclass(frozen=True)
class Executed:
    service: str
    operation: str
    resource: str | None       # S3: bucket/key or bucket; IAM: the UserName; ECS: the cluster


@dataclass
class MotoRecord:
    url: str
    executed: list[Executed] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def since(self, mark: int) -> list[Executed]:
        with self.lock:
            return list(self.executed[mark:])

    def mark(self) -> int:
        with self.lock:
            return len(self.executed)


def _s3_resource(response: Any) -> str | None:
    path = unquote(getattr(response, "raw_path", "") or "").split("?")[0]
    bucket = getattr(response, "bucket_name", None)
    key = path.lstrip("/").partition("/")[2] if bucket else ""
    return f"{bucket}/{key}" if key else bucket


def _param(name: str) -> Callable[[Any], str | None]:
    def read(response: Any) -> str | None:
        try:
            value = response._get_param(name)
        except Exception:  # noqa: BLE001 - a request moto cannot read names no resource
            return None
        return str(value) if value is not None else None
    return read


def _wrap(record: MotoRecord, service: str, operation: str, resource_of: Callable[[Any], str | None],
          original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
        with record.lock:
            record.executed.append(Executed(service, operation, resource_of(self)))
        return original(self, *args, **kwargs)
    return recorded


@contextmanager
def recording_moto_server() -> Iterator[MotoRecord]:
    """moto's threaded server on 127.0.0.1 with its ECS, IAM and S3 handlers recording each operation."""
    from moto.core.utils import camelcase_to_underscores
    from moto.ecs.responses import EC2ContainerServiceResponse
    from moto.iam.responses import IamResponse
    from moto.s3.responses import S3Response
    from moto.server import ThreadedMotoServer

    session = botocore.session.get_session()
    record = MotoRecord("")
    patched: list[tuple[type, str, Any]] = []
    for service, cls, resource_of in (("ecs", EC2ContainerServiceResponse, _param("cluster")),
                                      ("iam", IamResponse, _param("UserName")),
                                      ("s3", S3Response, _s3_resource)):
        for operation in session.get_service_model(service).operation_names:
            name = camelcase_to_underscores(operation)
            original = cls.__dict__.get(name)
            if callable(original):
                patched.append((cls, name, original))
                setattr(cls, name, _wrap(record, service, operation, resource_of, original))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    record.url = f"http://{host}:{port}"
    try:
        yield record
    finally:
        server.stop()
        for cls, name, original in patched:
            setattr(cls, name, original)
