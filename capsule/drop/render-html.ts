import type { DropChange, QuantumDrop } from '../../contracts/drop';
import { requirementLabel } from '../../contracts/requirements';
import { escapeHtml, htmlBlock, STYLE, type Block, type Cell, type Inline, type Tone } from '../report-document';

// The QuantumDrop as one self-contained HTML page a reviewer reads before deciding: no scripts, no
// external resources, a Content-Security-Policy that forbids both; every string from the drop is escaped
// by report-document's helpers (generated code, paths and messages are text, never markup).

const TONES = new Map<string, Tone>(
  Object.entries({
    passed: 'good',
    covered: 'good',
    ran: 'good',
    added: 'good',
    failed: 'bad',
    not_covered: 'bad',
    removed: 'bad',
    critical: 'bad',
    high: 'bad',
    medium: 'warn',
    not_assessed: 'warn',
    not_verifiable: 'warn',
    not_run: 'warn',
    modified: 'warn',
    low: 'muted',
    info: 'muted',
  } satisfies Record<string, Tone>),
);
/** A status as a word with its tone (a Map: a generated string such as `constructor` is only a word). */
const toned = (value: string): Inline => {
  const tone = TONES.get(value);
  return tone ? { text: value, tone } : value;
};
const score = (value: number | null) => (value === null ? 'not assessed' : String(value));
const orDash = (lines: Inline[]): Cell => (lines.length ? lines : '—');

function headerBlocks(drop: QuantumDrop): Block[] {
  const { cost } = drop;
  const spent =
    cost === null
      ? 'not recorded'
      : cost.offline && cost.calls === 0
        ? 'none (offline catalogue, no LLM)'
        : `${cost.calls} calls (${cost.cachedCalls} cached), ${cost.tokens} tokens, ` +
          (cost.costUsd === null ? 'cost unknown (unpriced model)' : `$${cost.costUsd.toFixed(4)}`);
  return [
    {
      kind: 'heading',
      level: 1,
      text: `QuantumDrop: ${drop.plan.projectName}, ${drop.gate} gate, version ${drop.version}`,
    },
    {
      kind: 'fields',
      rows: [
        ['Intent', drop.intentId],
        ['Gate', drop.gate],
        ['Version', String(drop.version)],
        [
          'Compared with',
          drop.previousVersion === null
            ? 'nothing (first version: every file is added)'
            : `version ${drop.previousVersion}`,
        ],
        ['Created', drop.createdAt],
        ['Verdict', toned(drop.validation.verdict)],
        ['Review digest', drop.reviewDigest ?? 'none'],
        ['Cost so far', spent],
      ],
    },
  ];
}

/** "We built something like this before": the tenant's similar intents, their outcome and approvers. */
function similarBlocks(drop: QuantumDrop): Block[] {
  if (!drop.similar?.length) return [];
  return [
    { kind: 'heading', level: 2, text: 'Similar earlier intents' },
    {
      kind: 'table',
      head: ['Intent', 'Similarity', 'Status', 'Overall', 'Capsule', 'Approved by', 'Text'],
      rows: drop.similar.map((s) => [
        s.intentId,
        `${Math.round(s.similarity * 100)}%`,
        s.status.toLowerCase(),
        score(s.overall),
        s.capsuleId ?? '—',
        s.approvers.length ? s.approvers.join(', ') : '—',
        s.text.length > 160 ? `${s.text.slice(0, 159)}…` : s.text,
      ]),
    },
  ];
}

function planBlocks(drop: QuantumDrop): Block[] {
  return [
    { kind: 'heading', level: 2, text: 'Plan' },
    {
      kind: 'fields',
      rows: [
        ['Planner', drop.plan.planner],
        ['Project', drop.plan.projectName],
      ],
    },
    {
      kind: 'table',
      head: ['Task', 'Type', 'Description'],
      rows: drop.plan.tasks.map((t) => [t.id, t.type, t.description]),
    },
  ];
}

function validationBlocks(drop: QuantumDrop): Block[] {
  const v = drop.validation;
  const counts = v.counts;
  return [
    { kind: 'heading', level: 2, text: 'Validation' },
    {
      kind: 'fields',
      rows: [
        ['Verdict', toned(v.verdict)],
        ['Type-check', `${v.typecheck.status}, ${v.typecheck.errorCount} errors`],
        [
          'Findings',
          counts
            ? `${counts.critical} critical, ${counts.high} high, ${counts.medium} medium, ${counts.low} low, ${counts.info} info`
            : 'not counted (no report)',
        ],
        ['Report', v.reportKey ?? 'none'],
      ],
    },
    ...(v.reasons.length ? [{ kind: 'list', items: v.reasons } satisfies Block] : []),
    {
      kind: 'table',
      head: ['Score', 'Value'],
      rows: (['overall', 'security', 'quality', 'compliance'] as const).map((name) => [name, score(v.scores[name])]),
    },
    ...v.typecheck.firstErrors.map((text): Block => ({ kind: 'paragraph', text: { text, tone: 'bad' } })),
  ];
}

function findingBlocks(drop: QuantumDrop): Block[] {
  const { findings, findingsTotal } = drop.validation;
  return [
    { kind: 'heading', level: 2, text: `Findings (${findings.length} of ${findingsTotal}, most severe first)` },
    findings.length
      ? {
          kind: 'table',
          head: ['Severity', 'Rule', 'Location', 'Message'],
          rows: findings.map((f) => [
            toned(f.severity),
            `${f.ruleId} (${f.tool})`,
            f.path === null ? '—' : f.line === null ? f.path : `${f.path}:${f.line}`,
            f.message,
          ]),
        }
      : { kind: 'paragraph', text: { text: 'No findings.', tone: 'good' } },
    ...(findingsTotal > findings.length
      ? [
          {
            kind: 'note',
            text: `${findingsTotal - findings.length} less severe findings are in the validation report.`,
          } satisfies Block,
        ]
      : []),
  ];
}

function testBlocks(drop: QuantumDrop): Block[] {
  const t = drop.validation.tests;
  if (t.status === 'not_run')
    return [
      { kind: 'heading', level: 2, text: 'Tests' },
      { kind: 'paragraph', text: { text: `Not run: ${t.reason ?? 'no reason given'}`, tone: 'warn' } },
    ];
  return [
    { kind: 'heading', level: 2, text: 'Tests' },
    {
      kind: 'fields',
      rows: [
        ['Passed', { text: String(t.passed), tone: 'good' }],
        ['Failed', t.failed ? { text: String(t.failed), tone: 'bad' } : '0'],
        ['Skipped', String(t.skipped)],
      ],
    },
    ...(t.failures.length
      ? [
          {
            kind: 'table',
            head: ['Failing test', 'Output'],
            rows: t.failures.map((f) => [f.name, f.message]),
          } satisfies Block,
        ]
      : []),
  ];
}

function coverageBlocks(drop: QuantumDrop): Block[] {
  const coverage = drop.validation.coverage;
  return [
    { kind: 'heading', level: 2, text: 'Requirement coverage' },
    coverage === null
      ? { kind: 'paragraph', text: { text: 'The plan lists no requirements.', tone: 'muted' } }
      : {
          kind: 'table',
          head: ['ID', 'Status', 'Requirement', 'Evidence', 'Tests', 'Why'],
          rows: coverage.map((r) => [
            r.id,
            toned(r.status),
            `${r.text} (${requirementLabel(r)})`,
            orDash(r.evidence.map((e) => `${e.path}:${e.line}`)),
            orDash(r.tests.map((test) => ({ text: test.name, tone: TONES.get(test.status) ?? 'muted' }))),
            r.reason,
          ]),
        },
  ];
}

function changeNote(change: DropChange): Inline {
  if (change.binary) return { text: 'binary: not diffed', tone: 'muted' };
  if (change.notAssessed) return { text: change.notAssessed, tone: 'warn' };
  if (change.truncated)
    return { text: `${change.truncated.omittedLines} lines not shown (${change.truncated.reason})`, tone: 'warn' };
  return '';
}

function changeBlocks(drop: QuantumDrop): Block[] {
  const s = drop.changeSummary;
  const count = (n: number | null) => (n === null ? '—' : String(n));
  return [
    { kind: 'heading', level: 2, text: 'Changes' },
    {
      kind: 'paragraph',
      text:
        `${s.added} added, ${s.modified} modified, ${s.removed} removed, ${s.unchanged} unchanged ` +
        `(${s.files} files in this version); +${s.additions} −${s.deletions} lines`,
    },
    ...s.cut.map((text): Block => ({ kind: 'note', text })),
    {
      kind: 'table',
      head: ['File', 'Change', '+', '−', 'Note'],
      rows: drop.changes.map((c) => [c.path, toned(c.status), count(c.additions), count(c.deletions), changeNote(c)]),
    },
  ];
}

const DIFF_STYLE = `
pre.diff { font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa; border: 1px solid #d0d7de; padding: 8px; overflow-x: auto; white-space: pre; }
pre.diff .add { color: #116329; background: #dafbe1; }
pre.diff .del { color: #a40e26; background: #ffebe9; }
pre.diff .hunk { color: #0550ae; }
pre.diff .meta { color: #59636e; font-weight: 600; }
@media print { pre.diff { white-space: pre-wrap; overflow-wrap: anywhere; } }
`;

/** How a diff line reads: added, removed, hunk header, file header or context. */
function lineClass(line: string): string {
  if (line.startsWith('+++ ') || line.startsWith('--- ') || line.startsWith('\\')) return 'meta';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  return 'ctx';
}

/** One diff as a <pre>: each line escaped (tabs as spaces, a CRLF's CR dropped), styled by its kind. */
function diffHtml(change: DropChange): string {
  const lines = change.diff.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const body = lines
    .map(
      (line) => `<span class="${lineClass(line)}">${escapeHtml(line.replace(/\r$/, '').replace(/\t/g, '    '))}</span>`,
    )
    .join('\n');
  return `<pre class="diff">${body}</pre>`;
}

function diffSection(drop: QuantumDrop): string[] {
  return [
    htmlBlock({ kind: 'heading', level: 2, text: 'Diffs' }),
    ...drop.changes.flatMap((change) => [
      htmlBlock({ kind: 'heading', level: 3, text: `${change.path} (${change.status})` }),
      change.diff ? diffHtml(change) : '',
      ...(changeNote(change) === '' ? [] : [htmlBlock({ kind: 'paragraph', text: changeNote(change) })]),
    ]),
  ].filter((part) => part !== '');
}

/** The page: deterministic for a given drop (no clock, no randomness). */
export function renderDropHtml(drop: QuantumDrop): string {
  const blocks = [
    ...headerBlocks(drop),
    ...planBlocks(drop),
    ...similarBlocks(drop),
    ...validationBlocks(drop),
    ...findingBlocks(drop),
    ...testBlocks(drop),
    ...coverageBlocks(drop),
    ...changeBlocks(drop),
  ];
  const title = `QuantumDrop ${drop.plan.projectName} v${drop.version}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}${DIFF_STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    ...blocks.map(htmlBlock),
    ...diffSection(drop),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
