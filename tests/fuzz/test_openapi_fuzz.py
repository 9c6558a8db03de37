"""Fuzzing from the app's own OpenAPI document (GET /openapi.json) with schemathesis, against the
real server over loopback HTTP with a valid key and integration: for every operation, bounded
valid and invalid inputs; no answer is a 5xx, and none breaks the response schema the document
declares. Derandomized, so a failure reproduces."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.api.helpers import course
from tests.conftest import Server, Tenant
from tests.reads.helpers import wait_first_sync

EXAMPLES_PER_OPERATION = 25
# Invalid inputs cost hypothesis far more to generate (and most are refused at the first check).
NEGATIVE_EXAMPLES_PER_OPERATION = 10
BUDGET_SECONDS = 150.0  # six lifecycle, passthrough and skill operations joined the first 90s
# Fuzzed on ids that exist, these would delete, pause or resize the tenant the other operations use.
LIFECYCLE = {
    "DELETE /v1/integrations/{integration_id}",
    "PATCH /v1/integrations/{integration_id}",
    "PUT /v1/integrations/{integration_id}/enabled",
}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the failure is reported as found
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.slow  # hundreds of generated requests
def test_no_operation_answers_a_server_error_or_breaks_its_schema(
    clean_server: Server, tenant: Tenant, db_kind: str
) -> None:
    skip_nul = False  # NUL is refused with 400 at the boundary (api/nul_guard.py) on every store
    with clean_server.client(tenant.key, tenant.integration) as api:
        wait_first_sync(api, tenant.integration)
        real_ids = existing_objects(api, tenant)
    schema = schemathesis.openapi.from_url(f"{clean_server.url}/openapi.json")
    headers = {"Authorization": f"Bearer {tenant.key}", "X-Integration-Id": tenant.integration}
    examples = {
        GenerationMode.POSITIVE: EXAMPLES_PER_OPERATION,
        GenerationMode.NEGATIVE: NEGATIVE_EXAMPLES_PER_OPERATION,
    }
    started = time.monotonic()
    failures: list[str] = []
    fuzzed = []
    for result in schema.get_all_operations():
        operation = result.ok()
        fuzzed.append(operation.label)
        named = {parameter.name for parameter in operation.path_parameters}
        runs: list[tuple[GenerationMode, dict[str, str]]] = [
            (GenerationMode.POSITIVE, {}),
            (GenerationMode.NEGATIVE, {}),
        ]
        if named and named <= set(real_ids) and operation.label not in LIFECYCLE:
            # Also on objects that exist, so that the fuzzed query and body reach the work itself.
            runs.append((GenerationMode.POSITIVE, {name: real_ids[name] for name in named}))
        for mode, path_parameters in runs:

            @settings(FUZZ, max_examples=examples[mode])
            @given(case=operation.as_strategy(mode, headers=headers, path_parameters=path_parameters or None))
            def run(case: Case) -> None:
                if skip_nul and has_nul((case.path_parameters, case.query, case.body, case.headers)):
                    reject()  # a known 500 on PostgreSQL, pinned by test_nul_characters.py
                response = case.call(base_url=clean_server.url, timeout=30)
                case.validate_response(response, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                # Nothing in the operation can be made invalid (only free-form strings): nothing to do.
                assert mode is GenerationMode.NEGATIVE or skip_nul, operation.label
            except Exception as error:
                failures.append(f"{operation.label} ({mode.value}): {str(error)[:1500]}")
        assert time.monotonic() - started < BUDGET_SECONDS, f"fuzzing took longer than {BUDGET_SECONDS}s"

    remove_fuzzed_webhooks(clean_server, tenant)
    assert len(fuzzed) >= 10, fuzzed
    assert not failures, "\n\n".join(failures)


def has_nul(value: Any) -> bool:
    """A NUL character anywhere in a case, raw or percent-encoded (the server decodes paths and queries)."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, str):
        return "\x00" in value or "%00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def existing_objects(api: httpx.Client, tenant: Tenant) -> dict[str, str]:
    """One id of each kind a path names: an integration, a task, a sync, a course, a progression."""
    task = api.post("/v1/lms/courses/bulk", json={"items": [course("fuzz-seed")]}).json()["data"]["task_id"]
    sync = api.post("/v1/force-sync", json={"type": "DELTA"}).json()["data"]["sync_id"]
    progressions = api.get("/v1/lms/course-progressions", params={"page_size": 1}).json()["data"]["results"]
    courses = api.get("/v1/lms/courses", params={"page_size": 1}).json()["data"]["results"]
    return {
        "integration_id": tenant.integration,
        "task_id": task,
        "sync_id": sync,
        "course_id": courses[0]["id"],
        "course_progression_id": progressions[0]["id"],
    }


def remove_fuzzed_webhooks(server: Server, tenant: Tenant) -> None:
    """Endpoints the fuzzer registered must not be delivered to after the test."""
    with server.client(tenant.key) as api:
        listed = api.get("/v1/webhooks")
        if listed.status_code != 200:
            return
        for endpoint in listed.json()["data"]:
            api.delete(f"/v1/webhooks/{endpoint['id']}")


@pytest.mark.parametrize("path", ["/openapi.json"])
def test_the_openapi_document_is_served_and_valid(clean_server: Server, path: str) -> None:
    document = httpx.get(clean_server.url + path, timeout=10).json()
    assert document["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(document).validate()
