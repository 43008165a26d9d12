// Thin fetch wrapper: every endpoint returns JSON, errors are {"error": "..."}.
// Callers get an ApiError carrying the server's own message so the UI can show
// it verbatim (e.g. "unknown request_id 'x'").

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function apiUrl(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const qs = q.toString();
  return `/api/${path}${qs ? `?${qs}` : ''}`;
}

export async function getJSON(path, params = {}, { signal } = {}) {
  let res;
  try {
    res = await fetch(apiUrl(path, params), { signal, headers: { Accept: 'application/json' } });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'Cannot reach the huoyan server. Is `huoyan serve` still running?');
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    if (res.ok) throw new ApiError(res.status, `Malformed JSON from /api/${path}`);
  }
  if (!res.ok) {
    const msg = body && typeof body.error === 'string' ? body.error : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, msg);
  }
  return body;
}

export const isAbort = (e) => e && e.name === 'AbortError';

// Keeps only the latest request of a kind alive: a new call aborts the last,
// so fast typing or zooming never renders a stale answer.
export function latestOnly() {
  let ctrl = null;
  return (path, params) => {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    return getJSON(path, params, { signal: ctrl.signal });
  };
}

export function debounce(fn, ms) {
  let t = null;
  const wrapped = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(t);
  return wrapped;
}
