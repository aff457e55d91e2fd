/**
 * HelixDesk email text templates: the project's own original writing, used to build the simulated
 * customer-support inbox that LLM policies read.
 *
 * docs/decisions.md: 5 texts per category per ticket type (5 calm "query" bodies, 5 upset "complaint" bodies)
 * plus 5 subject lines per category.
 *
 * - DEFAULT_CATEGORIES: the 8 built-in ticket categories, in canonical order.
 * - TEMPLATES: query / complaint bodies and subject lines for each default category.
 * - GENERIC_TEMPLATES: fallback for config-added categories; `{category}` is replaced by the
 *   category name with underscores turned into spaces.
 * - KEYWORD_SENTENCES: escalation-risk sentences appended to flagged complaints. These are the ONLY
 *   texts that mention legal action, regulators, fraud reports or social-media exposure; query and
 *   complaint bodies never contain those words.
 * - FIRST_NAMES / LAST_NAMES / DATE_PHRASES / PRODUCTS / SENDER_DOMAINS: fillers for senders and
 *   the intro sentence.
 * - INTRO_TEMPLATE: sentence placed before every body; placeholders {name} {order} {product} {date}.
 *   Each DATE_PHRASES entry reads naturally after "came up".
 */

/** The 8 default categories, in this order. */
export const DEFAULT_CATEGORIES = [
  'login_failure',
  'billing_dispute',
  'refund_request',
  'product_defect',
  'shipping_delay',
  'account_locked',
  'data_privacy',
  'general_query',
] as const;

export interface CategoryTemplates {
  /** 5 calm questions a customer might ask about this category (ticket type "query"). */
  readonly query: readonly [string, string, string, string, string];
  /** 5 angry/urgent complaints about this category (ticket type "complaint"). */
  readonly complaint: readonly [string, string, string, string, string];
  /** 5 short email subject lines for this category, neutral enough for either type. */
  readonly subjects: readonly [string, string, string, string, string];
}

const LOGIN_FAILURE: CategoryTemplates = {
  query: [
    'When I enter my password on the sign-in page it just reloads the form without any message. Could you tell me ' +
      'whether there is a known issue or something I should clear on my side?',
    'I changed phones recently and the one-time code for two-step sign-in now goes to my old number. How can I ' +
      'update where the code is sent so I can log in again?',
    'The password reset email says the link has expired even though I click it within a minute of receiving it. Is ' +
      'there another way to reset my password?',
    'I can sign in from my laptop but the mobile app keeps saying my credentials are incorrect. Do the app and the ' +
      'website use different passwords?',
    'Could you confirm which email address my account is registered under? I have tried both of mine and neither ' +
      'seems to be recognised on the login screen.',
  ],
  complaint: [
    'I have reset my password FOUR times today and your site still says it is wrong. I cannot get into my own ' +
      'account and nobody has answered my last two messages.',
    'Your login page has been throwing a "session error" since this morning and I have a deadline in two hours. Fix ' +
      'this NOW, I am paying for a service I literally cannot use.',
    'The verification code never arrives, I have waited over an hour and requested it a dozen times. This is ' +
      'completely unacceptable for a paid plan.',
    'Every time I sign in the app kicks me straight back to the login screen. I have reinstalled it twice and wasted ' +
      'my whole afternoon on this nonsense.',
    'I am locked out of my dashboard with no explanation and your help articles are useless. I need someone to ' +
      'actually look at my account TODAY.',
  ],
  subjects: [
    'Unable to sign in',
    'Password reset link not working',
    'Login problem on mobile app',
    'Verification code not arriving',
    'Cannot access my account',
  ],
};

const BILLING_DISPUTE: CategoryTemplates = {
  query: [
    'My latest invoice shows a charge that is a little higher than the price listed for my plan. Could you explain ' +
      'what the extra line item is for?',
    'I see two payments of the same amount on my card statement this month. Could you check whether one of them was ' +
      'a duplicate?',
    'I downgraded my plan mid-cycle and expected a prorated bill, but the full amount was taken. Can you walk me ' +
      'through how the proration works?',
    'Is it possible to get an itemised invoice with our company tax number on it? The one I downloaded only shows ' +
      'the total.',
    'I was charged in US dollars although my account is set to rupees. Could you tell me how to change the billing ' +
      'currency for future invoices?',
  ],
  complaint: [
    'You charged my card TWICE this month and my bank account is now overdrawn because of it. I want the duplicate ' +
      'charge reversed immediately.',
    'I cancelled my subscription weeks ago and you STILL billed me again. I have the cancellation confirmation ' +
      'email, so explain yourselves.',
    'My bill jumped by almost forty percent with zero notice. I never agreed to this price increase and I will not ' +
      'pay it.',
    'There is a charge on my statement for an add-on I never ordered. This is the second time this has happened and ' +
      'I am absolutely fed up.',
    'Your billing team promised a correction on my invoice ten days ago and nothing has changed. I am tired of ' +
      'chasing you for my own money.',
  ],
  subjects: [
    'Question about my invoice',
    'Unexpected charge on my card',
    'Duplicate payment this month',
    'Billing amount looks wrong',
    'Charge after cancellation',
  ],
};

const REFUND_REQUEST: CategoryTemplates = {
  query: [
    'I returned the unopened item last week using the prepaid label. How long does it usually take for the refund to ' +
      'show up on my card?',
    'I signed up for the annual plan by mistake and meant to choose monthly. Am I still within the window to get a ' +
      'refund for the difference?',
    'Could you let me know whether refunds go back to the original payment method or can be issued as store credit ' +
      'instead?',
    'My refund status page has said "processing" for six days now. Is there anything else you need from me to ' +
      'complete it?',
    'I only used the service for two days before realising it does not fit our workflow. What is your policy on ' +
      'refunds for a partial first month?',
  ],
  complaint: [
    'You confirmed my refund THREE weeks ago and I have not seen a single rupee. Stop telling me it is processing ' +
      'and send my money back.',
    'I returned the product exactly as instructed and now you say the refund was rejected with no reason. This is ' +
      'outrageous.',
    'Your refund form keeps failing with an error and support just sends me canned replies. I want my money ' +
      'returned, not another template.',
    'I was promised a full refund on the phone and only received half of it. I expect the remaining amount credited ' +
      'by the end of this week.',
    'It has been over a month since I requested a refund for a service you never delivered. This is the worst ' +
      'customer experience I have ever had.',
  ],
  subjects: [
    'Refund status',
    'Requesting a refund',
    'Refund not received yet',
    'Return and refund question',
    'Partial refund issue',
  ],
};

const PRODUCT_DEFECT: CategoryTemplates = {
  query: [
    'The device charges normally but the screen flickers for a few seconds after it wakes up. Is there a firmware ' +
      'update that addresses this?',
    'One of the buttons on the unit I received feels loose and sometimes does not register a press. Would this be ' +
      'covered under the warranty?',
    'The export feature produces a file with the dates shifted by one day. Is this a known bug, and is there a ' +
      'workaround in the meantime?',
    'My unit makes a faint clicking noise when it starts up. Is that normal, or should I arrange for it to be checked?',
    'The battery now lasts about half as long as it did when I first bought it. Could you tell me how to run a ' +
      'diagnostic or request a replacement?',
  ],
  complaint: [
    'The unit you sent stopped working completely after TWO days. I paid full price for something that is now a ' +
      'paperweight.',
    'This is the second replacement that has arrived with a cracked casing. How hard is it to send me a product that ' +
      'actually works?',
    'Your latest update broke the sync feature and I have lost a week of data entries. I am furious and I need this ' +
      'fixed right away.',
    'The charger overheats so badly that it is too hot to touch. I am genuinely worried about a fire and nobody is ' +
      'taking this seriously.',
    'Half the features advertised on your website simply do not work on the device I received. I feel completely ' +
      'misled and want a working unit NOW.',
  ],
  subjects: [
    'Device not working properly',
    'Fault with my unit',
    'Issue after the latest update',
    'Warranty question about a defect',
    'Replacement request',
  ],
};

const SHIPPING_DELAY: CategoryTemplates = {
  query: [
    'The tracking page for my order has not updated in four days and still shows it at the sorting hub. Could you ' +
      'check where the parcel is?',
    'My order was supposed to arrive by Friday, but the estimate now says next week. Is there any way to speed up ' +
      'the delivery?',
    'I will be travelling next week. Is it possible to change the delivery address for an order that has already ' +
      'been dispatched?',
    'The courier marked my package as "attempted delivery" but nobody rang the bell. How do I arrange a new ' +
      'delivery slot?',
    'Could you tell me which carrier is handling my shipment? The confirmation email does not include a tracking ' +
      'number.',
  ],
  complaint: [
    'My order is now TWO weeks late and your tracking link has shown the same status the entire time. Where is my ' +
      'package?',
    'I paid extra for express shipping and it is slower than standard would have been. I want the shipping fee ' +
      'refunded immediately.',
    'The package was marked delivered yesterday but it is nowhere to be found. I have checked with every neighbour ' +
      'and I am done waiting on you.',
    'This was a birthday gift and it missed the date entirely because of your delays. Nobody even bothered to tell ' +
      'me it was held up.',
    'Every time I contact you I get a new delivery date, and every date passes with nothing. This is ridiculous, ' +
      'give me a REAL answer.',
  ],
  subjects: [
    'Where is my order?',
    'Delivery is late',
    'Tracking not updating',
    'Change of delivery address',
    'Package marked delivered but not received',
  ],
};

const ACCOUNT_LOCKED: CategoryTemplates = {
  query: [
    'I received an email saying my account was locked after several failed sign-in attempts. What steps do I need to ' +
      'take to unlock it?',
    'My account shows as suspended pending verification. Could you tell me which documents you need and where to ' +
      'upload them?',
    'How long does an automatic lockout usually last? I would like to know whether I should wait it out or contact ' +
      'you to reset it.',
    'A colleague on our team plan has been locked out and the admin panel does not show an unlock option. Could you ' +
      'help us restore her access?',
    'I think my account may have been locked because I signed in from abroad. Is there a way to mark that location ' +
      'as trusted?',
  ],
  complaint: [
    'You locked my account with NO warning and my whole team has been stuck for a full day. Unlock it right now.',
    'I submitted the verification documents three times and my account is still frozen. How many times do I have to ' +
      'prove who I am?',
    'My account was suspended for "unusual activity" that was just me doing my normal work. This is absurd and it is ' +
      'costing me clients.',
    'All my saved projects are trapped behind a locked account and your unlock link leads to an error page. I am ' +
      'beyond frustrated.',
    'Nobody has replied to my unlock request in three days. I pay for this service every month and I cannot even log ' +
      'in to cancel it.',
  ],
  subjects: [
    'Account locked',
    'Please unlock my account',
    'Account suspended',
    'Verification for account access',
    'Locked out after failed attempts',
  ],
};

const DATA_PRIVACY: CategoryTemplates = {
  query: [
    'Could you send me a copy of the personal data you hold about me? I would like to review what is stored on my ' +
      'account.',
    'I would like my account and all associated data deleted. Could you confirm the process and how long it takes?',
    'Does your service share my contact details with any third-party marketing partners? I could not find a clear ' +
      'answer in the privacy policy.',
    'How do I turn off the usage analytics that the app collects? I do not see an option for it in the settings.',
    'Where are your servers located, and is customer data stored within the country? Our procurement team has asked ' +
      'me to confirm this.',
  ],
  complaint: [
    'I asked you to delete my data a month ago and I am STILL getting emails from you. Clearly nothing was deleted ' +
      'at all.',
    'I started receiving spam calls the week after signing up with you. Somebody is passing my phone number around ' +
      'and I want answers.',
    'Your app asked for access to my contacts and location for no obvious reason. I never agreed to that and I find ' +
      'it deeply invasive.',
    "I found another customer's invoice, with their full address, attached to MY account. This is a shocking breach " +
      'of basic privacy.',
    'You changed your privacy settings without telling anyone and switched my data sharing back on. I want it ' +
      'switched off and an explanation.',
  ],
  subjects: [
    'Request for my personal data',
    'Account and data deletion',
    'Question about data sharing',
    'Privacy settings concern',
    'How my information is used',
  ],
};

const GENERAL_QUERY: CategoryTemplates = {
  query: [
    'Could you tell me what the main differences are between your plans? I am trying to decide whether to upgrade ' +
      'before the end of the quarter.',
    'Is there a way to export all of our reports in one go, rather than downloading them one at a time?',
    'What are your support hours, and is phone support available on weekends?',
    'Do you offer a discount for non-profit organisations or for paying annually?',
    'Can I add a second user to my plan, or does each person need a separate subscription?',
  ],
  complaint: [
    'I have asked the same simple question three times and received three different answers. Can someone who ' +
      'actually knows the product reply?',
    'Your website says one thing, your sales rep said another, and the app does something else entirely. I am sick ' +
      'of the confusion.',
    'I have been waiting a WEEK for a reply to a basic question. Is anyone actually reading these emails?',
    'The help centre links all lead to pages that no longer exist. It is impossible to find any useful information ' +
      'on your site.',
    'Your chat assistant keeps looping me back to the same menu and never connects me to a person. This is ' +
      'incredibly frustrating.',
  ],
  subjects: [
    'Quick question',
    'Question about my plan',
    'Need some information',
    'Help with a feature',
    'Enquiry about your service',
  ],
};

/** Query / complaint bodies and subject lines, one entry per DEFAULT_CATEGORIES item. */
export const TEMPLATES: Readonly<Record<string, CategoryTemplates>> = {
  login_failure: LOGIN_FAILURE,
  billing_dispute: BILLING_DISPUTE,
  refund_request: REFUND_REQUEST,
  product_defect: PRODUCT_DEFECT,
  shipping_delay: SHIPPING_DELAY,
  account_locked: ACCOUNT_LOCKED,
  data_privacy: DATA_PRIVACY,
  general_query: GENERAL_QUERY,
};

/**
 * Used when a config adds a category that has no templates here; `{category}` is replaced by the
 * category's name with underscores turned into spaces.
 */
export const GENERIC_TEMPLATES: CategoryTemplates = {
  query: [
    'I have a question about a {category} matter on my account. Could someone explain what my options are?',
    'Could you point me to the right team for a {category} issue? I would like to understand the usual process.',
    'I noticed something related to {category} that I do not quite understand. Is there a guide I can follow?',
    'What information do you need from me to look into a {category} request? I want to make sure I send everything ' +
      'at once.',
    'Is there an expected timeline for resolving {category} cases? I would like to plan around it.',
  ],
  complaint: [
    'This {category} problem has dragged on for far too long and nobody is taking ownership of it. I want it ' +
      'resolved TODAY.',
    'I have reported this {category} issue several times and keep getting the same useless reply. I am completely ' +
      'fed up.',
    'Your handling of my {category} case has been a total mess from start to finish. Fix it now.',
    'I am extremely unhappy with how this {category} situation has been handled. Someone senior needs to look at it ' +
      'immediately.',
    'Another week has passed and my {category} issue is still open. This is not the service I am paying for.',
  ],
  subjects: [
    'Question about {category}',
    'Help needed: {category}',
    '{category} issue',
    'Follow-up on {category}',
    'Request regarding {category}',
  ],
};

/**
 * Sentences a flagged (escalation-risk) complaint appends. Each one carries at least one
 * keyword-risk word (legal, lawsuit, lawyer, court, fraud, scam, police, regulator, viral,
 * social media); no query or complaint body does.
 */
export const KEYWORD_SENTENCES: readonly string[] = [
  'If this is not sorted out within 48 hours, I will be taking legal action against your company.',
  'I am preparing a complaint to the consumer forum and my lawyer already has copies of all our correspondence.',
  'I intend to report this to the banking regulator, since money has left my account without my consent.',
  'I will be filing a formal complaint with the insurance regulator about the way this claim has been handled.',
  'I am ready to escalate this to the securities regulator and let them decide whether your practices are acceptable.',
  'I am posting the full story on social media tonight so everyone can see how you treat paying customers.',
  "As far as I am concerned this is fraud, and I will be reporting it to the police and my bank's fraud team.",
  'Consider this notice that I am prepared to file a lawsuit and see you in court if I am not made whole.',
];

/** Sender first names (mixed Indian and English-language names). */
export const FIRST_NAMES: readonly string[] = [
  'Aarav',
  'Priya',
  'Rohan',
  'Ananya',
  'Vikram',
  'Meera',
  'Arjun',
  'Kavya',
  'Siddharth',
  'Neha',
  'Rahul',
  'Divya',
  'James',
  'Emily',
  'Oliver',
  'Sarah',
  'Daniel',
  'Hannah',
  'Michael',
  'Grace',
  'Thomas',
  'Chloe',
  'Ethan',
  'Laura',
];

/** Sender last names. */
export const LAST_NAMES: readonly string[] = [
  'Sharma',
  'Iyer',
  'Patel',
  'Reddy',
  'Nair',
  'Gupta',
  'Mehta',
  'Banerjee',
  'Kulkarni',
  'Singh',
  'Menon',
  'Das',
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Taylor',
  'Clarke',
  'Walker',
  'Hughes',
];

/** Relative/absolute date phrases; each reads naturally after "came up" in INTRO_TEMPLATE. */
export const DATE_PHRASES: readonly string[] = [
  'last Tuesday',
  'yesterday morning',
  'two weeks ago',
  'earlier this week',
  'on the 3rd of this month',
  'over the weekend',
  'at the start of the month',
];

/** Product plan names. */
export const PRODUCTS: readonly string[] = ['Essentials', 'Premium', 'Business Pro'];

/** Sender email domains. */
export const SENDER_DOMAINS: readonly string[] = [
  'gmail.com',
  'outlook.com',
  'yahoo.co.in',
  'hotmail.com',
  'rediffmail.com',
  'icloud.com',
  'protonmail.com',
  'zohomail.in',
  'kestrelworks.com',
  'mapleridge.org',
];

/** The intro sentence put before every body. Placeholders: {name} {order} {product} {date}. */
export const INTRO_TEMPLATE: string =
  'Hello, my name is {name} and I am writing about order {order} on the {product} plan, regarding something that ' +
  'came up {date}.';
