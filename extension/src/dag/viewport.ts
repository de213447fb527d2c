/**
 * The DAG panel's zoom and minimap geometry, as pure functions (no DOM): the transform that
 * fits a layout into the panel, what part of the layout a transform shows, and the scale of
 * the minimap.
 */

/** A zoom: scale `k`, then translate by (`x`, `y`) (d3-zoom's ZoomTransform). */
export interface ViewTransform {
  k: number;
  x: number;
  y: number;
}

/** Past this many nodes the panel shows a minimap. */
export const MINIMAP_MIN_NODES = 30;
/** Space kept around a fitted drawing (px). */
export const FIT_MARGIN = 16;

/**
 * The transform that shows the whole layout centred in a `width` x `height` panel: scaled
 * down to fit, never up (a small DAG keeps its own size and stays readable).
 */
export function fitTransform(layout: { width: number; height: number }, width: number, height: number, margin = FIT_MARGIN): ViewTransform {
  const lw = Math.max(1, layout.width);
  const lh = Math.max(1, layout.height);
  const k = Math.min(1, Math.max(1e-3, (width - 2 * margin) / lw), Math.max(1e-3, (height - 2 * margin) / lh));
  return { k, x: (width - lw * k) / 2, y: Math.max(0, Math.min(margin, (height - lh * k) / 2)) };
}

/** The part of the layout (its own coordinates) a `width` x `height` panel shows under `t`. */
export function visibleArea(t: ViewTransform, width: number, height: number): { x: number; y: number; width: number; height: number } {
  return { x: -t.x / t.k, y: -t.y / t.k, width: width / t.k, height: height / t.k };
}

/** The minimap's scale: the layout's longer side in `size` pixels. */
export function minimapScale(layout: { width: number; height: number }, size: number): number {
  return size / Math.max(1, layout.width, layout.height);
}
