// Reading a migration's SQL just enough to find its statements' boundaries and first words: comments,
// quoted strings and identifiers, and dollar-quoted bodies (functions, DO blocks) are skipped whole, so
// a `;` or a `COMMIT` inside them is not mistaken for one of the script's own.

export interface Statement {
  /** Offset of the statement's first character (after leading blanks and comments). */
  start: number;
  /** Offset just past its terminating `;` (or the end of the script). */
  end: number;
  /** Its first words, upper case, comments removed: `BEGIN`, `COMMIT WORK`, `CREATE TABLE`. */
  head: string;
  /** 1-based line of its start, for messages. */
  line: number;
}

const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/;

/** Where the quoted or commented span starting at `i` ends (exclusive), or undefined when none starts there. */
function skipSpan(sql: string, i: number): number | undefined {
  const c = sql[i];
  const next = sql[i + 1];
  if (c === '-' && next === '-') {
    const newline = sql.indexOf('\n', i);
    return newline === -1 ? sql.length : newline + 1;
  }
  if (c === '/' && next === '*') {
    let depth = 0; // PostgreSQL block comments nest
    for (let j = i; j < sql.length; j++) {
      if (sql[j] === '/' && sql[j + 1] === '*') {
        depth++;
        j++;
      } else if (sql[j] === '*' && sql[j + 1] === '/') {
        j++;
        if (--depth === 0) return j + 1;
      }
    }
    return sql.length;
  }
  if (c === "'" || c === '"') {
    const backslashes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/[A-Za-z0-9_]/.test(sql[i - 2] ?? '');
    for (let j = i + 1; j < sql.length; j++) {
      if (backslashes && sql[j] === '\\') j++;
      else if (sql[j] === c && sql[j + 1] === c) j++;
      else if (sql[j] === c) return j + 1;
    }
    return sql.length;
  }
  if (c === '$' && !/[A-Za-z0-9_$]/.test(sql[i - 1] ?? '')) {
    const tag = DOLLAR_TAG.exec(sql.slice(i))?.[0];
    if (!tag) return undefined;
    const close = sql.indexOf(tag, i + tag.length);
    return close === -1 ? sql.length : close + tag.length;
  }
  return undefined;
}

/** The script's statements, in order; blank ones (a stray `;`) are left out. */
export function splitStatements(sql: string): Statement[] {
  const statements: Statement[] = [];
  let start: number | undefined;
  let words = '';
  const finish = (end: number) => {
    if (start !== undefined) statements.push({ start, end, head: headOf(words), line: lineAt(sql, start) });
    start = undefined;
    words = '';
  };
  for (let i = 0; i < sql.length;) {
    const skipped = skipSpan(sql, i);
    if (skipped !== undefined) {
      const isComment = sql[i] === '-' || sql[i] === '/';
      if (!isComment) start ??= i;
      words += isComment ? ' ' : ' \u0000 '; // a quoted span ends the head's words
      i = skipped;
      continue;
    }
    const c = sql[i]!;
    if (c === ';') finish(i + 1);
    else {
      if (start === undefined && !/\s/.test(c)) start = i;
      if (start !== undefined) words += c;
    }
    i++;
  }
  finish(sql.length);
  return statements;
}

function headOf(words: string): string {
  const [plain = ''] = words.split('\u0000');
  return plain.trim().split(/\s+/).slice(0, 3).join(' ').toUpperCase();
}

function lineAt(sql: string, offset: number): number {
  return sql.slice(0, offset).split('\n').length;
}

const CONTROL = /^(BEGIN|START TRANSACTION|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE TRANSACTION)\b/;
const OPENS = /^(BEGIN|BEGIN WORK|BEGIN TRANSACTION|START TRANSACTION)$/;
const CLOSES = /^(COMMIT|COMMIT WORK|COMMIT TRANSACTION|END|END WORK|END TRANSACTION)$/;

/** A statement that starts, ends or partly undoes a transaction. */
export const isTransactionControl = (statement: Statement) => CONTROL.test(statement.head);

/**
 * How a migration stands towards transactions: `plain` (none of its own: run it in ours), `wrapped` (one
 * BEGIN … COMMIT around everything: run its body in ours, same effect), or `refused` with the reason.
 */
export type TransactionShape =
  { kind: 'plain' } | { kind: 'wrapped'; body: string } | { kind: 'refused'; reason: string };

export function transactionShape(sql: string): TransactionShape {
  const statements = splitStatements(sql);
  const control = statements.filter(isTransactionControl);
  if (control.length === 0) return { kind: 'plain' };
  const first = statements[0]!;
  const last = statements.at(-1)!;
  const wrapped = control.length === 2 && control[0] === first && control[1] === last;
  if (wrapped && OPENS.test(first.head) && CLOSES.test(last.head) && statements.length > 2) {
    return { kind: 'wrapped', body: sql.slice(first.end, last.start) };
  }
  const where = control.map((s) => `${s.head} at line ${s.line}`).join(', ');
  return {
    kind: 'refused',
    reason:
      `it controls transactions itself (${where}) other than one BEGIN … COMMIT around all of it, ` +
      'so it cannot be applied all or nothing; split it into migrations that each are one transaction',
  };
}
