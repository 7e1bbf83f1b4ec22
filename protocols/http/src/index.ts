export { type AuthOutcome, BearerAuth, parseBearer } from './bearer-auth.js';
export { type ForwardInput, type ForwardOutcome, forward } from './forward.js';
export {
  type ClientHeaderOptions,
  clientResponseHeaders,
  type HeaderMap,
  headerNames,
  type UpstreamHeaderInput,
  upstreamRequestHeaders,
} from './headers.js';
export { httpModule } from './http-module.js';
export { JsonMasker, type JsonMaskerOptions, MaskingLimitError } from './json-masker.js';
export { decompressorFor, MaskStream, maskStreamFor } from './mask-stream.js';
export { type BodyDecoding, type MaskingPlan, maskingPlan, responseHasBody } from './masking-plan.js';
export { DEFAULT_OPTIONS, type HttpOptions, parseHttpOptions } from './options.js';
export { relayBody } from './relay-body.js';
export { RequestQueue } from './request-queue.js';
export { checkMethod, checkRequestTarget, type TargetCheck } from './request-target.js';
export { HttpErrorCode } from './responses.js';
export { type IncrementalMasker, TextMasker, type TextMaskerOptions } from './text-masker.js';
export { parseUpstream, type UpstreamTarget, upstreamPath } from './upstream.js';
