// Charts on canvas: the loss gap (log scale) and the learning rate of every racer against the step,
// with the current step marked; the learning-rate sensitivity sweep (the leaderboard: leaderboard.js).

import { markerPath } from "./animate.js";
import { niceTicks, readTheme, tickLabel } from "./plot.js";

const FLOOR = 1e-16;

/** A canvas chart kept crisp and sized to its box; draw(ctx, width, height) is called on demand. */
function canvasChart(canvas, drawBase, drawCursor) {
  const ctx = canvas.getContext("2d");
  const cache = document.createElement("canvas");
  const cctx = cache.getContext("2d");
  let width = 0;
  let height = 0;
  let dpr = 1;
  let stale = true;

  const api = {
    invalidate() { stale = true; api.draw(); },
    draw() {
      if (!width || !height) return; // hidden or not laid out yet: the ResizeObserver calls back
      if (stale) {
        cctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        cctx.clearRect(0, 0, width, height);
        drawBase(cctx, width, height);
        stale = false;
      }
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(cache, 0, 0);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      drawCursor(ctx, width, height);
    },
  };
  new ResizeObserver(([entry]) => {
    const w = Math.round(entry.contentRect.width);
    const h = Math.round(entry.contentRect.height);
    const d = window.devicePixelRatio || 1;
    if (w === width && h === height && d === dpr) return;
    width = w; height = h; dpr = d;
    for (const c of [canvas, cache]) { c.width = Math.round(w * d); c.height = Math.round(h * d); }
    stale = true;
    api.draw();
  }).observe(canvas);
  return api;
}

function axes(ctx, box, xs, ys, theme, { xLog = false, yLog = false } = {}) {
  ctx.strokeStyle = theme.axis;
  ctx.fillStyle = theme.text;
  ctx.lineWidth = 1;
  ctx.font = `${theme.fontSize}px ${theme.font}`;
  ctx.strokeRect(box.left - 0.5, box.top - 0.5, box.width + 1, box.height + 1);
  ctx.beginPath();
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  // the canvas's width in CSS pixels: a label at either end is kept whole inside it
  const right = ctx.canvas.width / (ctx.getTransform().a || 1);
  for (const v of xs.ticks) {
    const x = xs.px(v);
    const label = xLog ? powerLabel(v) : tickLabel(v);
    const half = ctx.measureText(label).width / 2;
    ctx.moveTo(x, box.top + box.height);
    ctx.lineTo(x, box.top + box.height + 4);
    ctx.fillText(label, Math.max(half, Math.min(x, right - half - 1)), box.top + box.height + 6);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of ys.ticks) {
    const y = ys.px(v);
    ctx.moveTo(box.left, y);
    ctx.lineTo(box.left - 4, y);
    ctx.fillText(yLog ? powerLabel(v) : tickLabel(v), box.left - 6, y);
  }
  ctx.stroke();
  ctx.strokeStyle = theme.grid;
  ctx.beginPath();
  for (const v of ys.ticks) { const y = Math.round(ys.px(v)) + 0.5; ctx.moveTo(box.left, y); ctx.lineTo(box.left + box.width, y); }
  ctx.stroke();
}

function powerLabel(v) {
  const e = Math.round(Math.log10(v));
  return Math.abs(e) <= 2 ? tickLabel(10 ** e) : `1e${e}`.replace("-", "−");
}

function linearScale(lo, hi, a, b, count) {
  const span = hi - lo || 1;
  return { ticks: niceTicks(lo, hi, count), px: (v) => a + ((v - lo) / span) * (b - a) };
}

function logScale(lo, hi, a, b, count) {
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi);
  const span = l1 - l0 || 1;
  const every = Math.max(1, Math.ceil((Math.ceil(l1) - Math.floor(l0)) / count));
  const ticks = [];
  for (let e = Math.ceil(l0); e <= Math.floor(l1); e += every) ticks.push(10 ** e);
  return { ticks, px: (v) => a + ((Math.log10(Math.max(v, lo)) - l0) / span) * (b - a) };
}

/**
 * The plotting box inside a chart of width × height, leaving room for the axes' labels: the y labels left of it
 * (the top one centred on its edge, so half a line above), one line of x labels under it (6 px below its edge).
 */
function boxOf(width, height, fontSize) {
  const left = Math.round(fontSize * 4);
  const top = Math.max(10, Math.round(fontSize * 0.6));
  const bottom = Math.round(fontSize * 1.6) + 6;
  return { left, top, width: width - left - 12, height: height - top - bottom, bottom };
}

/** Lines and markers as thick as the map's paths: thicker in presenter mode (--path-scale), for the back row. */
const lineScale = (theme) => Number(theme.pathScale) || 1;

/** Draw a series (values[0..n)) as one line, skipping sub-pixel steps; returns nothing. */
function line(ctx, n, xAt, yAt) {
  ctx.beginPath();
  let lx = -1;
  for (let i = 0; i < n; i++) {
    const x = xAt(i);
    if (i > 0 && i < n - 1 && x - lx < 0.5) continue;
    if (i === 0) ctx.moveTo(x, yAt(i)); else ctx.lineTo(x, yAt(i));
    lx = x;
  }
  ctx.stroke();
}

/**
 * A per-step chart of every racer: value(race, racer, i) for i < count(race, racer), against the step,
 * with the current step marked (and, with markers, each racer's marker on its line). The y scale is
 * logarithmic when `log(lo, hi)` says so; values ≤ 0 sit on a log axis's floor.
 */
function createStepChart(canvas, { value, count, log, markers = false, dashed = false }) {
  let race = null;
  let step = 0;
  let scales = null;
  let theme = null;
  const chart = canvasChart(canvas, (ctx, w, h) => {
    scales = null;
    if (!race || race.steps < 1) return;
    theme = readTheme(canvas);
    const box = boxOf(w, h, theme.fontSize);
    let lo = Infinity;
    let hi = 0;
    for (const racer of race.racers) {
      for (let i = 0, n = count(race, racer); i < n; i++) {
        const v = value(race, racer, i);
        if (v > 0 && v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (!(hi > 0)) { lo = 0.1; hi = 1; }
    const isLog = log(lo, hi);
    const yTicks = Math.max(2, Math.floor(box.height / 30));
    const xs = linearScale(0, race.steps, box.left, box.left + box.width, Math.max(2, Math.floor(box.width / 70)));
    const ys = isLog
      ? logScale(10 ** Math.floor(Math.log10(Math.max(lo, hi * 1e-14))), 10 ** Math.ceil(Math.log10(hi)), box.top + box.height, box.top, yTicks)
      : linearScale(0, hi * 1.08, box.top + box.height, box.top, yTicks);
    scales = { xs, ys, box };
    canvas.dataset.plotHeight = String(box.height); // the plot's own height, axes' labels aside (CSS px)
    axes(ctx, box, xs, ys, theme, { yLog: isLog });
    ctx.lineWidth = 1.8 * lineScale(theme);
    ctx.lineJoin = "round";
    race.racers.forEach((racer, r) => {
      ctx.strokeStyle = theme.ink(racer.color);
      ctx.setLineDash(dashed && r % 2 ? [6, 3] : []);
      line(ctx, count(race, racer), (i) => xs.px(i), (i) => ys.px(value(race, racer, i)));
    });
    ctx.setLineDash([]);
  }, (ctx) => {
    if (!scales) return;
    const { xs, ys, box } = scales;
    ctx.strokeStyle = theme.text;
    ctx.lineWidth = 1;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(xs.px(step), box.top);
    ctx.lineTo(xs.px(step), box.top + box.height);
    ctx.stroke();
    ctx.setLineDash([]);
    if (!markers) return;
    for (const racer of race.racers) {
      if (!racer.length || (racer.divergedAt != null && step >= racer.divergedAt)) continue;
      const i = Math.min(step, racer.length - 1);
      markerPath(ctx, racer.shape, xs.px(i), ys.px(value(race, racer, i)), 4.5 * lineScale(theme));
      ctx.fillStyle = theme.ink(racer.color);
      ctx.fill();
      ctx.strokeStyle = theme.halo;
      ctx.lineWidth = 1.2;
      ctx.stroke();
    }
  });
  return {
    setRace(next) { race = next; chart.invalidate(); },
    setStep(k) { step = k; chart.draw(); },
    redraw: () => chart.invalidate(),
  };
}

/** Loss gap f − f* against the step, log scale, with each racer's marker at the current step. */
export const createLossChart = (canvas) => createStepChart(canvas, {
  value: (race, racer, i) => Math.max(FLOOR, racer.loss[i] - race.minValue),
  count: (race, racer) => racer.length,
  log: () => true,
  markers: true,
});

/**
 * The learning rate of every update (schedule × base lr). Linear by default, so a schedule's shape reads
 * as it is (cosine a smooth arc, not a cliff); setLog(true) for racers whose lrs differ by decades.
 */
export function createLrChart(canvas) {
  let log = false;
  const chart = createStepChart(canvas, {
    value: (race, racer, i) => racer.lr[i],
    count: (race) => race.steps,
    log: () => log,
    dashed: true,
  });
  canvas.dataset.scale = "linear";
  return {
    ...chart,
    setLog(on) { log = Boolean(on); canvas.dataset.scale = log ? "log" : "linear"; chart.redraw(); },
    get log() { return log; },
  };
}

export function formatGap(g) {
  if (g == null || !Number.isFinite(g)) return "—";
  if (g === 0) return "0";
  return (Math.abs(g) >= 1e4 || Math.abs(g) < 1e-3 ? g.toExponential(2) : String(+g.toPrecision(3))).replaceAll("-", "−");
}

/**
 * The sweep: final loss gap against the learning rate (log–log) per racer; ✕ where it diverged; ▲ at the racer's lr.
 * With `focus` (a racer's index, e.g. the hyperparameter map's), that racer is drawn bold and the others faint.
 */
export function drawSweep(canvas, sweep, race, currentLrs, focus = null) {
  const rect = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(rect.width * dpr);
  canvas.height = Math.round(rect.height * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const theme = readTheme(canvas);
  const box = boxOf(rect.width, rect.height, theme.fontSize);
  const gaps = sweep.racers.flatMap((r) => r.final_gap.filter((g) => g != null).map((g) => Math.max(FLOOR, g)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...gaps, 1e-12)));
  const lo = 10 ** Math.floor(Math.log10(Math.max(Math.min(...gaps, hi / 10), hi * 1e-16)));
  const lrs = sweep.lrs;
  const xs = logScale(lrs[0], lrs[lrs.length - 1], box.left, box.left + box.width, Math.max(2, Math.floor(box.width / 60)));
  const ys = logScale(lo, hi * 10, box.top + box.height, box.top, Math.max(2, Math.floor(box.height / 30)));
  axes(ctx, box, xs, ys, theme, { xLog: true, yLog: true });
  sweep.racers.forEach((racer, r) => {
    const color = theme.ink(race?.racers[r]?.color || racer.color);
    ctx.globalAlpha = focus == null || focus === r ? 1 : 0.3;
    ctx.strokeStyle = color;
    ctx.lineWidth = focus === r ? 3.2 : 1.8;
    ctx.beginPath();
    let pen = false;
    racer.final_gap.forEach((g, i) => {
      if (g == null) { pen = false; return; }
      const x = xs.px(lrs[i]);
      const y = ys.px(Math.max(FLOOR, g));
      if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      pen = true;
    });
    ctx.stroke();
    ctx.fillStyle = color;
    ctx.font = `bold ${theme.fontSize}px ${theme.font}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    racer.final_gap.forEach((g, i) => { if (g == null) ctx.fillText("✕", xs.px(lrs[i]), box.top + 8 + r * 3); });
    const lr = currentLrs[r];
    if (lr >= lrs[0] && lr <= lrs[lrs.length - 1]) {
      markerPath(ctx, race?.racers[r]?.shape || "circle", xs.px(lr), box.top + box.height - 6, focus === r ? 7 : 5);
      ctx.fill();
    }
  });
  ctx.globalAlpha = 1;
}
