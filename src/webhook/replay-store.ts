/**
 * Where the trigger remembers the signatures of the signed changes (starts, signals) it accepted, until their timestamp
 * leaves the replay window: a captured request sent again within the window is refused.
 *
 * In memory by default: a restart forgets them, so a request captured in the five minutes before a restart could be
 * sent once more after it. With a state directory (`fogpilot webhook --state-dir`) they are kept in
 * `<dir>/webhook-replay.json`, written atomically (a temporary file renamed over the old one) after each accepted change,
 * so a restart keeps refusing them. One trigger process per state directory: two sharing one would overwrite each
 * other's entries.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The file a state directory keeps the replay store in. */
export const REPLAY_STORE_FILE = 'webhook-replay.json';

export interface ReplayStore {
  /** Where it keeps what it remembers, for the start line: `memory` or the file's path. */
  readonly where: string;
  /**
   * Remembers `key` until `untilMs`. Answers false, remembering nothing, when the key is already remembered and has not
   * expired at `nowMs`: the request is a replay.
   */
  claim(key: string, untilMs: number, nowMs: number): boolean;
}

/** Thrown when a state directory cannot hold the replay store; the message names the file and the cause. */
export class ReplayStoreError extends Error {
  override readonly name = 'ReplayStoreError';
}

/** The store keeps a digest of each signature, not the signature itself. */
function digest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Remembers in this process only: a restart forgets. */
export class MemoryReplayStore implements ReplayStore {
  readonly where: string = 'memory';
  protected readonly entries = new Map<string, number>();
  private lastPrunedAt = 0;

  claim(key: string, untilMs: number, nowMs: number): boolean {
    const id = digest(key);
    this.prune(nowMs);
    const until = this.entries.get(id);
    if (until !== undefined && until > nowMs) return false;
    this.entries.set(id, untilMs);
    this.changed();
    return true;
  }

  /** Called after each new entry; the file store writes itself out. */
  protected changed(): void {}

  private prune(nowMs: number): void {
    if (nowMs - this.lastPrunedAt < 1000) return;
    this.lastPrunedAt = nowMs;
    for (const [id, until] of this.entries) if (until <= nowMs) this.entries.delete(id);
  }
}

interface StoredReplays {
  version: 1;
  /** Digest of a signature → when it may be forgotten (ms since the epoch). */
  entries: Record<string, number>;
}

/** Remembers in `<stateDir>/webhook-replay.json`, so a restart keeps refusing what it accepted. */
export class FileReplayStore extends MemoryReplayStore {
  override readonly where: string;

  /** Loads what an earlier process remembered; the directory is made when missing. */
  constructor(stateDir: string, nowMs: number = Date.now()) {
    super();
    this.where = path.resolve(stateDir, REPLAY_STORE_FILE);
    try {
      mkdirSync(path.dirname(this.where), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new ReplayStoreError(
        `The state directory ${path.dirname(this.where)} cannot be made (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). Choose a writable --state-dir.`,
      );
    }
    let text: string | undefined;
    try {
      text = readFileSync(this.where, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new ReplayStoreError(
          `The replay store ${this.where} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). Make it readable by the webhook, or choose another --state-dir.`,
        );
      }
    }
    if (text !== undefined) {
      let stored: StoredReplays;
      try {
        stored = JSON.parse(text) as StoredReplays;
        if (stored.version !== 1 || typeof stored.entries !== 'object' || stored.entries === null) throw new Error();
      } catch {
        // Starting empty would reopen the replay window: refuse, and let the operator decide.
        throw new ReplayStoreError(
          `The replay store ${this.where} is not one this webhook wrote. Remove it only if no request signed in the last replay window can have been captured (wait that long after the last trigger stopped), then start again.`,
        );
      }
      for (const [id, until] of Object.entries(stored.entries))
        if (typeof until === 'number' && until > nowMs) this.entries.set(id, until);
    }
    this.changed();
  }

  protected override changed(): void {
    const stored: StoredReplays = { version: 1, entries: Object.fromEntries(this.entries) };
    const temporary = `${this.where}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, JSON.stringify(stored), { mode: 0o600 });
      renameSync(temporary, this.where);
    } catch (error) {
      throw new ReplayStoreError(
        `The replay store ${this.where} cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
      );
    }
  }
}
