"""Pydantic models of the Reel Forge render manifest (plus MoneyReels' documented extensions).

Validation here is structural: a manifest that fails it is a 400 before any job exists.
Unknown keys are ignored, as Reel Forge's Zod schemas strip them; wrong types and values fail.
Whether assets exist, decode, or fit the timeline is checked later by the render preflight.
"""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from . import easing
from .transitions import TRANSITIONS, check_transition
from .values import layout_box, parse_box_shadow, parse_color, parse_length

MediaType = Literal["video", "audio", "image"]

# Upper bounds on every number and count, checked before a job exists so that no request buys
# unbounded time or memory. docs/manifest-extensions.md lists them ("Limits"); keep it in step.
MAX_SECONDS = 3600.0  # any time or duration; the render's own limit (MAX_DURATION) is lower
MAX_SIDE = 4096  # output width and height, px
MAX_FPS = 60
MAX_PIXELS_PER_SECOND = 1080 * 1920 * 60  # width x height x fps: a 1080x1920 reel at 60 fps
MAX_LENGTH_PX, MAX_LENGTH_PERCENT = 4096, 200  # any layout length
MAX_FONT_SIZE = 500  # px
MAX_STROKE = 50  # px, text stroke_width
MAX_BLUR = 100  # px, text shadow_blur and box_shadow blur (a Gaussian over the sprite)
MAX_OFFSET = 1000  # px, shadow offsets, box_shadow spread, letter_spacing
MAX_VOLUME = 10.0
MAX_ASSETS = MAX_LAYERS = MAX_TEXT_OVERLAYS = 100
MAX_CAPTION_TRACKS, MAX_CAPTION_WORDS, MAX_WORDS_PER_PAGE = 10, 2000, 20
MAX_TEXT_CHARS, MAX_WORD_CHARS = 2000, 100
MAX_ID_CHARS, MAX_URL_CHARS = 200, 8192
MAX_KEYFRAMES = 100  # per property of a layer
MAX_SCALE, MAX_ROTATION = 10.0, 3600.0  # keyframed scale (times the box), rotation (degrees either way)


def Bounded(low: float, high: float, *, above: bool = False):
    """A finite float in [low, high] ((low, high] with above=True)."""
    return Annotated[float, Field(gt=low, le=high, allow_inf_nan=False) if above else
                     Field(ge=low, le=high, allow_inf_nan=False)]


def Count(item, maximum: int, minimum: int = 0):
    """A list of at most `maximum` items."""
    return Annotated[list[item], Field(min_length=minimum, max_length=maximum)]


Seconds = Bounded(0, MAX_SECONDS)
PositiveSeconds = Bounded(0, MAX_SECONDS, above=True)
Offset = Bounded(-MAX_OFFSET, MAX_OFFSET)
Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]


def _check_color(value):
    parse_color(value)
    return value


def _check_length(value):
    if isinstance(value, str) and len(value) > 50:
        raise ValueError("a length is at most 50 characters")
    number = abs(parse_length(value, 100))  # a percentage of 100 px is the percentage itself
    limit = MAX_LENGTH_PERCENT if isinstance(value, str) and value.strip().endswith("%") else MAX_LENGTH_PX
    if number > limit:
        unit = "%" if limit == MAX_LENGTH_PERCENT else "px"
        raise ValueError(f"length {value!r} is beyond the limit of {limit:g}{unit}")
    return value


def _check_box_shadow(value):
    shadow = parse_box_shadow(value)
    reach = max(abs(shadow.offset_x), abs(shadow.offset_y), abs(shadow.spread)) if shadow else 0
    if shadow and (shadow.blur > MAX_BLUR or reach > MAX_OFFSET):
        raise ValueError(f"box_shadow: blur is at most {MAX_BLUR}px and offsets and spread at most {MAX_OFFSET}px")
    return value


def _check_easing(value):
    easing.parse(value)
    return value


Color = Annotated[str, Field(max_length=100), AfterValidator(_check_color)]
Easing = Annotated[str, Field(max_length=100), AfterValidator(_check_easing)]
Length = Annotated[str | float, AfterValidator(_check_length)]


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Poster(Model):
    """Extension: a JPEG of the frame on screen at this time, written beside the output."""

    time_seconds: Seconds


class Output(Model):
    width: int = Field(gt=0, le=MAX_SIDE)
    height: int = Field(gt=0, le=MAX_SIDE)
    fps: Bounded(1, MAX_FPS)
    # Extension: normalise the final mix to this integrated loudness (LUFS), e.g. -14 for social video.
    loudness_lufs: Bounded(-40, -5) | None = None
    format: Literal["mp4", "gif", "mp3"] = Field("mp4", description=(
        "Extension: an MP4 (H.264/AAC); a palette GIF preview, no sound, at most 15 fps and 480 px on its longer "
        "side; or an MP3 of the mix alone."))
    poster: Poster | None = Field(None, description="Extension: also write a JPEG of one frame (`poster_url`).")

    @field_validator("poster")
    @classmethod
    def _poster_needs_a_picture(cls, poster, info: ValidationInfo):
        if poster is not None and info.data.get("format") == "mp3":
            raise ValueError("an mp3 output has no picture to take a poster from")
        return poster

    @model_validator(mode="after")
    def _pixel_rate(self):
        if self.width * self.height * self.fps > MAX_PIXELS_PER_SECOND:
            raise ValueError(f"width x height x fps is {self.width * self.height * self.fps:.0f} pixels a second, over "
                             f"the limit of {MAX_PIXELS_PER_SECOND} (1080x1920 at 60 fps)")
        return self


def _no_control_characters(value: str) -> str:
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError("must not contain control characters (NUL, newlines, ...)")
    return value


class Asset(Model):
    id: Id
    type: MediaType
    url: Annotated[str, AfterValidator(_no_control_characters)] = Field(min_length=1, max_length=MAX_URL_CHARS)


class TimeSpan(Model):
    start_seconds: Seconds = 0.0
    duration_seconds: PositiveSeconds | None = None


class Trim(Model):
    start_seconds: Seconds = 0.0


class Layout(Model):
    """A box in CSS terms; every key is optional so global and local layouts can merge."""

    x: Length | None = None
    y: Length | None = None
    width: Length | None = None
    height: Length | None = None
    fit: Literal["cover", "contain"] | None = None
    z_index: int | None = Field(None, ge=-1000, le=1000)

    @model_validator(mode="after")
    def _positive_size(self):
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and parse_length(value, 100) <= 0:
                raise ValueError(f"{name} must be greater than 0")
        return self

    def merged_over(self, base: "Layout | None") -> "Layout":
        """Return base with this layout's set keys winning."""
        if base is None:
            return self
        return base.model_copy(update=self.model_dump(exclude_none=True))


class MediaStyle(Model):
    opacity: Bounded(0, 1) = 1.0
    border_radius: Length | None = None
    box_shadow: Annotated[str, AfterValidator(_check_box_shadow)] | None = None


class Ducking(Model):
    """Extension: lower this layer's sound while another layer sounds (music under a voice)."""

    layer: str = Field(min_length=1, max_length=200)  # id of the audio or video layer to duck under
    depth_db: float = Field(12.0, ge=1, le=40)  # how much lower while that layer sounds
    attack_ms: float = Field(50.0, ge=1, le=2000)  # how fast it dips when that layer starts
    release_ms: float = Field(400.0, ge=10, le=9000)  # how fast it comes back in a pause


class MediaSettings(Model):
    volume: Bounded(0, MAX_VOLUME) = 1.0
    loop: bool = False
    fade_in_seconds: Seconds = 0.0
    fade_out_seconds: Seconds = 0.0
    duck_under: Ducking | None = None


class Motion(Model):
    """Extension: Ken Burns movement of an image layer."""

    type: Literal["zoom_in", "zoom_out", "pan_left", "pan_right", "static"]
    intensity: Bounded(0, 1, above=True) = 0.15
    easing: Easing = "linear"


class Transition(Model):
    """Extension: how a layer replaces the previous consecutive layer."""

    # Any name of the catalogue (GET /api/v1/transitions); not a Literal, so a typo's 400 stays one line.
    type: Annotated[str, AfterValidator(check_transition), Field(json_schema_extra={"enum": list(TRANSITIONS)})]
    duration_seconds: PositiveSeconds = 0.5


def _keyframe(name: str, low: float, high: float) -> type:
    """A keyframe model whose value lies in [low, high]."""
    class Keyframe(Model):
        time: Seconds  # from the layer's start
        value: Bounded(low, high)
        easing: Easing = "linear"  # shapes the way from the previous keyframe to this one

    Keyframe.__name__ = Keyframe.__qualname__ = f"{name}Keyframe"
    return Keyframe


def _keyframe_list(name: str, low: float, high: float):
    return Count(_keyframe(name, low, high), MAX_KEYFRAMES, minimum=1) | None


VISUAL_PROPERTIES = ("opacity", "x", "y", "scale", "rotation")


class Keyframes(Model):
    """Extension: values of a layer's properties over its time, eased between keyframes."""

    opacity: _keyframe_list("Opacity", 0, 1) = None
    x: _keyframe_list("X", -MAX_LENGTH_PX, MAX_LENGTH_PX) = None  # px right of the layout position
    y: _keyframe_list("Y", -MAX_LENGTH_PX, MAX_LENGTH_PX) = None  # px below it
    scale: _keyframe_list("Scale", 0, MAX_SCALE) = None  # about the box's centre
    rotation: _keyframe_list("Rotation", -MAX_ROTATION, MAX_ROTATION) = None  # degrees clockwise
    volume: _keyframe_list("Volume", 0, MAX_VOLUME) = None  # times media_settings.volume

    @model_validator(mode="after")
    def _times_increase(self):
        for name in (*VISUAL_PROPERTIES, "volume"):
            keys = getattr(self, name) or []
            if any(b.time <= a.time for a, b in zip(keys, keys[1:])):
                raise ValueError(f"{name}: keyframe times must increase")
        return self

    def visual(self) -> bool:
        return any(getattr(self, name) for name in VISUAL_PROPERTIES)


ANIMATION_TYPES = ("fade", "slide", "pop", "scale", "wipe", "blur")


class Animation(Model):
    """Extension: how a picture enters (`in`) or leaves (`out`, the entrance played backwards)."""

    type: Literal[ANIMATION_TYPES]
    duration_seconds: PositiveSeconds = 0.5
    easing: Easing | None = None  # default: ease-out entering, ease-in leaving (pop: an overshoot)
    direction: Literal["left", "right", "top", "bottom"] | None = None  # slide, wipe: the side it comes from
    distance: Length | None = None  # slide: how far it travels, px or % of its box; default 100%
    fade: bool = False  # slide: fade in (out) as it moves

    @model_validator(mode="after")
    def _options_fit_type(self):
        if self.direction is not None and self.type not in ("slide", "wipe"):
            raise ValueError("direction applies to slide and wipe only")
        if (self.distance is not None or self.fade) and self.type != "slide":
            raise ValueError("distance and fade apply to slide only")
        return self


class TextAnimation(Animation):
    type: Literal[(*ANIMATION_TYPES, "typewriter")]


class Animations(Model):
    enter: Animation | None = Field(None, alias="in")
    exit: Animation | None = Field(None, alias="out")


class TextAnimations(Animations):
    enter: TextAnimation | None = Field(None, alias="in")
    exit: TextAnimation | None = Field(None, alias="out")


class Layer(Model):
    id: Id
    type: MediaType
    asset_id: Id
    time: TimeSpan | None = None
    trim: Trim | None = None
    layout: Layout = Field(default_factory=Layout)
    background_mode: Literal["blurred", "solid", "transparent"] = "blurred"
    style: MediaStyle = Field(default_factory=MediaStyle)
    media_settings: MediaSettings = Field(default_factory=MediaSettings)
    motion: Motion | None = None
    transition: Transition | None = None
    animations: Animations | None = None
    keyframes: Keyframes | None = None

    @model_validator(mode="after")
    def _image_needs_duration(self):
        if self.type == "image" and (self.time is None or self.time.duration_seconds is None):
            raise ValueError("image layers need time.duration_seconds (an image has no duration)")
        if self.motion is not None and self.type != "image":
            raise ValueError("motion is only supported on image layers")
        return self

    @model_validator(mode="after")
    def _moves_fit_type(self):
        if self.type == "audio" and (self.animations is not None or self.keyframes and self.keyframes.visual()):
            raise ValueError("animations and keyframes of opacity, x, y, scale and rotation need a picture: "
                             "an audio layer has none")
        if self.type == "image" and self.keyframes and self.keyframes.volume:
            raise ValueError("keyframes.volume: an image layer has no sound")
        if self.moves() and self.style.box_shadow:
            raise ValueError("style.box_shadow cannot be combined with animations or keyframes")
        return self

    def moves(self) -> bool:
        """Return whether the layer's picture is animated or keyframed."""
        return self.type != "audio" and bool(self.animations and (self.animations.enter or self.animations.exit)
                                             or self.keyframes and self.keyframes.visual())


class TextStyle(Model):
    """Reel Forge text style keys; unset keys fall back to global_styles.text, then defaults."""

    font_size: Bounded(1, MAX_FONT_SIZE) | None = None
    font_family: str | None = Field(None, max_length=200)
    font_weight: int | None = Field(None, ge=1, le=1000)
    color: Color | None = None
    text_align: Literal["left", "center", "right", "justify"] | None = None
    letter_spacing: Offset | None = None
    line_height: Bounded(0, 10, above=True) | None = None
    stroke_color: Color | None = None
    stroke_width: Bounded(0, MAX_STROKE) | None = None
    shadow_color: Color | None = None
    shadow_blur: Bounded(0, MAX_BLUR) | None = None
    shadow_offset_x: Offset | None = None
    shadow_offset_y: Offset | None = None

    def merged_over(self, base: "TextStyle | None") -> "TextStyle":
        """Return base with this style's set keys winning."""
        if base is None:
            return self
        return base.model_copy(update=self.model_dump(exclude_none=True))


class TextTime(TimeSpan):
    duration_seconds: PositiveSeconds


class TextEntrance(Model):
    """Extension (first form): how a text overlay enters; the same as animations.in."""

    type: Literal["pop", "slide", "type_on"]
    duration_seconds: float = Field(0.4, gt=0, le=5)

    def as_animation(self) -> TextAnimation:
        """Return the animations.in this entrance stands for."""
        if self.type == "slide":  # rises a fifth of its box into place, fading in
            return TextAnimation(type="slide", direction="bottom", distance="20%", fade=True,
                                 duration_seconds=self.duration_seconds)
        kind = "typewriter" if self.type == "type_on" else self.type
        return TextAnimation(type=kind, duration_seconds=self.duration_seconds)


class TextOverlay(Model):
    id: Id | None = None
    content: str = Field(max_length=MAX_TEXT_CHARS)
    time: TextTime
    layout: Layout = Field(default_factory=Layout)
    style: TextStyle = Field(default_factory=TextStyle)
    animation: TextEntrance | None = None
    animations: TextAnimations | None = None
    keyframes: Keyframes | None = None

    @model_validator(mode="after")
    def _one_entrance(self):
        if self.animation is not None and self.animations is not None and self.animations.enter is not None:
            raise ValueError("animation and animations.in both set an entrance: use animations.in")
        if self.keyframes and self.keyframes.volume:
            raise ValueError("keyframes.volume: a text overlay has no sound")
        return self

    def entrance(self) -> TextAnimation | None:
        if self.animation is not None:
            return self.animation.as_animation()
        return self.animations.enter if self.animations else None


class CaptionWord(Model):
    text: str = Field(max_length=MAX_WORD_CHARS)
    start_seconds: Seconds
    end_seconds: PositiveSeconds

    @model_validator(mode="after")
    def _ends_after_start(self):
        if self.end_seconds <= self.start_seconds:
            raise ValueError("end_seconds must be greater than start_seconds")
        return self


class CaptionTrack(Model):
    """Extension: word-by-word captions, a page of words at a time with the spoken word highlighted."""

    id: Id | None = None
    words: Count(CaptionWord, MAX_CAPTION_WORDS, minimum=1)
    layout: Layout = Field(default_factory=Layout)
    style: TextStyle = Field(default_factory=TextStyle)
    effect: Literal["color", "highlight", "karaoke", "pop", "bounce", "fade", "underline"] = "color"
    highlight_color: Color = "#FFD700"
    max_words_per_page: int = Field(3, ge=1, le=MAX_WORDS_PER_PAGE)
    past_color: Color | None = None
    upcoming_color: Color | None = None
    max_chars_per_line: int | None = Field(None, ge=1, le=200)
    position: Literal["center", "lower_third", "upper_third", "safe_bottom"] | None = None
    safe_area: Literal["tiktok", "instagram", "youtube_shorts"] | None = None
    text_transform: Literal["uppercase", "lowercase", "capitalize", "none"] = "none"

    @model_validator(mode="after")
    def _words_in_order(self):
        starts = [w.start_seconds for w in self.words]
        if starts != sorted(starts):
            raise ValueError("caption words must be in time order")
        return self


class GlobalStyles(Model):
    text: TextStyle | None = None


class GlobalLayouts(Model):
    text: Layout | None = None


class Composition(Model):
    auto_stitch: bool = False
    timeline: Count(Layer, MAX_LAYERS) = Field(default_factory=list)
    text_overlays: Count(TextOverlay, MAX_TEXT_OVERLAYS) = Field(default_factory=list)
    captions: Count(CaptionTrack, MAX_CAPTION_TRACKS) = Field(default_factory=list)
    global_styles: GlobalStyles = Field(default_factory=GlobalStyles)
    global_layouts: GlobalLayouts = Field(default_factory=GlobalLayouts)


class Manifest(Model):
    version: str = Field(min_length=1, max_length=50)
    output: Output
    assets: Count(Asset, MAX_ASSETS) = Field(default_factory=list)
    composition: Composition = Field(default_factory=Composition)

    @model_validator(mode="after")
    def _references_resolve(self):
        composition = self.composition
        if not (composition.timeline or composition.text_overlays or composition.captions):
            raise ValueError("composition needs at least one timeline layer, text overlay or caption track")
        _require_unique("assets", [a.id for a in self.assets])
        _require_unique(
            "layer",
            [layer.id for layer in self.composition.timeline]
            + [t.id for t in self.composition.text_overlays if t.id]
            + [c.id for c in self.composition.captions if c.id],
        )
        assets = {a.id: a for a in self.assets}
        for index, layer in enumerate(self.composition.timeline):
            where = f"composition.timeline.{index}"
            asset = assets.get(layer.asset_id)
            if asset is None:
                raise ValueError(f"{where}.asset_id: no asset has id {layer.asset_id!r}")
            if asset.type != layer.type and not (layer.type == "audio" and asset.type == "video"):
                raise ValueError(
                    f"{where}: a {layer.type} layer cannot use {asset.type} asset {asset.id!r}"
                )
            if layer.time is None and not self.composition.auto_stitch:
                raise ValueError(f"{where}.time is required unless composition.auto_stitch is true")
        return self

    @model_validator(mode="after")
    def _boxes_fit(self):
        """Refuse a box over MAX_SIDE a side: text, shadows and masks are drawn at its size in memory."""
        composition, output = self.composition, self.output
        text_base = composition.global_layouts.text
        placed = [(f"composition.timeline.{i}", layer.layout) for i, layer in enumerate(composition.timeline)]
        placed += [(f"composition.{kind}.{i}", item.layout.merged_over(text_base))
                   for kind in ("text_overlays", "captions") for i, item in enumerate(getattr(composition, kind))]
        for where, layout in placed:
            box = layout_box(layout, output.width, output.height)
            if max(box.w, box.h) > MAX_SIDE:
                raise ValueError(f"{where}.layout: its box is {box.w}x{box.h} px; at most {MAX_SIDE} px a side")
        return self

    @model_validator(mode="after")
    def _ducking_resolves(self):
        """Each duck_under names another sounding layer that does not itself duck."""
        layers = {layer.id: layer for layer in self.composition.timeline}
        for index, layer in enumerate(self.composition.timeline):
            ducking = layer.media_settings.duck_under
            if ducking is None:
                continue
            where = f"composition.timeline.{index}.media_settings.duck_under"
            if layer.type == "image":
                raise ValueError(f"{where}: an image layer has no sound to duck")
            target = layers.get(ducking.layer)
            if target is None or target.type == "image" or target is layer:
                raise ValueError(f"{where}.layer: no other audio or video layer has id {ducking.layer!r}")
            if target.media_settings.duck_under is not None:
                raise ValueError(f"{where}.layer: layer {ducking.layer!r} ducks under another layer itself")
        return self

    def asset(self, asset_id: str) -> Asset:
        """Return the asset with this id (references were validated)."""
        return next(a for a in self.assets if a.id == asset_id)


def _require_unique(what, ids):
    seen = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"duplicate {what} id {item!r}")
        seen.add(item)
