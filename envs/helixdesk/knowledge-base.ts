/**
 * The knowledge base behind auto-replies (reference `simulator/knowledge_base.py`): seeded with
 * three articles per built-in category, looked up by category (an exact match returns the most-used
 * article with similarity 1.0; otherwise keyword overlap with the category name gives 0.5), and
 * auto-learning one article per successful auto-reply. Rebuilt every episode. With every built-in
 * category seeded, lookups always succeed — as in the reference; a category added by config has no
 * seed articles and auto-replies only when its name shares a word with some article's keywords.
 * Article texts are the project's own.
 */

export interface KbEntry {
  readonly id: string;
  readonly category: string;
  readonly keywords: readonly string[];
  readonly answer: string;
  readonly source: 'seed' | 'auto_learned';
  useCount: number;
}

export interface KbLookup {
  entry: KbEntry | null;
  /** 1.0 exact category, 0.5 keyword overlap, 0 none. */
  similarity: number;
}

const SEED_ARTICLES: readonly (readonly [string, readonly string[], string])[] = [
  [
    'login_failure',
    ['password reset', 'sign in', 'credentials'],
    'Use "Forgot password" on the sign-in page; the reset link is valid for one hour. Clearing cookies fixes ' +
      'most loops.',
  ],
  [
    'login_failure',
    ['two-factor', 'verification code', '2FA'],
    'Codes can take a minute to arrive and expire after ten. Backup codes are under Security settings.',
  ],
  [
    'login_failure',
    ['sso', 'single sign-on', 'identity provider'],
    'For SSO accounts, sign in from your company portal; your administrator manages access.',
  ],
  [
    'billing_dispute',
    ['double charge', 'charged twice', 'duplicate payment'],
    'Duplicate charges are refunded automatically within 5–7 business days once the second one is confirmed.',
  ],
  [
    'billing_dispute',
    ['unknown charge', 'invoice', 'line item'],
    'Each invoice line links to the subscription or add-on it belongs to under Billing > Invoices.',
  ],
  [
    'billing_dispute',
    ['fee', 'surcharge', 'tax'],
    'Card surcharges and local taxes are itemised on the invoice; bank transfers carry no surcharge.',
  ],
  [
    'refund_request',
    ['refund status', 'money back', 'return'],
    'Refunds are issued to the original payment method 5–10 business days after approval.',
  ],
  [
    'refund_request',
    ['cancelled', 'cancel subscription', 'still charged'],
    'A charge after cancellation is refunded in full once the cancellation date is confirmed.',
  ],
  [
    'refund_request',
    ['trial', 'wrong plan', 'downgrade'],
    'Plan changes within 14 days are refunded pro rata; trials are never charged if cancelled in time.',
  ],
  [
    'product_defect',
    ['bug', 'crash', 'error message'],
    'Most crashes are fixed by updating to the latest version; please include the error text if it persists.',
  ],
  [
    'product_defect',
    ['after update', 'regression', 'feature broken'],
    'Known regressions and their fixes are listed on the status page; a rollback is available in Settings.',
  ],
  [
    'product_defect',
    ['data loss', 'sync', 'corrupted file'],
    'Version history keeps 30 days of changes; restore from File > Version history.',
  ],
  [
    'shipping_delay',
    ['late delivery', 'not arrived', 'delayed order'],
    'Orders more than three days late are re-shipped or refunded at your choice.',
  ],
  [
    'shipping_delay',
    ['tracking', 'no update', 'in transit'],
    'Carrier tracking can lag by up to 48 hours after dispatch.',
  ],
  [
    'shipping_delay',
    ['express', 'priority shipping', 'delivery fee'],
    'Express shipping fees are refunded whenever the express promise is missed.',
  ],
  [
    'account_locked',
    ['locked out', 'too many attempts', 'unlock'],
    'Accounts unlock automatically after 30 minutes, or at once from the link in the lock email.',
  ],
  [
    'account_locked',
    ['suspended', 'security review', 'restricted'],
    'Security reviews finish within one business day once identity is verified.',
  ],
  [
    'account_locked',
    ['deactivated', 'team member', 'reactivate'],
    'Workspace admins can reactivate members under Admin > Members.',
  ],
  [
    'data_privacy',
    ['download my data', 'export data', 'data copy'],
    'A full data export is prepared within 24 hours from Settings > Privacy.',
  ],
  [
    'data_privacy',
    ['delete account', 'erasure', 'remove data'],
    'Account deletion removes personal data within 30 days, except records we must keep by law.',
  ],
  [
    'data_privacy',
    ['third party', 'sharing', 'opt out'],
    'Data-sharing preferences can be changed at any time under Settings > Privacy.',
  ],
  [
    'general_query',
    ['opening hours', 'phone support', 'contact'],
    'Phone support runs weekdays 09:00–18:00; chat and email are answered around the clock.',
  ],
  [
    'general_query',
    ['discount', 'pricing', 'plans'],
    'Current plans and discounts are listed on the pricing page; nonprofits and schools get 40% off.',
  ],
  [
    'general_query',
    ['documentation', 'api', 'integration'],
    'Guides and the API reference live in the developer documentation.',
  ],
];

export class KnowledgeBase {
  private entries: KbEntry[] = [];
  private autoCounter = 0;

  constructor() {
    this.reset();
  }

  /** Back to the seed articles (each episode starts from them). */
  reset(): void {
    this.entries = SEED_ARTICLES.map(([category, keywords, answer], i) => ({
      id: `seed_${String(i).padStart(2, '0')}`,
      category,
      keywords,
      answer,
      source: 'seed' as const,
      useCount: 0,
    }));
    this.autoCounter = 0;
  }

  get size(): number {
    return this.entries.length;
  }

  lookup(category: string): KbLookup {
    let best: KbEntry | null = null;
    for (const e of this.entries) {
      if (e.category === category && (best === null || e.useCount > best.useCount)) best = e;
    }
    if (best) {
      best.useCount++;
      return { entry: best, similarity: 1.0 };
    }
    const words = new Set(category.replaceAll('_', ' ').toLowerCase().split(/\s+/));
    let bestOverlap = 0;
    for (const e of this.entries) {
      const kw = new Set(e.keywords.flatMap((k) => k.toLowerCase().split(/\s+/)));
      let overlap = 0;
      for (const w of words) if (kw.has(w)) overlap++;
      if (overlap > bestOverlap) {
        bestOverlap = overlap;
        best = e;
      }
    }
    if (best) {
      best.useCount++;
      return { entry: best, similarity: 0.5 };
    }
    return { entry: null, similarity: 0 };
  }

  /** Learn an article from a resolved query. */
  learn(category: string): void {
    this.autoCounter++;
    this.entries.push({
      id: `auto_${this.autoCounter}`,
      category,
      keywords: [category.replaceAll('_', ' ')],
      answer: `Auto-resolved: ${category}`,
      source: 'auto_learned',
      useCount: 0,
    });
  }

  save(): { entries: KbEntry[]; autoCounter: number } {
    return { entries: this.entries.map((e) => ({ ...e })), autoCounter: this.autoCounter };
  }

  restore(data: { entries: readonly KbEntry[]; autoCounter: number }): void {
    this.entries = data.entries.map((e) => ({ ...e }));
    this.autoCounter = data.autoCounter;
  }
}
