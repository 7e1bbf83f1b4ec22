import { httpModule } from '@gatehouse/http';
import { kubernetesModule } from '@gatehouse/kubernetes';
import { postgresModule } from '@gatehouse/postgres';
import { sshModule } from '@gatehouse/ssh';
import { createRegistry, type ProtocolRegistry } from './registry.js';

/**
 * The protocol modules this build serves: the one explicit map of them. A connection whose
 * protocol has no module here fails at start, naming the connection.
 */
export function builtinModules(): ProtocolRegistry {
  return createRegistry([postgresModule, sshModule, kubernetesModule, httpModule]);
}
