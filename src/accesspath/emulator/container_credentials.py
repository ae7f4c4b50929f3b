"""An ECS container credentials endpoint for one task, as the ECS agent serves it.

The SDKs read ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and send ``AWS_CONTAINER_AUTHORIZATION_TOKEN``
in the ``Authorization`` header (botocore's ``ContainerProvider``; a full URI over plain HTTP must be
a loopback address). The answer is ``{"AccessKeyId", "SecretAccessKey", "Token", "Expiration",
"RoleArn"}``. A request without the token gets 401, one with a wrong token 403, any other path 404.
"""

from __future__ import annotations

import hmac
import json
import secrets
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from accesspath.emulator.credentials import KnownCredentials


class ContainerCredentialsServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], credentials: KnownCredentials, *, token: str | None = None) -> None:
        self.credentials = credentials
        self.token = token or secrets.token_urlsafe(32)
        self.path_prefix = f"/v2/credentials/{uuid.uuid4()}"
        super().__init__(address, _CredentialsHandler)

    @property
    def full_uri(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{self.path_prefix}"


class _CredentialsHandler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "accesspath-ecs-credentials"
    timeout = 30
    server: ContainerCredentialsServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != self.server.path_prefix:
            self._answer(404, {"code": "NotFound", "message": "no credentials at this path"})
            return
        given = self.headers.get("Authorization")
        if not given:
            self._answer(401, {"code": "NoAuthorizationToken",
                               "message": "the request carries no Authorization token"})
            return
        if not hmac.compare_digest(given.encode(), self.server.token.encode()):
            self._answer(403, {"code": "InvalidAuthorizationToken",
                               "message": "the Authorization token is not this task's"})
            return
        self._answer(200, self.server.credentials.to_container_json())

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.close_connection = True
        self._answer(405, {"code": "MethodNotAllowed", "message": "only GET is served"})

    do_PUT = do_DELETE = do_POST
