import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { type LineChartSpec, renderLineChart, writeLineChart } from './plots.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface DecodedPng {
  width: number;
  height: number;
  /** RGBA, row-major, 4 bytes per pixel. */
  rgba: Uint8Array;
}

/** The IHDR's width and height (the first chunk, right after the signature). */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** A minimal decoder for what resvg writes: 8-bit RGBA, non-interlaced, any scanline filter. */
function decodePng(png: Buffer): DecodedPng {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  const { width, height } = pngSize(png);
  expect(png[24]).toBe(8); // bit depth
  expect(png[25]).toBe(6); // colour type RGBA
  expect(png[28]).toBe(0); // no interlace
  const idat: Buffer[] = [];
  for (let off = 8; off < png.length; ) {
    const len = png.readUInt32BE(off);
    const type = png.subarray(off + 4, off + 8).toString('latin1');
    if (type === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  expect(raw.length).toBe(height * (stride + 1));
  const out = new Uint8Array(height * stride);
  for (let row = 0; row < height; row++) {
    const filter = raw[row * (stride + 1)] as number;
    const src = row * (stride + 1) + 1;
    const dst = row * stride;
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i] as number;
      const a = i >= 4 ? (out[dst + i - 4] as number) : 0;
      const b = row > 0 ? (out[dst - stride + i] as number) : 0;
      const c = i >= 4 && row > 0 ? (out[dst - stride + i - 4] as number) : 0;
      let pred: number;
      switch (filter) {
        case 0:
          pred = 0;
          break;
        case 1:
          pred = a;
          break;
        case 2:
          pred = b;
          break;
        case 3:
          pred = (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a),
            pb = Math.abs(p - b),
            pc = Math.abs(p - c);
          pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new Error(`bad PNG filter ${filter}`);
      }
      out[dst + i] = (x + pred) & 0xff;
    }
  }
  return { width, height, rgba: out };
}

function countPixels(img: DecodedPng, match: (r: number, g: number, b: number, a: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4) {
    if (match(img.rgba[i] as number, img.rgba[i + 1] as number, img.rgba[i + 2] as number, img.rgba[i + 3] as number))
      n++;
  }
  return n;
}

/** Ink that is not a light gridline: text, axes, lines, points. */
const ink = (r: number, g: number, b: number): boolean => r < 200 || g < 200 || b < 200;
const near = (hex: string, tol = 24) => {
  const [R, G, B] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  return (r: number, g: number, b: number): boolean =>
    Math.abs(r - R) <= tol && Math.abs(g - G) <= tol && Math.abs(b - B) <= tol;
};

const curve = (f: (i: number) => number, n = 30) => Array.from({ length: n }, (_, i) => ({ x: i * 1000, y: f(i) }));

const SPEC: LineChartSpec = {
  title: 'Mean episode return on district_backlog_easy',
  xLabel: 'Environment steps',
  yLabel: 'Return',
  width: 600,
  height: 360,
  series: [
    { name: 'ppo seed 0', points: curve((i) => -30 + i) },
    { name: 'ppo seed 1', points: curve((i) => -32 + 0.8 * i) },
  ],
  referenceLines: [
    { name: 'urgent_first baseline', y: -12.5 },
    { name: 'random agent', y: -28 },
  ],
};

describe('renderLineChart', () => {
  it('puts the title, every series name and every reference line name in the SVG, in the bundled font', async () => {
    const { svg } = await renderLineChart(SPEC);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain(SPEC.title);
    for (const s of SPEC.series) expect(svg).toContain(s.name);
    for (const r of SPEC.referenceLines ?? []) expect(svg).toContain(r.name);
    expect(svg).toContain(SPEC.xLabel);
    expect(svg).toContain(SPEC.yLabel);
    expect(svg).toContain('DejaVu Sans');
    expect(svg).toContain('stroke-dasharray'); // the dashed reference rules
    // The whole image is width × height (the legend and axes fit inside it).
    expect(svg).toMatch(/^<svg[^>]*\bwidth="600"[^>]*\bheight="360"/);
  });

  it('gives a PNG at twice the requested size, with the lines drawn in their colours', async () => {
    const { png } = await renderLineChart(SPEC);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(pngSize(png)).toEqual({ width: 1200, height: 720 });

    const img = decodePng(png);
    const total = img.width * img.height;
    expect(countPixels(img, (_r, _g, _b, a) => a !== 255)).toBe(0); // white background, opaque
    expect(countPixels(img, ink)).toBeGreaterThan(total * 0.03);
    // Series colours (tableau10 blue and orange) and the first reference line's dark grey.
    expect(countPixels(img, near('#4c78a8'))).toBeGreaterThan(1000);
    expect(countPixels(img, near('#f58518'))).toBeGreaterThan(1000);
    expect(countPixels(img, near('#333333', 12))).toBeGreaterThan(300);
  });

  it('uses the default size 720×420 (PNG 1440×840) when none is given', async () => {
    const { png } = await renderLineChart({ ...SPEC, width: undefined, height: undefined });
    expect(pngSize(png)).toEqual({ width: 1440, height: 840 });
  });

  it('draws more than a chart with no points (and that one is not blank either: title and axes)', async () => {
    const full = decodePng((await renderLineChart(SPEC)).png);
    const empty = decodePng((await renderLineChart({ ...SPEC, series: [], referenceLines: [] })).png);
    const inkEmpty = countPixels(empty, ink);
    expect(inkEmpty).toBeGreaterThan(0);
    expect(countPixels(full, ink)).toBeGreaterThan(inkEmpty * 1.5);
    expect(countPixels(empty, near('#4c78a8'))).toBe(0);
  });

  it('draws text in the PNG (the bundled font is loaded; system fonts are not needed)', async () => {
    // With no usable font resvg silently drops all text, so a long title would add no ink.
    const short = decodePng((await renderLineChart({ ...SPEC, title: 'R' })).png);
    const long = decodePng((await renderLineChart({ ...SPEC, title: 'Return over training, all seeds' })).png);
    expect(countPixels(long, ink) - countPixels(short, ink)).toBeGreaterThan(1500);
  });

  it('is deterministic: the same spec gives the same SVG and the same PNG bytes', async () => {
    const a = await renderLineChart(SPEC);
    const b = await renderLineChart(SPEC);
    expect(b.svg).toBe(a.svg);
    expect(b.png.equals(a.png)).toBe(true);
  });

  it('skips NaN and infinite points: the chart is the one without them', async () => {
    const clean = await renderLineChart(SPEC);
    const dirty = await renderLineChart({
      ...SPEC,
      series: SPEC.series.map((s, k) => ({
        name: s.name,
        points: [
          ...s.points.slice(0, 10),
          { x: 10_500, y: Number.NaN },
          { x: Number.NaN, y: -20 },
          { x: 11_500, y: k === 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY },
          ...s.points.slice(10),
        ],
      })),
      referenceLines: [...(SPEC.referenceLines ?? []), { name: 'broken reference', y: Number.NaN }],
    });
    expect(dirty.svg).not.toMatch(/NaN|Infinity/);
    expect(dirty.svg).not.toContain('broken reference');
    expect(dirty.svg).toBe(clean.svg);
    expect(dirty.png.equals(clean.png)).toBe(true);
  });

  it('renders an empty chart with its title when no point is finite, or there is no series at all', async () => {
    for (const series of [
      [
        {
          name: 'all nan',
          points: [
            { x: 0, y: Number.NaN },
            { x: Number.NaN, y: 1 },
          ],
        },
      ],
      [{ name: 'no points', points: [] }],
      [],
    ]) {
      const { svg, png } = await renderLineChart({ title: 'Nothing yet', xLabel: 'step', yLabel: 'loss', series });
      expect(svg).toContain('Nothing yet');
      expect(svg).not.toMatch(/NaN|Infinity/);
      for (const s of series) expect(svg).toContain(s.name); // still in the legend
      expect(pngSize(png)).toEqual({ width: 1440, height: 840 });
      expect(countPixels(decodePng(png), ink)).toBeGreaterThan(1000); // title, axis labels
    }
  });

  it('handles a single point and a constant series (degenerate domains)', async () => {
    const { svg } = await renderLineChart({
      title: 'One point',
      xLabel: 'step',
      yLabel: 'value',
      series: [
        { name: 'single', points: [{ x: 5, y: 3 }] },
        { name: 'flat', points: [{ x: 5, y: 3 }] },
      ],
    });
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg).toContain('single');
  });

  it('rejects a non-positive size', async () => {
    await expect(renderLineChart({ ...SPEC, width: 0 })).rejects.toThrow(/width/);
  });
});

describe('writeLineChart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'queue-rl-plots-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes <path>.svg and <path>.png with the rendered contents and leaves no temporary file', async () => {
    const base = join(dir, 'nested', 'returns');
    const { svgPath, pngPath } = await writeLineChart(SPEC, base);
    expect(svgPath).toBe(`${base}.svg`);
    expect(pngPath).toBe(`${base}.png`);
    const rendered = await renderLineChart(SPEC);
    expect(readFileSync(svgPath, 'utf8')).toBe(rendered.svg);
    expect(readFileSync(pngPath).equals(rendered.png)).toBe(true);
    expect(readdirSync(join(dir, 'nested')).sort()).toEqual(['returns.png', 'returns.svg']);
  });
});
