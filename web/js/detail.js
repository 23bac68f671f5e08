// The detail pane of one torrent: general, files (wanted, priority, progress), peers,
// trackers and a piece map on a canvas. Refreshed by torrent_get when the torrent
// changes in the event stream (at most every 1.5 s) and when a tab opens.
import * as fmt from './format.js';
import { $, el, toast } from './dom.js';
import { call } from './rpc.js';

const FIELDS = {
  general: ['id', 'name', 'hash_string', 'total_size', 'size_when_done', 'have_valid', 'percent_done', 'status', 'error', 'error_string',
    'download_dir', 'added_date', 'uploaded_ever', 'downloaded_ever', 'upload_ratio', 'piece_count', 'piece_size', 'magnet_link',
    'peers_connected', 'eta', 'comment', 'creator', 'is_private', 'labels'],
  files: ['id', 'files', 'file_stats', 'wanted', 'priorities', 'hash_string'],
  peers: ['id', 'peers'],
  trackers: ['id', 'tracker_stats'],
  pieces: ['id', 'pieces', 'piece_count', 'percent_done'],
};

export class Detail {
  constructor() {
    this.id = null;
    this.tab = 'general';
    this.last = 0;
    this.timer = 0;
    this.busy = false;
    this.fileSelectionWorks = true;
    for (const b of document.querySelectorAll('#tabs button[data-tab]')) {
      b.addEventListener('click', () => this.show(b.dataset.tab));
    }
    $('detail-close').addEventListener('click', () => this.open(null));
  }

  open(id) {
    this.id = id;
    $('detail').hidden = id === null;
    if (id !== null) this.refresh(true);
  }

  show(tab) {
    this.tab = tab;
    for (const b of document.querySelectorAll('#tabs button[data-tab]')) b.classList.toggle('active', b.dataset.tab === tab);
    for (const name of Object.keys(FIELDS)) $('tab-' + name).hidden = name !== tab;
    this.refresh(true);
  }

  // The torrent changed (from the event stream): refresh, throttled.
  changed(id) {
    if (id !== this.id) return;
    const wait = 1500 - (performance.now() - this.last);
    if (wait <= 0) this.refresh(false);
    else if (!this.timer) this.timer = setTimeout(() => { this.timer = 0; this.refresh(false); }, wait);
  }

  async refresh(force) {
    if (this.id === null || (this.busy && !force)) return;
    this.busy = true;
    this.last = performance.now();
    const id = this.id;
    const tab = this.tab;
    try {
      const r = await call('torrent_get', { ids: [id], fields: FIELDS[tab] });
      const t = r.torrents && r.torrents[0];
      if (id !== this.id || tab !== this.tab) return;
      if (!t) { this.open(null); return; }
      this['render_' + tab](t);
    } catch (e) {
      toast('Could not load details: ' + e.message);
    } finally {
      this.busy = false;
    }
  }

  render_general(t) {
    const rows = [
      ['Name', t.name], ['Info-hash', t.hash_string], ['State', fmt.stateName(t)],
      ['Error', t.error_string || ''], ['Size', fmt.size(t.total_size)],
      ['Have', fmt.size(t.have_valid) + ' (' + fmt.percent(t.percent_done) + ')'],
      ['Downloaded', fmt.size(t.downloaded_ever)], ['Uploaded', fmt.size(t.uploaded_ever)],
      ['Ratio', fmt.ratio(t.upload_ratio)], ['Peers', String(t.peers_connected ?? '')],
      ['Pieces', t.piece_count ? t.piece_count + ' × ' + fmt.size(t.piece_size) : 'no metadata yet'],
      ['Location', t.download_dir], ['Added', fmt.date(t.added_date)],
      ['Comment', t.comment || ''], ['Labels', (t.labels || []).join(', ')], ['Magnet', t.magnet_link || ''],
    ];
    const dl = el('dl', { class: 'general' });
    for (const [k, v] of rows) if (v !== undefined && v !== '') dl.append(el('dt', { text: k }), el('dd', { text: String(v) }));
    $('tab-general').replaceChildren(dl);
  }

  render_files(t) {
    const files = t.files || [];
    const wanted = t.wanted || (t.file_stats || []).map((s) => s.wanted);
    const prio = t.priorities || (t.file_stats || []).map((s) => s.priority);
    const note = $('files-note');
    note.hidden = this.fileSelectionWorks;
    note.textContent = this.fileSelectionWorks ? '' : 'This daemon cannot change file selection or priorities yet.';
    // Rows are made once per torrent and then updated in place, so that a refresh never
    // swaps a checkbox or an open priority menu from under the user's pointer.
    if (this.filesOf !== t.id || !this.fileRows || this.fileRows.length !== files.length) {
      this.filesOf = t.id;
      this.fileRows = files.map((f, i) => {
        const box = el('input', { type: 'checkbox' });
        box.dataset.index = String(i);
        box.addEventListener('change', () => this.setFiles(t.id, box.checked ? 'files_wanted' : 'files_unwanted', i, box));
        const sel = el('select', {},
          el('option', { value: '1', text: 'High' }), el('option', { value: '0', text: 'Normal' }), el('option', { value: '-1', text: 'Low' }));
        sel.addEventListener('change', () => {
          const k = sel.value === '1' ? 'priority_high' : sel.value === '-1' ? 'priority_low' : 'priority_normal';
          this.setFiles(t.id, k, i, null);
        });
        const name = el('td', { text: f.name });
        // GET /stream/<hash>/<index>/<name>: plays or opens it while it downloads.
        const play = el('td');
        if (t.hash_string) {
          const base = f.name.split('/').pop();
          play.append(el('a', {
            class: 'stream', text: 'stream', target: '_blank', rel: 'noopener',
            href: `/stream/${t.hash_string}/${i}/${encodeURIComponent(base)}`,
          }));
        }
        const size = el('td', { class: 'c-num', text: fmt.size(f.length) });
        const done = el('td');
        return { tr: el('tr', {}, el('td', {}, box), name, size, done, el('td', {}, sel), play), box, sel, done };
      });
      $('files').replaceChildren(...this.fileRows.map((r) => r.tr));
    }
    files.forEach((f, i) => {
      const r = this.fileRows[i];
      r.box.disabled = r.sel.disabled = !this.fileSelectionWorks;
      const want = wanted[i] === undefined ? true : !!wanted[i];
      if (document.activeElement !== r.box) r.box.checked = want;
      if (document.activeElement !== r.sel) r.sel.value = String(prio[i] ?? 0);
      r.done.textContent = fmt.percent(f.length > 0 ? f.bytes_completed / f.length : 1);
    });
  }

  // torrent_set files_wanted / files_unwanted / priority_* (rpc-spec.md 3.2). A daemon
  // without file selection answers an error: the control goes back and is disabled.
  async setFiles(id, key, index, box) {
    try {
      await call('torrent_set', { ids: [id], [key]: [index] });
    } catch (e) {
      if (box) box.checked = !box.checked;
      if (e.code === -32601 || /not supported/i.test(e.message)) this.fileSelectionWorks = false;
      toast('Could not change the file: ' + e.message);
    }
    this.refresh(true);
  }

  render_peers(t) {
    const rows = (t.peers || []).map((p) => {
      const flags = (p.is_downloading_from ? 'D' : '') + (p.is_uploading_to ? 'U' : '') + (p.is_incoming ? 'I' : '') + (p.is_encrypted ? 'E' : '');
      const addr = p.address.includes(':') ? '[' + p.address + ']:' + p.port : p.address + ':' + p.port;
      return el('tr', {}, el('td', { text: addr }), el('td', { text: p.client_name || '' }), el('td', { text: flags, title: 'D: downloading from, U: uploading to, I: incoming, E: encrypted' }),
        el('td', { class: 'c-num', text: fmt.rate(p.rate_to_client) }), el('td', { class: 'c-num', text: fmt.rate(p.rate_to_peer) }),
        el('td', { class: 'c-num', text: fmt.percent(p.progress) }));
    });
    $('peers').replaceChildren(...rows);
  }

  render_trackers(t) {
    const now = Date.now() / 1000;
    const rows = (t.tracker_stats || []).map((s) => {
      const next = s.next_announce_time > now ? fmt.eta(Math.round(s.next_announce_time - now)) : '';
      const n = (v) => (v >= 0 ? String(v) : '');
      return el('tr', {}, el('td', { text: s.announce }), el('td', { text: s.last_announce_result || '' }), el('td', { text: next }),
        el('td', { class: 'c-num', text: n(s.seeder_count) }), el('td', { class: 'c-num', text: n(s.leecher_count) }));
    });
    $('trackers').replaceChildren(...rows);
  }

  render_pieces(t) {
    const canvas = $('piece-map');
    const ctx = canvas.getContext('2d');
    const n = t.piece_count || 0;
    const note = $('pieces-note');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!n || typeof t.pieces !== 'string') {
      note.textContent = n ? 'The daemon does not report pieces.' : 'No metadata yet.';
      return;
    }
    const bits = Uint8Array.from(atob(t.pieces), (c) => c.charCodeAt(0));
    const has = (i) => (bits[i >> 3] >> (7 - (i & 7))) & 1;
    // One cell per piece when they fit, else each cell shades the share of its pieces.
    const cell = Math.min(16, Math.max(2, Math.floor(Math.sqrt((canvas.width * canvas.height) / n))));
    const cols = Math.floor(canvas.width / cell);
    const cells = Math.min(n, cols * Math.floor(canvas.height / cell));
    const per = n / cells;
    const style = getComputedStyle(document.documentElement);
    const done = style.getPropertyValue('--accent').trim() || '#2563eb';
    const empty = style.getPropertyValue('--bar').trim() || '#e5e7eb';
    let count = 0;
    for (let c = 0; c < cells; c++) {
      const a = Math.floor(c * per);
      const b = Math.max(a + 1, Math.floor((c + 1) * per));
      let k = 0;
      for (let i = a; i < b; i++) k += has(i);
      count += k;
      ctx.fillStyle = empty;
      ctx.fillRect((c % cols) * cell, Math.floor(c / cols) * cell, cell - 1, cell - 1);
      if (k) {
        ctx.globalAlpha = k / (b - a);
        ctx.fillStyle = done;
        ctx.fillRect((c % cols) * cell, Math.floor(c / cols) * cell, cell - 1, cell - 1);
        ctx.globalAlpha = 1;
      }
    }
    note.textContent = count + ' of ' + n + ' pieces' + (per > 1 ? ' (' + per.toFixed(1) + ' pieces a cell)' : '');
  }
}
