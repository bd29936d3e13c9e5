// Vectors on the map (loaded when first switched on): at the current step, per racer, what its update
// is made of, from the API's step internals (POST /api/race with "internals": true):
//   −∇f   the gradient the optimizer saw (noise included), reversed: where it pushes;
//   step  the update actually taken, θₖ₊₁ − θₖ;
//   −m    the momentum buffer / first moment (momentum_buffer, exp_avg), reversed like −∇f;
//   box   for adaptive methods, the per-coordinate effective learning rate read from the state
//         (e.g. lr/(√v̂ + ε) for Adam), an axis-aligned box of half-sides (ηx, ηy).
// Each kind has one scale per race, "L px = a round number", stated in the legend. Internals are fetched
// per racer (a race of that racer alone is the same race: noise is drawn per step from the seed), so
// a race of many racers × steps stays within the API's internals limit.

import { postJSON } from "./api.js";

const KINDS = [
  { key: "grad", label: "−∇f (what it saw)", dash: [] },
  { key: "momentum", label: "−m (momentum / 1st moment)", dash: [7, 5] },
  { key: "update", label: "step taken", dash: [] },
  { key: "box", label: "lr per coordinate", dash: [3, 3] },
];

/** The per-coordinate effective learning rate of update k (index k of the internals), or null. */
export function effectiveLr(optimizer, params, state, k, lr) {
  const at = (name, c) => state[name]?.[k]?.[c];
  const t = state.step ? state.step[k] : k + 1;
  const eps = params.eps ?? 0;
  const out = [0, 1].map((c) => {
    if (state.max_exp_avg_sq || state.exp_avg_sq) {
      const v = at(state.max_exp_avg_sq ? "max_exp_avg_sq" : "exp_avg_sq", c);
      return lr / (Math.sqrt(v / (1 - params.beta2 ** t)) + eps); // lr/(√v̂ + ε)
    }
    if (state.exp_inf) return lr / at("exp_inf", c); // adamax: u already holds ε
    if (optimizer === "adagrad") return lr / (1 + (t - 1) * (params.lr_decay ?? 0)) / (Math.sqrt(at("sum", c)) + eps);
    if (state.acc_delta) { // adadelta: lr·√(Δ² before + ε)/√(v + ε)
      const before = k > 0 ? state.acc_delta[k - 1][c] : 0;
      return lr * Math.sqrt(before + eps) / Math.sqrt(at("square_avg", c) + eps);
    }
    if (state.square_avg) { // rmsprop (centered: v − ḡ²)
      const v = at("square_avg", c) - (state.grad_avg ? at("grad_avg", c) ** 2 : 0);
      return lr / (Math.sqrt(v) + eps);
    }
    if (state.step_size) return at("step_size", c); // rprop: its own step per coordinate
    return null;
  });
  return out.every((v) => v != null && Number.isFinite(v)) ? out : null;
}

/** The vectors of racer data `d` at step k (the update leaving point k), or null past its last update. */
export function vectorsAt(d, k) {
  const { internals } = d;
  if (!internals || k >= internals.grad.length) return null;
  const g = internals.grad[k];
  const m = internals.state.momentum_buffer?.[k] ?? internals.state.exp_avg?.[k] ?? null;
  return {
    grad: [-g[0], -g[1]],
    update: internals.update[k],
    momentum: m ? [-m[0], -m[1]] : null,
    box: effectiveLr(d.optimizer, d.params, internals.state, k, d.lr[k]),
  };
}

/** A round number (1, 2 or 5 × 10ⁿ) near v. */
function nice(v) {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  const f = v / e;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * e;
}

/** The 90th percentile of the lengths (or the larger half-side) of one kind over every loaded racer's updates. */
function typical(data, key) {
  const sizes = [];
  for (const d of data) {
    if (!d?.internals) continue;
    const n = d.internals.grad.length;
    for (let k = 0; k < n; k += Math.max(1, Math.floor(n / 400))) {
      const v = vectorsAt(d, k)?.[key];
      if (v) sizes.push(key === "box" ? Math.max(Math.abs(v[0]), Math.abs(v[1])) : Math.hypot(v[0], v[1]));
    }
  }
  sizes.sort((a, b) => a - b);
  return sizes.length ? sizes[Math.floor(sizes.length * 0.9)] : 0;
}

const fmt = (v) => String(+v.toPrecision(2)).replace("-", "−");

/**
 * Vectors for `player`: a legend with a switch per racer (inserted after `anchor`) and a painter on
 * the race layer. `sceneOf()` gives the scene on screen. Returns { setRace(race), remove() }.
 */
export function createVectors(player, anchor, sceneOf, { onError = () => {} } = {}) {
  const sheet = new URL("./vectors.css", import.meta.url).href;
  if (!document.querySelector(`link[href="${sheet}"]`)) {
    document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: sheet }));
  }
  const legend = document.createElement("div");
  legend.className = "vectors-legend";
  legend.setAttribute("role", "group");
  legend.setAttribute("aria-label", "Vectors on the map");
  anchor.after(legend);
  let race = null;
  let data = []; // per racer: { optimizer, params, lr, internals } once loaded
  let on = []; // per racer: drawn or not
  let scales = {};
  let generation = 0;

  function rescale() {
    const L = pixels();
    scales = Object.fromEntries(KINDS.map(({ key }) => [key, { units: nice(typical(data, key)) || 1, px: L }]));
    for (const { key } of KINDS) if (!typical(data, key)) scales[key].units = 0;
  }
  /** The reference length: readable on a projector (grows with the map), never tiny on a phone. */
  function pixels() {
    const T = player.transform;
    return Math.round(Math.max(40, Math.min(120, (T ? T.width : 600) / 9)));
  }

  async function load(r, scene, mine) {
    const racer = scene.racers[r];
    const result = await postJSON("/api/race", { ...scene, racers: [racer], internals: true });
    if (mine !== generation) return;
    const reply = result.racers[0];
    data[r] = { optimizer: racer.optimizer, params: racer.params, lr: reply.lr, internals: reply.internals };
    rescale();
    renderLegend();
    player.requestDraw();
  }

  function ensure(r) {
    if (data[r] !== undefined || !race) return;
    data[r] = null; // loading
    load(r, sceneOf(), generation).catch((error) => { if (error.name !== "AbortError") onError(error); });
  }

  function renderLegend() {
    legend.replaceChildren();
    const all = document.createElement("label");
    all.className = "vectors-all";
    const allBox = Object.assign(document.createElement("input"), { type: "checkbox", checked: on.every(Boolean) });
    allBox.addEventListener("change", () => { on = on.map(() => allBox.checked); on.forEach((v, r) => v && ensure(r)); renderLegend(); player.requestDraw(); });
    all.append(allBox, " all racers");
    const racers = document.createElement("span");
    racers.className = "vectors-racers";
    (race?.racers || []).forEach((racer, r) => {
      const label = document.createElement("label");
      const box = Object.assign(document.createElement("input"), { type: "checkbox", checked: on[r] });
      box.dataset.racer = String(r);
      box.addEventListener("change", () => { on[r] = box.checked; if (box.checked) ensure(r); renderLegend(); player.requestDraw(); });
      const swatch = document.createElement("i");
      swatch.className = "vectors-swatch";
      swatch.style.background = racer.color;
      label.append(box, swatch, racer.label + (on[r] && data[r] === null ? " …" : ""));
      racers.append(label);
    });
    const key = document.createElement("span");
    key.className = "vectors-key";
    for (const kind of KINDS) {
      const s = scales[kind.key];
      if (!s || !s.units) continue;
      const item = document.createElement("span");
      item.className = `vectors-kind vectors-${kind.key}`;
      const sample = document.createElement("canvas");
      sample.width = 36; sample.height = 14;
      sample.setAttribute("aria-hidden", "true");
      const ctx = sample.getContext("2d");
      ctx.strokeStyle = ctx.fillStyle = getComputedStyle(legend).color;
      ctx.lineWidth = 2;
      if (kind.key === "box") { ctx.setLineDash(kind.dash); ctx.strokeRect(3, 2, 30, 10); } else drawArrow(ctx, 2, 7, 34, 7, kind.dash, 2, 6);
      item.append(sample, ` ${kind.label}: ${s.px} px = ${fmt(s.units)}`);
      key.append(item);
    }
    legend.append(all, racers, key);
  }

  function paint(ctx, k, T, theme) {
    const shown = [];
    if (!race) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(T.left, T.top, T.width, T.height);
    ctx.clip();
    const width = Math.max(2, theme.pathWidth * 0.9);
    race.racers.forEach((racer, r) => {
      if (!on[r] || !data[r]) return;
      const v = vectorsAt(data[r], k);
      if (!v) return;
      const x = T.px(racer.path[2 * k]);
      const y = T.py(racer.path[2 * k + 1]);
      const color = theme.ink(racer.color);
      const drawn = { racer: r, step: k, at: [racer.path[2 * k], racer.path[2 * k + 1]] };
      for (const kind of KINDS) {
        const vec = v[kind.key];
        const s = scales[kind.key];
        if (!vec || !s?.units) continue;
        const f = s.px / s.units;
        drawn[kind.key] = vec;
        if (kind.key === "box") {
          const [hx, hy] = [Math.abs(vec[0]) * f, Math.abs(vec[1]) * f];
          drawn.boxPx = [hx, hy];
          ctx.setLineDash(kind.dash);
          for (const [c, w] of [[theme.halo, width + 2.5], [color, width]]) {
            ctx.strokeStyle = c; ctx.lineWidth = w;
            ctx.strokeRect(x - hx, y - hy, 2 * hx, 2 * hy);
          }
          ctx.setLineDash([]);
          continue;
        }
        // y up on the map: a world vector (a, b) goes (a, −b) in pixels; very long ones are cut at 3 L
        let [dx, dy] = [vec[0] * f, -vec[1] * f];
        const len = Math.hypot(dx, dy);
        if (len > 3 * s.px) { dx *= (3 * s.px) / len; dy *= (3 * s.px) / len; }
        drawn[`${kind.key}Px`] = [dx, dy];
        for (const [c, w] of [[theme.halo, width + 2.5], [color, width]]) {
          ctx.strokeStyle = ctx.fillStyle = c;
          drawArrow(ctx, x, y, x + dx, y + dy, kind.dash, w, 6 + 2 * width);
        }
      }
      shown.push(drawn);
    });
    ctx.restore();
    legend.dataset.vectors = JSON.stringify(shown);
    legend.dataset.step = String(k);
  }

  const removePainter = player.addPainter(paint);

  return {
    element: legend,
    /** A new race on screen: its racers' internals are fetched again, for the racers switched on. */
    setRace(next) {
      if (next === race) return;
      const count = next?.racers.length ?? 0;
      const sameRacers = race && count === race.racers.length;
      race = next;
      generation += 1;
      on = sameRacers ? on : Array.from({ length: count }, () => true);
      data = Array.from({ length: count }, () => undefined);
      scales = {};
      on.forEach((v, r) => v && ensure(r));
      renderLegend();
      player.requestDraw();
    },
    remove() {
      generation += 1;
      removePainter();
      legend.remove();
    },
  };
}

function drawArrow(ctx, x0, y0, x1, y1, dash, width, head) {
  const len = Math.hypot(x1 - x0, y1 - y0);
  if (len < 0.5) return;
  const [ux, uy] = [(x1 - x0) / len, (y1 - y0) / len];
  const h = Math.min(head, len * 0.6);
  ctx.lineWidth = width;
  ctx.lineCap = "round";
  ctx.setLineDash(dash);
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1 - ux * h * 0.8, y1 - uy * h * 0.8);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - ux * h - uy * h * 0.5, y1 - uy * h + ux * h * 0.5);
  ctx.lineTo(x1 - ux * h + uy * h * 0.5, y1 - uy * h - ux * h * 0.5);
  ctx.closePath();
  ctx.fill();
}
