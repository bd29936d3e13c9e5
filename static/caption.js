// The caption belongs to its demo. The demo's caption shows only while the scene on screen is exactly the
// demo's scene (its query written out in full); once any field differs, the caption says the scene was
// changed from that demo, names what changed, and offers the way back — it never repeats claims the race
// no longer shows. A scene reached without a demo gets its landscape's lesson.

const MAX_CHANGES = 3;

const fmt = (v) => (Array.isArray(v) ? `(${v.map(fmt).join(", ")})` : typeof v === "number" ? String(+v.toPrecision(6)).replace("-", "−") : String(v));

/** What differs between two filled scenes, in words ("SGD lr 0.05 → 0.1", "a racer added"), in scene order. */
export function sceneChanges(from, to, landscapes) {
  const out = [];
  const pair = (what, a, b) => { if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${what} ${fmt(a)} → ${fmt(b)}`); };
  if (from.landscape.name !== to.landscape.name) {
    out.push(`landscape ${landscapes[from.landscape.name]?.title ?? from.landscape.name} → ${landscapes[to.landscape.name]?.title ?? to.landscape.name}`);
  } else {
    for (const key of Object.keys({ ...from.landscape.params, ...to.landscape.params })) pair(key, from.landscape.params[key], to.landscape.params[key]);
  }
  pair("start", from.start, to.start);
  for (const key of ["steps", "noise", "seed", "l1", "l2"]) pair(key, from[key], to[key]);
  const n = Math.min(from.racers.length, to.racers.length);
  for (let i = 0; i < n; i++) {
    const a = from.racers[i];
    const b = to.racers[i];
    const who = a.label;
    if (a.optimizer !== b.optimizer) { out.push(`${who} → ${b.optimizer}`); continue; }
    for (const key of Object.keys({ ...a.params, ...b.params })) pair(`${who} ${key}`, a.params[key], b.params[key]);
    if (a.schedule.name !== b.schedule.name) out.push(`${who} schedule ${a.schedule.name} → ${b.schedule.name}`);
    else for (const key of Object.keys({ ...a.schedule.params, ...b.schedule.params })) pair(`${who} ${key}`, a.schedule.params[key], b.schedule.params[key]);
    if (a.label !== b.label) out.push(`label ${a.label} → ${b.label}`);
    if (a.color !== b.color) out.push(`${who} colour`);
  }
  if (to.racers.length > n) out.push(to.racers.length - n === 1 ? "a racer added" : `${to.racers.length - n} racers added`);
  if (from.racers.length > n) out.push(from.racers.length - n === 1 ? "a racer removed" : `${from.racers.length - n} racers removed`);
  return out;
}

/**
 * The caption line: `elements` = { root, title, text, back } (the back button restores the demo),
 * `presets` as the page data has them (id, title, caption, query written out in full).
 */
export function createCaption(elements, presets, codec, { onRestore }) {
  const byQuery = new Map(presets.map((p) => [p.query, p]));
  const byId = new Map(presets.map((p) => [p.id, p]));
  let from = null;
  elements.back.addEventListener("click", () => { if (from) onRestore(from); });

  return {
    /** The demo whose scene `query` is exactly, if any. */
    presetOf: (query) => byQuery.get(query) ?? null,
    byId: (id) => byId.get(id) ?? null,
    /** Show the caption for `scene` (query written out); `cameFrom`: the id of the demo this scene was reached from. */
    show(scene, query, cameFrom) {
      const own = byQuery.get(query);
      const origin = own ?? byId.get(cameFrom) ?? null;
      const meta = codec.landscapes[scene.landscape.name];
      from = own ? null : origin;
      const { root, title, text, back } = elements;
      if (own) {
        root.dataset.state = "preset";
        title.textContent = own.title;
        text.textContent = own.caption;
      } else if (origin) {
        root.dataset.state = "changed";
        const changes = sceneChanges(codec.parse(origin.query).scene, scene, codec.landscapes);
        const listed = changes.slice(0, MAX_CHANGES).join(", ") + (changes.length > MAX_CHANGES ? ", …" : "");
        title.textContent = `Changed from “${origin.title}”`;
        text.textContent = `${listed ? `(${listed}) ` : ""}Its caption no longer applies: watch what this race shows.`;
        back.textContent = `Back to “${origin.title}”`;
      } else {
        root.dataset.state = "landscape";
        title.textContent = meta.title;
        text.textContent = `${meta.lesson[0].toUpperCase()}${meta.lesson.slice(1)}.`;
      }
      back.hidden = !from;
      document.title = `${own ? own.title : origin ? `${origin.title} (changed)` : meta.title} · optirace`;
      return { preset: own ?? null, origin };
    },
  };
}
