/**
 * The read coalescer: concurrent reads of one scope share a list call, a lone read stays a direct GET, pages are
 * walked only while they pay, and failures reach each read as its own GET's would.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ArmRequestError } from '../../src/azure/errors';
import { ReadCoalescer, type ListedPage } from '../../src/azure/read-coalescer';
import type { ArmAnswer } from '../../src/azure/control-plane';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A scripted list: each page is answered when the test releases it; `pages` says how many were asked for. */
function scriptedList(pageKeys: string[][], clock: { now: number }) {
  const released: Deferred<void>[] = pageKeys.map(() => deferred<void>());
  const asked: number[] = [];
  let failure: Error | undefined;
  const listPages = async function* (): AsyncGenerator<ListedPage<string>> {
    for (let index = 0; index < pageKeys.length; index++) {
      asked.push(index);
      const sentAt = clock.now;
      await released[index]!.promise;
      if (failure) throw failure;
      yield {
        items: pageKeys[index]!.map((key) => ({ key, value: `listed ${key}` })),
        continuationToken: index + 1 < pageKeys.length ? `page-${index + 1}` : undefined,
        sentAt,
      };
    }
  };
  return {
    listPages,
    asked,
    release: (index: number) => released[index]!.resolve(),
    failWith: (error: Error) => {
      failure = error;
      for (const page of released) page.resolve();
    },
  };
}

function directReads(clock: { now: number }, fail: Record<string, Error> = {}) {
  const keys: string[] = [];
  const read = (key: string) => (): Promise<ArmAnswer<string>> => {
    keys.push(key);
    if (fail[key]) return Promise.reject(fail[key]);
    return Promise.resolve({ value: `got ${key}`, readAtMs: clock.now });
  };
  return { read, keys };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('ReadCoalescer', () => {
  it('answers a lone read with its own GET at once, without a list call', async () => {
    const clock = { now: 1_000 };
    const list = scriptedList([['a']], clock);
    const coalescer = new ReadCoalescer(list.listPages, { now: () => clock.now });
    const direct = directReads(clock);
    const answer = await coalescer.read('rg|eastus', 'a', direct.read('a'));
    assert.deepEqual(answer, { value: 'got a', readAtMs: 1_000, via: 'direct' });
    assert.deepEqual(list.asked, [], 'no list call');
    assert.deepEqual(coalescer.stats, { direct: 1, listCalls: 0, listPages: 0, shared: 0 });
  });

  it('answers many concurrent reads of one scope with one list call', async () => {
    const clock = { now: 1_000 };
    const keys = Array.from({ length: 10 }, (_, index) => `g${index}`);
    const list = scriptedList([keys], clock);
    const coalescer = new ReadCoalescer(list.listPages, { now: () => clock.now, windowMs: 250, minConcurrent: 2 });
    const direct = directReads(clock);
    const answers = keys.map((key) => coalescer.read('rg|eastus', key, direct.read(key)));
    list.release(0);
    const values = await Promise.all(answers);
    // The first two reads had too few others around them to share; from the third on, one list call answers.
    assert.deepEqual(direct.keys, ['g0', 'g1']);
    assert.deepEqual(list.asked, [0]);
    assert.deepEqual(
      values.map((answer) => `${answer.via}: ${answer.value}`),
      keys.map((key, index) => (index < 2 ? `direct: got ${key}` : `list: listed ${key}`)),
    );
  });

  it('follows nextLink until every waiting read is answered, and stops there', async () => {
    const clock = { now: 1_000 };
    const list = scriptedList(
      [
        ['a', 'b'],
        ['c', 'd'],
        ['e', 'f'],
        ['g', 'h'],
      ],
      clock,
    );
    const coalescer = new ReadCoalescer(list.listPages, { now: () => clock.now, minConcurrent: 0 });
    const direct = directReads(clock);
    const wanted = ['a', 'b', 'c', 'd', 'e', 'f'];
    const answers = wanted.map((key) => coalescer.read('rg', key, direct.read(key)));
    for (let page = 0; page < 4; page++) list.release(page);
    const values = await Promise.all(answers);
    assert.deepEqual(
      values.map((answer) => answer.value),
      wanted.map((key) => `listed ${key}`),
    );
    assert.deepEqual(list.asked, [0, 1, 2], 'the fourth page answers nobody waiting and is not read');
    assert.deepEqual(direct.keys, []);
  });

  it('stops walking pages when GETs of the reads still waiting would cost no more than the pages', async () => {
    const clock = { now: 1_000 };
    const list = scriptedList([['x1'], ['x2'], ['x3'], ['a', 'b']], clock);
    const coalescer = new ReadCoalescer(list.listPages, { now: () => clock.now, minConcurrent: 0 });
    const direct = directReads(clock);
    const answers = ['a', 'b'].map((key) => coalescer.read('rg', key, direct.read(key)));
    for (let page = 0; page < 4; page++) list.release(page);
    const values = await Promise.all(answers);
    // Two reads: one page read answered neither, a second page plus two GETs would cost more than two GETs.
    assert.deepEqual(list.asked, [0]);
    assert.deepEqual(direct.keys, ['a', 'b']);
    assert.deepEqual(
      values.map((answer) => answer.via),
      ['direct', 'direct'],
    );
  });

  it('gives a 429 on the list call to every waiting read, to retry as its own GET would', async () => {
    const clock = { now: 1_000 };
    const list = scriptedList([['a', 'b', 'c']], clock);
    const coalescer = new ReadCoalescer(list.listPages, { now: () => clock.now, minConcurrent: 0 });
    const direct = directReads(clock);
    const answers = ['a', 'b', 'c'].map((key) => coalescer.read('rg', key, direct.read(key)));
    const throttled = new ArmRequestError('Too many requests', {
      statusCode: 429,
      code: 'TooManyRequests',
      retryAfterMs: 3_000,
      delivery: 'answered',
    });
    list.failWith(throttled);
    for (const answer of answers) {
      await assert.rejects(answer, (error: unknown) => {
        assert.ok(error instanceof ArmRequestError);
        assert.equal(error.statusCode, 429);
        assert.equal(error.retryAfterMs, 3_000);
        return true;
      });
    }
    assert.deepEqual(direct.keys, [], 'no GET was made behind the throttled list');
  });

  it('answers a group missing from the list with its own GET, a 404 included, and the others from the list', async () => {
    const clock = { now: 1_000 };
    const list = scriptedList([['a', 'c']], clock);
    const coalescer = new ReadCoalescer(list.listPages, { now: () => clock.now, minConcurrent: 0 });
    const notFound = new ArmRequestError('The failover group b was not found', {
      statusCode: 404,
      code: 'ResourceNotFound',
      delivery: 'answered',
    });
    const direct = directReads(clock, { b: notFound });
    const answers = ['a', 'b', 'c'].map((key) => coalescer.read('rg', key, direct.read(key)));
    list.release(0);
    assert.equal((await answers[0]!).value, 'listed a');
    await assert.rejects(answers[1]!, (error: unknown) => error === notFound);
    assert.equal((await answers[2]!).value, 'listed c');
    assert.deepEqual(direct.keys, ['b']);
  });

  it('falls back to GETs when the list is forbidden, and lists that scope no more', async () => {
    const clock = { now: 1_000 };
    const list = scriptedList([['a', 'b']], clock);
    const coalescer = new ReadCoalescer(list.listPages, { now: () => clock.now, minConcurrent: 0 });
    const direct = directReads(clock);
    const answers = ['a', 'b'].map((key) => coalescer.read('rg', key, direct.read(key)));
    list.failWith(new ArmRequestError('AuthorizationFailed', { statusCode: 403, delivery: 'answered' }));
    assert.deepEqual(
      (await Promise.all(answers)).map((answer) => `${answer.via}: ${answer.value}`),
      ['direct: got a', 'direct: got b'],
    );
    await coalescer.read('rg', 'c', direct.read('c'));
    assert.equal(coalescer.stats.listCalls, 1, 'no second list call on a scope that refused one');
  });

  it('does not share a list answer with a read asked more than the window after the list went out', async () => {
    const clock = { now: 1_000 };
    const list = scriptedList([['a', 'b', 'c']], clock);
    const coalescer = new ReadCoalescer(list.listPages, { now: () => clock.now, windowMs: 250, minConcurrent: 0 });
    const direct = directReads(clock);
    const first = coalescer.read('rg', 'a', direct.read('a'));
    list.release(0);
    assert.equal((await first).via, 'list');
    clock.now += 200;
    assert.equal((await coalescer.read('rg', 'b', direct.read('b'))).via, 'list', 'within the window: shared');
    clock.now += 100;
    const late = coalescer.read('rg', 'c', direct.read('c'));
    list.release(0);
    assert.equal((await late).readAtMs, 1_300, 'the list answer is 300 ms old: not shared, read again');
  });

  it('gives a read that must not share its own GET, even while a list call is in flight', async () => {
    const clock = { now: 1_000 };
    const list = scriptedList([['a', 'b']], clock);
    const coalescer = new ReadCoalescer(list.listPages, { now: () => clock.now, minConcurrent: 0 });
    const direct = directReads(clock);
    const shared = coalescer.read('rg', 'a', direct.read('a'));
    const own = coalescer.read('rg', 'b', direct.read('b'), { coalesce: false });
    assert.deepEqual(await own, { value: 'got b', readAtMs: 1_000, via: 'direct' });
    list.release(0);
    assert.equal((await shared).via, 'list');
  });

  it('stops one read waiting for a shared answer when its signal aborts, and still answers the others', async () => {
    const clock = { now: 1_000 };
    const list = scriptedList([['a', 'b']], clock);
    const coalescer = new ReadCoalescer(list.listPages, { now: () => clock.now, minConcurrent: 0 });
    const direct = directReads(clock);
    const controller = new AbortController();
    const aborted = coalescer.read('rg', 'a', direct.read('a'), { abortSignal: controller.signal });
    const other = coalescer.read('rg', 'b', direct.read('b'));
    await settled();
    controller.abort(new Error('the activity was cancelled'));
    await assert.rejects(aborted, /stopped waiting for a shared ARM read, as the activity was cancelled/);
    list.release(0);
    assert.equal((await other).value, 'listed b');
  });
});
