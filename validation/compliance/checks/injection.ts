import ts from 'typescript';
import {
  calleeName,
  calls,
  dynamicParts,
  expressionName,
  hitAt,
  importsOf,
  initializerOf,
  isTrue,
  lastPart,
  literalText,
  property,
  walk,
  type Hit,
  type SourceUnit,
} from '../ast';
import type { ComplianceCheck } from '../check';

const SQL = /\b(select\s[\s\S]*\bfrom|insert\s+into|update\s+\S+\s+set|delete\s+from|where\s|order\s+by|values\s*\()/i;
const QUERY_METHOD =
  /^(query|execute|raw|all|get|run|prepare|exec|each|\$queryRawUnsafe|\$executeRawUnsafe|whereRaw|orderByRaw|havingRaw|joinRaw|selectRaw|fromRaw)$/;
const DB_RECEIVER =
  /db|database|conn|client|pool|knex|sequelize|sql|prisma|tx|trx|manager|repository|queryRunner|sqlite|pg|mysql|connection|store/i;
// Values made safe before they reach the string: escaping, quoting, numeric conversion.
const SANITISER =
  /^(escape|escapeId|escapeLiteral|escapeIdentifier|quote|quoteIdent|format|Number|parseInt|parseFloat|sqlstring\.escape|mysql\.escape|pgFormat|ident|literal)$/;

// Built by the code, not taken from input: `ids.map((_, i) => `$${i + 1}`)` placeholders, an allow-listed choice.
const CODE_BUILT = /=>\s*(`\$\$\{|['"`]\?['"`])|\.fill\(\s*['"`]\?|^[^?]*\.(includes|has)\([^?]*\?/;

function isSanitised(part: ts.Expression, unit?: SourceUnit): boolean {
  if (ts.isNumericLiteral(part)) return true;
  // A constant bound to a literal (`const LIMIT = 50`) is not input.
  if (ts.isIdentifier(part) && unit) {
    const init = initializerOf(unit, part.text, part);
    return (
      init !== undefined &&
      (ts.isNumericLiteral(init) ||
        ts.isStringLiteral(init) ||
        ts.isNoSubstitutionTemplateLiteral(init) ||
        CODE_BUILT.test(init.getText(unit.sf)) ||
        (ts.isConditionalExpression(init) && [init.whenTrue, init.whenFalse].every((v) => ts.isStringLiteralLike(v))) ||
        (ts.isCallExpression(init) && isSanitised(init, unit)))
    );
  }
  if (ts.isCallExpression(part)) {
    // cols.join(', ') over an array of literals: column names written in the code.
    const receiver = ts.isPropertyAccessExpression(part.expression) ? part.expression.expression : undefined;
    const list = receiver && unit && ts.isIdentifier(receiver) ? initializerOf(unit, receiver.text, part) : undefined;
    if (lastPart(calleeName(part)) === 'join' && list && ts.isArrayLiteralExpression(list))
      return list.elements.every((element) => ts.isStringLiteralLike(element));
    return SANITISER.test(lastPart(calleeName(part)));
  }
  return false;
}

/** A string built from values (template or `+`) whose literal parts read as SQL; follows one variable hop. */
function dynamicSql(unit: SourceUnit, arg: ts.Expression, rawFragment: boolean): boolean {
  if (ts.isIdentifier(arg)) {
    const init = initializerOf(unit, arg.text, arg);
    if (init && init !== arg) return dynamicSql(unit, init, rawFragment) || appendedDynamically(unit, arg.text);
    return false;
  }
  const parts = dynamicParts(arg);
  if (parts.length === 0 || parts.every((part) => isSanitised(part, unit))) return false;
  if (!ts.isTemplateExpression(arg) && !ts.isBinaryExpression(arg) && !ts.isParenthesizedExpression(arg)) return false;
  return rawFragment || SQL.test(literalText(arg));
}

/** `sql += ' AND name = ' + name` somewhere in the file. */
function appendedDynamically(unit: SourceUnit, name: string): boolean {
  let found = false;
  walk(unit.sf, (node) => {
    if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.PlusEqualsToken &&
      expressionName(node.left) === name
    ) {
      if (dynamicParts(node.right).some((part) => !isSanitised(part, unit))) found = true;
    }
  });
  return found;
}

export const sqlInjection: ComplianceCheck = {
  id: 'sql-injection',
  title: 'SQL built from input',
  cwe: ['CWE-89'],
  remediation:
    'Pass values as bound parameters ($1, ?, named) or use a tagged sql template; never concatenate input into SQL.',
  run(ctx) {
    const hits: Hit[] = [];
    let applicable = false;
    for (const unit of ctx.sources) {
      if (SQL.test(unit.file.content)) applicable = true;
      for (const call of calls(unit)) {
        const name = calleeName(call);
        const method = lastPart(name);
        if (!QUERY_METHOD.test(method) || !call.arguments[0]) continue;
        const receiver = name.slice(0, -method.length - 1);
        if (!receiver || (!DB_RECEIVER.test(receiver) && !method.startsWith('$') && !method.endsWith('Raw'))) continue;
        applicable = true;
        if (dynamicSql(unit, call.arguments[0], method.endsWith('Raw') || method.endsWith('Unsafe'))) {
          hits.push(hitAt(unit, call, `${name}() runs SQL assembled from values`));
        }
      }
    }
    return { applicable, hits };
  },
};

const SHELL_CALLS = /^(exec|execSync|execAsync|execPromise)$/;
const SPAWN_CALLS = /^(spawn|spawnSync|execFile|execFileSync|execa|execaSync|execaCommand)$/;
const CHILD_PROCESS = /^(node:)?child_process$|^(execa|shelljs|cross-spawn)$/;
const PROCESS_RECEIVER = /child_?process|^cp$|childProcess|^proc$|shell|shelljs/i;

const SHELL_QUOTE = /^(quote|shellEscape|shellescape|escapeShellArg|shellQuote|Number|parseInt)$/;

/** True for anything but a literal, a variable bound to a literal, or parts quoted for the shell or tested by a pattern first. */
function isDynamicCommand(unit: SourceUnit, arg: ts.Expression): boolean {
  if (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)) return false;
  if (ts.isIdentifier(arg)) {
    const init = initializerOf(unit, arg.text, arg);
    return init === undefined || isDynamicCommand(unit, init);
  }
  // Code before the command in its block: `if (!/^[\w.-]+$/.test(branch)) return …` refuses all but an allow-list.
  const block = ts.findAncestor(arg, ts.isBlock);
  const before = block ? unit.sf.text.slice(block.getStart(unit.sf), arg.getStart(unit.sf)) : '';
  const checked = (part: ts.Expression) =>
    (ts.isCallExpression(part) && SHELL_QUOTE.test(lastPart(calleeName(part)))) ||
    (ts.isIdentifier(part) &&
      new RegExp(
        `!\\s*/.*/\\w*\\.test\\(\\s*${part.text.replace(/\$/g, '\\$')}\\s*\\)\\s*\\)\\s*\\{?\\s*(return|throw)\\b`,
      ).test(before));
  return dynamicParts(arg).some((part) => !checked(part));
}

export const commandInjection: ComplianceCheck = {
  id: 'command-injection',
  title: 'Shell command built from input',
  cwe: ['CWE-78'],
  remediation:
    'Call execFile/spawn with a fixed program and an argument array, without a shell; validate arguments against an allow-list.',
  run(ctx) {
    const hits: Hit[] = [];
    const units = ctx.sources.filter((unit) => importsOf(unit).some((spec) => CHILD_PROCESS.test(spec)));
    for (const unit of units) {
      for (const call of calls(unit)) {
        const name = calleeName(call);
        const method = lastPart(name);
        const receiver = name.slice(0, -method.length - 1);
        if (receiver && !PROCESS_RECEIVER.test(receiver)) continue;
        const command = call.arguments[0];
        if (!command) continue;
        if (SHELL_CALLS.test(method) && isDynamicCommand(unit, command)) {
          hits.push(hitAt(unit, call, `${name}() runs a shell command assembled from values`));
        } else if (SPAWN_CALLS.test(method)) {
          const options = call.arguments.find((arg) => ts.isObjectLiteralExpression(arg)) as
            ts.ObjectLiteralExpression | undefined;
          const shell = options && isTrue(property(options, 'shell'));
          const args = call.arguments[1];
          const dynamic =
            isDynamicCommand(unit, command) ||
            (args !== undefined && !ts.isObjectLiteralExpression(args) && /\$\{|\+/.test(args.getText(unit.sf)));
          if (shell && dynamic)
            hits.push(hitAt(unit, call, `${name}() with shell: true runs a command assembled from values`));
        }
      }
    }
    return { applicable: units.length > 0, hits };
  },
};
