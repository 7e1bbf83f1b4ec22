export * from './sql/index.js';
export * as wire from './wire/index.js';
