"""Drawing in two processes: results in order, failures of either half raised here, no child left behind."""

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from moneyreels.render import sprites
from moneyreels.render.halves import ChildFailed, in_halves
from moneyreels.manifest import Manifest
from moneyreels.render.timeline import Limits, plan_timeline
from tests.support.video import reel


def tagged(items):
    """Return each item with the process that handled it."""
    return [(item, os.getpid()) for item in items]


def test_results_come_back_in_item_order_from_two_processes():
    results = in_halves(tagged, list(range(7)))
    assert [item for item, _ in results] == list(range(7))
    here = {pid for item, pid in results if item % 2 == 0}
    there = {pid for item, pid in results if item % 2 == 1}
    assert here == {os.getpid()}
    assert len(there) == 1 and there != here


@pytest.mark.parametrize("items", [[], ["only"]])
def test_fewer_than_two_items_are_done_here(items):
    assert in_halves(tagged, items) == [(item, os.getpid()) for item in items]


def test_without_fork_everything_is_done_here(monkeypatch):
    monkeypatch.delattr(os, "fork")
    assert {pid for _, pid in in_halves(tagged, list(range(4)))} == {os.getpid()}


def fail_on(bad, exc):
    def job(items):
        if bad in items:
            raise exc
        return list(items)
    return job


def test_the_childs_exception_is_raised_here():
    with pytest.raises(ValueError, match="no such font"):
        in_halves(fail_on(1, ValueError("no such font")), [0, 1, 2])


def test_an_exception_that_cannot_be_pickled_still_says_what_failed():
    class Local(Exception):  # a class pickle cannot find by name
        pass

    with pytest.raises(ChildFailed, match="Local.*glyph"):
        in_halves(fail_on(1, Local("glyph")), [0, 1])


def test_a_child_that_dies_is_reported_with_its_signal():
    def job(items):
        if 1 in items:
            os.kill(os.getpid(), signal.SIGKILL)
        return list(items)

    with pytest.raises(ChildFailed, match="signal 9"):
        in_halves(job, [0, 1])


def test_when_this_half_fails_the_child_is_killed_and_reaped(monkeypatch):
    forked, fork = [], os.fork
    monkeypatch.setattr(os, "fork", lambda: forked.append(fork()) or forked[-1])

    def job(items):
        if 0 in items:
            raise ValueError("here")
        time.sleep(60)
        return list(items)

    started = time.monotonic()
    with pytest.raises(ValueError, match="here"):
        in_halves(job, [0, 1])
    assert time.monotonic() - started < 30  # the child's minute of sleep was cut short
    with pytest.raises(ChildProcessError):
        os.waitpid(forked[0], os.WNOHANG)  # already reaped


def saved_with_own_pool(items):
    """Do what a caption half does: start savers of its own and hand them work."""
    with ThreadPoolExecutor(2) as savers:
        return [future.result() for future in [savers.submit(str, item) for item in items]]


@pytest.mark.timeout(60)
def test_a_child_starts_its_own_savers_while_other_threads_submit_to_theirs():
    # Other threads take concurrent.futures' global lock at every submit; a child forked while
    # one holds it must still be able to submit (CPython resets that lock after a fork).
    stop = threading.Event()

    def busy(pool):
        while not stop.is_set():
            pool.submit(int).result()

    with ThreadPoolExecutor(2) as shared:
        threads = [threading.Thread(target=busy, args=(shared,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            for _ in range(20):
                assert in_halves(saved_with_own_pool, list(range(6))) == [str(n) for n in range(6)]
        finally:
            stop.set()
            for thread in threads:
                thread.join()


def caption_manifest(effect: str) -> Manifest:
    words = [{"text": w, "start_seconds": i * 0.3, "end_seconds": i * 0.3 + 0.25}
             for i, w in enumerate("we draw every caption page in two processes now. same pixels. right?".split())]
    return Manifest.model_validate(reel(
        width=360, height=640, fps=10,
        text_overlays=[{"content": "Title", "time": {"start_seconds": 0, "duration_seconds": 1}}],
        captions=[{"words": words, "effect": effect, "max_words_per_page": 3,
                   "style": {"stroke_color": "black", "stroke_width": 3, "shadow_color": "black", "shadow_blur": 6}}],
    ))


@pytest.mark.parametrize("effect", ["pop", "karaoke"])
def test_caption_images_drawn_in_halves_are_those_drawn_in_one_process(tmp_path, monkeypatch, effect):
    manifest = caption_manifest(effect)
    plan = plan_timeline(manifest, {}, Limits(60, 300))
    (tmp_path / "split").mkdir()
    (tmp_path / "one").mkdir()
    split, _ = sprites.draw_sprites(manifest, plan, tmp_path / "split")
    monkeypatch.setattr(sprites, "in_halves", lambda job, items: job(items))
    one, _ = sprites.draw_sprites(manifest, plan, tmp_path / "one")
    assert len(split) == len(one) >= 2
    for a, b in zip(split, one):
        assert (a.x, a.y, a.crop) == (b.x, b.y, b.crop)
        assert [(f.start, f.end, f.ink, f.wipe, f.path.name) for f in a.frames] == \
               [(f.start, f.end, f.ink, f.wipe, f.path.name) for f in b.frames]
        assert all(f.path.read_bytes() == g.path.read_bytes() for f, g in zip(a.frames, b.frames))
    assert {p.name for p in (tmp_path / "split").iterdir()} == {p.name for p in (tmp_path / "one").iterdir()}

