// A stacked bar chart in plain SVG: one bar per period, one colour per group.
const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/**
 * periods: ISO starts of every bar (empty ones included); cells: [{period, group, value}] with
 * numeric values (heights only: exact totals are shown next to the chart); label(period) names
 * a bar; width: the drawing's width in pixels (drawn 1:1, so labels stay legible on narrow
 * screens). Returns {svg, groups} so the caller can draw a legend with the same colour classes.
 */
export function stackedBars(periods, cells, label, unit, width = 900) {
  const groups = [...new Set(cells.map((c) => c.group))].sort();
  const at = new Map();
  for (const c of cells) {
    const k = `${c.period}\u0000${c.group}`;
    at.set(k, (at.get(k) || 0) + c.value);
  }
  const totals = periods.map((p) => groups.reduce((t, g) => t + (at.get(`${p}\u0000${g}`) || 0), 0));
  const max = Math.max(0, ...totals) || 1;
  const W = width, H = 220, left = 56, bottom = 22, top = 8;
  const bw = (W - left) / Math.max(periods.length, 1);
  const y = (v) => (H - bottom) - (v / max) * (H - bottom - top);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': `${unit} per period, stacked by group` });
  svg.append(s('line', { x1: left, x2: W, y1: y(0), y2: y(0), class: 'axis' }));
  svg.append(s('text', { x: left - 6, y: y(max) + 4, class: 'tick', 'text-anchor': 'end' }, compact(max)));
  svg.append(s('text', { x: left - 6, y: y(0), class: 'tick', 'text-anchor': 'end' }, '0'));
  const every = Math.ceil(periods.length / Math.max(2, Math.floor((W - left) / 90)));
  periods.forEach((p, i) => {
    let base = 0;
    const x = left + i * bw + bw * 0.1;
    groups.forEach((g, gi) => {
      const v = at.get(`${p}\u0000${g}`) || 0;
      if (v <= 0) return;
      svg.append(s('rect', { x, width: bw * 0.8, y: y(base + v), height: y(base) - y(base + v), class: `s${gi % 8}` },
        s('title', {}, `${label(p)} · ${g || '(none)'}: ${v.toLocaleString('en-US')} ${unit}`)));
      base += v;
    });
    if (i % every === 0) {
      svg.append(s('text', { x: x + bw * 0.4, y: H - 6, class: 'tick', 'text-anchor': 'middle' }, label(p, true)));
    }
  });
  return { svg, groups };
}

function compact(v) {
  return v >= 1e6 ? `${+(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${+(v / 1e3).toFixed(1)}k` : `${+v.toFixed(4)}`;
}
