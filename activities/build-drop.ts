import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { dropKeys, loadFiles, sha256 } from '../adapters/storage/artifacts';
import type { ObjectStore } from '../adapters/storage/s3';
import type { Database } from '../adapters/db/client';
import { similarIntentsOf } from '../adapters/db/similar';
import { DropGate, type BuildDropInput, type DropRef } from '../contracts/drop';
import { IntentId } from '../contracts/intent';
import { DynamicReport, ValidationReport } from '../contracts/validation';
import { buildQuantumDrop, dropDocuments } from '../capsule/drop/build';
import { checkedInput, failingArtifacts } from './failures';
import { heartbeating } from './heartbeat';

const Version = z.number().int().min(1).max(10_000);

/** A stored report checked against its contract: one that does not match will not match on a retry either. */
async function readReport<T extends z.ZodType>(store: ObjectStore, schema: T, key: string): Promise<z.infer<T>> {
  const parsed = schema.safeParse(await store.getJson(key));
  if (parsed.success) return parsed.data;
  throw ApplicationFailure.nonRetryable(`stored report ${key} does not match its schema`, 'InvalidReport');
}

export function createDropActivities(store: ObjectStore, db?: Database) {
  return {
    /**
     * The gate's review bundle (capsule/drop): both versions' files, the validation and layer 2 reports,
     * stored as JSON and HTML under keys fixed by gate and version. Deterministic (workflow time), so a
     * retry writes the same bytes; the HTML goes first, so a JSON that exists always has its page.
     */
    buildDrop: failingArtifacts(
      heartbeating(async (input: BuildDropInput): Promise<DropRef> => {
        // They name S3 keys: checked as the API checks them.
        const intentId = checkedInput(IntentId, input.intentId, 'intentId');
        const gate = checkedInput(DropGate, input.gate, 'gate');
        const version = checkedInput(Version, input.version, 'version');
        const { score, dynamic } = input.validation;
        const drop = await buildQuantumDrop(input, {
          current: await loadFiles(store, input.artifacts),
          ...(input.previousArtifacts && { previous: await loadFiles(store, input.previousArtifacts) }),
          ...(score && { report: await readReport(store, ValidationReport, score.reportKey) }),
          ...(dynamic?.status === 'assessed' && { dynamic: await readReport(store, DynamicReport, dynamic.reportKey) }),
          ...(db && { similar: await similarForDrop(db, intentId) }),
        });
        const { json, html } = dropDocuments(drop);
        const keys = dropKeys(intentId, gate, version);
        await store.put(keys.html, html, { 'Content-Type': 'text/html; charset=utf-8', sha256: sha256(html) });
        await store.put(keys.json, json, { 'Content-Type': 'application/json', sha256: sha256(json) });
        return { key: keys.json, sha256: sha256(json), version, gate };
      }),
    ),
  };
}

/** The similar intents recorded at submission, as the drop lists them (absent when none were found). */
async function similarForDrop(db: Database, intentId: string) {
  const rows = await similarIntentsOf(db, intentId);
  return rows.map((row) => ({
    intentId: row.intentId,
    text: row.text,
    similarity: row.similarity,
    status: row.status,
    overall: row.scores?.overall ?? null,
    capsuleId: row.capsule?.id ?? null,
    approvers: row.approvers,
  }));
}
