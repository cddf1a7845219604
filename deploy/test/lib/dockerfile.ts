/**
 * A minimal Dockerfile reader for the cross-checks: instructions (comments dropped, line
 * continuations joined), grouped into build stages, with `ARG` defaults substituted in `FROM`.
 */
import * as fs from 'node:fs';

/** One instruction, e.g. `{ op: 'RUN', args: 'npm ci' }`. */
export interface Instruction {
  op: string;
  args: string;
}

/** One `FROM ... AS name` stage with its instructions. */
export interface Stage {
  name?: string;
  image: string;
  instructions: Instruction[];
}

/** Parses a Dockerfile into stages. */
export function parseDockerfile(file: string): { globalArgs: Record<string, string>; stages: Stage[] } {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const logical: string[] = [];
  let current = '';
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && current === '')) continue;
    if (trimmed.endsWith('\\')) {
      current += trimmed.slice(0, -1) + ' ';
      continue;
    }
    current += trimmed;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\w+)\s+(.*)$/s.exec(l);
    if (!m) throw new Error(`${file}: cannot parse '${l}'`);
    const op = m[1].toUpperCase();
    const args = m[2].trim();
    if (op === 'FROM') {
      const fm = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!fm) throw new Error(`${file}: bad FROM '${args}'`);
      const image = fm[1].replace(/\$\{?(\w+)\}?/g, (_, n: string) => globalArgs[n] ?? '');
      stages.push({ name: fm[2], image, instructions: [] });
    } else if (stages.length === 0) {
      if (op !== 'ARG') throw new Error(`${file}: only ARG may precede FROM`);
      const [k, v = ''] = args.split('=');
      globalArgs[k] = v;
    } else {
      stages[stages.length - 1].instructions.push({ op, args });
    }
  }
  return { globalArgs, stages };
}

/** Parses a JSON-array (exec form) argument list; undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  return JSON.parse(args) as string[];
}
