"""Kinetic text: each scene's key phrase and hero numbers, set large over its picture and animated in.

Scenes take turns among three compositions (number over phrase on a card, a label over the
number on a band, a big phrase in a spotlight), so neighbouring scenes never share a layout.
Text stays in the upper part of the frame (above 44%): captions own the lower part.
"""

from .catalog import CAPTION_STYLES

# Each composition: where its panel sits and where the number and the phrase go (fractions of
# the frame: x0, y0, x1, y1), with the phrase's box when there is no number, and its alignment.
COMPOSITIONS = {
    "card": {"panel": (0.05, 0.09, 0.95, 0.43), "number": (0.08, 0.11, 0.92, 0.29), "phrase": (0.08, 0.29, 0.92, 0.41),
             "alone": (0.08, 0.14, 0.92, 0.38), "align": "center", "number_first": True},
    "band": {"panel": (0.0, 0.1, 1.0, 0.41), "number": (0.1, 0.2, 0.94, 0.39), "phrase": (0.1, 0.12, 0.94, 0.2),
             "alone": (0.1, 0.14, 0.94, 0.37), "align": "left", "number_first": False},
    "spot": {"panel": (0.0, 0.05, 1.0, 0.43), "number": (0.1, 0.09, 0.9, 0.24), "phrase": (0.1, 0.24, 0.9, 0.4),
             "alone": (0.1, 0.15, 0.9, 0.37), "align": "center", "number_first": True},
}
ORDER = tuple(COMPOSITIONS)
ANIMATIONS = {
    "bright_pop": "pop", "neon_cyberpunk": "pop", "editorial_caricature": "pop",
    "minimal_explainer": "type_on", "science_wonder": "type_on", "warm_storybook": "type_on",
    "cinematic_documentary": "slide", "dark_mystery": "slide", "nature_calm": "slide", "history_epic": "slide",
}
# Sizes at 1080 px wide; text shrinks to fit its box.
NUMBER_SIZE, PHRASE_SIZE, ALONE_SIZE = 230, 92, 120
ENTRANCE_SECONDS = {"pop": 0.35, "slide": 0.45, "type_on": 0.6}
STAGGER = 0.25  # the second line enters this long after the first


def composition(index: int) -> str:
    return ORDER[index % len(ORDER)]


def overlays(plan, index: int, shown: dict, timing: dict) -> list[dict]:
    """Return the scene's text overlays (manifest JSON): its number(s) and its phrase, animated in."""
    place = COMPOSITIONS[shown["composition"]]
    animation = ANIMATIONS.get(plan.archetype.name, "pop")
    accent = CAPTION_STYLES[plan.archetype.captionStyle].highlight_color
    numbers, phrase = " · ".join(shown["numbers"]), shown["phrase"]
    if animation == "pop":
        phrase = phrase.upper()
    parts = []
    # Alone, a number or a phrase takes the composition's whole text area.
    if numbers:
        box = place["number"] if phrase else place["alone"]
        parts.append(("number", numbers, box, NUMBER_SIZE, accent, 900))
    if phrase:
        box, size = (place["phrase"], PHRASE_SIZE) if numbers else (place["alone"], ALONE_SIZE)
        parts.append(("phrase", phrase, box, size, "white", 800))
    if not place["number_first"]:
        parts.reverse()
    start, end = timing["start"], timing["start"] + timing["duration"]
    made = []
    for order, (role, content, box, size, colour, weight) in enumerate(parts):
        begin = min(start + 0.05 + order * STAGGER, end - 0.1)
        made.append({
            "id": f"scene-{index + 1}-{role}",
            "content": content,
            "time": {"start_seconds": round(begin, 3), "duration_seconds": round(end - begin, 3)},
            "layout": _box(box),
            "style": {"font_size": size * plan.scale, "font_weight": weight, "color": colour,
                      "text_align": place["align"], "line_height": 1.05, "stroke_color": "#000000",
                      "stroke_width": (7 if role == "number" else 5) * plan.scale,
                      "shadow_color": "rgba(0,0,0,0.55)", "shadow_blur": 12 * plan.scale,
                      "shadow_offset_y": 5 * plan.scale},
            "animation": {"type": animation, "duration_seconds": ENTRANCE_SECONDS[animation]},
        })
    return made


def panel_layer(index: int, shown: dict, timing: dict) -> dict:
    """Return the timeline layer (manifest JSON) of the panel under the scene's text, still over its moving art."""
    return {"id": f"scene-{index + 1}-panel", "type": "image", "asset_id": f"panel-{index + 1}",
            "time": {"start_seconds": timing["start"], "duration_seconds": timing["duration"]},
            "layout": _box(COMPOSITIONS[shown["composition"]]["panel"]), "background_mode": "transparent"}


def _box(box) -> dict:
    x0, y0, x1, y1 = box
    return {"x": f"{x0 * 100:g}%", "y": f"{y0 * 100:g}%", "width": f"{(x1 - x0) * 100:g}%",
            "height": f"{(y1 - y0) * 100:g}%"}


def ordered(overlays_: list[dict]) -> list[dict]:
    """Order overlays by box then time: overlays sharing a box become one sprite track in the render."""
    return sorted(overlays_, key=lambda o: (tuple(o["layout"].values()), o["time"]["start_seconds"]))
