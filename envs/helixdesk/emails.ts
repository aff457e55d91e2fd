/**
 * The inbox (reference `simulator/email_gen.py`): one synthetic email per step, drawn in the
 * reference's order from the episode's email stream —
 *
 *   1 type: random() < query_ratio → query       2 category: uniform
 *   3 tier: < enterprise → enterprise, < +standard → standard, else free
 *   4 keyword flag (complaints only): random() < keyword_flag_rate
 *   5 body template (5 per category per type), last name, date phrase, product, order number,
 *     first name                                   6 keyword sentence (flagged only)
 *   7 sentiment: Beta(2, 5) query / Beta(4, 2) complaint; flagged → max(s, 0.85)
 *   8 sender domain and number, 16-byte id        9 subject line (ours; drawn last)
 *
 * Bit parity with numpy is not a goal (docs/decisions.md); the draws and distributions are the same. Text is
 * assembled only when asked for (subject, body, sender): RL never pays for string building.
 */
import { beta, integers } from '../core/random/distributions.js';
import type { RandomStream } from '../core/random/streams.js';
import type { HelixConfig } from './config.js';
import type { CategoryTemplates } from './templates.js';
import {
  DATE_PHRASES,
  FIRST_NAMES,
  GENERIC_TEMPLATES,
  INTRO_TEMPLATE,
  KEYWORD_SENTENCES,
  LAST_NAMES,
  PRODUCTS,
  SENDER_DOMAINS,
  TEMPLATES,
} from './templates.js';

export const TIERS = ['enterprise', 'standard', 'free'] as const;
export type Tier = (typeof TIERS)[number];
export type TicketType = 'query' | 'complaint';
export const PRIORITIES = ['critical', 'high', 'medium', 'normal'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** The fields of an email that are not text (snapshots store these). */
export interface EmailData {
  readonly type: TicketType;
  /** Index into config.email_gen.categories. */
  readonly category: number;
  readonly tier: Tier;
  readonly keywordFlag: boolean;
  /** Sentiment intensity in [0, 1]. */
  readonly sentiment: number;
  /**
   * Ground truth by the reference's rule (critical if flagged, high if enterprise or s > 0.85, medium for a complaint,
   * else normal); no reward reads it.
   */
  readonly truePriority: Priority;
  readonly createdAt: number;
  readonly bodyIndex: number;
  readonly subjectIndex: number;
  readonly firstName: number;
  readonly lastName: number;
  readonly datePhrase: number;
  readonly product: number;
  readonly orderNumber: number;
  /** −1 when not flagged. */
  readonly keywordSentence: number;
  readonly senderDomain: number;
  readonly senderNumber: number;
  /** 16 random bytes as four unsigned 32-bit words. */
  readonly idWords: readonly [number, number, number, number];
}

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export class Email implements EmailData {
  readonly type!: TicketType;
  readonly category!: number;
  readonly tier!: Tier;
  readonly keywordFlag!: boolean;
  readonly sentiment!: number;
  readonly truePriority!: Priority;
  readonly createdAt!: number;
  readonly bodyIndex!: number;
  readonly subjectIndex!: number;
  readonly firstName!: number;
  readonly lastName!: number;
  readonly datePhrase!: number;
  readonly product!: number;
  readonly orderNumber!: number;
  readonly keywordSentence!: number;
  readonly senderDomain!: number;
  readonly senderNumber!: number;
  readonly idWords!: readonly [number, number, number, number];

  constructor(
    data: EmailData,
    /** The category names of the config (for names and templates). */
    private readonly categories: readonly string[],
  ) {
    Object.assign(this, data);
  }

  get categoryName(): string {
    return this.categories[this.category] as string;
  }

  /** 32 hex digits, as the reference's email_id. */
  get id(): string {
    let hex = '';
    for (const w of this.idWords)
      hex +=
        (HEX_BYTE[w >>> 24] as string) +
        (HEX_BYTE[(w >>> 16) & 0xff] as string) +
        (HEX_BYTE[(w >>> 8) & 0xff] as string) +
        (HEX_BYTE[w & 0xff] as string);
    return hex;
  }

  private templates(): CategoryTemplates {
    return TEMPLATES[this.categoryName] ?? GENERIC_TEMPLATES;
  }

  private fill(text: string): string {
    return text.replaceAll('{category}', this.categoryName.replaceAll('_', ' '));
  }

  get subject(): string {
    return this.fill(this.templates().subjects[this.subjectIndex] as string);
  }

  get body(): string {
    const t = this.templates();
    const intro = INTRO_TEMPLATE.replace('{name}', `${FIRST_NAMES[this.firstName]} ${LAST_NAMES[this.lastName]}`)
      .replace('{order}', `HD-${this.orderNumber}`)
      .replace('{product}', PRODUCTS[this.product] as string)
      .replace('{date}', DATE_PHRASES[this.datePhrase] as string);
    const text = this.fill((this.type === 'query' ? t.query : t.complaint)[this.bodyIndex] as string);
    return this.keywordSentence >= 0
      ? `${intro} ${text} ${KEYWORD_SENTENCES[this.keywordSentence]}`
      : `${intro} ${text}`;
  }

  get sender(): string {
    const name = (FIRST_NAMES[this.firstName] as string).toLowerCase();
    return `${name}${this.senderNumber}@${SENDER_DOMAINS[this.senderDomain]}`;
  }

  toData(): EmailData {
    const { categories: _categories, ...data } = this;
    return data;
  }
}

export class EmailGenerator {
  constructor(private readonly cfg: HelixConfig) {}

  next(rng: RandomStream, now: number): Email {
    const g = this.cfg.email_gen;
    const isQuery = rng.next() < g.query_ratio;
    const category = rng.int(g.categories.length);
    const tierRoll = rng.next();
    const tier: Tier =
      tierRoll < g.enterprise_rate
        ? 'enterprise'
        : tierRoll < g.enterprise_rate + g.standard_rate
          ? 'standard'
          : 'free';
    const keywordFlag = !isQuery && rng.next() < g.keyword_flag_rate;
    const bodyIndex = rng.int(5);
    const lastName = rng.int(LAST_NAMES.length);
    const datePhrase = rng.int(DATE_PHRASES.length);
    const product = rng.int(PRODUCTS.length);
    const orderNumber = integers(rng, 10000, 99999);
    const firstName = rng.int(FIRST_NAMES.length);
    const keywordSentence = keywordFlag ? rng.int(KEYWORD_SENTENCES.length) : -1;
    let sentiment = isQuery ? beta(rng, 2.0, 5.0) : beta(rng, 4.0, 2.0);
    if (keywordFlag) sentiment = Math.max(sentiment, 0.85);
    sentiment = Math.min(1, Math.max(0, sentiment));
    const truePriority: Priority = keywordFlag
      ? 'critical'
      : tier === 'enterprise' || sentiment > 0.85
        ? 'high'
        : isQuery
          ? 'normal'
          : 'medium';
    const senderDomain = rng.int(SENDER_DOMAINS.length);
    const senderNumber = integers(rng, 10, 999);
    const idWords: [number, number, number, number] = [
      rng.int32() >>> 0,
      rng.int32() >>> 0,
      rng.int32() >>> 0,
      rng.int32() >>> 0,
    ];
    const subjectIndex = rng.int(5);
    return new Email(
      {
        type: isQuery ? 'query' : 'complaint',
        category,
        tier,
        keywordFlag,
        sentiment,
        truePriority,
        createdAt: now,
        bodyIndex,
        subjectIndex,
        firstName,
        lastName,
        datePhrase,
        product,
        orderNumber,
        keywordSentence,
        senderDomain,
        senderNumber,
        idWords,
      },
      g.categories,
    );
  }
}
