import json
import logging
import os

import pytest

from moneyreels.providers import media


def touch(root, *names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def tags_of(root) -> dict[str, set[str]]:
    return {f.path.relative_to(root).as_posix(): set(f.tags) for f in media.index(root)}


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "media"
    touch(root, "beach-sunset_01.jpg", "CitySkylineNight.png", "nature/forest walk.mp4",
          "nature/forests/rainy_forest.jpg", "music/calm piano.mp3", "notes.txt", ".hidden.jpg",
          ".cache/thumb-beach.jpg", "IMG_2041.JPG")
    return root


def test_index_tags_files_by_name_and_folder(library):
    tags = tags_of(library)
    assert tags == {
        "beach-sunset_01.jpg": {"beach", "sunset"},
        "CitySkylineNight.png": {"city", "skyline", "night"},
        "nature/forest walk.mp4": {"forest", "walk", "nature"},
        "nature/forests/rainy_forest.jpg": {"rainy", "forest", "forests", "nature"},
        "music/calm piano.mp3": {"calm", "piano", "music"},
        "IMG_2041.JPG": set(),  # camera prefix and numbers say nothing
    }


def test_kinds_come_from_extensions(library):
    kinds = {f.path.name: f.kind for f in media.index(library)}
    assert kinds["IMG_2041.JPG"] == "image" and kinds["forest walk.mp4"] == "video"
    assert kinds["calm piano.mp3"] == "audio" and "notes.txt" not in kinds


def test_sidecar_adds_tags(library):
    (library / "tags.json").write_text(json.dumps({"IMG_2041.JPG": ["Golden Retriever", "dog"],
                                                   "missing.jpg": ["ghost"]}))
    assert tags_of(library)["IMG_2041.JPG"] == {"golden", "retriever", "dog"}
    assert media.search(library, "a happy dog", "image").path.name == "IMG_2041.JPG"


@pytest.mark.parametrize("content", ["{not json", '["a list"]', '{"IMG_2041.JPG": "dog"}', '{"a.jpg": [1, 2]}'])
def test_a_malformed_sidecar_is_ignored_with_a_warning(library, caplog, content):
    (library / "tags.json").write_text(content)
    with caplog.at_level(logging.WARNING, logger="moneyreels.providers.media"):
        assert tags_of(library)["IMG_2041.JPG"] == set()
    assert "ignoring media tags file" in caplog.text


def test_search_ranks_by_tag_overlap(library):
    assert media.search(library, "Sunset on the beach", "image").path.name == "beach-sunset_01.jpg"
    assert media.search(library, "the city at night", "image").path.name == "CitySkylineNight.png"
    # One shared word each; the file with fewer tags is the more specific match.
    touch(library, "forest.jpg")
    os.utime(library, ns=(0, library.stat().st_mtime_ns + 10**9))  # make the change visible on coarse clocks
    assert media.search(library, "forest", "image").path.name == "forest.jpg"


def test_search_stems_plurals_and_ing(library):
    touch(library, "dogs-running.jpg")
    os.utime(library, ns=(0, library.stat().st_mtime_ns + 10**9))
    assert media.search(library, "a dog runs", "image").path.name == "dogs-running.jpg"
    assert media.search(library, "beaches", "image").path.name == "beach-sunset_01.jpg"
    assert [media.stem(w) for w in ("cities", "boxes", "making", "make", "glass", "falling")] == \
        ["city", "box", "mak", "mak", "glass", "fall"]


def test_search_filters_by_kind(library):
    assert media.search(library, "forest", "video").path.name == "forest walk.mp4"
    assert media.search(library, "calm piano", "audio").kind == "audio"
    assert media.search(library, "piano", "image") is None


def test_exclude_moves_on_to_the_next_best(library):
    first = media.search(library, "forest", "image")
    second = media.search(library, "forest", "image", exclude={first.path})
    assert first.path.name == "rainy_forest.jpg" and second is None
    assert media.search(library, "beach sunset", "image", exclude={library / "beach-sunset_01.jpg"}) is None


def test_no_match_and_missing_folder_give_none(library, tmp_path):
    assert media.search(library, "quantum chromodynamics", "image") is None
    assert media.search(library, "the of and", "image") is None
    assert media.search(tmp_path / "nowhere", "beach", "image") is None
    assert media.index(tmp_path / "nowhere") == []


def test_ties_are_broken_deterministically(tmp_path):
    touch(tmp_path, "b-cat.jpg", "a-cat.jpg")
    assert media.search(tmp_path, "cat", "image").path.name == "a-cat.jpg"


def test_symlinks_leaving_the_folder_are_ignored(library, tmp_path):
    touch(tmp_path, "outside/secret-beach.jpg")
    (library / "escape.jpg").symlink_to(tmp_path / "outside" / "secret-beach.jpg")
    (library / "outside-dir").symlink_to(tmp_path / "outside", target_is_directory=True)
    (library / "inside-link.jpg").symlink_to(library / "beach-sunset_01.jpg")
    (library / "broken.jpg").symlink_to(tmp_path / "gone.jpg")
    names = {f.path.name for f in media.index(library)}
    assert "escape.jpg" not in names and "secret-beach.jpg" not in names and "broken.jpg" not in names
    assert "inside-link.jpg" in names


def test_index_is_cached_until_the_folder_changes(library, monkeypatch):
    first = media.index(library)
    walks = []
    monkeypatch.setattr(media.os, "walk", lambda *a, **k: walks.append(a) or iter(()))
    assert media.index(library) == first and not walks  # unchanged: no walk
    nature = library / "nature"
    os.utime(nature, ns=(0, nature.stat().st_mtime_ns + 10**9))
    media.index(library)
    assert walks  # a subfolder changed: walked again


def test_new_files_in_subfolders_are_found(library):
    assert media.search(library, "waterfall", "image") is None
    touch(library, "nature/forests/waterfall.jpg")
    forests = library / "nature" / "forests"
    os.utime(forests, ns=(0, forests.stat().st_mtime_ns + 10**9))
    assert media.search(library, "waterfall", "image").path.name == "waterfall.jpg"
