// The notebook widget (optirace.widget, Race.show): the page's player (map, paths, Play, Step, Reset, speed,
// scrubber), its loss and learning-rate charts, and sliders, in a Jupyter, VS Code or Colab output cell.
// Built by optirace/notebook.py into one ES module with the page's own modules (server/render/offline.py:
// bundle_module), so it needs no server and no network. The kernel owns the race: a slider writes a new
// scene to the model (`scene`, synced both ways), the kernel validates and races it and sends back the
// race (`race`: the embed's payload, the same JSON as POST /api/race) or a message (`error`).

import { createLossChart, createLrChart } from "./charts.js";
import { createPlayer } from "./player.js";
import { raceFromResult } from "./race.js";

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

const fmt = (v) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : String(+v.toPrecision(3)));

/** A labelled range input; log scale between lo and hi when `log`; onValue(value) when it is let go. */
function slider(label, { lo, hi, value, log = false, integer = false, onValue }) {
  const toPos = (v) => (log ? Math.log10(v) : v);
  const fromPos = (p) => { const v = log ? 10 ** p : p; return integer ? Math.round(v) : v; };
  const input = el("input", { type: "range", min: String(toPos(lo)), max: String(toPos(hi)), step: log || !integer ? "any" : "1" });
  input.value = String(toPos(Math.min(hi, Math.max(lo, value))));
  const out = el("output", { textContent: fmt(value) });
  input.addEventListener("input", () => { out.textContent = fmt(fromPos(Number(input.value))); });
  input.addEventListener("change", () => onValue(fromPos(Number(input.value))));
  input.setAttribute("aria-label", label);
  const row = el("label", { className: "ow-slider" }, [el("span", { textContent: label }), input, out]);
  return { row, input, set(v) { input.value = String(toPos(Math.min(hi, Math.max(lo, v)))); out.textContent = fmt(v); } };
}

export function render({ model, el: host }) {
  host.classList.add("optirace-widget");
  host.dataset.theme = "light";
  const stage = el("div", { className: "ow-stage" });
  const lossCanvas = el("canvas", { className: "ow-chart" });
  const lrCanvas = el("canvas", { className: "ow-chart ow-chart-short" });
  const charts = el("div", { className: "ow-charts" }, [
    el("div", { className: "ow-chart-title", textContent: "Loss gap f − f* (log)" }), lossCanvas,
    el("div", { className: "ow-chart-title", textContent: "Learning rate" }), lrCanvas,
  ]);
  const sliders = el("div", { className: "ow-sliders" });
  const message = el("div", { className: "ow-error", role: "alert" });
  const title = el("div", { className: "ow-title" });
  const main = el("div", { className: "ow-main" }, [stage, el("div", { className: "ow-side" }, [charts, sliders])]);
  host.append(el("div", { className: "ow" }, [title, main, message]));

  const lossChart = createLossChart(lossCanvas);
  const lrChart = createLrChart(lrCanvas);
  const player = createPlayer(stage, {
    seconds: 6,
    maxHeight: () => 520,
    onStep: (k) => { lossChart.setStep(k); lrChart.setStep(k); host.dataset.step = String(k); },
    onStart: (x, y, how) => { if (how !== "drag") setScene({ ...model.get("scene"), start: [x, y] }); },
  });

  function setScene(scene) {
    host.dataset.pending = "1";
    model.set("scene", scene);
    model.save_changes();
  }

  /** Sliders for what a lecture varies: steps, noise, and each racer's learning rate (log). */
  function buildSliders(scene) {
    const specs = model.get("lr_specs") || {};
    sliders.replaceChildren();
    const steps = slider("steps", { lo: 10, hi: 2000, value: scene.steps, log: true, integer: true,
      onValue: (v) => setScene({ ...model.get("scene"), steps: v }) });
    const noise = slider("noise σ", { lo: 0, hi: 2, value: scene.noise,
      onValue: (v) => setScene({ ...model.get("scene"), noise: v }) });
    sliders.append(steps.row, noise.row);
    scene.racers.forEach((racer, i) => {
      const spec = specs[racer.optimizer] || { slider_min: 1e-5, slider_max: 10 };
      const row = slider(`${racer.label} lr`, {
        lo: spec.slider_min, hi: spec.slider_max, value: racer.params.lr, log: true,
        onValue: (v) => {
          const current = model.get("scene");
          const racers = current.racers.map((r, j) => (j === i ? { ...r, params: { ...r.params, lr: v } } : r));
          setScene({ ...current, racers });
        },
      });
      row.row.dataset.racer = String(i);
      row.row.style.setProperty("--racer", racer.color);
      sliders.append(row.row);
    });
  }

  let shownLandscape = null;
  let slidersKey = null;
  function show() {
    const payload = model.get("race_data");
    if (!payload || !payload.race) return;
    const meta = payload.landscape;
    title.textContent = `${meta.title}: ${meta.formula}`;
    if (shownLandscape !== meta.name) { player.setLandscape(meta); shownLandscape = meta.name; }
    player.setContours(payload.contours);
    player.setStart(payload.race.scene.start);
    const race = raceFromResult(payload.race);
    player.setRace(race, { replay: true, autoplay: model.get("autoplay") });
    lossChart.setRace(race);
    lrChart.setRace(race);
    const key = JSON.stringify(payload.race.scene.racers.map((r) => [r.optimizer, r.label, r.params.lr]).concat([payload.race.scene.steps, payload.race.scene.noise]));
    if (key !== slidersKey) { buildSliders(payload.race.scene); slidersKey = key; }
    host.dataset.races = String(Number(host.dataset.races || 0) + 1);
    delete host.dataset.pending;
  }
  function showError() {
    const text = model.get("error");
    message.textContent = text;
    message.hidden = !text;
    if (text) delete host.dataset.pending;
  }
  // The notebook attaches the cell's element after render(): the player measures itself, so the first race
  // is drawn once the element has a size.
  let laidOut = false;
  const sized = new ResizeObserver(() => {
    if (laidOut || !host.isConnected || host.clientWidth === 0) return;
    laidOut = true;
    sized.disconnect();
    show();
  });
  sized.observe(host);
  model.on("change:race_data", () => { if (laidOut) show(); });
  model.on("change:error", showError);
  showError();
  return () => { sized.disconnect(); player.destroy(); };
}
