// The columns of the kernel table (rows of GET /api/kernels, or embedded in a report), by
// kernel and by device, and the sort both pages apply to them: one definition, so the served
// UI and the report show the same table.
import { formatInt, formatNs, formatPct } from './format.js';

const ns = (v) => formatNs(v);
const pct = (v) => formatPct(v);

export const KERNEL_COLUMNS = [
  { key: 'name', label: 'Kernel', sortKey: 'name', mono: true },
  { key: 'kind', label: 'Kind', sortKey: 'kind' },
  { key: 'count', label: 'Calls', sortKey: 'count', num: true, format: formatInt },
  { key: 'total_ns', label: 'Total', sortKey: 'total_ns', num: true, format: ns },
  { key: 'mean_ns', label: 'Mean', sortKey: 'mean_ns', num: true, format: ns },
  { key: 'p50_ns', label: 'p50', sortKey: 'p50_ns', num: true, format: ns },
  { key: 'p99_ns', label: 'p99', sortKey: 'p99_ns', num: true, format: ns },
  { key: 'max_ns', label: 'Max', sortKey: 'max_ns', num: true, format: ns },
  { key: 'share', label: 'Share of device time', sortKey: 'share', num: true, bar: true, format: pct },
];

const topText = (top) => (top || []).map((k) => `${k.name} ${formatPct(k.share)}`).join(', ');
export const DEVICE_COLUMNS = [
  { key: 'name', label: 'Device', sortKey: 'name', mono: true },
  { key: 'count', label: 'Kernels', sortKey: 'count', num: true, format: formatInt },
  { key: 'total_ns', label: 'Kernel time', sortKey: 'total_ns', num: true, format: ns },
  { key: 'busy_ns', label: 'Busy', sortKey: 'busy_ns', num: true, format: ns },
  { key: 'utilization', label: 'Utilization', sortKey: 'utilization', num: true, bar: true, format: pct },
  { key: 'busy_vs_max', label: 'Load vs busiest', sortKey: 'busy_vs_max', num: true, bar: true, format: pct },
  { key: 'top', label: 'Top kernels', format: topText },
];

// A sorted copy of `rows` by a DataTable sort string ("-total_ns": descending); strings by
// locale, numbers numerically, missing values last.
export function sortRows(rows, sort) {
  const key = sort.replace(/^-/, '');
  const dir = sort.startsWith('-') ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (typeof x === 'string' || typeof y === 'string') return dir * String(x).localeCompare(String(y));
    return dir * ((x ?? -Infinity) - (y ?? -Infinity));
  });
}
