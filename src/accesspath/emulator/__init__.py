"""The emulator: unmodified AWS clients call it, it decides each call as AWS would and forwards the
allowed ones to an upstream (moto, LocalStack, or AWS itself), answering the others with AWS's errors.

``accesspath serve`` and ``accesspath run`` are thin layers over this package (docs/emulator.md).
"""

from accesspath.emulator.container_credentials import ContainerCredentialsServer
from accesspath.emulator.credentials import (
    CredentialStore,
    KnownCredentials,
    load_credentials_file,
)
from accesspath.emulator.decision_log import DecisionLog, log_entry
from accesspath.emulator.listener import BackgroundEmulator, EmulatorServer, listening_socket, start_emulator
from accesspath.emulator.protocols import ServiceCall, UnknownCall, WireStyle, identify
from accesspath.emulator.server import (
    CallOutcome,
    ConnectionAuthority,
    Emulator,
    RunningServer,
    check_listen_address,
    serve_connection,
)
from accesspath.emulator.sigv4 import SignatureProblem
from accesspath.emulator.upstream import (
    HttpUpstream,
    ThreadedUpstream,
    UpstreamRequest,
    UpstreamResponse,
    UpstreamTransport,
)
from accesspath.emulator.wire_errors import WireError, error_response

__all__ = [
    "BackgroundEmulator", "CallOutcome", "ConnectionAuthority", "ContainerCredentialsServer", "CredentialStore",
    "DecisionLog", "Emulator", "EmulatorServer", "HttpUpstream", "KnownCredentials", "RunningServer", "ServiceCall",
    "SignatureProblem", "ThreadedUpstream", "UnknownCall", "UpstreamRequest", "UpstreamResponse",
    "UpstreamTransport", "WireError", "WireStyle", "check_listen_address", "error_response", "identify",
    "listening_socket", "load_credentials_file", "log_entry", "serve_connection", "start_emulator",
]
