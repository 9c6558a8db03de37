"""Reads that skip SQLAlchemy's execution machinery, for the one read every poll makes: a Core
SELECT compiled once per dialect and run on a pooled connection's driver cursor, its rows
converted by the columns' own types. The machinery (a Connection, a transaction, an execution
context) costs several times the query itself: about 100 µs against 10 µs on SQLite.

The statement runs outside an explicit transaction: ONE statement sees a consistent snapshot on
its own, on SQLite and PostgreSQL alike, and no BEGIN or COMMIT travels to the server."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Select


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    order: tuple[str, ...]  # the bind names in the statement's order, when positional
    fixed: dict[str, Any]  # values given when the statement was built (a literal status...)
    bind_processors: dict[str, Callable[[Any], Any]]
    result_processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # of the first row
    later_processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # of the other rows

    def parameters(self, given: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = {**self.fixed, **given}
        for name, process in self.bind_processors.items():
            values[name] = process(values[name])
        return tuple(values[name] for name in self.order) if self.positional else values

    def convert(self, rows: list[Any]) -> list[tuple[Any, ...]]:
        converted = []
        processors = self.result_processors
        for row in rows:
            if processors:
                values = list(row)
                for index, process in processors:
                    values[index] = process(values[index])
                converted.append(tuple(values))
            else:
                converted.append(tuple(row))
            processors = self.later_processors
        return converted


class DriverRead:
    """A SELECT to run with `Store.driver_read`; its rows are plain tuples in the order of its
    selected columns, each value as the column's type gives it (UTC datetimes, JSON...).

    `repeated`: the first columns of a parent row that a join repeats on every row; they are
    converted on the first row only, and the other rows keep the driver's values there."""

    def __init__(self, statement: Select[Any], *, repeated: int = 0) -> None:
        self.statement = statement
        self.repeated = repeated
        self._compiled: dict[str, _Compiled] = {}

    def compiled_for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        binds = compiled.binds
        if any(bind.expanding for bind in binds.values()):
            raise ValueError("a driver read takes no expanding (IN) parameters")
        bind_processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                bind_processors[name] = process
        result_processors = []
        for index, column in enumerate(self.statement.selected_columns):
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if process is not None:
                result_processors.append((index, process))
        return _Compiled(
            sql=str(compiled),
            positional=compiled.positional,
            order=tuple(compiled.positiontup or ()),
            fixed={name: bind.effective_value for name, bind in binds.items() if bind.value is not None},
            bind_processors=bind_processors,
            result_processors=tuple(result_processors),
            later_processors=tuple((i, p) for i, p in result_processors if i >= self.repeated),
        )
