// A race as the page holds it: typed arrays filled from POST /api/race or, chunk by chunk, from the
// NDJSON stream (header, chunks, summary), so drawing can start before the race is complete.

import { SHAPES } from "./animate.js";

/**
 * An empty race from a stream header (or a whole result's scene, minima and racers). `markers` maps an
 * optimizer to its marker shape (core.palette, served with the optimizer specs), the same everywhere.
 */
export function createRace(header, markers = {}) {
  const steps = header.scene.steps;
  const minima = header.minima || [];
  return {
    scene: header.scene,
    steps,
    minima,
    minValue: minima.length ? Math.min(...minima.map((m) => m.value)) : 0,
    complete: false,
    received: 0, // steps (points) received so far, the same for every racer
    racers: header.racers.map((meta, i) => ({
      label: meta.label,
      color: meta.color,
      optimizer: meta.optimizer,
      shape: markers[meta.optimizer] || SHAPES[i % SHAPES.length],
      path: new Float64Array(2 * (steps + 1)),
      loss: new Float64Array(steps + 1),
      lr: new Float64Array(steps),
      length: 0, // points of the path known (a diverged racer's path stops before the divergence)
      status: "running",
      arrivedAt: null,
      divergedAt: null,
      finalLoss: null,
    })),
  };
}

/** Add one stream chunk: steps first … first + n − 1 of every racer. */
export function addChunk(race, frame) {
  let received = race.received;
  frame.racers.forEach((part, i) => {
    const racer = race.racers[i];
    const base = frame.first;
    for (let j = 0; j < part.path.length; j++) {
      racer.path[2 * (base + j)] = part.path[j][0];
      racer.path[2 * (base + j) + 1] = part.path[j][1];
      racer.loss[base + j] = part.loss[j];
    }
    if (part.path.length) racer.length = base + part.path.length;
    racer.lr.set(part.lr.slice(0, Math.max(0, race.steps - base)), base);
    received = Math.max(received, base + part.path.length);
  });
  race.received = Math.min(race.steps + 1, received);
}

/** The summary: statuses, arrival and divergence steps, final losses. */
export function finish(race, summary) {
  summary.racers.forEach((s, i) => {
    const racer = race.racers[i];
    racer.status = s.status;
    racer.arrivedAt = s.arrived_at;
    racer.divergedAt = s.diverged_at;
    racer.finalLoss = s.final_loss;
  });
  race.received = race.steps + 1;
  race.complete = true;
}

/** A whole POST /api/race result as a complete race. */
export function raceFromResult(result, markers = {}) {
  const race = createRace(result, markers);
  addChunk(race, { first: 0, racers: result.racers });
  finish(race, { racers: result.racers });
  return race;
}

/** The loss gap above the lowest minimum of racer r at step k (or its last known step), or null. */
export function gapAt(race, r, k) {
  const racer = race.racers[r];
  if (!racer.length) return null;
  return racer.loss[Math.min(k, racer.length - 1)] - race.minValue;
}
