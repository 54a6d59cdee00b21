import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { UserError, isErrno } from './errors.js';

/** Formats every zod issue at once, on one line: `deviceId: required; mqtt.url: invalid url`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Parses and validates a JSON or YAML document; bad content is a UserError naming the source. */
export function parseDocument<S extends z.ZodType>(schema: S, text: string, source: string, fix: string): z.output<S> {
  let raw: unknown;
  try {
    raw = source.endsWith('.yaml') || source.endsWith('.yml') ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new UserError(`${source} is not valid ${source.match(/\.ya?ml$/) ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}`, fix);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UserError(`${source}: ${formatIssues(parsed.error)}`, fix);
  return parsed.data;
}

/** Reads and validates a config file (JSON or YAML by extension). */
export function loadConfigFile<S extends z.ZodType>(schema: S, path: string, fix: string): z.output<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw new UserError(`config file ${path} does not exist`, fix);
    if (isErrno(e, 'EACCES')) throw new UserError(`config file ${path} is not readable by this user`, 'run as the hadir user or fix its permissions');
    throw e;
  }
  return parseDocument(schema, text, path, fix);
}
