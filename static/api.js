// The JSON API, from the browser: races (whole or streamed as NDJSON), contours (cached), point
// evaluation, sweeps, catalogues. Every call takes an AbortSignal; errors carry the server's message.

export class ApiError extends Error {}

async function reply(response) {
  if (response.ok) return response;
  let message = `${response.status} ${response.statusText}`;
  try { message = (await response.json()).error || message; } catch { /* not JSON */ }
  throw new ApiError(message);
}

export async function postJSON(url, body, signal) {
  const response = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal,
  });
  return (await reply(response)).json();
}

export async function getJSON(url, signal) {
  return (await reply(await fetch(url, { signal }))).json();
}

/** GET /api/race?<scene query>: the whole result (the page preloads the first one; the browser caches them). */
export const fetchRace = (query, signal) => getJSON(`/api/race?${query}`, signal);

/** POST `body` to an NDJSON endpoint: calls onFrame(frame) for each line as it arrives. */
export async function streamNDJSON(url, body, onFrame, signal) {
  const response = await reply(await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal,
  }));
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim()) onFrame(JSON.parse(line));
    }
    if (done) break;
  }
  if (buffer.trim()) onFrame(JSON.parse(buffer));
}

/** POST /api/race/stream: calls onFrame(frame) for each NDJSON line (header, chunks, summary) as it arrives. */
export const streamRace = (scene, onFrame, signal) => streamNDJSON("/api/race/stream", scene, onFrame, signal);

const contourCache = new Map();

/**
 * GET /api/landscapes/{name}/contours (of a close-up `window` [xmin, xmax, ymin, ymax] if given) for a scene query written out by toQuery: its penalty and landscape
 * parameters, verbatim, after the page's resolution and levels (server/routes/pages.py preloads this URL).
 */
export function fetchContours(name, query, { resolution, levels }, window = null) {
  const pieces = query.split("&");
  const url = `/api/landscapes/${encodeURIComponent(name)}/contours?${[
    `resolution=${resolution}`, `levels=${levels}`,
    ...pieces.filter((p) => p.startsWith("l1=") || p.startsWith("l2=")),
    ...pieces.filter((p) => p.startsWith("landscape.")).map((p) => p.slice(10)),
    ...(window ? [`window=${window.map((v) => +v.toPrecision(8)).join(",")}`] : []),
  ].join("&")}`;
  if (!contourCache.has(url)) {
    const pending = getJSON(url);
    contourCache.set(url, pending);
    pending.catch(() => contourCache.delete(url));
    if (contourCache.size > 48) contourCache.delete(contourCache.keys().next().value);
  }
  return contourCache.get(url);
}

/** POST /api/landscapes/{name}/evaluate: loss and gradient at points. */
export const evaluate = (landscape, l1, l2, points, signal) =>
  postJSON(`/api/landscapes/${encodeURIComponent(landscape.name)}/evaluate`,
    { points, params: landscape.params, l1, l2 }, signal);

/** POST /api/sweep: final gap and arrival of every racer at `count` log-spaced learning rates. */
export const fetchSweep = (scene, options, signal) => postJSON("/api/sweep", { scene, ...options }, signal);

let catalogues = null;
/** The full catalogues (update rules, formulas, parameter help), fetched once when first wanted. */
export function fetchCatalogues() {
  const byName = (list) => Object.fromEntries(list.map((x) => [x.name, x]));
  catalogues ??= Promise.all(["landscapes", "optimizers", "schedules"].map((c) => getJSON(`/api/${c}`)))
    .then(([l, o, s]) => ({ landscapes: byName(l.landscapes), optimizers: byName(o.optimizers), schedules: byName(s.schedules) }));
  catalogues.catch(() => { catalogues = null; });
  return catalogues;
}
