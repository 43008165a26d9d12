// One palette for the flame graph and the timeline so a kernel has the same
// colour in both: device work in warm hues (red → amber), host phases in cool
// hues (teal → blue). The hue within a family comes from a hash of the name,
// so colours are stable across reloads and requests.

export const HIGHLIGHT = '#d946ef'; // search matches: outside both families
export const MERGED = '#b8bec9'; // level-of-detail aggregates in the timeline

function hash(name) {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) / 4294967296;
}

const cache = new Map();

export function colorFor(name, kind) {
  const key = `${kind}\u0000${name}`;
  let c = cache.get(key);
  if (c) return c;
  const v = hash(name || '');
  const w = hash(`${name}#`);
  if (kind === 'device') {
    c = `hsl(${Math.round(4 + 40 * v)}, ${Math.round(78 + 12 * w)}%, ${Math.round(58 + 8 * w)}%)`;
  } else if (kind === 'root') {
    c = 'hsl(220, 10%, 78%)';
  } else {
    c = `hsl(${Math.round(192 + 28 * v)}, ${Math.round(48 + 14 * w)}%, ${Math.round(64 + 8 * w)}%)`;
  }
  cache.set(key, c);
  return c;
}

// Differential flame graphs: red = slower than base, blue = faster, grey = same.
export function deltaColor(delta, value) {
  if (!delta) return 'hsl(220, 8%, 82%)';
  const f = Math.min(1, Math.abs(delta) / Math.max(1, value));
  const l = Math.round(86 - 34 * f);
  return delta > 0 ? `hsl(2, 80%, ${l}%)` : `hsl(215, 80%, ${l}%)`;
}
