/**
 * Part 1 of the benchmark: builds each experiment handler with every variant of
 * bench/lib/variants.ts, proves each bundle still works (a real invocation against the SigV4-
 * checking stub), and measures size, cold initialisation and init + first invocation.
 * Run with `npm run bench -- --experiments`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decrypt, generateKey, readMessage, readPrivateKey } from 'openpgp';
import { findForbiddenInputs } from '../../infra/slim-bundling';
import { buildBundle } from '../lib/build';
import { lambdaLikeEnv, measureColdInit } from '../lib/cold-init';
import { invokeBundle } from '../lib/invoke';
import { projectNodeBinary, repoRoot } from '../lib/node-binary';
import { median, round } from '../lib/stats';
import { VARIANTS, type Variant } from '../lib/variants';
import { startStubEndpoint, stubSeal, type StubEndpoint } from './stub-endpoint';

const CREDENTIALS = { accessKeyId: 'AKIDBENCHEXPERIMENT1', secretAccessKey: 'bench-experiment-secret' };

interface PgpKeys {
  readonly armoredPublic: string;
  readonly armoredPrivate: string;
  readonly fingerprint: string;
}

interface Fixtures {
  readonly ecc: PgpKeys;
  readonly rsa: PgpKeys;
}

interface Experiment {
  readonly id: string;
  readonly label: string;
  readonly entry: string;
  readonly sizeTargetBytes: number;
  /** False for a handler that calls no AWS API (then no signed request is expected). @default true */
  readonly callsAws?: boolean;
  /** Only these variants (ids); all when absent. */
  readonly variants?: readonly string[];
  /** The events to verify a bundle with (the first one is also the one timed). */
  events(fixtures: Fixtures): { event: unknown; check: (result: unknown) => Promise<string | null> }[];
}

async function makePgpKeys(type: 'ecc' | 'rsa'): Promise<PgpKeys> {
  const generated = await generateKey(
    type === 'rsa'
      ? { type: 'rsa', rsaBits: 2048, userIDs: [{ name: 'bench', email: 'bench@example.com' }], format: 'armored' }
      : { type: 'curve25519', userIDs: [{ name: 'bench', email: 'bench@example.com' }], format: 'armored' },
  );
  const privateKey = await readPrivateKey({ armoredKey: generated.privateKey });
  return { armoredPublic: generated.publicKey, armoredPrivate: generated.privateKey, fingerprint: privateKey.getFingerprint() };
}

const PGP_PLAINTEXT = 'bench-plaintext-secret';

function pgpCase(keys: PgpKeys): { event: unknown; check: (result: unknown) => Promise<string | null> } {
  return {
    event: { sealed: stubSeal(PGP_PLAINTEXT), armoredKey: keys.armoredPublic },
    check: async (result) => {
      const r = result as { encryptedSecret?: string; keyFingerprint?: string };
      if (r.keyFingerprint !== keys.fingerprint) return `fingerprint ${r.keyFingerprint} ≠ ${keys.fingerprint}`;
      const message = await readMessage({ binaryMessage: Buffer.from(r.encryptedSecret ?? '', 'base64') });
      const { data } = await decrypt({
        message,
        decryptionKeys: await readPrivateKey({ armoredKey: keys.armoredPrivate }),
        format: 'binary',
      });
      const text = Buffer.from(data as Uint8Array).toString('utf8');
      return text === PGP_PLAINTEXT ? null : 'decrypted text differs';
    },
  };
}

const here = __dirname;
export const EXPERIMENTS: readonly Experiment[] = [
  {
    id: 'iam',
    label: 'IAM client (4 commands) + middy + Powertools Logger',
    entry: path.join(here, 'iam-handler.ts'),
    sizeTargetBytes: 350 * 1024,
    events: () => [
      {
        event: { userName: 'alice' },
        check: async (result) => {
          const keys = (result as { keys?: string[] }).keys;
          return JSON.stringify(keys) === '["AKIASTUBOLDKEY000001"]' ? null : `unexpected keys ${JSON.stringify(keys)}`;
        },
      },
    ],
  },
  {
    id: 'barrel',
    label: 'IAM step imported from a module that also holds a PGP step (lambdas/core shape)',
    entry: path.join(here, 'barrel-handler.ts'),
    sizeTargetBytes: 350 * 1024,
    events: () => [
      {
        event: { userName: 'alice' },
        check: async (result) => {
          const keys = (result as { keys?: string[] }).keys;
          return JSON.stringify(keys) === '["AKIASTUBOLDKEY000001"]' ? null : `unexpected keys ${JSON.stringify(keys)}`;
        },
      },
    ],
  },
  {
    id: 'create-key',
    label: 'IAM + KMS + DynamoDB clients + middy + Powertools Logger',
    entry: path.join(here, 'create-key-handler.ts'),
    sizeTargetBytes: 350 * 1024,
    events: () => [
      {
        event: { userName: 'alice', lockTable: 'locks', kmsKeyId: 'alias/keyrotate' },
        check: async (result) => {
          const r = result as { accessKeyId?: string; sealedSecret?: string; keysBefore?: number };
          if (r.accessKeyId !== 'AKIASTUBNEWKEY000002' || r.keysBefore !== 1) return `unexpected result for key ${r.accessKeyId}`;
          return r.sealedSecret === stubSeal('stub-secret-access-key') ? null : 'sealed secret did not round-trip';
        },
      },
    ],
  },
  {
    id: 'floor-sdk',
    label: 'floor: one IAM client and command, nothing else',
    entry: path.join(here, 'floor-sdk-handler.ts'),
    sizeTargetBytes: 350 * 1024,
    variants: ['naive', 'slim'],
    events: () => [
      {
        event: { userName: 'alice' },
        check: async (result) => {
          const keys = (result as { keys?: string[] }).keys;
          return JSON.stringify(keys) === '["AKIASTUBOLDKEY000001"]' ? null : `unexpected keys ${JSON.stringify(keys)}`;
        },
      },
    ],
  },
  {
    id: 'floor-powertools',
    label: 'floor: middy + Powertools Logger, no AWS call',
    entry: path.join(here, 'floor-powertools-handler.ts'),
    sizeTargetBytes: 350 * 1024,
    callsAws: false,
    variants: ['naive', 'slim'],
    events: () => [
      {
        event: { userName: 'alice' },
        check: async (result) => (JSON.stringify(result) === '{"keys":[]}' ? null : `unexpected result ${JSON.stringify(result)}`),
      },
    ],
  },
  {
    id: 'pgp',
    label: 'openpgp + KMS client + middy + Powertools Logger',
    entry: path.join(here, 'pgp-handler.ts'),
    sizeTargetBytes: 700 * 1024,
    events: (fixtures) => [pgpCase(fixtures.ecc), pgpCase(fixtures.rsa)],
  },
];

export interface ExperimentRow {
  readonly variant: string;
  readonly label: string;
  readonly adopted: boolean;
  readonly bytes: number;
  readonly works: boolean;
  readonly problem?: string;
  readonly forbiddenInputs: number;
  readonly initMs?: number;
  readonly initRatio?: number;
  /** The first invocation's own duration (load excluded), in a fresh process. */
  readonly firstInvokeMs?: number;
  readonly maxRssKb?: number;
}

export interface ExperimentsReport {
  readonly measuredAt: string;
  readonly node: string;
  readonly machine: { readonly cpus: number; readonly model: string; readonly loadAverage: readonly number[] };
  readonly runs: number;
  readonly emptyProcessMs: number;
  readonly experiments: readonly {
    readonly id: string;
    readonly label: string;
    readonly sizeTargetBytes: number;
    readonly rows: readonly ExperimentRow[];
  }[];
}

function variantsFor(experiment: Experiment): Variant[] {
  return VARIANTS.filter(
    (v) => (v.entryOverride === undefined || v.entryOverride[experiment.id] !== undefined) && (experiment.variants?.includes(v.id) ?? true),
  );
}

export async function runExperiments(options: { runs: number; outDir: string; log: (line: string) => void }): Promise<ExperimentsReport> {
  const node = projectNodeBinary();
  const fixtures: Fixtures = { ecc: await makePgpKeys('ecc'), rsa: await makePgpKeys('rsa') };
  const stub: StubEndpoint = await startStubEndpoint(CREDENTIALS);
  const env = lambdaLikeEnv({
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL: stub.url,
  });
  // Bundles are written inside the repository so that the sdk-external variant resolves
  // @aws-sdk/* from node_modules, as a Lambda resolves them from the runtime's copy.
  const bundleDir = path.join(options.outDir, 'experiments');
  try {
    const built: { experiment: Experiment; variant: Variant; outfile: string; row: ExperimentRow }[] = [];
    for (const experiment of EXPERIMENTS) {
      for (const variant of variantsFor(experiment)) {
        const entry = variant.entryOverride?.[experiment.id] ? path.join(here, variant.entryOverride[experiment.id] as string) : experiment.entry;
        const outfile = path.join(bundleDir, experiment.id, `${variant.id}${variant.extension}`);
        const bundle = await buildBundle(entry, outfile, variant.options);
        const forbiddenInputs = findForbiddenInputs(bundle.metafile).length;
        // Correctness first: every verification event must produce a checked, signed result.
        let problem: string | undefined;
        for (const { event, check } of experiment.events(fixtures)) {
          const before = stub.requests.length;
          const report = await invokeBundle(outfile, event, { node, env });
          if (!report.ok) problem = `${report.error?.name}: ${report.error?.message}`;
          else problem = (await check(report.result)) ?? undefined;
          const calls = stub.requests.slice(before);
          if (!problem && calls.length === 0 && experiment.callsAws !== false) problem = 'made no AWS call';
          if (!problem && calls.some((c) => !c.signatureValid)) problem = 'a request failed the SigV4 check';
          if (problem) break;
        }
        options.log(`${experiment.id}/${variant.id}: ${bundle.bytes} bytes, ${problem ? `FAILS (${problem})` : 'works'}`);
        built.push({
          experiment,
          variant,
          outfile,
          row: { variant: variant.id, label: variant.label, adopted: variant.adopted, bytes: bundle.bytes, works: !problem, forbiddenInputs, ...(problem ? { problem } : {}) },
        });
      }
    }

    const working = built.filter((b) => b.row.works);
    options.log(`timing cold initialisation of ${working.length} bundles (${options.runs} interleaved runs each)…`);
    const cold = measureColdInit(
      working.map((b) => b.outfile),
      { runs: options.runs, node, env },
    );
    const coldByFile = new Map(cold.results.map((r) => [r.file, r]));

    options.log('timing first invocations…');
    const firstCall = new Map<string, { ms: number; rss: number }>();
    for (const b of working) {
      const first = b.experiment.events(fixtures)[0];
      const samples: number[] = [];
      const rss: number[] = [];
      for (let i = 0; i < options.runs; i += 1) {
        const report = await invokeBundle(b.outfile, first?.event, { node, env });
        if (!report.ok || report.doneMs === undefined || report.loadedMs === undefined) {
          throw new Error(`${b.experiment.id}/${b.variant.id} failed while timing: ${report.error?.message}`);
        }
        samples.push(report.doneMs - report.loadedMs);
        rss.push(report.maxRssKb);
      }
      firstCall.set(b.outfile, { ms: median(samples), rss: median(rss) });
    }

    const experiments = EXPERIMENTS.map((experiment) => ({
      id: experiment.id,
      label: experiment.label,
      sizeTargetBytes: experiment.sizeTargetBytes,
      rows: built
        .filter((b) => b.experiment === experiment)
        .map((b): ExperimentRow => {
          const c = coldByFile.get(b.outfile);
          const f = firstCall.get(b.outfile);
          return {
            ...b.row,
            ...(c ? { initMs: round(c.medianMs, 1), initRatio: round(c.ratio, 2) } : {}),
            ...(f ? { firstInvokeMs: round(f.ms, 1), maxRssKb: f.rss } : {}),
          };
        }),
    }));
    return {
      measuredAt: new Date().toISOString(),
      node: process.version,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', loadAverage: os.loadavg().map((l) => round(l, 2)) },
      runs: options.runs,
      emptyProcessMs: round(cold.baselineMs, 1),
      experiments,
    };
  } finally {
    await stub.close();
  }
}

/** Markdown tables, one per experiment: what bench/README.md shows. */
export function formatExperiments(report: ExperimentsReport): string {
  const lines: string[] = [
    `Measured ${report.measuredAt} on Node.js ${report.node}, ${report.machine.cpus} × ${report.machine.model}; ` +
      `median of ${report.runs} runs; empty Node.js process: ${report.emptyProcessMs} ms.`,
  ];
  for (const e of report.experiments) {
    lines.push(
      '',
      `### ${e.id}: ${e.label} (target < ${Math.round(e.sizeTargetBytes / 1024)} KB, init < 1.8×)`,
      '',
      '| variant | size KB | init ms | init × empty | 1st invocation ms | init + 1st ms | peak RSS MB | works |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const r of e.rows) {
      const cells = [
        r.label,
        (r.bytes / 1024).toFixed(1),
        r.initMs?.toFixed(1) ?? '–',
        r.initRatio !== undefined ? `${r.initRatio.toFixed(2)}×` : '–',
        r.firstInvokeMs?.toFixed(1) ?? '–',
        r.initMs !== undefined && r.firstInvokeMs !== undefined ? (r.initMs + r.firstInvokeMs).toFixed(1) : '–',
        r.maxRssKb !== undefined ? (r.maxRssKb / 1024).toFixed(1) : '–',
        r.works ? (r.forbiddenInputs > 0 && r.adopted && r.variant.startsWith('slim') ? 'yes, but not slim' : 'yes') : `no: ${r.problem}`,
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

export function writeExperimentsReport(report: ExperimentsReport, outDir: string): string {
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `experiments-${report.measuredAt.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

export const DEFAULT_RESULTS_DIR = path.join(repoRoot, 'bench', 'results');
