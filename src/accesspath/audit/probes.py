"""Representative requests per VPC endpoint service: the questions endpoint rules put to the engine.

``write`` probes are ways data leaves through an endpoint (put an object, a log event, a message,
a secret value; assume a role): the data perimeter's "resources of my organization only" control
(IAM user guide, "Data perimeters on AWS"; PrivateLink guide, "Control access to VPC endpoints
using endpoint policies") is there to stop them reaching another account. ``read`` probes stand
for ordinary use of the service. ``{partition}``, ``{region}`` and ``{account}`` are filled in
per question; the names are made up and never in the templates.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Probe:
    action: str
    resource: str        # a template with {partition}, {region}, {account}; "*" for no resource
    write: bool

    def arn(self, partition: str, region: str, account: str) -> str:
        return self.resource.format(partition=partition, region=region, account=account)


def _pair(write: str, read: str, resource: str) -> tuple[Probe, Probe]:
    return Probe(write, resource, True), Probe(read, resource, False)


# Keyed by endpoint service id (the part of com.amazonaws.REGION.ID after the region).
ENDPOINT_PROBES: dict[str, tuple[Probe, ...]] = {
    "s3": _pair("s3:PutObject", "s3:GetObject", "arn:{partition}:s3:::accesspath-probe-{account}/object"),
    "logs": _pair("logs:PutLogEvents", "logs:GetLogEvents",
                  "arn:{partition}:logs:{region}:{account}:log-group:accesspath-probe:log-stream:probe"),
    "sqs": _pair("sqs:SendMessage", "sqs:ReceiveMessage", "arn:{partition}:sqs:{region}:{account}:accesspath-probe"),
    "sns": _pair("sns:Publish", "sns:GetTopicAttributes", "arn:{partition}:sns:{region}:{account}:accesspath-probe"),
    "dynamodb": _pair("dynamodb:PutItem", "dynamodb:GetItem",
                      "arn:{partition}:dynamodb:{region}:{account}:table/accesspath-probe"),
    "secretsmanager": _pair("secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue",
                            "arn:{partition}:secretsmanager:{region}:{account}:secret:accesspath-probe-AbCdEf"),
    "ssm": _pair("ssm:PutParameter", "ssm:GetParameters", "arn:{partition}:ssm:{region}:{account}:parameter/accesspath-probe"),
    "kinesis-streams": _pair("kinesis:PutRecord", "kinesis:GetRecords",
                             "arn:{partition}:kinesis:{region}:{account}:stream/accesspath-probe"),
    "kinesis-firehose": (Probe("firehose:PutRecord",
                               "arn:{partition}:firehose:{region}:{account}:deliverystream/accesspath-probe", True),),
    "events": (Probe("events:PutEvents", "arn:{partition}:events:{region}:{account}:event-bus/accesspath-probe", True),),
    "ecr.api": _pair("ecr:PutImage", "ecr:BatchGetImage", "arn:{partition}:ecr:{region}:{account}:repository/accesspath-probe"),
    "ecr.dkr": _pair("ecr:PutImage", "ecr:BatchGetImage", "arn:{partition}:ecr:{region}:{account}:repository/accesspath-probe"),
    "sts": (Probe("sts:AssumeRole", "arn:{partition}:iam::{account}:role/accesspath-probe", True),),
    "kms": (Probe("kms:Decrypt", "arn:{partition}:kms:{region}:{account}:key/00000000-0000-0000-0000-000000000000", False),),
    "ecs": (Probe("ecs:ListClusters", "*", False),),
    "ecs-agent": (Probe("ecs:Poll", "*", False),),
    "ecs-telemetry": (Probe("ecs:StartTelemetrySession", "*", False),),
    "ssmmessages": (Probe("ssmmessages:OpenDataChannel", "*", False),),
    "ec2messages": (Probe("ec2messages:GetMessages", "*", False),),
}


def write_probes(service_id: str) -> tuple[Probe, ...]:
    return tuple(p for p in ENDPOINT_PROBES.get(service_id, ()) if p.write)


def probes(service_id: str) -> tuple[Probe, ...]:
    return ENDPOINT_PROBES.get(service_id, ())


# Services whose endpoints carry data or credentials: the default full-access endpoint policy on
# them leaves the data perimeter open (rule endpoint-default-policy).
SENSITIVE_ENDPOINT_SERVICES = frozenset({
    "s3", "secretsmanager", "kms", "ssm", "sts", "logs", "ecr.api", "ecr.dkr", "sqs", "sns", "dynamodb",
    "kinesis-streams", "kinesis-firehose", "events",
})

# Services task-role-overbroad always asks about, besides those the role's policies name (a
# policy granting "Action": "*" names none).
ALWAYS_PROBED_SERVICES = ("s3", "sqs", "sns", "dynamodb", "secretsmanager", "ssm", "kms", "logs", "iam", "ecr",
                          "lambda", "sts")
