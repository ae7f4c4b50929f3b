"""The environment a request travels through, built from CloudFormation templates or a native file."""

from accesspath.environment.callers import Caller, resolve_caller
from accesspath.environment.decide import CallDecision, Decider
from accesspath.environment.load import load_environment
from accesspath.environment.model import Environment
from accesspath.environment.network import (
           CallerPlacement,
           NetworkPath,
           PathKind,
           find_path,
)

__all__ = ["CallDecision", "Caller", "CallerPlacement", "Decider", "Environment", "NetworkPath", "PathKind",
           "find_path", "load_environment", "resolve_caller"]
