"""`BaseConnector`: what every connector is built on. A connector declares its settings, its
streams (one per unified model), its bulk writers and the direct actions it implements; the base
owns the loops (`read`, `write`, the actions), derives the capabilities from the declarations,
refuses what is not declared with INTEGRATION.ACTION_NOT_AVAILABLE, and fails the remaining items
of a write as not attempted once the remote has become unavailable."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, nullcontext
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar, cast, final

from lmsbridge.connectors import capabilities
from lmsbridge.connectors.base import (
    WRITE_ACTION_LABELS,
    Capabilities,
    ConnectorContext,
    ConnectorSettings,
    CourseUpsert,
    Coverage,
    ItemOutcome,
    ModelCoverage,
    PassthroughRequest,
    PassthroughResponse,
    SkillUpsert,
    SkillWrite,
    WriteAction,
)
from lmsbridge.connectors.errors import ConnectorError, IntegrationError, ItemError
from lmsbridge.connectors.passthrough import unknown_api
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord, Record
from lmsbridge.connectors.streams import Stream
from lmsbridge.connectors.writers import BulkWriter, Item
from lmsbridge.errors import ErrorCode

S = TypeVar("S", bound=ConnectorSettings)

# Direct actions and the hook that implements each; a connector declares one by overriding it.
_ACTION_HOOKS = {
    WriteAction.ENROL: "perform_enrol",
    WriteAction.COMPLETE: "perform_complete",
    WriteAction.DEACTIVATE_COURSE: "perform_deactivate_course",
    WriteAction.CREATE_SKILL: "perform_create_skill",
    WriteAction.UPDATE_SKILL: "perform_update_skill",
    WriteAction.DELETE_SKILL: "perform_delete_skill",
}


class ActionNotDeclaredError(IntegrationError):
    code = ErrorCode.INTEGRATION_ACTION_NOT_AVAILABLE


class BaseConnector(Generic[S]):
    """The base of every connector.

    Declare (class attributes):
        tool, label: the tool's slug and name as Kombo spells them.
        settings_model: the pydantic model of the integration's settings.
        streams: the `Stream` classes, one per readable model.
        writers: the `BulkWriter` classes, one per bulk action.
        model_coverage / action_coverage: overrides of what is derived (a model the remote
            cannot give is UNSUPPORTED rather than NOT_IMPLEMENTED, per-field coverage, ...).
    and override `perform_enrol`, `perform_complete`, `perform_deactivate_course` and
    `perform_create_skill|update_skill|delete_skill` for the direct actions the remote allows;
    `passthrough_apis` and `passthrough` for requests to the remote's own API. `session`
    wraps every operation (open a client, check
    the credentials once). `capabilities` is derived when the class is defined.
    """

    tool: ClassVar[str]
    label: ClassVar[str]
    settings_model: ClassVar[type[ConnectorSettings]]
    streams: ClassVar[tuple[type[Stream[Any, Any]], ...]] = ()
    writers: ClassVar[tuple[type[BulkWriter[Any, Any]], ...]] = ()
    model_coverage: ClassVar[Mapping[str, ModelCoverage]] = {}
    action_coverage: ClassVar[Mapping[WriteAction, Coverage]] = {}
    capabilities: ClassVar[Capabilities]
    # Passthrough: the remote APIs a caller may reach, by name, with their base URLs.
    passthrough_apis: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "capabilities" in cls.__dict__:  # declared outright: taken as it is
            return
        cls.capabilities = capabilities.derive(
            cls.streams, cls.writers, cls._implemented_actions(), cls.model_coverage, cls.action_coverage
        )

    @classmethod
    def _implemented_actions(cls) -> list[WriteAction]:
        return [
            action
            for action, hook in _ACTION_HOOKS.items()
            if getattr(cls, hook) is not getattr(BaseConnector, hook)
        ]

    def __init__(self, context: ConnectorContext) -> None:
        self.context = context
        self.integration_id = context.integration_id
        self.settings = cast(S, self.settings_model.model_validate(context.settings))
        self.credentials = context.credentials

    # -- hooks ---------------------------------------------------------------------------------------
    def session(self, operation: WriteAction | None) -> AbstractContextManager[object]:
        """Entered around every read (`operation` None), write and action: open a client, check
        once that the credentials work and hold what the operation needs (default: nothing)."""
        return nullcontext()

    def perform_enrol(self, user_remote_id: str, revision_remote_id: str) -> ProgressionRecord:
        raise self._not_declared(WriteAction.ENROL)

    def perform_complete(
        self, progression_remote_id: str, completed_at: datetime, score: int | None
    ) -> ProgressionRecord:
        raise self._not_declared(WriteAction.COMPLETE)

    def perform_deactivate_course(self, course_remote_id: str) -> CourseRecord:
        raise self._not_declared(WriteAction.DEACTIVATE_COURSE)

    def perform_create_skill(self, skill: SkillWrite) -> Record:
        raise self._not_declared(WriteAction.CREATE_SKILL)

    def perform_update_skill(self, skill_remote_id: str, skill: SkillWrite) -> Record:
        raise self._not_declared(WriteAction.UPDATE_SKILL)

    def perform_delete_skill(self, skill_remote_id: str) -> None:
        raise self._not_declared(WriteAction.DELETE_SKILL)

    def passthrough(self, api: str, request: PassthroughRequest) -> PassthroughResponse:
        """A request to the remote system's own API `api` (one of `passthrough_apis`), sent with
        the integration's credentials. Default: no API is offered."""
        raise unknown_api(api, self.passthrough_apis, self.label)

    def preflight(self) -> list[str]:
        """Cheap remote calls that prove the credentials and permissions work; raises a
        `ConnectorError` naming what to fix, returns warnings. Default: open a read session."""
        with self.session(None):
            return []

    # -- reads ---------------------------------------------------------------------------------------
    @final
    def read(self, model: str, since: datetime | None) -> Iterator[Sequence[Record]]:
        """Pages of one model's records; with `since`, only those changed since then (delta) when
        the stream honours it. A model no stream reads yields nothing."""
        stream = next((s for s in self.streams if s.model == model), None)
        if stream is None:
            return
        with self.session(None):
            yield from stream(self).records(since)

    # -- bulk writes ---------------------------------------------------------------------------------
    @final
    def upsert_courses(self, items: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]:
        return self.write(WriteAction.UPSERT_COURSES, items)

    @final
    def upsert_skills(self, items: Sequence[SkillUpsert]) -> Iterator[ItemOutcome]:
        return self.write(WriteAction.UPSERT_SKILLS, items)

    @final
    def write(self, action: WriteAction, items: Sequence[Item]) -> Iterator[ItemOutcome]:
        """One outcome per item, as soon as each is known. Raises `IntegrationError` when
        nothing can run (credentials, an undeclared action, a remote down before the first write)."""
        writer_class = next((w for w in self.writers if w.action is action), None)
        if writer_class is None:
            raise self._not_declared(action)
        writer: BulkWriter[Any, Item] = writer_class(self)
        valid: list[Item] = []
        for item in items:
            problem = writer.invalid(item)
            if problem is None:
                valid.append(item)
            else:
                yield ItemOutcome(
                    item.origin_id, error=ItemError(problem, code=ErrorCode.REMOTE_INPUT_INVALID)
                )
        if not valid:
            return
        with ExitStack() as stack:
            try:  # before the first write, any failure means nothing ran: the task fails as a whole
                stack.enter_context(self.session(action))
                writer.prepare(valid)
            except IntegrationError:
                raise
            except ConnectorError as error:
                raise IntegrationError(error.message, code=ErrorCode(error.code)) from None
            yield from self._batches(writer, valid)

    def _batches(self, writer: BulkWriter[Any, Item], items: Sequence[Item]) -> Iterator[ItemOutcome]:
        size = max(1, writer.batch_size_for())
        unavailable: ConnectorError | None = None
        for start in range(0, len(items), size):
            batch = items[start : start + size]
            if unavailable is None:
                try:
                    yield from writer.write_batch(batch)
                    continue
                except IntegrationError:
                    raise
                except ItemError as error:
                    failure = error
                except ConnectorError as error:
                    unavailable = error
                    failure = ItemError(error.message, code=ErrorCode(error.code))
            else:
                failure = ItemError(
                    f"Not attempted: {self.label} was unavailable earlier in this task "
                    f"({unavailable.message})",
                    code=ErrorCode(unavailable.code),
                )
            for item in batch:
                yield ItemOutcome(item.origin_id, error=failure)

    # -- direct actions ------------------------------------------------------------------------------
    @final
    def enrol(self, user_remote_id: str, revision_remote_id: str) -> ProgressionRecord:
        self._require(WriteAction.ENROL)
        with self.session(WriteAction.ENROL):
            return self.perform_enrol(user_remote_id, revision_remote_id)

    @final
    def complete(
        self, progression_remote_id: str, completed_at: datetime, score: int | None
    ) -> ProgressionRecord:
        self._require(WriteAction.COMPLETE)
        with self.session(WriteAction.COMPLETE):
            return self.perform_complete(progression_remote_id, completed_at, score)

    @final
    def deactivate_course(self, course_remote_id: str) -> CourseRecord:
        self._require(WriteAction.DEACTIVATE_COURSE)
        with self.session(WriteAction.DEACTIVATE_COURSE):
            return self.perform_deactivate_course(course_remote_id)

    @final
    def create_skill(self, skill: SkillWrite) -> Record:
        self._require(WriteAction.CREATE_SKILL)
        with self.session(WriteAction.CREATE_SKILL):
            return self.perform_create_skill(skill)

    @final
    def update_skill(self, skill_remote_id: str, skill: SkillWrite) -> Record:
        self._require(WriteAction.UPDATE_SKILL)
        with self.session(WriteAction.UPDATE_SKILL):
            return self.perform_update_skill(skill_remote_id, skill)

    @final
    def delete_skill(self, skill_remote_id: str) -> None:
        self._require(WriteAction.DELETE_SKILL)
        with self.session(WriteAction.DELETE_SKILL):
            self.perform_delete_skill(skill_remote_id)

    # -- refusals ------------------------------------------------------------------------------------
    def _require(self, action: WriteAction) -> None:
        if not self.capabilities.can(action):
            raise self._not_declared(action)

    @classmethod
    def _not_declared(cls, action: WriteAction) -> ActionNotDeclaredError:
        return ActionNotDeclaredError(not_available_message(cls.label, action))


def not_available_message(label: str, action: WriteAction) -> str:
    """The one wording of an action a connector does not offer (API answers and task errors)."""
    return f'The "{WRITE_ACTION_LABELS[action]}" action is not available for {label} integrations.'
