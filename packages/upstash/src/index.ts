export { UpstashStore } from './store.js';
