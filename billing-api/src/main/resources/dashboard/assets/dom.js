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

const present = (children) => children.flat().filter((c) => c !== null && c !== undefined && c !== false)
  .map((c) => (c instanceof Node ? c : document.createTextNode(String(c))));

/** Replaces an element's content (a new page or form; its listeners come with it). */
export function fill(el, ...children) {
  el.replaceChildren(...present(children));
}

/**
 * Makes an element's content equal to `children` by changing the nodes already there: text and
 * attributes in place, nodes added or removed only where the shape changed. A refresh therefore
 * keeps scroll position, focus, selection and hover titles, and nothing blinks. Nodes are matched
 * by position, type and data-key; listeners of the new nodes are not carried over, so refreshed
 * content has none (controls are built once per page).
 */
export function update(el, ...children) {
  morphChildren(el, present(children));
}

function morphChildren(el, next) {
  const old = [...el.childNodes];
  next.forEach((n, i) => {
    const o = old[i];
    if (!o) el.append(n);
    else if (sameKind(o, n)) morph(o, n);
    else el.replaceChild(n, o);
  });
  for (let i = next.length; i < old.length; i++) old[i].remove();
}

function sameKind(o, n) {
  return o.nodeType === n.nodeType && o.nodeName === n.nodeName && o.namespaceURI === n.namespaceURI
    && (o.nodeType !== Node.ELEMENT_NODE || o.getAttribute('data-key') === n.getAttribute('data-key'));
}

function morph(o, n) {
  if (o.nodeType === Node.TEXT_NODE) {
    if (o.nodeValue !== n.nodeValue) o.nodeValue = n.nodeValue;
    return;
  }
  if (o.nodeType !== Node.ELEMENT_NODE) return;
  for (const a of [...o.attributes]) if (!n.hasAttribute(a.name)) o.removeAttribute(a.name);
  for (const a of n.attributes) {
    // styles through the CSSOM: the policy refuses style attributes written as text
    if (a.name === 'style') {
      if (o.style.cssText !== n.style.cssText) o.style.cssText = n.style.cssText;
    } else if (o.getAttribute(a.name) !== a.value) {
      o.setAttribute(a.name, a.value);
    }
  }
  morphChildren(o, [...n.childNodes]);
}

/**
 * A table; `label` names it for screen readers; a row may carry its key as `row.key` (an array
 * property). `numeric` lists the columns of numbers (right-aligned, never wrapped, so digits line
 * up), `nowrap` those of short ids (an org id broken in two reads as two). Tables of more than
 * four columns (or with `stack`, long text) become one card per row on narrow screens (each cell
 * labelled by its column, from data-label); others scroll in their box.
 */
export function table(headers, rows, label, { stack = headers.length > 4, numeric = [], nowrap = [] } = {}) {
  const cls = (i) => (numeric.includes(i) ? 'num' : nowrap.includes(i) ? 'nowrap' : null);
  return h('div.scroll', { tabindex: 0, role: label ? 'region' : null, 'aria-label': label },
    h(stack ? 'table.stack' : 'table',
      h('thead', h('tr', headers.map((t, i) => h('th', { scope: 'col', class: cls(i) }, t)))),
      h('tbody', rows.map((r) => h('tr', { 'data-key': r.key },
        r.map((c, i) => h('td', { 'data-label': headers[i], class: cls(i) }, c)))))));
}

export function section(id, title, ...children) {
  return h('section.card', { id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...children);
}
