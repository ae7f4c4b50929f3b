"""Two stacks that declare the same logical ids keep both (no silent merge).

An ECS service without ServiceName and a task definition without Family get names CloudFormation
generates (aws-resource-ecs-service.md, aws-resource-ecs-taskdefinition.md: "If you don't specify a
name, CloudFormation generates a unique physical ID"); a reference by logical id alone that names
two of them is an error listing the stack-qualified candidates.
"""

from __future__ import annotations

import pytest

from accesspath.cfn import load_stacks
from accesspath.cli import main
from accesspath.environment.callers import resolve_caller
from accesspath.environment.from_templates import build_environment
from accesspath.errors import UsageError

from .loading import TEMPLATES

WEB, API = TEMPLATES / "duplicates" / "web.yaml", TEMPLATES / "duplicates" / "api.yaml"


def test_both_stacks_services_and_task_definitions_are_kept() -> None:
    env = build_environment(load_stacks([WEB, API]))
    services = sorted((s.stack, s.logical_id, s.name.split("-")[0]) for s in env.services.values())
    assert services == [("api", "Service", "api"), ("web", "Service", "web")]
    tasks = {t.stack: t for t in env.task_definitions.values()}
    assert set(tasks) == {"web", "api"}
    assert tasks["web"].containers[0].name == "web" and tasks["api"].containers[0].name == "api"
    for service in env.services.values():
        assert service.task_definition == tasks[service.stack].family  # each its own stack's


def test_an_ambiguous_reference_lists_the_qualified_candidates() -> None:
    env = build_environment(load_stacks([WEB, API]))
    with pytest.raises(UsageError, match=r"--from 'Service' names 2 ECS services: api/Service, web/Service"):
        resolve_caller(env, "Service")
    caller = resolve_caller(env, "api/Service")
    assert caller.service is not None and caller.service.stack == "api"
    assert caller.task_definition is not None and caller.task_definition.containers[0].name == "api"
    assert caller.role is not None and caller.role.name.startswith("api-TaskRole-")


def test_launch_check_says_which_service(capsys) -> None:
    code = main(["launch-check", str(WEB), str(API), "--service", "Service"])
    err = capsys.readouterr().err
    assert code == 2 and "--service 'Service' names 2 ECS services: api/Service, web/Service" in err
