import { describe, expect, it } from 'vitest';
import {
  MAX_SEEDS,
  parseIntInRange,
  parseNumberInRange,
  parseOptions,
  parsePositiveInt,
  parseSeeds,
  UsageError,
} from './args.js';

const SPEC = { seeds: 'string', temperature: 'string', json: 'boolean', help: 'boolean' } as const;

describe('parseOptions', () => {
  it('takes negative numbers and other dash-led text as values', () => {
    const { values } = parseOptions(['--seeds', '-1', '--temperature', '-0.5'], SPEC);
    expect(values).toEqual({ seeds: '-1', temperature: '-0.5' });
    expect(parseOptions(['--seeds', '-5--3'], SPEC).values.seeds).toBe('-5--3');
    expect(parseOptions(['--seeds=-1', '--json', '-h'], SPEC).values).toEqual({ seeds: '-1', json: true, help: true });
    expect(parseOptions(['--seeds', '-'], SPEC).values.seeds).toBe('-');
  });

  it('names an unknown option before asking for its value, and lists the options', () => {
    expect(() => parseOptions(['--frobnicate'], SPEC)).toThrow(
      'unknown option --frobnicate; options: --seeds, --temperature, --json, --help',
    );
    expect(() => parseOptions(['--frobnicate', '3'], SPEC)).toThrow(UsageError);
    expect(() => parseOptions(['--seeds'], SPEC)).toThrow('--seeds needs a value');
    expect(() => parseOptions(['--seeds', '--json'], SPEC)).toThrow('--seeds needs a value');
    expect(() => parseOptions(['--json=yes'], SPEC)).toThrow('--json takes no value');
    expect(() => parseOptions(['stray'], SPEC)).toThrow("unexpected argument 'stray'");
    expect(() => parseOptions(['--'], SPEC)).toThrow("unexpected argument '--'");
  });

  it('passes config fields through as overrides when told which names are fields', () => {
    const r = parseOptions(['--n-steps', '-3', '--eval.seeds=1,2', '--json'], SPEC, {
      acceptsOverride: (n) => n === 'n-steps' || n.startsWith('eval.'),
      overrideHint: 'a config field',
    });
    expect(r.overrides).toEqual([
      ['--n-steps', '-3'],
      ['--eval.seeds', '1,2'],
    ]);
    expect(r.values).toEqual({ json: true });
    expect(() =>
      parseOptions(['--n-stepz', '3'], SPEC, {
        acceptsOverride: (n) => n === 'n-steps',
        overrideHint: 'a config field',
      }),
    ).toThrow('unknown option --n-stepz; options: --seeds, --temperature, --json, --help, or a config field');
  });

  it('keeps positionals when allowed; the last of a repeated option wins', () => {
    expect(parseOptions(['a.json', '--seeds', '1', 'b.json', '--seeds', '2'], SPEC, { positionals: true })).toEqual({
      values: { seeds: '2' },
      positionals: ['a.json', 'b.json'],
      overrides: [],
    });
  });
});

describe('number options', () => {
  it('integers in a range: negative, zero, -0, huge, empty and malformed text', () => {
    expect(parseIntInRange('-3', '--seed', -10, 10)).toBe(-3);
    expect(Object.is(parseIntInRange('-0', '--seed', -10, 10), 0)).toBe(true);
    expect(parseIntInRange(' 7 ', '--seed', -10, 10)).toBe(7);
    expect(() => parseIntInRange('11', '--seed', -10, 10)).toThrow(
      '--seed: 11 is out of range; allowed: an integer in -10…10',
    );
    expect(() => parsePositiveInt('0', '--num-envs', 4096)).toThrow(
      '--num-envs: 0 is out of range; allowed: an integer in 1…4096',
    );
    expect(() => parsePositiveInt('-3', '--num-envs', 4096)).toThrow('--num-envs: -3 is out of range');
    expect(() => parsePositiveInt('100000000', '--num-envs', 4096)).toThrow(
      '--num-envs: 100000000 is out of range; allowed: an integer in 1…4096',
    );
    expect(() => parsePositiveInt('99999999999999999999', '--steps')).toThrow(
      '--steps: 99999999999999999999 is out of range',
    );
    for (const bad of ['', ' ', '1.5', '1e3', 'NaN', 'Infinity', '0x10', '3abc'])
      expect(() => parsePositiveInt(bad, '--steps', 10), bad).toThrow(`--steps: '${bad}' is not an integer`);
  });

  it('numbers in a range refuse NaN, Infinity and text', () => {
    expect(parseNumberInRange('1e-3', '--temperature', 0, 2)).toBe(0.001);
    expect(Object.is(parseNumberInRange('-0', '--temperature', 0, 2), 0)).toBe(true);
    for (const bad of ['-1', '2.5', 'NaN', 'Infinity', '-Infinity', '', 'hot', '1,5'])
      expect(() => parseNumberInRange(bad, '--temperature', 0, 2), bad).toThrow(
        `--temperature: '${bad}' is not allowed; allowed: a number in [0, 2]`,
      );
  });

  it('seeds: negative values and ranges, and an upper bound on how many', () => {
    expect(parseSeeds('-1')).toEqual([-1]);
    expect(parseSeeds('-3--1,0,5-6')).toEqual([-3, -2, -1, 0, 5, 6]);
    expect(() => parseSeeds(`0-${MAX_SEEDS}`)).toThrow(
      `--seeds: range '0-${MAX_SEEDS}' holds ${MAX_SEEDS + 1} seeds; allowed: at most ${MAX_SEEDS} seeds`,
    );
    expect(() => parseSeeds('99999999999999999999')).toThrow('seeds must be integers');
    expect(() => parseSeeds('')).toThrow("'' is not a seed");
  });
});
