import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import schema from '@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json';
import { runCompliance } from '../../validation/compliance/engine';
import { projectFromFiles } from '../../validation/project';
import { toSarif } from '../../validation/sarif';
import { runStaticReview } from '../../validation/static';

// The SARIF 2.1.0 schema (rtm.5, the text OASIS approved as 2.1.0) as shipped by @microsoft/jest-sarif; JSON Schema draft-04.
// Its `language` pattern has a stray `]` that is invalid with the u flag (fixed in the OASIS errata), so patterns compile without it.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);

const project = projectFromFiles([
  {
    path: 'src/app.ts',
    content:
      "import { exec } from 'child_process';\nexport const run = (x: string) => exec(`ls ${x}`);\nexport const dbPassword = 'Hunter2Hunter2!';\n",
  },
  { path: 'package.json', content: JSON.stringify({ dependencies: { pm2: '^5.0.0' } }) },
]);

describe('SARIF output', () => {
  let sarif: ReturnType<typeof toSarif>;

  beforeAll(async () => {
    const staticReport = await runStaticReview(project, { intentId: 'i' }, { semgrep: { executable: null } });
    const compliance = await runCompliance(project, { intentId: 'i' });
    sarif = toSarif({ static: staticReport, compliance });
  });

  it('is valid against the SARIF 2.1.0 JSON schema', () => {
    const valid = validate(sarif);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(sarif.version).toBe('2.1.0');
  });

  it('rejects broken logs (the validator is not vacuous)', () => {
    const broken = structuredClone(sarif) as any;
    broken.runs[0].results = [{ ruleId: 'x', level: 'fatal' }];
    expect(validate(broken)).toBe(false);
    expect(validate({ ...sarif, version: '2.0.0' })).toBe(false);
  });

  it('carries rule metadata with security-severity and resolvable rule indexes', () => {
    const compliance = sarif.runs.find((run) => run.tool.driver.name.includes('compliance'))!;
    const rules = compliance.tool.driver.rules!;
    const command = rules.find((r) => r.id === 'compliance/command-injection')!;
    expect(command.properties).toMatchObject({
      'security-severity': '9.5',
      tags: expect.arrayContaining(['security', 'CWE-78', 'SOC2 CC6.6']),
    });
    expect(command.help?.text).toMatch(/execFile/);
    for (const run of sarif.runs) {
      for (const result of run.results ?? []) {
        expect(run.tool.driver.rules![result.ruleIndex!]!.id).toBe(result.ruleId);
        expect(result.partialFingerprints?.['qlpFinding/v1']).toMatch(/^[0-9a-f]{32}$/);
      }
    }
  });

  it('reports a tool that could not run as an unsuccessful invocation, not as a clean run', () => {
    const semgrep = sarif.runs.find((run) => run.tool.driver.name.startsWith('Semgrep'))!;
    expect(semgrep.results).toEqual([]);
    expect(semgrep.invocations![0]).toMatchObject({
      executionSuccessful: false,
      toolExecutionNotifications: [
        { level: 'error', message: { text: expect.stringMatching(/^not_assessed: semgrep is not installed/) } },
      ],
    });
  });

  it('never contains the secret value', () => {
    expect(JSON.stringify(sarif)).not.toContain('Hunter2Hunter2!');
  });

  it('stays valid when a whole layer is not assessed', () => {
    const log = toSarif({
      notAssessed: [
        { layer: 'static', reason: 'timed out' },
        { layer: 'compliance', reason: 'worker lost' },
      ],
    });
    expect(validate(log)).toBe(true);
    expect(log.runs.map((run) => run.invocations![0]!.executionSuccessful)).toEqual([false, false]);
  });
});
