/**
 * A real HTTP receiver on 127.0.0.1 (port 0) for hook and notification tests: it records each request as received
 * (raw body bytes included) and answers as the test scripts it, or never.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
}

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** What to answer a request with; `'never'` leaves it open until the receiver closes. */
export type Answer = ScriptedAnswer | 'never' | ((request: ReceivedRequest) => ScriptedAnswer | 'never');

export interface LocalReceiver {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  requests: ReceivedRequest[];
  /** The answer to the next requests (default 200 `ok`). */
  answer(next: Answer): void;
  close(): Promise<void>;
}

export async function startReceiver(initial: Answer = { status: 200, body: 'ok' }): Promise<LocalReceiver> {
  let answer: Answer = initial;
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: ReceivedRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        rawBody: Buffer.concat(chunks),
      };
      requests.push(received);
      const scripted = typeof answer === 'function' ? answer(received) : answer;
      if (scripted === 'never') return;
      response.writeHead(scripted.status, { 'content-type': 'text/plain', ...scripted.headers });
      response.end(scripted.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    answer(next) {
      answer = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
