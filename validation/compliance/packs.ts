import { CHECKS } from './checks';
import gdpr from './packs/gdpr.json';
import hipaa from './packs/hipaa.json';
import iso27001 from './packs/iso27001.json';
import soc2 from './packs/soc2.json';
import { RulePack, type BuiltInFramework } from './schema';

/** Parses a pack and checks that every rule refers to a built-in check. */
export function loadPack(data: unknown): RulePack {
  const pack = RulePack.parse(data);
  const unknown = pack.rules.filter((rule) => !CHECKS.has(rule.check));
  if (unknown.length)
    throw new Error(`${pack.framework} pack refers to unknown checks: ${unknown.map((r) => r.check).join(', ')}`);
  return pack;
}

/** The built-in packs, validated once at load: a broken pack stops the worker at start, not mid-intent. */
export const BUILT_IN_PACKS: Readonly<Record<BuiltInFramework, RulePack>> = {
  SOC2: loadPack(soc2),
  GDPR: loadPack(gdpr),
  HIPAA: loadPack(hipaa),
  ISO27001: loadPack(iso27001),
};
