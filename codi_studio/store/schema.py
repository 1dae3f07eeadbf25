"""The ORM mapping of a project file (schema version `migrations.SCHEMA_VERSION`).

The tables themselves are created by `migrations.py` (frozen DDL per version);
tests check that the migrated file and these classes agree column by column.
Times are naive UTC.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class ProjectRow(Base):
    __tablename__ = "project"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    fps: Mapped[float] = mapped_column(Float, default=24.0)


class BlobRow(Base):
    """A medium's bytes, addressed by their sha256; the bytes live in `blob_chunks`."""

    __tablename__ = "blobs"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    chunk_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class BlobChunkRow(Base):
    __tablename__ = "blob_chunks"

    blob_hash: Mapped[str] = mapped_column(ForeignKey("blobs.hash", ondelete="CASCADE"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class AssetRow(Base):
    """A thing in the media bin; its content lives in immutable versions."""

    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    modality: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    versions: Mapped[list["VersionRow"]] = relationship(back_populates="asset", order_by="VersionRow.number")


class GenerationRow(Base):
    """One run of the model: the recipe; its outputs are versions pointing here."""

    __tablename__ = "generations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[str] = mapped_column(Text)
    model_hash: Mapped[str] = mapped_column(Text)
    sampler: Mapped[str] = mapped_column(Text)
    steps: Mapped[int] = mapped_column(Integer)
    guidance: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    outputs: Mapped[str] = mapped_column(Text)  # JSON list of modalities
    n_samples: Mapped[int] = mapped_column(Integer, default=1)
    joint_mode: Mapped[str | None] = mapped_column(Text, nullable=True)
    prompt: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[str] = mapped_column(Text, default="{}")  # JSON object
    created_at: Mapped[datetime] = mapped_column(DateTime)

    inputs: Mapped[list["GenerationInputRow"]] = relationship(order_by="GenerationInputRow.position")


class VersionRow(Base):
    """One immutable state of an asset: an import or one output of a generation."""

    __tablename__ = "versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    number: Mapped[int] = mapped_column(Integer)
    modality: Mapped[str] = mapped_column(Text)
    blob_hash: Mapped[str] = mapped_column(ForeignKey("blobs.hash"))
    format: Mapped[str] = mapped_column(Text)
    source_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fps: Mapped[float | None] = mapped_column(Float, nullable=True)
    frames: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    sample_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channels: Mapped[int | None] = mapped_column(Integer, nullable=True)
    has_audio: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    generation_id: Mapped[int | None] = mapped_column(ForeignKey("generations.id"), nullable=True)
    sample_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    asset: Mapped[AssetRow] = relationship(back_populates="versions")
    blob: Mapped[BlobRow] = relationship()
    generation: Mapped[GenerationRow | None] = relationship()


class GenerationInputRow(Base):
    __tablename__ = "generation_inputs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("generations.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    modality: Mapped[str] = mapped_column(Text)
    weight: Mapped[float] = mapped_column(Float)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)


class TrackRow(Base):
    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)


class ClipRow(Base):
    __tablename__ = "clips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), nullable=True)
    current_version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    start: Mapped[float] = mapped_column(Float)
    duration: Mapped[float] = mapped_column(Float)
    in_point: Mapped[float] = mapped_column(Float, default=0.0)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(Text)
    request: Mapped[str] = mapped_column(Text, default="{}")  # JSON object
    clip_ids: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    generation_id: Mapped[int | None] = mapped_column(ForeignKey("generations.id"), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class PreviewRow(Base):
    """Timeline previews (thumbnail PNGs, waveform peaks) cached per version and size."""

    __tablename__ = "previews"

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    size: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


def version_is_live():  # type: ignore[no-untyped-def]
    """SQL condition: neither the version nor its asset is (soft-)deleted."""
    from sqlalchemy import and_, exists
    from sqlalchemy.orm import aliased

    asset = aliased(AssetRow)  # the outer query may join assets itself
    deleted_asset = exists().where(asset.id == VersionRow.asset_id, asset.deleted_at.is_not(None)).correlate(VersionRow)
    return and_(VersionRow.deleted_at.is_(None), ~deleted_asset)
