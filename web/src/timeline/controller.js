// Timeline state and interaction, independent of Vue. Time inside the UI is a
// double of nanoseconds relative to `base` (the trace start, kept as BigInt):
// absolute ns exceed 2^53 and must never go through Number.
import { debounce, isAbort, latestOnly } from '../lib/api.js';
import { AXIS_H, GUTTER, eventAt, layoutTracks, rowAt } from './layout.js';
import { drawTimeline } from './draw.js';

const MIN_SPAN = 200; // ns: below that there is nothing left to resolve
const FETCH_DELAY = 90; // ms after the last zoom/pan step

export class TimelineController {
  constructor(canvas, scroller, cb) {
    this.canvas = canvas;
    this.scroller = scroller;
    this.ctx = canvas.getContext('2d');
    this.cb = cb; // { onView, onLoading, onError, onStats, onHover, onSelect, onLayout }
    this.base = null;
    this.fullSpan = 0;
    this.view = { start: 0, end: 1 };
    this.data = null;
    this.layout = null;
    this.depths = new Map();
    this.known = new Map(); // track id -> metadata, in order of first appearance
    this.request = '';
    this.selectedId = null;
    this.hoverId = null;
    this.size = { w: 0, h: 0, dpr: 1 };
    this.fetchLatest = latestOnly();
    this.fetchRange = debounce(() => this.#fetchRange(), FETCH_DELAY);
    this.raf = 0;
  }

  get plotW() {
    return Math.max(50, this.size.w - GUTTER);
  }

  // Full reload: learn the trace extent (and base), then show `from..to` if given.
  async load(request, from, to, { keepRows = false } = {}) {
    this.request = request || '';
    if (!keepRows) {
      this.depths.clear();
      this.known.clear();
    }
    this.cb.onLoading(true);
    try {
      const r = await this.fetchLatest('timeline', { request_id: this.request, width: Math.round(this.plotW) });
      this.base = BigInt(r.start_ns);
      this.fullSpan = Math.max(1, r.span_ns ?? Number(BigInt(r.end_ns) - this.base));
      this.#accept(r);
      this.cb.onError(null);
      const v = this.#parseRange(from, to);
      if (v) this.setView(v.start, v.end);
      else this.setView(0, this.fullSpan, { fetch: false });
    } catch (e) {
      if (isAbort(e)) return;
      this.data = null;
      this.layout = null;
      this.cb.onError(e);
      this.requestDraw();
    }
    this.cb.onLoading(false);
  }

  #parseRange(from, to) {
    if (!from || !to || this.base === null) return null;
    try {
      const s = Number(BigInt(from) - this.base);
      const e = Number(BigInt(to) - this.base);
      return e > s ? { start: s, end: e } : null;
    } catch {
      return null; // malformed link: fall back to the whole trace
    }
  }

  absolute(rel) {
    return (this.base + BigInt(Math.round(rel))).toString();
  }

  // Apply a range coming from the URL (back/forward), if it differs.
  applyUrlRange(from, to) {
    const v = this.#parseRange(from, to);
    if (v && (Math.abs(v.start - this.view.start) > 1 || Math.abs(v.end - this.view.end) > 1)) this.setView(v.start, v.end);
  }

  setView(start, end, { fetch = true } = {}) {
    let span = Math.min(Math.max(end - start, MIN_SPAN), this.fullSpan * 1.5);
    const mid = (start + end) / 2;
    start = mid - span / 2;
    // Keep at least a quarter of the screen over the trace.
    const margin = span * 0.75;
    start = Math.min(Math.max(start, -margin), this.fullSpan - span + margin);
    this.view = { start, end: start + span };
    this.requestDraw();
    this.cb.onView(this.view);
    if (fetch) this.fetchRange();
  }

  zoomAt(factor, px) {
    const { start, end } = this.view;
    const t = start + ((px - GUTTER) / this.plotW) * (end - start);
    this.setView(t - (t - start) * factor, t + (end - t) * factor);
  }

  zoomCenter(factor) {
    this.zoomAt(factor, GUTTER + this.plotW / 2);
  }

  panPx(dx) {
    const d = (dx / this.plotW) * (this.view.end - this.view.start);
    this.setView(this.view.start + d, this.view.end + d);
  }

  // Whole trace. Re-reads the extent: a live capture keeps growing.
  reset() {
    return this.load(this.request, null, null, { keepRows: true });
  }

  // Fetch the visible range plus half a screen either side, so a pan shows
  // data at once while the precise answer is on its way.
  async #fetchRange() {
    if (this.base === null) return;
    const { start, end } = this.view;
    const span = end - start;
    const a = Math.max(0, start - span / 2);
    const b = Math.max(a + 1, end + span / 2);
    this.cb.onLoading(true);
    try {
      const r = await this.fetchLatest('timeline', {
        start_ns: this.absolute(Math.floor(a)),
        end_ns: this.absolute(Math.ceil(b)),
        request_id: this.request,
        width: Math.round((this.plotW * (b - a)) / span),
      });
      this.#accept(r);
      this.cb.onError(null);
    } catch (e) {
      if (isAbort(e)) return;
      this.cb.onError(e);
    }
    this.cb.onLoading(false);
  }

  #accept(r) {
    const offset = Number(BigInt(r.start_ns) - this.base);
    // A track with nothing in the current range keeps its row (empty), so rows
    // never jump while zooming or panning.
    const got = new Map((r.tracks || []).map((t) => [t.id, t]));
    for (const t of got.values()) if (!this.known.has(t.id)) this.known.set(t.id, { id: t.id, name: t.name, group: t.group, kind: t.kind });
    const tracks = [...this.known.values()].map((k) => got.get(k.id) || { ...k, events: [], merged: 0 });
    this.data = { offset, names: r.names || [], tracks };
    this.layout = layoutTracks(tracks, this.depths);
    let merged = 0;
    for (const t of this.data.tracks) merged += t.merged || 0;
    this.stats = { merged, tracks: this.data.tracks.length };
    this.cb.onLayout(this.layout.height + AXIS_H);
    this.requestDraw();
  }

  resize(w, h) {
    const dpr = window.devicePixelRatio || 1;
    if (w === this.size.w && h === this.size.h && dpr === this.size.dpr) return;
    const grew = w > this.size.w;
    this.size = { w, h, dpr };
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.draw();
    if (grew && this.base !== null) this.fetchRange(); // more pixels: finer detail
  }

  requestDraw() {
    if (!this.raf) this.raf = requestAnimationFrame(() => this.draw());
  }

  draw() {
    cancelAnimationFrame(this.raf);
    this.raf = 0;
    if (!this.size.w) return;
    const drawn = drawTimeline(this.ctx, {
      ...this.size,
      scrollY: this.scroller.scrollTop,
      view: this.view,
      data: this.data || { offset: 0, names: [], tracks: [] },
      layout: this.layout,
      selectedId: this.selectedId,
      hoverId: this.hoverId,
    });
    this.#publish(drawn);
  }

  // Test and debugging hooks on the canvas element: counts and row geometry.
  #publish(drawn) {
    const c = this.canvas;
    c.dataset.drawn = String(drawn);
    c.dataset.view = `${this.view.start},${this.view.end}`;
    const top = AXIS_H - this.scroller.scrollTop;
    const rows = (this.layout ? this.layout.rows : [])
      .filter((r) => r.type === 'track')
      .map((r) => ({ name: r.track.name, group: r.track.group, kind: r.track.kind, y: top + r.y, h: r.h }));
    c.dataset.tracks = JSON.stringify(rows);
    this.cb.onStats({ drawn, ...(this.stats || { merged: 0, tracks: 0 }) });
  }

  // Event under a point in canvas CSS coordinates.
  hit(x, y) {
    if (!this.layout || !this.data || x < GUTTER || y < AXIS_H) return null;
    const cy = y - AXIS_H + this.scroller.scrollTop;
    const row = rowAt(this.layout, cy);
    if (!row) return null;
    const nsPerPx = (this.view.end - this.view.start) / this.plotW;
    const t = this.view.start + (x - GUTTER) * nsPerPx - this.data.offset;
    const e = eventAt(row, cy - row.y, t, nsPerPx);
    if (!e) return null;
    return { e, track: row.track, name: this.data.names[e[2]], start: e[0] + this.data.offset };
  }

  select(id) {
    this.selectedId = id;
    this.requestDraw();
  }

  hover(id) {
    if (id !== this.hoverId) {
      this.hoverId = id;
      this.requestDraw();
    }
  }

  zoomToEvent(start, dur) {
    const pad = Math.max(dur * 0.15, MIN_SPAN / 2);
    this.setView(start - pad, start + dur + pad);
  }

  destroy() {
    cancelAnimationFrame(this.raf);
    this.fetchRange.cancel();
  }
}
