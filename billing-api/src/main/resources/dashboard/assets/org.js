// One org: plan and period, every limit as a bar (the numbers of GET .../limits as they are),
// balance and grants, usage over time, cost by model, top users, recent events and alerts.
// Built once per visit; each refresh changes values in place (update), never the page.
import { api, optional, enc, ApiError } from './api.js';
import { h, time, num, usd, addMoney, fill, update, table, section } from './dom.js';
import { stackedBars } from './chart.js';

const HOUR = 3600e3, DAY = 24 * HOUR;
const LIST = 20; // rows of the events, grants and alerts lists
const RANGES = {
  hour: { label: 'last 24 hours', step: HOUR, count: 24 },
  day: { label: 'last 30 days', step: DAY, count: 30 },
};
const METRICS = {
  events: { label: 'events', of: (r) => r.events },
  tokens: { label: 'tokens', of: (r) => r.tokens },
  costUsd: { label: 'USD', of: (r) => Number(r.costUsd) },
};

export function orgPage(main, orgId, every) {
  const view = { granularity: 'hour', groupBy: 'feature', metric: 'events' };
  const summary = h('div.summary', { id: 'summary' });
  const limits = h('ul.limits', { id: 'limit-list' });
  const balance = h('dl.kv', { id: 'balance-values' });
  const grants = h('div', { id: 'grant-list' });
  const chart = h('div', { id: 'usage-chart' });
  const models = h('div', { id: 'cost-by-model' });
  const users = h('div', { id: 'top-users' });
  const events = h('div', { id: 'event-list' });
  const alerts = h('div', { id: 'alert-list' });
  const alertSection = section('alerts', 'Alerts', alerts);
  const problem = h('p.problem', { role: 'alert', hidden: true });

  const choice = (name, label, options, onChange) => h('label', label, ' ',
    h('select', { name, onchange: (e) => { view[name] = e.target.value; onChange(); } },
      Object.entries(options).map(([v, t]) => h('option', { value: v, selected: view[name] === v }, t))));
  const controls = h('div.controls', { role: 'group', 'aria-label': 'Usage chart options' },
    choice('granularity', 'Per', { hour: 'hour (last 24 h)', day: 'day (last 30 days)' }, () => load()),
    choice('groupBy', 'By', { feature: 'feature', model: 'model' }, () => load()),
    choice('metric', 'Show', { events: 'events', tokens: 'tokens', costUsd: 'cost (USD)' }, () => load()));

  fill(main,
    h('h1', 'Org ', h('span.id', { id: 'org-id' }, orgId)),
    problem, summary,
    h('div.grid',
      section('limits', 'Limits', limits),
      section('balance', 'Balance', balance, h('h3', { id: 'grants-title' }, 'Grants'), grants)),
    section('usage', 'Usage over time', controls, chart),
    h('div.grid',
      section('models', 'Cost by model', models),
      section('users', 'Top users', users)),
    section('events', 'Recent events', events),
    alertSection);

  const base = `/api/v1/usage/${enc(orgId)}`;
  let latest = 0; // a load started before a newer one (e.g. an option change) does not render
  async function load() {
    const mine = ++latest;
    let l;
    try {
      l = await api(`${base}/limits`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) {
        fill(main, h('h1', 'Org ', h('span.id', orgId)),
          h('p.problem', { role: 'alert', id: 'refusal' }, `This key may not open this org: ${e.message}.`));
        return false;
      }
      throw e;
    }
    const anchor = l.usageAsOf ? Date.parse(l.usageAsOf) : Date.now();
    const r = RANGES[view.granularity];
    const end = Math.floor(anchor / r.step) * r.step + r.step;
    const from = new Date(end - r.count * r.step).toISOString(), to = new Date(end).toISOString();
    const q = (groupBy) => api(`${base}/report?from=${enc(from)}&to=${enc(to)}&granularity=${view.granularity}&groupBy=${groupBy}`);
    const [sub, bal, ready, series, byModel, byUser, ev, global, gr, al] = await Promise.all([
      optional(`/api/v1/orgs/${enc(orgId)}/subscription`), api(`/api/v1/orgs/${enc(orgId)}/balance`),
      api('/ready').catch(() => null), q(view.groupBy),
      view.groupBy === 'model' ? null : q('model'), q('user'),
      // 404 EVENT_LOG_OFF: the server counts events without keeping each one; said so on the page
      api(`${base}/events?limit=${LIST}`).catch((e) => {
        if (e.code === 'EVENT_LOG_OFF') return { off: true };
        if (e.status === 404) return null;
        throw e;
      }),
      // the global mode, where the server has the endpoint and the key may read it (admin)
      api('/api/v1/enforcement').catch(() => null),
      optional(`/api/v1/orgs/${enc(orgId)}/credits?limit=${LIST}`), optional(`${base}/alerts?limit=${LIST}`)]);
    if (mine !== latest) return true;
    const mode = sub && sub.enforcement ? `${sub.enforcement} (this org)`
      : global ? `${global.mode} (global)` : 'server default';

    update(summary,
      h('span', 'Plan ', h('strong', { id: 'plan' }, l.plan)),
      h('span', 'Period ', time(l.periodStart), ' – ', time(l.periodEnd)),
      h('span', 'Enforcement ', h('strong', mode)),
      h('span', { id: 'freshness' }, 'Usage as of ', time(l.usageAsOf),
        ready && ready.stale ? h('strong.stale', ' (stale)') : ''));
    update(limits, l.limits.length ? l.limits.map((x) => limitBar(x, mode)) : h('li.muted', 'This plan has no limits.'));
    update(balance,
      h('dt', 'Balance'), h('dd', { id: 'balance-usd' }, usd(bal.balanceUsd)),
      h('dt', 'Granted'), h('dd', { id: 'granted-usd' }, usd(bal.grantedUsd)),
      h('dt', 'Used'), h('dd', { id: 'used-usd' }, usd(bal.usedUsd)));
    update(grants, gr ? grantList(gr.items) : h('p.muted', 'This server does not list grants.'));
    update(chart, usageChart(series, from, to, r, view, Math.min(Math.max(chart.clientWidth, 280), 1200)));
    update(models, modelTable(byModel || series, r.label));
    update(users, userTable(byUser, r.label));
    update(events, !ev ? h('p.muted', 'This server does not list events.')
      : ev.off ? h('p.notice', { id: 'events-off' }, 'The event log is off on this server: usage is counted, but single '
        + 'events are not kept, so none can be listed here (METERING_EVENT_LOG=on keeps them).')
        : eventTable(ev.items));
    alertSection.hidden = !al;
    if (al) update(alerts, alertTable(al.items));
    return true;
  }
  every(load, problem);
}

function limitBar(l, mode) {
  const money = l.meter === 'cost_usd';
  const show = (v) => (money ? usd(v) : num(v));
  const ratio = Number(l.limit) > 0 ? Math.min(Number(l.used) / Number(l.limit), 1) : 1;
  const level = l.exceeded ? 'over' : ratio >= 0.8 ? 'warn' : 'ok';
  const fillEl = h(`div.fill.${level}`);
  fillEl.style.width = `${(ratio * 100).toFixed(1)}%`;
  return h('li.limit', { 'data-limit-id': l.id, 'data-key': l.id },
    h('div.limit-head',
      h('strong.limit-name', l.id),
      h('span.muted', ` ${l.feature || 'all features'} · ${l.meter} · ${l.window} · ${l.scope}`),
      h(`span.badge.${l.enforcement}`, l.enforcement),
      l.exceeded ? h('span.badge.over', 'exceeded') : null),
    h('div.bar', { role: 'progressbar', 'aria-label': `${l.id}: ${l.used} of ${l.limit} used`,
      'aria-valuemin': 0, 'aria-valuemax': l.limit, 'aria-valuenow': l.used }, fillEl),
    h('div.limit-nums',
      h('span.used', show(l.used)), ' of ', h('span.max', show(l.limit)), ' used · ',
      h('span.remaining', show(l.remaining)), ' remaining · resets ', time(l.resetsAt), ` · mode ${mode}`));
}

const groupName = (r, by) => (by === 'model' ? (r.model ? `${r.provider}/${r.model}` : '(no model)') : r.feature);

function usageChart(report, from, to, r, view, width) {
  const m = METRICS[view.metric];
  const periods = Array.from({ length: r.count }, (_, i) => new Date(Date.parse(from) + i * r.step).toISOString());
  const cells = report.rows.map((row) => ({ period: new Date(row.period).toISOString(),
    group: groupName(row, view.groupBy), value: m.of(row) }));
  const label = (p, short) => {
    const d = new Date(p);
    return view.granularity === 'hour'
      ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      : d.toLocaleDateString([], short ? { month: 'short', day: 'numeric' } : undefined);
  };
  const { svg, groups } = stackedBars(periods, cells, label, m.label, width);
  let events = 0, tokens = 0, cost = '0';
  for (const row of report.rows) {
    events += row.events; tokens += row.tokens; cost = addMoney(cost, row.costUsd);
  }
  return [
    h('p.total', { id: 'usage-total', 'data-from': from, 'data-to': to }, `${r.label}: `,
      h('strong', { id: 'total-events' }, num(events)), ' events · ',
      h('strong', { id: 'total-tokens' }, num(tokens)), ' tokens · ',
      h('strong', { id: 'total-cost' }, usd(cost))),
    svg,
    h('ul.legend', groups.map((g, i) => h('li', h(`span.swatch.s${i % 8}`), g || '(none)'))),
  ];
}

function sumBy(rows, keyOf) {
  const out = new Map();
  for (const r of rows) {
    const k = keyOf(r);
    const t = out.get(k) || { key: k, events: 0, tokens: 0, costUsd: '0' };
    t.events += r.events; t.tokens += r.tokens; t.costUsd = addMoney(t.costUsd, r.costUsd);
    out.set(k, t);
  }
  return [...out.values()].sort((a, b) => Number(b.costUsd) - Number(a.costUsd) || b.events - a.events);
}

function modelTable(report, label) {
  const rows = sumBy(report.rows, (r) => groupName(r, 'model'));
  return [h('p.muted', label),
    rows.length ? table(['Model', 'Events', 'Tokens', 'Cost'],
      rows.map((t) => [t.key, num(t.events), num(t.tokens), usd(t.costUsd)]), 'Cost by model', { numeric: [1, 2, 3] })
      : h('p.muted', 'No usage.')];
}

function userTable(report, label) {
  const rows = sumBy(report.rows, (r) => r.userId || '(no user)').slice(0, 10);
  return [h('p.muted', label),
    rows.length ? table(['User', 'Events', 'Tokens', 'Cost'],
      rows.map((t) => [t.key, num(t.events), num(t.tokens), usd(t.costUsd)]), 'Top users', { numeric: [1, 2, 3] })
      : h('p.muted', 'No usage.')];
}

function eventTable(items) {
  if (!items.length) return h('p.muted', 'No events yet.');
  const tokens = (e) => e.inputTokens + e.cachedInputTokens + (e.cacheWriteTokens || 0) + e.outputTokens;
  return table(['Time', 'Event', 'Feature', 'User', 'Model', 'Tokens', 'Cost'], items.map((e) => [time(e.occurredAt),
    h('span.id', e.eventId), e.feature, e.userId || '', e.model ? `${e.provider}/${e.model}` : '', num(tokens(e)),
    e.priced || !e.model ? usd(e.costUsd)
      : h('span.muted', { title: 'no price for this model at that time' }, `${usd(e.costUsd)} (unpriced)`)]),
  'Recent events', { numeric: [5, 6] });
}

/** Each grant on two lines (the balance column is narrow): amount and status, then its times and reason. */
function grantList(items) {
  if (!items.length) return h('p.muted', 'No credit grants.');
  return h('ul.grants', items.map((g) => h('li.grant', { 'data-grant-id': g.id },
    h('div', h('strong.amount', usd(g.amountUsd)), ' ', h(`span.badge.${g.active ? 'soft' : 'expired'}.status`,
      g.active ? 'active' : 'expired'), g.welcomePlanId ? h('span.muted', ` welcome credit of ${g.welcomePlanId}`) : null),
    h('div.muted', 'granted ', time(g.grantedAt), ' · ', g.expiresAt ? ['expires ', time(g.expiresAt)] : 'never expires'),
    h('div.muted.reason', g.reason, g.grantId ? ` · ${g.grantId}` : ''))));
}

const pct = (f) => `${+(Number(f) * 100).toFixed(2)}%`;

function alertText(a) {
  const d = a.data || {};
  switch (a.type) {
    case 'limit.threshold_reached':
      return [`${d.limitId}${d.userId ? ` (user ${d.userId})` : ''} reached ${pct(d.threshold)}: `,
        d.meter === 'cost_usd' ? `${usd(d.used)} of ${usd(d.limit)}` : `${num(d.used)} of ${num(d.limit)}`,
        ' · resets ', time(d.resetsAt)];
    case 'balance.low':
      return `balance ${usd(d.balanceUsd)} is below ${usd(d.thresholdUsd)}`;
    case 'credits.expiring':
      return [`grant ${d.grantId} of ${usd(d.amountUsd)} expires `, time(d.expiresAt)];
    default:
      return JSON.stringify(d);
  }
}

function alertTable(items) {
  if (!items.length) return h('p.muted', 'No alerts recorded.');
  return table(['Recorded', 'Type', 'What'], items.map((a) => {
    const row = [time(a.createdAt), h('span.id', a.type), h('span', alertText(a))];
    row.key = String(a.id);
    return row;
  }), 'Alerts', { stack: true });
}
