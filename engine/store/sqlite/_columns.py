"""Records as table rows, laid out from the same field mapping as every stored document.

A column holds the codec's document value of its field, except datetimes, kept as integer
microseconds so range filters compare integers, and lists and dicts, kept as JSON text. A NULL
column reads as the field's default, so columns added later may stay empty in older rows.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from operator import attrgetter
from typing import Any, cast

from engine.store import codec
from engine.store.sqlite._time import from_micros, to_micros

type Convert = Callable[[Any], Any]


class Columns[T]:
    """How records of one type sit in one table: which column holds each field, and how."""

    def __init__(
        self,
        cls: type[T],
        *,
        renamed: Mapping[str, str] | None = None,
        left_out: Collection[str] = (),
    ) -> None:
        """``renamed`` maps fields to differently named columns; ``left_out`` fields are not
        in the row (the store reads and writes them itself) and take their default."""
        self._cls = cls
        renamed = renamed or {}
        fields = [f for f in codec.fields(cls) if f.name not in left_out]
        for f in codec.fields(cls):
            if f.name in left_out and f.required:
                raise TypeError(f"{cls.__name__}.{f.name} is left out but has no default")
        #: Column names in row order.
        self.names = tuple(renamed.get(f.name, f.name) for f in fields)
        self._writers = tuple(_writer(f) for f in fields)
        values = attrgetter(*(f.name for f in fields))
        self._values: Callable[[T], tuple[Any, ...]] = (
            values if len(fields) > 1 else lambda record: (values(record),)
        )
        self._readers = tuple((f.name, _reader(f), f.required) for f in fields)
        self._converters = tuple(read for _, read, _ in self._readers)
        # Rows whose columns are the record's first fields in order, without NULLs, are passed
        # positionally: the common case, and the fastest.
        all_fields = [f.name for f in dataclasses.fields(cast(Any, cls))]
        self._positional = all_fields[: len(fields)] == [f.name for f in fields]

    def listed(self, alias: str = "") -> str:
        """The column names for a SELECT or INSERT, each prefixed by ``alias.`` if given."""
        prefix = f"{alias}." if alias else ""
        return ", ".join(prefix + name for name in self.names)

    @property
    def slots(self) -> str:
        """One ``?`` per column, for an INSERT."""
        return ", ".join("?" * len(self.names))

    def row(self, record: T) -> tuple[object, ...]:
        return tuple(
            [
                value if write is None or value is None else write(value)
                for write, value in zip(self._writers, self._values(record), strict=True)
            ]
        )

    def record(self, row: Sequence[Any]) -> T:
        """The record in ``row``, whose first columns are ``names`` in order."""
        if self._positional and None not in row:
            converted = zip(self._converters, row, strict=False)
            return self._cls(*[v if read is None else read(v) for read, v in converted])
        values: dict[str, Any] = {}
        for (name, read, required), value in zip(self._readers, row, strict=False):
            if value is None:
                if required:
                    values[name] = None
            else:
                values[name] = value if read is None else read(value)
        return self._cls(**values)


def _writer(field: codec.FieldCodec) -> Convert | None:
    if field.is_time:
        return to_micros
    if field.is_structured:
        to_doc = field.to_doc or _same
        # Most tuples are empty: their text is known without encoding.
        return lambda value: "[]" if value == () else json.dumps(to_doc(value))
    return field.to_doc


def _reader(field: codec.FieldCodec) -> Convert | None:
    if field.is_time:
        return from_micros
    if field.is_structured:
        from_doc = field.from_doc or _same
        return lambda text: from_doc([] if text == "[]" else json.loads(text))
    return field.from_doc


def _same(value: Any) -> Any:
    return value
