// The only place the CLI reads the process environment; everything else gets these values passed down.
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CliEnvironment {
  /** Docker config.json with registry credentials: $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
  readonly dockerConfigFile: string;
}

export const readCliEnvironment = (env: NodeJS.ProcessEnv = process.env, home: string = homedir()): CliEnvironment => ({
  dockerConfigFile: join(env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json'),
});
