// /embed?<scene>&qr=1: the short link's QR code in the embed's corner (templates/embed.html loads this module
// only then). The scene is the embed's own, every value written out, from its inlined data.

import { showShareCorner } from "./share-corner.js";

const data = JSON.parse(document.getElementById("embed-data").textContent);
// top left: the legend stands top right, the controls and the "open in optirace" link along the bottom
showShareCorner(data.query, { parent: document.querySelector(".embed-main") || document.body, corner: "top-left" });
