/** One structured log entry: a flat JSON object. Never put policy documents or credentials in one. */
export type LogEntry = Record<string, string | number | boolean | undefined | readonly string[]>;
export type Logger = (entry: LogEntry) => void;

/** Writes one JSON object per line, the shape CloudWatch Logs Insights queries field by field. */
export function jsonLineLogger(
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Logger {
  return (entry) => write(JSON.stringify({ time: new Date().toISOString(), ...entry }));
}

/** A logger that drops everything (tests, and callers that print their own summary). */
export const silentLogger: Logger = () => {};
