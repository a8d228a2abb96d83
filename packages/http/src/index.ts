export type { RateLimitBody } from './body.js';
export { JSON_CONTENT_TYPE, limitedStatus, rateLimitBody } from './body.js';
export type { HeaderFamilies } from './headers.js';
export { rateLimitHeaders } from './headers.js';
export type { TrustProxy } from './identity.js';
export { clientAddress, ipIdentity } from './identity.js';
export type { HttpOptions, LimiterOptions, RateLimitOptions } from './options.js';
export type { PresetName } from './presets.js';
export { presets } from './presets.js';
