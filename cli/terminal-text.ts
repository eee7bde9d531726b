/**
 * Characters that must not reach a terminal or a CI log from text the command did not write itself (a file name,
 * a user or policy name from a template): C0 and C1 controls (ANSI escape sequences begin with ESC, U+001B, or
 * CSI, U+009B), DEL, line and paragraph separators, zero-width and bidirectional format characters (which
 * reorder what a reader sees, CVE-2021-42574), and the byte order mark.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this is for.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text that came from input, made safe to print on one line: every unsafe character becomes a visible escape
 * (`\n`, `\u{1b}`), so a crafted name cannot move the cursor, recolour the screen, hide text, or start a new line
 * that a CI runner would read as a workflow command (`::add-mask::`, `::error`).
 *
 * @see https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
 */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, (c) => NAMED[c] ?? `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}

/** Whether printing `text` as it is would be unsafe or ambiguous: it has unsafe characters or is empty. */
export function needsQuoting(text: string): boolean {
  return text === '' || text.trim() !== text || terminalText(text) !== text || text.startsWith('::');
}

/** A name for a table cell or a message: as it is when plain, else in double quotes and escaped (`""`, `"a\nb"`). */
export function quotedName(name: string): string {
  return needsQuoting(name) ? `"${terminalText(name).replace(/"/g, '\\"')}"` : name;
}

/**
 * Keeps a closed output (`| head`, a reader that went away) from ending the command with a stack trace: EPIPE on
 * the stream is taken as "nobody reads any more", later writes are dropped, and the exit code stays the
 * command's own.
 */
export function quietWhenClosed(stream: NodeJS.WriteStream): (text: string) => void {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') closed = true;
    else throw error;
  });
  return (text) => {
    if (!closed && !stream.destroyed) stream.write(text);
  };
}
