// Panning without repainting: the lanes at one zoom level are painted once into tiles of TILE device
// pixels on a "world" axis (x = (t − domain start) × pixels per ns), and each frame only copies the
// tiles in view. A tile is painted when it first comes into view; a zoom, new data, a resize or a
// theme change start a new set.

export const TILE = 512;
/** Tiles kept per set; the ones farthest from the view go first. */
const KEEP = 24;

/** Indices of the tiles covering world pixels [x0, x0 + width). */
export function tilesFor(x0: number, width: number, tile = TILE): number[] {
  if (width <= 0) return [];
  const out: number[] = [];
  for (let i = Math.floor(x0 / tile); i * tile < x0 + width; i++) out.push(i);
  return out;
}

/** Paints world pixels [x0, x0 + width) into `px` (width × height, row-major). */
export type PaintWorld = (px: Uint32Array, x0: number, width: number) => void;

export class TileCache {
  private key = '';
  private tiles = new Map<number, HTMLCanvasElement>();
  /** Canvases of a set no longer shown, and the pixel buffer tiles are painted in: reused, since
   *  a run that streams in starts a new set every frame and a new canvas costs more than a repaint. */
  private spare: HTMLCanvasElement[] = [];
  private image: ImageData | null = null;

  /**
   * Draws world pixels [x0, x0 + ctx.canvas.width) onto ctx. `key` names the set (zoom, data,
   * size, theme); `margin` extra pixels are painted to the left of each tile and dropped, so that
   * marks that start in one tile and spill into the next are whole in both.
   */
  compose(ctx: CanvasRenderingContext2D, key: string, x0: number, height: number, margin: number, paint: PaintWorld): void {
    if (key !== this.key) {
      this.key = key;
      this.spare.push(...this.tiles.values());
      this.tiles.clear();
    }
    const width = ctx.canvas.width;
    const start = Math.round(x0);
    ctx.clearRect(0, 0, width, ctx.canvas.height);
    const wanted = tilesFor(start, width);
    for (const i of wanted) {
      let tile = this.tiles.get(i);
      if (!tile) {
        tile = this.spare.pop() ?? document.createElement('canvas');
        if (tile.width !== TILE || tile.height !== height) Object.assign(tile, { width: TILE, height });
        const tctx = tile.getContext('2d');
        if (!tctx) continue;
        if (this.image?.width !== TILE + margin || this.image.height !== height) this.image = tctx.createImageData(TILE + margin, height);
        paint(new Uint32Array(this.image.data.buffer), i * TILE - margin, TILE + margin);
        tctx.putImageData(this.image, -margin, 0, margin, 0, TILE, height);
        this.tiles.set(i, tile);
      }
      ctx.drawImage(tile, i * TILE - start, 0);
    }
    this.spare.length = Math.min(this.spare.length, KEEP);
    if (this.tiles.size > KEEP) {
      const mid = wanted[Math.floor(wanted.length / 2)] ?? 0;
      const far = [...this.tiles.keys()].sort((a, b) => Math.abs(b - mid) - Math.abs(a - mid));
      for (const i of far.slice(0, this.tiles.size - KEEP)) {
        this.spare.push(this.tiles.get(i)!);
        this.tiles.delete(i);
      }
    }
  }
}
