// One org: plan and period, every limit as a bar (the numbers of GET .../limits as they are),
// balance, usage over time, cost by model, top users, recent events where the server has them.
import { api, optional, enc, ApiError } from './api.js';
import { h, time, num, usd, addMoney, fill, table, section } from './dom.js';
import { stackedBars } from './chart.js';

const HOUR = 3600e3, DAY = 24 * HOUR;
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
  const chart = h('div', { id: 'usage-chart' });
  const models = h('div', { id: 'cost-by-model' });
  const users = h('div', { id: 'top-users' });
  const events = section('events', 'Recent events', h('div', { id: 'event-list' }));
  events.hidden = true;
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
      section('balance', 'Balance', balance)),
    section('usage', 'Usage over time', controls, chart),
    h('div.grid',
      section('models', 'Cost by model', models),
      section('users', 'Top users', users)),
    events);

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
    const [sub, bal, ready, series, byModel, byUser, ev, global] = await Promise.all([
      optional(`/api/v1/orgs/${enc(orgId)}/subscription`), api(`/api/v1/orgs/${enc(orgId)}/balance`),
      api('/ready').catch(() => null), q(view.groupBy),
      view.groupBy === 'model' ? null : q('model'), q('user'), optional(`${base}/events?limit=20`),
      // the global mode, where the server has the endpoint and the key may read it (admin)
      api('/api/v1/enforcement').catch(() => null)]);
    if (mine !== latest) return true;
    const mode = sub && sub.enforcement ? `${sub.enforcement} (this org)`
      : global ? `${global.mode} (global)` : 'server default';

    fill(summary,
      h('span', 'Plan ', h('strong', { id: 'plan' }, l.plan)),
      h('span', 'Period ', time(l.periodStart), ' – ', time(l.periodEnd)),
      h('span', 'Enforcement ', h('strong', mode)),
      h('span', { id: 'freshness' }, 'Usage as of ', time(l.usageAsOf),
        ready && ready.stale ? h('strong.stale', ' (stale)') : ''));
    fill(limits, l.limits.length ? l.limits.map((x) => limitBar(x, mode)) : h('li.muted', 'This plan has no limits.'));
    fill(balance,
      h('dt', 'Balance'), h('dd', { id: 'balance-usd' }, usd(bal.balanceUsd)),
      h('dt', 'Granted'), h('dd', usd(bal.grantedUsd)),
      h('dt', 'Used'), h('dd', usd(bal.usedUsd)));
    fill(chart, usageChart(series, from, r, view, Math.min(Math.max(chart.clientWidth, 320), 1200)));
    fill(models, modelTable(byModel || series, r.label));
    fill(users, userTable(byUser, r.label));
    events.hidden = !ev;
    if (ev) fill(events.querySelector('#event-list'), eventTable(ev));
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
  return h('li.limit', { 'data-limit-id': l.id },
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

function usageChart(report, from, r, view, width) {
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
    h('p.total', { id: 'usage-total' }, `${r.label}: `,
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
      rows.map((t) => [t.key, num(t.events), num(t.tokens), usd(t.costUsd)])) : h('p.muted', 'No usage.')];
}

function userTable(report, label) {
  const rows = sumBy(report.rows, (r) => r.userId || '(no user)').slice(0, 10);
  return [h('p.muted', label),
    rows.length ? table(['User', 'Events', 'Tokens', 'Cost'],
      rows.map((t) => [t.key, num(t.events), num(t.tokens), usd(t.costUsd)])) : h('p.muted', 'No usage.')];
}

function eventTable(body) {
  const items = body.items || body.events || [];
  return items.length
    ? table(['Time', 'Event', 'Feature', 'User', 'Model', 'Cost'], items.map((e) => [time(e.occurredAt), e.eventId,
      e.feature, e.userId || '', e.model || '', usd(e.costUsd)]))
    : h('p.muted', 'No events.');
}
