"""Compile a planned timeline and its sprite tracks into one ffmpeg command.

Visual layers are stacked bottom to top with `overlay`. Consecutive opaque layers sharing a box
are joined first (concat, or xfade for a transition) into one stream, so a slideshow costs one
overlay; when that stream fills the frame for the whole video it becomes the canvas itself.
"""

from pathlib import Path

from moneyreels.render.audio import mix_audio
from moneyreels.render.graph import Graph, seconds
from moneyreels.render.segments import Segment, build_segment, draw_shadow, fills_box, is_plain
from moneyreels.render.sprites import SpriteTrack
from moneyreels.render.timeline import Box, Clip, Plan

XFADE = {"crossfade": "fade", "slide": "slideleft", "wipe": "wipeleft"}


def build_graph(plan: Plan, tracks: list[SpriteTrack], work_dir: Path, rw_timeout: float) -> tuple[Graph, list[str]]:
    """Return the graph with [vout] and [aout] labels set, and warnings about ignored transitions."""
    g = Graph(plan.fps, rw_timeout)
    warnings = []
    runs = _runs([c for c in plan.clips if c.layer.type != "audio"], plan.fps, warnings)
    layers = sorted([(run[0].z, run) for run in runs] + [(track.z, track) for track in tracks], key=lambda i: i[0])
    video_inputs = {}
    canvas = None
    for _, item in layers:
        if isinstance(item, SpriteTrack):
            canvas = _overlay_sprite(g, canvas or _black(g, plan), item, work_dir)
            continue
        start_frame = _frame(item[0].start, plan.fps)
        stream, inputs = _run_stream(g, item, plan.fps, work_dir)
        video_inputs.update(inputs)
        if canvas is None and _covers_frame(item, stream, plan, start_frame):
            canvas = stream.label
            continue
        canvas = _overlay_run(g, canvas or _black(g, plan), item, stream, plan, work_dir)
    canvas = canvas or _black(g, plan)
    g.chains.append(f"[{canvas}]format=yuv420p[vout]")
    audio = mix_audio(g, plan, video_inputs)
    g.chains.append(f"[{audio}]anull[aout]")
    return g, warnings


def _frame(t: float, fps: float) -> int:
    return round(t * fps)


def _runs(clips: list[Clip], fps: float, warnings: list[str]) -> list[list[Clip]]:
    """Group z-ordered clips into runs of back-to-back opaque layers in one box."""
    runs: list[list[Clip]] = []
    for clip in clips:
        last = runs[-1][-1] if runs else None
        if last is not None and _joinable(last, clip, fps):
            runs[-1].append(clip)
            continue
        if clip.layer.transition is not None:
            warnings.append(f"transition on layer '{clip.layer.id}' ignored: it does not directly follow "
                            "an opaque layer in the same box")
        runs.append([clip])
    return runs


def _joinable(a: Clip, b: Clip, fps: float) -> bool:
    return (a.box == b.box and a.z[0] == b.z[0] and abs(b.start - a.end) <= 0.5 / fps
            and all(fills_box(c) and is_plain(c) for c in (a, b)))


def _transition_frames(clip: Clip, fps: float) -> int:
    """Return how many frames the clip's transition takes (0 when none fits)."""
    if clip.layer.transition is None:
        return 0
    frames = _frame(clip.end, fps) - _frame(clip.start, fps)
    return max(0, min(_frame(clip.layer.transition.duration_seconds, fps), frames - 1))


def _run_stream(g: Graph, run: list[Clip], fps: float, work_dir: Path) -> tuple[Segment, dict[str, int]]:
    """Build a run's stream from pts 0: its clips back to back, transitions blended in between.

    A transition of d frames blends the outgoing clip's d extra frames with the incoming
    clip's first d. Only those frames go through xfade (which costs a full-frame pass even
    for frames outside the fade), the rest are split off and concatenated.
    """
    bounds = [_frame(clip.start, fps) for clip in run] + [_frame(run[-1].end, fps)]
    overlaps = [_transition_frames(clip, fps) for clip in run[1:]] + [0]
    parts, leads, inputs = [], [], {}
    for i, clip in enumerate(run):
        frames = max(1, bounds[i + 1] - bounds[i])
        segment = build_segment(g, clip, frames + overlaps[i], work_dir)
        inputs[clip.layer.id] = segment.input
        lead = overlaps[i - 1] if i else 0
        pieces = {"lead": (0, lead), "body": (lead, frames), "tail": (frames, frames + overlaps[i])}
        pieces = {name: span for name, span in pieces.items() if span[1] > span[0]}
        labels = dict(zip(pieces, [g.label("p") for _ in pieces]))
        if len(pieces) > 1:
            g.chains.append(f"[{segment.label}]split={len(pieces)}" + "".join(f"[{x}]" for x in labels.values()))
            labels = {name: g.chain([labels[name]], [f"trim=start_frame={a}:end_frame={b}", "setpts=PTS-STARTPTS"])
                      for name, (a, b) in pieces.items()}
        else:
            labels = {name: segment.label for name in pieces}
        if "lead" in labels:
            kind = XFADE[clip.layer.transition.type]
            parts.append(g.chain([leads.pop(), labels["lead"]], [
                f"xfade=transition={kind}:duration={seconds(lead / g.rate)}:offset=0"]))
        parts.append(labels["body"])
        if "tail" in labels:
            leads.append(labels["tail"])
        if i == 0:
            head = segment
    label = parts[0] if len(parts) == 1 else g.chain(parts, [f"concat=n={len(parts)}:v=1:a=0"])
    joined = Segment(label, head.input, bounds[-1] - bounds[0], head.dx, head.dy, head.w, head.h, head.alpha)
    return joined, inputs


def _covers_frame(run: list[Clip], stream: Segment, plan: Plan, start_frame: int) -> bool:
    """Return whether the run can be the canvas: opaque, full frame, from first frame to last."""
    return (run[0].box == Box(0, 0, plan.width, plan.height) and not stream.alpha
            and (stream.w, stream.h) == (plan.width, plan.height) and start_frame == 0
            and _frame(run[-1].end, plan.fps) >= plan.frames and is_plain(run[0]))


def _black(g: Graph, plan: Plan) -> str:
    return g.chain([], [f"color=c=black:s={plan.width}x{plan.height}:r={g.rate}", f"trim=end_frame={plan.frames}",
                        "format=yuv420p"])


def _overlay_run(g: Graph, canvas: str, run: list[Clip], stream: Segment, plan: Plan, work_dir: Path) -> str:
    clip = run[0]
    start, end = _frame(clip.start, plan.fps) / g.rate, _frame(run[-1].end, plan.fps) / g.rate
    shadow = draw_shadow(clip, stream.w, stream.h, work_dir)
    if shadow is not None:
        x, y = clip.box.x + stream.dx + shadow.dx, clip.box.y + stream.dy + shadow.dy
        canvas = g.chain([canvas, f"{g.still_input(shadow.path)}:v"],
                         [f"overlay=x={x}:y={y}:enable='{_window(start, end)}'"])
    moved = g.chain([stream.label], [f"setpts=PTS-STARTPTS+{seconds(start)}/TB"])
    x, y = clip.box.x + stream.dx, clip.box.y + stream.dy
    return g.chain([canvas, moved], [f"overlay=x={x}:y={y}:eof_action=pass"])


def _overlay_sprite(g: Graph, canvas: str, track: SpriteTrack, work_dir: Path) -> str:
    if len(track.frames) == 1:
        index = g.still_input(track.frames[0].path)
    else:
        index = g.add_input(["-protocol_whitelist", "file", "-f", "concat", "-safe", "0",
                             "-i", str(_concat_list(track, work_dir))])
    enable = "+".join(_window(start, end) for start, end in track.windows)
    return g.chain([canvas, f"{index}:v"], [f"overlay=x={track.x}:y={track.y}:enable='{enable}'"])


def _window(start: float, end: float) -> str:
    return f"gte(t,{seconds(start)})*lt(t,{seconds(end)})"


def _concat_list(track: SpriteTrack, work_dir: Path) -> Path:
    """Write an ffconcat list showing each frame from its start (the first from 0) on.

    Millisecond frame timestamps (image2 `framerate` 1000) keep word timing exact; the default
    1/25 s time base would round every caption change to 40 ms.
    """
    bounds = [0.0] + [f.start for f in track.frames[1:]] + [track.frames[-1].end]
    lines = ["ffconcat version 1.0"]
    for frame, begin, finish in zip(track.frames, bounds, bounds[1:]):
        quoted = str(frame.path).replace("'", "'\\''")
        lines += [f"file '{quoted}'", "option framerate 1000", f"duration {finish - begin:.6f}"]
    path = track.frames[0].path.with_suffix(".ffconcat")
    path.write_text("\n".join(lines) + "\n")
    return path
