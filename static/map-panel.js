// The hyperparameter map panel (loaded when first opened): one racer's final loss gap (or arrival step)
// over a grid of two of its numeric hyperparameters, every cell a full race (POST /api/map, or its NDJSON
// stream for big maps). The racer's own setting is marked; a click on a cell sets the racer's two values
// (a new scene: the URL changes, the race redraws, the marker moves). PNG and SVG exports are drawn here,
// from the map already on screen: no second computation, and the file shows exactly what the page shows.
// Also the fair race: tuneScene() asks POST /api/tune for every racer's best learning rate.

import { ApiError, postJSON, streamNDJSON } from "./api.js";
import { colormap, niceTicks, readTheme, tickLabel } from "./plot.js";

const FLOOR = 1e-16;
const STREAM_FROM = 64 * 64; // cells: bigger maps arrive row by row
const COUNTS = [16, 32, 64, 128];
const DIVERGED = "#c8102e"; // hatched, on the panel colour: no viridis colour is red
const INVALID = "#7a7a7a";
const NO_ARRIVAL = "#b8b8b8";

function loadCss() {
  if (document.querySelector('link[href="/static/map-panel.css"]')) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/static/map-panel.css";
  document.head.append(link);
}

const isNumeric = (spec) => (spec.kind ?? "float") === "float" || spec.kind === "int";

/** The racer's numeric hyperparameters, then its schedule's as `schedule.<name>`: the axes a map can take. */
export function axisSpecs(codec, racer) {
  const specs = codec.optimizers[racer.optimizer].params.filter(isNumeric).map((spec) => ({ ...spec, key: spec.name }));
  const schedule = codec.schedules[racer.schedule.name];
  for (const spec of schedule?.params ?? []) if (isNumeric(spec)) specs.push({ ...spec, key: `schedule.${spec.name}` });
  return specs;
}

/** log where the spec's slider is log; 1 − β (one_minus_log) for a decay rate whose slider stays below 1; else linear. */
export function defaultScale(spec) {
  if (spec.scale === "log") return "log";
  const top = spec.slider_max ?? spec.maximum;
  if ((spec.kind ?? "float") === "float" && (spec.slider_min ?? spec.minimum ?? -1) >= 0 && top != null && top < 1) return "one_minus_log";
  return "linear";
}

/**
 * An axis's title as a student reads it: the hyperparameter's name and how its values are spaced, "(log scale)" for
 * a log axis, "(log scale of 1 − beta1)" for a decay rate whose 0.9, 0.99, 0.999 stand evenly apart, nothing for a
 * linear one. One wording for every parameter of a kind, on the page, in presenter mode and in the PNG and SVG
 * exports: { name, scale, text } (scale "" on a linear axis; text the one-line title).
 */
export function axisTitle(axis) {
  const short = axis.name.replace(/^schedule\./, "");
  const scale = axis.scale === "log" ? "log scale" : axis.scale === "one_minus_log" ? `log scale of 1 − ${short}` : "";
  return { name: axis.name, scale, text: scale ? `${axis.name} (${scale})` : axis.name };
}

/** The scale picker's words for a scale of the parameter `name`: the same as the axis's title says. */
const scaleWords = (scale, name) => axisTitle({ name, scale }).scale || "linear";

/**
 * The lines of an axis title drawn on a canvas within `room` px at `fontSize`, never dropping the scale: one line if it
 * fits, else the name over the scale (in parentheses); a line still too long takes smaller type (down to 70 %).
 * Returns { lines, sizes }: each line's font size.
 */
function titleLines(ctx, axis, room, fontSize, font, maxLines = 2) {
  const title = axisTitle(axis);
  const width = (text) => { ctx.font = `600 ${fontSize}px ${font}`; return ctx.measureText(text).width; };
  const lines = !title.scale || maxLines < 2 || width(title.text) <= room ? [title.text] : [title.name, `(${title.scale})`];
  const sizes = lines.map((line) => {
    const w = width(line);
    return w <= room ? fontSize : Math.max(Math.round(fontSize * 0.7), Math.floor((fontSize * room) / w));
  });
  return { lines, sizes };
}

function valueOf(racer, key) {
  return key.startsWith("schedule.") ? racer.schedule.params[key.slice(9)] : racer.params[key];
}

/** Fraction (0…1) of v between an axis' first and last value, on the axis' scale. */
function fraction(axis, v) {
  const lo = axis.values[0];
  const hi = axis.values[axis.values.length - 1];
  const f = axis.scale === "log" ? (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))
    : axis.scale === "one_minus_log" ? (Math.log1p(-v) - Math.log1p(-lo)) / (Math.log1p(-hi) - Math.log1p(-lo))
      : (v - lo) / (hi - lo);
  return Number.isFinite(f) ? f : 0;
}

/** Ticks of an axis: decades on a log axis, 0.9, 0.99, … on a 1 − β axis, round numbers on a linear one. */
function axisTicks(axis, count) {
  const lo = axis.values[0];
  const hi = axis.values[axis.values.length - 1];
  if (axis.scale === "log") {
    const ticks = [];
    for (let e = Math.ceil(Math.log10(lo) - 1e-9); e <= Math.floor(Math.log10(hi) + 1e-9); e++) ticks.push(10 ** e);
    const every = Math.max(1, Math.ceil(ticks.length / count));
    return ticks.filter((_, i) => i % every === 0).map((v) => [v, v >= 1e-3 && v <= 1e3 ? tickLabel(v) : `1e${Math.round(Math.log10(v))}`.replace("-", "−")]);
  }
  if (axis.scale === "one_minus_log") {
    const ticks = [];
    for (let k = Math.ceil(-Math.log10(1 - lo) - 1e-9); k <= Math.floor(-Math.log10(1 - hi) + 1e-9); k++) ticks.push(k);
    const every = Math.max(1, Math.ceil(ticks.length / count));
    return ticks.filter((_, i) => i % every === 0).map((k) => [1 - 10 ** -k, k === 0 ? "0" : `0.${"9".repeat(k)}`]);
  }
  return niceTicks(lo, hi, count).map((v) => [v, tickLabel(v)]);
}

const fmt = (v) => (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : String(+v.toPrecision(4))).replace("-", "−");
const fmtGap = (g) => (g === 0 ? "0" : g < 1e-3 || g >= 1e4 ? g.toExponential(1) : String(+g.toPrecision(2))).replace("-", "−");

/** Colour of every cell as [r, g, b] or a keyword (diverged, invalid), and the legend's range. */
function shade(map, metric) {
  const colours = [];
  if (metric === "arrived_at") {
    for (let j = 0; j < map.status.length; j++) {
      for (let i = 0; i < map.status[j].length; i++) {
        const s = map.status[j][i];
        const a = map.arrived_at[j][i];
        colours.push(s === "diverged" || s === "invalid" ? s : a == null ? "none" : colormap(1 - a / map.steps));
      }
    }
    return { colours, lo: 0, hi: map.steps, log: false };
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of map.final_gap) for (const g of row) if (g != null) { const l = Math.log10(Math.max(FLOOR, g)); lo = Math.min(lo, l); hi = Math.max(hi, l); }
  // the top of the scale is the start's gap: a cell that ended worse than it began takes the darkest colour
  const clipped = map.start_gap > 0 && hi > Math.log10(map.start_gap) && lo < Math.log10(map.start_gap);
  if (clipped) hi = Math.log10(map.start_gap);
  if (!(hi > lo)) { lo = Number.isFinite(lo) ? lo - 1 : -1; hi = lo + 2; }
  for (let j = 0; j < map.status.length; j++) {
    for (let i = 0; i < map.status[j].length; i++) {
      const s = map.status[j][i];
      const g = map.final_gap[j][i];
      colours.push(s === "diverged" || s === "invalid" ? s : colormap(1 - (Math.log10(Math.max(FLOOR, g)) - lo) / (hi - lo)));
    }
  }
  return { colours, lo: 10 ** lo, hi: 10 ** hi, log: true, clipped };
}

const rgbOf = (hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));

function hatch(ctx, background) {
  const tile = document.createElement("canvas");
  tile.width = tile.height = 8;
  const t = tile.getContext("2d");
  t.fillStyle = background;
  t.fillRect(0, 0, 8, 8);
  t.strokeStyle = DIVERGED;
  t.lineWidth = 2.2;
  t.beginPath();
  t.moveTo(-2, 10); t.lineTo(10, -2);
  t.moveTo(-2, 2); t.lineTo(2, -2);
  t.moveTo(6, 10); t.lineTo(10, 6);
  t.stroke();
  return ctx.createPattern(tile, "repeat");
}

/**
 * Where the cells' box sits in a canvas of width × height (CSS px) at a font size: room on the left for the y tick
 * labels (`labelWidth`, the widest) and the rotated axis title in `titleLines` lines.
 */
function layout(width, height, fontSize, labelWidth = fontSize * 2.6, titleLines = 1) {
  const left = Math.round(Math.max(fontSize * 4.6, labelWidth + fontSize * (0.4 + 1.2 * titleLines) + 10));
  const bottom = Math.round(fontSize * 3.2);
  return { left, top: Math.round(fontSize * 0.6), width: width - left - Math.round(fontSize * 0.8), height: height - bottom - Math.round(fontSize * 0.6) };
}

/** The map drawn on a 2D context: cells, axes with their names, and the racer's marker. */
function paint(ctx, width, height, map, metric, theme, fontSize) {
  ctx.font = `${fontSize}px ${theme.font}`;
  const rows = layout(width, height, fontSize).height; // the box's height does not depend on its left edge
  const yTicks = axisTicks(map.y, Math.max(2, Math.floor(rows / (fontSize * 2.2))));
  const labelWidth = Math.max(0, ...yTicks.map(([, label]) => ctx.measureText(label).width));
  const yTitle = titleLines(ctx, map.y, rows, fontSize, theme.font);
  const box = layout(width, height, fontSize, labelWidth, yTitle.lines.length);
  const xTitle = titleLines(ctx, map.x, width - 8, fontSize, theme.font, 1);
  ctx.font = `${fontSize}px ${theme.font}`;
  const nx = map.x.count;
  const ny = map.y.count;
  const { colours } = shade(map, metric);
  const cells = document.createElement("canvas");
  cells.width = nx;
  cells.height = ny;
  const cctx = cells.getContext("2d");
  const image = cctx.createImageData(nx, ny);
  const invalid = rgbOf(INVALID);
  const none = rgbOf(NO_ARRIVAL);
  const paper = rgbOf(theme.panelHex || "#ffffff");
  colours.forEach((c, n) => {
    const j = Math.floor(n / nx);
    const i = n % nx;
    const rgb = c === "invalid" ? invalid : c === "none" ? none : c === "diverged" ? paper : c;
    const at = ((ny - 1 - j) * nx + i) * 4;
    image.data[at] = rgb[0]; image.data[at + 1] = rgb[1]; image.data[at + 2] = rgb[2]; image.data[at + 3] = 255;
  });
  cctx.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(cells, box.left, box.top, box.width, box.height);
  const cw = box.width / nx;
  const ch = box.height / ny;
  ctx.fillStyle = hatch(ctx, theme.panelHex || "#ffffff");
  ctx.beginPath();
  colours.forEach((c, n) => {
    if (c !== "diverged") return;
    const j = Math.floor(n / nx);
    const i = n % nx;
    ctx.rect(box.left + i * cw, box.top + (ny - 1 - j) * ch, cw + 0.5, ch + 0.5);
  });
  ctx.fill();
  // axes
  ctx.strokeStyle = theme.axis;
  ctx.fillStyle = theme.text;
  ctx.lineWidth = 1;
  ctx.font = `${fontSize}px ${theme.font}`;
  ctx.strokeRect(box.left - 0.5, box.top - 0.5, box.width + 1, box.height + 1);
  const px = (axis, v, a, span) => a + ((fraction(axis, v) * (axis.count - 1) + 0.5) / axis.count) * span;
  ctx.beginPath();
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const [v, label] of axisTicks(map.x, Math.max(2, Math.floor(box.width / (fontSize * 4.5))))) {
    const x = px(map.x, v, box.left, box.width);
    ctx.moveTo(x, box.top + box.height); ctx.lineTo(x, box.top + box.height + 4);
    ctx.fillText(label, x, box.top + box.height + 5);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const [v, label] of yTicks) {
    const y = px(map.y, v, box.top + box.height, -box.height);
    ctx.moveTo(box.left, y); ctx.lineTo(box.left - 4, y);
    ctx.fillText(label, box.left - 6, y);
  }
  ctx.stroke();
  ctx.font = `600 ${xTitle.sizes[0]}px ${theme.font}`;
  ctx.textBaseline = "bottom";
  const half = ctx.measureText(xTitle.lines[0]).width / 2;
  ctx.textAlign = "center";
  ctx.fillText(xTitle.lines[0], Math.max(half + 4, Math.min(box.left + box.width / 2, width - half - 4)), height - 2);
  ctx.save();
  ctx.translate(fontSize * 0.9, box.top + box.height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  yTitle.lines.forEach((line, k) => {
    ctx.font = `${k ? "" : "600 "}${yTitle.sizes[k]}px ${theme.font}`; // the scale under the name, in regular weight
    ctx.fillText(line, 0, k * fontSize * 1.2);
  });
  ctx.restore();
  // the racer's own setting
  const fx = fraction(map.x, map.current.x);
  const fy = fraction(map.y, map.current.y);
  const inside = fx >= 0 && fx <= 1 && fy >= 0 && fy <= 1;
  const mx = px(map.x, map.current.x, box.left, box.width);
  const my = px(map.y, map.current.y, box.top + box.height, -box.height);
  const clampX = Math.min(box.left + box.width, Math.max(box.left, mx));
  const clampY = Math.min(box.top + box.height, Math.max(box.top, my));
  const r = Math.max(7, fontSize * 0.7); // a ring the back row finds: 17 px at presenter size
  ctx.lineWidth = 4;
  ctx.strokeStyle = "#ffffff";
  ctx.beginPath(); ctx.arc(clampX, clampY, r, 0, 2 * Math.PI); ctx.stroke();
  ctx.lineWidth = 2.2;
  ctx.strokeStyle = "#000000";
  ctx.setLineDash(inside ? [] : [3, 3]);
  ctx.beginPath(); ctx.arc(clampX, clampY, r, 0, 2 * Math.PI); ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = map.color;
  ctx.beginPath(); ctx.arc(clampX, clampY, r * 0.45, 0, 2 * Math.PI); ctx.fill();
  return { box, marker: [clampX, clampY], inside, titles: { x: xTitle.lines.join(" "), y: yTitle.lines.join(" ") } };
}

/** The map as SVG text: a rect per run of equal cells in a row, axes, legend, the marker. */
function mapSvg(map, metric, theme, title) {
  const width = 900;
  const height = 820;
  const fontSize = 16;
  const yTicks = axisTicks(map.y, 8);
  const box = layout(width, height - 70, fontSize, Math.max(...yTicks.map(([, label]) => label.length)) * fontSize * 0.6);
  const nx = map.x.count;
  const ny = map.y.count;
  const { colours, lo, hi, log, clipped } = shade(map, metric);
  const cw = box.width / nx;
  const ch = box.height / ny;
  const fill = (c) => (c === "invalid" ? INVALID : c === "none" ? NO_ARRIVAL : c === "diverged" ? "url(#diverged)" : `rgb(${c.map(Math.round).join(",")})`);
  const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${fontSize}">`);
  out.push(`<defs><pattern id="diverged" width="8" height="8" patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="#ffffff"/><path d="M-2 10L10-2M-2 2L2-2M6 10L10 6" stroke="${DIVERGED}" stroke-width="2.2"/></pattern>`);
  const stops = Array.from({ length: 9 }, (_, k) => `<stop offset="${k / 8}" stop-color="rgb(${colormap(1 - k / 8).map(Math.round).join(",")})"/>`).join("");
  out.push(`<linearGradient id="scale">${stops}</linearGradient></defs>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-weight="600">${esc(title)}</text>`);
  out.push(`<g transform="translate(0 30)" shape-rendering="crispEdges">`);
  for (let j = 0; j < ny; j++) {
    let i = 0;
    while (i < nx) {
      const c = fill(colours[j * nx + i]);
      let k = i + 1;
      while (k < nx && fill(colours[j * nx + k]) === c) k++;
      out.push(`<rect x="${(box.left + i * cw).toFixed(2)}" y="${(box.top + (ny - 1 - j) * ch).toFixed(2)}" width="${((k - i) * cw).toFixed(2)}" height="${ch.toFixed(2)}" fill="${c}"/>`);
      i = k;
    }
  }
  out.push("</g><g transform=\"translate(0 30)\">");
  out.push(`<rect x="${box.left}" y="${box.top}" width="${box.width}" height="${box.height}" fill="none" stroke="#444"/>`);
  const px = (axis, v, a, span) => a + ((fraction(axis, v) * (axis.count - 1) + 0.5) / axis.count) * span;
  for (const [v, label] of axisTicks(map.x, 8)) {
    const x = px(map.x, v, box.left, box.width).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${box.top + box.height}" y2="${box.top + box.height + 5}" stroke="#444"/><text x="${x}" y="${box.top + box.height + 20}" text-anchor="middle">${esc(label)}</text>`);
  }
  for (const [v, label] of yTicks) {
    const y = px(map.y, v, box.top + box.height, -box.height).toFixed(1);
    out.push(`<line x1="${box.left - 5}" x2="${box.left}" y1="${y}" y2="${y}" stroke="#444"/><text x="${box.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(label)}</text>`);
  }
  out.push(`<text x="${box.left + box.width / 2}" y="${box.top + box.height + 44}" text-anchor="middle" font-weight="600">${esc(axisTitle(map.x).text)}</text>`);
  out.push(`<text transform="translate(16 ${box.top + box.height / 2}) rotate(-90)" text-anchor="middle" font-weight="600">${esc(axisTitle(map.y).text)}</text>`);
  const mx = Math.min(box.left + box.width, Math.max(box.left, px(map.x, map.current.x, box.left, box.width)));
  const my = Math.min(box.top + box.height, Math.max(box.top, px(map.y, map.current.y, box.top + box.height, -box.height)));
  out.push(`<circle cx="${mx.toFixed(1)}" cy="${my.toFixed(1)}" r="9" fill="none" stroke="#fff" stroke-width="4"/><circle cx="${mx.toFixed(1)}" cy="${my.toFixed(1)}" r="9" fill="none" stroke="#000" stroke-width="2.2"/><circle cx="${mx.toFixed(1)}" cy="${my.toFixed(1)}" r="4" fill="${esc(map.color)}"/>`);
  out.push("</g>");
  const ly = height - 34;
  const label = metric === "arrived_at" ? "arrival step (early → late)" : "final loss gap f − f* (log)";
  out.push(`<text x="${box.left}" y="${ly - 8}">${esc(label)}: ${esc(log ? fmtGap(lo) : lo)}</text>`);
  out.push(`<rect x="${box.left}" y="${ly}" width="240" height="16" fill="url(#scale)" stroke="#444"/><text x="${box.left + 248}" y="${ly + 13}">${esc(log ? `${fmtGap(hi)}${clipped ? "+" : ""}` : hi)}</text>`);
  out.push(`<rect x="${box.left + 330}" y="${ly}" width="24" height="16" fill="url(#diverged)" stroke="#444"/><text x="${box.left + 360}" y="${ly + 13}">diverged</text>`);
  out.push(`<rect x="${box.left + 460}" y="${ly}" width="24" height="16" fill="${INVALID}" stroke="#444"/><text x="${box.left + 490}" y="${ly + 13}">invalid</text>`);
  if (metric === "arrived_at") out.push(`<rect x="${box.left + 570}" y="${ly}" width="24" height="16" fill="${NO_ARRIVAL}" stroke="#444"/><text x="${box.left + 600}" y="${ly + 13}">did not arrive</text>`);
  out.push("</svg>");
  return out.join("\n");
}

function download(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** POST /api/map/stream: calls onFrame for each NDJSON line as it arrives. */
const streamMap = (body, onFrame, signal) => streamNDJSON("/api/map/stream", body, onFrame, signal);

/**
 * The panel in `root`. handlers: setValues(racerIndex, {key: value}) sets a racer's hyperparameters
 * (keys as axis keys, `schedule.<name>` for a schedule's); onRacer(index) tells which racer the map shows.
 */
export function createMapPanel(root, codec, handlers) {
  loadCss();
  root.classList.add("map-panel");
  root.innerHTML = `
    <div class="map-pickers">
      <label>Racer <select data-role="racer"></select></label>
      <label>x <select data-role="x"></select></label>
      <label class="map-scale">x scale <select data-role="x-scale"></select></label>
      <label>y <select data-role="y"></select></label>
      <label class="map-scale">y scale <select data-role="y-scale"></select></label>
      <label>Cells <select data-role="count">${COUNTS.map((c) => `<option value="${c}">${c} × ${c}</option>`).join("")}</select></label>
      <label>Colour <select data-role="metric"><option value="final_gap">final loss gap (log)</option><option value="arrived_at">arrival step</option></select></label>
    </div>
    <div class="map-stage"><canvas class="map-canvas" tabindex="0" role="img" aria-label="Hyperparameter map"></canvas>
      <p class="map-tip" data-role="tip" role="status" hidden></p></div>
    <div class="map-legend" aria-hidden="true">
      <span class="map-scalebar"><span data-role="lo"></span><i></i><span data-role="hi"></span></span>
      <span class="map-key"><i class="key-diverged"></i>diverged</span>
      <span class="map-key" data-role="key-none" hidden><i class="key-none"></i>did not arrive</span>
      <span class="map-key" data-role="key-invalid" hidden><i class="key-invalid"></i>invalid</span>
      <span class="map-key"><i class="key-marker"></i>the racer's setting</span>
    </div>
    <p class="hint map-status" data-role="status" aria-live="polite"></p>
    <div class="map-actions"><button type="button" data-role="png">PNG</button><button type="button" data-role="svg">SVG</button></div>`;
  const $ = (role) => root.querySelector(`[data-role="${role}"]`);
  const canvas = root.querySelector("canvas");
  const state = { racer: 0, x: "lr", y: null, xScale: null, yScale: null, count: 32, metric: "final_gap" };
  $("count").value = "32";
  let scene = null;
  let map = null; // the last complete (or streaming) map
  let mapKey = "";
  let drawnGeometry = null;
  let controller = null;
  let timer = 0;
  let hover = null;

  function racerOf(s = scene) { return s.racers[Math.min(state.racer, s.racers.length - 1)]; }

  function fillSelect(select, options, value) {
    const html = options.map(([v, text]) => `<option value="${v}">${text}</option>`).join("");
    if (select.dataset.html !== html) { select.innerHTML = html; select.dataset.html = html; }
    select.value = value;
  }

  function pickers() {
    state.racer = Math.min(state.racer, scene.racers.length - 1);
    fillSelect($("racer"), scene.racers.map((r, i) => [i, r.label]), String(state.racer));
    const specs = axisSpecs(codec, racerOf());
    const keys = specs.map((s) => s.key);
    if (!keys.includes(state.x)) { state.x = "lr"; state.xScale = null; }
    if (!keys.includes(state.y) || state.y === state.x) { state.y = keys.find((k) => k !== state.x); state.yScale = null; }
    fillSelect($("x"), specs.filter((s) => s.key !== state.y).map((s) => [s.key, s.key]), state.x);
    fillSelect($("y"), specs.filter((s) => s.key !== state.x).map((s) => [s.key, s.key]), state.y);
    for (const axis of ["x", "y"]) {
      const spec = specs.find((s) => s.key === state[axis]);
      const scales = ["log", "linear"];
      const top = spec.slider_max ?? spec.maximum;
      if (top != null && top < 1) scales.push("one_minus_log");
      state[`${axis}Scale`] ??= defaultScale(spec);
      if ((spec.slider_min ?? spec.minimum ?? 0) <= 0 && state[`${axis}Scale`] === "log" && spec.scale !== "log") state[`${axis}Scale`] = "linear";
      fillSelect($(`${axis}-scale`), scales.map((scale) => [scale, scaleWords(scale, spec.key)]), state[`${axis}Scale`]);
    }
  }

  function request() {
    const racer = racerOf();
    const axis = (key, scale) => {
      const spec = axisSpecs(codec, racer).find((s) => s.key === key);
      const out = { name: key, count: state.count, scale };
      if (scale === "log" && !(spec.slider_min > 0)) out.min = spec.minimum > 0 ? spec.minimum : 1e-6;
      return out;
    };
    return {
      scene: { ...scene, racers: [racer] },
      racer: 0,
      x: axis(state.x, state.xScale),
      y: axis(state.y, state.yScale),
      metric: state.metric,
    };
  }

  /** What the map depends on: the scene but the racer's two mapped values and the other racers. */
  function keyOf(body) {
    const racer = structuredClone(body.scene.racers[0]);
    for (const key of [state.x, state.y]) {
      if (key.startsWith("schedule.")) delete racer.schedule.params[key.slice(9)]; else delete racer.params[key];
    }
    delete racer.label;
    delete racer.color;
    return JSON.stringify([{ ...body.scene, racers: [racer] }, body.x, body.y]);
  }

  async function compute() {
    const body = request();
    const key = keyOf(body);
    const racer = racerOf();
    if (key === mapKey && map) {
      // same map: only the racer's own setting moved
      map.current = { x: valueOf(racer, state.x), y: valueOf(racer, state.y) };
      map.color = racer.color;
      draw("moved");
      return;
    }
    controller?.abort();
    const mine = new AbortController();
    controller = mine;
    mapKey = key;
    const requested = performance.now();
    canvas.dataset.state = "loading";
    $("status").textContent = `Racing ${state.count * state.count} cells…`;
    try {
      if (state.count * state.count >= STREAM_FROM) {
        let partial = null;
        await streamMap(body, (frame) => {
          if (mine.signal.aborted) return;
          if (frame.type === "header") {
            partial = { ...frame, status: [], final_gap: [], arrived_at: [], diverged_at: [] };
          } else if (frame.type === "rows") {
            for (const k of ["status", "final_gap", "arrived_at", "diverged_at"]) partial[k].push(...frame[k]);
            map = padded(partial);
            draw("partial");
          } else if (frame.type === "summary") {
            Object.assign(partial, frame);
            map = partial;
          }
        }, mine.signal);
      } else {
        map = await postJSON("/api/map", body, mine.signal);
      }
      if (mine.signal.aborted) return;
      map.current = { x: valueOf(racerOf(), state.x), y: valueOf(racerOf(), state.y) };
      draw("ready");
      document.dispatchEvent(new CustomEvent("optirace:map-drawn", { detail: { requested, drawn: performance.now(), cells: state.count * state.count } }));
    } catch (error) {
      if (error.name === "AbortError") return;
      mapKey = "";
      canvas.dataset.state = "error";
      $("status").textContent = error instanceof ApiError ? error.message : `Could not compute the map (${error.message})`;
    }
  }

  /** A streaming map with its missing rows as invalid-looking placeholders, so it can be drawn. */
  function padded(partial) {
    const rows = partial.status.length;
    const out = { ...partial };
    const missing = partial.y.count - rows;
    if (missing > 0) {
      const blank = (v) => Array.from({ length: missing }, () => Array(partial.x.count).fill(v));
      out.status = [...partial.status, ...blank("invalid")];
      out.final_gap = [...partial.final_gap, ...blank(null)];
      out.arrived_at = [...partial.arrived_at, ...blank(null)];
      out.diverged_at = [...partial.diverged_at, ...blank(null)];
    }
    return out;
  }

  function theme() {
    const t = readTheme(canvas);
    const panel = getComputedStyle(root).backgroundColor.match(/\d+/g)?.slice(0, 3).map(Number) ?? [255, 255, 255];
    t.panelHex = `#${panel.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
    return t;
  }

  function draw(stage) {
    if (!map) return;
    const rect = canvas.getBoundingClientRect();
    if (!rect.width) return;
    const dpr = window.devicePixelRatio || 1;
    const width = Math.round(rect.width);
    const height = Math.round(rect.height);
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const t = theme();
    const fontSize = t.scaledFont ? Math.max(t.fontSize, Math.min(24, Math.round(width / 34))) : t.fontSize;
    const began = performance.now();
    drawnGeometry = paint(ctx, width, height, map, state.metric, t, fontSize);
    canvas.dataset.drawMs = (performance.now() - began).toFixed(1);
    const { box, marker, inside } = drawnGeometry;
    canvas.dataset.box = JSON.stringify({ left: box.left, top: box.top, width: box.width, height: box.height, nx: map.x.count, ny: map.y.count });
    canvas.dataset.marker = `${marker[0].toFixed(1)},${marker[1].toFixed(1)}`;
    canvas.dataset.xTitle = drawnGeometry.titles.x;
    canvas.dataset.yTitle = drawnGeometry.titles.y;
    if (stage !== "partial") canvas.dataset.state = "ready";
    canvas.dataset.stage = stage;
    legend();
    if (stage !== "partial") status();
    tip(hover);
    canvas.setAttribute("aria-label", `Map of ${map.label}: ${axisTitle(map.x).text} × ${axisTitle(map.y).text}, ${map.x.count} × ${map.y.count} races; the marker is ${inside ? "inside" : "outside"} the map`);
  }

  function legend() {
    const { lo, hi, log, clipped } = shade(map, state.metric);
    $("lo").textContent = log ? fmtGap(lo) : "step 0";
    $("hi").textContent = log ? `${fmtGap(hi)}${clipped ? " (start) and worse" : ""}` : `${hi}`;
    $("key-none").hidden = state.metric !== "arrived_at";
    $("key-invalid").hidden = !(map.counts?.invalid > 0 || map.status.some((row) => row.includes("invalid")));
    root.querySelector(".key-marker").style.setProperty("--racer", map.color);
  }

  function cellAt(event) {
    if (!drawnGeometry || !map) return null;
    const rect = canvas.getBoundingClientRect();
    const { box } = drawnGeometry;
    const i = Math.floor(((event.clientX - rect.left - box.left) / box.width) * map.x.count);
    const j = map.y.count - 1 - Math.floor(((event.clientY - rect.top - box.top) / box.height) * map.y.count);
    return i >= 0 && i < map.x.count && j >= 0 && j < map.y.count ? [i, j] : null;
  }

  function describe([i, j]) {
    const s = map.status[j][i];
    const where = `${map.x.name} = ${fmt(map.x.values[i])}, ${map.y.name} = ${fmt(map.y.values[j])}`;
    if (s === "invalid") return `${where}: invalid (${map.invalid_reason ?? "breaks a rule linking the hyperparameters"})`;
    if (s === "diverged") return `${where}: diverged at step ${map.diverged_at[j][i]}`;
    const gap = `final gap ${fmtGap(map.final_gap[j][i])}`;
    return `${where}: ${gap}${s === "arrived" ? `, arrived at step ${map.arrived_at[j][i]}` : ", did not arrive"}. Click to race it.`;
  }

  /** The hovered (or keyboard-chosen) cell in a tip over the map, so the page's layout never moves under the mouse. */
  function tip(cell) {
    const node = $("tip");
    node.hidden = !cell || !map;
    if (node.hidden) return;
    node.textContent = describe(cell);
    node.classList.toggle("map-tip-top", cell[1] < map.y.count / 2); // away from the cell
  }

  function status() {
    if (!map || canvas.dataset.state !== "ready") return;
    const c = map.counts;
    const best = map.best ? ` Best: ${map.x.name} = ${fmt(map.best.x)}, ${map.y.name} = ${fmt(map.best.y)} (gap ${fmtGap(map.best.final_gap)}).` : "";
    const invalid = c?.invalid ? ` ${c.invalid} invalid: ${map.invalid_reason}.` : "";
    $("status").textContent = `${map.label} on ${map.x.count} × ${map.y.count} full races of ${map.steps} steps: ${c?.arrived ?? 0} arrived, ${c?.diverged ?? 0} diverged.${best}${invalid} Click a cell to race it.`;
  }

  canvas.addEventListener("mousemove", (event) => { hover = cellAt(event); tip(hover); });
  canvas.addEventListener("mouseleave", () => { hover = null; tip(null); });
  canvas.addEventListener("click", (event) => {
    const cell = cellAt(event);
    if (!cell || map.status[cell[1]][cell[0]] === "invalid") return;
    handlers.setValues(state.racer, { [map.x.name]: map.x.values[cell[0]], [map.y.name]: map.y.values[cell[1]] });
  });
  // keyboard: arrows move through the cells from the racer's setting, Enter races the cell. Listened to on the
  // window while capturing, ahead of the page's own keys (arrows step the race wherever the focus is).
  let cursor = null;
  window.addEventListener("keydown", (event) => {
    if (event.target !== canvas || !map || event.ctrlKey || event.metaKey || event.altKey) return;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (moves[event.key]) {
      event.preventDefault();
      event.stopPropagation();
      cursor ??= [Math.round(fraction(map.x, map.current.x) * (map.x.count - 1)), Math.round(fraction(map.y, map.current.y) * (map.y.count - 1))];
      cursor = [Math.min(map.x.count - 1, Math.max(0, cursor[0] + moves[event.key][0])), Math.min(map.y.count - 1, Math.max(0, cursor[1] + moves[event.key][1]))];
      tip(cursor);
    } else if (event.key === "Enter" && cursor && map.status[cursor[1]][cursor[0]] !== "invalid") {
      event.preventDefault();
      event.stopPropagation();
      handlers.setValues(state.racer, { [map.x.name]: map.x.values[cursor[0]], [map.y.name]: map.y.values[cursor[1]] });
    }
  }, true);
  canvas.addEventListener("blur", () => { cursor = null; tip(hover); });

  const changed = () => { schedule(0); };
  $("racer").addEventListener("change", () => { state.racer = Number($("racer").value); state.xScale = state.yScale = null; pickers(); handlers.onRacer?.(state.racer); changed(); });
  $("x").addEventListener("change", () => { state.x = $("x").value; state.xScale = null; pickers(); changed(); });
  $("y").addEventListener("change", () => { state.y = $("y").value; state.yScale = null; pickers(); changed(); });
  $("x-scale").addEventListener("change", () => { state.xScale = $("x-scale").value; changed(); });
  $("y-scale").addEventListener("change", () => { state.yScale = $("y-scale").value; changed(); });
  $("count").addEventListener("change", () => { state.count = Number($("count").value); changed(); });
  $("metric").addEventListener("change", () => { state.metric = $("metric").value; if (map) { map.metric = state.metric; draw("ready"); } });

  const name = () => `optirace-map-${map.optimizer}-${map.x.name}-${map.y.name}`.replace(/[^a-z0-9_-]+/gi, "-");
  const title = () => `${map.label} on ${scene.landscape.name}, ${map.steps} steps: ${state.metric === "arrived_at" ? "arrival step" : "final loss gap"}`;
  $("png").addEventListener("click", () => {
    if (!map) return;
    const out = document.createElement("canvas");
    out.width = 1600;
    out.height = 1480;
    const ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, out.width, out.height);
    const t = { ...readTheme(canvas), text: "#111111", axis: "#444444", panelHex: "#ffffff", font: "sans-serif" };
    ctx.fillStyle = "#111111";
    ctx.font = "600 34px sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(title(), 800, 48);
    ctx.translate(0, 70);
    paint(ctx, 1600, 1320, map, state.metric, t, 30);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    // legend: colour scale and keys
    const { lo, hi, log, clipped } = shade(map, state.metric);
    const y0 = 1420;
    for (let k = 0; k < 300; k++) { ctx.fillStyle = `rgb(${colormap(1 - k / 299).map(Math.round).join(",")})`; ctx.fillRect(200 + k, y0, 1, 30); }
    ctx.fillStyle = "#111111";
    ctx.font = "26px sans-serif";
    ctx.textAlign = "right";
    ctx.fillText(log ? fmtGap(lo) : String(lo), 190, y0 + 25);
    ctx.textAlign = "left";
    ctx.fillText(log ? `${fmtGap(hi)}${clipped ? " (start) and worse" : ""}` : String(hi), 510, y0 + 25);
    ctx.fillStyle = hatch(ctx, "#ffffff");
    ctx.fillRect(850, y0, 40, 30);
    ctx.fillStyle = "#111111";
    ctx.fillText("diverged", 900, y0 + 25);
    ctx.fillStyle = INVALID;
    ctx.fillRect(1040, y0, 40, 30);
    ctx.fillStyle = "#111111";
    ctx.fillText("invalid", 1090, y0 + 25);
    if (state.metric === "arrived_at") { ctx.fillStyle = NO_ARRIVAL; ctx.fillRect(1220, y0, 40, 30); ctx.fillStyle = "#111111"; ctx.fillText("did not arrive", 1270, y0 + 25); }
    out.toBlob((blob) => download(blob, `${name()}.png`), "image/png");
  });
  $("svg").addEventListener("click", () => {
    if (!map) return;
    download(new Blob([mapSvg(map, state.metric, theme(), title())], { type: "image/svg+xml" }), `${name()}.svg`);
  });

  new ResizeObserver(() => { if (map) draw(canvas.dataset.stage === "partial" ? "partial" : "ready"); }).observe(canvas);

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(compute, delay);
  }

  return {
    /** A new scene on screen: redraw the marker at once, recompute the map if what it depends on changed
     * (at once for a discrete change, after a pause while a drag goes on). */
    update(next, urgent = true) {
      scene = next;
      pickers();
      const key = keyOf(request());
      schedule(key === mapKey || urgent ? 0 : 200);
    },
    redraw() { if (map) draw(canvas.dataset.stage === "partial" ? "partial" : "ready"); },
    get racer() { return state.racer; },
    /** Show racer `index` (e.g. the one whose sensitivity curve was picked). */
    setRacer(index) { state.racer = index; state.xScale = state.yScale = null; if (scene) { pickers(); schedule(0); } },
    mapSvg: () => (map ? mapSvg(map, state.metric, theme(), title()) : ""),
  };
}

/** POST /api/tune: every racer's best learning rate on this landscape and start, and the race with them. */
export function tuneScene(scene, options = {}, signal = undefined) {
  return postJSON("/api/tune", { scene, ...options }, signal);
}

/** The tune result as a small table in `root`: objective, each racer's lr before → after and its outcome. */
export function showTune(root, result) {
  loadCss();
  const rows = result.racers.map((r) => {
    const values = Object.keys(r.tuned).map((k) => `${k} ${fmt(r.before[k])} → <strong>${fmt(r.tuned[k])}</strong>`).join(", ");
    const outcome = r.status === "arrived" ? `✓ step ${r.arrived_at}` : r.status === "diverged" ? `✕ step ${r.diverged_at}` : `gap ${fmtGap(r.final_gap)}`;
    return `<tr><th scope="row"><span class="swatch"></span>${r.label.replace(/</g, "&lt;")}</th><td>${values}${r.found ? "" : " (every lr diverged)"}</td><td class="num">${outcome}</td></tr>`;
  }).join("");
  root.innerHTML = `<h2>Fair race <small>each racer at its own best lr</small></h2>
    <table class="tune-table"><thead><tr><th scope="col">Racer</th><th scope="col">tuned</th><th scope="col" class="num">outcome</th></tr></thead><tbody>${rows}</tbody></table>
    <p class="hint">Objective: ${result.objective.description}. Searched: lr ${fmt(result.search.lr.min)} … ${fmt(result.search.lr.max)}, ${result.search.lr.count} log-spaced, then ${result.search.lr.refine} around the best${result.search.beta1 ? `; beta1 in ${result.search.beta1.join(", ")}` : ""}.</p>`;
  // colours through the CSSOM: the page's Content-Security-Policy refuses style attributes in markup
  root.querySelectorAll(".swatch").forEach((swatch, k) => swatch.style.setProperty("--racer", result.racers[k].color));
  root.hidden = false;
}
