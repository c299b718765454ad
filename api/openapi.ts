import { z } from 'zod';
import { DecisionRequest } from '../contracts/decision';
import { CreateApiKeyRequest } from '../contracts/identity';
import { CancelIntentBody, ListIntentsQuery, SubmitIntentRequest } from '../contracts/intent';
import { AuditPageView, AuditQuery, AuditTrailView } from '../contracts/audit-chain';
import { CodecPayloads } from '../contracts/codec';
import { SigningKeyList, VerificationResult } from '../contracts/capsule';
import { DROP_GATES, QuantumDropView } from '../contracts/drop';
import { SimilarIntentsView } from '../contracts/similar';
import { StatusReport } from '../contracts/status';
import { ListCapsulesQuery } from '../contracts/capsule-query';
import {
  CreatedWebhookView,
  CreateWebhookRequest,
  ListDeliveriesQuery,
  WebhookDeliveryPage,
  WebhookDeliveryView,
  WebhookList,
  WebhookView,
} from '../contracts/webhooks';
import {
  ApiKeyList,
  ApiKeyView,
  CapsuleDetailView,
  CapsulePage,
  CreatedApiKeyView,
  DecisionTokenView,
  PrincipalView,
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
  DecisionRequest: z.toJSONSchema(DecisionRequest, { io: 'input' }),
  CreateApiKeyRequest: z.toJSONSchema(CreateApiKeyRequest, { io: 'input' }),
  ApiKey: z.toJSONSchema(ApiKeyView),
  CreatedApiKey: z.toJSONSchema(CreatedApiKeyView),
  ApiKeyList: z.toJSONSchema(ApiKeyList),
  Principal: z.toJSONSchema(PrincipalView),
  DecisionToken: z.toJSONSchema(DecisionTokenView),
  AuditTrail: z.toJSONSchema(AuditTrailView),
  AuditPage: z.toJSONSchema(AuditPageView),
  CancelIntentRequest: z.toJSONSchema(CancelIntentBody, { io: 'input' }),
  IntentView: z.toJSONSchema(IntentView),
  IntentPage: z.toJSONSchema(IntentPage),
  DecisionResponse: z.toJSONSchema(DecisionResponse),
  HealthReport: z.toJSONSchema(HealthReport),
  StatusReport: z.toJSONSchema(StatusReport),
  LlmStats: z.toJSONSchema(LlmStatsView),
  ValidationReport: z.toJSONSchema(ValidationReportView),
  CapsulePage: z.toJSONSchema(CapsulePage),
  CapsuleDetail: z.toJSONSchema(CapsuleDetailView),
  VerificationResult: z.toJSONSchema(VerificationResult),
  SigningKeyList: z.toJSONSchema(SigningKeyList),
  QuantumDrop: z.toJSONSchema(QuantumDropView),
  SimilarIntents: z.toJSONSchema(SimilarIntentsView),
  CreateWebhookRequest: z.toJSONSchema(CreateWebhookRequest, { io: 'input' }),
  Webhook: z.toJSONSchema(WebhookView),
  CreatedWebhook: z.toJSONSchema(CreatedWebhookView),
  WebhookList: z.toJSONSchema(WebhookList),
  WebhookDelivery: z.toJSONSchema(WebhookDeliveryView),
  WebhookDeliveryPage: z.toJSONSchema(WebhookDeliveryPage),
  CodecPayloads: z.toJSONSchema(CodecPayloads, { io: 'input' }),
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

const capsuleQuery = z.toJSONSchema(ListCapsulesQuery, { io: 'input' }) as { properties: Record<string, object> };

const deliveriesQuery = z.toJSONSchema(ListDeliveriesQuery, { io: 'input' }) as { properties: Record<string, object> };

/** A capsule archive as the request body (POST /capsules/verify). */
const archiveBody = {
  required: true,
  content: Object.fromEntries(
    ['application/gzip', 'application/octet-stream'].map((type) => [
      type,
      { schema: { type: 'string', contentMediaType: type } },
    ]),
  ),
};

const auditQuery = z.toJSONSchema(AuditQuery, { io: 'input' }) as { properties: Record<string, object> };

/** Every protected operation answers these besides its own. */
const guarded = {
  401: problem('No credentials, or they were refused'),
  403: problem('Your roles do not allow it'),
};

const open = new Set(['/health']);

/** Marks every operation but the open ones as needing a bearer credential, answering 401/403 too. */
function secured<P extends Record<string, Record<string, { responses: object }>>>(paths: P): P {
  for (const [path, methods] of Object.entries(paths)) {
    if (open.has(path)) continue;
    for (const operation of Object.values(methods)) {
      Object.assign(operation, { security: [{ bearer: [] }], responses: { ...guarded, ...operation.responses } });
    }
  }
  return paths;
}

/** The codec server (Temporal's remote codec protocol): decode for approvers, auditors, admins; encode for approvers, admins. */
function codecPaths() {
  const operation = (summary: string) => ({
    post: {
      summary,
      parameters: [
        {
          name: 'X-Namespace',
          in: 'header',
          required: false,
          description: "The Web UI's namespace; when set, it must be the API's (TEMPORAL_NAMESPACE)",
          schema: { type: 'string', maxLength: 1000 },
        },
      ],
      requestBody: { required: true, ...json('CodecPayloads') },
      responses: {
        200: { description: 'The payloads, in the same order', ...json('CodecPayloads') },
        400: problem('Invalid body, or another namespace'),
        413: problem('Body larger than 8 MB'),
        422: problem('A payload cannot be decrypted (unknown key id, or it fails authentication)'),
      },
    },
  });
  return {
    '/codec/decode': operation('Decrypt payloads for the Temporal Web UI and CLI (codec server protocol)'),
    '/codec/encode': operation('Encrypt payloads with the active key (codec server protocol)'),
  };
}

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'QuantumLayer API', version: '1.0.0' },
  servers: [{ url: '/api/v1' }],
  paths: secured({
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
          429: problem('A quota of the tenant is exhausted (the problem names it and when it resets; Retry-After)'),
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
        summary:
          'Approve or reject an intent waiting at its gate, as the authenticated approver, for the digest reviewed',
        parameters: [idParam('id')],
        requestBody: { required: true, ...json('DecisionRequest') },
        responses: {
          200: { description: 'Decision taken (the gate may need more approvers)', ...json('DecisionResponse') },
          400: problem('Invalid decision'),
          404: problem('Unknown intent'),
          409: problem('Not awaiting a decision, already approved by you, or the digest is not the one under review'),
        },
      },
    },
    '/intents/{id}/decision-token': {
      post: {
        summary: 'A signed decision to send as the `decision` signal (temporal CLI) instead of through the API',
        parameters: [idParam('id')],
        requestBody: { required: true, ...json('DecisionRequest') },
        responses: {
          200: { description: 'The token and the temporal CLI command that sends it', ...json('DecisionToken') },
          400: problem('Invalid decision'),
          404: problem('Unknown intent'),
          409: problem('Not awaiting a decision, or the digest is not the one under review'),
        },
      },
    },
    '/whoami': {
      get: {
        summary: 'The authenticated caller: subject, name, tenants, roles',
        responses: { 200: { description: 'You', ...json('Principal') } },
      },
    },
    '/keys': {
      post: {
        summary: 'Create an API key (admin): the secret is in the response, once',
        requestBody: { required: true, ...json('CreateApiKeyRequest') },
        responses: { 201: { description: 'Created', ...json('CreatedApiKey') }, 400: problem('Invalid request') },
      },
      get: {
        summary: "The API keys of the admin's tenants (never their secrets)",
        responses: { 200: { description: 'Keys', ...json('ApiKeyList') } },
      },
    },
    '/keys/{id}': {
      delete: {
        summary: 'Revoke an API key (admin)',
        parameters: [idParam('id')],
        responses: { 200: { description: 'Revoked', ...json('ApiKey') }, 404: problem('Unknown key') },
      },
    },
    '/webhooks': {
      post: {
        summary: 'Subscribe a URL to events (admin): the signing secret is in the response, once',
        requestBody: { required: true, ...json('CreateWebhookRequest') },
        responses: {
          201: { description: 'Created', ...json('CreatedWebhook') },
          400: problem('Invalid request, or a URL the deployment refuses (scheme, internal target)'),
        },
      },
      get: {
        summary: "The webhook subscriptions of the admin's tenants (never their secrets)",
        responses: { 200: { description: 'Subscriptions', ...json('WebhookList') } },
      },
    },
    '/webhooks/{id}': {
      get: {
        summary: 'A webhook subscription (admin)',
        parameters: [idParam('id')],
        responses: { 200: { description: 'The subscription', ...json('Webhook') }, 404: problem('Unknown webhook') },
      },
      delete: {
        summary: 'Disable and delete a webhook subscription (admin); its delivery log stays',
        parameters: [idParam('id')],
        responses: { 200: { description: 'Deleted', ...json('Webhook') }, 404: problem('Unknown webhook') },
      },
    },
    '/webhooks/{id}/deliveries': {
      get: {
        summary: "A subscription's delivery log, newest first, each delivery with its attempts (admin)",
        parameters: [
          idParam('id'),
          ...Object.entries(deliveriesQuery.properties).map(([name, schema]) => ({ name, in: 'query', schema })),
        ],
        responses: {
          200: { description: 'A page', ...json('WebhookDeliveryPage') },
          400: problem('Invalid query'),
          404: problem('Unknown webhook'),
        },
      },
    },
    '/webhooks/{id}/deliveries/{delivery}/redeliver': {
      post: {
        summary: 'Send an event again, as a new delivery with the same event id (admin)',
        parameters: [idParam('id'), idParam('delivery')],
        responses: {
          202: { description: 'The new delivery, started', ...json('WebhookDelivery') },
          404: problem('Unknown webhook or delivery'),
          409: problem('The webhook was deleted'),
          503: problem('Temporal unavailable; nothing was sent'),
        },
      },
    },
    '/audit': {
      get: {
        summary:
          "The audit trail (auditor, admin): an intent's whole chain with its head and verification, or your tenants' events a page at a time; format=jsonl for JSON Lines",
        parameters: Object.entries(auditQuery.properties).map(([name, schema]) => ({ name, in: 'query', schema })),
        responses: {
          200: {
            description:
              'With intent: AuditTrail; without: AuditPage (nextAfter → after); format=jsonl: one event per line',
            content: {
              'application/json': { schema: { oneOf: [ref('AuditTrail'), ref('AuditPage')] } },
              'application/x-ndjson': { schema: { type: 'string' } },
            },
          },
          400: problem('Invalid query'),
          404: problem("Unknown intent (or another tenant's)"),
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
    '/intents/{id}/drops/{gate}': {
      get: {
        summary:
          "The gate's review bundle (QuantumDrop): diffs since the last version, plan, scores, findings, tests, coverage, cost",
        parameters: [
          idParam('id'),
          { name: 'gate', in: 'path', required: true, schema: { type: 'string', enum: [...DROP_GATES] } },
          { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'html'] } },
        ],
        responses: {
          200: {
            description:
              'The drop as JSON, or as a self-contained HTML page (no scripts) with format=html or Accept: text/html',
            content: {
              'application/json': { schema: ref('QuantumDrop') },
              'text/html': { schema: { type: 'string' } },
            },
          },
          400: problem('Unknown gate or format'),
          404: problem("Unknown intent (or another tenant's), or no drop for that gate yet"),
        },
      },
    },
    '/intents/{id}/similar': {
      get: {
        summary:
          'Earlier intents of the same tenant found similar at submission (cosine ≥ SIMILAR_INTENT_THRESHOLD): status, scores, capsule, approvers; the embedding says whether it was the offline local one',
        parameters: [idParam('id')],
        responses: {
          200: { description: 'The similar intents, most similar first', ...json('SimilarIntents') },
          400: problem('Invalid intent id'),
          404: problem("Unknown intent (or another tenant's)"),
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
    '/capsules': {
      get: {
        summary:
          "Capsules of your tenants' intents, newest first: by intent, verdict, framework (and its status), format, creation time",
        parameters: Object.entries(capsuleQuery.properties).map(([name, schema]) => ({ name, in: 'query', schema })),
        responses: { 200: { description: 'A page', ...json('CapsulePage') }, 400: problem('Invalid query') },
      },
    },
    '/capsules/{id}': {
      get: {
        summary:
          'A capsule: metadata, versions of its intent, signers, and the stored archive verified now (skipped above 256 MiB)',
        parameters: [idParam('id')],
        responses: { 200: { description: 'The capsule', ...json('CapsuleDetail') }, 404: problem('Unknown capsule') },
      },
    },
    '/capsules/verify': {
      post: {
        summary:
          'Verify an uploaded capsule archive against the registered signing keys (a report: 200 even when it fails)',
        requestBody: archiveBody,
        responses: {
          200: { description: 'The verification: verified, unsigned (v1) or failed', ...json('VerificationResult') },
          400: problem('Empty body'),
          413: problem('Body larger than 64 MiB (verify it offline: qlp verify)'),
          415: problem('Body is not application/gzip or application/octet-stream'),
        },
      },
    },
    '/signing-keys': {
      get: {
        summary: 'Public keys capsules are signed with, oldest first, retired ones included',
        responses: { 200: { description: 'Keys', ...json('SigningKeyList') } },
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
    ...codecPaths(),
    '/metrics': {
      get: {
        summary:
          'Prometheus metrics: the API process, HTTP requests, and business metrics from the read model (auditor, admin: your tenants; the scrape token: all)',
        responses: {
          200: {
            description: 'Prometheus text exposition format 0.0.4',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/status': {
      get: {
        summary:
          "Version, workers polling each task queue, queue backlogs, your tenants' open gates, and the services' health",
        responses: {
          200: {
            description: 'The status (degraded when a service is down or a worker role has no poller)',
            ...json('StatusReport'),
          },
        },
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
  }),
  components: {
    schemas,
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'An API key (qlp_…) or an OIDC access token' },
    },
  },
};
