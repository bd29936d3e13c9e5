// The embed's options (/embed?<scene>&autoplay=1&theme=dark…, not part of the scene: /embed strips them):
// reading them (embed.js) and writing an <iframe> for a scene (the page's Embed dialog). Pure.
//
// For a slide: caption=<text> (or preset=<id>: the caption of that preset, from GET /api/presets), chart=loss
// (the loss chart beside the map), controls=lr,lrscale,schedule (live controls: an lr slider per racer, the
// global lr multiplier, a schedule per racer; controls=1 is the transport alone, controls=0 hides it too).

/** The live controls a slide can carry (controls=lr,lrscale,schedule). */
export const LIVE_CONTROLS = ["lr", "lrscale", "schedule"];

/** name → default, what is allowed, how a query value is read (undefined: not allowed). */
export const EMBED_OPTIONS = {
  autoplay: { default: false, allowed: "0 or 1", read: flag },
  loop: { default: false, allowed: "0 or 1", read: flag },
  controls: { default: true, allowed: `0, 1 or a comma-separated list of ${LIVE_CONTROLS.join(", ")}`, read: controlsList },
  qr: { default: false, allowed: "0 or 1", read: flag }, // the short link's QR code in a corner (the server draws it)
  chart: { default: "", allowed: "loss", read: (v) => (v === "loss" || v === "" ? v : undefined) },
  caption: { default: "", allowed: "a text of at most 400 characters", read: (v) => (v.length <= 400 ? v : undefined) },
  preset: { default: "", allowed: "a preset's id (GET /api/presets)", read: (v) => (/^[a-z0-9_-]{1,60}$/.test(v) ? v : undefined) },
  lrscale: { default: 1, allowed: "a number from 0.1 to 10", read: (v) => {
    const x = /^\s*\d*\.?\d+\s*$/.test(v) ? Number(v) : NaN;
    return x >= 0.1 && x <= 10 ? x : undefined;
  } },
  theme: { default: "light", allowed: "light, dark or auto", read: (v) => (["light", "dark", "auto"].includes(v) ? v : undefined) },
  vectors: { default: false, allowed: "0 or 1", read: flag }, // vectors on the map (static/vectors.js)
  view: { default: "2d", allowed: "2d or 3d", read: (v) => (v === "2d" || v === "3d" ? v : undefined) }, // the 3D view
  speed: { default: 1, allowed: "a number from 0.25 to 8", read: (v) => {
    const x = /^\s*\d*\.?\d+\s*$/.test(v) ? Number(v) : NaN;
    return x >= 0.25 && x <= 8 ? x : undefined;
  } },
};

/** controls=0 / 1, or a list of live controls (the transport shows with them). */
function controlsList(value) {
  const on = flag(value);
  if (on !== undefined) return on;
  const names = value.split(",").map((v) => v.trim()).filter(Boolean);
  return names.length && names.every((n) => LIVE_CONTROLS.includes(n)) ? names : undefined;
}

/** The live controls named by the options (controls=lr,… or none). */
export const liveControls = (options) => (Array.isArray(options.controls) ? options.controls : []);

function flag(value) {
  if (value === "1" || value === "true") return true;
  if (value === "0" || value === "false") return false;
  return undefined;
}

/** The options in a query string; a bad value falls back to its default with a warning naming the key. */
export function parseEmbedOptions(search, defaults = {}) {
  const options = {};
  for (const [name, spec] of Object.entries(EMBED_OPTIONS)) options[name] = name in defaults ? defaults[name] : spec.default;
  const warnings = [];
  for (const [key, value] of new URLSearchParams(search)) {
    const spec = EMBED_OPTIONS[key];
    if (!spec) continue;
    const read = spec.read(value);
    if (read === undefined) warnings.push(`${key}=${value} is not allowed (${key} must be ${spec.allowed}); using ${key}=${options[key] === true ? 1 : options[key] === false ? 0 : options[key]}`);
    else options[key] = read;
  }
  return { options, warnings };
}

/** The option pairs of `options` that differ from the defaults, as a query string (no leading &). */
export function embedOptionsQuery(options = {}) {
  const parts = [];
  for (const [name, spec] of Object.entries(EMBED_OPTIONS)) {
    if (!(name in options) || options[name] === undefined || options[name] === spec.default) continue;
    const value = options[name];
    if (Array.isArray(value)) { if (value.length) parts.push(`${name}=${value.join(",")}`); continue; }
    parts.push(`${name}=${value === true ? 1 : value === false ? 0 : encodeURIComponent(String(value))}`);
  }
  return parts.join("&");
}

const escapeAttribute = (text) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** An <iframe> of the scene (the page's query) for a slide; options only where they differ from the defaults. */
export function embedSnippet(sceneQuery, { origin = "", width = 960, height = 540, title = "optirace: optimizer race", ...options } = {}) {
  const extra = embedOptionsQuery(options);
  const query = [sceneQuery.replace(/^\?/, ""), extra].filter(Boolean).join("&");
  const src = `${origin.replace(/\/$/, "")}/embed?${query}`;
  return `<iframe src="${escapeAttribute(src)}" width="${Math.round(width)}" height="${Math.round(height)}" `
    + `title="${escapeAttribute(title)}" style="border:0" loading="lazy" allow="fullscreen" allowfullscreen></iframe>`;
}
