// The one error shape of tagguard: a string-literal `code` that callers and tests switch on, and a
// `cause`. Each layer declares its own codes (RegistryError, …); messages are for people, codes for code.
export class BaseError<Code extends string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
