import {
  CAPABILITY_TITLES,
  requirementLabel,
  type Capability,
  type RequirementCoverage,
} from '../contracts/requirements';
import type {
  ControlResult,
  FrameworkResult,
  NotAssessedFile,
  ScoreExplanation,
  TruncationNote,
  ValidationReport,
} from '../contracts/validation';
import { toHtml, toMarkdown, type Block, type Cell, type Inline, type Tone } from './report-document';

// compliance-report.md and compliance-report.html: the validation report as an auditor without tools
// reads it, per framework and control. Pure: the same report and context give the same bytes.

export interface ComplianceReportContext {
  intentId: string;
  capsuleId: string;
  version: number;
  /** The capsule's createdAt (workflow time). */
  createdAt: string;
  intentText: string;
  projectName: string;
}

const STATUS = new Map<string, { label: string; tone: Tone }>(
  Object.entries({
    pass: { label: 'pass', tone: 'good' },
    passed: { label: 'passed', tone: 'good' },
    covered: { label: 'covered', tone: 'good' },
    assessed: { label: 'assessed', tone: 'good' },
    fail: { label: 'FAIL', tone: 'bad' },
    failed: { label: 'FAILED', tone: 'bad' },
    not_covered: { label: 'NOT COVERED', tone: 'bad' },
    not_assessed: { label: 'not assessed', tone: 'warn' },
    not_verifiable: { label: 'not verifiable', tone: 'warn' },
    skipped: { label: 'skipped', tone: 'warn' },
    not_run: { label: 'not run', tone: 'warn' },
    not_applicable: { label: 'not applicable', tone: 'muted' },
  } satisfies Record<string, { label: string; tone: Tone }>),
);

/** A status as a word with its tone; one this module does not know is shown as it is. */
const status = (value: string): Inline => {
  const known = STATUS.get(value);
  return known ? { text: known.label, tone: known.tone } : value;
};
/** A status inside a sentence: its word, and the sentence takes its tone. */
const statusText = (value: string) => STATUS.get(value)?.label ?? value;
const statusTone = (value: string): Tone => STATUS.get(value)?.tone ?? 'muted';
const capabilityTitle = (capability: Capability) =>
  Object.hasOwn(CAPABILITY_TITLES, capability) ? CAPABILITY_TITLES[capability] : capability;
const score = (value: number | null) => (value === null ? 'not assessed' : String(value));
const orDash = (lines: Inline[]): Cell => (lines.length ? lines : '—');

const SCORES = [
  ['overall', 'Overall', 'minConfidenceScore'],
  ['security', 'Security', 'securityThreshold'],
  ['quality', 'Quality', 'qualityThreshold'],
  ['compliance', 'Compliance', 'complianceThreshold'],
] as const;

function header(report: ValidationReport, context: ComplianceReportContext): Block[] {
  const { verdict } = report;
  return [
    { kind: 'heading', level: 1, text: `Compliance report: ${context.projectName}` },
    {
      kind: 'paragraph',
      text:
        'What static analysis, the sandbox run and the compliance rule packs found in the generated code of this ' +
        'capsule, per framework and control. It shows what the code does; organisational and physical controls ' +
        'are listed as not covered. The machine-readable source is reports/validation-report.json.',
    },
    {
      kind: 'fields',
      rows: [
        ['Project', context.projectName],
        ['Intent', context.intentId],
        ['Capsule', context.capsuleId],
        ['Capsule version', String(context.version)],
        ['Capsule created', context.createdAt],
        ['Validation report generated', report.generatedAt],
        ['Verdict', status(verdict.status)],
      ],
    },
    ...(report.truncated
      ? [{ kind: 'note' as const, text: 'Some findings were left out of this report: see "Findings left out".' }]
      : []),
    { kind: 'heading', level: 2, text: 'Intent as submitted' },
    { kind: 'quote', text: context.intentText },
    { kind: 'heading', level: 2, text: 'Verdict' },
    { kind: 'paragraph', text: status(verdict.status) },
    verdict.reasons.length
      ? { kind: 'list', items: verdict.reasons }
      : { kind: 'paragraph', text: 'No reasons were recorded.' },
  ];
}

function explanation(title: string, item: ScoreExplanation): Block[] {
  return [
    { kind: 'heading', level: 3, text: `${title} score: ${score(item.score)}` },
    {
      kind: 'fields',
      rows: [
        ['Formula', item.formula],
        ['Cap', item.cap ? `${item.cap.value}: ${item.cap.reason}` : 'none'],
        ['Not assessed', item.notAssessed.length ? item.notAssessed.join('; ') : 'nothing'],
      ],
    },
    item.deductions.length
      ? {
          kind: 'table',
          head: ['Rule or control', 'Severity', 'Count', 'Points deducted'],
          rows: item.deductions.map((d) => [d.ruleId, d.severity, String(d.count), String(d.points)]),
        }
      : { kind: 'paragraph', text: 'No deductions.' },
  ];
}

function scores(report: ValidationReport): Block[] {
  return [
    { kind: 'heading', level: 2, text: 'Scores' },
    {
      kind: 'table',
      head: ['Score', 'Value (0–100)', 'Threshold'],
      rows: SCORES.map(([key, title, threshold]) => [
        title,
        score(report.scores[key]),
        String(report.thresholds[threshold]),
      ]),
    },
    ...SCORES.flatMap(([key, title]) => explanation(title, report.explanations[key])),
  ];
}

function layers(report: ValidationReport): Block[] {
  const { sandbox } = report;
  const layerRows = (['static', 'compliance', 'dynamic'] as const).flatMap((name): Cell[][] => {
    const layer = report.layers[name];
    return [
      layer ? [name, status(layer.status), layer.reason ?? '—'] : [name, 'not recorded', 'the report predates layer 2'],
    ];
  });
  return [
    { kind: 'heading', level: 2, text: 'Layers and checks' },
    { kind: 'table', head: ['Layer', 'Status', 'Reason'], rows: layerRows },
    ...(sandbox
      ? [
          {
            kind: 'paragraph' as const,
            text:
              `Sandbox run (${sandbox.driver}): ${sandbox.outcome}; tests ${sandbox.tests.passed} passed, ` +
              `${sandbox.tests.failed} failed, ${sandbox.tests.skipped} skipped` +
              (sandbox.limitHits.length ? `; limits hit: ${sandbox.limitHits.join(', ')}` : ''),
          },
        ]
      : []),
    {
      kind: 'table',
      head: ['Check', 'Status', 'Findings', 'Reason'],
      rows: report.checks.map((check) => [
        check.tool,
        status(check.status),
        String(check.findingCount),
        check.reason ?? '—',
      ]),
    },
  ];
}

function controlRow(control: ControlResult): Cell[] {
  const required = (control.required ?? []).map((item): Inline => ({
    text: `${capabilityTitle(item.capability)}: ${statusText(item.status)} (${item.reason})`,
    tone: statusTone(item.status),
  }));
  return [
    `${control.id}: ${control.title}`,
    [status(control.status), { text: `severity ${control.severity}`, tone: 'muted' }],
    orDash(control.rules),
    orDash(control.evidence.map((e) => `${e.path}:${e.line} — ${e.message} (${e.ruleId})`)),
    control.reason ?? '—',
    orDash(required),
  ];
}

function framework(fw: FrameworkResult): Block[] {
  const { counts } = fw;
  return [
    { kind: 'heading', level: 2, text: `${fw.name} (${fw.framework}), version ${fw.version}` },
    {
      kind: 'fields',
      rows: [
        ['Status', status(fw.status)],
        [
          'Claimed by the intent',
          fw.claimed ? 'yes: the controls it requires were checked for presence' : 'no: checked for violations only',
        ],
        [
          'Controls',
          `${counts.pass} pass, ${counts.fail} fail, ${counts.notApplicable} not applicable, ${counts.notAssessed} not assessed`,
        ],
      ],
    },
    { kind: 'heading', level: 3, text: `${fw.framework} controls` },
    fw.controls.length
      ? {
          kind: 'table',
          head: [
            'Control',
            'Status',
            'Rules',
            'Evidence (path:line — message (rule))',
            'Reason',
            'Required capabilities',
          ],
          rows: fw.controls.map(controlRow),
        }
      : { kind: 'paragraph', text: 'No control of this framework was checked.' },
    { kind: 'heading', level: 3, text: `${fw.framework} controls not covered by code checks` },
    fw.notCovered.length
      ? {
          kind: 'table',
          head: ['Control', 'Title', 'Why it is not covered'],
          rows: fw.notCovered.map((c) => [c.id, c.title, c.reason]),
        }
      : { kind: 'paragraph', text: 'Every control of this framework is checked by a rule.' },
  ];
}

function requirementRow(item: RequirementCoverage): Cell[] {
  return [
    item.id,
    item.text,
    requirementLabel(item),
    status(item.status),
    orDash(item.evidence.map((e) => `${e.path}:${e.line} — ${e.detail}`)),
    orDash(
      item.tests.map((t) => ({
        text: `${t.name}${t.file ? ` (${t.file})` : ''}: ${statusText(t.status)}`,
        tone: statusTone(t.status),
      })),
    ),
    item.reason,
  ];
}

function requirements(report: ValidationReport): Block[] {
  return [
    { kind: 'heading', level: 2, text: 'Requirements coverage' },
    report.requirements?.length
      ? {
          kind: 'table',
          head: ['ID', 'Requirement', 'Kind', 'Status', 'Evidence (path:line — detail)', 'Tests', 'Reason'],
          rows: report.requirements.map(requirementRow),
        }
      : { kind: 'paragraph', text: 'The plan lists no requirements, so there is no coverage table.' },
  ];
}

function notAssessed(files: NotAssessedFile[] | undefined): Block[] {
  return [
    { kind: 'heading', level: 2, text: 'Files not assessed' },
    files === undefined
      ? { kind: 'paragraph', text: 'This report predates the list of files not assessed.' }
      : files.length
        ? { kind: 'table', head: ['Path', 'Check', 'Reason'], rows: files.map((f) => [f.path, f.tool, f.reason]) }
        : { kind: 'paragraph', text: 'No file was reported as not assessed.' },
  ];
}

function truncation(note: TruncationNote): Block[] {
  return [
    { kind: 'heading', level: 2, text: 'Findings left out' },
    {
      kind: 'note',
      text:
        `${note.findingsCut} of ${note.findingsTotal} findings were left out to keep the report bounded; the most ` +
        'severe were kept, and the scores and verdict counted every finding.',
    },
    ...(note.reasons.length ? [{ kind: 'list' as const, items: note.reasons }] : []),
    ...(note.byRule.length
      ? [
          {
            kind: 'table' as const,
            head: ['Rule', 'Findings left out'],
            rows: note.byRule.map((r) => [r.ruleId, String(r.cut)]),
          },
        ]
      : []),
    ...(note.byFile.length
      ? [
          {
            kind: 'table' as const,
            head: ['File', 'Findings left out'],
            rows: note.byFile.map((f) => [f.path, String(f.cut)]),
          },
        ]
      : []),
  ];
}

export function complianceDocument(report: ValidationReport, context: ComplianceReportContext): Block[] {
  return [
    ...header(report, context),
    ...scores(report),
    ...layers(report),
    ...(report.frameworks.length
      ? report.frameworks.flatMap(framework)
      : [
          { kind: 'heading' as const, level: 2 as const, text: 'Frameworks' },
          { kind: 'paragraph' as const, text: 'No compliance framework was assessed.' },
        ]),
    ...requirements(report),
    ...notAssessed(report.notAssessedFiles),
    ...(report.truncated ? truncation(report.truncated) : []),
  ];
}

export function renderComplianceReport(
  report: ValidationReport,
  context: ComplianceReportContext,
): { markdown: string; html: string } {
  const blocks = complianceDocument(report, context);
  return { markdown: toMarkdown(blocks), html: toHtml(`Compliance report: ${context.projectName}`, blocks) };
}
