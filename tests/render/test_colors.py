import pytest

from moneyreels.values import parse_color


@pytest.mark.parametrize(
    "value, expected",
    [
        ("white", (255, 255, 255, 255)),
        ("  RebeccaPurple ", (102, 51, 153, 255)),
        ("lightgoldenrodyellow", (250, 250, 210, 255)),
        ("grey", (128, 128, 128, 255)),
        ("transparent", (0, 0, 0, 0)),
        ("#f00", (255, 0, 0, 255)),
        ("#f008", (255, 0, 0, 136)),
        ("#FFD700", (255, 215, 0, 255)),
        ("#ffd70080", (255, 215, 0, 128)),
        ("rgb(255, 0, 0)", (255, 0, 0, 255)),
        ("RGB(255,0,0)", (255, 0, 0, 255)),
        ("rgba(0,0,0,0.5)", (0, 0, 0, 128)),
        ("rgba(0, 0, 0, .8)", (0, 0, 0, 204)),
        ("rgba(10, 20, 30, 50%)", (10, 20, 30, 128)),
        ("rgb(100%, 50%, 0%)", (255, 128, 0, 255)),
        ("rgb(255 0 0)", (255, 0, 0, 255)),
        ("rgb(255 0 0 / 25%)", (255, 0, 0, 64)),
        ("rgba(12.6 0 0 / 0.5)", (13, 0, 0, 128)),
        ("rgb(300, -5, 0, 2)", (255, 0, 0, 255)),  # CSS clamps out-of-range channels
        ("hsl(120, 100%, 50%)", (0, 255, 0, 255)),
        ("hsla(240, 100%, 50%, 0.5)", (0, 0, 255, 128)),
        ("hsl(0.5turn 100% 50% / 1)", (0, 255, 255, 255)),
        ("hsl(-120deg 100% 25%)", (0, 0, 128, 255)),
        ("hsl(0 0% 100%)", (255, 255, 255, 255)),
    ],
)
def test_parses_css_colours(value, expected):
    assert parse_color(value) == expected


def test_knows_all_148_css_named_colours():
    names = ("aliceblue", "darkslategrey", "mediumvioletred", "papayawhip", "yellowgreen", "cornflowerblue")
    assert all(parse_color(name)[3] == 255 for name in names)
    assert parse_color("darkslategray") == parse_color("darkslategrey")


@pytest.mark.parametrize(
    "value",
    [
        "blurple",
        "",
        "#ff",
        "#fffff",
        "#ggg",
        "rgb(1, 2)",
        "rgb(1, 2, 3, 4, 5)",
        "rgb(1 2 3 0.5)",
        "rgb(a, b, c)",
        "rgba(1, 2, 3, 0.5px)",
        "rgb(1px, 2, 3)",
        "hsl(120, 100, 50)",
        "hsl(10%, 100%, 50%)",
        "rgb(1, 2, 3",
        "currentcolor",
        None,
        255,
    ],
)
def test_rejects_invalid_colours(value):
    with pytest.raises(ValueError, match="invalid colour"):
        parse_color(value)


def test_error_names_the_value():
    with pytest.raises(ValueError, match="invalid colour 'blurple'"):
        parse_color("blurple")
