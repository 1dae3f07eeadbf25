"""Bundles (export, import, hostile bundles) and the OpenTimelineIO export."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from pathlib import Path

import opentimelineio as otio
import pytest

from codi_studio.media import Text
from codi_studio.store import BundleError, NotAProjectError, Project, StoreError, import_bundle

from store_helpers import image_value, make_png, make_wav, recipe


def _filled_project(path: Path, media: Path) -> Project:
    project = Project.create(path, name="Round trip")
    picture = project.import_media(make_png(media / "p.png"))
    text_track = project.add_track("text")
    image_track = project.add_track("image")
    out_track = project.add_track("image", "output")
    project.place_clip(text_track.id, 0.0, 2.0, text="a red ball")
    project.place_clip(image_track.id, 1.0, 2.0, version_id=picture.id)
    shot = project.place_clip(out_track.id, 0.0, 2.0)
    project.record_generation(recipe(), {"image": image_value(1)}, clip_ids=[shot.id])
    return project


def _everything(project: Project) -> tuple:
    return (
        [(t.kind, t.role, [(c.start, c.duration, c.text, c.version_id) for c in t.clips]) for t in project.timeline()],
        [(v.id, v.content_hash, v.recipe) for v in project.history()],
        [project.read_bytes(v.id) for v in project.history()],
    )


def test_bundle_round_trip(tmp_path: Path) -> None:
    with _filled_project(tmp_path / "a.codi", tmp_path) as project:
        bundle = project.export_bundle(tmp_path / "a.zip")
        original = _everything(project)
    with zipfile.ZipFile(bundle) as archive:
        assert sorted(archive.namelist()) == ["manifest.json", "project.codi"]
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == "codi-studio-bundle" and manifest["counts"]["versions"] == 2
    (tmp_path / "copy").mkdir()
    dest = import_bundle(bundle, tmp_path / "copy" / "b.codi")
    with Project.open(dest) as copy:
        assert _everything(copy) == original
        assert copy.info().name == "Round trip" and copy.check_integrity() == []
    with pytest.raises(StoreError, match="already exists"):
        import_bundle(bundle, dest)


def _hostile_bundle(path: Path, good: Path, extra_name: str) -> Path:
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr(extra_name, b"pwned")
    return path


@pytest.mark.parametrize("evil", ["../evil.txt", "/tmp/evil-abs.txt", "sub/../../evil.txt", "..\\evil.txt"])
def test_zip_slip_bundle_is_refused_and_writes_nothing(tmp_path: Path, evil: str) -> None:
    with _filled_project(tmp_path / "a.codi", tmp_path) as project:
        good = project.export_bundle(tmp_path / "good.zip")
    bundle = _hostile_bundle(tmp_path / "evil.zip", good, evil)
    target_dir = tmp_path / "inbox" / "deep"
    target_dir.mkdir(parents=True)
    before = sorted(p for p in tmp_path.rglob("*"))
    with pytest.raises(BundleError, match="outside the target folder") as info:
        import_bundle(bundle, target_dir / "x.codi")
    assert str(bundle) in str(info.value)
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing written, inside or outside
    assert not Path("/tmp/evil-abs.txt").exists()


def test_bundles_that_are_not_projects_are_refused(tmp_path: Path) -> None:
    not_zip = tmp_path / "x.zip"
    not_zip.write_text("hello")
    with pytest.raises(BundleError, match="not a zip"):
        import_bundle(not_zip, tmp_path / "a.codi")
    no_manifest = tmp_path / "nomanifest.zip"
    with zipfile.ZipFile(no_manifest, "w") as archive:
        archive.writestr("project.codi", b"whatever")
    with pytest.raises(BundleError, match="no manifest"):
        import_bundle(no_manifest, tmp_path / "a.codi")
    # a well-formed manifest around an SQLite file that is not a project
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    data = other.read_bytes()
    fake = tmp_path / "fake.zip"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("manifest.json", json.dumps({
            "format": "codi-studio-bundle", "format_version": 1, "database": "project.codi",
            "database_sha256": hashlib.sha256(data).hexdigest(), "database_bytes": len(data)}))
        archive.writestr("project.codi", data)
    with pytest.raises(NotAProjectError, match="bundled database: not a CoDi Studio project"):
        import_bundle(fake, tmp_path / "a.codi")
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as archive:
        archive.writestr("manifest.json", json.dumps({
            "format": "codi-studio-bundle", "format_version": 1, "database": "project.codi",
            "database_sha256": "0" * 64, "database_bytes": len(data)}))
        archive.writestr("project.codi", data)
    with pytest.raises(BundleError, match="checksum"):
        import_bundle(tampered, tmp_path / "a.codi")
    assert not (tmp_path / "a.codi").exists()
    assert not list(tmp_path.glob(".a.codi*"))


def test_otio_export_opens_in_opentimelineio(tmp_path: Path) -> None:
    with Project.create(tmp_path / "cut.codi", fps=25) as project:
        sound = project.import_media(make_wav(tmp_path / "tone.wav", seconds=2.0))
        picture = project.import_media(make_png(tmp_path / "p.png"))
        audio_track = project.add_track("audio")
        image_track = project.add_track("image")
        text_track = project.add_track("text")
        out_track = project.add_track("image", "output")
        project.place_clip(audio_track.id, 1.0, 1.5, version_id=sound.id, in_point=0.5)
        project.place_clip(image_track.id, 0.0, 2.0, version_id=picture.id)
        project.place_clip(image_track.id, 1.0, 2.0, version_id=picture.id)  # overlaps the first
        project.place_clip(text_track.id, 0.0, 4.0, text="a red ball")
        project.place_clip(out_track.id, 0.0, 2.0)
        path = project.export_otio(tmp_path / "cut.otio")
    timeline = otio.adapters.read_from_file(str(path))
    tracks = list(timeline.tracks)
    assert [t.name for t in tracks] == ["audio condition", "image condition", "image condition (overlap 1)",
                                        "text condition", "image output"]
    gap, clip = tracks[0]
    assert isinstance(gap, otio.schema.Gap) and gap.duration().to_seconds() == pytest.approx(1.0)
    assert tracks[0].kind == otio.schema.TrackKind.Audio
    assert clip.source_range.start_time.to_seconds() == pytest.approx(0.5)
    assert clip.source_range.duration.to_seconds() == pytest.approx(1.5)
    media_file = path.parent / clip.media_reference.target_url
    assert media_file.read_bytes() == (tmp_path / "tone.wav").read_bytes()
    assert clip.media_reference.available_range.duration.to_seconds() == pytest.approx(2.0)
    text_clip = tracks[3][0]
    assert text_clip.media_reference.parameters["text"] == "a red ball"
    assert isinstance(tracks[4][0].media_reference, otio.schema.MissingReference)
    overlap_gap, overlap_clip = tracks[2]
    assert isinstance(overlap_gap, otio.schema.Gap)
    assert overlap_clip.trimmed_range_in_parent().start_time.to_seconds() == pytest.approx(1.0)
    assert overlap_clip.source_range.duration.to_seconds() == pytest.approx(2.0)


def test_text_versions_export_as_files(project: Project, tmp_path: Path) -> None:
    version = project.add_value(Text("caption"), "caption")
    out = project.export_version(version.id, tmp_path / "caption.txt")
    assert out.read_text(encoding="utf-8") == "caption"


def test_import_over_an_existing_project(tmp_path: Path) -> None:
    with _filled_project(tmp_path / "a.codi", tmp_path) as project:
        bundle = project.export_bundle(tmp_path / "a.zip")
    dest = tmp_path / "dest.codi"
    with Project.create(dest) as busy:
        busy.add_track("audio")
        with pytest.raises(StoreError, match="open elsewhere"):
            import_bundle(bundle, dest, overwrite=True)  # never swapped under an open project
    Path(f"{dest}-wal").write_bytes(b"stale log of the old file")
    import_bundle(bundle, dest, overwrite=True)
    assert not Path(f"{dest}-wal").exists()
    with Project.open(dest) as copy:
        assert copy.info().name == "Round trip" and copy.check_integrity() == []
