import type { Finding } from '../../contracts/validation';

/**
 * Weakness classes, so two tools naming one weakness differently are recognised as the same: a static
 * check's CWE-95 and a reviewer's CWE-94 are the same eval. `words` match rule ids without a CWE.
 */
const CLASSES: { name: string; cwes: string[]; words: RegExp }[] = [
  {
    name: 'code-injection',
    cwes: ['CWE-94', 'CWE-95', 'CWE-917', 'CWE-1336'],
    words: /eval|code-injection|new-func|template-injection/,
  },
  { name: 'command-injection', cwes: ['CWE-77', 'CWE-78', 'CWE-88'], words: /command-injection|shell|child-process/ },
  { name: 'sql-injection', cwes: ['CWE-89', 'CWE-943'], words: /sql|query-injection/ },
  {
    name: 'path-traversal',
    cwes: ['CWE-22', 'CWE-23', 'CWE-73', 'CWE-706'],
    words: /path-traversal|directory-traversal|zip-slip|non-literal-fs/,
  },
  { name: 'xss', cwes: ['CWE-79', 'CWE-80', 'CWE-116'], words: /xss|cross-site-scripting|html-injection/ },
  { name: 'open-redirect', cwes: ['CWE-601'], words: /open-redirect/ },
  { name: 'ssrf', cwes: ['CWE-918'], words: /ssrf|server-side-request/ },
  { name: 'prototype-pollution', cwes: ['CWE-1321', 'CWE-915'], words: /prototype-pollution/ },
  {
    name: 'credentials',
    cwes: ['CWE-259', 'CWE-321', 'CWE-326', 'CWE-522', 'CWE-798'],
    words: /secret|credential|password|hard-?coded|api-key|private-key|signing-key/,
  },
  { name: 'cleartext', cwes: ['CWE-311', 'CWE-319'], words: /cleartext|plaintext-transmission|insecure-http/ },
  { name: 'redos', cwes: ['CWE-185', 'CWE-1333'], words: /redos|unsafe-regex/ },
  { name: 'weak-random', cwes: ['CWE-330', 'CWE-338'], words: /weak-random|pseudo-random/ },
  { name: 'deserialisation', cwes: ['CWE-502'], words: /deserializ|deserialis/ },
];

/** The classes a finding belongs to: by its CWEs and its rule id; an unmapped CWE is its own class. */
export function weaknessClasses(item: Finding): Set<string> {
  const cwes = item.cwe ?? [];
  const rule = item.ruleId.toLowerCase();
  const classes = new Set<string>();
  for (const { name, cwes: members, words } of CLASSES) {
    if (cwes.some((cwe) => members.includes(cwe)) || words.test(rule)) classes.add(name);
  }
  for (const cwe of cwes) if (!CLASSES.some((c) => c.cwes.includes(cwe))) classes.add(cwe);
  return classes;
}

const place = (item: Finding) => (item.location ? `${item.location.path}:${item.location.line}` : undefined);

/**
 * Drops each reviewer finding that a static check already reported at the same file:line with the same
 * weakness class, so one weakness is neither listed nor scored twice; the static finding (reproducible)
 * stays. A finding without a recognisable class is never taken for another.
 */
export function withoutStaticDuplicates(
  existing: Finding[],
  reviewed: Finding[],
): { findings: Finding[]; merged: number } {
  const classesAt = new Map<string, Set<string>>();
  for (const item of existing) {
    const key = place(item);
    if (!key) continue;
    const classes = classesAt.get(key) ?? new Set<string>();
    for (const name of weaknessClasses(item)) classes.add(name);
    classesAt.set(key, classes);
  }
  const findings: Finding[] = [];
  let merged = 0;
  for (const item of reviewed) {
    const there = classesAt.get(place(item) ?? '');
    if (there && [...weaknessClasses(item)].some((name) => there.has(name))) merged++;
    else findings.push(item);
  }
  return { findings, merged };
}
