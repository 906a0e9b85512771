// Every view on real Simulator runs (page.html?page=views). The lab runs the model in its worker;
// this page runs it in place, for brevity. The gallery scenario comes from &id=, the comparison run
// from &compare= (default: H4 against H1).
import { createElement as h, Fragment } from 'react';
import { createRoot } from 'react-dom/client';
import coreUrl from '../../src/gen/core.wasm?url';
import { instantiateCore } from '../../src/model/cpu/core';
import { galleryEntry } from '../../src/model/scenario/gallery';
import { parseScenarioText } from '../../src/model/scenario/parse';
import { Simulator, type StepResult } from '../../src/model/sim';
import { kvmStat } from '../../src/model/trace/kvmstat';
import { Timeline } from '../../src/model/trace/timeline';
import { vcpuEventColumns } from '../../src/model/worker/batch';
import { CallChain, ExitStats, Narration, NarrationFeed, TimelineView } from '../../src/ui/views';

const q = new URLSearchParams(location.search);
const module = WebAssembly.compileStreaming(fetch(coreUrl));

async function run(id: string) {
  const entry = galleryEntry(id);
  if (!entry) throw new Error(`no gallery scenario ${id}`);
  const parsed = parseScenarioText(JSON.stringify(entry.doc));
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  const sim = await Simulator.create(await instantiateCore(await module), parsed.scenario, { frames: true });
  const steps: StepResult[] = [];
  while (!sim.done) steps.push(sim.step());
  const firstRun = steps.find((s) => s.op === 'run');
  return { sim, frames: firstRun?.frames ?? [], vcpu: firstRun?.fd ? Number(firstRun.fd.replace('vcpu', '')) : null, title: entry.doc.title };
}

const [main, other] = await Promise.all([run(q.get('id') ?? 'hlt-h4-exit-userspace'), run(q.get('compare') ?? 'hlt-h1-in-kernel-sleep')]);
const timeline = new Timeline();
timeline.append(main.sim.events);
const vcpus = timeline.lanes.map((l) => l.vcpu);
const feed = new NarrationFeed();

createRoot(document.getElementById('root')!).render(
  h(Fragment, null,
    h('h1', null, String(main.title)),
    h(Narration, { feed, frames: { roots: main.frames, vcpu: main.vcpu } }),
    h(CallChain, {
      roots: main.frames, caption: 'KVM_RUN (first) on vCPU 0',
      compare: { left: { label: String(other.title).split(':')[0], roots: other.frames }, right: { label: String(main.title).split(':')[0], roots: main.frames } },
    }),
    h(TimelineView, { timeline, version: timeline.version, now: main.sim.now }),
    h(ExitStats, { stats: [kvmStat(main.sim.events), ...vcpus.map((v) => kvmStat(main.sim.events, v))] }),
  ),
);
feed.push(vcpuEventColumns(main.sim.events));
(window as unknown as { previewReady: boolean }).previewReady = true;
