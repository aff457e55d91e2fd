import { describe, expect, it } from 'vitest';
import {
  type CategoryTemplates,
  DATE_PHRASES,
  DEFAULT_CATEGORIES,
  FIRST_NAMES,
  GENERIC_TEMPLATES,
  INTRO_TEMPLATE,
  KEYWORD_SENTENCES,
  LAST_NAMES,
  PRODUCTS,
  SENDER_DOMAINS,
  TEMPLATES,
} from './templates.js';

const RISK_WORDS = [
  'legal',
  'lawsuit',
  'lawyer',
  'court',
  'fraud',
  'scam',
  'police',
  'regulator',
  'viral',
  'social media',
] as const;

function riskWordsIn(text: string): string[] {
  const lower = text.toLowerCase();
  return RISK_WORDS.filter((w) => lower.includes(w));
}

function expectFiveUnique(list: readonly string[]): void {
  expect(list).toHaveLength(5);
  for (const s of list) expect(s.trim().length).toBeGreaterThan(0);
  expect(new Set(list).size).toBe(5);
}

describe('HelixDesk templates', () => {
  it('has 5 non-empty unique query, complaint and subject strings per default category', () => {
    expect(Object.keys(TEMPLATES).sort()).toEqual([...DEFAULT_CATEGORIES].sort());
    for (const cat of DEFAULT_CATEGORIES) {
      const t = TEMPLATES[cat] as CategoryTemplates;
      expect(t, cat).toBeDefined();
      expectFiveUnique(t.query);
      expectFiveUnique(t.complaint);
      expectFiveUnique(t.subjects);
    }
  });

  it('keeps keyword-risk words out of query and complaint bodies', () => {
    const all: CategoryTemplates[] = [
      ...DEFAULT_CATEGORIES.map((c) => TEMPLATES[c] as CategoryTemplates),
      GENERIC_TEMPLATES,
    ];
    for (const t of all) {
      for (const text of [...t.query, ...t.complaint]) {
        expect(riskWordsIn(text), text).toEqual([]);
      }
    }
  });

  it('has 8 keyword sentences, each carrying a risk word', () => {
    expect(KEYWORD_SENTENCES).toHaveLength(8);
    expect(new Set(KEYWORD_SENTENCES).size).toBe(8);
    for (const s of KEYWORD_SENTENCES) expect(riskWordsIn(s).length, s).toBeGreaterThan(0);
  });

  it('puts {category} in every generic template string', () => {
    expectFiveUnique(GENERIC_TEMPLATES.query);
    expectFiveUnique(GENERIC_TEMPLATES.complaint);
    expectFiveUnique(GENERIC_TEMPLATES.subjects);
    for (const s of [...GENERIC_TEMPLATES.query, ...GENERIC_TEMPLATES.complaint, ...GENERIC_TEMPLATES.subjects]) {
      expect(s).toContain('{category}');
    }
  });

  it('has all four intro placeholders', () => {
    for (const p of ['{name}', '{order}', '{product}', '{date}']) expect(INTRO_TEMPLATE).toContain(p);
  });

  it('has filler lists of the stated lengths', () => {
    expect(FIRST_NAMES).toHaveLength(24);
    expect(LAST_NAMES).toHaveLength(20);
    expect(DATE_PHRASES).toHaveLength(7);
    expect(PRODUCTS).toHaveLength(3);
    expect(SENDER_DOMAINS).toHaveLength(10);
    for (const list of [FIRST_NAMES, LAST_NAMES, DATE_PHRASES, PRODUCTS, SENDER_DOMAINS]) {
      expect(new Set(list).size).toBe(list.length);
    }
  });
});
