// The corner QR code: the short link of the scene on screen and its QR code, in a corner of the page or the
// embed, large enough to read from the back of a lecture hall. Self-contained: it brings its stylesheet and
// makes its own link (POST /api/links); calling it again with another scene updates it.
//
//   import { showShareCorner } from "./share-corner.js";
//   const corner = showShareCorner(sceneQuery);       // the page (qr=1), the embed (qr=1), presenter mode
//   corner.update(otherQuery);                         // the scene changed: a new link, once it has settled
//   corner.remove();
//
// Options: parent (default document.body), corner ("bottom-right", "bottom-left", "top-right", "top-left"),
// settle (ms a new scene must stay before its link is made; default 800: a slider drag makes one link, not fifty).

import { createLinkPatiently, displayUrl, ensureStylesheet } from "./share-link.js";

export function showShareCorner(query, { parent = document.body, corner = "bottom-right", settle = 800 } = {}) {
  ensureStylesheet();
  const box = document.createElement("aside");
  box.className = "share-corner";
  box.dataset.corner = corner;
  box.dataset.state = "busy";
  box.setAttribute("aria-label", "Short link of this race");
  const image = document.createElement("img");
  image.alt = "";
  image.width = image.height = 160;
  const text = document.createElement("a");
  text.className = "share-corner-url";
  text.target = "_blank";
  text.rel = "noopener";
  box.append(image, text);
  parent.append(box);

  let shown = "";
  let wanted = "";
  let timer = 0;
  let controller = null;

  async function make(target) {
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    box.dataset.state = "busy";
    try {
      const link = await createLinkPatiently(target, { signal });
      if (signal.aborted || target !== wanted) return;
      shown = target;
      image.src = `/s/${link.id}.svg`;
      image.alt = `QR code of ${displayUrl(link.url)}`;
      text.href = link.url;
      text.textContent = displayUrl(link.url);
      box.dataset.id = link.id;
      box.dataset.state = "ready";
    } catch (error) {
      if (signal.aborted) return;
      box.dataset.state = "error";
      text.removeAttribute("href");
      text.textContent = "no short link";
      box.title = error.message;
      console.warn(`optirace: no short link for the corner QR code: ${error.message}`);
    }
  }

  function update(next, { now = false } = {}) {
    wanted = next.replace(/^\?/, "");
    clearTimeout(timer);
    if (wanted === shown) return;
    if (now) make(wanted);
    else timer = setTimeout(() => make(wanted), settle);
  }

  update(query, { now: true });
  return {
    element: box,
    update,
    remove() {
      clearTimeout(timer);
      controller?.abort();
      box.remove();
    },
  };
}
