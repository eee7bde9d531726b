import { styleText } from 'node:util';

/** The styles tables use; applied only when colour is on (stdout is a terminal and NO_COLOR is unset). */
export type Style = 'red' | 'green' | 'yellow' | 'cyan' | 'bold' | 'dim';

/** Colours text when `enabled`; otherwise returns it unchanged, so that piped output has no escape codes. */
export function paint(text: string, style: Style, enabled: boolean): string {
  return enabled ? styleText(style, text) : text;
}

/** One column: its heading and, optionally, how to colour a cell from its plain text. */
export interface Column {
  readonly heading: string;
  readonly style?: (cell: string) => Style | undefined;
}

/**
 * Lays rows out in aligned columns separated by two spaces; the last column is not padded, so long annotations
 * do not push trailing spaces. Widths are measured on the plain text, before colour is applied.
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  colour: boolean,
  /** Terminal width: the last column is cut to fit it, with "…". Unset: nothing is cut. */
  maxWidth?: number,
): string {
  const widths = columns.map((c, i) => Math.max(c.heading.length, ...rows.map((r) => (r[i] ?? '').length)));
  const before = widths.slice(0, -1).reduce((sum, w) => sum + w + 2, 0);
  const lastColumnRoom = maxWidth !== undefined ? Math.max(20, maxWidth - before) : Number.POSITIVE_INFINITY;
  const line = (cells: readonly string[], styleOf: (cell: string, i: number) => Style | undefined) =>
    cells
      .map((cell, i) => {
        const padded =
          i === cells.length - 1 ? cutToWidth(cell, lastColumnRoom) : cell.padEnd(widths[i] ?? 0);
        const style = styleOf(cell, i);
        return style !== undefined ? paint(padded, style, colour) : padded;
      })
      .join('  ')
      .trimEnd();
  const header = line(
    columns.map((c) => c.heading),
    () => 'bold',
  );
  const body = rows.map((r) =>
    line(
      columns.map((_, i) => r[i] ?? ''),
      (cell, i) => columns[i]?.style?.(cell),
    ),
  );
  return `${[header, ...body].join('\n')}\n`;
}

function cutToWidth(text: string, room: number): string {
  return text.length <= room ? text : `${text.slice(0, room - 1)}…`;
}

/** Colours a compliance type the way Config's console does: red for NON_COMPLIANT, green for COMPLIANT. */
export function complianceStyle(cell: string): Style | undefined {
  if (cell.startsWith('NON_COMPLIANT')) return 'red';
  if (cell.startsWith('COMPLIANT')) return 'green';
  if (cell.startsWith('NOT_APPLICABLE')) return 'dim';
  return undefined;
}
