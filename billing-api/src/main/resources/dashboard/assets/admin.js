// The operator's page: top orgs, orgs near a limit, dead letters by reason, pipeline freshness
// and the enforcement mode (with its switch where the server has GET/PUT /api/v1/enforcement).
import { api, optional, enc, ApiError } from './api.js';
import { h, time, num, usd, fill, table, section } from './dom.js';

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
    h('div.grid', section('near', 'Orgs at 80% or more of a hard limit today', near),
      section('blocks', 'Block rate per day, last 30 days', blocks)),
    section('dead', 'Dead letters', dead));

  let switchShown = false;
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

    fill(ready,
      h('dt', 'Status'), h('dd', { id: 'ready-status' }, rd ? rd.status : 'unknown'),
      h('dt', 'Database'), h('dd', rd ? rd.database : '—'),
      h('dt', 'Usage as of'), h('dd', time(rd && rd.usageAsOf), rd && rd.stale ? h('strong.stale', ' (stale)') : ''),
      h('dt', 'Catalog version'), h('dd', rd && rd.catalogVersion !== undefined ? String(rd.catalogVersion) : '—'));
    if (!mode) {
      // Placeholder until the server has GET/PUT /api/v1/enforcement (DESIGN §7.5).
      fill(enforcement, h('p.muted', { id: 'enforcement-placeholder' },
        'Set at start-up by METERING_ENFORCEMENT (and per org by the subscription\'s enforcement); '
        + 'this server has no runtime switch.'));
    } else if (!switchShown || !enforcement.contains(document.activeElement)) {
      fill(enforcement, modeSwitch(mode, load));
      switchShown = true;
    }
    fill(top, orgTable(topOrgs.orgs));
    // nearestLimit gives used and limit as decimal strings whatever the meter: grouped, not priced
    const amount = (v) => String(v).replace(/^\d+/, (i) => BigInt(i).toLocaleString('en-US'));
    fill(near, nearOrgs.orgs.length ? table(['Org', 'Plan', 'Limit', 'Window', 'Used', 'Max', 'Used %', 'Resets'],
      nearOrgs.orgs.map(({ orgId, plan, nearestLimit: n }) => [orgLink(orgId), plan, n.id, n.window, amount(n.used),
        amount(n.limit), `${(Number(n.ratio) * 100).toFixed(1)}%`, time(n.resetsAt)])) : h('p.muted', 'None.'));
    fill(dead, deadLetters(dl.deadLetters));
    blocks.closest('section').hidden = !outcomes;
    if (outcomes) fill(blocks, blockRate(outcomes.days));
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
    o.plan, num(o.events), num(o.tokens), usd(o.costUsd)]));
}

function blockRate(days) {
  if (!days.length) return h('p.muted', 'No checks.');
  return table(['Day (UTC)', 'Checks', 'Blocked', 'Would block', 'Block rate'], [...days].reverse().map((d) => [
    d.day, num(d.checks), num(d.blocked), num(d.wouldBlock), `${(Number(d.blockRate) * 100).toFixed(2)}%`]));
}

function deadLetters(list) {
  if (!list.length) return h('p.muted', 'No dead letters.');
  const byReason = new Map();
  for (const d of list) byReason.set(d.reason, [...(byReason.get(d.reason) || []), d]);
  return [h('p.muted', `The newest ${list.length} by reason, with up to ${SAMPLES} samples each.`),
    ...[...byReason.entries()].map(([reason, ds]) => h('div.reason', { 'data-reason': reason },
      h('h3', `${reason} · ${ds.length}`),
      table(['Received', 'Message', 'Record'], ds.slice(0, SAMPLES).map((d) => [time(d.receivedAt),
        h('span.message', d.message), `${d.topic}/${d.partition}@${d.offset}`]))))];
}

function modeSwitch(current, reload) {
  const mode = h('select', { name: 'mode', id: 'mode' },
    ['off', 'shadow', 'enforce'].map((m) => h('option', { value: m, selected: current.mode === m }, m)));
  const canary = h('input', { type: 'number', name: 'canaryPercent', id: 'canary', min: 0, max: 100,
    value: current.canaryPercent ?? 0 });
  const status = h('span.muted', { role: 'status' });
  const form = h('form.controls', { id: 'enforcement-form' },
    h('label', { for: 'mode' }, 'Mode '), mode,
    h('label', { for: 'canary' }, ' Canary % '), canary,
    h('button', { type: 'submit' }, 'Apply'), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('/api/v1/enforcement', { method: 'PUT',
        body: { mode: mode.value, canaryPercent: Number(canary.value) } });
      status.textContent = ' Applied.';
      document.activeElement.blur();
      reload();
    } catch (err) {
      status.textContent = ` Refused: ${err.message}`;
    }
  });
  return [h('p', 'Global mode ', h('strong', { id: 'mode-now' }, current.mode),
    `, canary ${current.canaryPercent ?? 0}%`), form];
}
