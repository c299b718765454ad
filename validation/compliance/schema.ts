import { z } from 'zod';
import { Capability } from '../../contracts/requirements';
import { builtInFrameworks, NotCovered, Severity } from '../../contracts/validation';

export { builtInFrameworks, type BuiltInFramework } from '../../contracts/validation';

const ruleId = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,79}$/, 'must be lowercase letters, digits, dots and dashes');
const controlId = z.string().min(1).max(64);

export const PackRule = z.strictObject({
  id: ruleId,
  /** A built-in check id (validation/compliance/checks). */
  check: z.string(),
  controls: z.array(controlId).min(1),
  severity: Severity,
  rationale: z.string().min(20),
  remediation: z.string().optional(),
});
export type PackRule = z.infer<typeof PackRule>;

/** Where a required control applies; elsewhere it is not applicable, with the reason stated. */
export const applicabilities = ['server', 'records', 'server-or-records'] as const;
export const Applicability = z.enum(applicabilities);
export type Applicability = z.infer<typeof Applicability>;

/**
 * A control a project claiming the framework must IMPLEMENT (not merely avoid breaking): a presence check
 * with the capability detectors of validation/coverage. Evaluated only when the intent claims the framework.
 */
export const RequiredControl = z.strictObject({
  id: ruleId,
  control: controlId,
  capability: Capability,
  severity: Severity,
  appliesTo: Applicability,
  rationale: z.string().min(20),
});
export type RequiredControl = z.infer<typeof RequiredControl>;

/** A framework's rule pack: its controls, the rules that check them, and what it does not cover. */
export const RulePack = z
  .strictObject({
    framework: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/),
    name: z.string(),
    version: z.string(),
    description: z.string(),
    controls: z.array(z.strictObject({ id: controlId, title: z.string() })).min(1),
    rules: z.array(PackRule).min(1),
    /** Controls a project claiming this framework must implement (presence checks). */
    required: z.array(RequiredControl).default([]),
    notCovered: z.array(NotCovered),
  })
  .superRefine((pack, ctx) => {
    const controls = new Set(pack.controls.map((c) => c.id));
    if (controls.size !== pack.controls.length)
      ctx.addIssue({ code: 'custom', path: ['controls'], message: 'control ids must be unique' });
    const used = new Set<string>();
    pack.rules.forEach((rule, i) =>
      rule.controls.forEach((id, j) => {
        used.add(id);
        if (!controls.has(id))
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'controls', j], message: `unknown control ${id}` });
      }),
    );
    pack.required.forEach((entry, i) => {
      used.add(entry.control);
      if (!controls.has(entry.control))
        ctx.addIssue({ code: 'custom', path: ['required', i, 'control'], message: `unknown control ${entry.control}` });
    });
    for (const id of controls) {
      if (!used.has(id))
        ctx.addIssue({
          code: 'custom',
          path: ['controls'],
          message: `control ${id} has no rule: list it under notCovered`,
        });
    }
    const ids = [...pack.rules.map((r) => r.id), ...pack.required.map((r) => r.id)];
    if (new Set(ids).size !== ids.length)
      ctx.addIssue({ code: 'custom', path: ['rules'], message: 'rule ids (rules and required) must be unique' });
  });
export type RulePack = z.infer<typeof RulePack>;

/**
 * Tenant regexes run over untrusted code; nested quantifiers and back-references (the shapes of
 * catastrophic backtracking) are refused, and matching runs line by line.
 */
export const SafeRegex = z
  .string()
  .min(1)
  .max(500)
  .refine((source) => !/\((?:[^()\\]|\\.)*[+*]\)\s*[+*{]/.test(source), 'must not nest quantifiers, e.g. (a+)+')
  .refine((source) => !/\\[1-9]|\\k</.test(source), 'must not use back-references')
  .refine((source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression');

export const CustomRule = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lowercase letters, digits and dashes'),
    title: z.string().min(3).max(200),
    severity: Severity,
    rationale: z.string().min(1).max(2000),
    remediation: z.string().min(1).max(2000),
    /** Framework → control ids. A framework that is not built in becomes the tenant's own. */
    controls: z.record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/, 'must be a framework name'),
      z.array(controlId).min(1).max(20),
    ),
    /** Reuse a built-in check... */
    check: z.string().optional(),
    /** ...or match lines of text. */
    match: z
      .strictObject({
        pattern: SafeRegex,
        flags: z
          .string()
          .regex(/^[imsu]{0,4}$/, 'may only use the flags i, m, s, u')
          .optional(),
        /** Globs the rule applies to, e.g. `src/**\/*.ts`; all scanned files by default. */
        files: z.array(z.string().min(1).max(200)).max(20).optional(),
        /** Files matching this are exempt, e.g. when a required safeguard is present. */
        unless: SafeRegex.optional(),
        /** The rule applies only to files matching this; others make it not applicable. */
        appliesIf: SafeRegex.optional(),
      })
      .optional(),
  })
  .refine((rule) => (rule.check === undefined) !== (rule.match === undefined), {
    message: 'give exactly one of check or match',
  })
  .refine((rule) => Object.keys(rule.controls).length > 0, {
    path: ['controls'],
    message: 'map the rule to at least one control',
  });
export type CustomRule = z.infer<typeof CustomRule>;

/** A tenant's rules file (JSON or YAML): which frameworks apply, and extra rules. */
export const CustomRulesFile = z.strictObject({
  version: z.literal(1),
  frameworks: z.array(z.enum(builtInFrameworks)).optional(),
  rules: z.array(CustomRule).max(200).default([]),
});
export type CustomRulesFile = z.infer<typeof CustomRulesFile>;
