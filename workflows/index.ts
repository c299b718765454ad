// The workflow bundle's entry point: every workflow type the workers register.
export { intentWorkflow } from './intent';
export { taskWorkflow } from './task';
export { webhookDeliveryWorkflow } from './webhook-delivery';
export { reembedWorkflow } from './reembed';
