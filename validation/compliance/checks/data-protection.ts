import ts from 'typescript';
import { positionAt } from '../../project';
import {
  calleeName,
  calls,
  expressionName,
  hitAt,
  initializerOf,
  lastPart,
  normalise,
  nodesOf,
  property,
  propertyName,
  type CheckContext,
  type Hit,
  type SourceUnit,
} from '../ast';
import type { ComplianceCheck } from '../check';

// Personal, health, financial and credential data, by normalised name (`user.email`, `dateOfBirth`, `card_number`).
const PERSONAL =
  /^(e?mail|emailaddress|ssn|socialsecurity(number)?|password|passwd|pwd|creditcard(number)?|cardnumber|cvv|cvc|pan|dob|dateofbirth|birthdate|phone|phonenumber|mobile|homeaddress|streetaddress|address|postcode|zipcode|passport(number)?|nationalid|taxid|diagnosis|diagnoses|medicalrecord(number)?|mrn|patient|healthrecord|insuranceid|insurancenumber|iban|accountnumber|routingnumber|token|accesstoken|refreshtoken|idtoken|apikey|secret|authorization|cookie|cookies)$/;
const LOGGER_METHOD = /^(log|info|warn|error|debug|trace|fatal|verbose|silly|http)$/;
const LOGGER_RECEIVER =
  /^(console|log|logger|\w*logger|\w*Logger|pino|winston|bunyan|signale|fastify\.log|req\.log|request\.log|this\.log|this\.logger|app\.log|server\.log)$/i;
// Wrapping a value in one of these makes it safe to log.
const PROTECTED =
  /mask|redact|hash|anonymi[sz]e|pseudonymi[sz]e|truncate|obfuscate|scrub|sanitize|sanitise|last4|lastFour|sha\d|hmac|digest|encrypt|fingerprint|tokeni[sz]e/i;
const WHOLE_REQUEST = /^(req|request|ctx\.request)\.(body|headers|cookies|query)$/;

function isLogCall(call: ts.CallExpression): boolean {
  const name = calleeName(call);
  const method = lastPart(name);
  return LOGGER_METHOD.test(method) && LOGGER_RECEIVER.test(name.slice(0, -method.length - 1));
}

/** The values a log argument writes: leaf property names, bare identifiers and call arguments (not callees). */
function loggedNames(arg: ts.Expression): string[] {
  const names: string[] = [];
  const visit = (node: ts.Node) => {
    // `!!password`, `typeof token`, `a === b`, the condition of `x ? 'set' : 'unset'`: facts about a value, not the value.
    if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.ExclamationToken) return;
    if (ts.isTypeOfExpression(node)) return;
    if (ts.isBinaryExpression(node) && /^(===?|!==?|<=?|>=?)$/.test(node.operatorToken.getText())) return;
    if (ts.isConditionalExpression(node)) {
      visit(node.whenTrue);
      visit(node.whenFalse);
      return;
    }
    if (ts.isCallExpression(node)) {
      if (PROTECTED.test(calleeName(node)) || calleeName(node) === 'Boolean') return;
      node.arguments.forEach(visit);
      return;
    }
    if (ts.isPropertyAccessExpression(node)) {
      const name = expressionName(node);
      names.push(WHOLE_REQUEST.test(name) ? name : node.name.text);
      return;
    }
    if (ts.isIdentifier(node)) {
      names.push(node.text);
      return;
    }
    if (ts.isPropertyAssignment(node)) {
      visit(node.initializer);
      return;
    }
    // { ...req.headers, authorization: '[redacted]' }: the sensitive keys are overwritten with literals.
    if (ts.isSpreadAssignment(node) && ts.isObjectLiteralExpression(node.parent)) {
      const overwritten = node.parent.properties.some(
        (other) =>
          ts.isPropertyAssignment(other) &&
          other.pos > node.pos &&
          PERSONAL.test(normalise(propertyName(other.name) ?? '')) &&
          !ts.isIdentifier(other.initializer),
      );
      if (overwritten) return;
    }
    node.forEachChild(visit);
  };
  visit(arg);
  return names;
}

const personalDataIn = (arg: ts.Expression, redacted: Set<string>) =>
  loggedNames(arg).find(
    (name) => (WHOLE_REQUEST.test(name) || PERSONAL.test(normalise(name))) && !redacted.has(normalise(name)),
  );

/** Fields a logger is configured to redact (pino `redact: ['password', 'req.headers.authorization']`). */
function redactedFields(unit: SourceUnit): Set<string> {
  const fields = new Set<string>();
  for (const node of nodesOf(unit, ts.isPropertyAssignment)) {
    if (propertyName(node.name) !== 'redact') continue;
    for (const match of node.initializer.getText(unit.sf).matchAll(/['"`]([\w.*[\]"'-]+)['"`]/g))
      fields.add(normalise(match[1]!.split('.').at(-1)!.replace(/[^\w]/g, '')));
  }
  return fields;
}

export const piiInLogs: ComplianceCheck = {
  id: 'pii-in-logs',
  title: 'Personal or secret data written to logs',
  cwe: ['CWE-532', 'CWE-359'],
  remediation:
    'Log identifiers, not personal data: drop, mask or hash personal, health and credential fields before logging.',
  run(ctx) {
    const hits: Hit[] = [];
    let applicable = false;
    for (const unit of ctx.sources) {
      const redacted = redactedFields(unit);
      for (const call of calls(unit)) {
        if (!isLogCall(call)) continue;
        applicable = true;
        for (const arg of call.arguments) {
          const leaked = personalDataIn(arg, redacted);
          if (leaked) {
            hits.push(hitAt(unit, call, `log statement writes "${leaked}"`));
            break;
          }
        }
      }
    }
    return { applicable, hits };
  },
};

// Fields that must be encrypted (or, for passwords, hashed) at rest.
const SENSITIVE_FIELD =
  /^(ssn|socialsecurity(number)?|creditcard(number)?|cardnumber|cvv|cvc|pan|taxid|nationalid|passport(number)?|diagnosis|diagnoses|medicalrecord(number)?|mrn|healthrecord|medicalhistory|bankaccount(number)?|accountnumber|iban|routingnumber|password|passwd)$/;
const ENCRYPTED_MARKER = /encrypt|cipher|hash|kms|vault|seal|transformer|@encrypted|bcrypt|argon|scrypt|digest/i;
const PERSIST =
  /^(create|createMany|insert|insertOne|insertMany|save|update|updateOne|updateMany|upsert|findOneAndUpdate|bulkCreate|put|putItem)$/;

const isSensitive = (name: string) => SENSITIVE_FIELD.test(normalise(name));
const fieldWord = (name: string) => (/pass/i.test(name) ? 'stored in plaintext (not hashed)' : 'stored unencrypted');

/** Schema definitions in Prisma and SQL files. */
function schemaFileHits(ctx: CheckContext): { hits: Hit[]; schemas: number } {
  const hits: Hit[] = [];
  let schemas = 0;
  for (const file of ctx.files) {
    if (/\.prisma$/.test(file.path)) {
      schemas++;
      for (const match of file.content.matchAll(/^\s*(\w+)\s+(String|Int|BigInt|Bytes)\??(.*)$/gm)) {
        if (isSensitive(match[1]!) && !ENCRYPTED_MARKER.test(match[3]!)) {
          hits.push({
            path: file.path,
            ...positionAt(file.content, match.index),
            message: `field "${match[1]}" is ${fieldWord(match[1]!)}`,
          });
        }
      }
    } else if (/\.sql$/.test(file.path) || /create\s+table/i.test(file.content)) {
      for (const table of createTableBodies(file.content)) {
        schemas++;
        for (const column of table.body.matchAll(
          /(^|,)\s*["`]?(\w+)["`]?\s+(varchar|text|char|nvarchar|character varying|int|integer|bigint|numeric|string)\b([^,]*)/gi,
        )) {
          const name = column[2]!;
          if (isSensitive(name) && !ENCRYPTED_MARKER.test(name + column[4])) {
            const offset = table.offset + column.index + column[0].indexOf(name);
            hits.push({
              path: file.path,
              ...positionAt(file.content, offset),
              message: `column "${name}" is ${fieldWord(name)}`,
            });
          }
        }
      }
    }
  }
  return { hits, schemas };
}

/** The column list of each `CREATE TABLE name ( ... )`, up to its matching parenthesis. */
function createTableBodies(sql: string): { body: string; offset: number }[] {
  const tables: { body: string; offset: number }[] = [];
  for (const match of sql.matchAll(/create\s+table[^(;]*\(/gi)) {
    const start = match.index + match[0].length;
    let depth = 1;
    let end = start;
    while (end < sql.length && depth > 0) {
      if (sql[end] === '(') depth++;
      else if (sql[end] === ')') depth--;
      end++;
    }
    // Parenthesised type arguments (VARCHAR(255)) would split columns; blank them out, keeping offsets.
    const body = sql.slice(start, end - 1).replace(/\([^()]*\)/g, (inner) => ' '.repeat(inner.length));
    tables.push({ body, offset: start });
  }
  return tables;
}

/** A value that went through hashing or encryption (directly, or via the variable it came from). */
function isProtectedValue(unit: SourceUnit, value: ts.Expression): boolean {
  if (ENCRYPTED_MARKER.test(value.getText(unit.sf))) return true;
  if (ts.isIdentifier(value)) {
    const init = initializerOf(unit, value.text, value);
    return init !== undefined && ENCRYPTED_MARKER.test(init.getText(unit.sf));
  }
  return false;
}

export const unencryptedSensitiveField: ComplianceCheck = {
  id: 'unencrypted-sensitive-field',
  title: 'Sensitive field stored without encryption or hashing',
  cwe: ['CWE-311', 'CWE-312', 'CWE-256'],
  remediation:
    'Encrypt sensitive fields at rest (field-level AES-256-GCM or KMS envelope encryption); store only salted password hashes.',
  run(ctx) {
    const { hits, schemas } = schemaFileHits(ctx);
    let models = schemas;
    for (const unit of ctx.sources) {
      // Mongoose/Sequelize models and persistence calls: `{ ssn: String }`, `create({ data: { ssn: body.ssn } })`.
      for (const call of [...calls(unit), ...nodesOf(unit, ts.isNewExpression)]) {
        const name = lastPart(calleeName(call));
        const isModel = /^(Schema|define|init|model)$/.test(name);
        if (!isModel && !PERSIST.test(name)) continue;
        models++;
        for (const object of (call.arguments ?? []).flatMap((arg) => objectsIn(arg))) {
          for (const element of object.properties) {
            const [key, value] = ts.isPropertyAssignment(element)
              ? [propertyName(element.name), element.initializer]
              : ts.isShorthandPropertyAssignment(element)
                ? [element.name.text, element.name]
                : [undefined, undefined];
            if (!key || !value || !isSensitive(key)) continue;
            if (isModel ? isPlainType(unit, value) : !isProtectedValue(unit, value)) {
              hits.push(hitAt(unit, element, `field "${key}" is ${fieldWord(key)}`));
            }
          }
        }
      }
      // TypeORM entities: `@Column() ssn: string` without a transformer.
      for (const member of nodesOf(unit, ts.isPropertyDeclaration)) {
        const column = (ts.getDecorators(member) ?? []).find((d) => /^Column/.test(d.expression.getText(unit.sf)));
        if (!column) continue;
        models++;
        const key = propertyName(member.name);
        if (key && isSensitive(key) && !ENCRYPTED_MARKER.test(column.getText(unit.sf))) {
          hits.push(hitAt(unit, member, `column "${key}" is ${fieldWord(key)}`));
        }
      }
    }
    return { applicable: models > 0, hits };
  },
};

/** Object literals in an argument, including nested `data: {...}` blocks. */
function objectsIn(node: ts.Node): ts.ObjectLiteralExpression[] {
  const found: ts.ObjectLiteralExpression[] = [];
  const visit = (child: ts.Node) => {
    if (ts.isObjectLiteralExpression(child)) found.push(child);
    if (ts.isObjectLiteralExpression(child) || ts.isPropertyAssignment(child) || ts.isArrayLiteralExpression(child))
      child.forEachChild(visit);
  };
  visit(node);
  return found;
}

/** A model field declared as a plain type (`String`, `{ type: String }`, `DataTypes.STRING`) without encryption hooks. */
function isPlainType(unit: SourceUnit, value: ts.Expression): boolean {
  const text = value.getText(unit.sf);
  if (ENCRYPTED_MARKER.test(text)) return false;
  if (ts.isObjectLiteralExpression(value)) {
    const type = property(value, 'type');
    return type !== undefined && !property(value, 'get') && !property(value, 'set');
  }
  return /^(String|Number|DataTypes\.\w+|Sequelize\.\w+|Schema\.Types\.\w+)/.test(text);
}
