// Browser test of the daemon's web UI in the system Chromium (headless), driven by
// puppeteer-core. Run by the interop case `web_ui` (tests/interop/cases.sh), which starts
// `piecewise daemon` inside a network namespace and passes:
//   PW_RPC=IP:PORT     the daemon's --rpc address
//   PW_DATA=DIR        holds data.bin and data.torrent (a real torrent of it), download dir
//   PW_SHOTS=DIR       where screenshots go (build/test-logs/)
//   PW_PERF_N=N        torrents for the performance part (default 1000; 0: skip it)
// Exits 0 when every check passed; prints each step and the measured figures.
import puppeteer from 'puppeteer-core';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, mkdirSync } from 'node:fs';

const RPC = process.env.PW_RPC;
const DATA = process.env.PW_DATA;
const SHOTS = process.env.PW_SHOTS;
const PERF_N = Number(process.env.PW_PERF_N ?? 1000);
const BASE = `http://${RPC}`;
const XSS = '<img src=x onerror=alert(1)>';

const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- The RPC from the test's side (JSON-RPC 2.0, session-id handshake) ----
let sid = '';
async function rpc(method, params = {}) {
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${BASE}/transmission/rpc`, {
      method: 'POST',
      headers: { 'X-Transmission-Session-Id': sid, 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
    });
    if (res.status === 409) { sid = res.headers.get('x-transmission-session-id'); continue; }
    const j = await res.json();
    if (j.error) throw new Error(`${method}: ${j.error.message}`);
    return j.result;
  }
  throw new Error('session id handshake failed');
}

// A minimal single-file .torrent (BEP 3) of `len` bytes named `name`, in bencode.
function bencode(v) {
  if (typeof v === 'number') return Buffer.from(`i${v}e`);
  if (Buffer.isBuffer(v)) return Buffer.concat([Buffer.from(`${v.length}:`), v]);
  if (typeof v === 'string') return bencode(Buffer.from(v));
  const keys = Object.keys(v).sort();
  return Buffer.concat([Buffer.from('d'), ...keys.flatMap((k) => [bencode(k), bencode(v[k])]), Buffer.from('e')]);
}
function tinyTorrent(name) {
  const data = randomBytes(1000);
  const info = { length: data.length, name, 'piece length': 16384, pieces: createHash('sha1').update(data).digest() };
  return bencode({ info }).toString('base64');
}

async function waitFor(what, fn, ms = 15000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const rowText = (page, name) => page.evaluate((n) => {
  for (const tr of document.querySelectorAll('#rows tr')) {
    if (tr.cells[0].textContent === n) return [...tr.cells].map((c) => c.textContent);
  }
  return null;
}, name);

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await puppeteer.launch({
    executablePath: process.env.PW_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Root inside the test's namespace: Chromium's sandbox needs an unprivileged user.
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const shot = async (page, name) => {
    await page.screenshot({ path: `${SHOTS}/web-${name}.png` });
    log(`screenshot ${SHOTS}/web-${name}.png`);
  };
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    const dialogs = [];
    page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // The RPC's 409 is the session-id handshake (expected once), not a page error.
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 409/.test(m.text())) errors.push(m.text()); });

    // The headers the page came with.
    const resp = await page.goto(`${BASE}/`, { waitUntil: 'domcontentloaded' });
    const csp = resp.headers()['content-security-policy'] || '';
    if (!csp.includes("script-src 'self'") || csp.includes('unsafe-inline')) fail(`CSP: ${csp}`);
    if (resp.headers()['x-content-type-options'] !== 'nosniff') fail('no X-Content-Type-Options: nosniff');
    await waitFor('the event stream', () => page.evaluate(() => document.getElementById('conn').textContent === 'live'));
    log('page loaded, event stream live');

    // 1. A torrent added through the RPC appears (real data: data.bin).
    const meta = readFileSync(`${DATA}/data.torrent`).toString('base64');
    const added = await rpc('torrent_add', { metainfo: meta, download_dir: DATA });
    const name = added.torrent_added.name;
    const row = await waitFor('the RPC-added torrent in the list', () => rowText(page, name), 10000);
    log('RPC-added torrent shown:', JSON.stringify(row));
    await waitFor('it to be verified and seeding', async () => (await rowText(page, name))?.[3] === 'seeding', 20000);
    log('it seeds (100%):', JSON.stringify(await rowText(page, name)));

    // 2. The XSS-named torrent shows its name as text; nothing runs.
    await rpc('torrent_add', { metainfo: tinyTorrent(XSS), paused: true });
    await waitFor('the XSS-named torrent', () => rowText(page, XSS));
    const imgs = await page.evaluate(() => document.querySelectorAll('#rows img, #detail img').length);
    if (imgs) fail(`${imgs} <img> elements in the list: the name was parsed as HTML`);
    log('XSS name shown as text, no element made of it');

    // 3. Add a magnet through the form, then pause it.
    const magnetHash = createHash('sha1').update('piecewise web test').digest('hex');
    const magnetName = 'web-test-magnet';
    await page.click('#btn-add');
    await page.waitForSelector('#dlg-add[open]');
    await page.type('#add-url', `magnet:?xt=urn:btih:${magnetHash}&dn=${magnetName}`);
    await shot(page, 'add-dialog');
    await page.click('#add-ok');
    await waitFor('the dialog to close', () => page.evaluate(() => !document.getElementById('dlg-add').open));
    await waitFor('the magnet in the list', () => rowText(page, magnetName));
    log('magnet added through the form:', JSON.stringify(await rowText(page, magnetName)));
    await page.evaluate((n) => {
      for (const tr of document.querySelectorAll('#rows tr')) if (tr.cells[0].textContent === n) tr.cells[0].click();
    }, magnetName);
    await page.click('#btn-stop');
    await waitFor('the magnet to stop', async () => (await rowText(page, magnetName))?.[3] === 'stopped');
    const st = await rpc('torrent_get', { ids: [magnetHash], fields: ['status'] });
    if (st.torrents[0].status !== 0) fail(`after Stop the RPC says status ${st.torrents[0].status}`);
    log('magnet paused from the page (RPC agrees: status 0)');

    // 4. Files tab of the real torrent: unselect its file if the daemon can.
    await page.evaluate((n) => {
      for (const tr of document.querySelectorAll('#rows tr')) if (tr.cells[0].textContent === n) tr.cells[0].click();
    }, name);
    await waitFor('the detail pane', () => page.evaluate(() => !document.getElementById('detail').hidden));
    await page.click('#tabs button[data-tab="files"]');
    const fileRow = await waitFor('the files list', () => page.evaluate(() => {
      const tr = document.querySelector('#files tr');
      return tr ? [...tr.cells].map((c) => c.textContent) : null;
    }));
    if (fileRow[1] !== name) fail(`files tab: ${JSON.stringify(fileRow)}`);
    log('files tab lists', JSON.stringify(fileRow));
    const streamHref = await page.evaluate(() => document.querySelector('#files a.stream')?.getAttribute('href'));
    if (!/^\/stream\/[0-9a-f]{40}\/0\//.test(streamHref || '')) fail(`files tab stream link: ${streamHref}`);
    // A DOM click (not a pointer at coordinates): the same change event, no race with layout.
    await page.evaluate(() => document.querySelector('#files input[type=checkbox]').click());
    const outcome = await waitFor('the file selection answer', async () => {
      const w = (await rpc('torrent_get', { ids: [added.torrent_added.id], fields: ['wanted'] })).torrents[0].wanted;
      if (w && w[0] === false) return 'unselected';
      const ui = await page.evaluate(() => ({
        checked: document.querySelector('#files input[type=checkbox]')?.checked,
        note: document.getElementById('files-note').hidden ? '' : document.getElementById('files-note').textContent,
        toast: document.getElementById('toast').hidden ? '' : document.getElementById('toast').textContent,
      }));
      if (ui.checked === true && ui.note && ui.toast) return 'refused: ' + ui.toast;
      return null;
    });
    log('file selection:', outcome);
    await shot(page, 'files');
    for (const tab of ['general', 'peers', 'trackers', 'pieces']) {
      await page.click(`#tabs button[data-tab="${tab}"]`);
      await sleep(300);
    }
    const pieces = await page.evaluate(() => document.getElementById('pieces-note').textContent);
    if (!/^\d+ of \d+ pieces/.test(pieces)) fail(`piece map: "${pieces}"`);
    log('piece map:', pieces);
    await shot(page, 'pieces');

    // 5. Phone width (switching to a mobile viewport reloads the page: a phone's first load).
    await page.click('#detail-close');
    if (await page.evaluate(() => getComputedStyle(document.getElementById('detail')).display) !== 'none') fail('the detail pane does not close');
    const live = () => waitFor('the event stream', () => page.evaluate(() => document.getElementById('conn').textContent === 'live' &&
      document.querySelectorAll('#rows tr').length >= 3));
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    await live();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) fail(`phone width: the page is ${overflow}px wider than the screen`);
    await shot(page, 'phone');
    await page.setViewport({ width: 1280, height: 800 });
    await live();

    // 6. Keyboard: select all, Delete asks before removing.
    await page.click('#list-wrap');
    await page.keyboard.down('Control');
    await page.keyboard.press('a');
    await page.keyboard.up('Control');
    const sel = await page.evaluate(() => document.querySelectorAll('#rows tr.selected').length);
    const total = await page.evaluate(() => document.querySelectorAll('#rows tr').length);
    if (sel !== total || total < 3) fail(`Ctrl+A selected ${sel} of ${total}`);
    await page.keyboard.press('Delete');
    await page.waitForSelector('#dlg-remove[open]');
    await page.click('#remove-cancel');
    log(`keyboard: Ctrl+A selected ${sel}/${total}, Delete asked first`);
    await shot(page, 'list');
    // Remove the magnet: select it, Delete, confirm; the row goes (an `update` with `removed`).
    await page.evaluate((n) => {
      for (const tr of document.querySelectorAll('#rows tr')) if (tr.cells[0].textContent === n) tr.cells[0].click();
    }, magnetName);
    await page.keyboard.press('Delete');
    await page.waitForSelector('#dlg-remove[open]');
    await page.click('#remove-ok');
    await waitFor('the removed magnet to leave the list', async () => (await rowText(page, magnetName)) === null);
    const left = (await rpc('torrent_get', { fields: ['hash_string'] })).torrents.map((t) => t.hash_string);
    if (left.includes(magnetHash)) fail('the daemon still has the removed magnet');
    log('removed through the page: gone from the list and from the daemon');

    // Session settings: what session_get reports; a change goes through session_set.
    await page.click('#btn-settings');
    await waitFor('the settings form', () => page.evaluate(() => document.querySelectorAll('#settings-fields label').length > 3));
    await page.select('#settings-fields select', 'required');
    await shot(page, 'settings');
    await page.click('#settings-ok');
    await waitFor('the settings dialog to close', () => page.evaluate(() => !document.getElementById('dlg-settings').open));
    const enc = (await rpc('session_get', { fields: ['encryption'] })).encryption;
    if (enc !== 'required') fail(`settings: encryption is ${enc} after choosing required`);
    log('settings: encryption set to required through the form');

    if (dialogs.length) fail(`dialogs fired: ${JSON.stringify(dialogs)}`);
    if (errors.length) fail(`page errors: ${JSON.stringify(errors)}`);

    // 7. Performance with many torrents.
    if (PERF_N > 0) await perf(browser, shot);
    log('PASS: web UI');
  } finally {
    await browser.close();
  }
}

async function perf(browser, shot) {
  log(`adding ${PERF_N} paused torrents through the RPC`);
  const have = (await rpc('torrent_get', { fields: ['id'] })).torrents.length;
  const ids = [];
  for (let i = 0; i < PERF_N; i++) {
    const r = await rpc('torrent_add', { metainfo: tinyTorrent(`perf-${String(i).padStart(4, '0')}.bin`), paused: true });
    ids.push(r.torrent_added.id);
  }
  const expected = have + PERF_N;
  log(`${expected} torrents in the daemon`);
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${BASE}/`, { waitUntil: 'domcontentloaded' });
  await waitFor('the first render', () => page.evaluate(() => window.__pwPerf && window.__pwPerf.firstRender !== null), 30000);
  const first = await page.evaluate(() => ({ ...window.__pwPerf, rows: document.querySelectorAll('#rows tr').length }));
  if (first.rows !== expected) fail(`first render shows ${first.rows} rows, expected ${expected}`);
  log(`FIGURE first render of ${first.rows} torrents: ${first.firstRender.toFixed(0)} ms after navigation start ` +
      `(event stream open at ${first.openAt.toFixed(0)} ms, snapshot in at ${first.snapshotAt.toFixed(0)} ms, ` +
      `building the rows ${first.snapshotMs.toFixed(1)} ms)`);
  await shot(page, `perf-${PERF_N}`);

  // Start them all: updates that touch every row (state, progress), then stop them again.
  const before = await page.metrics();
  const nBefore = await page.evaluate(() => window.__pwPerf.updates.length);
  await rpc('torrent_start', { ids });
  await sleep(4000);
  await rpc('torrent_stop', { ids });
  await waitFor('every row stopped', () => page.evaluate(() =>
    [...document.querySelectorAll('#rows tr')].filter((tr) => tr.cells[3].textContent === 'stopped').length), 30000);
  await sleep(2500);
  const after = await page.metrics();
  const updates = await page.evaluate((k) => window.__pwPerf.updates.slice(k), nBefore);
  if (!updates.length) fail('no update arrived while 1,000 torrents started and stopped');
  const big = updates.filter((u) => u.n >= PERF_N / 2);
  const max = Math.max(...updates.map((u) => u.parseMs + u.applyMs));
  const mean = updates.reduce((s, u) => s + u.parseMs + u.applyMs, 0) / updates.length;
  const task = (after.TaskDuration - before.TaskDuration) * 1000;
  const layout = (after.LayoutDuration - before.LayoutDuration) * 1000;
  const style = (after.RecalcStyleDuration - before.RecalcStyleDuration) * 1000;
  log(`FIGURE ${updates.length} updates (${big.length} touching >= ${PERF_N / 2} torrents): script+DOM per update mean ${mean.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
  log(`FIGURE main thread over those updates: ${task.toFixed(0)} ms busy in all (${(task / updates.length).toFixed(1)} ms per update; layout ${layout.toFixed(0)} ms, style ${style.toFixed(0)} ms)`);

  // Small updates (one torrent stops and starts) with the 1,000 rows on the page.
  const k2 = await page.evaluate(() => window.__pwPerf.updates.length);
  const m2 = await page.metrics();
  const state0 = () => page.evaluate((n) => {
    for (const tr of document.querySelectorAll('#rows tr')) if (tr.cells[0].textContent === n) return tr.cells[3].textContent;
    return null;
  }, 'perf-0000.bin');
  await rpc('torrent_start', { ids: [ids[0]] });
  await waitFor('perf-0000.bin to start on the page', async () => (await state0()) !== 'stopped', 20000);
  await rpc('torrent_stop', { ids: [ids[0]] });
  await waitFor('perf-0000.bin to stop on the page', async () => (await state0()) === 'stopped', 20000);
  await sleep(500);
  const m3 = await page.metrics();
  const small = await page.evaluate((k) => window.__pwPerf.updates.slice(k), k2);
  if (!small.length) fail('no update arrived while one torrent started and stopped');
  const smean = small.reduce((s, u) => s + u.parseMs + u.applyMs, 0) / small.length;
  log(`FIGURE ${small.length} updates while one torrent started and stopped (torrents in each: ${small.map((u) => u.n).join(', ')}) ` +
      `with ${expected} on the page: script+DOM mean ${smean.toFixed(2)} ms; ` +
      `main thread ${((m3.TaskDuration - m2.TaskDuration) * 1000).toFixed(0)} ms busy over those ${((m3.Timestamp - m2.Timestamp)).toFixed(1)} s`);
  if (errors.length) fail(`page errors: ${JSON.stringify(errors)}`);
  await page.close();
}

main().catch((e) => fail(e.stack || String(e)));
