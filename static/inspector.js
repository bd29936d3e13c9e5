// The step inspector ("explain this step", loaded when first opened): for one racer and the player's
// step k, each line of the optimizer's update rule as its docstring states it (GET /api/optimizers: rule),
// typeset, and under it the same line with the numbers of update t = k + 1 substituted, per coordinate,
// and its result. The numbers are the API's step internals (POST /api/race with "internals": true, for that
// racer alone): θ and θ′ from the path, the gradient g it saw, the state before (the update before's, or
// the rule's start) and after this update under torch's names. What the rule derives on the way (m̂, the
// denominator, μₜ, ρₜ, …) is worked out here from those numbers, as the line says. Every number shows six
// significant digits, its full value on hover. Scrubbing moves the step; ← and → move it by one (the
// page's keys).

import { getJSON, postJSON } from "./api.js";

// --- numbers and type ---------------------------------------------------------------------------------

/** Six significant digits, a real minus sign, ×10ⁿ for the very small and the very large. */
export function num(v) {
  if (v == null || !Number.isFinite(v)) return v == null ? "—" : String(v);
  const a = Math.abs(v);
  let text;
  if (a !== 0 && (a < 1e-4 || a >= 1e6)) {
    const [mantissa, exponent] = v.toExponential(5).split("e");
    text = `${String(+mantissa)}×10<sup>${exponent.replace("+", "").replace("-", "−")}</sup>`;
  } else text = String(+v.toPrecision(6));
  return text.replace(/^-/, "−");
}
/** The plain-text form of num() (what a reader copies): the test compares it with Python's. */
export const plain = (v) => num(v).replace(/×10<sup>(.*)<\/sup>/, "e$1");

const escape = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

// torch's hyperparameter names as the lecture writes them; the rest stay as torch spells them
const GREEK = { beta1: "β<sub>1</sub>", beta2: "β<sub>2</sub>", eps: "ε", eps1: "ε<sub>1</sub>", eps2: "ε<sub>2</sub>", alpha: "α", rho: "ρ", lambd: "λ", t0: "t<sub>0</sub>" };
const SUB = { "ₜ": "t", "₊": "+", "₁": "1", "ₘ": "m", "ₐ": "a", "ₓ": "x", "₀": "0" };
const SUP = { "ᵗ": "t", "²": "2", "⁻": "−", "¹": "1" };
const LETTER = /^[A-Za-zα-ωΑ-ΩθΔΠ∇][\u0302\u0304]?$/u;

/**
 * The Latin letters a rule uses as symbols: those it assigns or declares (x ← …, f, g ← …, with m = 0), applies
 * (f(θ)), or writes against an operator (g², y·s, g/d, −H, H₀, (g − m)). Any other single letter in its lines
 * is a word of the prose around the formulas, such as the article in "t ← a step along d" (Greek letters
 * are always symbols).
 */
export function ruleSymbols(rule) {
  const symbols = new Set();
  const lines = ruleLines(rule).map((line) => line.text).join("\n"); // the lines the inspector shows
  const single = /(?<![\p{L}\d_'’])([A-Za-z])[\u0302\u0304]?(?![\p{L}\d_'’])/gu;
  for (const match of lines.matchAll(single)) {
    const before = lines.slice(0, match.index).slice(-1);
    const rest = lines.slice(match.index + match[0].length);
    const next = rest.trimStart()[0] || "";
    if ("←=≠≤≥".includes(next) || /^[(),;²·/^ᵗ⁻¹ₜ₊₁ₘₐₓ₀|‖]/u.test(rest) || /[·/√∇|‖−^]/u.test(before)) symbols.add(match[1]);
  }
  return symbols;
}

/**
 * Docstring text (or an expression with numbers already in place) as HTML: torch's names as symbols
 * (beta1 → β₁), single letters in italics, sub/superscripts, √(…) with its bar, ^x and ^(…) raised. With
 * `symbols` (a rule's, ruleSymbols), a Latin letter not among them is a word of prose and stays upright.
 */
export function typeset(text, symbols = null) {
  // tokens: a number slot \u0001n\u0002, a number such as 1e-4, a name (a word with its 's), a letter with its combining mark, a run of sub/superscripts, any other char
  const tokens = text.match(/\u0001[^\u0002]*\u0002|\d+(?:\.\d+)?e[-−]?\d+|[ₜ₊₁ₘₐₓ₀]+|[ᵗ²⁻¹]+|[A-Za-z_][A-Za-z0-9_]*(?:['’][a-z]+)?[\u0302\u0304]?|[\p{L}∇][\u0302\u0304]?|\s+|./gu) || [];
  let i = 0;
  const group = (close) => { // tokens up to the matching close paren (consumed), as HTML
    let out = "";
    while (i < tokens.length && tokens[i] !== close) out += one();
    i += 1;
    return out;
  };
  const atom = () => { // the next token, or a parenthesised group with its parens
    if (tokens[i] === "(") { i += 1; return { html: group(")"), paren: true }; }
    if (/^[A-Za-z]\w+$/.test(tokens[i]) && tokens[i + 1] === "(") return { html: one() + one(), paren: false }; // √max(…)
    return { html: one(), paren: false };
  };
  function one() {
    const token = tokens[i++];
    if (token.startsWith("\u0001")) return token.slice(1, -1);
    if (token === "√") {
      const a = atom();
      return `<span class="sqrt">√<span class="radicand">${a.html}</span></span>`;
    }
    if (token === "^") {
      const a = atom();
      return `<sup>${a.html}</sup>`;
    }
    if (/^[ₜ₊₁ₘₐₓ₀]+$/.test(token)) return `<sub>${[...token].map((c) => SUB[c]).join("")}</sub>`;
    if (/^[ᵗ²⁻¹]+$/.test(token)) return `<sup>${[...token].map((c) => SUP[c]).join("")}</sup>`;
    if (token === "(") return `(${group(")")})`;
    if (GREEK[token]) return `<var>${GREEK[token]}</var>`;
    if (/^[A-Za-z_][A-Za-z0-9_'’]+$/.test(token)) return `<span class="name">${escape(token)}</span>`;
    if (symbols && /^[A-Za-z]$/.test(token) && !symbols.has(token)) return `<span class="name">${token}</span>`; // a word
    if (LETTER.test(token)) return `<var>${escape(token)}</var>`;
    if (token === "*") return "·";
    return escape(token);
  }
  let out = "";
  while (i < tokens.length) out += one();
  return out;
}

/**
 * An expression with `{name}` slots filled from `env` and typeset: each number shows six digits, its full
 * value in its title; a negative one is put in parentheses where an operator or a power touches it.
 */
export function fill(expr, env) {
  const slotted = expr.replace(/\{(\w+)\}/g, (match, name, offset) => {
    const v = env[name];
    const before = expr.slice(0, offset).trimEnd().slice(-1);
    const after = expr[offset + match.length] || "";
    const powered = after === "²" || after === "^"; // −2² and 2×10⁻⁸² would misread: (−2)², (2×10⁻⁸)²
    const wrap = (v < 0 && ((before !== "" && "·−+/*×".includes(before)) || powered)) || (powered && num(v).includes("×"));
    const shown = `<span class="n" title="${Number.isFinite(v) ? String(v) : ""}">${num(v)}</span>`;
    return `\u0001${wrap ? `(${shown})` : shown}\u0002`;
  });
  return typeset(slotted);
}

// --- the rules, line by line ----------------------------------------------------------------------------
// Per family (the optimizers sharing one docstring), `derive(C)` works out the two coordinates' numbers
// (an environment each: the API's numbers first, then what the rule derives, in the rule's order) and
// `lines` says where each goes: `on`, a piece of the docstring line it explains; `lhs` what it assigns;
// `expr` the right-hand side with {slots}; `result` the slot holding the value (from the internals when
// torch keeps it: `from`), `calc` the same value worked out here from the line's numbers (a check);
// `when` whether the line applies at this step and coordinate; `scalar` one number for both coordinates.

const lerp = (start, end, w) => (w < 0.5 ? start + w * (end - start) : end - (end - start) * (1 - w));
const sign = (v) => (v > 0 ? 1 : v < 0 ? -1 : 0);
const both = (f) => [0, 1].map(f);

/** The environment every family starts from: hyperparameters, t, lr, θ, θ′, g, the state before and after. */
function base(C, c) {
  return { ...C.params, t: C.t, t1: C.t + 1, lr: C.lr, th: C.theta[c], th1: C.next[c], g0: C.g[c], update: C.update[c] };
}

/** g ← ∇f(θ) + weight_decay·θ, as torch adds it (only when weight_decay ≠ 0). */
function coupled(e) {
  e.g1 = e.weight_decay !== 0 ? e.g0 + e.weight_decay * e.th : e.g0;
  return e;
}
/** Adam's weight decay: decoupled (θ shrinks) or through the gradient. */
function adamDecay(e) {
  const wd = e.weight_decay ?? 0;
  e.thw = wd !== 0 && e.decoupled_weight_decay ? e.th * (1 - e.lr * wd) : e.th;
  e.g1 = wd !== 0 && !e.decoupled_weight_decay ? e.g0 + wd * e.th : e.g0;
  return e;
}
const G = { on: "g ← ∇f(θ)", lhs: "g", expr: null, result: "g0", from: "grad" };
const G_COUPLED = { on: "g ← ∇f(θ) + weight_decay·θ", lhs: "g", expr: "{g0} + {weight_decay}·{th}", result: "g1" };
const ADAM_DECAY = [
  { on: "g ← ∇f(θ)", when: (e) => e.decoupled_weight_decay && e.weight_decay !== 0, lhs: "θ", expr: "{th}·(1 − {lr}·{weight_decay})", result: "thw" },
  { on: "g ← ∇f(θ)", when: (e) => !e.decoupled_weight_decay && e.weight_decay !== 0, lhs: "g", expr: "{g0} + {weight_decay}·{th}", result: "g1" },
];
const MOMENTS = [
  { on: "m ← m + (1 − beta1)·(g − m)", lhs: "m", expr: "{m0} + (1 − {beta1})·({g1} − {m0})", result: "m", from: "exp_avg", calc: "m_calc" },
  { on: "v ← beta2·v + (1 − beta2)·g²", lhs: "v", expr: "{beta2}·{v0} + (1 − {beta2})·{g1}²", result: "v", from: "exp_avg_sq", calc: "v_calc" },
];
function moments(C, e, c) {
  e.m0 = C.before("exp_avg", c);
  e.v0 = C.before("exp_avg_sq", c);
  e.m = C.after("exp_avg", c);
  e.v = C.after("exp_avg_sq", c);
  e.m_calc = lerp(e.m0, e.g1, 1 - e.beta1);
  e.v_calc = e.v0 * e.beta2 + (1 - e.beta2) * e.g1 * e.g1;
  return e;
}
const THETA = (expr, calc) => ({ lhs: "θ", expr, result: "th1", from: "path", calc });

export const FAMILIES = {
  sgd: {
    derive: (C) => both((c) => {
      const e = coupled(base(C, c));
      e.g2 = e.g1;
      if (e.momentum !== 0) {
        e.b0 = C.before("momentum_buffer", c);
        e.b = C.after("momentum_buffer", c);
        e.b_calc = e.t === 1 ? e.g1 : e.b0 * e.momentum + (1 - e.dampening) * e.g1;
        e.g2 = e.nesterov ? e.g1 + e.momentum * e.b : e.b;
      }
      e.th1_calc = e.th - e.lr * e.g2;
      return e;
    }),
    lines: [
      G_COUPLED,
      { on: "b ← g ", when: (e) => e.momentum !== 0 && e.t === 1, lhs: "b", expr: "{g1}", result: "b", from: "momentum_buffer", calc: "b_calc" },
      { on: "b ← momentum·b + (1 − dampening)·g", when: (e) => e.momentum !== 0 && e.t > 1, lhs: "b", expr: "{momentum}·{b0} + (1 − {dampening})·{g1}", result: "b", from: "momentum_buffer", calc: "b_calc" },
      { on: "g ← g + momentum·b", when: (e) => e.momentum !== 0 && e.nesterov, lhs: "g", expr: "{g1} + {momentum}·{b}", result: "g2" },
      { on: "g ← g + momentum·b", when: (e) => e.momentum !== 0 && !e.nesterov, lhs: "g", expr: "{b}", result: "g2" },
      { on: "θ ← θ − lr·g", ...THETA("{th} − {lr}·{g2}", "th1_calc") },
    ],
  },
  adagrad: {
    derive: (C) => both((c) => {
      const e = coupled(base(C, c));
      e.clr = e.lr / (1 + (e.t - 1) * e.lr_decay);
      e.s0 = C.before("sum", c);
      e.s = C.after("sum", c);
      e.s_calc = e.s0 + e.g1 * e.g1;
      e.th1_calc = e.th + (-e.clr * e.g1) / (Math.sqrt(e.s) + e.eps);
      return e;
    }),
    lines: [
      G_COUPLED,
      { on: "clr ← lr / (1 + (t − 1)·lr_decay)", scalar: true, lhs: "clr", expr: "{lr} / (1 + ({t} − 1)·{lr_decay})", result: "clr" },
      { on: "s ← s + g²", lhs: "s", expr: "{s0} + {g1}²", result: "s", from: "sum", calc: "s_calc" },
      { on: "θ ← θ − clr · g / (√s + eps)", ...THETA("{th} − {clr} · {g1} / (√{s} + {eps})", "th1_calc") },
    ],
  },
  rmsprop: {
    derive: (C) => both((c) => {
      const e = coupled(base(C, c));
      e.v0 = C.before("square_avg", c);
      e.v = C.after("square_avg", c);
      e.v_calc = e.v0 * e.alpha + (1 - e.alpha) * e.g1 * e.g1;
      if (e.centered) {
        e.mb0 = C.before("grad_avg", c);
        e.mb = C.after("grad_avg", c);
        e.mb_calc = lerp(e.mb0, e.g1, 1 - e.alpha);
        e.a = Math.sqrt(e.v - e.mb * e.mb) + e.eps;
      } else e.a = Math.sqrt(e.v) + e.eps;
      if (e.momentum > 0) {
        e.b0 = C.before("momentum_buffer", c);
        e.b = C.after("momentum_buffer", c);
        e.b_calc = e.b0 * e.momentum + e.g1 / e.a;
        e.th1_calc = e.th - e.lr * e.b;
      } else e.th1_calc = e.th + (-e.lr * e.g1) / e.a;
      return e;
    }),
    lines: [
      G_COUPLED,
      { on: "v ← alpha·v + (1 − alpha)·g²", lhs: "v", expr: "{alpha}·{v0} + (1 − {alpha})·{g1}²", result: "v", from: "square_avg", calc: "v_calc" },
      { on: "m̄ ← m̄ + (1 − alpha)·(g − m̄)", when: (e) => e.centered, lhs: "m̄", expr: "{mb0} + (1 − {alpha})·({g1} − {mb0})", result: "mb", from: "grad_avg", calc: "mb_calc" },
      { on: "a ← √(v − m̄²) + eps", when: (e) => e.centered, lhs: "a", expr: "√({v} − {mb}²) + {eps}", result: "a" },
      { on: "a ← √v + eps", when: (e) => !e.centered, lhs: "a", expr: "√{v} + {eps}", result: "a" },
      { on: "b ← momentum·b + g / a", when: (e) => e.momentum > 0, lhs: "b", expr: "{momentum}·{b0} + {g1} / {a}", result: "b", from: "momentum_buffer", calc: "b_calc" },
      { on: "θ ← θ − lr·b", when: (e) => e.momentum > 0, ...THETA("{th} − {lr}·{b}", "th1_calc") },
      { on: "θ ← θ − lr · g / a", when: (e) => !(e.momentum > 0), ...THETA("{th} − {lr} · {g1} / {a}", "th1_calc") },
    ],
  },
  adam: {
    derive: (C) => both((c) => {
      const e = moments(C, adamDecay(base(C, c)), c);
      e.vd = e.v;
      if (e.amsgrad) {
        e.vmax0 = C.before("max_exp_avg_sq", c);
        e.vmax = e.vd = C.after("max_exp_avg_sq", c);
        e.vmax_calc = Math.max(e.vmax0, e.v);
      }
      e.th1_calc = e.thw + (-(e.lr / (1 - e.beta1 ** e.t)) * e.m) / (Math.sqrt(e.vd) / Math.sqrt(1 - e.beta2 ** e.t) + e.eps);
      e.mhat = e.m / (1 - e.beta1 ** e.t);
      e.vhat = e.vd / (1 - e.beta2 ** e.t);
      e.denominator = Math.sqrt(e.vhat) + e.eps;
      e.step = (-e.lr * e.mhat) / e.denominator;
      e.step_api = e.th1 - e.thw; // the step of this rule: θ′ − θ after the decoupled decay
      return e;
    }),
    lines: [
      G,
      { on: "θ ← θ·(1 − lr·weight_decay)", when: (e) => e.decoupled_weight_decay, lhs: "θ", expr: "{th}·(1 − {lr}·{weight_decay})", result: "thw" },
      { on: "g ← g + weight_decay·θ", when: (e) => !e.decoupled_weight_decay, lhs: "g", expr: "{g0} + {weight_decay}·{th}", result: "g1" },
      ...MOMENTS,
      { on: "v̂ₘₐₓ ← max(v̂ₘₐₓ, v)", when: (e) => e.amsgrad, lhs: "v̂ₘₐₓ", expr: "max({vmax0}, {v})", result: "vmax", from: "max_exp_avg_sq", calc: "vmax_calc" },
      { on: "θ ← θ − lr/(1 − beta1ᵗ) · m / (√v / √(1 − beta2ᵗ) + eps)", ...THETA("{thw} − {lr}/(1 − {beta1}^{t}) · {m} / (√{vd} / √(1 − {beta2}^{t}) + {eps})", "th1_calc") },
      // the same update, bias correction written out (as the lecture writes Adam)
      { extra: "m̂ ← m / (1 − beta1ᵗ)", lhs: "m̂", expr: "{m} / (1 − {beta1}^{t})", result: "mhat" },
      { extra: "v̂ ← v / (1 − beta2ᵗ)", lhs: "v̂", expr: "{vd} / (1 − {beta2}^{t})", result: "vhat" },
      { extra: "step ← −lr·m̂ / (√v̂ + eps)", lhs: "step", expr: "−{lr}·{mhat} / (√{vhat} + {eps})", result: "step_api", calc: "step" },
    ],
  },
  nadam: {
    derive: (C) => {
      const before = C.before("mu_product");
      return both((c) => {
        const e = moments(C, adamDecay(base(C, c)), c);
        e.mu = e.beta1 * (1.0 - 0.5 * 0.96 ** (e.t * e.momentum_decay));
        e.mu_next = e.beta1 * (1.0 - 0.5 * 0.96 ** ((e.t + 1) * e.momentum_decay));
        e.pi0 = before;
        e.pi = C.after("mu_product");
        e.pi_calc = e.pi0 * e.mu;
        e.d = Math.sqrt(e.v / (1 - e.beta2 ** e.t)) + e.eps;
        const p = e.thw + ((-e.lr * (1.0 - e.mu) / (1.0 - e.pi)) * e.g1) / e.d;
        e.th1_calc = p + (((-e.lr * e.mu_next) / (1.0 - e.pi * e.mu_next)) * e.m) / e.d;
        return e;
      });
    },
    lines: [
      G,
      ...ADAM_DECAY,
      { on: "μₜ ← beta1·(1 − ½·0.96^(t·momentum_decay))", scalar: true, lhs: "μₜ", expr: "{beta1}·(1 − ½·0.96^({t}·{momentum_decay}))", result: "mu" },
      { on: "μₜ ← beta1·(1 − ½·0.96^(t·momentum_decay))", scalar: true, lhs: "μₜ₊₁", expr: "{beta1}·(1 − ½·0.96^({t1}·{momentum_decay}))", result: "mu_next" },
      { on: "Πμ ← Πμ·μₜ", scalar: true, lhs: "Πμ", expr: "{pi0}·{mu}", result: "pi", from: "mu_product", calc: "pi_calc" },
      ...MOMENTS,
      { on: "d ← √(v / (1 − beta2ᵗ)) + eps", lhs: "d", expr: "√({v} / (1 − {beta2}^{t})) + {eps}", result: "d" },
      { on: "θ ← θ − lr·(1 − μₜ)/(1 − Πμ) · g/d", ...THETA("{thw} − {lr}·(1 − {mu})/(1 − {pi}) · {g1}/{d} − {lr}·{mu_next}/(1 − {pi}·{mu_next}) · {m}/{d}", "th1_calc") },
    ],
  },
  radam: {
    derive: (C) => both((c) => {
      const e = moments(C, adamDecay(base(C, c)), c);
      e.rho_inf = 2 / (1 - e.beta2) - 1;
      e.rho_t = e.rho_inf - (2 * e.t * e.beta2 ** e.t) / (1 - e.beta2 ** e.t);
      e.mhat = e.m / (1 - e.beta1 ** e.t);
      if (e.rho_t > 5) {
        e.r = Math.sqrt(((e.rho_t - 4) * (e.rho_t - 2) * e.rho_inf) / ((e.rho_inf - 4) * (e.rho_inf - 2) * e.rho_t));
        e.th1_calc = e.thw - e.mhat * e.lr * ((1 / (Math.sqrt(e.v) + e.eps)) * Math.sqrt(1 - e.beta2 ** e.t)) * e.r;
      } else e.th1_calc = e.thw - e.mhat * e.lr;
      return e;
    }),
    lines: [
      { on: "ρ∞ = 2/(1 − beta2) − 1", scalar: true, lhs: "ρ∞", expr: "2/(1 − {beta2}) − 1", result: "rho_inf" },
      G,
      ...ADAM_DECAY,
      ...MOMENTS,
      { on: "m̂ ← m / (1 − beta1ᵗ)", lhs: "m̂", expr: "{m} / (1 − {beta1}^{t})", result: "mhat" },
      { on: "ρₜ ← ρ∞ − 2t·beta2ᵗ / (1 − beta2ᵗ)", scalar: true, lhs: "ρₜ", expr: "{rho_inf} − 2·{t}·{beta2}^{t} / (1 − {beta2}^{t})", result: "rho_t" },
      { on: "r ← √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))", when: (e) => e.rho_t > 5, scalar: true, lhs: "r", expr: "√(({rho_t} − 4)·({rho_t} − 2)·{rho_inf} / (({rho_inf} − 4)·({rho_inf} − 2)·{rho_t}))", result: "r" },
      { on: "θ ← θ − m̂ · lr · √(1 − beta2ᵗ)/(√v + eps) · r", when: (e) => e.rho_t > 5, ...THETA("{thw} − {mhat} · {lr} · √(1 − {beta2}^{t})/(√{v} + {eps}) · {r}", "th1_calc") },
      { on: "(plain momentum SGD while ρₜ ≤ 5)", when: (e) => !(e.rho_t > 5), ...THETA("{thw} − {mhat} · {lr}", "th1_calc") },
    ],
  },
  adamax: {
    derive: (C) => both((c) => {
      const e = coupled(base(C, c));
      e.m0 = C.before("exp_avg", c);
      e.m = C.after("exp_avg", c);
      e.m_calc = lerp(e.m0, e.g1, 1 - e.beta1);
      e.u0 = C.before("exp_inf", c);
      e.u = C.after("exp_inf", c);
      e.u_calc = Math.max(e.u0 * e.beta2, Math.abs(e.g1) + e.eps);
      e.th1_calc = e.th + (-(e.lr / (1 - e.beta1 ** e.t)) * e.m) / e.u;
      return e;
    }),
    lines: [
      G_COUPLED,
      MOMENTS[0],
      { on: "u ← max(beta2·u, |g| + eps)", lhs: "u", expr: "max({beta2}·{u0}, |{g1}| + {eps})", result: "u", from: "exp_inf", calc: "u_calc" },
      { on: "θ ← θ − lr/(1 − beta1ᵗ) · m / u", ...THETA("{th} − {lr}/(1 − {beta1}^{t}) · {m} / {u}", "th1_calc") },
    ],
  },
  adadelta: {
    derive: (C) => both((c) => {
      const e = coupled(base(C, c));
      e.v0 = C.before("square_avg", c);
      e.v = C.after("square_avg", c);
      e.v_calc = e.v0 * e.rho + (1 - e.rho) * e.g1 * e.g1;
      e.u0 = C.before("acc_delta", c);
      e.delta = (Math.sqrt(e.u0 + e.eps) / Math.sqrt(e.v + e.eps)) * e.g1;
      e.u = C.after("acc_delta", c);
      e.u_calc = e.u0 * e.rho + (1 - e.rho) * e.delta * e.delta;
      e.th1_calc = e.th - e.lr * e.delta;
      return e;
    }),
    lines: [
      G_COUPLED,
      { on: "v ← rho·v + (1 − rho)·g²", lhs: "v", expr: "{rho}·{v0} + (1 − {rho})·{g1}²", result: "v", from: "square_avg", calc: "v_calc" },
      { on: "Δ ← √(u + eps) / √(v + eps) · g", lhs: "Δ", expr: "√({u0} + {eps}) / √({v} + {eps}) · {g1}", result: "delta" },
      { on: "u ← rho·u + (1 − rho)·Δ²", lhs: "u", expr: "{rho}·{u0} + (1 − {rho})·{delta}²", result: "u", from: "acc_delta", calc: "u_calc" },
      { on: "θ ← θ − lr·Δ", ...THETA("{th} − {lr}·{delta}", "th1_calc") },
    ],
  },
  lion: {
    derive: (C) => both((c) => {
      const e = base(C, c);
      e.m0 = C.before("exp_avg", c);
      e.u = sign(e.beta1 * e.m0 + (1 - e.beta1) * e.g0);
      e.m = C.after("exp_avg", c);
      e.m_calc = e.beta2 * e.m0 + (1 - e.beta2) * e.g0;
      e.th1_calc = e.th - e.lr * (e.u + e.weight_decay * e.th);
      return e;
    }),
    lines: [
      G,
      { on: "u ← sign(beta1·m + (1 − beta1)·g)", lhs: "u", expr: "sign({beta1}·{m0} + (1 − {beta1})·{g0})", result: "u" },
      { on: "m ← beta2·m + (1 − beta2)·g", lhs: "m", expr: "{beta2}·{m0} + (1 − {beta2})·{g0}", result: "m", from: "exp_avg", calc: "m_calc" },
      { on: "θ ← θ − lr·(u + weight_decay·θ)", ...THETA("{th} − {lr}·({u} + {weight_decay}·{th})", "th1_calc") },
    ],
  },
  newton: {
    derive: (C) => both((c) => {
      const e = base(C, c);
      // H is not among the internals: its Newton direction (H + damping·I)⁻¹·g is read off the step taken
      e.dir = (e.th - e.th1) / e.lr;
      e.th1_calc = e.th - e.lr * e.dir;
      return e;
    }),
    lines: [
      G,
      { on: "θ ← θ − lr·(H + damping·I)⁻¹·g", lhs: "(H + damping·I)⁻¹·g", expr: "({th} − {th1}) / {lr}", result: "dir", note: "read off the step: H itself is not among the internals" },
      { on: "θ ← θ − lr·(H + damping·I)⁻¹·g", ...THETA("{th} − {lr}·{dir}", "th1_calc") },
    ],
  },
  rprop: {
    derive: (C) => both((c) => {
      const e = base(C, c);
      e.p0 = e.t === 1 ? 0 : C.before("prev", c);
      e.s0 = e.t === 1 ? e.lr : C.before("step_size", c);
      e.gp = e.g0 * e.p0;
      e.eta = e.gp > 0 ? e.etaplus : e.gp < 0 ? e.etaminus : 1;
      e.s = C.after("step_size", c);
      e.s_calc = Math.min(Math.max(e.s0 * e.eta, e.step_size_min), e.step_size_max);
      e.g1 = e.eta === e.etaminus ? 0 : e.g0;
      e.p = C.after("prev", c);
      e.th1_calc = e.th + -1 * sign(e.g1) * e.s;
      return e;
    }),
    lines: [
      G,
      { on: "η ← etaplus if g·p > 0", lhs: "η", expr: "(g·p = {g0}·{p0} = {gp})", result: "eta" },
      { on: "s ← clamp(s·η, step_size_min, step_size_max)", lhs: "s", expr: "clamp({s0}·{eta}, {step_size_min}, {step_size_max})", result: "s", from: "step_size", calc: "s_calc" },
      { on: "if η = etaminus:  g ← 0", when: (e) => e.eta === e.etaminus, lhs: "g", expr: null, result: "g1" },
      { on: "θ ← θ − sign(g)·s", ...THETA("{th} − sign({g1})·{s}", "th1_calc") },
      { on: "p ← g", lhs: "p", expr: "{g1}", result: "p", from: "prev", calc: "g1" },
    ],
  },
  asgd: {
    derive: (C) => both((c) => {
      const e = coupled(base(C, c));
      e.eta0 = e.t === 1 ? e.lr : C.before("eta");
      e.mu0 = e.t === 1 ? 1 : C.before("mu");
      e.a0 = C.before("ax", c);
      e.th1_calc = e.th * (1 - e.lambd * e.eta0) + -e.eta0 * e.g1;
      e.a = C.after("ax", c);
      e.a_calc = e.mu0 !== 1 ? e.a0 + (e.th1 - e.a0) * e.mu0 : e.th1;
      e.eta = C.after("eta");
      e.eta_calc = e.lr / (1 + e.lambd * e.lr * e.t) ** e.alpha;
      e.mu = C.after("mu");
      e.mu_calc = 1 / Math.max(1, e.t - e.t0);
      return e;
    }),
    lines: [
      G_COUPLED,
      { on: "θ ← θ·(1 − lambd·η) − η·g", ...THETA("{th}·(1 − {lambd}·{eta0}) − {eta0}·{g1}", "th1_calc") },
      { on: "a ← a + μ·(θ − a)", lhs: "a", expr: "{a0} + {mu0}·({th1} − {a0})", result: "a", from: "ax", calc: "a_calc" },
      { on: "η ← lr / (1 + lambd·lr·t)^alpha", scalar: true, lhs: "η", expr: "{lr} / (1 + {lambd}·{lr}·{t})^{alpha}", result: "eta", from: "eta", calc: "eta_calc" },
      { on: "μ ← 1 / max(1, t − t0)", scalar: true, lhs: "μ", expr: "1 / max(1, {t} − {t0})", result: "mu", from: "mu", calc: "mu_calc" },
    ],
  },
  adafactor: {
    derive: (C) => {
      const [tx, ty] = C.theta;
      const floor = C.params.eps1 * C.params.eps1;
      const u = both((c) => C.g[c] / Math.sqrt(Math.max(C.after("variance", c), floor)));
      return both((c) => {
        const e = base(C, c);
        Object.assign(e, { tx, ty, ux: u[0], uy: u[1] });
        e.w = e.t ** e.beta2_decay;
        e.rho = Math.min(e.lr, 1 / Math.sqrt(e.t));
        e.rms_th = Math.sqrt(tx * tx + ty * ty) / Math.SQRT2;
        e.alpha = Math.max(e.eps2, e.rms_th) * e.rho;
        e.thw = e.weight_decay !== 0 ? e.th * (1 - e.lr * e.weight_decay) : e.th;
        e.v0 = C.before("variance", c);
        e.v = C.after("variance", c);
        e.v_calc = lerp(e.v0, e.g0 * e.g0, e.w);
        e.u = u[c];
        e.rms_u = Math.sqrt(u[0] * u[0] + u[1] * u[1]) / Math.SQRT2;
        e.th1_calc = e.thw + (-e.alpha / Math.max(1, e.rms_u / e.d)) * e.u;
        return e;
      });
    },
    lines: [
      { on: "w ← t^beta2_decay", scalar: true, lhs: "w", expr: "{t}^{beta2_decay}", result: "w" },
      { on: "ρ ← min(lr, 1/√t)", scalar: true, lhs: "ρ", expr: "min({lr}, 1/√{t})", result: "rho" },
      { on: "α ← max(eps2, RMS(θ)) · ρ", scalar: true, lhs: "RMS(θ)", expr: "√(({tx}² + {ty}²) / 2)", result: "rms_th" },
      { on: "α ← max(eps2, RMS(θ)) · ρ", scalar: true, lhs: "α", expr: "max({eps2}, {rms_th}) · {rho}", result: "alpha" },
      { on: "θ ← θ·(1 − lr·weight_decay)", when: (e) => e.weight_decay !== 0, lhs: "θ", expr: "{th}·(1 − {lr}·{weight_decay})", result: "thw" },
      { on: "v ← v + w·(g² − v)", lhs: "v", expr: "{v0} + {w}·({g0}² − {v0})", result: "v", from: "variance", calc: "v_calc" },
      { on: "u ← g / √max(v, eps1²)", lhs: "u", expr: "{g0} / √max({v}, {eps1}²)", result: "u" },
      { on: "θ ← θ − α / max(1, RMS(u)/d) · u", scalar: true, lhs: "RMS(u)", expr: "√(({ux}² + {uy}²) / 2)", result: "rms_u" },
      { on: "θ ← θ − α / max(1, RMS(u)/d) · u", ...THETA("{thw} − {alpha} / max(1, {rms_u}/{d}) · {u}", "th1_calc") },
    ],
  },
};

// L-BFGS (max_iter = 1): what the two-loop recursion makes of the kept pairs is the API's d; the lines around it
// are worked out from the state before and after (y, s, y·s, H_diag, the first t, g·d).
FAMILIES.lbfgs = {
  derive: (C) => {
    const n0 = C.before("n_iter") ?? 0;
    const n = C.after("n_iter");
    const [gx, gy] = C.g;
    const stopped = Math.max(Math.abs(gx), Math.abs(gy)) <= C.params.tolerance_grad;
    const d = stopped ? [null, null] : [C.after("d", 0), C.after("d", 1)];
    const y = [0, 1].map((c) => C.g[c] - (C.before("prev_flat_grad", c) ?? 0));
    const s = [0, 1].map((c) => (C.before("t") ?? 0) * (C.before("d", c) ?? 0));
    const ys = y[0] * s[0] + y[1] * s[1];
    const gd = stopped ? null : gx * d[0] + gy * d[1];
    const kept = C.raw("old_dirs");
    return both((c) => {
      const e = base(C, c);
      Object.assign(e, { f: C.loss, gx, gy, n0, n, stopped, gmax: Math.max(Math.abs(gx), Math.abs(gy)) });
      Object.assign(e, { d: d[c], dx: d[0], dy: d[1], y: y[c], yx: y[0], yy: y[1], s: s[c], sx: s[0], sy: s[1], ys });
      e.n_calc = n0 + 1;
      e.pairs = Array.isArray(kept) ? kept.length : 0;
      e.t_prev = C.before("t");
      e.d_prev = C.before("d", c);
      e.pg0 = C.before("prev_flat_grad", c);
      e.yy2 = y[0] * y[0] + y[1] * y[1];
      e.Hd = C.after("H_diag");
      e.Hd_calc = n === 1 ? 1 : ys > 1e-10 ? ys / e.yy2 : C.before("H_diag");
      e.pg = C.after("prev_flat_grad", c);
      e.pl = C.after("prev_loss");
      e.t0 = n === 1 ? Math.min(1, 1 / (Math.abs(gx) + Math.abs(gy))) * e.lr : e.lr;
      e.tt = C.after("t");
      e.tt_calc = e.line_search_fn === "strong_wolfe" ? e.tt : e.t0;
      e.gd = gd;
      e.moved = !stopped && !(gd > -e.tolerance_change);
      e.th1_calc = e.moved ? e.th + e.tt * e.d : e.th;
      e.d_neg = -e.g0;
      return e;
    });
  },
  lines: [
    { on: "f, g ← f(θ), ∇f(θ)", scalar: true, lhs: "f", expr: null, result: "f" },
    { ...G, on: "f, g ← f(θ), ∇f(θ)" },
    { on: "stop here if max|g| ≤ tolerance_grad", scalar: true, lhs: "max|g|", expr: "max(|{gx}|, |{gy}|)", result: "gmax", note: (e) => (e.stopped ? "≤ tolerance_grad: no update" : "> tolerance_grad: go on") },
    { on: "n_iter ← n_iter + 1", when: (e) => !e.stopped, scalar: true, lhs: "n_iter", expr: "{n0} + 1", result: "n", from: "n_iter", calc: "n_calc" },
    { on: "if n_iter = 1:  d ← −g;  H_diag ← 1", when: (e) => !e.stopped && e.n === 1, lhs: "d", expr: "−{g0}", result: "d", from: "d", calc: "d_neg" },
    { on: "if n_iter = 1:  d ← −g;  H_diag ← 1", when: (e) => !e.stopped && e.n === 1, scalar: true, lhs: "H_diag", expr: "1", result: "Hd", from: "H_diag", calc: "Hd_calc" },
    { on: "else:  y ← g − prev_flat_grad;  s ← t·d", when: (e) => !e.stopped && e.n > 1, lhs: "y", expr: "{g0} − {pg0}", result: "y" },
    { on: "else:  y ← g − prev_flat_grad;  s ← t·d", when: (e) => !e.stopped && e.n > 1, lhs: "s", expr: "{t_prev}·{d_prev}", result: "s" },
    { on: "if y·s > 1e-10:  keep (y, s, ρ = 1/(y·s))", when: (e) => !e.stopped && e.n > 1, scalar: true, lhs: "y·s", expr: "{yx}·{sx} + {yy}·{sy}", result: "ys", note: (e) => (e.ys > 1e-10 ? "> 1e-10: the pair is kept" : "≤ 1e-10: not kept") },
    { on: "H_diag ← y·s / y·y", when: (e) => !e.stopped && e.n > 1 && e.ys > 1e-10, scalar: true, lhs: "H_diag", expr: "{ys} / ({yx}² + {yy}²)", result: "Hd", from: "H_diag", calc: "Hd_calc" },
    { on: "d ← −H·g by the two-loop recursion", when: (e) => !e.stopped && e.n > 1, lhs: "d", expr: null, result: "d", from: "d", note: (e) => `over the ${e.pairs} kept pair${e.pairs === 1 ? "" : "s"}, H₀ = ${num(e.Hd)}·I` },
    { on: "prev_flat_grad, prev_loss ← g, f", when: (e) => !e.stopped, lhs: "prev_flat_grad", expr: "{g0}", result: "pg", from: "prev_flat_grad", calc: "g0" },
    { on: "prev_flat_grad, prev_loss ← g, f", when: (e) => !e.stopped, scalar: true, lhs: "prev_loss", expr: "{f}", result: "pl", from: "prev_loss", calc: "f" },
    { on: "t ← min(1, 1/‖g‖₁)·lr if n_iter = 1 else lr", when: (e) => !e.stopped && e.n === 1, scalar: true, lhs: "t", expr: "min(1, 1/(|{gx}| + |{gy}|))·{lr}", result: "t0" },
    { on: "t ← min(1, 1/‖g‖₁)·lr if n_iter = 1 else lr", when: (e) => !e.stopped && e.n > 1, scalar: true, lhs: "t", expr: "{lr}", result: "t0" },
    { on: "stop here if g·d > −tolerance_change", when: (e) => !e.stopped, scalar: true, lhs: "g·d", expr: "{gx}·{dx} + {gy}·{dy}", result: "gd", note: (e) => (e.moved ? "< −tolerance_change: go on" : "no move") },
    { on: "if line_search_fn = strong_wolfe:", when: (e) => e.moved && e.line_search_fn === "strong_wolfe", scalar: true, lhs: "t", expr: null, result: "tt", from: "t", note: "the step the line search found" },
    { on: "θ ← θ + t·d", when: (e) => e.moved, ...THETA("{th} + {tt}·{d}", "th1_calc") },
  ],
};

/** The lines of the docstring's "Update rule" block: its heading, then each line with its indentation. */
export function ruleLines(rule) {
  const start = rule.indexOf("Update rule");
  const block = (start >= 0 ? rule.slice(start) : rule).split("\n\n")[0];
  return block.split("\n").map((text) => ({ text: text.trim(), indent: text.length - text.trimStart().length }));
}

/** Which family's lines explain an optimizer: the first optimizer with the same docstring (momentum → sgd). */
export function familyOf(name, catalog) {
  const rule = catalog[name]?.rule;
  const first = Object.values(catalog).find((o) => o.rule === rule && FAMILIES[o.name]);
  return first ? first.name : FAMILIES[name] ? name : null;
}

/**
 * Update k of one racer explained: `reply` is a race reply's racer with internals, `params` its
 * hyperparameters (the filled scene's, with the variant's fixed ones), `initial` the state before update 1.
 * Returns { lines: [{ text, indent, taken, rows: [{ lhs, scalar, note, coords: [{ c, html, value, calc, from }] }] }],
 * extra: [...same], unmatched: [line definitions whose `on` no docstring line holds] } or null past the last update.
 */
export function explain(family, rule, reply, params, k) {
  const inside = reply.internals;
  if (!inside || k >= inside.grad.length) return null;
  const state = inside.state;
  const t = state.step ? state.step[k] : k + 1;
  const initial = initialState(family, params, reply.lr[0]);
  const pick = (value, c) => (c == null ? (Array.isArray(value) ? value[0] : value) : Array.isArray(value) ? value[c] : value);
  const C = {
    params, t, lr: reply.lr[k], theta: reply.path[k], next: reply.path[k + 1], g: inside.grad[k], update: inside.update[k], loss: reply.loss[k],
    before: (name, c) => pick(k > 0 ? state[name][k - 1] : initial[name] ?? 0, c),
    after: (name, c) => pick(state[name][k], c),
    raw: (name) => state[name]?.[k],
  };
  const spec = FAMILIES[family];
  const envs = spec.derive(C);
  const rowOf = (line) => {
    const coords = [];
    for (const c of line.scalar ? [0] : [0, 1]) {
      const e = envs[c];
      if (line.when && !line.when(e)) continue;
      const value = e[line.result];
      coords.push({
        c: line.scalar ? null : "xy"[c],
        html: `${typeset(line.lhs)} ← ${line.expr ? `${fill(line.expr, e)} = ` : ""}<output>${fill(`{${line.result}}`, e)}</output>`,
        value,
        calc: line.calc ? e[line.calc] : value,
        from: line.from || null,
      });
    }
    const note = typeof line.note === "function" ? line.note(envs[0]) : line.note || "";
    return coords.length ? { lhs: line.lhs, scalar: Boolean(line.scalar), note, coords } : null;
  };
  const lines = ruleLines(rule).map((line) => ({ ...line, rows: [], taken: true, defined: false }));
  const unmatched = [];
  const extra = [];
  for (const def of spec.lines) {
    if (def.extra) {
      const row = rowOf(def);
      if (row) extra.push({ text: def.extra, indent: 0, rows: [row], taken: true });
      continue;
    }
    const home = lines.find((line) => line.text.includes(def.on));
    if (!home) { unmatched.push(def.on); continue; }
    home.defined = true;
    const row = rowOf(def);
    if (row) home.rows.push(row);
  }
  for (const line of lines) line.taken = !line.defined || line.rows.length > 0;
  return { t, lines, extra, unmatched };
}

/** The state before update 1, as core.optimizers' Rule.initial says (zero elsewhere). */
function initialState(family, params, lr) {
  if (family === "adagrad") return { sum: params.initial_accumulator_value };
  if (family === "nadam") return { mu_product: 1 };
  if (family === "rprop") return { prev: 0, step_size: lr };
  if (family === "asgd") return { eta: lr, mu: 1 };
  if (family === "lbfgs") return { n_iter: 0, prev_flat_grad: null, d: null, t: null, H_diag: null };
  return {};
}

// --- the panel --------------------------------------------------------------------------------------------

/**
 * The inspector in `panel` (an empty element): `sceneOf()` the scene on screen.
 * Returns { setRace(race), setStep(k), remove() }.
 */
export function createInspector(panel, sceneOf, { onError = () => {} } = {}) {
  const sheet = new URL("./inspector.css", import.meta.url).href;
  if (![...document.styleSheets].some((style) => style.href === sheet) && !document.querySelector(`link[href="${sheet}"]`)) {
    document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: sheet }));
  }
  panel.classList.add("inspector");
  panel.innerHTML = `<h2>Explain this step</h2>
    <p class="inspector-pick"><label>Racer <select class="inspector-racer"></select></label>
    <span class="inspector-coords" role="radiogroup" aria-label="Coordinates">
      <label><input type="radio" name="inspector-coord" value="xy" checked> x and y</label>
      <label><input type="radio" name="inspector-coord" value="x"> x</label>
      <label><input type="radio" name="inspector-coord" value="y"> y</label></span>
    <span class="inspector-at" aria-live="polite"></span></p>
    <div class="inspector-body"></div>`;
  const select = panel.querySelector(".inspector-racer");
  const at = panel.querySelector(".inspector-at");
  const body = panel.querySelector(".inspector-body");
  let race = null;
  let step = 0;
  let catalog = null;
  let symbols = null; // the shown rule's (ruleSymbols)
  const loaded = new Map(); // racer index → internals reply (for the race on screen)
  let generation = 0;

  getJSON("/api/optimizers").then((reply) => {
    catalog = Object.fromEntries(reply.optimizers.map((o) => [o.name, o]));
    show();
  }, onError);
  select.addEventListener("change", () => { ensure(Number(select.value)); show(); });
  panel.querySelector(".inspector-coords").addEventListener("change", (event) => {
    panel.dataset.coords = event.target.value;
  });
  panel.dataset.coords = "xy";

  function ensure(r) {
    if (!race || loaded.has(r)) return;
    loaded.set(r, null);
    const mine = generation;
    const scene = sceneOf();
    postJSON("/api/race", { ...scene, racers: [scene.racers[r]], internals: true }).then((reply) => {
      if (mine !== generation) return;
      loaded.set(r, { ...reply.racers[0], params: reply.scene.racers[0].params });
      show();
    }, (error) => { if (mine === generation) { loaded.delete(r); onError(error); } });
  }

  const lineHtml = (line) => `<li class="inspector-line${line.taken ? "" : " not-taken"}" data-indent="${Math.min(Math.round(line.indent / 4), 4)}">
      <div class="inspector-rule-line math">${typeset(line.text, symbols)}${line.taken ? "" : ' <span class="inspector-skip">not taken at this step</span>'}</div>
      ${line.rows.map((row) => row.coords.map((coord) => `<div class="inspector-numbers math"${coord.c ? ` data-c="${coord.c}"` : ""} data-lhs="${escape(row.lhs)}">${coord.c ? `<span class="inspector-coord">${coord.c}</span>` : ""}${coord.html}${row.note ? ` <span class="inspector-note">(${escape(row.note)})</span>` : ""}</div>`).join("")).join("")}
    </li>`;

  function show() {
    if (!race) return;
    const r = Number(select.value) || 0;
    const racer = sceneOf().racers[r];
    const reply = loaded.get(r);
    if (!racer) return;
    const info = catalog?.[racer.optimizer];
    const family = catalog ? familyOf(racer.optimizer, catalog) : null;
    symbols = info ? ruleSymbols(info.rule) : null;
    const plainRule = info ? `<ol class="inspector-lines">${ruleLines(info.rule).map((line) => lineHtml({ ...line, rows: [], taken: true })).join("")}</ol>` : "";
    if (!reply || !info) {
      body.innerHTML = `${plainRule}<p>Loading this racer's internals…</p>`;
      return;
    }
    const k = step;
    const params = { ...reply.params, ...info.fixed };
    const explained = family ? explain(family, info.rule, reply, params, k) : null;
    const n = reply.internals.grad.length;
    if (!explained) {
      at.textContent = k >= n ? `step ${k}: no update leaves this point (${n} updates)` : "";
      body.innerHTML = `${plainRule}<p>${k >= n ? "Move back (←) to a step with an update after it." : "This optimizer's rule has no worked numbers here yet."}</p>`;
      delete panel.dataset.values;
      return;
    }
    const { t, lines, extra } = explained;
    // L-BFGS's t is its step length: its update number goes without the letter
    at.textContent = `step ${k} → ${k + 1} (update ${family === "lbfgs" ? "" : "t = "}${t}) · ← → move one step`;
    const hyper = Object.entries(params).map(([name, v]) => `${typeset(name)} = ${typeof v === "number" ? `<span class="n" title="${v}">${num(v)}</span>` : escape(String(v))}`).join(", ");
    body.innerHTML = `<p class="inspector-hyper math">${hyper}; this update: ${typeset("lr")} = <span class="n" title="${reply.lr[k]}">${num(reply.lr[k])}</span>, ${typeset("θ")} = (${num(reply.path[k][0])}, ${num(reply.path[k][1])})</p>
      <ol class="inspector-lines">${lines.map(lineHtml).join("")}</ol>
      ${extra.length ? `<p class="inspector-extra-title">The same update, bias correction written out:</p><ol class="inspector-lines">${extra.map(lineHtml).join("")}</ol>` : ""}`;
    panel.dataset.values = JSON.stringify({
      racer: r, step: k, t, lr: reply.lr[k], theta: reply.path[k], theta_next: reply.path[k + 1],
      g: reply.internals.grad[k], update: reply.internals.update[k],
      lines: [...lines, ...extra].map((line) => ({ text: line.text, taken: line.taken, rows: line.rows.map((row) => ({ lhs: row.lhs, coords: row.coords.map(({ c, value, calc, from }) => ({ c, value, calc, from })) })) })),
    });
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
    remove() { generation += 1; panel.replaceChildren(); panel.classList.remove("inspector"); delete panel.dataset.values; delete panel.dataset.coords; },
  };
}
