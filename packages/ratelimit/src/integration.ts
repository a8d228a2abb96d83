// `@periodkey/ratelimit/integration`: for packages that take Ratelimit's options among their own (middleware).
export { checkKeys as checkOptionKeys } from './_options.js';
export { RATELIMIT_OPTION_NAMES } from './limiter/config.js';
