// The contour map: one world↔pixel transform (y up), a perceptually uniform heat map computed from
// the contour grid, contour lines, axes with ticks and the minima. Drawing only; no state.

// viridis (matplotlib), 9 stops; interpolated linearly.
const VIRIDIS = [
  [68, 1, 84], [72, 40, 120], [62, 73, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [110, 206, 88], [253, 231, 37],
];

export function colormap(t) {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Margins (CSS px) around the plotted domain, room for the axes' labels at a font size. */
export function marginFor(fontSize) {
  return { left: Math.round(fontSize * 3.9), right: 10, top: 10, bottom: Math.round(fontSize * 2.7) };
}

/**
 * The transform from the world (domain, y up) to canvas pixels (CSS px), keeping the aspect ratio:
 * the domain is centred in the box left after the margins.
 */
export function makeTransform(domain, width, height, margin) {
  const [x0, x1] = domain.x;
  const [y0, y1] = domain.y;
  const boxW = Math.max(10, width - margin.left - margin.right);
  const boxH = Math.max(10, height - margin.top - margin.bottom);
  const scale = Math.min(boxW / (x1 - x0), boxH / (y1 - y0));
  const w = (x1 - x0) * scale;
  const h = (y1 - y0) * scale;
  const left = margin.left + (boxW - w) / 2;
  const top = margin.top + (boxH - h) / 2;
  return {
    domain, margin, scale, left, top, width: w, height: h,
    px: (x) => left + (x - x0) * scale,
    py: (y) => top + (y1 - y) * scale,
    wx: (px) => x0 + (px - left) / scale,
    wy: (py) => y1 - (py - top) / scale,
    inside: (px, py) => px >= left && px <= left + w && py >= top && py <= top + h,
  };
}

/** The aspect ratio (width / height) a plot of `domain` needs, margins included, for a given width. */
export function plotHeightFor(domain, width, margin) {
  const w = Math.max(10, width - margin.left - margin.right);
  return Math.round((w * (domain.y[1] - domain.y[0])) / (domain.x[1] - domain.x[0]) + margin.top + margin.bottom);
}

/**
 * The value → [0, 1] map of the heat map: log of the gap above the grid minimum where the landscape
 * asks for a log scale (its contour levels are log-spaced), linear otherwise.
 */
export function valueScale(contours) {
  const { z_min: lo, z_max: hi, levels, log_scale: log } = contours;
  if (!log) return (z) => (z - lo) / (hi - lo || 1);
  const floor = Math.max((levels[0] - lo) * 0.5, (hi - lo) * 1e-12, 1e-300);
  const a = Math.log(floor);
  const b = Math.log(hi - lo + floor);
  return (z) => (Math.log(Math.max(0, z - lo) + floor) - a) / (b - a);
}

/**
 * The heat map as a small canvas, one pixel per grid point (row 0 at the top, i.e. ymax), its colours
 * mixed with `paper` by `mix` (0: pure colour map) so paths stay readable on top.
 */
export function heatmapCanvas(contours, paper = [255, 255, 255], mix = 0.35) {
  const { nx, ny, z } = contours.grid;
  const canvas = document.createElement("canvas");
  canvas.width = nx;
  canvas.height = ny;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(nx, ny);
  const scale = valueScale(contours);
  for (let j = 0; j < ny; j++) {
    const row = (ny - 1 - j) * nx;
    for (let i = 0; i < nx; i++) {
      const [r, g, b] = colormap(scale(z[j * nx + i]));
      const k = (row + i) * 4;
      image.data[k] = r + (paper[0] - r) * mix;
      image.data[k + 1] = g + (paper[1] - g) * mix;
      image.data[k + 2] = b + (paper[2] - b) * mix;
      image.data[k + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

/** Heat map, contour lines, axes and frame onto ctx (CSS px units). */
export function drawMap(ctx, T, contours, heat, theme) {
  ctx.save();
  ctx.beginPath();
  ctx.rect(T.left, T.top, T.width, T.height);
  ctx.clip();
  if (heat) {
    // grid points sit on the domain's edges: half a cell of the image lies outside it
    const { nx, ny } = contours.grid;
    const cw = T.width / (nx - 1);
    const ch = T.height / (ny - 1);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(heat, T.left - cw / 2, T.top - ch / 2, T.width + cw, T.height + ch);
  } else {
    ctx.fillStyle = theme.panel;
    ctx.fillRect(T.left, T.top, T.width, T.height);
  }
  if (contours) drawContourLines(ctx, T, contours, theme);
  ctx.restore();
  drawAxes(ctx, T, theme);
}

function drawContourLines(ctx, T, contours, theme) {
  ctx.lineJoin = "round";
  contours.lines.forEach((line, index) => {
    const major = index % 4 === 3;
    ctx.strokeStyle = major ? theme.contourMajor : theme.contour;
    ctx.lineWidth = major ? 1.1 : 0.7;
    ctx.beginPath();
    for (const path of line.paths) {
      for (let k = 0; k < path.length; k++) {
        const x = T.px(path[k][0]);
        const y = T.py(path[k][1]);
        if (k === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      }
    }
    ctx.stroke();
  });
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo, hi, count = 5) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) || 10 * power;
  const ticks = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

export function tickLabel(v) {
  const text = Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(+v.toPrecision(6));
  return text.replace("-", "−");
}

function drawAxes(ctx, T, theme) {
  const { domain } = T;
  ctx.strokeStyle = theme.axis;
  ctx.fillStyle = theme.text;
  ctx.lineWidth = 1;
  ctx.font = `${theme.fontSize}px ${theme.font}`;
  ctx.strokeRect(T.left - 0.5, T.top - 0.5, T.width + 1, T.height + 1);
  const perTick = theme.fontSize * 5.5;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.beginPath();
  for (const v of niceTicks(domain.x[0], domain.x[1], Math.max(2, Math.floor(T.width / perTick)))) {
    const x = T.px(v);
    ctx.moveTo(x, T.top + T.height);
    ctx.lineTo(x, T.top + T.height + 5);
    ctx.fillText(tickLabel(v), x, T.top + T.height + 7);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of niceTicks(domain.y[0], domain.y[1], Math.max(2, Math.floor(T.height / perTick)))) {
    const y = T.py(v);
    ctx.moveTo(T.left, y);
    ctx.lineTo(T.left - 5, y);
    ctx.fillText(tickLabel(v), T.left - 7, y);
  }
  ctx.stroke();
  ctx.fillStyle = theme.muted;
  ctx.font = `italic ${theme.fontSize}px ${theme.font}`;
  ctx.textAlign = "right";
  ctx.textBaseline = "bottom";
  ctx.fillText("x", T.left + T.width, T.top + T.height + T.margin.bottom);
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  ctx.fillText("y", 2, T.top);
}

/** The minima: a star for a global one, a small ring for a local one. */
export function drawMinima(ctx, T, minima, theme) {
  for (const m of minima || []) {
    const x = T.px(m.point[0]);
    const y = T.py(m.point[1]);
    if (!T.inside(x, y)) continue;
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = theme.halo;
    ctx.fillStyle = theme.minimum;
    const r = theme.ball || 7;
    if (m.kind === "global") {
      starPath(ctx, x, y, r + 2, (r + 2) * 0.45);
      ctx.fill();
      ctx.stroke();
    } else {
      ctx.beginPath();
      ctx.arc(x, y, r * 0.5, 0, 2 * Math.PI);
      ctx.strokeStyle = theme.minimum;
      ctx.stroke();
    }
  }
}

/** Saddle points: a bow-tie (two triangles meeting at the point), the shape of a saddle's contours. */
export function drawSaddles(ctx, T, saddles, theme) {
  const r = (theme.ball || 7) * 0.95;
  for (const [sx, sy] of saddles || []) {
    const x = T.px(sx);
    const y = T.py(sy);
    if (!T.inside(x, y)) continue;
    ctx.beginPath();
    ctx.moveTo(x - r, y - r * 0.75);
    ctx.lineTo(x + r, y + r * 0.75);
    ctx.lineTo(x + r, y - r * 0.75);
    ctx.lineTo(x - r, y + r * 0.75);
    ctx.closePath();
    ctx.fillStyle = theme.minimum;
    ctx.strokeStyle = theme.halo;
    ctx.lineWidth = 1.5;
    ctx.fill();
    ctx.stroke();
  }
}

export function starPath(ctx, x, y, outer, inner) {
  ctx.beginPath();
  for (let k = 0; k < 10; k++) {
    const r = k % 2 ? inner : outer;
    const a = -Math.PI / 2 + (k * Math.PI) / 5;
    ctx.lineTo(x + r * Math.cos(a), y + r * Math.sin(a));
  }
  ctx.closePath();
}

/** The canvas colours and font of the current theme, from the page's CSS custom properties. */
export function readTheme(element = document.documentElement) {
  const css = getComputedStyle(element);
  const v = (name) => css.getPropertyValue(name).trim();
  const rgb = v("--paper-rgb").split(/[ ,]+/).map(Number);
  const lum = ([r, g, b]) => (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  const dark = lum(rgb) < 0.5;
  return {
    paper: rgb.length === 3 ? rgb : [255, 255, 255],
    heatMix: Number(v("--heat-mix")) || 0.35,
    panel: v("--panel"),
    text: v("--ink"),
    muted: v("--muted"),
    axis: v("--axis"),
    contour: v("--contour"),
    contourMajor: v("--contour-major"),
    grid: v("--grid"),
    halo: v("--halo"),
    minimum: v("--minimum"),
    // a racer's colour as drawn: lightened if dark on a dark theme (the lecture's red and blue included)
    ink: (color) => {
      const c = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
      return dark && lum(c) < 0.3 ? `rgb(${c.map((u) => u + (255 - u) * 0.45)})` : color;
    },
    pathScale: v("--path-scale"),
    font: css.fontFamily,
    fontSize: Math.max(Math.round(parseFloat(css.fontSize) * 0.8), Number(v("--canvas-font-min")) || 0),
    // Canvas text grows with the plot (a projector's wide window), never below the page's small text.
    scaledFont: (width) => Math.round(Math.max(parseFloat(css.fontSize) * 0.8, Number(v("--canvas-font-min")) || 0,
      Math.min(Number(v("--map-font-max")) || 26, width / 58))),
  };
}
