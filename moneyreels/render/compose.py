"""Compile a planned timeline and its sprite tracks into one ffmpeg command.

Visual layers are stacked bottom to top with `overlay`. Consecutive opaque layers sharing a box
are joined first (concatenated, blended where a transition says) into one stream, so a slideshow
costs no overlay at all when it fills the frame for the whole video: it becomes the canvas.
"""

from pathlib import Path

from moneyreels.render.animation import Moves, animate_stream, overlay_options, plan_moves
from moneyreels.render.audio import mix_audio
from moneyreels.render.graph import Graph, seconds
from moneyreels.render.segments import Segment, build_segment, draw_shadow, fills_box, is_plain
from moneyreels.render.sprites import SpriteTrack
from moneyreels.render.sweeps import SWEEPS, sweep
from moneyreels.render.timeline import Clip, Timeline
from moneyreels.transitions import TRANSITIONS
from moneyreels.values import Box


def build_graph(plan: Timeline, tracks: list[SpriteTrack], work_dir: Path, rw_timeout: float, *,
                video: bool = True, audio: bool = True) -> tuple[Graph, list[str]]:
    """Return the graph with [vout] and [aout] set (unless turned off), and warnings about ignored transitions."""
    g = Graph(plan.fps, rw_timeout)
    warnings = []
    runs = _runs([c for c in plan.clips if c.layer.type != "audio"], plan.fps, warnings) if video else []
    layers = sorted([(run[0].z, run) for run in runs] + [(track.z, track) for track in tracks], key=lambda i: i[0])
    video_inputs = {}
    canvas = None
    for _, item in layers:
        if isinstance(item, SpriteTrack):
            canvas = _overlay_sprite(g, canvas or _black(g, plan), item, work_dir)
            continue
        if item[0].layer.moves():
            canvas, video_inputs[item[0].layer.id] = _overlay_moving_clip(g, canvas or _black(g, plan), item[0],
                                                                          plan, work_dir)
            continue
        start_frame = _frame(item[0].start, plan.fps)
        stream, inputs = _run_stream(g, item, plan.fps, work_dir)
        video_inputs.update(inputs)
        if canvas is None and _covers_frame(item, stream, plan, start_frame):
            canvas = stream.labels[0]
            continue
        canvas = _overlay_run(g, canvas or _black(g, plan), item, stream, plan, work_dir)
    if video:
        g.chains.append(f"[{canvas or _black(g, plan)}]format=yuv420p[vout]")
    if audio:
        g.chains.append(f"[{mix_audio(g, plan, video_inputs)}]anull[aout]")
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

    A transition of d frames blends the outgoing clip's d extra frames with the incoming clip's
    first d; everything else is concatenated untouched.
    """
    bounds = [_frame(clip.start, fps) for clip in run] + [_frame(run[-1].end, fps)]
    overlaps = [0] + [_transition_frames(clip, fps) for clip in run[1:]] + [0]
    pieces, tail, inputs = [], None, {}
    for i, clip in enumerate(run):
        frames = max(1, bounds[i + 1] - bounds[i])
        lead, extra = overlaps[i], overlaps[i + 1]
        spans = {"lead": (0, lead), "body": (lead, frames), "tail": (frames, frames + extra)}
        spans = {name: span for name, span in spans.items() if span[1] > span[0]}
        segment = build_segment(g, clip, list(spans.values()), work_dir)
        parts = dict(zip(spans, segment.labels))
        inputs[clip.layer.id] = segment.input
        if "lead" in parts:
            pieces.append(_transition(g, clip.layer.transition.type, tail, parts["lead"], lead, work_dir,
                                      (segment.w, segment.h), from_still=run[i - 1].source.info.is_still))
        pieces.append(parts["body"])
        tail = parts.get("tail")
        if i == 0:
            head = segment
    label = pieces[0] if len(pieces) == 1 else g.chain(pieces, [f"concat=n={len(pieces)}:v=1:a=0"])
    return Segment([label], head.input, head.dx, head.dy, head.w, head.h, head.alpha), inputs


def _transition(g: Graph, kind: str, outgoing: str, incoming: str, frames: int, work_dir: Path,
                size: tuple[int, int], from_still: bool) -> str:
    """Blend two equally long, opaque parts (pts from 0, size w x h) into one.

    From a still, a crossfade (or fade) stays in 4:2:0 with fade and overlay, and a sweep of an edge
    over a fixed field (render/sweeps.py) overlays the new part through a moving mask. Both ask for
    their inputs' first frames when the graph starts, which only a still's own looped part can
    give without queueing; xfade does not ask. Everything else uses xfade: it converts both parts
    to 4:4:4 and back (about 25 MB of frame pools per transition at 1080p).
    """
    duration = seconds(frames / g.rate)
    xfade = TRANSITIONS[kind].xfade
    if xfade == "fade" and from_still:
        faded = g.chain([incoming], ["format=yuva420p", f"fade=t=in:st=0:d={duration}:alpha=1"])
        return g.chain([outgoing, faded], ["overlay=format=yuv420"])
    if xfade in SWEEPS and from_still:
        return sweep(g, xfade, outgoing, incoming, frames, *size, work_dir)
    return g.chain([outgoing, incoming], [f"xfade=transition={xfade}:duration={duration}:offset=0",
                                          "format=yuv420p"])


def _covers_frame(run: list[Clip], stream: Segment, plan: Timeline, start_frame: int) -> bool:
    """Return whether the run can be the canvas: opaque, full frame, from first frame to last."""
    return (run[0].box == Box(0, 0, plan.width, plan.height) and not stream.alpha
            and (stream.w, stream.h) == (plan.width, plan.height) and start_frame == 0
            and _frame(run[-1].end, plan.fps) >= plan.frames and is_plain(run[0]))


def _black(g: Graph, plan: Timeline) -> str:
    return g.chain([], [f"color=c=black:s={plan.width}x{plan.height}:r={g.rate}", f"trim=end_frame={plan.frames}",
                        "format=yuv420p"])


def _overlay_run(g: Graph, canvas: str, run: list[Clip], stream: Segment, plan: Timeline, work_dir: Path) -> str:
    clip = run[0]
    start, end = _frame(clip.start, plan.fps) / g.rate, _frame(run[-1].end, plan.fps) / g.rate
    shadow = draw_shadow(clip, stream.w, stream.h, work_dir)
    if shadow is not None:
        x, y = clip.box.x + stream.dx + shadow.dx, clip.box.y + stream.dy + shadow.dy
        canvas = g.chain([canvas, f"{g.still_input(shadow.path)}:v"],
                         [f"overlay=x={x}:y={y}:enable='{_window(start, end)}'"])
    moved = g.chain(stream.labels, [f"setpts=PTS-STARTPTS+{seconds(start)}/TB"])
    x, y = clip.box.x + stream.dx, clip.box.y + stream.dy
    return g.chain([canvas, moved], [f"overlay=x={x}:y={y}:eof_action=pass"])


def _overlay_moving_clip(g: Graph, canvas: str, clip: Clip, plan: Timeline, work_dir: Path) -> tuple[str, int]:
    """Overlay an animated media layer; return the canvas and the input its picture (and sound) come from.

    A still is cut into parts: per-frame filters while it moves, overlaid as it is while it rests.
    A video stays whole: parts of a split video wait on each other in memory.
    """
    layer = clip.layer
    moves = plan_moves(layer.animations.enter if layer.animations else None,
                       layer.animations.exit if layer.animations else None, layer.keyframes,
                       clip.duration, clip.box.w, clip.box.h, plan.fps)
    start = _frame(clip.start, plan.fps)
    frames = max(1, _frame(clip.end, plan.fps) - start)
    parts = _moving_parts(moves, frames, plan.fps) if clip.source.info.is_still else [(0, frames, True)]
    segment = build_segment(g, clip, [(first, last) for first, last, _ in parts], work_dir)
    x, y = clip.box.x + segment.dx, clip.box.y + segment.dy
    for label, (first, last, moving) in zip(segment.labels, parts):
        if moving:
            timed = g.chain([label], [f"settb={g.time_base}", f"setpts=N+{first}"])
            canvas = _overlay_moving(g, canvas, timed, segment.w, segment.h, segment.alpha, moves, (first, last),
                                     (x, y, start / g.rate), work_dir)
        else:
            moved = g.chain([label], [f"setpts=PTS-STARTPTS+{seconds((start + first) / g.rate)}/TB"])
            canvas = g.chain([canvas, moved], [f"overlay=x={x}:y={y}:eof_action=pass"])
    return canvas, segment.input


def _moving_parts(moves: Moves, frames: int, fps: float) -> list[tuple[int, int, bool]]:
    """Cut a layer's frames [0, frames) into (first, end, moving) parts, in order."""
    spans = moves.moving_spans()
    if spans is None:
        return [(0, frames, True)]
    parts, rest = [], 0
    for a, b in spans:
        first, last = max(rest, int(a * fps)), min(frames, int(b * fps) + 2)
        if last <= first:
            continue
        if first > rest:
            parts.append((rest, first, False))
        parts.append((first, last, True))
        rest = last
    return parts + ([(rest, frames, False)] if rest < frames else [])


def _overlay_moving(g: Graph, canvas: str, label: str, w: int, h: int, alpha: bool, moves: Moves,
                    frames: tuple[int, int], where: tuple[int, int, float], work_dir: Path) -> str:
    """Overlay frames [first, end) of a layer animated by moves, its box's top-left at (x, y), starting at start.

    The stream's pts count frames from the layer's start, so its filters see the layer's time.
    """
    x, y, start = where
    animated = animate_stream(g, label, w, h, alpha, moves, frames, work_dir)
    moved = g.chain([animated], [f"setpts=PTS-STARTPTS+{seconds(start + frames[0] / g.rate)}/TB"])
    return g.chain([canvas, moved], [f"overlay={overlay_options(moves, x, y, w, h, start)}:eof_action=pass"])


def _overlay_sprite(g: Graph, canvas: str, track: SpriteTrack, work_dir: Path) -> str:
    if track.moves:
        return _overlay_moving_sprite(g, canvas, track, work_dir)
    return _overlay_still_sprite(g, canvas, track, track.windows)


def _sprite_input(g: Graph, track: SpriteTrack) -> int:
    if len(track.frames) == 1 and not track.wipes:
        return g.still_input(track.frames[0].path)
    return g.add_input(["-protocol_whitelist", "file", "-f", "concat", "-safe", "0", "-i", str(_concat_list(track))])


def _overlay_still_sprite(g: Graph, canvas: str, track: SpriteTrack, windows: list[tuple[float, float]]) -> str:
    """Overlay the track as drawn, in its place, during windows."""
    c = track.crop
    sprite = g.chain([f"{_sprite_input(g, track)}:v"], [f"crop={c.w}:{c.h}:{c.x}:{c.y}"])
    enable = "+".join(_window(start, end) for start, end in windows)
    if track.wipes:
        return _overlay_wipe(g, canvas, track, sprite, enable)
    return g.chain([canvas, sprite], [f"overlay=x={track.x}:y={track.y}:enable='{enable}'"])


def _overlay_moving_sprite(g: Graph, canvas: str, track: SpriteTrack, work_dir: Path) -> str:
    """Overlay an animated text's track: one image per frame while it moves, the still image while it rests.

    A typed track changes image while it moves, so it is made one image per frame throughout.
    """
    c, rate = track.crop, float(g.rate)
    start, end = _frame(track.frames[0].start, rate), _frame(track.frames[-1].end, rate)
    frames = max(1, end - start)
    parts = _moving_parts(track.moves, frames, rate) if len(track.frames) == 1 else [(0, frames, True)]
    resting = [(first, last) for first, last, moving in parts if not moving]
    if resting:
        # Half a frame early: a window's edges never fall on a frame's own time.
        canvas = _overlay_still_sprite(g, canvas, track, [((start + a - 0.5) / rate, (start + b - 0.5) / rate)
                                                          for a, b in resting])
    for first, last in [(first, last) for first, last, moving in parts if moving]:
        if len(track.frames) == 1:
            timed = [f"loop=loop={last - first - 1}:size=1", f"settb={g.time_base}", f"setpts=N+{first}"]
        else:  # the concat list shows each image from its start; fps repeats them, tpad holds the last
            timed = [f"fps={g.rate}", "tpad=stop_mode=clone:stop=-1", f"trim=start_frame={start}:end_frame={end}",
                     "setpts=PTS-STARTPTS"]
        # Cropped and converted before the frames are repeated: once per image, not once per frame.
        sprite = g.chain([f"{_sprite_input(g, track)}:v"], [f"crop={c.w}:{c.h}:{c.x}:{c.y}", "format=yuva420p", *timed])
        canvas = _overlay_moving(g, canvas, sprite, c.w, c.h, True, track.moves, (first, last),
                                 (track.x, track.y, start / rate), work_dir)
    return canvas


def _overlay_wipe(g: Graph, canvas: str, track: SpriteTrack, sprite: str, enable: str) -> str:
    """Overlay a wiping track: each frame's ink appears left to right over its wipe span.

    The frame is padded on its left with `pad` transparent columns and a frame-wide window slides
    over it by c(t) while the overlay moves left by as much: the picture stays put and exactly
    its first c(t) columns show. `fps` hands crop every output frame (the track changes only at
    words). c(t) is kept even: 4:2:0 crop and overlay positions are, so both round alike.
    """
    width, height = track.crop.w, track.crop.h
    pad = -(-width // 2) * 2
    terms = []
    for frame in track.frames:
        wipe = frame.wipe
        span = max(wipe.end - wipe.start, 1e-3)
        progress = f"clip((t-{seconds(wipe.start)})/{seconds(span)},0,1)"
        left = wipe.left - track.crop.x
        terms.append(f"{_window(frame.start, frame.end)}*({left}+{wipe.right - wipe.left}*{progress})")
    reveal = f"2*floor(({'+'.join(terms)})/2)"
    revealed = g.chain([sprite], ["format=yuva420p", f"pad=w=iw+{pad}:h=ih:x={pad}:y=0:color=black@0",
                                  f"fps={g.rate}", f"crop=w={width}:h={height}:x='{reveal}':y=0"])
    return g.chain([canvas, revealed], [f"overlay=x='{track.x - pad}+{reveal}':y={track.y}:enable='{enable}'"])


def _window(start: float, end: float) -> str:
    return f"gte(t,{seconds(start)})*lt(t,{seconds(end)})"


def _concat_list(track: SpriteTrack) -> Path:
    """Write an ffconcat list showing each frame from its start (the first from 0) on.

    Millisecond frame timestamps (image2 `framerate` 1000) keep word timing exact; the default
    1/25 s time base would round every caption change to 40 ms. A wiping track repeats its last
    frame at its end: `fps` only makes frames up to the last timestamp it is given.
    """
    starts = [0.0] + [f.start for f in track.frames[1:]]
    entries = list(zip(track.frames, starts, starts[1:] + [track.frames[-1].end]))
    if track.wipes:
        entries.append((track.frames[-1], track.frames[-1].end, track.frames[-1].end + 0.001))
    lines = ["ffconcat version 1.0"]
    for frame, begin, finish in entries:
        quoted = str(frame.path).replace("'", "'\\''")
        lines += [f"file '{quoted}'", "option framerate 1000", f"duration {finish - begin:.6f}"]
    path = track.frames[0].path.with_suffix(".ffconcat")
    path.write_text("\n".join(lines) + "\n")
    return path
