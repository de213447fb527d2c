/** Zoom and minimap geometry: a DAG opens fitted to its panel, small ones at their own size. */
import { fitTransform, minimapScale, visibleArea } from '../viewport';

it('fits a large DAG into the panel, centred, and keeps a small one at its own size', () => {
  const big = fitTransform({ width: 4000, height: 2000 }, 800, 600);
  expect(big.k).toBeCloseTo((800 - 32) / 4000);
  expect(big.x + 4000 * big.k / 2).toBeCloseTo(400);
  const area = visibleArea(big, 800, 600);
  expect(area.x).toBeLessThanOrEqual(0);
  expect(area.x + area.width).toBeGreaterThanOrEqual(4000);
  expect(area.y + area.height).toBeGreaterThanOrEqual(2000);
  const small = fitTransform({ width: 300, height: 200 }, 800, 600);
  expect(small.k).toBe(1);
  expect(small.x).toBe(250);
});

it('shows what a zoom shows, in layout coordinates, and scales the minimap to its size', () => {
  expect(visibleArea({ k: 2, x: -100, y: -50 }, 800, 600)).toEqual({ x: 50, y: 25, width: 400, height: 300 });
  expect(minimapScale({ width: 3600, height: 1200 }, 180)).toBe(0.05);
});
