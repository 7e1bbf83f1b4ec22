export { ApprovalError, type ApprovalErrorKind, isApprovalError } from './approval-error.js';
export { newApprovalId } from './approval-id.js';
export { ApprovalService, type ApprovalServiceOptions } from './approval-service.js';
export {
  APPROVAL_STATES,
  type ApprovalListFilter,
  type ApprovalRequest,
  type ApprovalScope,
  type ApprovalState,
  type ApproveOptions,
  type DenyOptions,
} from './approval-types.js';
export { type UnfinishedRequest, unfinishedRequests } from './recover.js';
export {
  type WebhookDelivery,
  type WebhookEventType,
  WebhookNotifier,
  type WebhookOptions,
  type WebhookPayload,
} from './webhook-notifier.js';
export {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
  type VerifyWebhookOptions,
  verifyWebhookSignature,
} from './webhook-signature.js';
