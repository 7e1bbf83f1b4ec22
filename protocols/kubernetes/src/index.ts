export {
  EXEC_PROTOCOLS,
  type ExitStatus,
  PORT_FORWARD_PROTOCOLS,
  parseExitStatus,
} from './channel-protocol.js';
export {
  certificateHosts,
  type GatewayCertificate,
  loadGatewayCertificate,
  selfSignedPath,
} from './gateway-tls.js';
export {
  createKubernetesModule,
  type KubernetesModuleOptions,
  kubernetesModule,
} from './kubernetes-module.js';
export { DEFAULT_KUBERNETES_OPTIONS, type KubernetesOptions, parseKubernetesOptions } from './options.js';
export { checkPatchBody, type PatchCheck, type PatchType } from './patch-body.js';
export {
  argvOnly,
  execShellCommand,
  requestAttributes,
  type ShellAnalysis,
  type ShellAnalyzer,
  secretValuesDecision,
  shellQuote,
} from './request-command.js';
export * from './request-info/index.js';
export { SECRET_MASK, SecretMasker } from './secret-masker.js';
export { SPDY_REFUSAL } from './upgrade.js';
