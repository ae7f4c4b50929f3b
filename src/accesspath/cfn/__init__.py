"""CloudFormation templates, decoded once with positions and resolved offline.

``load_stacks`` loads several YAML or JSON templates together (``Fn::ImportValue`` resolved
across them) into immutable :class:`LoadedStack` objects whose resources keep their properties
as positioned :class:`~accesspath.policy.source.Node` trees; ``policy_nodes`` finds the policy
documents in them. Values that cannot be known offline are :class:`Symbolic` and reported as
:class:`TemplateIssue` entries; nothing unresolved is dropped silently.
"""

from accesspath.cfn.decode import decode_template
from accesspath.cfn.errors import (
    CircularReferenceError,
    ParameterValueError,
    TemplateError,
    TemplateSyntaxError,
)
from accesspath.cfn.model import (
    Export,
    LoadedStack,
    Output,
    Parameter,
    Resource,
    StackSet,
    Symbolic,
    TemplateIssue,
)
from accesspath.cfn.physical_ids import RESOURCE_TYPE_MODELS
from accesspath.cfn.policies import POLICY_PROPERTIES, PolicyLocation, policy_nodes
from accesspath.cfn.stacks import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    TemplateSource,
    load_stacks,
    stack_name_for,
)

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_REGION",
    "POLICY_PROPERTIES",
    "RESOURCE_TYPE_MODELS",
    "CircularReferenceError",
    "Export",
    "LoadedStack",
    "Output",
    "Parameter",
    "ParameterValueError",
    "PolicyLocation",
    "Resource",
    "StackSet",
    "Symbolic",
    "TemplateError",
    "TemplateIssue",
    "TemplateSource",
    "TemplateSyntaxError",
    "decode_template",
    "load_stacks",
    "policy_nodes",
    "stack_name_for",
]
