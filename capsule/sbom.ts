import { Contrib, Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import parseSpdxExpression from 'spdx-expression-parse';
import type { CapsuleMetadata } from '../contracts/capsule';
import { sha256 } from '../contracts/digest';
import { byCodePoint, npmPackages, type NpmPackage } from './npm-packages';

// sbom.cdx.json: a CycloneDX 1.6 SBOM of the generated project (docs/capsule-format.md). Pure: the same
// input gives the same bytes, so the capsule archive stays reproducible.

export interface SbomInput {
  /** The capsule's UUID: the SBOM's serial number is `urn:uuid:<capsuleId>`. */
  capsuleId: string;
  name: string;
  version: string;
  description: string;
  /** The capsule's createdAt (workflow time), never the clock. */
  createdAt: string;
  /** The platform that made it (metadata.tools). */
  platform: { name: string; version: string };
  /** The generated project, paths relative to its root. */
  files: { path: string; content: Buffer }[];
}

/** Our property names; `cdx:npm:package:development` is CycloneDX's own (cyclonedx-property-taxonomy). */
export const SBOM_PROPERTIES = {
  versionSource: 'quantumlayer:version-source',
  declaredIn: 'quantumlayer:declared-in',
  development: 'cdx:npm:package:development',
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const licenseFactory = new Contrib.License.Factories.LicenseFactory(parseSpdxExpression);
const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));

/** `pkg:npm/<name>@<version>`, versionless for a declared range; undefined for a name purl refuses. */
function npmPurl(pkg: NpmPackage): string | undefined {
  const slash = pkg.name.startsWith('@') ? pkg.name.indexOf('/') : -1;
  const [namespace, name] = slash > 0 ? [pkg.name.slice(0, slash), pkg.name.slice(slash + 1)] : [undefined, pkg.name];
  try {
    return new PackageURL('npm', namespace, name, pkg.resolved ? pkg.version : undefined).toString();
  } catch {
    return undefined;
  }
}

function packageComponent(pkg: NpmPackage): Models.Component {
  const component = new Models.Component(Enums.ComponentType.Library, pkg.name, {
    bomRef: `npm:${pkg.name}@${pkg.version}`,
    version: pkg.version,
    purl: npmPurl(pkg),
    scope: pkg.scope === 'runtime' ? Enums.ComponentScope.Required : Enums.ComponentScope.Optional,
  });
  if (pkg.license) component.licenses.add(licenseFactory.makeFromString(pkg.license));
  const properties = [
    new Models.Property(SBOM_PROPERTIES.versionSource, pkg.resolved ? 'lockfile' : 'declared-range'),
    ...(pkg.scope === 'dev' ? [new Models.Property(SBOM_PROPERTIES.development, 'true')] : []),
    ...pkg.declaredIn.map((path) => new Models.Property(SBOM_PROPERTIES.declaredIn, path)),
  ];
  for (const property of properties) component.properties.add(property);
  return component;
}

function fileComponent(path: string, content: Buffer): Models.Component {
  return new Models.Component(Enums.ComponentType.File, path, {
    bomRef: `file:${path}`,
    hashes: new Models.HashDictionary([[Enums.HashAlgorithm['SHA-256'], sha256(content)]]),
  });
}

/** CycloneDX 1.6 JSON, 2-space indented: the application, its npm packages and every file with its sha256. */
export function buildSbom(input: SbomInput): string {
  const serialNumber = `urn:uuid:${input.capsuleId.toLowerCase()}`;
  if (!UUID.test(input.capsuleId.toLowerCase())) throw new TypeError(`capsule id ${input.capsuleId} is not a UUID`);

  const application = new Models.Component(Enums.ComponentType.Application, input.name, {
    bomRef: `capsule:${input.capsuleId.toLowerCase()}`,
    version: input.version,
    description: input.description,
  });
  const platform = new Models.Component(Enums.ComponentType.Application, input.platform.name, {
    version: input.platform.version,
  });
  const bom = new Models.Bom({
    serialNumber,
    metadata: new Models.Metadata({
      timestamp: new Date(input.createdAt),
      component: application,
      tools: new Models.Tools({ components: new Models.ComponentRepository([platform]) }),
    }),
  });

  for (const pkg of npmPackages(input.files)) {
    const component = packageComponent(pkg);
    bom.components.add(component);
    application.dependencies.add(component.bomRef);
  }
  // The last of two same-path entries wins, as in the archive; one component per path keeps bom-refs unique.
  const files = new Map(input.files.map((file) => [file.path, file.content]));
  for (const path of [...files.keys()].sort(byCodePoint)) bom.components.add(fileComponent(path, files.get(path)!));

  // Components go in already in code-point order: the library's sortLists compares with localeCompare,
  // whose order follows the process's locale (cs-CZ puts "ch" after "h"), so it is left off.
  return serializer.serialize(bom, { sortLists: false, space: 2 });
}

/** capsule.json's metadata.dependencies: the same packages as the SBOM's, by name and version. */
export function sbomDependencies(files: { path: string; content: Buffer }[]): CapsuleMetadata['dependencies'] {
  return npmPackages(files).map(({ name, version, scope }) => ({ name, version, scope }));
}
