// The step inspector ("explain this step", loaded when first opened): for one racer and the player's
// step k, the optimizer's update rule as its docstring states it (GET /api/optimizers: rule), then the
// numbers of update t = k + 1 from the API's step internals (POST /api/race with "internals": true, for
// that racer alone): θ, the gradient g it saw, its state after the update under torch's names and the
// docstring's symbols, what the rule derives from them (m̂, v̂, the denominator) and the step taken to
// the new θ. Scrubbing moves the step; ← and → move it by one (the page's keys).

import { getJSON, postJSON } from "./api.js";

// torch's state names → the docstrings' symbols (core/optimizers.py)
const SYMBOLS = {
  momentum_buffer: "b", sum: "s", square_avg: "v", grad_avg: "m̄", exp_avg: "m", exp_avg_sq: "v",
  max_exp_avg_sq: "v̂<sub>max</sub>", exp_inf: "u", acc_delta: "u", mu_product: "Πμ", prev: "p",
  step_size: "s", eta: "η", mu: "μ", ax: "a", variance: "v",
};

const num = (v) => {
  if (v == null || !Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  const text = a !== 0 && (a < 1e-4 || a >= 1e6) ? v.toExponential(4).replace(/\.?0+e/, "e").replace(/e([+-])(\d+)/, (_, s, d) => `×10<sup>${s === "-" ? "−" : ""}${d}</sup>`) : String(+v.toPrecision(6));
  return text.replace(/^-/, "−");
};
const pair = (p) => `(${num(p[0])}, ${num(p[1])})`;
const escape = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** What the rule derives from the state at update t, per coordinate, for the optimizers whose rule names them. */
export function derived(optimizer, params, state, k, lr, grad) {
  const t = state.step ? state.step[k] : k + 1;
  const at = (name) => state[name]?.[k];
  const rows = [];
  const per = (f) => [f(0), f(1)];
  const v = at("max_exp_avg_sq") ?? at("exp_avg_sq");
  if (at("exp_avg") && v && params.beta2 != null && !at("exp_inf")) {
    const m = at("exp_avg");
    rows.push(["m̂ = m / (1 − β₁ᵗ)", per((c) => m[c] / (1 - params.beta1 ** t))]);
    rows.push(["v̂ = v / (1 − β₂ᵗ)", per((c) => v[c] / (1 - params.beta2 ** t))]);
    rows.push(["denominator √v̂ + eps", per((c) => Math.sqrt(v[c] / (1 - params.beta2 ** t)) + params.eps)]);
  } else if (at("exp_inf")) {
    const m = at("exp_avg");
    rows.push(["m̂ = m / (1 − β₁ᵗ)", per((c) => m[c] / (1 - params.beta1 ** t))]);
    rows.push(["denominator u", at("exp_inf")]);
  } else if (optimizer === "adagrad") {
    rows.push(["clr = lr / (1 + (t − 1)·lr_decay)", [lr / (1 + (t - 1) * params.lr_decay), null]]);
    rows.push(["denominator √s + eps", per((c) => Math.sqrt(at("sum")[c]) + params.eps)]);
  } else if (at("acc_delta")) {
    rows.push(["Δ = √(u + eps) / √(v + eps) · g", per((c) => Math.sqrt((k > 0 ? state.acc_delta[k - 1][c] : 0) + params.eps) / Math.sqrt(at("square_avg")[c] + params.eps) * grad[c])]);
  } else if (at("square_avg")) {
    const avg = at("grad_avg");
    rows.push([avg ? "denominator a = √(v − m̄²) + eps" : "denominator a = √v + eps", per((c) => Math.sqrt(at("square_avg")[c] - (avg ? avg[c] ** 2 : 0)) + params.eps)]);
  }
  return rows;
}

/**
 * The inspector in `panel` (an empty element): `sceneOf()` the scene on screen, `race()` the race on screen.
 * Returns { setRace(race), setStep(k), remove() }.
 */
export function createInspector(panel, sceneOf, { onError = () => {} } = {}) {
  panel.classList.add("inspector");
  panel.innerHTML = `<h2>Explain this step</h2>
    <p class="inspector-pick"><label>Racer <select class="inspector-racer"></select></label>
    <span class="inspector-at" aria-live="polite"></span></p>
    <div class="inspector-body"></div>`;
  const select = panel.querySelector(".inspector-racer");
  const at = panel.querySelector(".inspector-at");
  const body = panel.querySelector(".inspector-body");
  let race = null;
  let step = 0;
  let rules = null;
  const loaded = new Map(); // racer index → internals reply (for the race on screen)
  let generation = 0;

  getJSON("/api/optimizers").then((reply) => {
    rules = Object.fromEntries(reply.optimizers.map((o) => [o.name, o.rule]));
    show();
  }, onError);
  select.addEventListener("change", () => { ensure(Number(select.value)); show(); });

  function ensure(r) {
    if (!race || loaded.has(r)) return;
    loaded.set(r, null);
    const mine = generation;
    const scene = sceneOf();
    postJSON("/api/race", { ...scene, racers: [scene.racers[r]], internals: true }).then((reply) => {
      if (mine !== generation) return;
      loaded.set(r, reply.racers[0]);
      show();
    }, (error) => { if (mine === generation) { loaded.delete(r); onError(error); } });
  }

  function show() {
    if (!race) return;
    const r = Number(select.value) || 0;
    const racer = sceneOf().racers[r];
    const reply = loaded.get(r);
    const k = step;
    if (!racer) return;
    const rule = rules?.[racer.optimizer];
    const ruleText = rule ? rule.slice(rule.indexOf("Update rule")).split("\n\n")[0] : "…";
    if (!reply) { body.innerHTML = `<pre class="inspector-rule">${escape(ruleText)}</pre><p>Loading this racer's internals…</p>`; return; }
    const inside = reply.internals;
    const n = inside.grad.length;
    if (k >= n) {
      at.textContent = `step ${k}: no update leaves this point (${n} updates)`;
      body.innerHTML = `<pre class="inspector-rule">${escape(ruleText)}</pre><p>Move back (←) to a step with an update after it.</p>`;
      delete panel.dataset.values;
      return;
    }
    const t = inside.state.step ? inside.state.step[k] : k + 1;
    const lr = reply.lr[k];
    const theta = reply.path[k];
    const next = reply.path[k + 1];
    const values = { racer: r, step: k, t, lr, theta, g: inside.grad[k], update: inside.update[k], theta_next: next, state: {} };
    const rows = [
      ["t", [t, null], "update number"],
      ["lr", [lr, null], "this update's learning rate (schedule)"],
      ["θ", theta, `point ${k}`],
      ["g", inside.grad[k], `the gradient it saw${sceneOf().noise ? " (noise included)" : ""}; weight decay is added by the rule`],
    ];
    for (const [name, series] of Object.entries(inside.state)) {
      if (name === "step") continue;
      const value = series[k];
      const xy = Array.isArray(value) ? value : [value, null];
      values.state[name] = value;
      rows.push([SYMBOLS[name] || name, xy, `<code>${name}</code> after the update`]);
    }
    for (const [label, xy] of derived(racer.optimizer, racer.params, inside.state, k, lr, inside.grad[k])) rows.push([label, xy, "from the state, as the rule says"]);
    rows.push(["step θ′ − θ", inside.update[k], "the step taken"]);
    rows.push(["θ′", next, `point ${k + 1}`]);
    values.derived = derived(racer.optimizer, racer.params, inside.state, k, lr, inside.grad[k]).map(([label, xy]) => [label, xy]);
    panel.dataset.values = JSON.stringify(values);
    at.textContent = `step ${k} → ${k + 1} (update t = ${t}) · ← → move one step`;
    const hyper = Object.entries(racer.params).map(([name, v]) => `${name} = ${typeof v === "number" ? num(v) : escape(String(v))}`).join(", ");
    body.innerHTML = `<pre class="inspector-rule">${escape(ruleText)}</pre>
      <p class="inspector-hyper">${hyper}</p>
      <table class="inspector-numbers"><thead><tr><th scope="col"></th><th scope="col">x</th><th scope="col">y</th><th scope="col"></th></tr></thead><tbody>
      ${rows.map(([symbol, xy, note]) => `<tr><th scope="row" class="math">${symbol}</th><td data-c="x">${num(xy[0])}</td><td data-c="y">${xy[1] == null ? "" : num(xy[1])}</td><td class="note">${note}</td></tr>`).join("")}
      </tbody></table>
      <p class="inspector-check math">θ′ = θ + step = ${pair(theta.map((v, c) => v + inside.update[k][c]))}</p>`;
  }

  return {
    setRace(next) {
      if (next === race) return;
      const keep = race && next && next.racers.length === race.racers.length ? Number(select.value) : 0;
      race = next;
      generation += 1;
      loaded.clear();
      select.replaceChildren(...(race?.racers || []).map((racer, i) => new Option(racer.label, String(i), false, i === keep)));
      if (race) ensure(keep);
      show();
    },
    setStep(k) {
      if (k === step) return;
      step = k;
      show();
    },
    remove() { generation += 1; panel.replaceChildren(); panel.classList.remove("inspector"); delete panel.dataset.values; },
  };
}
