// What `tagguard scan <target>` names when the target is not on disk: a registry reference only when it
// names its registry (oci://…, or host.with.dot/…, host:port/…, localhost/…). Anything else — a name
// ending in .tgz/.tar.gz/.tar, a path starting with ./ ../ / or ~, a backslash, a first component that
// exists here, or a bare name Docker would read as Docker Hub — is a missing file: a usage error before any
// network access, so a typo is never looked up on a registry.
import { BaseError } from '../errors.ts';
import { namesRegistry, redactUserinfo } from '../registry/reference.ts';

export class ScanTargetError extends BaseError<'TargetNotFound'> {}

const ARCHIVE_SUFFIX = /\.(?:tgz|tar\.gz|tar)$/i;
const PATH_PREFIX = /^(?:\.{1,2}(?:[/\\]|$)|[/\\~])/;

/** Throws TargetNotFound unless `target` (not on disk) is to be read as a registry reference. */
export const assertRegistryTarget = (
  target: string,
  firstComponentExists: (name: string) => boolean,
): void => {
  const explicitOci = /^oci:\/\//i.test(target.trim());
  const first = target.split(/[/\\]/)[0] ?? '';
  const pathLike =
    !explicitOci &&
    (ARCHIVE_SUFFIX.test(target) ||
      PATH_PREFIX.test(target) ||
      target.includes('\\') ||
      (target.includes('/') && first !== '' && firstComponentExists(first)));
  if (pathLike || !namesRegistry(target)) {
    throw new ScanTargetError(
      'TargetNotFound',
      `${redactUserinfo(target)} is not a file or directory here${pathLike ? '' : ', and names no registry (write oci://docker.io/… for Docker Hub)'}`,
    );
  }
};
