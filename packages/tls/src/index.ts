export { certificateHosts, type SelfSignedPair, type SelfSignedSpec, selfSigned } from './self-signed.js';
