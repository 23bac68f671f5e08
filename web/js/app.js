// Piecewise web UI: the list comes from the daemon's event stream (GET /events: a
// `snapshot`, then `update`s with only what changed); actions go through the
// Transmission RPC (JSON-RPC 2.0). No framework, no build step.
import * as fmt from './format.js';
import { $, el, toast } from './dom.js';
import { call } from './rpc.js';
import { TorrentList } from './list.js';
import { Detail } from './detail.js';
import { openSettings, saveSettings } from './settings.js';

// Figures the browser test reads: time to first render and the cost of each update.
const perf = { firstRender: null, snapshotMs: null, openAt: null, snapshotAt: null, updates: [] };
window.__pwPerf = perf;

const detail = new Detail();
const list = new TorrentList($('rows'), {
  onSelect: updateButtons,
  onOpen: (id) => detail.open(id),
});

function updateButtons() {
  const n = list.selected.size;
  for (const b of ['btn-start', 'btn-stop', 'btn-verify', 'btn-remove']) $(b).disabled = n === 0;
  $('count').textContent = list.torrents.size + ' torrents' + (n ? ', ' + n + ' selected' : '');
  if (n === 1) {
    const [id] = list.selected;
    if (detail.id !== id) detail.open(id);
  }
}

function updateLabels() {
  const sel = $('filter-label');
  const have = [...sel.options].slice(1).map((o) => o.value);
  const now = list.labels();
  if (have.join('\n') === now.join('\n')) return;
  const keep = sel.value;
  sel.replaceChildren(sel.options[0], ...now.map((l) => el('option', { value: l, text: l })));
  sel.value = now.includes(keep) ? keep : '';
}

function showStats(s) {
  if (!s) return;
  $('rate-down').textContent = fmt.rate(s.download_speed) || '0 B/s';
  $('rate-up').textContent = fmt.rate(s.upload_speed) || '0 B/s';
}

// ---- The event stream ----
function connect() {
  const es = new EventSource('/events');
  es.addEventListener('open', () => {
    if (perf.openAt === null) perf.openAt = performance.now();
    $('conn').textContent = 'live';
    $('conn').className = 'conn-on';
  });
  es.addEventListener('error', () => {
    // EventSource reconnects by itself (retry: 3 s); a snapshot follows.
    $('conn').textContent = 'reconnecting…';
    $('conn').className = 'conn-off';
  });
  es.addEventListener('snapshot', (e) => {
    if (perf.snapshotAt === null) perf.snapshotAt = performance.now();
    const d = JSON.parse(e.data);
    perf.snapshotMs = list.reset(d.torrents);
    if (perf.firstRender === null) {
      // Let the browser lay out and paint before taking the time.
      requestAnimationFrame(() => setTimeout(() => { perf.firstRender = performance.now(); }, 0));
    }
    showStats(d.stats);
    $('empty').hidden = d.torrents.length > 0;
    updateLabels();
    updateButtons();
  });
  es.addEventListener('update', (e) => {
    const t0 = performance.now();
    const d = JSON.parse(e.data);
    list.apply(d);
    showStats(d.stats);
    $('empty').hidden = list.torrents.size > 0;
    if (d.added.length || d.removed.length) updateButtons();
    if (d.added.length || d.changed.some((c) => 'labels' in c)) updateLabels();
    for (const c of d.changed) detail.changed(c.id);
    if (d.removed.includes(detail.id)) detail.open(null);
    const parse = performance.now() - t0;
    // The DOM work runs in the next frame; record both parts.
    requestAnimationFrame(() => {
      perf.updates.push({ n: d.added.length + d.changed.length + d.removed.length, parseMs: parse, applyMs: list.lastApplyMs });
      if (perf.updates.length > 1000) perf.updates.shift();
    });
  });
}

// ---- Actions ----
const selectedIds = () => [...list.selected];

async function act(method, params = {}) {
  const ids = selectedIds();
  if (!ids.length) return;
  try {
    await call(method, { ids, ...params });
  } catch (e) {
    toast(method.replace('_', '-') + ': ' + e.message);
  }
}

$('btn-start').addEventListener('click', () => act('torrent_start'));
$('btn-stop').addEventListener('click', () => act('torrent_stop'));
$('btn-verify').addEventListener('click', () => act('torrent_verify'));
$('btn-remove').addEventListener('click', askRemove);

function askRemove() {
  const ids = selectedIds();
  if (!ids.length) return;
  const names = ids.map((id) => list.torrents.get(id)?.name ?? String(id));
  $('remove-what').textContent = ids.length === 1 ? names[0] : ids.length + ' torrents';
  $('remove-data').checked = false;
  $('dlg-remove').showModal();
}
$('remove-cancel').addEventListener('click', () => $('dlg-remove').close());
$('form-remove').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('dlg-remove').close();
  await act('torrent_remove', { delete_local_data: $('remove-data').checked });
});

// Add: .torrent files (sent as base64 metainfo), or a magnet link / URL.
let defaultDir = '';
$('btn-add').addEventListener('click', async () => {
  $('add-error').hidden = true;
  $('add-url').value = '';
  $('add-file').value = '';
  if (!defaultDir) {
    try {
      defaultDir = (await call('session_get', { fields: ['download_dir'] })).download_dir || '';
    } catch (e) { /* the field stays empty: the daemon's default applies */ }
  }
  if (!$('add-dir').value) $('add-dir').value = defaultDir;
  $('dlg-add').showModal();
});
$('add-cancel').addEventListener('click', () => $('dlg-add').close());

function base64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

$('form-add').addEventListener('submit', async (e) => {
  e.preventDefault();
  const common = { paused: $('add-paused').checked };
  const dir = $('add-dir').value.trim();
  if (dir) common.download_dir = dir;
  const jobs = [];
  for (const f of $('add-file').files) jobs.push(base64(f).then((m) => ({ ...common, metainfo: m })));
  const url = $('add-url').value.trim();
  if (url) jobs.push(Promise.resolve({ ...common, filename: url }));
  if (!jobs.length) {
    $('add-error').textContent = 'Choose a .torrent file or enter a magnet link or URL.';
    $('add-error').hidden = false;
    return;
  }
  const errors = [];
  for (const job of jobs) {
    try {
      const r = await call('torrent_add', await job);
      if (r.torrent_duplicate) toast('Already added: ' + r.torrent_duplicate.name);
    } catch (err) {
      errors.push(err.message);
    }
  }
  if (errors.length) {
    $('add-error').textContent = errors.join('; ');
    $('add-error').hidden = false;
  } else {
    $('dlg-add').close();
  }
});

$('btn-settings').addEventListener('click', () => openSettings());
$('settings-cancel').addEventListener('click', () => $('dlg-settings').close());
$('form-settings').addEventListener('submit', (e) => { e.preventDefault(); saveSettings(); });

// ---- Sorting, filtering, keyboard ----
for (const th of document.querySelectorAll('#list th[data-sort]')) {
  th.addEventListener('click', () => {
    list.setSort(th.dataset.sort);
    for (const h of document.querySelectorAll('#list th')) h.classList.remove('sorted-asc', 'sorted-desc');
    th.classList.add(list.sortDesc ? 'sorted-desc' : 'sorted-asc');
  });
}
$('filter-state').addEventListener('change', (e) => list.setFilter({ state: e.target.value }));
$('filter-label').addEventListener('change', (e) => list.setFilter({ label: e.target.value }));
$('filter-text').addEventListener('input', (e) => list.setFilter({ text: e.target.value.trim().toLowerCase() }));

document.addEventListener('keydown', (e) => {
  const typing = e.target.closest('input, select, textarea, dialog');
  if (typing) return;
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'a') {
    e.preventDefault();
    list.selectAll();
  } else if (e.key === 'Delete') {
    e.preventDefault();
    askRemove();
  } else if (e.key === 'Escape') {
    list.selected.clear();
    list.markSelection();
    detail.open(null);
  }
});

updateButtons();
connect();
