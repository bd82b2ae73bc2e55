// Plain objects keyed by untrusted names (values files, rendered YAML): a key named `__proto__` is data that
// helm and the GitOps tools see like any other. Assigning it with `o[key] = v` would set the prototype and
// drop the key from what tagguard hands to helm; reading it would find Object.prototype. These two do neither.

/** The object's own value for `key`, never an inherited one. */
export const ownValue = (object: Readonly<Record<string, unknown>>, key: string): unknown =>
  Object.hasOwn(object, key) ? object[key] : undefined;

/** Sets `key` as an own, enumerable data property, whatever its name. */
export const setOwnValue = (object: Record<string, unknown>, key: string, value: unknown): void => {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
};
