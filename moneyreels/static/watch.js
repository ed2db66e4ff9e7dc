// Follow one job: Server-Sent Events first, long-polling when the stream cannot be had.
// Both report the same things: onSnapshot(job), onEvent(name, data, message), onEnd(name),
// onConnection("live" | "reconnecting"), onTransport("sse" | "polling"), onError(apiError).

import { get } from "./api.js";
import { sleep } from "./dom.js";

export const STAGES = ["research", "director", "tts", "visuals", "assembly", "critic"];
const TERMINAL = { completed: "job:completed", failed: "job:failed", cancelled: "job:cancelled" };
const STREAM_EVENTS = ["job:snapshot", "job:status", "log", "progress", "webhook",
  ...STAGES.map((stage) => `stage:${stage}`)];
const ENDINGS = [...Object.values(TERMINAL), "job:deleted"];
const POLL_GAP_MS = 300;
const MAX_BACKOFF_MS = 15000;

export const isFinished = (status) => status in TERMINAL;

// An event row of GET /api/jobs/:id/events, named and shaped as the SSE stream would send it.
function translate(row) {
  const payload = row.payload || {};
  if (row.type.startsWith("stage:")) return [row.type, payload];
  if (row.type === "status") {
    const name = TERMINAL[payload.state];
    if (!name) return ["job:status", { status: payload.state }];
    return [name, row.level === "error" || payload.state === "failed" ? { error: row.message } : {}];
  }
  if (["log", "progress", "webhook"].includes(row.type)) {
    return [row.type, { level: row.level, message: row.message, ...payload }];
  }
  return null;
}

export function watch(id, handlers) {
  const control = new AbortController();
  const base = `/api/v1/jobs/${encodeURIComponent(id)}`;
  let source = null;

  async function finish(name) {
    try {
      handlers.onSnapshot(await get(base, { signal: control.signal }));
    } catch (error) {
      if (error.name === "AbortError") return;
    }
    handlers.onEnd(name);
  }

  // A refused stream (rate limit, restart, a proxy that buffers) is tried again twice, then polled.
  let lastId = 0;
  let refusals = 0;

  function stream() {
    handlers.onTransport("sse");
    // lastEventId=0 replays the job's whole history after the snapshot, so the log is complete;
    // on reconnection the browser sends Last-Event-ID and gets only what it missed.
    source = new EventSource(`${base}/events?lastEventId=${lastId}`);
    source.onopen = () => {
      refusals = 0;
      handlers.onConnection("live");
    };
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) return handlers.onConnection("reconnecting");
      source = null;
      refusals += 1;
      if (refusals > 2) poll(lastId);
      else setTimeout(() => control.signal.aborted || stream(), 1000 * refusals);
    };
    for (const name of STREAM_EVENTS) {
      source.addEventListener(name, (message) => {
        const data = JSON.parse(message.data);
        if (name === "job:snapshot") return handlers.onSnapshot(data);
        lastId = Number(message.lastEventId) || lastId;
        handlers.onEvent(name, data);
      });
    }
    for (const name of ENDINGS) {
      source.addEventListener(name, (message) => {
        source.close();
        source = null;
        handlers.onEvent(name, JSON.parse(message.data || "{}"));
        finish(name);
      });
    }
  }

  async function poll(after) {
    handlers.onTransport("polling");
    let failures = 0;
    let waiting = false;
    while (!control.signal.aborted) {
      try {
        const job = await get(waiting ? `${base}?wait=20s` : base, { signal: control.signal });
        handlers.onSnapshot(job);
        if (waiting) await sleep(POLL_GAP_MS);
        const { events } = await get(`/api/jobs/${encodeURIComponent(id)}/events?after=${after}`,
          { signal: control.signal });
        handlers.onConnection("live");
        failures = 0;
        let ending = null;
        for (const row of events) {
          after = row.id;
          const named = translate(row);
          if (!named) continue;
          handlers.onEvent(named[0], named[1], row.message);
          if (ENDINGS.includes(named[0])) ending = named[0];
        }
        if (ending || isFinished(job.status)) return finish(ending || TERMINAL[job.status]);
        waiting = events.length < 500; // more are waiting: fetch them at once
      } catch (error) {
        if (error.name === "AbortError") return;
        if (error.status === 404) return handlers.onEnd("job:deleted");
        if (!error.offline && error.status !== 429) return handlers.onError(error);
        failures += 1;
        handlers.onConnection("reconnecting");
        await sleep(Math.min(1000 * 2 ** (failures - 1), MAX_BACKOFF_MS));
        waiting = false;
      }
    }
  }

  stream();
  return {
    stop() {
      control.abort();
      source?.close();
    },
  };
}
