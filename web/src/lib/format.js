// Number formatting shared by every view. Durations arrive as integer
// nanoseconds; we show three significant digits in the largest unit that keeps
// the value >= 1, which is what a reader compares at a glance.

const UNITS = [
  [1e9, 's'],
  [1e6, 'ms'],
  [1e3, 'µs'],
];

export function formatNs(ns) {
  if (ns === null || ns === undefined || Number.isNaN(ns)) return '—';
  const v = Number(ns);
  const sign = v < 0 ? '−' : '';
  const a = Math.abs(v);
  for (const [scale, unit] of UNITS) {
    if (a >= scale) return `${sign}${sig3(a / scale)} ${unit}`;
  }
  return `${sign}${Math.round(a)} ns`;
}

// Signed variant for differences: always shows the sign.
export function formatDeltaNs(ns) {
  if (ns === null || ns === undefined) return '—';
  return (ns > 0 ? '+' : '') + formatNs(ns);
}

function sig3(x) {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function formatPct(fraction, digits = 1) {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(digits)} %`;
}

const intFmt = new Intl.NumberFormat('en-US');
export function formatInt(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return intFmt.format(n);
}

export function formatSeconds(s) {
  if (s === null || s === undefined) return '—';
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

// Absolute timestamps may be Unix-epoch ns (~1.7e18) or a monotonic clock.
// Only display them; the precision lost by JSON numbers (< 1 µs) is invisible
// at millisecond resolution.
export function formatClock(ns) {
  if (ns === null || ns === undefined) return '—';
  const ms = Number(ns) / 1e6;
  if (ms > 1e12) {
    const d = new Date(ms);
    const pad = (x, n = 2) => String(x).padStart(n, '0');
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }
  return `${(ms / 1e3).toFixed(3)} s`;
}

// Format a value found in free-form evidence/args objects by its key.
export function formatByKey(key, value) {
  if (typeof value === 'number') {
    if (/(^|_)ns$|_ns_/.test(key)) return formatNs(value);
    if (/share|ratio|fraction|pct|util/i.test(key) && value >= 0 && value <= 1) return formatPct(value);
    if (Number.isInteger(value)) return formatInt(value);
    return value.toPrecision(4).replace(/\.?0+($|e)/, '$1');
  }
  if (value === null || value === undefined) return '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// A clock offset as a signed reading: "+1 696 392 839.587 s" (digits grouped by narrow
// no-break spaces) from a second up, "−1.23 µs" below. JSON numbers hold the ns of epoch-sized
// offsets to ~256 ns, far below the millisecond shown.
export function formatOffset(ns) {
  if (ns === null || ns === undefined || Number.isNaN(ns)) return '—';
  const v = Number(ns);
  const sign = v < 0 ? '−' : '+';
  const a = Math.abs(v);
  if (a < 1e9) return a === 0 ? '0 s' : sign + formatNs(a);
  let s = Math.floor(a / 1e9);
  let ms = Math.round((a - s * 1e9) / 1e6);
  if (ms === 1000) {
    s += 1;
    ms = 0;
  }
  const grouped = String(s).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
  return `${sign}${grouped}.${String(ms).padStart(3, '0')} s`;
}
