// The torrent list: a table kept in step with the model by touching only the cells whose
// fields changed (a tick where one rate moved costs one text node, not 1,000 rows).
// DOM work is batched into one animation frame.
import * as fmt from './format.js';
import { el } from './dom.js';

// Writes a cell's text only when it differs: most updates leave most cells as they were.
function put(node, text) {
  text = String(text);
  if (node.textContent !== text) node.textContent = text;
}

const COLUMNS = [
  { key: 'name', cls: 'c-name', fields: ['name'], render: (td, t) => { put(td, t.name); td.title = t.name; } },
  { key: 'total_size', cls: 'c-num', fields: ['size_when_done', 'total_size'], render: (td, t) => { put(td, fmt.size(t.size_when_done ?? t.total_size)); } },
  { key: 'percent_done', cls: 'c-prog', fields: ['percent_done', 'recheck_progress', 'status'], render: renderProgress, make: makeProgress },
  { key: 'status', cls: 'c-state', fields: ['status', 'error', 'error_string', 'metadata_percent_complete'], render: (td, t) => { put(td, fmt.stateName(t)); if (td.title !== (t.error_string || '')) td.title = t.error_string || ''; } },
  { key: 'rate_download', cls: 'c-num', fields: ['rate_download'], render: (td, t) => { put(td, fmt.rate(t.rate_download)); } },
  { key: 'rate_upload', cls: 'c-num', fields: ['rate_upload'], render: (td, t) => { put(td, fmt.rate(t.rate_upload)); } },
  { key: 'eta', cls: 'c-num', fields: ['eta', 'status'], render: (td, t) => { put(td, t.status === 4 ? fmt.eta(t.eta) : ''); } },
  { key: 'upload_ratio', cls: 'c-num', fields: ['upload_ratio'], render: (td, t) => { put(td, fmt.ratio(t.upload_ratio)); } },
  { key: 'peers_connected', cls: 'c-num', fields: ['peers_connected'], render: (td, t) => { put(td, t.peers_connected ?? ''); } },
];

function makeProgress(td) {
  const bar = el('div', { class: 'bar' }, el('i'), el('span'));
  td.append(bar);
}

function renderProgress(td, t) {
  const checking = t.status === 2 || t.status === 1;
  const p = checking ? (t.recheck_progress || 0) : (t.percent_done || 0);
  const bar = td.firstChild;
  // CSSOM writes are allowed by the CSP (only style attributes in markup are not).
  const w = (p * 100).toFixed(1) + '%';
  if (bar.firstChild.style.width !== w) bar.firstChild.style.width = w;
  put(bar.lastChild, fmt.percent(p));
}

export class TorrentList {
  constructor(tbody, { onSelect, onOpen }) {
    this.tbody = tbody;
    this.torrents = new Map();  // id -> fields
    this.rows = new Map();      // id -> { tr, cells }
    this.dirty = new Map();     // id -> Set of changed fields (null: all)
    this.selected = new Set();
    this.anchor = null;         // for shift-click ranges
    this.sortKey = 'added_date';
    this.sortDesc = false;
    this.filter = { state: 'all', label: '', text: '' };
    this.order = [];            // ids, sorted and filtered, as displayed
    this.needOrder = true;
    this.frame = 0;
    this.onSelect = onSelect;
    this.onOpen = onOpen;
    this.lastApplyMs = 0;
    tbody.addEventListener('click', (e) => this.click(e));
    tbody.addEventListener('dblclick', (e) => {
      const id = this.idOf(e.target);
      if (id !== null) onOpen(id);
    });
  }

  idOf(node) {
    const tr = node.closest('tr');
    return tr ? Number(tr.dataset.id) : null;
  }

  // A full list (the `snapshot` event).
  reset(torrents) {
    this.torrents.clear();
    for (const t of torrents) this.torrents.set(t.id, t);
    for (const { tr } of this.rows.values()) tr.remove();
    this.rows.clear();
    this.dirty.clear();
    for (const t of torrents) this.dirty.set(t.id, null);
    for (const id of [...this.selected]) if (!this.torrents.has(id)) this.selected.delete(id);
    this.needOrder = true;
    return this.flush();
  }

  // An `update` event: added torrents, changed fields, removed ids.
  apply({ added = [], changed = [], removed = [] }) {
    for (const t of added) {
      this.torrents.set(t.id, t);
      this.dirty.set(t.id, null);
      this.needOrder = true;
    }
    for (const c of changed) {
      const t = this.torrents.get(c.id);
      if (!t) continue;
      Object.assign(t, c);
      let d = this.dirty.get(c.id);
      if (d === undefined) { d = new Set(); this.dirty.set(c.id, d); }
      if (d !== null) for (const k of Object.keys(c)) d.add(k);
      if (this.sortKey in c || 'status' in c || 'error' in c || 'name' in c || 'labels' in c) this.needOrder = true;
    }
    for (const id of removed) {
      this.torrents.delete(id);
      this.dirty.delete(id);
      const r = this.rows.get(id);
      if (r) r.tr.remove();
      this.rows.delete(id);
      if (this.selected.delete(id)) this.onSelect();
      this.needOrder = true;
    }
    this.schedule();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.flush(); });
  }

  makeRow(t) {
    const tr = el('tr', { dataset: { id: String(t.id) } });
    const cells = COLUMNS.map((c) => {
      const td = el('td', { class: c.cls });
      if (c.make) c.make(td);
      tr.append(td);
      return td;
    });
    const r = { tr, cells, cls: '' };
    this.rows.set(t.id, r);
    return r;
  }

  // Writes the dirty rows, then re-sorts/filters if needed. Returns the time taken (ms).
  flush() {
    const t0 = performance.now();
    const fresh = [];
    for (const [id, fields] of this.dirty) {
      const t = this.torrents.get(id);
      if (!t) continue;
      let r = this.rows.get(id);
      if (!r) { r = this.makeRow(t); fresh.push(r); }
      COLUMNS.forEach((c, i) => {
        if (fields === null || c.fields.some((f) => fields.has(f))) c.render(r.cells[i], t);
      });
      const cls = 's-' + fmt.stateClass(t) + (this.selected.has(id) ? ' selected' : '');
      if (r.cls !== cls) { r.tr.className = cls; r.cls = cls; }
    }
    this.dirty.clear();
    if (this.needOrder || fresh.length) this.reorder();
    this.lastApplyMs = performance.now() - t0;
    return this.lastApplyMs;
  }

  matches(t) {
    const f = this.filter;
    if (f.state !== 'all') {
      const s = fmt.stateClass(t);
      if (f.state === 'active') {
        if (!(t.rate_download > 0 || t.rate_upload > 0 || s === 'checking')) return false;
      } else if (s !== f.state) return false;
    }
    if (f.label && !(t.labels || []).includes(f.label)) return false;
    if (f.text && !String(t.name).toLowerCase().includes(f.text)) return false;
    return true;
  }

  reorder() {
    this.needOrder = false;
    const key = this.sortKey;
    const dir = this.sortDesc ? -1 : 1;
    const ids = [];
    for (const t of this.torrents.values()) if (this.matches(t)) ids.push(t.id);
    const val = (t) => (key === 'status' ? fmt.stateName(t) : t[key]);
    ids.sort((a, b) => {
      const x = val(this.torrents.get(a));
      const y = val(this.torrents.get(b));
      let c;
      if (typeof x === 'string' || typeof y === 'string') c = String(x ?? '').localeCompare(String(y ?? ''));
      else c = (x ?? 0) - (y ?? 0);
      return c * dir || a - b;
    });
    const same = ids.length === this.order.length && ids.every((id, i) => id === this.order[i]);
    if (!same || this.tbody.childElementCount !== ids.length) {
      const frag = document.createDocumentFragment();
      for (const id of ids) frag.append(this.rows.get(id).tr);
      for (const [id, r] of this.rows) if (!this.matches(this.torrents.get(id))) r.tr.remove();
      this.tbody.append(frag);
      this.order = ids;
    }
  }

  setSort(key) {
    if (this.sortKey === key) this.sortDesc = !this.sortDesc;
    else { this.sortKey = key; this.sortDesc = false; }
    this.needOrder = true;
    this.schedule();
  }

  setFilter(f) {
    Object.assign(this.filter, f);
    this.needOrder = true;
    this.schedule();
  }

  markSelection() {
    for (const [id, r] of this.rows) {
      const want = this.selected.has(id);
      if (r.tr.classList.contains('selected') !== want) {
        r.tr.classList.toggle('selected', want);
        r.cls = r.tr.className;
      }
    }
    this.onSelect();
  }

  click(e) {
    const id = this.idOf(e.target);
    if (id === null || Number.isNaN(id)) return;
    if (e.shiftKey && this.anchor !== null) {
      const a = this.order.indexOf(this.anchor);
      const b = this.order.indexOf(id);
      if (!(e.ctrlKey || e.metaKey)) this.selected.clear();
      for (let i = Math.min(a, b); i <= Math.max(a, b); i++) if (i >= 0) this.selected.add(this.order[i]);
    } else if (e.ctrlKey || e.metaKey) {
      if (!this.selected.delete(id)) this.selected.add(id);
      this.anchor = id;
    } else {
      this.selected.clear();
      this.selected.add(id);
      this.anchor = id;
    }
    this.markSelection();
  }

  selectAll() {
    for (const id of this.order) this.selected.add(id);
    this.markSelection();
  }

  labels() {
    const s = new Set();
    for (const t of this.torrents.values()) for (const l of t.labels || []) s.add(l);
    return [...s].sort();
  }
}
