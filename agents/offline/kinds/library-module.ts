import type { GeneratedFile } from '../../generated-file';
import type { OfflineSpec } from '../catalogue';
import { entityModule, entityNames, sampleObject, storeModule } from './entity-code';
import { header } from './header';

/** Source files: entity and validation, the store, query helpers and the public index. */
export function libraryModuleCode(spec: OfflineSpec): GeneratedFile[] {
  const n = entityNames(spec.entity);
  const queries = `${header(spec.kind)}import type { ${n.input}, ${n.type} } from './${n.module}';

/** The ${n.pluralLabel} whose fields equal every given criterion. */
export function where(items: readonly ${n.type}[], criteria: Partial<${n.input}>): ${n.type}[] {
  const entries = Object.entries(criteria) as [keyof ${n.input}, unknown][];
  return items.filter((item) => entries.every(([field, value]) => item[field] === value));
}

/** A sorted copy: by one field, ascending or descending; ties keep their order. */
export function sortBy(items: readonly ${n.type}[], field: keyof ${n.type}, direction: 'asc' | 'desc' = 'asc'): ${n.type}[] {
  const sign = direction === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => sign * compare(a[field], b[field]));
}

function compare(x: unknown, y: unknown): number {
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  return String(x).localeCompare(String(y), 'en', { numeric: true });
}

/** How many ${n.pluralLabel} have each value of a field. */
export function countBy(items: readonly ${n.type}[], field: keyof ${n.input}): Map<unknown, number> {
  const counts = new Map<unknown, number>();
  for (const item of items) counts.set(item[field], (counts.get(item[field]) ?? 0) + 1);
  return counts;
}
`;
  const index = `${header(spec.kind)}export * from './${n.module}';
export * from './${n.storeModule}';
export * from './queries';
`;
  return [
    entityModule(spec.kind, spec.entity),
    storeModule(spec.kind, spec.entity),
    { path: 'src/queries.ts', content: queries, language: 'typescript' },
    { path: 'src/index.ts', content: index, language: 'typescript' },
  ];
}

/** test/<entity>.test.ts: validation, every store operation and the queries. */
export function libraryModuleTests(spec: OfflineSpec): GeneratedFile[] {
  const n = entityNames(spec.entity);
  const first = spec.entity.fields[0]!;
  const content = `${header(spec.kind)}import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { countBy, ${n.parseInput}, ${n.parsePatch}, ${n.store}, sortBy, where, type ${n.input} } from '../src/index';

const a: ${n.input} = ${JSON.stringify(sampleObject(spec.entity, 0))};
const b: ${n.input} = ${JSON.stringify(sampleObject(spec.entity, 1))};

test('${n.parseInput} accepts a complete ${n.label} and names every problem otherwise', () => {
  assert.deepEqual(${n.parseInput}(a), { ok: true, value: a });
  const result = ${n.parseInput}({ surprise: true });
  assert.equal(result.ok, false);
  if (!result.ok) {
    assert.ok(result.errors.includes('surprise: unknown field'));
${spec.entity.fields.map((f) => `    assert.ok(result.errors.includes('${f.name}: is required'));`).join('\n')}
  }
  assert.equal(${n.parseInput}(null).ok, false);
  assert.equal(${n.parseInput}({ ...a, ${first.name}: ${first.type === 'number' || first.type === 'boolean' ? "'wrong type'" : '7'} }).ok, false);
});

test('${n.parsePatch} accepts any non-empty subset of the fields', () => {
  assert.deepEqual(${n.parsePatch}({ ${first.name}: b.${first.name} }), { ok: true, value: { ${first.name}: b.${first.name} } });
  assert.equal(${n.parsePatch}({}).ok, false);
});

test('the store creates, reads, lists, updates and removes ${n.pluralLabel}', () => {
  const store = new ${n.store}();
  const created = store.create(a);
  assert.deepEqual(store.get(created.id), { ...a, id: created.id });
  const second = store.create(b);
  assert.notEqual(second.id, created.id);
  assert.deepEqual(store.list().map((item) => item.id), [created.id, second.id]);
  assert.deepEqual(store.update(created.id, { ${first.name}: b.${first.name} }), { ...a, ${first.name}: b.${first.name}, id: created.id });
  assert.equal(store.update('missing', {}), undefined);
  assert.equal(store.remove(created.id), true);
  assert.equal(store.remove(created.id), false);
  assert.equal(store.size, 1);
});

test('a store restored from saved items keeps their ids and continues after the highest', () => {
  const saved = [{ ...a, id: '7' }];
  const store = ${n.store}.from(saved);
  assert.deepEqual(store.get('7'), saved[0]);
  assert.equal(store.create(b).id, '8');
});

test('queries filter, sort and count without changing their input', () => {
  const store = new ${n.store}();
  const first = store.create(a);
  const second = store.create(b);
  const items = store.list();
  assert.deepEqual(where(items, { ${first.name}: a.${first.name} }), [first]);
  assert.deepEqual(sortBy(items, 'id', 'desc').map((item) => item.id), [second.id, first.id]);
  assert.equal(countBy(items, '${first.name}').get(a.${first.name}), 1);
  assert.deepEqual(items, [first, second]);
});
`;
  return [{ path: `test/${n.module}.test.ts`, content, language: 'typescript' }];
}

export function libraryModuleUsage(spec: OfflineSpec): string[] {
  const n = entityNames(spec.entity);
  return [
    '```ts',
    `import { ${n.store}, ${n.parseInput}, where } from './src';`,
    '',
    `const store = new ${n.store}();`,
    `const input = ${n.parseInput}(${JSON.stringify(sampleObject(spec.entity))});`,
    'if (input.ok) store.create(input.value);',
    `where(store.list(), { ${spec.entity.fields[0]!.name}: ${JSON.stringify(sampleObject(spec.entity)[spec.entity.fields[0]!.name])} });`,
    '```',
  ];
}
