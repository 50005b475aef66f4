"""What the fuzz test needs besides its server (tests/kit/servers.py `ServerThread`, so
hypothesis can drive it from a plain synchronous test): every RPC of the six services found
from the descriptors, request strategies built from the message types, and a snapshot of
every database table."""

from __future__ import annotations

import contextlib
import hashlib
import math
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

from proto.hivemind.v1 import (
    account_pb2,
    admin_pb2,
    artifact_pb2,
    auth_pb2,
    job_pb2,
    node_pb2,
)

# Admin last: its BanNode may ban the world's nodes, which would end the node RPCs' coverage.
SERVICE_MODULES = (auth_pb2, account_pb2, node_pb2, job_pb2, artifact_pb2, admin_pb2)
INT32 = (-(2**31), -1, 0, 1, 2, 5, 1000, 2**31 - 1)
INT64 = (-(2**63), -(2**31), -1, 0, 1, 10**6, 10**15, 2**53, 2**63 - 1)
BOUNDARY_STRINGS = ("", " ", "\x00", "ñ😀", "../../etc/passwd", "x" * 5000, "A" * 64, "0" * 64)


@dataclass(frozen=True)
class Rpc:
    service: str
    name: str
    request_class: type[Message]
    response_class: type[Message]
    client_streaming: bool
    server_streaming: bool

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"

    def __str__(self) -> str:
        return f"{self.service.rsplit('.', 1)[-1]}.{self.name}"


def every_rpc() -> list[Rpc]:
    found = []
    for module in SERVICE_MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            method: MethodDescriptor
            for method in service.methods:
                found.append(
                    Rpc(
                        service.full_name,
                        method.name,
                        GetMessageClass(method.input_type),
                        GetMessageClass(method.output_type),
                        method.client_streaming,
                        method.server_streaming,
                    )
                )
    return found


# Requests -----------------------------------------------------------------------------------


def _scalar(field_descriptor: FieldDescriptor, known: list[str]) -> st.SearchStrategy[Any]:
    kind = field_descriptor.type
    if kind == FieldDescriptor.TYPE_STRING:
        return st.one_of(
            st.sampled_from(known),
            st.sampled_from(BOUNDARY_STRINGS),
            st.text(max_size=40),
            st.sampled_from(known).map(str.upper),
        )
    if kind == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=200)
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.one_of(
            st.sampled_from((0.0, -0.0, -1.0, 0.1, 1.0, 10.0, 1e308, math.nan, math.inf)),
            st.floats(allow_nan=True, allow_infinity=True),
        )
    if kind == FieldDescriptor.TYPE_ENUM:
        return st.integers(-2, 8)  # proto3 enums are open: unknown values arrive as ints
    if kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64):
        return st.one_of(st.sampled_from(INT64), st.integers(-(2**63), 2**63 - 1))
    if kind in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32):
        return st.one_of(st.sampled_from(INT32), st.integers(-(2**31), 2**31 - 1))
    raise AssertionError(f"no strategy for field type {kind} ({field_descriptor.full_name})")


def _value(field_descriptor: FieldDescriptor, known: list[str], depth: int) -> st.SearchStrategy:
    if field_descriptor.type == FieldDescriptor.TYPE_MESSAGE:
        return messages(GetMessageClass(field_descriptor.message_type), known, depth + 1)
    return _scalar(field_descriptor, known)


def _field(field_descriptor: FieldDescriptor, known: list[str], depth: int) -> st.SearchStrategy:
    one = _value(field_descriptor, known, depth)
    if not field_descriptor.is_repeated:
        return one
    few = st.lists(one, max_size=3)
    if field_descriptor.type == FieldDescriptor.TYPE_MESSAGE:
        return few
    # Occasionally more items than any field allows, each small (the whole stays < 4 MB).
    many = st.sampled_from([*known, "a"]).map(lambda item: [item] * 1001)
    return st.one_of(few, few, few, many)


@st.composite
def _message(draw: Callable, cls: type[Message], known: list[str], depth: int) -> Message:
    descriptor = cls.DESCRIPTOR
    values: dict[str, Any] = {}
    for oneof in descriptor.oneofs:  # at most one member of each oneof
        member = draw(st.sampled_from([None, *oneof.fields]))
        if member is not None:
            values[member.name] = draw(_field(member, known, depth))
    for field_descriptor in descriptor.fields:
        if field_descriptor.containing_oneof is not None:
            continue
        if depth > 3 and field_descriptor.type == FieldDescriptor.TYPE_MESSAGE:
            continue
        if draw(st.integers(0, 3)):  # usually set, sometimes left at its default
            values[field_descriptor.name] = draw(_field(field_descriptor, known, depth))
    return cls(**values)


def messages(cls: type[Message], known: list[str], depth: int = 0) -> st.SearchStrategy[Message]:
    return _message(cls, known, depth)


@st.composite
def mutations(draw: Callable, template: Message, known: list[str], depth: int = 0) -> Message:
    """A valid request with one or two of its fields (perhaps nested) replaced by fuzzed
    values, so the checks behind the first one are reached too."""
    message = type(template)()
    message.CopyFrom(template)
    fields = list(message.DESCRIPTOR.fields)
    for _ in range(draw(st.integers(1, 2))):
        chosen = draw(st.sampled_from(fields))
        nested = chosen.type == FieldDescriptor.TYPE_MESSAGE and not chosen.is_repeated
        if nested and depth < 2 and draw(st.booleans()):
            inner = draw(mutations(getattr(message, chosen.name), known, depth + 1))
            getattr(message, chosen.name).CopyFrom(inner)
            continue
        value = draw(_field(chosen, known, depth))
        message.ClearField(chosen.name)
        if chosen.is_repeated:
            getattr(message, chosen.name).extend(value)
        elif nested:
            getattr(message, chosen.name).CopyFrom(value)
        else:
            setattr(message, chosen.name, value)
    return message


def requests(
    cls: type[Message], template: Message | None, known: list[str]
) -> st.SearchStrategy[Message]:
    """Mostly mutations of a valid request; sometimes a request made from nothing."""
    if template is None:
        return messages(cls, known)
    return st.one_of(messages(cls, known), mutations(template, known), mutations(template, known))


@st.composite
def _consistent_upload(draw: Callable, known: list[str]) -> list[Message]:
    """A header that matches its data, with perhaps one lie in it (kind, size or digest)."""
    data = draw(st.binary(max_size=300))
    header = artifact_pb2.UploadHeader(
        kind=draw(st.integers(-1, 5)),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        name=draw(st.one_of(st.text(max_size=20), st.sampled_from(BOUNDARY_STRINGS))),
    )
    lie = draw(st.sampled_from([None, "size", "sha256"]))
    if lie == "size":
        header.size = draw(st.sampled_from(INT64))
    elif lie == "sha256":
        header.sha256 = draw(
            _scalar(artifact_pb2.UploadHeader.DESCRIPTOR.fields_by_name[lie], known)
        )
    cut = draw(st.integers(0, len(data)))
    parts = [data[:cut], data[cut:]] if data else []
    return [
        artifact_pb2.UploadChunk(header=header),
        *(artifact_pb2.UploadChunk(data=part) for part in parts),
    ]


def upload_streams(known: list[str]) -> st.SearchStrategy[list[Message]]:
    """Upload chunk sequences: mostly a header and its data; sometimes no header, or two."""
    header = messages(artifact_pb2.UploadHeader, known).map(
        lambda h: artifact_pb2.UploadChunk(header=h)
    )
    data = st.binary(max_size=300).map(lambda b: artifact_pb2.UploadChunk(data=b))
    return st.one_of(
        _consistent_upload(known),
        _consistent_upload(known),
        st.lists(st.one_of(header, data), max_size=4),
    )


# Boundary sweep -----------------------------------------------------------------------------

SWEEP_STRINGS = ("", " ", "\x00", "ñ😀", "x" * 5000, "../x", "A" * 64)
SWEEP_VALUES: dict[int, tuple[Any, ...]] = {
    FieldDescriptor.TYPE_INT32: (-(2**31), -1, 0, 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), -1, 0, 2**63 - 1),
    FieldDescriptor.TYPE_DOUBLE: (math.nan, math.inf, -math.inf, -1.0, 0.0, 1e308),
    FieldDescriptor.TYPE_ENUM: (-1, 0, 99),
    FieldDescriptor.TYPE_BOOL: (True, False),
    FieldDescriptor.TYPE_BYTES: (b"", b"\xff" * 300),
}


def _sweep_values(field_descriptor: FieldDescriptor, other: str) -> tuple[Any, ...]:
    if field_descriptor.type == FieldDescriptor.TYPE_STRING:
        return (*SWEEP_STRINGS, other)
    return SWEEP_VALUES.get(field_descriptor.type, ())


def boundary_variants(template: Message, other: str) -> Iterator[tuple[str, Message]]:
    """The template with one field at a time set to each boundary value of its type, nested
    fields included (and the first item of repeated messages); repeated fields also empty
    and over-full. `other` is a real id that belongs to someone else."""

    def variants(message: Message, path: str) -> Iterator[tuple[str, Callable[[Message], None]]]:
        for fd in message.DESCRIPTOR.fields:
            name = f"{path}{fd.name}"
            if fd.type == FieldDescriptor.TYPE_MESSAGE:
                if fd.is_repeated:
                    items = getattr(message, fd.name)
                    yield f"{name}=[]", lambda m, n=fd.name: m.ClearField(n)
                    if len(items):
                        yield f"{name}=1001 items", _over_full(fd.name, items[0])
                        inner = items[0]
                        for label, change in variants(inner, f"{name}[0]."):
                            yield label, _in_first(fd.name, change)
                else:
                    for label, change in variants(getattr(message, fd.name), f"{name}."):
                        yield label, _in_field(fd.name, change)
                continue
            if fd.is_repeated:
                yield f"{name}=[]", lambda m, n=fd.name: m.ClearField(n)
                sample = other if fd.type == FieldDescriptor.TYPE_STRING else 0
                yield f"{name}=1001 items", lambda m, n=fd.name, v=sample: _set_list(m, n, v)
                continue
            for value in _sweep_values(fd, other):
                yield f"{name}={value!r:.30}", lambda m, n=fd.name, v=value: setattr(m, n, v)

    for label, change in variants(template, ""):
        message = type(template)()
        message.CopyFrom(template)
        change(message)
        yield label, message


def _set_list(message: Message, name: str, value: Any) -> None:
    message.ClearField(name)
    getattr(message, name).extend([value] * 1001)


def _over_full(name: str, item: Message) -> Callable[[Message], None]:
    def change(message: Message) -> None:
        message.ClearField(name)
        getattr(message, name).extend([item] * 1001)

    return change


def _in_field(name: str, change: Callable[[Message], None]) -> Callable[[Message], None]:
    return lambda message: change(getattr(message, name))


def _in_first(name: str, change: Callable[[Message], None]) -> Callable[[Message], None]:
    return lambda message: change(getattr(message, name)[0])


# Database snapshots -------------------------------------------------------------------------


@dataclass
class Snapshot:
    tables: dict[str, list[tuple]] = field(default_factory=dict)

    def differences(self, other: Snapshot, ignore: Iterable[str] = ()) -> list[str]:
        """Tables whose rows differ, as `table: N rows only before, M only after`."""
        found = []
        for name in sorted(set(self.tables) | set(other.tables)):
            if name in ignore:
                continue
            before, after = set(self.tables.get(name, [])), set(other.tables.get(name, []))
            if before != after:
                found.append(
                    f"{name}: {sorted(before - after)[:3]} became {sorted(after - before)[:3]}"
                )
        return found


def snapshot(db_file: Path, without: dict[str, set[str]] | None = None) -> Snapshot:
    """Every row of every table; `without` leaves out named columns of named tables (state
    that a refused call changes by design, such as a failed login's counter)."""
    without = without or {}
    result = Snapshot()
    with contextlib.closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        for name in names:
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')]
            kept = [c for c in columns if c not in without.get(name, set())]
            select = ", ".join(f'"{c}"' for c in kept)
            rows = conn.execute(f'SELECT {select} FROM "{name}"').fetchall()
            result.tables[name] = [tuple(repr(v) for v in row) for row in rows]
    return result
