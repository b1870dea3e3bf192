/**
 * Stand-in for `node:stream/web` in keyrotate's Lambda bundles (wired by the esbuild alias in
 * infra/slim-bundling.ts).
 *
 * Why: @middy/core imports `ReadableStream` from node:stream/web at module load, only to
 * recognise streamed responses, which keyrotate's Lambdas never return. Loading node:stream/web
 * pulls in Node's whole web-streams implementation: about 1–2 ms of every cold start.
 *
 * Each export here is the real class (or function), looked up on first use: `new`, `instanceof`, static
 * members and subclassing behave as before; they only load node:stream/web the first time one
 * of them happens. Every name Node.js 24 exports is provided (a test compares the lists), so no
 * importer can end up with `undefined`.
 */
type StreamWeb = typeof import('node:stream/web');
type ExportOf<K extends keyof StreamWeb> = StreamWeb[K];

let real: StreamWeb | undefined;
function streamWeb(): StreamWeb {
  // process.getBuiltinModule (Node.js >= 22.3) works the same in CommonJS and ESM bundles, and
  // esbuild leaves it where it is, whereas an import would be hoisted to the bundle's start.
  real ??= process.getBuiltinModule('node:stream/web');
  return real;
}

function lazyExport<K extends keyof StreamWeb>(name: K): ExportOf<K> {
  const load = (): ExportOf<K> => streamWeb()[name];
  // The target only gives the proxy a constructible shape; every trap forwards to the real class.
  const placeholder = function () {} as unknown as ExportOf<K>;
  const proxy: ExportOf<K> = new Proxy(placeholder, {
    construct: (_target, args, newTarget) =>
      Reflect.construct(load() as unknown as new (...a: unknown[]) => object, args, newTarget === proxy ? (load() as object as new () => object) : newTarget),
    apply: (_target, thisArg, args) => Reflect.apply(load() as unknown as (...a: unknown[]) => unknown, thisArg, args),
    get: (_target, property) => Reflect.get(load() as object, property),
    has: (_target, property) => Reflect.has(load() as object, property),
    getPrototypeOf: () => Reflect.getPrototypeOf(load() as object),
  });
  return proxy;
}

export const ReadableStream = lazyExport('ReadableStream');
export const ReadableStreamTee = lazyExport('ReadableStreamTee');
export const ReadableStreamDefaultReader = lazyExport('ReadableStreamDefaultReader');
export const ReadableStreamBYOBReader = lazyExport('ReadableStreamBYOBReader');
export const ReadableStreamBYOBRequest = lazyExport('ReadableStreamBYOBRequest');
export const ReadableByteStreamController = lazyExport('ReadableByteStreamController');
export const ReadableStreamDefaultController = lazyExport('ReadableStreamDefaultController');
export const TransformStream = lazyExport('TransformStream');
export const TransformStreamDefaultController = lazyExport('TransformStreamDefaultController');
export const WritableStream = lazyExport('WritableStream');
export const WritableStreamDefaultWriter = lazyExport('WritableStreamDefaultWriter');
export const WritableStreamDefaultController = lazyExport('WritableStreamDefaultController');
export const ByteLengthQueuingStrategy = lazyExport('ByteLengthQueuingStrategy');
export const CountQueuingStrategy = lazyExport('CountQueuingStrategy');
export const TextEncoderStream = lazyExport('TextEncoderStream');
export const TextDecoderStream = lazyExport('TextDecoderStream');
export const CompressionStream = lazyExport('CompressionStream');
export const DecompressionStream = lazyExport('DecompressionStream');

/** `import streamWeb from 'node:stream/web'`: the module object, loaded on first property read. */
const lazyModule: StreamWeb = new Proxy({} as StreamWeb, {
  get: (_target, property) => Reflect.get(streamWeb(), property),
  has: (_target, property) => Reflect.has(streamWeb(), property),
  ownKeys: () => Reflect.ownKeys(streamWeb()),
  getOwnPropertyDescriptor: (_target, property) => {
    const descriptor = Reflect.getOwnPropertyDescriptor(streamWeb(), property);
    // A proxy may only report a property as non-configurable if its target has it so.
    return descriptor ? { ...descriptor, configurable: true } : undefined;
  },
});
export default lazyModule;
