// Hand-written SVG charts: a time line chart and a bar chart. No dependencies.
const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const W = 640, H = 220, L = 56, R = 56, T = 12, B = 28;

/**
 * A line chart over time: series [{name, points: [[ms, value]], format, axis: "left"|"right", cls}].
 * Returns an <svg> with role="img" and a text summary for screen readers.
 */
export function lineChart(series, { label = "Chart" } = {}) {
  const all = series.flatMap((x) => x.points);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label });
  if (all.length < 1) {
    svg.append(s("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "axis" }, "No data yet"));
    return svg;
  }
  let t0 = Math.min(...all.map((p) => p[0])), t1 = Math.max(...all.map((p) => p[0]));
  if (t1 - t0 < 60000) t1 = t0 + 60000;
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  for (let i = 0; i <= 4; i++) {
    const y = T + (i * (H - T - B)) / 4;
    svg.append(s("line", { x1: L, x2: W - R, y1: y, y2: y, class: "grid" }));
  }
  for (let i = 0; i <= 4; i++) {
    const t = t0 + (i * (t1 - t0)) / 4;
    const text = new Date(t).toLocaleTimeString([], { hour12: false, hour: "2-digit", minute: "2-digit", second: "2-digit" });
    svg.append(s("text", { x: x(t), y: H - 8, "text-anchor": "middle", class: "axis" }, text));
  }
  for (const one of series) {
    if (!one.points.length) continue;
    const max = niceMax(Math.max(...one.points.map((p) => p[1])));
    const min = Math.min(0, ...one.points.map((p) => p[1]));
    const y = (v) => T + (1 - (v - min) / (max - min || 1)) * (H - T - B);
    const right = one.axis === "right";
    for (let i = 0; i <= 4; i++) {
      const v = min + ((max - min) * (4 - i)) / 4;
      svg.append(s("text", { x: right ? W - R + 4 : L - 4, y: T + (i * (H - T - B)) / 4 + 4,
        "text-anchor": right ? "start" : "end", class: `axis ${one.cls || ""}` }, one.format(v)));
    }
    const d = one.points.map((p, i) => `${i ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
    svg.append(s("path", { d, class: `line ${one.cls || ""}` }));
    const last = one.points[one.points.length - 1];
    svg.append(s("circle", { cx: x(last[0]), cy: y(last[1]), r: 3, class: `dot ${one.cls || ""}` }));
  }
  svg.append(s("title", {}, `${label}: ` + series.map((x) => `${x.name} ${x.points.length ? x.format(x.points.at(-1)[1]) : "none"}`).join(", ")));
  return svg;
}

/** A bar chart: bars [{label, value}], format(value). */
export function barChart(bars, { label = "Chart", format = String, floor = 1 } = {}) {
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label });
  const max = niceMax(Math.max(floor, ...bars.map((b) => b.value)));
  for (let i = 0; i <= 4; i++) {
    const y = T + (i * (H - T - B)) / 4;
    svg.append(s("line", { x1: L, x2: W - 12, y1: y, y2: y, class: "grid" }));
    svg.append(s("text", { x: L - 4, y: y + 4, "text-anchor": "end", class: "axis" }, format((max * (4 - i)) / 4)));
  }
  const slot = (W - L - 12) / Math.max(1, bars.length);
  bars.forEach((b, i) => {
    const hgt = ((H - T - B) * b.value) / max;
    const bx = L + i * slot + slot * 0.15;
    const rect = s("rect", { x: bx, y: H - B - hgt, width: slot * 0.7, height: Math.max(hgt, 0), rx: 2, class: "bar" });
    rect.append(s("title", {}, `${b.label}: ${format(b.value)}`));
    svg.append(rect);
    if (bars.length <= 24 && (i % Math.ceil(bars.length / 12) === 0)) {
      svg.append(s("text", { x: bx + slot * 0.35, y: H - 8, "text-anchor": "middle", class: "axis" }, b.label));
    }
  });
  return svg;
}
