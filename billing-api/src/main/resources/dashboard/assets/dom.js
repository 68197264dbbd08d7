// DOM helpers. Every text from the API goes through textContent (never innerHTML): org ids,
// user ids and dead-letter messages are user data.

/** h('div.cls', {attr: v}, child, ...): an element; strings become text nodes. */
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (attrs.constructor === Object)) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  } else if (attrs !== undefined) {
    children.unshift(attrs);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A time in the browser's zone, the UTC instant on hover. */
export function time(iso, withDate = true) {
  if (!iso) return h('span.muted', '—');
  const d = new Date(iso);
  const text = withDate ? d.toLocaleString() : d.toLocaleTimeString();
  return h('time', { datetime: iso, title: d.toISOString().replace('.000Z', 'Z') + ' (UTC)' }, text);
}

export function num(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : String(n);
}

/** Exact sum of decimal strings (money), as a decimal string; BigInt in nano-units, like the API. */
export function addMoney(a, b) {
  const nano = (s) => {
    const [i, f = ''] = String(s).split('.');
    return BigInt(i) * 1000000000n + BigInt((f + '000000000').slice(0, 9));
  };
  const t = nano(a) + nano(b);
  const i = t / 1000000000n;
  const f = (t % 1000000000n).toString().padStart(9, '0').replace(/0+$/, '');
  return f ? `${i}.${f}` : `${i}`;
}

export function usd(s) {
  return s === null || s === undefined ? '—' : `$${s}`;
}

/** Replaces a section's content in one step, so a refresh does not flicker. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

export function table(headers, rows) {
  return h('div.scroll', h('table',
    h('thead', h('tr', headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', rows.map((r) => h('tr', r.map((c) => h('td', c)))))));
}

export function section(id, title, ...children) {
  return h('section.card', { id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...children);
}
