// An executable found on a PATH string (the environment itself is read by the callers in src/config).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const findOnPath = (name: string, path: string | undefined): string | undefined =>
  (path ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find((file) => {
      try {
        accessSync(file, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
