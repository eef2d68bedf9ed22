// splitvote's web UI: create a poll (/), vote (/p/{id}), results (/p/{id}/results).
// Plain DOM and fetch; secrets (admin and voter tokens) only ever travel in the URL fragment
// and the Authorization header, never in a query string.
'use strict';

const REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);

/// The fragment as parameters: #admin=TOKEN, #token=TOKEN&actor=ID.
function fragment() {
  return new URLSearchParams(location.hash.replace(/^#/, ''));
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/// Shows one message in a live region; `kind` is ok, error or warn.
function say(region, kind, text) {
  region.replaceChildren(el('p', { class: kind, text }));
}

/// The API's JSON (or problem) with the status; a network failure is status 0.
async function api(method, path, { body, token } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    let data = null;
    try { data = await res.json(); } catch { /* no JSON body */ }
    return { status: res.status, data: data || {}, retryAfter: res.headers.get('Retry-After') };
  } catch {
    return { status: 0, data: {} };
  }
}

const fmt = (x, digits = 1) => (x === null || x === undefined ? '–' : Number(x).toFixed(digits));
const pct = (x) => (x === null || x === undefined ? '–' : `${Math.round(100 * x)}%`);
const lines = (text) => text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);

// ---------------------------------------------------------------- create

function privacyFromForm() {
  const num = (id) => Number($(id).value);
  const decoys = { distribution: $('decoys').value };
  if (decoys.distribution === 'fixed') decoys.k = num('decoy-k');
  if (decoys.distribution === 'uniform') Object.assign(decoys, { min: num('decoy-min'), max: num('decoy-max') });
  if (decoys.distribution === 'poisson') Object.assign(decoys, { mean: num('decoy-mean'), cap: num('decoy-cap') });
  const noise = { mechanism: $('noise').value };
  if (noise.mechanism !== 'none') {
    noise.epsilon = num('epsilon');
    if ($('budget').value !== '') noise.budget = num('budget');
  }
  if (noise.mechanism === 'discrete_gaussian') noise.delta = num('delta');
  return { decoys, randomized_response: { p: num('rr-p') }, release_noise: noise };
}

function showPrivacyFields() {
  for (const box of document.querySelectorAll('[data-decoys]')) box.hidden = box.dataset.decoys !== $('decoys').value;
  const noise = $('noise').value;
  document.querySelector('[data-noise=on]').hidden = noise === 'none';
  document.querySelector('[data-noise=gaussian]').hidden = noise !== 'discrete_gaussian';
}

/// Client-side checks the server would refuse anyway, said next to the field.
function invalidCreate(title, choices) {
  for (const id of ['title', 'choices']) $(id).removeAttribute('aria-invalid');
  if (!title) return ['title', 'Write the question.'];
  if (choices.length < 2 || choices.length > 64) return ['choices', 'Give 2 to 64 choices, one per line.'];
  if (new Set(choices).size !== choices.length) return ['choices', 'Two choices are the same; make each one different.'];
  return null;
}

function csvCell(s) {
  // A leading = + - @ would make a spreadsheet run the cell as a formula (CSV injection).
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function showCreated(poll) {
  const origin = location.origin;
  const share = `${origin}/p/${poll.id}`;
  const admin = `${origin}/p/${poll.id}/results#admin=${encodeURIComponent(poll.admin_token)}`;
  $('share-link').value = share;
  $('share-open').href = share;
  $('admin-link').value = admin;
  $('admin-open').href = admin;
  // voter_tokens: [{actor_id, token}] when the poll gives each voter a personal token.
  const tokens = Array.isArray(poll.voter_tokens) ? poll.voter_tokens : [];
  $('tokens').hidden = tokens.length === 0;
  if (tokens.length) {
    const rows = [['actor_id', 'token', 'vote_link']].concat(tokens.map((t) => [
      t.actor_id, t.token, `${share}#token=${encodeURIComponent(t.token)}&actor=${encodeURIComponent(t.actor_id)}`]));
    const csv = rows.map((r) => r.map((c) => csvCell(String(c))).join(',')).join('\r\n') + '\r\n';
    const link = $('tokens-download');
    if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
  }
  $('created').hidden = false;
  $('created').focus();
}

async function onCreate(event) {
  event.preventDefault();
  const message = $('create-message');
  const title = $('title').value.trim();
  const choices = $('choices').value.split('\n').map((s) => s.trim()).filter(Boolean);  // commas may be in a label
  const bad = invalidCreate(title, choices);
  if (bad) {
    $(bad[0]).setAttribute('aria-invalid', 'true');
    $(bad[0]).focus();
    return say(message, 'error', bad[1]);
  }
  const body = { title, choices, privacy: privacyFromForm() };
  const eligible = lines($('eligible').value);
  if (eligible.length) {
    body.eligible_actors = eligible;
    body.voter_auth = { mode: $('voter-auth').value };
  }
  body.results_visibility = $('results-visibility').value;
  if ($('closes-at').value) body.closes_at = new Date($('closes-at').value).toISOString().replace(/\.\d+Z$/, 'Z');
  $('create-submit').disabled = true;
  say(message, 'warn', 'Creating the poll…');
  const res = await api('POST', '/v1/polls', { body });
  $('create-submit').disabled = false;
  if (res.status === 201) {
    say(message, 'ok', `Created “${res.data.title}” with ${res.data.choices.length} choices.`);
    return showCreated(res.data);
  }
  say(message, 'error', problemText(res, 'The poll could not be created'));
}

function problemText(res, what) {
  if (res.status === 0) return `${what}: the server cannot be reached. Check your connection and try again.`;
  if (res.status === 429) return `${what}: too many requests. Wait ${res.retryAfter || 'a few'} seconds, then try again.`;
  if (res.status === 503) return `${what}: the service is busy or briefly unavailable. Try again in a moment.`;
  return `${what}: ${res.data.detail || res.data.title || `HTTP ${res.status}`}.`;
}

function startCreate() {
  $('create-view').hidden = false;
  $('decoys').addEventListener('change', showPrivacyFields);
  $('noise').addEventListener('change', showPrivacyFields);
  showPrivacyFields();
  $('create-form').addEventListener('submit', onCreate);
  for (const b of document.querySelectorAll('[data-copy]')) {
    b.addEventListener('click', async () => {
      const input = $(b.dataset.copy);
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
        $('copy-status').textContent = 'Copied.';
      } catch {
        $('copy-status').textContent = 'Select the text and copy it with your keyboard.';
      }
    });
  }
}

// ---------------------------------------------------------------- vote

/// What a voter reads for each answer of POST /v1/polls/{id}/votes.
function voteOutcome(res) {
  const slug = (res.data.type || '').replace('/problems/', '');
  switch (res.status) {
    case 202: return ['ok', 'Thank you: your vote was received. It is stored apart from your name, mixed with decoy ballots.'];
    case 409: return ['warn', 'You have already voted in this poll. Only your first vote counts, and it cannot be changed.'];
    case 410: return ['error', 'This poll is closed: it no longer accepts votes.'];
    case 403:
      if (slug === 'forbidden') return ['error', 'This voting link is not valid for this poll. Open the link you were sent, or ask the poll’s creator for a new one.'];
      if (slug === 'actor-mismatch') return ['error', 'This voting link belongs to another voter: use your own link.'];
      return ['error', 'You are not on the list of people who may vote in this poll. Check the ID you typed, or ask the poll’s creator.'];
    case 401: return ['error', 'This poll needs your personal voting link. Open the link you were sent, or ask the poll’s creator for one.'];
    case 404: return ['error', 'There is no such poll. Check the link.'];
    case 422: return ['error', 'That choice is not on this ballot. Reload the page and choose again.'];
    case 429: return ['warn', `Too many attempts from here. Wait ${res.retryAfter || 'a few'} seconds, then try again.`];
    case 503: return slug === 'outcome-unknown'
      ? ['warn', 'We could not confirm your vote in time. It may still be counted: please do not vote again.']
      : ['warn', 'The service is busy or briefly unavailable. Your vote was not counted; try again in a moment.'];
    case 0: return ['error', 'The server cannot be reached. Your vote was not sent; check your connection and try again.'];
    default: return ['error', problemText(res, 'Your vote was not accepted')];
  }
}

function describePoll(poll) {
  const parts = [];
  if (poll.closed) parts.push('Closed');
  else if (poll.closes_at) parts.push(`Open until ${new Date(poll.closes_at).toLocaleString()}`);
  else parts.push('Open');
  parts.push(poll.restricted ? `${poll.eligible} eligible voters` : 'anyone with the link may vote');
  return parts.join(' · ');
}

async function startVote(id) {
  $('vote-view').hidden = false;
  const message = $('vote-message');
  const frag = fragment();
  const token = frag.get('token');
  if (frag.get('actor')) {
    $('actor').value = frag.get('actor');
    $('actor').readOnly = true;
  }
  const res = await api('GET', `/v1/polls/${encodeURIComponent(id)}`);
  if (res.status !== 200) {
    $('vote-form').hidden = true;
    return say(message, 'error', res.status === 404 ? 'There is no such poll. Check the link.' : problemText(res, 'The poll could not be loaded'));
  }
  const poll = res.data;
  document.title = `${poll.title} – splitvote`;
  $('vote-heading').textContent = poll.title;
  $('vote-meta').textContent = describePoll(poll);
  const list = $('choice-list');
  poll.choices.forEach((choice, i) => {
    const input = el('input', { type: 'radio', name: 'choice', value: choice, id: `choice-${i}`, required: '' });
    list.append(el('label', { class: 'choice', for: `choice-${i}` }, input, el('span', { text: choice })));
  });
  if (poll.closed) say(message, 'error', 'This poll is closed: it no longer accepts votes.');
  $('vote-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const actor = $('actor').value.trim();
    const picked = document.querySelector('input[name=choice]:checked');
    $('actor').removeAttribute('aria-invalid');
    if (!actor) {
      $('actor').setAttribute('aria-invalid', 'true');
      $('actor').focus();
      return say(message, 'error', 'Type your name or voter ID.');
    }
    if (!picked) {
      list.querySelector('input').focus();
      return say(message, 'error', 'Pick one of the choices.');
    }
    $('vote-submit').disabled = true;
    say(message, 'warn', 'Sending your vote…');
    const answer = await api('POST', `/v1/polls/${encodeURIComponent(id)}/votes`, { body: { actor_id: actor, choice: picked.value }, token });
    $('vote-submit').disabled = false;
    const [kind, text] = voteOutcome(answer);
    say(message, kind, text);
  });
}

// ---------------------------------------------------------------- results

/// Horizontal bars of the estimates with their 95% intervals, as inline SVG.
function drawChart(box, choices) {
  const rowH = 44, labelW = 150, valueW = 150, width = 640, top = 8;
  const height = top + rowH * choices.length + 24;
  const top95 = Math.max(1, ...choices.map((c) => (c.ci95 ? c.ci95[1] : 0)), ...choices.map((c) => c.estimate || 0));
  const plotW = width - labelW - valueW;
  const x = (v) => labelW + (Math.max(0, v) / top95) * plotW;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'chart-title chart-desc' });
  chart.append(svg('title', { id: 'chart-title' }, 'Estimated votes per choice'));
  chart.append(svg('desc', { id: 'chart-desc' }, choices.map((c) => `${c.choice}: ${c.estimate === null ? 'pending' : fmt(c.estimate)}`).join('; ')));
  chart.append(svg('line', { class: 'axis', x1: labelW, x2: labelW, y1: top - 4, y2: height - 20 }));
  choices.forEach((c, i) => {
    const y = top + i * rowH;
    const g = svg('g', { class: 'row', 'data-choice': c.choice });
    const label = c.choice.length > 18 ? `${c.choice.slice(0, 17)}…` : c.choice;
    g.append(svg('text', { class: 'label', x: labelW - 8, y: y + rowH / 2 + 5, 'text-anchor': 'end' }, label));
    if (c.estimate !== null) {
      g.append(svg('rect', { class: 'bar', x: labelW, y: y + 10, height: rowH - 20, width: Math.max(0, x(c.estimate) - labelW), rx: 3 }));
      if (c.ci95) {
        const [lo, hi] = c.ci95;
        const my = y + rowH / 2;
        g.append(svg('line', { class: 'whisker', x1: x(lo), x2: x(hi), y1: my, y2: my }));
        for (const v of [lo, hi]) g.append(svg('line', { class: 'whisker', x1: x(v), x2: x(v), y1: my - 7, y2: my + 7 }));
      }
    }
    const value = c.estimate === null ? 'pending' : `${fmt(c.estimate)} (${fmt(c.ci95[0])} – ${fmt(c.ci95[1])})`;
    g.append(svg('text', { class: 'value', x: width - valueW + 8, y: y + rowH / 2 + 5 }, value));
    chart.append(g);
  });
  chart.append(svg('text', { class: 'value', x: labelW, y: height - 4 }, '0'));
  chart.append(svg('text', { class: 'value', x: labelW + plotW, y: height - 4, 'text-anchor': 'end' }, fmt(top95)));
  box.replaceChildren(chart);
}

function fillTable(choices) {
  const body = document.querySelector('#results-table tbody');
  body.replaceChildren(...choices.map((c) => el('tr', { 'data-choice': c.choice },
    el('th', { scope: 'row', text: c.choice }),
    el('td', { class: 'num estimate', text: fmt(c.estimate) }),
    el('td', { class: 'num', text: c.ci95 ? `${fmt(c.ci95[0])} – ${fmt(c.ci95[1])}` : '–' }),
    el('td', { class: 'num', text: pct(c.share) }))));
}

function fillParticipation(p) {
  const rows = [
    ['Eligible voters', p.eligible === null ? 'anyone' : p.eligible, 'eligible'],
    ['People who voted', p.unique_actors, 'unique'],
    ['Votes submitted', p.submissions, 'submissions'],
    ['Repeat votes detected', p.duplicates, 'duplicates'],
  ];
  $('participation').replaceChildren(...rows.flatMap(([k, v, key]) => [el('dt', { text: k }), el('dd', { text: String(v), 'data-figure': key })]));
}

function privacyWords(r) {
  const s = r.privacy_statement, m = r.mechanism;
  const out = [el('p', { text: s.summary })];
  const d = m.decoys;
  out.push(el('p', { text: d.distribution === 'none'
    ? 'No decoy ballots: each stored ballot is a real one.'
    : `About ${fmt(d.expected_per_vote)} decoy ballots were stored with each vote (${m.decoy_ballots} decoys among ${m.ballots} ballots so far); the estimates subtract them.` }));
  out.push(el('p', { text: s.randomized_response_p > 0
    ? `Each vote had a ${pct(s.randomized_response_p)} chance of being replaced by a random choice before it was stored.`
    : 'Randomized response is off: stored ballots hold the choices as cast.' }));
  if (s.release_mechanism === 'none') {
    out.push(el('p', { text: 'No noise is added to the published counts.' }));
  } else {
    const state = !r.release ? ''
      : r.release.budget_exhausted ? ': the budget is used up, these counts will not change'
      : r.release.kept_for_close ? ': the rest is kept for the final count when the poll closes'
      : r.release.next_release_not_before ? `; the next update comes at ${new Date(r.release.next_release_not_before).toLocaleTimeString()} at the earliest` : '';
    const spent = r.release ? ` So far ε = ${fmt(r.release.epsilon_spent, 2)} of ${fmt(s.release_budget, 2)} spent${state}.` : '';
    out.push(el('p', { text: `The published counts carry ${s.release_mechanism.replace('_', ' ')} noise (ε = ${fmt(s.release_epsilon_per_count, 2)} per count).${spent}` }));
  }
  return out;
}

function renderResults(r) {
  drawChart($('chart'), r.choices);
  fillTable(r.choices);
  fillParticipation(r.participation);
  $('privacy-words').replaceChildren(...privacyWords(r));
  const c = r.consistency;
  const behind = Math.max(c.pollbook_lag || 0, c.ballotbox_lag || 0);
  $('refresh-status').textContent = `As of ${new Date(r.as_of).toLocaleTimeString()}` +
    (c.complete ? ' · every vote received so far is counted'
      : ` · ${behind || 'some'} recent votes not yet stored (votes are stored in crowds, to hide who cast which)`) +
    (r.closed ? ' · the poll is closed' : ' · refreshing every few seconds');
}

async function startResults(id) {
  $('results-view').hidden = false;
  const message = $('results-message');
  const token = fragment().get('admin');
  const info = await api('GET', `/v1/polls/${encodeURIComponent(id)}`);
  if (info.status !== 200) {
    return say(message, 'error', info.status === 404 ? 'There is no such poll. Check the link.' : problemText(info, 'The poll could not be loaded'));
  }
  const poll = info.data;
  document.title = `Results: ${poll.title} – splitvote`;
  $('results-heading').textContent = poll.title;
  $('results-meta').textContent = describePoll(poll);
  // Space for the chart before the first numbers arrive: no jump when they do.
  drawChart($('chart'), poll.choices.map((choice) => ({ choice, estimate: null, ci95: null })));
  if (token) {
    $('admin-actions').hidden = poll.closed;
    $('close-poll').addEventListener('click', async () => {
      if (!confirm('Close the poll? Nobody can vote after this.')) return;
      const res = await api('POST', `/v1/polls/${encodeURIComponent(id)}/close`, { token });
      if (res.status === 200) {
        $('admin-actions').hidden = true;
        $('results-meta').textContent = describePoll(res.data);
        say(message, 'ok', 'The poll is closed. These results are final once every vote is stored.');
        refresh();
      } else {
        say(message, 'error', problemText(res, 'The poll could not be closed'));
      }
    });
  }
  let lastVotes = -1, timer = null;
  const refresh = async () => {
    clearTimeout(timer);
    const res = await api('GET', `/v1/polls/${encodeURIComponent(id)}/results`, { token });
    if (res.status === 200) {
      renderResults(res.data);
      const votes = res.data.participation.unique_actors;
      // Said aloud only when the count changes, not on every refresh.
      if (votes !== lastVotes) say(message, 'ok', `${votes} ${votes === 1 ? 'person has' : 'people have'} voted.`);
      lastVotes = votes;
      if (!res.data.closed || !res.data.consistency.complete) timer = setTimeout(refresh, REFRESH_MS);
      return;
    }
    if (res.status === 401) return say(message, 'warn', 'Only the poll’s creator can see the results for now: open the admin link you got when you created the poll.');
    if (res.status === 403) return say(message, 'error', 'This admin link is not valid for this poll.');
    say(message, 'warn', problemText(res, 'The results could not be loaded'));
    timer = setTimeout(refresh, REFRESH_MS * 2);
  };
  document.addEventListener('visibilitychange', () => { if (!document.hidden && lastVotes >= 0) refresh(); });
  refresh();
}

// ---------------------------------------------------------------- routing

function start() {
  const path = location.pathname;
  let m;
  if ((m = path.match(/^\/p\/([^/]+)\/results$/))) return startResults(decodeURIComponent(m[1]));
  if ((m = path.match(/^\/p\/([^/]+)$/))) return startVote(decodeURIComponent(m[1]));
  return startCreate();
}

start();
