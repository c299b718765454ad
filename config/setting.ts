import { z } from 'zod';

/**
 * How an environment variable is declared: once, in the shape of the module that owns it (config/index.ts,
 * adapters/llm/config.ts, validation/config.ts, adapters/sandbox/config.ts), in zod's own terms:
 *
 *   GATE_TIMEOUT: duration.prefault('7d').meta({ section: gate, doc: 'How long an intent waits …' }),
 *   TEMPORAL_CLI_PATH: z.string().min(1).optional().meta({ section: temporal, doc: 'Use this …' }),
 *
 * - `.prefault(value)`: the default, written as the environment writes it ('7d', '10', 'false') and parsed
 *   like any other value, so `.env.example` shows exactly what an unset variable means.
 *   `.optional()` instead: no default.
 * - `.meta({ section, doc })`: where it goes in `.env.example`, and the comment lines above it.
 *
 * config/env-example.ts renders `.env.example` from these declarations (`npm run env:example`), and
 * test/config-env-example.test.ts fails when the file is out of date. Modules below config/ (adapters)
 * need nothing from here at run time: only zod, and these types.
 */

/** A titled part of `.env.example`, opened by a `# --- title ---` heading. */
export interface Section {
  readonly title: string;
}

/** A paragraph of a section (after a blank line), opened by its note's comment lines. */
export interface Subsection {
  readonly parent: Section;
  readonly note: readonly string[];
}

declare module 'zod' {
  interface GlobalMeta {
    /** The `.env.example` section (or paragraph of one) the variable belongs to. */
    section?: Section | Subsection;
    /** Comment lines above the variable in `.env.example`; none when the name says it all. */
    doc?: string | readonly string[];
  }
}

export interface Setting {
  name: string;
  section: Section | Subsection;
  doc: readonly string[];
  /** As written in the environment; undefined: no default. */
  default?: string;
}

/** Reads one variable's declaration back, or explains what is missing. */
export function settingOf(name: string, schema: z.ZodType): Setting {
  const meta = z.globalRegistry.get(schema);
  if (!meta?.section) {
    throw new Error(`${name} has no .meta({ section, doc }) (config/setting.ts), so .env.example cannot document it`);
  }
  const doc = typeof meta.doc === 'string' ? [meta.doc] : (meta.doc ?? []);
  if (schema instanceof z.ZodPrefault) {
    const value: unknown = schema.def.defaultValue;
    if (typeof value !== 'string') {
      throw new Error(`${name}: declare the default as the environment writes it, e.g. .prefault('${String(value)}')`);
    }
    return { name, section: meta.section, doc, default: value };
  }
  if (schema instanceof z.ZodOptional) return { name, section: meta.section, doc };
  throw new Error(
    `${name}: declare a default with .prefault('…') (as the environment writes it), or none with .optional()`,
  );
}

/** Every variable of an environment shape, in declaration order. */
export function settingsOf(shape: Record<string, z.ZodType>): Setting[] {
  return Object.entries(shape).map(([name, schema]) => settingOf(name, schema));
}
