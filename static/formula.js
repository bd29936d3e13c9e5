// The custom landscape's formula field, loaded when `landscape=custom` is first shown (controls.js).
// Live validation: while typing, POST /api/landscapes/custom/check (debounced, the latest answer wins);
// a refusal is shown under the field with the character at its position marked, a formula that
// passes shows its derivatives, minima and saddles. Only a formula that passed is committed to the
// scene (Enter or leaving the field); the examples commit at once, with their domains. The start
// stays where it is while it lies in the domain.

import { ApiError, postJSON } from "./api.js";

const DEBOUNCE_MS = 200;
export const EXAMPLES = [
  { title: "x² + 10y²", f: "x^2 + 10*y^2", x: [-3, 3], y: [-3, 3] },
  { title: "a ring of minima", f: "(x^2 + y^2 - 4)^2 + 0.5*(x^3 - 3*x*y^2)", x: [-3, 3], y: [-3, 3] },
  { title: "cheese-wheel hill", f: "0.1*(x^2 + y^2) + 3*exp(-((x - 1)^2 + y^2)^4)", x: [-3, 3], y: [-3, 3] },
  { title: "Rosenbrock", f: "(1 - x)^2 + 100*(y - x^2)^2", x: [-2, 2], y: [-1, 3] },
];
// The notation core/formula.py reads, in brief (its docstring has the grammar).
const HELP = "Write it as on a slide (2x, xy, x², x⁻¹, 2πx, √(x²+y²), […]·[…]) or with * and ^; " +
  "a built-in landscape's formula pastes as shown.";
const NAMES = { "df/dx": "∂f/∂x", "df/dy": "∂f/∂y", "d2f/dx2": "∂²f/∂x²", "d2f/dxdy": "∂²f/∂x∂y", "d2f/dy2": "∂²f/∂y²" };

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) if (child != null) node.append(child);
  return node;
}

const pretty = (text) => text.replaceAll("*", "·");
const fmt = (v) => String(+v.toFixed(3)).replace("-", "−");

/** A refusal's message without the field's name, and the 1-based position it names (or null). */
export function placeOf(message) {
  const text = message.replace(/^.*?landscape custom\.f:\s*/, "").replace(/^body\.f:\s*/, "");
  const match = / at (\d+)(?=;|$)/.exec(text);
  return { text, position: match ? Number(match[1]) : null };
}

/**
 * Make the text control of the `f` parameter a formula field.
 * control: {row, input, set} from controls.js; commit(params) puts a checked formula in the scene;
 * params(): the scene's custom parameters now.
 */
export function attachFormula(control, { commit, params }) {
  if (!document.getElementById("formula-style")) {  // the CSP allows stylesheets from 'self' only
    document.head.append(el("link", { id: "formula-style", rel: "stylesheet", href: new URL("./formula.css", import.meta.url).href }));
  }
  const { row, input } = control;
  input.classList.add("formula-field");
  const label = row.querySelector("label");
  if (label) label.textContent = "f(x, y) =";
  input.setAttribute("aria-label", "formula f(x, y)");
  input.setAttribute("inputmode", "text");
  input.placeholder = "e.g. x² + 10y²  or  x^2 + 10*y^2";
  const note = el("p", { className: "formula-note", id: `${input.id}-note` });
  note.setAttribute("aria-live", "polite");
  const help = el("p", { className: "formula-help", id: `${input.id}-help`, textContent: HELP });
  input.setAttribute("aria-describedby", `${note.id} ${help.id}`);
  const derivatives = el("details", { className: "formula-derivatives" }, [el("summary", { textContent: "Derivatives" })]);
  const examples = el("div", { className: "formula-examples" }, [
    el("span", { textContent: "Try:" }),
    ...EXAMPLES.map((example) => {
      const button = el("button", { type: "button", textContent: example.title });
      button.addEventListener("click", () => {
        input.value = example.f;
        check({ f: example.f, x: example.x, y: example.y }, true);
      });
      return button;
    }),
  ]);
  row.after(note, help, examples, derivatives);

  let timer = 0;
  let asked = 0; // the latest request wins
  let last = null; // {key, reply} of the latest answer

  function show(reply) {
    note.dataset.state = "ok";
    const minima = reply.minima.length;
    const saddles = reply.saddles.map(([x, y]) => `(${fmt(x)}, ${fmt(y)})`);
    note.textContent = `${minima} minim${minima === 1 ? "um" : "a"}` +
      (saddles.length ? `, saddle${saddles.length === 1 ? "" : "s"} at ${saddles.join(", ")}` : ", no saddle") +
      ` · ${reply.instructions} operations`;
    input.setAttribute("aria-invalid", "false");
    derivatives.hidden = false;
    derivatives.replaceChildren(el("summary", { textContent: "Derivatives" }),
      ...Object.entries(NAMES).map(([key, name]) => el("pre", { textContent: `${name} = ${pretty(reply.text[key])}` })));
  }

  function refuse(message, text) {
    const { text: problem, position } = placeOf(message);
    note.dataset.state = "error";
    input.setAttribute("aria-invalid", "true");
    derivatives.hidden = true; // they were another formula's
    const chars = Array.from(text); // the server counts code points (𝑥 is one), JS strings UTF-16 units
    if (position && position <= chars.length + 1) {
      const at = position - 1;
      const before = chars.slice(0, at).join("");
      const marked = chars[at] ?? "";
      note.replaceChildren(el("code", {}, [before, el("mark", { textContent: marked || " " }), chars.slice(at + 1).join("")]),
        el("br"), problem);
      note.onclick = () => { input.focus(); input.setSelectionRange(before.length, before.length + marked.length); };
    } else {
      note.replaceChildren(problem);
      note.onclick = null;
    }
  }

  async function check(values, andCommit) {
    const body = { ...params(), ...values };
    const key = JSON.stringify(body);
    if (last?.key === key) {
      if (last.reply && andCommit) commit({ f: body.f, x: body.x, y: body.y });
      return;
    }
    const ticket = ++asked;
    try {
      const reply = await postJSON("/api/landscapes/custom/check", body);
      if (ticket !== asked) return;
      last = { key, reply };
      show(reply);
      if (andCommit) commit({ f: body.f, x: body.x, y: body.y });
    } catch (error) {
      if (ticket !== asked) return;
      if (error instanceof ApiError) {
        last = { key, reply: null };
        refuse(error.message, body.f);
      } else {
        note.dataset.state = "error";
        note.textContent = `Could not check the formula (${error.message})`;
      }
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => check({ f: input.value }, false), DEBOUNCE_MS);
  });
  input.addEventListener("change", () => {
    clearTimeout(timer);
    if (input.value !== params().f) check({ f: input.value }, true);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); input.dispatchEvent(new Event("change")); }
  });
  check({}, false); // the formula on screen (controls.js rebuilds this field when the domain changes)
}
