// The rmesos web UI: a hash-routed page over the master's /state (polled
// every ~2 s, slower when /state is slow to come) and, for a task's sandbox,
// its agent's /state, /files/browse, /files/read and /files/download. Every
// value from the cluster goes into the page as text (textContent), never as
// HTML.
'use strict';

const POLL_MS = 2000;
const PAGE = 50;
const TAIL_MS = 1000;
const TAIL_START = 64 * 1024;
const CHUNK = 1024 * 1024; // the most /files/read answers at once
const MAX_EVENTS = 100;

// ---------- small DOM helpers ----------

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

function enc(s) { return encodeURIComponent(s); }
function link(href, text) { return h('a', { href }, text); }
function agentLink(id) { return id ? link('#/agents/' + enc(id), id) : ''; }
function frameworkLink(id) { return id ? link('#/frameworks/' + enc(id), id) : ''; }
function taskLink(fw, id, text) { return link('#/tasks/' + enc(fw) + '/' + enc(id), text || id); }
function stateBadge(s) { return h('span', { class: 'state ' + s }, s); }
function yesNo(b) { return h('span', { class: b ? 'yes' : 'no' }, b ? 'yes' : 'no'); }
function card(title, ...kids) { return h('section', { class: 'card' }, title ? h('h2', {}, title) : null, kids); }
function kv(pairs) { return h('dl', { class: 'kv' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])); }

function fmtTime(secs) {
  if (!secs) return '';
  const d = new Date(secs * 1000);
  return d.toLocaleString();
}
function fmtAgo(secs) {
  if (!secs) return '';
  let s = Math.max(0, Math.round(Date.now() / 1000 - secs));
  const parts = [];
  for (const [n, u] of [[86400, 'd'], [3600, 'h'], [60, 'm']]) {
    if (s >= n) { parts.push(Math.floor(s / n) + u); s %= n; }
  }
  if (parts.length < 2) parts.push(s + 's');
  return parts.slice(0, 2).join(' ');
}
function fmtNum(x) {
  if (x === undefined || x === null) return '';
  return Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/\.?0+$/, '');
}
function fmtMem(mb) {
  if (!mb) return '0 B';
  if (mb >= 1024 * 1024) return fmtNum(mb / 1024 / 1024) + ' TB';
  if (mb >= 1024) return fmtNum(mb / 1024) + ' GB';
  return fmtNum(mb) + ' MB';
}
function fmtBytes(b) {
  if (b < 1024) return b + ' B';
  if (b < 1024 * 1024) return fmtNum(b / 1024) + ' KB';
  return fmtMem(b / 1024 / 1024);
}
function fmtRes(name, v) { return name === 'cpus' ? fmtNum(v || 0) : fmtMem(v || 0); }
function addrOf(pid) { const i = (pid || '').lastIndexOf('@'); return i < 0 ? '' : pid.slice(i + 1); }

// ---------- the cluster, from /state ----------

const app = {
  state: null,      // the last /state
  view: null,       // derived indexes of it
  events: [],       // recent changes seen between two /state reads
  updated: 0,       // Date.now() of the last good read
  page: null,       // the mounted page: { update(view) }
  failures: 0,
};

function derive(st) {
  const v = { agents: new Map(), frameworks: new Map(), tasks: [], byState: {}, executors: [] };
  for (const s of st.slaves || []) v.agents.set(s.id, s);
  const fws = [...(st.frameworks || []).map(f => [f, false]), ...(st.completed_frameworks || []).map(f => [f, true])];
  for (const [f, completed] of fws) {
    v.frameworks.set(f.id, Object.assign({ completed }, f));
    for (const t of f.tasks || []) v.tasks.push(Object.assign({ active: true }, t));
    for (const t of f.completed_tasks || []) v.tasks.push(Object.assign({ active: false }, t));
    for (const e of f.executors || []) v.executors.push(Object.assign({ framework_id: f.id }, e));
  }
  for (const t of v.tasks) {
    v.byState[t.state] = (v.byState[t.state] || 0) + 1;
    const ss = t.statuses || [];
    t.started = ss.length ? ss[0].timestamp : undefined;
    t.updated = ss.length ? ss[ss.length - 1].timestamp : undefined;
  }
  v.taskIndex = new Map(v.tasks.map(t => [t.framework_id + '\u0000' + t.id, t]));
  return v;
}

function note(text, href) {
  app.events.unshift({ at: Date.now(), text, href });
  app.events.length = Math.min(app.events.length, MAX_EVENTS);
}

// What changed between two reads, as events for the overview.
function diff(old, now) {
  if (!old) { note('connected to master ' + (app.state.pid || '')); return; }
  for (const [id, a] of now.agents) if (!old.agents.has(id)) note('agent ' + a.hostname + ' registered (' + id + ')', '#/agents/' + enc(id));
  for (const [id] of old.agents) if (!now.agents.has(id)) note('agent ' + id + ' removed');
  for (const [id, f] of now.frameworks) {
    const was = old.frameworks.get(id);
    if (!was) note('framework ' + f.name + ' registered (' + id + ')', '#/frameworks/' + enc(id));
    else if (!was.completed && f.completed) note('framework ' + f.name + ' completed', '#/frameworks/' + enc(id));
  }
  for (const [key, t] of now.taskIndex) {
    const was = old.taskIndex.get(key);
    if (!was || was.state !== t.state) note('task ' + t.id + ' ' + t.state, '#/tasks/' + enc(t.framework_id) + '/' + enc(t.id));
  }
}

async function getJSON(url) {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(url + ': HTTP ' + r.status + ' ' + (await r.text()).trim());
  return r.json();
}

async function poll() {
  const began = Date.now();
  try {
    const st = await getJSON('/state');
    app.state = st;
    const old = app.view;
    app.view = derive(st);
    diff(old, app.view);
    app.updated = Date.now();
    app.failures = 0;
    document.getElementById('live').textContent = 'live';
    showBanner();
    if (!app.page) route();
    else app.page.update(app.view);
  } catch (e) {
    app.failures += 1;
    showBanner('cannot read /state from this master: ' + e.message, true);
  }
  const took = Date.now() - began;
  setTimeout(poll, Math.max(POLL_MS, 3 * took));
}

function showBanner(error, isError) {
  const b = document.getElementById('banner');
  b.replaceChildren();
  b.className = 'banner' + (isError ? ' error' : '');
  const st = app.state;
  if (error) b.append(error);
  else if (st && !st.leader) b.append('No leading master is known to this master (' + st.pid + '); the cluster below is empty.');
  else if (st && st.leader !== st.pid) {
    const addr = addrOf(st.leader);
    b.append('This master (' + st.pid + ') is not the leader. The leader is ', h('a', { href: 'http://' + addr + '/' }, st.leader), '.');
  }
  b.hidden = !b.childNodes.length;
}

setInterval(() => {
  const live = document.getElementById('live');
  if (!app.updated) return;
  const age = Math.round((Date.now() - app.updated) / 1000);
  live.textContent = age < 3 ? 'live' : 'updated ' + age + 's ago';
  live.classList.toggle('stale', age >= 10);
}, 1000);

// ---------- a table that sorts, filters and pages ----------
// cols: [{ title, key: row => sortable value, cell: row => node, num }]

function table(opts) {
  const ui = { page: 0, sort: opts.sort || 0, desc: !!opts.desc, filter: opts.filter || '', rows: [] };
  const search = h('input', { type: 'search', placeholder: opts.placeholder || 'filter', value: ui.filter,
    oninput: () => { ui.filter = search.value; ui.page = 0; draw(); } });
  const thead = h('tr', {}, opts.cols.map((c, i) => h('th', {
    class: 'sortable' + (c.num ? ' num' : ''),
    onclick: () => { ui.desc = ui.sort === i ? !ui.desc : false; ui.sort = i; draw(); },
  }, c.title)));
  const tbody = h('tbody');
  const info = h('span');
  const prev = h('button', { onclick: () => { ui.page -= 1; draw(); } }, 'Previous');
  const next = h('button', { onclick: () => { ui.page += 1; draw(); } }, 'Next');
  const extra = opts.toolbar || [];
  const el = h('div', { class: 'ptable' },
    h('div', { class: 'toolbar' }, search, extra),
    h('table', {}, h('thead', {}, thead), tbody),
    h('div', { class: 'pager' }, prev, next, info));

  function draw() {
    const q = ui.filter.trim().toLowerCase();
    let rows = ui.rows;
    if (opts.accept) rows = rows.filter(opts.accept);
    if (q) rows = rows.filter(r => opts.text(r).toLowerCase().includes(q));
    const key = opts.cols[ui.sort].key;
    rows = rows.slice().sort((a, b) => {
      const x = key(a), y = key(b);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x ?? '').localeCompare(String(y ?? ''));
      return ui.desc ? -c : c;
    });
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    ui.page = Math.min(Math.max(0, ui.page), pages - 1);
    const shown = rows.slice(ui.page * PAGE, (ui.page + 1) * PAGE);
    tbody.replaceChildren(...shown.map(r => h('tr', {}, opts.cols.map(c => h('td', { class: (c.num ? 'num' : '') + (c.wrap ? ' wrap' : '') }, c.cell(r))))));
    if (!shown.length) tbody.append(h('tr', {}, h('td', { colspan: opts.cols.length, class: 'muted' }, opts.empty || 'none')));
    [...thead.children].forEach((th, i) => { th.classList.toggle('sorted', i === ui.sort); th.classList.toggle('desc', i === ui.sort && ui.desc); });
    info.textContent = rows.length ? `${ui.page * PAGE + 1}-${ui.page * PAGE + shown.length} of ${rows.length}` + (rows.length !== ui.rows.length ? ` (${ui.rows.length} in all)` : '') : '0 shown';
    prev.disabled = ui.page === 0;
    next.disabled = ui.page >= pages - 1;
  }
  return { el, ui, draw, set(rows) { ui.rows = rows; draw(); } };
}

function taskTable(opts) {
  const cols = [
    { title: 'ID', key: t => t.id, cell: t => taskLink(t.framework_id, t.id) },
    { title: 'Name', key: t => t.name, cell: t => t.name },
    { title: 'State', key: t => t.state, cell: t => stateBadge(t.state) },
    { title: 'Framework', key: t => t.framework_id, cell: t => frameworkLink(t.framework_id) },
    { title: 'Agent', key: t => t.slave_id, cell: t => agentLink(t.slave_id) },
    { title: 'CPUs', key: t => (t.resources || {}).cpus || 0, cell: t => fmtNum((t.resources || {}).cpus || 0), num: true },
    { title: 'Mem', key: t => (t.resources || {}).mem || 0, cell: t => fmtMem((t.resources || {}).mem || 0), num: true },
    { title: 'Updated', key: t => t.updated || 0, cell: t => t.updated ? fmtAgo(t.updated) + ' ago' : '' },
    { title: 'Sandbox', key: t => t.id, cell: t => link('#/sandbox/' + enc(t.framework_id) + '/' + enc(t.id), 'sandbox') },
  ];
  return table(Object.assign({ cols, sort: 7, desc: true, placeholder: 'filter by id, name, framework, agent',
    text: t => [t.id, t.name, t.framework_id, t.slave_id, t.state].join(' ') }, opts));
}

// ---------- resources ----------

function sum(list, field) {
  const out = { cpus: 0, mem: 0, disk: 0 };
  for (const x of list) for (const k of Object.keys(out)) out[k] += ((x[field] || {})[k] || 0);
  return out;
}

function resourceBars(total, used, offered) {
  return ['cpus', 'mem', 'disk'].map(name => {
    const t = total[name] || 0, u = used[name] || 0, o = offered[name] || 0;
    const idle = Math.max(0, t - u - o);
    const pct = x => (t > 0 ? Math.min(100, 100 * x / t) : 0).toFixed(1) + '%';
    return h('div', { class: 'res', 'data-resource': name },
      h('div', {}, h('b', {}, name), ' ', h('span', { class: 'muted' }, fmtRes(name, t) + ' total')),
      h('div', { class: 'bar', title: `${name}: used ${fmtRes(name, u)}, offered ${fmtRes(name, o)}, idle ${fmtRes(name, idle)}` },
        h('span', { class: 'used', style: 'width:' + pct(u) }), h('span', { class: 'offered', style: 'width:' + pct(o) })),
      h('div', { class: 'legend' },
        h('span', { class: 'swatch', style: 'background:var(--used);margin-left:0' }), 'used ' + fmtRes(name, u),
        h('span', { class: 'swatch', style: 'background:var(--offered)' }), 'offered ' + fmtRes(name, o),
        h('span', { class: 'swatch', style: 'background:var(--idle)' }), 'idle ' + fmtRes(name, idle)));
  });
}

// ---------- pages ----------
// Each page builds its frame once and fills it on every update(view).

const pages = {
  overview() {
    const main = h('div', { id: 'overview' });
    return {
      el: main,
      update(v) {
        const st = app.state;
        const agents = [...v.agents.values()];
        const total = sum(agents, 'resources'), used = sum(agents, 'used_resources'), offered = sum(agents, 'offered_resources');
        const leaderAddr = addrOf(st.leader);
        const isLeader = st.leader && st.leader === st.pid;
        const states = Object.entries(v.byState).sort();
        const active = [...v.frameworks.values()].filter(f => !f.completed);
        main.replaceChildren(
          h('h1', {}, 'Cluster' + (st.cluster ? ' ' + st.cluster : '')),
          h('div', { class: 'grid' },
            card('Master', kv([
              ['Leader', st.leader ? (isLeader ? st.leader + ' (this master)' : h('a', { href: 'http://' + leaderAddr + '/' }, st.leader)) : 'none known'],
              ['This master', st.pid],
              ['Version', st.version],
              ['Started', fmtTime(st.start_time)],
              ['Uptime', fmtAgo(st.start_time)],
              st.elected_time ? ['Elected', fmtTime(st.elected_time)] : null,
              ['Raw', h('span', {}, link('/state', '/state'), ' ', link('/metrics/snapshot', '/metrics/snapshot'))],
            ])),
            card('Agents and frameworks', kv([
              ['Agents', h('a', { href: '#/agents', id: 'agent-count' }, String(agents.length))],
              ['Activated', String(st.activated_slaves ?? '')],
              ['Deactivated', String(st.deactivated_slaves ?? '')],
              ['Unreachable', String(st.unreachable_slaves ?? '')],
              ['Frameworks', link('#/frameworks', String(active.length) + ' active, ' + (v.frameworks.size - active.length) + ' completed')],
            ])),
            card('Tasks by state', states.length
              ? h('table', {}, h('tbody', {}, states.map(([s, n]) => h('tr', {},
                h('td', {}, link('#/tasks?state=' + enc(s), s)), h('td', { class: 'num', 'data-state': s }, String(n))))))
              : h('p', { class: 'muted' }, 'no tasks yet'))),
          h('div', { class: 'grid' },
            card('Resources', resourceBars(total, used, offered)),
            card('Recent events', app.events.length
              ? h('ul', { class: 'events' }, app.events.map(e => h('li', {},
                h('time', {}, new Date(e.at).toLocaleTimeString()), e.href ? link(e.href, e.text) : e.text)))
              : h('p', { class: 'muted' }, 'none yet'))));
      },
    };
  },

  agents() {
    const t = table({
      placeholder: 'filter by id or hostname',
      text: a => a.id + ' ' + a.hostname,
      cols: [
        { title: 'ID', key: a => a.id, cell: a => agentLink(a.id) },
        { title: 'Host', key: a => a.hostname, cell: a => a.hostname + ':' + a.port },
        { title: 'CPUs used', key: a => (a.used_resources || {}).cpus || 0, num: true,
          cell: a => fmtNum((a.used_resources || {}).cpus || 0) + ' / ' + fmtNum((a.resources || {}).cpus || 0) },
        { title: 'Mem used', key: a => (a.used_resources || {}).mem || 0, num: true,
          cell: a => fmtMem((a.used_resources || {}).mem || 0) + ' / ' + fmtMem((a.resources || {}).mem || 0) },
        { title: 'Disk used', key: a => (a.used_resources || {}).disk || 0, num: true,
          cell: a => fmtMem((a.used_resources || {}).disk || 0) + ' / ' + fmtMem((a.resources || {}).disk || 0) },
        { title: 'Tasks', key: a => a.tasks || 0, cell: a => String(a.tasks || 0), num: true },
        { title: 'Registered', key: a => a.registered_time || 0, cell: a => fmtAgo(a.registered_time) + ' ago' },
        { title: 'Active', key: a => a.active ? 1 : 0, cell: a => yesNo(a.active) },
      ],
    });
    const count = h('span', { class: 'muted' });
    return {
      el: h('div', { id: 'agents' }, h('h1', {}, 'Agents ', count), card(null, t.el)),
      update(v) {
        const perAgent = {};
        for (const task of v.tasks) if (task.active) perAgent[task.slave_id] = (perAgent[task.slave_id] || 0) + 1;
        const rows = [...v.agents.values()].map(a => Object.assign({ tasks: perAgent[a.id] || 0 }, a));
        count.textContent = '(' + rows.length + ')';
        t.set(rows);
      },
    };
  },

  agent(id) {
    const head = h('div');
    const execs = table({
      placeholder: 'filter executors', text: e => e.executor_id + ' ' + e.framework_id,
      cols: [
        { title: 'Executor', key: e => e.executor_id, cell: e => e.executor_id },
        { title: 'Framework', key: e => e.framework_id, cell: e => frameworkLink(e.framework_id) },
        { title: 'CPUs', key: e => (e.resources || {}).cpus || 0, cell: e => fmtNum((e.resources || {}).cpus || 0), num: true },
        { title: 'Mem', key: e => (e.resources || {}).mem || 0, cell: e => fmtMem((e.resources || {}).mem || 0), num: true },
      ], empty: 'no custom executors (command tasks run in the agent\'s command executor)',
    });
    const tasks = taskTable({});
    const usage = h('div', {}, h('p', { class: 'muted' }, 'reading the agent...'));
    let usageAt = 0;
    return {
      el: h('div', { id: 'agent' }, head, card('Executors', execs.el), card('Tasks', tasks.el), card('Usage (from the agent)', usage)),
      update(v) {
        const a = v.agents.get(id);
        if (!a) { head.replaceChildren(h('h1', {}, 'Agent ' + id), card(null, 'This master does not know this agent (any more).')); return; }
        const addr = addrOf(a.pid);
        head.replaceChildren(
          h('div', { class: 'crumbs' }, link('#/agents', 'Agents'), ' / ', id),
          h('h1', {}, 'Agent ' + a.hostname),
          h('div', { class: 'grid' },
            card('Agent', kv([
              ['ID', id], ['PID', a.pid], ['Version', a.version || ''], ['Active', yesNo(a.active)], ['Connected', yesNo(a.connected)],
              ['Registered', fmtTime(a.registered_time)], a.reregistered_time ? ['Re-registered', fmtTime(a.reregistered_time)] : null,
              ['Attributes', JSON.stringify(a.attributes || {})], ['Endpoints', h('span', {}, h('a', { href: 'http://' + addr + '/state' }, 'agent /state'))],
            ])),
            card('Resources', resourceBars(a.resources || {}, a.used_resources || {}, a.offered_resources || {}))));
        execs.set(v.executors.filter(e => e.slave_id === id));
        tasks.set(v.tasks.filter(t => t.slave_id === id));
        if (Date.now() - usageAt > 5000) {
          usageAt = Date.now();
          getJSON('http://' + addr + '/monitor/statistics').then(stats => {
            usage.replaceChildren(stats.length ? h('table', {}, h('thead', {}, h('tr', {}, ['Executor', 'Framework', 'CPU time (user+sys)', 'Memory (RSS)'].map(x => h('th', {}, x)))),
              h('tbody', {}, stats.map(s => h('tr', {}, h('td', {}, s.executor_id), h('td', {}, frameworkLink(s.framework_id)),
                h('td', { class: 'num' }, fmtNum(((s.statistics || {}).cpus_user_time_secs || 0) + ((s.statistics || {}).cpus_system_time_secs || 0)) + ' s'),
                h('td', { class: 'num' }, fmtBytes((s.statistics || {}).mem_rss_bytes || 0))))))
              : h('p', { class: 'muted' }, 'no running executors'));
          }).catch(e => usage.replaceChildren(h('p', { class: 'muted' }, 'the agent did not answer: ' + e.message)));
        }
      },
    };
  },

  frameworks() {
    const t = table({
      placeholder: 'filter by id, name, user or role',
      text: f => [f.id, f.name, f.user, f.role].join(' '),
      accept: f => show.value === 'all' || (show.value === 'active') === !f.completed,
      cols: [
        { title: 'ID', key: f => f.id, cell: f => frameworkLink(f.id) },
        { title: 'Name', key: f => f.name, cell: f => f.name },
        { title: 'User', key: f => f.user, cell: f => f.user },
        { title: 'Role', key: f => f.role, cell: f => f.role },
        { title: 'Active tasks', key: f => (f.tasks || []).length, cell: f => String((f.tasks || []).length), num: true },
        { title: 'CPUs', key: f => (f.used_resources || {}).cpus || 0, cell: f => fmtNum((f.used_resources || {}).cpus || 0), num: true },
        { title: 'Mem', key: f => (f.used_resources || {}).mem || 0, cell: f => fmtMem((f.used_resources || {}).mem || 0), num: true },
        { title: 'Registered', key: f => f.registered_time || 0, cell: f => fmtAgo(f.registered_time) + ' ago' },
        { title: 'Status', key: f => f.completed ? 2 : f.active ? 0 : 1, cell: f => f.completed ? 'completed' : f.active ? 'active' : 'inactive' },
      ],
    });
    const show = h('select', { onchange: () => t.draw() }, ['active', 'completed', 'all'].map(x => h('option', { value: x }, x)));
    t.el.querySelector('.toolbar').append(show);
    return {
      el: h('div', { id: 'frameworks' }, h('h1', {}, 'Frameworks'), card(null, t.el)),
      update(v) { t.set([...v.frameworks.values()]); },
    };
  },

  framework(id) {
    const head = h('div');
    const active = taskTable({}), done = taskTable({});
    return {
      el: h('div', { id: 'framework' }, head, card('Active tasks', active.el), card('Completed tasks', done.el)),
      update(v) {
        const f = v.frameworks.get(id);
        if (!f) { head.replaceChildren(h('h1', {}, 'Framework ' + id), card(null, 'This master does not know this framework.')); return; }
        head.replaceChildren(
          h('div', { class: 'crumbs' }, link('#/frameworks', 'Frameworks'), ' / ', id),
          h('h1', {}, 'Framework ' + f.name),
          h('div', { class: 'grid' },
            card('Framework', kv([
              ['ID', id], ['Name', f.name], ['User', f.user], ['Role', f.role], ['PID', f.pid || ''],
              ['Status', f.completed ? 'completed' : f.active ? 'active' : 'inactive'], ['Connected', yesNo(f.connected)],
              ['Checkpoint', yesNo(f.checkpoint)], ['Failover timeout', fmtNum(f.failover_timeout || 0) + ' s'],
              ['Registered', fmtTime(f.registered_time)], f.webui_url ? ['Web UI', h('a', { href: f.webui_url }, f.webui_url)] : null,
            ])),
            card('Resources', kv([
              ['Used', `${fmtNum((f.used_resources || {}).cpus || 0)} cpus, ${fmtMem((f.used_resources || {}).mem || 0)}`],
              ['Offered', `${fmtNum((f.offered_resources || {}).cpus || 0)} cpus, ${fmtMem((f.offered_resources || {}).mem || 0)}`],
              ['Outstanding offers', String((f.offers || []).length)], ['Executors', String((f.executors || []).length)],
            ]))));
        active.set(v.tasks.filter(t => t.framework_id === id && t.active));
        done.set(v.tasks.filter(t => t.framework_id === id && !t.active));
      },
    };
  },

  tasks(_, q) {
    const t = taskTable({ filter: q.get('q') || '', accept: x => pick.value === 'all' || (pick.value === 'active' ? x.active : x.state === pick.value) });
    const pick = h('select', { onchange: () => t.draw() }, h('option', { value: 'all' }, 'all states'), h('option', { value: 'active' }, 'active'));
    const wanted = q.get('state') || 'all';
    const addState = s => { if (![...pick.options].some(o => o.value === s)) pick.append(h('option', { value: s }, s)); };
    if (wanted !== 'all' && wanted !== 'active') addState(wanted);
    pick.value = wanted;
    t.el.querySelector('.toolbar').append(pick);
    const count = h('span', { class: 'muted' });
    return {
      el: h('div', { id: 'tasks' }, h('h1', {}, 'Tasks ', count), card(null, t.el)),
      update(v) {
        Object.keys(v.byState).sort().forEach(addState);
        count.textContent = '(' + v.tasks.length + ')';
        t.set(v.tasks);
      },
    };
  },

  task(fw, id) {
    const el = h('div', { id: 'task' });
    return {
      el,
      update(v) {
        const t = v.taskIndex.get(fw + '\u0000' + id);
        if (!t) { el.replaceChildren(h('h1', {}, 'Task ' + id), card(null, 'This master does not know this task (yet).')); return; }
        el.replaceChildren(
          h('div', { class: 'crumbs' }, link('#/tasks', 'Tasks'), ' / ', frameworkLink(fw), ' / ', id),
          h('h1', {}, 'Task ' + id),
          h('div', { class: 'grid' },
            card('Task', kv([
              ['ID', id], ['Name', t.name], ['State', h('span', { id: 'task-state' }, stateBadge(t.state))], ['Framework', frameworkLink(fw)],
              ['Agent', agentLink(t.slave_id)], ['Executor', t.executor_id || '(command executor)'],
              ['Resources', JSON.stringify(t.resources || {})],
              ['Sandbox', link('#/sandbox/' + enc(fw) + '/' + enc(id), 'browse the sandbox')],
            ])),
            card('Statuses', h('table', {}, h('thead', {}, h('tr', {}, ['Time', 'State', 'Source', 'Reason', 'Message'].map(x => h('th', {}, x)))),
              h('tbody', {}, (t.statuses || []).slice().reverse().map(s => h('tr', {},
                h('td', {}, fmtTime(s.timestamp)), h('td', {}, stateBadge(s.state)), h('td', {}, s.source || ''),
                h('td', {}, s.reason || ''), h('td', { class: 'wrap' }, s.message || ''))))))));
      },
    };
  },

  sandbox(fw, id, q) { return sandboxPage(fw, id, q); },
};

// ---------- a task's sandbox: the agent's /state for its directory, then
// /files/browse (where the agent has it) and /files/read ----------

function sandboxPage(fw, id, q) {
  const head = h('div');
  const listing = h('div', {}, h('p', { class: 'muted' }, 'finding the sandbox...'));
  const title = h('h2', {}, 'File');
  const log = h('pre', { class: 'log', id: 'log' });
  const status = h('span', { class: 'muted' });
  const follow = h('input', { type: 'checkbox', checked: true, id: 'follow' });
  const dl = h('a', { id: 'download', class: 'btn', hidden: true }, 'Download');
  const viewer = card(null, h('div', { class: 'toolbar' }, title, h('label', {}, follow, ' follow (live tail)'), dl, status), log);
  const s = { agent: null, dir: null, sub: q.get('path') || '', file: q.get('file') || 'stdout', offset: 0, timer: null, found: false };

  function path(name) { return s.dir + (s.sub ? '/' + s.sub : '') + (name ? '/' + name : ''); }
  function base() { return '#/sandbox/' + enc(fw) + '/' + enc(id); }
  function fileHref(name, isDir) {
    const p = new URLSearchParams();
    if (isDir) { if (name) p.set('path', (s.sub ? s.sub + '/' : '') + name); }
    else { if (s.sub) p.set('path', s.sub); p.set('file', name); }
    return base() + (p.toString() ? '?' + p : '');
  }
  function files(url) { return 'http://' + s.agent + '/files/' + url; }

  async function locate(v) {
    const t = v.taskIndex.get(fw + '\u0000' + id);
    if (!t) { listing.replaceChildren(h('p', { class: 'muted' }, 'This master does not know this task (yet).')); return; }
    const a = v.agents.get(t.slave_id);
    if (!a) { listing.replaceChildren(h('p', { class: 'muted' }, 'The agent of this task is gone; so is its sandbox.')); return; }
    s.agent = addrOf(a.pid);
    const ast = await getJSON('http://' + s.agent + '/state');
    for (const f of [...(ast.frameworks || []), ...(ast.completed_frameworks || [])]) {
      if (f.id !== fw) continue;
      for (const e of [...(f.executors || []), ...(f.completed_executors || [])]) {
        const all = [...(e.tasks || []), ...(e.queued_tasks || []), ...(e.completed_tasks || [])];
        if (e.id === id || all.some(x => (x.task_id || x.id) === id)) { s.dir = e.directory; }
      }
    }
    if (!s.dir) { listing.replaceChildren(h('p', { class: 'muted' }, 'The agent has no sandbox for this task (yet).')); return; }
    s.found = true;
    dl.href = files('download?path=' + enc(path(s.file)));
    dl.hidden = false;
    await browse();
    tail(true);
  }

  async function browse() {
    let entries;
    try {
      entries = (await getJSON(files('browse?path=' + enc(path())))).map(e => ({
        name: e.path.slice(e.path.lastIndexOf('/') + 1), dir: (e.mode || '').startsWith('d'), size: e.size, mtime: e.mtime }));
    } catch (e) {
      // An agent without /files/browse: the two files every sandbox has.
      entries = [];
      for (const name of ['stdout', 'stderr']) {
        try { entries.push({ name, dir: false, size: (await getJSON(files('read?offset=-1&path=' + enc(path(name))))).offset }); } catch (_) { /* absent */ }
      }
    }
    entries.sort((a, b) => (b.dir - a.dir) || a.name.localeCompare(b.name));
    const parent = s.sub.includes('/') ? s.sub.slice(0, s.sub.lastIndexOf('/')) : '';
    const up = s.sub ? [h('tr', {}, h('td', {}, link(base() + (parent ? '?path=' + enc(parent) : ''), '..')), h('td'), h('td'))] : [];
    listing.replaceChildren(
      h('p', { class: 'muted wrap' }, s.agent + ':' + path()),
      h('table', { id: 'files' }, h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', { class: 'num' }, 'Size'), h('th', {}, 'Modified'))),
        h('tbody', {}, up, entries.map(e => h('tr', {},
          h('td', {}, link(fileHref(e.name, e.dir), e.name + (e.dir ? '/' : ''))),
          h('td', { class: 'num' }, e.dir ? '' : fmtBytes(e.size || 0)),
          h('td', {}, e.mtime ? fmtTime(e.mtime) : ''))))));
  }

  async function tail(first) {
    clearTimeout(s.timer);
    if (!document.body.contains(log)) return; // the page was left
    try {
      const p = enc(path(s.file));
      if (first) {
        const size = (await getJSON(files('read?offset=-1&path=' + p))).offset;
        s.offset = Math.max(0, size - TAIL_START);
        log.textContent = s.offset > 0 ? '[... ' + fmtBytes(s.offset) + ' before this ...]\n' : '';
      }
      if (first || follow.checked) {
        for (;;) {
          const r = await getJSON(files('read?offset=' + s.offset + '&length=' + CHUNK + '&path=' + p));
          if (!r.data.length) break;
          const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
          log.append(r.data);
          s.offset = r.offset + new TextEncoder().encode(r.data).length;
          if (atEnd || first) log.scrollTop = log.scrollHeight;
          if (r.data.length < CHUNK / 2) break;
        }
      }
      status.textContent = fmtBytes(s.offset) + (follow.checked ? ', following' : '');
    } catch (e) {
      status.textContent = 'cannot read ' + s.file + ': ' + e.message;
    }
    s.timer = setTimeout(() => tail(false), TAIL_MS);
  }

  title.textContent = s.file;
  return {
    el: h('div', { id: 'sandbox' }, head, card('Files', listing), viewer),
    update(v) {
      head.replaceChildren(
        h('div', { class: 'crumbs' }, link('#/tasks', 'Tasks'), ' / ', frameworkLink(fw), ' / ', taskLink(fw, id), ' / sandbox'),
        h('h1', {}, 'Sandbox of task ' + id));
      if (!s.found && !s.locating) {
        s.locating = true;
        locate(v).catch(e => listing.replaceChildren(h('p', { class: 'muted' }, 'cannot read the agent: ' + e.message)))
          .finally(() => { s.locating = false; });
      } else if (s.found) {
        browse().catch(() => {});
      }
    },
  };
}

// ---------- the router ----------

function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [p, query] = hash.split('?');
  const parts = p.split('/').filter(Boolean).map(decodeURIComponent);
  const q = new URLSearchParams(query || '');
  let page, nav;
  if (!parts.length) { page = pages.overview(); nav = 'overview'; }
  else if (parts[0] === 'agents') { page = parts[1] ? pages.agent(parts[1]) : pages.agents(); nav = 'agents'; }
  else if (parts[0] === 'frameworks') { page = parts[1] ? pages.framework(parts[1]) : pages.frameworks(); nav = 'frameworks'; }
  else if (parts[0] === 'tasks') { page = parts[2] ? pages.task(parts[1], parts[2]) : pages.tasks(null, q); nav = 'tasks'; }
  else if (parts[0] === 'sandbox' && parts[2]) { page = pages.sandbox(parts[1], parts[2], q); nav = 'tasks'; }
  else { page = { el: card(null, 'No such page: ' + location.hash), update() {} }; }
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.nav === nav));
  app.page = page;
  document.getElementById('main').replaceChildren(page.el);
  if (app.view) page.update(app.view);
}

window.addEventListener('hashchange', route);
poll();
