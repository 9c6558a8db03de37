"""Tenant isolation: a key of another environment walks every route of the app, naming this
environment's objects (its integration, tasks, syncs, users, courses, revisions, progressions) in
paths, headers, filters and bodies, and gets 404 for every one of them, never their data."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from lmsbridge.api import deps
from lmsbridge.auth.service import create_key
from lmsbridge.ids import new_id
from lmsbridge.integrations.service import create_integration
from tests.api.helpers import COURSES as COURSES_BULK
from tests.api.helpers import SKILLS as SKILLS_BULK
from tests.api.helpers import course, skill, submit, wait
from tests.conftest import Server, Tenant
from tests.reads.helpers import wait_first_sync, wait_sync

# Pages outside /v1 addressed by an unguessable id: a log_url works like a support link for whoever
# holds it (README, Errors), so no key is asked for. The walk proves they are outside /v1 and that
# an id which is not theirs answers 404; what they show is the point of the link.
CAPABILITY_PAGES = "/logs/"


@dataclass
class Owner:
    """The tenant whose objects the other tenant tries to reach, and everything that identifies them."""

    tenant: Tenant
    name: str
    objects: dict[str, str] = field(default_factory=dict)  # path parameter -> one of its ids
    ids: set[str] = field(default_factory=set)  # every id of its objects
    private: set[str] = field(default_factory=set)  # data only it wrote (titles, origin ids, names)


def tenant_with_name(server: Server, environment: str, name: str) -> Tenant:
    with server.store.write() as conn:
        key = create_key(conn, name="isolation", environment=environment)
        integration = create_integration(
            conn, server.box, tool="sandbox", environment=environment, name=name, settings={"seed": "7"}
        )
    return Tenant(key.secret, key.environment_id, integration.id)


def all_results(api: httpx.Client, path: str) -> list[dict[str, Any]]:
    response = api.get(path, params={"page_size": 250})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["data"]["results"]
    return results


def build_owner(server: Server) -> Owner:
    marker = secrets.token_hex(6)
    name = f"Owner Org {marker}"
    tenant = tenant_with_name(server, "owner", name)
    owner = Owner(tenant, name)
    with server.client(tenant.key, tenant.integration) as api:
        wait_first_sync(api, tenant.integration)
        course_task = submit(api, [course(f"owner-course-{marker}", title=f"Owner Course {marker}")])
        skill_task = submit(api, [skill(f"owner-skill-{marker}", name=f"Owner Skill {marker}")], SKILLS_BULK)
        wait(api, course_task)
        wait(api, skill_task, SKILLS_BULK)
        sync = api.post("/v1/force-sync", json={"type": "FULL"}).json()["data"]["sync_id"]
        wait_sync(server, sync)
        users = all_results(api, "/v1/lms/users")
        courses = all_results(api, "/v1/lms/courses")
        progressions = all_results(api, "/v1/lms/course-progressions")
        skills = all_results(api, "/v1/lms/skills") + all_results(api, "/v1/hris/skills")
        webhook = api.post("/v1/webhooks", json={"url": f"https://owner-{marker}.example.com/hook"})
        callback = api.post("/v1/webhooks/callback-secret")
    revisions = [r for c in courses for r in c.get("revisions") or []]
    owner.objects = {
        "integration_id": tenant.integration,
        "task_id": course_task,
        "skill_task_id": skill_task,
        "sync_id": sync,
        "interaction_id": new_id(),
        "course_id": courses[0]["id"],
        "course_progression_id": progressions[0]["id"],
        "user_id": users[0]["id"],
        "course_revision_id": revisions[0]["id"],
    }
    owner.ids = {tenant.integration, tenant.environment_id, course_task, skill_task, sync}
    owner.ids |= {r["id"] for r in users + courses + progressions + skills + revisions}
    owner.private = {name, marker, tenant.environment_id, tenant.key}
    if webhook.status_code == 200:  # the webhooks extension is installed
        endpoint = webhook.json()["data"]
        owner.objects["endpoint_id"] = endpoint["id"]
        owner.ids.add(endpoint["id"])
        owner.private |= {endpoint["secret"], callback.json()["data"]["secret"]}
    return owner


def uses_integration(route: APIRoute) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call is deps.integration:
            return True
        pending.extend(dependency.dependencies)
    return False


def params_of(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def fill(path: str, owner: Owner) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "task_id" and "/skills/" in path:
            name = "skill_task_id"
        return owner.objects.get(name, new_id())

    return re.sub(r"\{(\w+)\}", one, path)


def body_for(method: str, path: str, owner: Owner) -> Any:
    if method == "PUT" and path.endswith("/enabled"):
        return {"value": False}
    if method == "PATCH":
        return {"name": "Intruder's name"}
    if method != "POST":
        return None
    if "/passthrough/" in path:
        return {"method": "GET", "path": "/users"}
    if path.endswith("/hris/skills"):
        return {"name": "Intruder skill"}
    if path.endswith(COURSES_BULK.removeprefix("/v1")):
        return {"items": [course("intruder-course")]}
    if path.endswith(SKILLS_BULK.removeprefix("/v1")):
        return {"items": [skill("intruder-skill")]}
    if path.endswith("/lms/course-progressions"):
        return {
            "user_id": owner.objects["user_id"],
            "course_revision_id": owner.objects["course_revision_id"],
        }
    if path.endswith("/complete"):
        return {"completed_at": "2026-01-01", "score": 50}
    if path.endswith("/force-sync"):
        return {"type": "DELTA"}
    if path.endswith("/webhooks"):
        return {"url": "https://intruder.example.com/hook"}
    return {}


def query_for(method: str, path: str, owner: Owner) -> dict[str, str]:
    if method != "GET" or params_of(path):
        return {}
    every_id = ",".join(sorted(owner.ids))
    return {"ids": every_id, "user_ids": every_id, "course_ids": every_id}


def leaked(response: httpx.Response, owner: Owner, sent: str) -> set[str]:
    """The owner's ids and data in a response, except what the request itself named (an error
    message may echo the id it was asked for)."""
    text = response.text
    return {value for value in owner.ids | owner.private if value in text and value not in sent}


def operations(routes: list[BaseRoute]) -> list[tuple[str, str, BaseRoute]]:
    """Every (method, full path, route) the app answers, routers included under their prefix."""
    found = []
    for context in iter_route_contexts(routes):
        if context.path is not None:
            for method in sorted((context.methods or set()) - {"HEAD"}):
                found.append((method, context.path, context.original_route))
    return found


def test_another_environment_reaches_none_of_this_environments_objects_on_any_route(
    clean_server: Server,
) -> None:
    owner = build_owner(clean_server)
    before = owned_records(clean_server, owner)
    assert all(before), before
    intruder = tenant_with_name(clean_server, "intruder", "Intruder Org")
    with clean_server.client(intruder.key, intruder.integration) as api:
        wait_first_sync(api, intruder.integration)

    app = clean_server.app
    walked: set[tuple[str, str]] = set()
    failures: list[str] = []

    def expect(condition: bool, what: str, response: httpx.Response) -> None:
        if not condition:
            failures.append(f"{what}: {response.status_code} {response.text[:300]}")

    with httpx.Client(base_url=clean_server.url, timeout=30) as http:

        def send(method: str, path: str, integration: str | None) -> tuple[httpx.Response, str]:
            url = fill(path, owner)
            body = body_for(method, path, owner)
            query = query_for(method, path, owner)
            headers = {"Authorization": f"Bearer {intruder.key}"}
            if integration:
                headers["X-Integration-Id"] = integration
            response = http.request(method, url, params=query, json=body, headers=headers)
            sent = f"{url} {query} {body} {integration}"
            for value in leaked(response, owner, sent):
                failures.append(
                    f"{method} {path} with {integration}: the owner's {value!r} in {response.text[:300]}"
                )
            return response, sent

        for method, path, route in operations(app.routes):
            walked.add((method, path))
            label = f"{method} {path}"
            if not path.startswith("/v1"):
                if path.startswith(CAPABILITY_PAGES):
                    response, _ = send(method, path.replace("{", "{unknown_"), None)
                    expect(response.status_code == 404, f"{label} with an id that is not a page's", response)
                    continue
                # Everything else outside /v1 (docs, health, icons) is public and names no tenant.
                send(method, path, None)
                continue
            assert isinstance(route, APIRoute), label
            scoped = uses_integration(route)
            # A passthrough's {tool}/{api} name an API, not an object of the owner.
            named = [name for name in params_of(path) if name not in ("tool", "api")]

            # With the owner's integration in the header: the integration does not exist.
            response, _ = send(method, path, owner.tenant.integration)
            if scoped or "integration_id" in named:
                expect(response.status_code == 404, f"{label} with the owner's integration", response)
                expect(
                    response.json()["error"]["code"] == "PLATFORM.INTEGRATION_NOT_FOUND",
                    f"{label}: code",
                    response,
                )

            # With its own integration, naming the owner's objects: they do not exist either.
            response, _ = send(method, path, intruder.integration)
            if named:
                expect(response.status_code == 404, f"{label} naming the owner's {named}", response)
            elif method == "POST" and path.endswith("/lms/course-progressions"):
                # Ids in a body are input: unknown ones answer 400, as Kombo's INPUT_INVALID does.
                expect(response.status_code in (400, 404), f"{label} enrolling the owner's user", response)
            elif method == "GET" and scoped:
                expect(response.status_code == 200, f"{label} filtered by the owner's ids", response)
                if response.status_code == 200:
                    expect(response.json()["data"]["results"] == [], f"{label} returned records", response)
            else:
                expect(response.status_code < 500, label, response)
            if method == "GET" and path == "/v1/check-api-key":
                expect(response.json()["data"]["environment_id"] == intruder.environment_id, label, response)

    assert not failures, "\n".join(failures)

    # Every operation of the OpenAPI document was walked, and nothing the intruder did reached the
    # owner: its data reads as before.
    documented = {
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert documented <= walked
    assert {p for _, p in walked if p.startswith("/v1")}, "no route under /v1 was walked"
    assert owned_records(clean_server, owner) == before


def owned_records(server: Server, owner: Owner) -> list[Any]:
    """The owner's progression, course and webhook endpoints that the intruder named in its calls."""
    with server.client(owner.tenant.key, owner.tenant.integration) as api:
        records = [
            api.get(path, params={"ids": owner.objects[name]}).json()["data"]["results"]
            for path, name in (
                ("/v1/lms/course-progressions", "course_progression_id"),
                ("/v1/lms/courses", "course_id"),
            )
        ]
        if "endpoint_id" in owner.objects:
            records.append(api.get("/v1/webhooks").json()["data"])
    return records
