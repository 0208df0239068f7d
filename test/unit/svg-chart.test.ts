import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barChartSvg, lineChartSvg, niceTicks } from '../../bench/svg-chart.js';

test('niceTicks: round steps from the minimum to the first tick at or above the maximum', () => {
  assert.deepEqual(niceTicks(0, 97), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(0, 18807), [0, 5000, 10000, 15000, 20000]);
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 2.5), [0, 0.5, 1, 1.5, 2, 2.5]);
  assert.deepEqual(niceTicks(3, 3), [3]);
});

test('a line chart draws every point inside the plot, its axis covers the largest value, and labels are escaped', () => {
  const svg = lineChartSvg({
    title: 'a <b> & "c"',
    xLabel: 'x',
    yLabel: 'y',
    xLog: true,
    series: [
      { name: 'ours <script>', points: [[1, 10], [4, 18807], [128, 500]] },
      { name: 'reference', points: [[1, 5], [4, 6], [128, 7]] },
    ],
  });
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.doesNotMatch(svg, /<script>|<b>/);
  assert.match(svg, /a &lt;b&gt; &amp; &quot;c&quot;/);
  const circles = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.equal(circles.length, 6);
  for (const [cx, cy] of circles) assert.ok(cx! >= 0 && cx! <= 800 && cy! >= 0 && cy! <= 420, `${cx},${cy}`);
  // The largest value sits on or below the top tick (20k), not off the chart.
  assert.match(svg, />20k</);
  const top = Math.min(...circles.map((c) => c[1]!));
  assert.ok(top >= 46, `the highest point (y=${top}) is inside the plot`);
  // Log x: 1, 4 and 128 are spaced by their logarithms.
  const xs = circles.slice(0, 3).map((c) => c[0]!);
  assert.ok(Math.abs((xs[1]! - xs[0]!) / (xs[2]! - xs[0]!) - Math.log10(4) / Math.log10(128)) < 0.01);
});

test('a bar chart gives every value a bar whose height is proportional to it', () => {
  const svg = barChartSvg({ title: 't', yLabel: 'layer', categories: ['1 Mbit/s', '10 Mbit/s'], series: [{ name: 'a', values: [1, 2] }, { name: 'b', values: [0.5, 0] }] });
  const heights = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill/g)].map((m) => Number(m[1]));
  assert.equal(heights.length, 4);
  assert.ok(Math.abs(heights[1]! / heights[0]! - 2) < 0.01);
  assert.ok(Math.abs(heights[2]! / heights[0]! - 0.5) < 0.01);
  assert.equal(heights[3], 0);
});
