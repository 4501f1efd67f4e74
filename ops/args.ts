/** A small argument parser for the operator tools (they also run inside the Workers test runtime, without node:util). */
export interface ParsedArgs {
  flags: Set<string>;
  values: Map<string, string>;
  errors: string[];
}

export function parseArgs(argv: string[], spec: { flags: string[]; values: string[] }): ParsedArgs {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith('--') ? (arg.includes('=') ? [arg.slice(2, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg.slice(2), undefined]) : [arg, undefined];
    if (spec.flags.includes(name) && inline === undefined) {
      flags.add(name);
    } else if (spec.values.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) errors.push(`--${name} needs a value`);
      else values.set(name, value);
    } else {
      errors.push(`unknown option ${arg}`);
    }
  }
  return { flags, values, errors };
}
