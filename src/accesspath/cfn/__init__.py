"""CloudFormation templates, decoded once with positions and resolved offline.

``load_stacks`` loads several YAML or JSON templates together (``Fn::ImportValue`` resolved
across them, nested stacks followed; ``template_sources`` also reads CDK cloud assemblies) into immutable :class:`LoadedStack` objects whose resources keep their properties
as positioned :class:`~accesspath.policy.source.Node` trees; ``policy_nodes`` finds the policy
documents in them. Values that cannot be known offline are :class:`Symbolic` and reported as
:class:`TemplateIssue` entries; nothing unresolved is dropped silently.
"""

from accesspath.cfn.cdk import AssemblyStack, is_cloud_assembly, read_cloud_assembly
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
from accesspath.cfn.nested import NESTED_STACK_TYPES, TemplateUrlMapping, locate_template
from accesspath.cfn.parameter_files import (
    ParameterValue,
    parse_assignment,
    parse_parameter,
    read_parameter_file,
)
from accesspath.cfn.physical_ids import RESOURCE_TYPE_MODELS
from accesspath.cfn.policies import POLICY_PROPERTIES, PolicyLocation, policy_nodes
from accesspath.cfn.stacks import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    TemplateSource,
    load_stacks,
    nested_stack_name,
    stack_name_for,
    template_sources,
)

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_REGION",
    "NESTED_STACK_TYPES",
    "POLICY_PROPERTIES",
    "RESOURCE_TYPE_MODELS",
    "AssemblyStack",
    "CircularReferenceError",
    "Export",
    "LoadedStack",
    "Output",
    "Parameter",
    "ParameterValue",
    "ParameterValueError",
    "PolicyLocation",
    "Resource",
    "StackSet",
    "Symbolic",
    "TemplateError",
    "TemplateIssue",
    "TemplateSource",
    "TemplateSyntaxError",
    "TemplateUrlMapping",
    "decode_template",
    "is_cloud_assembly",
    "load_stacks",
    "locate_template",
    "nested_stack_name",
    "parse_assignment",
    "parse_parameter",
    "policy_nodes",
    "read_cloud_assembly",
    "read_parameter_file",
    "stack_name_for",
    "template_sources",
]
