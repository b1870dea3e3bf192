import * as realStreamWeb from 'node:stream/web';
import lazyDefault, * as lazyStreamWeb from '../../infra/shims/lazy-stream-web';
import { EventStreamSerde, eventStreamSerdeProvider } from '../../infra/shims/no-event-streams';

describe('lazy node:stream/web', () => {
  it('exports every name node:stream/web exports', () => {
    // Assess: an importer of a missing name would silently get undefined in a bundle.
    expect(Object.keys(lazyStreamWeb).sort()).toEqual(Object.keys(realStreamWeb).sort());
  });

  it('recognises instances of the real class (what middy checks)', () => {
    // Prepare
    const stream = new realStreamWeb.ReadableStream();
    // Act / Assess
    expect(stream instanceof lazyStreamWeb.ReadableStream).toBe(true);
    expect({} instanceof lazyStreamWeb.ReadableStream).toBe(false);
  });

  it('constructs real instances, statics included', async () => {
    // Prepare
    const stream = new lazyStreamWeb.ReadableStream<string>({
      start(controller) {
        controller.enqueue('x');
        controller.close();
      },
    });
    // Act
    const reader = stream.getReader();
    const first = await reader.read();
    // Assess
    expect(stream).toBeInstanceOf(realStreamWeb.ReadableStream);
    expect(first).toEqual({ value: 'x', done: false });
    expect(typeof lazyStreamWeb.ReadableStream.from).toBe('function');
  });

  it('has a default export that reads the real module', () => {
    expect(lazyDefault.ReadableStream).toBe(realStreamWeb.ReadableStream);
    expect(Object.keys(lazyDefault)).toEqual(expect.arrayContaining(['ReadableStream', 'TransformStream']));
  });

  it('supports subclassing', () => {
    class Counting extends lazyStreamWeb.CountQueuingStrategy {}
    const strategy = new Counting({ highWaterMark: 3 });
    expect(strategy).toBeInstanceOf(realStreamWeb.CountQueuingStrategy);
    expect(strategy.highWaterMark).toBe(3);
  });
});

describe('event streams stub', () => {
  it('fails loudly if a client ever reaches it', () => {
    expect(() => new EventStreamSerde()).toThrow('event streams are not bundled');
    expect(() => eventStreamSerdeProvider()).toThrow('event streams are not bundled');
  });
});
