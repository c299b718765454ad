import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes the Web UI filters on, e.g. `QlpStatus = "AWAITING_APPROVAL"`.
 * The dev server registers them at start (scripts/services); a self-hosted or Cloud namespace
 * needs them registered once with `temporal operator search-attribute create`.
 */
export const QlpStatus = defineSearchAttributeKey('QlpStatus', SearchAttributeType.KEYWORD);
export const QlpTenant = defineSearchAttributeKey('QlpTenant', SearchAttributeType.KEYWORD);
export const QlpGatePending = defineSearchAttributeKey('QlpGatePending', SearchAttributeType.BOOL);
export const QlpTasksDone = defineSearchAttributeKey('QlpTasksDone', SearchAttributeType.INT);
/** Percentage of the plan's tasks completed, 0–100. */
export const QlpProgress = defineSearchAttributeKey('QlpProgress', SearchAttributeType.INT);

/** Name → CLI type, for `temporal server start-dev --search-attribute Name=Type`. */
export const searchAttributeRegistrations: Record<string, 'Keyword' | 'Bool' | 'Int'> = {
  [QlpStatus.name]: 'Keyword',
  [QlpTenant.name]: 'Keyword',
  [QlpGatePending.name]: 'Bool',
  [QlpTasksDone.name]: 'Int',
  [QlpProgress.name]: 'Int',
};
