// The fleet soak's member processes: forked, listened to, SIGKILLed and stopped, always by PID.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CallRecord, KillRecord, RequestReport } from './record.js';
import type { MemberConfig, MemberMessage } from './protocol.js';

const memberScript = fileURLToPath(new URL('./member.ts', import.meta.url));

interface Member {
  readonly id: number;
  readonly proc: ChildProcess;
  readonly oneShot: boolean;
  /** Token requests in flight, by scope set: since when (wall-clock ms). */
  readonly requestsInFlight: Map<string, number>;
  readonly exited: Promise<void>;
  killedBySoak: boolean;
  stopping: boolean;
  callsOk: number;
  callsFailed: number;
}

/** What the fleet saw, for the figures. */
export interface FleetLog {
  readonly calls: CallRecord[];
  /** Token requests as their senders reported them (a killed sender may not have). */
  readonly requestReports: RequestReport[];
  readonly kills: KillRecord[];
  readonly cacheFailures: Record<string, number>;
  replacements: number;
  oneShots: number;
  oneShotsServed: number;
  crashed: number;
}

export class Fleet {
  readonly log: FleetLog = {
    calls: [],
    requestReports: [],
    kills: [],
    cacheFailures: {},
    replacements: 0,
    oneShots: 0,
    oneShotsServed: 0,
    crashed: 0,
  };
  readonly #members = new Map<number, Member>();
  readonly #config: (id: number, oneShot: boolean) => MemberConfig;
  #nextId = 0;
  /** Called when a member's token request goes out; a mid-fetch kill waits on it. */
  onRequestStarted: ((member: number) => void) | undefined;

  /** A last resort: however this process ends, no member outlives it. */
  readonly #killAllOnExit = (): void => this.#killAll();

  constructor(config: (id: number, oneShot: boolean) => MemberConfig) {
    this.#config = config;
    process.once('exit', this.#killAllOnExit);
  }

  /** Forks a member; resolves when it is ready (a one-shot member at once: it starts on its own). */
  spawn(oneShot: boolean): Promise<number> {
    const id = this.#nextId++;
    const proc = fork(memberScript, [JSON.stringify(this.#config(id, oneShot))], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let ready: () => void = () => undefined;
    const readied = new Promise<number>((resolve) => (ready = () => resolve(id)));
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const member: Member = {
      id,
      proc,
      oneShot,
      requestsInFlight: new Map(),
      exited,
      killedBySoak: false,
      stopping: false,
      callsOk: 0,
      callsFailed: 0,
    };
    this.#members.set(id, member);
    proc.on('message', (message: MemberMessage) => {
      if (message.type === 'ready') ready();
      else this.#record(member, message);
    });
    proc.once('exit', (code, signal) => {
      this.#members.delete(id);
      ready();
      if (member.killedBySoak) return;
      if (code !== 0) this.log.crashed++;
      else if (member.oneShot && member.callsFailed === 0 && member.callsOk > 0) this.log.oneShotsServed++;
      if (code !== 0) console.error(`fleet soak: member ${id} exited with ${code ?? signal}`);
    });
    if (oneShot) {
      this.log.oneShots++;
      return Promise.resolve(id);
    }
    return readied;
  }

  /** Tells a ready long-lived member to start calling. */
  go(id: number): void {
    this.#members.get(id)?.proc.send('go');
  }

  /** Long-lived members alive and not stopping, oldest first. */
  get longLived(): number[] {
    return [...this.#members.values()].filter((m) => !m.oneShot && !m.stopping).map((m) => m.id);
  }

  /** Whether member `id` is alive and long-lived (so that a replacement is due when it is killed). */
  isLongLived(id: number): boolean {
    return this.#members.get(id)?.oneShot === false;
  }

  /** SIGKILLs member `id`, recording the token requests it had in flight. */
  kill(id: number, midFetch: boolean): void {
    const member = this.#members.get(id);
    if (member === undefined || member.proc.exitCode !== null || member.proc.signalCode !== null) return;
    member.killedBySoak = true;
    const requestsInFlight = [...member.requestsInFlight].map(([scope, since]) => ({ scope, since }));
    this.log.kills.push({ at: Date.now(), midFetch, requestsInFlight });
    process.kill(member.proc.pid as number, 'SIGKILL');
  }

  /** Asks every member to finish its calls and exit; SIGKILLs those still there after `limitMs`. */
  async stop(limitMs: number): Promise<void> {
    const members = [...this.#members.values()];
    for (const member of members) {
      member.stopping = true;
      if (member.proc.connected) member.proc.send('stop');
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)));
    await Promise.race([Promise.all(members.map((member) => member.exited)), late]);
    clearTimeout(timer);
    for (const member of this.#members.values()) {
      console.error(`fleet soak: member ${member.id} did not exit within ${limitMs} ms; killed`);
      this.log.crashed++;
      member.killedBySoak = true;
      process.kill(member.proc.pid as number, 'SIGKILL');
    }
    await Promise.all(members.map((member) => member.exited));
    process.off('exit', this.#killAllOnExit);
  }

  #record(member: Member, message: Exclude<MemberMessage, { type: 'ready' }>): void {
    switch (message.type) {
      case 'call':
        if (message.ok) member.callsOk++;
        else member.callsFailed++;
        this.log.calls.push({
          scope: message.scope,
          startedAt: message.startedAt,
          waitMs: message.waitMs,
          ok: message.ok,
          code: message.code,
          cachedAtStart: message.cachedAtStart,
        });
        return;
      case 'requestStarted':
        member.requestsInFlight.set(message.scope, message.at);
        this.log.requestReports.push({ scope: message.scope, at: message.at, background: message.background });
        this.onRequestStarted?.(member.id);
        return;
      case 'requestEnded':
        member.requestsInFlight.delete(message.scope);
        return;
      case 'cacheFailed': {
        const key = `${message.operation}:${message.code}`;
        this.log.cacheFailures[key] = (this.log.cacheFailures[key] ?? 0) + 1;
        return;
      }
      case 'done':
        return;
    }
  }

  #killAll(): void {
    for (const member of this.#members.values()) {
      if (member.proc.exitCode === null && member.proc.signalCode === null) {
        try {
          process.kill(member.proc.pid as number, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    }
  }
}
