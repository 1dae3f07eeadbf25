"""The studio's pattern: a worker thread records results while the UI thread keeps reading."""

from __future__ import annotations

import threading

from codi_studio.store import Project

from store_helpers import image_value, recipe


def test_worker_thread_writes_while_ui_thread_reads(project: Project) -> None:
    track = project.add_track("image", "output")
    shot = project.place_clip(track.id, 0.0, 2.0)
    errors: list[BaseException] = []
    done = threading.Event()

    def worker() -> None:
        try:
            for i in range(8):
                project.record_generation(recipe(seed=i), {"image": image_value(i)}, clip_ids=[shot.id])
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    reads = 0
    while not done.is_set():
        [t] = project.timeline()
        assert t.clips[0].id == shot.id
        project.search_versions("red", limit=5)
        reads += 1
    thread.join()
    assert errors == [] and reads > 0
    assert len(project.versions(clip_id=shot.id)) == 8
    assert project.clip(shot.id).version_id == project.versions(clip_id=shot.id)[-1].id


def test_rename_generation_and_restore_asset(project: Project) -> None:
    project.rename("  New name ")
    assert project.info().name == "New name"
    record = project.record_generation(recipe(seed=4), {"image": image_value(4)})
    again = project.generation(record.id)
    assert again.recipe == record.recipe and [v.id for v in again.versions] == [v.id for v in record.versions]
    asset_id = record.versions[0].asset_id
    project.delete_asset(asset_id)
    assert project.assets() == [] and project.history() == []
    assert project.restore_asset(asset_id).deleted is False
    assert [v.id for v in project.history()] == [record.versions[0].id]
    track = project.update_track(project.add_track("text").id, name="Prompts")
    assert track.name == "Prompts"
