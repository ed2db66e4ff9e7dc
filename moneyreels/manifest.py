"""Pydantic models of the Reel Forge render manifest (plus MoneyReels' documented extensions).

Validation here is structural: a manifest that fails it is a 400 before any job exists.
Unknown keys are ignored, as Reel Forge's Zod schemas strip them; wrong types and values fail.
Whether assets exist, decode, or fit the timeline is checked later by the render preflight.
"""

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

MediaType = Literal["video", "audio", "image"]


def _check_color(value):
    from moneyreels.render.colors import parse_color  # lazy: moneyreels.render imports this module

    parse_color(value)
    return value


def _check_length(value):
    from moneyreels.render.shapes import parse_length

    parse_length(value, 100)
    return value


def _check_box_shadow(value):
    from moneyreels.render.shapes import parse_box_shadow

    parse_box_shadow(value)
    return value


Color = Annotated[str, AfterValidator(_check_color)]
Length = Annotated[str | float, AfterValidator(_check_length)]


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Output(Model):
    width: PositiveInt
    height: PositiveInt
    fps: PositiveFloat
    # Extension: normalise the final mix to this integrated loudness (LUFS), e.g. -14 for social video.
    loudness_lufs: float | None = Field(None, ge=-40, le=-5)


class Asset(Model):
    id: str = Field(min_length=1)
    type: MediaType
    url: str = Field(min_length=1)


class TimeSpan(Model):
    start_seconds: NonNegativeFloat = 0.0
    duration_seconds: PositiveFloat | None = None


class Trim(Model):
    start_seconds: NonNegativeFloat = 0.0


class Layout(Model):
    """A box in CSS terms; every key is optional so global and local layouts can merge."""

    x: Length | None = None
    y: Length | None = None
    width: Length | None = None
    height: Length | None = None
    fit: Literal["cover", "contain"] | None = None
    z_index: int | None = None

    @model_validator(mode="after")
    def _positive_size(self):
        from moneyreels.render.shapes import parse_length

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
    opacity: float = Field(1.0, ge=0, le=1)
    border_radius: Length | None = None
    box_shadow: Annotated[str, AfterValidator(_check_box_shadow)] | None = None


class MediaSettings(Model):
    volume: NonNegativeFloat = 1.0
    loop: bool = False
    fade_in_seconds: NonNegativeFloat = 0.0
    fade_out_seconds: NonNegativeFloat = 0.0


class Motion(Model):
    """Extension: Ken Burns movement of an image layer."""

    type: Literal["zoom_in", "zoom_out", "pan_left", "pan_right", "static"]
    intensity: float = Field(0.15, gt=0, le=1)
    easing: Literal["linear", "ease_in_out"] = "linear"


class Transition(Model):
    """Extension: how a layer replaces the previous consecutive layer."""

    type: Literal["crossfade", "slide", "wipe"]
    duration_seconds: PositiveFloat = 0.5


class Layer(Model):
    id: str = Field(min_length=1)
    type: MediaType
    asset_id: str = Field(min_length=1)
    time: TimeSpan | None = None
    trim: Trim | None = None
    layout: Layout = Field(default_factory=Layout)
    background_mode: Literal["blurred", "solid", "transparent"] = "blurred"
    style: MediaStyle = Field(default_factory=MediaStyle)
    media_settings: MediaSettings = Field(default_factory=MediaSettings)
    motion: Motion | None = None
    transition: Transition | None = None

    @model_validator(mode="after")
    def _image_needs_duration(self):
        if self.type == "image" and (self.time is None or self.time.duration_seconds is None):
            raise ValueError("image layers need time.duration_seconds (an image has no duration)")
        if self.motion is not None and self.type != "image":
            raise ValueError("motion is only supported on image layers")
        return self


class TextStyle(Model):
    """Reel Forge text style keys; unset keys fall back to global_styles.text, then defaults."""

    font_size: PositiveFloat | None = None
    font_family: str | None = None
    font_weight: int | None = Field(None, ge=1, le=1000)
    color: Color | None = None
    text_align: Literal["left", "center", "right", "justify"] | None = None
    letter_spacing: float | None = None
    line_height: PositiveFloat | None = None
    stroke_color: Color | None = None
    stroke_width: NonNegativeFloat | None = None
    shadow_color: Color | None = None
    shadow_blur: NonNegativeFloat | None = None
    shadow_offset_x: float | None = None
    shadow_offset_y: float | None = None

    def merged_over(self, base: "TextStyle | None") -> "TextStyle":
        """Return base with this style's set keys winning."""
        if base is None:
            return self
        return base.model_copy(update=self.model_dump(exclude_none=True))


class TextTime(TimeSpan):
    duration_seconds: PositiveFloat


class TextOverlay(Model):
    id: str | None = None
    content: str
    time: TextTime
    layout: Layout = Field(default_factory=Layout)
    style: TextStyle = Field(default_factory=TextStyle)


class CaptionWord(Model):
    text: str
    start_seconds: NonNegativeFloat
    end_seconds: PositiveFloat

    @model_validator(mode="after")
    def _ends_after_start(self):
        if self.end_seconds <= self.start_seconds:
            raise ValueError("end_seconds must be greater than start_seconds")
        return self


class CaptionTrack(Model):
    """Extension: word-by-word captions, a page of words at a time with the spoken word highlighted."""

    id: str | None = None
    words: list[CaptionWord] = Field(min_length=1, max_length=20000)
    layout: Layout = Field(default_factory=Layout)
    style: TextStyle = Field(default_factory=TextStyle)
    effect: Literal["color", "highlight", "karaoke", "pop", "bounce", "fade", "underline"] = "color"
    highlight_color: Color = "#FFD700"
    past_color: Color | None = None
    upcoming_color: Color | None = None
    max_words_per_page: int = Field(3, ge=1, le=20)
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
    timeline: list[Layer] = Field(default_factory=list)
    text_overlays: list[TextOverlay] = Field(default_factory=list)
    captions: list[CaptionTrack] = Field(default_factory=list)
    global_styles: GlobalStyles = Field(default_factory=GlobalStyles)
    global_layouts: GlobalLayouts = Field(default_factory=GlobalLayouts)


class Manifest(Model):
    version: str = Field(min_length=1)
    output: Output
    assets: list[Asset] = Field(default_factory=list)
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

    def asset(self, asset_id: str) -> Asset:
        """Return the asset with this id (references were validated)."""
        return next(a for a in self.assets if a.id == asset_id)


def _require_unique(what, ids):
    seen = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"duplicate {what} id {item!r}")
        seen.add(item)
