// The slide embed (/embed?<scene>&<options>) and the offline HTML export: the player alone, filling its
// frame, with a legend and minimal chrome (Play/Pause, Step, Reset, a link to the full page). The contours
// and the landscape are inlined in the page (<script type="application/json" id="embed-data">), and so is
// the race when it is small, so the first frame needs no request. A large race (the page's stream_above:
// server/routes/embed.py) comes as the stream's header alone: the map, the start and the legend are drawn
// at once and the race is streamed (POST /api/race/stream, as the page does), drawn as it arrives;
// <body data-complete="1"> once all of it is in. Keys: Space play/pause, → / ← step (Shift: ten), R or
// Home reset, End the last step; the frame keeps them (preventDefault + stopPropagation).
//
// The legend sits beside the map (frames wider than the map) or above it (narrower ones), whichever leaves
// the map larger, never on it.
//
// Options (static/embed-snippet.js): autoplay, loop, controls, theme (light by default: a deck's look should
// not depend on the presenting laptop's setting; auto follows prefers-color-scheme), speed. A bad value
// falls back to its default with a console warning.

import { markerCanvas } from "./animate.js";
import { ApiError, getJSON, postJSON, streamRace } from "./api.js";
import { createLossChart, formatGap } from "./charts.js";
import { lrRange, paramControl } from "./controls.js";
import { liveControls, parseEmbedOptions } from "./embed-snippet.js";
import { standings } from "./leaderboard.js";
import { createPlayer } from "./player.js";
import { makeTransform, marginFor, plotHeightFor, readTheme } from "./plot.js";
import { addChunk, createRace, finish, raceFromResult } from "./race.js";

const LOOP_HOLD_MS = 1500; // the last frame is held this long before a loop starts again

function boot(data) {
  const { options, warnings } = parseEmbedOptions(location.search, data.defaults || {});
  for (const warning of warnings) console.warn(`optirace embed: ${warning}`);
  const root = document.documentElement;
  if (options.theme === "auto") delete root.dataset.theme;
  else root.dataset.theme = options.theme;
  const reducedMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;

  const $ = (id) => document.getElementById(id);
  const markers = Object.fromEntries(Object.entries(data.optimizers || {}).map(([name, o]) => [name, o.marker]));
  let race = data.race ? raceFromResult(data.race, markers) : createRace(data.header, markers);
  const stage = $("stage");
  // the live controls' state: the scene shown, the lrs at ×1 while the multiplier moves, a race in flight
  let scene = structuredClone(race.scene);
  let lrBases = null;
  let scale = options.lrscale;
  let pending = null;
  let busy = false;

  const legendList = $("side"); // the legend, the loss chart and the live controls: beside the map or above it
  const bar = $("bar");
  bar.hidden = !options.controls;
  document.body.dataset.controls = options.controls ? "1" : "0";

  let userAction = 0; // bumped by every key or button: a pending loop restart is then dropped
  const player = createPlayer(stage, {
    transport: false,
    interactive: false,
    speed: options.speed,
    maxHeight: () => mapHeight(),
    onStep: (k) => { showStep(k); for (const listener of stepListeners) listener(k); },
    onPlayState: (playing) => showPlaying(playing),
    onRace: (next) => { for (const listener of raceListeners) listener(next); },
  });
  // vectors=1 and view=3d come as modules of their own (templates/embed.html: vectors-embed.js, view3d-embed.js):
  // they find the player, the scene and the legend here, and hear of every new race
  const raceListeners = [];
  const stepListeners = [];
  stage.embed = {
    player, scene: () => scene, legend: $("legend"), relayout: () => placeLegend(),
    onRace(listener) { raceListeners.push(listener); },
    onStep(listener) { stepListeners.push(listener); },
  };

  // --- chrome ----------------------------------------------------------------------------------
  const play = $("play");
  const counter = $("counter");
  function showStep(k) {
    counter.textContent = `${k} / ${race.steps}`;
    lossChart?.setStep(k);
    legendStatus(race, k, data.landscape);
  }
  function showPlaying(playing) {
    document.body.dataset.playing = String(playing);
    play.textContent = playing ? "❚❚ Pause" : "▶ Play";
    play.setAttribute("aria-pressed", String(playing));
    if (!playing && options.loop && race.complete && player.step >= race.steps) {
      const token = userAction;
      setTimeout(() => {
        if (token === userAction && !player.playing && player.step >= race.steps) player.play();
      }, LOOP_HOLD_MS);
    }
  }
  const act = (fn) => () => { userAction += 1; fn(); };
  const toggle = act(() => player.toggle());
  const step = (n) => act(() => player.stepBy(n))();
  const reset = act(() => player.reset());
  const end = act(() => { player.pause(); player.seek(race.steps); });
  play.addEventListener("click", toggle);
  $("step").addEventListener("click", () => step(1));
  $("reset").addEventListener("click", reset);
  player.plot.addEventListener("click", toggle);

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target instanceof HTMLInputElement && target.type === "text") return; // a live control's value field
    switch (event.key) {
      case " ": case "k": case "K": toggle(); break;
      case "ArrowRight": step(event.shiftKey ? 10 : 1); break;
      case "ArrowLeft": step(event.shiftKey ? -10 : -1); break;
      case "r": case "R": case "Home": reset(); break;
      case "End": end(); break;
      default: return;
    }
    // keep the key: no button click on Space's keyup, no scrolling, no slide change in a deck
    event.preventDefault();
    event.stopPropagation();
  }, true);

  // --- the legend: beside the map or above it, whichever leaves the map larger ----------------------
  const domain = data.landscape.domain;
  /** The height the map may take: the stage's, less the legend's when it stands above the map. */
  function mapHeight() {
    return stage.clientHeight - (stage.dataset.legend === "top" ? outerHeight(legendList) : 0);
  }
  /** The map's scale (px per unit) with the legend in `mode`, sized as the player sizes it (player.js: resize). */
  function scaleWith(mode) {
    stage.dataset.legend = mode;
    player.element.style.flex = "";
    legendList.style.flex = mode === "side" ? "0 0 auto" : ""; // measured at its own width; it grows once placed
    if (mode === "side" && legendList.childElementCount === 1 && legendList.scrollHeight > legendList.clientHeight + 1) return -1;
    const width = Math.max(120, Math.floor(player.plot.clientWidth));
    const margin = marginFor(readTheme(stage).scaledFont(width));
    const height = Math.max(120, Math.min(plotHeightFor(domain, width, margin), Math.floor(mapHeight())));
    return makeTransform(domain, width, height, margin).scale;
  }
  function placeLegend() {
    const side = scaleWith("side");
    const top = scaleWith("top");
    stage.dataset.legend = side >= top ? "side" : "top";
    // beside the map, the panel takes all the width the map does not use: no empty band on either side
    if (stage.dataset.legend === "side") {
      const height = Math.floor(mapHeight());
      const margin = marginFor(readTheme(stage).scaledFont(height));
      const needed = Math.ceil((height - margin.top - margin.bottom) * (domain.x[1] - domain.x[0]) / (domain.y[1] - domain.y[0])
        + margin.left + margin.right);
      if (needed < stage.clientWidth) player.element.style.flex = `0 1 ${needed}px`;
      legendList.style.flex = "1 1 12em";
    }
    player.resize();
    lossChart?.redraw();
  }
  new ResizeObserver(placeLegend).observe(stage);

  /** Stream the rest of a large race (POST /api/race/stream) into `race`, drawing it as it arrives. */
  async function receive() {
    let pending = 0;
    const update = () => { pending = 0; player.raceUpdated(); };
    try {
      await streamRace(race.scene, (frame) => {
        // the header is the one inlined in the page (createRace above); chunks and the summary fill the race in
        if (frame.type === "chunk") {
          addChunk(race, frame);
          if (!pending) pending = requestAnimationFrame(update);
        } else if (frame.type === "summary") {
          finish(race, frame);
          cancelAnimationFrame(pending);
          update();
        }
      });
      document.body.dataset.complete = "1";
      showPlaying(player.playing); // a loop may start now that the end is in
    } catch (error) {
      const message = error instanceof ApiError ? error.message : `could not reach the server (${error.message})`;
      player.setStatus(`The race did not load: ${message}`, "error");
      console.warn(`optirace embed: ${message}`);
    }
  }

  // --- the slide's caption, loss chart and live controls (caption=, preset=, chart=loss, controls=…) ---
  const side = legendList;
  const captionNode = $("slide-caption");
  if (options.caption) captionNode.textContent = options.caption;
  else if (options.preset) presetCaption(options.preset, data.query).then((text) => { captionNode.textContent = text; placeLegend(); });
  captionNode.hidden = !options.caption && !options.preset;
  let lossChart = null;
  if (options.chart === "loss") {
    const canvas = document.createElement("canvas");
    canvas.className = "chart";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "Loss gap f − f* (log scale) per step");
    side.append(canvas);
    lossChart = createLossChart(canvas);
  }
  const live = location.protocol.startsWith("http") ? liveControls(options) : []; // a saved file has no server to race on
  if (live.length) side.append(liveControlsPanel(live));

  // --- the race ----------------------------------------------------------------------------------
  legend(race);
  placeLegend();
  player.setLandscape(data.landscape);
  player.setContours(data.contours);
  player.setRace(race, { replay: true, autoplay: options.autoplay && !reducedMotion });
  player.setStart(race.scene.start);
  lossChart?.setRace(race);
  showStep(player.step);
  showPlaying(player.playing);
  if (race.complete) document.body.dataset.complete = "1";
  else receive();
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (options.theme === "auto") { player.redraw(); legend(race); } // markers take the new theme's ink
  });

  // --- live controls: each move runs the changed scene (POST /api/race) and draws it whole ---------------
  async function rerun(next) {
    scene = next;
    if (busy) { pending = next; return; }
    busy = true;
    try {
      const result = await postJSON("/api/race", next);
      race = raceFromResult(result, markers);
      const wasPlaying = player.playing;
      player.setRace(race, { replay: false });
      if (!wasPlaying) { player.pause(); player.seek(race.steps); }
      legend(race);
      lossChart?.setRace(race);
      showStep(player.step);
      document.body.dataset.races = String(Number(document.body.dataset.races || 0) + 1);
      const open = $("open");
      if (open) open.href = `/?${(await postJSON("/api/scene/query", next)).query}`; // the page opens on the scene shown
    } catch (error) {
      player.setStatus(error instanceof ApiError ? error.message : `could not reach the server (${error.message})`, "error");
    } finally {
      busy = false;
      if (pending) { const again = pending; pending = null; rerun(again); }
    }
  }
  function liveControlsPanel(names) {
    const panel = document.createElement("form");
    panel.className = "live";
    panel.setAttribute("aria-label", "Live controls");
    const rows = [];
    if (names.includes("lrscale")) {
      const spec = { name: "lrscale", kind: "float", default: 1, minimum: 0.1, maximum: 10, slider_min: 0.1, slider_max: 10, scale: "log" };
      const control = paramControl(spec, "lr ×", { wide: true, onValue: (m, mode) => {
        if (!lrBases) lrBases = scene.racers.map((r) => r.params.lr / scale);
        scale = m;
        const next = structuredClone(scene);
        next.racers.forEach((r, i) => { r.params.lr = Number((lrBases[i] * m).toPrecision(3)); });
        if (mode !== "drag") lrBases = null;
        rerun(next);
      } });
      control.set(scale);
      rows.push(control.row);
    }
    if (names.includes("lr")) {
      scene.racers.forEach((racer, i) => {
        const meta = data.optimizers[racer.optimizer];
        const control = paramControl(meta.lr, `${racer.label} lr`, {
          wide: true,
          range: (v) => lrRange(meta.lr, meta.suggested_lr, v),
          onValue: (v) => { const next = structuredClone(scene); next.racers[i].params.lr = v; rerun(next); },
        });
        control.set(racer.params.lr);
        control.row.style.setProperty("--racer", racer.color);
        rows.push(control.row);
      });
    }
    if (names.includes("schedule")) {
      scene.racers.forEach((racer, i) => {
        const select = document.createElement("select");
        select.setAttribute("aria-label", `${racer.label} schedule`);
        select.append(...data.schedules.map((sch) => new Option(sch.title, sch.name, false, sch.name === racer.schedule.name)));
        select.addEventListener("change", () => {
          const next = structuredClone(scene);
          next.racers[i].schedule = { name: select.value, params: {} };
          rerun(next);
        });
        const label = document.createElement("label");
        label.className = "param";
        label.append(`${racer.label} schedule `, select);
        rows.push(label);
      });
    }
    panel.append(...rows);
    panel.addEventListener("submit", (event) => event.preventDefault());
    return panel;
  }

  requestAnimationFrame(() => {
    performance.mark("optirace:embed-drawn");
    document.body.dataset.ready = "1";
  });
  return player;
}

function outerHeight(element) {
  const css = getComputedStyle(element);
  return element.getBoundingClientRect().height + parseFloat(css.marginTop) + parseFloat(css.marginBottom);
}

/** The legend: each racer's marker, label and lr, and its outcome so far (✓ arrived, ✕ diverged, or its gap). */
function legend(race) {
  const list = document.getElementById("legend");
  list.replaceChildren(...race.racers.map((racer, i) => {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = racer.label;
    const detail = document.createElement("span");
    detail.className = "detail";
    detail.textContent = `lr ${formatGap(race.scene.racers[i].params.lr)}`;
    const outcome = document.createElement("span");
    outcome.className = "outcome";
    item.append(markerCanvas(racer.shape, readTheme(list).ink(racer.color), 18), name, detail, outcome);
    return item;
  }));
}

/** Each racer's outcome at step k, as the page's leaderboard judges it: a racer that left the minimum says so. */
function legendStatus(race, k, judge) {
  const items = document.querySelectorAll("#legend li .outcome");
  for (const row of standings(race, k, judge).rows) {
    const node = items[row.index];
    const racer = race.racers[row.index];
    if (!node) continue;
    let text = "";
    let title = "loss gap f − f*";
    if (row.state === "diverged") [text, title] = [`✕ ${row.divergedAt}`, "diverged at this step"];
    else if (row.state === "arrived") [text, title] = [`✓ ${row.arrivedAt}`, "arrived at this step"];
    else if (row.state === "left") [text, title] = [`✓ ${row.arrivedAt}, left ${row.leftAt}`, "arrived, then left the minimum"];
    else if (racer.length) text = `gap ${formatGap(racer.loss[Math.min(k, racer.length - 1)] - race.minValue)}`;
    if (node.textContent !== text) node.textContent = text;
    node.title = title;
  }
}

/**
 * The caption of preset `id` (GET /api/presets: the demos as data, each caption a set of checked claims), when
 * the slide shows the demo's own scene (`query`, written out); a scene changed beside it (…&steps=80) is no
 * longer the demo's, so the slide says what it was changed from and claims nothing.
 */
async function presetCaption(id, query) {
  try {
    const { presets } = await getJSON("/api/presets");
    const preset = presets.find((p) => p.id === id);
    if (preset) return preset.query === query ? preset.caption : `Changed from “${preset.title}”`;
    console.warn(`optirace embed: preset=${id} is not one of: ${presets.map((p) => p.id).join(", ")}`);
  } catch (error) {
    console.warn(`optirace embed: the presets could not be loaded (${error.message})`);
  }
  return "";
}

const dataNode = document.getElementById("embed-data");
if (dataNode) boot(JSON.parse(dataNode.textContent));
