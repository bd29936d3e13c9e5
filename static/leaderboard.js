// The leaderboard: who stands where at the step on screen. While the race plays it is live (who has
// arrived so far, the current gaps); at the last step it is "finished", ranked by the final gap f − f*.
// A racer that reached a minimum and left it again says so (✓ then left, with the steps); a racer
// that diverged says where (✕ at step n) and ranks last. Equal gaps (as shown, 3 significant digits)
// share a rank ("=2").
//
// standings() is pure (no DOM): the ranking, tested in the browser on its own.

import { markerCanvas } from "./animate.js";
import { formatGap } from "./charts.js";
import { readTheme } from "./plot.js";

/**
 * Whether racer `racer` of `race` meets the race's arrival test at step k: loss within `tolerance` of a
 * minimum's value while the point is within `radius` of it (as core.race's Tracker judges it).
 */
export function atMinimum(race, racer, k, { tolerance, radius }) {
  const x = racer.path[2 * k];
  const y = racer.path[2 * k + 1];
  const loss = racer.loss[k];
  return race.minima.some((m) => Math.hypot(x - m.point[0], y - m.point[1]) <= radius && loss - m.value <= tolerance);
}

/**
 * The standings at step k: { finished, step, rows } with one row per racer, best first:
 *   { index, state: "arrived" | "left" | "diverged" | "running", arrivedAt, leftAt, divergedAt, gap, rank, tied }
 * `arrivedAt` is the first arrival; `leftAt` the step at which the racer last left a minimum (state
 * "left": arrived before k and not at a minimum at k). Rank by the gap at step k (the final gap once
 * finished), diverged racers last (the later divergence first); rank numbers skip after a tie.
 * `judge` = { tolerance, radius } of the landscape.
 */
export function standings(race, k, judge) {
  const step = Math.max(0, Math.min(k, race.steps));
  const finished = race.complete && step >= race.steps;
  const rows = race.racers.map((racer, index) => {
    const diverged = racer.divergedAt != null && step >= racer.divergedAt;
    const known = Math.min(step, racer.length - 1); // the racer's last point at or before k
    const arrivedAt = racer.arrivedAt != null && step >= racer.arrivedAt ? racer.arrivedAt : null;
    let state = "running";
    let leftAt = null;
    if (diverged) state = "diverged";
    else if (arrivedAt != null) {
      if (known >= 0 && atMinimum(race, racer, known, judge)) state = "arrived";
      else {
        state = "left";
        leftAt = known;
        while (leftAt > arrivedAt && !atMinimum(race, racer, leftAt - 1, judge)) leftAt -= 1;
      }
    }
    const gap = diverged || known < 0 ? null : racer.loss[known] - race.minValue;
    return { index, state, arrivedAt, leftAt, divergedAt: diverged ? racer.divergedAt : null, gap };
  });
  const order = (a, b) => {
    const da = a.state === "diverged";
    const db = b.state === "diverged";
    if (da !== db) return da ? 1 : -1;
    if (da) return b.divergedAt - a.divergedAt || a.index - b.index;
    return (a.gap ?? Infinity) - (b.gap ?? Infinity) || a.index - b.index;
  };
  rows.sort(order);
  const key = (row) => (row.state === "diverged" ? `✕${row.divergedAt}` : formatGap(row.gap));
  rows.forEach((row, i) => {
    const previous = rows[i - 1];
    row.tied = Boolean((previous && key(previous) === key(row)) || (rows[i + 1] && key(rows[i + 1]) === key(row)));
    row.rank = previous && key(previous) === key(row) ? previous.rank : i + 1;
  });
  return { finished, step, rows };
}

/** Status words for a row: [short text, what a screen reader says]. */
export function statusText(row, finished) {
  switch (row.state) {
    case "arrived": return [`✓ step ${row.arrivedAt}`, `arrived at step ${row.arrivedAt}`];
    case "left": return [`✓ ${row.arrivedAt}, left ${row.leftAt}`, `arrived at step ${row.arrivedAt}, left the minimum at step ${row.leftAt}`];
    case "diverged": return [`✕ step ${row.divergedAt}`, `diverged at step ${row.divergedAt}`];
    default: return finished ? ["not arrived", "did not arrive"] : ["on the way", "still on the way"];
  }
}

/** The leaderboard table (tbody) and its state line (`state`), for the page. */
export function createLeaderboard(tbody, state, judgeOf) {
  let race = null;
  let rows = [];
  let order = "";
  let judge = null;
  function setRace(next) {
    race = next;
    judge = judgeOf(race);
    tbody.replaceChildren();
    const theme = readTheme(tbody);
    rows = race.racers.map((racer) => {
      const rank = document.createElement("td");
      rank.className = "rank";
      const name = document.createElement("th");
      name.scope = "row";
      const who = document.createElement("span");
      who.className = "who";
      who.append(markerCanvas(racer.shape, theme.ink(racer.color)), document.createTextNode(racer.label));
      name.append(who);
      const status = document.createElement("td");
      status.className = "status";
      const gap = document.createElement("td");
      gap.className = "num";
      const tr = document.createElement("tr");
      tr.append(rank, name, status, gap);
      return { tr, rank, status, gap, text: "", gapText: "", rankText: "" };
    });
    order = "";
    setStep(0);
  }
  function setStep(k) {
    if (!race) return;
    const now = standings(race, k, judge);
    for (const row of now.rows) {
      const cells = rows[row.index];
      const [text, words] = statusText(row, now.finished);
      if (cells.text !== text) {
        cells.status.textContent = text;
        cells.status.title = words;
        cells.status.setAttribute("aria-label", words);
        cells.text = text;
      }
      cells.tr.dataset.status = row.state;
      const rankText = `${row.tied ? "=" : ""}${row.rank}`;
      if (cells.rankText !== rankText) { cells.rank.textContent = rankText; cells.rankText = rankText; }
      const gapText = formatGap(row.gap);
      if (cells.gapText !== gapText) { cells.gap.textContent = gapText; cells.gapText = gapText; }
    }
    const next = now.rows.map((row) => row.index).join(",");
    if (next !== order) { order = next; tbody.replaceChildren(...now.rows.map((row) => rows[row.index].tr)); }
    const line = now.finished
      ? "Finished: ranked by the final gap f − f*"
      : race.complete || now.step < race.received - 1
        ? `Live at step ${now.step} of ${race.steps}: ranked by the gap now`
        : `Computing… step ${now.step} of ${race.steps}`;
    if (state.textContent !== line) state.textContent = line;
    state.dataset.finished = String(now.finished);
  }
  return { setRace, setStep };
}
