// The npm packages bench/real-packages.ts validates: popular ones (false positives on real code) and
// versions with a published weakness (recall at the right place). Versions are pinned so the reviewed
// sample (reviews.ts) stays about the same code; the popular ones were the registry's latest on 2026-11-30.

export interface PopularPackage {
  name: string;
  version: string;
}

/**
 * Where the advisory puts the weakness: a file, the functions (by name as assigned) that hold it, and the
 * lines of the vulnerable operation itself (a finding counts within SINK_DISTANCE lines of one).
 */
export interface WeaknessLocation {
  file: string;
  functions: string[];
  sinks: RegExp[];
}

export const SINK_DISTANCE = 3;

export interface VulnerablePackage {
  name: string;
  version: string;
  advisory: string;
  weakness: string;
  /** Our finding classes that name this weakness (matched against a finding's CWE ids and rule id). */
  cwes: string[];
  ruleWords: RegExp;
  locations: WeaknessLocation[];
  /** Why our detectors miss it, from reading the detectors and the code; reported unless it is found. */
  whyMissed: string;
}

export const POPULAR: PopularPackage[] = [
  { name: 'express', version: '5.3.0' },
  { name: 'koa', version: '3.3.0' },
  { name: 'fastify', version: '5.12.8' },
  { name: 'body-parser', version: '2.4.0' },
  { name: 'jsonwebtoken', version: '9.0.3' },
  { name: 'pg', version: '8.23.1' },
  { name: 'ws', version: '8.23.0' },
];

export const VULNERABLE: VulnerablePackage[] = [
  {
    name: 'node-serialize',
    version: '0.0.4',
    advisory: 'CVE-2017-5941 / GHSA-q4v7-4rhw-9hqm',
    weakness: 'untrusted data deserialised: a `_$$ND_FUNC$$_` value is passed to eval (code execution)',
    cwes: ['CWE-502', 'CWE-94', 'CWE-95'],
    ruleWords: /eval|code-injection|deserial/i,
    locations: [{ file: 'lib/serialize.js', functions: ['exports.unserialize'], sinks: [/eval\('\(' \+ obj\[key\]/] }],
    whyMissed: 'n/a: found by four detectors at the eval (line 75).',
  },
  {
    name: 'st',
    version: '0.2.4',
    advisory: 'CVE-2014-3744 / GHSA-69rr-wvh9-6c4q',
    weakness: 'path traversal: the URL is normalised before it is percent-decoded, so `%2e%2e/` escapes the root',
    cwes: ['CWE-22', 'CWE-23'],
    ruleWords: /path-traversal|traversal/i,
    locations: [
      {
        file: 'st.js',
        functions: ['Mount.prototype.getPath', 'Mount.prototype.serve'],
        sinks: [/path\.normalize\(url\.parse\(u\)/, /u = decodeURIComponent\(u\)/, /path\.join\(this\.path, u\)/],
      },
    ],
    whyMissed:
      "The path does come from req.url, a source we track, but reaches the file system only through a cache: this.cache.fd.get(p, cb) runs the cache's load function (fs.open(key)) from inside the async-cache library, a flow through a third-party callback the taint engine does not follow. The flaw itself is an ordering bug (path.normalize before decodeURIComponent); a check that sees normalize on the path would count it as normalised.",
  },
  {
    name: 'marked',
    version: '0.3.5',
    advisory: 'CVE-2016-10531 / GHSA-vfvf-mqq8-rwqc',
    weakness: 'XSS: the sanitizer misses `javascript&#58;` links (unescape does not decode the colon entity)',
    cwes: ['CWE-79'],
    ruleWords: /xss|html|escape/i,
    locations: [
      {
        file: 'lib/marked.js',
        functions: ['Renderer.prototype.link', 'unescape'],
        sinks: [/prot\.indexOf\('javascript:'\)/, /'<a href="' \+ href/],
      },
    ],
    whyMissed:
      'A library: the markdown text is a parameter of marked(), not request input, so no taint source exists; and the flaw is an incomplete deny-list (the javascript: test after a lossy unescape), not a missing escape, which a source-to-sink XSS check cannot see.',
  },
  {
    name: 'lodash',
    version: '4.17.11',
    advisory: 'CVE-2019-10744 / GHSA-jf85-cpcp-j695',
    weakness: 'prototype pollution: defaultsDeep merges a `constructor.prototype` payload into Object.prototype',
    cwes: ['CWE-1321', 'CWE-915', 'CWE-20'],
    ruleWords: /prototype|pollution|merge/i,
    // defaultsDeep → mergeWith → baseMerge → baseMergeDeep → safeGet/assignMergeValue (fixed in _safeGet.js).
    locations: [
      { file: 'defaultsDeep.js', functions: ['defaultsDeep'], sinks: [/customDefaultsMerge\)/] },
      { file: '_customDefaultsMerge.js', functions: ['customDefaultsMerge'], sinks: [/baseMerge\(/] },
      { file: '_baseMerge.js', functions: ['baseMerge'], sinks: [/assignMergeValue\(object, key/] },
      { file: '_baseMergeDeep.js', functions: ['baseMergeDeep'], sinks: [/assignMergeValue\(object, key/] },
      { file: '_safeGet.js', functions: ['safeGet'], sinks: [/key == '__proto__'/, /return object\[key\]/] },
      { file: '_assignMergeValue.js', functions: ['assignMergeValue'], sinks: [/baseAssignValue\(object, key/] },
    ],
    whyMissed:
      "The unsafe-merge check looks for one function that writes target[key] and calls itself on target[key]; lodash's recursion is mutual and indirect (baseMerge → baseMergeDeep → the mergeFunc parameter) across modules, and the write happens in a third (baseAssignValue via assignMergeValue). Library parameters are not taint sources, and safeGet blocks __proto__ (the bypass is constructor.prototype).",
  },
  {
    name: 'growl',
    version: '1.9.2',
    advisory: 'CVE-2017-16042 / GHSA-qh2h-chj9-jffq',
    weakness: 'command injection: the message and options are joined into a shell command run by exec',
    cwes: ['CWE-78'],
    ruleWords: /command|child-process|exec/i,
    locations: [{ file: 'lib/growl.js', functions: ['growl'], sinks: [/exec\(args\.join\(' '\), fn\)/] }],
    whyMissed: 'n/a: found at the exec call (line 289).',
  },
  {
    name: 'ms',
    version: '0.7.0',
    advisory: 'CVE-2015-8315 / GHSA-3fx5-fwvr-xrjg',
    weakness: 'ReDoS: the duration regular expression in parse backtracks on long input',
    cwes: ['CWE-1333', 'CWE-400', 'CWE-730'],
    ruleWords: /regex|redos/i,
    locations: [{ file: 'index.js', functions: ['parse'], sinks: [/^\s*var match = \/\^/] }],
    whyMissed: 'n/a: found at the regular expression (line 41).',
  },
  {
    name: 'adm-zip',
    version: '0.4.7',
    advisory: 'CVE-2018-1002204 / GHSA-3v6h-hqm4-2rg6',
    weakness: 'zip slip: entry names with `../` are resolved against the target folder and written outside it',
    cwes: ['CWE-22', 'CWE-29'],
    ruleWords: /path-traversal|traversal|zip/i,
    locations: [
      {
        file: 'adm-zip.js',
        functions: ['extractEntryTo', 'extractAllTo', 'extractAllToAsync'],
        sinks: [/pth\.resolve\(targetPath, /, /Utils\.writeFileTo(Async)?\(target,/],
      },
    ],
    whyMissed:
      "The zip-slip rule treats entry names as a source when an application reads them through a zip library (zip.getEntries(), unzipper/yauzl/tar entry callbacks, jszip's zip.files); inside adm-zip itself the entries are its own _zip.entries list, which is not a known source, so pth.resolve(targetPath, entry.entryName) → Utils.writeFileTo is not reported.",
  },
  {
    name: 'ejs',
    version: '3.1.6',
    advisory: 'CVE-2022-29078 / GHSA-phwq-j96m-2c2q',
    weakness:
      'template injection: options from render data (`settings["view options"].outputFunctionName`) are concatenated into the compiled function source',
    cwes: ['CWE-94', 'CWE-95', 'CWE-1336', 'CWE-74'],
    ruleWords: /template|code-injection|eval|new-func/i,
    locations: [
      {
        file: 'lib/ejs.js',
        functions: ['Template.prototype.compile', 'exports.renderFile'],
        sinks: [/' {2}var ' \+ opts\.outputFunctionName/, /fn = new ctor\(opts\.localsName/],
      },
    ],
    whyMissed:
      "The template function is built by `new ctor(…)` where ctor is Function or the AsyncFunction constructor fetched at run time; the code sinks know eval/Function by name, so the aliased constructor is not a sink, and outputFunctionName is an option (a parameter), not request input. The no-new-func finding inside compile (line 648) is a constant `new Function('return (async function(){}).constructor;')`, not the weakness.",
  },
];
