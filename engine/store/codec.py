"""Records to and from JSON-able documents, by one mapping read off each record's fields.

A record (any dataclass) is stored as a dict keyed by its field names: datetimes become ISO
8601 strings in UTC with a fixed microsecond precision, so they sort as text in the same order
as in time; tuples become lists; enums become their values; nested dataclasses become dicts;
``Scope`` becomes its text. Reading back coerces each value to its field's type, and a field
missing from an older document takes the field's default.

MongoDB keeps every record in this shape, its ``id`` as ``_id`` (``engine.store.mongo.
_documents``). SQLite lays the same fields out as table columns (``engine.store.sqlite.
_columns``): a column holds its field's document value, except times, kept as integer
microseconds for its range filters, and lists and nested records, kept as JSON text; agents
are kept whole, as one JSON document per row.

A record whose document differs from its fields says so once, in ``SHAPES`` below.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import (
    Any,
    Literal,
    TypeAliasType,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from engine.audience import Scope
from engine.records import JSON

type Convert = Callable[[Any], Any]


def encode_datetime(value: datetime) -> str:
    """A sortable UTC timestamp; naive datetimes are taken to be UTC already."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def decode_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Shape:
    """How a record's document departs from its fields."""

    #: Field name -> the key it is stored under.
    keys: Mapping[str, str] = field(default_factory=dict)
    #: Fields not in the document (kept elsewhere, such as a separately stored embedding);
    #: each needs a default, which it takes when read back.
    left_out: frozenset[str] = frozenset()


#: Records whose document is not simply their fields, by type. Add a type here before its
#: first use; every other dataclass is stored field for field.
SHAPES: dict[type, Shape] = {}

#: Value types stored as text: type -> (to text, from text).
_AS_TEXT: dict[type, tuple[Convert, Convert]] = {
    datetime: (encode_datetime, decode_datetime),
    Scope: (str, Scope.parse),
}


def encode(record: object) -> JSON:
    """``record`` (a dataclass) as a JSON-able document."""
    doc: JSON = {}
    for name, key, to_doc in _plan(type(record)).encoders:
        value = getattr(record, name)
        doc[key] = value if to_doc is None or value is None else to_doc(value)
    return doc


def decode[T](cls: type[T], doc: Mapping[str, Any]) -> T:
    """The ``cls`` record stored as ``doc``; missing fields take their defaults.

    A KeyError names a field the document lacks and the record cannot do without.
    """
    plan = _plan(cls)
    values: dict[str, Any] = {}
    for name, key, from_doc, required in plan.decoders:
        try:
            value = doc[key]
        except KeyError:
            if required:
                raise KeyError(f"{cls.__name__} document lacks {key!r}") from None
            continue
        values[name] = value if from_doc is None or value is None else from_doc(value)
    return cls(**values)


# ---------------------------------------------------------------------------------------------
# Plans: the per-type work done once, so encoding and decoding only walk a list.


@dataclass(frozen=True, slots=True)
class FieldCodec:
    """How one field of a record is stored, for stores that lay records out themselves."""

    name: str
    #: The document key (the field name unless its ``Shape`` renames it).
    key: str
    #: Field value (not None) -> document value; None when stored as it is.
    to_doc: Convert | None
    #: Document value (not None) -> field value; None when read as it is.
    from_doc: Convert | None
    #: Whether a document must have it (the field has no default).
    required: bool
    #: The field holds a datetime (stored as text here, as a number by SQLite).
    is_time: bool
    #: The document value is a list or a dict (tuples, mappings, nested records).
    is_structured: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    fields: tuple[FieldCodec, ...]
    #: (field, key, to_doc): what ``encode`` walks.
    encoders: tuple[tuple[str, str, Convert | None], ...]
    #: (field, key, from_doc, required): what ``decode`` walks.
    decoders: tuple[tuple[str, str, Convert | None, bool], ...]


_plans: dict[type, _Plan] = {}


def fields(cls: type) -> tuple[FieldCodec, ...]:
    """The stored fields of ``cls``, in declaration order (left-out fields excluded)."""
    return _plan(cls).fields


def _plan(cls: type) -> _Plan:
    plan = _plans.get(cls)
    if plan is None:
        plan = _plans[cls] = _make_plan(cls)
    return plan


def _make_plan(cls: type) -> _Plan:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a record (a dataclass) the codec can store")
    shape = SHAPES.get(cls, Shape())
    hints = get_type_hints(cls)
    stored: list[FieldCodec] = []
    for f in dataclasses.fields(cls):
        has_default = (
            f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        )
        if f.name in shape.left_out:
            if not has_default:
                raise TypeError(f"{cls.__name__}.{f.name} is left out but has no default")
            continue
        hint = _present(hints[f.name])
        to_doc, from_doc = _converters(hint)
        stored.append(
            FieldCodec(
                name=f.name,
                key=shape.keys.get(f.name, f.name),
                to_doc=to_doc,
                from_doc=from_doc,
                required=not has_default,
                is_time=hint is datetime,
                is_structured=_is_structured(hint),
            )
        )
    return _Plan(
        tuple(stored),
        tuple((f.name, f.key, f.to_doc) for f in stored),
        tuple((f.name, f.key, f.from_doc, f.required) for f in stored),
    )


def _present(hint: Any) -> Any:
    """``hint`` without aliases and without ``| None``."""
    if isinstance(hint, TypeAliasType):
        return _present(hint.__value__)
    if get_origin(hint) in (Union, types.UnionType):
        present = [a for a in get_args(hint) if a is not type(None)]
        if len(present) != 1:
            raise TypeError(f"the codec stores X | None, not {hint}")
        return _present(present[0])
    return hint


def _is_structured(hint: Any) -> bool:
    origin = get_origin(hint) or hint
    if not isinstance(origin, type) or origin in _AS_TEXT:
        return False
    return issubclass(origin, (tuple, list, Mapping)) or dataclasses.is_dataclass(origin)


def _converters(hint: Any) -> tuple[Convert | None, Convert | None]:
    """(to document, from document) for values of type ``hint``; None means as it is.

    Both are called only on values that are not None.
    """
    hint = _present(hint)
    origin = get_origin(hint)
    args = get_args(hint)
    if origin is Literal:
        return None, None
    if origin is tuple:
        if len(set(a for a in args if a is not Ellipsis)) > 1:
            raise TypeError(f"the codec stores tuples of one type, not {hint}")
        return _sequence(args[0] if args else Any)
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return _mapping(args[1] if len(args) == 2 else Any)
    if hint is Any or hint is object:
        return None, None
    if not isinstance(hint, type):
        raise TypeError(f"the codec cannot store values of type {hint}")
    return _scalar(hint)


def _scalar(cls: type) -> tuple[Convert | None, Convert | None]:
    as_text = _AS_TEXT.get(cls)
    if as_text is not None:
        return as_text
    if issubclass(cls, Enum):
        members = {member.value: member for member in cls}
        return _enum_value, lambda value: members[value] if value in members else cls(value)
    if dataclasses.is_dataclass(cls):
        return encode, lambda doc: decode(cls, doc)
    if cls is bool:
        return None, bool
    if cls is int:
        return None, int
    if cls is float:
        return float, float
    if cls is str:
        return None, str
    if issubclass(cls, (list, dict)):
        return None, None
    raise TypeError(f"the codec cannot store values of type {cls.__name__}")


def _enum_value(member: Enum) -> Any:
    return member.value


def _sequence(item: Any) -> tuple[Convert, Convert]:
    to_doc, from_doc = _converters(item)
    if to_doc is None:
        encoded: Convert = list
    else:
        encoded = lambda values: [to_doc(v) for v in values]  # noqa: E731
    if from_doc is None:
        decoded: Convert = tuple
    else:
        decoded = lambda values: tuple(from_doc(v) for v in values)  # noqa: E731
    return encoded, decoded


def _mapping(value_type: Any) -> tuple[Convert, Convert]:
    to_doc, from_doc = _converters(value_type)

    def encoded(values: Mapping[Any, Any]) -> dict[str, Any]:
        return {str(k): v if to_doc is None else to_doc(v) for k, v in values.items()}

    def decoded(values: Mapping[Any, Any]) -> dict[str, Any]:
        return {str(k): v if from_doc is None else from_doc(v) for k, v in values.items()}

    return encoded, decoded
