export { default } from '../../tsup.config.js';
