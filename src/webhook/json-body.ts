// A notification body as JSON, bounded: strict UTF-8 (no BOM), at most maxDepth nested arrays/objects
// (checked by a linear scan before JSON.parse, so a deeply nested body costs no recursion), and the
// size was capped by the receiver before. Anything else is a Malformed WebhookError.
import { WebhookError } from './push-event.ts';

export const MAX_JSON_DEPTH = 32;

const depthWithin = (text: string, maxDepth: number): boolean => {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i += 1; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > maxDepth) return false;
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
  }
  return true;
};

export const parseJsonBody = (body: Buffer, maxDepth: number = MAX_JSON_DEPTH): unknown => {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch (error) {
    throw new WebhookError('Malformed', 'the body is not UTF-8', { cause: error });
  }
  if (text.charCodeAt(0) === 0xfeff)
    throw new WebhookError('Malformed', 'the body starts with a byte order mark');
  if (!depthWithin(text, maxDepth))
    throw new WebhookError('Malformed', `the body nests deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new WebhookError('Malformed', 'the body is not JSON', { cause: error });
  }
};
