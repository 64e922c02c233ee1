/**
 * The emulated world's clock. Azure durations (a role switch of 40 s, a scale of an hour) are in simulated time; the
 * speed factor compresses them (`speed: 60` → one simulated minute per real second).
 */
export interface WorldClock {
  /** Simulated epoch milliseconds. */
  now(): number;
  /** Real milliseconds that correspond to `simulatedMs` of world time. */
  toRealMs(simulatedMs: number): number;
  readonly speed: number;
}

export class SpeedClock implements WorldClock {
  private readonly realStart = Date.now();
  private readonly simulatedStart: number;

  constructor(
    readonly speed = 1,
    simulatedStart = Date.now(),
  ) {
    if (!(speed > 0)) throw new Error(`speed must be a positive number (got ${speed})`);
    this.simulatedStart = simulatedStart;
  }

  now(): number {
    return this.simulatedStart + Math.floor((Date.now() - this.realStart) * this.speed);
  }

  toRealMs(simulatedMs: number): number {
    return Math.max(0, Math.ceil(simulatedMs / this.speed));
  }
}

/** A clock that moves only when told: for unit tests of the world's rules. */
export class ManualClock implements WorldClock {
  readonly speed = 1;
  constructor(private current = Date.parse('2026-01-01T00:00:00Z')) {}
  now(): number {
    return this.current;
  }
  advance(milliseconds: number): void {
    this.current += milliseconds;
  }
  toRealMs(simulatedMs: number): number {
    return simulatedMs;
  }
}
