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

  /**
   * Draws world pixels [x0, x0 + ctx.canvas.width) onto ctx. `key` names the set (zoom, data,
   * size, theme); `margin` extra pixels are painted to the left of each tile and dropped, so that
   * marks that start in one tile and spill into the next are whole in both.
   */
  compose(ctx: CanvasRenderingContext2D, key: string, x0: number, height: number, margin: number, paint: PaintWorld): void {
    if (key !== this.key) {
      this.key = key;
      this.tiles.clear();
    }
    const width = ctx.canvas.width;
    const start = Math.round(x0);
    ctx.clearRect(0, 0, width, ctx.canvas.height);
    const wanted = tilesFor(start, width);
    for (const i of wanted) {
      let tile = this.tiles.get(i);
      if (!tile) {
        tile = document.createElement('canvas');
        tile.width = TILE;
        tile.height = height;
        const tctx = tile.getContext('2d');
        if (!tctx) continue;
        const img = tctx.createImageData(TILE + margin, height);
        paint(new Uint32Array(img.data.buffer), i * TILE - margin, TILE + margin);
        tctx.putImageData(img, -margin, 0, margin, 0, TILE, height);
        this.tiles.set(i, tile);
      }
      ctx.drawImage(tile, i * TILE - start, 0);
    }
    if (this.tiles.size > KEEP) {
      const mid = wanted[Math.floor(wanted.length / 2)] ?? 0;
      const far = [...this.tiles.keys()].sort((a, b) => Math.abs(b - mid) - Math.abs(a - mid));
      for (const i of far.slice(0, this.tiles.size - KEEP)) this.tiles.delete(i);
    }
  }
}
