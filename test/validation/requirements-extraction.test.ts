import { recognise } from '../../agents/offline/catalogue';
import { planOffline } from '../../agents/offline/offline-planner';
import { planDraftSchema } from '../../agents/planning/llm-planner';
import {
  defaultCovers,
  extractRequirements,
  mergeRequirements,
  withoutControlPhrases,
} from '../../agents/planning/requirements';
import { planIntent } from '../../agents/planning/skeleton-planner';

// Requirements extracted from the intent's own words at planning: deterministic, word-bounded, and
// never inventing a control the text does not ask for (near misses below).

const controls = (text: string) =>
  extractRequirements(text)
    .filter((r) => r.kind === 'control')
    .map((r) => r.capability ?? r.framework);

describe('extracting requirements from the intent', () => {
  test('the HIPAA patient-records intent: the sentence, the framework and each capability, in order', () => {
    expect(
      extractRequirements(
        'Build a HIPAA-compliant patient records API with authentication, audit logging and encryption of sensitive fields such as diagnosis and SSN.',
      ),
    ).toEqual([
      {
        id: 'R1',
        kind: 'functional',
        text: 'Build a HIPAA-compliant patient records API with authentication, audit logging and encryption of sensitive fields such as diagnosis and SSN',
      },
      { id: 'R2', kind: 'control', framework: 'HIPAA', text: 'comply with HIPAA (the controls its pack requires)' },
      { id: 'R3', kind: 'control', capability: 'authentication', text: 'authentication' },
      { id: 'R4', kind: 'control', capability: 'audit-logging', text: 'audit logging' },
      { id: 'R5', kind: 'control', capability: 'encryption-at-rest', text: 'encryption of sensitive fields' },
    ]);
  });

  test('the webhook intent: HMAC verification and retries', () => {
    expect(
      controls('A webhook receiver that verifies HMAC signatures and forwards events to a queue, with retry.'),
    ).toEqual(['hmac-verification', 'retries']);
  });

  test.each([
    [
      'Users log in with an API key; requests are rate limited to 100 requests per minute',
      ['authentication', 'rate-limiting'],
    ],
    ['Role-based access control for admins, with JWT bearer tokens', ['authorization', 'authentication']],
    ['Encrypt data in transit and at rest', ['tls', 'encryption-at-rest']],
    ['An audit trail of every change, over HTTPS only', ['audit-logging', 'tls']],
    ['Validate request payloads and retry failed deliveries with exponential backoff', ['input-validation', 'retries']],
    ['GDPR and SOC 2 compliant, ISO/IEC 27001 certified', ['GDPR', 'SOC2', 'ISO27001']],
  ])('%s → %j', (text, expected) => {
    expect(controls(text)).toEqual(expected);
  });

  test.each([
    ['a field named author is not authentication', 'A REST API for books with title, author and year'],
    ['an auditorium is not an audit log', 'A booking service for auditorium seats with row and number'],
    ['a function that validates IBANs is the feature, not input validation', 'A library that validates IBAN numbers'],
    ['HTTP is not TLS', 'An HTTP API for stations with name'],
    ['a signature field is not HMAC verification', 'A CLI to manage contracts with title and signature'],
    ['negated: no authentication asked for', 'A public REST API for notes with title, no authentication needed'],
    ['negated: without retries', 'A worker that processes invoices without retries'],
    ['a token bucket counter is not a credential', 'A library that tracks loyalty points per customer'],
  ])('near miss: %s', (_why, text) => {
    expect(controls(text)).toEqual([]);
  });

  test('each sentence that says what to build is a functional requirement; one that only names controls is not', () => {
    const requirements = extractRequirements(
      'A REST API for invoices with customer and amount. It must support authentication. Use HIPAA.\n- Export invoices as CSV',
    );
    expect(requirements.filter((r) => r.kind === 'functional').map((r) => r.text)).toEqual([
      'A REST API for invoices with customer and amount',
      'Export invoices as CSV',
    ]);
    expect(requirements.map((r) => r.id)).toEqual(['R1', 'R2', 'R3', 'R4']);
    expect(extractRequirements('A REST API for invoices. It must support authentication.')).toEqual(
      extractRequirements('A REST API for invoices. It must support authentication.'),
    );
  });

  test("the catalogue reads the project's subject and fields from what remains once the controls are out", () => {
    expect(
      withoutControlPhrases(
        'Build a HIPAA-compliant patient records API with authentication, audit logging and encryption of sensitive fields such as diagnosis and SSN.',
      ),
    ).toBe('Build a patient records API with diagnosis and SSN.');
    const recognised = recognise(
      'Build a HIPAA-compliant patient records API with authentication, audit logging and encryption of sensitive fields such as diagnosis and SSN.',
    );
    if (!recognised.ok) throw new Error(recognised.reason);
    expect(recognised.spec).toMatchObject({
      kind: 'rest-crud-service',
      entity: { words: ['patient', 'record'] },
      features: ['authentication', 'audit-logging', 'encryption-at-rest'],
      notImplemented: [],
    });
    expect(recognised.spec.entity.fields.map((f) => f.name)).toEqual(['diagnosis', 'ssn']);
    const unbuilt = recognise('A REST API for books with title, with rate limiting and TLS');
    expect(unbuilt.ok && unbuilt.spec.notImplemented).toEqual(['rate-limiting', 'tls']);
    expect(unbuilt.ok && unbuilt.spec.assumptions[0]).toBe(
      'asked for but not implemented by the offline rest-crud-service generator: rate limiting, TLS (transport security) (validation reports each as not covered)',
    );
  });
});

describe('requirements in plans', () => {
  test('offline: the catalogue never drops a request silently: what it does not build is covered by no task', () => {
    const planned = planOffline('A REST API for books with title and author, with authentication and rate limiting');
    if (!planned.ok) throw new Error(planned.reason);
    const { requirements, tasks } = planned.plan;
    expect(requirements?.map((r) => r.capability ?? r.kind)).toEqual(['functional', 'authentication', 'rate-limiting']);
    const covers = Object.fromEntries(tasks.map((t) => [t.id, t.covers]));
    expect(covers).toEqual({ module: ['R1', 'R2'], check: ['R1', 'R2'], readme: ['R1'] });
  });

  test('a read-only service has nothing to audit: audit logging is reported as not implemented', () => {
    const recognised = recognise('A read-only REST API for books with title, with audit logging');
    expect(recognised.ok && recognised.spec.notImplemented).toEqual(['audit-logging']);
  });

  test('the skeleton planner extracts them too; code and test tasks cover every requirement', () => {
    const plan = planIntent({ intentId: 'i', text: 'A ledger module with authentication' });
    expect(plan.requirements?.map((r) => r.id)).toEqual(['R1', 'R2']);
    expect(plan.tasks.map((t) => [t.id, t.covers])).toEqual([
      ['module', ['R1', 'R2']],
      ['check', ['R1', 'R2']],
      ['readme', []],
    ]);
    expect(defaultCovers({ type: 'analyze' }, plan.requirements!)).toEqual([]);
  });

  test("LLM plans: requirements are optional; what the LLM leaves out of the intent's controls is added back", () => {
    const schema = planDraftSchema(10);
    const task = { id: 'core', type: 'codegen', description: 'd', dependencies: [], priority: 1, outputs: [] };
    expect(schema.safeParse({ projectName: 'p', tasks: [task] }).success).toBe(true);
    const unknown = schema.safeParse({
      projectName: 'p',
      tasks: [{ ...task, covers: ['R9'] }],
      requirements: [{ id: 'R1', text: 'x', kind: 'functional' }],
    });
    expect(unknown.success).toBe(false);
    expect(JSON.stringify(unknown.error?.issues)).toMatch(/covers unknown requirement \\"R9\\"/);

    const { requirements, renamed } = mergeRequirements(
      [
        { id: 'A', text: 'patient records API', kind: 'functional' },
        { id: 'B', text: 'authentication', kind: 'control', capability: 'authentication' },
      ],
      'A patient records API with authentication and audit logging, HIPAA compliant',
    );
    expect(requirements.map((r) => [r.id, r.capability ?? r.framework ?? r.kind])).toEqual([
      ['R1', 'functional'],
      ['R2', 'authentication'],
      ['R3', 'audit-logging'],
      ['R4', 'HIPAA'],
    ]);
    expect([...renamed]).toEqual([
      ['A', 'R1'],
      ['B', 'R2'],
    ]);
    expect(mergeRequirements(undefined, 'A queue worker with retries').requirements).toEqual(
      extractRequirements('A queue worker with retries'),
    );
  });
});
