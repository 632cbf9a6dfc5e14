/** CSV as RFC 4180 (CRLF records, quotes doubled), shared by `certhub export` and the API's CSV answers. */

/**
 * One field: quoted when it holds a comma, semicolon, quote, CR or LF; null is empty. Text starting with = + - @ (or a
 * tab/CR) gets a leading apostrophe, so a spreadsheet shows it instead of running it as a formula (CSV injection); a
 * semicolon is quoted too, since spreadsheets in many locales split on it and would start a new cell (a formula) there.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : JSON.stringify(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",;\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRecord(fields: readonly unknown[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** A whole document: the header, then one record per row. */
export function csvDocument(header: readonly string[], rows: Iterable<readonly unknown[]>): string {
  let out = csvRecord(header);
  for (const row of rows) out += csvRecord(row);
  return out;
}
