// The scene's controls, built from the catalogues' parameter specs: the landscape and its
// parameters, the start, the race settings, and one card per racer (optimizer, label, colour, one
// slider per hyperparameter, a schedule with its parameters). Controls hold no state: every input
// makes a new scene and hands it to onChange(scene, mode), mode "drag" while a slider moves,
// "commit" when it is let go, "push" for a discrete change.

import { markerCanvas, SHAPES } from "./animate.js";
import { allowedText, checkParam, sliderRange } from "./scene-url.js";

const LOG_POSITIONS = 1000;
let uid = 0;
const labelled = new Map(); // label → its spec, so help that arrives later becomes a tooltip

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) if (child != null) node.append(child);
  return node;
}

const roundSig = (v, digits) => (v === 0 ? 0 : Number(v.toPrecision(digits)));

/** A decimal step giving about a thousand positions between lo and hi. */
function linearStep(lo, hi, integer) {
  if (integer) return 1;
  return 10 ** Math.floor(Math.log10((hi - lo) / 1000 || 1));
}

export function formatValue(value, spec) {
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.join(",");
  if (spec.kind === "int") return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential().replace(/(\.\d{3})\d+e/, "$1e");
  return String(roundSig(value, 6));
}

/**
 * One labelled control for a parameter spec: a slider (log or linear) with a text field for the exact
 * value, a checkbox for a bool, a drop-down for a choice, a text field for a list. onValue(value, mode).
 */
export function paramControl(spec, label, { steps = 500, onValue, range = null, wide = false }) {
  const id = `p${++uid}`;
  const kind = spec.kind || "float";
  const row = el("div", { className: `param param-${kind}` });
  row.dataset.param = spec.name;
  const title = el("label", { htmlFor: id, textContent: label });
  if (spec.help) title.title = spec.help;
  labelled.set(title, spec);
  if (kind === "bool") {
    const box = el("input", { type: "checkbox", id });
    box.addEventListener("change", () => onValue(box.checked, "push"));
    row.append(box, title);
    return { row, input: box, set: (v) => { box.checked = Boolean(v); } };
  }
  if (kind === "choice") {
    const select = el("select", { id }, spec.choices.map((c) => el("option", { value: c, textContent: c })));
    select.addEventListener("change", () => onValue(select.value, "push"));
    row.append(title, select);
    return { row, input: select, set: (v) => { select.value = v ?? "none"; } };
  }
  const text = el("input", { type: "text", className: "value", spellcheck: false, autocomplete: "off" });
  text.setAttribute("inputmode", kind === "int_list" || kind === "range" ? "text" : "decimal");
  text.setAttribute("aria-label", `${label} value`);
  let current = null;
  if (kind === "text") { // a formula: formula.js checks it with the server before it reaches the scene
    text.id = id;
    row.append(title, text);
    return { row, input: text, set: (v) => { if (document.activeElement !== text) text.value = v; } };
  }
  text.addEventListener("change", () => {
    const checked = checkParam(spec, text.value.trim());
    text.setAttribute("aria-invalid", String(!checked.ok));
    text.title = checked.ok ? "" : `${spec.name} must be ${allowedText(spec)}`;
    if (checked.ok) onValue(checked.value, "push");
  });
  if (kind === "int_list" || kind === "range") {
    text.id = id;
    row.append(title, text);
    return { row, input: text, set: (v) => { current = v; if (document.activeElement !== text) text.value = formatValue(v, spec); } };
  }
  let [lo, hi] = range ? range(null) : sliderRange(spec, steps);
  const integer = kind === "int";
  // A float on a log scale (lr, eps, …) or on a 1 − β log scale (β-like decays) moves through the numbers of
  // two significant digits, one per slider position: dragging lands on 1.9, not 2.07; ↑/↓ move one position.
  const snapped = !integer && ((spec.scale === "log" && lo > 0) || spec.scale === "one_minus_log");
  const log = spec.scale === "log" && lo > 0;
  let step = 1;
  let decimals = 0;
  let values = null; // the snapped slider's values, in slider order
  const slider = el("input", { type: "range", id });
  const ticks = el("datalist", { id: `${id}-ticks` });
  const tickLabels = el("div", { className: "ticks", ariaHidden: "true" });
  const applyRange = () => {
    step = linearStep(lo, hi, integer);
    decimals = Math.max(0, -Math.round(Math.log10(step)));
    if (snapped) {
      values = spec.scale === "one_minus_log"
        ? twoDigitValues(1 - hi, 1 - lo).reverse().map((u) => Number((1 - u).toPrecision(12)))
        : twoDigitValues(lo, hi);
      Object.assign(slider, { min: "0", max: String(values.length - 1), step: "1" });
    } else if (log) Object.assign(slider, { min: "0", max: String(LOG_POSITIONS), step: "1" });
    else Object.assign(slider, { min: String(lo), max: String(hi), step: String(step) });
    const marks = snapped ? tickValues(spec, lo, hi) : [];
    ticks.replaceChildren(...marks.map((v) => el("option", { value: String(toPosition(v)) })));
    tickLabels.replaceChildren(...marks.map((v) => {
      const label = el("span", { textContent: formatValue(v, spec) });
      label.style.left = `${(100 * toPosition(v)) / (values.length - 1)}%`;
      return label;
    }));
  };
  const toValue = (position) => {
    if (snapped) return values[Math.max(0, Math.min(values.length - 1, Math.round(position)))];
    if (!log) return integer ? Math.round(position) : Number((Math.round(position / step) * step).toFixed(decimals));
    const v = 10 ** (Math.log10(lo) + (position / LOG_POSITIONS) * (Math.log10(hi) - Math.log10(lo)));
    return integer ? roundSig(Math.round(v), v >= 100 ? 2 : 3) : roundSig(v, 3);
  };
  const toPosition = (v) => {
    if (snapped) return nearestIndex(values, v, spec.scale === "one_minus_log");
    const clamped = Math.min(hi, Math.max(lo, v));
    if (!log) return clamped;
    return Math.round(((Math.log10(clamped) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * LOG_POSITIONS);
  };
  applyRange();
  if (snapped) slider.setAttribute("list", ticks.id);
  slider.addEventListener("input", () => {
    current = toValue(Number(slider.value));
    text.value = formatValue(current, spec);
    slider.setAttribute("aria-valuetext", text.value);
    onValue(current, "drag");
  });
  slider.addEventListener("change", () => onValue(toValue(Number(slider.value)), "commit"));
  // while the pointer holds the thumb, the scene follows the slider, not the other way round
  let held = false;
  slider.addEventListener("pointerdown", () => { held = true; });
  for (const type of ["pointerup", "pointercancel", "change"]) slider.addEventListener(type, () => { held = false; });
  if (wide) row.classList.add("param-wide");
  row.append(title, text, el("div", { className: "slider" }, [slider, ticks, tickLabels]));
  return {
    row,
    input: slider,
    /** A new number of steps: the range of a length that defaults from the run follows it. */
    setSteps(n) {
      const [a, b] = sliderRange(spec, n);
      if (a !== lo || b !== hi) { lo = a; hi = b; applyRange(); current = null; }
    },
    set(v) {
      if (v === current && held) return;
      if (range && !held) {
        const [a, b] = range(v);
        if (a !== lo || b !== hi) { lo = a; hi = b; applyRange(); }
      }
      current = v;
      if (!held) slider.value = String(toPosition(v));
      if (document.activeElement !== text) text.value = formatValue(v, spec);
      slider.setAttribute("aria-valuetext", formatValue(v, spec));
    },
  };
}

/** Every number of two significant digits from lo to hi (lo, hi > 0), ascending: 1.0, 1.1, … 9.9 per decade. */
export function twoDigitValues(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo) + 1e-9); e <= Math.ceil(Math.log10(hi) - 1e-9); e++) {
    for (let m = 10; m < 100; m++) {
      const v = Number((m * 10 ** (e - 1)).toPrecision(2));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  }
  if (out[out.length - 1] < hi * (1 - 1e-9)) out.push(hi);
  return out;
}

/** Index of the value nearest to v on a log scale (of 1 − v for a β). */
function nearestIndex(values, v, oneMinus) {
  const key = (x) => Math.log10(Math.max(oneMinus ? 1 - x : x, 1e-300));
  const target = key(v);
  let best = 0;
  for (let i = 1; i < values.length; i++) if (Math.abs(key(values[i]) - target) < Math.abs(key(values[best]) - target)) best = i;
  return best;
}

/**
 * Where a snapped slider shows ticks: 0.5, 0.9, 0.99, … for a β; each power of ten for a log scale of up to
 * three decades (an lr's: 0.001 0.01 0.1 1); over more (a tolerance's 1e-15 … 1) the two ends and one
 * power between, since a card's slider has room for three labels like "1e-12" side by side.
 */
function tickValues(spec, lo, hi) {
  if (spec.scale === "one_minus_log") return [0.5, 0.9, 0.99, 0.999, 0.9999].filter((b) => b >= lo && b <= hi);
  const out = [];
  for (let e = Math.ceil(Math.log10(lo) - 1e-9); e <= Math.floor(Math.log10(hi) + 1e-9); e++) out.push(10 ** e);
  if (out.length <= 4) return out;
  return [out[0], out[Math.floor((out.length - 1) / 2)], out[out.length - 1]];
}

/**
 * The lr slider's range: three decades around the landscape's suggested rate s for this optimizer,
 * [10^(⌈log s⌉ − 2), 10^(⌈log s⌉ + 1)] (from crawling to diverging, wide enough to drag to two digits),
 * widened to the decade of the current value when it lies outside, within the spec's slider range.
 */
export function lrRange(spec, suggested, value) {
  const c = Math.ceil(Math.log10(suggested ?? spec.default) - 1e-9);
  let lo = 10 ** (c - 2);
  let hi = 10 ** (c + 1);
  if (value > 0 && value < lo) lo = 10 ** Math.floor(Math.log10(value));
  if (value > hi) hi = 10 ** Math.ceil(Math.log10(value));
  const min = spec.slider_min ?? 1e-5;
  const max = spec.slider_max ?? 10;
  if (hi > max && value <= max) { lo = Math.max(min, lo / (hi / max)); hi = max; }
  if (lo < min && value >= min) { hi = Math.min(max, hi * (min / lo)); lo = min; }
  return [Number(lo.toPrecision(6)), Number(hi.toPrecision(6))];
}

const clone = (scene) => structuredClone(scene);

export function createControls(root, codec, handlers) {
  const { onChange, onCopyTorch, onShowRule, onFormulaControl } = handlers;
  const limits = codec.limits;
  let scene = null;
  let structure = "";
  let bound = []; // [{set, get(scene)}] value bindings, refreshed on every render

  const sceneSpecs = {
    steps: { name: "steps", kind: "int", minimum: 1, maximum: limits.max_steps, slider_min: 10, slider_max: 5000, scale: "log", help: "number of optimizer updates" },
    noise: { name: "noise", minimum: 0, maximum: limits.max_noise, slider_min: 0, slider_max: 2, help: "σ of the N(0, σ²I) noise added to every gradient" },
    seed: { name: "seed", kind: "int", minimum: 0, maximum: limits.max_seed, help: "seed of the gradient noise" },
    l1: { name: "l1", minimum: 0, maximum: limits.max_regularization, slider_min: 0, slider_max: 1, help: "λ1 of the penalty λ1·(|x| + |y|)" },
    l2: { name: "l2", minimum: 0, maximum: limits.max_regularization, slider_min: 0, slider_max: 1, help: "λ2 of the penalty λ2·(x² + y²)" },
  };

  /** A new racer's parameters: the landscape's suggested lr for its optimizer (core.landscape_notes), if any. */
  function suggestedParams(landscape, optimizer) {
    const lr = codec.landscapes[landscape].suggested_lr?.[optimizer];
    return lr == null ? {} : { lr };
  }

  function change(mutate, mode) {
    const next = clone(scene);
    const result = mutate(next);
    onChange(result || next, mode);
  }

  function bind(control, get) {
    bound.push({ control, get });
    return control.row;
  }

  function landscapeGroup() {
    const meta = codec.landscapes[scene.landscape.name];
    const rows = meta.params.map((spec) => {
      const control = paramControl(spec, spec.name, { onValue: (v, mode) => change((s) => { s.landscape.params[spec.name] = v; }, mode) });
      if (spec.kind === "text") { // a formula: the page makes it a checked formula field (formula.js)
        onFormulaControl?.(control, {
          commit: (params) => change((s) => { Object.assign(s.landscape.params, params); }, "push"),
          params: () => ({ ...scene.landscape.params }),
        });
      }
      return bind(control, (s) => s.landscape.params[spec.name]);
    });
    const domain = codec.meta(scene).domain;
    const startSpecs = ["x", "y"].map((axis, i) => ({ name: axis, minimum: domain[axis][0], maximum: domain[axis][1], slider_min: domain[axis][0], slider_max: domain[axis][1], help: `start ${axis}` }));
    const startRows = startSpecs.map((spec, i) => bind(
      paramControl(spec, `start ${spec.name}`, { onValue: (v, mode) => change((s) => { s.start[i] = v; }, mode) }),
      (s) => s.start[i]));
    return el("fieldset", { className: "group landscape" }, [
      el("legend", { textContent: "Landscape" }),
      meta.params.some((spec) => spec.kind === "text") ? null : el("p", { className: "formula", textContent: `f(x, y) = ${meta.formula}` }),
      el("p", { className: "lesson", textContent: meta.lesson }),
      ...rows,
      ...startRows,
      el("p", { className: "hint", textContent: "Click the map to move the start; drag the ⊕ to slide it." }),
    ]);
  }

  function raceGroup() {
    const rows = ["steps", "noise", "l1", "l2"].map((key) => bind(
      paramControl(sceneSpecs[key], key === "noise" ? "noise σ" : key, {
        onValue: (v, mode) => change((s) => (key === "steps" ? codec.withSteps(s, v) : { ...s, [key]: v }), mode),
      }), (s) => s[key]));
    const seed = el("input", { type: "number", id: "seed", min: "0", max: String(limits.max_seed), step: "1" });
    seed.addEventListener("change", () => {
      const checked = checkParam(sceneSpecs.seed, seed.value);
      if (checked.ok) change((s) => { s.seed = checked.value; }, "push");
    });
    bound.push({ control: { set: (v) => { if (document.activeElement !== seed) seed.value = String(v); } }, get: (s) => s.seed });
    const reseed = el("button", { type: "button", textContent: "New seed" });
    reseed.addEventListener("click", () => change((s) => { s.seed = Math.floor(Math.random() * 1e6); }, "push"));
    return el("fieldset", { className: "group race" }, [
      el("legend", { textContent: "Race" }),
      rows[0], rows[1],
      el("div", { className: "param param-seed" }, [el("label", { htmlFor: "seed", textContent: "seed" }), seed, reseed]),
      rows[2], rows[3],
    ]);
  }

  function racerCard(racer, index) {
    const spec = codec.optimizers[racer.optimizer];
    const n = index + 1;
    const card = el("article", { className: "racer" });
    card.style.setProperty("--racer", racer.color);
    card.setAttribute("aria-label", `Racer ${n}`);
    const label = el("input", { type: "text", className: "racer-label", maxLength: 40 });
    label.setAttribute("aria-label", `Racer ${n} label`);
    label.addEventListener("change", () => change((s) => { s.racers[index].label = label.value.trim() || undefined; }, "push"));
    bound.push({ control: { set: (v) => { if (document.activeElement !== label) label.value = v; } }, get: (s) => s.racers[index]?.label });
    const optimizer = el("select", { className: "racer-optimizer" }, Object.values(codec.optimizers).map((o) =>
      el("option", { value: o.name, textContent: o.title, selected: o.name === racer.optimizer })));
    optimizer.setAttribute("aria-label", `Racer ${n} optimizer`);
    optimizer.addEventListener("change", () => change((s) => {
      const old = s.racers[index];
      const wasDefaultLabel = old.label.startsWith(codec.optimizers[old.optimizer].title);
      const wasDefaultColor = old.color === codec.optimizerColors[old.optimizer];
      s.racers[index] = {
        optimizer: optimizer.value,
        params: suggestedParams(s.landscape.name, optimizer.value),
        schedule: old.schedule,
        label: wasDefaultLabel ? undefined : old.label,
        color: wasDefaultColor ? undefined : old.color,
      };
    }, "push"));
    const color = el("input", { type: "color", value: racer.color, className: "racer-color" });
    const marker = el("span", { className: "racer-marker" });
    bound.push({ control: { set: (v) => {
      card.style.setProperty("--racer", v);
      if (document.activeElement !== color) color.value = v;
      const shape = spec.marker || SHAPES[index % SHAPES.length];
      if (marker.dataset.color !== v) { marker.dataset.color = v; marker.dataset.shape = shape; marker.replaceChildren(markerCanvas(shape, v, 18)); }
    } }, get: (s) => s.racers[index]?.color });
    color.setAttribute("aria-label", `Racer ${n} colour`);
    color.addEventListener("input", () => change((s) => { s.racers[index].color = color.value; }, "drag"));
    color.addEventListener("change", () => change((s) => { s.racers[index].color = color.value; }, "commit"));
    const copy = el("button", { type: "button", className: "copy", textContent: "PyTorch" });
    copy.title = `Copy racer ${n} as PyTorch code`;
    copy.setAttribute("aria-label", `Copy racer ${n} as PyTorch`);
    copy.addEventListener("click", () => onCopyTorch(index));
    const remove = el("button", { type: "button", className: "remove", textContent: "✕", disabled: scene.racers.length <= 1 });
    remove.setAttribute("aria-label", `Remove racer ${n}`);
    remove.title = "Remove this racer";
    remove.addEventListener("click", () => change((s) => { s.racers.splice(index, 1); }, "push"));
    card.append(el("header", {}, [marker, label, optimizer, color, copy, remove]));

    const suggested = codec.landscapes[scene.landscape.name].suggested_lr?.[racer.optimizer];
    const paramRow = (p) => bind(
      paramControl(p, p.name, {
        onValue: (v, mode) => change((s) => { s.racers[index].params[p.name] = v; }, mode),
        range: p.name === "lr" ? (v) => lrRange(p, suggested, v) : null,
        wide: p.name === "lr" || p.scale === "one_minus_log",
      }),
      (s) => s.racers[index]?.params[p.name]);
    const [lr, ...rest] = spec.params;
    card.append(paramRow(lr));
    // schedule
    const schedule = codec.schedules[racer.schedule.name];
    const scheduleSelect = el("select", { id: `schedule-${n}` }, Object.values(codec.schedules).map((s) =>
      el("option", { value: s.name, textContent: s.title, selected: s.name === racer.schedule.name })));
    scheduleSelect.addEventListener("change", () => change((s) => {
      s.racers[index].schedule = { name: scheduleSelect.value, params: {} };
    }, "push"));
    card.append(el("div", { className: "param" }, [el("label", { htmlFor: scheduleSelect.id, textContent: "schedule" }), scheduleSelect]));
    for (const p of schedule.params) {
      const control = paramControl(p, p.name, { steps: scene.steps, onValue: (v, mode) => change((s) => { s.racers[index].schedule.params[p.name] = v; }, mode) });
      if (control.setSteps) bound.push({ control: { set: (n) => control.setSteps(n) }, get: (s) => s.steps });
      card.append(bind(control, (s) => s.racers[index]?.schedule.params[p.name]));
    }
    const rule = el("pre", { className: "rule", textContent: "…" });
    const ruleDetails = el("details", { className: "rule-details" }, [el("summary", { textContent: "Update rule" }), rule]);
    ruleDetails.addEventListener("toggle", () => { if (ruleDetails.open) onShowRule(racer.optimizer, rule); });
    const more = el("details", { className: "more" }, [
      el("summary", { textContent: `More hyperparameters (${rest.length})` }),
      ...rest.map(paramRow),
      ruleDetails,
    ]);
    more.dataset.key = `${index}:${racer.optimizer}`;
    card.append(more);
    return card;
  }

  function racersGroup() {
    const add = el("select", { id: "add-optimizer" }, Object.values(codec.optimizers).map((o) =>
      el("option", { value: o.name, textContent: o.title })));
    const used = new Set(scene.racers.map((r) => r.optimizer));
    add.value = (Object.keys(codec.optimizers).find((name) => !used.has(name))) || "sgd";
    const addButton = el("button", { type: "button", className: "add", textContent: "+ Add racer", disabled: scene.racers.length >= limits.max_racers });
    addButton.addEventListener("click", () => change((s) => { s.racers.push({ optimizer: add.value, params: suggestedParams(s.landscape.name, add.value) }); }, "push"));
    return el("section", { className: "group racers", ariaLabel: "Racers" }, [
      el("h2", { textContent: "Racers" }),
      ...scene.racers.map(racerCard),
      el("div", { className: "add-row" }, [el("label", { htmlFor: "add-optimizer", textContent: "Add" }), add, addButton]),
    ]);
  }

  function structureKey(s) {
    return JSON.stringify([s.landscape.name, codec.meta(s).domain, s.racers.map((r) => [r.optimizer, r.schedule.name])]);
  }

  return {
    /** Parameter help arrived (written into the specs): show it as tooltips. */
    refreshHelp() {
      for (const [label, spec] of labelled) if (spec.help) label.title = spec.help;
    },
    /** Show `next`: rebuild what changed shape, set every value. */
    render(next) {
      const key = structureKey(next);
      scene = next;
      if (key !== structure) {
        const open = new Set([...root.querySelectorAll("details[open]")].map((d) => d.dataset.key).filter(Boolean));
        const focused = document.activeElement && root.contains(document.activeElement) ? focusPath(document.activeElement) : null;
        bound = [];
        labelled.clear();
        root.replaceChildren(racersGroup(), landscapeGroup(), raceGroup());
        for (const d of root.querySelectorAll("details.more")) if (open.has(d.dataset.key)) d.open = true;
        if (focused) restoreFocus(focused);
        structure = key;
      }
      for (const binding of bound) {
        const v = binding.get(next);
        const key = Array.isArray(v) ? v.join(",") : v;
        if (v !== undefined && key !== binding.last) { binding.last = key; binding.control.set(v); }
      }
    },
  };

  function focusPath(node) {
    return node.id || node.getAttribute("aria-label");
  }
  function restoreFocus(key) {
    const node = document.getElementById(key) || root.querySelector(`[aria-label="${CSS.escape(key)}"]`);
    node?.focus();
  }
}
