// Reading and abandoning undici response bodies. Destroying an unfinished body makes undici emit an
// AbortError on it; without a listener that is an uncaught exception, which would take the operator down
// whenever a server sends more than a limit allows.
import type { Dispatcher } from 'undici';

type Body = Dispatcher.ResponseData['body'];

export const discardBody = (body: Body): void => {
  body.on('error', () => undefined);
  body.destroy();
};

/** Reads a whole body of at most `maxBytes`; past that, abandons it and throws `tooLarge()`. */
export const readCapped = async (body: Body, maxBytes: number, tooLarge: () => Error): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      discardBody(body);
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
};
