export { offlineLlmConfig, type LlmConfig, type ProviderConfig } from './config';
export { LlmFailure, type LlmFailureType } from './errors';
export {
  LlmGateway,
  InvalidOutputError,
  type ChatMessage,
  type StructuredRequest,
  type StructuredResult,
} from './gateway';
export { BudgetExceededError, cacheStatistics, summariseUsage, tenantTokensSince } from './ledger';
