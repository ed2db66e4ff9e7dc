"""Animated text overlays: pop, slide and type_on enter over their first frames, then hold."""

import numpy as np
import pytest
from pydantic import ValidationError

from moneyreels.manifest import Manifest
from tests.support.video import FPS, H, W, frame_at, reel

BOX = {"x": "5%", "y": "20%", "width": "90%", "height": "25%"}
STYLE = {"font_size": 44, "font_weight": 900, "color": "#ffffff"}


def overlay(kind, content="$120,000", seconds=0.6):
    return {"content": content, "time": {"start_seconds": 0, "duration_seconds": 1.2}, "layout": BOX,
            "style": STYLE, "animation": {"type": kind, "duration_seconds": seconds}}


def ink(frame) -> np.ndarray:
    """The white text's pixels in the overlay's box (the canvas under it is black), faded ones too."""
    top, bottom = int(H * 0.2), int(H * 0.45)
    return frame[top:bottom].mean(axis=2) > 40


def frames(render_reel, kind, times):
    _, out = render_reel(reel(text_overlays=[overlay(kind)]))
    return [ink(frame_at(out, t)) for t in times]


def middle_of_frame(n):
    return (n + 0.5) / FPS


@pytest.mark.parametrize("kind", ["pop", "slide", "type_on"])
def test_each_entrance_shows_less_text_early_and_all_of_it_once_in(render_reel, kind):
    early, later, held = frames(render_reel, kind, [middle_of_frame(1), middle_of_frame(5), 1.0])
    _, out = render_reel(reel(text_overlays=[{**overlay(kind), "animation": None}]))
    still = ink(frame_at(out, 1.0))
    assert 0 < early.sum() < later.sum() and abs(int(held.sum()) - int(still.sum())) <= 0.02 * still.sum()


def test_type_on_reveals_from_the_left(render_reel):
    early, held = frames(render_reel, "type_on", [middle_of_frame(3), 1.0])
    columns = np.flatnonzero(held.any(axis=0))
    shown = np.flatnonzero(early.any(axis=0))
    assert shown.size and shown.min() <= columns.min() + 2 and shown.max() < columns.max() - W * 0.2


def test_pop_grows_from_the_centre_of_the_text(render_reel):
    early, held = frames(render_reel, "pop", [middle_of_frame(0), 1.0])
    width = lambda mask: np.ptp(np.flatnonzero(mask.any(axis=0)))  # noqa: E731
    centre = lambda mask: np.flatnonzero(mask.any(axis=0)).mean()  # noqa: E731
    assert width(early) < 0.7 * width(held) and abs(centre(early) - centre(held)) < 4


def test_slide_rises_into_place(render_reel):
    early, held = frames(render_reel, "slide", [middle_of_frame(1), 1.0])
    top = lambda mask: np.flatnonzero(mask.any(axis=1)).min()  # noqa: E731
    assert top(early) > top(held)


@pytest.mark.parametrize("animation, field", [({"type": "spin"}, "animation.type"),
                                              ({"type": "pop", "duration_seconds": 0}, "duration_seconds"),
                                              ({"type": "pop", "duration_seconds": 9}, "duration_seconds")])
def test_a_bad_animation_is_refused_naming_the_field(animation, field):
    data = reel(text_overlays=[{**overlay("pop"), "animation": animation}])
    with pytest.raises(ValidationError) as caught:
        Manifest.model_validate(data)
    assert field in str(caught.value)


def test_type_on_types_one_line_before_the_next_even_when_shadows_join_them(render_reel):
    shadowed = {**STYLE, "font_size": 30, "line_height": 1.0, "stroke_color": "#000000", "stroke_width": 3,
                "shadow_color": "rgba(255,255,255,0.5)", "shadow_blur": 6, "shadow_offset_y": 3}
    lines = {**overlay("type_on", content="compound interest doing the heavy lifting"), "style": shadowed}
    _, out = render_reel(reel(text_overlays=[lines]))
    early, held = ink(frame_at(out, middle_of_frame(3))), ink(frame_at(out, 1.0))
    rows = np.flatnonzero(held.any(axis=1))
    middle = (rows.min() + rows.max()) // 2
    assert early[:middle].sum() > 0 and early[middle + 6:].sum() == 0
