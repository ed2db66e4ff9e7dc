"""Every transition a layer may take, in one table: MoneyReels' three built-ins and ffmpeg's xfade catalogue.

Each is drawn as ffmpeg's `xfade` filter draws it, inside the render's one filtergraph (some
through cheaper filters to the same pictures: render/compose.py, render/sweeps.py). The xfade names are
those the bundled ffmpeg (imageio-ffmpeg's) lists in `ffmpeg -h filter=xfade`, less `custom`;
tests/render/test_transitions.py checks the table against that list.
"""

from dataclasses import dataclass

BUILT_IN, XFADE = "built-in", "xfade"


@dataclass(frozen=True)
class TransitionKind:
    name: str
    xfade: str  # the xfade transition that draws it
    description: str

    @property
    def kind(self) -> str:
        """`built-in` for MoneyReels' own names, `xfade` for ffmpeg's."""
        return BUILT_IN if self.name != self.xfade else XFADE


_TABLE = [
    ("crossfade", "fade", "The new layer fades in over the old one."),
    ("slide", "slideleft", "The new layer slides in from the right, pushing the old one out left."),
    ("wipe", "wipeleft", "An edge sweeping from right to left uncovers the new layer."),
    ("fade", "fade", "Cross-dissolve from the old layer to the new one."),
    ("fadefast", "fadefast", "Cross-dissolve that brightens through the change."),
    ("fadeslow", "fadeslow", "Cross-dissolve that darkens through the change."),
    ("fadeblack", "fadeblack", "Fade through black."),
    ("fadewhite", "fadewhite", "Fade through white."),
    ("fadegrays", "fadegrays", "Fade through a greyscale copy of both."),
    ("distance", "distance", "Colours morph by their distance from the new layer's."),
    ("dissolve", "dissolve", "Random pixels switch to the new layer."),
    ("pixelize", "pixelize", "Pixelate, switch, then sharpen again."),
    ("hblur", "hblur", "Horizontal blur through the change."),
    ("radial", "radial", "A clock hand sweeps the new layer in."),
    ("zoomin", "zoomin", "Zoom into the old layer as the new one fades in."),
    ("wipeleft", "wipeleft", "An edge moving left uncovers the new layer."),
    ("wiperight", "wiperight", "An edge moving right uncovers the new layer."),
    ("wipeup", "wipeup", "An edge moving up uncovers the new layer."),
    ("wipedown", "wipedown", "An edge moving down uncovers the new layer."),
    ("wipetl", "wipetl", "A corner moving to the top left uncovers the new layer."),
    ("wipetr", "wipetr", "A corner moving to the top right uncovers the new layer."),
    ("wipebl", "wipebl", "A corner moving to the bottom left uncovers the new layer."),
    ("wipebr", "wipebr", "A corner moving to the bottom right uncovers the new layer."),
    ("slideleft", "slideleft", "The new layer pushes the old one out to the left."),
    ("slideright", "slideright", "The new layer pushes the old one out to the right."),
    ("slideup", "slideup", "The new layer pushes the old one out upwards."),
    ("slidedown", "slidedown", "The new layer pushes the old one out downwards."),
    ("smoothleft", "smoothleft", "A soft edge moving left uncovers the new layer."),
    ("smoothright", "smoothright", "A soft edge moving right uncovers the new layer."),
    ("smoothup", "smoothup", "A soft edge moving up uncovers the new layer."),
    ("smoothdown", "smoothdown", "A soft edge moving down uncovers the new layer."),
    ("coverleft", "coverleft", "The new layer slides in from the right over the old one."),
    ("coverright", "coverright", "The new layer slides in from the left over the old one."),
    ("coverup", "coverup", "The new layer slides in from below over the old one."),
    ("coverdown", "coverdown", "The new layer slides in from above over the old one."),
    ("revealleft", "revealleft", "The old layer slides out left, revealing the new one."),
    ("revealright", "revealright", "The old layer slides out right, revealing the new one."),
    ("revealup", "revealup", "The old layer slides out upwards, revealing the new one."),
    ("revealdown", "revealdown", "The old layer slides out downwards, revealing the new one."),
    ("circlecrop", "circlecrop", "A circle closes to black on the old layer and opens on the new."),
    ("rectcrop", "rectcrop", "A rectangle closes to black on the old layer and opens on the new."),
    ("circleopen", "circleopen", "A growing circle shows the new layer."),
    ("circleclose", "circleclose", "A shrinking circle keeps the old layer."),
    ("horzopen", "horzopen", "A horizontal band opening from the middle shows the new layer."),
    ("horzclose", "horzclose", "Two horizontal edges closing on the middle show the new layer."),
    ("vertopen", "vertopen", "A vertical band opening from the middle shows the new layer."),
    ("vertclose", "vertclose", "Two vertical edges closing on the middle show the new layer."),
    ("diagtl", "diagtl", "A diagonal edge moving to the top left uncovers the new layer."),
    ("diagtr", "diagtr", "A diagonal edge moving to the top right uncovers the new layer."),
    ("diagbl", "diagbl", "A diagonal edge moving to the bottom left uncovers the new layer."),
    ("diagbr", "diagbr", "A diagonal edge moving to the bottom right uncovers the new layer."),
    ("hlslice", "hlslice", "Vertical slices to the left switch one after another."),
    ("hrslice", "hrslice", "Vertical slices to the right switch one after another."),
    ("vuslice", "vuslice", "Horizontal slices upwards switch one after another."),
    ("vdslice", "vdslice", "Horizontal slices downwards switch one after another."),
    ("hlwind", "hlwind", "Ragged streaks blow the new layer in from the right."),
    ("hrwind", "hrwind", "Ragged streaks blow the new layer in from the left."),
    ("vuwind", "vuwind", "Ragged streaks blow the new layer in from below."),
    ("vdwind", "vdwind", "Ragged streaks blow the new layer in from above."),
    ("squeezeh", "squeezeh", "The old layer squeezes flat horizontally to reveal the new one."),
    ("squeezev", "squeezev", "The old layer squeezes flat vertically to reveal the new one."),
]

TRANSITIONS: dict[str, TransitionKind] = {name: TransitionKind(name, xfade, text) for name, xfade, text in _TABLE}


def check_transition(name: str) -> str:
    """Return name when the catalogue has it, else raise ValueError (a 400 naming the field)."""
    if name not in TRANSITIONS:
        raise ValueError(f"unknown transition {name[:50]!r}: GET /api/v1/transitions lists the "
                         f"{len(TRANSITIONS)} names (crossfade, slide, wipe, and ffmpeg's xfade transitions)")
    return name
