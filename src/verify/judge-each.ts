// One candidate signature is judged at a time, and an exception while judging it (bytes a parser or
// node:crypto could not take) fails that signature only: it is never verified, and the verifier goes on
// to the next candidate. The caught error can only ever make a signature NOT verified.
import { BaseError } from '../errors.ts';

/** Messages of parsers may quote the attacker's bytes: a status message keeps only this much of one. */
const MAX_CAUSE_LENGTH = 200;

/** The error's code and message, for the signer's status message (the cause of SignatureInvalid). */
export const causeText = (error: unknown): string => {
  const text =
    error instanceof BaseError
      ? `${error.code}: ${error.message}`
      : error instanceof Error
        ? `${error.name}: ${error.message}`
        : typeof error === 'string'
          ? error
          : 'a non-Error value was thrown';
  return text.length > MAX_CAUSE_LENGTH ? `${text.slice(0, MAX_CAUSE_LENGTH)}…` : text;
};

/** `judge()`, or `failed(cause)` when it throws. */
export const judgeOrFail = <T>(judge: () => T, failed: (cause: string) => T): T => {
  try {
    return judge();
  } catch (error) {
    return failed(causeText(error));
  }
};

/** The same for asynchronous judges (Notation, which may ask OCSP / CRL servers). */
export const judgeOrFailAsync = async <T>(
  judge: () => Promise<T>,
  failed: (cause: string) => T,
): Promise<T> => {
  try {
    return await judge();
  } catch (error) {
    return failed(causeText(error));
  }
};
