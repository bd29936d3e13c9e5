// /embed?<scene>&vectors=1: the vectors at the current step, their legend under the racers' (templates/embed.html
// loads this module only then; embed.js leaves its player, scene and legend on the stage as `embed`).

import { createVectors } from "./vectors.js";

const embed = document.getElementById("stage")?.embed;
if (embed) {
  const vectors = createVectors(embed.player, embed.legend, embed.scene, {
    onError: (error) => console.warn(`optirace embed: the vectors did not load (${error.message})`),
  });
  embed.onRace((race) => vectors.setRace(race));
  vectors.setRace(embed.player.race);
  embed.relayout();
}
