"""accesspath: the offline twin of AWS authorization for ECS workloads behind VPC endpoints.

The public surface: parse policies (:func:`parse_policy`), describe a request
(:class:`AuthorizationRequest`, :func:`principal_from_arn`, :class:`RequestContext`), gather the
policies that apply (:class:`PolicySet`) and ask the one evaluator (:func:`authorize`).
Names are imported on first use, so the command line starts without loading the engine.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "AuthorizationRequest": "accesspath.engine", "AuthorizationResult": "accesspath.engine",
    "ContextValue": "accesspath.engine", "Decision": "accesspath.engine", "PolicySet": "accesspath.engine",
    "RequestContext": "accesspath.engine", "RequestPrincipal": "accesspath.engine",
    "authorize": "accesspath.engine", "principal_from_arn": "accesspath.engine",
    "Policy": "accesspath.policy", "PolicyIssue": "accesspath.policy", "PolicyType": "accesspath.policy",
    "parse_policy": "accesspath.policy", "UsageError": "accesspath.errors",
}

__all__ = sorted([*_EXPORTS, "__version__"])  # noqa: PLE0605 - the lazy names above


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'accesspath' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
