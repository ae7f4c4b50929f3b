"""The loader's limitations summarised once per resource type.

A template with twelve load balancer resources and thirty references to them is one fact for the
reader: accesspath does not model that type, so values taken from those resources are unknown. Each
resource and reference is still an issue of its stack (``LoadedStack.issues``); what is shown to
people (``validate``, the warnings of every command) is one issue per type with the counts. What an
unknown value changes (a policy statement, a subnet) is reported where it is used.
"""

from __future__ import annotations

from collections.abc import Iterable

from accesspath.cfn.model import TemplateIssue
from accesspath.policy.model import Severity

LIMITATION_CODES = ("not-modelled", "unmodelled-reference")
_SHOWN_NAMES = 4


def summarised(issues: Iterable[TemplateIssue]) -> tuple[TemplateIssue, ...]:
    """``issues`` with every not-modelled resource and reference to one replaced by one issue per resource
    type, placed where the first of them is; the other issues keep their order."""
    issues = tuple(issues)
    out: list[TemplateIssue | str] = []
    resources: dict[str, list[TemplateIssue]] = {}
    references: dict[str, int] = {}
    for issue in issues:
        if not is_limitation(issue) or issue.resource_type is None:
            out.append(issue)
            continue
        type_ = issue.resource_type
        if type_ not in resources:
            resources[type_] = []
            out.append(type_)  # the summary takes the place of the type's first issue
        if issue.code == "not-modelled":
            resources[type_].append(issue)
        else:
            references[type_] = references.get(type_, 0) + 1
    return tuple(item if isinstance(item, TemplateIssue) else _summary(item, resources[item], references.get(item, 0))
                 for item in out)


def _summary(type_: str, resources: list[TemplateIssue], references: int) -> TemplateIssue:
    seen: dict[str, int] = {}
    for issue in resources:  # one logical id in several stacks is named once
        seen[issue.logical_id or "?"] = seen.get(issue.logical_id or "?", 0) + 1
    names = [f"{name} (in {times} stacks)" if times > 1 else name for name, times in seen.items()]
    shown = ", ".join(names[:_SHOWN_NAMES]) + (f" and {len(names) - _SHOWN_NAMES} more"
                                                if len(names) > _SHOWN_NAMES else "")
    count = len(resources)
    what = f"{count} resource{'s' if count != 1 else ''} ({shown}) {'are' if count != 1 else 'is'} kept unread"
    refs = f", {references} Ref/Fn::GetAtt to {'them' if count != 1 else 'it'} unresolved" if references else ""
    position = resources[0].position if resources else None
    return TemplateIssue("not-modelled", f"the type '{type_}' is not modelled: {what}{refs}; a value taken from"
                         f" {'them' if count != 1 else 'it'} is unknown where it is used", Severity.WARNING, position,
                         type_)



def is_limitation(issue: TemplateIssue) -> bool:
    """A not-modelled resource or a reference to one: :func:`summarised` folds it into its type's summary."""
    return issue.code in LIMITATION_CODES and issue.resource_type is not None
