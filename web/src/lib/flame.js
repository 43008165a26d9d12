// Pure helpers over the raw /api/flamegraph tree (no DOM), shared by the tab
// and its tests of the summary text.
import { formatDeltaNs, formatInt, formatNs, formatPct } from './format.js';

// Case-insensitive substring match. Deliberately not a RegExp: a kernel search
// like "foo(" must not throw.
export function matches(name, term) {
  return !!term && typeof name === 'string' && name.toLowerCase().includes(term.toLowerCase());
}

// Total time of frames matching `term`, counting a frame nested under another
// match only once (otherwise recursion would exceed 100 %).
export function searchSummary(root, term) {
  if (!root || !term) return null;
  let sum = 0;
  let count = 0;
  const stack = [[root, false]];
  while (stack.length) {
    const [n, under] = stack.pop();
    const hit = matches(n.name, term);
    if (hit) count++;
    if (hit && !under) sum += n.value || 0;
    for (const c of n.children || []) stack.push([c, under || hit]);
  }
  return { term, sum, count, total: root.value || 0 };
}

export function isEmptyTree(root) {
  return !root || !root.value || !(root.children && root.children.length);
}

export function hasDelta(root) {
  const stack = [root];
  while (stack.length) {
    const n = stack.pop();
    if (typeof n.delta === 'number') return true;
    for (const c of n.children || []) stack.push(c);
  }
  return false;
}

// True when the tree says which frames are device work: huoyan marks them `device: true`
// (a `kind` string also counts). Without any mark, the caller has to find out otherwise.
export function hasKind(root) {
  const stack = root ? [root] : [];
  while (stack.length) {
    const n = stack.pop();
    if (typeof n.kind === 'string' || n.device === true) return true;
    for (const c of n.children || []) stack.push(c);
  }
  return false;
}

// 'device' or 'host' for a frame of a tree; `kernelNames` serves trees without marks.
export function frameKind(n, kernelNames) {
  if (typeof n.kind === 'string') return n.kind;
  if (n.device === true || kernelNames.has(n.name)) return 'device';
  return 'host';
}

// What the tooltip says about a hovered frame (`node` is d3's hierarchy node), as display
// strings; fields that do not apply are null. `kindOf(data)` is 'device' for a device kernel.
export function frameTip(node, total, kindOf) {
  const n = node.data;
  const parent = node.parent ? node.parent.data.value : null;
  return {
    name: n.name,
    time: formatNs(n.value),
    share: formatPct(n.value / (total || 1)),
    parentShare: parent ? formatPct(n.value / parent) : null,
    calls: typeof n.calls === 'number' ? formatInt(n.calls) : null,
    mean: n.calls ? formatNs(n.value / n.calls) : null,
    kind: node.depth === 0 ? null : kindOf(n) === 'device' ? 'device kernel' : 'host phase',
    delta: typeof n.delta === 'number' ? formatDeltaNs(n.delta) : null,
    base: typeof n.base === 'number' ? formatNs(n.base) : null,
    rel: typeof n.base === 'number' && n.base > 0 ? `${n.delta >= 0 ? '+' : ''}${((100 * n.delta) / n.base).toFixed(1)} %` : null,
  };
}
