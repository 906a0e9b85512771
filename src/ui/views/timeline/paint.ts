// Paints the lanes of a timeline into RGBA pixels: per lane, the marks row (one tick per pixel
// column holding exits, in the colour of its most common reason) above the activity band.
import { ACTIVITIES, type Timeline } from '../../../model/trace/timeline';
import { pixel, reasonColour } from './colours';
import { activityCoverage, markColumns, paintBand, type MarkColumns, type Viewport } from './raster';

/** Lane geometry in CSS pixels. */
export const LANE = 44;
export const MARK_Y = 4;
export const MARK_H = 10;
export const BAND_Y = 17;
export const BAND_H = 22;

/** Width of an exit tick, in device pixels. */
export const markWidth = (dpr: number): number => Math.max(1, Math.round(2 * dpr));

/** Buffers reused from one paint to the next. */
export interface PaintScratch {
  cover?: Float32Array;
  marks?: MarkColumns;
}

const reasonPixels = new Map<number, number>();
function reasonPixel(r: number): number {
  let p = reasonPixels.get(r);
  if (p === undefined) reasonPixels.set(r, (p = pixel(reasonColour(r))));
  return p;
}

/**
 * Paints every lane for the times `vp` spreads over `vp.width` columns into `px` (row-major,
 * `vp.width` pixels a row, lanes stacked at LANE × dpr). Open spans run to `tEnd`.
 */
export function paintLanes(px: Uint32Array, tl: Timeline, tEnd: number, vp: Viewport, dpr: number, activity: Uint32Array, s: PaintScratch): void {
  const w = vp.width;
  px.fill(0);
  if (!s.cover || s.cover.length < w * ACTIVITIES.length) s.cover = new Float32Array(w * ACTIVITIES.length);
  if (!s.marks || s.marks.count.length < w) s.marks = { count: new Uint32Array(w), reason: new Int32Array(w) };
  const markW = markWidth(dpr);
  const markY = Math.round(MARK_Y * dpr);
  const markH = Math.round(MARK_H * dpr);
  tl.lanes.forEach((lane, li) => {
    const y = Math.round(li * LANE * dpr);
    paintBand(px, w, y + Math.round(BAND_Y * dpr), Math.round(BAND_H * dpr), activityCoverage(lane, tEnd, vp, s.cover), w, activity);
    const m = markColumns(lane, vp, s.marks);
    // The marks row's first line, then copies of it: every column of a long run seen whole has a mark.
    const top = (y + markY) * w;
    for (let c = 0; c < w; c++) {
      if (!m.count[c]) continue;
      const p = reasonPixel(m.reason[c]);
      for (let x = c; x < Math.min(w, c + markW); x++) px[top + x] = p;
    }
    for (let yy = 1; yy < markH; yy++) px.copyWithin(top + yy * w, top, top + w);
  });
}
