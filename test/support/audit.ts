/** The audit trail of an intent that went through the gate and was approved, in order. */
export const approvedAuditTrail = [
  'intent.planning',
  'intent.executing',
  'intent.validating',
  'intent.awaiting_approval',
  'intent.approved',
  'intent.completed',
];
