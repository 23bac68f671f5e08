// Formatting of sizes, rates, durations and states for display. Pure.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function size(bytes) {
  if (!(bytes >= 0)) return '';
  let i = 0;
  let v = bytes;
  while (v >= 1024 && i < UNITS.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)) + ' ' + UNITS[i];
}

export function rate(bps) {
  return bps > 0 ? size(bps) + '/s' : '';
}

export function eta(s) {
  if (!(s >= 0)) return '∞';
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
  return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
}

export function ratio(r) {
  if (r === -2) return '∞';
  if (!(r >= 0)) return '–';
  return r.toFixed(2);
}

export function percent(p) {
  return (Math.floor((p || 0) * 1000) / 10).toFixed(1) + '%';
}

// Transmission's tr_torrent_activity (rpc-spec.md 3.3 `status`).
export const STATUS = {
  0: 'stopped', 1: 'check wait', 2: 'checking', 3: 'queued', 4: 'downloading', 5: 'seed wait', 6: 'seeding',
};

export function stateName(t) {
  if (t.error) return 'error';
  if (t.status === 4 && t.metadata_percent_complete !== undefined && t.metadata_percent_complete < 1) return 'metadata';
  return STATUS[t.status] || 'unknown';
}

// The class of a state, for colours and filters.
export function stateClass(t) {
  if (t.error) return 'error';
  switch (t.status) {
    case 0: return 'stopped';
    case 1: case 2: return 'checking';
    case 3: case 4: return 'downloading';
    default: return 'seeding';
  }
}

export function date(unix) {
  return unix > 0 ? new Date(unix * 1000).toLocaleString() : '';
}
