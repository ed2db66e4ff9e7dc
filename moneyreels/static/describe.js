// Words for what the API reports: job titles, statuses, and one log line per event.

const cap = (text) => text.charAt(0).toUpperCase() + text.slice(1);
const STAGE_NAMES = { tts: "Voice", research: "Research", director: "Director", visuals: "Visuals",
  assembly: "Assembly", critic: "Critic" };

export const stageName = (stage) => STAGE_NAMES[stage] || cap(stage);

export const STATUS_TEXT = { queued: "Queued", running: "Running", completed: "Completed",
  failed: "Failed", cancelled: "Cancelled", deleted: "Deleted" };

export function jobTitle(job) {
  if (job.title) return job.title;
  if (job.topic) return job.topic;
  return job.kind === "render" ? "Manifest render" : "Reel from a script";
}

export const seconds = (value) => `${Number(value).toFixed(1)} s`;

// A stage event's data as a sentence (the SSE stream sends data only, no message).
function stageMessage(data) {
  const name = stageName(data.stage);
  switch (data.type) {
    case "start": return `${name} started.`;
    case "complete": return `${name} done: ${data.detail || "ok"} (${seconds(data.durationSec || 0)}).`;
    case "skipped": return `${name} skipped: ${data.reason || "not needed"}.`;
    case "error": return `${name} failed: ${data.error || "error"}.`;
    case "cancelled": return `${name} stopped: cancelled.`;
    case "results": return `Research: ${(data.key_facts || []).length} key facts.`;
    case "score": return `Director's score: ${(data.score?.scenes || []).length} scenes.`;
    case "cost_estimate": return `Estimated cost: $${Number(data.estimate?.totalCost || 0).toFixed(2)}.`;
    case "asset": return `Scene ${Number(data.sceneIndex) + 1}: ${data.path}.`;
    case "music": return `Music: ${data.track}.`;
    case "music_resolved": return `Music resolved (${data.provider}).`;
    case "review": return `Review: ${data.score}/10.`;
    default: return `${name}: ${data.type}.`;
  }
}

// One log line for any named event: [level, text].
export function logLine(name, data, message) {
  if (name.startsWith("stage:")) {
    const level = data.type === "error" ? "error" : data.type === "complete" ? "success" : "info";
    return [level, message || stageMessage(data)];
  }
  if (name === "job:status") return ["info", message || `Job ${data.status}.`];
  if (name === "job:completed") return ["success", "Job completed."];
  if (name === "job:failed") return ["error", `Job failed: ${data.error || "error"}`];
  if (name === "job:cancelled") return ["warning", "Job cancelled."];
  if (name === "job:deleted") return ["warning", "Job deleted."];
  if (name === "progress") return ["info", `${data.message || "Progress"}: ${Math.round((data.progress || 0) * 100)} %`];
  return [data.level || "info", data.message || message || name];
}
