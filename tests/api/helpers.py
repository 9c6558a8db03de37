"""Small helpers shared by the API tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.contract import checked
from tests.waiting import wait_until

COURSES = "/v1/lms/courses/bulk"
SKILLS = "/v1/hris/skills/bulk"


def course(origin_id: str, title: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "origin_id": origin_id,
        "course": {
            "type": "EXTERNAL",
            "title": title or f"Course {origin_id}",
            "course_url": f"https://content.example.com/courses/{origin_id}",
            **extra,
        },
    }


def courses(n: int, prefix: str = "c") -> list[dict[str, Any]]:
    return [course(f"{prefix}-{i}") for i in range(n)]


def skill(origin_id: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"origin_id": origin_id, "name": name or f"Skill {origin_id}", **extra}


def submit(api: httpx.Client, items: list[dict[str, Any]], path: str = COURSES, **kwargs: Any) -> str:
    response = checked(api.post(path, json={"items": items}, **kwargs))
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["task_id"])


def poll(api: httpx.Client, task_id: str, path: str = COURSES) -> dict[str, Any]:
    response = checked(api.get(f"{path}/{task_id}"))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def wait(api: httpx.Client, task_id: str, path: str = COURSES, timeout: float = 30.0) -> dict[str, Any]:
    """Poll until the task is COMPLETED or FAILED (bounded)."""

    def ended() -> dict[str, Any] | None:
        data = poll(api, task_id, path)
        return data if data["status"] != "PENDING" else None

    return wait_until(ended, timeout=timeout, message=f"task {task_id} still PENDING")
