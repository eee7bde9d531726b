import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withDirectoryLock } from '../local/python-env.js';

const dir = mkdtempSync(join(tmpdir(), 'venv-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A lock directory as a process that held it leaves it behind. */
function leftBehind(name: string, pid: number): string {
  const lock = join(dir, name);
  mkdirSync(lock);
  writeFileSync(join(lock, 'pid'), String(pid));
  return lock;
}

describe('the lock around setting up .venv/', () => {
  it('a lock left by a process that was killed (Ctrl-C during the first install) is taken over at once', async () => {
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((exited) => dead.once('exit', exited));
    const lock = leftBehind('dead', dead.pid ?? 0);
    const started = Date.now();
    let ran = false;
    withDirectoryLock(lock, () => {
      ran = true;
    });
    expect(ran).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(existsSync(lock)).toBe(false);
  });

  it('a lock held by a live process is waited for', () => {
    // Held by this very process, which cannot release it while it waits: the wait ends at the timeout.
    const lock = leftBehind('live', process.pid);
    expect(() => withDirectoryLock(lock, () => {}, { timeoutMs: 1_200 })).toThrow(
      /another process \(pid \d+\) is setting up/,
    );
    rmSync(lock, { recursive: true, force: true });
  });
});
