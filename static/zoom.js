// "Zoom to the end": the map fitted to the last part of the race, so the ending (settling, chattering
// around a minimum, a noise ball) shows. The player draws whatever domain its landscape says; this
// module hands it the close-up (the landscape's metadata with a window for a domain, and the contours
// of that window from the server) and gives the whole map back when the zoom is turned off.

import { fetchContours } from "./api.js";

export const END_SHARE = 0.25; // the last quarter of the steps
const PAD = 0.2; // room around the ending, as a share of its size
const MIN_SHARE = 0.01; // a close-up is at least 1 % of the domain across

/**
 * The window [xmin, xmax, ymin, ymax] around the last END_SHARE of every racer's path (a racer that
 * diverged is left out) and the minimum nearest each racer's last point, padded, with the domain's
 * aspect ratio, inside the domain.
 */
export function endWindow(race, domain) {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  const add = (x, y) => { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); };
  const first = Math.floor(race.steps * (1 - END_SHARE));
  for (const racer of race.racers) {
    if (racer.divergedAt != null || !racer.length) continue;
    for (let k = Math.min(first, racer.length - 1); k < racer.length; k++) add(racer.path[2 * k], racer.path[2 * k + 1]);
    const lx = racer.path[2 * (racer.length - 1)];
    const ly = racer.path[2 * (racer.length - 1) + 1];
    const nearest = race.minima.reduce((best, m) => (!best || Math.hypot(m.point[0] - lx, m.point[1] - ly) < Math.hypot(best.point[0] - lx, best.point[1] - ly) ? m : best), null);
    if (nearest) add(nearest.point[0], nearest.point[1]);
  }
  if (!Number.isFinite(x0)) for (const m of race.minima) add(m.point[0], m.point[1]);
  if (!Number.isFinite(x0)) return null;
  const [dx0, dx1] = domain.x;
  const [dy0, dy1] = domain.y;
  const aspect = (dx1 - dx0) / (dy1 - dy0);
  let w = Math.max((x1 - x0) * (1 + 2 * PAD), MIN_SHARE * (dx1 - dx0));
  let h = Math.max((y1 - y0) * (1 + 2 * PAD), MIN_SHARE * (dy1 - dy0));
  if (w / h > aspect) h = w / aspect; else w = h * aspect;
  w = Math.min(w, dx1 - dx0);
  h = Math.min(h, dy1 - dy0);
  const cx = Math.min(Math.max((x0 + x1) / 2, dx0 + w / 2), dx1 - w / 2);
  const cy = Math.min(Math.max((y0 + y1) / 2, dy0 + h / 2), dy1 - h / 2);
  return [cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2];
}

/**
 * The zoom between the page and the player. The page hands it what it would hand the player
 * (setLandscape, setContours with the scene query they belong to, setRace for a complete race);
 * `button` toggles it (aria-pressed).
 */
export function createZoom(player, button, contourOptions, { onError }) {
  let meta = null;
  let contours = null;
  let query = "";
  let race = null;
  let on = false;
  let token = 0;

  function showWhole() {
    if (!meta) return;
    player.setLandscape(meta);
    if (contours) player.setContours(contours);
  }

  async function showEnd() {
    if (!meta || !race) return;
    const window = endWindow(race, meta.domain);
    if (!window) return;
    const mine = ++token;
    const close = { ...meta, name: `${meta.name}@${window.join(",")}`, domain: { x: [window[0], window[1]], y: [window[2], window[3]] } };
    try {
      const data = await fetchContours(meta.name, query, contourOptions, window);
      if (mine !== token || !on) return;
      player.setLandscape(close);
      player.setContours(data);
      player.plot.dataset.zoom = window.map((v) => +v.toPrecision(6)).join(",");
    } catch (error) {
      if (mine === token) onError(error);
    }
  }

  function update() {
    button.setAttribute("aria-pressed", String(on));
    button.disabled = !race;
    if (on) showEnd();
    else { token += 1; delete player.plot.dataset.zoom; showWhole(); }
  }

  button.addEventListener("click", () => { on = !on; update(); });

  return {
    get on() { return on; },
    set(value) { if (on !== Boolean(value)) { on = Boolean(value); update(); } },
    setLandscape(next) {
      meta = next;
      race = null;
      contours = null;
      if (on) { token += 1; player.setLandscape(next); } else showWhole();
      button.disabled = true;
    },
    setContours(next, sceneQuery) {
      contours = next;
      query = sceneQuery;
      if (on && race) showEnd(); else player.setContours(next);
    },
    /** A race the page shows; the close-up follows it once it is complete. */
    setRace(next) {
      race = next?.complete ? next : null;
      button.disabled = !race;
      if (on && race) showEnd();
    },
  };
}
