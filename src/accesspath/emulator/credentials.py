"""The credentials the emulator knows: temporary ones it issues for a caller, and ones given in a file.

Issued credentials look like a role session's (``ASIA`` access key ids, a session token and an
Expiration), as the ECS agent hands them to a task. Each key maps to the caller whose requests it
signs: the emulator decides every request as that caller's.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from accesspath.environment.callers import Caller, resolve_caller
from accesspath.environment.model import Environment
from accesspath.errors import UsageError

DEFAULT_LIFETIME = timedelta(hours=6)
"""How long issued credentials last (the ECS agent's task role credentials last about six hours)."""
_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True)
class KnownCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None
    caller: Caller
    expiration: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expiration is not None and now >= self.expiration

    def to_container_json(self) -> dict[str, Any]:
        """The body the ECS container credentials endpoint returns."""
        role = self.caller.role
        out: dict[str, Any] = {"AccessKeyId": self.access_key_id, "SecretAccessKey": self.secret_access_key,
                               "Token": self.session_token or "", "RoleArn": role.arn if role else self.caller.principal.arn}
        if self.expiration is not None:
            out["Expiration"] = iso8601(self.expiration)
        return out


def iso8601(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{where}: Expiration '{text}' is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class CredentialStore:
    """Access key id → credentials; safe to use from the server's threads."""

    def __init__(self, credentials: Iterable[KnownCredentials] = ()) -> None:
        self._by_key: dict[str, KnownCredentials] = {}
        self._lock = threading.Lock()
        for item in credentials:
            self.add(item)

    def add(self, credentials: KnownCredentials) -> None:
        with self._lock:
            self._by_key[credentials.access_key_id] = credentials

    def get(self, access_key_id: str) -> KnownCredentials | None:
        return self._by_key.get(access_key_id)

    def __len__(self) -> int:
        return len(self._by_key)

    def issue(self, caller: Caller, *, lifetime: timedelta = DEFAULT_LIFETIME,
              now: datetime | None = None) -> KnownCredentials:
        """New temporary credentials for ``caller`` (``ASIA`` key, secret, session token, expiration)."""
        now = now or datetime.now(UTC)
        issued = KnownCredentials(
            access_key_id="ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
            secret_access_key=base64.b64encode(secrets.token_bytes(30)).decode(),
            session_token=base64.b64encode(b"accesspath-session:" + secrets.token_bytes(96)).decode(),
            caller=caller, expiration=now.replace(microsecond=0) + lifetime)
        self.add(issued)
        return issued


def load_credentials_file(path: str, env: Environment) -> list[KnownCredentials]:
    """``--credentials FILE``: a JSON list of {AccessKeyId, SecretAccessKey, SessionToken?, Principal,
    Expiration?}; ``Principal`` is a ``--from`` caller id (service, task definition, instance, role) or an ARN."""
    try:
        document = json.loads(Path(path).read_text())
    except OSError as error:
        raise UsageError(f"cannot read --credentials '{path}': {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise UsageError(f"--credentials is not JSON: {error.msg}", source=path, line=error.lineno,
                         column=error.colno) from None
    if not isinstance(document, list):
        raise UsageError("--credentials must hold a JSON list of credentials", source=path)
    found: list[KnownCredentials] = []
    for index, entry in enumerate(document):
        where = f"{path}: entry {index}"
        if not isinstance(entry, dict):
            raise UsageError(f"{where} is not an object")
        unknown = sorted(set(entry) - {"AccessKeyId", "SecretAccessKey", "SessionToken", "Principal", "Expiration"})
        if unknown:
            raise UsageError(f"{where}: unknown field '{unknown[0]}'")
        for name in ("AccessKeyId", "SecretAccessKey", "Principal"):
            if not isinstance(entry.get(name), str) or not entry[name]:
                raise UsageError(f"{where}: '{name}' must be a non-empty string")
        token = entry.get("SessionToken")
        if token is not None and not isinstance(token, str):
            raise UsageError(f"{where}: 'SessionToken' must be a string")
        expiration = entry.get("Expiration")
        found.append(KnownCredentials(
            access_key_id=entry["AccessKeyId"], secret_access_key=entry["SecretAccessKey"], session_token=token or None,
            caller=resolve_caller(env, entry["Principal"]),
            expiration=_parse_time(expiration, where) if isinstance(expiration, str) else None))
    return found
