import { z } from 'zod';
import { DecisionInput } from '../contracts/decision';
import { CancelIntentRequest, ListIntentsQuery, SubmitIntentRequest } from '../contracts/intent';
import {
  DecisionResponse,
  HealthReport,
  IntentPage,
  IntentView,
  LlmStatsView,
  ProblemView,
  ValidationReportView,
} from '../contracts/views';

// The OpenAPI 3.1 document, generated from the same zod schemas that validate requests and type responses.

const schemas = {
  SubmitIntentRequest: z.toJSONSchema(SubmitIntentRequest, { io: 'input' }),
  DecisionInput: z.toJSONSchema(DecisionInput, { io: 'input' }),
  CancelIntentRequest: z.toJSONSchema(CancelIntentRequest, { io: 'input' }),
  IntentView: z.toJSONSchema(IntentView),
  IntentPage: z.toJSONSchema(IntentPage),
  DecisionResponse: z.toJSONSchema(DecisionResponse),
  HealthReport: z.toJSONSchema(HealthReport),
  LlmStats: z.toJSONSchema(LlmStatsView),
  ValidationReport: z.toJSONSchema(ValidationReportView),
  Problem: z.toJSONSchema(ProblemView),
};

const ref = (name: keyof typeof schemas) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: keyof typeof schemas) => ({ content: { 'application/json': { schema: ref(name) } } });
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});
const idParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });

const listQuery = z.toJSONSchema(ListIntentsQuery, { io: 'input' }) as { properties: Record<string, object> };

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'QuantumLayer API', version: '1.0.0' },
  servers: [{ url: '/api/v1' }],
  paths: {
    '/intents': {
      post: {
        summary: 'Submit an intent',
        parameters: [
          { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 } },
        ],
        requestBody: { required: true, ...json('SubmitIntentRequest') },
        responses: {
          202: { description: 'Accepted (or replayed, with Idempotent-Replayed: true)', ...json('IntentView') },
          400: problem('Invalid body or header'),
          413: problem('Body too large'),
          415: problem('Body is not JSON'),
          422: problem('Idempotency-Key reused with another body'),
          503: problem('Temporal unavailable; nothing was accepted'),
        },
      },
      get: {
        summary: 'List intents, newest first',
        parameters: Object.entries(listQuery.properties).map(([name, schema]) => ({ name, in: 'query', schema })),
        responses: { 200: { description: 'A page', ...json('IntentPage') }, 400: problem('Invalid query') },
      },
    },
    '/intents/{id}': {
      get: {
        summary: 'An intent: status, tasks, validation, gate, capsule',
        parameters: [idParam('id')],
        responses: { 200: { description: 'The intent', ...json('IntentView') }, 404: problem('Unknown intent') },
      },
    },
    '/intents/{id}/decision': {
      post: {
        summary: 'Approve or reject an intent waiting at its gate',
        parameters: [idParam('id')],
        requestBody: { required: true, ...json('DecisionInput') },
        responses: {
          200: { description: 'Decision accepted', ...json('DecisionResponse') },
          400: problem('Invalid decision'),
          404: problem('Unknown intent'),
          409: problem('The intent is not awaiting a decision'),
        },
      },
    },
    '/intents/{id}/validation': {
      get: {
        summary: 'The validation report: verdict, scores with explanations, findings, controls, recommendations',
        parameters: [
          idParam('id'),
          { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'sarif'], default: 'json' } },
        ],
        responses: {
          200: {
            description: 'The report (JSON), or SARIF 2.1.0 with format=sarif',
            content: {
              'application/json': { schema: ref('ValidationReport') },
              'application/sarif+json': { schema: { type: 'object' } },
            },
          },
          404: problem('Unknown intent, or not validated yet'),
        },
      },
    },
    '/intents/{id}/cancel': {
      post: {
        summary: 'Cancel a running intent (tasks and activities stop; no capsule)',
        parameters: [idParam('id')],
        requestBody: { required: false, ...json('CancelIntentRequest') },
        responses: {
          202: { description: 'Cancellation requested' },
          400: problem('Invalid request'),
          404: problem('Unknown intent'),
          409: problem('The intent is finishing or finished'),
        },
      },
    },
    '/capsules/{id}/download': {
      get: {
        summary: 'Stream a capsule archive (sha256 in X-Checksum-Sha256)',
        parameters: [idParam('id')],
        responses: {
          200: {
            description: 'The tar.gz archive',
            content: { 'application/gzip': { schema: { type: 'string', contentMediaType: 'application/gzip' } } },
          },
          404: problem('Unknown capsule'),
        },
      },
    },
    '/llm/stats': {
      get: {
        summary: 'LLM response cache statistics (hit rate over all recorded calls)',
        responses: { 200: { description: 'Statistics', ...json('LlmStats') } },
      },
    },
    '/health': {
      get: {
        summary: 'Temporal, database and S3 reachability',
        responses: {
          200: { description: 'All reachable', ...json('HealthReport') },
          503: { description: 'Degraded', ...json('HealthReport') },
        },
      },
    },
  },
  components: { schemas },
};
