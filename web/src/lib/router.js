// The URL hash is the single source of truth for what is on screen:
// `#/flame?request=req-1&search=Int4Gemm&mode=apportioned`. Views read
// `route.params` and write through `setParams`, so a copied link reproduces
// the view and back/forward walk through it.
import { reactive } from 'vue';

export const TABS = [
  { id: 'flame', label: 'Flame graph' },
  { id: 'timeline', label: 'Timeline' },
  { id: 'kernels', label: 'Kernels' },
  { id: 'requests', label: 'Requests' },
  { id: 'diagnosis', label: 'Diagnosis' },
  { id: 'status', label: 'Status' },
];
const TAB_IDS = new Set(TABS.map((t) => t.id));

export function parseHash(hash) {
  const h = (hash || '').replace(/^#\/?/, '');
  const qi = h.indexOf('?');
  const path = qi >= 0 ? h.slice(0, qi) : h;
  const params = {};
  if (qi >= 0) {
    for (const [k, v] of new URLSearchParams(h.slice(qi + 1))) params[k] = v;
  }
  return { tab: TAB_IDS.has(path) ? path : 'flame', params };
}

export function buildHash(tab, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const qs = q.toString();
  return `#/${tab}${qs ? `?${qs}` : ''}`;
}

export const route = reactive(parseHash(location.hash));

function apply(next) {
  route.tab = next.tab;
  // Replace the object so watchers on `route.params` fire exactly once.
  route.params = next.params;
}

window.addEventListener('hashchange', () => apply(parseHash(location.hash)));

export function navigate(tab, params = {}, { replace = false } = {}) {
  const hash = buildHash(tab, params);
  if (hash === location.hash) return;
  if (replace) {
    history.replaceState(history.state, '', hash);
    apply(parseHash(hash));
  } else {
    location.hash = hash; // pushes a history entry; hashchange updates route
  }
}

// Merge `patch` into the current tab's params; null/'' removes a key.
export function setParams(patch, opts) {
  const params = { ...route.params };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || v === undefined || v === '') delete params[k];
    else params[k] = String(v);
  }
  navigate(route.tab, params, opts);
}

// Switching tabs keeps the request in focus, since most tabs filter by it.
export function switchTab(tab) {
  const keep = {};
  if (route.params.request) keep.request = route.params.request;
  navigate(tab, keep);
}

// Flame-graph zoom focus is a path of frame names below the root. Names can
// contain anything, so ';' and '\' inside a name are backslash-escaped.
export function encodePath(names) {
  return names.map((n) => n.replace(/[\\;]/g, (c) => `\\${c}`)).join(';');
}

export function decodePath(s) {
  if (!s) return [];
  const out = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) cur += s[++i];
    else if (c === ';') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}
