// The operator's page: top orgs, orgs near a limit, dead letters by reason, pipeline freshness
// and the enforcement mode (with its switch where the server has GET/PUT /api/v1/enforcement).
import { api, optional, enc, ApiError } from './api.js';
import { h, time, num, usd, fill, update, table, section } from './dom.js';

const DAY = 24 * 3600e3;
const SAMPLES = 3;

export function adminPage(main, every) {
  const view = { by: 'cost' };
  const ready = h('dl.kv', { id: 'ready-values' });
  const enforcement = h('div', { id: 'enforcement-body' });
  const top = h('div', { id: 'top-orgs' });
  const near = h('div', { id: 'near-limit' });
  const dead = h('div', { id: 'dead-letter-list' });
  const blocks = h('div', { id: 'block-rate' });
  const problem = h('p.problem', { role: 'alert', hidden: true });
  const byChoice = h('label', 'Rank by ', h('select', { name: 'by', onchange: (e) => { view.by = e.target.value; load(); } },
    ['cost', 'tokens', 'events'].map((b) => h('option', { value: b }, b))));

  fill(main, h('h1', 'All orgs'), problem,
    h('div.grid', section('pipeline', 'Pipeline freshness', ready), section('enforcement', 'Enforcement', enforcement)),
    section('top', 'Top orgs, last 30 days', h('div.controls', byChoice), top),
    section('near', 'Orgs at 80% or more of a hard limit today', near),
    section('blocks', 'Block rate per day, last 30 days', blocks),
    section('dead', 'Dead letters', dead));

  const modeSwitch = enforcementSwitch(() => load());
  let latest = 0; // a load started before a newer one (e.g. a ranking change) does not render
  async function load() {
    const mine = ++latest;
    let dl;
    try {
      dl = await api('/api/v1/dead-letters?limit=200');
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) {
        fill(main, h('h1', 'All orgs'), h('p.problem', { role: 'alert', id: 'refusal' },
          'This page needs an admin key; this key belongs to one org.'));
        return false;
      }
      throw e;
    }
    const rd = await api('/ready').catch((e) => (e.status === 503 ? { status: 'not_ready', database: 'down' } : null));
    const anchor = rd && rd.usageAsOf ? Date.parse(rd.usageAsOf) : Date.now();
    const tomorrow = new Date(Math.floor(anchor / DAY) * DAY + DAY);
    const day = (d) => d.toISOString().slice(0, 10);
    const from = day(new Date(tomorrow - 30 * DAY)), today = day(new Date(tomorrow - DAY));
    const [topOrgs, nearOrgs, outcomes, mode] = await Promise.all([
      api(`/api/v1/reports/top-orgs?from=${from}&to=${day(tomorrow)}&by=${view.by}&limit=20`),
      api(`/api/v1/reports/top-orgs?from=${today}&to=${day(tomorrow)}&nearLimit=0.8&limit=20`),
      optional(`/api/v1/reports/check-outcomes?from=${from}&to=${day(tomorrow)}`),
      optional('/api/v1/enforcement')]);
    if (mine !== latest) return true;

    update(ready,
      h('dt', 'Status'), h('dd', { id: 'ready-status' }, rd ? rd.status : 'unknown'),
      h('dt', 'Database'), h('dd', rd ? rd.database : '—'),
      h('dt', 'Usage as of'), h('dd', time(rd && rd.usageAsOf), rd && rd.stale ? h('strong.stale', ' (stale)') : ''),
      h('dt', 'Catalog version'), h('dd', rd && rd.catalogVersion !== undefined ? String(rd.catalogVersion) : '—'));
    if (!mode) {
      // a server without GET/PUT /api/v1/enforcement (DESIGN §7.5)
      update(enforcement, h('p.muted', { id: 'enforcement-placeholder' },
        'Set at start-up by METERING_ENFORCEMENT (and per org by the subscription\'s enforcement); '
        + 'this server has no runtime switch.'));
    } else {
      if (!enforcement.contains(modeSwitch.element)) fill(enforcement, modeSwitch.element);
      modeSwitch.show(mode);
    }
    update(top, orgTable(topOrgs.orgs));
    // nearestLimit gives used and limit as decimal strings whatever the meter: grouped, not priced
    const amount = (v) => String(v).replace(/^\d+/, (i) => BigInt(i).toLocaleString('en-US'));
    update(near, nearOrgs.orgs.length ? table(['Org', 'Plan', 'Limit', 'Window', 'Used', 'Max', 'Used %', 'Resets'],
      nearOrgs.orgs.map(({ orgId, plan, nearestLimit: n }) => [orgLink(orgId), plan, n.id, n.window, amount(n.used),
        amount(n.limit), `${(Number(n.ratio) * 100).toFixed(1)}%`, time(n.resetsAt)]), 'Orgs near a limit',
      { numeric: [4, 5, 6], nowrap: [0, 1, 2, 3] }) : h('p.muted', 'None.'));
    update(dead, deadLetters(dl.deadLetters));
    blocks.closest('section').hidden = !outcomes;
    if (outcomes) update(blocks, blockRate(outcomes.days));
    return true;
  }
  every(load, problem);
}

function orgLink(orgId) {
  return h('a', { href: `/ui/org/${enc(orgId)}` }, orgId);
}

function orgTable(orgs) {
  if (!orgs.length) return h('p.muted', 'No usage in this range.');
  return table(['#', 'Org', 'Plan', 'Events', 'Tokens', 'Cost'], orgs.map((o, i) => [String(i + 1), orgLink(o.orgId),
    o.plan, num(o.events), num(o.tokens), usd(o.costUsd)]), 'Top orgs', { numeric: [0, 3, 4, 5], nowrap: [1, 2] });
}

function blockRate(days) {
  if (!days.length) return h('p.muted', 'No checks.');
  return table(['Day (UTC)', 'Checks', 'Blocked', 'Would block', 'Block rate'], [...days].reverse().map((d) => [
    d.day, num(d.checks), num(d.blocked), num(d.wouldBlock), `${(Number(d.blockRate) * 100).toFixed(2)}%`]),
  'Block rate per day', { numeric: [1, 2, 3, 4] });
}

function deadLetters(list) {
  if (!list.length) return h('p.muted', 'No dead letters.');
  const byReason = new Map();
  for (const d of list) byReason.set(d.reason, [...(byReason.get(d.reason) || []), d]);
  return [h('p.muted', `The newest ${list.length} by reason, with up to ${SAMPLES} samples each.`),
    ...[...byReason.entries()].map(([reason, ds]) => h('div.reason', { 'data-reason': reason },
      h('h3', `${reason} · ${ds.length}`),
      table(['Received', 'Message', 'Record'], ds.slice(0, SAMPLES).map((d) => [time(d.receivedAt),
        h('span.message', d.message), `${d.topic}/${d.partition}@${d.offset}`]), `Dead letters: ${reason}`, { stack: true })))];
}

/**
 * The global mode and its switch, built once: a refresh only changes the values shown (never
 * while the admin is choosing). Apply asks for a confirmation naming the change; only Confirm
 * sends the PUT.
 */
function enforcementSwitch(reload) {
  let current = null;
  let editing = false; // from the first change of a control until Apply, Confirm or Cancel
  const now = h('strong', { id: 'mode-now' });
  const canaryNow = h('span', { id: 'canary-now' });
  const overrides = h('span.muted', { id: 'mode-overrides' });
  const changed = h('span.muted', { id: 'mode-changed' });
  const mode = h('select', { name: 'mode', id: 'mode' }, ['off', 'shadow', 'enforce'].map((m) => h('option', { value: m }, m)));
  const canary = h('input', { type: 'number', name: 'canaryPercent', id: 'canary', min: 0, max: 100, step: 1,
    inputmode: 'numeric' });
  const status = h('p.muted', { id: 'mode-status', role: 'status' });
  const question = h('p', { id: 'mode-question' });
  const confirmButton = h('button', { type: 'button', id: 'mode-confirm' }, 'Confirm switch');
  const cancelButton = h('button.secondary', { type: 'button', id: 'mode-cancel' }, 'Cancel');
  const confirmation = h('div.confirm', { id: 'mode-confirmation', role: 'alertdialog', 'aria-labelledby': 'mode-question',
    hidden: true }, question, h('div.controls', confirmButton, cancelButton));
  const form = h('form.controls', { id: 'enforcement-form', 'aria-label': 'Change the global enforcement mode' },
    h('label', { for: 'mode' }, 'Mode'), mode,
    h('label', { for: 'canary' }, 'Canary %'), canary,
    h('button', { type: 'submit', id: 'mode-apply' }, 'Apply'));
  const element = h('div',
    h('p', 'Global mode ', now, ', canary ', canaryNow, overrides),
    h('p.muted', changed), form, confirmation, status);

  const close = () => {
    confirmation.hidden = true;
    mode.disabled = false;
    canary.disabled = false;
  };
  const reset = () => {
    editing = false;
    close();
    if (current) {
      mode.value = current.mode;
      canary.value = String(current.canaryPercent ?? 0);
    }
  };
  mode.addEventListener('change', () => { editing = true; });
  canary.addEventListener('input', () => { editing = true; });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const pctValue = Number(canary.value);
    if (!Number.isInteger(pctValue) || pctValue < 0 || pctValue > 100) {
      status.textContent = 'Canary % must be a whole number from 0 to 100.';
      canary.focus();
      return;
    }
    editing = true;
    question.textContent = `Switch enforcement for every org without its own mode from ${current.mode} `
      + `(canary ${current.canaryPercent ?? 0}%) to ${mode.value} (canary ${pctValue}%)? Every instance follows within a second.`;
    mode.disabled = true;
    canary.disabled = true;
    confirmation.hidden = false;
    confirmButton.focus();
  });
  cancelButton.addEventListener('click', () => {
    reset();
    status.textContent = 'Not changed.';
    mode.focus();
  });
  confirmation.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') cancelButton.click();
  });
  confirmButton.addEventListener('click', async () => {
    confirmButton.disabled = true;
    try {
      const body = { mode: mode.value, canaryPercent: Number(canary.value) };
      const saved = await api('/api/v1/enforcement', { method: 'PUT', body });
      status.textContent = `Switched to ${saved.mode}.`;
      current = null; // show the stored value at once
      reset();
      show(saved);
      mode.focus();
      reload();
    } catch (err) {
      status.textContent = `Refused: ${err.message}`;
      close();
    } finally {
      confirmButton.disabled = false;
    }
  });

  function show(m) {
    current = m;
    now.textContent = m.mode;
    canaryNow.textContent = `${m.canaryPercent ?? 0}%`;
    const n = Number(m.orgOverrides) || 0;
    overrides.textContent = n ? ` · ${n} org${n === 1 ? '' : 's'} with their own mode` : '';
    changed.replaceChildren(...(m.updatedAt ? ['changed ', time(m.updatedAt), m.updatedBy ? ` by ${m.updatedBy}` : '']
      : ['set at start-up by METERING_ENFORCEMENT; not switched since']));
    if (!editing) {
      mode.value = m.mode;
      canary.value = String(m.canaryPercent ?? 0);
    }
  }
  return { element, show };
}
