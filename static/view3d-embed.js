// /embed?<scene>&view=3d: the 3D view over the embed's map, following its player (templates/embed.html loads
// this module only then; embed.js leaves its player on the stage as `embed`).

import { createView3d } from "./view3d.js";

const embed = document.getElementById("stage")?.embed;
if (embed) {
  const { player } = embed;
  let view = null;
  const open = () => {
    if (view || !player.contours || !player.theme) return Boolean(view);
    view = createView3d(player.plot, { landscape: player.landscape, contours: player.contours, theme: player.theme });
    view.setRace(player.race);
    view.setStep(player.step);
    embed.onRace((race) => view.setRace(race));
    embed.onStep((k) => view.setStep(k));
    return true;
  };
  const wait = () => { if (!open()) setTimeout(wait, 50); };
  wait();
}
