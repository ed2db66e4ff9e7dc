import numpy as np
import pytest

from moneyreels.render.shapes import draw_box_shadow, rounded_mask
from moneyreels.values import BoxShadow, parse_box_shadow, parse_length


@pytest.mark.parametrize(
    "value, expected",
    [
        ("10%", 108.0),
        ("0%", 0.0),
        ("-5%", -54.0),
        ("20px", 20.0),
        (" 20PX ", 20.0),
        ("20", 20.0),
        ("-12.5px", -12.5),
        (".5", 0.5),
        (20, 20.0),
        (7.25, 7.25),
    ],
)
def test_parse_length(value, expected):
    assert parse_length(value, 1080) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["10em", "abc", "", "px", "10 px", "10%%", "1e999", True, None, [10], float("inf")])
def test_parse_length_rejects_junk(value):
    with pytest.raises(ValueError, match="invalid length"):
        parse_length(value, 1080)


def test_rounded_mask_corners_are_cut_and_anti_aliased():
    mask = np.asarray(rounded_mask(200, 100, 30))
    assert mask.shape == (100, 200)
    assert mask[0, 0] == mask[0, 199] == mask[99, 0] == mask[99, 199] == 0
    assert mask[50, 100] == mask[0, 100] == mask[50, 0] == mask[99, 100] == 255
    assert mask[9, 9] == 255  # inside the arc (distance from centre (30,30) is ~29.7)
    diagonal = [mask[i, i] for i in range(30)]
    assert any(0 < v < 255 for v in diagonal)  # the arc is anti-aliased, not stair-stepped
    assert diagonal == sorted(diagonal)


def test_rounded_mask_without_radius_is_solid():
    assert np.all(np.asarray(rounded_mask(40, 20, 0)) == 255)


def test_rounded_mask_radius_is_clamped_to_half_the_short_side():
    mask = np.asarray(rounded_mask(100, 40, 500))
    assert mask[20, 0] > 200 and mask[20, 99] > 200  # a pill: round ends touch the middle of the sides
    assert mask[0, 0] == 0 and mask[20, 50] == 255


@pytest.mark.parametrize(
    "css, expected",
    [
        ("0 10px 30px rgba(0,0,0,0.5)", BoxShadow(0, 10, 30, 0, (0, 0, 0, 128))),
        ("rgba(0, 0, 0, .5) 0 10px 30px 5px", BoxShadow(0, 10, 30, 5, (0, 0, 0, 128))),
        ("2px -3px", BoxShadow(2, -3, 0, 0, (0, 0, 0, 255))),
        ("1px 2px 3px -4px  #ff000080", BoxShadow(1, 2, 3, -4, (255, 0, 0, 128))),
        ("0 4px 12px rgb(0 0 0 / 60%), 0 0 2px red", BoxShadow(0, 4, 12, 0, (0, 0, 0, 153))),
        ("0 0 8px Red", BoxShadow(0, 0, 8, 0, (255, 0, 0, 255))),
    ],
)
def test_parse_box_shadow(css, expected):
    assert parse_box_shadow(css) == expected


def test_parse_box_shadow_none():
    assert parse_box_shadow(" None ") is None


@pytest.mark.parametrize(
    "css, message",
    [
        ("", "invalid box_shadow"),
        ("1px", "invalid box_shadow"),
        ("1px 2px 3px 4px 5px", "invalid box_shadow"),
        ("red 1px 2px blue", "invalid box_shadow"),
        ("1px 2px -3px", "blur must not be negative"),
        ("0 0 10em black", "'10em' is neither a px length nor a colour"),
        ("0 0 10% black", "'10%' is neither"),
        ("1px 2px blurple", "'blurple' is neither"),
        ("inset 0 0 4px red", "inset"),
        (None, "invalid box_shadow"),
    ],
)
def test_parse_box_shadow_rejects_junk(css, message):
    with pytest.raises(ValueError, match=message):
        parse_box_shadow(css)


def centroid(image) -> tuple[float, float]:
    a = np.asarray(image)[..., 3].astype(float)
    ys, xs = np.indices(a.shape)
    return (xs * a).sum() / a.sum(), (ys * a).sum() / a.sum()


def test_box_shadow_is_offset_and_blurred():
    image, dx, dy = draw_box_shadow(200, 100, 16, BoxShadow(12, 20, 30, 0, (0, 0, 0, 128)))
    cx, cy = centroid(image)
    assert (dx + cx, dy + cy) == (pytest.approx(100 + 12, abs=1), pytest.approx(50 + 20, abs=1))
    a = np.asarray(image)[..., 3]
    assert a.max() == 128
    assert a[0].max() < 3 and a[:, 0].max() < 3  # the image is big enough for the blur to fade out
    assert np.count_nonzero((a > 0) & (a < 128)) > 0.3 * a.size


def test_sharp_box_shadow_matches_the_box_grown_by_spread():
    image, dx, dy = draw_box_shadow(100, 50, 0, BoxShadow(-10, 5, 0, 4, (255, 0, 0, 255)))
    assert (dx, dy, image.size) == (-14, 1, (108, 58))
    data = np.asarray(image)
    assert np.all(data[..., 3] == 255) and np.all(data[..., :3] == (255, 0, 0))


def test_negative_spread_can_swallow_the_shadow():
    image, _, _ = draw_box_shadow(10, 10, 0, BoxShadow(0, 0, 4, -20, (0, 0, 0, 255)))
    assert np.asarray(image)[..., 3].max() == 0


def test_rounded_box_shadow_has_round_corners():
    image, dx, dy = draw_box_shadow(100, 100, 40, BoxShadow(0, 0, 0, 0, (0, 0, 0, 255)))
    a = np.asarray(image)[..., 3]
    assert (dx, dy) == (0, 0)
    assert a[0, 0] == 0 and a[50, 50] == 255
