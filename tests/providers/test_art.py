import numpy as np
import pytest
from PIL import Image

from moneyreels.providers import art
from moneyreels.values import parse_color

SIZE = (270, 480)  # a quarter of 1080x1920: same code paths, faster tests
OCEAN = art.Palette(("#0b1d51", "#1e3a8a", "#0e7490"), ("#38bdf8", "#a5f3fc"), "#ffffff")
EMBER = art.Palette(("#7c2d12", "#c2410c"), ("#fbbf24",), "#fff7ed")


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(float)


def rgb(colour: str) -> np.ndarray:
    return np.array(parse_color(colour)[:3], float)


@pytest.mark.parametrize("style", art.STYLES)
def test_every_style_fills_the_exact_size_in_the_palette(tmp_path, style):
    path = art.draw_art("anything", OCEAN, SIZE, tmp_path / "a.jpg", seed=1, style=style)
    image = Image.open(path)
    assert (image.format, image.size) == ("JPEG", SIZE)
    data = pixels(path)
    # Blue palette: blue outweighs red everywhere on average, and the mean sits near the palette's colours.
    mean = data.reshape(-1, 3).mean(axis=0)
    assert mean[2] > mean[0] + 40, style
    palette = np.array([rgb(c) for c in OCEAN.background + OCEAN.accent])
    assert np.linalg.norm(palette - mean, axis=1).min() < 110, style
    assert data.std() > 5, style  # not a flat fill


def test_the_palette_sets_the_colour(tmp_path):
    warm = pixels(art.draw_art("x", EMBER, SIZE, tmp_path / "warm.jpg", seed=1, style="gradient")).mean(axis=(0, 1))
    cool = pixels(art.draw_art("x", OCEAN, SIZE, tmp_path / "cool.jpg", seed=1, style="gradient")).mean(axis=(0, 1))
    assert warm[0] > warm[2] + 60 and cool[2] > cool[0] + 60


def test_same_seed_same_image_other_seed_other_image(tmp_path):
    one = art.draw_art("a quiet forest", OCEAN, SIZE, tmp_path / "1.png", seed=7)
    again = art.draw_art("a quiet forest", OCEAN, SIZE, tmp_path / "2.png", seed=7)
    other = art.draw_art("a quiet forest", OCEAN, SIZE, tmp_path / "3.png", seed=8)
    assert Image.open(one).format == "PNG"
    assert one.read_bytes() == again.read_bytes()
    assert np.abs(pixels(one) - pixels(other)).mean() > 8


def test_the_prompt_seeds_the_image(tmp_path):
    a = pixels(art.draw_art("rockets", OCEAN, SIZE, tmp_path / "a.png", seed=1, style="shapes"))
    b = pixels(art.draw_art("gardens", OCEAN, SIZE, tmp_path / "b.png", seed=1, style="shapes"))
    assert np.abs(a - b).mean() > 8


@pytest.mark.parametrize("prompt, style", [
    ("Ocean waves at dawn", "waves"), ("the city that never sleeps", "grid"), ("stars over the desert", "bokeh"),
    ("Sunrise", "rays"), ("abstract", "shapes"),
])
def test_keywords_pick_the_style(prompt, style):
    assert art.style_for(prompt, seed=1) == art.style_for(prompt, seed=2) == style


def test_other_prompts_spread_over_every_style():
    assert {art.style_for(f"topic {i}", seed=0) for i in range(60)} == set(art.STYLES)


def test_night_prompts_are_dark(tmp_path):
    night = pixels(art.draw_art("a night sky", OCEAN, SIZE, tmp_path / "n.png", seed=3, style="bokeh"))
    day = pixels(art.draw_art("a bright sky", OCEAN, SIZE, tmp_path / "d.png", seed=3, style="bokeh"))
    assert night.mean() < day.mean() - 15


def test_unknown_style_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown art style"):
        art.draw_art("x", OCEAN, SIZE, tmp_path / "a.jpg", seed=1, style="cubism")


def test_sequence_never_repeats_a_frame(tmp_path):
    prompts = ["ocean"] * 4 + ["same prompt"] * 4  # repeated prompts would repeat a style
    paths = art.draw_sequence(prompts, OCEAN, SIZE, tmp_path / "seq", seed=5)
    assert len(paths) == len(prompts) and len(set(paths)) == len(paths)
    images = [pixels(p) for p in paths]
    for i, (a, b) in enumerate(zip(images, images[1:])):
        assert np.abs(a - b).mean() > 15, f"images {i} and {i + 1} look alike"


def test_sequence_is_deterministic(tmp_path):
    first = art.draw_sequence(["a", "b"], EMBER, SIZE, tmp_path / "1", seed=2)
    second = art.draw_sequence(["a", "b"], EMBER, SIZE, tmp_path / "2", seed=2)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


@pytest.mark.parametrize("kind", art.PANELS)
def test_a_panel_is_a_translucent_dark_shape_the_size_asked(tmp_path, kind):
    with Image.open(art.draw_panel(kind, OCEAN, (200, 120), tmp_path / "p.png")) as drawn:
        panel = np.asarray(drawn.convert("RGBA"), dtype=float)
    assert panel.shape == (120, 200, 4)
    centre = panel[50:70, 80:120]
    assert 120 < centre[..., 3].mean() < 230 and centre[..., :3].mean() < 60  # see-through, and dark
    if kind != "band":
        assert panel[0, 0, 3] == 0 and panel[-1, -1, 3] == 0  # rounded or soft: the corners stay clear


def test_an_unknown_panel_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown panel"):
        art.draw_panel("ribbon", OCEAN, (10, 10), tmp_path / "p.png")
