// The web UI in Debian's Chromium (playwright-core, no downloaded browser), against the real
// stack at SPLITVOTE_URL: create a poll, vote from several actors (one by keyboard only), see
// the chart and figures reach the stored counts, and the friendly 409 / 403 / 410 messages.
// Screenshots of the three pages go to SPLITVOTE_UI_SCREENSHOTS. Any failed assertion exits 1.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.SPLITVOTE_URL;
const shots = process.env.SPLITVOTE_UI_SCREENSHOTS;
assert.ok(base && shots, 'SPLITVOTE_URL and SPLITVOTE_UI_SCREENSHOTS must be set');

const step = (what) => console.log(`ui: ${what}`);
const problems = [];  // console errors (a CSP violation is one) and uncaught exceptions

function watch(page) {
  // Chromium logs every 4xx the page expects (409, 403, 410, 401) as "Failed to load resource": those are
  // asserted through the messages above; anything else (a CSP refusal, a script error) is a problem.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource: the server responded with a status of')) problems.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
  return page;
}

async function message(page, id) {
  const box = page.locator(`#${id} p`);
  await box.waitFor();
  return (await box.textContent()).trim();
}

/// Votes on the ballot at `share` (as `actor`, or as the link's token names when `actor` is
/// null) and returns the message the page shows.
async function vote(page, share, actor, choice) {
  await page.goto('about:blank');  // a link that differs only in its fragment would not load the page again
  await page.goto(share);
  if (actor !== null) await page.getByLabel('Your name or voter ID').fill(actor);
  await page.getByRole('radio', { name: choice }).check();
  await page.getByRole('button', { name: 'Vote' }).click();
  await page.waitForFunction(() => {
    const p = document.querySelector('#vote-message p');
    return p && !p.textContent.startsWith('Sending');
  });
  return message(page, 'vote-message');
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const desktop = await browser.newContext({ viewport: { width: 1024, height: 900 } });
  const page = watch(await desktop.newPage());

  step('create a poll');
  await page.goto(`${base}/`);
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Create a poll');
  await page.getByLabel('Question').fill('Where do we go for lunch?');
  await page.getByLabel(/^Choices/).fill('pizza\nsushi\nsalad');
  await page.getByLabel(/^Who may vote/).fill('alice, bob\ncarol\ndave');
  // This walk-through types voter IDs; personal voting links are walked through below.
  await page.getByLabel('How voters prove who they are').selectOption('open');
  await page.screenshot({ path: path.join(shots, 'create.png'), fullPage: true });
  // Exact counts for the assertions below: no decoys, no randomized response, no noise.
  await page.getByLabel('Decoy ballots').selectOption('none');
  await page.getByLabel(/^Randomized response/).fill('0');
  await page.getByLabel('Noise on the published counts').selectOption('none');
  assert.ok(await page.locator('[data-noise=on]').isHidden(), 'the ε fields hide when noise is off');
  await page.getByRole('button', { name: 'Create poll' }).click();
  await page.locator('#created').waitFor();
  assert.match(await message(page, 'create-message'), /^Created “Where do we go for lunch\?” with 3 choices\.$/);
  const share = await page.locator('#share-link').inputValue();
  const admin = await page.locator('#admin-link').inputValue();
  assert.match(share, new RegExp(`^${base}/p/[0-9a-f-]{36}$`));
  assert.ok(admin.startsWith(`${share}/results#admin=`), admin);
  assert.ok(!admin.split('#')[0].includes('?'), 'the admin token is never in the query string');
  assert.ok(await page.locator('#tokens').isHidden(), 'no voter tokens for an open poll');

  step('vote: alice and carol with the mouse');
  assert.match(await vote(page, share, 'alice', 'pizza'), /^Thank you: your vote was received/);
  assert.match(await vote(page, share, 'carol', 'pizza'), /^Thank you: your vote was received/);

  step('vote: bob with the keyboard only, on a phone-sized screen');
  const phone = await browser.newContext({ viewport: { width: 390, height: 760 }, isMobile: true, hasTouch: true });
  const ballot = watch(await phone.newPage());
  await ballot.goto(share);
  // The page fills the heading once its fetch of the poll is back: wait for it, not for the load.
  await ballot.waitForFunction(() => (document.querySelector('#vote-heading')?.textContent || '').trim() !== '');
  assert.equal(await ballot.locator('#vote-heading').textContent(), 'Where do we go for lunch?');
  assert.equal(await ballot.getByRole('radio').count(), 3);
  await ballot.getByLabel('Your name or voter ID').focus();
  await ballot.keyboard.type('bob');
  await ballot.keyboard.press('Tab');   // into the radio group: the first choice
  await ballot.keyboard.press('ArrowDown');  // moves to, and picks, sushi
  assert.ok(await ballot.getByRole('radio', { name: 'sushi' }).isChecked());
  await ballot.screenshot({ path: path.join(shots, 'vote.png'), fullPage: true });
  await ballot.keyboard.press('Tab');   // the Vote button comes next
  assert.equal(await ballot.evaluate(() => document.activeElement.id), 'vote-submit');
  await ballot.keyboard.press('Enter');
  await ballot.waitForFunction(() => /received|already|not/.test(document.querySelector('#vote-message')?.textContent || ''));
  assert.match(await message(ballot, 'vote-message'), /^Thank you: your vote was received/);
  const scrollWidth = await ballot.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= 390, `the ballot fits a phone (scrollWidth ${scrollWidth})`);

  step('a repeated vote and an actor not on the list');
  assert.equal(await vote(page, share, 'alice', 'salad'),
    'You have already voted in this poll. Only your first vote counts, and it cannot be changed.');
  assert.match(await vote(page, share, 'mallory', 'salad'), /^You are not on the list of people who may vote/);

  step('results: the chart reaches the stored counts');
  const results = watch(await desktop.newPage());
  await results.goto(admin);
  await results.waitForFunction(() => {
    const est = (c) => document.querySelector(`#results-table tr[data-choice="${c}"] .estimate`)?.textContent;
    return est('pizza') === '2.0' && est('sushi') === '1.0' && est('salad') === '0.0' &&
      document.querySelector('[data-figure=unique]')?.textContent === '3' &&
      /every vote received so far is counted/.test(document.querySelector('#refresh-status').textContent);
  }, null, { timeout: 60000, polling: 250 });
  assert.equal(await results.locator('#results-heading').textContent(), 'Where do we go for lunch?');
  assert.equal(await results.locator('[data-figure=eligible]').textContent(), '4');
  assert.equal(await results.locator('[data-figure=submissions]').textContent(), '3');
  assert.equal(await results.locator('[data-figure=duplicates]').textContent(), '0');
  const bars = await results.locator('#chart svg rect.bar').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('width'))));
  assert.equal(bars.length, 3);
  assert.ok(bars[0] > bars[1] && bars[1] > bars[2], `pizza > sushi > salad in the chart: ${bars}`);
  assert.ok(Math.abs(bars[0] - 2 * bars[1]) < 1, `pizza's bar is twice sushi's: ${bars}`);
  assert.match(await results.locator('#privacy-words').textContent(), /randomized response is off/i);
  assert.match(await message(results, 'results-message'), /^3 people have voted\.$/);
  await results.screenshot({ path: path.join(shots, 'results.png'), fullPage: true });

  step('results without the admin token say whose they are');
  const stranger = watch(await desktop.newPage());
  await stranger.goto(`${share}/results`);
  assert.match(await message(stranger, 'results-message'), /^Only the poll’s creator can see the results/);

  step('close the poll from the results page; a later vote is refused kindly');
  results.once('dialog', (d) => d.accept());
  await results.getByRole('button', { name: 'Close the poll now' }).click();
  await results.waitForFunction(() => /The poll is closed/.test(document.querySelector('#results-message').textContent));
  assert.equal(await vote(page, share, 'dave', 'salad'), 'This poll is closed: it no longer accepts votes.');

  step('personal voting links: a CSV of links, one vote each, a wrong or missing token refused');
  await page.goto(`${base}/`);
  await page.getByLabel('Question').fill('Board seat');
  await page.getByLabel(/^Choices/).fill('yes\nno');
  await page.getByLabel(/^Who may vote/).fill('erin\nfrank');
  assert.equal(await page.getByLabel('How voters prove who they are').inputValue(), 'tokens', 'personal links are the default');
  await page.getByRole('button', { name: 'Create poll' }).click();
  await page.locator('#created').waitFor();
  assert.ok(await page.locator('#tokens').isVisible(), 'the voter-token CSV is offered');
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#tokens-download').click()]);
  assert.equal(download.suggestedFilename(), 'voter-tokens.csv');
  const csv = await readFile(await download.path(), 'utf8');
  const rows = csv.trim().split('\r\n').map((line) => line.split(','));
  assert.deepEqual(rows[0], ['actor_id', 'token', 'vote_link']);
  assert.deepEqual(rows.slice(1).map((r) => r[0]).sort(), ['erin', 'frank']);
  const erin = rows.find((r) => r[0] === 'erin');
  assert.match(erin[1], /^[0-9a-f]{64}$/);

  assert.ok(erin[2].includes('#token='), 'the token travels in the fragment');
  assert.match(await vote(page, erin[2], null, 'yes'), /^Thank you: your vote was received/);
  assert.equal(await page.locator('#actor').inputValue(), 'erin');
  assert.match(await vote(page, erin[2], null, 'no'), /^You have already voted/);
  const forged = erin[2].replace(/#token=[0-9a-f]/, (m) => m.slice(0, -1) + (m.endsWith('0') ? '1' : '0'));
  assert.match(await vote(page, forged, null, 'no'), /^This voting link is not valid for this poll/);
  const bare = erin[2].split('#')[0];
  assert.match(await vote(page, bare, 'frank', 'no'), /^This poll needs your personal voting link/);

  assert.deepEqual(problems, [], 'no console errors or uncaught exceptions (a CSP violation is one)');
  step('passed');
} finally {
  await browser.close();
}
