/** A Markdown table, columns padded to line up: the first `textColumns` left-aligned, the rest (numbers) right-aligned. */
export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, textColumns: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const isText = (column: number): boolean => column < textColumns;
  const line = (cells: readonly string[]): string => '| ' + cells.map((c, i) => (isText(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (isText(i) ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(header), rule, ...rows.map(line)].join('\n');
}
