"""Content-addressed media bytes inside the project file.

A medium is stored once per distinct content (sha256), split into chunks so
that no single SQLite value approaches the blob size limit (1 GB by default)
and a large video never has to sit in memory whole.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Iterator

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from codi_studio.store.schema import BlobChunkRow, BlobRow

CHUNK_SIZE = 1 << 20  # 1 MiB: small enough to stream, large enough to keep row counts low


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_SIZE), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def has_blob(session: Session, content_hash: str) -> bool:
    return session.get(BlobRow, content_hash) is not None


def put_stream(session: Session, content_hash: str, size: int, stream: BinaryIO) -> bool:
    """Store the bytes of `stream` under `content_hash` unless already stored; True if new.

    The caller computed the hash; we hash again while copying and refuse a
    mismatch (the file changed between the two reads).
    """
    if has_blob(session, content_hash):
        return False
    session.add(BlobRow(hash=content_hash, size=size, chunk_size=CHUNK_SIZE, created_at=utcnow()))
    session.flush()
    digest = hashlib.sha256()
    written = 0
    for idx, chunk in enumerate(iter(lambda: stream.read(CHUNK_SIZE), b"")):
        digest.update(chunk)
        written += len(chunk)
        session.execute(insert(BlobChunkRow), [{"blob_hash": content_hash, "idx": idx, "data": chunk}])
    if digest.hexdigest() != content_hash or written != size:
        raise ValueError("the file changed while it was being imported")
    return True


def put_bytes(session: Session, data: bytes) -> str:
    """Store `data` (deduplicated); returns its sha256."""
    content_hash = hashlib.sha256(data).hexdigest()
    if not has_blob(session, content_hash):
        session.add(BlobRow(hash=content_hash, size=len(data), chunk_size=CHUNK_SIZE, created_at=utcnow()))
        session.flush()
        rows = [
            {"blob_hash": content_hash, "idx": i, "data": data[off : off + CHUNK_SIZE]}
            for i, off in enumerate(range(0, len(data), CHUNK_SIZE))
        ]
        if rows:
            session.execute(insert(BlobChunkRow), rows)
    return content_hash


def iter_chunks(session: Session, content_hash: str) -> Iterator[bytes]:
    """The stored bytes in order, one chunk at a time."""
    ids = session.scalars(
        select(BlobChunkRow.idx).where(BlobChunkRow.blob_hash == content_hash).order_by(BlobChunkRow.idx)
    ).all()
    for expected, idx in enumerate(ids):
        if idx != expected:
            raise ValueError(f"blob {content_hash[:12]} is missing chunk {expected}")
        yield session.scalars(
            select(BlobChunkRow.data).where(BlobChunkRow.blob_hash == content_hash, BlobChunkRow.idx == idx)
        ).one()


def get_bytes(session: Session, content_hash: str, verify: bool = True) -> bytes:
    data = b"".join(iter_chunks(session, content_hash))
    if verify and hashlib.sha256(data).hexdigest() != content_hash:
        raise ValueError(f"blob {content_hash[:12]} does not match its hash")
    return data


def copy_to(session: Session, content_hash: str, out: BinaryIO) -> None:
    """Write the stored bytes to `out`, checking the hash on the way."""
    digest = hashlib.sha256()
    for chunk in iter_chunks(session, content_hash):
        digest.update(chunk)
        out.write(chunk)
    if digest.hexdigest() != content_hash:
        raise ValueError(f"blob {content_hash[:12]} does not match its hash")


def total_bytes(session: Session) -> tuple[int, int]:
    """(number of blobs, their total size)."""
    count, size = session.execute(select(func.count(), func.coalesce(func.sum(BlobRow.size), 0))).one()
    return int(count), int(size)
