/**
 * infra/slim-bundling.ts, proven on real bundles: built by CDK's NodejsFunction (which drives
 * the esbuild CLI) and by esbuild's JS API, then run in a fresh Node.js against a stub endpoint
 * that checks every SigV4 signature.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { App, Stack } from 'aws-cdk-lib';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Metafile } from 'esbuild';
import { decrypt, generateKey, readMessage, readPrivateKey } from 'openpgp';
import { buildBundle } from '../../bench/lib/build';
import { lambdaLikeEnv } from '../../bench/lib/cold-init';
import { invokeBundle } from '../../bench/lib/invoke';
import { projectNodeBinary, repoRoot } from '../../bench/lib/node-binary';
import { NAIVE_OPTIONS } from '../../bench/lib/variants';
import { summarizeMetafile } from '../../bench/analyze-bundle';
import { startStubEndpoint, stubSeal, type StubEndpoint } from '../../bench/experiments/stub-endpoint';
import { SLIM_ALIASES, findForbiddenInputs, slimEsbuildOptions, slimNodejsBundling } from '../../infra/slim-bundling';

const CREDENTIALS = { accessKeyId: 'AKIDSLIMTEST00000001', secretAccessKey: 'slim-test-secret' };
const experiment = (file: string): string => path.join(repoRoot, 'bench', 'experiments', file);

let dir: string;
let stub: StubEndpoint;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotate-slim-test-'));
  stub = await startStubEndpoint(CREDENTIALS);
  env = lambdaLikeEnv({
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL: stub.url,
  });
});

afterAll(async () => {
  await stub.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('slimNodejsBundling', () => {
  it('bundles the AWS SDK and passes every alias as an --alias flag', () => {
    // Act
    const bundling = slimNodejsBundling();
    // Assess
    expect(bundling.externalModules).toEqual([]);
    expect(bundling.mainFields).toEqual(['module', 'main']);
    expect(bundling.minify).toBe(true);
    expect(bundling.keepNames).toBe(true);
    expect(bundling.sourceMap).toBe(false);
    expect(bundling.esbuildArgs?.['--alias']).toEqual(Object.entries(SLIM_ALIASES).map(([from, to]) => `${from}=${to}`));
    expect(bundling.esbuildArgs?.['--legal-comments']).toBe('external');
  });

  it('points every alias at an existing shim', () => {
    for (const target of Object.values(SLIM_ALIASES)) expect(fs.existsSync(target)).toBe(true);
  });

  it('builds, through NodejsFunction and the esbuild CLI, an IAM Lambda that is slim and works', async () => {
    // Prepare
    const app = new App({ outdir: path.join(dir, 'cdk.out') });
    const stack = new Stack(app, 'SlimBundlingTest');
    new NodejsFunction(stack, 'Iam', {
      entry: experiment('iam-handler.ts'),
      runtime: Runtime.NODEJS_24_X,
      bundling: { ...slimNodejsBundling(), metafile: true },
    });
    // Act
    const assembly = app.synth();
    const assetDir = fs
      .readdirSync(assembly.directory)
      .map((name) => path.join(assembly.directory, name))
      .find((p) => fs.existsSync(path.join(p, 'index.js')));
    if (assetDir === undefined) throw new Error('no bundled asset in the cloud assembly');
    const bundle = path.join(assetDir, 'index.js');
    const metafile = JSON.parse(fs.readFileSync(path.join(assetDir, 'index.meta.json'), 'utf8')) as Metafile;
    const before = stub.requests.length;
    const report = await invokeBundle(bundle, { userName: 'alice' }, { node: projectNodeBinary(), env });
    // Assess
    expect(fs.statSync(bundle).size).toBeLessThan(250 * 1024);
    expect(findForbiddenInputs(metafile)).toEqual([]);
    expect(report).toMatchObject({ ok: true, result: { keys: ['AKIASTUBOLDKEY000001'] } });
    expect(stub.requests.slice(before)).toEqual([
      { service: 'iam', action: 'ListAccessKeys', accessKeyId: CREDENTIALS.accessKeyId, signatureValid: true },
    ]);
  }, 60_000);
});

describe('slimEsbuildOptions', () => {
  it('leaves out what the naive build drags in (the whole credential chain, event streams)', async () => {
    // Act
    const naive = await buildBundle(experiment('iam-handler.ts'), path.join(dir, 'naive', 'iam.cjs'), NAIVE_OPTIONS);
    const slim = await buildBundle(experiment('iam-handler.ts'), path.join(dir, 'slim', 'iam.cjs'), slimEsbuildOptions);
    // Assess
    expect(findForbiddenInputs(naive.metafile)).toEqual(
      expect.arrayContaining([expect.stringContaining('@aws-sdk/credential-provider-node/'), expect.stringContaining('@aws-sdk/nested-clients/')]),
    );
    expect(findForbiddenInputs(slim.metafile)).toEqual([]);
    expect(slim.bytes).toBeLessThan(naive.bytes / 2);
  });

  it('does not load node:stream/web, node:zlib or node:http2 at start-up', async () => {
    // Prepare
    const slim = await buildBundle(experiment('iam-handler.ts'), path.join(dir, 'slim', 'modules.cjs'), slimEsbuildOptions);
    const probe = `require(${JSON.stringify(slim.outfile)}); console.log(JSON.stringify(process.moduleLoadList));`;
    // Act
    const child = spawnSync(projectNodeBinary(), ['-e', probe], { env, encoding: 'utf8' });
    // Assess
    expect(child.status).toBe(0);
    const loaded = JSON.parse(child.stdout) as string[];
    expect(loaded).toContain('NativeModule https');
    expect(loaded).not.toContain('NativeModule stream/web');
    expect(loaded).not.toContain('NativeModule zlib');
    expect(loaded).not.toContain('NativeModule http2');
  });

  it('drops openpgp from a Lambda that imports it but never calls it', async () => {
    // Act: barrel-handler imports a module that holds both an IAM step and a PGP step.
    const naive = await buildBundle(experiment('barrel-handler.ts'), path.join(dir, 'naive', 'barrel.cjs'), { ...NAIVE_OPTIONS, ...slimImportMetaOnly() });
    const slim = await buildBundle(experiment('barrel-handler.ts'), path.join(dir, 'slim', 'barrel.cjs'), slimEsbuildOptions);
    const report = await invokeBundle(slim.outfile, { userName: 'alice' }, { node: projectNodeBinary(), env });
    // Assess
    const packages = (m: Metafile): string[] => summarizeMetafile(m).packages.map((p) => p.name);
    expect(packages(naive.metafile)).toContain('openpgp');
    expect(packages(slim.metafile)).not.toContain('openpgp');
    expect(report).toMatchObject({ ok: true, result: { keys: ['AKIASTUBOLDKEY000001'] } });
  });

  it('builds a PGP Lambda that loads and encrypts, with licence notices kept beside the bundle', async () => {
    // Prepare
    const key = await generateKey({ type: 'curve25519', userIDs: [{ name: 'slim test' }], format: 'armored' });
    const slim = await buildBundle(experiment('pgp-handler.ts'), path.join(dir, 'slim', 'pgp.cjs'), slimEsbuildOptions);
    // Act
    const report = await invokeBundle(slim.outfile, { sealed: stubSeal('pgp-plaintext'), armoredKey: key.publicKey }, { node: projectNodeBinary(), env });
    // Assess
    expect(report.ok).toBe(true);
    const { encryptedSecret } = report.result as { encryptedSecret: string };
    const message = await readMessage({ binaryMessage: Buffer.from(encryptedSecret, 'base64') });
    const { data } = await decrypt({ message, decryptionKeys: await readPrivateKey({ armoredKey: key.privateKey }) });
    expect(data).toBe('pgp-plaintext');
    expect(slim.bytes).toBeLessThan(700 * 1024);
    expect(fs.readFileSync(`${slim.outfile}.LEGAL.txt`, 'utf8')).toMatch(/license/i);
    expect(fs.readFileSync(slim.outfile, 'utf8')).not.toMatch(/@license/);
  });
});

/** Only the CommonJS import.meta fix, so the naive barrel bundle can load at all. */
function slimImportMetaOnly(): { define: Record<string, string>; banner: { js: string } } {
  return { define: { ...slimEsbuildOptions.define }, banner: { ...slimEsbuildOptions.banner } };
}

describe('error names', () => {
  const expected = ['TransientAwsError', 'KeyNotPropagatedError', 'ValidationError'];

  it('survive the slim bundle (the state machine retries and catches by them)', async () => {
    // Act
    const slim = await buildBundle(experiment('error-names-handler.ts'), path.join(dir, 'slim', 'names.cjs'), slimEsbuildOptions);
    const report = await invokeBundle(slim.outfile, {}, { node: projectNodeBinary(), env });
    // Assess
    expect(report).toMatchObject({ ok: true, result: expected });
  });

  it('survive plain minification too (each class states its name as a literal)', async () => {
    // Act
    const plain = await buildBundle(experiment('error-names-handler.ts'), path.join(dir, 'naive', 'names.cjs'), NAIVE_OPTIONS);
    const report = await invokeBundle(plain.outfile, {}, { node: projectNodeBinary(), env });
    // Assess
    expect(report).toMatchObject({ ok: true, result: expected });
  });
});
