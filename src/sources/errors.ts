// Why a sourceRef could not be turned into an artifact to watch, typed by what the controller should do:
// NotFound waits (the object or Secret may appear), the others stall until the spec or the object changes.
import { BaseError } from '../errors.ts';

export type SourceErrorCode = 'NotFound' | 'CrossNamespaceForbidden' | 'Unsupported' | 'InvalidObject';

const STALLING: ReadonlySet<SourceErrorCode> = new Set([
  'CrossNamespaceForbidden',
  'Unsupported',
  'InvalidObject',
]);

export class SourceError extends BaseError<SourceErrorCode> {
  /** True when retrying cannot help until someone changes the CR or the referenced object. */
  get stalled(): boolean {
    return STALLING.has(this.code);
  }
}
