import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes the Web UI filters on, e.g. `QlpStatus = "AWAITING_APPROVAL"`.
 * The dev server registers them at start (scripts/services); a self-hosted or Cloud namespace
 * needs them registered once with `temporal operator search-attribute create`.
 * SQL visibility stores allow at most 3 custom attributes per numeric type: hence 3 Int and 2 Double.
 */
export const QlpStatus = defineSearchAttributeKey('QlpStatus', SearchAttributeType.KEYWORD);
export const QlpTenant = defineSearchAttributeKey('QlpTenant', SearchAttributeType.KEYWORD);
export const QlpGatePending = defineSearchAttributeKey('QlpGatePending', SearchAttributeType.BOOL);
/** Percentage of the plan's tasks completed, 0–100. */
export const QlpProgress = defineSearchAttributeKey('QlpProgress', SearchAttributeType.INT);

/** Validation verdict (passed | failed | not_assessed) and scores 0–100, set once validation has run. */
export const QlpValidation = defineSearchAttributeKey('QlpValidation', SearchAttributeType.KEYWORD);
export const QlpScoreOverall = defineSearchAttributeKey('QlpScoreOverall', SearchAttributeType.INT);
export const QlpScoreSecurity = defineSearchAttributeKey('QlpScoreSecurity', SearchAttributeType.INT);
export const QlpScoreQuality = defineSearchAttributeKey('QlpScoreQuality', SearchAttributeType.DOUBLE);
export const QlpScoreCompliance = defineSearchAttributeKey('QlpScoreCompliance', SearchAttributeType.DOUBLE);

/** Name → CLI type, for `temporal server start-dev --search-attribute Name=Type`. */
export const searchAttributeRegistrations: Record<string, 'Keyword' | 'Bool' | 'Int' | 'Double'> = {
  [QlpStatus.name]: 'Keyword',
  [QlpTenant.name]: 'Keyword',
  [QlpGatePending.name]: 'Bool',
  [QlpProgress.name]: 'Int',
  [QlpValidation.name]: 'Keyword',
  [QlpScoreOverall.name]: 'Int',
  [QlpScoreSecurity.name]: 'Int',
  [QlpScoreQuality.name]: 'Double',
  [QlpScoreCompliance.name]: 'Double',
};
