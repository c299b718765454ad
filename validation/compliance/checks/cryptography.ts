import ts from 'typescript';
import {
  calleeName,
  calls,
  enclosingNames,
  hitAt,
  initializerOf,
  lastPart,
  namesIn,
  nodesOf,
  property,
  stringValue,
  type CheckContext,
  type Hit,
} from '../ast';
import type { ComplianceCheck } from '../check';

const PASSWORD = /pass(word|wd|phrase)?|pwd/i;
const FAST_HASH = /^(md5|md4|sha1|sha-1|sha224|sha256|sha-256|sha384|sha512|sha-512|ripemd160)$/i;

/** The `createHash(...)` a `.update(x).digest()` chain starts from, if any. */
function hashAlgorithm(call: ts.CallExpression): string | undefined {
  let current: ts.Expression = call;
  while (ts.isCallExpression(current) && ts.isPropertyAccessExpression(current.expression)) {
    if (lastPart(calleeName(current)) === 'createHash') return stringValue(current.arguments[0]);
    current = current.expression.expression;
  }
  if (ts.isCallExpression(current) && lastPart(calleeName(current)) === 'createHash')
    return stringValue(current.arguments[0]);
  return undefined;
}

const usesPasswords = (ctx: CheckContext) => ctx.sources.some((unit) => /password|passwd/i.test(unit.file.content));

export const weakPasswordHash: ComplianceCheck = {
  id: 'weak-password-hash',
  title: 'Passwords hashed with a fast or weak algorithm',
  cwe: ['CWE-916', 'CWE-328'],
  remediation: 'Hash passwords with argon2id, scrypt or bcrypt (cost ≥ 10) with a per-password salt; never MD5/SHA-x.',
  run(ctx) {
    const hits: Hit[] = [];
    for (const unit of ctx.sources) {
      for (const call of calls(unit)) {
        const name = lastPart(calleeName(call));
        if (name === 'update') {
          const algorithm = hashAlgorithm(call);
          const data = call.arguments[0];
          if (!algorithm || !FAST_HASH.test(algorithm) || !data) continue;
          // One hop of data flow: `update(salted)` where `salted` was built from the password.
          const init = ts.isIdentifier(data) ? initializerOf(unit, data.text, data) : undefined;
          const context = [...namesIn(data), ...(init ? namesIn(init) : []), ...enclosingNames(call)];
          if (context.some((n) => PASSWORD.test(n)))
            hits.push(hitAt(unit, call, `password hashed with ${algorithm}, a fast digest`));
        } else if (/^(md5|sha1|sha256|sha512)$/i.test(name) && call.arguments[0]) {
          if (namesIn(call.arguments[0]).some((n) => PASSWORD.test(n)))
            hits.push(hitAt(unit, call, `password hashed with ${name}, a fast digest`));
        } else if (/^(hash|hashSync|genSalt|genSaltSync)$/.test(name) && /bcrypt/i.test(calleeName(call))) {
          const rounds = call.arguments[name.startsWith('gen') ? 0 : 1];
          if (rounds && ts.isNumericLiteral(rounds) && Number(rounds.text) < 10)
            hits.push(hitAt(unit, call, `bcrypt cost ${rounds.text} is below 10`));
        } else if (/^pbkdf2(Sync)?$/.test(name)) {
          const iterations = call.arguments[2];
          if (iterations && ts.isNumericLiteral(iterations) && Number(iterations.text) < 100_000) {
            hits.push(hitAt(unit, call, `PBKDF2 with ${iterations.text} iterations is too few for passwords`));
          }
        }
      }
    }
    return { applicable: hits.length > 0 || usesPasswords(ctx), hits };
  },
};

const BROKEN_CIPHER = /^(des|des-\w+|des3|rc2|rc2-\w+|rc4|rc4-\w+|bf|bf-\w+|blowfish|cast5?-\w+|idea|[\w-]+-ecb)$/i;
const OLD_TLS = /^(TLSv1|TLSv1\.1|SSLv3|TLSv1_method|TLSv1_1_method|SSLv3_method|SSLv23_method)$/;
const CRYPTO_USE =
  /createCipher|createDecipher|generateKeyPair|createSign|minVersion|secureProtocol|crypto-js|CryptoJS/;

export const weakCryptography: ComplianceCheck = {
  id: 'weak-cryptography',
  title: 'Broken cipher, static IV, short key or old TLS version',
  cwe: ['CWE-327', 'CWE-329', 'CWE-326'],
  remediation:
    'Use AES-256-GCM via createCipheriv with a random 12-byte IV per message, RSA ≥ 2048 bits, and TLS 1.2 or later.',
  run(ctx) {
    const hits: Hit[] = [];
    for (const unit of ctx.sources) {
      for (const call of calls(unit)) {
        const name = lastPart(calleeName(call));
        if (name === 'createCipher' || name === 'createDecipher') {
          hits.push(hitAt(unit, call, `${name} derives the key without salt and uses no IV (deprecated)`));
        } else if (name === 'createCipheriv') {
          const algorithm = stringValue(call.arguments[0]);
          if (algorithm && BROKEN_CIPHER.test(algorithm))
            hits.push(hitAt(unit, call, `cipher ${algorithm} is broken or leaks patterns`));
          const iv = call.arguments[2];
          if (
            iv &&
            (stringValue(iv) !== undefined || /^Buffer\.(alloc|from)\(\s*(\d+|["'`])/.test(iv.getText(unit.sf)))
          ) {
            hits.push(hitAt(unit, call, 'cipher uses a constant IV'));
          }
        } else if (/^generateKeyPair(Sync)?$/.test(name)) {
          const options = call.arguments[1];
          const bits =
            options && ts.isObjectLiteralExpression(options) ? property(options, 'modulusLength') : undefined;
          if (bits && ts.isNumericLiteral(bits) && Number(bits.text) < 2048)
            hits.push(hitAt(unit, call, `RSA key of ${bits.text} bits is too short`));
        } else if (/^CryptoJS\.(DES|TripleDES|RC4|RC4Drop|Rabbit)\.encrypt$/.test(calleeName(call))) {
          hits.push(hitAt(unit, call, `${calleeName(call).split('.')[1]} is a broken cipher`));
        }
      }
      for (const object of nodesOf(unit, ts.isObjectLiteralExpression)) {
        for (const key of ['minVersion', 'secureProtocol', 'maxVersion']) {
          const value = stringValue(property(object, key));
          if (value && OLD_TLS.test(value) && key !== 'maxVersion')
            hits.push(hitAt(unit, object, `${key} ${value} allows obsolete TLS/SSL`));
        }
      }
    }
    return { applicable: hits.length > 0 || ctx.sources.some((unit) => CRYPTO_USE.test(unit.file.content)), hits };
  },
};

const SECURITY_VALUE =
  /token|secret|passw|session|nonce|salt|otp|api.?key|csrf|reset|invite|verification|signature|(verif|reset|auth|otp|confirm|invite|login|access|mfa|sms|email)\w*code|\bpin$/i;
const RANDOM_APIS = /Math\.random|randomBytes|randomUUID|getRandomValues|randomInt/;

export const insecureRandomness: ComplianceCheck = {
  id: 'insecure-randomness',
  title: 'Predictable randomness used for tokens or secrets',
  cwe: ['CWE-338', 'CWE-330'],
  remediation:
    'Generate tokens, codes and IDs that grant access with crypto.randomBytes, crypto.randomInt or crypto.randomUUID.',
  run(ctx) {
    const hits: Hit[] = [];
    let applicable = false;
    for (const unit of ctx.sources) {
      if (RANDOM_APIS.test(unit.file.content)) applicable = true;
      for (const call of calls(unit)) {
        const name = calleeName(call);
        if (name === 'crypto.pseudoRandomBytes' || name === 'pseudoRandomBytes') {
          hits.push(hitAt(unit, call, 'pseudoRandomBytes is not cryptographically secure'));
          continue;
        }
        if (name !== 'Math.random') continue;
        const names = enclosingNames(call);
        const used = names.find((n) => SECURITY_VALUE.test(n));
        if (used) hits.push(hitAt(unit, call, `Math.random() is predictable and generates "${used}"`));
      }
    }
    return { applicable, hits };
  },
};
