// Entry point: sign-in, the page for the path (/ui/org/{orgId} or /ui/admin), refresh every 5 s.
import { api, key, ApiError } from './api.js';
import { h, fill } from './dom.js';
import { orgPage } from './org.js';
import { adminPage } from './admin.js';

const REFRESH_MS = 5000;
const main = document.getElementById('main');
let session = 0; // bumped on sign-out: the previous page's refresh loop stops

/** Runs load() now and every REFRESH_MS while the tab is visible; failures show in `problem`. */
function every(load, problem) {
  const mine = session;
  let timer = null;
  const run = async () => {
    clearTimeout(timer);
    if (mine !== session) return;
    let again = true;
    try {
      again = (await load()) !== false;
      problem.hidden = true;
      // how many refreshes have rendered: lets a test wait for the next one instead of sleeping
      document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        signOut('The API key is invalid or has been revoked.');
        return;
      }
      problem.textContent = `Could not refresh: ${e.message}`;
      problem.hidden = false;
    }
    if (again && mine === session) timer = setTimeout(run, REFRESH_MS);
  };
  document.addEventListener('visibilitychange', () => { if (!document.hidden) run(); });
  run();
}

function signInForm(message) {
  const input = h('input', { id: 'api-key', name: 'key', type: 'password', autocomplete: 'off', required: true,
    spellcheck: 'false' });
  const error = h('p.problem', { id: 'signin-error', role: 'alert', hidden: !message }, message || '');
  const form = h('form.card.signin', { id: 'signin' },
    h('h1', 'Sign in'),
    h('p', 'Paste an API key: an org key shows its org, an admin key every org. The key stays in this tab only.'),
    h('label', { for: 'api-key' }, 'API key'), input,
    h('button', { type: 'submit' }, 'Sign in'), error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    key.set(input.value.trim());
    try {
      const me = await api('/api/v1/me');
      if (location.pathname === '/' || location.pathname === '/ui' || location.pathname === '/ui/') {
        history.replaceState(null, '', home(me));
      }
      start(me);
    } catch (err) {
      key.clear();
      error.textContent = err.status === 401 ? 'This API key is invalid or has been revoked.' : err.message;
      error.hidden = false;
      input.select();
    }
  });
  fill(main, form);
  input.focus();
}

function home(me) {
  return me.orgId === null ? '/ui/admin' : `/ui/org/${encodeURIComponent(me.orgId)}`;
}

function signOut(message) {
  session += 1;
  key.clear();
  document.getElementById('signout').hidden = true;
  fill(document.getElementById('nav'));
  fill(document.getElementById('who'));
  signInForm(message);
}

function start(me) {
  let path = location.pathname;
  if (path === '/' || path === '/ui' || path === '/ui/') {
    path = home(me);
    history.replaceState(null, '', path);
  }
  const nav = document.getElementById('nav');
  fill(nav, me.orgId === null ? h('a', { href: '/ui/admin' }, 'All orgs') : h('a', { href: home(me) }, 'My org'));
  fill(document.getElementById('who'), me.orgId === null ? 'admin key' : `key of ${me.orgId}`);
  const out = document.getElementById('signout');
  out.hidden = false;
  out.onclick = () => {
    history.replaceState(null, '', '/');
    signOut();
  };
  const org = path.match(/^\/ui\/org\/([^/]+)$/);
  if (org) orgPage(main, decodeURIComponent(org[1]), every);
  else if (path === '/ui/admin') adminPage(main, every);
  else fill(main, h('p.problem', { role: 'alert' }, 'No such page.'));
}

async function boot() {
  if (!key.get()) {
    signInForm();
    return;
  }
  try {
    start(await api('/api/v1/me'));
  } catch (e) {
    if (e.status === 401) signOut('The API key is invalid or has been revoked.');
    else fill(main, h('p.problem', { role: 'alert' }, `The server did not answer: ${e.message}`));
  }
}

boot();
