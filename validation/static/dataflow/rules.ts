import type { Severity } from '../../../contracts/validation';

export interface DataflowRule {
  /** The finding's category in the labelled corpus (bench/validation-corpus.ts). */
  category: string;
  title: string;
  severity: Severity;
  cwe: string[];
  remediation: string;
  /** What the value reaches without, in the finding's message. */
  without: string;
}

/** The data-flow rules: `dataflow/<id>`, one per vulnerability class. */
export const DATAFLOW_RULES = {
  'path-traversal': {
    category: 'path-traversal',
    title: 'File path built from input',
    severity: 'high',
    cwe: ['CWE-22'],
    remediation:
      'Resolve the path (path.resolve) against a fixed root and refuse it unless it stays inside the root (startsWith(root + path.sep)); or keep only path.basename of the input.',
    without: 'normalisation and a containment check',
  },
  'open-redirect': {
    category: 'open-redirect',
    title: 'Redirect to a URL from input',
    severity: 'medium',
    cwe: ['CWE-601'],
    remediation:
      'Redirect only to relative paths that start with a single "/" or to hosts on an allow-list; never to a URL taken as is from the request.',
    without: 'an allow-list or a same-site check',
  },
  xss: {
    category: 'xss',
    title: 'Input written into HTML without escaping',
    severity: 'high',
    cwe: ['CWE-79'],
    remediation:
      'Escape values for HTML (a template engine with auto-escaping, or an escapeHtml function) or send them as JSON / text/plain.',
    without: 'HTML escaping',
  },
  ssrf: {
    category: 'ssrf',
    title: 'Outbound request to a URL from input',
    severity: 'high',
    cwe: ['CWE-918'],
    remediation:
      'Build outbound URLs from a fixed origin, or check the parsed hostname against an allow-list (and refuse private addresses) before the request.',
    without: 'a host allow-list',
  },
  'code-injection': {
    category: 'code-injection',
    title: 'Code built from input',
    severity: 'critical',
    cwe: ['CWE-94', 'CWE-95'],
    remediation: 'Never evaluate input as code: parse it as data (JSON.parse) or map it to fixed functions.',
    without: 'any restriction',
  },
  'template-injection': {
    category: 'template-injection',
    title: 'Template compiled from input',
    severity: 'critical',
    cwe: ['CWE-1336'],
    remediation: 'Compile templates from files in the project only; pass input as data to render.',
    without: 'any restriction',
  },
  'command-injection': {
    category: 'command-injection',
    title: 'Shell command built from input',
    severity: 'critical',
    cwe: ['CWE-78'],
    remediation: 'Use execFile/spawn with a fixed program, an argument array and no shell; validate arguments.',
    without: 'an allow-list',
  },
  'sql-injection': {
    category: 'sql-injection',
    title: 'SQL built from input',
    severity: 'critical',
    cwe: ['CWE-89'],
    remediation: 'Pass values as bound parameters ($1, ?) or use a tagged sql template.',
    without: 'parameters',
  },
  'prototype-pollution': {
    category: 'prototype-pollution',
    title: 'Prototype pollution',
    severity: 'high',
    cwe: ['CWE-1321'],
    remediation:
      'Skip the keys __proto__, constructor and prototype when copying or setting by path (or use Map / Object.create(null) targets); keep lodash at 4.17.21 or later.',
    without: 'blocking __proto__, constructor and prototype',
  },
  'cleartext-transmission': {
    category: 'cleartext-transmission',
    title: 'Request sent without TLS',
    severity: 'high',
    cwe: ['CWE-319'],
    remediation: 'Use https:// (the https module, protocol "https:", wss://) for every remote endpoint.',
    without: 'TLS',
  },
  'zip-slip': {
    category: 'path-traversal',
    title: 'Archive entry extracted outside the target directory',
    severity: 'high',
    cwe: ['CWE-22'],
    remediation:
      'Resolve each entry name against the target directory and skip the entry unless the result stays inside it (startsWith(dest + path.sep)); refuse absolute names and names with "..".',
    without: 'a containment check',
  },
  'unsafe-deserialization': {
    category: 'unsafe-deserialization',
    title: 'Untrusted data deserialised into code or objects',
    severity: 'critical',
    cwe: ['CWE-502'],
    remediation:
      'Parse untrusted data with JSON.parse (or yaml.load with the default/JSON schema of js-yaml 4); never node-serialize, funcster, serialize-to-js, or js-yaml 3 load()/DEFAULT_FULL_SCHEMA.',
    without: 'a safe parser',
  },
  xxe: {
    category: 'xxe',
    title: 'XML parsed with external entities enabled',
    severity: 'high',
    cwe: ['CWE-611'],
    remediation:
      'Parse XML with entity substitution and DTD loading off (libxmljs: no noent/dtdload; keep nonet); prefer a parser that never resolves external entities.',
    without: 'disabling external entities',
  },
  redos: {
    category: 'redos',
    title: 'Regular expression open to catastrophic backtracking',
    severity: 'medium',
    cwe: ['CWE-1333'],
    remediation:
      'Never build a RegExp from input (escape it with escapeRegExp, or match literally with includes/indexOf); rewrite nested or overlapping quantifiers ((a+)+, (\\w|\\d)*) and cap the input length.',
    without: 'escaping',
  },
  'error-disclosure': {
    category: 'error-disclosure',
    title: 'Error details sent to the client',
    severity: 'medium',
    cwe: ['CWE-209'],
    remediation:
      'Log the error on the server and send a generic message (with a correlation id); send err.message only for errors you created for the client (e.g. err.expose or your own error class).',
    without: 'a generic message',
  },
  csrf: {
    category: 'csrf',
    title: 'State-changing route without CSRF protection',
    severity: 'medium',
    cwe: ['CWE-352'],
    remediation:
      'The app authenticates with cookies: protect POST/PUT/PATCH/DELETE routes with a CSRF token (csrf-csrf, csrf-sync, lusca, @fastify/csrf-protection), set the session cookie SameSite=strict (or lax), or require and check a custom header.',
    without: 'a CSRF token',
  },
  'mass-assignment': {
    category: 'mass-assignment',
    title: 'Request body assigned to a model without a field allow-list',
    severity: 'high',
    cwe: ['CWE-915'],
    remediation:
      'Copy only the fields the client may set (const { name, email } = req.body; _.pick(req.body, ALLOWED); a schema that strips unknown keys) before creating or updating a record.',
    without: 'a field allow-list',
  },
  'log-injection': {
    category: 'log-injection',
    title: 'Input written to a log without neutralising line breaks',
    severity: 'medium',
    cwe: ['CWE-117'],
    remediation:
      'Log input as a structured field (logger.info({ user }, "login")) or strip CR/LF first (value.replace(/[\\r\\n]/g, "")) or JSON.stringify it.',
    without: 'neutralising CR/LF',
  },
} satisfies Record<string, DataflowRule>;

export type DataflowRuleId = keyof typeof DATAFLOW_RULES;
