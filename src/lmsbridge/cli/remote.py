"""The everyday commands against a running server, built on `lmsbridge.client`: list users,
courses, progressions and skills, upsert courses and skills from a file, enrol, complete,
deactivate, trigger a sync, show a task. Each takes the
server from --url and --api-key (or LMSBRIDGE_URL and LMSBRIDGE_API_KEY). Exit codes: 0 success,
1 failure (an error answer, or items or a sync that failed), 2 usage."""

from __future__ import annotations

import csv
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO, TypeVar

import click

from lmsbridge.client import Client, LmsBridgeClientError, RetryPolicy, Task, TaskFailed, WaitTimeoutError
from lmsbridge.client.errors import APIStatusError, NotFoundError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_URL = "http://127.0.0.1:8000"
MAX_BATCH = 10_000
CSV_COLUMNS = ("origin_id", "title", "course_url", "description", "thumbnail_url", "duration", "languages")
SKILL_COLUMNS = ("origin_id", "name", "status")
FORMATS = click.Choice(["table", "json", "jsonl", "csv"])


def _server_options(f: F) -> F:
    f = click.option(
        "--api-key",
        envvar="LMSBRIDGE_API_KEY",
        required=True,
        help="The API key [env LMSBRIDGE_API_KEY].",
    )(f)
    f = click.option(
        "--url",
        envvar="LMSBRIDGE_URL",
        default=DEFAULT_URL,
        show_default=True,
        help="The server [env LMSBRIDGE_URL].",
    )(f)
    return f


def _integration_option(f: F) -> F:
    return click.option(
        "--integration",
        "integration",
        envvar="LMSBRIDGE_INTEGRATION_ID",
        required=True,
        help="The integration's id [env LMSBRIDGE_INTEGRATION_ID].",
    )(f)


def plural(count: int, noun: str) -> str:
    """`1 course`, `3 courses`, `1 task`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _say_retry(notice: str) -> None:
    click.echo(f"lmsbridge: {notice}", err=True)


def error_line(error: APIStatusError) -> str:
    """`404 PLATFORM.INPUT_INVALID No task ... (log: ...)`: status, code when there is one, message."""
    parts = [str(error.status_code), error.code or "", error.message or ""]
    detail = f" (log: {error.log_url})" if error.log_url else ""
    return " ".join(p for p in parts if p) + detail


@contextmanager
def _client(url: str, api_key: str, integration: str | None) -> Iterator[Client]:
    """A client; any client error becomes one clear line and exit code 1. Each retry is said on
    stderr before its wait; a refused first connection fails at once (nothing listens there)."""
    # Commands run long (a wait may take an hour): retry more than the library's default.
    policy = RetryPolicy(max_retries=5, retry_refused_first_call=False)
    try:
        with Client(url, api_key, integration, retry=policy, on_retry=_say_retry) as client:
            yield client
    except APIStatusError as error:
        raise click.ClickException(error_line(error)) from error
    except LmsBridgeClientError as error:
        raise click.ClickException(str(error)) from error


# -- listing ------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _course_row(raw: dict[str, Any]) -> dict[str, Any]:
    revisions = raw.get("revisions") or []
    latest = revisions[-1] if revisions else {}
    return {**raw, "title": latest.get("title"), "status": latest.get("status"), "revisions": len(revisions)}


@dataclass(frozen=True)
class _Listing:
    resource: str
    columns: tuple[str, ...]
    row: Callable[[dict[str, Any]], dict[str, Any]] = dict


LISTINGS = {
    "users": _Listing(
        "users", ("id", "remote_id", "first_name", "last_name", "work_email", "status", "changed_at")
    ),
    "courses": _Listing(
        "courses", ("id", "remote_id", "origin_id", "title", "status", "revisions", "changed_at"), _course_row
    ),
    "progressions": _Listing(
        "progressions",
        (
            "id",
            "remote_id",
            "user_id",
            "course_revision_id",
            "status",
            "enrolled_at",
            "completed_at",
            "changed_at",
        ),
    ),
    "hris_skills": _Listing("hris_skills", ("id", "remote_id", "name", "description", "changed_at")),
    "skills": _Listing("skills", ("id", "remote_id", "name", "changed_at")),
}


def _emit(records: Iterator[dict[str, Any]], listing: _Listing, fmt: str, out: TextIO) -> int:
    count = 0
    if fmt == "jsonl":
        for raw in records:
            out.write(json.dumps(raw, ensure_ascii=False) + "\n")
            count += 1
    elif fmt == "json":
        everything = list(records)
        count = len(everything)
        out.write(json.dumps(everything, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(listing.columns)
        for raw in records:
            row = listing.row(raw)
            writer.writerow([_cell(row.get(c)) for c in listing.columns])
            count += 1
    else:
        rows = [[_cell(listing.row(raw).get(c)) for c in listing.columns] for raw in records]
        count = len(rows)
        widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(listing.columns)]
        out.write("  ".join(c.ljust(w) for c, w in zip(listing.columns, widths, strict=True)).rstrip() + "\n")
        for r in rows:
            out.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")
    return count


def _list_options(f: F) -> F:
    f = click.option("--limit", type=click.IntRange(1), default=None, help="Stop after this many records.")(f)
    f = click.option(
        "--page-size",
        type=click.IntRange(1, 250),
        default=250,
        show_default=True,
        help="Records per request.",
    )(f)
    f = click.option("--include-deleted", is_flag=True, help="Include records deleted in the remote LMS.")(f)
    f = click.option(
        "--updated-after",
        metavar="TIME",
        default=None,
        help="Only records changed after this time (YYYY-MM-DDTHH:mm:ss.sssZ or YYYY-MM-DD).",
    )(f)
    f = click.option(
        "--format", "fmt", type=FORMATS, default="table", show_default=True, help="Output format."
    )(f)
    f = _integration_option(f)
    return _server_options(f)


def _run_list(name: str, options: dict[str, Any], **filters: Any) -> None:
    listing = LISTINGS[name]
    with _client(options["url"], options["api_key"], options["integration"]) as client:
        resource = getattr(client, listing.resource)
        pager = resource.list(
            page_size=options["page_size"],
            updated_after=options["updated_after"],
            include_deleted=options["include_deleted"] or None,
            **{k: v for k, v in filters.items() if v},
        )

        def records() -> Iterator[dict[str, Any]]:
            for n, record in enumerate(pager):
                if options["limit"] is not None and n >= options["limit"]:
                    return
                yield record.raw

        _emit(records(), listing, options["fmt"], sys.stdout)


@click.group("users")
def users() -> None:
    """Read the users of an integration's LMS."""


@users.command("list")
@_list_options
@click.option("--work-email", "work_emails", multiple=True, help="Only these work emails; repeatable.")
def users_list(work_emails: tuple[str, ...], **options: Any) -> None:
    """List users (every page, fetched as it is printed)."""
    _run_list("users", options, work_emails=list(work_emails))


@click.group("courses")
def courses() -> None:
    """Read courses, upsert them from a file, deactivate one."""


@courses.command("list")
@_list_options
def courses_list(**options: Any) -> None:
    """List courses; title and status are the latest revision's."""
    _run_list("courses", options)


@click.group("progressions")
def progressions() -> None:
    """Read course progressions (enrolments and completions); enrol and complete."""


@progressions.command("list")
@_list_options
@click.option("--user-id", "user_ids", multiple=True, help="Only these users' progressions; repeatable.")
@click.option(
    "--course-id", "course_ids", multiple=True, help="Only these courses' progressions; repeatable."
)
def progressions_list(user_ids: tuple[str, ...], course_ids: tuple[str, ...], **options: Any) -> None:
    """List course progressions; with --updated-after, those changed since then (use the start
    of your previous run to miss nothing)."""
    _run_list("progressions", options, user_ids=list(user_ids), course_ids=list(course_ids))


# -- courses upsert -----------------------------------------------------------------------------


def _none_if_blank(value: Any) -> Any:
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _course_item(values: dict[str, Any], where: str) -> dict[str, Any]:
    """The API's item from a flat record (CSV row or flat JSON object); a wire item passes as is."""
    if isinstance(values.get("course"), dict):
        return values
    missing = [c for c in ("origin_id", "title", "course_url") if not _none_if_blank(values.get(c))]
    if missing:
        raise click.ClickException(f"{where}: missing {', '.join(missing)}")
    course: dict[str, Any] = {
        "type": "EXTERNAL",
        "title": values["title"],
        "course_url": values["course_url"],
    }
    for name in ("description", "thumbnail_url"):
        if _none_if_blank(values.get(name)) is not None:
            course[name] = values[name]
    duration = _none_if_blank(values.get("duration"))
    if duration is not None:
        if isinstance(duration, str):
            if not duration.strip().isdigit():
                raise click.ClickException(
                    f"{where}: duration must be a whole number of minutes, not {duration!r}"
                )
            duration = int(duration)
        course["duration"] = duration
    languages = _none_if_blank(values.get("languages"))
    if languages is not None:
        course["languages"] = (
            [s for s in re.split(r"[,;\s]+", languages) if s] if isinstance(languages, str) else languages
        )
    return {"origin_id": str(values["origin_id"]), "course": course}


def _read_items(
    path: Path, fmt: str, columns: tuple[str, ...], item: Callable[[dict[str, Any], str], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Items from a JSON Lines file (one object a line) or a CSV file with a header of `columns`."""
    if fmt == "auto":
        fmt = "csv" if path.suffix.lower() == ".csv" else "jsonl"
    items: list[dict[str, Any]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        if fmt == "csv":
            reader = csv.DictReader(handle)
            unknown = set(reader.fieldnames or ()) - set(columns)
            if unknown:
                raise click.ClickException(
                    f"{path}: unknown columns {sorted(unknown)}; expected some of {', '.join(columns)}"
                )
            for n, row in enumerate(reader, start=2):
                items.append(item(dict(row), f"{path}:{n}"))
        else:
            for n, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as error:
                    raise click.ClickException(f"{path}:{n}: not JSON ({error})") from error
                if not isinstance(value, dict):
                    raise click.ClickException(f"{path}:{n}: expected a JSON object")
                items.append(item(value, f"{path}:{n}"))
    return items


def read_course_file(path: Path, fmt: str) -> list[dict[str, Any]]:
    """Items from a JSON Lines file (flat objects, or the API's `{origin_id, course}` items) or a
    CSV file with a header (origin_id,title,course_url[,description,thumbnail_url,duration,languages])."""
    return _read_items(path, fmt, CSV_COLUMNS, _course_item)


def _skill_item(values: dict[str, Any], where: str) -> dict[str, Any]:
    missing = [c for c in ("origin_id", "name") if not _none_if_blank(values.get(c))]
    if missing:
        raise click.ClickException(f"{where}: missing {', '.join(missing)}")
    status = _none_if_blank(values.get("status")) or "ACTIVE"
    return {"origin_id": str(values["origin_id"]), "name": values["name"], "status": status}


def read_skill_file(path: Path, fmt: str) -> list[dict[str, Any]]:
    """Skill items from JSON Lines or CSV (origin_id,name[,status]; status ACTIVE by default)."""
    return _read_items(path, fmt, SKILL_COLUMNS, _skill_item)


@dataclass
class _Batch:
    task_id: str
    items: list[dict[str, Any]]
    done: int = 0
    final: Task | None = None


def _wait_all(client: Client, batches: list[_Batch], total: int, timeout: float, kind: str) -> None:
    """Poll every unfinished task until all have ended, driving a progress bar from the tasks'
    `progress` extension."""
    deadline = time.monotonic() + timeout
    interval = 0.2
    task_kind: Literal["courses", "skills"] = "skills" if kind == "skills" else "courses"
    with click.progressbar(length=total, label=f"upserting {kind}", file=sys.stderr) as bar:
        while True:
            for batch in batches:
                if batch.final is not None:
                    continue
                task = client.tasks.get(batch.task_id, task_kind)
                done = task.progress.done if task.progress else 0
                if task.finished:
                    done = len(batch.items)
                    batch.final = task
                bar.update(max(0, done - batch.done))
                batch.done = max(batch.done, done)
            if all(b.final is not None for b in batches):
                return
            if time.monotonic() > deadline:
                pending = [b.task_id for b in batches if b.final is None]
                raise WaitTimeoutError(f"tasks still PENDING after {timeout}s: {', '.join(pending)}")
            time.sleep(interval)
            interval = min(2.0, interval * 1.5)


def _failures(batch: _Batch) -> Iterator[dict[str, Any]]:
    """One row per failed item; when the task FAILED as a whole, every item of the batch, with the
    task's error."""
    task = batch.final
    assert task is not None
    if isinstance(task, TaskFailed):
        failed = [(item["origin_id"], task.error) for item in batch.items]
    else:
        failed = [(result.origin_id, result.error) for result in task.failed_items]
    for origin_id, error in failed:
        yield {
            "origin_id": origin_id,
            "task_id": task.task_id,
            "code": error.code,
            "title": error.title,
            "message": error.message,
            "log_url": error.log_url,
        }


def _upsert_options(f: F) -> F:
    f = click.option(
        "--timeout", type=float, default=3600.0, show_default=True, help="With --wait: seconds to wait."
    )(f)
    f = click.option(
        "--failed-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path("failed-items.jsonl"),
        show_default=True,
        help="With --wait: where failed items are written, one JSON object a line.",
    )(f)
    f = click.option(
        "--wait", is_flag=True, help="Wait for every task, with a progress bar, and report failed items."
    )(f)
    f = click.option(
        "--batch-size",
        type=click.IntRange(1, MAX_BATCH),
        default=MAX_BATCH,
        show_default=True,
        help="Items per bulk task (the server takes at most 10,000).",
    )(f)
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(["auto", "jsonl", "csv"]),
        default="auto",
        show_default=True,
        help="The file's format; auto means CSV for a .csv file, JSON Lines otherwise.",
    )(f)
    f = _server_options(f)
    f = _integration_option(f)
    return click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))(f)


def _upsert(
    kind: str,
    file: Path,
    items: list[dict[str, Any]],
    options: dict[str, Any],
) -> None:
    """Submit `items` as bulk tasks of `kind` ("courses" or "skills"); with --wait, wait for them,
    write the failed items and exit 1 if any failed."""
    noun = kind[:-1]
    if not items:
        raise click.ClickException(f"{file}: no {kind}")
    seen: set[str] = set()
    for item in items:
        if item["origin_id"] in seen:
            raise click.ClickException(f"{file}: origin_id {item['origin_id']!r} appears more than once")
        seen.add(item["origin_id"])
    batch_size: int = options["batch_size"]
    with _client(options["url"], options["api_key"], options["integration"]) as client:
        resource = client.courses if kind == "courses" else client.skills
        batches: list[_Batch] = []
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            created = resource.bulk_upsert(chunk)
            for warning in created.warnings:
                click.echo(f"warning: {warning}", err=True)
            click.echo(f"task {created.task_id}: items {start + 1} to {start + len(chunk)}", err=True)
            batches.append(_Batch(created.task_id, chunk))
        if not options["wait"]:
            for batch in batches:
                click.echo(batch.task_id)
            return
        _wait_all(client, batches, len(items), options["timeout"], kind)
    failed = [failure for batch in batches for failure in _failures(batch)]
    succeeded = len(items) - len(failed)
    summary = (
        f"{plural(len(items), noun)} in {plural(len(batches), 'task')}: "
        f"{succeeded} succeeded, {len(failed)} failed"
    )
    if not failed:
        click.echo(summary)
        return
    failed_file: Path = options["failed_file"]
    with failed_file.open("w", encoding="utf-8") as out:
        for failure in failed:
            out.write(json.dumps(failure, ensure_ascii=False) + "\n")
    click.echo(f"{summary} (written to {failed_file})")
    sys.exit(1)


@courses.command("upsert")
@_upsert_options
def courses_upsert(file: Path, **options: Any) -> None:
    """Upsert the courses of FILE (JSON Lines or CSV with columns origin_id, title, course_url,
    description, thumbnail_url, duration, languages), in bulk tasks of at most --batch-size items.
    Without --wait, prints the task ids; with --wait, exits 1 if any item failed."""
    _upsert("courses", file, read_course_file(file, options["fmt"]), options)


@click.group("skills")
def skills() -> None:
    """Read skills, and upsert HRIS skills from a file."""


@skills.command("upsert")
@_upsert_options
def skills_upsert(file: Path, **options: Any) -> None:
    """Upsert the HRIS skills of FILE (JSON Lines or CSV with columns origin_id, name, status), in
    bulk tasks of at most --batch-size items. Without --wait, prints the task ids; with --wait,
    exits 1 if any item failed."""
    _upsert("skills", file, read_skill_file(file, options["fmt"]), options)


@skills.command("list")
@_list_options
@click.option("--lms", is_flag=True, help="The LMS's skills (GET /v1/lms/skills) instead of the HRIS skills.")
@click.option("--name-contains", default=None, help="HRIS skills: only names containing this text.")
def skills_list(lms: bool, name_contains: str | None, **options: Any) -> None:
    """List HRIS skills (what `skills upsert` writes), or with --lms the LMS's own skills."""
    if lms:
        if name_contains:
            raise click.UsageError("--name-contains filters HRIS skills only")
        _run_list("skills", options)
    else:
        _run_list("hris_skills", options, name_contains=name_contains)


# -- direct actions -----------------------------------------------------------------------------


def _action_output(record: dict[str, Any], listing: str, fmt: str, sentence: str) -> None:
    """A direct action's result: a sentence on stderr, then the record (its table row, or JSON)."""
    click.echo(sentence, err=True)
    if fmt == "json":
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        _emit(iter([record]), LISTINGS[listing], "table", sys.stdout)


_ACTION_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: the record's row; json: the API's record whole.",
)


@progressions.command("enrol")
@click.argument("user_id")
@click.argument("course_revision_id")
@_integration_option
@_server_options
@_ACTION_FORMAT
def progressions_enrol(
    user_id: str, course_revision_id: str, integration: str, url: str, api_key: str, fmt: str
) -> None:
    """Enrol USER_ID in COURSE_REVISION_ID (lmsbridge ids or remote:<id>); prints the progression."""
    with _client(url, api_key, integration) as client:
        progression = client.progressions.enrol(user_id, course_revision_id)
    _action_output(
        progression.raw,
        "progressions",
        fmt,
        f"enrolled {user_id} in {course_revision_id}: progression {progression.id} ({progression.status})",
    )


@progressions.command("complete")
@click.argument("progression_id")
@click.option(
    "--completed-at", metavar="TIME", default=None, help="When (YYYY-MM-DD or a date-time) [default: now]."
)
@click.option("--score", type=click.IntRange(0, 100), default=None, help="The score, 0 to 100.")
@_integration_option
@_server_options
@_ACTION_FORMAT
def progressions_complete(
    progression_id: str,
    completed_at: str | None,
    score: int | None,
    integration: str,
    url: str,
    api_key: str,
    fmt: str,
) -> None:
    """Complete PROGRESSION_ID; prints the progression."""
    with _client(url, api_key, integration) as client:
        progression = client.progressions.complete(progression_id, completed_at=completed_at, score=score)
    _action_output(progression.raw, "progressions", fmt, f"completed {progression.id} ({progression.status})")


@courses.command("deactivate")
@click.argument("course_id")
@_integration_option
@_server_options
@_ACTION_FORMAT
def courses_deactivate(course_id: str, integration: str, url: str, api_key: str, fmt: str) -> None:
    """Deactivate COURSE_ID: no new enrolments; prints the course."""
    with _client(url, api_key, integration) as client:
        course = client.courses.deactivate(course_id)
    _action_output(course.raw, "courses", fmt, f"deactivated {course.id}")


# -- tasks, sync --------------------------------------------------------------------------------


@click.group("tasks")
def tasks() -> None:
    """Look at bulk tasks."""


@tasks.command("show")
@click.argument("task_id")
@_integration_option
@_server_options
@click.option(
    "--kind",
    type=click.Choice(["courses", "skills"]),
    default=None,
    help="A courses task or a skills task [default: whichever it is].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: a summary and the failed items; json: the whole task status.",
)
def tasks_show(task_id: str, integration: str, url: str, api_key: str, kind: str | None, fmt: str) -> None:
    """Show a bulk task: status, progress and each failed item (--format json: the whole status).
    Exits 1 when the task FAILED as a whole."""
    with _client(url, api_key, integration) as client:
        task = _find_task(client, task_id, kind)
    if fmt == "json":
        click.echo(json.dumps(task.raw, ensure_ascii=False, indent=2))
    else:
        _print_task(task)
    if task.status == "FAILED":
        sys.exit(1)


def _find_task(client: Client, task_id: str, kind: str | None) -> Task:
    """The task, looked up as the kind given, or as a courses task then a skills task."""
    if kind is not None:
        return client.tasks.get(task_id, "skills" if kind == "skills" else "courses")
    try:
        return client.tasks.get(task_id, "courses")
    except NotFoundError:
        return client.tasks.get(task_id, "skills")


def _print_task(task: Task) -> None:
    click.echo(f"task       {task.task_id}")
    click.echo(f"status     {task.status}")
    click.echo(f"created    {task.raw.get('created_at')}")
    click.echo(f"completed  {task.raw.get('completed_at') or ''}")
    if task.progress:
        p = task.progress
        click.echo(f"progress   {p.percent}% ({p.succeeded} succeeded, {p.failed} failed of {p.total})")
    if isinstance(task, TaskFailed):
        click.echo(f"error      {task.error.code}: {task.error.message} ({task.error.log_url})")
    rows = [(item.origin_id, item.error.code or "", item.error.message) for item in task.failed_items]
    if rows:
        origin_width = max(len(r[0]) for r in rows)
        code_width = max(len(r[1]) for r in rows)
        for origin_id, code, message in rows:
            line = f"failed     {origin_id.ljust(origin_width)}  {code.ljust(code_width)}  {message}"
            click.echo(line.rstrip())


@click.command("sync")
@click.argument("integration_id", envvar="LMSBRIDGE_INTEGRATION_ID", required=True)
@_server_options
@click.option(
    "--type",
    "type_",
    type=click.Choice(["FULL", "DELTA"]),
    default="FULL",
    show_default=True,
    help="Sync type.",
)
@click.option("--wait", is_flag=True, help="Wait for the sync to end; exit 1 unless it SUCCEEDED.")
@click.option(
    "--timeout", type=float, default=3600.0, show_default=True, help="With --wait: seconds to wait."
)
def sync(integration_id: str, url: str, api_key: str, type_: str, wait: bool, timeout: float) -> None:
    """Queue a sync of INTEGRATION_ID [env LMSBRIDGE_INTEGRATION_ID] now (or join the one already
    queued or running)."""
    with _client(url, api_key, integration_id) as client:
        requested = client.syncs.trigger(type_)
        how = "already queued" if requested.already_queued else "queued"
        click.echo(f"sync {requested.sync_id} ({requested.type}) {how}", err=True)
        if not wait:
            click.echo(requested.sync_id)
            return
        run = client.syncs.wait(requested.sync_id, timeout=timeout)
    click.echo(f"sync {run.sync_id} {run.state}")
    models = sorted(run.counts.items())
    width = max((len(model) for model, _ in models), default=0)
    for model, c in models:
        counts = " ".join(f"{k}={v}" for k, v in c.items()) if isinstance(c, dict) else str(c)
        click.echo(f"  {model.ljust(width)}  {counts}")
    if run.error:
        click.echo(f"error: {run.error}", err=True)
    if run.state != "SUCCEEDED":
        sys.exit(1)


def register(cli: click.Group) -> None:
    """Add the remote commands to the `lmsbridge` group."""
    for command in (users, courses, progressions, skills, tasks, sync):
        cli.add_command(command)
