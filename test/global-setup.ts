import { ensurePythonTools } from '../local/python-env.js';

/** Runs once per `vitest run`: the Python tools are ready before test files start emulators. */
export default function setup(): void {
  ensurePythonTools();
}
