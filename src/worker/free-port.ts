import net from 'node:net';

/**
 * A TCP port free right now on `host`. The agents framework treats `port: 0` as "unset" and
 * falls back to 8081 in production, so a second worker on the same host (or one next to
 * anything else on 8081) crashed with EADDRINUSE on its internal health server; asking the OS
 * for a port first gives each worker its own.
 */
export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}
