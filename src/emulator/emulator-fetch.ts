/**
 * A client of the emulator's own HTTP endpoints for tests and benchmarks: with TLS on, the emulator's certificate is
 * signed by a CA made at its start, which the global `fetch` does not trust.
 */
import https from 'node:https';
import type { Emulator } from './index';

/**
 * `fetch` for an emulator's ARM or admin API that trusts its CA when it runs with TLS (the global fetch trusts only
 * Node's CAs). Sends nothing of its own: an ARM request still needs its `Authorization` header.
 */
export async function emulatorFetch(emulator: Emulator, url: string, init: RequestInit = {}): Promise<Response> {
  const ca = emulator.startLine().tls?.ca;
  if (!ca) return fetch(url, init);
  const target = new URL(url);
  const body = typeof init.body === 'string' ? init.body : undefined;
  return new Promise<Response>((resolve, reject) => {
    const request = https.request(
      {
        hostname: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: init.method ?? 'GET',
        headers: Object.fromEntries(new Headers(init.headers).entries()),
        ca,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          const text = Buffer.concat(chunks);
          resolve(new Response(status === 204 || status === 304 ? null : text, { status, headers }));
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
