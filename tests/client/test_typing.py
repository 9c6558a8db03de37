"""User code that handles a task is type-checked: mypy narrows `Task` (the union of the three wire
states) on the class or on `status`, and refuses what only another state has."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from mypy import api

USER_CODE = """
    from lmsbridge.client import Client, ItemFailed, Task, TaskCompleted, TaskFailed


    def report(task: Task) -> str:
        if isinstance(task, TaskCompleted):
            written = {item.origin_id: item.data.id for item in task.succeeded_items}
            failures = [(f.origin_id, f.error.code, f.error.message) for f in task.failed_items]
            return f"{len(written)} written, {len(failures)} failed of {len(task.data)}"
        if isinstance(task, TaskFailed):
            return f"{task.error.code}: {task.error.message} at {task.completed_at.isoformat()}"
        return f"{task.progress.percent}% of {task.progress.total}; finished: {task.finished}"


    def items(task: Task) -> int:
        if task.status == "COMPLETED":
            return sum(isinstance(item, ItemFailed) for item in task.data)
        return 0


    def the_documented_reads(client: Client) -> None:
        task = client.tasks.wait("task-id", timeout=60)
        print(task.task_id, task.status, task.created_at, task.completed_at, task.raw)
        print(task.data or [], task.error.message if task.error else None, task.failed_items)
        print(client.integrations.get().tool.label)
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the module: the second run reads the client's types from the first's."""
    return tmp_path_factory.mktemp("mypy-cache")


def _mypy(tmp_path: Path, cache: Path, code: str) -> tuple[str, int]:
    (tmp_path / "user.py").write_text(textwrap.dedent(code))
    out, err, status = api.run(
        ["--strict", "--cache-dir", str(cache), "--no-error-summary", str(tmp_path / "user.py")]
    )
    return out + err, status


def test_mypy_accepts_code_that_narrows_a_task_on_its_class_or_status(tmp_path: Path, cache: Path) -> None:
    output, status = _mypy(tmp_path, cache, USER_CODE)
    assert status == 0, output


def test_mypy_refuses_what_only_another_state_has(tmp_path: Path, cache: Path) -> None:
    output, status = _mypy(
        tmp_path,
        cache,
        """
        from lmsbridge.client import Task

        def count(task: Task) -> int:
            return len(task.data)  # PENDING and FAILED have none

        def why(task: Task) -> str:
            return task.error.message  # only a FAILED task has one
        """,
    )
    assert status == 1
    assert 'Argument 1 to "len" has incompatible type' in output
    assert 'Item "None" of "ErrorBody | None" has no attribute "message"' in output
