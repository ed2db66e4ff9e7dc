"""What a reel can look like: archetypes, pacing tiers, platforms and caption styles."""

from dataclasses import dataclass

from ..providers.art import Palette


@dataclass(frozen=True)
class Archetype:
    name: str
    captionStyle: str
    artStyle: str
    mood: str
    colorPalette: str
    scenePacing: str
    motionIntensity: str


@dataclass(frozen=True)
class Pacing:
    """How fast a reel talks and cuts: a cut every `scene_seconds` or so, none past `max_scene_seconds`.

    A script a little over the platform's length is spoken faster, up to `max_words_per_second`.
    """

    name: str
    words_per_second: float
    scene_seconds: float
    max_scene_seconds: float
    max_words_per_second: float


@dataclass(frozen=True)
class Platform:
    name: str
    width: int
    height: int
    fps: int
    maxDurationSeconds: int


@dataclass(frozen=True)
class CaptionStyle:
    """How word-by-word captions look: text style keys, the effect on the spoken word, page size."""

    style: dict
    effect: str  # a manifest caption `effect`
    highlight_color: str
    max_words_per_page: int = 3
    text_transform: str = "uppercase"
    position: str = "lower_third"
    max_chars_per_line: int = 14  # two lines of large words fit the safe area's width


ARCHETYPES = {a.name: a for a in (
    Archetype("editorial_caricature", "glitch", "editorial caricature with bold outlines", "satirical",
              "high contrast", "standard", "medium"),
    Archetype("cinematic_documentary", "classic", "cinematic film stills, natural light", "epic_cinematic",
              "teal and orange", "slow", "low"),
    Archetype("neon_cyberpunk", "neon", "neon-lit futuristic city, synthwave", "energetic_electronic",
              "neon", "fast", "high"),
    Archetype("warm_storybook", "bubbly", "warm watercolour storybook illustration", "warm_acoustic",
              "pastel", "slow", "low"),
    Archetype("minimal_explainer", "clean", "flat minimal vector shapes", "lofi_chill",
              "monochrome blue", "standard", "low"),
    Archetype("dark_mystery", "bold", "moody chiaroscuro, fog and shadows", "mysterious",
              "dark", "slow", "medium"),
    Archetype("bright_pop", "karaoke", "bold pop-art colours and halftones", "upbeat_pop",
              "vivid", "fast", "high"),
    Archetype("nature_calm", "classic", "soft nature photography, golden hour", "calm_ambient",
              "earth", "slow", "low"),
    Archetype("history_epic", "bold", "oil painting of historic scenes", "epic_cinematic",
              "sepia", "standard", "medium"),
    Archetype("science_wonder", "clean", "luminous scientific visualisation, deep space", "inspirational",
              "cosmic", "standard", "medium"),
)}

PALETTES = {
    "high contrast": Palette(("#111111", "#f5f5f0"), ("#e63946", "#ffd166"), "#ffffff"),
    "teal and orange": Palette(("#0b3c49", "#155e63"), ("#f28f3b", "#c8553d"), "#ffffff"),
    "neon": Palette(("#0d0221", "#1a1446"), ("#ff2a6d", "#05d9e8", "#d1f7ff"), "#ffffff"),
    "pastel": Palette(("#fde2e4", "#e2ece9"), ("#bee1e6", "#f0efeb", "#cddafd"), "#3d3d3d"),
    "monochrome blue": Palette(("#0a2342", "#2c4a6e"), ("#5fa8d3", "#cae9ff"), "#ffffff"),
    "dark": Palette(("#0b0c10", "#1f2833"), ("#66fcf1", "#45a29e"), "#ffffff"),
    "vivid": Palette(("#ff006e", "#3a86ff"), ("#ffbe0b", "#fb5607", "#8338ec"), "#ffffff"),
    "earth": Palette(("#283618", "#606c38"), ("#dda15e", "#bc6c25", "#fefae0"), "#ffffff"),
    "sepia": Palette(("#3e2723", "#5d4037"), ("#d7ccc8", "#a1887f", "#ffcc80"), "#ffffff"),
    "cosmic": Palette(("#03071e", "#10002b"), ("#7b2cbf", "#c77dff", "#48cae4"), "#ffffff"),
}

# Short-form video cuts every 2-4 s at a standard pace; slow tiers (storybook, documentary) linger.
PACING = {p.name: p for p in (
    Pacing("slow", 2.1, 4.0, 7.0, 2.4),
    Pacing("standard", 2.5, 3.0, 6.0, 2.9),
    Pacing("fast", 2.9, 2.5, 4.5, 3.3),
)}

# The manifest `safe_area` each platform's captions keep to.
SAFE_AREAS = {"tiktok": "tiktok", "instagram": "instagram", "youtube": "youtube_shorts"}

# The longest reel each feed takes as short-form (checked 2025): YouTube Shorts up to 3 min (since
# October 2024), Instagram Reels up to 3 min (since January 2025). TikTok uploads may run 10 min,
# but its short-form feed norm is under 3 min, so MoneyReels stops there too.
PLATFORMS = {p.name: p for p in (
    Platform("youtube", 1080, 1920, 30, 180),
    Platform("tiktok", 1080, 1920, 30, 180),
    Platform("instagram", 1080, 1920, 30, 180),
)}

# Large, heavy, outlined and shadowed: readable over any picture at phone size (sizes for 1080 px wide).
_BASE_CAPTION = {"font_size": 100, "font_weight": 900, "color": "white", "stroke_color": "black",
                 "stroke_width": 8, "line_height": 1.1, "text_align": "center", "shadow_color": "rgba(0,0,0,0.55)",
                 "shadow_offset_y": 6, "shadow_blur": 12}

CAPTION_STYLES = {
    "classic": CaptionStyle(_BASE_CAPTION, "color", "#ffd60a"),
    "bold": CaptionStyle({**_BASE_CAPTION, "font_size": 112}, "pop", "#ff4d4d", 2),
    "glitch": CaptionStyle({**_BASE_CAPTION, "shadow_color": "#00e5ff", "shadow_offset_x": 6, "shadow_offset_y": 0,
                            "shadow_blur": 0}, "underline", "#ff2a6d"),
    "neon": CaptionStyle({**_BASE_CAPTION, "stroke_width": 4, "shadow_color": "#ff2a6d", "shadow_offset_y": 0,
                          "shadow_blur": 24}, "fade", "#05d9e8"),
    "bubbly": CaptionStyle({**_BASE_CAPTION, "font_weight": 800, "stroke_color": "#5a3e36"}, "bounce", "#ffb4a2",
                           text_transform="none"),
    "clean": CaptionStyle({**_BASE_CAPTION, "font_weight": 800, "stroke_width": 6}, "highlight", "#ff3b5c", 4,
                          text_transform="none"),
    "karaoke": CaptionStyle(_BASE_CAPTION, "karaoke", "#ffbe0b"),
}

VISUAL_TYPES = ("ai_image", "ai_video", "stock_image", "stock_video", "text_card")
MOTIONS = ("zoom_in", "zoom_out", "pan_left", "pan_right", "static")
TRANSITIONS = ("crossfade", "slide", "wipe", "cut")

_ARCHETYPE_WORDS = {
    "science_wonder": ("space", "star", "planet", "galaxy", "science", "physics", "atom", "universe", "black hole", "quantum"),
    "history_epic": ("history", "ancient", "empire", "war", "king", "queen", "roman", "medieval", "century"),
    "dark_mystery": ("mystery", "crime", "ghost", "unsolved", "dark", "haunted", "secret", "murder"),
    "nature_calm": ("nature", "forest", "ocean", "animal", "bird", "tree", "garden", "mountain", "honey", "bee"),
    "neon_cyberpunk": ("ai", "robot", "future", "tech", "computer", "cyber", "hacker", "crypto"),
    "warm_storybook": ("story", "once upon", "child", "kids", "fairy", "bedtime", "friend"),
    "bright_pop": ("fun", "party", "music", "pop", "dance", "celebrity", "trend"),
    "editorial_caricature": ("politic", "election", "satire", "government", "economy", "news"),
    "minimal_explainer": ("how to", "explain", "tips", "guide", "learn", "why", "steps", "money", "dollar",
                          "invest", "saving", "interest", "budget", "percent"),
}


def pick_archetype(text: str) -> str:
    """Choose an archetype from the words of a topic or script; cinematic when nothing matches."""
    lowered = f" {text.lower()} "
    scores = {name: sum(lowered.count(word) for word in words) for name, words in _ARCHETYPE_WORDS.items()}
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] else "cinematic_documentary"
