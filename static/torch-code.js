// "Copy as PyTorch": the torch.optim (and lr_scheduler) lines that reproduce a racer, filled from the
// catalogues' templates ({name} placeholders; schedules also use {lr} and {steps}).

import { pyRepr } from "./scene-url.js";

/** A value as a Python literal, by the kind its spec declares. */
export function pyLiteral(value, kind = "float") {
  if (typeof value === "boolean") return value ? "True" : "False";
  if (Array.isArray(value)) return `[${value.map((v) => pyLiteral(v, "int")).join(", ")}]`;
  if (kind === "int") return String(value);
  return pyRepr(Number(value));
}

export function fillTemplate(template, values, kinds) {
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    name in values ? pyLiteral(values[name], kinds[name]) : whole);
}

/** The Python lines for racer `index` of a filled scene; `catalogues`: GET /api/optimizers, … by name. */
export function torchCode(scene, index, catalogues) {
  const racer = scene.racers[index];
  const optimizer = catalogues.optimizers[racer.optimizer];
  const schedule = catalogues.schedules[racer.schedule.name];
  const landscape = catalogues.landscapes[scene.landscape.name];
  const kinds = Object.fromEntries(optimizer.params.map((p) => [p.name, p.kind]));
  const lines = [
    `# ${racer.label === optimizer.title ? racer.label : `${racer.label}: ${optimizer.title}`} on ${landscape.title}, ${scene.steps} steps (optirace)`,
    `# f(x, y) = ${landscape.formula}`,
  ];
  if (scene.l1 || scene.l2) lines.push(`#   + ${pyRepr(scene.l1)}·(|x| + |y|) + ${pyRepr(scene.l2)}·(x² + y²)`);
  if (scene.noise) lines.push(`# gradients get N(0, ${pyRepr(scene.noise)}²) noise per step (seed ${scene.seed})`);
  lines.push(
    "import math, torch",
    `params = [torch.tensor([${scene.start.map((v) => pyRepr(v)).join(", ")}], dtype=torch.float64, requires_grad=True)]`,
    `optimizer = ${fillTemplate(optimizer.torch, racer.params, kinds)}`,
  );
  const constant = racer.schedule.name === "constant";
  if (!constant) {
    const scheduleKinds = { ...Object.fromEntries(schedule.params.map((p) => [p.name, p.kind])), steps: "int" };
    const values = { ...racer.schedule.params, lr: racer.params.lr, steps: scene.steps };
    lines.push(`scheduler = ${fillTemplate(schedule.torch, values, scheduleKinds)}`);
  }
  lines.push(
    `for step in range(${scene.steps}):`,
    "    optimizer.zero_grad()",
    "    loss = f(*params[0])",
    "    loss.backward()",
    "    optimizer.step()",
  );
  if (!constant) lines.push("    scheduler.step()");
  return lines.join("\n");
}
