// The `exitscope` command: argument parsing and dispatch. Exit status: 0 when every expectation was
// met, 1 when one failed, 2 when the input (document, file, command line) could not be used.
import { readFile, writeFile } from 'node:fs/promises';
import { didYouMean } from '../model/scenario/suggest';

/** Everything the command touches outside itself, so tests can run it in-process too. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readFile(path: string): Promise<string>;
  readStdin(): Promise<string>;
  writeFile(path: string, text: string): Promise<void>;
}

export const EXIT_OK = 0, EXIT_EXPECT_FAILED = 1, EXIT_BAD_INPUT = 2;
/** A fault of exitscope itself, not of the input (sysexits' EX_SOFTWARE). */
export const EXIT_INTERNAL = 70;

export const HELP = `exitscope: KVM's x86 VM-exit handling, modelled, on the command line

usage:
  exitscope run FILE [--json] [--trace] [--perfetto OUT]
      Run an exitscope/1 scenario (FILE "-" reads standard input).
      Without options: a report of each ioctl and its result, the expectations met
      or failed, and a perf-kvm-stat table of the exits of each vCPU.
      --json       the exitscope-result/1 document instead of the report
      --trace      the trace as \`trace-cmd report\` prints it (kvm_entry, kvm_exit,
                   kvm_userspace_exit) instead of the report; with --json, as its "trace"
      --perfetto OUT  also write the trace as Chrome/Perfetto JSON to OUT
  exitscope bench [--json] [--quick]
      How fast the core runs guest code (MIPS) and how many HLT exit round trips
      the model makes per second, and how each was measured (--quick: a short run).
  exitscope gallery [ID]
      List the built-in scenarios, or print one as a document ready for \`run\`.
  exitscope help

exit status: 0 every expectation met, 1 an expectation failed,
             2 the scenario (or the command line, or a file) could not be used,
             70 an internal error
`;

interface Command {
  flags: string[]; // boolean options
  valued: string[]; // options that take a value
  positional: [min: number, max: number];
  run(args: string[], opts: Record<string, string | true>, io: Io): Promise<number>;
}

// Each command is imported when used, so `help` does not wait for the core and the assembler.
const COMMANDS: Record<string, Command> = {
  run: {
    flags: ['--json', '--trace'], valued: ['--perfetto'], positional: [1, 1],
    run: async ([file], o, io) => (await import('./run')).runCommand(file, o, io),
  },
  bench: {
    flags: ['--json', '--quick'], valued: [], positional: [0, 0],
    run: async (_, o, io) => (await import('./bench')).benchCommand(o, io),
  },
  gallery: { flags: [], valued: [], positional: [0, 1], run: async ([id], _, io) => (await import('./gallery')).galleryCommand(id, io) },
  help: { flags: [], valued: [], positional: [0, 1], run: async (_, __, io) => (io.out(HELP), EXIT_OK) },
};

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') return COMMANDS.help.run([], {}, io);
  const cmd = COMMANDS[name];
  const usage = (message: string) => {
    io.err(`exitscope: ${message}\nRun \`exitscope help\` for usage.\n`);
    return EXIT_BAD_INPUT;
  };
  if (!cmd) return usage(`unknown command "${name}"${didYouMean(name, Object.keys(COMMANDS))}`);

  const opts: Record<string, string | true> = {};
  const args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--help' || a === '-h') return COMMANDS.help.run([], {}, io);
    if (a.startsWith('--')) {
      if (cmd.flags.includes(a)) opts[a] = true;
      else if (cmd.valued.includes(a)) {
        if (rest[i + 1] === undefined) return usage(`${a} needs a value`);
        opts[a] = rest[++i];
      } else return usage(`unknown option ${a} for ${name}${didYouMean(a, [...cmd.flags, ...cmd.valued])}`);
    } else args.push(a);
  }
  const [min, max] = cmd.positional;
  if (args.length < min) return usage(`${name} needs a scenario file (or - for standard input)`);
  if (args.length > max) return usage(`unexpected argument "${args[max]}"`);
  try {
    return await cmd.run(args, opts, io);
  } catch (e) {
    io.err(`exitscope: internal error (a bug in exitscope, not in your input):\n${(e as Error).stack ?? String(e)}\n`);
    return EXIT_INTERNAL;
  }
}

/** The real process's Io. */
export function nodeIo(): Io {
  // `exitscope run … | head`: a reader that stops early closes the pipe; end quietly, as a filter does.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    readFile: (p) => readFile(p, 'utf8'),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    writeFile: (p, t) => writeFile(p, t),
  };
}
