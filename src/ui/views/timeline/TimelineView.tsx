// The region "Timeline": one lane per vCPU over virtual time, coloured by what the vCPU thread was
// doing, with a mark per exit coloured by its reason. Lanes and marks are painted into one canvas
// (device pixels, so it stays sharp on high-DPI screens) straight from the columnar timeline; only
// the axis is SVG. d3-zoom handles wheel and drag; keys and buttons do the same. Hover shows an
// exit, click selects it. A summary and a list of the exits in view are the text alternative; the
// window counts its last instant (so the exit a run stopped at is in view). While data streams in
// (a run), the canvas follows it every DRAW_EVERY_MS and the text every TEXT_EVERY_MS; a step, and
// a person's zoom or pan, show at once. While a run streams (`streaming`), drawing is a task of its
// own, even for the first data after a quiet spell: inside the run's commit or animation frame, it
// made one long task of the two.
import { axisBottom, scaleLinear, select, zoom as d3zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from 'd3';
import { useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent, type PointerEvent } from 'react';
import { ACTIVITIES, type Timeline } from '../../../model/trace/timeline';
import { count, formatNs, plural } from '../common/format';
import { Pace } from '../common/pace';
import { ACTIVITY_LABEL, reasonName } from '../common/names';
import { timeTickFormat } from './axis';
import { activityColours, pixel, reasonColour } from './colours';
import { LANE, MARK_H, MARK_Y, markWidth, paintLanes, type PaintScratch } from './paint';
import { TileCache } from './tiles';
import { adjacentExit, exitDetails, type ExitDetails, type ExitRef } from './details';
import { activityTotals, exitRange, nearestExit } from './raster';
import '../common/theme.css';
import './timeline.css';

export type { ExitRef } from './details';

export interface TimelineProps {
  /** The page's copy of the timeline (Timeline.apply of the worker's deltas). */
  timeline: Timeline;
  /** timeline.version when the page rendered: the view redraws when it changes. */
  version: number;
  /** Virtual time now (LabView.now): open spans run to here, as a vCPU halted in the guest emits nothing. */
  now?: number;
  selected?: ExitRef | null;
  onSelectExit?: (exit: ExitRef) => void;
  /** A run is streaming data in: new data is drawn and stated in tasks of their own, never in the commit. */
  streaming?: boolean;
}

const AXIS_H = 24;
/** Axis labels closer than this to either end of the plot are anchored at their end, not centred. */
const AXIS_EDGE = 24;
/** Narrowest window one can zoom to, in ns. */
const MIN_WINDOW_NS = 10;
const HOVER_SLOP = 6;
const LIST_MAX = 100;
/** While data streams in, the canvas and axis follow it at most this often… */
const DRAW_EVERY_MS = 50;
/** …and the text alternative (summary, legend counts, list) at most this often. */
const TEXT_EVERY_MS = 500;
const KEY_PAN = 0.15;
const KEY_ZOOM = 1.6;

interface Hover {
  lane: number;
  row: number;
  x: number;
  y: number;
}

interface Theme {
  id: number; // a new theme paints new tiles
  activity: Uint32Array; // ImageData pixels, in ACTIVITIES order
  accent: string;
  fg: string;
}

let themes = 0;
function readTheme(el: Element): Theme {
  const style = getComputedStyle(el);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return { id: ++themes, activity: Uint32Array.from(activityColours(el), pixel), accent: v('--xs-accent', '#0b62c4'), fg: v('--xs-fg', '#000') };
}

/** Where the data ends: the latest event, or now when that is later. */
export const endOf = (tl: Timeline, now?: number): number => Math.max(tl.t1, now ?? -Infinity);

/** The time domain of the whole run, padded so that a single instant still has a width. */
function fullDomain(tl: Timeline, now?: number): [number, number] {
  if (tl.empty) return [0, 1000];
  const end = endOf(tl, now);
  return end > tl.t0 ? [tl.t0, end] : [tl.t0, tl.t0 + 1000];
}

export function TimelineView({ timeline, version, now, selected, onSelectExit, streaming = false }: TimelineProps) {
  const headingId = useId();
  const summaryId = useId();
  const plotRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const axisRef = useRef<SVGGElement>(null);
  const zoomRef = useRef<ZoomBehavior<HTMLDivElement, unknown> | null>(null);
  const transformRef = useRef<ZoomTransform>(zoomIdentity);
  const sizeRef = useRef({ w: 0, dpr: 1 });
  const frameRef = useRef(0);
  const scratch = useRef<PaintScratch>({});
  const tiles = useRef(new TileCache());
  // Theme colours, read from CSS once and again when the colour scheme changes (not every frame).
  const theme = useRef<Theme | null>(null);
  const [hover, setHover] = useState<Hover | null>(null);
  const [win, setWinState] = useState<[number, number]>(() => fullDomain(timeline, now));
  const setWin = useCallback((w: [number, number]) => setWinState((old) => (old[0] === w[0] && old[1] === w[1] ? old : w)), []);
  const [width, setWidth] = useState(0);

  // Everything draw() reads, current at the time it runs (it runs outside React's render).
  const live = useRef({ timeline, now, selected, hover });
  live.current = { timeline, now, selected, hover };
  const streamingRef = useRef(streaming);
  streamingRef.current = streaming;

  const lanes = timeline.lanes;
  const height = Math.max(1, lanes.length) * LANE;

  const baseScale = useCallback(() => scaleLinear().domain(fullDomain(live.current.timeline, live.current.now)).range([0, sizeRef.current.w || 1]), []);
  const visible = useCallback((): [number, number] => {
    // Unzoomed: the whole run, exactly (rescaling could put its last instant an ulp outside).
    if (transformRef.current.k === 1) return fullDomain(live.current.timeline, live.current.now);
    const [a, b] = transformRef.current.rescaleX(baseScale()).domain();
    return [a, b];
  }, [baseScale]);

  // The text alternative's inputs: the window and a count of the data changes it has caught up with.
  const [textVersion, setTextVersion] = useState(0);
  const paces = useRef({ draw: new Pace(DRAW_EVERY_MS), text: new Pace(TEXT_EVERY_MS), drawTimer: 0, textTimer: 0 });
  useEffect(() => () => {
    clearTimeout(paces.current.drawTimer);
    clearTimeout(paces.current.textTimer);
  }, []);

  const draw = useCallback(() => {
    frameRef.current = 0;
    paces.current.draw.shown();
    const canvas = canvasRef.current;
    const plot = plotRef.current;
    const { w, dpr } = sizeRef.current;
    if (!canvas || !plot || w <= 0) return;
    const { timeline: tl, now: nowT, selected: sel, hover: hv } = live.current;
    const tEnd = endOf(tl, nowT);
    const devW = Math.round(w * dpr);
    const devH = Math.round(Math.max(1, tl.lanes.length) * LANE * dpr);
    if (canvas.width !== devW || canvas.height !== devH) {
      canvas.width = devW;
      canvas.height = devH;
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const x = transformRef.current.rescaleX(baseScale());
    const [t0, t1] = x.domain();
    theme.current ??= readTheme(plot);
    const { activity: actColours, accent, fg } = theme.current;
    const markW = markWidth(dpr);
    // World pixels: x = (t − d0) × pixels per ns at this zoom; the view starts at −translate.
    const [d0, d1] = fullDomain(tl, nowT);
    const pxPerNs = (devW * transformRef.current.k) / (d1 - d0);
    const key = `${tl.version}|${pxPerNs}|${d0}|${tEnd}|${devH}|${dpr}|${theme.current.id}`;
    tiles.current.compose(ctx, key, -transformRef.current.x * dpr, devH, markW, (px, wx0, width) =>
      paintLanes(px, tl, tEnd, { t0: d0 + wx0 / pxPerNs, t1: d0 + (wx0 + width) / pxPerNs, width }, dpr, actColours, scratch.current),
    );

    // Selection and hover on top: a line through the lane and a ring round the mark.
    const ring = (ref: ExitRef | null | undefined, style: string, line: boolean) => {
      if (!ref) return;
      const li = tl.lanes.findIndex((l) => l.vcpu === ref.vcpu);
      const row = li < 0 ? -1 : tl.lanes[li].findExit(ref.exit);
      if (row < 0) return;
      const cx = x(tl.lanes[li].exits.cols.t[row]) * dpr;
      if (cx < -10 || cx > devW + 10) return;
      const y = li * LANE * dpr;
      ctx.strokeStyle = style;
      ctx.lineWidth = Math.max(1, Math.round(1.5 * dpr));
      if (line) {
        ctx.beginPath();
        ctx.moveTo(cx + 0.5, y + 1);
        ctx.lineTo(cx + 0.5, y + LANE * dpr - 1);
        ctx.stroke();
      }
      ctx.strokeRect(cx - 4 * dpr, y + (MARK_Y - 2) * dpr, 8 * dpr + markW, (MARK_H + 4) * dpr);
    };
    ring(sel, accent, true);
    if (hv) {
      const lane = tl.lanes[hv.lane];
      if (lane && hv.row < lane.exits.n) ring({ vcpu: lane.vcpu, exit: lane.exits.cols.exit[hv.row] }, fg, false);
    }

    if (axisRef.current) {
      const ticks = Math.max(2, Math.floor(w / 110));
      const tv = x.ticks(ticks);
      const step = tv.length > 1 ? tv[1] - tv[0] : t1 - t0;
      const axis = axisBottom(x).ticks(ticks).tickFormat((v) => timeTickFormat(step, Math.max(Math.abs(t0), Math.abs(t1)))(+v));
      const g = select(axisRef.current).call(axis);
      // The end labels stay inside the plot: centred on the first or last instant, half would be cut off.
      g.selectAll<SVGGElement, number>('.tick').each(function (v) {
        const at = x(v);
        select(this).select('text').attr('text-anchor', at > w - AXIS_EDGE ? 'end' : at < AXIS_EDGE ? 'start' : 'middle');
      });
    }
  }, [baseScale]);

  const schedule = useCallback(() => {
    if (!frameRef.current) frameRef.current = requestAnimationFrame(draw);
  }, [draw]);

  /** New data: drawn and stated at once (a step), or, while it streams in, at their paces. */
  const followData = useCallback(() => {
    const p = paces.current;
    const showText = () => {
      p.textTimer = 0;
      p.text.shown();
      setWin(visible());
      setTextVersion((v) => v + 1);
    };
    const drawWait = p.draw.change();
    if (!drawWait && !streamingRef.current) {
      // A step: drawn now, inside the layout effect, so it is painted with the rest of the step.
      cancelAnimationFrame(frameRef.current);
      draw();
    }
    else if (!p.drawTimer) {
      p.drawTimer = window.setTimeout(() => {
        p.drawTimer = 0;
        if (!streamingRef.current) return schedule();
        // While a run streams, a task of its own: in an animation frame it joined the store's flush,
        // React's commit and the layout in one long task.
        cancelAnimationFrame(frameRef.current);
        draw();
      }, drawWait);
    }
    const textWait = p.text.change();
    if (!textWait && !streamingRef.current) {
      clearTimeout(p.textTimer);
      showText();
    } else if (!p.textTimer) p.textTimer = window.setTimeout(showText, textWait);
  }, [draw, schedule, setWin, visible]);

  // d3-zoom on the plot: wheel zooms, drag pans. Only the transform changes; drawing is per frame.
  useEffect(() => {
    const plot = plotRef.current;
    if (!plot) return;
    const zoom = d3zoom<HTMLDivElement, unknown>()
      .clickDistance(4)
      .on('zoom', (e: { transform: ZoomTransform; sourceEvent: Event | null }) => {
        transformRef.current = e.transform;
        // A gesture draws at once; the zooms made here (keys, buttons, new data) draw when they say.
        if (e.sourceEvent) schedule();
      })
      // A gesture's end restates the window; the zooms made here restate it themselves, at their
      // pace (new data while a run streams in would otherwise recount the window every batch).
      .on('end', (e: { sourceEvent: Event | null }) => e.sourceEvent && setWin(visible()));
    zoomRef.current = zoom;
    select(plot).call(zoom).on('dblclick.zoom', null);
    const measure = () => {
      sizeRef.current = { w: plot.clientWidth, dpr: window.devicePixelRatio || 1 };
      setWidth(plot.clientWidth);
      schedule();
    };
    const ro = new ResizeObserver(measure);
    ro.observe(plot);
    // Moving to a screen of another pixel density changes devicePixelRatio without a resize.
    let density: MediaQueryList | null = null;
    const watchDensity = () => {
      density?.removeEventListener('change', onDensity);
      density = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
      density.addEventListener('change', onDensity);
    };
    const onDensity = () => {
      measure();
      watchDensity();
    };
    watchDensity();
    const scheme = window.matchMedia('(prefers-color-scheme: dark)');
    const retheme = () => {
      theme.current = null;
      schedule();
    };
    scheme.addEventListener('change', retheme);
    return () => {
      scheme.removeEventListener('change', retheme);
      density?.removeEventListener('change', onDensity);
      ro.disconnect();
      select(plot).on('.zoom', null);
      if (frameRef.current) cancelAnimationFrame(frameRef.current);
      frameRef.current = 0;
    };
  }, [schedule, visible, setWin]);

  // Zoom limits follow the size and the data; a zoomed-in view keeps its time window as the run grows.
  // Before the browser paints (a layout effect): a step's marks, axis and text come with the frame
  // that shows the rest of the step, not one or two frames later.
  const prevDomain = useRef<[number, number]>(fullDomain(timeline, now));
  useLayoutEffect(() => {
    const plot = plotRef.current;
    const zoom = zoomRef.current;
    if (!plot || !zoom) return;
    const [d0, d1] = fullDomain(timeline, now);
    const w = Math.max(1, width);
    const h = height;
    zoom.extent([[0, 0], [w, h]]).translateExtent([[0, 0], [w, h]]).scaleExtent([1, Math.max(1, (d1 - d0) / MIN_WINDOW_NS)]);
    const [p0, p1] = prevDomain.current;
    prevDomain.current = [d0, d1];
    const t = transformRef.current;
    if (t.k !== 1 && (p0 !== d0 || p1 !== d1)) {
      // The window [a, b] seen with the old domain, kept under the new one.
      const a = p0 + ((0 - t.x) / t.k / w) * (p1 - p0);
      const b = p0 + ((w - t.x) / t.k / w) * (p1 - p0);
      const k = Math.max(1, (d1 - d0) / (b - a));
      select(plot).call(zoom.transform, zoomIdentity.translate((-k * (a - d0) * w) / (d1 - d0), 0).scale(k));
    } else {
      select(plot).call(zoom.transform, t);
    }
    followData();
  }, [timeline, version, now, width, height, followData]);

  useEffect(schedule, [selected, hover, schedule]);

  // A selection made elsewhere (a link, the list, the keys) is brought into view, centred, once: as
  // soon as its mark exists (a link may name an exit before the data has arrived).
  const revealed = useRef<string | null>(null);
  useLayoutEffect(() => {
    const plot = plotRef.current;
    const zoom = zoomRef.current;
    const key = selected ? `${selected.vcpu}:${selected.exit}` : null;
    const lane = selected ? live.current.timeline.lane(selected.vcpu) : undefined;
    const row = lane && selected ? lane.findExit(selected.exit) : -1;
    if (!plot || !zoom || !lane || row < 0 || key === revealed.current) return;
    revealed.current = key;
    const t = lane.exits.cols.t[row];
    const [a, b] = visible();
    if (t >= a && t <= b) return;
    const xs = transformRef.current.rescaleX(baseScale());
    select(plot).call(zoom.translateBy, (sizeRef.current.w / 2 - xs(t)) / transformRef.current.k, 0);
    setWin(visible());
    schedule();
  }, [selected?.vcpu, selected?.exit, version, visible, baseScale, setWin, schedule]);

  const zoomBy = (f: number) => {
    const plot = plotRef.current;
    if (plot && zoomRef.current) select(plot).call(zoomRef.current.scaleBy, f, [sizeRef.current.w / 2, 0]);
  };
  const panBy = (fraction: number) => {
    const plot = plotRef.current;
    if (plot && zoomRef.current) select(plot).call(zoomRef.current.translateBy, (-fraction * sizeRef.current.w) / transformRef.current.k, 0);
  };
  const reset = () => {
    const plot = plotRef.current;
    if (plot && zoomRef.current) select(plot).call(zoomRef.current.transform, zoomIdentity);
  };
  // Programmatic zooms end at once (no gesture): drawn, and the text alternative follows them.
  const after = (f: () => void) => () => {
    f();
    setWin(visible());
    schedule();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const actions: Record<string, () => void> = {
      ArrowLeft: () => panBy(-KEY_PAN), ArrowRight: () => panBy(KEY_PAN), '+': () => zoomBy(KEY_ZOOM), '=': () => zoomBy(KEY_ZOOM),
      '-': () => zoomBy(1 / KEY_ZOOM), ArrowUp: () => zoomBy(KEY_ZOOM), ArrowDown: () => zoomBy(1 / KEY_ZOOM), Home: reset,
      Enter: () => hover && pick(hover),
      '[': () => step(-1),
      ']': () => step(1),
    };
    const act = actions[e.key];
    if (!act) return;
    // The page's single-key shortcuts must not also act on a key the plot used.
    e.preventDefault();
    e.stopPropagation();
    after(act)();
  };

  /** Selects the exit before or after the selected one (or the first in view). */
  const step = (dir: 1 | -1) => {
    const [a, b] = visible();
    const known = selected && (timeline.lane(selected.vcpu)?.findExit(selected.exit) ?? -1) >= 0;
    const next = adjacentExit(timeline, known ? selected! : null, dir, dir > 0 ? a : b);
    if (next) onSelectExit?.(next);
  };

  const hitTest = (e: { clientX: number; clientY: number }): Hover | null => {
    const plot = plotRef.current;
    if (!plot) return null;
    const r = plot.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    const li = Math.floor(y / LANE);
    const lane = timeline.lanes[li];
    if (!lane) return null;
    const [t0, t1] = visible();
    const row = nearestExit(lane, { t0, t1, width: sizeRef.current.w }, x, HOVER_SLOP);
    return row < 0 ? null : { lane: li, row, x, y };
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (e.buttons) return; // dragging: d3-zoom pans
    const h = hitTest(e);
    setHover((old) => (old?.lane === h?.lane && old?.row === h?.row ? old : h));
  };
  const pick = (h: Hover) => {
    const lane = timeline.lanes[h.lane];
    if (lane) onSelectExit?.({ vcpu: lane.vcpu, exit: lane.exits.cols.exit[h.row] });
  };
  const onClick = (e: MouseEvent<HTMLDivElement>) => {
    const h = hitTest(e);
    if (h) pick(h);
  };

  const hovered: ExitDetails | null = hover && timeline.lanes[hover.lane] ? exitDetails(timeline.lanes[hover.lane], hover.row) : null;

  // The legend lists the reasons in the run, most frequent first.
  const reasons = useMemo(() => [...timeline.reasonCounts()].sort((a, b) => b[1] - a[1] || a[0] - b[0]), [timeline, textVersion]);

  const [a, b] = win;
  const [listOpen, setListOpen] = useState(false);
  const inView = useMemo(() => countInView(timeline, a, b), [timeline, textVersion, a, b]);
  const summary = useMemo(() => viewSummary(timeline, a, b, inView, live.current.now), [timeline, textVersion, a, b, inView]);
  // The list's rows (formatted details) are made only while it is open.
  const list = useMemo(() => (listOpen ? exitsInView(timeline, a, b) : null), [listOpen, timeline, textVersion, a, b]);
  const total = timeline.exitCount;

  return (
    <section className="xs-view xs-timeline" aria-labelledby={headingId}>
      <div className="xs-header">
        <h2 id={headingId}>Timeline</h2>
        <span className="xs-sub">
          {timeline.empty ? 'nothing run yet' : `${plural(total, 'exit')}, ${formatNs(timeline.t0)} to ${formatNs(endOf(timeline, now))}`}
        </span>
        <div className="xs-tl-buttons" role="group" aria-label="Zoom and pan">
          <button type="button" onClick={after(() => zoomBy(KEY_ZOOM))}>Zoom in</button>
          <button type="button" onClick={after(() => zoomBy(1 / KEY_ZOOM))}>Zoom out</button>
          <button type="button" onClick={after(() => panBy(-KEY_PAN))}>Pan left</button>
          <button type="button" onClick={after(() => panBy(KEY_PAN))}>Pan right</button>
          <button type="button" onClick={after(reset)}>Reset zoom</button>
        </div>
      </div>
      <Legend reasons={reasons} />
      <div className="xs-tl-grid">
        <div className="xs-tl-gutter" aria-hidden="true" style={{ height }}>
          {timeline.lanes.map((l, i) => (
            <div key={l.vcpu} className="xs-tl-lane-label" style={{ top: i * LANE }}>
              vCPU {l.vcpu}
            </div>
          ))}
        </div>
        <div
          ref={plotRef}
          className="xs-tl-plot"
          style={{ height }}
          tabIndex={0}
          role="group"
          aria-roledescription="timeline plot"
          aria-label="Exits over time. Arrow keys pan and zoom, Home resets, [ and ] select the previous and next exit."
          aria-describedby={summaryId}
          onKeyDown={onKeyDown}
          onPointerMove={onPointerMove}
          onPointerLeave={() => setHover(null)}
          onClick={onClick}
        >
          <canvas ref={canvasRef} aria-hidden="true" style={{ width: '100%', height }} />
          {hovered && hover && (
            <div className="xs-tl-tip" role="tooltip" style={tipPosition(hover, width)}>
              <strong>{hovered.title}</strong>
              <dl>
                {hovered.rows.map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>{v}</dd>
                  </div>
                ))}
              </dl>
            </div>
          )}
        </div>
        <div />
        <svg className="xs-tl-axis" width={width} height={AXIS_H} aria-hidden="true">
          <g ref={axisRef} />
        </svg>
      </div>
      <p id={summaryId} className="xs-tl-summary">
        {summary}
      </p>
      <details className="xs-tl-list" onToggle={(e) => setListOpen(e.currentTarget.open)}>
        <summary>Exits in view ({count(inView)})</summary>
        {!list ? null : list.count === 0 ? (
          <p className="xs-empty">No exits in this window.</p>
        ) : (
          <ul>
            {list.first.map((d) => (
              <li key={`${d.ref.vcpu}:${d.ref.exit}`}>
                <button
                  type="button"
                  aria-pressed={selected?.vcpu === d.ref.vcpu && selected.exit === d.ref.exit}
                  onClick={() => onSelectExit?.(d.ref)}
                >
                  {d.title}
                </button>
                <span className="xs-sub"> {d.rows.slice(1).map(([k, v]) => `${k} ${v.replace(/ /g, '\u00a0')}`).join(', ')}</span>
              </li>
            ))}
          </ul>
        )}
        {list && list.count > list.first.length && (
          <p className="xs-sub">
            and {count(list.count - list.first.length)} more: zoom in to list them.
          </p>
        )}
      </details>
    </section>
  );
}

function Legend({ reasons }: { reasons: [number, number][] }) {
  return (
    <div className="xs-tl-legend">
      <ul aria-label="Lane colours">
        {ACTIVITIES.map((act) => (
          <li key={act}>
            <span className={`xs-swatch xs-act-${act}`} aria-hidden="true" />
            {ACTIVITY_LABEL[act]}
          </li>
        ))}
      </ul>
      {reasons.length > 0 && (
        <ul aria-label="Exit reasons">
          {reasons.map(([r, n]) => (
            <li key={r}>
              <span className="xs-swatch" style={{ background: reasonColour(r) }} aria-hidden="true" />
              {reasonName(r)} <span className="xs-sub">{count(n)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Exits in the window [t0, t1] over all lanes. */
export function countInView(tl: Timeline, t0: number, t1: number): number {
  let n = 0;
  for (const lane of tl.lanes) {
    const [i0, i1] = exitRange(lane, t0, t1, true);
    n += i1 - i0;
  }
  return n;
}

/** The first exits in the window [t0, t1] across lanes in time order, and how many there are. */
export function exitsInView(tl: Timeline, t0: number, t1: number, max = LIST_MAX): { count: number; first: ExitDetails[] } {
  let n = 0;
  const first: ExitDetails[] = [];
  for (const lane of tl.lanes) {
    const [i0, i1] = exitRange(lane, t0, t1, true);
    n += i1 - i0;
    for (let i = i0; i < Math.min(i1, i0 + max); i++) first.push(exitDetails(lane, i));
  }
  first.sort((x, y) => x.t - y.t || x.ref.vcpu - y.ref.vcpu);
  return { count: n, first: first.slice(0, max) };
}

/** The text alternative of the plot: the window, and per vCPU how its time there was spent. */
export function viewSummary(tl: Timeline, t0: number, t1: number, exits: number, now?: number): string {
  if (tl.empty) return 'The timeline is empty: run or step the vCPUs to fill it.';
  const per = tl.lanes.map((lane) => {
    // Shares of the whole window, so that a vCPU that started late does not read as busy throughout.
    const tot = activityTotals(lane, endOf(tl, now), t0, t1);
    const all = t1 - t0;
    const [i0, i1] = exitRange(lane, t0, t1, true);
    const parts = ACTIVITIES.map((act, k) => [act, all ? (tot[k] / all) * 100 : 0] as const)
      .filter(([, p]) => p >= 0.5)
      .sort((x, y) => y[1] - x[1])
      .map(([act, p]) => `${ACTIVITY_LABEL[act]} ${Math.round(p)}%`);
    return `vCPU ${lane.vcpu}: ${plural(i1 - i0, 'exit')}${parts.length ? `; ${parts.join(', ')}` : ''}.`;
  });
  return `Showing ${formatNs(t0)} to ${formatNs(t1)}, ${plural(exits, 'exit')}. ${per.join(' ')}`;
}

function tipPosition(h: Hover, width: number): { left: number; top: number } {
  const left = h.x > width - 260 ? Math.max(0, h.x - 250) : h.x + 12;
  return { left, top: h.y + 12 };
}
