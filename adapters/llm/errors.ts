import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ProviderConfig } from './config';
import { redact } from './redact';

/** Failure types as they appear in Temporal (ApplicationFailure.type), the intent's status and docs/llm.md. */
export type LlmFailureType =
  | 'LlmRateLimited'
  | 'LlmUnavailable'
  | 'LlmTimeout'
  | 'LlmAuthFailed'
  | 'LlmBadRequest'
  | 'LlmModelNotFound'
  | 'LlmQuotaExceeded'
  | 'LlmContentFiltered'
  | 'LlmInvalidOutput'
  | 'LlmCancelled';

/** A classified provider failure: retryable ones go back to Temporal's activity retries, the rest stop the intent. */
export class LlmFailure extends Error {
  override name = 'LlmFailure';
  constructor(
    readonly type: LlmFailureType,
    readonly retryable: boolean,
    message: string,
    readonly provider?: string,
    readonly status?: number,
    /** From Retry-After: how long the provider asked us to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Turns whatever the openai client threw into an LlmFailure with a reason a person can act on. */
export function classify(error: unknown, provider: ProviderConfig, hints: { ranOutOfTime?: boolean } = {}): LlmFailure {
  if (error instanceof LlmFailure) return error;
  const who = `LLM provider ${provider.name} (model ${provider.deployment ?? provider.model})`;
  const clean = (text: string) => redact(text, [provider.apiKey]).slice(0, 500);
  if (error instanceof APIUserAbortError) {
    return new LlmFailure('LlmCancelled', true, `${who}: request cancelled`, provider.name);
  }
  // Some runtimes surface the client's own abort as a plain connection error: elapsed time tells them apart.
  if (error instanceof APIConnectionTimeoutError || (error instanceof APIConnectionError && hints.ranOutOfTime)) {
    return new LlmFailure('LlmTimeout', true, `${who} did not answer within the timeout (LLM_TIMEOUT)`, provider.name);
  }
  if (error instanceof APIConnectionError) {
    return new LlmFailure('LlmUnavailable', true, `${who} is unreachable: ${clean(causeOf(error))}`, provider.name);
  }
  if (error instanceof APIError && error.status !== undefined) {
    const status = error.status;
    const detail = clean(providerMessage(error));
    const retryAfterMs = retryAfter(error.headers);
    if (status === 401 || status === 403) {
      return new LlmFailure(
        'LlmAuthFailed',
        false,
        `${who} rejected the credentials (HTTP ${status}): ${detail}. Check ${provider.keyVariable}.`,
        provider.name,
        status,
      );
    }
    if (status === 429) {
      const quota = /insufficient_quota|quota/i.test(`${(error as { code?: unknown }).code ?? ''} ${detail}`);
      return quota
        ? new LlmFailure(
            'LlmQuotaExceeded',
            false,
            `${who}: quota exhausted (HTTP 429): ${detail}`,
            provider.name,
            status,
          )
        : new LlmFailure(
            'LlmRateLimited',
            true,
            `${who} is rate limiting (HTTP 429): ${detail}`,
            provider.name,
            status,
            retryAfterMs,
          );
    }
    if (status === 404) {
      return new LlmFailure(
        'LlmModelNotFound',
        false,
        `${who}: model or deployment not found (HTTP 404): ${detail}`,
        provider.name,
        status,
      );
    }
    if (status === 408 || status === 409 || status >= 500) {
      return new LlmFailure(
        'LlmUnavailable',
        true,
        `${who} failed (HTTP ${status}): ${detail}`,
        provider.name,
        status,
        retryAfterMs,
      );
    }
    return new LlmFailure(
      'LlmBadRequest',
      false,
      `${who} refused the request (HTTP ${status}): ${detail}`,
      provider.name,
      status,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new LlmFailure('LlmUnavailable', true, `${who}: ${clean(message)}`, provider.name);
}

function providerMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  if (body && typeof body.message === 'string') return body.message;
  return error.message.replace(/^\d{3}\s*/, '') || 'no details';
}

function causeOf(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : error.message;
}

function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const seconds = Number(headers?.get('retry-after'));
  return Number.isFinite(seconds) && seconds >= 0 && headers?.get('retry-after') ? seconds * 1000 : undefined;
}
