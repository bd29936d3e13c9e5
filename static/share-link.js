// Short links from the browser: POST /api/links with a scene's query string. No DOM. Used by the Share dialog
// (share.js) and the corner QR code (share-corner.js).

/** The server's error message for a failed reply, and its Retry-After in seconds (0 when none). */
async function problem(response) {
  let message = `${response.status} ${response.statusText}`;
  try { message = (await response.json()).error || message; } catch { /* not JSON */ }
  return { message, retryAfter: Number(response.headers.get("Retry-After")) || 0 };
}

export class LinkError extends Error {
  constructor(message, status, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/** The short link of a scene's query string: {id, url, query, created}. Throws LinkError with the server's message. */
export async function createLink(query, signal) {
  const response = await fetch("/api/links", {
    method: "POST", headers: { "Content-Type": "text/plain" }, body: query.replace(/^\?/, ""), signal,
  });
  if (response.ok) return response.json();
  const { message, retryAfter } = await problem(response);
  throw new LinkError(message, response.status, retryAfter);
}

/** createLink, waiting out a 429's Retry-After (at most `tries` times) instead of failing. */
export async function createLinkPatiently(query, { signal, tries = 3, onWait = () => {} } = {}) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await createLink(query, signal);
    } catch (error) {
      if (!(error instanceof LinkError) || error.status !== 429 || attempt >= tries) throw error;
      onWait(error.retryAfter);
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, Math.max(1, error.retryAfter) * 1000);
        signal?.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
      });
    }
  }
}

/** A URL as people read it off a slide: without "https://". */
export const displayUrl = (url) => url.replace(/^https?:\/\//, "");

/** Add a stylesheet of static/ once (the share modules bring their own, so the first page load does without). */
export function ensureStylesheet(href = "/static/share.css") {
  if (document.querySelector(`link[rel="stylesheet"][href="${href}"]`)) return Promise.resolve();
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  const loaded = new Promise((resolve) => { link.onload = link.onerror = () => resolve(); });
  document.head.append(link);
  return loaded;
}
