import { CAPABILITY_TITLES, type Capability } from '../../contracts/requirements';
import { extractRequirements, withoutControlPhrases } from '../planning/requirements';
import {
  entitySpec,
  entityWords,
  fieldSpecs,
  numberParameter,
  operationSpecs,
  type EntitySpec,
  type Operation,
} from './intent-parameters';
import { kebab, words } from './names';

/** Labels every offline plan and artifact, so nobody mistakes catalogue output for an LLM's. */
export const OFFLINE_GENERATOR = 'offline-catalogue-v1 (deterministic, no LLM)';

export const catalogueKinds = [
  'rest-crud-service',
  'cli-tool',
  'library-module',
  'background-worker',
  'kubernetes-manifests',
] as const;
export type CatalogueKind = (typeof catalogueKinds)[number];

export interface WorkerParameters {
  concurrency: number;
  maxAttempts: number;
}

export interface KubernetesParameters {
  app: string;
  image: string;
  replicas: number;
  port: number;
  namespace: string;
}

/** Everything a catalogue generator needs, taken from the intent text (and defaults, listed in `assumptions`). */
export interface OfflineSpec {
  kind: CatalogueKind;
  projectName: string;
  entity: EntitySpec;
  operations: Operation[];
  port: number;
  worker: WorkerParameters;
  kubernetes: KubernetesParameters;
  /** Defaults the generator used because the text did not say; shown in the plan and the README. */
  assumptions: string[];
  /** Optional features the intent asked for and this kind implements, with tests (absent in older plans). */
  features?: Capability[];
  /** Capabilities the intent asked for that this kind does not implement: stated, and reported as not covered. */
  notImplemented?: Capability[];
}

/** Optional features each kind can add when the intent asks for them (each with its tests). */
export const CATALOGUE_FEATURES: Record<CatalogueKind, Capability[]> = {
  'rest-crud-service': ['authentication', 'audit-logging', 'encryption-at-rest'],
  'cli-tool': [],
  'library-module': [],
  'background-worker': ['hmac-verification'],
  'kubernetes-manifests': [],
};

/** What each kind does whether asked or not. */
export const INHERENT_CAPABILITIES: Record<CatalogueKind, Capability[]> = {
  'rest-crud-service': ['input-validation'],
  'cli-tool': ['input-validation'],
  'library-module': ['input-validation'],
  'background-worker': ['input-validation', 'retries'],
  'kubernetes-manifests': [],
};

/** What an offline spec implements: its kind's inherent capabilities and the features it was asked for. */
export const implementedCapabilities = (spec: Pick<OfflineSpec, 'kind' | 'features'>): Capability[] => [
  ...INHERENT_CAPABILITIES[spec.kind],
  ...(spec.features ?? []),
];

export const hasFeature = (spec: Pick<OfflineSpec, 'features'>, feature: Capability) =>
  spec.features?.includes(feature) ?? false;

export interface CatalogueEntry {
  kind: CatalogueKind;
  title: string;
  /** Words in the intent that select this kind (checked in catalogue order). */
  matches: RegExp;
  example: string;
}

/** The documented catalogue (docs/llm.md), in the order kinds are tried. */
export const CATALOGUE: CatalogueEntry[] = [
  {
    kind: 'kubernetes-manifests',
    title: 'Kubernetes manifests (Deployment + Service, typed builder, YAML)',
    matches: /\b(kubernetes|k8s|manifests?)\b/,
    example: 'Kubernetes manifests for the shop app with image ghcr.io/acme/shop:1.2.3, 3 replicas, port 8080',
  },
  {
    kind: 'background-worker',
    title: 'Background job worker (queue, concurrency, retries with backoff, dead letters, graceful stop)',
    matches: /\b(background (worker|job|process)|worker|queue|jobs?|consumer|webhooks?)\b/,
    example:
      'A background worker that processes invoice jobs with customer, amount:number and due date, concurrency 3, 4 attempts',
  },
  {
    kind: 'cli-tool',
    title: 'Command-line tool managing records in a JSON file',
    matches: /\b(cli|command[- ]line|terminal)\b/,
    example: 'A command-line tool to manage contacts with name, email and phone',
  },
  {
    kind: 'rest-crud-service',
    title: 'REST CRUD service over HTTP (node:http, no runtime dependencies)',
    matches: /\b(rest|restful|http|api|crud|endpoints?|microservice|service|server)\b/,
    example: 'A REST API for books with title, author, year and available',
  },
  {
    kind: 'library-module',
    title: 'TypeScript library module (typed entity, validation, repository, queries)',
    matches: /\b(module|library|package|sdk|tracker|registry|manager)\b/,
    example: 'A TypeScript module that tracks library book loans with borrower, book title and due date',
  },
];

const KIND_SUFFIX: Record<CatalogueKind, string> = {
  'rest-crud-service': 'service',
  'cli-tool': 'cli',
  'library-module': 'module',
  'background-worker': 'worker',
  'kubernetes-manifests': 'k8s',
};

export type Recognised = { ok: true; spec: OfflineSpec } | { ok: false; reason: string };

/** How to get an LLM when the catalogue cannot help: part of every refusal. */
export const CONFIGURE_LLM =
  'An LLM provider is required for this intent: set LLM_PROVIDERS=openai with OPENAI_API_KEY, ' +
  'LLM_PROVIDERS=azure with AZURE_OPENAI_ENDPOINT/AZURE_OPENAI_API_KEY/AZURE_OPENAI_DEPLOYMENT, or ' +
  'LLM_PROVIDERS=compatible with LLM_COMPATIBLE_BASE_URL/LLM_COMPATIBLE_MODEL for Ollama, vLLM or llama.cpp (docs/llm.md).';

/** Picks the catalogue kind and its parameters from the intent text, or says plainly why it cannot. */
export function recognise(text: string): Recognised {
  const lower = text.toLowerCase();
  const entry = CATALOGUE.find((candidate) => candidate.matches.test(lower));
  if (!entry) {
    return {
      ok: false,
      reason:
        `this intent is outside the offline catalogue (${catalogueKinds.join(', ')}); no LLM provider is configured. ` +
        CONFIGURE_LLM,
    };
  }
  const assumptions: string[] = [];
  // The subject and fields come from what the intent says besides its controls ("with authentication").
  const subject = withoutControlPhrases(text);
  const requested = [...new Set(extractRequirements(text).flatMap((r) => (r.capability ? [r.capability] : [])))];
  const ops = operationSpecs(text);
  // An audit log records changes: a service that makes none has nothing to audit.
  const mutates = ops.operations.some((op) => op === 'create' || op === 'update' || op === 'delete');
  const features = requested.filter(
    (c) => CATALOGUE_FEATURES[entry.kind].includes(c) && (c !== 'audit-logging' || mutates),
  );
  const notImplemented = requested.filter(
    (c) => !features.includes(c) && !INHERENT_CAPABILITIES[entry.kind].includes(c),
  );
  if (notImplemented.length) {
    assumptions.push(
      `asked for but not implemented by the offline ${entry.kind} generator: ` +
        `${notImplemented.map((c) => CAPABILITY_TITLES[c]).join(', ')} (validation reports each as not covered)`,
    );
  }
  const found = entityWords(subject);
  const k8sApp = kubernetesApp(text);
  if (!found && !(entry.kind === 'kubernetes-manifests' && k8sApp)) {
    return {
      ok: false,
      reason:
        `the offline ${entry.kind} generator needs to know what the project is about, e.g. "${entry.example}". ` +
        CONFIGURE_LLM,
    };
  }
  const singularWords = found ?? [k8sApp!];
  let fields = fieldSpecs(subject);
  if (fields.length === 0 && entry.kind !== 'kubernetes-manifests') {
    fields = [{ name: 'name', type: 'string', label: 'name' }];
    assumptions.push(
      'no fields were named: the entity has a single `name` field (say "with title, author and year" to choose)',
    );
  }
  if (!ops.named && (entry.kind === 'rest-crud-service' || entry.kind === 'cli-tool')) {
    assumptions.push('no operations were named: create, read, list, update and delete are all provided');
  }
  const port = numberParameter(text, /\bport\s+(\d{2,5})\b/, 1, 65535);
  const worker = {
    concurrency:
      numberParameter(text, /\bconcurrency(?:\s+of)?\s+(\d+)|\b(\d+)\s+(?:parallel|concurrent)\b/, 1, 64) ?? 2,
    maxAttempts:
      numberParameter(text, /\b(\d+)\s+(?:attempts|tries)\b/, 1, 20) ??
      plusOne(numberParameter(text, /\b(?:retry|retries)\s+(\d+)|\b(\d+)\s+retries\b/, 0, 19)) ??
      3,
  };
  const image = /\bimage\s+([a-z0-9][a-z0-9./_-]*(?::[A-Za-z0-9._-]+)?)/i.exec(text)?.[1];
  const app = k8sApp ?? kebab(singularWords);
  const kubernetes = {
    app,
    image: image ?? `${app}:0.1.0`,
    replicas: numberParameter(text, /\b(\d+)\s+replicas?\b/, 1, 100) ?? 2,
    port: port ?? 8080,
    namespace: /\bnamespace\s+([a-z0-9][a-z0-9-]{0,62})\b/.exec(lower)?.[1] ?? 'default',
  };
  if (entry.kind === 'kubernetes-manifests') {
    if (!image) assumptions.push(`no image was named: using ${kubernetes.image} (say "image registry/name:tag")`);
    if (!port) assumptions.push('no port was named: the container listens on 8080');
  }
  if (entry.kind === 'rest-crud-service' && !port)
    assumptions.push('no port was named: the service listens on PORT or 3000');
  const projectName =
    entry.kind === 'kubernetes-manifests' ? `${app}-k8s` : `${kebab(singularWords)}-${KIND_SUFFIX[entry.kind]}`;
  return {
    ok: true,
    spec: {
      kind: entry.kind,
      projectName: projectName.slice(0, 40).replace(/-+$/, ''),
      entity: entitySpec(singularWords, fields),
      operations: ops.operations,
      port: port ?? 3000,
      worker,
      kubernetes,
      assumptions,
      features,
      notImplemented,
    },
  };
}

const plusOne = (value: number | undefined) => (value === undefined ? undefined : value + 1);

function kubernetesApp(text: string): string | undefined {
  const lower = text.toLowerCase();
  const named =
    /\bfor\s+(?:the\s+|an?\s+|our\s+)?([a-z][a-z0-9-]{0,40})(?:\s+(?:app|application|service|api|deployment))?\b/.exec(
      lower,
    )?.[1] ?? /\b([a-z][a-z0-9-]{0,40})\s+(?:app|application|deployment)\b/.exec(lower)?.[1];
  const name = named ? words(named).join('-') : undefined;
  return name && !['kubernetes', 'k8s', 'manifests', 'a', 'the'].includes(name) ? name : undefined;
}
