// The daemon's Transmission RPC, JSON-RPC 2.0 dialect (snake_case names), with the
// X-Transmission-Session-Id handshake: a 409 answer carries the id to send; the request
// is then sent again once.

const ENDPOINT = '/transmission/rpc';
let sessionId = '';
let nextId = 1;

export class RpcError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

async function post(body) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const res = await fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Transmission-Session-Id': sessionId },
      body,
      credentials: 'same-origin',
    });
    if (res.status === 409) {
      sessionId = res.headers.get('X-Transmission-Session-Id') || '';
      continue;
    }
    if (!res.ok) throw new RpcError('HTTP ' + res.status + ' ' + res.statusText, res.status);
    return res.json();
  }
  throw new RpcError('the daemon keeps refusing the session id', 409);
}

// Calls `method` with `params`; resolves to its result, rejects with RpcError.
export async function call(method, params = {}) {
  const id = nextId++;
  const answer = await post(JSON.stringify({ jsonrpc: '2.0', method, params, id }));
  if (answer.error) {
    const e = answer.error;
    const msg = (e.data && e.data.error_string) || e.message || 'error';
    throw new RpcError(msg, e.code);
  }
  return answer.result;
}
