from proto.hivemind.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UploadHeader(_message.Message):
    __slots__ = ("kind", "size", "sha256", "name")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    kind: _common_pb2.ArtifactKind
    size: int
    sha256: str
    name: str
    def __init__(self, kind: _Optional[_Union[_common_pb2.ArtifactKind, str]] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class UploadChunk(_message.Message):
    __slots__ = ("header", "data")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    header: UploadHeader
    data: bytes
    def __init__(self, header: _Optional[_Union[UploadHeader, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class ArtifactInfo(_message.Message):
    __slots__ = ("digest", "size", "kind", "exists", "name")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EXISTS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    kind: _common_pb2.ArtifactKind
    exists: bool
    name: str
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ..., kind: _Optional[_Union[_common_pb2.ArtifactKind, str]] = ..., exists: _Optional[bool] = ..., name: _Optional[str] = ...) -> None: ...

class DownloadRequest(_message.Message):
    __slots__ = ("digest", "offset")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    digest: str
    offset: int
    def __init__(self, digest: _Optional[str] = ..., offset: _Optional[int] = ...) -> None: ...

class DownloadChunk(_message.Message):
    __slots__ = ("data", "offset", "total_size")
    DATA_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    offset: int
    total_size: int
    def __init__(self, data: _Optional[bytes] = ..., offset: _Optional[int] = ..., total_size: _Optional[int] = ...) -> None: ...

class StatRequest(_message.Message):
    __slots__ = ("digest",)
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    digest: str
    def __init__(self, digest: _Optional[str] = ...) -> None: ...

class GetTorrentRequest(_message.Message):
    __slots__ = ("digest",)
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    digest: str
    def __init__(self, digest: _Optional[str] = ...) -> None: ...

class Peer(_message.Message):
    __slots__ = ("endpoint", "node_id")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    endpoint: str
    node_id: str
    def __init__(self, endpoint: _Optional[str] = ..., node_id: _Optional[str] = ...) -> None: ...

class TorrentInfo(_message.Message):
    __slots__ = ("digest", "torrent", "info_hash", "peers")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    TORRENT_FIELD_NUMBER: _ClassVar[int]
    INFO_HASH_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    digest: str
    torrent: bytes
    info_hash: str
    peers: _containers.RepeatedCompositeFieldContainer[Peer]
    def __init__(self, digest: _Optional[str] = ..., torrent: _Optional[bytes] = ..., info_hash: _Optional[str] = ..., peers: _Optional[_Iterable[_Union[Peer, _Mapping]]] = ...) -> None: ...

class OfferResultRequest(_message.Message):
    __slots__ = ("digest", "size", "torrent", "name")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    TORRENT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    torrent: bytes
    name: str
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ..., torrent: _Optional[bytes] = ..., name: _Optional[str] = ...) -> None: ...

class OfferResultStep(_message.Message):
    __slots__ = ("connect_to", "stored")
    CONNECT_TO_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    connect_to: str
    stored: ArtifactInfo
    def __init__(self, connect_to: _Optional[str] = ..., stored: _Optional[_Union[ArtifactInfo, _Mapping]] = ...) -> None: ...
