/**
 * Starting the emulator when one of its ports is taken: with an explicit ARM port its SQL ports follow it, and one of
 * those may belong to someone else. The start must fail and leave nothing open or ticking behind, or the process that
 * asked never exits (a test file once hung for the whole CI run that way).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import path from 'node:path';

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port held by this process, with the port below it free: the emulator's ARM port, its first SQL port taken. */
async function takenAfterAFreePort(): Promise<{ armPort: number; blocker: Server }> {
  for (;;) {
    const blocker = await listen(0);
    const address = blocker.address();
    const taken = typeof address === 'object' && address ? address.port : 0;
    try {
      await closeServer(await listen(taken - 1));
      return { armPort: taken - 1, blocker };
    } catch {
      await closeServer(blocker);
    }
  }
}

describe('the emulator with a port taken', () => {
  it('refuses to start and releases every port it had bound, so its process exits', { timeout: 60_000 }, async (t) => {
    const { armPort, blocker } = await takenAfterAFreePort();
    try {
      const emulatorModule = path.join(__dirname, '..', '..', 'src', 'emulator');
      const script =
        `require(${JSON.stringify(emulatorModule)}).startEmulator({ port: ${armPort} })` +
        `.then(() => { console.log('started'); process.exit(2); }, (error) => console.log('refused ' + error.code));`;
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      // A child still running when the test ends (it timed out) would keep this test file from ever exiting.
      t.after(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      // Exits by itself only when nothing is left listening or ticking; otherwise the test's timeout ends it, failed.
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(output.trim(), 'refused EADDRINUSE');
      assert.equal(code, 0);
    } finally {
      await closeServer(blocker);
    }
    // The ARM port it had bound is free again.
    await closeServer(await listen(armPort));
  });
});
