// Why a scan could not produce a verdict: a hostile or broken archive, a render that failed or ran away,
// output that does not parse. Findings are not errors; these are. Callers switch on `code`.
import { BaseError } from '../errors.ts';
import type { YamlErrorCode } from '../yaml/bounded-yaml.ts';

export type ScanErrorCode =
  /** Not a gzip'd tar, a bad header checksum, a truncated entry, no Chart.yaml. */
  | 'InvalidArchive'
  /**
   * A tar or gzip shape that Go's archive/tar or helm's loader could read differently from tagguard: a
   * directory that declares a size, competing name overrides, data after the end marker.
   */
  | 'AmbiguousArchive'
  /** Compressed size, total uncompressed size or one file's size above its cap. */
  | 'ArchiveTooLarge'
  | 'TooManyEntries'
  /** Uncompressed output grows more than the allowed ratio over the compressed input. */
  | 'DecompressionBomb'
  /** Absolute path, `..`, too deep, NUL or backslash in a name, a duplicate file. */
  | 'UnsafePath'
  /** Symlink, hard link, device, FIFO, sparse file or another entry type that is not a file or directory. */
  | 'UnsupportedEntry'
  /** A release name, namespace or Kubernetes version helm would not accept (or could read as a flag). */
  | 'InvalidRenderOptions'
  /** helm template exited non-zero (bad template, missing dependency in charts/, fail function). */
  | 'RenderFailed'
  /** helm template ran past its time limit and was killed. */
  | 'RenderTimeout'
  /** helm template's memory went past its cap and it was killed. */
  | 'RenderMemoryExceeded'
  /** Rendered output larger than its cap. */
  | 'OutputTooLarge'
  /** More Kubernetes objects than allowed, in a render or across a chart's static templates. */
  | 'TooManyObjects'
  /** A chart file or directory cannot be read (permissions, vanished). */
  | 'Unreadable'
  /** An OCI artifact that is neither a Helm chart nor a type the policy allows (nothing would be scanned). */
  | 'UnknownArtifactType'
  /** Rendered or template YAML refused: InvalidYaml (does not parse) or a limit (YamlTooManyAliases, …). */
  | YamlErrorCode;

export class ScanError extends BaseError<ScanErrorCode> {}

export const isScanError = (error: unknown, code?: ScanErrorCode): error is ScanError =>
  error instanceof ScanError && (code === undefined || error.code === code);
