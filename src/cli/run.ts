// `exitscope run FILE`: read, validate, assemble, run through the Simulator, and print the report,
// the result document (--json) or the trace-cmd text (--trace).
import { guestCode } from '../model/scenario/guest';
import { parseScenarioText, type ScenarioError } from '../model/scenario/parse';
import { formatTraceCmd } from '../model/trace/ftrace';
import { toChromeTrace } from '../model/trace/perfetto';
import { EXIT_BAD_INPUT, EXIT_EXPECT_FAILED, EXIT_OK, type Io } from './main';
import { formatReport } from './report';

/** `scenario.json:14:12: program[3].fd: no vcpu7 was created`, the shape editors jump to. */
export function formatFileError(file: string, e: ScenarioError): string {
  const where = e.pos ? `${file}:${e.pos.line}:${e.pos.col}` : file;
  return `${where}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

export async function runCommand(file: string, opts: Record<string, string | true>, io: Io): Promise<number> {
  const name = file === '-' ? '<stdin>' : file;
  let text: string;
  try {
    text = file === '-' ? await io.readStdin() : await io.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    io.err(`exitscope: cannot read ${name}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}\n`);
    return EXIT_BAD_INPUT;
  }
  const invalid = (errors: ScenarioError[]) => {
    io.err(`exitscope: ${name} is not a valid exitscope/1 scenario:\n${errors.map((e) => `  ${formatFileError(name, e)}\n`).join('')}`);
    return EXIT_BAD_INPUT;
  };
  const parsed = parseScenarioText(text);
  if (!parsed.ok) return invalid(parsed.errors);
  const scenario = parsed.scenario;
  const code = await guestCode(scenario.guest, scenario.vm.memory);
  if (!code.ok) return invalid(code.errors);

  // Loaded only for a valid scenario: the core takes a moment to compile.
  const [{ Simulator }, { loadCore }] = await Promise.all([import('../model/sim'), import('../model/cpu/node')]);
  const sim = await Simulator.create(await loadCore(), scenario, { frames: true });
  const result = sim.runAll();
  const pcpus = scenario.host.pcpus;
  const perfetto = opts['--perfetto'];
  if (typeof perfetto === 'string') {
    try {
      await io.writeFile(perfetto, `${JSON.stringify(toChromeTrace(sim.events, pcpus, sim.now))}\n`);
    } catch (e) {
      io.err(`exitscope: cannot write ${perfetto}: ${(e as Error).message}\n`);
      return EXIT_BAD_INPUT;
    }
  }

  if (opts['--json']) {
    const doc = opts['--trace'] ? { ...result, trace: formatTraceCmd(sim.events, pcpus) } : result;
    io.out(`${JSON.stringify(doc, null, 2)}\n`);
  } else if (opts['--trace']) io.out(formatTraceCmd(sim.events, pcpus));
  else io.out(formatReport(scenario, result, sim.events));

  const { checked, failed } = result.expectations;
  if (failed && (opts['--json'] || opts['--trace'])) io.err(`exitscope: ${failed} of ${checked} expectations failed\n`);
  return failed ? EXIT_EXPECT_FAILED : EXIT_OK;
}
