// The Share dialog (loaded on demand by the page's Share button): the scene's short link, a button that copies
// it, its QR code (GET /s/{id}.svg, the server draws it), and the full link as a fallback.
//
//   import("./share.js").then(({ openShare }) => openShare(sceneQuery));

import { LinkError, createLink, displayUrl, ensureStylesheet } from "./share-link.js";

let dialog = null;
let controller = null;

function build() {
  const node = document.createElement("dialog");
  node.id = "share-dialog";
  node.className = "share-dialog";
  node.setAttribute("aria-labelledby", "share-title");
  node.innerHTML = `
    <h2 id="share-title">Share this race</h2>
    <div class="share-body">
      <figure class="share-qr">
        <img id="share-qr" alt="" width="220" height="220" hidden>
        <figcaption class="hint">Point a phone's camera here.</figcaption>
      </figure>
      <div class="share-text">
        <p class="share-label" id="share-label">Short link</p>
        <div class="share-row">
          <a id="share-url" class="share-url" aria-labelledby="share-label" target="_blank" rel="noopener">…</a>
          <button type="button" id="share-copy" class="primary" disabled>Copy</button>
        </div>
        <p class="hint" id="share-status" role="status"></p>
        <p class="share-more">
          <a id="share-png" download hidden>QR code as PNG</a>
          <a id="share-embed" target="_blank" rel="noopener" hidden>Open as slide embed ↗</a>
        </p>
        <details class="share-full">
          <summary>The full link (it holds the whole scene itself)</summary>
          <div class="share-row">
            <input id="share-full" type="text" readonly spellcheck="false">
            <button type="button" id="share-copy-full">Copy</button>
          </div>
        </details>
      </div>
    </div>
    <div class="dialog-actions"><button type="button" class="close">Close</button></div>`;
  const $ = (id) => node.querySelector(`#${id}`);
  node.querySelector(".close").addEventListener("click", () => node.close());
  node.addEventListener("close", () => controller?.abort());
  $("share-copy").addEventListener("click", () => copy($("share-url"), $("share-status"), "Short link copied."));
  $("share-copy-full").addEventListener("click", () => copy($("share-full"), $("share-status"), "Full link copied."));
  $("share-full").addEventListener("focus", () => $("share-full").select());
  document.body.append(node);
  return node;
}

/** Copy an input's value or a link's address; where the clipboard is refused, select it for Ctrl+C. */
async function copy(node, status, done) {
  const text = node instanceof HTMLInputElement ? node.value : node.href;
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = done;
  } catch {
    if (node instanceof HTMLInputElement) {
      node.focus();
      node.select();
    } else {
      getSelection().selectAllChildren(node);
    }
    status.textContent = "Press Ctrl+C (⌘C) to copy the selected link.";
  }
}

/** Open the dialog for a scene's query string (the page's, every value written out); makes its short link. */
export async function openShare(query) {
  await ensureStylesheet();
  dialog ??= build();
  const $ = (id) => dialog.querySelector(`#${id}`);
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  const full = `${location.origin}${location.pathname}?${query.replace(/^\?/, "")}`;
  $("share-full").value = full;
  $("share-url").textContent = "making a short link…";
  $("share-url").removeAttribute("href");
  $("share-copy").disabled = true;
  $("share-qr").hidden = true;
  $("share-png").hidden = true;
  $("share-embed").hidden = true;
  $("share-status").textContent = "";
  dialog.dataset.state = "busy";
  if (!dialog.open) dialog.showModal();
  try {
    const link = await createLink(query, signal);
    if (signal.aborted) return;
    $("share-url").href = link.url;
    $("share-url").textContent = displayUrl(link.url);
    $("share-copy").disabled = false;
    const qr = $("share-qr");
    qr.alt = `QR code of ${displayUrl(link.url)}`;
    qr.src = `/s/${link.id}.svg`;
    qr.hidden = false;
    $("share-png").href = `/s/${link.id}.png?scale=16`;
    $("share-png").setAttribute("download", `optirace-${link.id}.png`);
    $("share-png").hidden = false;
    $("share-embed").href = `/s/${link.id}?embed=1`;
    $("share-embed").hidden = false;
    dialog.dataset.state = "ready";
    await copy($("share-url"), $("share-status"), "Short link copied: it opens this exact race, today and next year.");
  } catch (error) {
    if (signal.aborted) return;
    dialog.dataset.state = "error";
    $("share-url").textContent = "none";
    $("share-copy").disabled = true;
    dialog.querySelector(".share-full").open = true;
    const why = error instanceof LinkError ? error.message : `the server did not answer (${error.message})`;
    $("share-status").textContent = `No short link: ${why}. The full link above works as well.`;
  }
}
