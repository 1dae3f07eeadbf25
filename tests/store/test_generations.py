"""Recording generations: versions with recipes, lineage, search, diff, jobs, purge."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from codi_studio.media import Audio, Image, Modality, Text, read_png_metadata
from codi_studio.store import InvalidOperationError, Project, Recipe, RecipeInput

from store_helpers import image_value, make_png, recipe


def test_record_generation_into_output_clip(project: Project, tmp_path: Path) -> None:
    out_image = project.add_track("image", "output")
    out_audio = project.add_track("audio", "output")
    image_clip = project.place_clip(out_image.id, 2.0, 3.0)
    audio_clip = project.place_clip(out_audio.id, 2.0, 3.0)
    sound = Audio(np.zeros((1600, 1), np.float32), 16000)
    samples = [{Modality.IMAGE: image_value(1), Modality.AUDIO: sound}, {"image": image_value(2), "audio": sound}]
    record = project.record_generation(recipe(seed=7, outputs=("image", "audio")), samples,
                                       clip_ids=[image_clip.id, audio_clip.id])
    assert [(v.modality, v.sample_index, v.number) for v in record.versions] == [
        ("image", 0, 1), ("audio", 0, 1), ("image", 1, 2), ("audio", 1, 2)]
    assert all(v.generation_id == record.id and v.origin == "generation" for v in record.versions)
    assert record.versions[0].recipe == record.recipe and record.recipe.seed == 7
    assert record.versions[1].content_hash == record.versions[3].content_hash  # same sound stored once
    shown = project.clip(image_clip.id)
    assert shown.version_id == record.versions[0].id  # the clip shows the first sample
    assert [v.sample_index for v in project.versions(clip_id=image_clip.id)] == [0, 1]
    # regenerating adds versions to the same asset
    again = project.record_generation(recipe(seed=8), {"image": image_value(3)}, clip_ids=[image_clip.id])
    assert again.versions[0].asset_id == shown.asset_id and again.versions[0].number == 3
    assert project.clip(image_clip.id).version_id == again.versions[0].id
    # the recipe travels inside the PNG as well
    out = project.export_version(again.versions[0].id, tmp_path / "shot.png")
    assert '"seed": 8' in read_png_metadata(out)["codi-studio"]
    assert np.array_equal(project.read_media(again.versions[0].id).pixels, image_value(3).pixels)


def test_bad_generations_are_refused(project: Project) -> None:
    with pytest.raises(InvalidOperationError, match="not an output of the recipe"):
        project.record_generation(recipe(outputs=("image",)), {"audio": Audio(np.zeros((10, 1), np.float32), 8000)})
    with pytest.raises(InvalidOperationError, match="a text value under image"):
        project.record_generation(recipe(outputs=("image",)), {"image": Text("oops")})
    with pytest.raises(ValueError, match="exactly one"):
        RecipeInput("image", 1.0)
    condition = project.place_clip(project.add_track("image").id, 0, 1, version_id=project.add_value(image_value(9), "x").id)
    with pytest.raises(InvalidOperationError, match="results go to output tracks"):
        project.record_generation(recipe(), {"image": image_value(1)}, clip_ids=[condition.id])
    assert project.info().generations == 0


def test_lineage_of_a_three_step_chain(project: Project, tmp_path: Path) -> None:
    photo = project.import_media(make_png(tmp_path / "photo.png"))
    step1 = project.record_generation(
        recipe(seed=1, prompt="a castle", inputs=(RecipeInput("image", 0.7, version_id=photo.id),)),
        {"image": image_value(11)})
    step2 = project.record_generation(
        recipe(seed=2, prompt="at night", inputs=(RecipeInput("image", 1.0, version_id=step1.versions[0].id),)),
        {"image": image_value(12)})
    step3 = project.record_generation(
        recipe(seed=3, prompt=None, outputs=("text",), inputs=(RecipeInput("image", 0.5, version_id=step2.versions[0].id),)),
        {"text": Text("a castle at night")})
    node = project.lineage(step3.versions[0].id)
    assert node.ancestors() == [step2.versions[0].id, step1.versions[0].id, photo.id]
    [image_in] = node.inputs
    assert image_in.weight == 0.5 and image_in.source is not None
    step2_node = image_in.source
    assert [(i.modality, i.text) for i in step2_node.inputs] == [("text", "at night"), ("image", None)]
    step1_node = step2_node.inputs[1].source
    assert step1_node is not None and step1_node.version.recipe.seed == 1  # type: ignore[union-attr]
    root = step1_node.inputs[1].source
    assert root is not None and root.version.id == photo.id and root.version.recipe is None and root.inputs == ()


def test_media_value_inputs_are_stored_and_linked(project: Project) -> None:
    known = project.add_value(image_value(5), "reference")
    record = project.record_generation(
        recipe(inputs=(RecipeInput("image", 1.0, value=image_value(5)), RecipeInput("image", 0.3, value=image_value(6)),
                       RecipeInput("text", 0.5, value=Text("and a kite")))),
        {"image": image_value(7)})
    inputs = record.recipe.inputs
    assert inputs[1].version_id == known.id  # same content as a stored version: linked to it
    new_input = project.version(inputs[2].version_id)  # type: ignore[arg-type]
    assert new_input.origin == "input" and new_input.modality == "image"
    assert inputs[3].text == "and a kite" and "and a kite" in record.recipe.prompt


def test_search_by_prompt_modality_seed_model(project: Project) -> None:
    red = project.record_generation(recipe(seed=1, prompt="A red ball on grass"), {"image": image_value(1)})
    blue = project.record_generation(recipe(seed=2, prompt="a blue ball", model="big-v2"), {"image": image_value(2)})
    song = project.record_generation(recipe(seed=1, prompt="red sunset song", outputs=("audio",)),
                                     {"audio": Audio(np.zeros((800, 1), np.float32), 8000)})
    ids = lambda records: [v.id for v in records]  # noqa: E731
    assert ids(project.search_versions("ball")) == [blue.versions[0].id, red.versions[0].id]
    assert ids(project.search_versions("RED")) == [song.versions[0].id, red.versions[0].id]
    assert ids(project.search_versions("red gra")) == [red.versions[0].id]  # every word, the last as a prefix
    assert ids(project.search_versions("red", modality="audio")) == [song.versions[0].id]
    assert ids(project.search_versions(seed=1)) == [song.versions[0].id, red.versions[0].id]
    assert ids(project.search_versions(model="big-v2")) == [blue.versions[0].id]
    assert project.search_versions('"unbalanced AND (') == []  # FTS syntax never leaks through
    assert project.search_versions("ball", seed=3) == []


def test_diff_recipes(project: Project) -> None:
    a = project.record_generation(recipe(seed=1, prompt="a fox"), {"image": image_value(1)})
    b = project.record_generation(Recipe("toy-v1", "sha256:abc", "dpmpp", 20, 3.0, 1, ("image",),
                                         (RecipeInput("text", 1.0, text="a fox"),)), {"image": image_value(2)})
    assert project.diff_recipes(a.versions[0].id, b.versions[0].id) == {"guidance": (7.5, 3.0), "sampler": ("ddim", "dpmpp")}
    assert project.diff_recipes(a.versions[0].id, a.versions[0].id) == {}


def test_job_lifecycle(project: Project) -> None:
    job = project.create_job({"outputs": ["image"], "seed": 3})
    assert job.status == "queued" and job.request == {"outputs": ["image"], "seed": 3}
    assert project.start_job(job.id).status == "running"
    record = project.record_generation(recipe(), {"image": image_value(1)}, job_id=job.id)
    done = project.job(job.id)
    assert (done.status, done.generation_id) == ("done", record.id) and done.finished_at is not None
    with pytest.raises(InvalidOperationError, match="is done"):
        project.cancel_job(job.id)
    failing = project.create_job({})
    project.start_job(failing.id)
    assert project.fail_job(failing.id, "out of memory").error == "out of memory"
    cancelled = project.cancel_job(project.create_job({}).id)
    assert [j.status for j in project.jobs()] == ["done", "failed", "cancelled"]
    assert project.jobs(status="cancelled") == [cancelled]
    with pytest.raises(InvalidOperationError, match="plain JSON"):
        project.create_job({"value": object()})


def test_running_jobs_of_a_dead_process_are_marked_failed(tmp_path: Path) -> None:
    path = tmp_path / "a.codi"
    with Project.create(path) as project:
        job = project.start_job(project.create_job({}).id)
    with Project.open(path) as project:
        reopened = project.job(job.id)
    assert reopened.status == "failed" and "interrupted" in (reopened.error or "")


def test_purge_reclaims_space_but_keeps_lineage(project: Project, tmp_path: Path) -> None:
    big = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    keep_input = project.add_value(Image(big), "input")
    child = project.record_generation(recipe(inputs=(RecipeInput("image", 1.0, version_id=keep_input.id),)),
                                      {"image": image_value(1)})
    junk = [project.add_value(Image(np.roll(big, i, axis=0)), f"junk {i}") for i in range(1, 4)]
    track = project.add_track("text")
    gone_clip = project.place_clip(track.id, 0, 1, text="bye")
    project.remove_clip(gone_clip.id)
    for version in junk:
        project.delete_asset(version.asset_id)
    project.delete_version(keep_input.id)  # deleted, but still an input of a live generation
    before = project.info()
    report = project.purge()
    assert (report.clips, report.versions, report.assets, report.blobs) == (1, 3, 3, 3)
    assert report.bytes_freed == sum(v.size_bytes for v in junk)
    assert report.file_bytes_after < report.file_bytes_before
    after = project.info()
    assert after.blobs == before.blobs - 3
    assert project.lineage(child.versions[0].id).ancestors() == [keep_input.id]
    assert project.read_bytes(keep_input.id)  # its media are still there
    # once the child goes too, the input is no longer needed
    project.delete_version(child.versions[0].id)
    second = project.purge()
    assert (second.versions, second.blobs) == (2, 2)
    assert project.info().generations == 0 and project.search_versions("red") == []
    conn = sqlite3.connect(project.path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
