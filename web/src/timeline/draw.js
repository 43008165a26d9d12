// Canvas renderer. Draws only what the server returned for the visible range
// (it already merged sub-pixel events), so the cost is bounded by pixels, not
// by trace size. No DOM per event.
import { AXIS_H, GUTTER, LANE_H, TRACK_PAD, tickLabel, tickStep } from './layout.js';
import { MERGED, colorFor } from '../lib/colors.js';

const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const FONT_BOLD = '600 11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const widths = new Map(); // `${font}|${text}` -> measured px; names repeat a lot

// Truncate with an ellipsis to fit maxW. One measureText per distinct name;
// the cut is proportional, with a margin since glyph widths vary.
function fitText(ctx, text, maxW) {
  const key = `${ctx.font}|${text}`;
  let full = widths.get(key);
  if (full === undefined) {
    full = ctx.measureText(text).width;
    if (widths.size > 5000) widths.clear();
    widths.set(key, full);
  }
  if (full <= maxW) return text;
  const n = Math.floor((text.length * maxW * 0.9) / full) - 1;
  return n >= 3 ? `${text.slice(0, n)}…` : '';
}

// st: { w, h, dpr, scrollY, view:{start,end}, data, layout, selectedId, hoverId }
export function drawTimeline(ctx, st) {
  const { w, h, dpr, view, data, layout } = st;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  const plotW = w - GUTTER;
  const k = plotW / (view.end - view.start);
  let drawn = 0;
  let selectedBox = null;
  const top = AXIS_H - st.scrollY;

  ctx.save();
  ctx.beginPath();
  ctx.rect(0, AXIS_H, w, h - AXIS_H);
  ctx.clip();
  ctx.font = FONT;
  ctx.textBaseline = 'middle';
  const rows = (layout ? layout.rows : []).filter((r) => top + r.y <= h && top + r.y + r.h >= AXIS_H);
  for (const row of rows) {
    const y0 = top + row.y;
    if (row.type === 'group') {
      ctx.fillStyle = '#eef1f6';
      ctx.fillRect(0, y0, w, row.h);
      ctx.fillStyle = '#c9d0db';
      ctx.fillRect(0, y0 + row.h - 1, w, 1);
    } else if (row.odd) {
      ctx.fillStyle = '#f8f9fb';
      ctx.fillRect(GUTTER, y0, plotW, row.h);
    }
  }
  // Time grid behind the events, aligned with the axis ticks.
  const step = tickStep(view.end - view.start, plotW);
  ctx.fillStyle = 'rgba(120, 130, 150, 0.12)';
  for (let t = Math.ceil(view.start / step) * step; t <= view.end; t += step) {
    ctx.fillRect(Math.round(GUTTER + (t - view.start) * k), AXIS_H, 1, h - AXIS_H);
  }
  for (const row of rows) {
    if (row.type !== 'track') continue;
    const y0 = top + row.y;
    const t = row.track;
    const kind = t.kind === 'device' ? 'device' : 'host';
    const off = data.offset - view.start;
    for (const e of t.events) {
      let x = GUTTER + (off + e[0]) * k;
      let ew = e[1] * k;
      if (x + ew < GUTTER || x > w) continue;
      if (x < GUTTER) {
        ew -= GUTTER - x;
        x = GUTTER;
      }
      if (ew > w - x) ew = w - x;
      const name = data.names[e[2]];
      const y = y0 + TRACK_PAD / 2 + e[3] * LANE_H;
      ctx.fillStyle = name === undefined ? MERGED : colorFor(name, kind);
      // Sub-pixel events still get one device pixel so activity stays visible;
      // wider ones leave a 1 px gap so back-to-back kernels stay distinguishable.
      ctx.fillRect(x, y, ew > 4 ? ew - 1 : Math.max(ew, 1 / dpr), LANE_H - 1);
      drawn++;
      if (ew > 28 && name !== undefined) {
        const label = fitText(ctx, name, ew - 6);
        if (label) {
          ctx.fillStyle = '#1d2129';
          ctx.fillText(label, x + 3, y + LANE_H / 2);
        }
      }
      if (e[4] === st.selectedId) selectedBox = [x, y, Math.max(ew, 2), LANE_H - 1];
      else if (e[4] === st.hoverId && ew > 2) {
        ctx.strokeStyle = 'rgba(20,24,31,.55)';
        ctx.lineWidth = 1;
        ctx.strokeRect(x + 0.5, y + 0.5, ew - 1, LANE_H - 2);
      }
    }
  }
  if (selectedBox) {
    ctx.strokeStyle = '#111827';
    ctx.lineWidth = 2;
    ctx.strokeRect(...selectedBox);
  }
  drawGutter(ctx, st, top);
  ctx.restore();
  drawAxis(ctx, st, k);
  return drawn;
}

function drawGutter(ctx, st, top) {
  const { h, layout } = st;
  ctx.fillStyle = '#fbfcfd';
  ctx.fillRect(0, AXIS_H, GUTTER, h - AXIS_H);
  for (const row of layout ? layout.rows : []) {
    const y0 = top + row.y;
    if (y0 > h || y0 + row.h < AXIS_H) continue;
    if (row.type === 'group') {
      ctx.fillStyle = '#eef1f6';
      ctx.fillRect(0, y0, GUTTER, row.h);
      ctx.fillStyle = row.kind === 'device' ? '#d9480f' : '#1971c2';
      ctx.fillRect(0, y0 + 5, 3, row.h - 10);
      ctx.font = FONT_BOLD;
      ctx.fillStyle = '#1d2129';
      ctx.fillText(fitText(ctx, row.name, GUTTER - 20), 10, y0 + row.h / 2);
    } else {
      ctx.font = FONT;
      ctx.fillStyle = '#454c59';
      ctx.fillText(fitText(ctx, row.track.name, GUTTER - 28), 18, y0 + Math.min(row.h, LANE_H + TRACK_PAD) / 2);
      ctx.fillStyle = '#e6e9ef';
      ctx.fillRect(0, y0 + row.h - 1, st.w, 1);
    }
  }
  ctx.fillStyle = '#d5dae2';
  ctx.fillRect(GUTTER - 1, AXIS_H, 1, h - AXIS_H);
}

function drawAxis(ctx, st, k) {
  const { w, view } = st;
  ctx.fillStyle = '#fbfcfd';
  ctx.fillRect(0, 0, w, AXIS_H);
  ctx.fillStyle = '#d5dae2';
  ctx.fillRect(0, AXIS_H - 1, w, 1);
  const step = tickStep(view.end - view.start, w - GUTTER);
  ctx.font = FONT;
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#6b7280';
  ctx.fillText('from trace start', 10, AXIS_H / 2);
  const first = Math.ceil(view.start / step) * step;
  for (let t = first; t <= view.end; t += step) {
    const x = Math.round(GUTTER + (t - view.start) * k) + 0.5;
    ctx.fillStyle = '#c3c9d3';
    ctx.fillRect(x, AXIS_H - 7, 1, 6);
    const label = tickLabel(t, step);
    if (x + 4 + ctx.measureText(label).width > w - 2) continue; // no clipped label at the edge
    ctx.fillStyle = '#454c59';
    ctx.fillText(label, x + 4, AXIS_H / 2 - 1);
  }
}
