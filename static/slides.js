// The page's Export menu and Embed dialog, loaded when first opened (main.js: openSlides).
//
// Export: GIF, PNG, SVG or a self-contained HTML file of the scene (GET /export/race.<format>?<scene>&…), at a
// slide's size (1920 × 1080 full HD 16:9 and others) in a light or dark theme.
// Embed: an <iframe> of /embed for the scene with the slide's options as toggles (caption, loss chart, live lr
// sliders, the lr multiplier, schedules, transport, autoplay, loop, theme, 16:9 or 4:3) and a live preview.

import { embedSnippet } from "./embed-snippet.js";

const SIZES = [
  [1920, 1080, "1920 × 1080 (16:9, full HD)"],
  [1280, 720, "1280 × 720 (16:9)"],
  [960, 540, "960 × 540 (16:9)"],
  [1024, 768, "1024 × 768 (4:3)"],
  [800, 600, "800 × 600 (4:3)"],
];
const FORMATS = [
  ["png", "PNG", "a frame as a picture"],
  ["gif", "GIF", "the race as a looping animation"],
  ["svg", "SVG", "a frame as a vector figure"],
  ["html", "HTML", "a file that plays offline, no server"],
];
const STILL = ["png", "svg"]; // the formats that take step and vectors (server/render/formats.py)
const GIF_PIXEL_FRAMES = 800 * 600 * 160; // server/render/formats.py: MAX_GIF_PIXEL_FRAMES

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function choice(name, items, checked) {
  return el("fieldset", { className: "choice" }, [
    el("legend", { textContent: name }),
    ...items.map(([value, text, title]) => el("label", { title: title || "" }, [
      el("input", { type: "radio", name, value, checked: value === checked }), ` ${text}`,
    ])),
  ]);
}

function closeButton(dialog) {
  const button = el("button", { type: "button", className: "close", textContent: "Close" });
  button.addEventListener("click", () => dialog.close());
  return button;
}

/** The export URL for the dialog's choices; a still picture (PNG, SVG) may show a step and the vectors there. */
export function exportUrl(sceneQuery, { format, width, height, theme, step = null, vectors = false }) {
  const options = new URLSearchParams({ theme });
  if (format !== "html") { options.set("width", String(width)); options.set("height", String(height)); }
  if (STILL.includes(format) && step != null) options.set("step", String(step));
  if (STILL.includes(format) && vectors) options.set("vectors", "1");
  if (format === "gif") options.set("frames", String(Math.min(80, Math.floor(GIF_PIXEL_FRAMES / (width * height)))));
  return `/export/race.${format}?${sceneQuery}&${options}`;
}

export function openExportDialog({ dialog, sceneQuery, step = () => null, vectors = () => false }) {
  const form = el("form", { method: "dialog", className: "slides-form" });
  const size = el("select", { id: "export-size" }, SIZES.map(([w, h, text]) => new Option(text, `${w}x${h}`)));
  const theme = el("select", { id: "export-theme" }, [new Option("light", "light"), new Option("dark", "dark")]);
  const link = el("a", { id: "export-download", className: "button primary", textContent: "Download" });
  const note = el("p", { className: "hint", id: "export-note" });
  const k = step();
  const atStep = el("input", { type: "checkbox", id: "export-at-step", checked: k != null && k > 0 });
  const withVectors = el("input", { type: "checkbox", id: "export-vectors", checked: vectors() });
  const still = el("div", { className: "row" }, [
    el("label", {}, [atStep, ` at the player's step (${k ?? 0}), not the end`]),
    el("label", {}, [withVectors, " with the vectors (gradient, momentum, step, lr boxes)"]),
  ]);
  form.append(
    el("h2", { id: "export-title", textContent: "Export this race" }),
    choice("format", FORMATS, "png"),
    el("div", { className: "row" }, [el("label", { htmlFor: "export-size", textContent: "Size " }), size]),
    el("div", { className: "row" }, [el("label", { htmlFor: "export-theme", textContent: "Theme " }), theme]),
    still,
    note,
    el("div", { className: "dialog-actions" }, [link, closeButton(dialog)]),
  );
  const update = () => {
    const format = form.querySelector("input[name=format]:checked").value;
    const [width, height] = size.value.split("x").map(Number);
    link.href = exportUrl(sceneQuery(), {
      format, width, height, theme: theme.value, step: atStep.checked ? k : null, vectors: withVectors.checked,
    });
    still.hidden = !STILL.includes(format);
    link.download = `optirace.${format}`;
    size.disabled = format === "html";
    note.textContent = FORMATS.find(([f]) => f === format)[2]
      + (format === "html" ? " (it fills any window)" : `, ${width} × ${height} px`) + ".";
  };
  form.addEventListener("change", update);
  update();
  dialog.replaceChildren(form);
  dialog.showModal();
}

const TOGGLES = [
  ["caption", "Caption", true],
  ["chart", "Loss chart", false],
  ["lr", "lr slider per racer", false],
  ["lrscale", "lr multiplier", false],
  ["schedule", "Schedule per racer", false],
  ["transport", "Play / Step / Reset", true],
  ["autoplay", "Autoplay", false],
  ["loop", "Loop", false],
  ["qr", "QR code of its short link", false],
];
const FRAMES = [[960, 540, "16:9"], [1280, 720, "16:9 large"], [960, 720, "4:3"]];

/** The embed's options for the dialog's toggles (static/embed-snippet.js reads them back). */
export function embedOptions(state) {
  const live = ["lr", "lrscale", "schedule"].filter((name) => state[name]);
  return {
    autoplay: state.autoplay,
    loop: state.loop,
    controls: live.length ? live : state.transport,
    theme: state.theme,
    chart: state.chart ? "loss" : "",
    caption: state.caption ? state.captionText : "",
    qr: state.qr,
  };
}

export function openEmbedDialog({ dialog, sceneQuery, origin, copyText }) {
  const captionText = (document.getElementById("caption-text")?.textContent || "").trim();
  const state = { theme: "light", frame: 0, captionText };
  for (const [name, , on] of TOGGLES) state[name] = on;
  const toggles = el("fieldset", { className: "toggles" }, [
    el("legend", { textContent: "On the slide" }),
    ...TOGGLES.map(([name, text]) => el("label", {}, [el("input", { type: "checkbox", name, checked: state[name] }), ` ${text}`])),
  ]);
  const caption = el("input", { type: "text", id: "embed-caption", value: captionText, maxLength: 400 });
  caption.setAttribute("aria-label", "Caption text");
  const theme = el("select", { id: "embed-theme" }, ["light", "dark", "auto"].map((t) => new Option(t, t)));
  const frame = el("select", { id: "embed-frame" }, FRAMES.map(([w, h, text], i) => new Option(`${text} (${w} × ${h})`, String(i))));
  const preview = el("iframe", { id: "embed-preview", title: "Preview of the embedded race" });
  const box = el("div", { className: "preview-box" }, [preview]);
  const code = el("pre", { className: "code", id: "embed-code" });
  const status = el("p", { className: "hint", role: "status" });
  const copy = el("button", { type: "button", className: "primary", textContent: "Copy the iframe" });
  dialog.replaceChildren(el("div", { className: "slides-form embed-form" }, [
    el("h2", { id: "embed-title", textContent: "Embed this race in your slides" }),
    el("div", { className: "embed-columns" }, [
      el("div", {}, [
        toggles,
        el("div", { className: "row" }, [el("label", { htmlFor: "embed-caption", textContent: "Caption " }), caption]),
        el("div", { className: "row" }, [el("label", { htmlFor: "embed-theme", textContent: "Theme " }), theme]),
        el("div", { className: "row" }, [el("label", { htmlFor: "embed-frame", textContent: "Frame " }), frame]),
      ]),
      box,
    ]),
    code,
    status,
    el("div", { className: "dialog-actions" }, [copy, closeButton(dialog)]),
  ]));
  let timer = 0;
  const update = () => {
    for (const input of toggles.querySelectorAll("input")) state[input.name] = input.checked;
    state.captionText = caption.value;
    state.theme = theme.value;
    const [width, height] = FRAMES[Number(frame.value)];
    const snippet = embedSnippet(sceneQuery(), { origin, width, height, ...embedOptions(state) });
    code.textContent = snippet;
    box.style.aspectRatio = `${width} / ${height}`;
    clearTimeout(timer);
    // the preview: the same src, scaled into the dialog (its text as on the slide)
    timer = setTimeout(() => {
      const src = snippet.split('src="')[1].split('"')[0].replace(/&amp;/g, "&");
      if (preview.getAttribute("src") !== src) preview.src = src;
      Object.assign(preview.style, { width: `${width}px`, height: `${height}px`, transform: `scale(${box.clientWidth / width})` });
    }, 150);
  };
  dialog.querySelector(".embed-form").addEventListener("input", update);
  dialog.querySelector(".embed-form").addEventListener("change", update);
  copy.addEventListener("click", async () => {
    status.textContent = (await copyText(code.textContent)) ? "Copied: paste it into your slide." : "Select the code and copy it.";
  });
  dialog.showModal();
  update();
}
