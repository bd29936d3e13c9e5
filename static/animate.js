// The race on the map: paths, fading trails, a ball per racer at its head, ✓ where one arrived and
// ✕ where one diverged; a clock that moves the current step. The race data is a `Race` (race.js).

import { starPath } from "./plot.js";

/** One marker shape per racer, in order, so racers differ by more than colour. */
export const SHAPES = ["circle", "square", "triangle", "diamond", "down", "pentagon", "hexagon", "star"];

export function markerPath(ctx, shape, x, y, r) {
  ctx.beginPath();
  const polygon = (n, rotation, radius = r) => {
    for (let k = 0; k < n; k++) {
      const a = rotation + (2 * Math.PI * k) / n;
      ctx.lineTo(x + radius * Math.cos(a), y + radius * Math.sin(a));
    }
    ctx.closePath();
  };
  switch (shape) {
    case "square": ctx.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7); break;
    case "triangle": polygon(3, -Math.PI / 2, r * 1.2); break;
    case "down": polygon(3, Math.PI / 2, r * 1.2); break;
    case "diamond": polygon(4, 0, r * 1.2); break;
    case "pentagon": polygon(5, -Math.PI / 2, r * 1.1); break;
    case "hexagon": polygon(6, 0, r * 1.05); break;
    case "star": starPath(ctx, x, y, r * 1.35, r * 0.6); break;
    default: ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
}

/** A marker drawn as a small inline canvas (legends, leaderboard). */
export function markerCanvas(shape, color, size = 16) {
  const canvas = document.createElement("canvas");
  const dpr = window.devicePixelRatio || 1;
  canvas.width = canvas.height = Math.round(size * dpr);
  canvas.className = "marker";
  canvas.setAttribute("aria-hidden", "true");
  const ctx = canvas.getContext("2d");
  ctx.scale(dpr, dpr);
  markerPath(ctx, shape, size / 2, size / 2, size * 0.3);
  ctx.fillStyle = color;
  ctx.fill();
  ctx.lineWidth = 1.2;
  ctx.strokeStyle = "#888"; // on light and dark panels
  ctx.stroke();
  return canvas;
}

/**
 * Pixel positions of every racer's path and, per racer, the indices worth drawing (a point is
 * skipped when it lies within `minStep` px of the last kept one), so a frame costs O(pixels), not O(steps).
 */
export function projectPaths(race, T, minStep = 0.75) {
  return race.racers.map((racer) => {
    const n = racer.length;
    const xy = new Float32Array(2 * n);
    const kept = new Int32Array(n);
    let count = 0;
    let lx = Infinity;
    let ly = Infinity;
    for (let i = 0; i < n; i++) {
      const x = T.px(racer.path[2 * i]);
      const y = T.py(racer.path[2 * i + 1]);
      xy[2 * i] = x;
      xy[2 * i + 1] = y;
      if (i === 0 || Math.abs(x - lx) + Math.abs(y - ly) >= minStep) {
        kept[count++] = i;
        lx = x;
        ly = y;
      }
    }
    return { xy, kept: kept.subarray(0, count), length: n };
  });
}

/** Trace points from..to (inclusive) of a projected path as one sub-path, skipping sub-pixel moves. */
function tracePath(ctx, p, from, to) {
  const { xy, kept } = p;
  if (to <= from) return;
  ctx.moveTo(xy[2 * from], xy[2 * from + 1]);
  let lo = 0;
  let hi = kept.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (kept[mid] <= from) lo = mid + 1; else hi = mid; }
  for (let k = lo; k < kept.length && kept[k] < to; k++) ctx.lineTo(xy[2 * kept[k]], xy[2 * kept[k] + 1]);
  ctx.lineTo(xy[2 * to], xy[2 * to + 1]);
}

/** The last point of racer r to show at step k (a diverged racer's path ends before its divergence). */
export function headIndex(p, k) {
  return Math.min(k, p.length - 1);
}

/**
 * Paths so far are inked incrementally into an offscreen canvas (full opacity, composited faintly),
 * so a frame draws one image plus the trails and balls whatever the number of steps.
 */
export function createPathRenderer() {
  const ink = document.createElement("canvas");
  const ictx = ink.getContext("2d");
  let inked = -1;
  let projected = null;
  let key = null;

  function reset(projection, width, height, dpr) {
    projected = projection;
    if (ink.width !== Math.round(width * dpr) || ink.height !== Math.round(height * dpr)) {
      ink.width = Math.round(width * dpr);
      ink.height = Math.round(height * dpr);
    }
    ictx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ictx.clearRect(0, 0, width, height);
    inked = 0;
    key = { width, height, dpr };
  }

  function inkTo(race, k, theme) {
    if (k < inked) {
      reset(projected, key.width, key.height, key.dpr);
    }
    if (k === inked) return;
    ictx.lineJoin = "round";
    ictx.lineCap = "round";
    race.racers.forEach((racer, r) => {
      const p = projected[r];
      const to = headIndex(p, k);
      const from = Math.min(inked, to);
      if (to <= from) return;
      ictx.beginPath();
      tracePath(ictx, p, from, to);
      ictx.strokeStyle = theme.ink(racer.color);
      ictx.lineWidth = theme.pathWidth;
      ictx.stroke();
    });
    inked = k;
  }

  /** Draw the race at step k onto ctx (CSS px units), clipped to the plot's frame `box`. */
  function draw(ctx, race, k, theme, box) {
    if (!projected) return;
    inkTo(race, k, theme);
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.left, box.top, box.width, box.height);
    ctx.clip();
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = theme.inkAlpha;
    ctx.drawImage(ink, 0, 0);
    ctx.restore();
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    // fading trail: the last `span` steps in bands of rising opacity and width
    const span = Math.max(6, Math.min(200, Math.round(race.steps * 0.06)));
    const bands = 5;
    race.racers.forEach((racer, r) => {
      const p = projected[r];
      const head = headIndex(p, k);
      if (head <= 0) return;
      const first = Math.max(0, head - span);
      for (let b = 0; b < bands; b++) {
        const from = Math.round(first + ((head - first) * b) / bands);
        const to = Math.round(first + ((head - first) * (b + 1)) / bands);
        if (to <= from) continue;
        const strength = (b + 1) / bands;
        ctx.beginPath();
        tracePath(ctx, p, from, to);
        ctx.globalAlpha = 0.5 * strength;
        ctx.strokeStyle = theme.halo;
        ctx.lineWidth = theme.pathWidth + 2.5;
        ctx.stroke();
        ctx.globalAlpha = 0.25 + 0.75 * strength;
        ctx.strokeStyle = theme.ink(racer.color);
        ctx.lineWidth = theme.pathWidth + strength * 1.5;
        ctx.stroke();
      }
    });
    ctx.globalAlpha = 1;
    // arrival ✓ and divergence ✕ where they happened, then the balls on top
    ctx.restore();
    race.racers.forEach((racer, r) => {
      const p = projected[r];
      if (racer.divergedAt != null && k >= racer.divergedAt && p.length > 0) {
        const [x, y] = exitPoint(p, box);
        cross(ctx, x, y, theme.ink(racer.color), theme);
      }
      if (racer.arrivedAt != null && k >= racer.arrivedAt && racer.arrivedAt < p.length) {
        const i = racer.arrivedAt;
        flag(ctx, p.xy[2 * i], p.xy[2 * i + 1], theme.ink(racer.color), theme);
      }
    });
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.left, box.top, box.width, box.height);
    ctx.clip();
    race.racers.forEach((racer, r) => {
      const p = projected[r];
      if (!p.length || (racer.divergedAt != null && k >= racer.divergedAt)) return;
      const i = headIndex(p, k);
      markerPath(ctx, racer.shape, p.xy[2 * i], p.xy[2 * i + 1], theme.ball);
      ctx.fillStyle = theme.ink(racer.color);
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = theme.halo;
      ctx.stroke();
    });
    ctx.restore();
  }

  return { reset, draw, get projected() { return projected; } };
}

/** Where a path ends, or, if it ends off the map, where it last left the frame. */
function exitPoint(p, box) {
  const { xy } = p;
  const inside = (i) => xy[2 * i] >= box.left && xy[2 * i] <= box.left + box.width
    && xy[2 * i + 1] >= box.top && xy[2 * i + 1] <= box.top + box.height;
  let i = p.length - 1;
  if (inside(i)) return [xy[2 * i], xy[2 * i + 1]];
  while (i > 0 && !inside(i - 1)) i--;
  if (i === 0) return [Math.min(box.left + box.width, Math.max(box.left, xy[0])), Math.min(box.top + box.height, Math.max(box.top, xy[1]))];
  // the segment (i − 1 → i) crosses the frame: cut it there
  const [x0, y0, x1, y1] = [xy[2 * i - 2], xy[2 * i - 1], xy[2 * i], xy[2 * i + 1]];
  let t = 1;
  for (const [edge, a, b] of [[box.left, x0, x1], [box.left + box.width, x0, x1], [box.top, y0, y1], [box.top + box.height, y0, y1]]) {
    if (b !== a) { const s = (edge - a) / (b - a); if (s >= 0 && s < t) t = s; }
  }
  return [x0 + (x1 - x0) * t, y0 + (y1 - y0) * t];
}

function cross(ctx, x, y, color, theme) {
  const r = theme.ball * 1.25;
  ctx.beginPath();
  ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
  ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r);
  ctx.lineCap = "round";
  ctx.strokeStyle = theme.halo;
  ctx.lineWidth = 6;
  ctx.stroke();
  ctx.strokeStyle = color;
  ctx.lineWidth = 3;
  ctx.stroke();
}

function flag(ctx, x, y, color, theme) {
  // a check mark in a disc, lifted above the point on a short pole
  const r = theme.ball * 1.15;
  const cy = y - r * 2.2;
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(x, cy + r);
  ctx.strokeStyle = theme.halo;
  ctx.lineWidth = 2;
  ctx.stroke();
  ctx.beginPath();
  ctx.arc(x, cy, r, 0, 2 * Math.PI);
  ctx.fillStyle = color;
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(x - r * 0.5, cy);
  ctx.lineTo(x - r * 0.12, cy + r * 0.4);
  ctx.lineTo(x + r * 0.55, cy - r * 0.45);
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = 2;
  ctx.stroke();
}

/**
 * The pace of a race at 1×, in steps per second: its duration grows with its length (5 s·√(steps/100),
 * 3 s to a minute), so a short race is not a blur and the first, interesting steps of a long one last seconds
 * (500 steps: 11 s, 45 steps/s; 1 200 steps: 17 s, 69 steps/s).
 */
export function autoPace(steps) {
  const seconds = Math.min(60, Math.max(3, 5 * Math.sqrt(Math.max(1, steps) / 100)));
  return Math.max(1, Math.round(steps / seconds));
}

/**
 * The clock: while playing, moves the step at `rate` steps per second and calls onStep(k) once per
 * animation frame in which k changed; stops at the end.
 */
export function createClock(onStep, onState) {
  let playing = false;
  let position = 0;
  let last = 0;
  let frame = 0;
  let total = 0;
  let rate = 100;

  function tick(now) {
    frame = 0;
    if (!playing) return;
    const dt = Math.min(0.1, (now - last) / 1000);
    last = now;
    const before = Math.floor(position);
    position = Math.min(total, position + dt * rate);
    if (Math.floor(position) !== before) onStep(Math.floor(position));
    if (position >= total) { setPlaying(false); return; }
    frame = requestAnimationFrame(tick);
  }

  function setPlaying(on) {
    if (on && position >= total) { position = 0; onStep(0); }
    playing = on && total > 0;
    if (playing && !frame) { last = performance.now(); frame = requestAnimationFrame(tick); }
    if (!playing && frame) { cancelAnimationFrame(frame); frame = 0; }
    onState(playing);
  }

  return {
    get playing() { return playing; },
    get step() { return Math.floor(position); },
    setTotal(steps, stepsPerSecond) {
      total = steps;
      rate = stepsPerSecond;
      if (position > total) { position = total; onStep(total); }
    },
    seek(k) { position = Math.max(0, Math.min(total, k)); onStep(Math.floor(position)); },
    play: () => setPlaying(true),
    pause: () => setPlaying(false),
    toggle: () => setPlaying(!playing),
  };
}
