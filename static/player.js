// The player: contour map + animated race + transport (Play/Pause, Step, Reset, speed, scrubber),
// reusable without the page's controls (the embed and the offline export build on it).
//
//   const player = createPlayer(element, { onStart(x, y, how) {}, onHover(x, y) {}, onStep(k) {} });
//   (how: "click" for a click or tap on the map, "drag" while the start marker moves, "drop" when it is let go)
//   player.setLandscape(meta); player.setContours(contours); player.setRace(race, { replay: true });
//
// Four stacked canvases: the map (redrawn on a new landscape, theme or size), the ghost of the previous
// run (setGhost), the race (every frame, then any painters: vectors) and an overlay (start point,
// hover cross-hair). Crisp at any devicePixelRatio.

import { autoPace, createClock, createPathRenderer, projectPaths } from "./animate.js";
import { drawMap, drawMinima, drawSaddles, heatmapCanvas, makeTransform, marginFor, plotHeightFor, readTheme } from "./plot.js";

// Speeds in steps per second; "auto" (0) paces the race by its length (animate.js: autoPace).
const RATES = [0, 5, 10, 20, 50, 100, 200, 500, 1000, 2000];

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

export function createPlayer(container, options = {}) {
  // speed: a factor on the auto pace (the embed's speed=…); the page's transport picks steps per second instead
  const opts = { transport: true, interactive: true, speed: 1, maxHeight: () => Infinity, ...options };
  // the ghost layer holds the previous run's paths, faint, under the race (setGhost)
  const layers = ["map", "ghost", "race", "overlay"].map((name) => el("canvas", { className: `layer layer-${name}` }));
  const status = el("div", { className: "plot-status", role: "status" });
  const plot = el("div", { className: "plot" }, [...layers, status]);
  // a finger drags the start marker (touch-action: none); elsewhere it scrolls
  const handle = el("i", { className: "handle" });
  plot.setAttribute("role", "img");
  const root = el("div", { className: "player" }, [plot]);
  container.append(root);
  const [mapCtx, ghostCtx, raceCtx, overlayCtx] = layers.map((c) => c.getContext("2d"));

  let theme = null;
  let meta = null; // landscape metadata: domain, minima, start
  let contours = null;
  let heat = null;
  let race = null;
  let start = null;
  let hover = null;
  let T = null;
  let size = { width: 0, height: 0, dpr: 1 };
  let rate = 0; // steps per second; 0: auto
  let drawPending = 0;
  let ghost = null; // the previous run (a Race), drawn faint until the next change
  const painters = []; // extra drawings on the race layer, each frame: fn(ctx, k, T, theme)
  const paths = createPathRenderer();
  const clock = createClock(onClockStep, onPlayState);

  // --- transport ---------------------------------------------------------------------------
  let transport = null;
  if (opts.transport) {
    const play = el("button", { type: "button", className: "play primary", textContent: "▶ Play" });
    play.setAttribute("aria-keyshortcuts", "Space");
    const step = el("button", { type: "button", textContent: "Step ›", title: "One step (→)" });
    step.setAttribute("aria-keyshortcuts", "ArrowRight");
    const reset = el("button", { type: "button", textContent: "↺ Reset", title: "Back to the start (R)" });
    reset.setAttribute("aria-keyshortcuts", "R");
    const speedSelect = el("select", { className: "speed", title: "Steps per second" },
      RATES.map((r) => el("option", { value: String(r), textContent: r ? `${r}/s` : "auto", selected: r === 0 })));
    const speedLabel = el("label", { className: "speed-label" }, ["Steps/s ", speedSelect]);
    const scrubber = el("input", { type: "range", className: "scrubber", min: "0", max: "1", step: "1", value: "0" });
    scrubber.setAttribute("aria-label", "Race step");
    const counter = el("output", { className: "counter", textContent: "0 / 0" });
    counter.setAttribute("aria-live", "off");
    play.addEventListener("click", () => api.toggle());
    step.addEventListener("click", () => api.stepBy(1));
    reset.addEventListener("click", () => api.reset());
    speedSelect.addEventListener("change", () => { rate = Number(speedSelect.value); retime(); });
    scrubber.addEventListener("input", () => { clock.pause(); clock.seek(Number(scrubber.value)); });
    transport = { play, step, reset, scrubber, counter, speedSelect };
    root.append(el("div", { className: "transport" }, [play, step, reset, speedLabel, scrubber, counter]));
  }

  // --- sizing ------------------------------------------------------------------------------
  function resize() {
    if (!meta) return;
    const width = Math.max(120, Math.floor(plot.clientWidth));
    const margin = marginFor(readTheme(container).scaledFont(width));
    const height = Math.max(120, Math.min(plotHeightFor(meta.domain, width, margin), Math.floor(opts.maxHeight())));
    const dpr = window.devicePixelRatio || 1;
    if (width === size.width && height === size.height && dpr === size.dpr) return;
    size = { width, height, dpr };
    plot.style.height = `${height}px`;
    for (const canvas of layers) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
    }
    for (const ctx of [mapCtx, ghostCtx, raceCtx, overlayCtx]) ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    T = makeTransform(meta.domain, width, height, margin);
    drawMapLayer();
    drawGhost();
    reproject();
    drawOverlay();
  }
  const observer = new ResizeObserver(() => resize());
  observer.observe(plot);
  const onWindowResize = () => resize();
  window.addEventListener("resize", onWindowResize);
  let dprQuery = null;
  function watchDpr() {
    dprQuery?.removeEventListener("change", onDpr);
    dprQuery = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    dprQuery.addEventListener("change", onDpr);
  }
  function onDpr() { watchDpr(); resize(); }
  watchDpr();

  // --- drawing -----------------------------------------------------------------------------
  function drawTheme() {
    const base = readTheme(container);
    const w = T ? T.width : 500;
    return {
      ...base,
      fontSize: base.scaledFont(size.width),
      ball: Math.max(5, Math.min(15, w / 85)),
      pathWidth: Math.max(1.6, Math.min(5, w / 280)) * (Number(base.pathScale) || 1),
      inkAlpha: 0.85,
    };
  }

  function drawMapLayer() {
    if (!T) return;
    theme = drawTheme();
    if (contours && !heat) heat = heatmapCanvas(contours, theme.paper, theme.heatMix);
    mapCtx.clearRect(0, 0, size.width, size.height);
    drawMap(mapCtx, T, contours, heat, theme);
    // a regularized surface has moved its saddles: none is marked then; a typed formula's come with its contours
    drawSaddles(mapCtx, T, race && (race.scene.l1 || race.scene.l2) ? [] : (contours?.saddles ?? meta.saddles), theme);
    drawMinima(mapCtx, T, race?.minima?.length ? race.minima : meta.minima, theme);
    plot.dataset.pathWidth = theme.pathWidth.toFixed(2);
  }

  function reproject() {
    if (!T || !race) return;
    paths.reset(projectPaths(race, T), size.width, size.height, size.dpr);
    drawRace();
  }

  /** The ghost: every racer's whole previous path, thin and faint, clipped to the frame. */
  function drawGhost() {
    if (!T) return;
    ghostCtx.clearRect(0, 0, size.width, size.height);
    plot.dataset.ghost = String(ghost ? ghost.racers.length : 0);
    if (!ghost) return;
    ghostCtx.save();
    ghostCtx.beginPath();
    ghostCtx.rect(T.left, T.top, T.width, T.height);
    ghostCtx.clip();
    ghostCtx.globalAlpha = 0.38;
    ghostCtx.lineJoin = "round";
    ghostCtx.setLineDash([theme.pathWidth * 2.5, theme.pathWidth * 2]);
    projectPaths(ghost, T).forEach((p, r) => {
      if (p.length < 2) return;
      ghostCtx.beginPath();
      ghostCtx.moveTo(p.xy[0], p.xy[1]);
      for (const i of p.kept) ghostCtx.lineTo(p.xy[2 * i], p.xy[2 * i + 1]);
      ghostCtx.lineTo(p.xy[2 * p.length - 2], p.xy[2 * p.length - 1]);
      ghostCtx.strokeStyle = theme.ink(ghost.racers[r].color);
      ghostCtx.lineWidth = Math.max(1.5, theme.pathWidth * 0.8);
      ghostCtx.stroke();
    });
    ghostCtx.restore();
  }

  function visibleStep() {
    if (!race) return 0;
    return Math.max(0, Math.min(clock.step, race.received - 1));
  }

  function drawRace() {
    if (!T) return;
    raceCtx.clearRect(0, 0, size.width, size.height);
    if (race && race.received > 0) paths.draw(raceCtx, race, visibleStep(), theme, T);
    for (const paint of painters) paint(raceCtx, visibleStep(), T, theme);
    updateTransport();
  }

  function requestDraw() {
    if (!drawPending) drawPending = requestAnimationFrame(() => { drawPending = 0; drawRace(); });
  }

  function drawOverlay() {
    if (!T) return;
    overlayCtx.clearRect(0, 0, size.width, size.height);
    if (start) {
      const x = T.px(start[0]);
      const y = T.py(start[1]);
      plot.dataset.startPx = `${x.toFixed(1)},${y.toFixed(1)}`;
      Object.assign(handle.style, { left: `${x}px`, top: `${y}px` });
      overlayCtx.lineWidth = 2;
      for (const [color, width] of [[theme.halo, 4.5], [theme.text, 2]]) {
        overlayCtx.strokeStyle = color;
        overlayCtx.lineWidth = width;
        overlayCtx.beginPath();
        overlayCtx.arc(x, y, theme.ball + 4, 0, 2 * Math.PI);
        for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
          overlayCtx.moveTo(x + dx * (theme.ball + 4), y + dy * (theme.ball + 4));
          overlayCtx.lineTo(x + dx * (theme.ball + 9), y + dy * (theme.ball + 9));
        }
        overlayCtx.stroke();
      }
    }
    if (hover) {
      overlayCtx.strokeStyle = theme.muted;
      overlayCtx.lineWidth = 1;
      overlayCtx.setLineDash([3, 4]);
      overlayCtx.beginPath();
      overlayCtx.moveTo(T.left, hover[1]);
      overlayCtx.lineTo(T.left + T.width, hover[1]);
      overlayCtx.moveTo(hover[0], T.top);
      overlayCtx.lineTo(hover[0], T.top + T.height);
      overlayCtx.stroke();
      overlayCtx.setLineDash([]);
    }
  }

  function updateTransport() {
    const k = visibleStep();
    root.dataset.step = String(k);
    if (!transport) return;
    const total = race ? race.steps : 0;
    transport.scrubber.max = String(total);
    transport.scrubber.value = String(k);
    transport.scrubber.setAttribute("aria-valuetext", `step ${k} of ${total}`);
    transport.counter.textContent = `${k} / ${total}`;
  }

  function onClockStep(k) {
    drawRace();
    opts.onStep?.(Math.max(0, Math.min(k, race ? race.received - 1 : 0)));
  }

  function onPlayState(playing) {
    root.dataset.playing = String(playing);
    if (transport) {
      transport.play.textContent = playing ? "❚❚ Pause" : "▶ Play";
      transport.play.setAttribute("aria-pressed", String(playing));
    }
    opts.onPlayState?.(playing);
  }

  /** Steps per second now: the chosen rate, or the auto pace of this race's length times the speed factor. */
  function pace() {
    return rate || autoPace(race ? race.steps : 100) * opts.speed;
  }
  function retime() {
    if (race) clock.setTotal(race.steps, pace());
    if (transport) transport.speedSelect.options[0].textContent = `auto (${Math.round(autoPace(race ? race.steps : 100) * opts.speed)}/s)`;
    root.dataset.rate = String(pace());
  }

  // --- pointer: hover read-out, click to move the start, drag the start marker ------------
  let press = null;
  function world(event) {
    const rect = plot.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    const [x0, x1] = meta.domain.x;
    const [y0, y1] = meta.domain.y;
    return {
      px, py, inside: T.inside(px, py),
      x: Math.min(x1, Math.max(x0, T.wx(px))),
      y: Math.min(y1, Math.max(y0, T.wy(py))),
    };
  }
  function show(w) {
    hover = w.inside ? [w.px, w.py] : null;
    drawOverlay();
    opts.onHover?.(w.inside ? w.x : null, w.inside ? w.y : null);
  }
  if (opts.interactive) {
    plot.append(handle);
    plot.addEventListener("pointermove", (event) => {
      if (!T || !meta) return;
      const w = world(event);
      if (press && (press.dragging || Math.hypot(w.px - press.px, w.py - press.py) > 4)) {
        if (press.onMarker) {
          press.dragging = true;
          start = [w.x, w.y];
          drawOverlay();
          opts.onStart?.(w.x, w.y, "drag");
        }
      }
      show(w);
    });
    plot.addEventListener("pointerleave", () => { hover = null; drawOverlay(); opts.onHover?.(null, null); });
    plot.addEventListener("pointerdown", (event) => {
      if (!T || !meta || event.button !== 0) return;
      const w = world(event);
      const onMarker = start && Math.hypot(w.px - T.px(start[0]), w.py - T.py(start[1])) <= 22; // the handle's 44 px
      press = { px: w.px, py: w.py, onMarker, dragging: false };
      if (onMarker) plot.setPointerCapture(event.pointerId);
      if (event.pointerType === "touch") show(w);
    });
    plot.addEventListener("pointerup", (event) => {
      if (!press || !T) return;
      const w = world(event);
      const moved = Math.hypot(w.px - press.px, w.py - press.py) > 4;
      if ((press.dragging || !moved) && (w.inside || press.dragging)) {
        start = [w.x, w.y];
        drawOverlay();
        opts.onStart?.(w.x, w.y, press.dragging ? "drop" : "click");
      }
      press = null;
    });
    plot.addEventListener("pointercancel", () => { press = null; });
  }

  // --- API ---------------------------------------------------------------------------------
  const api = {
    element: root,
    plot,
    /** A landscape's metadata (domain, minima, start) from the catalogue. */
    setLandscape(next) {
      if (meta && meta.name === next.name && meta.formula === next.formula && String(meta.domain.x) === String(next.domain.x)
        && String(meta.domain.y) === String(next.domain.y)) return;
      meta = next;
      plot.setAttribute("aria-label", `Contour map of the ${next.title} landscape, ${next.formula}`);
      contours = null;
      heat = null;
      size = { width: 0, height: 0, dpr: 0 };
      resize();
    },
    /** Contour data for the current landscape (GET /api/landscapes/{name}/contours). */
    setContours(next) {
      contours = next;
      heat = null;
      drawMapLayer();
      opts.onContours?.(meta, contours);
    },
    get landscape() { return meta; },
    get contours() { return contours; },
    setStart(point) {
      start = point;
      drawOverlay();
    },
    /** A new race (possibly still streaming). replay: play it from step 0; else keep the step. */
    setRace(next, { replay = false, autoplay = true } = {}) {
      const minimaChanged = JSON.stringify(next?.minima) !== JSON.stringify(race?.minima);
      race = next;
      root.dataset.steps = String(race.steps);
      opts.onRace?.(race);
      if (T) paths.reset(projectPaths(race, T), size.width, size.height, size.dpr);
      retime();
      if (minimaChanged) drawMapLayer();
      if (replay) {
        clock.pause();
        clock.seek(0);
        if (autoplay) clock.play();
      }
      drawRace();
      opts.onStep?.(visibleStep());
    },
    /** The current race received more steps or its summary. */
    raceUpdated() {
      if (!race || !T) return;
      const projection = projectPaths(race, T);
      paths.reset(projection, size.width, size.height, size.dpr);
      requestDraw();
      opts.onStep?.(visibleStep());
    },
    /** The previous run, drawn faint under the race until the next call (null: none). */
    setGhost(previous) {
      ghost = previous && previous.received > 1 ? previous : null;
      drawGhost();
    },
    get ghost() { return ghost; },
    /** Draw fn(ctx, k, T, theme) on the race layer after the race, every frame; returns a function that removes it. */
    addPainter(fn) {
      painters.push(fn);
      requestDraw();
      return () => { painters.splice(painters.indexOf(fn), 1); requestDraw(); };
    },
    /** Redraw the race layer in the next frame (a painter's data changed). */
    requestDraw,
    get transform() { return T; },
    get theme() { return theme; },
    setStatus(text, kind = "") {
      status.textContent = text;
      status.dataset.kind = kind;
      status.hidden = !text;
    },
    /** Theme changed: recolour everything. */
    redraw() {
      heat = null;
      drawMapLayer();
      drawGhost();
      reproject();
      drawOverlay();
    },
    resize,
    get race() { return race; },
    get step() { return visibleStep(); },
    get playing() { return clock.playing; },
    get transport() { return root.querySelector(".transport"); },
    play: () => clock.play(),
    pause: () => clock.pause(),
    toggle: () => clock.toggle(),
    stepBy(n) { clock.pause(); clock.seek(visibleStep() + n); },
    reset() { clock.pause(); clock.seek(0); },
    seek(k) { clock.seek(k); },
    destroy() {
      clock.pause();
      observer.disconnect();
      window.removeEventListener("resize", onWindowResize);
      dprQuery?.removeEventListener("change", onDpr);
      root.remove();
    },
  };
  api.setStatus("");
  return api;
}
