// Vertical layout of the timeline: tracks grouped by their `group` (device or
// host process), each track as tall as its deepest nesting level.
export const AXIS_H = 28;
export const GUTTER = 188;
export const LANE_H = 18;
export const TRACK_PAD = 6;
export const GROUP_H = 24;

// `depths` remembers the deepest level ever seen per track so rows do not
// jump as the level of detail changes while zooming.
export function layoutTracks(tracks, depths) {
  const groups = new Map();
  for (const t of tracks) {
    let maxDepth = depths.get(t.id) || 0;
    for (const e of t.events) if (e[3] > maxDepth) maxDepth = e[3];
    depths.set(t.id, maxDepth);
    const g = t.group || '';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(t);
  }
  const rows = [];
  let y = 0;
  for (const [name, ts] of groups) {
    if (name) {
      rows.push({ type: 'group', name, y, h: GROUP_H, kind: ts[0].kind });
      y += GROUP_H;
    }
    ts.forEach((t, i) => {
      const h = (depths.get(t.id) + 1) * LANE_H + TRACK_PAD;
      rows.push({ type: 'track', track: t, y, h, odd: i % 2 === 1 });
      y += h;
    });
  }
  return { rows, height: y };
}

// Row under a content-space y (0 = top of first row, below the axis).
export function rowAt(layout, y) {
  for (const r of layout.rows) if (y >= r.y && y < r.y + r.h) return r;
  return null;
}

// Event under the pointer, given x in ns relative to the response's start.
// Linear scan: the server returns at most a few events per pixel column.
export function eventAt(row, yInRow, tNs, nsPerPx) {
  if (!row || row.type !== 'track') return null;
  const depth = Math.floor((yInRow - TRACK_PAD / 2) / LANE_H);
  if (depth < 0) return null;
  const slop = nsPerPx * 1.5; // thin events stay clickable
  let best = null;
  for (const e of row.track.events) {
    if (e[3] !== depth) continue;
    if (tNs >= e[0] - slop && tNs <= e[0] + e[1] + slop) {
      // Prefer the event really under the pointer over a neighbour in the slop.
      const inside = tNs >= e[0] && tNs <= e[0] + e[1];
      if (inside) return e;
      if (!best) best = e;
    }
  }
  return best;
}

// Tick step of 1/2/5 × 10^n giving roughly one label per `px` pixels.
export function tickStep(spanNs, widthPx, px = 110) {
  const raw = (spanNs / Math.max(1, widthPx)) * px;
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

// "1s 250ms", "12ms 400µs": offset from trace start, down to the tick unit.
export function tickLabel(t, step) {
  if (t === 0) return '0';
  const neg = t < 0;
  t = Math.round(Math.abs(t));
  const units = [
    [1e9, 's'],
    [1e6, 'ms'],
    [1e3, 'µs'],
    [1, 'ns'],
  ];
  const parts = [];
  for (const [scale, name] of units) {
    const v = Math.floor(t / scale) % (scale === 1e9 ? Infinity : 1000);
    if (v || (parts.length && scale >= step)) parts.push(`${v}${name}`);
    if (scale <= step) break;
  }
  return (neg ? '−' : '') + (parts.join(' ') || '0');
}
