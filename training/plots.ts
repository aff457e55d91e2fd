/**
 * Training-curve charts as SVG and PNG, headless.
 *
 * Why Vega-Lite + resvg:
 * - Vega-Lite is a declarative, well-maintained grammar: a chart is a JSON spec (layers of lines,
 *   points, rules, text), compiled to a Vega spec and laid out by Vega with no browser. Vega's
 *   `renderer: 'none'` view serialises the scene to SVG without touching a canvas, so the native
 *   `canvas` package (which needs a C++ build and system Cairo) is never required.
 * - resvg (`@resvg/resvg-js`) rasterises the SVG to PNG. Its Rust binary ships prebuilt as an npm
 *   optional dependency per platform, so `npm ci` installs it with no compiler or system library.
 * - Both are deterministic: the same spec gives the same SVG text and the same PNG bytes. To keep
 *   it so across machines, Vega is told never to measure text with a canvas (it would if the
 *   `canvas` package happened to be installed) and always uses its own width estimate.
 *
 * The font is bundled: DejaVu Sans comes from the `dejavu-fonts-ttf` npm package and is the only
 * font resvg loads (system fonts are off), and the chart config names it too, so the SVG and the
 * PNG agree and PNG text renders even on a machine with no fonts installed.
 */
import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from './run-io.js';

export interface PlotSeries {
  name: string;
  points: ReadonlyArray<{ x: number; y: number }>;
}

export interface ReferenceLine {
  name: string;
  y: number;
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly PlotSeries[];
  referenceLines?: readonly ReferenceLine[];
  /** Width of the whole image in SVG pixels (the PNG is twice as wide). Default 720. */
  width?: number;
  /** Height of the whole image in SVG pixels (the PNG is twice as high). Default 420. */
  height?: number;
}

const FONT_FAMILY = 'DejaVu Sans';
const DEFAULT_WIDTH = 720;
const DEFAULT_HEIGHT = 420;
const PNG_ZOOM = 2;

/** Vega's "tableau10" scheme, written out so series colours never depend on a scheme lookup. */
const SERIES_COLOURS = [
  '#4c78a8',
  '#f58518',
  '#54a24b',
  '#e45756',
  '#72b7b2',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
];
/** Darker colours for reference lines, distinct from the series palette. */
const REFERENCE_COLOURS = ['#333333', '#7570b3', '#a6761d', '#1b9e77', '#e7298a', '#666666'];

const require = createRequire(import.meta.url);
const FONT_FILES = [
  require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  // Titles are bold in Vega's defaults; without the bold face resvg would fall back to regular.
  require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
];

// Same text layout on every machine: never measure with node-canvas, even if it is installed.
(vega as unknown as { textMetrics?: { canvas(use: boolean): void } }).textMetrics?.canvas(false);

/** One layer of a layered Vega-Lite chart. */
type ChartLayer = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];

/** A quantitative x or y encoding (field, title, scale). */
interface AxisEncoding {
  readonly field: string;
  readonly type: 'quantitative';
  readonly title: string;
  readonly scale: Record<string, unknown>;
}

function positiveSize(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${what} must be a positive number, got ${value}`);
  return Math.round(value);
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

/**
 * An explicit domain when Vega cannot derive a useful one: [0, 1] with no values (so an empty chart
 * still has axes), a small interval around the value when all values are equal (Vega would otherwise
 * show a zero-width domain with a meaningless tick). Otherwise Vega's own nice domain.
 */
function fallbackDomain(values: readonly number[]): [number, number] | undefined {
  if (values.length === 0) return [0, 1];
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min !== max) return undefined;
  const half = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
  return [min - half, min + half];
}

/** Like the axis labels: 4 significant digits, typographic minus sign. */
function formatValue(y: number): string {
  return String(Number(y.toPrecision(4))).replace('-', '\u2212');
}

/** The curves: one coloured line with points per series, their legend below the plot. */
function seriesLayer(
  rows: readonly { series: string; x: number; y: number }[],
  names: readonly string[],
  x: AxisEncoding,
  y: AxisEncoding,
  width: number,
): ChartLayer {
  const seriesNames = [...names];
  return {
    data: { values: [...rows] },
    mark: { type: 'line', point: { size: 28, filled: true }, strokeWidth: 2 },
    encoding: {
      x,
      y,
      color: {
        field: 'series',
        type: 'nominal',
        title: 'Series',
        scale: {
          domain: seriesNames,
          range: seriesNames.map((_, i) => SERIES_COLOURS[i % SERIES_COLOURS.length] as string),
        },
        // No legend at all (not even its title) when there is no series.
        // Legends below the plot: long series names then never squeeze the plot area.
        legend:
          seriesNames.length > 0
            ? {
                orient: 'bottom',
                direction: 'vertical',
                symbolType: 'stroke',
                symbolSize: 400,
                symbolStrokeWidth: 2.5,
                labelLimit: width - 60,
              }
            : null,
      },
    },
  };
}

/** The dashed reference lines (baselines), each labelled at its right end, with their own legend. */
function referenceLayer(
  refs: readonly { reference: string; y: number; label: string }[],
  refNames: readonly string[],
  y: AxisEncoding,
  width: number,
): ChartLayer {
  const refColour = {
    field: 'reference',
    type: 'nominal',
    title: 'Reference',
    scale: {
      domain: refNames,
      range: refNames.map((_, i) => REFERENCE_COLOURS[i % REFERENCE_COLOURS.length] as string),
    },
  } as const;
  return {
    data: { values: [...refs] },
    layer: [
      {
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: {
          y,
          color: {
            ...refColour,
            legend: {
              orient: 'bottom',
              direction: 'vertical',
              symbolType: 'stroke',
              symbolSize: 400,
              symbolDash: [5, 3],
              symbolStrokeWidth: 2,
              labelLimit: width - 60,
            },
          },
        },
      },
      // The label at the right end of the line, on a white halo so it stays readable over curves.
      ...(['halo', 'label'] as const).map(
        (part): ChartLayer => ({
          mark: {
            type: 'text',
            align: 'right',
            baseline: 'bottom',
            dx: -4,
            dy: -3,
            fontSize: 11,
            ...(part === 'halo' ? { fill: 'white', stroke: 'white', strokeWidth: 3, strokeJoin: 'round' } : {}),
          },
          encoding: {
            x: { value: 'width' },
            y: { field: 'y', type: 'quantitative' },
            text: { field: 'label', type: 'nominal' },
            ...(part === 'label' ? { color: refColour } : {}),
          },
        }),
      ),
    ],
  };
}

/** The Vega-Lite spec for a chart. Non-finite points and reference lines are left out. */
export function lineChartVegaLite(spec: LineChartSpec): TopLevelSpec {
  const width = positiveSize(spec.width, DEFAULT_WIDTH, 'width');
  const height = positiveSize(spec.height, DEFAULT_HEIGHT, 'height');

  const seriesNames = unique(spec.series.map((s) => s.name));
  const rows = spec.series.flatMap((s) =>
    s.points
      .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
      .map((p) => ({ series: s.name, x: p.x, y: p.y })),
  );
  const refs = (spec.referenceLines ?? [])
    .filter((r) => Number.isFinite(r.y))
    .map((r) => ({ reference: r.name, y: r.y, label: `${r.name} (${formatValue(r.y)})` }));
  const refNames = unique(refs.map((r) => r.reference));

  const xDomain = fallbackDomain(rows.map((r) => r.x));
  const yDomain = fallbackDomain([...rows.map((r) => r.y), ...refs.map((r) => r.y)]);
  const x = {
    field: 'x',
    type: 'quantitative',
    title: spec.xLabel,
    scale: { zero: false, ...(xDomain ? { domain: xDomain } : {}) },
  } as const;
  const y = {
    field: 'y',
    type: 'quantitative',
    title: spec.yLabel,
    // Padding keeps points and reference lines off the top and bottom of the frame.
    scale: { zero: false, padding: 12, ...(yDomain ? { domain: yDomain } : {}) },
  } as const;

  const chart: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    // A long title is cut with an ellipsis rather than widening the chart.
    title: { text: spec.title, fontSize: 15, anchor: 'start', offset: 10, limit: width - 20 },
    width,
    height,
    autosize: { type: 'fit', contains: 'padding' },
    padding: 12,
    background: 'white',
    config: {
      font: FONT_FAMILY,
      axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#e6e6e6' },
      legend: { labelFontSize: 11, titleFontSize: 12 },
      view: { stroke: '#cccccc' },
    },
    layer: [
      seriesLayer(rows, seriesNames, x, y, width),
      ...(refs.length > 0 ? [referenceLayer(refs, refNames, y, width)] : []),
    ],
    // Two colour legends: "Series" and "Reference".
    resolve: { scale: { color: 'independent' } },
  };
  return chart;
}

/** The chart as SVG text and as a PNG at twice the SVG's pixel size. */
export async function renderLineChart(spec: LineChartSpec): Promise<{ svg: string; png: Buffer }> {
  const vegaSpec = compile(lineChartVegaLite(spec)).spec;
  // Stack the legends below the plot (series, then references) so long names keep their full width.
  const layout = {
    legend: { layout: { bottom: { anchor: 'start', direction: 'vertical', margin: 6 } } },
  } as unknown as vega.Config;
  const view = new vega.View(vega.parse(vegaSpec, layout), { renderer: 'none', logLevel: vega.Warn });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const resvg = new Resvg(svg, {
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
    background: 'white',
    fitTo: { mode: 'zoom', value: PNG_ZOOM },
  });
  const png = resvg.render().asPng();
  return { svg, png };
}

/**
 * Renders the chart and writes `<pathWithoutExtension>.svg` and `.png`, each atomically (temporary
 * file in the same directory, then rename), creating the directory if needed.
 */
export async function writeLineChart(
  spec: LineChartSpec,
  pathWithoutExtension: string,
): Promise<{ svgPath: string; pngPath: string }> {
  const { svg, png } = await renderLineChart(spec);
  const svgPath = `${pathWithoutExtension}.svg`;
  const pngPath = `${pathWithoutExtension}.png`;
  writeFileAtomic(svgPath, svg);
  writeFileAtomic(pngPath, png);
  return { svgPath, pngPath };
}

/** Where the bundled font files live (for tests and for anyone rasterising the SVG themselves). */
export function bundledFontFiles(): readonly string[] {
  return FONT_FILES;
}
