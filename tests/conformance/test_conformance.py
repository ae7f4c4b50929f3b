"""Conformance suite: requests decided the way the IAM User Guide says AWS decides them.

Every case file under ``cases/`` is validated against ``schema.json``; every case names the
documentation page it rests on (``doc``). Each case is run through
``accesspath.simulate.simulate`` and every expectation is checked against the result for that
action and resource. Expectation fields:

* ``decision`` -- ``allowed``, ``explicitDeny``, ``implicitDeny``, or ``denied`` (either deny:
  used where the documentation only says that the request fails, e.g. invalid policies);
* ``gate`` -- optional, compared with ``DecidingGate``;
* ``message_contains`` -- optional substring of ``Message``;
* ``errors`` -- optional; ``true`` means ``Errors`` must be non-empty, ``false`` empty;
* ``notes_contain`` -- optional substring of one of ``Notes`` (facts beyond policy: a call that needs
  no permission, a call AWS refuses whatever the policies say); ``notes`` -- true/false: any notes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "cases"
SCHEMA = json.loads((HERE / "schema.json").read_text(encoding="utf-8"))


def _load_files() -> dict[str, dict]:
    files = {}
    for path in sorted(CASES_DIR.glob("*.json")):
        files[path.name] = json.loads(path.read_text(encoding="utf-8"))
    return files


FILES = _load_files()
CASES = [(name, case) for name, data in FILES.items() for case in data.get("cases", [])]
CASE_PARAMS = [pytest.param(case, id=case.get("id", f"{name}-?")) for name, case in CASES]


# --- the suite itself -------------------------------------------------------------------------

def test_case_files_exist():
    assert FILES, f"no case files in {CASES_DIR}"


@pytest.mark.parametrize("name", sorted(FILES))
def test_case_file_matches_schema(name):
    jsonschema.validate(FILES[name], SCHEMA)


def test_case_ids_are_unique():
    seen: dict[str, str] = {}
    dupes = []
    for name, case in CASES:
        cid = case.get("id")
        if cid in seen:
            dupes.append(f"{cid} ({seen[cid]} and {name})")
        seen[cid] = name
    assert not dupes, "duplicate case ids: " + ", ".join(dupes)


def test_every_case_cites_a_doc():
    missing = [case.get("id") for _, case in CASES if not str(case.get("doc", "")).strip()]
    assert not missing, f"cases without doc: {missing}"


def _requested_pairs(request: dict) -> set[tuple[str, str]]:
    resources = request.get("ResourceArns") or ["*"]
    return {(a.lower(), r) for a in request["ActionNames"] for r in resources}


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_expectations_name_requested_pairs(case):
    pairs = _requested_pairs(case["request"])
    for exp in case["expect"]:
        assert (exp["action"].lower(), exp["resource"]) in pairs, (
            f"expectation {exp['action']} on {exp['resource']} is not part of the request")


# --- running the engine -----------------------------------------------------------------------

def _simulate():
    try:
        from accesspath.simulate import simulate
    except ImportError as exc:  # pragma: no cover - only while the engine is being written
        pytest.fail(f"accesspath.simulate is not importable: {exc}")
    return simulate


def _find(results: list[dict], action: str, resource: str) -> dict:
    for res in results:
        if (str(res.get("EvalActionName", "")).lower() == action.lower()
                and res.get("EvalResourceName") == resource):
            return res
    listed = [(r.get("EvalActionName"), r.get("EvalResourceName")) for r in results]
    raise AssertionError(f"no result for {action} on {resource}; results: {listed}")


def _describe(case: dict, res: dict) -> str:
    return (f"\ncase {case['id']}: {case['description']}\ndoc: {case['doc']}\n"
            f"result: {json.dumps({k: v for k, v in res.items() if k != 'Explanation'}, indent=1)}")


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_conformance(case):
    simulate = _simulate()
    output = simulate(copy.deepcopy(case["request"]))
    results = output["EvaluationResults"]
    for exp in case["expect"]:
        res = _find(results, exp["action"], exp["resource"])
        info = _describe(case, res)
        decision = res.get("EvalDecision")
        if exp["decision"] == "denied":
            assert decision in ("explicitDeny", "implicitDeny"), info
        else:
            assert decision == exp["decision"], info
        if "gate" in exp:
            assert res.get("DecidingGate") == exp["gate"], info
        if "message_contains" in exp:
            assert exp["message_contains"] in (res.get("Message") or ""), info
        if exp.get("errors") is True:
            assert res.get("Errors"), info
        elif exp.get("errors") is False:
            assert not res.get("Errors"), info
        if "notes_contain" in exp:
            assert any(exp["notes_contain"] in note for note in res.get("Notes") or []), info
        if "notes" in exp:
            assert bool(res.get("Notes")) is exp["notes"], info


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_explain_gives_same_decision(case):
    simulate = _simulate()
    plain = simulate(copy.deepcopy(case["request"]))["EvaluationResults"]
    explained = simulate(copy.deepcopy(case["request"]), explain=True)["EvaluationResults"]
    key = lambda r: (str(r.get("EvalActionName")).lower(), r.get("EvalResourceName"))  # noqa: E731
    assert sorted(map(key, plain)) == sorted(map(key, explained))
    plain_by_key = {key(r): r for r in plain}
    for res in explained:
        other = plain_by_key[key(res)]
        assert res.get("EvalDecision") == other.get("EvalDecision"), _describe(case, res)
        assert res.get("DecidingGate") == other.get("DecidingGate"), _describe(case, res)
