// spdx-expression-parse ships no types; it throws on anything that is not an SPDX licence expression.
declare module 'spdx-expression-parse' {
  function parse(expression: string): unknown;
  export = parse;
}
