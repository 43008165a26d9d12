// What runs inside the page (installed before any of its scripts): first-draw marks and a
// frame meter. Times are performance.now(), i.e. ms since the navigation started.
//
//   window.__bench.marks.flame     huoyan: first frame of the flame graph painted
//   window.__bench.marks.timeline  huoyan: first timeline canvas draw with events painted
//   window.__bench.marks.title     speedscope: a profile was loaded (it sets document.title)
//   window.__bench.meter.start() / .stop() → { frames: [rAF timestamps], longTasks: [ms], ms,
//                                                views: huoyan timeline redraws of a new view }
//
// "Painted" is the first animation frame after the DOM change plus a task: the frame that
// shows it has been produced by then.
export function installProbe() {
  const b = (window.__bench = { marks: {}, errors: [], views: 0 });
  const mark = (name) => {
    if (b.marks[name] !== undefined || b.pending?.[name]) return;
    (b.pending ??= {})[name] = true;
    requestAnimationFrame(() => setTimeout(() => (b.marks[name] = performance.now()), 0));
  };
  const check = (records) => {
    for (const r of records) if (r.attributeName === 'data-view') b.views++;
    if (document.querySelector('.flamechart svg g.frame')) mark('flame');
    const c = document.querySelector('.tl-canvas');
    if (c && Number(c.dataset.drawn) > 0) mark('timeline');
    if (/ - speedscope$/.test(document.title)) mark('title');
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-drawn', 'data-view'], characterData: true });
  window.addEventListener('error', (e) => b.errors.push(String(e.message)));
  window.addEventListener('unhandledrejection', (e) => b.errors.push(String(e.reason && e.reason.message ? e.reason.message : e.reason)));

  let frames = null;
  let longTasks = null;
  let t0 = 0;
  let views0 = 0;
  const tick = (t) => {
    if (!frames) return;
    frames.push(t);
    requestAnimationFrame(tick);
  };
  try {
    new PerformanceObserver((list) => {
      if (longTasks) for (const e of list.getEntries()) longTasks.push(e.duration);
    }).observe({ type: 'longtask' });
  } catch {
    // no long task timing: the frame intervals still tell
  }
  b.meter = {
    start() {
      frames = [];
      longTasks = [];
      t0 = performance.now();
      views0 = b.views;
      requestAnimationFrame(tick);
    },
    stop() {
      const r = { frames, longTasks, ms: performance.now() - t0, views: b.views - views0 };
      frames = null;
      longTasks = null;
      return r;
    },
  };
}

// Frame statistics of a meter's record: frames/s over the whole period, rAF intervals.
export function frameStats({ frames, longTasks, ms, views }) {
  const iv = [];
  for (let i = 1; i < frames.length; i++) iv.push(frames[i] - frames[i - 1]);
  iv.sort((a, b) => a - b);
  const q = (p) => (iv.length ? iv[Math.min(iv.length - 1, Math.floor(p * iv.length))] : NaN);
  return {
    frames: frames.length,
    fps: (frames.length / ms) * 1000,
    median_ms: q(0.5),
    p95_ms: q(0.95),
    max_ms: iv.length ? iv[iv.length - 1] : NaN,
    long_tasks: longTasks.length,
    long_task_ms: longTasks.reduce((s, x) => s + x, 0),
    views,
  };
}
