"""Load one template: its parameters, conditions, resources and outputs, resolved.

Loading is two phases so that several templates can be loaded together
(:mod:`accesspath.cfn.stacks`): :meth:`TemplateLoader.prepare` reads the sections, fixes the
parameter values, decides the conditions and works out the names the template exports and
imports (neither may depend on a resource, template-reference functions docs); then, once the
stacks it imports from are loaded, :meth:`TemplateLoader.finish` resolves the resources in
dependency order and the outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType

from accesspath.cfn.allowed_pattern import allowed_pattern_matches
from accesspath.cfn.conditions import ConditionEvaluator, Decision
from accesspath.cfn.errors import (
    CircularReferenceError,
    ParameterValueError,
    TemplateError,
)
from accesspath.cfn.intrinsics import (
    NO_VALUE,
    IntrinsicResolver,
    Resolved,
    as_text,
    intrinsic,
    list_node,
    scalar_node,
    sub_references,
    symbolic_node,
)
from accesspath.cfn.model import (
    Export,
    LoadedStack,
    Output,
    Parameter,
    ParameterValue,
    Resource,
    Symbolic,
    TemplateIssue,
)
from accesspath.cfn.nested import NESTED_STACK_TYPES
from accesspath.cfn.physical_ids import (
    RESOURCE_TYPE_MODELS,
    AttributeValue,
    Identity,
    ResourceContext,
    identity_of,
)
from accesspath.cfn.policy_strings import POLICY_PROPERTIES, PolicyStringDecoder
from accesspath.cfn.pseudo import PSEUDO_PARAMETERS, Deployment
from accesspath.cfn.transforms import (
    LANGUAGE_EXTENSIONS,
    SERVERLESS,
    apply_serverless,
    expand_for_each,
    transform_names,
)
from accesspath.policy.model import Severity
from accesspath.policy.source import Member, Node, Position

SECTIONS = ("AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings",
            "Conditions", "Transform", "Resources", "Outputs", "Hooks")  # SAM's Globals is gone once transformed
RESOURCE_ATTRIBUTES = ("Type", "Properties", "Condition", "DependsOn", "Metadata", "DeletionPolicy",
                       "UpdateReplacePolicy", "CreationPolicy", "UpdatePolicy", "Version")

ImportLookup = Callable[[str, Node], Node]
# (parent, logical id, type, resolved Properties, the raw declaration) -> the loaded child, or why not
NestedLoader = Callable[["TemplateLoader", str, str, Node, Node], "LoadedStack | Symbolic"]


class _ResourceDeclaration:
    __slots__ = ("condition", "depends_on", "logical_id", "node", "position", "type")

    def __init__(self, logical_id: str, node: Node, position: Position | None, type_: str,
                 condition: str | None, depends_on: tuple[tuple[str, Node], ...]) -> None:
        self.logical_id = logical_id
        self.node = node
        self.position = position
        self.type = type_
        self.condition = condition
        self.depends_on = depends_on

    def attribute(self, name: str) -> Node | None:
        return _member_of(self.node, name)


class TemplateLoader:
    """One template being loaded; also the :class:`~accesspath.cfn.intrinsics.Scope` it resolves in."""

    def __init__(self, root: Node, *, source: str, deployment: Deployment,
                 parameter_overrides: Mapping[str, object] | None = None,
                 nested: NestedLoader | None = None, text: str | None = None) -> None:
        self.root = root
        self.source = source
        self.policy_strings = PolicyStringDecoder(text, self._report_error)  # text places decoded values
        self._deployment = deployment
        # Values are strings (the user's), or Nodes passed down by a parent stack's Parameters.
        self.overrides = dict(parameter_overrides or {})
        self.nested = nested
        self.parent: str | None = None
        self.logical_id_in_parent: str | None = None
        self.path = deployment.stack_name
        self.children: dict[str, LoadedStack | Symbolic] = {}  # nested stacks by logical id
        self.language_extensions = False
        self.used_overrides: set[str] = set()
        self.issues: list[TemplateIssue] = []
        self._issue_keys: set[tuple[str, str, Position | None]] = set()
        self._muted = 0
        self._resources_allowed = False
        self._resolving_metadata_of: str | None = None
        self._import_lookup: ImportLookup | None = None
        self.resolver = IntrinsicResolver(self)
        self.sections: dict[str, Member] = {}
        self.parameters: dict[str, Parameter] = {}
        self.declarations: dict[str, _ResourceDeclaration] = {}
        self.unloaded: dict[str, str] = {}  # logical id -> why it is not loaded
        self.conditions: dict[str, Decision] = {}
        self.condition_evaluator = ConditionEvaluator({}, self.resolver)
        self.export_names: dict[str, tuple[str | Symbolic, Position | None]] = {}
        self.imported_names: list[tuple[str, Node]] = []
        self.rejected_exports: set[str] = set()  # exported by another stack first
        self.resources: dict[str, Resource] = {}
        self.not_created: dict[str, str] = {}  # logical id -> the false condition

    @property
    def name(self) -> str:
        return self._deployment.stack_name

    # -- Scope -----------------------------------------------------------------------------

    @property
    def deployment(self) -> Deployment:
        return self._deployment

    def report(self, code: str, message: str, severity: Severity, position: Position | None,
               resource_type: str | None = None, logical_id: str | None = None) -> None:
        if self._muted:
            return
        key = (code, message, position)
        if key not in self._issue_keys:
            self._issue_keys.add(key)
            self.issues.append(TemplateIssue(code, message, severity, position, resource_type, logical_id))

    def _report_error(self, code: str, message: str, position: Position | None) -> None:
        self.report(code, message, Severity.ERROR, position)

    def _fail(self, code: str, message: str, at: Node, severity: Severity = Severity.ERROR) -> Node:
        return self.resolver.fail(code, message, at, severity)

    def mappings(self) -> Node | None:
        member = self.sections.get("Mappings")
        return member.value if member is not None else None

    def condition(self, name: str, at: Node) -> Decision:
        return self.condition_evaluator.evaluate(name, at)

    def ref(self, name: str, at: Node) -> Resolved:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name.startswith("AWS::"):
            value = self._deployment.pseudo_parameter(name)
            if value is None:
                return self._fail("unknown-pseudo-parameter", f"'{name}' is not a pseudo parameter"
                                  f" (expected one of {', '.join(PSEUDO_PARAMETERS)})", at)
            return list_node(value, at) if isinstance(value, tuple) else scalar_node(value, at)
        parameter = self.parameters.get(name)
        if parameter is not None:
            return _parameter_node(parameter.value, at)
        if name in self.declarations or name in self.unloaded:
            resource = self._referenced_resource(name, f"Ref '{name}'", at)
            if isinstance(resource, Node):
                return resource
            physical_id = resource.physical_id
            if isinstance(physical_id, Symbolic):
                if not resource.modelled:
                    self.report("unmodelled-reference", f"Ref '{name}': {physical_id.reason}", Severity.WARNING,
                                at.start, resource.type, name)
                return symbolic_node(physical_id, at)
            return scalar_node(physical_id, at)
        return self._fail("unknown-reference", f"'{name}' is not a parameter, pseudo parameter or resource"
                          " of this template", at)

    def get_att(self, logical_id: str, attribute: str, at: Node) -> Node:
        if logical_id not in self.declarations and logical_id not in self.unloaded:
            return self._fail("unknown-reference", f"Fn::GetAtt '{logical_id}.{attribute}': '{logical_id}' is not a"
                              " resource of this template", at)
        resource = self._referenced_resource(logical_id, f"Fn::GetAtt '{logical_id}.{attribute}'", at)
        if isinstance(resource, Node):
            return resource
        if attribute not in resource.attributes:
            model = RESOURCE_TYPE_MODELS.get(resource.type)
            child = self.children.get(logical_id)
            if isinstance(child, Symbolic):  # the child was not found: already reported once
                return symbolic_node(Symbolic(f"Fn::GetAtt '{logical_id}.{attribute}': {child.reason}",
                                              child.position), at)
            if child is not None:
                outputs = ", ".join(child.outputs) or "none"
                return self._fail("unknown-attribute", f"Fn::GetAtt '{logical_id}.{attribute}': the nested stack"
                                  f" '{child.name}' has no output '{attribute.removeprefix('Outputs.')}'"
                                  f" (outputs: {outputs})", at, Severity.WARNING)
            if model is None:
                message = (f"Fn::GetAtt '{logical_id}.{attribute}': the type '{resource.type}' is not modelled,"
                           " so its attributes are unknown")
                self.report("unmodelled-reference", message, Severity.WARNING, at.start, resource.type, logical_id)
                return symbolic_node(Symbolic(message, at.start), at)
            known = ", ".join(model.attributes) or "none"
            message = (f"Fn::GetAtt '{logical_id}.{attribute}': '{attribute}' is not an attribute accesspath"
                       f" models for '{resource.type}' (known: {known})")
            return self._fail("unknown-attribute", message, at, Severity.WARNING)
        value = resource.attributes[attribute]
        if isinstance(value, Symbolic):
            return symbolic_node(value, at)
        if isinstance(value, tuple):
            return list_node(value, at)
        return scalar_node(value, at)

    def _referenced_resource(self, logical_id: str, what: str, at: Node) -> Resource | Node:
        if not self._resources_allowed:
            message = f"{what}: this value cannot depend on a resource"
            return self._fail("resource-reference-not-allowed", message, at)
        if logical_id in self.unloaded:
            return symbolic_node(Symbolic(f"{what}: {self.unloaded[logical_id]}", at.start), at)
        if logical_id in self.not_created:
            return self._fail("reference-to-absent-resource",
                              f"{what}: '{logical_id}' is not created (its condition"
                              f" '{self.not_created[logical_id]}' is false)", at)
        resource = self.resources.get(logical_id)
        if resource is None and self._resolving_metadata_of is not None:  # a soft edge closing a cycle
            return symbolic_node(Symbolic(f"{what}: the cfn-init metadata of '{self._resolving_metadata_of}'"
                                          f" refers to '{logical_id}', which depends on it", at.start), at)
        if resource is None:  # only reachable through an ordering bug; fail closed
            return self._fail("unresolved-reference", f"{what}: '{logical_id}' is not resolved yet", at)
        return resource

    def import_value(self, name: str, at: Node) -> Node:
        if self._import_lookup is None:
            return self._fail("import-not-allowed", f"Fn::ImportValue '{name}' cannot be used here", at)
        return self._import_lookup(name, at)

    # -- phase 1 ---------------------------------------------------------------------------

    def prepare(self) -> None:
        if not self.root.is_object:
            raise TemplateError("a template must be a mapping with a 'Resources' section", self.root.start,
                                source=self.source)
        self.sections = {member.key: member for member in self.root.value}
        transforms = transform_names(self.root)
        if transforms:
            self._load_parameters()  # loops and SAM read parameter values
            self._apply_transforms(transforms)
            self.sections = {member.key: member for member in self.root.value}
            self.parameters = {}
        for member in self.root.value:
            if member.key not in SECTIONS:
                self.report("unknown-section", f"unknown template section '{member.key}'"
                            f" (expected one of {', '.join(SECTIONS)})", Severity.ERROR, member.key_start)
        if "Rules" in self.sections:
            self.report("rules-not-checked", "the Rules section is not checked", Severity.WARNING,
                        self.sections["Rules"].key_start)
        self._load_parameters()
        self._declare_resources()
        self._load_conditions()
        self._check_policies_on_deletion()
        self._load_export_names()
        self._scan_imports()

    def _apply_transforms(self, transforms: list[tuple[str | None, Node]]) -> None:
        """Apply the transforms in the order listed (transform-aws-languageextensions.md, transform-aws-serverless.md)."""
        for name, at in transforms:
            if name == LANGUAGE_EXTENSIONS:
                self.language_extensions = True
                self.root = expand_for_each(self.root, self._for_each_collection, self.report)
            elif name == SERVERLESS:
                values = {p.name: (",".join(p.value) if isinstance(p.value, tuple) else p.value)
                          for p in self.parameters.values() if not isinstance(p.value, Symbolic)}
                d = self._deployment
                self.root = apply_serverless(self.root, values, account=d.account, region=d.region,
                                             partition=d.partition, stack_name=d.stack_name, at=at,
                                             source=self.source)
            else:
                shown = f"'{name}'" if name else "given"
                self.report("transform-not-applied", f"the transform {shown} is not applied: resources and values it"
                            " would create are missing", Severity.WARNING, at.start)

    def _for_each_collection(self, node: Node) -> tuple[str, ...] | Symbolic:
        resolved = self.resolver.resolve_required(node)
        if isinstance(resolved.value, Symbolic):
            return resolved.value
        items = resolved.value if resolved.is_array else (resolved,)
        texts = [as_text(item) for item in items]
        unresolved = next((t for t in texts if isinstance(t, Symbolic)), None)
        if unresolved is not None:
            return unresolved
        if any(t is None for t in texts):
            return Symbolic("the collection of Fn::ForEach must be a list of strings", node.start)
        return tuple(t for t in texts if isinstance(t, str))

    def _check_policies_on_deletion(self) -> None:
        """DeletionPolicy and UpdateReplacePolicy: a literal, or (with AWS::LanguageExtensions) an intrinsic
        function of parameters and mappings that gives one (aws-attribute-deletionpolicy.md)."""
        for declaration in self.declarations.values():
            for attribute in ("DeletionPolicy", "UpdateReplacePolicy"):
                node = declaration.attribute(attribute)
                if node is None:
                    continue
                if intrinsic(node) is not None and not self.language_extensions:
                    self.report("intrinsic-needs-language-extensions", f"the {attribute} of"
                                f" '{declaration.logical_id}' is an intrinsic function, which needs the"
                                f" {LANGUAGE_EXTENSIONS} transform", Severity.ERROR, node.start)
                    continue
                value = self.resolver.text(node, f"the {attribute} of '{declaration.logical_id}'", 0)
                allowed = ("Delete", "Retain", "RetainExceptOnCreate", "Snapshot")
                if isinstance(value, str) and value not in allowed:
                    self.report("bad-argument", f"the {attribute} of '{declaration.logical_id}' is '{value}'"
                                f" (expected one of {', '.join(allowed)})", Severity.ERROR, node.start)

    def _section(self, name: str) -> tuple[Member, ...]:
        member = self.sections.get(name)
        if member is None or member.value.value is None:
            return ()
        if not member.value.is_object:
            self.report("bad-section", f"the '{name}' section must be a mapping", Severity.ERROR,
                        member.value.start)
            return ()
        return member.value.value  # type: ignore[no-any-return]

    def _load_parameters(self) -> None:
        for member in self._section("Parameters"):
            self.parameters[member.key] = self._parameter(member)

    def _parameter(self, member: Member) -> Parameter:
        name, declaration = member.key, member.value
        position = member.key_start
        if not declaration.is_object:
            self.report("bad-parameter", f"parameter '{name}' must be a mapping with a Type", Severity.ERROR, position)
            return Parameter(name, "String", Symbolic(f"parameter '{name}' is malformed", position), "missing", (),
                             position)
        type_node = _member_of(declaration, "Type")
        type_ = as_text(type_node) if type_node is not None else None
        if not isinstance(type_, str):
            self.report("missing-parameter-type", f"parameter '{name}' has no Type", Severity.ERROR, position)
            type_ = "String"
        allowed_node = _member_of(declaration, "AllowedValues")
        allowed = tuple(t for t in (as_text(n) for n in (allowed_node.value if allowed_node is not None
                                                          and allowed_node.is_array else ()))
                        if isinstance(t, str))
        is_list = type_ == "CommaDelimitedList" or type_.startswith("List<")
        default_node = _member_of(declaration, "Default")
        value_at: Position | None
        raw: object
        if name in self.overrides:
            self.used_overrides.add(name)
            raw, origin, value_at, where = self.overrides[name], "override", position, "the override"
            if isinstance(raw, Node):  # passed down by the parent stack's Parameters
                origin, value_at, where = "parent", raw.start, f"the value stack '{self.parent}' passes"
                if isinstance(raw.value, Symbolic):
                    return Parameter(name, type_, raw.value, origin, allowed, position)
                raw = raw.to_python()
        elif default_node is not None:
            raw = default_node.to_python()
            origin, value_at, where = "default", default_node.start, "the Default"
        else:
            reason = f"parameter '{name}' has no Default and no value was given"
            self.report("missing-parameter-value", reason + " (pass it as a parameter override)",
                        Severity.WARNING, position)
            return Parameter(name, type_, Symbolic(reason, position), "missing", allowed, position)
        values = _parameter_values(raw, is_list)
        if values is None:
            raise ParameterValueError(f"{where} of parameter '{name}' must be a string, not {raw!r}", value_at,
                                      source=self.source)
        for text in values:
            self._check_parameter_value(name, declaration, type_, text, allowed, value_at, where)
        if type_.startswith("AWS::SSM::Parameter::Value<") and origin != "override":
            reason = (f"parameter '{name}' is the value of the SSM parameter '{','.join(values)}',"
                      " which is read at deploy time")
            self.report("ssm-parameter", reason, Severity.WARNING, position)
            return Parameter(name, type_, Symbolic(reason, position), origin, allowed, position)
        value: ParameterValue = tuple(values) if is_list else values[0]
        return Parameter(name, type_, value, origin, allowed, position)

    def _check_parameter_value(self, name: str, declaration: Node, type_: str, text: str,
                               allowed: tuple[str, ...], at: Position | None, where: str) -> None:
        def fail(problem: str) -> ParameterValueError:
            return ParameterValueError(f"{where} of parameter '{name}' is '{text}', which {problem}", at,
                                       source=self.source)
        if allowed and text not in allowed:
            raise fail("is not one of its AllowedValues " + ", ".join(f"'{v}'" for v in allowed))
        number_type = type_ in ("Number", "List<Number>")
        if number_type:
            try:
                number = float(text)
            except ValueError:
                raise fail("is not a number") from None
        pattern = as_text(_member_of(declaration, "AllowedPattern") or Node(None))
        if isinstance(pattern, str):
            matches = allowed_pattern_matches(pattern, text)
            if matches is None:  # CloudFormation checks it at deploy time; say it was not checked here
                self.report("allowed-pattern-not-checked",
                            f"the AllowedPattern '{pattern}' of parameter '{name}' uses what a linear-time regex"
                            " engine cannot run (back-references, look-around); the value was not checked"
                            " against it", Severity.WARNING, at)
            elif not matches:
                raise fail(f"does not match its AllowedPattern '{pattern}'")
        for key, check in (("MinLength", lambda limit: len(text) >= limit),
                           ("MaxLength", lambda limit: len(text) <= limit),
                           ("MinValue", lambda limit: not number_type or number >= limit),
                           ("MaxValue", lambda limit: not number_type or number <= limit)):
            limit_text = as_text(_member_of(declaration, key) or Node(None))
            if isinstance(limit_text, str):
                try:
                    limit = float(limit_text)
                except ValueError:
                    continue
                if not check(limit):
                    raise fail(f"breaks its {key} {limit_text}")

    def _load_conditions(self) -> None:
        declarations = {m.key: m for m in self._section("Conditions")}
        self.condition_evaluator = ConditionEvaluator(declarations, self.resolver)
        self.conditions = self.condition_evaluator.evaluate_all()

    def _declare_resources(self) -> None:
        resources = self.sections.get("Resources")
        if resources is None:
            self.report("missing-resources", "the template has no Resources section", Severity.ERROR,
                        self.root.start)
            return
        members = self._section("Resources")
        if not members and resources.value.is_object:
            self.report("missing-resources", "the Resources section is empty", Severity.ERROR, resources.key_start)
        for member in members:
            declaration = self._declare_resource(member)
            if declaration is not None:
                self.declarations[member.key] = declaration

    def _declare_resource(self, member: Member) -> _ResourceDeclaration | None:
        logical_id, node, position = member.key, member.value, member.key_start
        if not node.is_object or not node.value:
            self.report("empty-resource", f"resource '{logical_id}' is empty: it has no Type and no Properties,"
                        " so it is not loaded", Severity.ERROR, position)
            self.unloaded[logical_id] = f"resource '{logical_id}' is empty and was not loaded"
            return None
        keys = [m.key for m in node.value]
        for m in node.value:
            if m.key not in RESOURCE_ATTRIBUTES:
                self.report("unknown-resource-attribute", f"resource '{logical_id}' has an unknown attribute"
                            f" '{m.key}' (expected one of {', '.join(RESOURCE_ATTRIBUTES)}; is it missing"
                            " 'Properties:'?)", Severity.ERROR, m.key_start)
        type_node = _member_of(node, "Type")
        type_ = as_text(type_node) if type_node is not None else None
        if not isinstance(type_, str) or not type_:
            self.report("missing-type", f"resource '{logical_id}' has no Type (it has {', '.join(keys)}),"
                        " so it is not loaded", Severity.ERROR, position)
            self.unloaded[logical_id] = f"resource '{logical_id}' has no Type and was not loaded"
            return None
        condition_node = _member_of(node, "Condition")
        condition: str | None = None
        if condition_node is not None:
            if isinstance(condition_node.value, str):
                condition = condition_node.value
            else:
                self.report("bad-argument", f"the Condition of resource '{logical_id}' must be a condition name",
                            Severity.ERROR, condition_node.start)
        depends_on: list[tuple[str, Node]] = []
        depends_node = _member_of(node, "DependsOn")
        if depends_node is not None:
            for item in (depends_node.value if depends_node.is_array else (depends_node,)):
                if isinstance(item.value, str) and not item.is_object:
                    depends_on.append((item.value, item))
                else:
                    self.report("bad-argument", f"DependsOn of '{logical_id}' must name resources", Severity.ERROR,
                                item.start)
        return _ResourceDeclaration(logical_id, node, position, type_, condition, tuple(depends_on))

    def _decided(self, condition: str | None, at: Node) -> Decision:
        if condition is None:
            return True
        return self.condition_evaluator.evaluate(condition, at)

    def _load_export_names(self) -> None:
        for member in self._section("Outputs"):
            export = _member_of(member.value, "Export") if member.value.is_object else None
            if export is None:
                continue
            name_node = _member_of(export, "Name") if export.is_object else None
            if name_node is None:
                self.report("bad-export", f"the Export of output '{member.key}' needs a Name", Severity.ERROR,
                            export.start)
                continue
            name = self.resolver.text(name_node, f"the export name of output '{member.key}'", 0)
            self.export_names[member.key] = (name, name_node.start)

    def _scan_imports(self) -> None:
        """The export names this template imports, following only the Fn::If branches taken."""
        self._muted += 1
        try:
            nodes: list[Node] = []
            for declaration in self.declarations.values():
                if self._decided(declaration.condition, declaration.node) is not False:
                    properties = declaration.attribute("Properties")
                    if properties is not None:
                        nodes.append(properties)
            for member in self._section("Outputs"):
                if member.value.is_object:
                    condition = _member_of(member.value, "Condition")
                    decided = self._decided(condition.value if condition is not None and isinstance(
                        condition.value, str) else None, member.value)
                    value = _member_of(member.value, "Value")
                    if decided is not False and value is not None:
                        nodes.append(value)
            for node in _walk(nodes, self._branch_taken):
                found = intrinsic(node)
                if found is not None and found[0] == "Fn::ImportValue":
                    name = self.resolver.text(found[1], "the export name in Fn::ImportValue", 0)
                    if isinstance(name, str):
                        self.imported_names.append((name, node))
        finally:
            self._muted -= 1

    def _branch_taken(self, node: Node) -> tuple[Node, ...] | None:
        """For an Fn::If whose condition is decided, only the branch taken; else None (walk all)."""
        found = intrinsic(node)
        if found is None or found[0] != "Fn::If":
            return None
        argument = found[1]
        if not argument.is_array or len(argument.value) != 3 or not isinstance(argument.value[0].value, str):
            return None
        decided = self.conditions.get(argument.value[0].value)
        if isinstance(decided, bool):
            return (argument.value[1] if decided else argument.value[2],)
        return None

    # -- phase 2 ---------------------------------------------------------------------------

    def finish(self, import_lookup: ImportLookup) -> LoadedStack:
        self._import_lookup = import_lookup
        self._resources_allowed = True
        for logical_id in self._resource_order():
            self._load_resource(self.declarations[logical_id])
        outputs, exports = self._load_outputs()
        ordered = tuple(self.resources[m.key] for m in self._section("Resources") if m.key in self.resources)
        return LoadedStack(self.name, self.source, MappingProxyType(dict(self.parameters)),
                           MappingProxyType(dict(self.conditions)), ordered, MappingProxyType(outputs),
                           MappingProxyType(exports), tuple(self.issues), self.parent, self.logical_id_in_parent,
                           self.path)

    def _dependencies(self, declaration: _ResourceDeclaration) -> list[tuple[str, Node, bool]]:
        """What must be resolved before this resource: (logical id, where, whether the edge is firm). The
        references in its cfn-init metadata are soft: resolved after their targets where that is possible,
        but never a circular reference of their own (only Properties and DependsOn order creation,
        aws-attribute-dependson.md)."""
        found: list[tuple[str, Node, bool]] = []
        for name, at in declaration.depends_on:
            if name not in self.declarations:
                self.report("unknown-dependency", f"DependsOn of '{declaration.logical_id}' names '{name}', which is"
                            " not a resource of this template", Severity.ERROR, at.start)
            else:
                found.append((name, at, True))  # placed after the check above, as before
        for root, firm in ((declaration.attribute("Properties"), True), (_cfn_init(declaration.node), False)):
            if root is None:
                continue
            for node in _walk([root], lambda _n: None):
                for name in _referenced_names(node):
                    if name in self.declarations:
                        found.append((name, node, firm))
        return found

    def _resource_order(self) -> list[str]:
        """Resources with their dependencies first; a cycle of firm edges raises :class:`CircularReferenceError`.
        A soft edge (cfn-init metadata) is kept only where it closes no cycle."""
        graph: dict[str, list[tuple[str, Node]]] = {logical_id: [] for logical_id in self.declarations}
        soft: list[tuple[str, str, Node]] = []
        for logical_id, declaration in self.declarations.items():
            for target, at, firm in self._dependencies(declaration):
                if firm:
                    graph[logical_id].append((target, at))
                else:
                    soft.append((logical_id, target, at))
        order = self._topological(graph)
        if not soft:
            return order
        for logical_id, target, at in soft:
            if not _reaches(graph, target, logical_id):
                graph[logical_id].append((target, at))
        return self._topological(graph)

    def _topological(self, graph: Mapping[str, list[tuple[str, Node]]]) -> list[str]:
        order: list[str] = []
        done: set[str] = set()
        for start in graph:
            if start in done:
                continue
            path: list[str] = [start]
            on_path = {start}
            iterators: list[Iterator[tuple[str, Node]]] = [iter(graph[start])]
            while iterators:
                step = next(iterators[-1], None)
                if step is None:
                    finished = path.pop()
                    on_path.discard(finished)
                    iterators.pop()
                    done.add(finished)
                    order.append(finished)
                    continue
                target, at = step
                if target in done:
                    continue
                if target in on_path:
                    cycle = path[path.index(target):] + [target]
                    raise CircularReferenceError(
                        "circular reference between resources: " + " -> ".join(f"'{n}'" for n in cycle)
                        + " (through Ref, Fn::GetAtt, Fn::Sub or DependsOn)", at.start, source=self.source)
                path.append(target)
                on_path.add(target)
                iterators.append(iter(graph[target]))
        return order

    def _load_resource(self, declaration: _ResourceDeclaration) -> None:
        logical_id, type_ = declaration.logical_id, declaration.type
        decided = self._decided(declaration.condition, declaration.attribute("Condition") or declaration.node)
        if decided is False:
            assert declaration.condition is not None
            self.not_created[logical_id] = declaration.condition
            return
        if isinstance(decided, Symbolic):
            self.report("undecided-condition", f"resource '{logical_id}' is kept although its condition"
                        f" '{declaration.condition}' could not be decided: {decided.reason}", Severity.WARNING,
                        declaration.position)
        properties_node = declaration.attribute("Properties")
        if properties_node is not None and properties_node.is_object and type_ in POLICY_PROPERTIES:
            properties_node = self.policy_strings.before_resolution(properties_node, type_)
        if properties_node is None or properties_node.value is None:
            properties = Node((), declaration.position, declaration.position, "object")
        else:
            resolved = self.resolver.resolve(properties_node)
            if isinstance(resolved, Node) and resolved.is_object:
                properties = self.policy_strings.after_resolution(resolved, type_)
            else:
                if isinstance(resolved, Node) and not isinstance(resolved.value, Symbolic):
                    self.report("bad-properties", f"the Properties of resource '{logical_id}' must be a mapping",
                                Severity.ERROR, properties_node.start)
                properties = Node((), properties_node.start, properties_node.end, "object")
        model = RESOURCE_TYPE_MODELS.get(type_)
        if type_ in NESTED_STACK_TYPES and self.nested is not None:
            identity = self._nested_stack(declaration, properties)
        elif model is None:
            self.report("not-modelled", f"resource '{logical_id}' of type '{type_}' is not modelled: it is kept,"
                        " but Ref and Fn::GetAtt to it are unresolved", Severity.WARNING, declaration.position,
                        type_, logical_id)
            identity = Identity(Symbolic(f"the type '{type_}' of '{logical_id}' is not modelled",
                                         declaration.position), {})
        else:
            present = {m.key for m in properties.value}
            for required in model.required_properties:
                if required not in present:
                    self.report("missing-property", f"resource '{logical_id}' ({type_}) has no '{required}'"
                                " property", Severity.ERROR, declaration.position)
            identity = identity_of(model, ResourceContext(logical_id, type_, properties, self._deployment))
        # Only cfn-init's part of Metadata is resolved: it can configure the instance (container instances'
        # /etc/ecs/ecs.config); other metadata is for tools and must not raise issues.
        init_node = _cfn_init(declaration.node)
        cfn_init = None
        if init_node is not None:
            self._resolving_metadata_of = logical_id
            try:
                cfn_init = self.resolver.resolve(init_node)
            finally:
                self._resolving_metadata_of = None
        self.resources[logical_id] = Resource(
            logical_id, type_, properties, declaration.condition, declaration.position, identity.physical_id,
            MappingProxyType(dict(identity.attributes)), self.name,
            tuple(name for name, _ in declaration.depends_on), model is not None or type_ in NESTED_STACK_TYPES,
            cfn_init if isinstance(cfn_init, Node) else None)

    def _nested_stack(self, declaration: _ResourceDeclaration, properties: Node) -> Identity:
        """Load the child template now (its parameters may depend on earlier resources); Ref is its stack
        id and ``Fn::GetAtt Child.Outputs.Name`` its outputs (aws-resource-cloudformation-stack.md)."""
        assert self.nested is not None
        child = self.nested(self, declaration.logical_id, declaration.type, properties, declaration.node)
        self.children[declaration.logical_id] = child
        if isinstance(child, Symbolic):
            return Identity(child, {})
        attributes: dict[str, AttributeValue] = {}
        for output in child.outputs.values():
            attributes[f"Outputs.{output.name}"] = _attribute_value(output.value)
        stack_id = Deployment(self._deployment.account, self._deployment.region, self._deployment.partition,
                              child.name).stack_id
        return Identity(stack_id, attributes)

    def _load_outputs(self) -> tuple[dict[str, Output], dict[str, Export]]:
        outputs: dict[str, Output] = {}
        exports: dict[str, Export] = {}
        for member in self._section("Outputs"):
            name, node = member.key, member.value
            value_node = _member_of(node, "Value") if node.is_object else None
            if value_node is None:
                self.report("bad-output", f"output '{name}' has no Value", Severity.ERROR, member.key_start)
                continue
            condition_node = _member_of(node, "Condition")
            condition = condition_node.value if condition_node is not None and isinstance(
                condition_node.value, str) else None
            if self._decided(condition, condition_node or node) is False:
                continue
            value = self.resolver.resolve_required(value_node)
            export_name, _ = self.export_names.get(name, (None, None))
            outputs[name] = Output(name, value, export_name, condition, member.key_start)
            if isinstance(export_name, str) and export_name not in self.rejected_exports:
                if value.is_array or value.is_object:
                    self.report("bad-export", f"the exported value of output '{name}' must be a string",
                                Severity.ERROR, value.start)
                    value = symbolic_node(Symbolic(f"the export '{export_name}' is not a string", value.start), value)
                exports[export_name] = Export(export_name, value, self.name, name, member.key_start)
        return outputs, exports




def _attribute_value(node: Node) -> AttributeValue:
    if isinstance(node.value, Symbolic):
        return node.value
    if node.is_array:
        texts = [as_text(item) for item in node.value]
        symbolic = next((t for t in texts if isinstance(t, Symbolic)), None)
        if symbolic is not None:
            return symbolic
        return tuple(t for t in texts if isinstance(t, str))
    text = as_text(node)
    return text if text is not None else Symbolic("the output is not a string or a list", node.start)


def _parameter_values(raw: object, is_list: bool) -> list[str] | None:
    if isinstance(raw, (list, tuple)):
        items = [("true" if v else "false") if isinstance(v, bool) else str(v) for v in raw
                 if isinstance(v, (str, int, float))]
        return items if is_list and len(items) == len(raw) else None
    if isinstance(raw, bool):
        raw = "true" if raw else "false"
    if not isinstance(raw, (str, int, float)):
        return None
    text = str(raw)
    if is_list:
        return [part.strip() for part in text.split(",")]  # each member is space-trimmed
    return [text]


def _parameter_node(value: ParameterValue, at: Node) -> Node:
    if isinstance(value, Symbolic):
        return symbolic_node(value, at)
    if isinstance(value, tuple):
        return list_node(value, at)
    return scalar_node(value, at)


def _walk(roots: list[Node], only: Callable[[Node], tuple[Node, ...] | None]) -> Iterator[Node]:
    pending = list(reversed(roots))
    while pending:
        node = pending.pop()
        yield node
        chosen = only(node)
        if chosen is not None:
            pending.extend(reversed(chosen))
        elif node.is_object:
            pending.extend(reversed([m.value for m in node.value]))
        elif node.is_array:
            pending.extend(reversed(node.value))


def _referenced_names(node: Node) -> list[str]:
    """Logical ids (or parameter names) this intrinsic refers to: Ref, Fn::GetAtt and Fn::Sub variables."""
    found = intrinsic(node)
    if found is None:
        return []
    name, argument = found
    if name == "Ref" and isinstance(argument.value, str):
        return [argument.value]
    if name == "Fn::GetAtt":
        if isinstance(argument.value, str):
            return [argument.value.partition(".")[0]]
        if argument.is_array and argument.value and isinstance(argument.value[0].value, str):
            return [argument.value[0].value]
    if name == "Fn::Sub":
        variables: set[str] = set()
        template = argument
        if argument.is_array and argument.value:
            template = argument.value[0]
            if len(argument.value) > 1 and argument.value[1].is_object:
                variables = {m.key for m in argument.value[1].value}
        if isinstance(template.value, str):
            return [ref.partition(".")[0] for ref in sub_references(template.value) if ref not in variables]
    return []


def _reaches(graph: Mapping[str, list[tuple[str, Node]]], start: str, goal: str) -> bool:
    seen = {start}
    pending = [start]
    while pending:
        current = pending.pop()
        if current == goal:
            return True
        for target, _ in graph[current]:
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return False


def _cfn_init(declaration: Node) -> Node | None:
    """The ``AWS::CloudFormation::Init`` part of a resource's Metadata: the only part accesspath resolves."""
    metadata = _member_of(declaration, "Metadata")
    return _member_of(metadata, "AWS::CloudFormation::Init") if metadata is not None and metadata.is_object else None


def _member_of(node: Node | None, key: str) -> Node | None:
    return node.member(key) if node is not None else None
