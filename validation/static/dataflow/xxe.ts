import ts from 'typescript';
import type { RuleHit } from './hits';
import { calleeText, lastName, lineOf, literal, propertyNameText, rootName, strip, walk, type Unit } from './program';
import type { TaintEngine } from './taint';

const XML_MODULES =
  /^(libxmljs2?|libxmljs-mt|xml2js|fast-xml-parser|xmldom|@xmldom\/xmldom|sax|saxes|node-expat|xml-js|xml2json|xmllint|libxml-xsd|xpath|txml|xml-parser|xmldoc|libxml2-wasm)$/;
const PARSE_CALL =
  /^(parseXml|parseXmlString|parseXmlAsync|parseHtml|parseString|parseStringPromise|parse|Parser|XMLParser|DOMParser|SaxParser|SaxPushParser|parseFromString|xml2js|xml2json|toJson|fromXml|Document|XmlDocument|fromString)$/;
// Options that substitute entities or load external DTDs (libxml2's XML_PARSE_NOENT / DTDLOAD and their kin).
const ENTITY_OPTIONS =
  /^(noent|dtdload|dtdattr|dtdvalid|resolveExternals|resolveExternalEntities|externalEntities|expandExternalEntities|loadExternalDtd|loadDtd|processExternalEntities|replaceEntities|substituteEntities|validateDtd)$/i;

/** The option of an options object (inline or a variable) that turns on external entities. */
function entityOption(
  engine: TaintEngine,
  node: ts.Expression | undefined,
  depth = 0,
): ts.PropertyAssignment | undefined {
  if (!node || depth > 3) return undefined;
  const expression = strip(node);
  if (ts.isIdentifier(expression)) return entityOption(engine, engine.initializerOf(expression), depth + 1);
  if (!ts.isObjectLiteralExpression(expression)) return undefined;
  for (const property of expression.properties) {
    if (!ts.isPropertyAssignment(property)) continue;
    const name = propertyNameText(property.name) ?? '';
    if (ENTITY_OPTIONS.test(name) && strip(property.initializer).kind === ts.SyntaxKind.TrueKeyword) return property;
    const nested = ts.isObjectLiteralExpression(strip(property.initializer))
      ? entityOption(engine, property.initializer, depth + 1)
      : undefined;
    if (nested) return nested;
  }
  return undefined;
}

/** XXE: XML parsed with entity substitution or external DTDs switched on (libxmljs noent, xmllint --noent, …). */
export function findXxe(engine: TaintEngine, unit: Unit): RuleHit[] {
  const hits: RuleHit[] = [];
  const bindings = engine.bindings.get(unit.sf) ?? new Map<string, { module: string; imported: string }>();
  const xmlFile = [...bindings.values()].some((binding) => XML_MODULES.test(binding.module));
  walk(unit.sf, (node) => {
    if (!ts.isCallExpression(node) && !ts.isNewExpression(node)) return;
    const name = calleeText(node.expression);
    const method = lastName(name);
    const args = node.arguments ?? [];
    // exec('xmllint --noent …'): the command-line parser with entity substitution.
    if (/^(exec|execSync|spawn|spawnSync|execFile|execFileSync)$/.test(method)) {
      const text = args.map((arg) => engine.constantText(arg) + arg.getText(unit.sf)).join(' ');
      if (/xmllint/.test(text) && /--(noent|dtdvalid|loaddtd)/.test(text))
        hits.push({
          rule: 'xxe',
          node,
          message: `XML parsed with external entities enabled: xmllint runs with --noent/--loaddtd in ${name}()`,
        });
      return;
    }
    const module = bindings.get(rootName(name))?.module ?? '';
    if (!PARSE_CALL.test(method) || (!XML_MODULES.test(module) && !xmlFile && !/xml/i.test(name))) return;
    for (const arg of args) {
      const option = entityOption(engine, arg);
      if (!option) continue;
      const input = args.find((candidate) => candidate !== arg && !ts.isObjectLiteralExpression(strip(candidate)));
      if (input && literal(input) !== undefined) return;
      const taint = input && engine.taintOf(input);
      const where =
        option.getSourceFile() === unit.sf && lineOf(option) !== lineOf(node) ? ` (line ${lineOf(option)})` : '';
      hits.push({
        rule: 'xxe',
        node,
        message: `XML parsed with external entities enabled: ${name}() with ${option.getText(unit.sf)}${where} resolves entities and DTDs named in the document${taint && !taint.stored ? `, which comes from ${taint.origin}` : ''} (file disclosure, SSRF)`,
      });
      return;
    }
  });
  return hits;
}
