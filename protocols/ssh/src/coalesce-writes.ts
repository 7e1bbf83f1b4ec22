import type { Socket } from 'node:net';

/**
 * Makes the writes a socket gets within one tick leave in one system call. ssh2 writes every SSH
 * packet (at most 32 KiB of channel data) with its own `socket.write`; relaying a 64 KiB read from
 * one side produces two or three such writes, each a syscall plus a pass through the TCP stack.
 * Corking until the end of the tick turns them into one `writev`. Nothing waits longer than the
 * current tick, so latency does not change.
 */
export function coalesceWrites(socket: Socket): void {
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args);
  } as Socket['write'];
}
