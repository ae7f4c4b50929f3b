"""Rules about VPC endpoint policies, each a question to the vpc-endpoint gate of the engine.

The PrivateLink guide ("Control access to VPC endpoints using endpoint policies"): an endpoint
without a policy gets the default policy, which allows full access; an endpoint policy does not
grant anything by itself, it only limits what passes. The data perimeter guidance (IAM user guide,
"Data perimeters on AWS") uses it for "trusted identities" (principals of my accounts) and
"trusted resources" (resources of my accounts).
"""

from __future__ import annotations

from collections.abc import Iterator

from accesspath.audit.context import AuditContext, endpoint_label
from accesspath.audit.probes import SENSITIVE_ENDPOINT_SERVICES, probes, write_probes
from accesspath.audit.rule import (
    AuditFinding,
    AuditRule,
    Evidence,
    RuleInfo,
    deciding_position,
)
from accesspath.engine import AuthorizationResult, RequestPrincipal
from accesspath.environment.model import VpcEndpoint
from accesspath.lint.findings import Severity
from accesspath.policy import Position

ENDPOINT_POLICY_PAGE = "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html"
DATA_PERIMETER_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_data-perimeters.html"
CONDITION_KEYS_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"


def _where(endpoint: VpcEndpoint, result: AuthorizationResult | None = None) -> Position | None:
    """The allowing statement of the endpoint policy when there is one, else the endpoint itself."""
    if endpoint.policy is not None:
        return deciding_position(result) or endpoint.position
    return endpoint.position


class EndpointExfiltration(AuditRule):
    info = RuleInfo(
        id="endpoint-exfiltration",
        severity=Severity.WARNING,
        title="the endpoint lets this account's principals write to another account's resources",
        rationale=("Through an endpoint whose policy does not limit resources to your accounts, code in the VPC"
                   " can write data (objects, log events, messages, secrets) to resources of any account"
                   " without leaving the private network, e.g. with credentials of its own role."),
        fix=("limit the endpoint policy to your resources: Resource ARNs of your account, or a Condition"
             " StringEquals aws:ResourceAccount (or aws:ResourceOrgID) with your account (organization)"),
        doc_urls=(ENDPOINT_POLICY_PAGE, DATA_PERIMETER_PAGE, CONDITION_KEYS_PAGE),
    )

    def check(self, audit: AuditContext) -> Iterator[AuditFinding]:
        env, foreign = audit.env, audit.foreign_account
        for endpoint in audit.env.endpoints.values():
            if endpoint.policy is None:
                continue  # the default policy: one finding of endpoint-default-policy lists every risk
            region = endpoint.region or env.region
            for probe in write_probes(endpoint.short_service):
                resource = probe.arn(env.partition, region, foreign)
                hit = _first_allowed(audit, endpoint, probe.action, resource, foreign, audit.own_principals)
                if hit is None:
                    continue
                result, context = hit
                yield self.finding(
                    f"{endpoint.id} ({endpoint.short_service}) lets {result.request.principal.arn} perform"
                    f" {probe.action} on {resource} of account {foreign}",
                    subject=endpoint_label(endpoint), position=_where(endpoint, result),
                    evidence=(Evidence.of(result, context, via=endpoint.id),),
                    policy_id=endpoint.policy.policy_id if endpoint.policy else None)
                break


class EndpointForeignPrincipals(AuditRule):
    info = RuleInfo(
        id="endpoint-foreign-principals",
        severity=Severity.WARNING,
        title="principals of other accounts can use the endpoint",
        rationale=("An endpoint whose policy admits any principal lets credentials of another account (brought"
                   " into the VPC by a person or by compromised code) reach AWS through your private network,"
                   " e.g. to write to that account's own resources."),
        fix=("limit the endpoint policy to your principals: a Condition StringEquals aws:PrincipalAccount (or"
             " aws:PrincipalOrgID) with your account (organization)"),
        doc_urls=(ENDPOINT_POLICY_PAGE, DATA_PERIMETER_PAGE, CONDITION_KEYS_PAGE),
    )

    def check(self, audit: AuditContext) -> Iterator[AuditFinding]:
        env, foreign = audit.env, audit.foreign_account
        stranger = (audit.account_session(foreign),)
        for endpoint in env.endpoints.values():
            if endpoint.policy is None:
                continue  # the default policy: one finding of endpoint-default-policy lists every risk
            region = endpoint.region or env.region
            for probe in probes(endpoint.short_service):
                # The stranger's own resource: no resource policy of ours is needed, only the endpoint's leave.
                resource = probe.arn(env.partition, region, foreign)
                hit = _first_allowed(audit, endpoint, probe.action, resource, foreign, stranger)
                if hit is None:
                    continue
                result, context = hit
                yield self.finding(
                    f"{endpoint.id} ({endpoint.short_service}) lets {result.request.principal.arn} of account"
                    f" {foreign} perform {probe.action} through it",
                    subject=endpoint_label(endpoint), position=_where(endpoint, result),
                    evidence=(Evidence.of(result, context, via=endpoint.id),),
                    policy_id=endpoint.policy.policy_id if endpoint.policy else None)
                break


class EndpointNoAllow(AuditRule):
    info = RuleInfo(
        id="endpoint-no-allow",
        severity=Severity.ERROR,
        title="the endpoint policy allows nothing",
        rationale=("An endpoint policy that allows no request of its service blocks every call that resolves to"
                   " the endpoint: with private DNS on, all of the VPC's calls to the service fail with"
                   " AccessDenied."),
        fix="add an Allow statement with Principal '*' for the actions and resources the VPC's callers use",
        doc_urls=(ENDPOINT_POLICY_PAGE,),
    )

    def check(self, audit: AuditContext) -> Iterator[AuditFinding]:
        env = audit.env
        for endpoint in env.endpoints.values():
            if endpoint.policy is None:
                continue  # the default policy allows everything
            questions = list(_own_questions(audit, endpoint))
            if not questions:
                continue
            last: tuple[AuthorizationResult, dict[str, str]] | None = None
            allowed = False
            for action, resource in questions:
                hit = _first_allowed(audit, endpoint, action, resource, _owner(audit, resource), audit.own_principals)
                if hit is not None:
                    allowed = True
                    break
                last = audit.through_endpoint(endpoint, audit.own_principals[-1], action, resource,
                                              _owner(audit, resource))
            if allowed:
                continue
            missing = sorted({k for r in ([last[0]] if last else []) for k in r.missing_context_keys})
            hint = f" (the requests lacked {', '.join(missing)})" if missing else ""
            errors = "; ".join(last[0].errors[:2]) if last and last[0].errors else ""
            yield self.finding(
                f"the policy of {endpoint.id} ({endpoint.short_service}) allows none of {len(questions)} requests of"
                f" its service from this account's principals{hint}{': ' + errors if errors else ''}",
                subject=endpoint_label(endpoint), position=endpoint.policy.statements[0].start
                if endpoint.policy.statements and endpoint.policy.statements[0].start else endpoint.position,
                evidence=(Evidence.of(last[0], last[1], via=endpoint.id),) if last else (),
                policy_id=endpoint.policy.policy_id)


class EndpointDefaultPolicy(AuditRule):
    info = RuleInfo(
        id="endpoint-default-policy",
        severity=Severity.WARNING,
        title="the endpoint has no policy: the default full-access policy opens the perimeter",
        rationale=("Without a PolicyDocument, AWS attaches the default endpoint policy, which allows every"
                   " principal every action on every resource. Through such an endpoint this account's"
                   " principals can write to other accounts' resources, principals of other accounts can use"
                   " the private network, and on services that carry data or credentials (S3, Secrets Manager,"
                   " KMS, SSM, STS, CloudWatch Logs, ECR, ...) the endpoint is no part of the data perimeter."
                   " One finding per endpoint lists the risks the engine confirms."),
        fix=("give the endpoint a PolicyDocument that allows your principals (Condition StringEquals"
             " aws:PrincipalAccount) the actions they use on your resources (aws:ResourceAccount)"),
        doc_urls=(ENDPOINT_POLICY_PAGE, DATA_PERIMETER_PAGE, CONDITION_KEYS_PAGE),
    )

    def check(self, audit: AuditContext) -> Iterator[AuditFinding]:
        env, foreign = audit.env, audit.foreign_account
        stranger = (audit.account_session(foreign),)
        for endpoint in env.endpoints.values():
            if endpoint.policy is not None:
                continue
            region = endpoint.region or env.region
            risks: list[str] = []
            evidence: list[Evidence] = []
            for probe in write_probes(endpoint.short_service):
                resource = probe.arn(env.partition, region, foreign)
                hit = _first_allowed(audit, endpoint, probe.action, resource, foreign, audit.own_principals)
                if hit is not None:
                    risks.append(f"this account's principals can write to other accounts' resources"
                                 f" ({probe.action} on {resource})")
                    evidence.append(Evidence.of(hit[0], hit[1], via=endpoint.id))
                    break
            for probe in probes(endpoint.short_service):
                hit = _first_allowed(audit, endpoint, probe.action, probe.arn(env.partition, region, foreign),
                                     foreign, stranger)
                if hit is not None:
                    risks.append(f"principals of other accounts can use it ({probe.action} as"
                                 f" {hit[0].request.principal.arn})")
                    evidence.append(Evidence.of(hit[0], hit[1], via=endpoint.id))
                    break
            if endpoint.short_service in SENSITIVE_ENDPOINT_SERVICES:
                risks.append(f"{endpoint.short_service} carries data or credentials")
            if not risks:
                continue
            yield self.finding(
                f"{endpoint.id} ({endpoint.short_service}) has no PolicyDocument, so the default policy allows"
                f" full access through it: {'; '.join(risks)}",
                subject=endpoint_label(endpoint), position=endpoint.position, evidence=evidence)


# -- shared questions -------------------------------------------------------------------------------------

def _first_allowed(audit: AuditContext, endpoint: VpcEndpoint, action: str, resource: str, owner: str,
                   principals: tuple[RequestPrincipal, ...]) -> tuple[AuthorizationResult, dict[str, str]] | None:
    for principal in principals:
        result, context = audit.through_endpoint(endpoint, principal, action, resource, owner)
        if result.allowed:
            return result, context
    return None


def _owner(audit: AuditContext, resource: str) -> str:
    parts = resource.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else audit.env.account


def _own_questions(audit: AuditContext, endpoint: VpcEndpoint) -> Iterator[tuple[str, str]]:
    """Requests of the endpoint's service on this account's resources: the probes, then every action the
    endpoint service carries on the templates' resources (or '*', or a made-up ARN of this account)."""
    env = audit.env
    region = endpoint.region or env.region
    seen: set[tuple[str, str]] = set()

    def once(action: str, resource: str) -> Iterator[tuple[str, str]]:
        if (action, resource) not in seen:
            seen.add((action, resource))
            yield action, resource

    for probe in probes(endpoint.short_service):
        yield from once(probe.action, probe.arn(env.partition, region, env.account))
    service = audit.endpoint_service(endpoint)
    if service is None:
        return
    prefixes = set(service.iam_prefixes) | {a.split(":", 1)[0] for a in service.iam_actions}
    for prefix in sorted(prefixes):
        if not audit.catalog.has_service(prefix):
            continue
        for action in audit.catalog.actions_of(prefix):
            if not service.carries_action(action.full_name):
                continue
            if action.takes_no_resource:
                yield from once(action.full_name, "*")
                continue
            for target in audit.declared_targets(action):
                yield from once(action.full_name, target)
            made_up = audit.undeclared_arn(action, env.account)
            if made_up is not None:
                yield from once(action.full_name, made_up)
