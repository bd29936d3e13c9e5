// The race page's boot sequence; the only module with top-level effects.
// The URL is the single source of UI state: input → new scene → history → render(scene).

import { ApiError, evaluate, fetchCatalogues, fetchContours, fetchRace, fetchSweep, streamRace } from "./api.js";
import { createCaption } from "./caption.js";
import { createLossChart, createLrChart, drawSweep, formatGap } from "./charts.js";
import { createLeaderboard } from "./leaderboard.js";
import { createPlayer } from "./player.js";
import { marginFor, readTheme } from "./plot.js";
import { addChunk, createRace, finish, raceFromResult } from "./race.js";
import { createCodec } from "./scene-url.js";
import { createZoom } from "./zoom.js";

const $ = (id) => document.getElementById(id);
const data = JSON.parse($("page-data").textContent);
const codec = createCodec(data);
const markers = Object.fromEntries(Object.values(codec.optimizers).map((o) => [o.name, o.marker]));
const reducedMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;

// --- the scene in the URL ---
// Every change is written to the address: a new history entry for a discrete change and for the
// first move of a drag, replaced while the drag goes on (at most every URL_EVERY ms, and always at
// its end). What is on screen is always the scene of the address, or of the one about to be written.
const URL_EVERY = 120;

// inside a step: vectors=1 (vectors on the map), view=3d (the 3D view)
const INSIDE_KEYS = ["vectors", "view"];

// Display options stand beside the scene in the address and stay there: qr=1 (the short link's QR code in a
// corner), present=1 (presenter mode) and lrscale=<m> (where the global lr multiplier stands: the scene's lrs are
// the actual ones, ×m applied, so the API, /embed and the exports read the same race from the same query).
const VIEW_KEYS = ["qr", "present", "lrscale", ...INSIDE_KEYS];
const view = viewFromUrl();

function viewFromUrl() {
  const params = new URLSearchParams(location.search);
  const m = Number(params.get("lrscale"));
  return { qr: params.get("qr"), present: params.get("present") === "1", lrscale: m >= 0.1 && m <= 10 ? m : 1, ...insideFromUrl(params) };
}

/** The view's keys as they stand now, for the address. */
function viewQuery() {
  return [
    view.qr != null ? `qr=${encodeURIComponent(view.qr)}` : "",
    view.lrscale !== 1 ? `lrscale=${view.lrscale}` : "",
    view.present ? "present=1" : "",
    ...insideQuery(),
  ].filter(Boolean).join("&");
}
const address = (query) => `${location.pathname}?${[query, viewQuery()].filter(Boolean).join("&")}`;

/** The scene part of a query string (the view keys taken out). */
function sceneQueryOf(search) {
  return search.replace(/^\?/, "").split("&").filter((pair) => pair && !VIEW_KEYS.includes(pair.split("=")[0])).join("&");
}

/** The scene part of the address. */
function currentQuery() {
  return sceneQueryOf(location.search);
}

function sceneFromUrl() {
  const { scene, warnings } = codec.parse(currentQuery());
  for (const warning of warnings) console.warn(`optirace: ${warning}`);
  return scene;
}

let dragging = false;
let lastUrlWrite = 0;
let urlTimer = 0;
function writeUrl(query, mode) {
  clearTimeout(urlTimer);
  const now = performance.now();
  if (mode === "drag" && dragging && now - lastUrlWrite < URL_EVERY) {
    urlTimer = setTimeout(() => putUrl(query, false), URL_EVERY - (now - lastUrlWrite));
    return;
  }
  putUrl(query, mode === "push" || (mode === "drag" && !dragging));
  dragging = mode === "drag";
}

function putUrl(query, push) {
  const next = address(query);
  if (next !== `${location.pathname}${location.search}`) {
    const state = { preset: history.state?.preset ?? null };
    if (push) history.pushState(state, "", next);
    else history.replaceState(state, "", next);
  }
  lastUrlWrite = performance.now();
}

// --- page parts ---
const player = createPlayer($("player"), {
  // wide screens: the map, its transport (and the read-out) fit in the window; presenter mode leaves out the read-out
  maxHeight: () => (view.present ? Math.max(160, presentMapHeight() - insideHeight()) : innerWidth >= 760
    ? Math.max(320, innerHeight - ($("player").getBoundingClientRect().top + scrollY)
      - (player?.transport?.offsetHeight || 48) - 48)
    : Infinity),
  // a click starts a new race from there; dragging the start marker redraws the whole paths as it moves
  onStart(x, y, how) {
    const mode = { click: "push", drag: "drag", drop: "commit" }[how];
    commit({ ...shown, start: [round4(x), round4(y)] }, mode, { replay: how === "click", showAll: how !== "click" });
  },
  onHover: hovered,
  onStep: (k) => { showStep(k); insideStep(k); },
  onRace: (race) => insideRace(race),
  onContours: (landscape, contours) => view3d?.setLandscape(landscape, contours),
});
const lossChart = createLossChart($("loss-chart"));
const lrChart = createLrChart($("lr-chart"));
const leaderboard = createLeaderboard($("leaderboard-body"), $("leaderboard-state"), (race) => codec.landscapes[race.scene.landscape.name]);
const zoom = createZoom(player, $("zoom-end"), data.contours, { onError: (error) => showError(error) });
$("lr-log").addEventListener("click", () => {
  lrChart.setLog(!lrChart.log);
  $("lr-log").setAttribute("aria-pressed", String(lrChart.log));
});
let controls = null; // built after the first race (controls.js is loaded then, off the critical path)

const round4 = (v) => Number(v.toFixed(Math.max(0, 3 - Math.floor(Math.log10(Math.abs(v) || 1)))));

// --- rendering a scene ---
let shown = null; // the scene on screen (always the URL's)
let shownRaceKey = "";
let contourKey = "";

function raceKey(scene) {
  return JSON.stringify({ ...scene, racers: scene.racers.map((r) => ({ ...r, label: "", color: "" })) });
}
function replayKey(scene) {
  return JSON.stringify([scene.landscape.name, scene.racers.map((r) => r.optimizer)]);
}

function commit(next, mode, { replay, showAll = false } = {}) {
  const scene = codec.fill(next);
  const query = codec.toQuery(scene);
  writeUrl(query, mode);
  const discrete = mode === "push";
  render(scene, query, { replay: replay ?? (discrete && replayKey(scene) !== replayKey(shown)), showAll, urgent: discrete });
}

/** What the map's landscape depends on: its name, and a custom landscape's formula and domain. */
function landscapeKey(scene) {
  if (!scene) return "";
  const meta = codec.meta(scene);
  return JSON.stringify([scene.landscape.name, meta.formula, meta.domain]);
}

/** Show `scene` (whose query is `query`): controls, caption, contours, race. */
function render(scene, query = codec.toQuery(scene), { replay = false, showAll = false, urgent = true } = {}) {
  const previous = shown;
  shown = scene;
  const meta = codec.meta(scene); // a custom landscape's domain and formula are its parameters
  showCaption(scene, query); // first: its height moves the plot, whose size depends on where it sits
  showLrCard(scene);
  if (landscapeKey(previous) !== landscapeKey(scene)) { zoom.setLandscape(meta); fitPresenter(); }
  // the requests first, so they run while the page updates
  const key = raceKey(scene);
  const raceChanged = key !== shownRaceKey || !previous;
  if (raceChanged) {
    shownRaceKey = key;
    showGhost();
    requestRace(scene, query, { replay: replay || !previous, showAll, urgent });
  }
  const cKey = JSON.stringify([scene.landscape, scene.l1, scene.l2]);
  if (cKey !== contourKey) {
    contourKey = cKey;
    fetchContours(scene.landscape.name, query, data.contours).then((contours) => {
      if (cKey === contourKey) zoom.setContours(contours, query);
    }, (error) => showError(error));
  }
  player.setStart(scene.start);
  landscapeSelect.value = scene.landscape.name;
  showLrScale();
  controls?.render(scene);
  corner?.update(query);
  if (!raceChanged && JSON.stringify(previous.racers.map((r) => [r.label, r.color])) !== JSON.stringify(scene.racers.map((r) => [r.label, r.color]))) {
    restyle(scene);
  }
  if ($("sweep-panel").open) scheduleSweep();
  if ($("map-panel").open) mapPanel?.update(scene, urgent);
  if (!$("tune-card").hidden && raceKey(scene) !== tunedKey) $("tune-card").hidden = true;
  ghostArmed = null;
}

/** A flat line tells nothing: with no schedule on any racer, the lr card says so in words instead of charting it (and in
 * presenter mode it steps aside, so the loss chart takes its room). */
function showLrCard(scene) {
  $("lr-card").toggleAttribute("data-constant", scene.racers.every((racer) => racer.schedule.name === "constant"));
}

/** Labels and colours changed but not the race: repaint without asking the server. */
function restyle(scene) {
  const race = player.race;
  if (!race) return;
  race.racers.forEach((racer, i) => { racer.label = scene.racers[i].label; racer.color = scene.racers[i].color; });
  showRace(race, { replay: false });
}

// --- inside a step: vectors on the map (vectors=1), loaded when first switched on ---
function insideFromUrl(params) {
  return { vectors: params.get("vectors") === "1", view3d: params.get("view") === "3d" };
}
function insideQuery() {
  return [view.vectors ? "vectors=1" : "", view.view3d ? "view=3d" : ""];
}
let vectors = null;
async function setVectors(on) {
  view.vectors = on;
  $("vectors").setAttribute("aria-pressed", String(on));
  if (shown) putUrl(codec.toQuery(shown), false);
  if (!on) { vectors?.remove(); vectors = null; requestAnimationFrame(() => player.resize()); return; }
  if (vectors) return;
  const { createVectors } = await import("./vectors.js");
  if (!view.vectors || vectors) return;
  vectors = createVectors(player, $("vectors").parentElement, () => shown, { onError: showError });
  vectors.setRace(player.race);
  new ResizeObserver(() => player.resize()).observe(vectors.element); // its legend's height moves the map's
}
/** With the vectors on, presenter mode's map on a phone leaves room for the tools under it and their legend, so both stay
 * on screen. */
function insideHeight() {
  if (innerWidth >= 760) return 0; // a projector: the legend stands beside the map (page.css), not under it
  const legend = document.querySelector(".vectors-legend");
  return legend ? $("vectors").parentElement.offsetHeight + legend.offsetHeight + 12 : 0;
}
function insideRace(race) {
  vectors?.setRace(race);
  inspector?.setRace(race);
  view3d?.setRace(race);
}
function insideStep(k) {
  inspector?.setStep(k);
  view3d?.setStep(k);
}
// the 3D view (view=3d): over the map, the same size, following the player; three.js loads with it
let view3d = null;
async function setView3d(on) {
  view.view3d = on;
  $("view3d").setAttribute("aria-pressed", String(on));
  if (shown) putUrl(codec.toQuery(shown), false);
  if (!on) { view3d?.remove(); view3d = null; return; }
  if (view3d) return;
  const { createView3d } = await import("./view3d.js");
  while (!player.contours || !player.theme) await new Promise((resolve) => { setTimeout(resolve, 50); });
  if (!view.view3d || view3d) return;
  view3d = createView3d(player.plot, { landscape: player.landscape, contours: player.contours, theme: player.theme });
  view3d.setRace(player.race);
  view3d.setStep(player.step);
}
$("view3d").addEventListener("click", () => setView3d(!view.view3d));
if (view.view3d) setView3d(true);
// the step inspector: one racer's update rule with the numbers of the current step
let inspector = null;
async function setInspector(on) {
  $("inspect").setAttribute("aria-pressed", String(on));
  $("inspector").hidden = !on;
  if (!on) { inspector?.remove(); inspector = null; return; }
  if (inspector) return;
  const { createInspector } = await import("./inspector.js");
  if ($("inspector").hidden || inspector) return;
  inspector = createInspector($("inspector"), () => shown, { onError: showError });
  inspector.setRace(player.race);
  inspector.setStep(player.step);
}
$("inspect").addEventListener("click", () => setInspector($("inspector").hidden));
$("vectors").addEventListener("click", () => setVectors(!view.vectors));
if (view.vectors) setVectors(true);

// --- the ghost: a change from the controls leaves the run before it faint on the map until the next
// change (a drag keeps the run from before its first move); any other change (map, landscape, demo) clears it ---
let ghostArmed = null; // "new": the run on screen becomes the ghost; "keep": the ghost stays
function armGhost(mode) {
  ghostArmed = (mode === "drag" && dragging) || mode === "commit" ? "keep" : "new";
}
function showGhost() {
  if (ghostArmed === "new") player.setGhost(player.race);
  else if (ghostArmed !== "keep") player.setGhost(null);
  ghostArmed = null;
}

// --- races: never more than one in flight; a drag's latest scene wins ---
let inFlight = null;
let queued = null;
let racesDrawn = 0;

function requestRace(scene, query, options) {
  if (inFlight && !options.urgent) { queued = { scene, query, options }; return; }
  if (inFlight) inFlight.abort();
  queued = null;
  runRace(scene, query, options);
}

async function runRace(scene, query, { replay, showAll }) {
  const controller = new AbortController();
  inFlight = controller;
  const requested = performance.now();
  const busy = setTimeout(() => player.setStatus("computing…", "busy"), 250);
  try {
    if (scene.steps * scene.racers.length >= data.stream_above) {
      let race = null;
      let pending = 0;
      await streamRace(scene, (frame) => {
        if (frame.type === "header") {
          race = createRace(frame, markers);
          showRace(race, { replay, showAll });
        } else if (frame.type === "chunk") {
          addChunk(race, frame);
          if (!pending) pending = requestAnimationFrame(() => { pending = 0; updateRace(race); });
        } else if (frame.type === "summary") {
          finish(race, frame);
          cancelAnimationFrame(pending);
          updateRace(race);
          leaderboard.setRace(race);
          leaderboard.setStep(player.step);
          zoom.setRace(race);
        }
      }, controller.signal);
      player.setStatus("");
      drawn(requested);
    } else {
      const race = raceFromResult(await fetchRace(query, controller.signal), markers);
      if (controller.signal.aborted) return;
      player.setStatus("");
      showRace(race, { replay, showAll });
      drawn(requested);
    }
  } catch (error) {
    if (error.name !== "AbortError") showError(error);
  } finally {
    clearTimeout(busy);
    if (inFlight === controller) {
      inFlight = null;
      if (queued) { const next = queued; queued = null; runRace(next.scene, next.query, next.options); }
    }
  }
}

// The controls are built once the first race is on screen (or after a moment, whatever comes first).
let booted = false;
async function boot() {
  if (booted) return;
  booted = true;
  const { createControls } = await import("./controls.js");
  controls = createControls($("controls"), codec, {
    onChange: (next, mode) => { armGhost(mode); commit(next, mode); },
    onCopyTorch: copyTorch,
    // the custom landscape's formula field, loaded when it is first shown (not in the embed's bundle)
    onFormulaControl: (control, api) => import("./formula.js").then(({ attachFormula }) => attachFormula(control, api)),
    onShowRule: async (optimizer, pre) => {
      try { pre.textContent = (await fetchCatalogues()).optimizers[optimizer].rule; } catch { pre.textContent = "(could not load the rule)"; }
    },
  });
  controls.render(shown);
  // parameter help for the tooltips comes with the full catalogues, after the first race
  fetchCatalogues().then((full) => {
    for (const kind of ["landscapes", "optimizers", "schedules"]) {
      for (const [name, entry] of Object.entries(codec[kind])) {
        for (const spec of entry.params) spec.help = full[kind][name]?.params.find((p) => p.name === spec.name)?.help;
      }
    }
    controls.refreshHelp();
  }, () => {});
}

function drawn(requested) {
  if (!booted) requestAnimationFrame(boot);
  racesDrawn += 1;
  document.body.dataset.races = String(racesDrawn);
  performance.mark("optirace:race-drawn");
  document.dispatchEvent(new CustomEvent("optirace:drawn", { detail: { requested, drawn: performance.now() } }));
}

/** The paths now; the charts and the leaderboard in the next frame, so the race shows first. */
let chartsFrame = 0;
function showRace(race, { replay, showAll }) {
  player.setRace(race, { replay: replay && !showAll, autoplay: !reducedMotion && !view.present });
  if (showAll || (replay && reducedMotion)) { player.pause(); player.seek(race.steps); }
  cancelAnimationFrame(chartsFrame);
  chartsFrame = requestAnimationFrame(() => {
    chartsFrame = 0;
    lossChart.setRace(race);
    lrChart.setRace(race);
    leaderboard.setRace(race);
    zoom.setRace(race);
    showStep(player.step);
  });
}

function showStep(k) {
  if (chartsFrame) return;
  lossChart.setStep(k);
  lrChart.setStep(k);
  leaderboard.setStep(k);
}

function updateRace(race) {
  player.raceUpdated();
  lossChart.setRace(race);
  lrChart.setRace(race);
}

function showError(error) {
  const message = error instanceof ApiError ? error.message : `Could not reach the server (${error.message})`;
  player.setStatus(message, "error");
  console.warn(`optirace: ${message}`);
}

// --- caption, presets (the demos come with the page data, as GET /api/presets gives them) ---
const presetSelect = $("preset");
presetSelect.append(new Option("Custom scene", ""), ...data.presets.map((p) => new Option(p.title, p.id)));
presetSelect.options[0].disabled = true;
const caption = createCaption(
  { root: $("caption"), title: $("caption-title"), text: $("caption-text"), back: $("caption-back") },
  data.presets, codec, { onRestore: (preset) => showPreset(preset) },
);

function showCaption(scene, query) {
  const { preset } = caption.show(scene, query, history.state?.preset);
  presetSelect.value = preset ? preset.id : "";
}

function showPreset(preset) {
  const scene = codec.parse(preset.query).scene;
  clearTimeout(urlTimer);
  view.lrscale = 1; // a demo brings its own lrs: the multiplier starts again from ×1 (presenter mode stays)
  history.pushState({ preset: preset.id }, "", address(preset.query));
  dragging = false;
  render(scene, preset.query, { replay: true });
}

presetSelect.addEventListener("change", () => {
  const preset = caption.byId(presetSelect.value);
  if (preset) showPreset(preset);
});

window.addEventListener("popstate", () => {
  clearTimeout(urlTimer);
  dragging = false;
  const next = viewFromUrl();
  view.lrscale = next.lrscale;
  if (next.present !== view.present) setPresent(next.present, { fullscreen: false });
  render(sceneFromUrl(), undefined, { replay: false });
});

// --- hover read-out: point, loss, gradient (throttled: one request in flight) ---
let hoverWanted = null;
let hoverBusy = false;
function hovered(x, y) {
  const out = $("readout");
  if (x == null) { hoverWanted = null; out.textContent = "Hover over the map for the loss and gradient there; click to start the race from there."; return; }
  hoverWanted = [x, y];
  out.textContent = `x = ${fmt(x)}, y = ${fmt(y)}`;
  if (!hoverBusy) pollHover();
}
async function pollHover() {
  if (!hoverWanted) return;
  const point = hoverWanted;
  hoverWanted = null;
  hoverBusy = true;
  try {
    const scene = shown;
    const result = await evaluate(scene.landscape, scene.l1, scene.l2, [point]);
    const [gx, gy] = result.grad[0];
    if (!hoverWanted) {
      $("readout").textContent = `x = ${fmt(point[0])}, y = ${fmt(point[1])} · f = ${formatGap(result.loss[0])} · ∇f = (${formatGap(gx)}, ${formatGap(gy)})`;
    }
  } catch { /* the read-out is best effort */ }
  await new Promise((resolve) => setTimeout(resolve, 40));
  hoverBusy = false;
  if (hoverWanted) pollHover();
}
const fmt = (v) => String(+v.toFixed(3)).replace("-", "−");

// --- copy as PyTorch, share ---
async function copyText(text) {
  try { await navigator.clipboard.writeText(text); return true; } catch { return false; }
}

/** The whole scene as a runnable torch script (GET /api/pytorch, made on the server from the catalogues' templates). */
async function copyTorch() {
  const count = shown.racers.length;
  $("code-title").textContent = `This race in PyTorch (${count === 1 ? "its racer" : `all ${count} racers`})`;
  $("code-text").textContent = "…";
  $("code-status").textContent = "";
  const dialog = $("code-dialog");
  if (!dialog.open) dialog.showModal();
  try {
    const reply = await fetch(`/api/pytorch?${currentQuery()}`);
    if (!reply.ok) throw new Error((await reply.json()).error ?? reply.statusText);
    const code = await reply.text();
    $("code-text").textContent = code;
    $("code-status").textContent = (await copyText(code))
      ? "Copied to the clipboard: runs as is with torch and numpy; `paths` then holds every racer's path."
      : "Select the code and copy it.";
  } catch (error) {
    $("code-status").textContent = `Could not make the script (${error.message}).`;
  }
}
$("code-copy").addEventListener("click", async () => {
  $("code-status").textContent = (await copyText($("code-text").textContent)) ? "Copied to the clipboard." : "Select the code and copy it.";
});

function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { node.hidden = true; }, 2600);
}
// Share: a short link and its QR code (share.js, loaded on the first click); qr=1: both in a corner (share-corner.js).
$("share").addEventListener("click", async () => {
  try {
    const { openShare } = await import("./share.js");
    await openShare(codec.toQuery(shown));
  } catch (error) {
    toast((await copyText(location.href)) ? "Link copied: it reopens this exact race." : `Copy this link: ${location.href}`);
    console.warn(`optirace: the Share dialog did not load (${error.message})`);
  }
});
let corner = null;
let cornerModule = null;
// Q, or qr=1 in the address: the short link and its QR code in a corner (over presenter mode too), for a class
// to open the race on their phones; Q again takes it away.
async function setQr(on) {
  view.qr = on ? "1" : null;
  if (shown) putUrl(codec.toQuery(shown), false);
  if (!on) {
    corner?.remove();
    corner = null;
    return;
  }
  cornerModule ??= import("./share-corner.js");
  const { showShareCorner } = await cornerModule;
  if (view.qr === "1" && !corner) corner = showShareCorner(codec.toQuery(shown));
}
$("embed").addEventListener("click", () => openSlides("embed"));

// --- theme ---
const THEMES = ["auto", "light", "dark"];
function applyTheme(mode) {
  if (mode === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = mode;
  const button = $("theme");
  button.textContent = { auto: "◐ Auto", light: "☀ Light", dark: "☾ Dark" }[mode];
  button.setAttribute("aria-label", `Colour theme: ${mode} (change)`);
  redrawAll();
}
function redrawAll() {
  player.redraw();
  view3d?.setTheme(player.theme);
  if (player.race) { leaderboard.setRace(player.race); leaderboard.setStep(player.step); }
  lossChart.redraw();
  lrChart.redraw();
  redrawSweep();
  mapPanel?.redraw();
}
let themeMode = THEMES.includes(localStorage.getItem("optirace-theme")) ? localStorage.getItem("optirace-theme") : "auto";
$("theme").addEventListener("click", () => {
  themeMode = THEMES[(THEMES.indexOf(themeMode) + 1) % THEMES.length];
  localStorage.setItem("optirace-theme", themeMode);
  applyTheme(themeMode);
});
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => { if (themeMode === "auto") redrawAll(); });

// --- sweep (optional panel) ---
let lastSweep = null;
let sweepTimer = 0;
let sweepController = null;
function scheduleSweep() {
  clearTimeout(sweepTimer);
  sweepTimer = setTimeout(runSweep, 250);
}
async function runSweep() {
  sweepController?.abort();
  const controller = new AbortController();
  sweepController = controller;
  const scene = shown;
  const count = Math.max(2, Math.min(24, Math.floor(1024 / scene.racers.length)));
  $("sweep-status").textContent = "Sweeping…";
  try {
    lastSweep = await fetchSweep(scene, { lr_min: 1e-4, lr_max: 10, count, steps: Math.min(scene.steps, 2000) }, controller.signal);
    redrawSweep();
    $("sweep-status").textContent = `Final loss gap (log) against the learning rate (log, 1e−4 to 10) after ${Math.min(scene.steps, 2000)} steps, ${count} rates per racer; ✕ diverged; markers: each racer's own lr.`;
  } catch (error) {
    if (error.name !== "AbortError") $("sweep-status").textContent = error.message;
  }
}
$("sweep-panel").addEventListener("toggle", () => { if ($("sweep-panel").open) runSweep(); });
/** The sweep, the map's racer drawn bold and the others faint while the map panel is open. */
function redrawSweep() {
  if (!$("sweep-panel").open || !lastSweep) return;
  const focus = mapPanel && $("map-panel").open ? mapPanel.racer : null;
  drawSweep($("sweep-chart"), lastSweep, player.race, shown.racers.map((r) => r.params.lr), focus);
}

// --- hyperparameter map and the fair race (map-panel.js, loaded when first used) ---
let mapPanel = null;
async function openMap() {
  if (!mapPanel) {
    const { createMapPanel } = await import("./map-panel.js");
    mapPanel ??= createMapPanel($("map-root"), codec, { setValues: setRacerValues, onRacer: redrawSweep });
  }
  mapPanel.update(shown);
  redrawSweep();
}
/** A map cell clicked: racer `index` takes its two values (`schedule.<name>` for a schedule's). */
function setRacerValues(index, values) {
  const racers = shown.racers.map((racer, i) => {
    if (i !== index) return racer;
    const params = { ...racer.params };
    const schedule = { ...racer.schedule, params: { ...racer.schedule.params } };
    for (const [key, value] of Object.entries(values)) {
      if (key.startsWith("schedule.")) schedule.params[key.slice(9)] = value; else params[key] = value;
    }
    return { ...racer, params, schedule };
  });
  commit({ ...shown, racers }, "push", { replay: true });
}
$("map-panel").addEventListener("toggle", () => { if ($("map-panel").open) openMap(); else redrawSweep(); });

let tunedKey = "";
$("tune").addEventListener("click", async () => {
  const button = $("tune");
  button.disabled = true;
  button.textContent = "Tuning…";
  try {
    const { tuneScene, showTune } = await import("./map-panel.js");
    const result = await tuneScene(shown);
    const tuned = codec.fill(result.scene);
    tunedKey = raceKey(tuned);
    showTune($("tune-card"), result);
    commit(tuned, "push", { replay: true });
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
    button.textContent = "Tune lrs";
  }
});

// --- keyboard ---
const help = $("help");
$("help-open").addEventListener("click", () => help.showModal());
for (const button of document.querySelectorAll("dialog .close")) button.addEventListener("click", () => button.closest("dialog").close());
// Space, → / ←, R, F and ? work wherever the focus is (a slider, a select, a button) except in a text field:
// the capture phase takes them before a focused control would (a slider's ←/→, a select's type-ahead R).
const TEXT_INPUTS = new Set(["text", "number", "search", "email", "url", "password", "tel"]);
function inTextField(target) {
  if (!(target instanceof Element)) return false;
  if (target.closest("textarea, [contenteditable]:not([contenteditable=false])")) return true;
  return target instanceof HTMLInputElement && TEXT_INPUTS.has(target.type);
}
document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (inTextField(target)) return;
  if (event.key === "?") {
    event.preventDefault();
    if (help.open) help.close(); else if (!document.querySelector("dialog[open]")) help.showModal();
    return;
  }
  if (document.querySelector("dialog[open]")) return;
  const onSlider = target instanceof HTMLInputElement && target.type === "range";
  const act = {
    " ": () => player.toggle(),
    ArrowRight: () => player.stepBy(event.shiftKey ? 10 : 1),
    ArrowLeft: () => player.stepBy(event.shiftKey ? -10 : -1),
    r: () => player.reset(),
    R: () => player.reset(),
    f: () => setPresent(!view.present),
    F: () => setPresent(!view.present),
    q: () => setQr(view.qr !== "1"),
    Q: () => setQr(view.qr !== "1"),
    // Home and End keep their meaning on a slider (its ends)
    Home: onSlider ? null : () => player.reset(),
    End: onSlider ? null : () => { player.pause(); player.seek(shown.steps); },
  }[event.key];
  if (!act) return;
  event.preventDefault();
  event.stopPropagation();
  act();
}, true);

// --- landscape picker (in the header, reachable on a phone): each racer takes the new landscape's suggested lr ---
const landscapeSelect = $("landscape");
landscapeSelect.append(...Object.values(codec.landscapes).map((l) => new Option(l.title, l.name)));
landscapeSelect.addEventListener("change", () => {
  const name = landscapeSelect.value;
  view.lrscale = 1; // the racers take the landscape's own lrs: the multiplier starts again from ×1
  const suggested = codec.landscapes[name].suggested_lr || {};
  commit({
    ...shown,
    landscape: { name, params: {} },
    start: undefined,
    racers: shown.racers.map((r) => ({ ...r, params: { ...r.params, lr: suggested[r.optimizer] ?? r.params.lr } })),
  }, "push");
});

// --- the global learning-rate multiplier, beside Play: every racer's lr × m, m from 1/10 to 10 (log) ---
const LR_SCALES = (() => {
  const out = [];
  for (const decade of [0.1, 1]) for (let k = 10; k < 100; k++) out.push(Number((k * decade / 10).toPrecision(2)));
  out.push(10);
  return out;
})();
const lrScale = document.createElement("input");
Object.assign(lrScale, { type: "range", min: "0", max: String(LR_SCALES.length - 1), step: "1", id: "lrscale", className: "lrscale" });
const lrScaleOut = document.createElement("output");
lrScaleOut.htmlFor = "lrscale";
lrScaleOut.className = "lrscale-value";
const lrScaleLabel = document.createElement("label");
lrScaleLabel.htmlFor = "lrscale";
lrScaleLabel.className = "lrscale-label";
lrScaleLabel.textContent = "lr ×";
lrScaleLabel.title = "Multiply every racer's learning rate (1/10 to 10, log scale)";
const lrScaleBox = document.createElement("span");
lrScaleBox.className = "lrscale-box";
lrScaleBox.append(lrScaleLabel, lrScale, lrScaleOut);
player.transport?.querySelector(".play")?.after(lrScaleBox);
let lrBases = null; // the racers' lrs at ×1, taken when a move of the multiplier begins
function showLrScale() {
  const index = LR_SCALES.reduce((best, m, i) => (Math.abs(Math.log(m / view.lrscale)) < Math.abs(Math.log(LR_SCALES[best] / view.lrscale)) ? i : best), 0);
  if (document.activeElement !== lrScale || !lrBases) lrScale.value = String(index);
  lrScaleOut.textContent = `${formatScale(view.lrscale)}`;
  lrScale.setAttribute("aria-valuetext", `learning rates × ${formatScale(view.lrscale)}`);
}
const formatScale = (m) => (m < 1 ? `1/${+(1 / m).toPrecision(2)}` : String(m));
function moveLrScale(mode) {
  const m = LR_SCALES[Number(lrScale.value)];
  if (!lrBases) lrBases = shown.racers.map((r) => r.params.lr / view.lrscale);
  view.lrscale = m;
  const next = { ...shown, racers: shown.racers.map((r, i) => ({ ...r, params: { ...r.params, lr: Number((lrBases[i] * m).toPrecision(3)) } })) };
  if (mode === "commit") lrBases = null;
  commit(next, mode);
}
lrScale.addEventListener("input", () => { armGhost("drag"); moveLrScale("drag"); });
lrScale.addEventListener("change", () => { armGhost("commit"); moveLrScale("commit"); });

// --- presenter mode (F, ?present=1): full screen where allowed, the map as large as the screen, thick
// paths and large type, no autoplay ---
const presentButton = $("present");
function setPresent(on, { fullscreen = true } = {}) {
  view.present = on;
  document.body.classList.toggle("present", on);
  document.documentElement.classList.toggle("present", on);
  presentButton.setAttribute("aria-pressed", String(on));
  presentButton.textContent = on ? "Leave presenter" : "Present";
  if (fullscreen && document.fullscreenEnabled) {
    if (on && !document.fullscreenElement) document.documentElement.requestFullscreen?.().catch(() => {});
    if (!on && document.fullscreenElement) document.exitFullscreen?.().catch(() => {});
  }
  if (shown) putUrl(codec.toQuery(shown), false);
  fitPresenter();
  requestAnimationFrame(() => redrawAll());
}
presentButton.addEventListener("click", () => setPresent(!view.present));
/** Presenter mode: the map's height, the screen's less the bar and the transport. */
function presentMapHeight() {
  const box = $("player");
  const below = (player?.transport?.offsetHeight || 48) + (parseFloat(getComputedStyle(box.firstElementChild ?? box).rowGap) || 0)
    + parseFloat(getComputedStyle(box).paddingBottom) + 2;
  return Math.max(160, Math.floor(innerHeight - box.getBoundingClientRect().top - parseFloat(getComputedStyle(box).paddingTop) - below));
}
/** Presenter mode: the map's column as wide as the map at that height, so the results take the rest. The
 * transport under the map wraps by the column's width, and its height sets the map's: a few rounds settle it. */
function fitPresenter() {
  const domain = shown && codec.meta(shown)?.domain;
  if (!view.present || !domain) { document.body.style.removeProperty("--present-map"); return; }
  const aspect = (domain.x[1] - domain.x[0]) / (domain.y[1] - domain.y[0]);
  const box = getComputedStyle($("player"));
  for (let round = 0; round < 3; round++) {
    const height = presentMapHeight();
    const margin = marginFor(readTheme($("player")).scaledFont(height * aspect));
    const width = (height - margin.top - margin.bottom) * aspect + margin.left + margin.right;
    const column = `${Math.ceil(width + parseFloat(box.paddingLeft) + parseFloat(box.paddingRight))}px`;
    if (document.body.style.getPropertyValue("--present-map") === column) break;
    document.body.style.setProperty("--present-map", column);
  }
}
addEventListener("resize", fitPresenter);

// --- export menu and embed dialog: loaded when first opened ---
async function openSlides(kind) {
  const { openExportDialog, openEmbedDialog } = await import("./slides.js");
  const context = { dialog: $(`${kind}-dialog`), sceneQuery: () => codec.toQuery(shown), scene: () => shown, origin: location.origin, copyText,
    step: () => player.step, vectors: () => view.vectors };
  if (kind === "export") openExportDialog(context); else openEmbedDialog(context);
}
$("export").addEventListener("click", () => openSlides("export"));

// --- boot ---
// No query: the first demo; ?preset=<id>: that demo. Either way the address is written out.
const asked = new URLSearchParams(location.search).get("preset");
const askedPreset = asked == null ? null : caption.byId(asked);
if (asked != null && !askedPreset) console.warn(`optirace: unknown preset ${JSON.stringify(asked)}; expected one of: ${data.presets.map((p) => p.id).join(", ")}`);
function presetQuery(preset) {
  // the demo's scene, its keys replaced by the address's own scene keys (racer= keys replace all its racers),
  // as the server expands ?preset= (core.presets.expand_preset)
  const own = currentQuery().split("&").filter((part) => part && part.split("=")[0] !== "preset");
  const keys = new Set(own.map((part) => decodeURIComponent(part.split("=")[0])));
  return [...preset.query.split("&").filter((part) => !keys.has(part.split("=")[0])), ...own].join("&");
}
function parsed(query) {
  const { scene, warnings } = codec.parse(query);
  for (const warning of warnings) console.warn(`optirace: ${warning}`);
  return scene;
}
const first = askedPreset ? parsed(presetQuery(askedPreset)) : currentQuery() && asked == null ? sceneFromUrl() : parsed(data.presets[0].query);
const firstQuery = codec.toQuery(first);
history.replaceState({ preset: askedPreset?.id ?? history.state?.preset ?? caption.presetOf(firstQuery)?.id ?? null }, "", address(firstQuery));
applyTheme(themeMode);
if (view.present) setPresent(true, { fullscreen: false });
render(first, firstQuery, { replay: true });
if (view.qr === "1") setQr(true);
setTimeout(boot, 600);
hovered(null);
