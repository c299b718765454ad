import {
  MAX_REQUIREMENTS,
  REQUIREMENT_ID,
  type Capability,
  type Requirement,
  type RequirementFramework,
} from '../../contracts/requirements';
import type { PlannedTask } from '../../contracts/plan';

// Requirements from the intent's own words, deterministically: the sentences it is made of (functional)
// and the capabilities and frameworks it names (controls). The same text always gives the same list.

interface Phrase<T> {
  value: T;
  /** Phrases that ask for it; the first match in the text is quoted as the requirement. */
  patterns: RegExp[];
}

// Each pattern is tried on lower-cased text. They are word-bounded so that near misses ("author",
// "auditorium", "validates IBAN numbers", "HTTP API") do not read as requests for a control.
const CAPABILITY_PHRASES: Phrase<Capability>[] = [
  {
    value: 'hmac-verification',
    patterns: [
      /\bhmac(?:[- ]sha-?256)?(?:[- ]signed|[- ]signatures?|[- ]verification)?\b/,
      /\b(?:verif(?:y|ies|ying|ied)|validat(?:e|es|ing|ed)|check(?:s|ing)?)\s+(?:the\s+|their\s+|its\s+)?(?:webhook\s+|request\s+|payload\s+|message\s+)?signatures?\b/,
      /\bsigned\s+(?:webhooks?|payloads?|requests?|events?)\b/,
      /\bsignature\s+(?:verification|validation|checks?)\b/,
    ],
  },
  {
    value: 'authorization',
    patterns: [
      /\bauthori[sz]ation\b/,
      /\bauthz\b/,
      /\brole[- ]based(?:\s+access(?:\s+control)?)?\b/,
      /\brbac\b/,
      /\b(?:roles?\s+and\s+)?permissions?\s+checks?\b/,
      /\baccess\s+control\b/,
    ],
  },
  {
    value: 'authentication',
    patterns: [
      /\bauthenticat(?:ion|ed|es|e|ing)\b/,
      /\bauthn\b/,
      /\bauth\b(?![- ]?(?:or|ors|ored)\b)/,
      /\b(?:log|sign)[- ]?ins?\b/,
      /\bapi[- ]?keys?\b/,
      /\bbearer\s+tokens?\b/,
      /\bjwts?\b/,
      /\boauth\s?2?\b/,
    ],
  },
  {
    value: 'audit-logging',
    patterns: [/\baudit(?:ed|ing|s)?(?:[- ](?:logs?|logging|trails?|events?|records?))?\b/],
  },
  {
    value: 'tls',
    patterns: [
      /\b(?:m?tls|ssl)\b/,
      /\bhttps\b/,
      /\bencrypt(?:ed|ion|s)?\s+(?:(?:data\s+|traffic\s+)?in\s+transit|connections?|transport)\b/,
      /\btransport\s+(?:security|encryption)\b/,
    ],
  },
  {
    value: 'encryption-at-rest',
    patterns: [
      /\bencrypt(?:ed|ion|s|ing)?\b(?!\s+(?:(?:data\s+|traffic\s+)?in\s+transit|connections?|transport))(?:\s+(?:of\s+)?(?:the\s+)?(?:sensitive\s+|personal\s+|pii\s+)?(?:fields?|data|columns?|records?|values?))?(?:\s+at\s+rest)?/,
      /\bat[- ]rest\s+encryption\b/,
      /(?<=\bencrypt\w*\b.{0,40})\bat[- ]rest\b/,
      /\bfield[- ]level\s+encryption\b/,
    ],
  },
  {
    value: 'rate-limiting',
    patterns: [
      /\brate[- ]?limit(?:s|ed|ing|er)?\b/,
      /\bthrottl(?:e|es|ed|ing)\b/,
      /\b\d+\s+requests?\s+(?:per|a|an|every)\s+(?:second|minute|hour)\b/,
    ],
  },
  {
    value: 'retries',
    patterns: [
      /\bretr(?:y|ies|ying|ied)\b(?:\s+with\s+(?:exponential\s+)?backoff)?/,
      /\b(?:exponential\s+)?back-?off\b/,
      /\bre-?attempts?\b/,
    ],
  },
  {
    value: 'input-validation',
    patterns: [
      /\b(?:input|request|payload|body|schema)\s+validation\b/,
      /\bvalidat(?:e|es|ing)\s+(?:the\s+|all\s+|every\s+|incoming\s+)*(?:inputs?|requests?|payloads?|bod(?:y|ies))\b/,
      /\bsanitis(?:e|es|ing|ation)\b|\bsanitiz(?:e|es|ing|ation)\b/,
    ],
  },
];

const FRAMEWORK_PHRASES: Phrase<RequirementFramework>[] = [
  { value: 'HIPAA', patterns: [/\bhipaa\b/] },
  { value: 'GDPR', patterns: [/\bgdpr\b|\bgeneral data protection regulation\b/] },
  { value: 'SOC2', patterns: [/\bsoc[- ]?(?:2|ii)\b/] },
  { value: 'ISO27001', patterns: [/\biso(?:\/iec)?[- ]?27001\b/] },
];

const FRAMEWORK_TITLES: Record<RequirementFramework, string> = {
  HIPAA: 'HIPAA',
  GDPR: 'GDPR',
  SOC2: 'SOC 2',
  ISO27001: 'ISO/IEC 27001',
};

// "without authentication", "no auth needed", "not HIPAA": a negated mention asks for nothing.
const NEGATION =
  /\b(?:without|no|not|never|skip|skipping|excluding|except|minus)\s+(?:any\s+|an?\s+|the\s+)?(?:\S+\s+)?$/;

const MAX_FUNCTIONAL = 10;
const MAX_TEXT = 300;

/** The first non-negated match of any pattern, with where it starts. */
function firstMention(lower: string, patterns: RegExp[]): { index: number; text: string } | undefined {
  let best: { index: number; text: string } | undefined;
  for (const pattern of patterns) {
    const global = new RegExp(pattern.source, 'g');
    for (const match of lower.matchAll(global)) {
      if (NEGATION.test(lower.slice(Math.max(0, match.index - 40), match.index))) continue;
      if (!best || match.index < best.index) best = { index: match.index, text: match[0].trim() };
      break;
    }
  }
  return best;
}

/** Sentences and list items of the intent, without list markers. */
export function intentSentences(text: string): string[] {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n+|(?<=[.!?;])\s+(?=[A-Z0-9"'(])/)
    .map((part) =>
      part
        .replace(/^\s*(?:[-*•]|\d+[.)])\s+/, '')
        .replace(/\s+/g, ' ')
        .replace(/[\s.;:,!]+$/, '')
        .trim(),
    )
    .filter((part) => /[a-z]{2,}/i.test(part) && part.split(' ').length >= 2);
}

// Words a sentence needs besides control and framework names to say what the project does.
const FILLER =
  /\b(?:a|an|the|and|or|with|without|using|use|must|should|be|is|are|it|its|all|every|any|of|for|to|in|on|at|by|that|which|plus|also|support|supports|include|includes|including|have|has|compliant|compliance|complies|comply|secure|securely|please|add|enable|enabled|implement|implements)\b/g;

function hasFunctionalContent(sentence: string): boolean {
  let rest = sentence.toLowerCase();
  for (const phrase of [...CAPABILITY_PHRASES, ...FRAMEWORK_PHRASES])
    for (const pattern of phrase.patterns) rest = rest.replace(new RegExp(pattern.source, 'g'), ' ');
  return (
    rest
      .replace(FILLER, ' ')
      .replace(/[^a-z0-9]+/g, ' ')
      .trim().length > 0
  );
}

const clip = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text);

/**
 * The intent's requirements: each sentence that says what to build (functional), then each capability
 * and framework it names (controls), in the order they first appear. Ids R1, R2, … in that order.
 */
export function extractRequirements(text: string): Requirement[] {
  const lower = text.toLowerCase().replace(/\s+/g, ' ');
  const functional = intentSentences(text)
    .filter(hasFunctionalContent)
    .slice(0, MAX_FUNCTIONAL)
    .map((sentence) => ({ kind: 'functional' as const, text: clip(sentence) }));

  const controls: { index: number; requirement: Omit<Requirement, 'id'> }[] = [];
  for (const phrase of CAPABILITY_PHRASES) {
    const mention = firstMention(lower, phrase.patterns);
    if (!mention) continue;
    // "encrypt … in transit" is TLS, not encryption at rest: one request, one capability.
    if (phrase.value === 'encryption-at-rest' && controls.some((c) => c.index === mention.index)) continue;
    controls.push({
      index: mention.index,
      requirement: { kind: 'control', capability: phrase.value, text: clip(mention.text) },
    });
  }
  for (const phrase of FRAMEWORK_PHRASES) {
    const mention = firstMention(lower, phrase.patterns);
    if (!mention) continue;
    controls.push({
      index: mention.index,
      requirement: {
        kind: 'control',
        framework: phrase.value,
        text: `comply with ${FRAMEWORK_TITLES[phrase.value]} (the controls its pack requires)`,
      },
    });
  }
  controls.sort((a, b) => a.index - b.index);
  return [...functional, ...controls.map((c) => c.requirement)]
    .slice(0, MAX_REQUIREMENTS)
    .map((requirement, i) => ({ id: `R${i + 1}`, ...requirement }));
}

/**
 * An LLM's requirements made whole: kept when valid, and every capability or framework the deterministic
 * extraction finds that the LLM left out is added, so no model can drop something the intent asked for.
 * Without requirements from the LLM, the deterministic ones.
 */
export function mergeRequirements(
  fromLlm: (Omit<Requirement, 'id'> & { id?: string })[] | undefined,
  text: string,
): {
  requirements: Requirement[];
  /** LLM id → final id, for the tasks' `covers`. */
  renamed: Map<string, string>;
} {
  const extracted = extractRequirements(text);
  if (!fromLlm?.length) return { requirements: extracted, renamed: new Map() };
  const renamed = new Map<string, string>();
  const kept: Omit<Requirement, 'id'>[] = [];
  for (const item of fromLlm.slice(0, MAX_REQUIREMENTS)) {
    const id = item.id;
    kept.push({
      kind: item.capability || item.framework ? 'control' : item.kind,
      text: clip(item.text),
      ...(item.capability && { capability: item.capability }),
      ...(item.framework && { framework: item.framework }),
    });
    if (id) renamed.set(id, `R${kept.length}`);
  }
  for (const requirement of extracted) {
    const missing =
      (requirement.capability && !kept.some((k) => k.capability === requirement.capability)) ||
      (requirement.framework && !kept.some((k) => k.framework === requirement.framework));
    if (missing && kept.length < MAX_REQUIREMENTS) {
      const { id: _id, ...rest } = requirement;
      kept.push(rest);
    }
  }
  return { requirements: kept.map((r, i) => ({ id: `R${i + 1}`, ...r })), renamed };
}

/**
 * `covers` for tasks whose planner did not say: the tasks that write code or tests take on every
 * requirement (validation then checks the project as a whole); documentation and analysis none.
 */
export function defaultCovers(task: Pick<PlannedTask, 'type'>, requirements: Requirement[]): string[] {
  return task.type === 'codegen' || task.type === 'test' ? requirements.map((r) => r.id) : [];
}

/**
 * The intent with its control and framework phrases taken out ("with authentication, audit logging and
 * X" → "with X"), for generators that read the project's subject and fields from what remains.
 */
export function withoutControlPhrases(text: string): string {
  let rest = text;
  for (const phrase of [...CAPABILITY_PHRASES, ...FRAMEWORK_PHRASES]) {
    for (const pattern of phrase.patterns)
      rest = rest.replace(
        new RegExp(
          `(?:\\b(?:without|no|not)\\s+(?:any\\s+)?)?${pattern.source}(?:[- ]compliant)?(?:\\s+(?:is\\s+)?(?:needed|required))?`,
          'gi',
        ),
        ' ',
      );
  }
  return rest
    .replace(/\bsuch as\b/gi, ' ')
    .replace(/\b(with|and|or)\s*(?:(?:,|\band\b|\bor\b)\s*)+/gi, '$1 ')
    .replace(/\b(?:with|and)\s+(?=[.;]|$)/gi, ' ')
    .replace(/\s+([,.;])/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

export const isRequirementId = (id: string) => REQUIREMENT_ID.test(id);
