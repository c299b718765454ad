import { verifyDecisionToken } from '../contracts/approval';
import { DecisionInput, type Approval, type DecisionSource } from '../contracts/decision';
import type { ApprovalPolicy, IntentWorkflowInput } from '../contracts/workflow';

// Which decisions the gate takes, for intents whose policy verifies identities: a decision counts only
// when the API signed it for this intent, this tenant, an approver, the content now under review, and
// before it expired — or, where the deployment allows it, as an unsigned ops signal recorded as such.

/** Why a decision was refused; the update reports it as the failure type, the API maps it to a status. */
export type RefusalType =
  | 'InvalidDecision'
  | 'Unauthenticated'
  | 'Forbidden'
  | 'StaleDigest'
  | 'SelfApproval'
  | 'AlreadyDecided'
  | 'RevisionLimit';

export type Evaluation = { ok: true; approval: Approval } | { ok: false; type: RefusalType; reason: string };

const refuse = (type: RefusalType, reason: string): Evaluation => ({ ok: false, type, reason });

export interface GateContext {
  input: IntentWorkflowInput;
  policy: ApprovalPolicy;
  /** The review digest the gate is open for. */
  digest: string;
  /** Approvals taken so far. */
  approvals: readonly Approval[];
  /** Workflow time, ISO. */
  now: string;
  /** Roles that may decide now: approvers, and the escalation's role once the gate escalated. */
  roles: readonly string[];
  /** The gate open now: a token names the gate it was signed for (absent in tokens from before plan gates: release). */
  gate: 'plan' | 'release';
}

/** The token a message carries: `{ token }`, or the token itself as a string (easier to type in the CLI). */
function tokenOf(message: unknown): unknown {
  if (typeof message === 'string') return message;
  if (typeof message === 'object' && message !== null && 'token' in message) return message.token;
  return undefined;
}

export function evaluateDecision(message: unknown, via: 'update' | 'signal', ctx: GateContext): Evaluation {
  const token = tokenOf(message);
  if (token === undefined) return unsigned(message, via, ctx);
  const verified = verifyDecisionToken(token, ctx.policy.publicKeys);
  if (!verified.ok) return refuse('Unauthenticated', `decision token refused: ${verified.reason}`);
  const { claims } = verified;
  const { principal } = claims;
  if (claims.intentId !== ctx.input.intentId) return refuse('Forbidden', 'decision token is for another intent');
  if ((claims.gate ?? 'release') !== ctx.gate) {
    return refuse(
      'StaleDigest',
      `the decision is for the ${claims.gate ?? 'release'} gate, but the ${ctx.gate} gate is open`,
    );
  }
  if (claims.expiresAt <= ctx.now) return refuse('Unauthenticated', `decision token expired at ${claims.expiresAt}`);
  if (!principal.tenants.includes(ctx.input.tenant)) {
    return refuse('Forbidden', `${principal.name} is not a member of tenant ${ctx.input.tenant}`);
  }
  if (!principal.roles.some((role) => ctx.roles.includes(role))) {
    return refuse('Forbidden', `${principal.name} has none of the roles that may decide now (${ctx.roles.join(', ')})`);
  }
  if (claims.digest !== ctx.digest) {
    return refuse(
      'StaleDigest',
      `the decision is for review digest ${claims.digest.slice(0, 12)}…, but what is under review now is ${ctx.digest.slice(0, 12)}…`,
    );
  }
  const selfApproval = principal.subject === ctx.input.submittedBy?.subject;
  if (claims.decision === 'approve' && selfApproval && !ctx.policy.allowSelfApproval) {
    return refuse(
      'SelfApproval',
      `${principal.name} submitted this intent and may not approve it (separation of duties)`,
    );
  }
  if (ctx.approvals.some((a) => a.subject === principal.subject)) {
    return refuse('AlreadyDecided', `${principal.name} has already approved; another approver is needed`);
  }
  return {
    ok: true,
    approval: {
      decision: claims.decision,
      subject: principal.subject,
      name: principal.name,
      roles: principal.roles,
      tenants: principal.tenants,
      method: principal.method,
      via: via satisfies DecisionSource,
      digest: claims.digest,
      ...(claims.reason && { reason: claims.reason }),
      ...(claims.changes && { changes: claims.changes }),
      ...(claims.planEdit && { planEdit: claims.planEdit }),
      decidedAt: ctx.now,
    },
  };
}

/** A plain `{ decision, approver, reason }`: only as an ops signal, and only where the deployment accepts those. */
function unsigned(message: unknown, via: 'update' | 'signal', ctx: GateContext): Evaluation {
  if (via === 'update' || ctx.policy.unauthenticatedSignals === 'refuse') {
    return refuse(
      'Unauthenticated',
      'unsigned decision refused: this gate takes only decisions signed by the API (qlp approve, or qlp approve --token for a signal)',
    );
  }
  const parsed = DecisionInput.safeParse(message);
  if (!parsed.success) return refuse('InvalidDecision', `malformed decision: ${issues(parsed.error)}`);
  const subject = `unauthenticated:${parsed.data.approver}`;
  if (ctx.approvals.some((a) => a.subject === subject)) {
    return refuse('AlreadyDecided', `${parsed.data.approver} has already approved; another approver is needed`);
  }
  return {
    ok: true,
    approval: {
      decision: parsed.data.decision,
      subject,
      name: parsed.data.approver,
      roles: [],
      tenants: [],
      method: 'unauthenticated',
      via: 'temporal-ui',
      ...(parsed.data.reason && { reason: parsed.data.reason }),
      ...(parsed.data.changes && { changes: parsed.data.changes }),
      ...(parsed.data.planEdit && { planEdit: parsed.data.planEdit }),
      decidedAt: ctx.now,
    },
  };
}

/** zod's issues as one line: `approver: must not be empty; reason: is required when rejecting`. */
export function issues(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || 'decision'}: ${i.message}`).join('; ');
}
