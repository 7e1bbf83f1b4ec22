/**
 * ssh2 is CommonJS; under ESM only its default export can be imported (a named `Server` import
 * fails at run time). Everything else in this package takes ssh2 from here.
 */
import ssh2 from 'ssh2';

export const { Server, Client, utils } = ssh2;
