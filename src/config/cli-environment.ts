// The only place the CLI reads the process environment; everything else gets these values passed down.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from './find-on-path.ts';

export interface CliEnvironment {
  /** Docker config.json with registry credentials: $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
  readonly dockerConfigFile: string;
  /** helm found on $PATH: `tagguard scan` renders with it unless --helm says otherwise (--helm none: static). */
  readonly helmOnPath?: string;
}

export const readCliEnvironment = (env: NodeJS.ProcessEnv = process.env, home: string = homedir()): CliEnvironment => {
  const helmOnPath = findOnPath('helm', env.PATH);
  return {
    dockerConfigFile: join(env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json'),
    ...(helmOnPath ? { helmOnPath } : {}),
  };
};
