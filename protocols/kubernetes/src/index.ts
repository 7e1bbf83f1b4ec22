export * from './request-info/index.js';
