import { InvalidArgumentError } from 'commander';
import { IntentId, intentStatuses, type IntentStatus } from '../contracts/intent';
import { usageError } from './errors';

/** Checked before any request, so a typo never reaches the API. */
export function requireUuid(value: string, what: string): string {
  if (!IntentId.safeParse(value).success) {
    throw usageError(`'${value}' is not a valid ${what}: expected a UUID such as 123e4567-e89b-42d3-a456-426614174000`);
  }
  return value.toLowerCase();
}

export function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 100) throw new InvalidArgumentError('must be a whole number from 1 to 100.');
  return n;
}

export function parseStatus(value: string): IntentStatus {
  const status = value.toUpperCase() as IntentStatus;
  if (!intentStatuses.includes(status)) throw new InvalidArgumentError(`must be one of ${intentStatuses.join(', ')}.`);
  return status;
}
