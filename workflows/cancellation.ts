import { ApplicationFailure, type CancellationScope, setHandler } from '@temporalio/workflow';
import { CancelIntentRequest, terminalStatuses, type CancelRequest } from '../contracts/intent';
import { cancelIntentUpdate } from './messages';
import type { IntentProgress } from './progress';

/**
 * Accepts the `cancelIntent` update while the intent can still be stopped: it cancels `body`
 * (everything the intent does) and remembers who asked and why, for the read model and audit trail.
 */
export class CancelRequests {
  private request: CancelRequest | undefined;

  constructor(progress: IntentProgress, body: CancellationScope) {
    setHandler(
      cancelIntentUpdate,
      (request) => {
        this.request = request;
        body.cancel();
        return { status: progress.state.status };
      },
      {
        validator: (request) => {
          // Refused here, nothing reaches the history or the read model (a NUL byte would wedge its writes).
          const parsed = CancelIntentRequest.safeParse(request ?? {});
          if (!parsed.success) {
            const reasons = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
            throw ApplicationFailure.nonRetryable(reasons, 'InvalidCancelRequest');
          }
          const { status } = progress.state;
          if (terminalStatuses.includes(status) || status === 'PACKAGING' || this.request) {
            throw ApplicationFailure.nonRetryable(
              `intent is ${this.request ? 'already being cancelled' : status}; it can no longer be cancelled`,
              'NotCancellable',
            );
          }
        },
      },
    );
  }

  /** Whether the `cancelIntent` update (the API's cancel) started it, rather than a Temporal cancel request. */
  get fromUpdate(): boolean {
    return this.request !== undefined;
  }

  /** Who cancelled and why, as the read model and audit trail record it. */
  describe(): { by: string; reason: string } {
    const by = this.request?.requestedBy ?? 'Temporal cancel request';
    return { by, reason: `cancelled by ${by}${this.request?.reason ? `: ${this.request.reason}` : ''}` };
  }
}
