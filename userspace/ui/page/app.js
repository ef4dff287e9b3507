// xpxe's fleet page: polls api/fleet once a second for the machines that changed since
// its last answer, and keeps one table row per machine, the counts by stage and the
// plot of the current storm. Plain script, no library, nothing loaded from elsewhere.
'use strict';
(function () {
  const POLL_MS = 1000;
  const RETRY_MS = 2000;
  const STORM_GAP_MS = 10 * 60 * 1000; // boots further apart than this are another storm
  const QUIET_MS = 60 * 1000; // a machine under way with no event this long is shown quiet

  const $ = (id) => document.getElementById(id);
  const tbody = $('rows');
  const state = {
    epoch: 0, version: 0, stages: [], doneStage: 7, skew: 0,
    rows: new Map(), // MAC -> { m: the machine's last data, tr, cells }
    profiles: '',
  };
  const filters = { stage: '', profile: '', problem: false, text: '' };
  // What a test or a benchmark reads (the page's own figures): polls, their times, and for each
  // machine that became done while the page was open, how long after the daemon saw it.
  const stats = window.xpxeStats = {
    polls: 0, errors: 0, full: 0, rows: 0, lastPollMs: 0, maxPollMs: 0, maxApplyMs: 0,
    version: 0, lagMs: [],
  };

  const serverNow = () => Date.now() + state.skew;
  const isDone = (m) => m.stage_index >= state.doneStage && m.done_ms > 0;

  function duration(ms) {
    if (!(ms >= 0)) return '';
    const s = Math.floor(ms / 1000);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
    return Math.floor(s / 3600) + ' h ' + String(Math.floor(s / 60) % 60).padStart(2, '0');
  }

  function bytes(n) {
    if (n >= 10 * 1048576) return Math.floor(n / 1048576) + ' MB';
    if (n >= 10 * 1024) return Math.floor(n / 1024) + ' kB';
    return n + ' B';
  }

  function set(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  // --- rows --------------------------------------------------------------------------------
  const COLUMNS = ['mac', 'hostname', 'ip', 'profile', 'stage', 'progress', 'xfer', 'boot',
    'last', 'problem'];

  function makeRow(mac) {
    const tr = document.createElement('tr');
    const cells = {};
    for (const c of COLUMNS) {
      const td = document.createElement('td');
      td.className = c;
      tr.appendChild(td);
      cells[c] = td;
    }
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('i');
    bar.appendChild(fill);
    cells.progress.appendChild(bar);
    cells.progressText = document.createElement('span');
    cells.progress.appendChild(cells.progressText);
    cells.fill = fill;
    tr.dataset.mac = mac;
    set(cells.mac, mac);
    return { tr, cells, m: null };
  }

  // Percent of the boot: the running transfer's bytes, else the stages up to the config.
  function progress(m) {
    const x = m.transfer;
    if (x && x.state === 'running' && x.size > 0) return Math.min(100, Math.floor(100 * x.done / x.size));
    return Math.min(100, Math.floor(100 * Math.min(m.stage_index, state.doneStage) / state.doneStage));
  }

  function transferText(x) {
    if (!x) return '';
    const what = x.state === 'running' && x.size > 0 ? Math.floor(100 * x.done / x.size) + '%' : x.state;
    return x.file + ' ' + what + (x.path ? ' ' + x.path : '') +
      (x.retransmits ? ' rtx=' + x.retransmits : '');
  }

  // The cells that move with the clock alone: the boot's time, the last event's age.
  function drawTimes(r, now) {
    const m = r.m;
    const done = isDone(m);
    set(r.cells.boot, m.boot_ms ? duration((done ? m.done_ms : now) - m.boot_ms) : '');
    set(r.cells.last, m.last_ms ? duration(now - m.last_ms) + ' ago' : '');
    r.tr.classList.toggle('quiet', !done && m.stage_index > 0 && now - m.last_ms > QUIET_MS);
  }

  function drawRow(r, now) {
    const m = r.m;
    const c = r.cells;
    const tr = r.tr;
    const pct = progress(m);
    set(c.hostname, m.hostname || '-');
    set(c.ip, m.ip || '-');
    set(c.profile, m.profile || '-');
    set(c.stage, m.stage);
    c.fill.style.width = pct + '%';
    set(c.progressText, pct + '%');
    set(c.xfer, transferText(m.transfer));
    set(c.problem, m.problem);
    c.problem.title = m.problem;
    c.last.title = m.bytes ? bytes(m.bytes) + ' sent to it' : '';
    // What the filters and a test read, without parsing the cells.
    tr.dataset.stage = m.stage;
    tr.dataset.profile = m.profile;
    tr.dataset.problem = m.problem ? '1' : '';
    tr.classList.toggle('done', isDone(m));
    tr.classList.toggle('retransmits',
      !!(m.transfer && m.transfer.state === 'running' && m.transfer.retransmits));
    drawTimes(r, now);
  }

  function visible(m) {
    if (filters.stage === 'active' && (isDone(m) || m.stage_index === 0)) return false;
    if (filters.stage === 'done' && !isDone(m)) return false;
    if (filters.stage && filters.stage !== 'active' && filters.stage !== 'done' &&
        m.stage !== filters.stage) return false;
    if (filters.profile && m.profile !== filters.profile) return false;
    if (filters.problem && !m.problem) return false;
    if (filters.text) {
      const t = filters.text;
      if (!m.mac.includes(t) && !m.hostname.toLowerCase().includes(t) && !m.ip.includes(t)) return false;
    }
    return true;
  }

  // Rows on the screen (an IntersectionObserver keeps the set): only theirs are redrawn
  // for the clock each second; a row whose machine changed is redrawn wherever it is.
  const onScreen = new Set();
  const observer = 'IntersectionObserver' in window ? new IntersectionObserver((entries) => {
    for (const e of entries) {
      const r = state.rows.get(e.target.dataset.mac);
      if (!r) continue;
      if (e.isIntersecting) {
        onScreen.add(r);
        drawTimes(r, serverNow());
      } else {
        onScreen.delete(r);
      }
    }
  }) : null;

  function upsert(m, live) {
    let r = state.rows.get(m.mac);
    if (!r) {
      r = makeRow(m.mac);
      state.rows.set(m.mac, r);
      tbody.appendChild(r.tr);
      if (observer) observer.observe(r.tr);
      else onScreen.add(r);
    }
    const wasDone = r.m !== null && isDone(r.m);
    r.m = m;
    if (live && !wasDone && isDone(m)) stats.lagMs.push(Date.now() - m.done_ms);
    r.tr.hidden = !visible(m);
    return r;
  }

  // --- the stage filter, the counts, the profile filter -------------------------------------
  function stageOptions() {
    const sel = $('f-stage');
    const keep = sel.value;
    sel.textContent = '';
    const add = (value, text) => {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      sel.appendChild(o);
    };
    add('', 'all');
    add('active', 'under way');
    add('done', 'done (config or disk)');
    state.stages.forEach((s, i) => add(s, i === 0 ? '- (not seen yet)' : s));
    sel.value = keep;
  }

  function profileOptions() {
    const names = [...new Set([...state.rows.values()].map((r) => r.m.profile).filter((p) => p))].sort();
    const key = names.join('\n');
    if (key === state.profiles) return;
    state.profiles = key;
    const sel = $('f-profile');
    const keep = sel.value;
    sel.textContent = '';
    for (const [value, text] of [['', 'all'], ...names.map((n) => [n, n])]) {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      sel.appendChild(o);
    }
    sel.value = names.includes(keep) ? keep : '';
    filters.profile = sel.value;
  }

  function summary() {
    const counts = state.stages.map(() => 0);
    let done = 0;
    let problems = 0;
    for (const r of state.rows.values()) {
      counts[r.m.stage_index] = (counts[r.m.stage_index] || 0) + 1;
      if (isDone(r.m)) done++;
      if (r.m.problem) problems++;
    }
    const total = state.rows.size;
    set($('totals'), total + ' machine' + (total === 1 ? '' : 's') + ', ' + done + ' done, ' +
      (total - done - (counts[0] || 0)) + ' under way, ' + problems + ' with a problem');
    const chips = $('chips');
    if (chips.children.length !== state.stages.length) {
      chips.textContent = '';
      state.stages.forEach((s, i) => {
        const b = document.createElement('button');
        b.className = 'chip';
        b.dataset.stage = s;
        b.appendChild(document.createTextNode(i === 0 ? 'not seen' : s));
        b.appendChild(document.createElement('b'));
        b.addEventListener('click', () => {
          $('f-stage').value = filters.stage === s ? '' : s;
          onFilter();
        });
        chips.appendChild(b);
      });
    }
    state.stages.forEach((s, i) => {
      const b = chips.children[i];
      set(b.lastChild, String(counts[i] || 0));
      b.classList.toggle('on', filters.stage === s);
    });
    document.body.classList.toggle('empty', total === 0);
  }

  function shown() {
    let n = 0;
    for (const r of state.rows.values()) if (!r.tr.hidden) n++;
    set($('shown'), 'showing ' + n + ' of ' + state.rows.size);
  }

  function onFilter() {
    filters.stage = $('f-stage').value;
    filters.profile = $('f-profile').value;
    filters.problem = $('f-problem').checked;
    filters.text = $('f-text').value.trim().toLowerCase();
    for (const r of state.rows.values()) r.tr.hidden = !visible(r.m);
    summary();
    shown();
  }

  // --- the storm: machines done against time ------------------------------------------------
  const SVG = 'http://www.w3.org/2000/svg';
  const W = 900, H = 220, L = 48, R = 12, T = 12, B = 28;

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function niceStep(range, ticks) {
    const raw = range / ticks;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const f of [1, 2, 5, 10]) if (raw <= f * p) return f * p;
    return 10 * p;
  }

  // Step lines through sorted times TS (seconds): the count reached at each.
  function steps(ts, x, y, end) {
    let pts = x(0) + ',' + y(0);
    ts.forEach((t, i) => { pts += ' ' + x(t) + ',' + y(i) + ' ' + x(t) + ',' + y(i + 1); });
    return pts + ' ' + x(end) + ',' + y(ts.length);
  }

  function plot(now) {
    const el = $('plot');
    const boots = [...state.rows.values()].map((r) => r.m).filter((m) => m.boot_ms > 0);
    el.textContent = '';
    if (!boots.length) {
      set($('storm-text'), 'No boot yet.');
      return;
    }
    // The current storm: back from the latest boot while boots follow each other closely.
    const starts = boots.map((m) => m.boot_ms).sort((a, b) => a - b);
    let from = starts[starts.length - 1];
    for (let i = starts.length - 2; i >= 0 && from - starts[i] <= STORM_GAP_MS; i--) from = starts[i];
    const storm = boots.filter((m) => m.boot_ms >= from);
    const doneAt = storm.filter(isDone).map((m) => (m.done_ms - from) / 1000).sort((a, b) => a - b);
    const startAt = storm.map((m) => (m.boot_ms - from) / 1000).sort((a, b) => a - b);
    const allDone = doneAt.length === storm.length;
    const end = Math.max(1, allDone ? doneAt[doneAt.length - 1] : (now - from) / 1000);
    const x = (t) => (L + (W - L - R) * t / end).toFixed(1);
    const y = (n) => (H - B - (H - T - B) * n / storm.length).toFixed(1);
    const xs = Math.max(1, niceStep(end, 8)); // whole seconds
    for (let t = 0; t <= end + 1e-9; t += xs) {
      el.appendChild(svg('line', { class: 'grid', x1: x(t), x2: x(t), y1: T, y2: H - B }));
      el.appendChild(svg('text', { class: 'tick', x: x(t), y: H - B + 14, 'text-anchor': 'middle' },
        duration(t * 1000)));
    }
    const ys = Math.max(1, niceStep(storm.length, 4));
    for (let n = 0; n <= storm.length; n += ys) {
      el.appendChild(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(n), y2: y(n) }));
      el.appendChild(svg('text', { class: 'tick', x: L - 6, y: +y(n) + 4, 'text-anchor': 'end' }, n));
    }
    el.appendChild(svg('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
    el.appendChild(svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
    el.appendChild(svg('polyline', { class: 'started', points: steps(startAt, x, y, end) }));
    el.appendChild(svg('polyline', { class: 'done', points: steps(doneAt, x, y, end) }));
    const began = new Date(from + 0).toLocaleTimeString();
    const median = doneAt.length ? doneAt[Math.floor((doneAt.length - 1) / 2)] : null;
    set($('storm-text'), storm.length + ' machine' + (storm.length === 1 ? '' : 's') +
      ' started since ' + began + ', ' + doneAt.length + ' done' +
      (allDone ? ', the last after ' + duration(doneAt[doneAt.length - 1] * 1000) : '') +
      (median !== null ? '; half of them after ' + duration(median * 1000) : '') + '.');
  }

  // --- polling -----------------------------------------------------------------------------
  function apply(data) {
    if (data.full) {
      if (observer) observer.disconnect();
      onScreen.clear();
      tbody.textContent = '';
      state.rows.clear();
      state.profiles = '';
      state.stages = data.stages;
      state.doneStage = data.done_stage;
      stageOptions();
      stats.full++;
    }
    state.epoch = data.epoch;
    state.version = data.version;
    state.skew = data.now_ms - Date.now();
    const now = serverNow();
    const changed = new Set();
    for (const m of data.machines) changed.add(upsert(m, !data.full));
    for (const r of changed) drawRow(r, now);
    for (const r of onScreen) if (!changed.has(r)) drawTimes(r, now);
    stats.rows += data.machines.length;
    stats.version = data.version;
    profileOptions();
    summary();
    shown();
    plot(now);
  }

  function setStatus(ok, why) {
    const s = $('status');
    s.className = 'status ' + (ok ? 'live' : 'down');
    set(s, ok ? 'live, updated ' + new Date().toLocaleTimeString()
      : 'no answer from xpxe (' + why + '): trying again');
  }

  function poll() {
    const t0 = performance.now();
    fetch('api/fleet?since=' + state.version + '&epoch=' + state.epoch, { cache: 'no-store' })
      .then((r) => {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then((data) => {
        const t1 = performance.now();
        apply(data);
        const t2 = performance.now();
        stats.polls++;
        stats.lastPollMs = t2 - t0;
        stats.maxPollMs = Math.max(stats.maxPollMs, t2 - t0);
        stats.maxApplyMs = Math.max(stats.maxApplyMs, t2 - t1);
        document.body.dataset.version = String(data.version);
        setStatus(true);
        setTimeout(poll, POLL_MS);
      })
      .catch((err) => {
        stats.errors++;
        setStatus(false, err.message);
        setTimeout(poll, RETRY_MS);
      });
  }

  for (const id of ['f-stage', 'f-profile', 'f-problem']) $(id).addEventListener('change', onFilter);
  $('f-text').addEventListener('input', onFilter);
  poll();
})();
