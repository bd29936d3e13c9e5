// The 3D view (view=3d; loaded when first opened, with three.js from static/vendor/): the landscape as a
// surface over the map's domain, in the map's colours, its height the map's value scale (the log of the
// gap above the grid minimum where the map is log, plot.js: valueScale), every racer's path on it and a
// ball at the player's step. It lies over the 2D map, the same size, and follows the player (setStep);
// orbit with the mouse or a finger (OrbitControls: drag to turn, wheel or pinch to zoom, right-drag or
// two fingers to pan); "Reset view" goes back to the first camera. Drawn on demand, not in a loop.
//
//   const view = createView3d(plot, { landscape, contours, theme }); view.setRace(race); view.setStep(k);

import * as THREE from "./vendor/three-0.170.0/three.module.min.js";
import { OrbitControls } from "./vendor/three-0.170.0/OrbitControls.js";
import { colormap, valueScale } from "./plot.js";

const HEIGHT = 0.9; // the surface's height, the domain's longer side being 2
const LIFT = 0.012;
const MAX_GRID = 96; // grid points per side at most: the shape reads the same, software GL draws it in time

/** The grid's every s-th point per side (its first and last kept), so that at most `most` remain per side. */
function coarse(grid, most) {
  const { nx, ny, z } = grid;
  const s = Math.max(1, Math.ceil((Math.max(nx, ny) - 1) / (most - 1)));
  if (s === 1) return grid;
  const pick = (n) => Array.from({ length: Math.ceil((n - 1) / s) + 1 }, (_, k) => Math.min(n - 1, k * s));
  const xs = pick(nx);
  const ys = pick(ny);
  const out = new Float64Array(xs.length * ys.length);
  ys.forEach((j, b) => xs.forEach((i, a) => { out[b * xs.length + a] = z[j * nx + i]; }));
  return { nx: xs.length, ny: ys.length, z: out, xs, ys, fullNx: nx, fullNy: ny };
} // paths float this much above the surface, so that it does not hide them

/** Every value of the grid and of the paths goes through one map: world (x, y, f) → three's (X, Y up, Z). */
function makeMapper(domain, contours) {
  const [x0, x1] = domain.x;
  const [y0, y1] = domain.y;
  const span = Math.max(x1 - x0, y1 - y0);
  const scale = valueScale(contours);
  return {
    X: (x) => ((x - (x0 + x1) / 2) / span) * 2,
    Z: (y) => -((y - (y0 + y1) / 2) / span) * 2,
    Y: (f) => Math.min(1.15, Math.max(-0.05, scale(f))) * HEIGHT,
    t: scale,
  };
}

export function createView3d(host, { landscape, contours, theme, onReset } = {}) {
  const root = document.createElement("div");
  root.className = "view3d";
  const canvas = document.createElement("canvas");
  canvas.className = "view3d-canvas";
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", `The ${landscape.title} landscape in 3D, with every racer's path; drag to turn it`);
  const reset = document.createElement("button");
  reset.type = "button";
  reset.className = "view3d-reset";
  reset.textContent = "Reset view";
  root.append(canvas, reset);
  host.append(root);
  // the map underneath must not take a drag here for a click (a new start) or a tap (the embed's play)
  for (const type of ["pointerdown", "pointermove", "pointerup", "click"]) root.addEventListener(type, (event) => event.stopPropagation());

  // no multisampling and at most 1.5 device pixels per CSS pixel: software GL (a projector's laptop without a
  // GPU, headless Chromium) pays per pixel; preserveDrawingBuffer lets an export or a test read the canvas
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: false, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(1.5, window.devicePixelRatio || 1));
  const scene = new THREE.Scene();
  const camera = new THREE.PerspectiveCamera(40, 1, 0.01, 50);
  camera.position.set(1.9, 2.0, 2.6);
  scene.add(new THREE.AmbientLight(0xffffff, 1.6));
  const sun = new THREE.DirectionalLight(0xffffff, 1.6);
  sun.position.set(1, 3, 2);
  scene.add(sun);
  const controls = new OrbitControls(camera, canvas);
  controls.target.set(0, HEIGHT * 0.3, 0);
  controls.enableDamping = false;
  controls.update();
  controls.saveState();
  controls.addEventListener("change", () => { render(); });
  reset.addEventListener("click", () => { controls.reset(); render(); onReset?.(); });

  let map = null;
  let surface = null;
  let race = null;
  let tracks = []; // per racer: { line, ball, length }
  let step = 0;
  let frame = 0;

  function setLandscape(nextLandscape, nextContours) {
    landscape = nextLandscape;
    contours = nextContours;
    map = makeMapper(landscape.domain, contours);
    if (surface) { scene.remove(surface); surface.geometry.dispose(); }
    const grid = coarse(contours.grid, MAX_GRID);
    const { nx, ny, z } = grid;
    const [x0, x1] = landscape.domain.x;
    const [y0, y1] = landscape.domain.y;
    const positions = new Float32Array(nx * ny * 3);
    const colors = new Float32Array(nx * ny * 3);
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const n = j * nx + i;
        const f = z[n];
        const u = grid.xs ? grid.xs[i] / (grid.fullNx - 1) : i / (nx - 1);
        const w = grid.ys ? grid.ys[j] / (grid.fullNy - 1) : j / (ny - 1);
        positions.set([map.X(x0 + (x1 - x0) * u), map.Y(f), map.Z(y0 + (y1 - y0) * w)], 3 * n);
        const [r, g, b] = colormap(map.t(f));
        colors.set([r / 255, g / 255, b / 255], 3 * n);
      }
    }
    const index = [];
    for (let j = 0; j < ny - 1; j++) {
      for (let i = 0; i < nx - 1; i++) {
        const a = j * nx + i;
        index.push(a, a + 1, a + nx, a + 1, a + nx + 1, a + nx);
      }
    }
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute("position", new THREE.BufferAttribute(positions, 3));
    geometry.setAttribute("color", new THREE.BufferAttribute(colors, 3));
    geometry.setIndex(index);
    geometry.computeVertexNormals();
    surface = new THREE.Mesh(geometry, new THREE.MeshLambertMaterial({ vertexColors: true, side: THREE.DoubleSide }));
    scene.add(surface);
    if (race) setRace(race);
  }

  function clearTracks() {
    for (const t of tracks) {
      scene.remove(t.line, t.ball);
      t.line.geometry.dispose();
      t.line.material.dispose();
      t.ball.material.dispose();
    }
    tracks = [];
  }

  const ballGeometry = new THREE.SphereGeometry(1, 20, 14);
  function setRace(next) {
    race = next;
    clearTracks();
    if (!race || !map) { render(); return; }
    tracks = race.racers.map((racer) => {
      const n = racer.length;
      const positions = new Float32Array(Math.max(1, n) * 3);
      for (let k = 0; k < n; k++) {
        positions[3 * k] = map.X(racer.path[2 * k]);
        positions[3 * k + 1] = map.Y(racer.loss[k]) + LIFT;
        positions[3 * k + 2] = map.Z(racer.path[2 * k + 1]);
      }
      const geometry = new THREE.BufferGeometry();
      geometry.setAttribute("position", new THREE.BufferAttribute(positions, 3));
      const color = new THREE.Color(theme.ink(racer.color));
      const line = new THREE.Line(geometry, new THREE.LineBasicMaterial({ color }));
      const ball = new THREE.Mesh(ballGeometry, new THREE.MeshLambertMaterial({ color, emissive: color, emissiveIntensity: 0.35 }));
      ball.scale.setScalar(0.035);
      scene.add(line, ball);
      return { line, ball, positions, length: n };
    });
    setStep(step);
  }

  function setStep(k) {
    step = k;
    for (const t of tracks) {
      const i = Math.max(0, Math.min(k, t.length - 1));
      t.line.geometry.setDrawRange(0, t.length ? i + 1 : 0);
      t.ball.visible = t.length > 0;
      if (t.length) t.ball.position.set(t.positions[3 * i], t.positions[3 * i + 1] + 0.02, t.positions[3 * i + 2]);
    }
    render();
  }

  function resize() {
    const width = Math.max(1, Math.floor(host.clientWidth));
    const height = Math.max(1, Math.floor(host.clientHeight));
    renderer.setSize(width, height, false);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    camera.aspect = width / height;
    camera.updateProjectionMatrix();
    render();
  }
  const observer = new ResizeObserver(() => resize());
  observer.observe(host);

  function setTheme(next) {
    theme = next;
    scene.background = new THREE.Color(`rgb(${theme.paper.join(",")})`);
    if (race) setRace(race); else render();
  }

  /** One frame, in the next animation frame (several changes in one frame draw once). */
  function render() {
    if (!frame) frame = requestAnimationFrame(draw);
  }
  function draw() {
    frame = 0;
    renderer.render(scene, camera);
    root.dataset.step = String(step);
    root.dataset.camera = camera.position.toArray().map((v) => v.toFixed(3)).join(",");
  }

  scene.background = new THREE.Color(`rgb(${theme.paper.join(",")})`);
  setLandscape(landscape, contours);
  resize();

  return {
    element: root,
    canvas,
    setLandscape,
    setRace,
    setStep,
    setTheme,
    resetView: () => { controls.reset(); render(); },
    remove() {
      cancelAnimationFrame(frame);
      observer.disconnect();
      controls.dispose();
      clearTracks();
      surface?.geometry.dispose();
      renderer.dispose();
      root.remove();
    },
  };
}
