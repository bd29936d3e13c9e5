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
const LIFT = 0.012; // paths float this much above the surface, so that it does not hide them
const MAX_GRID = 96; // grid points per side at most: the shape reads the same, software GL draws it in time

/** Three equally spaced values whose middle one is the least: where the parabola through them is least
 * (an offset in [−0.5, 0.5] from the middle) and its value there. */
function vertex(a, b, c) {
  const curve = a - 2 * b + c;
  if (!(curve > 0)) return [0, b];
  const d = (0.5 * (a - c)) / curve;
  return [d, b - 0.25 * (a - c) * d];
}

/**
 * The surface's mesh from the contour grid (nx × ny values over `domain`, row j at y_j): its every s-th
 * point per side (the first and last kept), so that at most `most` remain per side; world positions and
 * values per vertex, and the triangles.
 *
 * A narrow valley (Rosenbrock's, a few grid cells wide) falls between the points of any regular mesh: its
 * floor would read as a row of teeth, each vertex near it dipping and the triangles between bridging over
 * it. So the mesh follows the data: every local minimum of a full-resolution grid column (row) under a mesh
 * column (row), its place and value refined by the parabola through its neighbours, moves the mesh's
 * nearest vertex of that column (row) onto it (less than half a cell; the lower one where two claim a
 * vertex); and a cell whose two diagonal corners both lie below the other two is split along that
 * diagonal, so the triangles run along the floor instead of across it.
 */
export function surfaceMesh(grid, domain, most) {
  const { nx: NX, ny: NY, z } = grid;
  const s = Math.max(1, Math.ceil((Math.max(NX, NY) - 1) / (most - 1)));
  const pick = (n) => Array.from({ length: Math.ceil((n - 1) / s) + 1 }, (_, k) => Math.min(n - 1, k * s));
  const cols = pick(NX);
  const rows = pick(NY);
  const nx = cols.length;
  const ny = rows.length;
  const [x0, x1] = domain.x;
  const [y0, y1] = domain.y;
  const xAt = (i) => x0 + ((x1 - x0) * i) / (NX - 1); // i may be fractional
  const yAt = (j) => y0 + ((y1 - y0) * j) / (NY - 1);
  const x = new Float64Array(nx * ny);
  const y = new Float64Array(nx * ny);
  const f = new Float64Array(nx * ny);
  rows.forEach((j, b) => cols.forEach((i, a) => {
    const n = b * nx + a;
    x[n] = xAt(i);
    y[n] = yAt(j);
    f[n] = z[j * NX + i];
  }));
  /** The index (into `kept`, the mesh's full-grid indices) nearest to the full-grid index `at`. */
  const nearest = (kept, at) => {
    const k = Math.min(kept.length - 1, Math.round(at / s));
    return k + 1 < kept.length && Math.abs(kept[k + 1] - at) < Math.abs(kept[k] - at) ? k + 1 : k;
  };
  const moved = new Uint8Array(nx * ny);
  const claim = (n, px, py, value) => {
    if (moved[n] && f[n] <= value) return;
    moved[n] = 1;
    x[n] = px;
    y[n] = py;
    f[n] = value;
  };
  cols.forEach((i, a) => { // minima along each mesh column, at full resolution
    for (let j = 1; j < NY - 1; j++) {
      const here = z[j * NX + i];
      const below = z[(j - 1) * NX + i];
      const above = z[(j + 1) * NX + i];
      if (!(here < below && here <= above)) continue;
      const [d, value] = vertex(below, here, above);
      claim(nearest(rows, j + d) * nx + a, xAt(i), yAt(j + d), value);
    }
  });
  rows.forEach((j, b) => { // and along each mesh row
    const row = j * NX;
    for (let i = 1; i < NX - 1; i++) {
      const here = z[row + i];
      if (!(here < z[row + i - 1] && here <= z[row + i + 1])) continue;
      const [d, value] = vertex(z[row + i - 1], here, z[row + i + 1]);
      claim(b * nx + nearest(cols, i + d), xAt(i + d), yAt(j), value);
    }
  });
  const index = new Uint32Array((nx - 1) * (ny - 1) * 6);
  let k = 0;
  for (let b = 0; b < ny - 1; b++) {
    for (let a = 0; a < nx - 1; a++) {
      const p = b * nx + a; // corners p, q = p + 1 (x on), r = p + nx (y on), u = r + 1
      const q = p + 1;
      const r = p + nx;
      const u = r + 1;
      if (Math.max(f[p], f[u]) < Math.min(f[q], f[r])) index.set([p, q, u, p, u, r], k); // along p–u
      else index.set([p, q, r, q, u, r], k); // along q–r
      k += 6;
    }
  }
  return { nx, ny, x, y, f, index };
}

/** Every value of the grid and of the paths goes through one map: world (x, y, f) → three's (X, Y up, Z). */
function makeMapper(domain, contours) {
  const [x0, x1] = domain.x;
  const [y0, y1] = domain.y;
  const span = Math.max(x1 - x0, y1 - y0);
  const scale = valueScale(contours);
  const X = (x) => ((x - (x0 + x1) / 2) / span) * 2;
  const Z = (y) => -((y - (y0 + y1) / 2) / span) * 2;
  // the domain's walls: a path that leaves the domain (a racer on its way to diverging) is cut at them, as the
  // map cuts it at its edges, instead of flying off across the room (a plane keeps what lies on its normal's side)
  const walls = [[1, 0, -X(x0)], [-1, 0, X(x1)], [0, 1, -Z(y1)], [0, -1, Z(y0)]];
  return {
    X,
    Z,
    Y: (f) => Math.min(1.15, Math.max(-0.05, scale(f))) * HEIGHT,
    t: scale,
    clip: walls.map(([a, b, c]) => new THREE.Plane(new THREE.Vector3(a, 0, b), c)),
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
  renderer.localClippingEnabled = true; // the paths' materials cut at the domain's walls (makeMapper: clip)
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
    const mesh = surfaceMesh(contours.grid, contours.domain, MAX_GRID);
    const count = mesh.nx * mesh.ny;
    const positions = new Float32Array(count * 3);
    const colors = new Float32Array(count * 3);
    for (let n = 0; n < count; n++) {
      positions.set([map.X(mesh.x[n]), map.Y(mesh.f[n]), map.Z(mesh.y[n])], 3 * n);
      const [r, g, b] = colormap(map.t(mesh.f[n]));
      colors.set([r / 255, g / 255, b / 255], 3 * n);
    }
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute("position", new THREE.BufferAttribute(positions, 3));
    geometry.setAttribute("color", new THREE.BufferAttribute(colors, 3));
    geometry.setIndex(new THREE.BufferAttribute(mesh.index, 1));
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
      const clippingPlanes = map.clip;
      const line = new THREE.Line(geometry, new THREE.LineBasicMaterial({ color, clippingPlanes }));
      const ball = new THREE.Mesh(ballGeometry, new THREE.MeshLambertMaterial({ color, emissive: color, emissiveIntensity: 0.35, clippingPlanes }));
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

  const ray = new THREE.Raycaster();
  /** The drawn surface's height over the world point (x, y), in the value scale's units (plot.js: valueScale,
   * 0 at the grid's least value, 1 at its greatest), or null outside it. */
  function heightAt(x, y) {
    if (!surface) return null;
    ray.set(new THREE.Vector3(map.X(x), 10, map.Z(y)), new THREE.Vector3(0, -1, 0));
    const hit = ray.intersectObject(surface)[0];
    return hit ? hit.point.y / HEIGHT : null;
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

  const view = {
    element: root,
    canvas,
    setLandscape,
    setRace,
    setStep,
    setTheme,
    resetView: () => { controls.reset(); render(); },
    heightAt,
    /** A value's height in the value scale's units (where the surface and the paths put it). */
    scale: (f) => map.t(f),
    /** The box on the canvas (CSS pixels from its top left) that the domain's walls, from the lowest to the highest
     * height a path takes, project to: what a path is cut to. */
    wallsBox() {
      const { x: [x0, x1], y: [y0, y1] } = landscape.domain;
      const box = { left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity };
      for (const x of [x0, x1]) for (const y of [y0, y1]) for (const h of [-0.05, 1.15 + LIFT / HEIGHT]) {
        const p = new THREE.Vector3(map.X(x), h * HEIGHT, map.Z(y)).project(camera);
        const left = ((p.x + 1) / 2) * canvas.clientWidth;
        const top = ((1 - p.y) / 2) * canvas.clientHeight;
        Object.assign(box, { left: Math.min(box.left, left), right: Math.max(box.right, left) });
        Object.assign(box, { top: Math.min(box.top, top), bottom: Math.max(box.bottom, top) });
      }
      return box;
    },
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
  root.view = view; // for scripts and tests: document.querySelector(".view3d").view
  return view;
}
