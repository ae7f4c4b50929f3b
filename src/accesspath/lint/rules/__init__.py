"""Every rule, registered once. Ids are stable: tools and suppressions refer to them.

| id | default severity | reports |
| --- | --- | --- |
| malformed-policy | error | the policy parser's errors: what IAM rejects with MalformedPolicyDocument |
| policy-too-large | error | over AWS's size limit for the policy's kind (policy/limits.py) |
| policy-element-warning | warning | the parser's warnings: accepted by IAM, but not what it seems |
| unknown-service | error | an action whose service prefix does not exist (with the closest service) |
| unknown-action | error | an action its service does not have (with the closest action) |
| action-pattern-matches-nothing | warning | a wildcard action pattern that matches no action |
| malformed-arn | error | fewer than 6 ARN parts or an unknown partition; warning for a missing 'arn:' prefix |
| resource-type-mismatch | warning | a Resource no ARN of the actions' resource types can match, or an action no Resource fits |
| unknown-condition-key | error | a key that is neither global nor documented by its service |
| condition-key-not-applicable | warning | a service key none of the statement's actions of that service supports |
| condition-operator-type-mismatch | warning | an operator of another type than its key (NumericLessThan on a String key) |
| set-operator-on-single-valued-key | warning | ForAllValues/ForAnyValue on a single-valued key |
| multivalued-key-without-set-operator | warning | a multivalued key without ForAllValues/ForAnyValue |
| full-service-access | warning | Allow 'service:*', '*' or NotAction on '*', with the access levels it opens |
| permissions-management-on-all-resources | warning | Allow of scopable Permissions management actions on '*' |
| write-on-all-resources | info | Allow of scopable Write actions on '*' |
| template | warning | template loading issues (their own severity), unreadable templates (error), unresolved policy values (info) |
"""

from __future__ import annotations

from accesspath.lint.rules.actions import (
    ActionPatternMatchesNothing,
    UnknownAction,
    UnknownService,
)
from accesspath.lint.rules.base import PolicyRule, Rule
from accesspath.lint.rules.conditions import (
    ConditionKeyNotApplicable,
    ConditionOperatorTypeMismatch,
    MultivaluedKeyWithoutSetOperator,
    SetOperatorOnSingleValuedKey,
    UnknownConditionKey,
)
from accesspath.lint.rules.grants import (
    FullServiceAccess,
    PermissionsManagementOnAllResources,
    WriteOnAllResources,
)
from accesspath.lint.rules.policy_issues import MalformedPolicy, PolicyElementWarning, PolicyTooLarge
from accesspath.lint.rules.resources import MalformedArn, ResourceTypeMismatch
from accesspath.lint.rules.template import TEMPLATE

POLICY_RULES: tuple[PolicyRule, ...] = (
    MalformedPolicy(),
    PolicyElementWarning(),
    PolicyTooLarge(),
    UnknownService(),
    UnknownAction(),
    ActionPatternMatchesNothing(),
    MalformedArn(),
    ResourceTypeMismatch(),
    UnknownConditionKey(),
    ConditionKeyNotApplicable(),
    ConditionOperatorTypeMismatch(),
    SetOperatorOnSingleValuedKey(),
    MultivaluedKeyWithoutSetOperator(),
    FullServiceAccess(),
    PermissionsManagementOnAllResources(),
    WriteOnAllResources(),
)

RULES: tuple[Rule, ...] = (*POLICY_RULES, TEMPLATE)


def rule_by_id(rule_id: str) -> Rule:
    for rule in RULES:
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)


__all__ = ["POLICY_RULES", "RULES", "TEMPLATE", "PolicyRule", "Rule", "rule_by_id"]
