import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { ensurePythonTools } from './python-env.js';

/** The account moto answers as. */
export const EMULATOR_ACCOUNT_ID = '123456789012';
export const EMULATOR_REGION = 'us-east-1';
/** Credentials moto accepts; they are not secrets and reach nothing but the emulator. */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;

/** A running moto server on a loopback port. */
export interface Emulator {
  readonly endpoint: string;
  /** Environment variables that point unchanged SDK code at the emulator. */
  readonly env: Readonly<Record<string, string>>;
  /** Wipes every resource (POST /moto-api/reset), for tests that want a fresh account. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Load AWS managed policies (AmazonS3ReadOnlyAccess, ...) so users can attach them. Default true. */
  readonly loadManagedPolicies?: boolean;
}

/**
 * Starts moto server (installed into .venv/ on first use) on a free loopback port and waits until it
 * answers. The server is stopped by stop(), and killed when this process exits.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const { motoServer } = ensurePythonTools();
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const child = spawn(motoServer, ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        MOTO_IAM_LOAD_MANAGED_POLICIES: options.loadManagedPolicies === false ? 'false' : 'true',
      },
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitUntilReady(endpoint, child);
      return makeEmulator(endpoint, child);
    } catch (error) {
      child.kill('SIGKILL');
      // Another process may have taken the port between our probe and moto's bind: try another.
      if (attempt >= 3) throw new Error(`moto server did not start: ${(error as Error).message}\n${stderr}`);
    }
  }
}

function makeEmulator(endpoint: string, child: ChildProcess): Emulator {
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_REGION: EMULATOR_REGION,
    },
    async reset() {
      const answer = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!answer.ok) throw new Error(`moto reset failed: HTTP ${answer.status}`);
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitUntilReady(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    try {
      const answer = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) });
      if (answer.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 150));
  }
  throw new Error('timed out after 60 s');
}

/** Asks the OS for a free port on 127.0.0.1. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** SDK clients aimed at an emulator (or any endpoint), with the emulator's credentials. */
export function clientsFor(endpoint: string) {
  const common = { endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS };
  return {
    iam: new IAMClient(common),
    config: new ConfigServiceClient(common),
    sts: new STSClient(common),
  };
}
