// Abandons an undici response body that will not be read to the end. Destroying an unfinished body
// makes undici emit an AbortError on it; without a listener that is an uncaught exception, which would
// take the operator down whenever a server sends more than a limit allows.
import type { Dispatcher } from 'undici';

export const discardBody = (body: Dispatcher.ResponseData['body']): void => {
  body.on('error', () => undefined);
  body.destroy();
};
