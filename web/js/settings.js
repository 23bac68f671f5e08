// The session settings dialog: what session_get reports, each changed value sent by its
// own session_set so that a setting the daemon refuses (not supported yet) is reported
// by name and does not block the others.
import { $, el } from './dom.js';
import { call } from './rpc.js';

// [key, label, kind]; only the keys the daemon reports are shown.
const KNOWN = [
  ['download_dir', 'Download directory', 'text'],
  ['speed_limit_down_enabled', 'Limit download speed', 'bool'],
  ['speed_limit_down', 'Download limit (KB/s)', 'number'],
  ['speed_limit_up_enabled', 'Limit upload speed', 'bool'],
  ['speed_limit_up', 'Upload limit (KB/s)', 'number'],
  ['alt_speed_enabled', 'Alternative speed limits on', 'bool'],
  ['alt_speed_down', 'Alternative download limit (KB/s)', 'number'],
  ['alt_speed_up', 'Alternative upload limit (KB/s)', 'number'],
  ['download_queue_enabled', 'Queue downloads', 'bool'],
  ['download_queue_size', 'Active downloads at most', 'number'],
  ['seed_queue_enabled', 'Queue seeding', 'bool'],
  ['seed_queue_size', 'Active seeds at most', 'number'],
  ['peer_limit_global', 'Peers at most (all torrents)', 'number'],
  ['peer_limit_per_torrent', 'Peers at most per torrent', 'number'],
  ['encryption', 'Encryption', ['preferred', 'required', 'tolerated']],
  ['dht_enabled', 'DHT', 'bool'],
  ['pex_enabled', 'Peer exchange (PEX)', 'bool'],
  ['lpd_enabled', 'Local peer discovery', 'bool'],
  ['utp_enabled', 'µTP', 'bool'],
  ['seed_ratio_limited', 'Stop seeding at ratio', 'bool'],
  ['seed_ratio_limit', 'Ratio', 'number'],
];

let current = {};
const inputs = new Map();

export async function openSettings() {
  $('settings-error').hidden = true;
  const box = $('settings-fields');
  box.replaceChildren(el('p', { text: 'Loading…' }));
  $('dlg-settings').showModal();
  try {
    current = await call('session_get', {});
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error', text: 'session_get failed: ' + e.message }));
    return;
  }
  inputs.clear();
  const rows = [];
  for (const [key, label, kind] of KNOWN) {
    if (!(key in current)) continue;
    let input;
    if (kind === 'bool') {
      input = el('input', { type: 'checkbox', checked: !!current[key] });
      rows.push(el('label', { class: 'check' }, input, label));
    } else if (Array.isArray(kind)) {
      input = el('select', {}, ...kind.map((v) => el('option', { value: v, text: v })));
      input.value = String(current[key]);
      rows.push(el('label', {}, label, input));
    } else {
      input = el('input', { type: kind, value: String(current[key]) });
      if (kind === 'number') input.step = 'any';
      rows.push(el('label', {}, label, input));
    }
    inputs.set(key, [input, kind]);
  }
  const v = current.version ? el('p', { class: 'note', text: String(current.version) }) : '';
  box.replaceChildren(...rows, v);
}

export async function saveSettings() {
  const errors = [];
  for (const [key, [input, kind]] of inputs) {
    let value;
    if (kind === 'bool') value = input.checked;
    else if (kind === 'number') value = Number(input.value);
    else value = input.value;
    if (value === current[key]) continue;
    try {
      await call('session_set', { [key]: value });
      current[key] = value;
    } catch (e) {
      errors.push(key + ': ' + e.message);
    }
  }
  if (errors.length) {
    $('settings-error').textContent = errors.join('; ');
    $('settings-error').hidden = false;
  } else {
    $('dlg-settings').close();
  }
}
