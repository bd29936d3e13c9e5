// The slide embed (/embed?<scene>&<options>) and the offline HTML export: the player alone, filling its
// frame, with a legend and minimal chrome (Play/Pause, Step, Reset, a link to the full page). The race,
// the contours and the landscape are inlined in the page (<script type="application/json" id="embed-data">),
// so the first frame needs no request. Keys: Space play/pause, → / ← step (Shift: ten), R or Home reset,
// End the last step; the frame keeps them (preventDefault + stopPropagation).
//
// Options (static/embed-snippet.js): autoplay, loop, controls, theme (light by default: a deck's look should
// not depend on the presenting laptop's setting; auto follows prefers-color-scheme), speed. A bad value
// falls back to its default with a console warning.

import { markerCanvas } from "./animate.js";
import { parseEmbedOptions } from "./embed-snippet.js";
import { createPlayer } from "./player.js";
import { raceFromResult } from "./race.js";

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
  const race = raceFromResult(data.race);
  const stage = $("stage");
  const bar = $("bar");
  bar.hidden = !options.controls;
  document.body.dataset.controls = options.controls ? "1" : "0";

  let userAction = 0; // bumped by every key or button: a pending loop restart is then dropped
  const player = createPlayer(stage, {
    transport: false,
    interactive: false,
    seconds: SECONDS / options.speed,
    maxHeight: () => stage.clientHeight,
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
    if (!playing && options.loop && player.step >= race.steps) {
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

  // --- the race ----------------------------------------------------------------------------------
  player.setLandscape(data.landscape);
  player.setContours(data.contours);
  legend(race);
  player.setRace(race, { replay: true, autoplay: options.autoplay && !reducedMotion });
  player.setStart(race.scene.start);
  showStep(player.step);
  showPlaying(player.playing);
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => { if (options.theme === "auto") player.redraw(); });

  requestAnimationFrame(() => {
    performance.mark("optirace:embed-drawn");
    document.body.dataset.ready = "1";
  });
  return player;
}

function legend(race) {
  const list = document.getElementById("legend");
  list.replaceChildren(...race.racers.map((racer) => {
    const item = document.createElement("li");
    item.append(markerCanvas(racer.shape, racer.color, 18), racer.label);
    return item;
  }));
}

const dataNode = document.getElementById("embed-data");
if (dataNode) boot(JSON.parse(dataNode.textContent));
