// The scene as a readable query string: a mirror of core/scene_url.py and of Scene.filled().
// Pure (no DOM). `createCodec(data)` takes the page's catalogues (GET /api/optimizers, … and the
// default scene) and gives parse (total: a bad value falls back to its default with a warning),
// fill (every default written out) and toQuery (byte-for-byte what scene_to_query writes).

const ALWAYS_SAFE = /^[A-Za-z0-9_.~-]$/;
const URL_SAFE = ",;=:"; // urlencode(..., safe=",;=:", quote_via=quote)
const RACER_VALUE_SAFE = "!$'()*+-./:@_~[]"; // core.scene_url._RACER_VALUE_SAFE
const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const INTEGER = /^\s*[+-]?\d+\s*$/;
const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;
const MAX_LABEL = 40;

/** urllib.parse.quote: UTF-8, unreserved characters and `safe` kept, the rest %XX (upper case). */
const PLAIN = /^[A-Za-z0-9_.~-]*$/;
export function pyQuote(text, safe = "") {
  if (PLAIN.test(text)) return text;
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const ch = String.fromCharCode(byte);
    out += byte < 128 && (ALWAYS_SAFE.test(ch) || safe.includes(ch))
      ? ch : "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** urllib.parse.unquote: %XX sequences as UTF-8 (bad bytes become U+FFFD), anything else kept. */
export function pyUnquote(text) {
  if (!text.includes("%")) return text;
  return text.replace(/(%[0-9A-Fa-f]{2})+/g, (run) =>
    new TextDecoder().decode(new Uint8Array(run.slice(1).split("%").map((h) => parseInt(h, 16)))));
}

/** Python's repr of a float: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyRepr(x) {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x === 0 ? 0 : x}.0`;
  const [mantissa, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  const sign = mantissa.startsWith("-") ? "-" : "";
  const digits = mantissa.replace("-", "").replace(".", "");
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return `${sign}${whole}.${frac || "0"}`;
}

/** core.scene_url._text: integral floats without ".0", lists comma-separated, booleans lower case. */
export function valueText(value) {
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) return value.map(valueText).join(",");
  if (typeof value === "number") {
    if (Number.isInteger(value) && Math.abs(value) < 1e16) return String(value === 0 ? 0 : value);
    return pyRepr(value);
  }
  return String(value);
}

function racerValue(value) {
  if (Array.isArray(value)) return value.map((item) => pyQuote(valueText(item), RACER_VALUE_SAFE)).join(",");
  return pyQuote(valueText(value), RACER_VALUE_SAFE);
}

/**
 * The default of a parameter that depends on the run (core.params.ParamSpec.race_default, served with the
 * specs): max(at_least, floor or ceil of steps·numerator/denominator); several rules make a sorted list
 * without repeats. undefined for a parameter whose default does not depend on the run.
 */
export function raceDefault(spec, steps) {
  const rules = spec.race_default;
  if (!rules || !rules.length) return undefined;
  const values = rules.map((rule) => {
    const scaled = steps * rule.numerator;
    const value = rule.rounding === "ceil" ? Math.ceil(scaled / rule.denominator) : Math.floor(scaled / rule.denominator);
    return Math.max(rule.at_least, value);
  });
  return rules.length === 1 ? values[0] : [...new Set(values)].sort((a, b) => a - b);
}

/** Combinations torch rejects (core.schedules check functions): a message, or "" when fine. */
const SCHEDULE_CHECKS = {
  multistep: (p) => p.milestones.some((m, i) => i > 0 && p.milestones[i - 1] >= m) ? "milestones must be increasing" : "",
  onecycle: (p, steps) => {
    if (p.total_steps < steps) return `total_steps must be >= steps (${steps})`;
    const warmupEnd = p.pct_start * p.total_steps - 1;
    if (warmupEnd === 0) return "pct_start · total_steps must not be 1";
    if (warmupEnd === p.total_steps - 1 && p.total_steps === steps) return "pct_start must be < 1 when total_steps = steps";
    return "";
  },
  warmup_cosine: (p, steps) => p.warmup >= steps ? `warmup must be < steps (${steps})` : "",
};

/** A value checked against a parameter spec (core.params.ParamSpec.check): {ok, value}. */
export function checkParam(spec, raw) {
  const kind = spec.kind || "float";
  if (kind === "bool") {
    if (typeof raw === "boolean") return { ok: true, value: raw };
    const t = String(raw).toLowerCase();
    if (["true", "false", "1", "0"].includes(t)) return { ok: true, value: t === "true" || t === "1" };
    return { ok: false };
  }
  if (kind === "choice") {
    const value = raw === null ? "none" : String(raw);
    return spec.choices.includes(value) ? { ok: true, value } : { ok: false };
  }
  if (kind === "int_list") {
    const items = Array.isArray(raw) ? raw : String(raw).split(",");
    const values = items.map((item) => checkNumber(spec, item, true));
    return values.every((v) => v !== null) ? { ok: true, value: values } : { ok: false };
  }
  if (kind === "text") { // a custom landscape's formula: the server parses it (POST /api/landscapes/custom/check)
    const ok = typeof raw === "string" && (spec.maximum == null || raw.length <= spec.maximum);
    return ok ? { ok: true, value: raw } : { ok: false };
  }
  if (kind === "range") { // low,high with low < high, each within [minimum, maximum]
    const items = Array.isArray(raw) ? raw : String(raw).split(",");
    const values = items.length === 2 ? items.map((item) => checkNumber(spec, item, false)) : [null];
    return values.every((v) => v !== null) && values[0] < values[1] ? { ok: true, value: values } : { ok: false };
  }
  const value = checkNumber(spec, raw, kind === "int");
  return value === null ? { ok: false } : { ok: true, value };
}

function checkNumber(spec, raw, integer) {
  const n = typeof raw === "number" ? raw : NUMBER.test(String(raw)) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) return null;
  const { minimum: lo, maximum: hi } = spec;
  if (lo != null && (n < lo || (spec.minimum_exclusive && n === lo))) return null;
  if (hi != null && (n > hi || (spec.maximum_exclusive && n === hi))) return null;
  return n;
}

/** What `spec` allows, in words (core.params.ParamSpec.allowed): "a number in [0, 1)". */
export function allowedText(spec) {
  const kind = spec.kind || "float";
  if (kind === "bool") return "true or false";
  if (kind === "text") return `a text of at most ${spec.maximum} characters`;
  if (kind === "range") return `two numbers low,high with low < high, each in [${spec.minimum}, ${spec.maximum}]`;
  if (kind === "choice") return `one of: ${spec.choices.join(", ")}`;
  const noun = { float: "a number", int: "an integer", int_list: "a list of integers, each" }[kind];
  if (spec.minimum == null && spec.maximum == null) return noun;
  const left = spec.minimum == null || spec.minimum_exclusive ? "(" : "[";
  const right = spec.maximum == null || spec.maximum_exclusive ? ")" : "]";
  return `${noun} in ${left}${spec.minimum ?? "-inf"}, ${spec.maximum ?? "inf"}${right}`;
}

/** The plotted domain: the catalogue's, or a custom landscape's x and y range parameters. */
export function domainOf(landscape, params) {
  const range = (axis) => (landscape.params.some((p) => p.name === axis && p.kind === "range") ? params[axis] : null);
  return { x: range("x") || landscape.domain.x, y: range("y") || landscape.domain.y };
}

/** The lowest and highest values a slider for `spec` offers (ints that default from steps: capped at steps). */
export function sliderRange(spec, steps) {
  let lo = spec.slider_min ?? spec.minimum ?? 0;
  let hi = spec.slider_max ?? spec.maximum ?? Math.max(steps, lo + 1);
  if (spec.name === "total_steps") { lo = steps; hi = 2 * steps; }
  if (spec.name === "warmup" && spec.slider_max == null) hi = Math.max(lo, steps - 1);
  return [lo, hi];
}

export function createCodec(data) {
  const byName = (list) => Object.fromEntries(list.map((entry) => [entry.name, entry]));
  const landscapes = byName(data.landscapes);
  const optimizers = byName(data.optimizers);
  const schedules = byName(data.schedules);
  const defaults = data.default_scene;
  const limits = data.limits;
  const { palette, optimizers: optimizerColors } = data.colors; // core.scene.PALETTE, OPTIMIZER_COLORS

  function resolve(specs, given, owner, warn) {
    const out = {};
    for (const name of Object.keys(given || {})) {
      if (!specs.some((s) => s.name === name)) warn(`${owner} has no parameter ${JSON.stringify(name)}; ignored`);
    }
    for (const spec of specs) {
      const raw = given?.[spec.name];
      if (raw === undefined) { out[spec.name] = spec.default; continue; }
      const checked = checkParam(spec, raw);
      if (checked.ok) out[spec.name] = checked.value;
      else {
        warn(`${owner}.${spec.name}=${JSON.stringify(raw)} must be ${allowedText(spec)}; using the default`);
        out[spec.name] = spec.default;
      }
    }
    return out;
  }

  function scheduleParams(name, given, steps, owner, warn) {
    const schedule = schedules[name];
    const resolved = resolve(schedule.params, given, owner, warn);
    for (const spec of schedule.params) {
      if (resolved[spec.name] === null && spec.race_default) resolved[spec.name] = raceDefault(spec, steps);
    }
    const problem = SCHEDULE_CHECKS[name]?.(resolved, steps);
    if (problem) {
      warn(`${owner}: ${problem}; using the defaults for ${steps} steps`);
      for (const spec of schedule.params) resolved[spec.name] = raceDefault(spec, steps) ?? spec.default;
    }
    return resolved;
  }

  function number(raw, lo, hi, fallback, key, warn, integer = false) {
    if (raw === undefined) return fallback;
    const n = typeof raw === "number" ? raw : (integer ? INTEGER : NUMBER).test(String(raw)) ? Number(raw) : NaN;
    if (Number.isFinite(n) && n >= lo && n <= hi && (!integer || Number.isInteger(n))) return n;
    warn(`${key}=${JSON.stringify(raw)} must be ${integer ? "an integer" : "a number"} in [${lo}, ${hi}]; using ${fallback}`);
    return fallback;
  }

  /** Every default written out and every value checked (Scene.filled()), warnings for what fell back. */
  function fill(input, warn = () => {}) {
    const scene = input || {};
    let name = scene.landscape?.name ?? defaults.landscape.name;
    if (!landscapes[name]) {
      warn(`unknown landscape ${JSON.stringify(name)}; using ${defaults.landscape.name}`);
      name = defaults.landscape.name;
    }
    const landscape = landscapes[name];
    const landscapeParams = resolve(landscape.params, scene.landscape?.params, `landscape ${name}`, warn);
    const steps = number(scene.steps, 1, limits.max_steps, defaults.steps, "steps", warn, true);
    const domain = domainOf(landscape, landscapeParams);
    // a custom landscape's default start: a tenth into its domain (core.landscapes._custom_start)
    const custom = landscape.params.some((p) => p.kind === "range");
    let start = custom ? [domain.x[0] + 0.1 * (domain.x[1] - domain.x[0]), domain.y[0] + 0.1 * (domain.y[1] - domain.y[0])]
      : landscape.start.slice();
    if (scene.start !== undefined) {
      const [x, y] = (scene.start || []).map(Number);
      const [x0, x1] = domain.x;
      const [y0, y1] = domain.y;
      if (scene.start?.length === 2 && x >= x0 && x <= x1 && y >= y0 && y <= y1) start = [x, y];
      else warn(`start=${JSON.stringify(scene.start)} must lie in the domain of ${name}; using ${start}`);
    }
    const out = {
      landscape: { name, params: landscapeParams },
      start,
      steps,
      noise: number(scene.noise, 0, limits.max_noise, 0, "noise", warn),
      seed: number(scene.seed, 0, limits.max_seed, 0, "seed", warn, true),
      l1: number(scene.l1, 0, limits.max_regularization, 0, "l1", warn),
      l2: number(scene.l2, 0, limits.max_regularization, 0, "l2", warn),
      racers: [],
    };
    let racers = (scene.racers || []).filter((racer, i) => {
      if (optimizers[racer.optimizer]) return true;
      warn(`racer ${i + 1}: unknown optimizer ${JSON.stringify(racer.optimizer)}; removed`);
      return false;
    });
    if (racers.length > limits.max_racers) {
      warn(`at most ${limits.max_racers} racers; the rest are removed`);
      racers = racers.slice(0, limits.max_racers);
    }
    if (!racers.length) racers = defaults.racers.map((r) => ({ optimizer: r.optimizer, params: r.params }));
    const seen = {};
    const taken = new Set(racers.filter((r) => HEX_COLOR.test(r.color || "")).map((r) => r.color.toLowerCase()));
    out.racers = racers.map((racer, i) => {
      const spec = optimizers[racer.optimizer];
      const owner = `racer ${i + 1} (${racer.optimizer})`;
      const params = resolve(spec.params, racer.params, owner, warn);
      for (const rule of spec.requires || []) { // core.optimizers.Requirement, e.g. nesterov's momentum > 0
        if (!(params[rule.param] > rule.greater_than)) {
          warn(`${owner}: ${rule.param} must be > ${rule.greater_than} (${rule.reason}); using the default`);
          params[rule.param] = spec.params.find((p) => p.name === rule.param).default;
        }
      }
      let scheduleName = racer.schedule?.name ?? "constant";
      if (!schedules[scheduleName]) {
        warn(`${owner}: unknown schedule ${JSON.stringify(scheduleName)}; using constant`);
        scheduleName = "constant";
      }
      const schedule = {
        name: scheduleName,
        params: scheduleParams(scheduleName, racer.schedule?.params, steps, `${owner} schedule ${scheduleName}`, warn),
      };
      let label = typeof racer.label === "string" && racer.label ? racer.label.slice(0, MAX_LABEL) : spec.title;
      seen[label] = (seen[label] || 0) + 1;
      if (seen[label] > 1) label = `${label} ${seen[label]}`;
      let color = racer.color;
      if (color != null && !HEX_COLOR.test(color)) {
        warn(`${owner}: color ${JSON.stringify(color)} is not like #e69f00; using the default`);
        color = null;
      }
      if (color == null) {
        color = optimizerColors[racer.optimizer] || palette[0];
        if (taken.has(color)) color = palette.find((c) => !taken.has(c)) || color;
      }
      taken.add(color.toLowerCase());
      return { optimizer: racer.optimizer, params, schedule, label, color: color.toLowerCase() };
    });
    return out;
  }

  /** core.scene_url.scene_json_from_query, lenient: the raw scene and a warning for each unknown key. */
  function rawFromQuery(query, warn) {
    const raw = {};
    const landscapeParams = {};
    const racers = [];
    for (const [key, value] of new URLSearchParams(query.replace(/^\?/, ""))) {
      if (key === "landscape") raw.landscape = { name: value };
      else if (key.startsWith("landscape.")) landscapeParams[key.slice(10)] = value;
      else if (key === "start") raw.start = value.split(",").map((v) => (NUMBER.test(v) ? Number(v) : NaN));
      else if (["steps", "seed", "noise", "l1", "l2"].includes(key)) raw[key] = value;
      else if (key === "racer") racers.push(racerFromText(value, warn));
      else warn(`unknown query key ${JSON.stringify(key)}; ignored`);
    }
    if (Object.keys(landscapeParams).length) {
      raw.landscape = raw.landscape || { name: defaults.landscape.name };
      raw.landscape.params = landscapeParams;
    }
    if (racers.length) raw.racers = racers;
    return raw;
  }

  function racerFromText(value, warn) {
    const [optimizer, ...pairs] = value.split(";");
    const racer = { optimizer: pyUnquote(optimizer), params: {} };
    const schedule = { params: {} };
    for (const pair of pairs) {
      if (!pair) continue;
      const at = pair.indexOf("=");
      if (at < 0) { warn(`racer ${optimizer}: expected key=value, got ${JSON.stringify(pair)}; ignored`); continue; }
      const key = pair.slice(0, at);
      const text = pyUnquote(pair.slice(at + 1));
      if (key === "schedule") schedule.name = text;
      else if (key.startsWith("schedule.")) schedule.params[key.slice(9)] = text;
      else if (key === "label") racer.label = text;
      else if (key === "color") racer.color = text.startsWith("#") ? text : `#${text}`;
      else racer.params[key] = text;
    }
    if (schedule.name || Object.keys(schedule.params).length) racer.schedule = { name: schedule.name || "constant", params: schedule.params };
    return racer;
  }

  /** The scene of a query string, filled; never throws. */
  function parse(query) {
    const warnings = [];
    const warn = (message) => warnings.push(message);
    const scene = fill(rawFromQuery(query || "", warn), warn);
    return { scene, warnings };
  }

  /** core.scene_url.scene_to_query of a filled scene: every value written out, in the specs' order. */
  function toQuery(scene) {
    const pairs = [["landscape", scene.landscape.name]];
    for (const spec of landscapes[scene.landscape.name].params) {
      pairs.push([`landscape.${spec.name}`, valueText(scene.landscape.params[spec.name])]);
    }
    pairs.push(["start", valueText(scene.start)], ["steps", valueText(scene.steps)], ["noise", valueText(scene.noise)],
      ["seed", valueText(scene.seed)], ["l1", valueText(scene.l1)], ["l2", valueText(scene.l2)]);
    for (const racer of scene.racers) {
      const parts = [racer.optimizer];
      for (const spec of optimizers[racer.optimizer].params) parts.push(`${spec.name}=${racerValue(racer.params[spec.name])}`);
      parts.push(`schedule=${racer.schedule.name}`);
      for (const spec of schedules[racer.schedule.name].params) {
        parts.push(`schedule.${spec.name}=${racerValue(racer.schedule.params[spec.name])}`);
      }
      parts.push(`label=${racerValue(racer.label)}`, `color=${racerValue((racer.color || "").replace(/^#+/, ""))}`);
      pairs.push(["racer", parts.join(";")]);
    }
    return pairs.map(([k, v]) => `${pyQuote(k, URL_SAFE)}=${pyQuote(v, URL_SAFE)}`).join("&");
  }

  /** The scene with a new number of steps; schedule lengths that followed the old run follow the new one. */
  function withSteps(scene, steps) {
    const racers = scene.racers.map((racer) => {
      const params = { ...racer.schedule.params };
      for (const spec of schedules[racer.schedule.name]?.params || []) {
        if (!spec.race_default) continue;
        if (JSON.stringify(params[spec.name]) === JSON.stringify(raceDefault(spec, scene.steps))) {
          params[spec.name] = raceDefault(spec, steps);
        }
      }
      return { ...racer, schedule: { ...racer.schedule, params } };
    });
    return fill({ ...scene, steps, racers });
  }

  /** The landscape's metadata for a filled scene: a custom landscape's domain and formula come from its parameters. */
  function meta(scene) {
    const landscape = landscapes[scene.landscape.name];
    const params = scene.landscape.params;
    if (typeof params.f !== "string") return landscape;
    return { ...landscape, formula: params.f, domain: domainOf(landscape, params), minima: [] };
  }

  return { fill, parse, toQuery, withSteps, meta, landscapes, optimizers, schedules, defaults, limits, palette, optimizerColors };
}
