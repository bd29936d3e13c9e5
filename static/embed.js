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
import { ApiError, streamRace } from "./api.js";
import { parseEmbedOptions } from "./embed-snippet.js";
import { createPlayer } from "./player.js";
import { makeTransform, marginFor, plotHeightFor, readTheme } from "./plot.js";
import { addChunk, createRace, finish, raceFromResult } from "./race.js";

const SECONDS = 6; // a race's length at 1× (the player's own default)
const LOOP_HOLD_MS = 1500; // the last frame is held this long before a loop starts again

function boot(data) {
  const { options, warnings } = parseEmbedOptions(location.search, data.defaults || {});
  for (const warning of warnings) console.warn(`optirace embed: ${warning}`);
  const root = document.documentElement;
  if (options.theme === "auto") delete root.dataset.theme;
  else root.dataset.theme = options.theme;
  const reducedMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;

  const $ = (id) => document.getElementById(id);
  const race = data.race ? raceFromResult(data.race) : createRace(data.header);
  const stage = $("stage");
  const legendList = $("legend");
  const bar = $("bar");
  bar.hidden = !options.controls;
  document.body.dataset.controls = options.controls ? "1" : "0";

  let userAction = 0; // bumped by every key or button: a pending loop restart is then dropped
  const player = createPlayer(stage, {
    transport: false,
    interactive: false,
    seconds: SECONDS / options.speed,
    maxHeight: () => mapHeight(),
    onStep: (k) => showStep(k),
    onPlayState: (playing) => showPlaying(playing),
  });

  // --- chrome ----------------------------------------------------------------------------------
  const play = $("play");
  const counter = $("counter");
  function showStep(k) {
    counter.textContent = `${k} / ${race.steps}`;
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
    if (mode === "side" && legendList.scrollHeight > legendList.clientHeight + 1) return -1; // too tall to stand beside
    const width = Math.max(120, Math.floor(player.plot.clientWidth));
    const margin = marginFor(readTheme(stage).scaledFont(width));
    const height = Math.max(120, Math.min(plotHeightFor(domain, width, margin), Math.floor(mapHeight())));
    return makeTransform(domain, width, height, margin).scale;
  }
  function placeLegend() {
    const side = scaleWith("side");
    const top = scaleWith("top");
    stage.dataset.legend = side >= top ? "side" : "top";
    player.resize();
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

  // --- the race ----------------------------------------------------------------------------------
  legend(race);
  placeLegend();
  player.setLandscape(data.landscape);
  player.setContours(data.contours);
  player.setRace(race, { replay: true, autoplay: options.autoplay && !reducedMotion });
  player.setStart(race.scene.start);
  showStep(player.step);
  showPlaying(player.playing);
  if (race.complete) document.body.dataset.complete = "1";
  else receive();
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (options.theme === "auto") { player.redraw(); legend(race); } // markers take the new theme's ink
  });

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

function legend(race) {
  const list = document.getElementById("legend");
  list.replaceChildren(...race.racers.map((racer) => {
    const item = document.createElement("li");
    item.append(markerCanvas(racer.shape, readTheme(list).ink(racer.color), 18), racer.label);
    return item;
  }));
}

const dataNode = document.getElementById("embed-data");
if (dataNode) boot(JSON.parse(dataNode.textContent));
